//! People: Chinese names, unique resident ID numbers, mobile numbers; and the
//! codes of legal persons (Unified Social Credit Codes).

use crate::data;
use crate::util::{Rand, Weighted, add_days, add_years, between, jd, one, yyyymmdd};
use rand::Rng;
use registry::Date;
use registry::ids::{CREDIT_ALPHABET, CreditCode, ResidentId};
use registry::model::{ETHNICITIES, Sex};
use std::collections::HashSet;

/// A person with a valid resident ID whose birth date and sex agree with it.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub name: String,
    pub sex: Sex,
    pub birth: Date,
    pub resident_id: String,
    pub ethnicity: &'static str,
    /// Registered in the county itself (not elsewhere).
    pub local: bool,
}

/// A [`Person`] kept in few bytes while waiting to be emitted.
#[derive(Debug, Clone)]
pub(crate) struct CompactPerson {
    name: Box<str>,
    resident_id: [u8; 18],
    birth: Date,
    ethnicity: u8,
    sex: Sex,
    local: bool,
}

impl Person {
    pub(crate) fn compact(&self) -> CompactPerson {
        CompactPerson {
            name: self.name.as_str().into(),
            resident_id: self.resident_id.as_bytes().try_into().expect("18 characters"),
            birth: self.birth,
            ethnicity: ETHNICITIES.iter().position(|e| *e == self.ethnicity).expect("one of the 56") as u8,
            sex: self.sex,
            local: self.local,
        }
    }
}

impl CompactPerson {
    pub(crate) fn expand(self) -> Person {
        Person {
            name: self.name.into(),
            resident_id: String::from_utf8(self.resident_id.to_vec()).expect("ASCII"),
            birth: self.birth,
            ethnicity: ETHNICITIES[usize::from(self.ethnicity)],
            sex: self.sex,
            local: self.local,
        }
    }
}

/// Sequence numbers per (registration region, birth date, sex) slot: the
/// digits 15–17 of an ID. Each slot holds 500 IDs of each sex.
const SLOT_CAPACITY: u16 = 500;
/// The oldest person generated (an enterprise owner) is this old.
const MAX_AGE: i32 = 70;

#[derive(Debug)]
pub(crate) struct People {
    regions: Vec<String>,
    region_pick: Weighted<usize>,
    /// Julian day of the earliest birth date a counter exists for.
    base: i32,
    days: usize,
    counters: Vec<u16>,
    surnames: Weighted<&'static str>,
    minorities: Weighted<usize>,
    today: Date,
}

impl People {
    pub(crate) fn new(county_code: &str, rng: &mut Rand, today: Date) -> People {
        // Most workers are registered in the county, some in neighbouring
        // counties of the same prefecture, a few in other provinces.
        let mut regions = vec![county_code.to_owned()];
        let mut weights = vec![(0usize, 750u32)];
        let prefix = &county_code[..4];
        let mut nearby: Vec<String> =
            (21..=29).map(|n| format!("{prefix}{n:02}")).filter(|c| c != county_code).collect();
        while nearby.len() > 5 {
            let i = rng.random_range(0..nearby.len());
            nearby.remove(i);
        }
        for code in nearby {
            weights.push((regions.len(), 36));
            regions.push(code);
        }
        for code in data::DISTANT_REGIONS {
            if regions.iter().any(|r| r == code) {
                continue;
            }
            weights.push((regions.len(), 7));
            regions.push((*code).to_owned());
        }
        let base = jd(add_years(today, -(MAX_AGE + 1)));
        let days = (jd(today) - base + 1) as usize;
        People {
            counters: vec![0; regions.len() * days * 2],
            region_pick: Weighted::new(&weights),
            regions,
            base,
            days,
            surnames: Weighted::new(data::SURNAMES),
            minorities: Weighted::new(data::MINORITIES),
            today,
        }
    }

    pub(crate) fn surname(&self, rng: &mut Rand) -> &'static str {
        self.surnames.pick(rng)
    }

    pub(crate) fn given_name(&self, rng: &mut Rand, sex: Sex) -> String {
        let pool: &[&str] = if sex == Sex::Male { data::MALE_CHARS } else { data::FEMALE_CHARS };
        if rng.random_bool(0.22) {
            (*one(rng, pool)).to_owned()
        } else {
            let first = if rng.random_bool(0.35) { one(rng, data::SHARED_CHARS) } else { one(rng, pool) };
            let mut second = one(rng, pool);
            if second == first {
                second = one(rng, pool);
            }
            format!("{first}{second}")
        }
    }

    pub(crate) fn name(&self, rng: &mut Rand, sex: Sex) -> String {
        format!("{}{}", self.surname(rng), self.given_name(rng, sex))
    }

    fn ethnicity(&self, rng: &mut Rand) -> &'static str {
        if rng.random_bool(0.05) { ETHNICITIES[self.minorities.pick(rng)] } else { ETHNICITIES[0] }
    }

    /// A working-age person (18–60, women mostly at most 55) of the given sex.
    pub(crate) fn worker(&mut self, rng: &mut Rand, sex: Sex) -> Person {
        const BANDS: [((i32, i32), u32); 5] =
            [((18, 25), 14), ((26, 35), 30), ((36, 45), 27), ((46, 55), 22), ((56, 60), 7)];
        let (mut lo, mut hi) = pick_band(rng, &BANDS);
        if sex == Sex::Female && lo > 50 {
            (lo, hi) = (46, 55);
        }
        let name = self.name(rng, sex);
        self.person(rng, name, sex, lo, hi)
    }

    /// A person named `name` aged `min_age..=max_age` on today.
    pub(crate) fn person(&mut self, rng: &mut Rand, name: String, sex: Sex, min_age: i32, max_age: i32) -> Person {
        let ethnicity = self.ethnicity(rng);
        let region = self.region_pick.pick(rng);
        loop {
            let age = rng.random_range(min_age..=max_age.min(MAX_AGE));
            // Born after the (age+1)th birthday-eve and on or before the age-th.
            let earliest = add_days(add_years(self.today, -(age + 1)), 1);
            let latest = add_years(self.today, -age);
            let birth = between(rng, earliest, latest);
            let day = (jd(birth) - self.base) as usize;
            let slot = (region * self.days + day) * 2 + usize::from(sex == Sex::Male);
            let k = self.counters[slot];
            if k >= SLOT_CAPACITY {
                continue;
            }
            self.counters[slot] = k + 1;
            // A bijection of 0..500, shifted per slot, so that IDs neither
            // look sequential nor share their sequence digits.
            let shift = (slot as u64).wrapping_mul(2_654_435_761) % u64::from(SLOT_CAPACITY);
            let seq = (u32::from(k) * 37 + shift as u32) % u32::from(SLOT_CAPACITY);
            let digits = seq * 2 + u32::from(sex == Sex::Male);
            let first17 = format!("{}{}{digits:03}", self.regions[region], yyyymmdd(birth));
            let id = ResidentId::from_first17(&first17).expect("generated IDs are well-formed");
            debug_assert_eq!(id.sex(), sex);
            debug_assert_eq!(id.birth_date(), birth);
            return Person { name, sex, birth, resident_id: id.as_str().to_owned(), ethnicity, local: region == 0 };
        }
    }
}

fn pick_band(rng: &mut Rand, bands: &[((i32, i32), u32)]) -> (i32, i32) {
    let total: u32 = bands.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total);
    for &(band, w) in bands {
        if x < w {
            return band;
        }
        x -= w;
    }
    bands[bands.len() - 1].0
}

/// A valid mainland mobile number.
pub(crate) fn mobile(rng: &mut Rand) -> String {
    format!("{}{:08}", one(rng, data::MOBILE_PREFIXES), rng.random_range(0..100_000_000u32))
}

/// GB 11714 organisation code check character over 8 characters.
fn org_check(body: &[u8]) -> u8 {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let value = |c: u8| if c.is_ascii_digit() { u32::from(c - b'0') } else { u32::from(c - b'A') + 10 };
    let sum: u32 = body.iter().zip(W).map(|(&c, w)| value(c) * w).sum();
    match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        n => b'0' + n as u8,
    }
}

/// Issues Unified Social Credit Codes that are unique within the county.
#[derive(Debug, Default)]
pub(crate) struct CreditCodes {
    issued: HashSet<String>,
}

impl CreditCodes {
    /// A valid, new code: `authority_kind` is the registration authority and
    /// kind (`91` enterprise, `92` individual business, `93` cooperative, `11`
    /// organ, `12` institution, `51` social organisation, `81` union).
    pub(crate) fn issue(&mut self, rng: &mut Rand, authority_kind: &str, region: &str) -> String {
        loop {
            // Organisation code: the older 8-digit form or the post-2015 "MA…"
            // form, each with its GB 11714 check character.
            let mut body = Vec::with_capacity(8);
            if rng.random_bool(0.55) {
                body.extend_from_slice(b"MA");
                for _ in 0..6 {
                    body.push(*one(rng, CREDIT_ALPHABET));
                }
            } else {
                body.push(*one(rng, b"0357"));
                for _ in 0..7 {
                    body.push(b'0' + rng.random_range(0..10u8));
                }
            }
            body.push(org_check(&body));
            let first17 = format!("{authority_kind}{region}{}", String::from_utf8(body).expect("ASCII"));
            let code = CreditCode::from_first17(&first17).expect("alphabet respected").as_str().to_owned();
            if self.issued.insert(code.clone()) {
                return code;
            }
        }
    }

    /// A code as found in a register: well-formed but with a wrong check character.
    pub(crate) fn issue_bad(&mut self, rng: &mut Rand, authority_kind: &str, region: &str) -> String {
        loop {
            let good = self.issue(rng, authority_kind, region);
            let last = good.as_bytes()[17];
            let mut wrong = *one(rng, CREDIT_ALPHABET);
            while wrong == last {
                wrong = *one(rng, CREDIT_ALPHABET);
            }
            let bad = format!("{}{}", &good[..17], char::from(wrong));
            if self.issued.insert(bad.clone()) {
                return bad;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn organisation_check_character() {
        // A published example: 18-character code 91350100M000100Y43 has org code M000100Y4.
        assert_eq!(org_check(b"M000100Y"), b'4');
    }

    #[test]
    fn people_have_consistent_ids() {
        let today = crate::util::ymd(2026, 11, 25);
        let mut rng = Rand::seed_from_u64(3);
        let mut people = People::new("411721", &mut rng, today);
        for i in 0..2000 {
            let sex = if i % 3 == 0 { Sex::Female } else { Sex::Male };
            let p = people.worker(&mut rng, sex);
            let id = ResidentId::parse(&p.resident_id, today).unwrap();
            assert_eq!(id.sex(), sex);
            assert_eq!(id.birth_date(), p.birth);
            let age = id.age_on(today);
            assert!((18..=60).contains(&age), "age {age}");
            assert!(registry::ids::Mobile::parse(&mobile(&mut rng)).is_ok());
        }
    }

    #[test]
    fn credit_codes_valid_and_bad() {
        let mut rng = Rand::seed_from_u64(5);
        let mut codes = CreditCodes::default();
        for _ in 0..500 {
            let good = CreditCode::parse(&codes.issue(&mut rng, "91", "411721")).unwrap();
            assert!(good.checksum_ok());
            let bad = CreditCode::parse(&codes.issue_bad(&mut rng, "91", "411721")).unwrap();
            assert!(!bad.checksum_ok());
        }
    }
}

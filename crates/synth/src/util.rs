//! Small helpers: weighted choice, date arithmetic, Chinese numerals.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use registry::Date;

pub(crate) type Rand = ChaCha8Rng;

/// A fixed table of items with integer weights, sampled by binary search.
#[derive(Debug, Clone)]
pub(crate) struct Weighted<T> {
    items: Vec<T>,
    /// `cum[i]` is the sum of the weights of items `0..=i`.
    cum: Vec<u64>,
}

impl<T: Copy> Weighted<T> {
    pub(crate) fn new(pairs: &[(T, u32)]) -> Weighted<T> {
        let mut total = 0u64;
        let mut items = Vec::with_capacity(pairs.len());
        let mut cum = Vec::with_capacity(pairs.len());
        for &(item, w) in pairs {
            total += u64::from(w);
            items.push(item);
            cum.push(total);
        }
        assert!(total > 0, "a weighted table needs a positive weight");
        Weighted { items, cum }
    }

    pub(crate) fn pick(&self, rng: &mut Rand) -> T {
        let total = *self.cum.last().expect("non-empty");
        let x = rng.random_range(0..total);
        self.items[self.cum.partition_point(|&c| c <= x)]
    }
}

/// One element of a non-empty slice, uniformly.
pub(crate) fn one<'a, T>(rng: &mut Rand, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// A uniform value in `lo..=hi`, skewed towards `lo` (`power` > 1 skews more).
pub(crate) fn skewed(rng: &mut Rand, lo: i64, hi: i64, power: f64) -> i64 {
    let u: f64 = rng.random();
    let span = (hi - lo + 1) as f64;
    (lo + (span * u.powf(power)) as i64).min(hi)
}

pub(crate) fn jd(d: Date) -> i32 {
    d.to_julian_day()
}

pub(crate) fn from_jd(j: i32) -> Date {
    Date::from_julian_day(j).expect("generated dates stay in range")
}

pub(crate) fn add_days(d: Date, n: i32) -> Date {
    from_jd(jd(d) + n)
}

pub(crate) fn ymd(y: i32, m: u8, d: u8) -> Date {
    Date::from_calendar_date(y, m.try_into().expect("valid month"), d).expect("valid date")
}

pub(crate) fn jan1(year: i32) -> Date {
    Date::from_ordinal_date(year, 1).expect("valid year")
}

pub(crate) fn dec31(year: i32) -> Date {
    add_days(jan1(year + 1), -1)
}

/// The same day `n` years later (or earlier); 29 February becomes 28 February
/// in a common year.
pub(crate) fn add_years(d: Date, n: i32) -> Date {
    let y = d.year() + n;
    d.replace_year(y).unwrap_or_else(|_| add_days(d, -1).replace_year(y).expect("28 February exists"))
}

/// A uniform date in `a..=b`; `b` when the range is empty (so an upper bound
/// such as "today" is never exceeded).
pub(crate) fn between(rng: &mut Rand, a: Date, b: Date) -> Date {
    if b <= a {
        return b;
    }
    from_jd(rng.random_range(jd(a)..=jd(b)))
}

/// `yyyymmdd`, as inside a resident ID number.
pub(crate) fn yyyymmdd(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), d.month() as u8, d.day())
}

/// Spring Festival (春节) dates, for the holiday visits of the hardship archive.
const SPRING_FESTIVAL: [(i32, u8, u8); 26] = [
    (2010, 2, 14),
    (2011, 2, 3),
    (2012, 1, 23),
    (2013, 2, 10),
    (2014, 1, 31),
    (2015, 2, 19),
    (2016, 2, 8),
    (2017, 1, 28),
    (2018, 2, 16),
    (2019, 2, 5),
    (2020, 1, 25),
    (2021, 2, 12),
    (2022, 2, 1),
    (2023, 1, 22),
    (2024, 2, 10),
    (2025, 1, 29),
    (2026, 2, 17),
    (2027, 2, 6),
    (2028, 1, 26),
    (2029, 2, 13),
    (2030, 2, 3),
    (2031, 1, 23),
    (2032, 2, 11),
    (2033, 1, 31),
    (2034, 2, 19),
    (2035, 2, 8),
];

/// The Spring Festival of `year` (1 February outside the table).
pub(crate) fn spring_festival(year: i32) -> Date {
    SPRING_FESTIVAL.iter().find(|(y, _, _)| *y == year).map_or_else(|| ymd(year, 2, 1), |&(y, m, d)| ymd(y, m, d))
}

/// 1 → 一, 12 → 十二, 25 → 二十五 (up to 99; larger numbers in digits).
pub(crate) fn zh_num(n: u32) -> String {
    const D: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0..=9 => D[n as usize].to_owned(),
        10 => "十".to_owned(),
        11..=19 => format!("十{}", D[(n - 10) as usize]),
        20..=99 => {
            let tail = if n.is_multiple_of(10) { "" } else { D[(n % 10) as usize] };
            format!("{}十{}", D[(n / 10) as usize], tail)
        }
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn numerals() {
        assert_eq!(zh_num(1), "一");
        assert_eq!(zh_num(10), "十");
        assert_eq!(zh_num(12), "十二");
        assert_eq!(zh_num(30), "三十");
        assert_eq!(zh_num(47), "四十七");
    }

    #[test]
    fn leap_day_years() {
        assert_eq!(add_years(ymd(2000, 2, 29), 1), ymd(2001, 2, 28));
        assert_eq!(add_years(ymd(2000, 2, 29), 4), ymd(2004, 2, 29));
        assert_eq!(dec31(2026), ymd(2026, 12, 31));
    }

    #[test]
    fn weighted_respects_zero_weights() {
        let w = Weighted::new(&[(1, 0), (2, 5), (3, 0)]);
        let mut rng = Rand::seed_from_u64(1);
        assert!((0..100).all(|_| w.pick(&mut rng) == 2));
    }
}

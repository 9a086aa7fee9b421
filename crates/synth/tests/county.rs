//! Properties of the synthetic county: valid, deterministic, consistent, realistic.

use proptest::prelude::*;
use registry::Date;
use registry::date;
use registry::ids::{CreditCode, ResidentId};
use registry::keys::{CountySecret, is_record_id};
use registry::message::blocks_saving;
use registry::model::*;
use registry::rules;
use registry::validate::check;
use std::collections::{BTreeMap, HashMap, HashSet};
use synth::{Summary, SynthConfig, generate};

const TODAY: Date = date!(2026 - 11 - 25);

/// The order records are emitted in.
const ORDER: [RecordKind; 8] = [
    RecordKind::Area,
    RecordKind::Entity,
    RecordKind::Union,
    RecordKind::Cadre,
    RecordKind::Member,
    RecordKind::Transfer,
    RecordKind::Hardship,
    RecordKind::Visit,
];

fn secret() -> CountySecret {
    CountySecret::from_bytes([7; 32])
}

fn config(seed: u64, members: u64) -> SynthConfig {
    SynthConfig { seed, members, today: TODAY, year: 2026 }
}

fn county(config: &SynthConfig) -> (Vec<(RecordId, Record)>, Summary) {
    let mut out = Vec::new();
    let summary = generate(config, &secret(), |id, r| out.push((id, r)));
    (out, summary)
}

/// Every record passes `check` with nothing blocking and is left unchanged.
fn assert_valid(records: &[(RecordId, Record)], today: Date) {
    for (id, record) in records {
        let mut checked = record.clone();
        let issues = check(&mut checked, today);
        assert!(!blocks_saving(&issues), "{id} ({:?}) blocked: {issues:?}\n{record:#?}", record.kind());
        assert_eq!(&checked, record, "check changed {id}");
    }
}

/// References point at records emitted earlier (or, for an entity's union
/// and a cadre's member, at records emitted at all), and ids are unique.
fn assert_consistent(records: &[(RecordId, Record)]) {
    let mut seen: HashMap<&RecordId, &Record> = HashMap::new();
    let all: HashMap<&RecordId, &Record> = records.iter().map(|(id, r)| (id, r)).collect();
    assert_eq!(all.len(), records.len(), "record ids are unique");
    let kind_of = |id: &RecordId, seen: &HashMap<&RecordId, &Record>| seen.get(id).map(|r| r.kind());
    let area_level = |id: &RecordId, seen: &HashMap<&RecordId, &Record>| match seen.get(id) {
        Some(Record::Area(a)) => Some(a.level),
        _ => None,
    };
    let mut last_kind = 0usize;
    for (id, record) in records {
        let rank = ORDER.iter().position(|k| *k == record.kind()).unwrap();
        assert!(rank >= last_kind, "dependency order: {:?} after a later kind", record.kind());
        last_kind = rank;
        if let Some(place) = record.place() {
            assert_eq!(area_level(&place.township, &seen), Some(AreaLevel::Township));
            if let Some(c) = &place.community {
                assert_eq!(area_level(c, &seen), Some(AreaLevel::Community));
            }
            if let Some(g) = &place.grid {
                assert_eq!(area_level(g, &seen), Some(AreaLevel::Grid));
            }
        }
        match record {
            Record::Area(a) => {
                if let Some(p) = &a.parent {
                    assert!(seen.contains_key(p), "area parent first");
                }
                if let Some(t) = &a.township {
                    assert_eq!(area_level(t, &seen), Some(AreaLevel::Township));
                }
            }
            Record::Entity(e) => {
                if let Some(u) = &e.union_id {
                    assert!(matches!(all.get(u), Some(Record::Union(_))), "entity's union exists");
                }
            }
            Record::Visit(v) => {
                let Some(Record::Entity(e)) = v.entity_id.as_ref().and_then(|e| all.get(e)) else {
                    panic!("a visit's entity exists")
                };
                assert_eq!(e.place, v.place, "a visit sits where its entity is");
                assert_eq!(e.closed, v.outcome == VisitOutcome::ClosedOrMoved);
            }
            Record::Union(u) => {
                if let Some(p) = &u.parent_union {
                    assert_eq!(kind_of(p, &seen), Some(RecordKind::Union), "parent union first");
                }
            }
            Record::Cadre(c) => {
                assert_eq!(kind_of(&c.union_id, &seen), Some(RecordKind::Union));
                if let Some(m) = &c.member_id {
                    let Some(Record::Member(member)) = all.get(m) else { panic!("cadre's member exists") };
                    assert_eq!(Some(&member.resident_id), c.resident_id.as_ref());
                    assert_eq!(member.union_id, c.union_id);
                }
            }
            Record::Member(m) => {
                assert_eq!(kind_of(&m.union_id, &seen), Some(RecordKind::Union), "member's union first");
                let employer = m.employer_id.as_ref().expect("members have an employer");
                let Some(Record::Entity(e)) = seen.get(employer) else { panic!("employer first") };
                assert_eq!(e.name, m.employer_name);
                assert_eq!(e.union_id.as_ref(), Some(&m.union_id), "member is in its employer's union");
                assert_eq!(e.place, m.place);
                assert!(!e.closed);
            }
            Record::Transfer(t) => {
                let Some(Record::Member(m)) = seen.get(&t.member_id) else { panic!("member first") };
                assert_eq!(m.union_id, t.to_union);
                assert_eq!(m.name, t.member_name);
                assert_eq!(kind_of(&t.from_union, &seen), Some(RecordKind::Union));
                assert!(t.date >= m.joined_on);
            }
            Record::Hardship(h) => {
                let m = h.member_id.as_ref().expect("cases are members");
                let Some(Record::Member(member)) = seen.get(m) else { panic!("member first") };
                assert_eq!(Some(&member.resident_id), h.resident_id.as_ref());
                assert_eq!(h.union_id.as_ref(), Some(&member.union_id));
                assert!(h.visits.keys().all(|k| is_record_id(k)));
            }
        }
        seen.insert(id, record);
    }
}

fn assert_ids(records: &[(RecordId, Record)], secret: &CountySecret) {
    for (id, record) in records {
        match record.natural_key() {
            Some(key) => assert_eq!(id, &secret.record_id(&key), "natural-key id of {key}"),
            None => assert!(is_record_id(id.as_str()), "random id {id}"),
        }
    }
}

fn assert_summary(records: &[(RecordId, Record)], summary: &Summary, members: u64) {
    let mut s = Summary::default();
    for (_, r) in records {
        match r {
            Record::Area(a) => {
                s.areas += 1;
                match a.level {
                    AreaLevel::Township => s.townships += 1,
                    AreaLevel::Community => s.communities += 1,
                    AreaLevel::Grid => s.grids += 1,
                    AreaLevel::County => {}
                }
            }
            Record::Entity(_) => s.entities += 1,
            Record::Union(_) => s.unions += 1,
            Record::Cadre(_) => s.cadres += 1,
            Record::Member(_) => s.members += 1,
            Record::Transfer(_) => s.transfers += 1,
            Record::Hardship(_) => s.hardship_cases += 1,
            Record::Visit(_) => s.visits += 1,
        }
    }
    assert_eq!(&s, summary);
    assert_eq!(s.members, members);
}

#[test]
fn every_record_is_valid_and_already_normalised() {
    let cfg = config(1, 2_000);
    let (records, summary) = county(&cfg);
    assert_valid(&records, cfg.today);
    assert_consistent(&records);
    assert_ids(&records, &secret());
    assert_summary(&records, &summary, cfg.members);
}

#[test]
fn same_seed_same_county_other_seed_other_county() {
    let (a, sa) = county(&config(42, 1_500));
    let (b, sb) = county(&config(42, 1_500));
    assert_eq!(sa, sb);
    assert!(a == b, "same seed, same stream");
    let (c, _) = county(&config(43, 1_500));
    assert!(a != c, "another seed, another county");
    // Ids of random-id records differ too, not just the data.
    let ids = |r: &[(RecordId, Record)]| r.iter().map(|(id, _)| id.clone()).collect::<HashSet<_>>();
    assert!(ids(&a).intersection(&ids(&c)).count() < a.len() / 2);
}

#[test]
fn resident_ids_unique_at_200k_members() {
    let cfg = config(9, 200_000);
    let mut ids = HashSet::with_capacity(200_000);
    let mut members = 0u64;
    let summary = generate(&cfg, &secret(), |_, r| {
        if let Record::Member(m) = r {
            members += 1;
            assert!(ids.insert(m.resident_id), "duplicate resident ID");
        }
    });
    assert_eq!(members, 200_000);
    assert_eq!(summary.members, 200_000);
    assert_eq!(ids.len(), 200_000);
}

/// Figures a county federation would recognise.
#[test]
fn the_county_looks_real() {
    let cfg = config(5, 20_000);
    let (records, summary) = county(&cfg);
    assert_summary(&records, &summary, cfg.members);
    assert_eq!(summary.townships, 12);

    let entities: Vec<(&RecordId, &LegalEntity)> =
        records.iter().filter_map(|(id, r)| if let Record::Entity(e) = r { Some((id, e)) } else { None }).collect();
    let unions: BTreeMap<&RecordId, &GrassrootsUnion> =
        records.iter().filter_map(|(id, r)| if let Record::Union(u) = r { Some((id, u)) } else { None }).collect();
    let members: Vec<&Member> =
        records.iter().filter_map(|(_, r)| if let Record::Member(m) = r { Some(m) } else { None }).collect();
    let cadres: Vec<&Cadre> =
        records.iter().filter_map(|(_, r)| if let Record::Cadre(c) = r { Some(c) } else { None }).collect();
    let n = entities.len() as f64;
    assert_eq!(entities.len(), 2_000);

    // Size mix: most units are small.
    let under_25 = entities.iter().filter(|(_, e)| e.workers < 25).count() as f64 / n;
    let over_500 = entities.iter().filter(|(_, e)| e.workers >= 500).count() as f64 / n;
    assert!((0.6..0.8).contains(&under_25), "under 25: {under_25}");
    assert!(over_500 > 0.0 && over_500 < 0.03, "500+: {over_500}");
    let private = entities.iter().filter(|(_, e)| e.ownership == Ownership::Private).count() as f64 / n;
    assert!(private > 0.7, "private {private}");

    // Credit codes: unique, mostly valid, a few overridden, a few missing.
    let codes: Vec<&String> = entities.iter().filter_map(|(_, e)| e.credit_code.as_ref()).collect();
    assert_eq!(codes.iter().collect::<HashSet<_>>().len(), codes.len());
    let bad = codes.iter().filter(|c| !CreditCode::parse(c).unwrap().checksum_ok()).count();
    assert!(bad > 0 && (bad as f64) < 0.03 * n, "bad codes {bad}");
    let missing = entities.len() - codes.len();
    assert!(missing > 0 && (missing as f64) < 0.05 * n, "missing codes {missing}");
    for (_, e) in &entities {
        if let Some(c) = &e.credit_code {
            assert_eq!(CreditCode::parse(c).unwrap().checksum_ok(), e.credit_code_override.is_none());
        }
    }
    let names: HashSet<&str> = entities.iter().map(|(_, e)| e.name.as_str()).collect();
    assert_eq!(names.len(), entities.len(), "entity names unique");

    // Union coverage and the rules it leaves to find.
    let big_without = entities.iter().filter(|(_, e)| !e.closed && e.workers >= 25 && e.union_id.is_none()).count();
    let big = entities.iter().filter(|(_, e)| !e.closed && e.workers >= 25).count();
    assert!(big_without > 0 && (big_without as f64) < 0.15 * big as f64, "{big_without} of {big} big units uncovered");
    let covered = entities.iter().filter(|(_, e)| !e.closed && e.union_id.is_some()).count() as f64;
    let open = entities.iter().filter(|(_, e)| !e.closed).count() as f64;
    assert!((0.8..0.97).contains(&(covered / open)), "coverage {}", covered / open);
    for (uid, u) in &unions {
        let covered: Vec<&LegalEntity> =
            entities.iter().filter(|(_, e)| e.union_id.as_ref() == Some(*uid)).map(|(_, e)| *e).collect();
        assert_eq!(u.workers, covered.iter().map(|e| e.workers).sum::<i64>(), "{}", u.name);
        assert_eq!(u.women_workers, covered.iter().map(|e| e.women_workers).sum::<i64>());
        if u.kind == UnionKind::SingleUnit {
            assert_eq!(covered.len(), 1);
        }
    }
    let kinds = |k: UnionKind| unions.values().filter(|u| u.kind == k).count();
    assert_eq!(kinds(UnionKind::Township), 12);
    assert_eq!(kinds(UnionKind::Community) as u64, summary.communities);
    assert!(kinds(UnionKind::Joint) > 0 && kinds(UnionKind::Federation) >= 2);
    assert!(unions.values().filter(|u| u.kind == UnionKind::Federation).all(|u| u.sector.is_some()));

    // This year's founding drive: about the plan's targets.
    let new_unions = unions.values().filter(|u| u.founded_on.is_some_and(|d| d.year() == 2026)).count();
    assert!((35..=75).contains(&new_unions), "new unions {new_unions}");
    let new_members = members.iter().filter(|m| m.joined_on.year() == 2026).count() as f64 / members.len() as f64;
    assert!((0.03..=0.08).contains(&new_members), "new members {new_members}");

    // 六有, approvals, women's committees, vacancies, owners in the chair.
    let qualified =
        unions.values().filter(|u| rules::liuyou(&u.liuyou).complete()).count() as f64 / unions.len() as f64;
    assert!((0.55..0.75).contains(&qualified), "六有 {qualified}");
    let grassroots: Vec<&&GrassrootsUnion> = unions.values().filter(|u| u.approved_by.is_some()).collect();
    let approved_right =
        grassroots.iter().filter(|u| u.approved_by == Some(rules::approval_body(u.workers).value)).count() as f64;
    assert!(approved_right / grassroots.len() as f64 > 0.9);
    let need_women = unions.values().filter(|u| u.women_workers >= 10).count() as f64;
    let have_women = unions.values().filter(|u| u.women_workers >= 10 && u.has_women_committee).count() as f64;
    assert!((0.8..1.0).contains(&(have_women / need_women)));
    let by_union: BTreeMap<&RecordId, Vec<&Cadre>> = cadres.iter().fold(BTreeMap::new(), |mut m, c| {
        m.entry(&c.union_id).or_default().push(*c);
        m
    });
    let vacant = unions
        .iter()
        .filter(|(id, u)| rules::chair_vacancy(u, by_union.get(*id).into_iter().flatten().copied(), TODAY).is_some())
        .count() as f64;
    assert!((0.02..0.09).contains(&(vacant / unions.len() as f64)), "vacant {vacant}");
    let owners = cadres.iter().filter(|c| !rules::may_hold_role(c.role, c.owner_relation).value).count();
    assert!(owners > 0);
    for c in &cadres {
        if c.role == CadreRole::WomenCommitteeChair
            && let Some(id) = &c.resident_id
        {
            assert_eq!(ResidentId::parse(id, TODAY).unwrap().sex(), Sex::Female);
        }
    }

    // Members: who they are.
    let m = members.len() as f64;
    let share = |f: &dyn Fn(&Member) -> bool| members.iter().filter(|x| f(x)).count() as f64 / m;
    let minority = share(&|x| x.ethnicity != "汉族");
    assert!((0.03..0.08).contains(&minority), "minorities {minority}");
    let migrant = share(&|x| x.migrant_worker);
    assert!((0.2..0.4).contains(&migrant), "migrant {migrant}");
    let dispatched = share(&|x| x.dispatched_worker);
    assert!((0.02..0.08).contains(&dispatched), "dispatched {dispatched}");
    let left = share(&|x| x.left_on.is_some());
    assert!(left > 0.0 && left < 0.05);
    let women = share(&|x| x.sex == Some(Sex::Female));
    assert!((0.3..0.6).contains(&women), "women {women}");
    for x in &members {
        let age = registry::ids::age_on(x.birth_date.unwrap(), TODAY);
        assert!((18..=60).contains(&age));
        assert!(registry::ids::age_on(x.birth_date.unwrap(), x.joined_on) >= 16);
    }
    let cards: Vec<&String> = members.iter().filter_map(|x| x.card_number.as_ref()).collect();
    assert_eq!(cards.iter().collect::<HashSet<_>>().len(), cards.len(), "card numbers unique");
    // Members never outnumber the workers of their employer.
    let mut per_employer: HashMap<&RecordId, i64> = HashMap::new();
    for x in &members {
        *per_employer.entry(x.employer_id.as_ref().unwrap()).or_default() += 1;
    }
    for (id, e) in &entities {
        assert!(per_employer.get(id).copied().unwrap_or(0) <= e.workers, "{}", e.name);
    }
    let transfers = summary.transfers as f64 / m;
    let hardship = summary.hardship_cases as f64 / m;
    assert!((0.003..0.008).contains(&transfers), "transfers {transfers}");
    assert!((0.007..0.014).contains(&hardship), "hardship {hardship}");
}

/// The store's progress test asserts the county has vacancies at 3,000 members.
#[test]
fn small_counties_still_have_something_to_find() {
    for seed in 0..5 {
        let (records, _) = county(&config(seed, 300));
        let unions = records.iter().filter(|(_, r)| matches!(r, Record::Union(_))).count();
        let left_or_missing = records
            .iter()
            .filter(|(_, r)| matches!(r, Record::Cadre(c) if c.role == CadreRole::Chair && c.left_on.is_some()))
            .count();
        let chairs =
            records.iter().filter(|(_, r)| matches!(r, Record::Cadre(c) if c.role == CadreRole::Chair)).count();
        assert!(left_or_missing > 0 || chairs < unions, "seed {seed}: a vacancy");
        assert!(
            records.iter().any(|(_, r)| matches!(r, Record::Cadre(c) if c.owner_relation != OwnerRelation::Unrelated))
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any seed, size (including none) and campaign year relative to today.
    #[test]
    fn any_small_county_is_valid(seed in any::<u64>(), members in 0u64..400, year_offset in -3i32..=1) {
        let cfg = SynthConfig { seed, members, today: TODAY, year: 2026 + year_offset };
        let (records, summary) = county(&cfg);
        assert_valid(&records, cfg.today);
        assert_consistent(&records);
        assert_ids(&records, &secret());
        assert_summary(&records, &summary, members);
        prop_assert!(summary.entities >= 20);
        prop_assert_eq!(summary.townships, 12);
    }
}

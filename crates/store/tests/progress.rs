//! The progress report computed from projections equals the registry's own
//! computation on the full records.

use crate::util::*;
use registry::model::*;
use registry::progress::{CampaignConfig, EntityFacts, MemberFacts, ProgressBuilder, Rate, UnionFacts};
use registry::rules;
use std::collections::{BTreeMap, BTreeSet};

/// A synthetic county (`seed`, `members`) and a store holding all of it.
fn synthetic_county(seed: u64, members: u64) -> (Vec<(RecordId, Record)>, store::Store) {
    let config = synth::SynthConfig { seed, members, today: TODAY, year: 2026 };
    let mut records = Vec::new();
    synth::generate(&config, &secret(), |id, r| records.push((id, r)));
    let mut s = memory_store(1);
    s.insert_many(records.clone(), TODAY).unwrap();
    (records, s)
}

/// The serials of the cards this system issued to the county's members.
fn our_card_serials(records: &[(RecordId, Record)]) -> Vec<String> {
    records
        .iter()
        .filter_map(
            |(_, r)| if let Record::Member(m) = r { rules::card_serial(m.card_number.as_deref()) } else { None },
        )
        .collect()
}

#[test]
fn progress_from_projections_matches_the_registry_on_a_synthetic_county() {
    let (records, mut s) = synthetic_county(7, 3_000);
    // The county revoked every eleventh card of this system (as the kept
    // revocation list says).
    let serials = our_card_serials(&records);
    let revoked: BTreeSet<String> = serials.iter().step_by(11).cloned().collect();
    s.set_revoked_cards(revoked.iter().map(String::as_str)).unwrap();
    let campaign = CampaignConfig::default_for(2026);
    let from_store = s.progress(&campaign, TODAY).unwrap();

    // The registry's computation straight from the records.
    let mut b = ProgressBuilder::new(campaign);
    let unions: BTreeMap<&RecordId, &GrassrootsUnion> =
        records.iter().filter_map(|(id, r)| if let Record::Union(u) = r { Some((id, u)) } else { None }).collect();
    let entities: Vec<&LegalEntity> =
        records.iter().filter_map(|(_, r)| if let Record::Entity(e) = r { Some(e) } else { None }).collect();
    let cadres: Vec<&Cadre> =
        records.iter().filter_map(|(_, r)| if let Record::Cadre(c) = r { Some(c) } else { None }).collect();
    for (id, r) in &records {
        if let Record::Area(a) = r
            && a.level == AreaLevel::Township
        {
            b.add_township(id.clone(), a.name.clone(), a.township_kind.unwrap());
        }
    }
    for e in &entities {
        b.add_entity(&EntityFacts {
            township: e.place.township.clone(),
            workers: e.workers,
            closed: e.closed,
            covered_by: rules::covering(
                e.union_id.as_ref().and_then(|u| unions.get(u)).map(|u| rules::UnionStanding::from(*u)),
                TODAY,
            ),
            private: rules::private_enterprise(e),
        });
    }
    for (id, u) in &unions {
        let covered: Vec<&LegalEntity> =
            entities.iter().copied().filter(|e| e.union_id.as_ref() == Some(*id) && !e.closed).collect();
        let its_cadres = cadres.iter().copied().filter(|c| &c.union_id == *id);
        b.add_union(&UnionFacts {
            township: u.place.township.clone(),
            kind: u.kind,
            founded_on: u.founded_on,
            dissolved: rules::dissolved(u.dissolved_on, TODAY),
            liuyou_complete: rules::liuyou(&u.liuyou).complete(),
            bayou: rules::bayou_applies(covered.iter().copied()).then(|| rules::bayou(&u.bayou).complete()),
            chair_vacant: rules::chair_vacancy(u, its_cadres, TODAY).is_some(),
        });
    }
    for (_, r) in &records {
        if let Record::Member(m) = r {
            let serial = rules::card_serial(m.card_number.as_deref());
            let revoked = serial.as_ref().is_some_and(|s| revoked.contains(s));
            b.add_member(&MemberFacts {
                township: m.place.township.clone(),
                joined_on: m.joined_on,
                active: m.is_active(TODAY),
                carded: rules::card_valid(serial.as_deref(), m.card_expires, revoked, TODAY),
            });
        }
    }
    let expected = b.finish(TODAY);
    assert_eq!(from_store, expected);
    // The awkward cards are there: revoked, past their last day, from an
    // older system; and 入会率 has workers to divide by.
    let members: Vec<&Member> =
        records.iter().filter_map(|(_, r)| if let Record::Member(m) = r { Some(m) } else { None }).collect();
    assert!(members.iter().any(|m| m.card_expires.is_some_and(|d| d < TODAY)), "expired cards");
    assert!(members.iter().any(|m| m.card_number.is_some() && rules::card_serial(m.card_number.as_deref()).is_none()));
    assert!(!revoked.is_empty());
    let carded = expected.county.carded;
    assert!(carded.numerator > 0 && carded.numerator < carded.denominator, "{carded:?}");
    assert_eq!(carded.denominator, expected.county.active_members);
    assert!(expected.county.membership.denominator > 0);
    assert_eq!(
        expected.county.active_members + expected.unplaced,
        expected.county.active_members,
        "every record placed"
    );
    assert!(expected.county.unions > 0 && expected.county.vacancies > 0, "the synthetic county has something to find");
}

#[test]
fn three_clears_of_a_township_and_a_community_match_the_registry() {
    let (records, s) = synthetic_county(11, 2_000);
    let township = records
        .iter()
        .find_map(|(id, r)| matches!(r, Record::Area(a) if a.level == AreaLevel::Township).then(|| id.clone()))
        .unwrap();
    let community = records
        .iter()
        .find_map(|(id, r)| matches!(r, Record::Area(a) if a.level == AreaLevel::Community).then(|| id.clone()))
        .unwrap();
    for (area, in_area) in [
        (&township, Box::new(|e: &LegalEntity| e.place.township == township) as Box<dyn Fn(&LegalEntity) -> bool>),
        (&community, Box::new(|e: &LegalEntity| e.place.community.as_ref() == Some(&community))),
    ] {
        let entities: Vec<(&RecordId, &LegalEntity)> = records
            .iter()
            .filter_map(|(id, r)| if let Record::Entity(e) = r { in_area(e).then_some((id, e)) } else { None })
            .collect();
        let members_of = |entity: &RecordId| {
            records
                .iter()
                .filter(|(_, r)| matches!(r, Record::Member(m) if m.employer_id.as_ref() == Some(entity) && m.is_active(TODAY)))
                .count() as u64
        };
        let union_of = |u: &RecordId| {
            records.iter().find_map(|(id, r)| match r {
                Record::Union(x) if id == u => Some(rules::UnionStanding::from(x)),
                _ => None,
            })
        };
        let expected = rules::three_clears(entities.iter().copied(), union_of, members_of, TODAY);
        let got = s.three_clears(area, TODAY).unwrap();
        assert_eq!(got, expected);
        assert!(!got.private_enterprises.is_empty(), "the area has private enterprises");
        assert_eq!(got.with_union.len() + got.without_union.len(), got.private_enterprises.len());
    }
    let name = match &records.iter().find(|(id, _)| *id == township).unwrap().1 {
        Record::Area(a) => a.name.clone(),
        _ => unreachable!(),
    };
    assert_eq!(s.find_area(&name).unwrap()[0].id, township);
}

/// The worklist's SQL shortcuts say what the registry says: an entity is on
/// "found its own union" when `rules::entity_findings` (with the union that
/// `rules::covering` it today) asks for `OWN_UNION_25`, and on "uncovered"
/// when it advises `JOINT_UNDER_25`. The synthetic county has unions
/// dissolved this year and federations covering other townships' entities.
#[test]
fn the_worklists_union_lists_agree_with_the_registry() {
    let (records, s) = synthetic_county(5, 4_000);
    let unions: BTreeMap<&RecordId, &GrassrootsUnion> =
        records.iter().filter_map(|(id, r)| if let Record::Union(u) = r { Some((id, u)) } else { None }).collect();
    let dissolved = unions.values().filter(|u| rules::dissolved(u.dissolved_on, TODAY)).count();
    assert!(dissolved > 0, "the synthetic county has dissolved unions");
    let (mut need_own, mut uncovered) = (Vec::new(), Vec::new());
    let mut covered_by_dissolved = 0;
    for (id, r) in &records {
        let Record::Entity(e) = r else { continue };
        let standing = e.union_id.as_ref().and_then(|u| unions.get(u)).map(|u| rules::UnionStanding::from(*u));
        if standing.is_some_and(|u| rules::dissolved(u.dissolved_on, TODAY)) {
            covered_by_dissolved += 1;
        }
        for f in rules::entity_findings(e, rules::covering(standing, TODAY)) {
            match f.rule {
                "OWN_UNION_25" => need_own.push(id.clone()),
                "JOINT_UNDER_25" => uncovered.push(id.clone()),
                _ => {}
            }
        }
    }
    assert!(covered_by_dissolved > 0, "some entities still name a dissolved union");
    let w = s.worklist(TODAY, 100_000).unwrap();
    let ids = |t: &store::Todo| {
        let mut v: Vec<RecordId> = t.rows.iter().map(|r| r.id.clone()).collect();
        v.sort();
        v
    };
    need_own.sort();
    uncovered.sort();
    assert_eq!(ids(&w.need_own_union), need_own);
    assert_eq!(w.need_own_union.total as usize, need_own.len());
    assert_eq!(ids(&w.uncovered), uncovered);
    assert_eq!(w.uncovered.total as usize, uncovered.len());
}

/// The worklist's other SQL shortcuts against the registry, on a synthetic
/// county with this year's visits: a vacant chair (`rules::chair_vacancy`),
/// 六有 missing (`rules::liuyou`), both for unions not dissolved; not
/// visited and visit again (`rules::census_status`) for open entities.
#[test]
fn the_worklists_union_and_census_lists_agree_with_the_registry() {
    let (records, s) = synthetic_county(9, 3_000);
    let cadres: Vec<&Cadre> =
        records.iter().filter_map(|(_, r)| if let Record::Cadre(c) = r { Some(c) } else { None }).collect();
    let (mut vacant, mut liuyou, mut not_visited, mut visit_again) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (id, r) in &records {
        match r {
            Record::Union(u) if !rules::dissolved(u.dissolved_on, TODAY) => {
                let its = cadres.iter().copied().filter(|c| &c.union_id == id);
                if rules::chair_vacancy(u, its, TODAY).is_some() {
                    vacant.push(id.clone());
                }
                if !rules::liuyou(&u.liuyou).complete() {
                    liuyou.push(id.clone());
                }
            }
            Record::Entity(e) if !e.closed => {
                let visits: Vec<rules::VisitFacts<'_>> = records
                    .iter()
                    .filter_map(|(_, r)| match r {
                        Record::Visit(v) if v.entity_id.as_ref() == Some(id) => Some(rules::VisitFacts {
                            visited_on: v.visited_on,
                            time: &v.time,
                            outcome: v.outcome,
                            follow_up_on: v.follow_up_on,
                        }),
                        _ => None,
                    })
                    .collect();
                match rules::census_status(&visits, 2026, TODAY) {
                    rules::CensusStatus::NotVisited => not_visited.push(id.clone()),
                    rules::CensusStatus::VisitAgain => visit_again.push(id.clone()),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    assert!(!vacant.is_empty() && !liuyou.is_empty() && !not_visited.is_empty() && !visit_again.is_empty());
    let w = s.worklist(TODAY, 100_000).unwrap();
    for (name, todo, mut expected) in [
        ("chair vacant", &w.chair_vacant, vacant),
        ("六有 missing", &w.liuyou_missing, liuyou),
        ("not visited", &w.not_visited, not_visited),
        ("visit again", &w.visit_again, visit_again),
    ] {
        let mut got: Vec<RecordId> = todo.rows.iter().map(|r| r.id.clone()).collect();
        got.sort();
        expected.sort();
        assert_eq!(got, expected, "{name}");
        assert_eq!(todo.total as usize, expected.len(), "{name}");
    }
}

/// "Unions whose members lack cards" says what `rules::card_valid` says, for
/// each live union and its active members: cards revoked by the county,
/// past their last day, numbers of an older system, none at all.
#[test]
fn the_worklists_uncarded_unions_agree_with_the_registry() {
    let (records, mut s) = synthetic_county(13, 3_000);
    let serials = our_card_serials(&records);
    let revoked: BTreeSet<String> = serials.iter().skip(3).step_by(7).cloned().collect();
    // Upper case in, as a list might carry it: the store keeps lower case.
    let upper: Vec<String> = revoked.iter().map(|s| s.to_ascii_uppercase()).collect();
    s.set_revoked_cards(upper.iter().map(String::as_str)).unwrap();
    let live: BTreeSet<&RecordId> = records
        .iter()
        .filter_map(|(id, r)| match r {
            Record::Union(u) if !rules::dissolved(u.dissolved_on, TODAY) => Some(id),
            _ => None,
        })
        .collect();
    let mut expected: BTreeMap<RecordId, i64> = BTreeMap::new();
    for (_, r) in &records {
        let Record::Member(m) = r else { continue };
        let serial = rules::card_serial(m.card_number.as_deref());
        let is_revoked = serial.as_ref().is_some_and(|s| revoked.contains(s));
        if m.is_active(TODAY)
            && live.contains(&m.union_id)
            && !rules::card_valid(serial.as_deref(), m.card_expires, is_revoked, TODAY)
        {
            *expected.entry(m.union_id.clone()).or_default() += 1;
        }
    }
    assert!(expected.len() > 1, "unions with members lacking cards");
    let got = |s: &store::Store| -> BTreeMap<RecordId, i64> {
        let w = s.worklist(TODAY, 100_000).unwrap();
        assert_eq!(w.uncarded.total as usize, w.uncarded.rows.len());
        w.uncarded.rows.iter().map(|r| (r.id.clone(), r.count)).collect()
    };
    assert_eq!(got(&s), expected);
    // Revoking one more card of a member with a valid one adds one to its union.
    let (union, serial) = records
        .iter()
        .find_map(|(_, r)| match r {
            Record::Member(m) if m.is_active(TODAY) && live.contains(&m.union_id) => {
                let serial = rules::card_serial(m.card_number.as_deref())?;
                (!revoked.contains(&serial) && m.card_expires.is_none_or(|d| d >= TODAY))
                    .then(|| (m.union_id.clone(), serial))
            }
            _ => None,
        })
        .expect("a member with a valid card");
    let mut more = upper.clone();
    more.push(serial);
    s.set_revoked_cards(more.iter().map(String::as_str)).unwrap();
    *expected.entry(union).or_default() += 1;
    assert_eq!(got(&s), expected);
}

/// Each union's figures from the projections (`Store::progress_by_union`)
/// equal the registry's over the records grouped by union: the entities it
/// covers today (a dissolved union covers none), itself, its members.
#[test]
fn each_unions_figures_from_projections_match_the_registry() {
    let (records, s) = synthetic_county(17, 2_500);
    let campaign = CampaignConfig::default_for(2026);
    let from_store = s.progress_by_union(&campaign, TODAY).unwrap();
    let unions: BTreeMap<&RecordId, &GrassrootsUnion> =
        records.iter().filter_map(|(id, r)| if let Record::Union(u) = r { Some((id, u)) } else { None }).collect();
    let mut b = ProgressBuilder::new(campaign);
    let mut live: Vec<(&RecordId, &GrassrootsUnion)> =
        unions.iter().filter(|(_, u)| !rules::dissolved(u.dissolved_on, TODAY)).map(|(id, u)| (*id, *u)).collect();
    live.sort_by(|a, b| (&a.1.name, a.0).cmp(&(&b.1.name, b.0)));
    for (id, u) in &live {
        b.add_township((*id).clone(), u.name.clone(), TownshipKind::Town);
    }
    for (_, r) in &records {
        match r {
            Record::Entity(e) => {
                let standing = e.union_id.as_ref().and_then(|u| unions.get(u)).map(|u| rules::UnionStanding::from(*u));
                let covered_by = rules::covering(standing, TODAY);
                if let (Some(_), Some(u)) = (covered_by, &e.union_id) {
                    b.add_entity(&EntityFacts {
                        township: u.clone(),
                        workers: e.workers,
                        closed: e.closed,
                        covered_by,
                        private: rules::private_enterprise(e),
                    });
                }
            }
            Record::Member(m) => {
                let serial = rules::card_serial(m.card_number.as_deref());
                b.add_member(&MemberFacts {
                    township: m.union_id.clone(),
                    joined_on: m.joined_on,
                    active: m.is_active(TODAY),
                    carded: rules::card_valid(serial.as_deref(), m.card_expires, false, TODAY),
                });
            }
            _ => {}
        }
    }
    let expected = b.finish(TODAY);
    let rates = |r: &registry::progress::ProgressReport| -> Vec<(RecordId, Rate, Rate, u64)> {
        r.townships.iter().map(|t| (t.id.clone(), t.tally.membership, t.tally.carded, t.tally.entities)).collect()
    };
    assert_eq!(rates(&from_store), rates(&expected));
    assert!(from_store.townships.iter().filter(|u| u.tally.membership.denominator > 0).count() > 3);
}

//! The progress report computed from projections equals the registry's own
//! computation on the full records.

use crate::util::*;
use registry::model::*;
use registry::progress::{CampaignConfig, EntityFacts, MemberFacts, ProgressBuilder, UnionFacts};
use registry::rules;
use std::collections::BTreeMap;

#[test]
fn progress_from_projections_matches_the_registry_on_a_synthetic_county() {
    let secret = secret();
    let config = synth::SynthConfig { seed: 7, members: 3_000, today: TODAY, year: 2026 };
    let mut records = Vec::new();
    synth::generate(&config, &secret, |id, r| records.push((id, r)));
    let mut s = memory_store(1);
    s.insert_many(records.clone(), TODAY).unwrap();
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
            b.add_member(&MemberFacts {
                township: m.place.township.clone(),
                joined_on: m.joined_on,
                active: m.is_active(TODAY),
            });
        }
    }
    let expected = b.finish(TODAY);
    assert_eq!(from_store, expected);
    assert_eq!(
        expected.county.active_members + expected.unplaced,
        expected.county.active_members,
        "every record placed"
    );
    assert!(expected.county.unions > 0 && expected.county.vacancies > 0, "the synthetic county has something to find");
}

#[test]
fn three_clears_of_a_township_and_a_community_match_the_registry() {
    let config = synth::SynthConfig { seed: 11, members: 2_000, today: TODAY, year: 2026 };
    let mut records = Vec::new();
    synth::generate(&config, &secret(), |id, r| records.push((id, r)));
    let mut s = memory_store(1);
    s.insert_many(records.clone(), TODAY).unwrap();
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
    let config = synth::SynthConfig { seed: 5, members: 4_000, today: TODAY, year: 2026 };
    let mut records = Vec::new();
    synth::generate(&config, &secret(), |id, r| records.push((id, r)));
    let mut s = memory_store(1);
    s.insert_many(records.clone(), TODAY).unwrap();
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
    let config = synth::SynthConfig { seed: 9, members: 3_000, today: TODAY, year: 2026 };
    let mut records = Vec::new();
    synth::generate(&config, &secret(), |id, r| records.push((id, r)));
    let mut s = memory_store(1);
    s.insert_many(records.clone(), TODAY).unwrap();
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

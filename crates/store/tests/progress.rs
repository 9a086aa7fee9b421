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
            covered_by: e.union_id.as_ref().and_then(|u| unions.get(u)).map(|u| u.kind),
            private: e.ownership == Ownership::Private && e.unit_kind == UnitKind::Enterprise,
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
            dissolved: u.dissolved_on.is_some_and(|d| d <= TODAY),
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
        let expected = rules::three_clears(entities.iter().copied(), members_of);
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

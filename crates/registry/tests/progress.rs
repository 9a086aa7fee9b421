//! Progress against the year's targets on a small hand-built county.
//!
//! The county has two towns (t1, t2) and one rural township (r1). Every
//! figure asserted below is counted by hand from the facts in `county()`.

use registry::model::{RecordId, TownshipKind, UnionKind};
use registry::progress::*;
use registry::{Date, date};

const YEAR: i32 = 2026;

fn id(s: &str) -> RecordId {
    RecordId::from(s)
}

fn entity(township: &str, workers: i64, covered_by: Option<UnionKind>, private: bool) -> EntityFacts {
    EntityFacts { township: id(township), workers, closed: false, covered_by, private }
}

fn union(
    township: &str,
    kind: UnionKind,
    founded_on: Option<Date>,
    liuyou_complete: bool,
    bayou: Option<bool>,
    chair_vacant: bool,
) -> UnionFacts {
    UnionFacts { township: id(township), kind, founded_on, dissolved: false, liuyou_complete, bayou, chair_vacant }
}

fn member(township: &str, joined_on: Date, active: bool) -> MemberFacts {
    MemberFacts { township: id(township), joined_on, active, carded: false }
}

fn carded(m: MemberFacts) -> MemberFacts {
    MemberFacts { carded: true, ..m }
}

fn builder(config: CampaignConfig) -> ProgressBuilder {
    let mut b = ProgressBuilder::new(config);
    b.add_township(id("t1"), "城关镇".into(), TownshipKind::Town);
    b.add_township(id("t2"), "河口镇".into(), TownshipKind::Town);
    b.add_township(id("r1"), "山前乡".into(), TownshipKind::RuralTownship);
    b
}

/// The hand-built county with the default 2026 campaign.
fn county(as_of: Date) -> ProgressReport {
    let mut b = builder(CampaignConfig::default_for(YEAR));
    use UnionKind::*;

    // --- Entities -------------------------------------------------------
    // t1: covered 2 of 3 with workers; own union 1 of 2 with 25+; 3 private, 2 with a union.
    b.add_entity(&entity("t1", 30, Some(SingleUnit), true));
    b.add_entity(&entity("t1", 25, Some(Joint), true));
    b.add_entity(&entity("t1", 24, None, true));
    b.add_entity(&entity("t1", 0, None, false)); // counted, but no workers to cover
    b.add_entity(&EntityFacts { closed: true, ..entity("t1", 100, None, true) }); // ignored
    // t2: covered 1 of 2; own union 0 of 1; 1 private, none with a union.
    b.add_entity(&entity("t2", 10, Some(Community), false));
    b.add_entity(&entity("t2", 60, None, true));
    // r1: covered 1 of 1; no entity of 25+; 1 private with a union.
    b.add_entity(&entity("r1", 5, Some(Joint), true));
    // Not in the area tree.
    b.add_entity(&entity("nowhere", 40, None, true));

    // --- Unions ---------------------------------------------------------
    // t1: 3 active unions, 2 new in 2026; 六有 2/3; township/community 1/1; 八有 1/2; 1 vacancy.
    b.add_union(&union("t1", SingleUnit, Some(date!(2026 - 03 - 01)), true, Some(true), false));
    b.add_union(&union("t1", Joint, Some(date!(2026 - 05 - 20)), false, Some(false), true));
    b.add_union(&union("t1", Township, Some(date!(2019 - 01 - 01)), true, None, false));
    b.add_union(&UnionFacts {
        dissolved: true,
        ..union("t1", SingleUnit, Some(date!(2026 - 02 - 01)), true, Some(true), true)
    }); // ignored
    // t2: 2 active unions, 1 new; 六有 1/2; township/community 0/1; 八有 1/1; no vacancy.
    b.add_union(&union("t2", Community, Some(date!(2026 - 04 - 01)), false, None, false));
    b.add_union(&union("t2", SingleUnit, Some(date!(2025 - 12 - 31)), true, Some(true), false));
    // r1: 1 union, new on the first day of the year; 六有 1/1; 八有 1/1; 1 vacancy.
    b.add_union(&union("r1", SingleUnit, Some(date!(2026 - 01 - 01)), true, Some(true), true));
    // Not in the area tree.
    b.add_union(&union("nowhere", SingleUnit, Some(date!(2026 - 06 - 01)), true, None, false));

    // --- Members --------------------------------------------------------
    // t1: 5 members, 4 joined in 2026 (one of whom has left), 4 active,
    // 2 of them with a valid card (the one who left held one too).
    b.add_member(&carded(member("t1", date!(2026 - 01 - 01), true)));
    b.add_member(&member("t1", date!(2026 - 05 - 20), true));
    b.add_member(&carded(member("t1", date!(2026 - 12 - 31), true)));
    b.add_member(&carded(member("t1", date!(2026 - 02 - 10), false)));
    b.add_member(&member("t1", date!(2025 - 12 - 31), true));
    // t2: 2 members, 1 joined in 2026, both active, 1 with a card.
    b.add_member(&member("t2", date!(2026 - 07 - 01), true));
    b.add_member(&carded(member("t2", date!(2024 - 07 - 01), true)));
    // Not in the area tree.
    b.add_member(&member("nowhere", date!(2026 - 07 - 01), true));

    b.finish(as_of)
}

fn township<'a>(report: &'a ProgressReport, township: &str) -> &'a Tally {
    &report.townships.iter().find(|t| t.id.as_str() == township).unwrap_or_else(|| panic!("no {township}")).tally
}

fn rate(numerator: u64, denominator: u64) -> Rate {
    Rate { numerator, denominator }
}

fn goal<'a>(report: &'a ProgressReport, key: &str) -> &'a Goal {
    report.goals.iter().find(|g| g.key == key).unwrap_or_else(|| panic!("no goal {key}"))
}

fn phase<'a>(report: &'a ProgressReport, key: &str) -> &'a PhaseProgress {
    report.calendar.iter().find(|p| p.phase.key == key).unwrap_or_else(|| panic!("no phase {key}"))
}

// ---------------------------------------------------------------------------
// Configuration.

#[test]
fn default_config_has_the_plans_figures() {
    let c = CampaignConfig::default_for(YEAR);
    assert_eq!(c.year, 2026);
    assert_eq!((c.county_new_unions, c.county_new_members), (50, 380));
    let t = |new_unions, new_members_per_union| TownshipTarget { new_unions, new_members_per_union };
    assert_eq!(c.target_for(TownshipKind::Town), t(4, 50));
    assert_eq!(c.target_for(TownshipKind::RuralTownship), t(3, 30));
    assert_eq!(c.target_for(TownshipKind::UrbanOffice), t(3, 30));
    assert_eq!(c.target_for(TownshipKind::DevelopmentZone), t(3, 30), "a zone gets the rural figures");
    assert_eq!(c.qualified_rate_goal, 0.60);
    assert_eq!(c.township_community_qualified_rate_goal, 0.70);
    assert_eq!(c.standard_rate_goal, 0.80);
    assert_eq!(c.coverage_goal, 0.95);

    let keys: Vec<_> = c.calendar.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["ledgers", "founding", "census", "publicity", "self_check"]);
    let span = |key: &str| {
        let p = c.calendar.iter().find(|p| p.key == key).unwrap();
        (p.starts, p.deadline)
    };
    assert_eq!(span("ledgers").1, date!(2026 - 05 - 10), "real-name ledgers in by 10 May");
    assert_eq!(span("founding"), (date!(2026 - 05 - 01), date!(2026 - 05 - 31)), "founding drive ends May 31");
    assert_eq!(span("census").1, date!(2026 - 06 - 30));
    assert_eq!(span("publicity"), (date!(2026 - 05 - 04), date!(2026 - 08 - 31)));
    assert_eq!(span("self_check"), (date!(2026 - 10 - 01), date!(2026 - 10 - 15)));

    let next = CampaignConfig::default_for(2027);
    assert!(next.calendar.iter().all(|p| p.starts.year() == 2027 && p.deadline.year() == 2027));
}

#[test]
fn missing_township_target_is_zero() {
    let mut c = CampaignConfig::default_for(YEAR);
    c.township_targets.remove(&TownshipKind::DevelopmentZone);
    assert_eq!(c.target_for(TownshipKind::DevelopmentZone), TownshipTarget { new_unions: 0, new_members_per_union: 0 });
    let mut b = ProgressBuilder::new(c);
    b.add_township(id("z"), "开发区".into(), TownshipKind::DevelopmentZone);
    let report = b.finish(date!(2026 - 11 - 25));
    let z = township(&report, "z");
    assert_eq!((z.target_new_unions, z.target_new_members), (0, 0));
}

// ---------------------------------------------------------------------------
// Township tallies.

#[test]
fn township_targets() {
    let report = county(date!(2026 - 11 - 25));
    for (t, unions, members) in [("t1", 4, 200), ("t2", 4, 200), ("r1", 3, 90)] {
        let tally = township(&report, t);
        assert_eq!(tally.target_new_unions, unions, "{t} union target");
        assert_eq!(tally.target_new_members, members, "{t} member target: unions × members per union");
    }
    let kinds: Vec<_> = report.townships.iter().map(|t| (t.id.as_str(), t.name.as_str(), t.kind)).collect();
    assert_eq!(kinds.len(), 3);
    assert!(kinds.contains(&("r1", "山前乡", TownshipKind::RuralTownship)), "{kinds:?}");
    assert!(kinds.contains(&("t1", "城关镇", TownshipKind::Town)), "{kinds:?}");
}

#[test]
fn town_one_tally() {
    let report = county(date!(2026 - 11 - 25));
    let t1 = township(&report, "t1");
    assert_eq!(t1.new_unions, 2, "founded 2026-03-01 and 2026-05-20; the dissolved one is ignored");
    assert_eq!(t1.new_members, 4, "joined in 2026, whether or not still active");
    assert_eq!(t1.active_members, 4);
    assert_eq!(t1.entities, 4, "the closed entity is not counted");
    assert_eq!(t1.coverage, rate(2, 3), "entities with workers: 30, 25, 24");
    assert_eq!(t1.own_union_25, rate(1, 2), "the 25-worker entity is only in a joint union");
    assert_eq!(t1.unions, 3);
    assert_eq!(t1.qualified, rate(2, 3));
    assert_eq!(t1.township_community_qualified, rate(1, 1), "only the township union");
    assert_eq!(t1.standard, rate(1, 2));
    assert_eq!(t1.vacancies, 1);
    assert_eq!((t1.private_enterprises, t1.private_enterprises_with_union), (3, 2));
}

#[test]
fn town_two_tally() {
    let report = county(date!(2026 - 11 - 25));
    let t2 = township(&report, "t2");
    assert_eq!(t2.new_unions, 1, "2025-12-31 is last year");
    assert_eq!(t2.new_members, 1);
    assert_eq!(t2.active_members, 2);
    assert_eq!(t2.entities, 2);
    assert_eq!(t2.coverage, rate(1, 2));
    assert_eq!(t2.own_union_25, rate(0, 1));
    assert_eq!(t2.unions, 2);
    assert_eq!(t2.qualified, rate(1, 2));
    assert_eq!(t2.township_community_qualified, rate(0, 1));
    assert_eq!(t2.standard, rate(1, 1));
    assert_eq!(t2.vacancies, 0);
    assert_eq!((t2.private_enterprises, t2.private_enterprises_with_union), (1, 0));
}

#[test]
fn rural_township_tally() {
    let report = county(date!(2026 - 11 - 25));
    let r1 = township(&report, "r1");
    assert_eq!(r1.new_unions, 1, "2026-01-01 counts");
    assert_eq!((r1.new_members, r1.active_members), (0, 0));
    assert_eq!(r1.entities, 1);
    assert_eq!(r1.coverage, rate(1, 1));
    assert_eq!(r1.own_union_25, rate(0, 0), "no entity of 25+");
    assert_eq!(r1.own_union_25.value(), None);
    assert_eq!(r1.unions, 1);
    assert_eq!(r1.qualified, rate(1, 1));
    assert_eq!(r1.township_community_qualified, rate(0, 0));
    assert_eq!(r1.standard, rate(1, 1));
    assert_eq!(r1.vacancies, 1);
    assert_eq!((r1.private_enterprises, r1.private_enterprises_with_union), (1, 1));
}

// ---------------------------------------------------------------------------
// County tally and goals.

#[test]
fn county_tally_sums_the_townships() {
    let report = county(date!(2026 - 11 - 25));
    assert_eq!(report.year, 2026);
    assert_eq!(report.as_of, date!(2026 - 11 - 25));
    let c = &report.county;
    assert_eq!((c.target_new_unions, c.target_new_members), (50, 380), "the county's own targets, not a sum");
    assert_eq!(c.new_unions, 4);
    assert_eq!(c.new_members, 5);
    assert_eq!(c.active_members, 6);
    assert_eq!(c.entities, 7);
    assert_eq!(c.coverage, rate(4, 6));
    assert_eq!(c.own_union_25, rate(1, 3));
    assert_eq!(c.unions, 6);
    assert_eq!(c.qualified, rate(4, 6));
    assert_eq!(c.township_community_qualified, rate(1, 2));
    assert_eq!(c.standard, rate(3, 4));
    assert_eq!(c.vacancies, 2);
    assert_eq!((c.private_enterprises, c.private_enterprises_with_union), (5, 3));
    assert_eq!(report.unplaced, 3, "one entity, one union and one member in an unknown township");
}

#[test]
fn county_goals() {
    let report = county(date!(2026 - 11 - 25));
    let keys: Vec<_> = report.goals.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "new_unions",
            "new_members",
            "coverage",
            "own_union_25",
            "qualified",
            "township_community_qualified",
            "standard",
            "membership",
            "cards"
        ]
    );
    let expect = |key: &str, target: f64, actual: Option<f64>, met: bool| {
        let g = goal(&report, key);
        assert_eq!((g.target, g.actual, g.met), (target, actual, met), "goal {key}");
    };
    expect("new_unions", 50.0, Some(4.0), false);
    expect("new_members", 380.0, Some(5.0), false);
    expect("coverage", 0.95, Some(4.0 / 6.0), false);
    expect("own_union_25", 1.0, Some(1.0 / 3.0), false);
    expect("qualified", 0.60, Some(4.0 / 6.0), true); // 66.7% ≥ 60%
    expect("township_community_qualified", 0.70, Some(0.5), false);
    expect("standard", 0.80, Some(0.75), false);
    expect("membership", 0.99, Some(6.0 / 70.0), false);
    expect("cards", 1.0, Some(0.5), false);
}

#[test]
fn goals_met_when_figures_reach_the_targets() {
    let config = CampaignConfig { county_new_unions: 2, county_new_members: 2, ..CampaignConfig::default_for(YEAR) };
    let mut b = ProgressBuilder::new(config);
    b.add_township(id("t1"), "城关镇".into(), TownshipKind::Town);
    // 20 entities with workers, 19 covered: exactly 95%.
    for i in 0..20 {
        let covered = if i < 19 { Some(UnionKind::SingleUnit) } else { None };
        b.add_entity(&entity("t1", if i < 19 { 30 } else { 5 }, covered, true));
    }
    // 5 unions: 3 qualified (exactly 60%), 4 of 5 meet 八有 (exactly 80%).
    for i in 0..5 {
        b.add_union(&union("t1", UnionKind::SingleUnit, Some(date!(2026 - 03 - 01)), i < 3, Some(i < 4), false));
    }
    // 10 township/community unions, 7 qualified (exactly 70%), no 八有.
    for i in 0..10 {
        b.add_union(&union("t1", UnionKind::Community, Some(date!(2015 - 03 - 01)), i < 7, None, false));
    }
    // 565 members, every one carded, of the covered entities' 570 workers:
    // 99.1% ≥ 99%, and 100%.
    b.add_member(&carded(member("t1", date!(2026 - 03 - 01), true)));
    b.add_member(&carded(member("t1", date!(2026 - 03 - 02), true)));
    for _ in 0..563 {
        b.add_member(&carded(member("t1", date!(2015 - 03 - 02), true)));
    }
    let report = b.finish(date!(2026 - 11 - 25));
    let c = &report.county;
    assert_eq!(c.coverage, rate(19, 20));
    assert_eq!(c.own_union_25, rate(19, 19));
    assert_eq!(c.qualified, rate(10, 15));
    assert_eq!(c.township_community_qualified, rate(7, 10));
    assert_eq!(c.standard, rate(4, 5));
    assert_eq!((c.membership, c.carded), (rate(565, 570), rate(565, 565)));
    for g in &report.goals {
        assert!(g.met, "goal {} should be met: {g:?}", g.key);
    }
}

#[test]
fn rate_value_and_meets() {
    assert_eq!(rate(0, 0).value(), None);
    assert!(rate(0, 0).meets(0.95), "nothing to do meets any goal");
    assert_eq!(rate(1, 4).value(), Some(0.25));
    assert!(rate(19, 20).meets(0.95), "exactly on the goal");
    assert!(!rate(18, 20).meets(0.95));
    assert!(rate(3, 5).meets(0.60), "0.6 despite floating point");
    assert!(rate(7, 10).meets(0.70), "0.7 despite floating point");
    assert!(!rate(69, 100).meets(0.70));
    assert!(rate(1, 1).meets(1.0));
    assert!(!rate(0, 1).meets(0.01));
}

#[test]
fn empty_county() {
    let report = ProgressBuilder::new(CampaignConfig::default_for(YEAR)).finish(date!(2026 - 11 - 25));
    assert!(report.townships.is_empty());
    assert_eq!(report.unplaced, 0);
    assert_eq!(report.county.coverage, rate(0, 0));
    assert_eq!(goal(&report, "coverage").actual, None);
    assert!(goal(&report, "coverage").met, "no entities: nothing to cover");
    assert!(!goal(&report, "new_unions").met, "0 of 50 new unions");
}

// ---------------------------------------------------------------------------
// Calendar.

#[test]
fn phase_states() {
    let c = CampaignConfig::default_for(YEAR);
    let founding = c.calendar.iter().find(|p| p.key == "founding").unwrap();
    assert_eq!(founding.state(date!(2026 - 04 - 30)), PhaseState::NotStarted { starts_in_days: 1 });
    assert_eq!(founding.state(date!(2026 - 01 - 01)), PhaseState::NotStarted { starts_in_days: 120 });
    assert_eq!(founding.state(date!(2026 - 05 - 01)), PhaseState::Open { days_left: 30 }, "opens on its first day");
    assert_eq!(founding.state(date!(2026 - 05 - 31)), PhaseState::Open { days_left: 0 }, "the deadline is still open");
    assert_eq!(founding.state(date!(2026 - 06 - 01)), PhaseState::Ended);
}

#[test]
fn calendar_on_the_founding_deadline() {
    let report = county(date!(2026 - 05 - 31));
    let states: Vec<_> = report.calendar.iter().map(|p| (p.phase.key.as_str(), p.state, p.overdue)).collect();
    assert_eq!(
        states,
        [
            ("ledgers", PhaseState::Ended, false),
            ("founding", PhaseState::Open { days_left: 0 }, false),
            ("census", PhaseState::Open { days_left: 30 }, false),
            ("publicity", PhaseState::Open { days_left: 92 }, false),
            ("self_check", PhaseState::NotStarted { starts_in_days: 123 }, false),
        ]
    );
}

#[test]
fn founding_overdue_the_day_after_its_deadline() {
    let report = county(date!(2026 - 06 - 01));
    let founding = phase(&report, "founding");
    assert_eq!(founding.state, PhaseState::Ended);
    assert!(founding.overdue, "4 of 50 new unions by the end of May");
    assert!(!phase(&report, "ledgers").overdue, "ledgers have no measurable goal");
    assert!(!phase(&report, "census").overdue, "census still open");
}

#[test]
fn census_overdue_while_chairs_are_vacant() {
    let report = county(date!(2026 - 06 - 30));
    assert!(!phase(&report, "census").overdue, "open on its deadline");
    let report = county(date!(2026 - 07 - 01));
    let census = phase(&report, "census");
    assert_eq!(census.state, PhaseState::Ended);
    assert!(census.overdue, "2 vacant chairs after the by-election deadline");
    let report = county(date!(2026 - 12 - 31));
    assert!(!phase(&report, "self_check").overdue, "self-check has no measurable goal");
    assert!(!phase(&report, "publicity").overdue);
}

#[test]
fn census_not_overdue_without_vacancies() {
    let mut b = builder(CampaignConfig::default_for(YEAR));
    b.add_union(&union("t1", UnionKind::SingleUnit, Some(date!(2026 - 03 - 01)), true, None, false));
    // A vacancy in a dissolved union does not count.
    b.add_union(&UnionFacts { dissolved: true, ..union("t1", UnionKind::Joint, None, true, None, true) });
    let report = b.finish(date!(2026 - 07 - 01));
    assert_eq!(report.county.vacancies, 0);
    assert!(!phase(&report, "census").overdue);
}

#[test]
fn founding_not_overdue_when_every_target_is_met() {
    // Small targets: the county needs 3 unions and 3 members; each town 1 union.
    let mut config =
        CampaignConfig { county_new_unions: 3, county_new_members: 3, ..CampaignConfig::default_for(YEAR) };
    let small = TownshipTarget { new_unions: 1, new_members_per_union: 1 };
    config.township_targets.insert(TownshipKind::Town, small);
    config.township_targets.insert(TownshipKind::RuralTownship, small);

    let run = |with_rural_union: bool| {
        let mut b = builder(config.clone());
        b.add_union(&union("t1", UnionKind::SingleUnit, Some(date!(2026 - 05 - 02)), true, None, false));
        b.add_union(&union("t2", UnionKind::SingleUnit, Some(date!(2026 - 05 - 03)), true, None, false));
        if with_rural_union {
            b.add_union(&union("r1", UnionKind::SingleUnit, Some(date!(2026 - 05 - 04)), true, None, false));
        } else {
            // The county total is reached, but r1 has founded none.
            b.add_union(&union("t1", UnionKind::Joint, Some(date!(2026 - 05 - 04)), true, None, false));
        }
        // Each township reaches its member target too (1 union × 1 member).
        for (township, day) in [("t1", 5), ("t2", 6), ("r1", 7)] {
            b.add_member(&member(township, Date::from_calendar_date(2026, time::Month::May, day).unwrap(), true));
        }
        b.finish(date!(2026 - 06 - 01))
    };

    let report = run(true);
    assert_eq!((report.county.new_unions, report.county.new_members), (3, 3));
    assert!(goal(&report, "new_unions").met && goal(&report, "new_members").met);
    assert!(!phase(&report, "founding").overdue, "every target met by the deadline");

    let report = run(false);
    assert_eq!(report.county.new_unions, 3);
    assert_eq!(township(&report, "r1").new_unions, 0);
    assert!(phase(&report, "founding").overdue, "a township short of its target makes the phase overdue");
}

#[test]
fn founding_overdue_when_a_township_misses_its_member_target() {
    let mut config =
        CampaignConfig { county_new_unions: 1, county_new_members: 1, ..CampaignConfig::default_for(YEAR) };
    let small = TownshipTarget { new_unions: 0, new_members_per_union: 0 };
    config.township_targets.insert(TownshipKind::Town, TownshipTarget { new_unions: 1, new_members_per_union: 2 });
    config.township_targets.insert(TownshipKind::RuralTownship, small);
    let mut b = builder(config);
    b.add_union(&union("t1", UnionKind::SingleUnit, Some(date!(2026 - 05 - 02)), true, None, false));
    b.add_union(&union("t2", UnionKind::SingleUnit, Some(date!(2026 - 05 - 02)), true, None, false));
    for township in ["t1", "t1", "t2"] {
        b.add_member(&member(township, date!(2026 - 05 - 10), true));
    }
    let report = b.finish(date!(2026 - 06 - 01));
    assert!(goal(&report, "new_unions").met && goal(&report, "new_members").met);
    assert_eq!(township(&report, "t2").new_members, 1);
    assert!(phase(&report, "founding").overdue, "t2 has 1 of its 2 new members");
}

#[test]
fn unplaced_facts_are_counted_not_tallied() {
    let mut b = ProgressBuilder::new(CampaignConfig::default_for(YEAR));
    b.add_township(id("t1"), "城关镇".into(), TownshipKind::Town);
    b.add_entity(&entity("x", 30, None, true));
    b.add_entity(&EntityFacts { closed: true, ..entity("x", 30, None, true) });
    b.add_union(&union("y", UnionKind::SingleUnit, Some(date!(2026 - 03 - 01)), true, None, true));
    b.add_member(&member("z", date!(2026 - 03 - 01), true));
    let report = b.finish(date!(2026 - 11 - 25));
    assert_eq!(report.unplaced, 4, "every fact with an unknown township, closed or not");
    assert_eq!(report.county.entities, 0);
    assert_eq!(report.county.unions, 0);
    assert_eq!(report.county.new_members, 0);
    assert_eq!(report.county.vacancies, 0);
}

/// 入会率: active members ÷ workers of the open entities a union covers
/// today; 发证率: active members with a valid card ÷ active members. Both
/// per township, summed for the county, and goals against the plan's 99%
/// and 100%.
#[test]
fn membership_and_card_rates() {
    let r = county(date!(2026 - 11 - 30));
    // t1: covered workers 30 + 25 (the 24 uncovered, the closed 100 not);
    // t2: 10 (the 60 uncovered); r1: 5.
    assert_eq!(township(&r, "t1").membership, rate(4, 55));
    assert_eq!(township(&r, "t2").membership, rate(2, 10));
    assert_eq!(township(&r, "r1").membership, rate(0, 5));
    assert_eq!(r.county.membership, rate(6, 70), "the unplaced member is not the county's");
    assert_eq!(township(&r, "t1").carded, rate(2, 4), "the carded member who left is not counted");
    assert_eq!(township(&r, "t2").carded, rate(1, 2));
    assert_eq!(township(&r, "r1").carded, rate(0, 0));
    assert_eq!(r.county.carded, rate(3, 6));
    let m = goal(&r, "membership");
    assert!(m.rate && !m.met && m.target == 0.99 && m.actual == Some(6.0 / 70.0), "{m:?}");
    let c = goal(&r, "cards");
    assert!(c.rate && !c.met && c.target == 1.0 && c.actual == Some(0.5), "{c:?}");
    // All carded: the 100% goal is met exactly.
    let mut b = builder(CampaignConfig::default_for(YEAR));
    b.add_member(&carded(member("t1", date!(2026 - 01 - 01), true)));
    b.add_member(&carded(member("t2", date!(2026 - 01 - 01), true)));
    assert!(goal(&b.finish(date!(2026 - 11 - 30)), "cards").met);
}

/// A configuration saved before the two goals existed reads the plan's
/// figures for them; a typed one out of range is refused.
#[test]
fn membership_and_card_goals_default_and_are_checked() {
    let mut json = serde_json::to_value(CampaignConfig::default_for(YEAR)).unwrap();
    let o = json.as_object_mut().unwrap();
    assert!(o.remove("membership_rate_goal").is_some() && o.remove("card_rate_goal").is_some());
    let old: CampaignConfig = serde_json::from_value(json).unwrap();
    assert_eq!((old.membership_rate_goal, old.card_rate_goal), (0.99, 1.0));
    let mut bad = old.clone();
    bad.membership_rate_goal = 99.0;
    bad.card_rate_goal = -0.1;
    let issues = bad.check();
    let fields: Vec<&str> = issues.iter().map(|i| i.field.as_str()).collect();
    assert_eq!(fields, ["membership_rate_goal", "card_rate_goal"]);
}

/// What counts as a valid card for the figures.
#[test]
fn a_valid_card_is_ours_unrevoked_and_unexpired() {
    use registry::rules::{card_serial, card_valid};
    let today = date!(2026 - 11 - 30);
    assert_eq!(card_serial(Some("UC00A1B2C3D4E5F6A7")), Some("00a1b2c3d4e5f6a7".into()));
    for other in
        ["3416210000000001", "UC00A1B2C3D4E5F6A", "UC00A1B2C3D4E5F6A7B", "uc00a1b2c3d4e5f6a7", "UCZZA1B2C3D4E5F6A7"]
    {
        assert_eq!(card_serial(Some(other)), None, "{other}");
    }
    let s = Some("00a1b2c3d4e5f6a7");
    assert!(card_valid(s, None, false, today), "no last day recorded: valid until revoked");
    assert!(card_valid(s, Some(today), false, today), "valid on its last day");
    assert!(!card_valid(s, Some(date!(2026 - 11 - 29)), false, today), "expired");
    assert!(!card_valid(s, Some(date!(2030 - 01 - 01)), true, today), "revoked");
    assert!(!card_valid(None, None, false, today), "no card of ours");
}

#[test]
fn report_serialises_with_flattened_tallies_and_tagged_states() {
    let report = county(date!(2026 - 05 - 31));
    let json = serde_json::to_value(&report).unwrap();
    let t1 = json["townships"].as_array().unwrap().iter().find(|t| t["id"] == "t1").unwrap();
    assert_eq!(t1["new_unions"], 2, "tally fields sit beside the township's id: {t1}");
    assert_eq!(t1["coverage"], serde_json::json!({ "numerator": 2, "denominator": 3 }));
    assert_eq!(t1["kind"], "town", "TownshipKind is serialised by its stable key");
    let founding = json["calendar"].as_array().unwrap().iter().find(|p| p["phase"]["key"] == "founding").unwrap();
    assert_eq!(founding["state"], serde_json::json!({ "state": "open", "days_left": 0 }));
    let back: ProgressReport = serde_json::from_value(json).unwrap();
    assert_eq!(back, report, "round trip");
}

#[test]
fn a_typed_configuration_is_checked_before_it_is_saved() {
    let good = CampaignConfig::default_for(YEAR);
    assert!(good.check().is_empty(), "the plans' own figures pass: {:?}", good.check());
    let json = serde_json::to_value(&good).unwrap();
    assert_eq!(json["township_targets"]["town"]["new_unions"], 4, "keyed by the township kind's key: {json}");
    let mut bad = good.clone();
    bad.coverage_goal = 95.0;
    bad.calendar[1].deadline = bad.calendar[1].starts - time::Duration::days(1);
    bad.calendar[2].key = bad.calendar[0].key.clone();
    bad.calendar[3].deadline = date!(2027 - 01 - 15);
    let codes: Vec<&str> = bad.check().iter().map(|i| i.code).collect();
    assert_eq!(codes, ["CONFIG_RATE", "CONFIG_PHASE_ORDER", "CONFIG_PHASE_KEY", "CONFIG_PHASE_YEAR"]);
}

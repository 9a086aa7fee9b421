//! The plan's rules at their boundaries.

use registry::model::*;
use registry::rules::*;
use registry::{Date, Severity, date};

const TODAY: Date = date!(2026 - 11 - 25);
const FOUNDED: Date = date!(2020 - 03 - 01);
/// No findings.
const NONE: [Finding; 0] = [];

fn place() -> Place {
    Place { township: RecordId::from("t1"), community: None, grid: None }
}

fn union(workers: i64, women: i64) -> GrassrootsUnion {
    GrassrootsUnion {
        name: "城关镇某公司工会".into(),
        kind: UnionKind::SingleUnit,
        sector: None,
        place: place(),
        parent_union: None,
        founded_on: Some(FOUNDED),
        approved_on: Some(FOUNDED),
        approved_by: None,
        approval_doc: String::new(),
        workers,
        women_workers: women,
        has_women_committee: false,
        has_audit_committee: false,
        liuyou: all_six(),
        bayou: all_eight(),
        credit_code: None,
        credit_code_override: None,
        dissolved_on: None,
        notes: String::new(),
        photos: Default::default(),
    }
}

fn all_six() -> LiuYou {
    LiuYou { premises: true, elected_chair: true, organisation: true, activities: true, rules: true, results: true }
}

fn all_eight() -> BaYou {
    BaYou {
        sign_board: true,
        approval: true,
        seal: true,
        funds: true,
        premises: true,
        rules: true,
        activities: true,
        archives: true,
    }
}

fn cadre(name: &str, role: CadreRole, elected: Option<Date>, left: Option<Date>) -> Cadre {
    Cadre {
        name: name.into(),
        resident_id: None,
        member_id: None,
        union_id: RecordId::from("u1"),
        role,
        elected_on: elected,
        left_on: left,
        full_time: false,
        owner_relation: OwnerRelation::Unrelated,
        phone: None,
        place: place(),
    }
}

fn chair(elected: Option<Date>, left: Option<Date>) -> Cadre {
    cadre("张三", CadreRole::Chair, elected, left)
}

fn entity(name: &str, workers: i64) -> LegalEntity {
    LegalEntity {
        name: name.into(),
        credit_code: None,
        credit_code_override: None,
        unit_kind: UnitKind::Enterprise,
        ownership: Ownership::Private,
        industry: Industry::Manufacturing,
        address: String::new(),
        place: place(),
        workers,
        women_workers: 0,
        union_id: None,
        owner_name: None,
        contact_phone: None,
        closed: false,
        notes: String::new(),
        photos: Default::default(),
    }
}

fn rules_of(findings: &[Finding]) -> Vec<&'static str> {
    findings.iter().map(|f| f.rule).collect()
}

// ---------------------------------------------------------------------------
// union_requirement

#[test]
fn union_requirement_boundaries() {
    let cases = [
        (-1, UnionRequirement::NoWorkers, "NO_WORKERS"),
        (0, UnionRequirement::NoWorkers, "NO_WORKERS"),
        (1, UnionRequirement::JointOrCommunity, "JOINT_UNDER_25"),
        (24, UnionRequirement::JointOrCommunity, "JOINT_UNDER_25"),
        (25, UnionRequirement::MustFoundOwn, "OWN_UNION_25"),
        (26, UnionRequirement::MustFoundOwn, "OWN_UNION_25"),
        (10_000, UnionRequirement::MustFoundOwn, "OWN_UNION_25"),
    ];
    for (workers, value, rule) in cases {
        let r = union_requirement(workers);
        assert_eq!(r.value, value, "{workers} workers");
        assert_eq!(r.rule, rule, "{workers} workers");
    }
    assert_eq!(OWN_UNION_MIN_WORKERS, 25);
}

#[test]
fn union_requirement_explains_itself_with_the_count() {
    let r = union_requirement(25);
    assert!(r.why.zh.contains("职工25人"), "{}", r.why.zh);
    assert!(r.why.en.starts_with("25 workers"), "{}", r.why.en);
    let r = union_requirement(24);
    assert!(r.why.zh.contains("不足25人"), "{}", r.why.zh);
}

// ---------------------------------------------------------------------------
// approval_body

#[test]
fn approval_body_boundaries() {
    let cases = [
        (0, ApprovalBody::CommunityUnion, "APPROVAL_COMMUNITY_7"),
        (1, ApprovalBody::CommunityUnion, "APPROVAL_COMMUNITY_7"),
        (7, ApprovalBody::CommunityUnion, "APPROVAL_COMMUNITY_7"),
        (8, ApprovalBody::TownUnion, "APPROVAL_TOWN_8_49"),
        (9, ApprovalBody::TownUnion, "APPROVAL_TOWN_8_49"),
        (49, ApprovalBody::TownUnion, "APPROVAL_TOWN_8_49"),
        // The plan's "8—50" and "50以上" overlap at 50; resolved upwards.
        (50, ApprovalBody::CountyFederation, "APPROVAL_COUNTY_50"),
        (51, ApprovalBody::CountyFederation, "APPROVAL_COUNTY_50"),
        (5000, ApprovalBody::CountyFederation, "APPROVAL_COUNTY_50"),
    ];
    for (workers, body, rule) in cases {
        let r = approval_body(workers);
        assert_eq!(r.value, body, "{workers} workers");
        assert_eq!(r.rule, rule, "{workers} workers");
        assert!(r.why.en.starts_with(&format!("{workers} workers")), "{}", r.why.en);
    }
}

// ---------------------------------------------------------------------------
// women_committee

#[test]
fn women_committee_boundary_is_ten() {
    for (women, required) in [(0, false), (9, false), (10, true), (11, true)] {
        let r = women_committee(women);
        assert_eq!(r.value, required, "{women} women workers");
        assert_eq!(r.rule, "WOMEN_COMMITTEE_10");
    }
}

// ---------------------------------------------------------------------------
// may_hold_role

#[test]
fn may_hold_role_for_every_role_and_relation() {
    use CadreRole::*;
    use OwnerRelation::*;
    // The whole table, written out.
    let table = [
        (Chair, Unrelated, true),
        (Chair, Owner, false),
        (Chair, CloseRelative, false),
        (ViceChair, Unrelated, true),
        (ViceChair, Owner, true),
        (ViceChair, CloseRelative, true),
        (CommitteeMember, Unrelated, true),
        (CommitteeMember, Owner, true),
        (CommitteeMember, CloseRelative, true),
        (AuditChair, Unrelated, true),
        (AuditChair, Owner, false),
        (AuditChair, CloseRelative, false),
        (AuditMember, Unrelated, true),
        (AuditMember, Owner, false),
        (AuditMember, CloseRelative, false),
        (WomenCommitteeChair, Unrelated, true),
        (WomenCommitteeChair, Owner, true),
        (WomenCommitteeChair, CloseRelative, true),
        (WomenCommitteeMember, Unrelated, true),
        (WomenCommitteeMember, Owner, true),
        (WomenCommitteeMember, CloseRelative, true),
    ];
    assert_eq!(table.len(), CadreRole::ALL.len() * OwnerRelation::ALL.len(), "the table covers every role × relation");
    for role in CadreRole::ALL {
        for relation in OwnerRelation::ALL {
            let expected = table
                .iter()
                .find(|(r, o, _)| r == role && o == relation)
                .map(|(_, _, allowed)| *allowed)
                .unwrap_or_else(|| panic!("{role:?} × {relation:?} missing from the table"));
            let verdict = may_hold_role(*role, *relation);
            assert_eq!(verdict.value, expected, "{role:?} held by {relation:?}");
            assert_eq!(verdict.rule, "OWNER_MAY_NOT_HOLD");
        }
    }
}

#[test]
fn may_hold_role_explains_a_refusal() {
    let r = may_hold_role(CadreRole::Chair, OwnerRelation::CloseRelative);
    assert_eq!(r.why.zh, "企业主要负责人近亲属不得担任工会主席");
    assert_eq!(r.why.en, "The close relative of the owner may not be chair");
}

// ---------------------------------------------------------------------------
// chair_vacancy

#[test]
fn no_chair_means_vacant_since_founding() {
    let u = union(30, 0);
    assert_eq!(chair_vacancy(&u, [], TODAY), Some(Vacancy { since: Some(FOUNDED) }));
    let vice = cadre("李四", CadreRole::ViceChair, Some(FOUNDED), None);
    assert_eq!(
        chair_vacancy(&u, [&vice], TODAY),
        Some(Vacancy { since: Some(FOUNDED) }),
        "a vice-chair does not fill the chair"
    );
    let unfounded = GrassrootsUnion { founded_on: None, ..union(30, 0) };
    assert_eq!(chair_vacancy(&unfounded, [], TODAY), Some(Vacancy { since: None }), "no founding date known");
}

#[test]
fn chair_in_office_means_no_vacancy() {
    let u = union(30, 0);
    let c = chair(Some(date!(2021 - 01 - 10)), None);
    assert_eq!(chair_vacancy(&u, [&c], TODAY), None);
    let undated = chair(None, None);
    assert_eq!(chair_vacancy(&u, [&undated], TODAY), None, "a chair with no dates is in office");
    let elected_today = chair(Some(TODAY), None);
    assert_eq!(chair_vacancy(&u, [&elected_today], TODAY), None, "elected today is in office today");
    let leaves_later = chair(Some(date!(2021 - 01 - 10)), Some(date!(2027 - 01 - 01)));
    assert_eq!(chair_vacancy(&u, [&leaves_later], TODAY), None, "leaving in the future is still in office");
}

#[test]
fn chair_who_left_means_vacant_since_leaving() {
    let u = union(30, 0);
    let left = chair(Some(date!(2021 - 01 - 10)), Some(date!(2026 - 05 - 01)));
    assert_eq!(chair_vacancy(&u, [&left], TODAY), Some(Vacancy { since: Some(date!(2026 - 05 - 01)) }));
    // The leaving day itself is the first vacant day.
    assert_eq!(chair_vacancy(&u, [&left], date!(2026 - 05 - 01)), Some(Vacancy { since: Some(date!(2026 - 05 - 01)) }));
    assert_eq!(chair_vacancy(&u, [&left], date!(2026 - 04 - 30)), None, "the day before leaving");

    // Several former chairs: vacant since the last one left.
    let first = chair(Some(date!(2020 - 03 - 01)), Some(date!(2023 - 01 - 01)));
    let second = chair(Some(date!(2023 - 01 - 01)), Some(date!(2025 - 06 - 30)));
    assert_eq!(
        chair_vacancy(&u, [&second, &first], TODAY),
        Some(Vacancy { since: Some(date!(2025 - 06 - 30)) }),
        "order of cadres does not matter"
    );
    // A successor in office ends the vacancy.
    let third = chair(Some(date!(2025 - 09 - 01)), None);
    assert_eq!(chair_vacancy(&u, [&first, &second, &third], TODAY), None);
}

#[test]
fn chair_elected_in_the_future_is_not_yet_in_office() {
    let u = union(30, 0);
    let future = chair(Some(date!(2026 - 12 - 01)), None);
    assert_eq!(
        chair_vacancy(&u, [&future], TODAY),
        Some(Vacancy { since: Some(FOUNDED) }),
        "vacant until the election date"
    );
    assert_eq!(chair_vacancy(&u, [&future], date!(2026 - 12 - 01)), None, "in office from the election date");

    let former = chair(Some(FOUNDED), Some(date!(2026 - 06 - 30)));
    assert_eq!(
        chair_vacancy(&u, [&former, &future], TODAY),
        Some(Vacancy { since: Some(date!(2026 - 06 - 30)) }),
        "a by-election scheduled after the former chair left"
    );
}

#[test]
fn dissolved_union_has_no_vacancy() {
    let u = GrassrootsUnion { dissolved_on: Some(date!(2026 - 01 - 01)), ..union(30, 0) };
    assert_eq!(chair_vacancy(&u, [], TODAY), None);
    assert_eq!(
        chair_vacancy(&u, [], date!(2025 - 12 - 31)),
        Some(Vacancy { since: Some(FOUNDED) }),
        "before dissolution it was vacant"
    );
}

// ---------------------------------------------------------------------------
// 六有 / 八有

#[test]
fn liuyou_checklist() {
    let none = liuyou(&LiuYou::default());
    assert_eq!(none.items.len(), 6);
    assert_eq!(none.met(), 0);
    assert!(!none.complete());
    let keys: Vec<_> = none.items.iter().map(|i| i.key).collect();
    assert_eq!(keys, ["premises", "elected_chair", "organisation", "activities", "rules", "results"]);
    assert_eq!(none.items[1].zh, "有依法选举的工会主席");

    let all = liuyou(&all_six());
    assert_eq!(all.met(), 6);
    assert!(all.complete());
    assert_eq!(all.missing().count(), 0);

    let five = liuyou(&LiuYou { results: false, ..all_six() });
    assert_eq!(five.met(), 5);
    assert!(!five.complete());
    assert_eq!(five.missing().map(|i| i.key).collect::<Vec<_>>(), ["results"]);
}

#[test]
fn bayou_checklist() {
    let none = bayou(&BaYou::default());
    assert_eq!(none.items.len(), 8);
    assert_eq!(none.met(), 0);
    let keys: Vec<_> = none.items.iter().map(|i| i.key).collect();
    assert_eq!(keys, ["sign_board", "approval", "seal", "funds", "premises", "rules", "activities", "archives"]);

    let all = bayou(&all_eight());
    assert!(all.complete());
    assert_eq!(all.met(), 8);

    let missing = bayou(&BaYou { seal: false, archives: false, ..all_eight() });
    assert_eq!(missing.met(), 6);
    assert_eq!(missing.missing().map(|i| i.key).collect::<Vec<_>>(), ["seal", "archives"]);
}

#[test]
fn bayou_applies_only_to_private_enterprises() {
    let private = entity("民营甲", 30);
    let state = LegalEntity { ownership: Ownership::State, ..entity("国企乙", 30) };
    let private_society = LegalEntity { unit_kind: UnitKind::SocialOrganisation, ..entity("协会丙", 5) };
    assert!(bayou_applies([&private]));
    assert!(bayou_applies([&state, &private]), "any one private enterprise is enough");
    assert!(!bayou_applies([&state]));
    assert!(!bayou_applies([&private_society]), "private but not an enterprise");
    assert!(!bayou_applies(std::iter::empty::<&LegalEntity>()));
}

// ---------------------------------------------------------------------------
// entity_findings

#[test]
fn entity_with_25_workers_and_no_union_must_found_its_own() {
    let f = entity_findings(&entity("甲", 25), None);
    assert_eq!(rules_of(&f), ["OWN_UNION_25"]);
    assert_eq!(f[0].severity, Severity::Warning);
}

#[test]
fn entity_with_25_workers_covered_by_joint_union_is_flagged() {
    for kind in [UnionKind::Joint, UnionKind::Community, UnionKind::Federation, UnionKind::Township] {
        let f = entity_findings(&entity("甲", 25), Some(kind));
        assert_eq!(rules_of(&f), ["OWN_UNION_25"], "covered by {kind:?}");
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].why.en.contains(kind.en()), "{}", f[0].why.en);
    }
    assert_eq!(entity_findings(&entity("甲", 25), Some(UnionKind::SingleUnit)), NONE, "its own union");
}

#[test]
fn entity_under_25_without_union_is_info() {
    let f = entity_findings(&entity("甲", 24), None);
    assert_eq!(rules_of(&f), ["JOINT_UNDER_25"]);
    assert_eq!(f[0].severity, Severity::Info, "advice, not a warning");
    assert_eq!(entity_findings(&entity("甲", 1), None)[0].severity, Severity::Info);
    assert_eq!(entity_findings(&entity("甲", 24), Some(UnionKind::Joint)), NONE, "covered by a joint union");
    assert_eq!(entity_findings(&entity("甲", 24), Some(UnionKind::Community)), NONE, "covered by the community");
    assert_eq!(entity_findings(&entity("甲", 0), None), NONE, "no workers, nothing to say");
}

#[test]
fn closed_entity_has_no_findings() {
    let closed = LegalEntity { closed: true, ..entity("甲", 300) };
    assert_eq!(entity_findings(&closed, None), NONE);
    let closed_small = LegalEntity { closed: true, ..entity("乙", 5) };
    assert_eq!(entity_findings(&closed_small, None), NONE);
}

// ---------------------------------------------------------------------------
// union_findings

#[test]
fn a_sound_union_has_no_findings() {
    let u = GrassrootsUnion { approved_by: Some(ApprovalBody::TownUnion), ..union(30, 5) };
    let c = chair(Some(FOUNDED), None);
    let state = LegalEntity { ownership: Ownership::State, ..entity("国企", 30) };
    assert_eq!(union_findings(&u, &[&c], &[&state], TODAY), NONE);
}

#[test]
fn union_women_committee_finding() {
    let c = chair(Some(FOUNDED), None);
    let f = union_findings(&union(30, 10), &[&c], &[], TODAY);
    assert_eq!(rules_of(&f), ["WOMEN_COMMITTEE_10"]);
    assert_eq!(f[0].severity, Severity::Warning);
    let with = GrassrootsUnion { has_women_committee: true, ..union(30, 10) };
    assert_eq!(union_findings(&with, &[&c], &[], TODAY), NONE, "committee exists");
    assert_eq!(union_findings(&union(30, 9), &[&c], &[], TODAY), NONE, "9 women: not required");
}

#[test]
fn union_chair_vacant_finding() {
    let f = union_findings(&union(30, 0), &[], &[], TODAY);
    assert_eq!(rules_of(&f), ["CHAIR_VACANT"]);
    assert_eq!(f[0].severity, Severity::Warning);
    assert_eq!(f[0].why.en, "The chair has been vacant since 2020-03-01; a by-election is due");
    assert_eq!(f[0].why.zh, "工会主席空缺（自2020-03-01起），应及时补选");

    let unfounded = GrassrootsUnion { founded_on: None, ..union(30, 0) };
    let f = union_findings(&unfounded, &[], &[], TODAY);
    assert_eq!(f[0].why.en, "The chair has been vacant; a by-election is due", "no date to show");
}

#[test]
fn union_owner_as_chair_finding() {
    let owner_chair = Cadre { owner_relation: OwnerRelation::Owner, ..chair(Some(FOUNDED), None) };
    let f = union_findings(&union(30, 0), &[&owner_chair], &[], TODAY);
    assert_eq!(rules_of(&f), ["OWNER_MAY_NOT_HOLD"], "chair is in office, but held by the owner");
    assert_eq!(f[0].severity, Severity::Warning);
    assert!(f[0].why.zh.starts_with("张三："), "names the cadre: {}", f[0].why.zh);

    let relative_auditor = Cadre {
        owner_relation: OwnerRelation::CloseRelative,
        ..cadre("王五", CadreRole::AuditMember, Some(FOUNDED), None)
    };
    let ok_chair = chair(Some(FOUNDED), None);
    let f = union_findings(&union(30, 0), &[&ok_chair, &relative_auditor], &[], TODAY);
    assert_eq!(rules_of(&f), ["OWNER_MAY_NOT_HOLD"]);
    assert!(f[0].why.en.starts_with("王五: "), "{}", f[0].why.en);

    // An owner who was chair but has left is no longer a finding (the chair is vacant instead).
    let former = Cadre { owner_relation: OwnerRelation::Owner, ..chair(Some(FOUNDED), Some(date!(2025 - 01 - 01))) };
    let f = union_findings(&union(30, 0), &[&former], &[], TODAY);
    assert_eq!(rules_of(&f), ["CHAIR_VACANT"]);

    // The owner as vice-chair is allowed.
    let vice =
        Cadre { owner_relation: OwnerRelation::Owner, ..cadre("赵六", CadreRole::ViceChair, Some(FOUNDED), None) };
    assert_eq!(union_findings(&union(30, 0), &[&ok_chair, &vice], &[], TODAY), NONE);
}

#[test]
fn union_approval_body_finding() {
    let c = chair(Some(FOUNDED), None);
    let wrong = GrassrootsUnion { approved_by: Some(ApprovalBody::TownUnion), ..union(60, 0) };
    let f = union_findings(&wrong, &[&c], &[], TODAY);
    assert_eq!(rules_of(&f), ["APPROVAL_BODY"]);
    assert_eq!(f[0].severity, Severity::Info);
    let right = GrassrootsUnion { approved_by: Some(ApprovalBody::CountyFederation), ..union(60, 0) };
    assert_eq!(union_findings(&right, &[&c], &[], TODAY), NONE);
    let unknown = GrassrootsUnion { approved_by: None, ..union(60, 0) };
    assert_eq!(union_findings(&unknown, &[&c], &[], TODAY), NONE, "no approving body recorded");
    let small = GrassrootsUnion { approved_by: Some(ApprovalBody::CommunityUnion), ..union(7, 0) };
    assert_eq!(union_findings(&small, &[&c], &[], TODAY), NONE, "7 workers: the community approves");
}

#[test]
fn union_checklist_findings() {
    let c = chair(Some(FOUNDED), None);
    let u = GrassrootsUnion { liuyou: LiuYou { rules: false, results: false, ..all_six() }, ..union(30, 0) };
    let f = union_findings(&u, &[&c], &[], TODAY);
    assert_eq!(rules_of(&f), ["LIUYOU_INCOMPLETE"]);
    assert_eq!(f[0].severity, Severity::Info);
    assert_eq!(f[0].why.en, "Missing 2 of 六有: working rules and mechanisms, results members are satisfied with");

    let private = entity("民营", 30);
    let state = LegalEntity { ownership: Ownership::State, ..entity("国企", 30) };
    let u = GrassrootsUnion { bayou: BaYou { seal: false, ..all_eight() }, ..union(30, 0) };
    let f = union_findings(&u, &[&c], &[&private], TODAY);
    assert_eq!(rules_of(&f), ["BAYOU_INCOMPLETE"], "八有 applies to a private enterprise's union");
    assert_eq!(f[0].why.zh, "“八有”缺1项：有印章");
    assert_eq!(union_findings(&u, &[&c], &[&state], TODAY), NONE, "八有 does not apply to a state enterprise");
    assert_eq!(union_findings(&u, &[&c], &[], TODAY), NONE, "nor when nothing is covered");
}

#[test]
fn union_findings_come_in_a_fixed_order() {
    let owner_chair =
        Cadre { owner_relation: OwnerRelation::Owner, ..chair(Some(FOUNDED), Some(date!(2025 - 01 - 01))) };
    let owner_auditor =
        Cadre { owner_relation: OwnerRelation::Owner, ..cadre("钱七", CadreRole::AuditChair, Some(FOUNDED), None) };
    let u = GrassrootsUnion {
        approved_by: Some(ApprovalBody::CommunityUnion),
        liuyou: LiuYou::default(),
        bayou: BaYou::default(),
        ..union(60, 12)
    };
    let f = union_findings(&u, &[&owner_chair, &owner_auditor], &[&entity("民营", 60)], TODAY);
    assert_eq!(
        rules_of(&f),
        [
            "WOMEN_COMMITTEE_10",
            "CHAIR_VACANT",
            "OWNER_MAY_NOT_HOLD",
            "APPROVAL_BODY",
            "LIUYOU_INCOMPLETE",
            "BAYOU_INCOMPLETE"
        ]
    );
}

// ---------------------------------------------------------------------------
// three_clears

#[test]
fn three_clears_lists_private_enterprises_sorted_by_workers() {
    let u1 = RecordId::from("u1");
    let with_union = |name: &str, workers: i64| LegalEntity { union_id: Some(u1.clone()), ..entity(name, workers) };
    let entities: Vec<(RecordId, LegalEntity)> = vec![
        ("e1".into(), with_union("Alpha", 30)),
        ("e2".into(), entity("Bravo", 100)),
        ("e3".into(), entity("Charlie", 10)),
        ("e4".into(), LegalEntity { ownership: Ownership::State, ..entity("Delta", 500) }),
        ("e5".into(), LegalEntity { closed: true, ..entity("Echo", 200) }),
        ("e6".into(), with_union("Aardvark", 30)),
        ("e7".into(), LegalEntity { ownership: Ownership::Collective, ..with_union("Foxtrot", 40) }),
        // Its union was dissolved this year: it has none again.
        ("e8".into(), LegalEntity { union_id: Some("u2".into()), ..entity("Golf", 20) }),
        // Its union is not known here (deleted): it has none.
        ("e9".into(), LegalEntity { union_id: Some("u3".into()), ..entity("Hotel", 5) }),
    ];
    let union_of = |id: &RecordId| match id.as_str() {
        "u1" => Some(UnionStanding { kind: UnionKind::SingleUnit, dissolved_on: None }),
        "u2" => Some(UnionStanding { kind: UnionKind::Joint, dissolved_on: Some(date!(2026 - 03 - 01)) }),
        _ => None,
    };
    let members = |id: &RecordId| match id.as_str() {
        "e1" => 12,
        "e6" => 30,
        _ => 0,
    };
    let clears = three_clears(entities.iter().map(|(id, e)| (id, e)), union_of, members, TODAY);

    let names = |lines: &[ClearsLine]| lines.iter().map(|l| l.name.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&clears.private_enterprises),
        ["Bravo", "Aardvark", "Alpha", "Golf", "Charlie", "Hotel"],
        "only open private enterprises, workers descending, then by name"
    );
    assert_eq!(names(&clears.with_union), ["Aardvark", "Alpha"]);
    assert_eq!(names(&clears.without_union), ["Bravo", "Golf", "Charlie", "Hotel"]);
    assert_eq!(clears.total_workers, 100 + 30 + 30 + 20 + 10 + 5);
    assert_eq!(clears.workers_without_union, 100 + 20 + 10 + 5);
    let golf = clears.without_union.iter().find(|l| l.name == "Golf").unwrap();
    assert_eq!(golf.union, None, "a dissolved union is not named as covering");

    let alpha = clears.with_union.iter().find(|l| l.name == "Alpha").unwrap();
    assert_eq!(alpha.entity, RecordId::from("e1"));
    assert_eq!(alpha.members, 12, "members counted by the closure");
    assert_eq!(alpha.union, Some(u1.clone()));
    assert_eq!(alpha.workers, 30);
    let bravo = &clears.without_union[0];
    assert_eq!((bravo.union.clone(), bravo.members), (None, 0));
}

#[test]
fn three_clears_of_nothing_is_empty() {
    let clears = three_clears(std::iter::empty::<(&RecordId, &LegalEntity)>(), |_| None, |_| 0, TODAY);
    assert_eq!(clears, ThreeClears::default());
}

#[test]
fn a_dissolved_or_unknown_union_covers_nothing() {
    let joint = UnionStanding { kind: UnionKind::Joint, dissolved_on: None };
    assert_eq!(covering(Some(joint), TODAY), Some(UnionKind::Joint));
    assert_eq!(covering(None, TODAY), None);
    let gone = UnionStanding { dissolved_on: Some(TODAY), ..joint };
    assert_eq!(covering(Some(gone), TODAY), None, "dissolved today");
    let later = UnionStanding { dissolved_on: Some(date!(2026 - 12 - 31)), ..joint };
    assert_eq!(covering(Some(later), TODAY), Some(UnionKind::Joint), "dissolved later: still covers today");
}

#[test]
fn bayou_applies_to_open_private_enterprises_only() {
    let private = entity("民营", 30);
    assert!(private_enterprise(&private) && bayou_applies([&private]));
    let closed = LegalEntity { closed: true, ..private.clone() };
    assert!(!bayou_applies([&closed]), "a closed enterprise no longer makes 八有 apply");
    let state = LegalEntity { ownership: Ownership::State, ..private.clone() };
    assert!(!private_enterprise(&state) && !bayou_applies([&state]));
}

#[test]
fn a_dissolved_union_has_no_findings() {
    let mut u = union(30, 12);
    u.dissolved_on = Some(date!(2026 - 01 - 01));
    assert!(union_findings(&u, &[], &[], date!(2026 - 11 - 25)).is_empty());
    // The day before it was dissolved, the same union had things to fix.
    assert!(!union_findings(&u, &[], &[], date!(2025 - 12 - 31)).is_empty());
}

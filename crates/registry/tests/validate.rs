//! `validate::check`: normalisation in place and the issues it reports.

use registry::message::blocks_saving;
use registry::model::*;
use registry::validate::{MIN_WORKING_AGE, check};
use registry::{Date, Issue, Severity, date};
use std::collections::BTreeMap;

const TODAY: Date = date!(2026 - 11 - 25);

/// A valid ID: male, born 1999-01-01 (check digit 4 computed by hand in ids.rs).
const MALE_1999: &str = "440308199901011234";
/// The GB 11643 example: female, born 1949-12-31.
const FEMALE_1949: &str = "11010519491231002X";

fn place() -> Place {
    Place { township: RecordId::from("t1"), community: Some(RecordId::from("c1")), grid: Some(RecordId::from("g1")) }
}

fn member() -> Member {
    Member {
        name: "张伟".into(),
        resident_id: MALE_1999.into(),
        sex: None,
        birth_date: None,
        ethnicity: "汉族".into(),
        education: Education::SeniorHigh,
        political_status: PoliticalStatus::Masses,
        employer_id: None,
        employer_name: "某某超市".into(),
        union_id: RecordId::from("u1"),
        joined_on: date!(2026 - 05 - 20),
        card_number: None,
        card_expires: None,
        phone: None,
        migrant_worker: true,
        dispatched_worker: false,
        place: place(),
        left_on: None,
    }
}

fn entity() -> LegalEntity {
    LegalEntity {
        name: "某某超市有限公司".into(),
        credit_code: Some("91350100M000100Y43".into()),
        credit_code_override: None,
        unit_kind: UnitKind::Enterprise,
        ownership: Ownership::Private,
        industry: Industry::Supermarket,
        address: "城关镇人民路1号".into(),
        place: place(),
        workers: 30,
        women_workers: 12,
        union_id: None,
        owner_name: Some("王老板".into()),
        contact_phone: None,
        closed: false,
        notes: String::new(),
        photos: Default::default(),
    }
}

fn union() -> GrassrootsUnion {
    GrassrootsUnion {
        name: "某某超市工会".into(),
        kind: UnionKind::SingleUnit,
        sector: None,
        place: place(),
        parent_union: None,
        founded_on: Some(date!(2026 - 03 - 01)),
        approved_on: Some(date!(2026 - 03 - 10)),
        approved_by: Some(ApprovalBody::TownUnion),
        approval_doc: "城工发〔2026〕3号".into(),
        workers: 30,
        women_workers: 9,
        has_women_committee: false,
        has_audit_committee: true,
        liuyou: LiuYou::default(),
        bayou: BaYou::default(),
        credit_code: None,
        credit_code_override: None,
        dissolved_on: None,
        notes: String::new(),
        photos: Default::default(),
    }
}

fn cadre() -> Cadre {
    Cadre {
        name: "李娜".into(),
        resident_id: None,
        member_id: None,
        union_id: RecordId::from("u1"),
        role: CadreRole::Chair,
        elected_on: Some(date!(2026 - 03 - 01)),
        left_on: None,
        full_time: false,
        owner_relation: OwnerRelation::Unrelated,
        phone: None,
        place: place(),
    }
}

fn transfer() -> Transfer {
    Transfer {
        member_id: RecordId::from("m1"),
        member_name: "张伟".into(),
        from_union: RecordId::from("u1"),
        to_union: RecordId::from("u2"),
        date: date!(2026 - 09 - 01),
        reason: TransferReason::JobChange,
        note: String::new(),
        place: place(),
    }
}

fn hardship() -> HardshipCase {
    HardshipCase {
        name: "刘芳".into(),
        resident_id: None,
        member_id: None,
        union_id: None,
        kind: HardshipKind::Illness,
        situation: "本人重病，家庭收入低".into(),
        household_size: 3,
        monthly_income_yuan: 600,
        registered_on: date!(2026 - 01 - 15),
        closed_on: None,
        phone: None,
        place: place(),
        visits: BTreeMap::new(),
        photos: Default::default(),
    }
}

fn area(level: AreaLevel) -> Area {
    Area {
        name: "城关镇".into(),
        level,
        township_kind: None,
        parent: None,
        township: None,
        code: String::new(),
        grid_leader: None,
        grid_members: Vec::new(),
        duty: String::new(),
        campaigns: Default::default(),
    }
}

/// (field, code) of each issue, in order.
fn codes(issues: &[Issue]) -> Vec<(String, &'static str)> {
    issues.iter().map(|i| (i.field.clone(), i.code)).collect()
}

fn one(field: &str, code: &'static str) -> Vec<(String, &'static str)> {
    vec![(field.to_owned(), code)]
}

fn none() -> Vec<(String, &'static str)> {
    Vec::new()
}

fn check_member(m: Member) -> (Member, Vec<Issue>) {
    let mut r = Record::Member(m);
    let issues = check(&mut r, TODAY);
    match r {
        Record::Member(m) => (m, issues),
        other => panic!("check changed the record kind: {other:?}"),
    }
}

fn check_entity(e: LegalEntity) -> (LegalEntity, Vec<Issue>) {
    let mut r = Record::Entity(e);
    let issues = check(&mut r, TODAY);
    match r {
        Record::Entity(e) => (e, issues),
        other => panic!("check changed the record kind: {other:?}"),
    }
}

fn check_union(u: GrassrootsUnion) -> Vec<Issue> {
    check(&mut Record::Union(u), TODAY)
}

fn check_cadre(c: Cadre) -> (Cadre, Vec<Issue>) {
    let mut r = Record::Cadre(c);
    let issues = check(&mut r, TODAY);
    match r {
        Record::Cadre(c) => (c, issues),
        other => panic!("check changed the record kind: {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Members.

#[test]
fn valid_member_has_no_issues_and_sex_and_birth_date_are_derived() {
    let (m, issues) = check_member(member());
    assert_eq!(codes(&issues), none(), "{issues:?}");
    assert_eq!(m.sex, Some(Sex::Male), "sex derived from the 17th digit");
    assert_eq!(m.birth_date, Some(date!(1999 - 01 - 01)), "birth date derived from the ID");
    assert!(!blocks_saving(&issues));

    let (m, issues) = check_member(Member { resident_id: FEMALE_1949.into(), ..member() });
    assert_eq!(codes(&issues), none());
    assert_eq!(m.sex, Some(Sex::Female));
    assert_eq!(m.birth_date, Some(date!(1949 - 12 - 31)));
}

#[test]
fn member_resident_id_is_normalised_in_place() {
    let (m, issues) = check_member(Member { resident_id: " 11010519491231002x ".into(), ..member() });
    assert_eq!(codes(&issues), none());
    assert_eq!(m.resident_id, FEMALE_1949, "trimmed and upper-cased");

    let (m, issues) = check_member(Member { resident_id: "110105491231002".into(), ..member() });
    assert_eq!(codes(&issues), none());
    assert_eq!(m.resident_id, FEMALE_1949, "legacy 15-digit form upgraded");
    assert_eq!(m.birth_date, Some(date!(1949 - 12 - 31)));
}

#[test]
fn member_typed_sex_and_birth_date_must_match_the_id() {
    let (m, issues) =
        check_member(Member { sex: Some(Sex::Male), birth_date: Some(date!(1999 - 01 - 01)), ..member() });
    assert_eq!(codes(&issues), none(), "matching values are fine");
    assert_eq!((m.sex, m.birth_date), (Some(Sex::Male), Some(date!(1999 - 01 - 01))));

    let (m, issues) = check_member(Member { sex: Some(Sex::Female), ..member() });
    assert_eq!(codes(&issues), one("sex", "SEX_MISMATCH"));
    assert_eq!(issues[0].severity, Severity::Error);
    assert!(issues[0].message.zh.contains("身份证号显示为男"), "{}", issues[0].message.zh);
    assert_eq!(m.sex, Some(Sex::Female), "the typed value is left for the person to fix");

    let (m, issues) = check_member(Member { birth_date: Some(date!(1999 - 01 - 02)), ..member() });
    assert_eq!(codes(&issues), one("birth_date", "BIRTH_DATE_MISMATCH"));
    assert!(issues[0].message.en.contains("1999-01-01"), "{}", issues[0].message.en);
    assert_eq!(m.birth_date, Some(date!(1999 - 01 - 02)), "not overwritten");
    assert!(blocks_saving(&issues));

    let (_, issues) =
        check_member(Member { sex: Some(Sex::Female), birth_date: Some(date!(1990 - 01 - 01)), ..member() });
    assert_eq!(
        codes(&issues),
        vec![("sex".to_owned(), "SEX_MISMATCH"), ("birth_date".to_owned(), "BIRTH_DATE_MISMATCH")]
    );
}

#[test]
fn member_with_a_bad_id_gets_the_id_error_and_nothing_derived() {
    let (m, issues) = check_member(Member { resident_id: "440308199901011235".into(), ..member() });
    assert_eq!(codes(&issues), one("resident_id", "ID_CHECKSUM"));
    assert_eq!((m.sex, m.birth_date), (None, None), "nothing derived from an invalid ID");
    assert_eq!(m.resident_id, "440308199901011235", "left as typed");

    let (_, issues) = check_member(Member { resident_id: String::new(), ..member() });
    assert_eq!(codes(&issues), one("resident_id", "ID_REQUIRED"));

    let (_, issues) = check_member(Member {
        resident_id: "４４０３０８１９９９０１０１１２３４".into(), ..member()
    });
    assert_eq!(codes(&issues), one("resident_id", "ID_FULLWIDTH"));
}

#[test]
fn member_who_joined_under_16_is_refused() {
    assert_eq!(MIN_WORKING_AGE, 16);
    // Born 2010-06-01 (female, serial 002).
    let id = registry::ids::ResidentId::from_first17("11010520100601002").unwrap();
    let young = || Member { resident_id: id.as_str().to_owned(), ..member() };

    let (_, issues) = check_member(Member { joined_on: date!(2026 - 05 - 31), ..young() });
    assert_eq!(codes(&issues), one("joined_on", "JOINED_UNDER_AGE"), "one day short of 16");
    assert_eq!(issues[0].severity, Severity::Error);

    let (_, issues) = check_member(Member { joined_on: date!(2026 - 06 - 01), ..young() });
    assert_eq!(codes(&issues), none(), "16 on the day joined");

    // A typed birth date is used when the ID cannot be read.
    let (_, issues) = check_member(Member {
        resident_id: "bad".into(),
        birth_date: Some(date!(2015 - 01 - 01)),
        joined_on: date!(2026 - 01 - 01),
        ..member()
    });
    assert_eq!(
        codes(&issues),
        vec![("resident_id".to_owned(), "ID_LENGTH"), ("joined_on".to_owned(), "JOINED_UNDER_AGE")]
    );
}

#[test]
fn member_ethnicity_must_be_one_of_56() {
    assert_eq!(ETHNICITIES.len(), 56);
    let mut sorted = ETHNICITIES.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 56, "no duplicates");
    for e in ETHNICITIES {
        let (_, issues) = check_member(Member { ethnicity: e.into(), ..member() });
        assert_eq!(codes(&issues), none(), "{e}");
    }
    let (_, issues) = check_member(Member { ethnicity: " 回族 ".into(), ..member() });
    assert_eq!(codes(&issues), none(), "surrounding spaces are ignored");
    for bad in ["汉", "Han", "", "穿青人", "汉族人"] {
        let (_, issues) = check_member(Member { ethnicity: bad.into(), ..member() });
        assert_eq!(codes(&issues), one("ethnicity", "ETHNICITY_UNKNOWN"), "{bad:?}");
    }
}

#[test]
fn member_dates() {
    let (_, issues) = check_member(Member { joined_on: date!(2026 - 11 - 26), ..member() });
    assert_eq!(codes(&issues), one("joined_on", "DATE_IN_FUTURE"));
    let (_, issues) = check_member(Member { joined_on: TODAY, ..member() });
    assert_eq!(codes(&issues), none(), "today is not the future");

    let (_, issues) = check_member(Member { left_on: Some(date!(2026 - 05 - 19)), ..member() });
    assert_eq!(codes(&issues), one("left_on", "DATE_ORDER"), "left the day before joining");
    assert!(issues[0].message.zh.contains("入会日期"), "{}", issues[0].message.zh);
    assert_eq!(issues[0].message.en, "This date cannot be before joined on");
    let (_, issues) = check_member(Member { left_on: Some(date!(2026 - 05 - 20)), ..member() });
    assert_eq!(codes(&issues), none(), "joined and left on the same day");
}

#[test]
fn member_required_fields() {
    let (_, issues) =
        check_member(Member { name: "  ".into(), union_id: RecordId::default(), place: Place::default(), ..member() });
    assert_eq!(
        codes(&issues),
        vec![
            ("name".to_owned(), "REQUIRED"),
            ("union_id".to_owned(), "REQUIRED"),
            ("place.township".to_owned(), "REQUIRED"),
        ]
    );
}

#[test]
fn member_phone_is_normalised() {
    let (m, issues) = check_member(Member { phone: Some("+86 138-1234-5678".into()), ..member() });
    assert_eq!(codes(&issues), none());
    assert_eq!(m.phone.as_deref(), Some("13812345678"));

    let (m, issues) = check_member(Member { phone: Some("   ".into()), ..member() });
    assert_eq!(codes(&issues), none());
    assert_eq!(m.phone, None, "a blank phone becomes None");

    let (m, issues) = check_member(Member { phone: Some("12812345678".into()), ..member() });
    assert_eq!(codes(&issues), one("phone", "PHONE_INVALID"));
    assert_eq!(m.phone.as_deref(), Some("12812345678"), "an invalid phone is left as typed");

    let (_, issues) = check_member(Member { phone: Some("１３８１２３４５６７８".into()), ..member() });
    assert_eq!(codes(&issues), one("phone", "PHONE_FULLWIDTH"));
}

#[test]
fn member_young_worker_and_active() {
    let (m, _) = check_member(member());
    assert!(m.is_young_worker(TODAY), "27 years old");
    assert!(m.is_young_worker(date!(2034 - 12 - 31)), "35 is still young");
    assert!(!m.is_young_worker(date!(2035 - 01 - 01)), "36 is not");
    assert!(!member().is_young_worker(TODAY), "no birth date before check");
    let left = Member { left_on: Some(date!(2026 - 10 - 01)), ..member() };
    assert!(left.is_active(date!(2026 - 09 - 30)));
    assert!(!left.is_active(date!(2026 - 10 - 01)));
}

// ---------------------------------------------------------------------------
// Legal entities.

#[test]
fn valid_entity_has_no_issues() {
    let (e, issues) = check_entity(entity());
    assert_eq!(codes(&issues), none(), "{issues:?}");
    assert_eq!(e.credit_code.as_deref(), Some("91350100M000100Y43"));
}

#[test]
fn entity_counts() {
    let (_, issues) = check_entity(LegalEntity { workers: 10, women_workers: 11, ..entity() });
    assert_eq!(codes(&issues), one("women_workers", "WOMEN_EXCEED_WORKERS"));
    assert!(issues[0].message.en.contains("(11)") && issues[0].message.en.contains("(10)"));
    let (_, issues) = check_entity(LegalEntity { workers: 10, women_workers: 10, ..entity() });
    assert_eq!(codes(&issues), none(), "all workers women is fine");
    let (_, issues) = check_entity(LegalEntity { workers: 0, women_workers: 0, ..entity() });
    assert_eq!(codes(&issues), none(), "no workers is fine");

    let (_, issues) = check_entity(LegalEntity { workers: -1, women_workers: 0, ..entity() });
    assert_eq!(codes(&issues), one("workers", "COUNT_NEGATIVE"), "a negative count is reported once");
    let (_, issues) = check_entity(LegalEntity { workers: 5, women_workers: -2, ..entity() });
    assert_eq!(codes(&issues), one("women_workers", "COUNT_NEGATIVE"));
}

#[test]
fn entity_credit_code_checksum_warning_and_override() {
    let bad = || LegalEntity { credit_code: Some("91350100M000100Y44".into()), ..entity() };
    let (e, issues) = check_entity(bad());
    assert_eq!(codes(&issues), one("credit_code", "CREDIT_CODE_CHECKSUM"));
    assert_eq!(issues[0].severity, Severity::Warning);
    assert!(blocks_saving(&issues), "an un-overridden warning blocks saving");
    assert_eq!(e.credit_code.as_deref(), Some("91350100M000100Y44"), "kept as typed");

    let (e, issues) =
        check_entity(LegalEntity { credit_code_override: Some("与营业执照核对一致".into()), ..bad() });
    assert_eq!(codes(&issues), none(), "a recorded reason silences the warning");
    assert!(!blocks_saving(&issues));
    assert_eq!(e.credit_code_override.as_deref(), Some("与营业执照核对一致"), "the override stays on the record");

    let (_, issues) = check_entity(LegalEntity { credit_code_override: Some("  ".into()), ..bad() });
    assert_eq!(codes(&issues), one("credit_code", "CREDIT_CODE_CHECKSUM"), "a blank reason is no reason");
}

#[test]
fn entity_credit_code_normalisation_and_errors() {
    let (e, issues) = check_entity(LegalEntity { credit_code: Some(" 91350100m000100y43 ".into()), ..entity() });
    assert_eq!(codes(&issues), none());
    assert_eq!(e.credit_code.as_deref(), Some("91350100M000100Y43"), "trimmed and upper-cased");

    let (e, issues) = check_entity(LegalEntity { credit_code: Some(" ".into()), ..entity() });
    assert_eq!(codes(&issues), none());
    assert_eq!(e.credit_code, None, "a blank code becomes None");

    let (_, issues) = check_entity(LegalEntity { credit_code: None, ..entity() });
    assert_eq!(codes(&issues), none(), "small units may have no code yet");

    let (_, issues) = check_entity(LegalEntity { credit_code: Some("91350100O000100Y43".into()), ..entity() });
    assert_eq!(codes(&issues), one("credit_code", "CREDIT_CODE_CHARS"));
    assert_eq!(issues[0].severity, Severity::Error);

    // An override does not excuse a malformed code.
    let (_, issues) = check_entity(LegalEntity {
        credit_code: Some("91350100M000100Y4".into()),
        credit_code_override: Some("执照如此".into()),
        ..entity()
    });
    assert_eq!(codes(&issues), one("credit_code", "CREDIT_CODE_LENGTH"));
}

#[test]
fn entity_phone_and_required() {
    let (e, issues) = check_entity(LegalEntity { contact_phone: Some("139 0000 1111".into()), ..entity() });
    assert_eq!(codes(&issues), none());
    assert_eq!(e.contact_phone.as_deref(), Some("13900001111"));
    // A company's landline, as people write it.
    for (typed, kept) in [
        ("0527-83123456", "0527-83123456"),
        ("0527 8312 3456", "0527-83123456"),
        ("(0527)83123456", "0527-83123456"),
        ("052783123456", "0527-83123456"),
        ("+86 527 83123456", "0527-83123456"),
        ("010-62345678", "010-62345678"),
        ("0591-7123456", "0591-7123456"),
    ] {
        let (e, issues) = check_entity(LegalEntity { contact_phone: Some(typed.into()), ..entity() });
        assert_eq!(codes(&issues), none(), "{typed}");
        assert_eq!(e.contact_phone.as_deref(), Some(kept), "{typed}");
    }
    for typed in ["0591-123", "0527-03123456", "0027-83123456", "527-83123456", "0527-8312345678"] {
        let (_, issues) = check_entity(LegalEntity { contact_phone: Some(typed.into()), ..entity() });
        assert_eq!(
            codes(&issues),
            one("contact_phone", "PHONE_INVALID"),
            "{typed}: reported on the entity's field name"
        );
        assert!(issues[0].message.zh.contains("固定电话"), "the message names both kinds");
    }
    let (_, issues) = check_entity(LegalEntity { name: String::new(), place: Place::default(), ..entity() });
    assert_eq!(codes(&issues), vec![("name".to_owned(), "REQUIRED"), ("place.township".to_owned(), "REQUIRED")]);
}

// ---------------------------------------------------------------------------
// Unions.

#[test]
fn valid_union_has_no_issues() {
    assert_eq!(codes(&check_union(union())), none());
}

#[test]
fn union_dates() {
    let issues = check_union(GrassrootsUnion { founded_on: Some(date!(2026 - 11 - 26)), approved_on: None, ..union() });
    assert_eq!(codes(&issues), one("founded_on", "DATE_IN_FUTURE"));
    let issues = check_union(GrassrootsUnion { approved_on: Some(date!(2027 - 01 - 01)), ..union() });
    assert_eq!(codes(&issues), one("approved_on", "DATE_IN_FUTURE"));
    let issues = check_union(GrassrootsUnion { dissolved_on: Some(date!(2026 - 02 - 28)), ..union() });
    assert_eq!(codes(&issues), one("dissolved_on", "DATE_ORDER"), "dissolved before it was founded");
    assert!(issues[0].message.zh.contains("成立日期"), "{}", issues[0].message.zh);
    let issues = check_union(GrassrootsUnion { dissolved_on: Some(date!(2026 - 03 - 01)), ..union() });
    assert_eq!(codes(&issues), none(), "dissolved on the founding day");
}

#[test]
fn union_counts_and_women_committee() {
    let issues = check_union(GrassrootsUnion { women_workers: 31, ..union() });
    assert_eq!(
        codes(&issues),
        vec![
            ("women_workers".to_owned(), "WOMEN_EXCEED_WORKERS"),
            ("has_women_committee".to_owned(), "WOMEN_COMMITTEE_MISSING"),
        ]
    );
    let issues = check_union(GrassrootsUnion { workers: -3, women_workers: -5, ..union() });
    assert_eq!(
        codes(&issues),
        vec![("workers".to_owned(), "COUNT_NEGATIVE"), ("women_workers".to_owned(), "COUNT_NEGATIVE")]
    );

    let issues = check_union(GrassrootsUnion { women_workers: 10, ..union() });
    assert_eq!(codes(&issues), one("has_women_committee", "WOMEN_COMMITTEE_MISSING"));
    assert_eq!(issues[0].severity, Severity::Info);
    assert!(!blocks_saving(&issues), "advice only");
    let issues = check_union(GrassrootsUnion { women_workers: 10, has_women_committee: true, ..union() });
    assert_eq!(codes(&issues), none());
}

#[test]
fn union_credit_code_override() {
    let bad = || GrassrootsUnion { credit_code: Some("91350100M000100Y44".into()), ..union() };
    let issues = check_union(bad());
    assert_eq!(codes(&issues), one("credit_code", "CREDIT_CODE_CHECKSUM"));
    let issues =
        check_union(GrassrootsUnion { credit_code_override: Some("工会法人证书如此".into()), ..bad() });
    assert_eq!(codes(&issues), none());
}

// ---------------------------------------------------------------------------
// Cadres.

#[test]
fn cadre_checks() {
    let (_, issues) = check_cadre(cadre());
    assert_eq!(codes(&issues), none());

    let (c, issues) = check_cadre(Cadre { resident_id: Some("11010519491231002x".into()), ..cadre() });
    assert_eq!(codes(&issues), none());
    assert_eq!(c.resident_id.as_deref(), Some(FEMALE_1949), "normalised");
    let (c, issues) = check_cadre(Cadre { resident_id: Some(" ".into()), ..cadre() });
    assert_eq!(codes(&issues), none());
    assert_eq!(c.resident_id, None, "a blank ID becomes None");
    let (_, issues) = check_cadre(Cadre { resident_id: Some("440308199901011233".into()), ..cadre() });
    assert_eq!(codes(&issues), one("resident_id", "ID_CHECKSUM"));

    let (_, issues) = check_cadre(Cadre { elected_on: Some(date!(2026 - 12 - 01)), ..cadre() });
    assert_eq!(codes(&issues), one("elected_on", "DATE_IN_FUTURE"));
    let (_, issues) = check_cadre(Cadre { left_on: Some(date!(2026 - 02 - 01)), ..cadre() });
    assert_eq!(codes(&issues), one("left_on", "DATE_ORDER"));
    let (c, issues) = check_cadre(Cadre { phone: Some("13812345678".into()), ..cadre() });
    assert_eq!((codes(&issues), c.phone.as_deref()), (none(), Some("13812345678")));
}

#[test]
fn cadre_owner_as_chair_is_recorded_but_flagged() {
    let (_, issues) = check_cadre(Cadre { owner_relation: OwnerRelation::Owner, ..cadre() });
    assert_eq!(codes(&issues), one("owner_relation", "OWNER_MAY_NOT_HOLD"));
    assert_eq!(issues[0].severity, Severity::Info, "the census records what it finds");
    assert!(!blocks_saving(&issues));

    let (_, issues) =
        check_cadre(Cadre { owner_relation: OwnerRelation::CloseRelative, role: CadreRole::AuditMember, ..cadre() });
    assert_eq!(codes(&issues), one("owner_relation", "OWNER_MAY_NOT_HOLD"));
    let (_, issues) =
        check_cadre(Cadre { owner_relation: OwnerRelation::Owner, role: CadreRole::ViceChair, ..cadre() });
    assert_eq!(codes(&issues), none(), "the owner may be vice-chair");
}

// ---------------------------------------------------------------------------
// Transfers.

#[test]
fn transfer_checks() {
    assert_eq!(codes(&check(&mut Record::Transfer(transfer()), TODAY)), none());

    let same = Transfer { to_union: RecordId::from("u1"), ..transfer() };
    let issues = check(&mut Record::Transfer(same), TODAY);
    assert_eq!(codes(&issues), one("to_union", "TRANSFER_SAME_UNION"));
    assert_eq!(issues[0].severity, Severity::Error);

    let blank = Transfer { from_union: RecordId::default(), to_union: RecordId::default(), ..transfer() };
    let issues = check(&mut Record::Transfer(blank), TODAY);
    assert_eq!(
        codes(&issues),
        vec![("from_union".to_owned(), "REQUIRED"), ("to_union".to_owned(), "REQUIRED")],
        "two blanks are missing, not the same union"
    );

    let future = Transfer { date: date!(2026 - 11 - 26), ..transfer() };
    assert_eq!(codes(&check(&mut Record::Transfer(future), TODAY)), one("date", "DATE_IN_FUTURE"));
    let no_member = Transfer { member_id: RecordId::default(), ..transfer() };
    assert_eq!(codes(&check(&mut Record::Transfer(no_member), TODAY)), one("member_id", "REQUIRED"));
}

// ---------------------------------------------------------------------------
// Hardship cases.

#[test]
fn hardship_checks() {
    assert_eq!(codes(&check(&mut Record::Hardship(hardship()), TODAY)), none());

    let h = HardshipCase {
        household_size: 0,
        monthly_income_yuan: -1,
        closed_on: Some(date!(2026 - 01 - 14)),
        situation: " ".into(),
        ..hardship()
    };
    assert_eq!(
        codes(&check(&mut Record::Hardship(h), TODAY)),
        vec![
            ("situation".to_owned(), "REQUIRED"),
            ("household_size".to_owned(), "HOUSEHOLD_SIZE"),
            ("monthly_income_yuan".to_owned(), "AMOUNT_NEGATIVE"),
            ("closed_on".to_owned(), "DATE_ORDER"),
        ]
    );

    let visit = Visit {
        date: date!(2026 - 12 - 01),
        kind: VisitKind::HolidayVisit,
        visitor: String::new(),
        amount_yuan: -500,
        note: String::new(),
    };
    let ok_visit =
        Visit { date: date!(2026 - 02 - 01), visitor: "县总工会".into(), amount_yuan: 500, ..visit.clone() };
    let h = HardshipCase {
        visits: BTreeMap::from([("v1".to_owned(), visit), ("v2".to_owned(), ok_visit)]),
        phone: Some("138 1234 5678".into()),
        ..hardship()
    };
    let mut r = Record::Hardship(h);
    assert_eq!(
        codes(&check(&mut r, TODAY)),
        vec![
            ("visits.v1.date".to_owned(), "DATE_IN_FUTURE"),
            ("visits.v1.visitor".to_owned(), "REQUIRED"),
            ("visits.v1.amount_yuan".to_owned(), "AMOUNT_NEGATIVE"),
        ]
    );
    let Record::Hardship(h) = r else { panic!("kind changed") };
    assert_eq!(h.phone.as_deref(), Some("13812345678"));
}

// ---------------------------------------------------------------------------
// Areas.

#[test]
fn area_checks() {
    assert_eq!(codes(&check(&mut Record::Area(area(AreaLevel::County)), TODAY)), none());

    let township = Area { parent: Some(RecordId::from("county")), ..area(AreaLevel::Township) };
    assert_eq!(codes(&check(&mut Record::Area(township.clone()), TODAY)), one("township_kind", "REQUIRED"));
    let township = Area { township_kind: Some(TownshipKind::Town), ..township };
    assert_eq!(codes(&check(&mut Record::Area(township), TODAY)), none());

    let orphan = Area { township_kind: Some(TownshipKind::Town), ..area(AreaLevel::Township) };
    assert_eq!(codes(&check(&mut Record::Area(orphan), TODAY)), one("parent", "AREA_PARENT_REQUIRED"));

    let grid =
        Area { parent: Some(RecordId::from("c1")), township: Some(RecordId::from("t1")), ..area(AreaLevel::Grid) };
    let issues = check(&mut Record::Area(grid.clone()), TODAY);
    assert_eq!(codes(&issues), one("grid_leader", "GRID_LEADER_MISSING"));
    assert_eq!(issues[0].severity, Severity::Info);
    let led = Area { grid_leader: Some("陈网格".into()), ..grid };
    assert_eq!(codes(&check(&mut Record::Area(led), TODAY)), none());

    let community = Area { parent: Some(RecordId::from("t1")), ..area(AreaLevel::Community) };
    assert_eq!(codes(&check(&mut Record::Area(community), TODAY)), one("township", "REQUIRED"));
}

// ---------------------------------------------------------------------------
// blocks_saving and issue serialisation.

#[test]
fn blocks_saving_semantics() {
    let info = Issue::info("f", "I", "提示", "info");
    let warning = Issue::warning("f", "W", "警告", "warning");
    let error = Issue::error("f", "E", "错误", "error");
    assert!(!blocks_saving(&[]), "nothing to fix");
    assert!(!blocks_saving(std::slice::from_ref(&info)), "advice never blocks");
    assert!(blocks_saving(std::slice::from_ref(&warning)), "an un-overridden warning blocks");
    assert!(blocks_saving(std::slice::from_ref(&error)), "an error blocks");
    assert!(blocks_saving(&[info.clone(), info, warning]));
    assert_eq!(error.clone().on_field("g").field, "g");
}

#[test]
fn issues_serialise_with_snake_case_severity() {
    let issue = Issue::warning("credit_code", "CREDIT_CODE_CHECKSUM", "中", "en");
    let json = serde_json::to_value(&issue).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "field": "credit_code",
            "code": "CREDIT_CODE_CHECKSUM",
            "severity": "warning",
            "message": { "zh": "中", "en": "en" },
        })
    );
}

#[test]
fn records_round_trip_through_json() {
    let (m, _) = check_member(member());
    let record = Record::Member(m);
    let json = serde_json::to_string(&record).unwrap();
    assert!(json.starts_with(r#"{"kind":"member","data":{"#), "{json}");
    let back: Record = serde_json::from_str(&json).unwrap();
    assert_eq!(back, record);
}

#[test]
fn debug_output_of_records_masks_personal_numbers() {
    let mut m = member();
    m.phone = Some("13912345678".into());
    let mut c = cadre();
    c.resident_id = Some(m.resident_id.clone());
    c.phone = m.phone.clone();
    let mut h = hardship();
    h.resident_id = Some(m.resident_id.clone());
    h.phone = m.phone.clone();
    let mut e = entity();
    e.contact_phone = m.phone.clone();
    for shown in [format!("{m:?}"), format!("{c:?}"), format!("{h:?}"), format!("{e:?}")] {
        assert!(!shown.contains(&m.resident_id), "ID number in {shown}");
        assert!(!shown.contains("13912345678"), "phone in {shown}");
        assert!(shown.contains("139******78"), "masked phone shown: {shown}");
    }
    assert!(format!("{m:?}").contains(&m.name), "other fields still shown");
}

#[test]
fn a_records_grid_and_community_must_lie_in_its_township() {
    use registry::validate::{AreaNode, place_in_tree};
    let id = |s: &str| RecordId::from(s);
    let tree = |a: &RecordId| -> Option<AreaNode> {
        let node =
            |level, t: &str, parent: &str| Some(AreaNode { level, township: Some(id(t)), parent: Some(id(parent)) });
        match a.as_str() {
            "A" => node(AreaLevel::Township, "A", "county"),
            "B" => node(AreaLevel::Township, "B", "county"),
            "A-c1" => node(AreaLevel::Community, "A", "A"),
            "A-c2" => node(AreaLevel::Community, "A", "A"),
            "A-g1" => node(AreaLevel::Grid, "A", "A-c1"),
            "B-g1" => node(AreaLevel::Grid, "B", "B"),
            _ => None,
        }
    };
    let codes = |township: &str, community: Option<&str>, grid: Option<&str>| -> Vec<(String, &'static str)> {
        let place = Place { township: id(township), community: community.map(id), grid: grid.map(id) };
        place_in_tree(&place, &tree).into_iter().map(|i| (i.field, i.code)).collect()
    };
    assert!(codes("A", Some("A-c1"), Some("A-g1")).is_empty());
    assert!(codes("B", None, Some("B-g1")).is_empty());
    // The attack: a grid of township A under township B.
    assert_eq!(codes("B", None, Some("A-g1")), vec![("place.grid".into(), "AREA_OUTSIDE_TOWNSHIP")]);
    assert_eq!(codes("B", Some("A-c1"), None), vec![("place.community".into(), "AREA_OUTSIDE_TOWNSHIP")]);
    assert_eq!(codes("Z", None, None), vec![("place.township".into(), "AREA_UNKNOWN")]);
    assert_eq!(codes("A", None, Some("nowhere")), vec![("place.grid".into(), "AREA_UNKNOWN")]);
    assert_eq!(codes("A-g1", None, None), vec![("place.township".into(), "AREA_WRONG_LEVEL")]);
    assert_eq!(codes("A", None, Some("A-c1")), vec![("place.grid".into(), "AREA_WRONG_LEVEL")]);
    // A grid of one community under another of the same township.
    assert_eq!(codes("A", Some("A-c2"), Some("A-g1")), vec![("place.grid".into(), "AREA_OUTSIDE_COMMUNITY")]);
    assert!(codes("A", Some("A-c1"), Some("A-g1")).is_empty());
}

/// The county's area record carries each year's campaign; it is checked as
/// the console checks it, and only the county may carry one.
#[test]
fn a_campaign_rides_on_the_county_area_and_is_checked() {
    use registry::progress::CampaignConfig;
    let mut county = area(AreaLevel::County);
    let mut config = CampaignConfig::default_for(2026);
    config.coverage_goal = 0.9;
    county.campaigns.insert("2026".into(), serde_json::to_string(&config).unwrap());
    assert_eq!(codes(&check(&mut Record::Area(county.clone()), TODAY)), none());
    assert_eq!(county.campaign(2026).unwrap().coverage_goal, 0.9);
    assert!(county.campaign(2025).is_none());
    // A goal out of range is refused on the field it names.
    config.coverage_goal = 1.5;
    county.campaigns.insert("2026".into(), serde_json::to_string(&config).unwrap());
    let issues = check(&mut Record::Area(county.clone()), TODAY);
    assert_eq!(issues[0].code, "CONFIG_RATE");
    assert!(issues[0].field.starts_with("campaigns.2026."), "{issues:?}");
    // Filed under another year, or unreadable, or on a township.
    county.campaigns = [("2025".to_owned(), serde_json::to_string(&CampaignConfig::default_for(2026)).unwrap())].into();
    assert_eq!(codes(&check(&mut Record::Area(county.clone()), TODAY)), one("campaigns.2025", "CAMPAIGN_UNREADABLE"));
    let mut township = area(AreaLevel::Township);
    township.parent = Some("c".into());
    township.township_kind = Some(TownshipKind::Town);
    township.campaigns = [("2026".to_owned(), "{}".to_owned())].into();
    assert_eq!(codes(&check(&mut Record::Area(township), TODAY)), one("campaigns.2026", "CAMPAIGN_NOT_COUNTY"));
}

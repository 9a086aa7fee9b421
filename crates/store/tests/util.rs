//! Fixtures: a small hand-built county and record builders.

use registry::keys::CountySecret;
use registry::model::*;
use registry::{Date, date};
use store::{Init, Store, StoreKey};

pub const TODAY: Date = date!(2026 - 11 - 25);

pub fn secret() -> CountySecret {
    CountySecret::from_bytes([42; 32])
}

pub fn key() -> StoreKey {
    StoreKey::from_bytes([9; 32])
}

pub fn init(device: u8) -> Init {
    Init { county_secret: secret(), device_id: Some([device; 16]) }
}

pub fn memory_store(device: u8) -> Store {
    let mut s = Store::in_memory(&init(device)).unwrap();
    s.set_operator(&format!("operator-{device}"));
    s
}

pub fn place(township: &str) -> Place {
    Place { township: RecordId::from(township), community: None, grid: Some(RecordId::from("g1")) }
}

/// A valid resident ID from 17 digits.
pub fn rid(first17: &str) -> String {
    registry::ids::ResidentId::from_first17(first17).unwrap().as_str().to_owned()
}

pub fn member(name: &str, first17: &str, union: &str) -> Record {
    Record::Member(Member {
        name: name.into(),
        resident_id: rid(first17),
        sex: None,
        birth_date: None,
        ethnicity: "汉族".into(),
        education: Education::SeniorHigh,
        political_status: PoliticalStatus::Masses,
        employer_id: None,
        employer_name: "县城商贸有限公司".into(),
        union_id: RecordId::from(union),
        joined_on: date!(2026 - 05 - 20),
        card_number: None,
        card_expires: None,
        phone: Some("13912345678".into()),
        migrant_worker: false,
        dispatched_worker: false,
        place: place("t1"),
        left_on: None,
    })
}

pub fn credit(first17: &str) -> String {
    registry::ids::CreditCode::from_first17(first17).unwrap().as_str().to_owned()
}

pub fn entity(name: &str, code17: &str, workers: i64, union: Option<&str>) -> Record {
    Record::Entity(LegalEntity {
        name: name.into(),
        credit_code: Some(credit(code17)),
        credit_code_override: None,
        unit_kind: UnitKind::Enterprise,
        ownership: Ownership::Private,
        industry: Industry::Retail,
        address: "县城东大街1号".into(),
        place: place("t1"),
        workers,
        women_workers: workers / 3,
        union_id: union.map(RecordId::from),
        owner_name: Some("李老板".into()),
        contact_phone: None,
        closed: false,
        notes: String::new(),
        photos: Default::default(),
    })
}

pub fn union(name: &str, kind: UnionKind, township: &str, founded: Date) -> Record {
    Record::Union(GrassrootsUnion {
        name: name.into(),
        kind,
        sector: None,
        place: place(township),
        parent_union: None,
        founded_on: Some(founded),
        approved_on: None,
        approved_by: None,
        approval_doc: String::new(),
        workers: 30,
        women_workers: 5,
        has_women_committee: false,
        has_audit_committee: true,
        liuyou: LiuYou::default(),
        bayou: BaYou::default(),
        credit_code: None,
        credit_code_override: None,
        dissolved_on: None,
        notes: String::new(),
        photos: Default::default(),
    })
}

pub fn as_member(r: &Record) -> &Member {
    match r {
        Record::Member(m) => m,
        other => panic!("not a member: {other:?}"),
    }
}

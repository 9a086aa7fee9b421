//! `ui/lib/labels.js`: every labelled list of the registry (a township's
//! kind, an area's level, a visit's outcome…) with its keys' Chinese and
//! English labels, generated from `registry::model`, so the front ends
//! show the registry's words and never a copy of them. The test fails when
//! the file is stale (`SANJIAN_BLESS=1 cargo test -p registry --test tests
//! labels` rewrites it).

use registry::model::*;
use std::fmt::Write as _;
use std::path::Path;

fn list<T: Copy>(
    out: &mut String,
    name: &str,
    all: &[T],
    words: impl Fn(T) -> (&'static str, &'static str, &'static str),
) {
    let _ = writeln!(out, "  {name}: {{");
    for v in all {
        let (key, zh, en) = words(*v);
        let (zh, en) = (serde_json::to_string(zh).unwrap(), serde_json::to_string(en).unwrap());
        let _ = writeln!(out, "    {key}: {{ zh: {zh}, en: {en} }},");
    }
    let _ = writeln!(out, "  }},");
}

fn generate() -> String {
    let mut out = String::from(
        "// Generated from the registry's labelled lists (crates/registry/tests/labels.rs).\n\
         // Do not edit: SANJIAN_BLESS=1 cargo test -p registry --test tests labels rewrites it.\n\n\
         /** @type {Record<string, Record<string, { zh: string, en: string }>>} */\n\
         export const labels = {\n",
    );
    macro_rules! lists {
        ($($name:literal => $ty:ty),* $(,)?) => {
            $(list(&mut out, $name, <$ty>::ALL, |v| (v.key(), v.zh(), v.en()));)*
        };
    }
    lists! {
        "sex" => Sex,
        "township_kind" => TownshipKind,
        "area_level" => AreaLevel,
        "unit_kind" => UnitKind,
        "ownership" => Ownership,
        "industry" => Industry,
        "union_kind" => UnionKind,
        "sector" => Sector,
        "approval_body" => ApprovalBody,
        "education" => Education,
        "political_status" => PoliticalStatus,
        "cadre_role" => CadreRole,
        "owner_relation" => OwnerRelation,
        "transfer_reason" => TransferReason,
        "hardship_kind" => HardshipKind,
        "visit_kind" => VisitKind,
        "visit_outcome" => VisitOutcome,
        "record_kind" => RecordKind,
    }
    out.push_str("};\n");
    out
}

#[test]
fn ui_lib_labels_js_is_current() {
    let generated = generate();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/lib/labels.js");
    if std::env::var_os("SANJIAN_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        kept == generated,
        "ui/lib/labels.js is stale: run `SANJIAN_BLESS=1 cargo test -p registry --test tests labels`"
    );
}

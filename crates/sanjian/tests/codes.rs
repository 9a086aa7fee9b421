//! The project's one catalogue of codes: every crate's refusals and
//! failures, gathered. A code means one thing (one status, one text in each
//! language) wherever it is answered; every code a crate's source names is
//! in it; and the front ends read it from the generated `ui/lib/codes.js`.
//! `SANJIAN_BLESS=1 cargo test -p sanjian --test codes` rewrites that file.

use registry::message::Entry;
use std::collections::BTreeMap;
use std::path::Path;

/// Every crate's codes: the county layer's refusals, the sync layer's,
/// the store's, the card layer's and the field app's.
fn catalogue() -> Vec<Entry> {
    let mut all: Vec<Entry> = county::auth::ALL.iter().map(|c| Entry::of(*c)).collect();
    all.extend(sync::codes::catalogue());
    all.extend(store::error::catalogue());
    all.extend(card::error::catalogue());
    all.extend(field::codes::ALL.iter().map(Entry::of));
    // The registry's rule and validation codes are field issues inside a
    // refused save (`RECORD_INVALID`); those other layers raise too are
    // here.
    all.extend(registry::validate::SHARED_CODES.iter().map(Entry::of));
    all
}

/// Upper-case literals in the sources that are not codes: SQL types and
/// words, HTTP methods and header values, file magic, card revocation
/// reasons (stored words, shown through their own labels), the typed
/// reset confirmation.
const NOT_CODES: &[&str] = &[
    "BLOB",
    "OUT_DIR",
    "BYTEA",
    "NULL",
    "DELETE",
    "HEAD",
    "POST",
    "USER",
    "DENY",
    "SJB1",
    "SANJ",
    "CARGO_PKG_VERSION",
    "REISSUED",
    "DELETED",
    "MEMBER_LEFT",
    "PROBING",
    "RESET",
];

#[test]
fn a_code_means_one_thing_in_both_languages() {
    let mut seen: BTreeMap<String, Entry> = BTreeMap::new();
    for e in catalogue() {
        assert!(e.code.len() >= 4 && e.code.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'));
        assert!(e.message.zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{}: {}", e.code, e.message.zh);
        assert!(e.message.en.len() > 5, "{}: {}", e.code, e.message.en);
        assert!(!e.message.en.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{}", e.code);
        assert!((400..600).contains(&e.status), "{}: {}", e.code, e.status);
        if let Some(before) = seen.get(&e.code) {
            assert_eq!(before, &e, "{} is defined twice, differently", e.code);
        }
        seen.insert(e.code.clone(), e);
    }
    assert!(seen.len() > 100, "{} codes", seen.len());
    // `NOT_FOUND` is one meaning: the server's unknown address and the
    // field app's unknown record say the same.
    assert_eq!(seen["NOT_FOUND"].status, 404);
}

/// Every code a crate's source names (outside its tests) is in the
/// catalogue: a new refusal cannot be made up inline without a place in it.
#[test]
fn every_code_the_sources_name_is_catalogued() {
    let codes: std::collections::HashSet<String> = catalogue().into_iter().map(|e| e.code).collect();
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut missing = Vec::new();
    for krate in ["county", "sync", "store", "card", "field", "server"] {
        let mut stack = vec![crates.join(krate).join("src")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let text = &text[..text.find("#[cfg(test)]").unwrap_or(text.len())];
                // Every span between two quotes is looked at, whatever the
                // quotes' parity (a `'"'` or an escaped quote cannot hide a
                // code).
                let quotes: Vec<usize> = text.match_indices('"').map(|(i, _)| i).collect();
                for pair in quotes.windows(2) {
                    let literal = &text[pair[0] + 1..pair[1]];
                    let looks = literal.len() >= 4
                        && literal.starts_with(|c: char| c.is_ascii_uppercase())
                        && literal.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                    if looks && !codes.contains(literal) && !NOT_CODES.contains(&literal) {
                        missing.push(format!("{}: {literal}", path.display()));
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "codes named in the sources but not in the catalogue:\n{}", missing.join("\n"));
}

#[test]
fn ui_lib_codes_js_is_current() {
    let generated = county::typescript::codes_js(&catalogue());
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/lib/codes.js");
    if std::env::var_os("SANJIAN_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(kept == generated, "ui/lib/codes.js is stale: run `SANJIAN_BLESS=1 cargo test -p sanjian --test codes`");
}

/// `ui/lib/fields.js`: each record kind's fields with the labels its form
/// gives them (`field::forms`), so the console names a field as the
/// tablet's form does and keeps no copy of its own.
fn fields_js() -> String {
    use field::forms;
    let mut all = serde_json::Map::new();
    for form in [
        forms::entity(),
        forms::union(),
        forms::member(),
        forms::cadre(),
        forms::transfer(),
        forms::hardship(),
        forms::visit(),
    ] {
        let mut labels = serde_json::Map::new();
        for f in &form.fields {
            labels.insert(f.name.to_owned(), serde_json::json!({"zh": f.zh, "en": f.en}));
        }
        all.insert(form.kind.to_owned(), serde_json::Value::Object(labels));
    }
    format!(
        "// Generated from the field app's forms (crates/sanjian/tests/codes.rs).\n\
         // Do not edit: SANJIAN_BLESS=1 cargo test -p sanjian --test codes rewrites it.\n\n\
         /** @type {{Record<string, Record<string, {{ zh: string, en: string }}>>}} */\n\
         export const fields = {};\n",
        serde_json::to_string_pretty(&serde_json::Value::Object(all)).unwrap()
    )
}

#[test]
fn ui_lib_fields_js_is_current() {
    let generated = fields_js();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/lib/fields.js");
    if std::env::var_os("SANJIAN_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(kept == generated, "ui/lib/fields.js is stale: run `SANJIAN_BLESS=1 cargo test -p sanjian --test codes`");
}

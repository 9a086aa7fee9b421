//! The TypeScript the front ends are checked against is the one the Rust
//! DTOs make: a DTO changed without regenerating fails here.
//! `SANJIAN_BLESS=1 cargo test -p county --test typescript` rewrites the files.

use std::path::Path;

fn check(file: &str, generated: String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/lib").join(file);
    if std::env::var_os("SANJIAN_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let kept = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        kept == generated,
        "ui/lib/{file} is not what the Rust DTOs make: run `SANJIAN_BLESS=1 cargo test -p county --test typescript`\n\
         --- kept\n{kept}\n--- generated\n{generated}"
    );
}

#[test]
fn typescript_is_current() {
    check("county-api.d.ts", county::typescript::declarations());
    check("county-routes.js", county::typescript::routes_js());
}

/// The county layer's refusals are one catalogue: each code once, with a
/// status and both texts; none is written inline elsewhere.
#[test]
fn the_catalogue_of_refusals_is_unique_and_bilingual() {
    use std::collections::HashSet;
    let all = county::auth::ALL;
    let codes: HashSet<&str> = all.iter().map(|d| d.code).collect();
    assert_eq!(codes.len(), all.len(), "a code appears twice in auth::ALL");
    for d in all {
        assert!(d.code.chars().all(|c| c.is_ascii_uppercase() || c == '_'), "{}", d.code);
        assert!((400..600).contains(&d.status), "{}: {}", d.code, d.status);
        assert!(d.zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{}: no Chinese: {}", d.code, d.zh);
        assert!(d.en.is_ascii() && d.en.len() > 5, "{}: {}", d.code, d.en);
    }
    // Every `Denied` the crate defines is in the catalogue (the struct's
    // own definition aside), and no operation makes up a refusal inline.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let auth = std::fs::read_to_string(src.join("auth/refusals.rs")).unwrap();
    let defined = auth.matches(": Denied =").count();
    assert_eq!(defined, all.len(), "auth/refusals.rs defines {defined} refusals; auth::ALL lists {}", all.len());
    for entry in std::fs::read_dir(src.join("ops")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("Denied {"), "{}: a refusal made up inline", path.display());
    }
}

#[test]
fn every_operation_is_declared_and_routed_once() {
    let d = county::typescript::declarations();
    let r = county::typescript::routes_js();
    for name in ["ListStaff", "CreateEnrolment", "Progress", "Settle", "ThreeClears"] {
        assert_eq!(d.matches(&format!("  {name}: {{ request:")).count(), 1, "{name}");
        assert_eq!(r.matches(&format!("  {name}: [")).count(), 1, "{name}");
    }
    // The types reach into the registry's: a progress report is declared whole.
    assert!(d.contains("export type ProgressReport = "), "{d}");
    assert!(d.contains("export type Tally = "), "{d}");
}

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

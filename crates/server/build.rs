//! Embeds the county console's chart library (Chart.js, vendored from npm
//! into `ui/vendor/` by `scripts/setup.sh`), so the server serves it from
//! its own binary and the console needs no internet.

fn main() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/vendor/chart.umd.min.js");
    println!("cargo:rerun-if-changed={}", src.display());
    let bytes = std::fs::read(&src).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run scripts/setup.sh first (it vendors the console's chart library from npm)",
            src.display()
        )
    });
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("chart.umd.min.js");
    std::fs::write(out, bytes).expect("OUT_DIR is writable");
}

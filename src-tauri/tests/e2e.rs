//! The real app end to end: `tests/e2e/app-tauri.mjs` under Xvfb drives two
//! instances of this crate's binary through tauri-driver (WebDriver over
//! Debian's WebKitWebDriver) against a county server run by the `sanjian`
//! binary. Screenshots go to `target/screenshots/app/`, or to
//! `$SANJIAN_SCREENSHOTS` (`docs/screenshots` refreshes the committed ones).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `sanjian` binary the workspace build put beside this test's.
fn sanjian_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = dir.join("sanjian");
    assert!(bin.exists(), "{} is missing: build the workspace (cargo build --workspace) first", bin.display());
    bin
}

#[test]
fn the_real_app_enrols_registers_offline_syncs_converges_and_issues_a_verifiable_card() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let work = tempfile::tempdir().unwrap();
    let shots = std::env::var_os("SANJIAN_SCREENSHOTS")
        .map(|d| root.join(d))
        .unwrap_or_else(|| root.join("target/screenshots/app"));
    let o = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x800x24", "node"])
        .arg(root.join("tests/e2e/app-tauri.mjs"))
        .arg(sanjian_bin())
        .arg(env!("CARGO_BIN_EXE_sanjian-app"))
        .arg(work.path())
        .arg(&shots)
        .env_remove("SANJIAN_KEY")
        .output()
        .expect("xvfb-run and node (scripts/setup.sh installs them)");
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "the real app end to end failed:\n{out}\n{err}");
    assert!(out.contains("ok: both apps converge"), "{out}");
    assert!(out.contains(r#""failures":0"#), "{out}");
}

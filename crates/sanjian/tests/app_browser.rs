//! The field app's screens in Debian's chromium against the real backend:
//! `tests/e2e/app-browser.mjs` starts a county server with a generated
//! county and two `sanjian app-web` devices enrolled with it, then drives
//! first run, every form's validation, drafts, the door flow, cards, the
//! duplicate prompt, search, a two-device conflict, the language switch,
//! the lock screen and both tablet orientations. Screenshots go to
//! `target/screenshots/browser/`.

use std::path::Path;
use std::process::Command;

#[test]
fn the_field_app_in_a_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let work = tempfile::tempdir().unwrap();
    let shots = root.join("target/screenshots/browser");
    let o = Command::new("node")
        .arg(root.join("tests/e2e/app-browser.mjs"))
        .arg(env!("CARGO_BIN_EXE_sanjian"))
        .arg(root.join("ui"))
        .arg(work.path())
        .arg(&shots)
        .env_remove("SANJIAN_KEY")
        .output()
        .expect("node (scripts/setup.sh installs it)");
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "the app in chromium failed:\n{out}\n{err}");
    assert!(out.contains("ok: the chosen value is kept"), "the run did not reach the conflict: {out}");
    assert!(out.contains(r#""failures":0"#), "{out}");
}

/// 由本人申请 end to end (`tests/e2e/apply.mjs`): a union's poster from the
/// field app, the public form on a phone-sized page with planted mistakes,
/// the reference and status page, the surveyor's app confirming and
/// issuing the card, and a second application of the same person merging,
/// with no page telling that the person was known. Screenshots go to
/// `target/screenshots/apply/`.
#[test]
fn applying_by_a_poster_in_a_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let work = tempfile::tempdir().unwrap();
    let o = Command::new("node")
        .arg(root.join("tests/e2e/apply.mjs"))
        .arg(env!("CARGO_BIN_EXE_sanjian"))
        .arg(root.join("ui"))
        .arg(work.path())
        .arg(root.join("target/screenshots/apply"))
        .env_remove("SANJIAN_KEY")
        .output()
        .expect("node (scripts/setup.sh installs it)");
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "applying in chromium failed:\n{out}\n{err}");
    assert!(out.contains(r#""failures":0"#), "{out}");
}

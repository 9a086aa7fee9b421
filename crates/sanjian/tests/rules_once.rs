//! No plan rule is coded outside `registry`: the restatements found once
//! (a `>= 25` in the app, a guessed rate on the console, an exact-name
//! duplicate query on the tablet, a dissolution or "private enterprise" test
//! written again) stay gone. The SQL shortcuts kept for speed
//! (`store/src/worklist.rs`, the progress queries) are held to the registry
//! by agreement tests (`crates/store/tests/progress.rs`), not here.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every source file of the given directories (Rust outside its tests,
/// JavaScript, HTML).
fn sources(dirs: &[&str]) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = dirs.iter().map(|d| root().join(d)).collect();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("node_modules") && !path.ends_with("vendor") {
                    stack.push(path);
                }
                continue;
            }
            let Some(ext) = path.extension().and_then(|e| e.to_str()) else { continue };
            if !matches!(ext, "rs" | "js" | "html") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let text = match ext {
                "rs" => text[..text.find("#[cfg(test)]").unwrap_or(text.len())].to_owned(),
                _ => text,
            };
            out.push((path, text));
        }
    }
    out
}

#[test]
fn no_plan_rule_is_restated_outside_the_registry() {
    let outside = sources(&[
        "crates/store/src",
        "crates/sync/src",
        "crates/county/src",
        "crates/field/src",
        "crates/server/src",
        "crates/sanjian/src",
        "ui",
    ]);
    assert!(outside.len() > 50, "{} files", outside.len());
    // (what must not appear, why)
    let banned: &[(&str, &str)] = &[
        (">= 25", "the 25-worker rule is rules::union_requirement (OWN_UNION_MIN_WORKERS)"),
        (">=25", "the 25-worker rule is rules::union_requirement"),
        ("< 25", "the 25-worker rule is rules::union_requirement"),
        ("target <= 1", "whether a goal is a rate is Goal::rate"),
        ("Ownership::Private &&", "a private enterprise is rules::private_enterprise"),
        ("== Ownership::Private", "a private enterprise is rules::private_enterprise"),
        ("is_some_and(|d| d <= today)", "a dissolution is rules::dissolved"),
        ("is_some_and(|d| d <= on)", "a dissolution is rules::dissolved"),
        ("name = ?1 AND birth_date", "a near duplicate is registry::names::near_duplicate_key"),
        ("kind = 'entity' AND name = ?1", "a near duplicate is registry::names::near_duplicate_key"),
        ("CampaignConfig::default_for", "a device and the console use the county's campaign"),
    ];
    let mut found = Vec::new();
    for (path, text) in &outside {
        for (needle, why) in banned {
            if text.contains(needle) {
                found.push(format!("{}: `{needle}`: {why}", path.strip_prefix(root()).unwrap_or(path).display()));
            }
        }
    }
    // The plans' default campaign stands until the county sets its own: the
    // county's settings and the device's store fall back to it, and nothing
    // else uses it.
    found.retain(|f| {
        !((f.contains("county/src/campaign.rs") || f.contains("store/src/progress.rs")) && f.contains("default_for"))
    });
    assert!(found.is_empty(), "plan rules restated outside registry:\n{}", found.join("\n"));
}

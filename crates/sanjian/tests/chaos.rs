//! Load and chaos, small: a dozen devices against the real `sanjian serve`
//! through a proxy that cuts connections, the server SIGKILLed and
//! restarted mid-sync, one device's disk full until the last round. No
//! change may be lost, every device converges, the full disk gives a clear
//! error and recovers, and the server's log holds no phone or ID number.
//! The same run with 500 devices is `cargo bench -p sanjian --bench chaos`.

mod common;

#[path = "chaos/run.rs"]
mod run;

fn config(postgres: Option<String>) -> run::Config {
    run::Config {
        devices: 12,
        per_grid: 3,
        members: 3000,
        rounds: 3,
        edits: 5,
        kills: 2,
        cut: 0.3,
        workers: 6,
        seed: 20261130,
        postgres,
    }
}

#[test]
fn devices_lose_nothing_through_cut_connections_a_killed_server_and_a_full_disk() {
    check(&config(None));
}

/// The same with the server on the throwaway PostgreSQL `scripts/test.sh`
/// starts (the kills leave transactions open in PostgreSQL).
#[test]
fn the_same_with_the_server_on_postgresql() {
    let base = std::env::var("SANJIAN_TEST_PG_URL").expect("SANJIAN_TEST_PG_URL: run the tests with scripts/test.sh");
    check(&config(Some(base)));
}

fn check(cfg: &run::Config) {
    let out = run::run(cfg);
    out.print(cfg);
    assert_eq!(out.lost, 0, "no change lost");
    assert_eq!(out.diverged, 0, "every device converged");
    assert_eq!(out.gave_up, 0);
    assert!(out.edits >= (cfg.devices - 1) as u64 * cfg.rounds as u64 * cfg.edits as u64, "{out:?}");
    assert!(out.cuts > 0 && out.kills == cfg.kills, "the faults happened: {out:?}");
    assert!(out.failures.get("NETWORK_UNAVAILABLE").copied().unwrap_or(0) > 0, "{out:?}");
    // The full disk: edits refused with a clear error, then recovery.
    assert!(out.refused_disk_full > 0, "{out:?}");
    let (code, zh, en) = out.disk_full_message.clone().expect("the full disk was reported");
    assert_eq!(code, "DISK_FULL");
    assert!(zh.contains("存储空间已满") && en.contains("disk is full"), "{zh} / {en}");
    assert!(out.disk_full_recovered);
    assert!(out.changes_checked > out.edits);
    assert_eq!(out.log_digit_runs, 0, "no phone or ID number in the server's log");
    assert!(out.secrets_looked_for > 100, "{out:?}");
    assert_eq!(out.secrets_on_server_disk, 0, "no phone or ID number in plaintext on the server's disk");
}

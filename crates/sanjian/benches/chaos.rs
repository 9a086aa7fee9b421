//! Load and chaos (issue #7): 500 devices against one real `sanjian serve`
//! on loopback, through a proxy that cuts connections at random, the server
//! SIGKILLed and restarted mid-sync, one device's disk full until its last
//! round. Prints the devices, edits, faults and the count of lost changes
//! (must be 0). Needs root (the full disk is a small tmpfs).
//!
//!     cargo bench -p sanjian --bench chaos
//!
//! Environment: SANJIAN_CHAOS_DEVICES (500), SANJIAN_CHAOS_PER_GRID (5),
//! SANJIAN_CHAOS_MEMBERS (40,000), SANJIAN_CHAOS_ROUNDS (3),
//! SANJIAN_CHAOS_EDITS (6 per device and round), SANJIAN_CHAOS_KILLS (4),
//! SANJIAN_CHAOS_CUT (0.1), SANJIAN_CHAOS_WORKERS (32), SANJIAN_CHAOS_PG (a
//! PostgreSQL URL: the server's database is created beside it).

#[path = "../tests/common.rs"]
mod common;

#[path = "../tests/chaos/run.rs"]
mod run;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` lists or runs benches: nothing to do.
    }
    let cfg = run::Config {
        devices: env("SANJIAN_CHAOS_DEVICES", 500),
        per_grid: env("SANJIAN_CHAOS_PER_GRID", 5),
        members: env("SANJIAN_CHAOS_MEMBERS", 40_000),
        rounds: env("SANJIAN_CHAOS_ROUNDS", 3),
        edits: env("SANJIAN_CHAOS_EDITS", 6),
        kills: env("SANJIAN_CHAOS_KILLS", 4),
        cut: env("SANJIAN_CHAOS_CUT", 0.1),
        workers: env("SANJIAN_CHAOS_WORKERS", 32),
        seed: env("SANJIAN_CHAOS_SEED", 2026),
        postgres: std::env::var("SANJIAN_CHAOS_PG").ok(),
    };
    let out = run::run(&cfg);
    out.print(&cfg);
    assert_eq!(out.lost, 0, "changes were lost");
    assert_eq!(out.diverged, 0, "devices did not converge");
    assert_eq!(out.secrets_on_server_disk, 0, "phones or ID numbers in plaintext on the server's disk");
}

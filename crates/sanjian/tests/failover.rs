//! The county's PostgreSQL primary dies while tablets sync: a hot standby
//! takes over (Debian's pg_auto_failover, `scripts/pgaf.sh`), the server
//! reconnects to it through its multi-host URL
//! (`target_session_attrs=read-write`), and the tablets' retries go
//! through. Zero lost changes, zero diverged records; the time from the
//! kill until syncs succeed again is printed.
//!
//! The short run (the test command) has 10 tablets; the long one (in
//! BENCHMARKS.md) 100:
//!
//!     SANJIAN_FAILOVER_DEVICES=100 cargo nextest run -p sanjian -E 'binary(failover)' --no-capture

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::{device_store, enrol_text, free_port, ok, register, s, sanjian, serve_on};

#[test]
fn the_primary_killed_while_tablets_sync_loses_nothing_and_syncs_resume() {
    let base =
        std::env::var("SANJIAN_TEST_PGAF_URL").expect("SANJIAN_TEST_PGAF_URL: run the tests with scripts/test.sh");
    // A database of its own on the pair (its URL keeps the hosts and the
    // `target_session_attrs` that finds the writable one).
    let (hosts, query) = base.split_once('?').unwrap();
    let (root, _) = hosts.rsplit_once('/').unwrap();
    let name = format!("failover_{}", std::process::id());
    let o = Command::new("psql")
        .args([&base, "-v", "ON_ERROR_STOP=1", "-c", &format!("CREATE DATABASE {name}")])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let url = format!("{root}/{name}?{query}");
    let cluster = std::env::var("SANJIAN_TEST_PGAF_DIR").expect("SANJIAN_TEST_PGAF_DIR");
    let devices: usize = std::env::var("SANJIAN_FAILOVER_DEVICES").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let rounds = 4;
    let dir = tempfile::tempdir().unwrap();
    let county = dir.path().join("county.db");
    let data = dir.path().join("server");
    ok(sanjian(&["generate", "--members", "300", "--seed", "11", "--db", s(&county), "--today", "2026-11-25"]));
    let stats: serde_json::Value =
        serde_json::from_str(&ok(sanjian(&["stats", "--db", s(&county), "--json", "--today", "2026-11-25"]))).unwrap();
    let busiest = stats["townships"].as_array().unwrap().iter().max_by_key(|t| t["active_members"].as_u64()).unwrap();
    let township = busiest["name"].as_str().unwrap().to_owned();
    ok(sanjian(&["import", "--data", s(&data), "--from", s(&county), "--database-url", &url]));
    let port = free_port();
    let mut server = serve_on(&data, port, &["--database-url", &url]);

    let tablets: Vec<PathBuf> = (0..devices).map(|i| dir.path().join(format!("tablet{i}.db"))).collect();
    for (i, t) in tablets.iter().enumerate() {
        let text = enrol_text(&data, &["--database-url", &url], &format!("员{i}"), &township);
        ok(sanjian(&["device", "enrol", "--db", s(t), "--text", text.trim()]));
        ok(sanjian(&["device", "sync", "--db", s(t)]));
    }

    // Every tablet registers and syncs, round after round, retrying a
    // failed sync; the primary dies during the second round.
    let started = Instant::now();
    let killed_at = std::sync::Mutex::new(None::<Instant>);
    let registered = std::sync::Mutex::new(BTreeMap::new());
    let first_ok_after_kill = std::sync::Mutex::new(None::<Duration>);
    let failed_syncs = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for (i, t) in tablets.iter().enumerate() {
            let (registered, killed_at, first_ok, failed) =
                (&registered, &killed_at, &first_ok_after_kill, &failed_syncs);
            scope.spawn(move || {
                // At least `rounds` rounds, and on until one sync of this
                // tablet went through after the kill.
                let mut round = 0;
                let mut after_kill = false;
                while round < rounds || !after_kill {
                    assert!(round < 200, "tablet {i}: no sync after the kill");
                    let id = register(t, &format!("切换{round}-{i}"), 500 + (round * 100 + i) as u32);
                    registered.lock().unwrap().insert(id.to_string(), i);
                    let deadline = Instant::now() + Duration::from_secs(120);
                    loop {
                        let begun = Instant::now();
                        let o = sanjian(&["device", "sync", "--db", s(t)]);
                        if o.status.success() {
                            // Resumption: the first sync begun after the kill
                            // that went through.
                            if let Some(k) = killed_at.lock().unwrap().filter(|k| begun > *k) {
                                after_kill = true;
                                let mut f = first_ok.lock().unwrap();
                                if f.is_none() {
                                    *f = Some(k.elapsed());
                                }
                                drop(f);
                            }
                            break;
                        }
                        failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        assert!(Instant::now() < deadline, "tablet {i} could not sync for two minutes");
                        std::thread::sleep(Duration::from_millis(200));
                    }
                    round += 1;
                }
            });
        }
        // The primary dies a moment into the run.
        std::thread::sleep(Duration::from_millis(1500));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pgaf.sh");
        let o = Command::new("bash")
            .args(["-c", &format!(". {} && _pgaf_dir={cluster} && pgaf_kill_primary", script.display())])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        *killed_at.lock().unwrap() = Some(Instant::now());
        eprintln!(
            "killed the primary ({}) at {:.1} s",
            String::from_utf8_lossy(&o.stdout).trim(),
            started.elapsed().as_secs_f64()
        );
    });
    let resumed = first_ok_after_kill.lock().unwrap().expect("a sync succeeded after the kill");
    let failed = failed_syncs.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "{devices} tablets, {} registrations: syncs succeeded again {} ms after the kill; {failed} failed syncs were retried",
        registered.lock().unwrap().len(),
        resumed.as_millis()
    );

    // Nothing lost: a new tablet receives every registration; nothing
    // diverged: each tablet holds what the server holds of its records.
    let text = enrol_text(&data, &["--database-url", &url], "核对", &township);
    let check = dir.path().join("check.db");
    ok(sanjian(&["device", "enrol", "--db", s(&check), "--text", text.trim()]));
    ok(sanjian(&["device", "sync", "--db", s(&check)]));
    for t in &tablets {
        ok(sanjian(&["device", "sync", "--db", s(t)]));
    }
    let fresh = device_store(&check);
    let registered = registered.into_inner().unwrap();
    assert!(registered.len() >= devices * rounds);
    let stores: Vec<store::Store> = tablets.iter().map(|t| device_store(t)).collect();
    for (id, &i) in &registered {
        let id = registry::model::RecordId::from(id.as_str());
        assert!(fresh.get(&id).unwrap().is_some(), "{id} (tablet {i}) was lost");
        let mut theirs = fresh.heads(&id).unwrap();
        let mut mine = stores[i].heads(&id).unwrap();
        theirs.sort();
        mine.sort();
        assert_eq!(mine, theirs, "{id}: tablet {i} and the server diverge");
        assert_eq!(stores[i].outbox_len().unwrap(), 0, "tablet {i} still has changes to send");
    }
    assert!(Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap().success());
    server.wait().unwrap();
}

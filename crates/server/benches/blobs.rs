//! Photos synced to an empty device (issue #8): 2,000 census visits with
//! one 300 KB photo each, on a county server over loopback HTTP, pulled by
//! a freshly enrolled device into its encrypted file store: the time, the
//! bytes on the wire, each side's peak RSS, and the device's RSS early and
//! late in the run (memory must not grow with the number of blobs).
//!
//! The server runs in a child process (this binary with `--serve`).
//!
//!     cargo bench -p server --bench blobs
//!
//! Environment: SANJIAN_BENCH_VISITS (default 2,000), SANJIAN_BENCH_PHOTO_KB
//! (default 300).

use registry::model::*;
use registry::{Date, date};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use store::{Init, Store, StoreKey};
use sync::blobs::BlobStore;
use sync::client::{self, Options};
use sync::http::{Endpoint, HttpTransport};

const TODAY: Date = date!(2026 - 11 - 25);
const PASSWORD: &str = "bench password";

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--serve") {
        serve(Path::new(&args[i + 1]));
        return;
    }
    if args.iter().any(|a| a == "--list" || a == "--test") {
        return;
    }
    drive();
}

fn status_kib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0)
}

fn mib(kib: f64) -> f64 {
    kib / 1024.0
}

fn secret() -> registry::keys::CountySecret {
    registry::keys::CountySecret::from_bytes([42; 32])
}

/// A photo-sized run of bytes, different for every `n`, that does not compress.
fn photo(n: u64, len: usize) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE0];
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while out.len() < len - 2 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len - 2);
    out.extend([0xFF, 0xD9]);
    out
}

/// The child: a small county, then the visits with their photos, then serves.
fn serve(dir: &Path) {
    let visits = env_u64("SANJIAN_BENCH_VISITS", 2000);
    let photo_len = env_u64("SANJIAN_BENCH_PHOTO_KB", 300) as usize * 1024;
    let db = server::Db::sqlite(&dir.join("server.db")).unwrap();
    let keys = server::ServerKeys { county_secret: *secret().as_bytes(), data_key: [5; 32], card_root: [3; 32] };
    let blobs =
        Arc::new(sync::blobs::DiskBlobs::new(dir.join("blobs"), sync::server::Sealer::new(&keys.data_key)).unwrap());
    let mut state = server::AppState::new(db, keys, "http://127.0.0.1".into());
    state.blobs = Some(blobs.clone());
    let state = Arc::new(state);
    let ctx = state.ctx();
    let config = synth::SynthConfig { seed: 2026, members: 3000, today: TODAY, year: 2026 };
    let mut records: Vec<(RecordId, Record)> = Vec::new();
    synth::generate(&config, &secret(), |id, r| {
        if r.kind() != RecordKind::Visit {
            records.push((id, r));
        }
    });
    // The township with the most entities gets the visits.
    let mut count: std::collections::BTreeMap<RecordId, usize> = Default::default();
    for (_, r) in &records {
        if let Record::Entity(e) = r {
            *count.entry(e.place.township.clone()).or_default() += 1;
        }
    }
    let township = count.into_iter().max_by_key(|c| c.1).unwrap().0;
    let entities: Vec<(RecordId, LegalEntity)> = records
        .iter()
        .filter_map(|(id, r)| match r {
            Record::Entity(e) if e.place.township == township => Some((id.clone(), e.clone())),
            _ => None,
        })
        .collect();
    let started = Instant::now();
    for chunk in records.chunks(1000) {
        state
            .db
            .tx(|db| {
                for (id, r) in chunk {
                    let mut doc = store::new_document(id, r.clone(), [0xcc; 16], "import", TODAY).unwrap();
                    sync::server::import(db, &ctx, id, &mut doc)?;
                }
                Ok(())
            })
            .unwrap();
    }
    let mut photo_bytes = 0u64;
    for n in 0..visits {
        let bytes = photo(n, photo_len);
        let hash = store::blob_hash(&bytes);
        blobs.append(&hash, 0, &bytes).unwrap();
        assert!(blobs.finish(&hash).unwrap());
        photo_bytes += bytes.len() as u64;
        let (eid, e) = &entities[n as usize % entities.len()];
        let visit = CensusVisit {
            entity_id: Some(eid.clone()),
            entity_name: e.name.clone(),
            surveyor: "走访员".into(),
            visited_on: TODAY,
            time: format!("{:02}:{:02}", 8 + n % 10, n % 60),
            outcome: VisitOutcome::Updated,
            notes: String::new(),
            follow_up_on: None,
            position: None,
            photos: [(
                hash,
                PhotoRef {
                    item: String::new(),
                    bytes: bytes.len() as i64,
                    width: 1600,
                    height: 1200,
                    taken_at: "2026-11-25 10:00".into(),
                    caption: String::new(),
                },
            )]
            .into_iter()
            .collect(),
            place: e.place.clone(),
        };
        let id = store::random_id();
        state
            .db
            .tx(|db| {
                let mut doc = store::new_document(&id, Record::Visit(visit), [0xcc; 16], "import", TODAY).unwrap();
                sync::server::import(db, &ctx, &id, &mut doc)
            })
            .unwrap();
    }
    state
        .db
        .tx(|db| server::auth::create_user(db, "admin", server::auth::Role::CountyAdmin, PASSWORD).map(|_| ()))
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let info = serde_json::json!({
        "port": listener.local_addr().unwrap().port(),
        "township": township,
        "visits": visits,
        "photo_bytes": photo_bytes,
        "docs": records.len() as u64 + visits,
        "seeded_s": started.elapsed().as_secs_f64(),
    });
    println!("{info}");
    std::io::stdout().flush().unwrap();
    let stop = async {
        let _ = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        })
        .await;
    };
    rt.block_on(server::serve_on(listener, state, stop)).unwrap();
}

fn drive() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("blob-bench");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    eprintln!("seeding the server with visits and photos…");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--serve", dir.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let info: serde_json::Value = serde_json::from_str(&line).expect("the server's first line");
    let base = format!("http://127.0.0.1:{}", info["port"]);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let http = Endpoint::new(&base).client(Duration::from_secs(120)).unwrap();
    let post = |path: &str, token: Option<&str>, body: serde_json::Value| -> serde_json::Value {
        let mut req = http.post(format!("{base}{path}")).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        rt.block_on(async { req.send().await.unwrap().json().await.unwrap() })
    };
    let admin = post("/api/login", None, serde_json::json!({"username": "admin", "password": PASSWORD}));
    let admin = admin["token"].as_str().unwrap().to_owned();
    let grant = serde_json::json!({"person": "甲", "role": "township_staff", "townships": [info["township"]]});
    let code = post("/api/enrolments", Some(&admin), grant);
    let text = sync::enrol::EnrolmentText::parse(code["text"].as_str().unwrap()).unwrap();
    let text = sync::enrol::EnrolmentText { base: base.clone(), ..text };
    let creds = rt.block_on(sync::http::redeem(&http, &text, [1; 16], [1; 32])).unwrap();
    let visits = info["visits"].as_u64().unwrap();
    let photo_bytes = info["photo_bytes"].as_u64().unwrap();
    println!(
        "server: {} documents, {visits} visits with {:.0} MiB of photos, seeded in {:.1} s",
        info["docs"],
        photo_bytes as f64 / 1048576.0,
        info["seeded_s"].as_f64().unwrap()
    );

    let mut store = Store::create(
        &dir.join("device.db"),
        &StoreKey::from_bytes([9; 32]),
        &Init { county_secret: secret(), device_id: Some([1; 16]) },
    )
    .unwrap();
    store.set_operator("甲");
    let me = std::process::id();
    let server_pid = child.id();
    let _ = std::fs::write(format!("/proc/{me}/clear_refs"), "5");
    let _ = std::fs::write(format!("/proc/{server_pid}/clear_refs"), "5");
    // The device's RSS, sampled through the run.
    let running = Arc::new(AtomicBool::new(true));
    let sampler = {
        let running = running.clone();
        std::thread::spawn(move || {
            let mut samples = Vec::new();
            let t = Instant::now();
            while running.load(Ordering::Relaxed) {
                samples.push((t.elapsed().as_secs_f64(), status_kib(me, "VmRSS:")));
                std::thread::sleep(Duration::from_millis(100));
            }
            samples
        })
    };
    let mut transport = HttpTransport::new(http.clone(), &Endpoint::new(&base), &creds.token, rt.handle().clone());
    let started = Instant::now();
    let report = client::sync(&mut store, &mut transport, &Options::default(), &mut |_| {}).unwrap();
    let took = started.elapsed();
    running.store(false, Ordering::Relaxed);
    let samples = sampler.join().unwrap();
    let (client_peak, server_peak) = (mib(status_kib(me, "VmHWM:")), mib(status_kib(server_pid, "VmHWM:")));

    // Every photo arrived whole.
    let wanted = store.blobs_wanted(&store::BlobPolicy::default(), TODAY, 10).unwrap();
    assert!(wanted.is_empty(), "{} photos missing", wanted.len());
    assert_eq!(report.blobs.fetched as u64, visits, "{report:?}");
    let window = |from: f64, to: f64| {
        let end = samples.last().map_or(0.0, |s| s.0);
        samples.iter().filter(|s| s.0 >= from * end && s.0 <= to * end).map(|s| s.1).fold(0.0, f64::max)
    };
    let (early, late) = (mib(window(0.15, 0.35)), mib(window(0.75, 1.0)));
    let blob_bytes = report.blobs.bytes_received;
    println!("cold sync of {visits} visits with one photo each to an empty device (SQLite server, loopback):");
    println!(
        "    time                 {:.1} s ({:.1} MiB/s of photos)",
        took.as_secs_f64(),
        photo_bytes as f64 / 1048576.0 / took.as_secs_f64()
    );
    println!(
        "    bytes received       {:.1} MiB in all, {:.1} MiB of photo batches ({:.2}× the photos), {} requests",
        report.bytes_received as f64 / 1048576.0,
        blob_bytes as f64 / 1048576.0,
        blob_bytes as f64 / photo_bytes as f64,
        report.requests
    );
    println!("    peak RSS             device {client_peak:.1} MiB, server {server_peak:.1} MiB");
    println!("    device RSS           {early:.1} MiB early in the run (15–35 %), {late:.1} MiB late (75–100 %)");
    let size = |p: PathBuf| std::fs::metadata(p).map_or(0, |m| m.len()) as f64 / 1048576.0;
    let wal = size(dir.join("device.db-wal"));
    store.checkpoint().unwrap();
    println!(
        "    device store         {:.0} MiB on disk (encrypted; its WAL reached {wal:.0} MiB before the checkpoint)",
        size(dir.join("device.db")) + size(dir.join("device.db-wal"))
    );
    drop(child.stdin.take());
    let _ = child.wait();
}

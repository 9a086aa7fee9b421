//! Sync over loopback HTTP with the synthetic county (issue #3):
//!
//! (a) cold sync of a ~20,000-record scope to an empty device, beside a
//!     plain local load of the same documents into an empty store and a
//!     bare Automerge load of them (no store at all);
//! (b) a sync when nothing changed;
//! (c) 100 records edited on the server (by the county's device) reach an
//!     up-to-date device;
//! (d) 100 devices, concurrently, each pushing 100 edits: all converge,
//!     nothing lost.
//!
//! The server runs in a child process (this binary with `--serve`), so the
//! server's and the client's peak RSS are each their own; peaks are reset
//! between phases through `/proc/<pid>/clear_refs`.
//!
//!     cargo bench -p server --bench sync
//!
//! Environment: SANJIAN_BENCH_MEMBERS (county size, default 40,000 members),
//! SANJIAN_BENCH_SCOPE (records wanted in (a)'s scope, default 20,000),
//! SANJIAN_BENCH_PG (a PostgreSQL URL: the server uses it instead of SQLite;
//! a county already there is used as it is),
//! SANJIAN_BENCH_DEVICES (the device counts of (d), default `100`; the
//! curve: `10,100,500`), SANJIAN_BENCH_ONLY=d (skip (a)–(c)),
//! SANJIAN_BENCH_UNTIL=a (stop after (a)), SANJIAN_BENCH_EXPORT (a file:
//! (a)'s records written there as JSON lines, for the PouchDB comparison,
//! scripts/bench-pouchdb.sh).

use registry::model::*;
use registry::{Date, date};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::{Init, Store, StoreKey};
use sync::client::{self, Options, Transport};
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
        return; // `cargo test --benches` lists or runs benches: nothing to do.
    }
    drive();
}

// ---------------------------------------------------------------- helpers

fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU time (user + system) a process has used so far.
fn cpu_s(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Resets a process's peak RSS to its current RSS.
fn reset_peak(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i.min(samples.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn kib(n: u64) -> String {
    if n < 10 * 1024 { format!("{n} B") } else { format!("{:.1} KiB", n as f64 / 1024.0) }
}

fn secret() -> registry::keys::CountySecret {
    registry::keys::CountySecret::from_bytes([42; 32])
}

// ---------------------------------------------------------------- server

/// The child: generates the county into its database, then serves.
fn serve(dir: &Path) {
    let members = env_u64("SANJIAN_BENCH_MEMBERS", 40_000);
    let db = match std::env::var("SANJIAN_BENCH_PG") {
        Ok(url) => server::Db::postgres(&url, 8).unwrap(),
        Err(_) => server::Db::sqlite(&dir.join("server.db")).unwrap(),
    };
    let keys = server::ServerKeys { county_secret: *secret().as_bytes(), data_key: [5; 32], card_root: [3; 32] };
    let state = Arc::new(server::AppState::new(db, keys, "http://127.0.0.1".into()));
    let ctx = state.ctx();
    let started = Instant::now();
    let config = synth::SynthConfig { seed: 2026, members, today: TODAY, year: 2026 };
    let mut batch: Vec<(RecordId, Record)> = Vec::new();
    let mut per_township: std::collections::BTreeMap<RecordId, u64> = Default::default();
    let mut grids: std::collections::BTreeMap<RecordId, u64> = Default::default();
    let mut total = 0u64;
    let flush = |batch: &mut Vec<(RecordId, Record)>| {
        state
            .db
            .tx(|db| {
                for (id, r) in batch.iter() {
                    let mut doc = store::new_document(id, r.clone(), [0xcc; 16], "import", TODAY).unwrap();
                    sync::server::import(db, &ctx, id, &mut doc)?;
                }
                Ok(())
            })
            .unwrap();
        batch.clear();
    };
    // A PostgreSQL county generated before (this bench's, or the console
    // bench's: the same keys) is used as it is: a 1,000,000-member county
    // takes half an hour to load.
    let reuse = std::env::var("SANJIAN_BENCH_PG").is_ok()
        && state
            .db
            .tx(|db| Ok(!db.query("SELECT 1 FROM docs WHERE kind = 'member' LIMIT 1", &[])?.is_empty()))
            .unwrap();
    if reuse {
        eprintln!("using the county already in the database");
        let rows = |sql: &str| state.db.read(|db| db.query(sql, &[])).unwrap();
        for r in rows("SELECT township, count(*) FROM docs WHERE township IS NOT NULL GROUP BY township") {
            per_township.insert(RecordId::from(r[0].text().unwrap()), r[1].int() as u64);
        }
        for r in rows("SELECT grid, count(*) FROM docs WHERE kind = 'member' AND grid IS NOT NULL GROUP BY grid") {
            grids.insert(RecordId::from(r[0].text().unwrap()), r[1].int() as u64);
        }
        total = rows("SELECT count(*) FROM docs")[0][0].int() as u64;
        // The devices an earlier run enrolled (the same actors enrol again).
        state.db.tx(|db| db.execute("DELETE FROM devices", &[])).unwrap();
    }
    if !reuse {
        synth::generate(&config, &secret(), |id, r| {
            let region = r.region(&id);
            if let Some(t) = &region.township {
                *per_township.entry(t.clone()).or_default() += 1;
            }
            if r.kind() == RecordKind::Member
                && let Some(g) = &region.grid
            {
                *grids.entry(g.clone()).or_default() += 1;
            }
            total += 1;
            batch.push((id, r));
            if batch.len() == 1000 {
                flush(&mut batch);
            }
        });
        flush(&mut batch);
    }
    state
        .db
        .tx(|db| {
            if db.query("SELECT 1 FROM users WHERE username = 'admin'", &[])?.is_empty() {
                server::auth::create_user(db, "admin", server::auth::Role::CountyAdmin, PASSWORD)?;
            }
            Ok(())
        })
        .unwrap();
    let generated = started.elapsed();

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    let info = serde_json::json!({
        "port": port,
        "docs": total,
        "generated_s": generated.as_secs_f64(),
        "townships": per_township.iter().map(|(t, n)| serde_json::json!([t, n])).collect::<Vec<_>>(),
        "grids": grids.iter().map(|(g, n)| serde_json::json!([g, n])).collect::<Vec<_>>(),
    });
    println!("{info}");
    std::io::stdout().flush().unwrap();
    // Serve until the driver closes our stdin.
    let stop = async {
        let _ = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        })
        .await;
    };
    // The last handle on the state (and its PostgreSQL clients, which may
    // not be dropped inside the runtime) is dropped after it.
    let keep = Arc::clone(&state);
    rt.block_on(server::serve_on(listener, state, stop)).unwrap();
    drop(rt);
    drop(keep);
}

// ---------------------------------------------------------------- driver

impl Server {
    /// Ends the server (its stdin closes) and removes the bench's files.
    fn stop(self, dir: &Path) {
        let mut child = self.child;
        drop(child.stdin.take());
        let _ = child.wait();
        let _ = std::fs::remove_dir_all(dir);
    }
}

struct Server {
    child: std::process::Child,
    base: String,
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
    admin: String,
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn post(&self, path: &str, token: Option<&str>, body: serde_json::Value) -> serde_json::Value {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.rt.block_on(async {
            let resp = req.send().await.unwrap();
            assert!(resp.status().is_success(), "{path}: {}", resp.status());
            resp.json().await.unwrap()
        })
    }

    /// Enrols a device with the given scope; returns its token.
    fn enrol(&self, grant: serde_json::Value, actor: [u8; 16]) -> String {
        let v = self.post("/api/enrolments", Some(&self.admin), grant);
        let text = sync::enrol::EnrolmentText::parse(v["text"].as_str().unwrap()).unwrap();
        let text = sync::enrol::EnrolmentText { base: self.base.clone(), ..text };
        let creds = self.rt.block_on(sync::http::redeem(&self.http, &text, salted(actor), [1; 32])).unwrap();
        creds.token
    }

    fn transport(&self, token: &str) -> HttpTransport {
        HttpTransport::new(self.http.clone(), &Endpoint::new(&self.base), token, self.rt.handle().clone())
    }
}

/// A transport that times every request.
struct Timed<'a> {
    inner: HttpTransport,
    times: &'a Mutex<Vec<Duration>>,
}

impl Transport for Timed<'_> {
    fn call(&mut self, path: &'static str, body: Vec<u8>) -> Result<Vec<u8>, sync::SyncError> {
        let t = Instant::now();
        let r = self.inner.call(path, body);
        self.times.lock().unwrap().push(t.elapsed());
        r
    }
}

fn device(dir: &Path, name: &str, actor: u8) -> Store {
    device_n(dir, name, [actor; 16])
}

/// This run's own byte: a county kept in PostgreSQL holds earlier runs'
/// changes.
fn salt() -> u8 {
    static SALT: std::sync::OnceLock<u8> = std::sync::OnceLock::new();
    *SALT.get_or_init(|| {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        (nanos >> 8) as u8
    })
}

/// A device's actor, made this run's own: a device reusing an earlier
/// run's actor would clash with its changes (`DEVICE_CLONED`).
fn salted(mut actor: [u8; 16]) -> [u8; 16] {
    actor[15] ^= salt();
    actor
}

/// Where this run's phone numbers start (the 8 digits after 139): an edit
/// to a number an earlier run wrote would change nothing.
fn run_phones() -> u32 {
    u32::from(salt() % 90) * 1_000_000 + 1_000_000
}

fn device_n(dir: &Path, name: &str, actor: [u8; 16]) -> Store {
    let mut s = Store::create(
        &dir.join(format!("{name}.db")),
        &StoreKey::from_bytes([9; 32]),
        &Init { county_secret: secret(), device_id: Some(salted(actor)) },
    )
    .unwrap();
    s.set_operator(name);
    s
}

/// Compact JSON size of the records a store holds.
fn json_bytes(store: &Store, ids: &[RecordId]) -> u64 {
    ids.iter()
        .filter_map(|id| store.get(id).unwrap())
        .map(|r| serde_json::to_vec(&r.record).unwrap().len() as u64)
        .sum()
}

fn all_ids(store: &Store) -> Vec<RecordId> {
    store.doc_ids().unwrap()
}

/// Sets a new phone number on a member: one small edit.
fn edit_phone(store: &mut Store, id: &RecordId, n: u32) -> bool {
    let Some(stored) = store.get(id).unwrap() else { return false };
    let mut rec = stored.record;
    let Record::Member(m) = &mut rec else { return false };
    m.phone = Some(format!("139{:08}", n));
    store.update(id, rec, TODAY).is_ok()
}

fn members_of(store: &Store, limit: usize) -> Vec<RecordId> {
    store.list(RecordKind::Member, None, limit).unwrap().into_iter().map(|r| r.id).collect()
}

fn drive() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sync-bench");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let scope_wanted = env_u64("SANJIAN_BENCH_SCOPE", 20_000);
    let backend = if std::env::var("SANJIAN_BENCH_PG").is_ok() { "PostgreSQL" } else { "SQLite" };

    // The server.
    eprintln!("generating the county in the server…");
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
    let login = {
        let req = http
            .post(format!("{base}/api/login"))
            .json(&serde_json::json!({"username": "admin", "password": PASSWORD}));
        let v: serde_json::Value = rt.block_on(async { req.send().await.unwrap().json().await.unwrap() });
        v["token"].as_str().unwrap().to_owned()
    };
    let srv = Server { child, base, http, rt, admin: login };
    let me = std::process::id();
    println!(
        "county: {} documents on the server ({backend}), generated in {:.1} s",
        info["docs"],
        info["generated_s"].as_f64().unwrap()
    );
    // (d) alone, e.g. for the concurrency curve.
    if std::env::var("SANJIAN_BENCH_ONLY").as_deref() == Ok("d") {
        all_concurrent(&srv, &dir, &info, me);
        return srv.stop(&dir);
    }

    // The scope: the largest townships until about `scope_wanted` records.
    let mut townships: Vec<(String, u64)> = info["townships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t[0].as_str().unwrap().to_owned(), t[1].as_u64().unwrap()))
        .collect();
    townships.sort_by_key(|t| std::cmp::Reverse(t.1));
    let mut scope = Vec::new();
    let mut in_scope = 0;
    for (t, n) in &townships {
        if in_scope >= scope_wanted {
            break;
        }
        if in_scope + n > scope_wanted + scope_wanted / 10 {
            continue;
        }
        scope.push(t.clone());
        in_scope += n;
    }
    // A big county's townships may each hold more than the scope wanted
    // (a 1,000,000-member county: about 115,000 records each): its
    // smallest township then.
    if scope.is_empty()
        && let Some((t, _)) = townships.iter().min_by_key(|t| t.1)
    {
        scope.push(t.clone());
    }

    // (a) Cold sync.
    let token = srv.enrol(serde_json::json!({"person": "甲", "role": "township_staff", "townships": scope}), [1; 16]);
    let mut a = device(&dir, "a", 1);
    reset_peak(me);
    reset_peak(srv.pid());
    let mut t = srv.transport(&token);
    let (server_cpu, device_cpu) = (cpu_s(srv.pid()), cpu_s(me));
    let started = Instant::now();
    let mut marks: Vec<(String, Duration)> = Vec::new();
    let report = client::sync(&mut a, &mut t, &Options::default(), &mut |p| {
        marks.push((format!("{:?} {}", p.stage, p.docs_done), started.elapsed()));
    })
    .unwrap();
    let cold = started.elapsed();
    // Where the time went: the pull ends when its last page is applied.
    let pulled_at = marks.iter().rev().find(|(m, _)| m.starts_with("Pull")).map_or(cold, |(_, d)| *d);
    let (server_cpu_a, device_cpu_a) = (cpu_s(srv.pid()) - server_cpu, cpu_s(me) - device_cpu);
    let (client_rss_a, server_rss_a) = (peak_rss_mib(me), peak_rss_mib(srv.pid()));
    let ids = all_ids(&a);
    let n = ids.len() as u64;
    let wire_a = report.bytes_sent + report.bytes_received;
    let json_a = json_bytes(&a, &ids);

    // The same documents loaded locally into an empty store, no network.
    let docs: Vec<(RecordId, Vec<u8>)> = ids.iter().map(|id| (id.clone(), a.export_doc(id).unwrap())).collect();
    let mut plain = device(&dir, "plain", 2);
    let keep = |_: RecordKind, _: &Region| true;
    let started = Instant::now();
    // As a first sync does: pages of the sync's size, the indexes built
    // once, at the end.
    assert!(plain.begin_bulk_load().unwrap());
    for chunk in docs.chunks(Options::default().pull_limit as usize) {
        plain.apply_pulled(store::Pulled { docs: chunk.to_vec(), keep: &keep, values: vec![], left: vec![] }).unwrap();
    }
    plain.end_bulk_load().unwrap();
    let plain_load = started.elapsed();
    // The same documents loaded by Automerge alone (no store: no
    // encryption, no SQL, no projections), the floor a store could reach;
    // then read into records as the store does.
    let started = Instant::now();
    let loaded: Vec<automerge::AutoCommit> =
        docs.iter().map(|(_, b)| automerge::AutoCommit::load(b).unwrap()).collect();
    let bare_load = started.elapsed();
    let started = Instant::now();
    for doc in &loaded {
        std::hint::black_box(store::hydrate(doc).unwrap());
    }
    let hydrate = started.elapsed();
    drop(loaded);
    drop(docs);
    assert_eq!(plain.doc_ids().unwrap().len() as u64, n);

    println!("\n(a) cold sync of a {n}-record scope ({} townships) to an empty device", scope.len());
    println!("    wall time            {:.2} s   (target ≤ 3 s)", cold.as_secs_f64());
    println!("    records/s            {:.0}", n as f64 / cold.as_secs_f64());
    println!(
        "    wire bytes           {} (↑ {} ↓ {}), {} requests",
        kib(wire_a),
        kib(report.bytes_sent),
        kib(report.bytes_received),
        report.requests
    );
    println!(
        "    compact JSON         {}  → wire/JSON = {:.2} (target ≤ 1)",
        kib(json_a),
        wire_a as f64 / json_a as f64
    );
    println!(
        "    plain local load     {:.2} s → sync speed = {:.0}% of it (target ≥ 50%; #20: ≥ 80%)",
        plain_load.as_secs_f64(),
        100.0 * plain_load.as_secs_f64() / cold.as_secs_f64()
    );
    println!(
        "    bare Automerge load  {:.2} s ({:.0} docs/s), + reading the records {:.2} s → plain local load = {:.0}% of the bare load's speed (#20 target ≥ 50%)",
        bare_load.as_secs_f64(),
        n as f64 / bare_load.as_secs_f64(),
        hydrate.as_secs_f64(),
        100.0 * bare_load.as_secs_f64() / plain_load.as_secs_f64()
    );
    println!(
        "    of which             pull {:.2} s, then indexes, repair check, stubs {:.2} s",
        pulled_at.as_secs_f64(),
        (cold - pulled_at).as_secs_f64()
    );
    println!("    CPU time             server {server_cpu_a:.2} s, device {device_cpu_a:.2} s (2 cores)");
    println!("    peak RSS             client {client_rss_a:.1} MiB, server {server_rss_a:.1} MiB");

    // The same records as JSON, for the PouchDB comparison
    // (scripts/bench-pouchdb.sh): one per line, its id as `_id`.
    if let Ok(out) = std::env::var("SANJIAN_BENCH_EXPORT") {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&out).unwrap());
        for id in &ids {
            let Some(stored) = a.get(id).unwrap() else { continue };
            let mut v = serde_json::to_value(&stored.record).unwrap();
            if let Some(o) = v.as_object_mut() {
                o.insert("_id".into(), id.as_str().into());
            }
            serde_json::to_writer(&mut w, &v).unwrap();
            w.write_all(b"\n").unwrap();
        }
        w.flush().unwrap();
    }

    // For a quicker look at (a) alone while working on it.
    if std::env::var("SANJIAN_BENCH_UNTIL").as_deref() == Ok("a") {
        return srv.stop(&dir);
    }

    // (b) Nothing changed.
    let mut samples = Vec::new();
    let mut wire_b = 0;
    reset_peak(srv.pid());
    for _ in 0..30 {
        let started = Instant::now();
        let r = client::sync(&mut a, &mut t, &Options::default(), &mut |_| {}).unwrap();
        samples.push(started.elapsed());
        assert_eq!(r.pulled_changed + r.pushed, 0);
        wire_b = r.bytes_sent + r.bytes_received;
    }
    println!("\n(b) sync when nothing changed ({n} records held), 30 runs");
    println!(
        "    wall time            p50 {} / max {}   (target ≤ 50 ms)",
        ms(percentile(&mut samples, 0.5)),
        ms(percentile(&mut samples, 1.0))
    );
    println!("    wire bytes           {wire_b} B per sync (target ≤ 2 KB)");

    // (c) 100 records edited at the county reach the device.
    let county_token = srv.enrol(serde_json::json!({"person": "县", "role": "county_admin", "all": true}), [3; 16]);
    let mut county = device(&dir, "county", 3);
    let mut ct = srv.transport(&county_token);
    // The county's device holds the scope's records too (not measured).
    client::sync(&mut county, &mut ct, &Options::default(), &mut |_| {}).unwrap();
    let edited: Vec<RecordId> = members_of(&a, 100);
    for (i, id) in edited.iter().enumerate() {
        assert!(edit_phone(&mut county, id, run_phones() + i as u32));
    }
    let pushed = client::sync(&mut county, &mut ct, &Options::default(), &mut |_| {}).unwrap();
    assert_eq!(pushed.pushed, 100);
    reset_peak(me);
    let started = Instant::now();
    let r = client::sync(&mut a, &mut t, &Options::default(), &mut |_| {}).unwrap();
    let reach = started.elapsed();
    assert_eq!(r.pulled_changed, 100);
    for (i, id) in edited.iter().enumerate() {
        let Record::Member(m) = a.get(id).unwrap().unwrap().record else { panic!() };
        assert_eq!(m.phone.as_deref(), Some(format!("139{:08}", run_phones() + i as u32).as_str()));
    }
    let wire_c = r.bytes_sent + r.bytes_received;
    let json_c = json_bytes(&a, &edited);
    println!("\n(c) 100 records edited at the county reach an up-to-date device");
    println!("    wall time            {}   (target ≤ 200 ms)", ms(reach));
    println!("    records/s            {:.0}", 100.0 / reach.as_secs_f64());
    println!(
        "    wire bytes           {} → wire/JSON = {:.2} ({} JSON)",
        kib(wire_c),
        wire_c as f64 / json_c as f64,
        kib(json_c)
    );
    drop(county);

    // (d) Devices in their grids, each pushing 100 edits at once.
    all_concurrent(&srv, &dir, &info, me);

    srv.stop(&dir);
}

/// (d) for each number of devices in SANJIAN_BENCH_DEVICES (default 100;
/// the curve: `10,100,500`).
fn all_concurrent(srv: &Server, dir: &Path, info: &serde_json::Value, me: u32) {
    let counts = std::env::var("SANJIAN_BENCH_DEVICES").unwrap_or_else(|_| "100".into());
    for (run, devices) in counts.split(',').filter_map(|n| n.trim().parse::<usize>().ok()).enumerate() {
        concurrent(srv, dir, info, (run, devices), me);
    }
}

/// (d) `devices` grid devices (sharing the county's grids round-robin when
/// there are more devices than grids), each with 100 edits, all syncing at
/// once.
fn concurrent(srv: &Server, dir: &Path, info: &serde_json::Value, (run, devices): (usize, usize), me: u32) {
    let mut grids: Vec<(String, u64)> = info["grids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g[0].as_str().unwrap().to_owned(), g[1].as_u64().unwrap()))
        .collect();
    grids.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    eprintln!("enrolling and first-syncing {devices} grid devices…");
    let mut devs: Vec<(Store, String, Vec<RecordId>)> = Vec::new();
    for i in 0..devices {
        let grid = &grids[i % grids.len()].0;
        let mut actor = [0x55; 16];
        actor[..4].copy_from_slice(&[0x40, (i >> 8) as u8, i as u8, run as u8]);
        let token =
            srv.enrol(serde_json::json!({"person": format!("网格员{i}"), "role": "surveyor", "grids": [grid]}), actor);
        let mut store = device_n(dir, &format!("grid-{run}-{i}"), actor);
        let mut tr = srv.transport(&token);
        client::sync(&mut store, &mut tr, &Options::default(), &mut |_| {}).unwrap();
        let members = members_of(&store, 100);
        assert!(!members.is_empty());
        devs.push((store, token, members));
    }
    // Each device makes 100 edits (round-robin over its grid's members).
    let mut expected: std::collections::HashMap<RecordId, Vec<automerge::ChangeHash>> = Default::default();
    let mut json_d = 0;
    for (d, (store, _, members)) in devs.iter_mut().enumerate() {
        for k in 0..100 {
            let id = &members[k % members.len()];
            assert!(edit_phone(store, id, run_phones() + 1_000_000 + (d * 1000 + k) as u32));
        }
        // What a JSON sync would send: each edited record once, whole.
        json_d += json_bytes(store, members);
    }
    for (store, _, members) in &devs {
        for id in members {
            expected.entry(id.clone()).or_default().extend(store.heads(id).unwrap());
        }
    }
    reset_peak(srv.pid());
    eprintln!("{devices} devices pushing at once…");
    let times = Mutex::new(Vec::new());
    let wire_d = std::sync::atomic::AtomicU64::new(0);
    let (server_cpu, driver_cpu) = (cpu_s(srv.pid()), cpu_s(me));
    let started = Instant::now();
    std::thread::scope(|s| {
        for (store, token, _) in devs.iter_mut() {
            let (times, wire_d, srv) = (&times, &wire_d, &srv);
            s.spawn(move || {
                let mut tr = Timed { inner: srv.transport(token), times };
                let r = client::sync(store, &mut tr, &Options::default(), &mut |_| {}).unwrap();
                wire_d.fetch_add(r.bytes_sent + r.bytes_received, std::sync::atomic::Ordering::Relaxed);
                assert_eq!(store.outbox_len().unwrap(), 0);
            });
        }
    });
    let all_pushed = started.elapsed();
    let (server_cpu, driver_cpu) = (cpu_s(srv.pid()) - server_cpu, cpu_s(me) - driver_cpu);
    let server_rss_d = peak_rss_mib(srv.pid());
    // Zero loss: a county-wide device pulls everything; every head every
    // device made is in it.
    let check_actor = [4, run as u8, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4];
    let mut check = device_n(dir, &format!("check-{run}"), check_actor);
    let check_token =
        srv.enrol(serde_json::json!({"person": "核对", "role": "county_admin", "all": true}), check_actor);
    let mut tr = srv.transport(&check_token);
    client::sync(&mut check, &mut tr, &Options::default(), &mut |_| {}).unwrap();
    let mut missing = 0;
    for (id, heads) in &expected {
        let doc = check.export_doc(id).unwrap();
        let mut doc = automerge::AutoCommit::load(&doc).unwrap();
        missing += heads.iter().filter(|h| doc.get_change_by_hash(h).is_none()).count();
    }
    let mut times = times.into_inner().unwrap();
    println!(
        "\n(d) {devices} devices at once in {} grids, each pushing 100 edits ({} records touched)",
        devices.min(grids.len()),
        expected.len()
    );
    println!(
        "    wall time            {:.2} s for all, {:.0} edits/s",
        all_pushed.as_secs_f64(),
        (devices * 100) as f64 / all_pushed.as_secs_f64()
    );
    println!(
        "    request latency      p50 {} / p99 {} / max {} over {} requests (target p99 ≤ 1 s)",
        ms(percentile(&mut times, 0.5)),
        ms(percentile(&mut times, 0.99)),
        ms(percentile(&mut times, 1.0)),
        times.len()
    );
    let wire_d = wire_d.into_inner();
    println!("    wire bytes           {} → wire/JSON = {:.2}", kib(wire_d), wire_d as f64 / json_d as f64);
    println!("    CPU time             server {server_cpu:.2} s, the {devices} devices {driver_cpu:.2} s (2 cores)");
    println!("    lost changes         {missing} (target 0)");
    println!(
        "    peak RSS             server {server_rss_d:.1} MiB (target ≤ 300 MB), driver {:.1} MiB",
        peak_rss_mib(me)
    );
    assert_eq!(missing, 0, "changes were lost");
}

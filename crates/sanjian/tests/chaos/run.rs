//! Load and chaos: many devices against one real `sanjian serve` on
//! loopback, through a proxy that cuts connections at random, while the
//! server is killed with SIGKILL and restarted mid-sync and one device's
//! disk fills up. Then a county-wide device pulls everything and every
//! change any device committed is looked for in it: the count of lost
//! changes must be 0.
//!
//! Shared by the test (`tests/chaos.rs`, a small county) and the benchmark
//! (`benches/chaos.rs`, 500 devices). Needs root: the disk-full device
//! keeps its store on a small tmpfs mounted for the run.

#![allow(dead_code)]

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use registry::model::{Record, RecordId, RecordKind};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::{Store, StoreKey};

use crate::common::{device_store, digit_runs, free_port, fresh_pg_database, ok, s, sanjian};

/// The county is generated for today; edits are made today.
fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

#[derive(Clone, Debug)]
pub struct Config {
    pub devices: usize,
    /// Devices sharing one grid (they edit the same records).
    pub per_grid: usize,
    pub members: u64,
    pub rounds: usize,
    /// Edits per device per round (one in five registers a new member).
    pub edits: usize,
    /// Times the server is killed (SIGKILL) and restarted.
    pub kills: usize,
    /// Chance that the proxy cuts a connection somewhere in its bytes.
    pub cut: f64,
    /// Devices syncing at once.
    pub workers: usize,
    pub seed: u64,
    /// A PostgreSQL URL to a server database (an empty one per run is
    /// created in it); SQLite when `None`.
    pub postgres: Option<String>,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub devices: usize,
    pub grids: usize,
    pub records_on_server: usize,
    pub edits: u64,
    pub creates: u64,
    /// Edits the full disk refused (never committed: the surveyor is told).
    pub refused_disk_full: u64,
    pub syncs: u64,
    /// Failed sync attempts by error code (each retried until it succeeds).
    pub failures: BTreeMap<String, u64>,
    pub connections: u64,
    pub cuts: u64,
    pub kills: usize,
    /// What the full device's surveyor was told, once.
    pub disk_full_message: Option<(String, String, String)>,
    pub disk_full_recovered: bool,
    pub changes_checked: u64,
    /// Changes the server would not apply and holds for review, by code
    /// (kept, not lost).
    pub quarantined: BTreeMap<String, u64>,
    pub lost: u64,
    /// Records on a device whose heads differ from the county's after the
    /// final quiet sync.
    pub diverged: u64,
    pub gave_up: u64,
    pub server_log_bytes: u64,
    /// 11-or-more digit runs in the server's log (phones, ID numbers).
    pub log_digit_runs: usize,
    /// Phones and ID numbers the devices wrote, looked for in every file of
    /// the server's data directory, and how many were found in plaintext.
    pub secrets_looked_for: usize,
    pub secrets_on_server_disk: usize,
    pub server_disk_bytes: u64,
    pub setup: Duration,
    pub chaos: Duration,
}

// ------------------------------------------------------------------ server

/// The real `sanjian serve`, restartable on the same port and data.
struct Server {
    child: Option<Child>,
    data: PathBuf,
    /// `--database-url …` for PostgreSQL, or nothing.
    db: Vec<String>,
    port: u16,
    log: PathBuf,
}

impl Server {
    fn start(data: &Path, db: &[String], port: u16) -> Server {
        let mut s =
            Server { child: None, data: data.to_owned(), db: db.to_vec(), port, log: data.with_extension("log") };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        // The port may linger a moment after a kill.
        for attempt in 0.. {
            let mut child = Command::new(env!("CARGO_BIN_EXE_sanjian"))
                .args(["serve", "--data", s(&self.data), "--listen", &format!("127.0.0.1:{}", self.port)])
                .args(&self.db)
                .stdout(Stdio::piped())
                .stderr(log.try_clone().unwrap())
                .spawn()
                .unwrap();
            let mut first = String::new();
            BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
            if first.starts_with("listening ") {
                self.child = Some(child);
                return;
            }
            let _ = child.wait();
            assert!(attempt < 50, "the server did not start again; see {}", self.log.display());
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap(); // SIGKILL
            let _ = c.wait();
        }
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            assert!(Command::new("kill").args(["-TERM", &c.id().to_string()]).status().unwrap().success());
            let status = c.wait().unwrap();
            assert!(status.success(), "the server stopped with {status:?}");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

// ------------------------------------------------------------------ proxy

/// A loopback proxy in front of the server that cuts connections: with
/// probability `cut` a connection is broken after a random number of bytes
/// in one direction (a request cut short, or an answer).
struct Proxy {
    cut_permille: AtomicU64,
    connections: AtomicU64,
    cuts: AtomicU64,
    rng: Mutex<StdRng>,
}

impl Proxy {
    fn start(port: u16, upstream: u16, seed: u64) -> Arc<Proxy> {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let proxy = Arc::new(Proxy {
            cut_permille: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            cuts: AtomicU64::new(0),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        });
        let p = proxy.clone();
        std::thread::spawn(move || {
            for down in listener.incoming() {
                let Ok(down) = down else { continue };
                let p = p.clone();
                std::thread::spawn(move || p.relay(down, upstream));
            }
        });
        proxy
    }

    fn set_cut(&self, cut: f64) {
        self.cut_permille.store((cut * 1000.0) as u64, Ordering::SeqCst);
    }

    fn relay(self: Arc<Self>, down: TcpStream, upstream: u16) {
        self.connections.fetch_add(1, Ordering::Relaxed);
        // The server is down: the device sees the connection closed.
        let Ok(up) = TcpStream::connect(("127.0.0.1", upstream)) else { return };
        let (to_server, to_device) = {
            let mut rng = self.rng.lock().unwrap();
            if rng.random_range(0..1000) < self.cut_permille.load(Ordering::SeqCst) {
                // Anywhere from inside the request line to deep in a batch
                // (log-uniform from 16 bytes to 16 KiB).
                let bits = rng.random_range(4..15);
                let after = rng.random_range(0..1u64 << bits);
                if rng.random_bool(0.5) { (Some(after), None) } else { (None, Some(after)) }
            } else {
                (None, None)
            }
        };
        let (d2, u2) = (down.try_clone().unwrap(), up.try_clone().unwrap());
        let me = self.clone();
        let t = std::thread::spawn(move || me.pipe(d2, u2, to_server));
        self.pipe(up, down, to_device);
        let _ = t.join();
    }

    fn pipe(&self, mut from: TcpStream, mut to: TcpStream, cut_after: Option<u64>) {
        let mut buf = [0u8; 16 * 1024];
        let mut sent = 0u64;
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = to.shutdown(std::net::Shutdown::Write);
                    return;
                }
                Ok(n) => n,
            };
            if let Some(limit) = cut_after
                && sent + n as u64 > limit
            {
                let _ = to.write_all(&buf[..(limit - sent) as usize]);
                self.cuts.fetch_add(1, Ordering::Relaxed);
                let _ = from.shutdown(std::net::Shutdown::Both);
                let _ = to.shutdown(std::net::Shutdown::Both);
                return;
            }
            if to.write_all(&buf[..n]).is_err() {
                let _ = from.shutdown(std::net::Shutdown::Both);
                return;
            }
            sent += n as u64;
        }
    }
}

// ------------------------------------------------------------------ full disk

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// `program` as root: itself when this process is root, else through
/// `sudo -n` (the test command is run as root or by a user with sudo).
fn as_root(program: &str) -> Command {
    if running_as_root() {
        Command::new(program)
    } else {
        let mut c = Command::new("sudo");
        c.args(["-n", program]);
        c
    }
}

/// A small tmpfs for the device whose disk fills; a ballast file fills it.
struct SmallDisk {
    at: PathBuf,
}

impl SmallDisk {
    fn mount(at: &Path, size_mib: u64) -> SmallDisk {
        std::fs::create_dir_all(at).unwrap();
        let o = as_root("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mib}m"), "tmpfs", s(at)])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "the disk-full device needs a small tmpfs (run as root, or with sudo): {}",
            String::from_utf8_lossy(&o.stderr)
        );
        // The store is written by this process.
        if !running_as_root() {
            let me = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout).unwrap();
            as_root("chown").args([me.trim(), s(at)]).status().unwrap();
        }
        SmallDisk { at: at.to_owned() }
    }

    /// Writes a ballast file until the disk is full.
    fn fill(&self) {
        let mut f = std::fs::File::create(self.at.join("ballast")).unwrap();
        let block = vec![0x5a_u8; 64 * 1024];
        let mut small = vec![0x5a_u8; 512];
        while f.write_all(&block).is_ok() {}
        while f.write_all(&small).is_ok() {}
        small.truncate(1);
        while f.write_all(&small).is_ok() {}
        let _ = f.sync_all();
    }

    fn free(&self) {
        std::fs::remove_file(self.at.join("ballast")).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazily: a run that failed may still hold files open there.
        let _ = as_root("umount").arg("-l").arg(&self.at).status();
    }
}

// ------------------------------------------------------------------ devices

struct Device {
    store: Store,
    /// The members of its grid it edits.
    members: Vec<RecordId>,
    /// Every record it changed or created.
    touched: BTreeSet<RecordId>,
    /// The members it registered.
    created: BTreeSet<RecordId>,
    /// The phones and ID numbers it wrote (to look for on the server's disk).
    written: Vec<String>,
    full_disk: bool,
    rng: StdRng,
}

/// The grids of the generated county with members, most members first.
fn grids(county: &Path) -> Vec<RecordId> {
    let store = device_store(county);
    let mut members: BTreeMap<RecordId, usize> = BTreeMap::new();
    let mut after = None;
    loop {
        let rows = store.list(RecordKind::Member, after.as_ref(), 1000).unwrap();
        let Some(last) = rows.last().cloned() else { break };
        for row in &rows {
            if let Some(stored) = store.get(&row.id).unwrap()
                && let Some(grid) = stored.record.region(&row.id).grid
            {
                *members.entry(grid).or_default() += 1;
            }
        }
        after = Some(last);
    }
    let mut grids: Vec<(RecordId, usize)> = members.into_iter().collect();
    grids.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    grids.into_iter().map(|(g, _)| g).collect()
}

/// One edit: a new phone on a member of the grid, or (one in five) a new
/// member registered. `Err` carries the store's refusal.
fn edit(dev: &mut Device, n: u64) -> Result<bool, store::StoreError> {
    let pick = dev.members[dev.rng.random_range(0..dev.members.len())].clone();
    let Some(stored) = dev.store.get(&pick)? else { return Ok(false) };
    let mut record = stored.record;
    let Record::Member(m) = &mut record else { return Ok(false) };
    if dev.rng.random_range(0..5) == 0 {
        m.name = format!("混沌登记{n}");
        m.sex = None;
        m.card_number = None;
        m.phone = Some(format!("137{:08}", n % 100_000_000));
        let prefix = m.resident_id[..14].to_owned();
        for seq in 0..1000 {
            let Record::Member(m) = &mut record else { unreachable!() };
            let first17 = format!("{prefix}{:03}", (n + seq) % 1000);
            m.resident_id = registry::ids::ResidentId::from_first17(&first17).unwrap().as_str().to_owned();
            match dev.store.insert(record.clone(), today()) {
                Ok(saved) => {
                    if let Record::Member(m) = &record {
                        dev.written.push(m.resident_id.clone());
                        dev.written.extend(m.phone.clone());
                    }
                    dev.created.insert(saved.id.clone());
                    dev.touched.insert(saved.id);
                    return Ok(true);
                }
                Err(store::StoreError::Duplicate(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    } else {
        let phone = format!("139{:08}", n % 100_000_000);
        let before = m.phone.replace(phone.clone());
        if let Err(e) = dev.store.update(&pick, record, today()) {
            // Refused whole: the record is as it was.
            let Some(Record::Member(now)) = dev.store.get(&pick)?.map(|r| r.record) else { unreachable!() };
            assert_eq!(now.phone, before, "a refused edit left nothing behind");
            return Err(e);
        }
        dev.written.push(phone);
        dev.touched.insert(pick);
        Ok(false)
    }
}

// ------------------------------------------------------------------ the run

pub fn run(cfg: &Config) -> Outcome {
    let started = Instant::now();
    let mut out = Outcome { devices: cfg.devices, ..Outcome::default() };
    let dir = tempfile::tempdir().unwrap();
    let county = dir.path().join("county.db");
    let data = dir.path().join("server");
    ok(sanjian(&["generate", "--members", &cfg.members.to_string(), "--seed", "7", "--db", s(&county)]));
    let db: Vec<String> = match &cfg.postgres {
        Some(base) => vec!["--database-url".into(), fresh_pg_database(base, "chaos")],
        None => Vec::new(),
    };
    let db_args: Vec<&str> = db.iter().map(String::as_str).collect();
    ok(sanjian(&[&["import", "--data", s(&data), "--from", s(&county)][..], &db_args].concat()));
    eprintln!("chaos: county generated and imported ({:.1} s)", started.elapsed().as_secs_f64());
    let all_grids = grids(&county);
    let wanted = cfg.devices.div_ceil(cfg.per_grid);
    assert!(all_grids.len() >= wanted, "{} grids, {wanted} wanted", all_grids.len());
    let grids = &all_grids[..wanted];
    out.grids = grids.len();

    let (server_port, proxy_port) = (free_port(), free_port());
    let server = Arc::new(Mutex::new(Server::start(&data, &db, server_port)));
    let proxy = Proxy::start(proxy_port, server_port, cfg.seed);
    let public = format!("http://127.0.0.1:{proxy_port}");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();

    // Enrol every device (no faults yet: a code is single-use).
    let disk = SmallDisk::mount(&dir.path().join("small-disk"), 24);
    let enrol = |person: &str, scope: &[&str]| -> String {
        let args = [
            &["enrol", "--data", s(&data), "--person", person, "--public-url", &public, "--text-only"],
            scope,
            &db_args,
        ]
        .concat();
        ok(sanjian(&args)).trim().lines().last().unwrap().trim().to_owned()
    };
    let mut devices = Vec::new();
    for i in 0..cfg.devices {
        let grid = &grids[i / cfg.per_grid];
        let text = enrol(&format!("网格员{i}"), &["--grid", &grid.0]);
        let full_disk = i == 0;
        let path = if full_disk { disk.at.join("device.db") } else { dir.path().join(format!("device-{i}.db")) };
        let key = StoreKey::from_bytes(rand::random());
        let (store, _) = field::device::enrol(&path, &key, &text, None, rt.handle()).unwrap();
        devices.push(Mutex::new(Device {
            store,
            members: Vec::new(),
            touched: BTreeSet::new(),
            created: BTreeSet::new(),
            written: Vec::new(),
            full_disk,
            rng: StdRng::seed_from_u64(cfg.seed + 1 + i as u64),
        }));
    }
    eprintln!("chaos: {} devices enrolled ({:.1} s)", cfg.devices, started.elapsed().as_secs_f64());
    // First sync of each, then the grid's members to edit.
    let next = AtomicUsize::new(0);
    std::thread::scope(|sc| {
        for _ in 0..cfg.workers {
            sc.spawn(|| {
                while let Some(dev) = devices.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let mut dev = dev.lock().unwrap();
                    field::device::sync_once(&mut dev.store, rt.handle(), &mut |_| {}).unwrap();
                    dev.members =
                        dev.store.list(RecordKind::Member, None, 1000).unwrap().into_iter().map(|r| r.id).collect();
                    assert!(!dev.members.is_empty(), "a grid with members");
                }
            });
        }
    });
    out.setup = started.elapsed();
    eprintln!("chaos: first syncs done ({:.1} s)", out.setup.as_secs_f64());

    // Chaos: connections cut, the server killed and restarted, the small
    // disk full until the last round.
    // The full device's WAL is written back and truncated first (as the app
    // does before a backup), so the next write needs new room on the disk.
    devices[0].lock().unwrap().store.checkpoint().unwrap();
    disk.fill();
    proxy.set_cut(cfg.cut);
    let chaos_started = Instant::now();
    let done = AtomicBool::new(false);
    let counters = Mutex::new(std::mem::take(&mut out));
    let edits_made = AtomicU64::new(0);
    let tasks: Vec<(usize, usize)> = (0..cfg.rounds).flat_map(|r| (0..cfg.devices).map(move |d| (r, d))).collect();
    let next = AtomicUsize::new(0);
    let kills = AtomicUsize::new(0);
    std::thread::scope(|sc| {
        let killer = sc.spawn(|| {
            let mut rng = StdRng::seed_from_u64(cfg.seed ^ 0x6b11);
            for k in 1..=cfg.kills {
                // Kill while devices are syncing: when the k-th share of the
                // device rounds has started, and a random moment later.
                let at = tasks.len() * k / (cfg.kills + 1);
                while next.load(Ordering::SeqCst) < at && !done.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(5));
                }
                std::thread::sleep(Duration::from_millis(rng.random_range(0..150)));
                if done.load(Ordering::SeqCst) {
                    break;
                }
                let mut srv = server.lock().unwrap();
                srv.kill();
                kills.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(rng.random_range(200..1500)));
                srv.spawn();
            }
        });
        let mut workers = Vec::new();
        for _ in 0..cfg.workers {
            workers.push(sc.spawn(|| {
                while let Some(&(round, d)) = tasks.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let mut dev = devices[d].lock().unwrap();
                    let last_round = round + 1 == cfg.rounds;
                    if dev.full_disk && last_round {
                        // Space returns.
                        disk.free();
                    }
                    for k in 0..cfg.edits {
                        let n = edits_made.fetch_add(1, Ordering::SeqCst);
                        match edit(&mut dev, n) {
                            Ok(created) => {
                                let mut c = counters.lock().unwrap();
                                c.edits += 1;
                                c.creates += u64::from(created);
                            }
                            Err(e @ store::StoreError::DiskFull) if dev.full_disk => {
                                let mut c = counters.lock().unwrap();
                                c.refused_disk_full += 1;
                                if c.disk_full_message.is_none() {
                                    let m = e.message();
                                    c.disk_full_message = Some((e.code().to_owned(), m.zh, m.en));
                                }
                            }
                            Err(store::StoreError::Invalid(issues)) => panic!("device {d}, edit {k}: {issues:?}"),
                            Err(e) => panic!("device {d}, edit {k}: {e} [{}]", e.code()),
                        }
                    }
                    // Sync until it goes through.
                    let mut backoff = StdRng::seed_from_u64(cfg.seed ^ (round * 7919 + d) as u64);
                    for attempt in 0.. {
                        match field::device::sync_once(&mut dev.store, rt.handle(), &mut |_| {}) {
                            Ok(_) => {
                                let mut c = counters.lock().unwrap();
                                c.syncs += 1;
                                if dev.full_disk && last_round {
                                    c.disk_full_recovered = true;
                                }
                                break;
                            }
                            Err(e) => {
                                let mut c = counters.lock().unwrap();
                                *c.failures.entry(e.code.clone()).or_default() += 1;
                                if e.code == "DISK_FULL" && c.disk_full_message.is_none() {
                                    c.disk_full_message =
                                        Some((e.code.clone(), e.message.zh.clone(), e.message.en.clone()));
                                }
                                // While its disk is full a device cannot
                                // sync; a few tries show it.
                                let still_full = dev.full_disk && !last_round;
                                if still_full && attempt >= 2 {
                                    break;
                                }
                                if attempt >= 300 {
                                    c.gave_up += 1;
                                    break;
                                }
                            }
                        }
                        std::thread::sleep(Duration::from_millis(backoff.random_range(50..400) * (attempt.min(6) + 1)));
                    }
                }
            }));
        }
        for w in workers {
            w.join().unwrap();
        }
        done.store(true, Ordering::SeqCst);
        killer.join().unwrap();
    });
    out = counters.into_inner().unwrap();
    out.kills = kills.into_inner();
    out.chaos = chaos_started.elapsed();
    proxy.set_cut(0.0);
    out.connections = proxy.connections.load(Ordering::Relaxed);
    out.cuts = proxy.cuts.load(Ordering::Relaxed);

    // Quiet: every device syncs once more, then a county-wide device pulls
    // everything and looks for every change each device made.
    for (d, dev) in devices.iter().enumerate() {
        let mut dev = dev.lock().unwrap();
        if let Err(e) = field::device::sync_once(&mut dev.store, rt.handle(), &mut |_| {}) {
            panic!("device {d} after the faults: {} [{}]", e.message.en, e.code);
        }
        assert_eq!(dev.store.outbox_len().unwrap(), 0, "device {d} has nothing left to send");
    }
    let text = enrol("核对", &["--all", "--role", "county_admin"]);
    let (mut check, _) = field::device::enrol(
        &dir.path().join("check.db"),
        &StoreKey::from_bytes(rand::random()),
        &text,
        None,
        rt.handle(),
    )
    .unwrap();
    field::device::sync_once(&mut check, rt.handle(), &mut |_| {}).unwrap();
    out.records_on_server = check.doc_ids().unwrap().len();
    server.lock().unwrap().stop();
    // What the server holds for review: change hash → code.
    let server_db = match db.get(1) {
        Some(url) => server::Db::postgres(url, 1),
        None => server::Db::sqlite(&data.join("server.db")),
    };
    let held: BTreeMap<String, String> = server_db
        .unwrap()
        .tx(|db| db.query("SELECT code, changes FROM quarantine", &[]))
        .unwrap()
        .into_iter()
        .flat_map(|row| {
            let code = row[0].text().unwrap_or_default().to_owned();
            let changes: Vec<String> = row[1].text().unwrap_or_default().split(',').map(str::to_owned).collect();
            changes.into_iter().map(move |c| (c, code.clone()))
        })
        .collect();
    let mut county_docs: BTreeMap<RecordId, automerge::AutoCommit> = BTreeMap::new();
    for (d, dev) in devices.iter().enumerate() {
        let dev = dev.lock().unwrap();
        for id in &dev.touched {
            let doc = county_docs
                .entry(id.clone())
                .or_insert_with(|| automerge::AutoCommit::load(&check.export_doc(id).unwrap_or_default()).unwrap());
            // Every change the device holds for the record (its own and
            // those it received) is in the county's copy, or held in the
            // quarantine for review.
            let mut mine = automerge::AutoCommit::load(&dev.store.export_doc(id).unwrap()).unwrap();
            for change in mine.get_changes(&[]) {
                out.changes_checked += 1;
                if doc.get_change_by_hash(&change.hash()).is_some() {
                    continue;
                }
                match held.get(&change.hash().to_string()) {
                    Some(code) => {
                        let what = if dev.created.contains(id) { "a member it registered" } else { "an edit" };
                        *out.quarantined.entry(format!("{code}: {what}")).or_default() += 1;
                    }
                    None => {
                        out.lost += 1;
                        eprintln!("lost: device {d}, record {id}, change {}", change.hash());
                    }
                }
            }
        }
        for id in dev.store.doc_ids().unwrap() {
            let heads = dev.store.heads(&id).ok();
            let held_back = heads.iter().flatten().any(|h| held.contains_key(&h.to_string()));
            if heads != check.heads(&id).ok() && !held_back {
                out.diverged += 1;
                eprintln!("diverged: device {d}, record {id}");
            }
        }
    }
    // No phone or ID number a device wrote is in plaintext in any file of
    // the server's data (database, WAL, keys, blobs).
    let mut written: BTreeSet<String> = BTreeSet::new();
    for dev in &devices {
        written.extend(dev.lock().unwrap().written.iter().cloned());
    }
    out.secrets_looked_for = written.len();
    let mut files = vec![data.clone()];
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else {
            let bytes = std::fs::read(&p).unwrap();
            out.server_disk_bytes += bytes.len() as u64;
            let text = String::from_utf8_lossy(&bytes);
            out.secrets_on_server_disk += digit_runs(&text, 11).iter().filter(|r| written.contains(*r)).count();
        }
    }
    drop((devices, check));
    let log = std::fs::read_to_string(data.with_extension("log")).unwrap_or_default();
    out.server_log_bytes = log.len() as u64;
    out.log_digit_runs = digit_runs(&log, 11).len();
    drop(disk);
    if out.lost > 0 || out.diverged > 0 {
        eprintln!("chaos: the run's files are kept for a look: {}", dir.keep().display());
    }
    out
}

impl Outcome {
    pub fn print(&self, cfg: &Config) {
        println!(
            "load and chaos: {} devices in {} grids ({} per grid), one real `sanjian serve` ({})",
            self.devices,
            self.grids,
            cfg.per_grid,
            if cfg.postgres.is_some() { "PostgreSQL" } else { "SQLite" }
        );
        println!(
            "    county                {} members generated, {} records on the server at the end",
            cfg.members, self.records_on_server
        );
        println!(
            "    edits                 {} committed on devices ({} new members), {} rounds × {} per device",
            self.edits, self.creates, cfg.rounds, cfg.edits
        );
        println!(
            "    faults                {} of {} connections cut mid-stream (p = {}), server SIGKILLed and restarted {} times, 1 device's disk full ({} edits refused)",
            self.cuts, self.connections, cfg.cut, self.kills, self.refused_disk_full
        );
        println!(
            "    syncs                 {} succeeded; failed attempts (each retried): {:?}",
            self.syncs, self.failures
        );
        if let Some((code, zh, en)) = &self.disk_full_message {
            println!(
                "    disk full             [{code}] {zh} / {en}; recovered once space returned: {}",
                self.disk_full_recovered
            );
        }
        println!(
            "    changes checked       {} (every change each device holds for each record it touched)",
            self.changes_checked
        );
        println!("    quarantined           {:?} (changes held for county review: kept, not lost)", self.quarantined);
        println!("    lost changes          {} (must be 0)", self.lost);
        println!(
            "    diverged records      {} (device heads ≠ county heads after a quiet sync; must be 0)",
            self.diverged
        );
        println!("    gave up               {} device rounds", self.gave_up);
        println!(
            "    server log            {} KiB, {} runs of 11+ digits (must be 0)",
            self.server_log_bytes / 1024,
            self.log_digit_runs
        );
        println!(
            "    server's disk         {} of the {} phones and ID numbers the devices wrote found in plaintext in {} MiB of its files (must be 0)",
            self.secrets_on_server_disk,
            self.secrets_looked_for,
            self.server_disk_bytes >> 20
        );
        println!(
            "    time                  set-up {:.1} s, chaos {:.1} s",
            self.setup.as_secs_f64(),
            self.chaos.as_secs_f64()
        );
    }
}

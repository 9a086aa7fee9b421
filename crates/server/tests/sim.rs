//! The deterministic sync simulation: devices make random creates, edits and
//! deletes on overlapping records while the network partitions, drops,
//! duplicates and reorders answers, clients crash mid-sync and the server
//! fails mid-batch and restarts. After quiescence every device holds what
//! the server holds in its scope, every change ever committed anywhere is on
//! the server or in its quarantine, and replaying every request changes
//! nothing.
//!
//! `SANJIAN_SIM_SEEDS` (default 6) and `SANJIAN_SIM_STEPS` (default 120) set
//! the size; a seed that fails is printed so it can be run alone with
//! `SANJIAN_SIM_SEED=<n>`.

use crate::util::*;
use automerge::{AutoCommit, ChangeHash};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use registry::model::*;
use server::auth;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use store::{Init, Store};
use sync::client::{self, Options, Transport};
use sync::server::{self as srv, Sql, Val};
use sync::{Scope, SyncError};

/// Where the simulated server keeps its data.
#[derive(Clone)]
enum Backend {
    Sqlite(PathBuf),
    /// A database URL (a fresh database per run).
    Postgres(String),
}

/// A server that can fail and restart.
struct Sim {
    backend: Backend,
    state: server::AppState,
    rng: ChaCha8Rng,
    /// Faults on: answers dropped, duplicated, reordered; batches failing.
    faults: bool,
    /// Every request that reached the server: (device token, path, body).
    log: Vec<(String, &'static str, Vec<u8>)>,
    /// An old answer per path, to deliver out of order.
    stale: BTreeMap<&'static str, Vec<u8>>,
}

/// A [`Sql`] that fails at its n-th statement: a server dying mid-batch.
struct Failing<'a> {
    inner: &'a mut dyn Sql,
    left: usize,
}

impl Sql for Failing<'_> {
    fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, SyncError> {
        if self.left == 0 {
            return Err(SyncError::Server("injected failure".into()));
        }
        self.left -= 1;
        self.inner.execute(sql, params)
    }
    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, SyncError> {
        self.inner.query(sql, params)
    }
    fn lock_doc(&mut self, id: &RecordId) -> Result<(), SyncError> {
        self.inner.lock_doc(id)
    }
}

impl Sim {
    fn open_state(backend: &Backend) -> server::AppState {
        let db = match backend {
            Backend::Sqlite(dir) => server::Db::sqlite(&dir.join("server.db")).unwrap(),
            Backend::Postgres(url) => server::Db::postgres(url, 2).unwrap(),
        };
        server::AppState::new(db, keys(), "http://sim".into())
    }

    /// The server handles one request (no network in between).
    fn handle(
        &mut self,
        token: &str,
        p: &'static str,
        body: &[u8],
        fail_at: Option<usize>,
    ) -> Result<Vec<u8>, SyncError> {
        let st = &self.state;
        let ctx = st.ctx();
        // Without a fault to inject, a push goes the server's way: judged in
        // a read-only transaction, then written (`commit_push`).
        if fail_at.is_none() && p == sync::client::path::PUSH {
            let Ok(call) = server::SyncCall::decode(p, body) else { return Err(SyncError::Wire("push".into())) };
            let server::SyncCall::Push(req) = &call else { unreachable!() };
            let judged = st.db.read(|db| match server::auth::find_device_reading(db, token)? {
                Some(Some((device, None))) => Ok(Some(sync::server::judge_push(db, &ctx, &device, req)?)),
                _ => Ok(None),
            })?;
            return st.db.tx(|db| call.run(db, &ctx, token, judged))?.map_err(SyncError::from);
        }
        let answer = st.db.tx(|db| {
            let mut failing;
            let db: &mut dyn Sql = match fail_at {
                Some(n) => {
                    failing = Failing { inner: db, left: n };
                    &mut failing
                }
                None => db,
            };
            server::SyncCall::decode(p, body)?.run(db, &ctx, token, None)
        })?;
        // A refusal commits what it wrote (a revoked device's push is kept).
        answer.map_err(SyncError::from)
    }

    fn restart(&mut self) {
        // Close the database (every connection) before opening it again.
        let scratch = tempfile::tempdir().unwrap();
        let old = std::mem::replace(&mut self.state, Sim::open_state(&Backend::Sqlite(scratch.path().to_owned())));
        drop(old);
        self.state = Sim::open_state(&self.backend);
    }
}

/// One device's way to the server, with the simulation's faults.
struct Link<'a> {
    sim: &'a mut Sim,
    token: String,
    online: bool,
    /// Calls left before the client "crashes" (the session is cut off).
    crash_after: Option<usize>,
}

impl Transport for Link<'_> {
    fn call(&mut self, p: &'static str, body: Vec<u8>) -> Result<Vec<u8>, SyncError> {
        if !self.online {
            return Err(SyncError::Network("partitioned".into()));
        }
        if let Some(n) = &mut self.crash_after {
            if *n == 0 {
                return Err(SyncError::Interrupted);
            }
            *n -= 1;
        }
        let sim = &mut *self.sim;
        let faults = sim.faults;
        let roll: u32 = if faults { sim.rng.random_range(0..100) } else { 99 };
        if roll < 5 {
            return Err(SyncError::Network("request lost".into()));
        }
        // The request is lost, yet an older answer to the same endpoint
        // arrives as if it were this one's.
        if (5..8).contains(&roll)
            && let Some(old) = sim.stale.get(p)
        {
            return Ok(old.clone());
        }
        let fail_at = (faults && (8..12).contains(&roll)).then(|| sim.rng.random_range(0..4));
        sim.log.push((self.token.clone(), p, body.clone()));
        let answer = sim.handle(&self.token, p, &body, fail_at)?;
        let roll2: u32 = if faults { sim.rng.random_range(0..100) } else { 99 };
        match roll2 {
            // The answer is lost after the server committed.
            0..=7 => Err(SyncError::Network("answer lost".into())),
            // The request is delivered twice; the second answer comes back.
            8..=12 => sim.handle(&self.token, p, &body, None),
            // An older answer to the same endpoint arrives instead.
            13..=17 => {
                let old = sim.stale.insert(p, answer.clone());
                Ok(old.unwrap_or(answer))
            }
            _ => {
                if sim.rng.random_range(0..4) == 0 {
                    sim.stale.insert(p, answer.clone());
                }
                Ok(answer)
            }
        }
    }
}

struct Dev {
    path: PathBuf,
    store: Store,
    token: String,
    online: bool,
}

fn keys() -> server::ServerKeys {
    server::ServerKeys { county_secret: *secret().as_bytes(), data_key: [5; 32], card_root: [3; 32] }
}

/// Every change this device has committed, by document.
fn record_ledger(ledger: &mut Vec<(RecordId, ChangeHash)>, store: &Store, id: &RecordId) {
    for h in store.heads(id).unwrap() {
        ledger.push((id.clone(), h));
    }
}

fn run(seed: u64, steps: usize, pg: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let backend = match pg {
        Some(url) => Backend::Postgres(fresh_pg_database(url, seed)),
        None => Backend::Sqlite(dir.path().to_owned()),
    };
    let state = Sim::open_state(&backend);
    let mut sim = Sim {
        backend,
        state,
        rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed),
        faults: true,
        log: Vec::new(),
        stale: BTreeMap::new(),
    };

    // The county: a small synthetic one, most of it on the server; the rest
    // of its members are people the devices will register (some twice).
    let county = small_county(seed);
    let townships: Vec<RecordId> = county.townships.clone();
    let grids_of_t0: Vec<RecordId> = county.grids_in(&townships[0]);
    let (initial, pool) = county.split();
    sim.state
        .db
        .tx(|db| {
            let ctx = sim.state.ctx();
            for (id, record) in &initial {
                let mut doc = store::new_document(id, record.clone(), [0xcc; 16], "import", TODAY).unwrap();
                srv::import(db, &ctx, id, &mut doc)?;
            }
            Ok(())
        })
        .unwrap();

    // Five devices with overlapping scopes.
    let scopes = [
        auth::Grant {
            person: "甲".into(),
            role: auth::Role::TownshipStaff,
            all: false,
            townships: vec![townships[0].clone()],
            grids: vec![],
        },
        auth::Grant {
            person: "乙".into(),
            role: auth::Role::TownshipStaff,
            all: false,
            townships: vec![townships[0].clone()],
            grids: vec![],
        },
        auth::Grant {
            person: "丙".into(),
            role: auth::Role::TownshipStaff,
            all: false,
            townships: vec![townships[1].clone()],
            grids: vec![],
        },
        auth::Grant {
            person: "丁".into(),
            role: auth::Role::Surveyor,
            all: false,
            townships: vec![],
            grids: vec![grids_of_t0[0].clone()],
        },
        auth::Grant {
            person: "戊".into(), role: auth::Role::CountyAdmin, all: true, townships: vec![], grids: vec![]
        },
    ];
    let admin = sim.state.db.tx(|db| {
        auth::create_user(db, "admin", auth::Role::CountyAdmin, "pw")?;
        let token = auth::login(db, "admin", "pw")?.unwrap().0;
        Ok(auth::staff(db, &token)?.unwrap())
    });
    let admin = admin.unwrap();
    let mut devs = Vec::new();
    for (i, grant) in scopes.iter().enumerate() {
        let path = dir.path().join(format!("device-{i}.db"));
        let mut store =
            Store::create(&path, &key(), &Init { county_secret: secret(), device_id: Some([i as u8 + 1; 16]) })
                .unwrap();
        store.set_operator(&grant.person);
        let token = sim
            .state
            .db
            .tx(|db| {
                let code = auth::create_enrolment(db, &admin, grant, 7)?.unwrap();
                Ok(auth::redeem(db, &code, store.device_id(), &[0; 32], &keys().county_secret)?.unwrap().token)
            })
            .unwrap();
        devs.push(Dev { path, store, token, online: true });
    }

    let surveyor = sim.state.db.tx(|db| Ok(device_id(db, &devs[3].token))).unwrap();
    let mut ledger: Vec<(RecordId, ChangeHash)> = Vec::new();
    let options = Options { push_docs: 7, push_bytes: 4096, pull_limit: 13, repair: true, blobs: true, refs: true };
    let mut moved = false;
    for step in 0..steps {
        let d = rng.random_range(0..devs.len());
        let op = rng.random_range(0..100);
        let dev = &mut devs[d];
        match op {
            // Register someone from the pool (maybe someone another device registered too).
            0..=19 => {
                let (id, record) = &pool[rng.random_range(0..pool.len())];
                let scope = device_scope(&sim, &dev.token);
                if scope.can_write(record.kind(), &record.region(id))
                    && let Ok(saved) = dev.store.insert(record.clone(), TODAY)
                {
                    assert_eq!(&saved.id, id);
                    record_ledger(&mut ledger, &dev.store, id);
                }
            }
            // Edit a member this device holds.
            20..=44 => {
                if let Some(id) = pick(&dev.store, RecordKind::Member, &mut rng) {
                    let mut rec = dev.store.get(&id).unwrap().unwrap().record;
                    if let Record::Member(m) = &mut rec {
                        m.phone = Some(format!("139{:08}", rng.random_range(0..100_000_000u32)));
                    }
                    if dev.store.update(&id, rec, TODAY).is_ok() {
                        record_ledger(&mut ledger, &dev.store, &id);
                    }
                }
            }
            // Delete one.
            45..=49 => {
                if let Some(id) = pick(&dev.store, RecordKind::Member, &mut rng)
                    && dev.store.delete(&id, "重复登记").is_ok()
                {
                    record_ledger(&mut ledger, &dev.store, &id);
                }
            }
            // Go offline or come back.
            50..=57 => dev.online = !dev.online,
            // The client crashes mid-sync: the session is cut off after a
            // random number of calls and the app restarts.
            58..=64 => {
                let crash_after = Some(rng.random_range(0..6));
                let mut link = Link { sim: &mut sim, token: dev.token.clone(), online: dev.online, crash_after };
                let _ = client::sync(&mut dev.store, &mut link, &options, &mut |_| {});
                reopen(dev);
                assert_outbox_holds_the_rest(&sim, &dev.store, seed, step);
            }
            // The server restarts.
            65..=67 => sim.restart(),
            // A grid handed to another surveyor, once.
            68 if !moved && grids_of_t0.len() > 1 => {
                moved = true;
                let grid = grids_of_t0[1].clone();
                sim.state.db.tx(|db| auth::set_scope(db, &surveyor, false, &[], &[grid])).unwrap();
            }
            // Sync.
            _ => {
                let mut link = Link { sim: &mut sim, token: dev.token.clone(), online: dev.online, crash_after: None };
                if let Err(e) = client::sync(&mut dev.store, &mut link, &options, &mut |_| {}) {
                    assert!(e.is_transient(), "seed {seed} step {step}: {e} ({})", e.code());
                }
                assert_outbox_holds_the_rest(&sim, &dev.store, seed, step);
            }
        }
    }

    // Quiescence: everyone online, no faults, sync until nothing moves.
    sim.faults = false;
    for _ in 0..3 {
        for dev in devs.iter_mut() {
            let mut link = Link { sim: &mut sim, token: dev.token.clone(), online: true, crash_after: None };
            client::sync(&mut dev.store, &mut link, &options, &mut |_| {})
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        }
    }

    // 1. Every committed change is on the server or in its quarantine.
    let quarantined = quarantined_changes(&sim);
    for (id, hash) in &ledger {
        let on_server = server_doc(&sim, id).is_some_and(|mut d| d.get_change_by_hash(hash).is_some());
        assert!(on_server || quarantined.contains(&(id.clone(), *hash)), "seed {seed}: change {hash} of {id} lost");
    }

    // 2. Every device holds what the server holds in its scope.
    for (i, dev) in devs.iter_mut().enumerate() {
        assert_eq!(dev.store.outbox_len().unwrap(), 0, "seed {seed}: device {i} still has an outbox");
        // The kept summaries (the device's and the server's per-partition
        // ones) agree without reading a document, and each equals a scan.
        let (count, xor) = dev.store.known_summary().unwrap();
        let summary = sync::wire::Summary { count, xor };
        let device = sim.state.db.tx(|db| Ok(auth::device(db, &dev.token)?.unwrap())).unwrap();
        let check = sync::wire::RepairRequest { summary, buckets: Vec::new() };
        let answer = sim.state.db.tx(|db| srv::repair(db, &device, &check)).unwrap();
        assert_eq!(answer, sync::wire::RepairResponse::Equal, "seed {seed}: device {i}'s summaries differ");
        // Rebuilt from the documents, the server's summaries are the same.
        let rebuilt = sim
            .state
            .db
            .tx(|db| {
                db.execute("DELETE FROM counters WHERE name = 'summaries'", &[])?;
                srv::ensure_summaries(db)?;
                srv::repair(db, &device, &check)
            })
            .unwrap();
        assert_eq!(rebuilt, sync::wire::RepairResponse::Equal, "seed {seed}: rebuilt summaries differ");
        let mut scanned = sync::wire::Summary::default();
        let mut after = None;
        loop {
            let page = dev.store.known_heads(after.as_ref(), 1000).unwrap();
            let Some((last, _)) = page.last() else { break };
            after = Some(last.clone());
            for (id, heads) in &page {
                scanned.count += 1;
                scanned.xor ^= store::fingerprint(id, heads);
            }
        }
        assert_eq!(scanned, summary, "seed {seed}: device {i}'s kept summary differs from a scan");
        let scope = device_scope(&sim, &dev.token);
        let server_ids = server_ids(&sim);
        for (id, kind, region) in &server_ids {
            if !scope.can_read(*kind, region) {
                continue;
            }
            let theirs = sim.state.db.tx(|db| srv::heads_of(db, id)).unwrap().unwrap();
            let theirs: Vec<ChangeHash> = theirs.into_iter().map(ChangeHash).collect();
            let mut mine = dev.store.heads(id).unwrap_or_else(|_| panic!("seed {seed}: device {i} lacks {id}"));
            mine.sort();
            let mut theirs_sorted = theirs.clone();
            theirs_sorted.sort();
            if mine != theirs_sorted {
                // Only where this device's own changes sit in quarantine.
                let mut doc = AutoCommit::load(&dev.store.export_doc(id).unwrap()).unwrap();
                assert!(
                    theirs.iter().all(|h| doc.get_change_by_hash(h).is_some()),
                    "seed {seed}: device {i} is missing server changes of {id}"
                );
                assert!(
                    mine.iter().all(|h| quarantined.contains(&(id.clone(), *h)) || theirs.contains(h)),
                    "seed {seed}: device {i} diverges on {id} outside quarantine"
                );
            }
        }
    }

    // 3. The console's facts, kept by every write (and skipped where a
    // write left them as they were), are what a rebuild from the documents
    // gives.
    let facts = |sim: &Sim| -> Vec<Vec<Val>> {
        let mut rows = Vec::new();
        for table in sync::facts::TABLES.iter().chain([&"card_holders"]) {
            let mut t = sim
                .state
                .db
                .tx(|db| db.query(&format!("SELECT '{table}', * FROM {table} ORDER BY 2, 3"), &[]))
                .unwrap();
            rows.append(&mut t);
        }
        rows
    };
    let kept = facts(&sim);
    assert!(kept.iter().any(|r| r[0].text() == Some("f_members")), "seed {seed}: members have facts rows");
    // (`card_holders` keeps every card a record held, so a rebuild only
    // adds to it: it is compared, not emptied.)
    sim.state.db.tx(|db| db.execute("DELETE FROM counters WHERE name = 'facts'", &[])).unwrap();
    sim.state.ensure_facts().unwrap();
    assert_eq!(facts(&sim), kept, "seed {seed}: the kept facts differ from a rebuild");

    // 4. Replaying every request changes nothing.
    let before = snapshot(&sim);
    let held: Vec<usize> = devs.iter().map(|d| d.store.count(RecordKind::Member).unwrap() as usize).collect();
    eprintln!(
        "seed {seed}: {} changes committed on devices, {} requests, {} quarantined changes, members held per device {held:?}",
        ledger.len(),
        sim.log.len(),
        quarantined.len()
    );
    let log = std::mem::take(&mut sim.log);
    for (token, p, body) in &log {
        let _ = sim.handle(token, p, body, None);
    }
    assert_eq!(snapshot(&sim), before, "seed {seed}: a replayed request changed the server");
}

/// Right after any session, however it ended: every change a device holds
/// that is not waiting in its outbox is on the server or in its quarantine
/// (an outbox entry is never cleared early).
fn assert_outbox_holds_the_rest(sim: &Sim, store: &Store, seed: u64, step: usize) {
    let waiting: HashSet<RecordId> = store.outbox().unwrap().into_iter().collect();
    let mut quarantined: Option<HashSet<(RecordId, ChangeHash)>> = None;
    for id in store.doc_ids().unwrap() {
        if waiting.contains(&id) {
            continue;
        }
        let mut server = server_doc(sim, &id);
        for h in store.heads(&id).unwrap() {
            let held = server.as_mut().is_some_and(|d| d.get_change_by_hash(&h).is_some())
                || quarantined.get_or_insert_with(|| quarantined_changes(sim)).contains(&(id.clone(), h));
            assert!(held, "seed {seed} step {step}: change {h} of {id} left the outbox but the server lacks it");
        }
    }
}

fn reopen(dev: &mut Dev) {
    let operator = "重启后".to_owned();
    // Drop first: the store holds the file open.
    let placeholder = Store::in_memory(&Init::new(secret())).unwrap();
    drop(std::mem::replace(&mut dev.store, placeholder));
    dev.store = Store::open(&dev.path, &key()).unwrap();
    dev.store.set_operator(&operator);
}

fn pick(store: &Store, kind: RecordKind, rng: &mut ChaCha8Rng) -> Option<RecordId> {
    let rows = store.list(kind, None, 500).unwrap();
    (!rows.is_empty()).then(|| rows[rng.random_range(0..rows.len())].id.clone())
}

fn device_id(db: &mut dyn Sql, token: &str) -> String {
    auth::device(db, token).unwrap().unwrap().id
}

fn device_scope(sim: &Sim, token: &str) -> Scope {
    sim.state.db.tx(|db| Ok(auth::device(db, token)?.unwrap().scope)).unwrap()
}

fn server_doc(sim: &Sim, id: &RecordId) -> Option<AutoCommit> {
    let st = &sim.state;
    let rows = st.db.tx(|db| db.query("SELECT sealed FROM docs WHERE id = $1", &[id.as_str().into()])).unwrap();
    let sealed = rows.into_iter().next()?.remove(0).into_blob();
    Some(AutoCommit::load(&st.sealer.open(id.as_str(), &sealed).unwrap()).unwrap())
}

fn server_ids(sim: &Sim) -> Vec<(RecordId, RecordKind, Region)> {
    let rows = sim.state.db.tx(|db| db.query("SELECT id, kind, township, grid FROM docs ORDER BY id", &[])).unwrap();
    rows.into_iter()
        .map(|r| {
            (
                RecordId::from(r[0].text().unwrap()),
                RecordKind::from_key(r[1].text().unwrap()).unwrap(),
                Region { township: r[2].text().map(RecordId::from), grid: r[3].text().map(RecordId::from) },
            )
        })
        .collect()
}

/// Every change held in the quarantine.
fn quarantined_changes(sim: &Sim) -> HashSet<(RecordId, ChangeHash)> {
    let st = &sim.state;
    let ctx = st.ctx();
    let ids = st.db.tx(|db| db.query("SELECT id FROM quarantine", &[])).unwrap();
    let mut out = HashSet::new();
    for row in ids {
        let (doc_id, bytes) = st.db.tx(|db| srv::quarantine_bytes(db, &ctx, row[0].int())).unwrap().unwrap();
        // The held bytes may build on the server's document; read them on top of it.
        let mut doc = server_doc(sim, &doc_id).unwrap_or_default();
        let before: HashSet<ChangeHash> = doc.get_changes(&[]).iter().map(|c| c.hash()).collect();
        let _ = doc.load_incremental(&bytes);
        for c in doc.get_changes(&[]) {
            if !before.contains(&c.hash()) {
                out.insert((doc_id.clone(), c.hash()));
            }
        }
        // Changes still waiting on their dependencies count as held too.
        let mut raw = AutoCommit::new();
        let _ = raw.load_incremental(&bytes);
        for c in raw.get_changes(&[]) {
            out.insert((doc_id.clone(), c.hash()));
        }
    }
    out
}

fn snapshot(sim: &Sim) -> Vec<Vec<Val>> {
    sim.state
        .db
        .tx(|db| {
            let mut out = db.query("SELECT id, heads, seq FROM docs ORDER BY id", &[])?;
            out.extend(db.query("SELECT count(*) FROM quarantine", &[])?);
            out.extend(db.query("SELECT value FROM counters", &[])?);
            Ok(out)
        })
        .unwrap()
}

fn seeds() -> Vec<u64> {
    if let Ok(s) = std::env::var("SANJIAN_SIM_SEED") {
        return vec![s.parse().unwrap()];
    }
    let n: u64 = std::env::var("SANJIAN_SIM_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(6);
    (1..=n).collect()
}

fn steps() -> usize {
    std::env::var("SANJIAN_SIM_STEPS").ok().and_then(|s| s.parse().ok()).unwrap_or(120)
}

#[test]
fn devices_and_server_converge_through_faults_and_nothing_is_lost() {
    for seed in seeds() {
        eprintln!("sim seed {seed}");
        run(seed, steps(), None);
    }
}

#[test]
fn the_same_simulation_converges_on_postgresql() {
    let url = pg_url();
    for seed in seeds().into_iter().take(3) {
        eprintln!("sim seed {seed} on PostgreSQL");
        run(seed, steps(), Some(&url));
    }
}

//! The app's one command interface: [`App::call`] takes a command name and
//! JSON arguments and answers JSON or an [`ApiError`]. The Tauri shell and
//! the local HTTP server (`web`) both forward to it, so a screen tested in a
//! browser runs the same Rust code as in the app.
//!
//! States: `new` (no store yet: set a PIN, then enrol or go standalone),
//! `locked` (a store, waiting for its PIN) and `open`.

use crate::api::{ApiError, Result};
use crate::codes;
use crate::device::{self, DeviceInfo};
use crate::pin::{self, LockFile};
use crate::{cards, forms};
use registry::Date;
use registry::model::{Record, RecordId, RecordKind};
use serde::Deserialize;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use store::{ListRow, Store};
use sync::http::{AutoSync, AutoSyncConfig, SyncStatus};

/// How an [`App`] runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Holds `device.db` (the encrypted store) and `lock.json`.
    pub dir: PathBuf,
    /// Time between background syncs while online.
    pub sync_interval: Duration,
    /// First wait before probing an unreachable server again.
    pub first_retry: Duration,
    /// A fixed date instead of the clock (tests and demos).
    pub today: Option<Date>,
    /// An extra certificate authority for the county server (PEM).
    pub ca_pem: Option<Vec<u8>>,
}

impl Config {
    pub fn new(dir: impl Into<PathBuf>) -> Config {
        Config {
            dir: dir.into(),
            sync_interval: Duration::from_secs(300),
            first_retry: Duration::from_secs(2),
            today: None,
            ca_pem: None,
        }
    }
}

struct Open {
    store: Arc<Mutex<Store>>,
    sync: Option<AutoSync>,
    info: DeviceInfo,
}

/// The app's backend.
pub struct App {
    config: Config,
    rt: tokio::runtime::Runtime,
    open: Mutex<Option<Open>>,
    /// The outbox's length when last read: the status line shows it while a
    /// sync session holds the store.
    outbox: std::sync::atomic::AtomicU64,
    /// The county wiped this device's data (said once by the next status).
    wiped: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("dir", &self.config.dir).finish_non_exhaustive()
    }
}

/// Beijing time, the one civil time of mainland China: "today" follows the
/// surveyor's wall calendar, not UTC's.
pub use store::clock::china_today;

fn now_ms() -> u64 {
    sync::http::now_ms()
}

fn args<T: for<'de> Deserialize<'de>>(v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| ApiError::bad_args(&e.to_string()))
}

fn to_json<T: serde::Serialize>(v: T) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| ApiError::bad_args(&e.to_string()))
}

fn kind_of(key: &str) -> Result<RecordKind> {
    RecordKind::from_key(key).ok_or_else(|| ApiError::bad_args(&format!("unknown kind {key}")))
}

pub const DB_FILE: &str = "device.db";

impl App {
    pub fn new(config: Config) -> Result<App> {
        std::fs::create_dir_all(&config.dir)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("sanjian-sync")
            .enable_all()
            .build()?;
        Ok(App { config, rt, open: Mutex::new(None), outbox: Default::default(), wiped: Default::default() })
    }

    fn db_path(&self) -> PathBuf {
        self.config.dir.join(DB_FILE)
    }

    pub fn dir(&self) -> &Path {
        &self.config.dir
    }

    fn today(&self) -> Date {
        self.config.today.unwrap_or_else(china_today)
    }

    fn opened(&self) -> MutexGuard<'_, Option<Open>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The open store, or `APP_LOCKED`.
    fn store(&self) -> Result<Arc<Mutex<Store>>> {
        self.opened().as_ref().map(|o| o.store.clone()).ok_or_else(ApiError::locked)
    }

    fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        let store = self.store()?;
        let mut guard = store.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// Runs one command. Unknown commands and malformed arguments are
    /// refused with `BAD_ARGUMENTS`; nothing panics on bad input.
    pub fn call(&self, cmd: &str, a: Value) -> Result<Value> {
        match cmd {
            "status" => self.status(),
            "setup" => self.setup(args(a)?),
            "unlock" => self.unlock(args(a)?),
            "lock" => {
                self.close();
                self.status()
            }
            "reset" => self.reset(args(a)?),
            "check_wipe" => self.check_wipe(),
            "forms" => Ok(forms::all()),
            "home" => self.home(),
            "worklist" => {
                #[derive(serde::Deserialize)]
                struct WorklistArgs {
                    #[serde(default)]
                    limit: Option<usize>,
                }
                let a: WorklistArgs = args(a)?;
                let today = self.today();
                self.with_store(|s| to_json(s.worklist(today, a.limit.unwrap_or(200).clamp(1, 2000))?))
            }
            "union_figures" => {
                // A union's 入会率 and 发证率 from what this device holds.
                let a: PosterArgs = args(a)?;
                let today = self.today();
                self.with_store(|s| {
                    let config = s.campaign(today.year())?;
                    let report = s.progress_by_union(&config, today)?;
                    to_json(report.townships.into_iter().find(|u| u.id == a.union))
                })
            }
            "areas" => self.with_store(|s| to_json(s.areas()?)),
            "attach_photo" => self.attach_photo(args(a)?),
            "photo" => self.photo(args(a)?),
            "visits" => {
                let a: IdArgs = args(a)?;
                self.with_store(|s| to_json(s.visits_of(&a.id)?))
            }
            "map" => self.map(args(a)?),
            "blob_policy" => self.with_store(|s| {
                let policy: store::BlobPolicy = match s.sync_value(sync::blobs::POLICY)? {
                    Some(b) => serde_json::from_slice(&b).unwrap_or_default(),
                    None => store::BlobPolicy::default(),
                };
                let (waiting, bytes) = s.blobs_unpushed()?;
                Ok(json!({"policy": policy, "unpushed": waiting, "unpushed_bytes": bytes}))
            }),
            "set_blob_policy" => {
                let policy: store::BlobPolicy = args(a)?;
                if policy.days == Some(0) || policy.grids.iter().any(|g| !registry::keys::is_record_id(g.as_str())) {
                    return Err(ApiError::bad_args("grids, days"));
                }
                self.with_store(|s| {
                    s.set_sync_value(sync::blobs::POLICY, &serde_json::to_vec(&policy).unwrap_or_default())?;
                    Ok(())
                })?;
                self.nudge_sync();
                Ok(json!({"policy": policy}))
            }
            "validate" => self.validate(args(a)?),
            "save" => self.save(args(a)?),
            "get" => self.get(args(a)?),
            "settle" => self.settle(args(a)?),
            "delete" => self.delete(args(a)?),
            "list" => self.list(args(a)?),
            "search" => self.search(args(a)?),
            "transfer" => self.transfer(args(a)?),
            "add_visit" => self.add_visit(args(a)?),
            "issue_card" => {
                let a: IssueArgs = args(a)?;
                let today = self.today();
                let issued = self.with_store(|s| cards::issue(s, &a.member, a.years.unwrap_or(3), today))?;
                self.nudge_sync();
                to_json(issued)
            }
            "show_card" => {
                let a: IssueArgs = args(a)?;
                match self.with_store(|s| cards::kept(s, &a.member))? {
                    Some(card) => to_json(card),
                    None => Err(ApiError::from(codes::CARD_NOT_KEPT)),
                }
            }
            "licence_code" => {
                // The text a camera or a picture read from a business
                // licence's QR: its credit code, and the entity already
                // registered under it (check first, then register).
                let a: TextArgs = args(a)?;
                let Some(code) = registry::ids::CreditCode::find_in(&a.text) else {
                    return Err(ApiError::from(codes::LICENCE_QR_NO_CODE));
                };
                let registered = self.with_store(|s| Ok(s.find_by_credit_code(code.as_str())?))?;
                Ok(json!({"credit_code": code.as_str(), "registered": registered}))
            }
            "verify_card" => {
                let a: TextArgs = args(a)?;
                let today = self.today();
                self.with_store(|s| to_json(cards::verify(s, &a.text, today)?))
            }
            "sync_now" => {
                let guard = self.opened();
                let open = guard.as_ref().ok_or_else(ApiError::locked)?;
                match &open.sync {
                    Some(s) => {
                        s.sync_now();
                        Ok(json!({"started": true}))
                    }
                    None => Err(device::not_enrolled()),
                }
            }
            "sync_status" => Ok(self.sync_status()),
            // 由本人申请: the area's applications to join, kept at the county
            // (online only), decided here; a union's poster.
            "applications" => self.county_json("/api/applications?size=200", None),
            "decide_application" => {
                let a: DecideArgs = args(a)?;
                if a.id.len() != 64 || !a.id.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(ApiError::bad_args("id"));
                }
                let body = match a.decision.as_str() {
                    "confirm" => json!({"decision": "confirm"}),
                    "decline" => json!({"decision": "decline", "reason": a.reason.unwrap_or_default()}),
                    _ => return Err(ApiError::bad_args("decision")),
                };
                let decided = self.county_json(&format!("/api/applications/{}/decide", a.id), Some(&body))?;
                if decided.get("member_id").is_some_and(|m| !m.is_null()) {
                    // The member the county registered, here at once: the
                    // surveyor issues the card next.
                    let rt = self.rt.handle().clone();
                    self.with_store(|s| device::sync_once(s, &rt, &mut |_| {}).map(|_| ()))?;
                }
                Ok(decided)
            }
            "application_poster" => {
                // Made here, offline: the poster's tag is keyed by the
                // county's secret, which this device holds.
                let a: PosterArgs = args(a)?;
                self.with_store(|s| {
                    let Some(base) = device::connection(s)?.map(|(e, _)| e.base) else {
                        return Err(device::not_enrolled());
                    };
                    let Some(registry::model::Record::Union(u)) =
                        s.get(&a.union)?.filter(|r| r.deleted.is_none()).map(|r| r.record)
                    else {
                        return Err(ApiError::from(sync::codes::NOT_FOUND));
                    };
                    let township = s
                        .areas()?
                        .into_iter()
                        .find(|area| area.id == u.place.township)
                        .map(|area| area.name)
                        .unwrap_or_default();
                    let url = format!("{}/apply/{}", base.trim_end_matches('/'), s.county_secret().poster(&a.union));
                    Ok(json!({"union_name": u.name, "township": township, "qr_svg": cards::qr_svg(&url)?, "url": url}))
                })
            }
            "draft_get" => {
                let a: DraftArgs = args(a)?;
                let key = draft_key(&a.key)?;
                self.with_store(|s| {
                    let bytes = s.sync_value(&key)?.filter(|b| !b.is_empty());
                    Ok(bytes.and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or(Value::Null))
                })
            }
            "draft_put" => {
                let a: DraftArgs = args(a)?;
                let key = draft_key(&a.key)?;
                let bytes = serde_json::to_vec(&a.value).map_err(|e| ApiError::bad_args(&e.to_string()))?;
                self.with_store(|s| Ok(s.set_sync_value(&key, &bytes)?))?;
                Ok(json!({"saved": true}))
            }
            "draft_drop" => {
                let a: DraftArgs = args(a)?;
                let key = draft_key(&a.key)?;
                self.with_store(|s| Ok(s.set_sync_value(&key, &[])?))?;
                Ok(json!({"dropped": true}))
            }
            other => Err(ApiError::new(
                codes::UNKNOWN_COMMAND.code,
                format!("未知的操作：{other}"),
                format!("Unknown command: {other}"),
            )),
        }
    }

    // ---- lock, setup, unlock -------------------------------------------

    fn status(&self) -> Result<Value> {
        // The background sync heard that the county wiped this device.
        if matches!(self.sync_status().get("code").and_then(Value::as_str), Some("DEVICE_WIPED")) {
            self.wipe()?;
        }
        let lock = LockFile::read(&self.config.dir)?;
        let guard = self.opened();
        let state = match (&*guard, &lock, self.db_path().exists()) {
            (Some(_), _, _) => "open",
            (None, Some(_), true) => "locked",
            _ => "new",
        };
        let (failures, wait_ms) = lock.as_ref().map_or((0, 0), |l| (l.failures, l.wait_ms(now_ms())));
        let mut device = guard.as_ref().map(|o| o.info.clone());
        let store = guard.as_ref().map(|o| o.store.clone());
        drop(guard);
        // The scope as last heard from the server (it may have changed).
        if let (Some(d), Some(store)) = (device.as_mut(), store)
            && let Ok(s) = store.try_lock()
        {
            d.scope = device::scope(&s)?;
        }
        Ok(json!({
            "state": state,
            "failures": failures,
            "free_tries": pin::FREE_TRIES,
            "wait_ms": wait_ms,
            "device": device,
            "today": self.today(),
            "sync": self.sync_status(),
            "wiped": self.wiped.swap(false, std::sync::atomic::Ordering::Relaxed),
        }))
    }

    fn setup(&self, a: SetupArgs) -> Result<Value> {
        if self.db_path().exists() {
            return Err(ApiError::from(codes::ALREADY_SET_UP));
        }
        pin::check_new(&a.pin)?;
        if a.confirm.as_deref().is_some_and(|c| c != a.pin) {
            return Err(ApiError::from(codes::PIN_MISMATCH));
        }
        let mut lock = LockFile::new();
        let key = lock.derive(&a.pin)?;
        let (store, info) = match a.enrolment.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(text) => device::enrol(&self.db_path(), &key, text, self.config.ca_pem.clone(), self.rt.handle())?,
            None => device::standalone(&self.db_path(), &key, a.operator.as_deref().unwrap_or(""))?,
        };
        // The lock file goes last: a failed enrolment leaves the device new.
        let wipe = device::wipe_check(&store);
        if let Err(e) = wipe.and_then(|w| {
            lock.wipe = w;
            lock.write(&self.config.dir)
        }) {
            drop(store);
            let _ = self.remove_store();
            return Err(e);
        }
        self.start(store, info)?;
        self.status()
    }

    fn unlock(&self, a: PinArgs) -> Result<Value> {
        if self.opened().is_some() {
            return self.status();
        }
        let Some(mut lock) = LockFile::read(&self.config.dir)? else {
            return Err(ApiError::from(codes::NOT_SET_UP));
        };
        let wait = lock.wait_ms(now_ms());
        if wait > 0 {
            let secs = wait.div_ceil(1000);
            return Err(ApiError::new(
                codes::PIN_LOCKED.code,
                format!("PIN码错误次数过多，请{secs}秒后再试"),
                format!("Too many wrong PINs: try again in {secs} s"),
            )
            .with_detail(json!({"wait_ms": wait, "failures": lock.failures})));
        }
        // Count the try before making it: a crash cannot reset the count.
        lock.failures += 1;
        lock.last_failure_ms = now_ms();
        lock.write(&self.config.dir)?;
        let key = lock.derive(&a.pin)?;
        match Store::open(&self.db_path(), &key) {
            Ok(mut store) => {
                lock.failures = 0;
                lock.last_failure_ms = 0;
                lock.write(&self.config.dir)?;
                device::set_operator(&mut store)?;
                let info = device::info(&store)?;
                self.start(store, info)?;
                self.status()
            }
            Err(store::StoreError::WrongKeyOrCorrupt) if lock.failures >= pin::WIPE_AFTER => {
                // The store's key material goes with the store: nothing is
                // left on this tablet to guess against.
                self.remove_store()?;
                Err(ApiError::new(
                    codes::PIN_WIPED.code,
                    format!("PIN码连续错误{}次，本机数据已清除；请用新的注册码重新注册", pin::WIPE_AFTER),
                    format!("{} wrong PINs in a row: this device's data was wiped; enrol it again", pin::WIPE_AFTER),
                ))
            }
            Err(store::StoreError::WrongKeyOrCorrupt) => {
                let left = pin::FREE_TRIES.saturating_sub(lock.failures);
                Err(ApiError::new(
                    codes::PIN_WRONG.code,
                    format!("PIN码错误（还可再试{left}次，之后需等待）"),
                    format!("Wrong PIN ({left} tries left before a wait)"),
                )
                .with_detail(json!({"failures": lock.failures, "wait_ms": lock.wait_ms(now_ms())})))
            }
            Err(e) => Err(e.into()),
        }
    }

    fn start(&self, store: Store, info: DeviceInfo) -> Result<()> {
        let connection = device::connection(&store)?;
        let store = Arc::new(Mutex::new(store));
        let sync = match connection {
            Some((endpoint, token)) => {
                let mut config = AutoSyncConfig::new(endpoint, token);
                config.interval = self.config.sync_interval;
                config.backoff = sync::http::Backoff::new(self.config.first_retry, Duration::from_secs(300));
                let _guard = self.rt.enter();
                Some(AutoSync::start(store.clone(), config)?)
            }
            None => None,
        };
        *self.opened() = Some(Open { store, sync, info });
        Ok(())
    }

    /// Locks the app: stops the background sync and closes the store.
    pub fn close(&self) {
        if let Some(open) = self.opened().take()
            && let Some(sync) = open.sync
        {
            sync.stop();
        }
    }

    fn remove_store(&self) -> Result<()> {
        for name in [DB_FILE, "device.db-wal", "device.db-shm", "device.db-journal", "lock.json"] {
            match std::fs::remove_file(self.config.dir.join(name)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// The lock screen's check, when the county can be reached: a tablet the
    /// county asked to wipe (lost or stolen) deletes its store and lock
    /// file. Offline, or with no wipe check (standalone, older enrolment),
    /// nothing happens.
    fn check_wipe(&self) -> Result<Value> {
        let Some(check) = LockFile::read(&self.config.dir)?.and_then(|l| l.wipe) else {
            return Ok(json!({"wiped": false, "checked": false}));
        };
        let mut endpoint = sync::http::Endpoint::new(&check.base);
        endpoint.pin = check.pin.as_deref().and_then(sync::enrol::unhex).and_then(|p| p.try_into().ok());
        endpoint.ca_pem = self.config.ca_pem.clone();
        let asked = endpoint
            .client(Duration::from_secs(20))
            .map_err(ApiError::from)
            .and_then(|c| self.rt.block_on(sync::http::wipe_check(&c, &endpoint, &check.token)).map_err(Into::into));
        match asked {
            Ok(true) => {
                self.wipe()?;
                Ok(json!({"wiped": true, "checked": true}))
            }
            Ok(false) => Ok(json!({"wiped": false, "checked": true})),
            Err(_) => Ok(json!({"wiped": false, "checked": false})),
        }
    }

    /// Deletes the store and its lock file (the county's remote wipe).
    fn wipe(&self) -> Result<()> {
        self.close();
        self.remove_store()?;
        self.wiped.store(true, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// A forgotten PIN: the store is deleted so the device can be enrolled
    /// again. Only from the lock screen, and only with the typed word.
    fn reset(&self, a: ResetArgs) -> Result<Value> {
        if a.confirm != "RESET" && a.confirm != "重置" {
            return Err(ApiError::from(codes::RESET_NOT_CONFIRMED));
        }
        self.close();
        self.remove_store()?;
        self.status()
    }

    // ---- sync ------------------------------------------------------------

    /// A county operation over JSON with this device's token (online only).
    fn county_json(&self, path: &str, body: Option<&Value>) -> Result<Value> {
        let connection = self.with_store(|s| device::connection(s))?;
        let Some((endpoint, token)) = connection else { return Err(device::not_enrolled()) };
        let client = endpoint.client(Duration::from_secs(30))?;
        Ok(self.rt.block_on(sync::http::county_json(&client, &endpoint, &token, path, body))?)
    }

    fn nudge_sync(&self) {
        if let Some(Open { sync: Some(s), .. }) = &*self.opened() {
            s.sync_now();
        }
    }

    fn sync_status(&self) -> Value {
        let guard = self.opened();
        let Some(open) = &*guard else { return json!({"state": "locked"}) };
        use std::sync::atomic::Ordering;
        if let Some(n) = open.store.try_lock().ok().and_then(|s| s.outbox_len().ok()) {
            self.outbox.store(n, Ordering::Relaxed);
        }
        let outbox = self.outbox.load(Ordering::Relaxed);
        let Some(sync) = &open.sync else {
            return json!({"state": "standalone", "outbox": outbox});
        };
        let status = sync.status().borrow().clone();
        let mut v = match status {
            SyncStatus::Idle => json!({"state": "idle"}),
            SyncStatus::Offline { retry_in_ms } => json!({"state": "offline", "retry_in_ms": retry_in_ms}),
            SyncStatus::Syncing(p) => json!({
                "state": "syncing", "stage": p.stage.key(), "done": p.docs_done, "total": p.docs_total,
                "bytes_sent": p.bytes_sent, "bytes_received": p.bytes_received,
            }),
            SyncStatus::Synced { report, at_ms } => json!({
                "state": "synced", "at_ms": at_ms, "pushed": report.pushed, "pulled": report.pulled_changed,
                "quarantined": report.quarantined + report.local_quarantine,
            }),
            SyncStatus::Failed { code, message } => json!({"state": "failed", "code": code, "message": message}),
        };
        v["outbox"] = json!(outbox);
        v
    }

    // ---- home ----------------------------------------------------------------

    fn home(&self) -> Result<Value> {
        let today = self.today();
        let mut info = self.opened().as_ref().map(|o| o.info.clone());
        let (counts, worklist, progress) = self.with_store(|s| {
            if let Some(info) = info.as_mut() {
                info.scope = device::scope(s)?;
            }
            let mut counts = serde_json::Map::new();
            for kind in RecordKind::ALL {
                counts.insert(kind.key().into(), json!(s.count(*kind)?));
            }
            let config = s.campaign(today.year())?;
            Ok((counts, s.worklist(today, 20)?, s.progress(&config, today)?))
        })?;
        Ok(json!({
            "device": info,
            "today": today,
            "counts": counts,
            "worklist": worklist,
            "progress": {"county": progress.county, "townships": progress.townships, "goals": progress.goals},
            "sync": self.sync_status(),
            "wiped": self.wiped.swap(false, std::sync::atomic::Ordering::Relaxed),
        }))
    }

    // ---- photos and the map ----------------------------------------------------

    /// Keeps a photo taken or chosen on this device (a JPEG, resized by the
    /// UI): its metadata stripped, its bytes kept encrypted beside the
    /// records. Returns what the record's `photos` entry holds.
    fn attach_photo(&self, a: PhotoArgs) -> Result<Value> {
        let raw = crate::photos::base64_decode(&a.data)?;
        let clean = crate::photos::clean_jpeg(&raw)?;
        let taken_at = a.taken_at.unwrap_or_default().chars().take(16).collect::<String>();
        let hash = self.with_store(|s| Ok(s.put_blob(&clean.bytes)?))?;
        Ok(json!({
            "hash": hash,
            "photo": registry::model::PhotoRef {
                item: a.item.unwrap_or_default(),
                bytes: clean.bytes.len() as i64,
                width: i64::from(clean.width),
                height: i64::from(clean.height),
                taken_at,
                caption: String::new(),
            },
        }))
    }

    /// A photo's bytes (base64), or its state when not held whole yet:
    /// "not yet downloaded" is a state, not an error.
    fn photo(&self, a: HashArgs) -> Result<Value> {
        self.with_store(|s| {
            Ok(match s.blob(&a.hash)? {
                Some(bytes) => json!({"state": "present", "data": crate::photos::base64_encode(&bytes)}),
                None => serde_json::to_value(s.blob_state(&a.hash)?).unwrap_or_default(),
            })
        })
    }

    /// The visits with a position in a township or grid this year, and the
    /// area tree, for the map.
    fn map(&self, a: MapArgs) -> Result<Value> {
        let year = a.year.unwrap_or_else(|| self.today().year());
        self.with_store(|s| {
            let points = s.visit_points(year, a.township.as_ref(), a.grid.as_ref(), 20_000)?;
            Ok(json!({"year": year, "points": points}))
        })
    }

    // ---- records -------------------------------------------------------------

    fn validate(&self, a: ValidateArgs) -> Result<Value> {
        let today = self.today();
        let (record, issues) = forms::parse(&a.record, today)?;
        if a.id.is_some() {
            return Ok(json!({"record": record, "issues": issues, "duplicates": [], "registered": null}));
        }
        let (registered, duplicates) = self.with_store(|s| {
            let registered = s.registered(&record, today)?;
            let near: Vec<Value> = s
                .possible_duplicates(&record, today)?
                .into_iter()
                .filter(|r| registered.as_ref().is_none_or(|x| x.id != r.id))
                .map(|r| candidate(s, r))
                .collect::<Result<_>>()?;
            Ok((registered.map(|r| candidate(s, r)).transpose()?, near))
        })?;
        Ok(json!({"record": record, "issues": issues, "duplicates": duplicates, "registered": registered}))
    }

    fn save(&self, a: SaveArgs) -> Result<Value> {
        let today = self.today();
        let (record, issues) = forms::parse(&a.record, today)?;
        if registry::message::blocks_saving(&issues) {
            return Err(ApiError::invalid(issues));
        }
        let saved = self.with_store(|s| match &a.id {
            Some(id) => {
                // The county's campaigns ride on its area record; no form
                // edits them, so an edit keeps them as stored.
                let mut record = record;
                if let Record::Area(edited) = &mut record
                    && let Some(store::StoredRecord { record: Record::Area(stored), .. }) = s.get(id)?
                {
                    edited.campaigns = stored.campaigns;
                }
                Ok(s.update(id, record, today)?)
            }
            None => {
                // The same ID number or credit code is the same person or
                // entity: "open it", never "tick that it is not".
                if let Some(existing) = s.registered(&record, today)? {
                    return Err(ApiError::from(store::StoreError::Duplicate(existing.id.to_string())));
                }
                if !a.not_duplicate {
                    let dups = s.possible_duplicates(&record, today)?;
                    if !dups.is_empty() {
                        return Err(ApiError::from(codes::POSSIBLE_DUPLICATE).with_detail(json!({"duplicates": dups})));
                    }
                }
                match (&a.covers, &record) {
                    (Some(entity), Record::Union(_)) => Ok(found_union_for(s, record, entity, today)?),
                    _ => Ok(s.insert(record, today)?),
                }
            }
        })?;
        if saved.changed {
            self.nudge_sync();
        }
        to_json(saved)
    }

    /// A visit to a worker in hardship, added to the case as it is stored
    /// now (a copy the page loaded earlier would write older values back).
    fn add_visit(&self, a: AddVisitArgs) -> Result<Value> {
        let today = self.today();
        let saved = self.with_store(|s| {
            let Some(stored) = s.get(&a.id)?.filter(|r| r.deleted.is_none()) else {
                return Err(ApiError::from(sync::codes::NOT_FOUND));
            };
            let Record::Hardship(mut case) = stored.record else {
                return Err(ApiError::bad_args("id: not a hardship case"));
            };
            case.visits.insert(store::random_id().to_string(), a.visit);
            Ok(s.update(&a.id, Record::Hardship(case), today)?)
        })?;
        self.nudge_sync();
        to_json(saved)
    }

    fn get(&self, a: IdArgs) -> Result<Value> {
        let today = self.today();
        self.with_store(|s| {
            let Some(r) = s.get(&a.id)? else {
                return Err(ApiError::from(sync::codes::NOT_FOUND));
            };
            let conflicts = s.conflicts(&a.id)?;
            let history = s.history(&a.id)?;
            // The record page shows the ID number masked until 显示: the
            // mask is the registry's, the one the county's ledgers use.
            let resident_id = match &r.record {
                registry::model::Record::Member(m) => Some(m.resident_id.as_str()),
                registry::model::Record::Cadre(c) => c.resident_id.as_deref(),
                registry::model::Record::Hardship(h) => h.resident_id.as_deref(),
                _ => None,
            };
            let masked = json!({ "resident_id": resident_id.map(registry::privacy::mask_id) });
            let findings = if r.deleted.is_some() { Vec::new() } else { findings(s, &r.id, &r.record, today)? };
            let suggest_union = match &r.record {
                Record::Entity(e) if r.deleted.is_none() => union_to_found(s, e, today)?,
                _ => None,
            };
            Ok(json!({
                "id": r.id, "record": r.record, "masked": masked, "deleted": r.deleted, "returned": r.returned,
                "conflicts": conflicts, "history": history, "findings": findings, "suggest_union": suggest_union,
            }))
        })
    }

    fn settle(&self, a: SettleArgs) -> Result<Value> {
        let today = self.today();
        let saved = self.with_store(|s| Ok(s.settle(&a.id, &a.field, &a.value, today)?))?;
        self.nudge_sync();
        to_json(saved)
    }

    fn delete(&self, a: DeleteArgs) -> Result<Value> {
        if a.reason.trim().is_empty() {
            return Err(ApiError::from(codes::DELETE_REASON_REQUIRED));
        }
        self.with_store(|s| Ok(s.delete(&a.id, a.reason.trim())?))?;
        self.nudge_sync();
        Ok(json!({"deleted": a.id}))
    }

    fn list(&self, a: ListArgs) -> Result<Value> {
        let kind = kind_of(&a.kind)?;
        let limit = a.limit.unwrap_or(50).clamp(1, 500);
        self.with_store(|s| {
            let rows = match (&a.union_id, &a.township) {
                (Some(u), _) => s.list_in_union(u, kind, limit)?,
                (None, Some(t)) => s.list_in_area(kind, t, a.grid.as_ref(), limit)?,
                (None, None) => {
                    let after = a.after.as_ref().map(|c| ListRow {
                        id: c.id.clone(),
                        kind,
                        name: c.name.clone(),
                        township: None,
                        grid: None,
                        union_id: None,
                        conflicts: 0,
                    });
                    s.list(kind, after.as_ref(), limit)?
                }
            };
            Ok(json!({"rows": rows, "total": s.count(kind)?}))
        })
    }

    /// Search as you type: a resident ID or credit code finds its record
    /// exactly; anything else is any part of a name (prefix matches first).
    fn search(&self, a: SearchArgs) -> Result<Value> {
        let today = self.today();
        let q = a.q.trim();
        let kind = a.kind.as_deref().filter(|k| !k.is_empty()).map(kind_of).transpose()?;
        let limit = a.limit.unwrap_or(30).clamp(1, 200);
        if q.is_empty() {
            return Ok(json!({"rows": []}));
        }
        self.with_store(|s| {
            let looks_like_number = q.len() >= 15 && q.chars().all(|c| c.is_ascii_alphanumeric());
            let mut rows = Vec::new();
            if looks_like_number {
                if let Ok(found) = s.find_by_resident_id(q, today) {
                    rows.extend(found);
                }
                if let Ok(found) = s.find_by_credit_code(q) {
                    rows.extend(found);
                }
                rows.retain(|r: &ListRow| kind.is_none_or(|k| r.kind == k));
            }
            if rows.is_empty() {
                rows = s.search_name(kind, q, limit)?;
            }
            Ok(json!({"rows": rows}))
        })
    }

    /// Moves a member to another union: the transfer record (接转登记) and
    /// the member's new union, checked together and written in one
    /// transaction (both or neither).
    fn transfer(&self, a: TransferArgs) -> Result<Value> {
        let today = self.today();
        let out = self.with_store(|s| {
            let Some(stored) = s.get(&a.member)? else {
                return Err(ApiError::from(sync::codes::NOT_FOUND));
            };
            let Record::Member(mut m) = stored.record else {
                return Err(ApiError::from(codes::TRANSFER_NOT_A_MEMBER));
            };
            if m.union_id == a.to_union {
                return Err(ApiError::from(registry::validate::TRANSFER_SAME_UNION));
            }
            let Some(to) = s.get(&a.to_union)?.filter(|r| matches!(r.record, Record::Union(_)) && r.deleted.is_none())
            else {
                return Err(ApiError::from(codes::TRANSFER_NO_UNION));
            };
            let transfer = Record::Transfer(registry::model::Transfer {
                member_id: a.member.clone(),
                member_name: m.name.clone(),
                from_union: m.union_id.clone(),
                to_union: a.to_union.clone(),
                date: a.date,
                reason: a.reason,
                note: a.note.clone().unwrap_or_default(),
                place: to.record.place().cloned().unwrap_or_default(),
            });
            let mut check = transfer.clone();
            let issues = registry::validate::check(&mut check, today);
            if registry::message::blocks_saving(&issues) {
                return Err(ApiError::invalid(issues));
            }
            m.union_id = a.to_union.clone();
            if let Some(place) = to.record.place() {
                m.place = place.clone();
            }
            let saved = s.batch(today, |b| {
                b.update(&a.member, Record::Member(m))?;
                b.insert(transfer)
            })?;
            Ok(json!({"transfer": saved.id, "member": a.member}))
        })?;
        self.nudge_sync();
        Ok(out)
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.close();
    }
}

#[derive(Deserialize)]
struct SetupArgs {
    pin: String,
    #[serde(default)]
    confirm: Option<String>,
    #[serde(default)]
    enrolment: Option<String>,
    #[serde(default)]
    operator: Option<String>,
}

#[derive(Deserialize)]
struct PinArgs {
    pin: String,
}

#[derive(Deserialize)]
struct ResetArgs {
    confirm: String,
}

#[derive(Deserialize)]
struct ValidateArgs {
    record: Value,
    #[serde(default)]
    id: Option<RecordId>,
}

#[derive(Deserialize)]
struct SaveArgs {
    record: Value,
    #[serde(default)]
    id: Option<RecordId>,
    /// The surveyor looked at the similar records and this is not one of them.
    #[serde(default)]
    not_duplicate: bool,
    /// A new union founded for this entity (the door flow's 为该单位建会):
    /// the union and the entity's `union_id` are written together.
    #[serde(default)]
    covers: Option<RecordId>,
}

#[derive(Deserialize)]
struct AddVisitArgs {
    id: RecordId,
    visit: registry::model::Visit,
}

#[derive(Deserialize)]
struct PhotoArgs {
    /// The JPEG, base64 (a data: URL is accepted).
    data: String,
    /// When it was taken, "YYYY-MM-DD HH:MM".
    #[serde(default)]
    taken_at: Option<String>,
    #[serde(default)]
    item: Option<String>,
}

#[derive(Deserialize)]
struct HashArgs {
    hash: String,
}

#[derive(Deserialize)]
struct MapArgs {
    #[serde(default)]
    year: Option<i32>,
    #[serde(default)]
    township: Option<RecordId>,
    #[serde(default)]
    grid: Option<RecordId>,
}

#[derive(Deserialize)]
struct IdArgs {
    id: RecordId,
}

#[derive(Deserialize)]
struct SettleArgs {
    id: RecordId,
    field: String,
    value: Value,
}

#[derive(Deserialize)]
struct DeleteArgs {
    id: RecordId,
    reason: String,
}

#[derive(Deserialize)]
struct Cursor {
    id: RecordId,
    name: String,
}

#[derive(Deserialize)]
struct ListArgs {
    kind: String,
    #[serde(default)]
    after: Option<Cursor>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    union_id: Option<RecordId>,
    #[serde(default)]
    township: Option<RecordId>,
    #[serde(default)]
    grid: Option<RecordId>,
}

#[derive(Deserialize)]
struct SearchArgs {
    q: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

#[derive(Deserialize)]
struct TransferArgs {
    member: RecordId,
    to_union: RecordId,
    date: Date,
    reason: registry::model::TransferReason,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
struct DecideArgs {
    id: String,
    decision: String,
    reason: Option<String>,
}

#[derive(Deserialize)]
struct PosterArgs {
    union: RecordId,
}

#[derive(Deserialize)]
struct IssueArgs {
    member: RecordId,
    #[serde(default)]
    years: Option<u32>,
}

/// A form's unsaved input, kept inside the encrypted store (never in the
/// webview's storage, which is a plain file) so a closed app loses nothing.
#[derive(Deserialize)]
struct DraftArgs {
    key: String,
    #[serde(default)]
    value: Value,
}

fn draft_key(key: &str) -> Result<String> {
    let ok = !key.is_empty() && key.len() <= 80 && key.chars().all(|c| c.is_ascii_alphanumeric() || "-_:.".contains(c));
    if ok { Ok(format!("draft.{key}")) } else { Err(ApiError::bad_args("draft key")) }
}

/// The kind of union to found for an entity no union covers today (the
/// registry's `union_requirement`: its own from 25 workers, else a joint
/// one), or None when it is covered or has no workers.
fn union_to_found(s: &Store, e: &registry::model::LegalEntity, today: Date) -> Result<Option<&'static str>> {
    use registry::model::UnionKind;
    use registry::rules::{self, UnionRequirement};
    if e.closed || rules::covering(standing_of(s, e.union_id.as_ref())?, today).is_some() {
        return Ok(None);
    }
    Ok(match rules::union_requirement(e.workers).value {
        UnionRequirement::MustFoundOwn => Some(UnionKind::SingleUnit.key()),
        UnionRequirement::JointOrCommunity => Some(UnionKind::Joint.key()),
        UnionRequirement::NoWorkers => None,
    })
}

/// The standing of the union an id names, as this device knows it (held,
/// or a stub of one outside its scope).
fn standing_of(s: &Store, union: Option<&RecordId>) -> Result<Option<registry::rules::UnionStanding>> {
    let Some(u) = union else { return Ok(None) };
    Ok(s.union_standing(u)?)
}

/// A union founded for an entity, and the entity now covered by it: one
/// transaction, so neither is written without the other.
fn found_union_for(s: &mut Store, union: Record, entity: &RecordId, today: Date) -> Result<store::Saved> {
    Ok(s.batch(today, |b| {
        let saved = b.insert(union)?;
        let Some(store::StoredRecord { record: Record::Entity(mut e), deleted: None, .. }) = b.get(entity)? else {
            return Err(store::StoreError::NotFound(entity.to_string()));
        };
        e.union_id = Some(saved.id.clone());
        b.update(entity, Record::Entity(e))?;
        Ok(saved)
    })?)
}

/// What the plan's rules say about an entity or a union, as the record page
/// shows it (a new union with no chair is told so at once, with the way to
/// register one): the registry's explained verdicts, over what this device
/// holds.
fn findings(s: &Store, id: &RecordId, record: &Record, today: Date) -> Result<Vec<registry::rules::Finding>> {
    Ok(match record {
        Record::Entity(e) => {
            let standing = standing_of(s, e.union_id.as_ref())?;
            registry::rules::entity_findings(e, registry::rules::covering(standing, today))
        }
        Record::Union(u) => {
            let mut cadres = Vec::new();
            for row in s.list_in_union(id, RecordKind::Cadre, 2000)? {
                if let Some(Record::Cadre(c)) = s.get(&row.id)?.filter(|r| r.deleted.is_none()).map(|r| r.record) {
                    cadres.push(c);
                }
            }
            let mut covered = Vec::new();
            for row in s.list_in_union(id, RecordKind::Entity, 2000)? {
                if let Some(Record::Entity(e)) = s.get(&row.id)?.filter(|r| r.deleted.is_none()).map(|r| r.record) {
                    covered.push(e);
                }
            }
            registry::rules::union_findings(
                u,
                &cadres.iter().collect::<Vec<_>>(),
                &covered.iter().collect::<Vec<_>>(),
                today,
            )
        }
        _ => Vec::new(),
    })
}

#[derive(Deserialize)]
struct TextArgs {
    text: String,
}

/// A record offered as already registered or as a possible duplicate, with
/// what tells two people (or entities) apart at a glance: the birth date,
/// the union's name, the ID number masked (someone may be looking over the
/// surveyor's shoulder).
fn candidate(s: &Store, row: store::ListRow) -> Result<Value> {
    let mut v = serde_json::to_value(&row).map_err(|e| ApiError::new("BACKEND_ERROR", "后台出错", e.to_string()))?;
    let union_name = |id: &registry::model::RecordId| -> Result<Option<String>> {
        Ok(s.get(id)?.map(|r| r.record.display_name().to_owned()))
    };
    match s.get(&row.id)?.map(|r| r.record) {
        Some(registry::model::Record::Member(m)) => {
            v["birth_date"] = json!(m.birth_date);
            v["masked_id"] = json!(registry::privacy::mask_id(&m.resident_id));
            v["union_name"] = json!(union_name(&m.union_id)?);
            v["employer_name"] = json!(m.employer_name);
        }
        Some(registry::model::Record::Entity(e)) => {
            v["workers"] = json!(e.workers);
            if let Some(u) = &e.union_id {
                v["union_name"] = json!(union_name(u)?);
            }
        }
        _ => {}
    }
    Ok(v)
}

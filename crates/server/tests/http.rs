//! The server over real HTTP(S): the axum router on a loopback port, devices
//! enrolled and synced through the reqwest transport. Every test runs on
//! SQLite and on the throwaway PostgreSQL the test script starts.

use crate::util::*;
use automerge::transaction::Transactable;
use registry::model::*;
use server::auth;
use std::sync::Arc;
use store::{Init, Store};
use sync::client::{self, Options, Transport, path};
use sync::enrol::EnrolmentText;
use sync::http::{Endpoint, HttpTransport};
use sync::wire::{self, Message as _};
use sync::{Scope, SyncError};

#[derive(Debug, Clone, Copy)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

pub(crate) const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

/// A running server with the small county imported and an admin signed in.
pub(crate) struct Running {
    pub(crate) rt: tokio::runtime::Runtime,
    pub(crate) endpoint: Endpoint,
    pub(crate) state: Arc<server::AppState>,
    pub(crate) http: reqwest::Client,
    pub(crate) admin: String,
    pub(crate) county: County,
    pub(crate) stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub(crate) _dir: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub(crate) fn start(backend: Backend) -> Running {
    start_with(backend, None)
}

pub(crate) fn start_with(backend: Backend, tls: Option<server::tls::Tls>) -> Running {
    start_full(backend, tls, false)
}

/// A server keeping its blobs on the test's S3-compatible store.
pub(crate) fn start_s3(backend: Backend) -> Running {
    start_full(backend, None, true)
}

pub(crate) fn start_full(backend: Backend, tls: Option<server::tls::Tls>, s3: bool) -> Running {
    start_county(backend, tls, s3, small_county(3))
}

/// A server holding `county`.
pub(crate) fn start_county(backend: Backend, tls: Option<server::tls::Tls>, s3: bool, county: County) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let db = match backend {
        Backend::Sqlite => server::Db::sqlite(&dir.path().join("server.db")).unwrap(),
        Backend::Postgres => server::Db::postgres(&fresh_pg_database(&pg_url(), 0), 4).unwrap(),
    };
    let keys = server::ServerKeys { county_secret: *secret().as_bytes(), data_key: [5; 32], card_root: [3; 32] };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let base = format!("{scheme}://localhost:{port}");
    let sealer = sync::server::Sealer::new(&keys.data_key);
    let blobs: Arc<dyn sync::blobs::BlobStore> = if s3 {
        let store = sync::s3::S3Blobs::new(s3_config(), sealer, rt.handle().clone()).unwrap();
        let store = std::thread::scope(|t| t.spawn(|| store.ensure_bucket().map(|()| store)).join().unwrap()).unwrap();
        Arc::new(store)
    } else {
        Arc::new(sync::blobs::DiskBlobs::new(dir.path().join("blobs"), sealer).unwrap())
    };
    let mut state = server::AppState::new(db, keys, base.clone());
    state.pin = tls.as_ref().map(|t| t.fingerprint);
    state.blobs = Some(blobs);
    let state = Arc::new(state);

    let ctx = state.ctx();
    state
        .db
        .tx(|db| {
            for (id, r) in &county.records {
                let mut doc = store::new_document(id, r.clone(), [0xcc; 16], "import", TODAY).unwrap();
                sync::server::import(db, &ctx, id, &mut doc)?;
            }
            auth::create_user(db, "admin", auth::Role::CountyAdmin, "correct horse")?;
            auth::create_user(db, "clerk", auth::Role::TownshipStaff, "battery staple")?;
            Ok(())
        })
        .unwrap();

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let st = state.clone();
    match tls.clone() {
        Some(tls) => rt.spawn(async move { server::serve_tls_on(listener, &tls, st, shutdown).await.unwrap() }),
        None => rt.spawn(async move { server::serve_on(listener, st, shutdown).await.unwrap() }),
    };
    let mut endpoint = Endpoint::new(&base);
    endpoint.pin = tls.map(|t| t.fingerprint);
    let http = endpoint.client(std::time::Duration::from_secs(30)).unwrap();
    let admin = {
        let login = http
            .post(format!("{base}/api/login"))
            .json(&serde_json::json!({"username": "admin", "password": "correct horse"}));
        let resp = rt.block_on(async { login.send().await }).unwrap();
        assert_eq!(resp.status(), 200);
        let v: serde_json::Value = rt.block_on(resp.json()).unwrap();
        v["token"].as_str().unwrap().to_owned()
    };
    Running { rt, endpoint, state, http, admin, county, stop: Some(stop), _dir: dir }
}

/// A push of everything a store has to send, as the client would build it.
pub(crate) fn push_request(store: &Store) -> wire::PushRequest {
    let docs = store
        .outgoing(10, 1 << 20)
        .unwrap()
        .into_iter()
        .map(|o| wire::PushDoc { id: o.id, heads: o.heads.iter().map(|h| h.0).collect(), bytes: o.bytes })
        .collect();
    wire::PushRequest { docs }
}

/// An enrolled device: its store and token.
pub(crate) struct Device {
    pub(crate) store: Store,
    pub(crate) token: String,
    pub(crate) id: String,
    /// The county's card root key the enrolment gave (kept with the lists).
    pub(crate) card_root: Option<Vec<u8>>,
}

impl Running {
    pub(crate) fn post_json(
        &self,
        path: &str,
        token: Option<&str>,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let mut req = self.http.post(format!("{}{path}", self.endpoint.base)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.answer(req)
    }

    pub(crate) fn answer(&self, req: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
        self.rt.block_on(async {
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap();
            (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
        })
    }

    /// A raw sync request: status and body.
    pub(crate) fn raw(&self, p: &str, token: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
        let req = self.http.post(format!("{}{p}", self.endpoint.base)).bearer_auth(token).body(body);
        self.rt.block_on(async {
            let resp = req.send().await.unwrap();
            (resp.status().as_u16(), resp.bytes().await.unwrap().to_vec())
        })
    }

    /// Enrols a device the way the app does: the admin creates the code,
    /// the device redeems the code's text.
    pub(crate) fn enrol(&self, grant: serde_json::Value, actor: u8) -> Device {
        let (status, v) = self.post_json("/api/enrolments", Some(&self.admin), &grant);
        assert_eq!(status, 200, "{v}");
        let text = EnrolmentText::parse(v["text"].as_str().unwrap()).unwrap();
        assert_eq!(text.base, self.endpoint.base);
        assert_eq!(text.pin, self.endpoint.pin);
        let creds = self.rt.block_on(sync::http::redeem(&self.http, &text, [actor; 16], [actor; 32])).unwrap();
        assert_eq!(creds.county_secret, auth::hex(secret().as_bytes()));
        let mut store = Store::in_memory(&Init { county_secret: secret(), device_id: Some([actor; 16]) }).unwrap();
        store.set_operator(&creds.person);
        Device { store, token: creds.token, id: creds.device_id, card_root: auth::unhex(&creds.card_root) }
    }

    /// Fetches the county's signed card lists into the device and keeps
    /// them, as the app does after a sync (`field::device`).
    pub(crate) fn keep_card_lists(&self, dev: &mut Device) {
        if let Some(root) = &dev.card_root {
            dev.store.set_sync_value(sync::http::card_keys::ROOT, root).unwrap();
        }
        let (trust, revoked) = self.rt.block_on(sync::http::fetch_card_lists(&self.http, &self.endpoint)).unwrap();
        sync::http::keep_card_lists(&mut dev.store, &trust, &revoked).unwrap();
    }

    /// [`Running::enrol`] with the device's store in an encrypted file.
    pub(crate) fn enrol_on_disk(&self, grant: serde_json::Value, actor: u8, path: &std::path::Path) -> Device {
        let mut dev = self.enrol(grant, actor);
        let mut store = Store::create(
            path,
            &store::StoreKey::from_bytes([actor; 32]),
            &Init { county_secret: secret(), device_id: Some([actor; 16]) },
        )
        .unwrap();
        store.set_operator("走访员");
        dev.store = store;
        dev
    }

    pub(crate) fn transport(&self, token: &str) -> HttpTransport {
        HttpTransport::new(self.http.clone(), &self.endpoint, token, self.rt.handle().clone())
    }

    pub(crate) fn sync(&self, dev: &mut Device) -> Result<client::Report, SyncError> {
        let mut t = self.transport(&dev.token);
        client::sync(&mut dev.store, &mut t, &Options::default(), &mut |_| {})
    }

    pub(crate) fn stats(&self) -> (u64, i64) {
        self.state.db.tx(|db| sync::server::stats(db)).unwrap()
    }

    pub(crate) fn server_heads(&self, id: &RecordId) -> Option<Vec<[u8; 32]>> {
        self.state.db.tx(|db| sync::server::heads_of(db, id)).unwrap()
    }

    pub(crate) fn quarantine_codes(&self) -> Vec<(String, String)> {
        let req = self.http.get(format!("{}/api/quarantine", self.endpoint.base)).bearer_auth(&self.admin);
        let (status, v) = self.answer(req);
        assert_eq!(status, 200);
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["doc"].as_str().unwrap().to_owned(), i["code"].as_str().unwrap().to_owned()))
            .collect()
    }

    pub(crate) fn township_grant(&self, i: usize) -> serde_json::Value {
        serde_json::json!({"person": format!("员{i}"), "role": "township_staff", "townships": [self.county.townships[i]]})
    }

    /// A member of township `t` not yet on the server: a new registration.
    pub(crate) fn new_member_in(&self, t: usize, name: &str) -> Record {
        let township = &self.county.townships[t];
        let (_, template) = self
            .county
            .records
            .iter()
            .find(|(id, r)| r.kind() == RecordKind::Member && r.region(id).township.as_ref() == Some(township))
            .unwrap();
        let mut record = template.clone();
        if let Record::Member(m) = &mut record {
            m.name = name.into();
            // A different, valid resident ID number makes a different
            // person: the template's place and birth date, a new sequence
            // number of the same parity (the same sex).
            static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(400);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let parity = m.resident_id.as_bytes()[16] - b'0';
            let first17 = format!("{}{:03}", &m.resident_id[..14], (n * 2 + u32::from(parity % 2)) % 1000);
            m.resident_id = registry::ids::ResidentId::from_first17(&first17).unwrap().as_str().to_owned();
        }
        record
    }
}

/// Every record a device holds, with its region.
pub(crate) fn held(store: &Store) -> Vec<(RecordId, Record)> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store.known_heads(after.as_ref(), 500).unwrap();
        let Some((last, _)) = page.last() else { break };
        after = Some(last.clone());
        for (id, _) in page {
            if let Some(r) = store.get(&id).unwrap() {
                out.push((id, r.record));
            }
        }
    }
    out
}

pub(crate) fn each_backend(test: impl Fn(Backend)) {
    for b in BACKENDS {
        eprintln!("backend {b:?}");
        test(b);
    }
}

#[test]
fn a_township_device_reads_and_writes_only_its_township() {
    each_backend(|b| {
        let s = start(b);
        let mut a = s.enrol(s.township_grant(0), 1);
        let mut other = s.enrol(s.township_grant(1), 2);
        s.sync(&mut a).unwrap();
        s.sync(&mut other).unwrap();

        // Read: A holds its township's records and the county's areas, nothing of B's.
        let scope_a = Scope { version: 0, all: false, townships: vec![s.county.townships[0].clone()], grids: vec![] };
        let a_holds = held(&a.store);
        assert!(a_holds.iter().any(|(_, r)| r.kind() == RecordKind::Member));
        for (id, r) in &a_holds {
            assert!(scope_a.can_read(r.kind(), &r.region(id)), "{id} ({:?}) leaked to township A", r.kind());
        }
        let b_member = s
            .county
            .records
            .iter()
            .find(|(id, r)| {
                r.kind() == RecordKind::Member && r.region(id).township.as_ref() == Some(&s.county.townships[1])
            })
            .unwrap()
            .0
            .clone();
        assert!(a.store.get(&b_member).unwrap().is_none());

        // Asking for B's record by id does not reveal it, nor that it exists.
        let mut t = s.transport(&a.token);
        let req = wire::FetchRequest { ids: vec![b_member.clone()] };
        let resp = wire::FetchResponse::decode(&t.call(path::FETCH, req.encode()).unwrap()).unwrap();
        assert!(resp.docs.is_empty() && resp.hidden.is_empty());
        assert_eq!(resp.absent, vec![b_member.clone()]);

        // Write: A registers a member of township B; the server quarantines
        // it, stores nothing, and B never sees it.
        let before = s.stats();
        let record = s.new_member_in(1, "越界登记");
        let saved = a.store.insert(record, TODAY).unwrap();
        let report = s.sync(&mut a).unwrap();
        assert_eq!(report.quarantined, 1);
        assert_eq!(s.server_heads(&saved.id), None);
        assert_eq!(s.stats(), before);
        assert!(s.quarantine_codes().contains(&(saved.id.to_string(), "OUT_OF_SCOPE".into())));
        s.sync(&mut other).unwrap();
        assert!(other.store.get(&saved.id).unwrap().is_none());

        // A registration in its own township goes through and reaches the
        // other device of the same township, not B's.
        let mut a2 = s.enrol(s.township_grant(0), 3);
        let mine = a.store.insert(s.new_member_in(0, "本镇登记"), TODAY).unwrap();
        s.sync(&mut a).unwrap();
        assert!(s.server_heads(&mine.id).is_some());
        s.sync(&mut a2).unwrap();
        s.sync(&mut other).unwrap();
        assert!(a2.store.get(&mine.id).unwrap().is_some());
        assert!(other.store.get(&mine.id).unwrap().is_none());
    });
}

#[test]
fn a_revoked_device_is_refused_and_what_it_pushed_is_kept() {
    each_backend(|b| {
        let s = start(b);
        let mut a = s.enrol(s.township_grant(0), 1);
        s.sync(&mut a).unwrap();
        let saved = a.store.insert(s.new_member_in(0, "停用前登记"), TODAY).unwrap();

        // A township clerk may not revoke; the admin may.
        let (status, v) =
            s.post_json("/api/login", None, &serde_json::json!({"username": "clerk", "password": "battery staple"}));
        assert_eq!(status, 200);
        let clerk = v["token"].as_str().unwrap().to_owned();
        let (status, v) = s.post_json(&format!("/api/devices/{}/revoke", a.id), Some(&clerk), &serde_json::json!({}));
        assert_eq!((status, v["code"].as_str()), (403, Some("FORBIDDEN")));
        let (status, _) = s.post_json(&format!("/api/devices/{}/revoke", a.id), Some(&s.admin), &serde_json::json!({}));
        assert_eq!(status, 200);
        let req = s.http.get(format!("{}/api/devices", s.endpoint.base)).bearer_auth(&s.admin);
        let (_, devices) = s.answer(req);
        let listed = devices.as_array().unwrap().iter().find(|d| d["id"] == a.id.as_str()).unwrap();
        assert_eq!(listed["revoked"], true);

        let before = s.stats();
        match s.sync(&mut a) {
            Err(SyncError::Refused { status: 401, code, message }) => {
                assert_eq!(code, "DEVICE_REVOKED");
                assert!(message.zh.contains("停用"));
            }
            other => panic!("a revoked device synced: {other:?}"),
        }
        // Not applied, not lost: in the quarantine for the county to review,
        // and still in the device's outbox.
        assert_eq!(s.stats(), before);
        assert!(s.quarantine_codes().contains(&(saved.id.to_string(), "DEVICE_REVOKED".into())));
        assert_eq!(a.store.outbox_len().unwrap(), 1);
        // Pulls are refused too.
        let (status, body) = s.raw(path::PULL, &a.token, wire::PullRequest::default().encode());
        assert_eq!(status, 401);
        assert!(String::from_utf8_lossy(&body).contains("DEVICE_REVOKED"));
    });
}

#[test]
fn a_change_authored_by_another_device_is_refused() {
    each_backend(|b| {
        let s = start(b);
        let a = s.enrol(s.township_grant(0), 1);
        let _other = s.enrol(s.township_grant(0), 2);
        // A document written by device 2 (its actor), pushed with A's token.
        let mut forger = Store::in_memory(&Init { county_secret: secret(), device_id: Some([2; 16]) }).unwrap();
        let saved = forger.insert(s.new_member_in(0, "冒名登记"), TODAY).unwrap();
        let req = push_request(&forger);
        let before = s.stats();
        let mut t = s.transport(&a.token);
        let resp = wire::PushResponse::decode(&t.call(path::PUSH, req.encode()).unwrap()).unwrap();
        assert_eq!(resp.results.len(), 1);
        assert_eq!(resp.results[0].outcome, wire::Outcome::Quarantined("ACTOR_MISMATCH".into()));
        assert_eq!(s.stats(), before);
        assert_eq!(s.server_heads(&saved.id), None);
        assert!(s.quarantine_codes().contains(&(saved.id.to_string(), "ACTOR_MISMATCH".into())));
    });
}

/// Two devices push edits of the same record at the same moment: the second
/// transaction waits for the first and merges into what it wrote. (On
/// PostgreSQL both used to read the old document and the second write
/// dropped the first one's changes; the 500-device chaos run found it.)
#[test]
fn concurrent_pushes_of_one_record_both_survive() {
    each_backend(|b| {
        let s = start(b);
        let mut a = s.enrol(s.township_grant(0), 61);
        let mut c = s.enrol(s.township_grant(0), 62);
        s.sync(&mut a).unwrap();
        s.sync(&mut c).unwrap();
        let m = a.store.list(RecordKind::Member, None, 1).unwrap()[0].id.clone();
        let edit = |dev: &mut Device, f: &dyn Fn(&mut registry::model::Member)| {
            let Record::Member(mut rec) = dev.store.get(&m).unwrap().unwrap().record else { panic!() };
            f(&mut rec);
            dev.store.update(&m, Record::Member(rec), TODAY).unwrap();
        };
        edit(&mut a, &|r| r.phone = Some("13900000061".into()));
        let migrant = match a.store.get(&m).unwrap().unwrap().record {
            Record::Member(r) => !r.migrant_worker,
            _ => panic!(),
        };
        edit(&mut c, &|r| r.migrant_worker = migrant);
        let (ra, rc) = (push_request(&a.store), push_request(&c.store));
        let device = |token: &str| s.state.db.tx(|db| auth::device(db, token)).unwrap().unwrap();
        let (da, dc) = (device(&a.token), device(&c.token));
        let ctx = s.state.ctx();
        let (inside, go) = std::sync::mpsc::channel();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                s.state
                    .db
                    .tx(|db| {
                        sync::server::push(db, &ctx, &da, &ra)?;
                        // A's transaction is open and has written; C's starts now.
                        inside.send(()).unwrap();
                        std::thread::sleep(std::time::Duration::from_millis(300));
                        Ok(())
                    })
                    .unwrap();
            });
            go.recv().unwrap();
            s.state.db.tx(|db| sync::server::push(db, &ctx, &dc, &rc)).unwrap();
        });
        let Some(Record::Member(on_server)) = s.state.db.tx(|db| sync::server::record(db, &ctx, &m)).unwrap() else {
            panic!()
        };
        assert_eq!(on_server.phone.as_deref(), Some("13900000061"), "A's edit survives C's");
        assert_eq!(on_server.migrant_worker, migrant, "and C's");
    });
}

/// A device's store copied to a second tablet (same token, same actor):
/// both edit the same member offline, so two different changes carry the
/// same actor and sequence number. Neither is lost and the county learns
/// the device was cloned.
#[test]
fn a_cloned_device_loses_nothing_and_the_county_is_told() {
    each_backend(|b| {
        let s = start(b);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        let mut a = s.enrol_on_disk(s.township_grant(0), 51, &path);
        s.sync(&mut a).unwrap();
        let members = a.store.list(RecordKind::Member, None, 2).unwrap();
        let (m, n) = (members[0].id.clone(), members[1].id.clone());
        a.store.checkpoint().unwrap();
        let copy = dir.path().join("copy.db");
        std::fs::copy(&path, &copy).unwrap();
        let store = Store::open(&copy, &store::StoreKey::from_bytes([51; 32])).unwrap();
        let mut clone = Device { store, token: a.token.clone(), id: a.id.clone(), card_root: a.card_root.clone() };
        let phone = |dev: &mut Device, id: &RecordId, p: &str| {
            let Record::Member(mut rec) = dev.store.get(id).unwrap().unwrap().record else { panic!() };
            rec.phone = Some(p.into());
            dev.store.update(id, Record::Member(rec), TODAY).unwrap();
        };
        phone(&mut a, &m, "13900000001");
        phone(&mut clone, &m, "13900000002");
        phone(&mut clone, &n, "13900000003");
        s.sync(&mut a).unwrap();
        let report = s.sync(&mut clone).unwrap();
        assert_eq!(report.quarantined, 1, "{report:?}");
        // The clone's other edit went through; its edit of the same member is
        // held for review as a clone's, not dropped.
        let record = |id: &RecordId| {
            let ctx = s.state.ctx();
            s.state.db.tx(|db| sync::server::record(db, &ctx, id)).unwrap().unwrap()
        };
        let Record::Member(on_server) = record(&n) else { panic!() };
        assert_eq!(on_server.phone.as_deref(), Some("13900000003"));
        let Record::Member(on_server) = record(&m) else { panic!() };
        assert_eq!(on_server.phone.as_deref(), Some("13900000001"));
        assert!(s.quarantine_codes().contains(&(m.to_string(), "DEVICE_CLONED".into())), "{:?}", s.quarantine_codes());
        // Both go on syncing.
        s.sync(&mut a).unwrap();
        s.sync(&mut clone).unwrap();
    });
}

#[test]
fn bad_input_gets_a_clear_refusal_and_nothing_is_stored() {
    each_backend(|b| {
        let s = start(b);
        let mut a = s.enrol(s.township_grant(0), 1);
        s.sync(&mut a).unwrap();
        let before = s.stats();
        let code = |status: u16, body: &[u8]| -> (u16, String) {
            let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            assert!(v["message"]["zh"].is_string() && v["message"]["en"].is_string(), "{v}");
            (status, v["code"].as_str().unwrap_or("").to_owned())
        };
        let push_of = |id: &RecordId, bytes: Vec<u8>| {
            wire::PushRequest { docs: vec![wire::PushDoc { id: id.clone(), heads: vec![], bytes }] }.encode()
        };
        let new_id = RecordId(auth::hex(&[7; 16]));

        // Garbage instead of a sync message.
        let (st, body) = s.raw(path::PUSH, &a.token, b"not a sync message at all".to_vec());
        assert_eq!(code(st, &body), (400, "SYNC_MALFORMED".into()));
        // A well-formed message carrying garbage instead of Automerge bytes.
        let (st, body) = s.raw(path::PUSH, &a.token, push_of(&new_id, vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3]));
        assert_eq!(code(st, &body), (400, "DOCUMENT_MALFORMED".into()));
        // Bytes that made Automerge's decoder panic, and bytes that made it
        // allocate gigabytes (found by fuzzing, kept in fuzz/fixtures):
        // refused like any malformed document, and the server goes on serving
        // (twice: nothing was left poisoned).
        let crasher =
            include_bytes!("../../../fuzz/fixtures/stored_document/crash-5fdc8ee0ffdab56bdf04ddb1a1640378179eb1c6");
        let exhauster =
            include_bytes!("../../../fuzz/fixtures/stored_document/oom-2186c81515914553d974f51f38c9c23a22f471be");
        for bad in [&crasher[..], &exhauster[..], &crasher[..], &exhauster[..]] {
            let (st, body) = s.raw(path::PUSH, &a.token, push_of(&new_id, bad.to_vec()));
            assert_eq!(code(st, &body), (400, "DOCUMENT_MALFORMED".into()));
        }
        s.sync(&mut a).unwrap();
        // A real Automerge document of a kind that does not exist.
        let mut doc = automerge::AutoCommit::new().with_actor(automerge::ActorId::from([1u8; 16]));
        doc.put(automerge::ROOT, "_kind", "spaceship").unwrap();
        let (st, body) = s.raw(path::PUSH, &a.token, push_of(&new_id, doc.save()));
        assert_eq!(code(st, &body), (400, "RECORD_UNREADABLE".into()));
        // A bad document in a batch refuses the whole batch: the good one
        // beside it is not half-written.
        let good = a.store.insert(s.new_member_in(0, "同批登记"), TODAY).unwrap();
        let out = a.store.outgoing(10, 1 << 20).unwrap();
        let mut req = wire::PushRequest {
            docs: vec![wire::PushDoc {
                id: out[0].id.clone(),
                heads: out[0].heads.iter().map(|h| h.0).collect(),
                bytes: out[0].bytes.clone(),
            }],
        };
        req.docs.push(wire::PushDoc { id: new_id.clone(), heads: vec![], bytes: doc.save() });
        let (st, body) = s.raw(path::PUSH, &a.token, req.encode());
        assert_eq!(code(st, &body), (400, "RECORD_UNREADABLE".into()));
        assert_eq!(s.server_heads(&good.id), None);
        // A body over the limit.
        let (st, body) = s.raw(path::PUSH, &a.token, vec![0u8; (32 << 20) + 1]);
        assert_eq!(code(st, &body), (413, "SYNC_TOO_LARGE".into()));
        // A forged token, a missing one, a replayed enrolment code.
        let (st, body) = s.raw(path::PULL, "sjd_forged0000000000000000", wire::PullRequest::default().encode());
        assert_eq!(code(st, &body), (401, "UNAUTHENTICATED".into()));
        let req = s.http.post(format!("{}{}", s.endpoint.base, path::PULL)).body(wire::PullRequest::default().encode());
        let (st, v) = s.answer(req);
        assert_eq!((st, v["code"].as_str()), (401, Some("UNAUTHENTICATED")));
        let (st, v) = s.post_json("/api/enrolments", Some(&s.admin), &s.township_grant(0));
        assert_eq!(st, 200);
        let text = EnrolmentText::parse(v["text"].as_str().unwrap()).unwrap();
        s.rt.block_on(sync::http::redeem(&s.http, &text, [8; 16], [8; 32])).unwrap();
        match s.rt.block_on(sync::http::redeem(&s.http, &text, [9; 16], [9; 32])) {
            Err(SyncError::Refused { status: 401, code, .. }) => assert_eq!(code, "ENROLMENT_INVALID"),
            other => panic!("a used enrolment code was redeemed again: {other:?}"),
        }
        // Malformed JSON, a staff session used as a device token, and an
        // unknown path.
        let req = s.http.post(format!("{}/api/login", s.endpoint.base)).body("{\"username\": ");
        let (st, v) = s.answer(req);
        assert_eq!((st, v["code"].as_str()), (400, Some("BAD_REQUEST")));
        let (st, body) = s.raw(path::PULL, &s.admin, wire::PullRequest::default().encode());
        assert_eq!(code(st, &body), (401, "UNAUTHENTICATED".into()));
        let (st, v) = s.answer(s.http.get(format!("{}/api/nothing", s.endpoint.base)));
        assert_eq!((st, v["code"].as_str()), (404, Some("NOT_FOUND")));

        // Nothing was stored, and the server still serves.
        assert_eq!(s.stats(), before);
        let (st, v) = s.answer(s.http.get(format!("{}/health", s.endpoint.base)));
        assert_eq!((st, v["status"].as_str()), (200, Some("ok")));
        let report = s.sync(&mut a).unwrap();
        assert_eq!(report.pushed, 1);
        assert!(s.server_heads(&good.id).is_some());
    });
}

#[test]
fn https_with_a_self_signed_certificate_pinned_by_the_enrolment_code() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = server::tls::self_signed(dir.path(), &["localhost".into()]).unwrap();
    let tls = server::tls::load(&cert, &key).unwrap();
    // Made once, then kept.
    assert_eq!(server::tls::self_signed(dir.path(), &["localhost".into()]).unwrap(), (cert.clone(), key.clone()));
    let s = start_with(Backend::Sqlite, Some(tls.clone()));
    assert!(s.endpoint.base.starts_with("https://"));
    let mut a = s.enrol(s.township_grant(0), 1);
    let report = s.sync(&mut a).unwrap();
    assert!(report.pulled_changed > 0);

    // Without the pin (system authorities only) or with another pin, the
    // device will not talk to it.
    let timeout = std::time::Duration::from_secs(10);
    for endpoint in
        [Endpoint::new(&s.endpoint.base), Endpoint { pin: Some([0xab; 32]), ..Endpoint::new(&s.endpoint.base) }]
    {
        let client = endpoint.client(timeout).unwrap();
        let mut t = HttpTransport::new(client, &endpoint, &a.token, s.rt.handle().clone());
        match t.call(path::PULL, wire::PullRequest::default().encode()) {
            Err(SyncError::Network(_)) => {}
            other => panic!("an unpinned certificate was trusted: {other:?}"),
        }
    }
    // Trusting it as a certificate authority works too.
    let endpoint = Endpoint { ca_pem: Some(std::fs::read(&cert).unwrap()), ..Endpoint::new(&s.endpoint.base) };
    let client = endpoint.client(timeout).unwrap();
    let mut t = HttpTransport::new(client, &endpoint, &a.token, s.rt.handle().clone());
    assert!(t.call(path::PULL, wire::PullRequest::default().encode()).is_ok());
}

#[test]
fn background_sync_catches_up_when_the_server_comes_back() {
    // A server that is down when the device starts syncing.
    let s = start(Backend::Sqlite);
    let a = s.enrol(s.township_grant(0), 1);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let endpoint = Endpoint::new(&format!("http://127.0.0.1:{port}"));
    let store = Arc::new(std::sync::Mutex::new(a.store));
    let mut config = sync::http::AutoSyncConfig::new(endpoint, a.token.clone());
    config.backoff =
        sync::http::Backoff::new(std::time::Duration::from_millis(50), std::time::Duration::from_millis(400));
    let auto = {
        let _guard = s.rt.enter();
        sync::http::AutoSync::start(store.clone(), config).unwrap()
    };
    let mut status = auto.status();
    let wait_for = |status: &mut tokio::sync::watch::Receiver<sync::http::SyncStatus>,
                    what: &dyn Fn(&sync::http::SyncStatus) -> bool| {
        s.rt.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(60), status.wait_for(|st| what(st))).await.is_ok()
        })
    };
    assert!(wait_for(&mut status, &|st| matches!(st, sync::http::SyncStatus::Offline { .. })));
    assert_eq!(store.lock().unwrap().count(RecordKind::Member).unwrap(), 0);

    // The same server comes up on that port: the device notices and syncs.
    let listener = s.rt.block_on(tokio::net::TcpListener::bind(("127.0.0.1", port))).unwrap();
    let st = s.state.clone();
    s.rt.spawn(async move { server::serve_on(listener, st, std::future::pending()).await });
    assert!(wait_for(&mut status, &|st| matches!(st, sync::http::SyncStatus::Synced { .. })));
    let members = store.lock().unwrap().count(RecordKind::Member).unwrap();
    assert!(members > 0);

    // A new registration goes up at once when asked.
    let saved = store.lock().unwrap().insert(s.new_member_in(0, "后台同步"), TODAY).unwrap();
    auto.sync_now();
    let pushed = s.rt.block_on(async {
        for _ in 0..600 {
            if s.server_heads(&saved.id).is_some() {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        false
    });
    assert!(pushed);
    auto.stop();
}

#[test]
fn cards_a_change_makes_obsolete_are_revoked_and_the_lists_are_signed() {
    each_backend(|b| {
        let s = start(b);
        let mut a = s.enrol(s.township_grant(0), 1);
        s.sync(&mut a).unwrap();
        let root: serde_json::Value = s.answer(s.http.get(format!("{}/api/cards/root", s.endpoint.base))).1;
        let root_key: [u8; 32] = auth::unhex(root["public_key"].as_str().unwrap()).unwrap().try_into().unwrap();
        let root_key = card::VerifyingKey::from_bytes(&root_key).unwrap();
        let revoked = || -> std::collections::BTreeSet<[u8; 8]> {
            let bytes = s.rt.block_on(async {
                let resp = s.http.get(format!("{}/api/cards/revocations", s.endpoint.base)).send().await.unwrap();
                resp.bytes().await.unwrap().to_vec()
            });
            card::lists::RevocationList::open(&bytes, &root_key).unwrap().serials
        };
        // A member with no card of ours yet (an older system's number).
        let member = a
            .store
            .list(RecordKind::Member, None, 1_000)
            .unwrap()
            .into_iter()
            .find(|r| {
                matches!(&a.store.get(&r.id).unwrap().unwrap().record,
                    Record::Member(m) if m.card_number.is_some() && registry::rules::card_serial(m.card_number.as_deref()).is_none())
            })
            .unwrap()
            .id;
        let set = |a: &mut Device, f: &dyn Fn(&mut Member)| {
            let mut r = a.store.get(&member).unwrap().unwrap().record;
            if let Record::Member(m) = &mut r {
                f(m);
            }
            a.store.update(&member, r, TODAY).unwrap();
        };
        set(&mut a, &|m| m.card_number = Some("UC00000000000000AA".into()));
        s.sync(&mut a).unwrap();
        assert!(revoked().is_empty());
        // A new card: the old one is revoked.
        set(&mut a, &|m| m.card_number = Some("UC00000000000000BB".into()));
        s.sync(&mut a).unwrap();
        assert_eq!(revoked(), [[0, 0, 0, 0, 0, 0, 0, 0xaa]].into_iter().collect());
        // The member leaves: the current card is revoked too.
        set(&mut a, &|m| m.left_on = Some(TODAY));
        let report = s.sync(&mut a).unwrap();
        assert_eq!(report.quarantined, 0);
        assert_eq!(revoked(), [[0, 0, 0, 0, 0, 0, 0, 0xaa], [0, 0, 0, 0, 0, 0, 0, 0xbb]].into_iter().collect());
        // The trust list names the enrolled device's key.
        let trust = s.rt.block_on(async {
            let resp = s.http.get(format!("{}/api/cards/trust", s.endpoint.base)).send().await.unwrap();
            resp.bytes().await.unwrap().to_vec()
        });
        let trust = card::lists::TrustList::open(&trust, &root_key).unwrap();
        let entry = trust.entries.iter().find(|e| e.device == a.id).unwrap();
        assert!(entry.removed.is_none() && !entry.all);
        let township: [u8; 16] = auth::unhex(s.county.townships[0].as_str()).unwrap().try_into().unwrap();
        assert_eq!(entry.areas, vec![township], "the trust list carries the device's scope");
    });
}

#[test]
fn the_console_progress_is_the_registrys_computation_and_follows_every_write() {
    each_backend(|backend| {
        let s = start(backend);
        let url = format!("{}/api/console/progress", s.endpoint.base);
        let (status, v) = s.answer(s.http.get(&url));
        assert_eq!(status, 401, "{v}");
        let (status, v) = s.answer(s.http.get(&url).bearer_auth("sjs_forged"));
        assert_eq!(status, 401, "{v}");
        // The same records in a device store: its report is the registry's
        // own computation (store's tests prove that against full records).
        let today = server::today();
        let config = registry::progress::CampaignConfig::default_for(today.year());
        let mut store = Store::in_memory(&Init { county_secret: secret(), device_id: Some([1; 16]) }).unwrap();
        store.insert_many(s.county.records.clone(), TODAY).unwrap();
        let expected = serde_json::to_value(store.progress(&config, today).unwrap()).unwrap();
        let (status, got) = s.answer(s.http.get(&url).bearer_auth(&s.admin));
        assert_eq!(status, 200, "{got}");
        assert_eq!(got, expected);
        assert!(got["county"]["active_members"].as_u64().unwrap() > 0);
        // One township's figures.
        let t = &s.county.townships[0];
        let (_, one) = s.answer(s.http.get(format!("{url}?township={t}")).bearer_auth(&s.admin));
        assert_eq!(one["townships"].as_array().unwrap().len(), 1, "{one}");
        assert_eq!(one["townships"][0]["id"], t.as_str());
        let (status, _) = s.answer(s.http.get(format!("{url}?township=../x")).bearer_auth(&s.admin));
        assert_eq!(status, 400);
        // A member registered on a device reaches the figures with its push.
        let mut dev = s.enrol(s.township_grant(0), 1);
        s.sync(&mut dev).unwrap();
        let before = got["county"]["active_members"].as_u64().unwrap();
        dev.store.insert(s.new_member_in(0, "新会员"), TODAY).unwrap();
        s.sync(&mut dev).unwrap();
        let (_, after) = s.answer(s.http.get(&url).bearer_auth(&s.admin));
        assert_eq!(after["county"]["active_members"].as_u64().unwrap(), before + 1);
        // Rebuilt from the documents (a database from before the facts), the
        // figures are the same.
        s.state.db.tx(|db| db.execute("DELETE FROM counters WHERE name = 'facts'", &[])).unwrap();
        s.state.db.tx(|db| db.execute("DELETE FROM f_members", &[])).unwrap();
        s.state.ensure_facts().unwrap();
        let (_, rebuilt) = s.answer(s.http.get(&url).bearer_auth(&s.admin));
        assert_eq!(rebuilt, after);
    });
}

#[test]
fn the_four_ledgers_export_as_xlsx_and_csv_masked_and_logged() {
    use calamine::Reader;
    each_backend(|backend| {
        let s = start(backend);
        let url = |q: &str| format!("{}/api/console/export?{q}", s.endpoint.base);
        let get = |q: &str, token: &str| {
            s.rt.block_on(async {
                let r = s.http.get(url(q)).bearer_auth(token).send().await.unwrap();
                let status = r.status().as_u16();
                let kind = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
                (status, kind, r.bytes().await.unwrap().to_vec())
            })
        };
        let members = s.county.records.iter().filter(|(_, r)| matches!(r, Record::Member(_))).count();
        let (status, kind, bytes) = get("ledger=member&format=xlsx", &s.admin);
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
        assert!(kind.contains("spreadsheetml"), "{kind}");
        let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let sheet = book.worksheet_range("会员").unwrap();
        let rows: Vec<Vec<String>> = sheet.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
        assert_eq!(
            rows[0][0], "工会会员实名制登记表（含已离会会员，见“会籍状态”列）",
            "the title says members who left are listed"
        );
        assert_eq!(rows[1][..6], ["序号", "姓名", "性别", "民族", "出生日期", "公民身份号码"]);
        assert_eq!(rows.len() - 2, members, "one row per member");
        let ids: Vec<&String> = rows[2..].iter().map(|r| &r[5]).collect();
        assert!(ids.iter().all(|id| id.len() == 18 && id[6..14] == *"********"), "masked: {:?}", &ids[..3]);
        // CSV: a BOM, the same headers, one line per member.
        let (_, kind, csv) = get("ledger=member&format=csv", &s.admin);
        assert!(kind.starts_with("text/csv"));
        assert_eq!(&csv[..3], &[0xEF, 0xBB, 0xBF]);
        let text = String::from_utf8(csv[3..].to_vec()).unwrap();
        assert!(text.starts_with("序号,姓名,性别"), "{}", &text[..40]);
        assert_eq!(text.lines().count(), members + 1);
        // Full IDs only for a county admin who asks; a township clerk may not.
        let (_, _, full) = get("ledger=member&format=csv&full_ids=true", &s.admin);
        let full = String::from_utf8(full[3..].to_vec()).unwrap();
        assert!(!full.lines().nth(1).unwrap().contains("********"));
        let (st, clerk) =
            s.post_json("/api/login", None, &serde_json::json!({"username": "clerk", "password": "battery staple"}));
        assert_eq!(st, 200);
        let clerk = clerk["token"].as_str().unwrap().to_owned();
        assert_eq!(get("ledger=member&full_ids=true", &clerk).0, 403);
        // A clerk with no township sees no rows; with one, that township's only.
        let (st, _, none) = get("ledger=member&format=csv", &clerk);
        assert_eq!((st, String::from_utf8(none[3..].to_vec()).unwrap().lines().count()), (200, 1));
        let t0 = s.county.townships[0].clone();
        s.state.db.tx(|db| auth::set_user_townships(db, "clerk", std::slice::from_ref(&t0))).unwrap();
        let (_, _, mine) = get("ledger=member&format=csv", &clerk);
        let in_t0 =
            s.county.records.iter().filter(|(_, r)| matches!(r, Record::Member(m) if m.place.township == t0)).count();
        assert_eq!(String::from_utf8(mine[3..].to_vec()).unwrap().lines().count(), in_t0 + 1);
        let t1 = &s.county.townships[1];
        assert_eq!(get(&format!("ledger=member&township={t1}"), &clerk).0, 403, "not the clerk's township");
        let (st, p) = s.answer(s.http.get(format!("{}/api/console/progress", s.endpoint.base)).bearer_auth(&clerk));
        assert_eq!(st, 200);
        assert_eq!(p["townships"].as_array().unwrap().len(), 1, "{p}");
        assert_eq!(p["townships"][0]["id"], t0.as_str());
        let (st, _) =
            s.answer(s.http.get(format!("{}/api/console/progress?township={t1}", s.endpoint.base)).bearer_auth(&clerk));
        assert_eq!(st, 403);
        // The other three ledgers, and one township's rows only.
        for (ledger, sheet) in [("organisation", "基层工会"), ("cadre", "工会干部"), ("transfer", "接转")] {
            let (status, _, bytes) = get(&format!("ledger={ledger}"), &s.admin);
            assert_eq!(status, 200, "{ledger}");
            let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
            assert!(book.worksheet_range(sheet).is_ok(), "{ledger}");
        }
        let t = &s.county.townships[0];
        let (_, _, one) = get(&format!("ledger=member&format=csv&township={t}"), &s.admin);
        let in_t =
            s.county.records.iter().filter(|(_, r)| matches!(r, Record::Member(m) if m.place.township == *t)).count();
        assert_eq!(String::from_utf8(one[3..].to_vec()).unwrap().lines().count(), in_t + 1);
        // Bad requests, and no token.
        assert_eq!(get("ledger=payroll", &s.admin).0, 400);
        assert_eq!(get("ledger=member&format=pdf", &s.admin).0, 400);
        assert_eq!(get("ledger=member", "sjs_forged").0, 401);
        // Every export is logged: who, which ledger, which filter, how many rows.
        let log = s
            .state
            .db
            .tx(|db| db.query("SELECT who, ledger, format, filter, rows, full_ids FROM exports ORDER BY at", &[]))
            .unwrap();
        assert_eq!(log.len(), 9, "{log:?}");
        assert_eq!(log[0][0].text(), Some("admin"));
        assert_eq!(log[0][4].int() as usize, members);
        assert_eq!(log[2][5].int(), 1, "the full-ID export is marked");
        assert!(log.iter().any(|r| r[3].text().is_some_and(|f| f.starts_with("township="))));
    });
}

#[test]
fn a_reviewer_applies_or_dismisses_a_quarantined_write_and_the_decision_is_recorded() {
    each_backend(|b| {
        let s = start(b);
        let mut a = s.enrol(s.township_grant(0), 1);
        s.sync(&mut a).unwrap();
        // Two registrations outside the device's township: both quarantined.
        let first = a.store.insert(s.new_member_in(1, "越界甲"), TODAY).unwrap();
        let second = a.store.insert(s.new_member_in(1, "越界乙"), TODAY).unwrap();
        assert_eq!(s.sync(&mut a).unwrap().quarantined, 2);
        let list = |s: &Running| {
            let (status, v) = s.answer(s.http.get(format!("{}/api/quarantine", s.endpoint.base)).bearer_auth(&s.admin));
            assert_eq!(status, 200);
            v["items"].as_array().unwrap().clone()
        };
        let items = list(&s);
        let entry = |doc: &RecordId| items.iter().find(|i| i["doc"] == doc.as_str()).unwrap()["id"].as_i64().unwrap();
        let (e1, e2) = (entry(&first.id), entry(&second.id));
        let members =
            |s: &Running| s.state.db.tx(|db| Ok(db.query("SELECT COUNT(*) FROM f_members", &[])?[0][0].int())).unwrap();
        let before = members(&s);
        let resolve = |e: i64, body: serde_json::Value, token: &str| {
            s.post_json(&format!("/api/quarantine/{e}/resolve"), Some(token), &body)
        };
        // A township clerk may not decide; a bad decision is refused.
        let (st, clerk) =
            s.post_json("/api/login", None, &serde_json::json!({"username": "clerk", "password": "battery staple"}));
        assert_eq!(st, 200);
        let clerk = clerk["token"].as_str().unwrap().to_owned();
        assert_eq!(resolve(e1, serde_json::json!({"decision": "apply"}), &clerk).0, 403);
        let (st, v) = resolve(e1, serde_json::json!({"decision": "maybe"}), &s.admin);
        assert_eq!((st, v["code"].as_str()), (409, Some("BAD_DECISION")));
        // Applied: the county takes the registration; the facts count it.
        let (st, v) = resolve(e1, serde_json::json!({"decision": "apply", "note": "跨镇务工，县里核实"}), &s.admin);
        assert_eq!(st, 200, "{v}");
        assert!(s.server_heads(&first.id).is_some());
        assert_eq!(members(&s), before + 1);
        // Dismissed: nothing stored.
        let (st, _) = resolve(e2, serde_json::json!({"decision": "dismiss", "note": "重复登记"}), &s.admin);
        assert_eq!(st, 200);
        assert!(s.server_heads(&second.id).is_none());
        assert_eq!(members(&s), before + 1);
        // Both left the queue; deciding again is refused; each decision is on record.
        assert!(list(&s).iter().all(|i| i["id"] != e1 && i["id"] != e2));
        let (st, v) = resolve(e2, serde_json::json!({"decision": "apply"}), &s.admin);
        assert_eq!((st, v["code"].as_str()), (409, Some("QUARANTINE_RESOLVED")));
        assert_eq!(resolve(999_999, serde_json::json!({"decision": "dismiss"}), &s.admin).0, 409);
        let rows = s
            .state
            .db
            .tx(|db| db.query("SELECT id, resolution FROM quarantine WHERE resolved_at IS NOT NULL ORDER BY id", &[]))
            .unwrap();
        let decision = |e: i64| -> serde_json::Value {
            let row = rows.iter().find(|r| r[0].int() == e).expect("resolved");
            serde_json::from_str(row[1].text().unwrap()).unwrap()
        };
        assert_eq!(rows.len(), 2);
        assert_eq!(decision(e1)["decision"], "apply");
        assert_eq!(decision(e1)["by"], "admin");
        assert_eq!(decision(e1)["note"], "跨镇务工，县里核实");
        assert_eq!(decision(e2)["decision"], "dismiss");
        assert_eq!(decision(e2)["note"], "重复登记");
    });
}

#[test]
fn another_offices_messy_entity_list_is_reconciled_whole_or_not_at_all() {
    each_backend(|b| {
        let s = start(b);
        let entities: Vec<&LegalEntity> = s
            .county
            .records
            .iter()
            .filter_map(|(_, r)| if let Record::Entity(e) = r { Some(e) } else { None })
            .collect();
        let with_code: Vec<&&LegalEntity> = entities.iter().filter(|e| e.credit_code.is_some() && !e.closed).collect();
        let (a, b2) = (with_code[0], with_code[1]);
        let code_a = a.credit_code.clone().unwrap();
        // Full-width characters, stray spaces, a duplicate row, a malformed
        // code, a wrong check character, a blank name, an entity the census
        // lacks, a worker count that differs; in GBK.
        let fullwidth: String = code_a.chars().map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap()).collect();
        let mut wrong_check = b2.credit_code.clone().unwrap();
        let last = wrong_check.pop().unwrap();
        wrong_check.push(if last == '0' { '1' } else { '0' });
        let csv = format!(
            "单位名称,统一社会信用代码,从业人员数,地址\r\n\
             {}  ,{fullwidth},{},\"一路 1号\"\r\n\
             \u{3000}{}\u{3000},{code_a},{},重复\r\n\
             {},{wrong_check},{},\r\n\
             新开张小吃店,,3,南街\r\n\
             坏代码商行,91ABC,5,\r\n\
             ,,7,没有名称\r\n",
            a.name,
            a.workers,
            a.name,
            a.workers,
            b2.name,
            b2.workers + 4,
        );
        let (gbk, _, unmappable) = encoding_rs::GBK.encode(&csv);
        assert!(!unmappable);
        let post = |q: &str, body: Vec<u8>| {
            s.rt.block_on(async {
                let r = s
                    .http
                    .post(format!("{}/api/console/reconcile?{q}", s.endpoint.base))
                    .bearer_auth(&s.admin)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.json::<serde_json::Value>().await.unwrap())
            })
        };
        let imports =
            |s: &Running| s.state.db.tx(|db| Ok(db.query("SELECT COUNT(*) FROM imports", &[])?[0][0].int())).unwrap();
        // Preview: the columns guessed, nothing stored.
        let (st, v) = post("source=工商&preview=true", gbk.to_vec());
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["encoding"], "gbk");
        assert_eq!(v["guess"], serde_json::json!({"name": 0, "credit_code": 1, "workers": 2, "address": 3}));
        assert_eq!(imports(&s), 0);
        // The import and its report.
        let (st, v) = post("source=工商", gbk.to_vec());
        assert_eq!(st, 200, "{v}");
        let r = &v["report"];
        assert_eq!(r["rows"], 6);
        // The full-width code matches by code; the wrong check character
        // matches nothing by code, then the name.
        assert_eq!((r["matched_by_code"].as_i64(), r["matched_by_name"].as_i64()), (Some(1), Some(1)), "{r}");
        let codes: Vec<&str> = r["problems"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
        assert_eq!(codes, ["DUPLICATE_ROW", "CREDIT_CODE_LENGTH", "NO_NAME"], "{r}");
        assert_eq!(r["bad_checksums"][0]["line"], 4);
        assert_eq!(r["not_in_census"].as_array().unwrap().len(), 1);
        assert_eq!(r["not_in_census"][0]["name"], "新开张小吃店");
        assert_eq!(r["worker_mismatches"][0]["line"], 4, "{r}");
        assert_eq!(r["worker_mismatches"][0]["theirs"], b2.workers + 4);
        let open_entities = entities.iter().filter(|e| !e.closed).count();
        assert_eq!(r["not_in_theirs"].as_array().unwrap().len(), open_entities - 2, "{r}");
        assert_eq!(imports(&s), 1);
        // Matched by name with a different worker count.
        let by_name = format!("单位名称,从业人员\n（{}）,{}\n", a.name, a.workers + 1);
        let (_, v) = post("source=统计局", by_name.into_bytes());
        assert_eq!(v["report"]["encoding"], "utf-8");
        assert_eq!(v["report"]["matched_by_name"], 0, "brackets around a name make another name: {v}");
        let by_name = format!("\u{FEFF}单位名称,从业人员\n {} ,{}\n", a.name, a.workers + 1);
        let (_, v) = post("source=统计局", by_name.into_bytes());
        assert_eq!(v["report"]["matched_by_name"], 1, "{v}");
        assert_eq!(v["report"]["worker_mismatches"][0]["theirs"], a.workers + 1);
        assert_eq!(imports(&s), 3);
        // Unreadable: an unclosed quote; a mapping beyond the columns; not an
        // admin. Nothing stored.
        let (st, v) = post("source=税务", "单位名称,代码\n\"坏行,1\n".as_bytes().to_vec());
        assert_eq!((st, v["code"].as_str()), (400, Some("IMPORT_UNREADABLE")), "{v}");
        let (st, v) = post("source=税务&name=9", gbk.to_vec());
        assert_eq!((st, v["code"].as_str()), (400, Some("IMPORT_MAPPING")), "{v}");
        // A sheet whose cells lie far apart (calamine's own range would
        // allocate the rectangle between them), too many columns, and the
        // file fuzzing found to make calamine panic: clear refusals.
        let far_apart = |row: u32, col: u16| {
            let mut book = rust_xlsxwriter::Workbook::new();
            let sheet = book.add_worksheet();
            sheet.write_string(0, 0, "单位名称").unwrap();
            sheet.write_string(1, 0, "某某商行").unwrap();
            sheet.write_string(row, col, "远处").unwrap();
            book.save_to_buffer().unwrap()
        };
        let (st, v) = post("source=税务", far_apart(1_000_000, 16_000));
        assert_eq!((st, v["code"].as_str()), (400, Some("IMPORT_TOO_LARGE")), "{v}");
        let (st, v) = post("source=税务", far_apart(3, 300));
        assert_eq!((st, v["code"].as_str()), (400, Some("IMPORT_TOO_LARGE")), "{v}");
        let (st, v) = post("source=税务&preview=true", far_apart(3, 3));
        assert_eq!((st, v["rows"].as_u64()), (200, Some(2)), "{v}");
        let crasher =
            include_bytes!("../../../fuzz/fixtures/import_table/crash-0517ba211fbac5df78f5a8f32dc041573dc6b87b");
        let (st, v) = post("source=税务", crasher.to_vec());
        assert_eq!((st, v["code"].as_str()), (400, Some("IMPORT_UNREADABLE")), "{v}");
        // Only a county admin's file is read at all.
        let anonymous = s.http.post(format!("{}/api/console/reconcile?source=x", s.endpoint.base));
        let (st, _) = s.answer(anonymous.body(crasher.to_vec()));
        assert_eq!(st, 401);
        assert_eq!(imports(&s), 3);
    });
}

#[test]
fn three_clears_of_a_township_and_a_community_match_the_device_stores() {
    each_backend(|b| {
        let s = start(b);
        let mut store = Store::in_memory(&Init { county_secret: secret(), device_id: Some([1; 16]) }).unwrap();
        store.insert_many(s.county.records.clone(), TODAY).unwrap();
        let today = server::today();
        let t0 = s.county.townships[0].clone();
        let community = s
            .county
            .records
            .iter()
            .find_map(|(id, r)| match r {
                Record::Area(a) if a.level == AreaLevel::Community && a.township.as_ref() == Some(&t0) => {
                    Some(id.clone())
                }
                _ => None,
            })
            .unwrap();
        for area in [&t0, &community] {
            let url = format!("{}/api/console/three-clears?area={area}", s.endpoint.base);
            let (status, got) = s.answer(s.http.get(&url).bearer_auth(&s.admin));
            assert_eq!(status, 200, "{got}");
            let expected = serde_json::to_value(store.three_clears(area, today).unwrap()).unwrap();
            assert_eq!(got["report"], expected, "{area}");
        }
        assert!(
            !serde_json::to_value(store.three_clears(&t0, today).unwrap()).unwrap()["private_enterprises"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        // Bad and unknown areas.
        let (st, _) = s.answer(
            s.http.get(format!("{}/api/console/three-clears?area=nope", s.endpoint.base)).bearer_auth(&s.admin),
        );
        assert_eq!(st, 400);
        let unknown = "0".repeat(32);
        let (st, _) = s.answer(
            s.http.get(format!("{}/api/console/three-clears?area={unknown}", s.endpoint.base)).bearer_auth(&s.admin),
        );
        assert_eq!(st, 404);
        // A clerk of another township may not look.
        s.state
            .db
            .tx(|db| auth::set_user_townships(db, "clerk", std::slice::from_ref(&s.county.townships[1])))
            .unwrap();
        let (_, clerk) =
            s.post_json("/api/login", None, &serde_json::json!({"username": "clerk", "password": "battery staple"}));
        let clerk = clerk["token"].as_str().unwrap().to_owned();
        let (st, _) =
            s.answer(s.http.get(format!("{}/api/console/three-clears?area={t0}", s.endpoint.base)).bearer_auth(&clerk));
        assert_eq!(st, 403);
    });
}

#[test]
fn a_conflict_between_two_devices_is_listed_settled_at_the_county_and_reaches_both() {
    each_backend(|b| {
        let s = start(b);
        let mut a1 = s.enrol(s.township_grant(0), 1);
        let mut a2 = s.enrol(s.township_grant(0), 2);
        s.sync(&mut a1).unwrap();
        s.sync(&mut a2).unwrap();
        let member = a1.store.list(RecordKind::Member, None, 1).unwrap()[0].id.clone();
        for (dev, employer) in [(&mut a1, "甲厂"), (&mut a2, "乙厂")] {
            let mut r = dev.store.get(&member).unwrap().unwrap().record;
            let Record::Member(m) = &mut r else { panic!("a member") };
            m.employer_name = employer.into();
            dev.store.update(&member, r, TODAY).unwrap();
        }
        s.sync(&mut a1).unwrap();
        s.sync(&mut a2).unwrap();
        let url = format!("{}/api/console/conflicts", s.endpoint.base);
        let (st, v) = s.answer(s.http.get(&url).bearer_auth(&s.admin));
        assert_eq!(st, 200, "{v}");
        let item = v["items"].as_array().unwrap().iter().find(|i| i["id"] == member.as_str()).expect("listed").clone();
        assert_eq!(item["conflicts"][0]["field"], "employer_name", "{item}");
        assert_eq!(item["conflicts"][0]["values"].as_array().unwrap().len(), 2);
        // A clerk of another township may not settle it; a field with no
        // conflict is refused.
        s.state
            .db
            .tx(|db| auth::set_user_townships(db, "clerk", std::slice::from_ref(&s.county.townships[1])))
            .unwrap();
        let (_, clerk) =
            s.post_json("/api/login", None, &serde_json::json!({"username": "clerk", "password": "battery staple"}));
        let clerk = clerk["token"].as_str().unwrap().to_owned();
        let settle = format!("/api/console/conflicts/{member}/settle");
        let body = serde_json::json!({"field": "employer_name", "value": "乙厂"});
        assert_eq!(s.post_json(&settle, Some(&clerk), &body).0, 403);
        let (st, v) = s.post_json(&settle, Some(&s.admin), &serde_json::json!({"field": "name", "value": "x"}));
        assert_eq!((st, v["code"].as_str()), (409, Some("NO_CONFLICT")), "{v}");
        // Settled at the county: off the list, and both devices get it.
        let (st, v) = s.post_json(&settle, Some(&s.admin), &body);
        assert_eq!(st, 200, "{v}");
        let (_, v) = s.answer(s.http.get(&url).bearer_auth(&s.admin));
        assert!(v["items"].as_array().unwrap().iter().all(|i| i["id"] != member.as_str()), "{v}");
        for dev in [&mut a1, &mut a2] {
            s.sync(dev).unwrap();
            assert!(dev.store.conflicts(&member).unwrap().is_empty());
            let Record::Member(m) = dev.store.get(&member).unwrap().unwrap().record else { panic!("a member") };
            assert_eq!(m.employer_name, "乙厂");
        }
    });
}

#[test]
fn a_townships_grids_surveyors_and_trend_add_up_to_its_figures() {
    each_backend(|b| {
        let s = start(b);
        let t0 = s.county.townships[0].clone();
        let grid = s.county.grids_in(&t0)[0].clone();
        // A surveyor enrolled for one grid of the township.
        let grant = serde_json::json!({"person": "网格员甲", "role": "surveyor", "townships": [], "grids": [grid]});
        let _dev = s.enrol(grant, 7);
        let get = |path: &str| s.answer(s.http.get(format!("{}{path}", s.endpoint.base)).bearer_auth(&s.admin));
        let (st, progress) = get(&format!("/api/console/progress?township={t0}"));
        assert_eq!(st, 200);
        let town = &progress["townships"][0];
        let (st, v) = get(&format!("/api/console/township?id={t0}"));
        assert_eq!(st, 200, "{v}");
        let grids = v["grids"].as_array().unwrap();
        for key in ["entities", "active_members", "new_members", "new_unions", "unions", "vacancies"] {
            let sum: u64 = grids.iter().map(|g| g[key].as_u64().unwrap()).sum();
            assert_eq!(sum, town[key].as_u64().unwrap(), "{key}: the grids add up to the township");
        }
        let g = grids.iter().find(|g| g["id"] == grid.as_str()).unwrap();
        assert!(!g["name"].as_str().unwrap().is_empty());
        let surveyor = &v["surveyors"][0];
        assert_eq!(surveyor["person"], "网格员甲", "{v}");
        assert_eq!(surveyor["tally"]["active_members"], g["active_members"]);
        // The trend: month by month, adding up to the year's new unions and members.
        let months = v["trend"].as_array().unwrap();
        assert_eq!(months.len(), 12);
        let sum = |k: &str| months.iter().map(|m| m[k].as_u64().unwrap()).sum::<u64>();
        assert_eq!(sum("new_members"), town["new_members"].as_u64().unwrap());
        assert_eq!(sum("new_unions"), town["new_unions"].as_u64().unwrap());
        let (_, county) = get("/api/console/trend");
        let (_, all) = get("/api/console/progress");
        let total: u64 = county["months"].as_array().unwrap().iter().map(|m| m["new_members"].as_u64().unwrap()).sum();
        assert_eq!(total, all["county"]["new_members"].as_u64().unwrap());
        // A clerk of another township may not look.
        s.state
            .db
            .tx(|db| auth::set_user_townships(db, "clerk", std::slice::from_ref(&s.county.townships[1])))
            .unwrap();
        let (_, clerk) =
            s.post_json("/api/login", None, &serde_json::json!({"username": "clerk", "password": "battery staple"}));
        let clerk = clerk["token"].as_str().unwrap().to_owned();
        let (st, _) =
            s.answer(s.http.get(format!("{}/api/console/township?id={t0}", s.endpoint.base)).bearer_auth(&clerk));
        assert_eq!(st, 403);
    });
}

#[test]
fn a_county_admin_creates_and_disables_staff_accounts_and_enrolment_codes_come_with_a_qr() {
    each_backend(|b| {
        let s = start(b);
        let t0 = s.county.townships[0].as_str().to_owned();
        let create = |body: serde_json::Value, token: &str| s.post_json("/api/console/staff", Some(token), &body);
        let (st, v) =
            create(serde_json::json!({"username": "王芳", "role": "township_staff", "townships": [t0]}), &s.admin);
        assert_eq!(st, 200, "{v}");
        let password = v["password"].as_str().unwrap().to_owned();
        assert_eq!(password.len(), 16);
        let (st, v) =
            create(serde_json::json!({"username": "王芳", "role": "township_staff", "townships": [t0]}), &s.admin);
        assert_eq!((st, v["code"].as_str()), (409, Some("USER_EXISTS")));
        assert_eq!(create(serde_json::json!({"username": "赵", "role": "mayor"}), &s.admin).0, 400);
        assert_eq!(
            create(serde_json::json!({"username": "赵", "role": "township_staff"}), &s.admin).0,
            400,
            "no township"
        );
        // The new clerk signs in, sees their township only, and may not manage staff.
        let (st, login) =
            s.post_json("/api/login", None, &serde_json::json!({"username": "王芳", "password": password}));
        assert_eq!(st, 200);
        let clerk = login["token"].as_str().unwrap().to_owned();
        assert_eq!(create(serde_json::json!({"username": "x", "role": "county_admin"}), &clerk).0, 403);
        let (_, p) = s.answer(s.http.get(format!("{}/api/console/progress", s.endpoint.base)).bearer_auth(&clerk));
        assert_eq!(p["townships"].as_array().unwrap().len(), 1);
        let (_, list) = s.answer(s.http.get(format!("{}/api/console/staff", s.endpoint.base)).bearer_auth(&s.admin));
        let fang = list.as_array().unwrap().iter().find(|u| u["username"] == "王芳").unwrap().clone();
        assert_eq!(fang["townships"], serde_json::json!([t0]));
        assert!(fang.get("pw_hash").is_none());
        // Disabled: signed out, cannot sign in; an admin cannot disable themself.
        let (st, _) =
            s.post_json(&format!("/api/console/staff/{}/disable", "王芳"), Some(&s.admin), &serde_json::json!({}));
        assert_eq!(st, 200);
        let (st, _) = s.answer(s.http.get(format!("{}/api/console/progress", s.endpoint.base)).bearer_auth(&clerk));
        assert_eq!(st, 401);
        let (st, _) = s.post_json("/api/login", None, &serde_json::json!({"username": "王芳", "password": password}));
        assert_eq!(st, 401);
        let (st, v) = s.post_json("/api/console/staff/admin/disable", Some(&s.admin), &serde_json::json!({}));
        assert_eq!((st, v["code"].as_str()), (409, Some("CANNOT_DISABLE_SELF")));
        // An enrolment code comes with its QR.
        let (st, v) = s.post_json("/api/enrolments", Some(&s.admin), &s.township_grant(0));
        assert_eq!(st, 200);
        assert!(v["svg"].as_str().unwrap().contains("<svg"), "{v}");
    });
}

#[test]
fn a_kept_credit_code_with_a_wrong_check_character_is_reviewed_once() {
    each_backend(|b| {
        let s = start(b);
        let mut a = s.enrol(s.township_grant(0), 1);
        s.sync(&mut a).unwrap();
        let t0 = &s.county.townships[0];
        let mut entity = s
            .county
            .records
            .iter()
            .find_map(|(_, r)| match r {
                Record::Entity(e) if e.credit_code.is_some() && e.place.township == *t0 => Some(e.clone()),
                _ => None,
            })
            .unwrap();
        let mut code = entity.credit_code.clone().unwrap();
        let last = code.pop().unwrap();
        code.push(if last == '0' { '1' } else { '0' });
        entity.credit_code = Some(code);
        entity.credit_code_override = Some("营业执照上即为此代码".into());
        entity.name = "校验位不符商行".into();
        let saved = a.store.insert(Record::Entity(entity), TODAY).unwrap();
        s.sync(&mut a).unwrap();
        let url = format!("{}/api/console/overrides", s.endpoint.base);
        let (st, v) = s.answer(s.http.get(&url).bearer_auth(&s.admin));
        assert_eq!(st, 200, "{v}");
        let item =
            v["items"].as_array().unwrap().iter().find(|i| i["id"] == saved.id.as_str()).expect("listed").clone();
        assert_eq!(item["reason"], "营业执照上即为此代码");
        assert_eq!(item["name"], "校验位不符商行");
        let review = format!("/api/console/overrides/{}/review", saved.id);
        assert_eq!(s.post_json(&review, Some(&s.admin), &serde_json::json!({"decision": "maybe"})).0, 400);
        let (st, _) =
            s.post_json(&review, Some(&s.admin), &serde_json::json!({"decision": "accept", "note": "已核对执照"}));
        assert_eq!(st, 200);
        let (_, v) = s.answer(s.http.get(&url).bearer_auth(&s.admin));
        assert!(v["items"].as_array().unwrap().iter().all(|i| i["id"] != saved.id.as_str()));
        let (st, v) = s.post_json(&review, Some(&s.admin), &serde_json::json!({"decision": "reject"}));
        assert_eq!((st, v["code"].as_str()), (409, Some("NOTHING_TO_REVIEW")));

        // Another, sent back: the device lists it with the county's note until
        // the surveyor edits it; then the county sees it again.
        let mut other = s
            .county
            .records
            .iter()
            .find_map(|(_, r)| match r {
                Record::Entity(e) if e.credit_code.is_some() && e.place.township == *t0 => Some(e.clone()),
                _ => None,
            })
            .unwrap();
        let mut code = other.credit_code.clone().unwrap();
        code.replace_range(2..4, "77");
        other.credit_code = Some(code);
        other.credit_code_override = Some("看不清".into());
        other.name = "退回更正商行".into();
        let other = a.store.insert(Record::Entity(other), TODAY).unwrap().id;
        s.sync(&mut a).unwrap();
        let review = format!("/api/console/overrides/{other}/review");
        let (st, v) =
            s.post_json(&review, Some(&s.admin), &serde_json::json!({"decision": "reject", "note": "请核对营业执照"}));
        assert_eq!(st, 200, "{v}");
        let (_, v) = s.answer(s.http.get(&url).bearer_auth(&s.admin));
        assert!(v["items"].as_array().unwrap().iter().all(|i| i["id"] != other.as_str()), "off the queue: {v}");
        s.sync(&mut a).unwrap();
        let w = a.store.worklist(TODAY, 10).unwrap();
        let row = w.returned.rows.iter().find(|r| r.id == other).expect("on the device's worklist");
        assert_eq!(row.note.as_deref(), Some("请核对营业执照"));
        let mut r = a.store.get(&other).unwrap().unwrap().record;
        let Record::Entity(e) = &mut r else { panic!("an entity") };
        e.credit_code_override = Some("执照原件即如此，已拍照".into());
        a.store.update(&other, r, TODAY).unwrap();
        assert_eq!(a.store.worklist(TODAY, 10).unwrap().returned.total, 0, "the edit answers the return");
        s.sync(&mut a).unwrap();
        let (_, v) = s.answer(s.http.get(&url).bearer_auth(&s.admin));
        let item = v["items"].as_array().unwrap().iter().find(|i| i["id"] == other.as_str()).expect("back").clone();
        assert_eq!(item["reason"], "执照原件即如此，已拍照");
        assert_eq!(s.post_json(&review, Some(&s.admin), &serde_json::json!({"decision": "accept"})).0, 200);
        let (_, v) = s.answer(s.http.get(&url).bearer_auth(&s.admin));
        assert!(v["items"].as_array().unwrap().iter().all(|i| i["id"] != other.as_str()));
        let (_, log) = s.answer(s.http.get(format!("{}/api/console/audit", s.endpoint.base)).bearer_auth(&s.admin));
        assert!(
            log["entries"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "review:accept" && e["note"] == "已核对执照")
        );
    });
}

#[test]
fn near_duplicates_are_merged_keeping_both_histories_or_marked_distinct() {
    each_backend(|b| {
        let s = start(b);
        let mut a1 = s.enrol(s.township_grant(0), 1);
        let mut a2 = s.enrol(s.township_grant(0), 2);
        s.sync(&mut a1).unwrap();
        s.sync(&mut a2).unwrap();
        let t0 = &s.county.townships[0];
        // One entity registered twice without its credit code, its legal form
        // written two ways.
        let base = s
            .county
            .records
            .iter()
            .find_map(|(_, r)| match r {
                Record::Entity(e) if e.place.township == *t0 => Some(e.clone()),
                _ => None,
            })
            .unwrap();
        let mut e1 = base.clone();
        e1.name = "青山商贸有限公司".into();
        e1.credit_code = None;
        e1.workers = 12;
        e1.women_workers = 5;
        e1.address = String::new();
        let mut e2 = e1.clone();
        e2.name = "青山商贸（浙江）有限责任公司".into();
        e2.workers = 15;
        e2.address = "青山路 8 号".into();
        let e1 = a1.store.insert(Record::Entity(e1), TODAY).unwrap().id;
        let e2 = a2.store.insert(Record::Entity(e2), TODAY).unwrap().id;
        // A member employed by the second; and the same person's name and
        // birth date under another ID number (a typo in its sequence digits).
        let m = a1.store.list(RecordKind::Member, None, 1).unwrap()[0].id.clone();
        let mut r = a1.store.get(&m).unwrap().unwrap().record;
        let Record::Member(member) = &mut r else { panic!("a member") };
        member.employer_id = Some(e2.clone());
        let mut twin = member.clone();
        a1.store.update(&m, r, TODAY).unwrap();
        let mut first17: String = twin.resident_id.chars().take(17).collect();
        let seq = first17.as_bytes()[14];
        first17.replace_range(14..15, if seq == b'9' { "0" } else { "9" });
        twin.resident_id = registry::ids::ResidentId::from_first17(&first17).unwrap().as_str().to_owned();
        twin.card_number = None;
        let m2 = a2.store.insert(Record::Member(twin), TODAY).unwrap().id;
        // The second entity's door was knocked on.
        let visit = CensusVisit {
            entity_id: Some(e2.clone()),
            entity_name: "青山商贸（浙江）有限责任公司".into(),
            surveyor: "走访员".into(),
            visited_on: TODAY,
            time: "09:30".into(),
            outcome: VisitOutcome::Registered,
            notes: String::new(),
            follow_up_on: None,
            position: None,
            photos: Default::default(),
            place: base.place.clone(),
        };
        let visit = a2.store.insert(Record::Visit(visit), TODAY).unwrap().id;
        s.sync(&mut a1).unwrap();
        s.sync(&mut a2).unwrap();
        s.sync(&mut a1).unwrap();

        let url = format!("{}/api/console/duplicates", s.endpoint.base);
        let (st, v) = s.answer(s.http.get(&url).bearer_auth(&s.admin));
        assert_eq!(st, 200, "{v}");
        let find = |v: &serde_json::Value, x: &RecordId, y: &RecordId| {
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| {
                    let ids = [p["a"]["id"].as_str().unwrap(), p["b"]["id"].as_str().unwrap()];
                    ids.contains(&x.as_str()) && ids.contains(&y.as_str())
                })
                .cloned()
        };
        let entities = find(&v, &e1, &e2).expect("the entities are listed");
        assert_eq!(entities["kind"], "entity");
        assert!(entities["differ"].as_array().unwrap().iter().any(|f| f == "workers"), "{entities}");
        let people = find(&v, &m, &m2).expect("the members are listed");
        let ids: Vec<&str> = ["a", "b"]
            .iter()
            .map(|side| {
                people[side]["fields"].as_array().unwrap().iter().find(|f| f[0] == "resident_id").unwrap()[1]
                    .as_str()
                    .unwrap()
            })
            .collect();
        assert!(ids.iter().all(|id| id.contains('*') && id.len() == 18), "masked: {ids:?}");

        // A clerk of another township may not decide; a bad decision is refused.
        s.state
            .db
            .tx(|db| auth::set_user_townships(db, "clerk", std::slice::from_ref(&s.county.townships[1])))
            .unwrap();
        let (_, clerk) =
            s.post_json("/api/login", None, &serde_json::json!({"username": "clerk", "password": "battery staple"}));
        let clerk = clerk["token"].as_str().unwrap().to_owned();
        let merge = serde_json::json!({"a": e1, "b": e2, "decision": "merge", "keep": e1, "take": ["workers"]});
        assert_eq!(s.post_json("/api/console/duplicates", Some(&clerk), &merge).0, 403);
        let bad = serde_json::json!({"a": e1, "b": e2, "decision": "merge", "keep": m});
        let (st, v) = s.post_json("/api/console/duplicates", Some(&s.admin), &bad);
        assert_eq!((st, v["code"].as_str()), (400, Some("BAD_DECISION")), "{v}");
        let unknown = serde_json::json!({"a": e1, "b": e2, "decision": "merge", "keep": e1, "take": ["_kind"]});
        let (st, v) = s.post_json("/api/console/duplicates", Some(&s.admin), &unknown);
        assert_eq!((st, v["code"].as_str()), (409, Some("FIELD_UNKNOWN")), "{v}");

        // Merged: the employer re-pointed, the pair gone from the queue.
        let (st, v) = s.post_json("/api/console/duplicates", Some(&s.admin), &merge);
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["repointed"], 3, "both members employed by the dropped entity, and its visit");
        let distinct = serde_json::json!({"a": m2, "b": m, "decision": "distinct", "note": "同名同生日，身份证不同"});
        assert_eq!(s.post_json("/api/console/duplicates", Some(&s.admin), &distinct).0, 200);
        let (st, v) = s.post_json("/api/console/duplicates", Some(&s.admin), &distinct);
        assert_eq!((st, v["code"].as_str()), (409, Some("NOTHING_TO_REVIEW")));
        let (_, v) = s.answer(s.http.get(&url).bearer_auth(&s.admin));
        assert!(find(&v, &e1, &e2).is_none() && find(&v, &m, &m2).is_none(), "{v}");

        // Both devices receive it: one entity, both histories, the dropped one
        // a tombstone naming the kept.
        for dev in [&mut a1, &mut a2] {
            s.sync(dev).unwrap();
            let kept = dev.store.get(&e1).unwrap().unwrap();
            let Record::Entity(e) = &kept.record else { panic!("an entity") };
            assert_eq!((e.name.as_str(), e.workers, e.address.as_str()), ("青山商贸有限公司", 15, "青山路 8 号"));
            assert!(kept.deleted.is_none() && kept.conflicts == 0);
            let ops: Vec<String> = dev.store.history(&e1).unwrap().iter().map(|h| h.op.clone()).collect();
            assert_eq!(ops.iter().filter(|o| *o == "create").count(), 2, "{ops:?}");
            assert!(ops.iter().any(|o| o == "merge"), "{ops:?}");
            let gone = dev.store.get(&e2).unwrap().unwrap();
            assert!(gone.deleted.expect("deleted").reason.contains(e1.as_str()));
            let Record::Member(mm) = dev.store.get(&m).unwrap().unwrap().record else { panic!("a member") };
            assert_eq!(mm.employer_id.as_ref(), Some(&e1));
            let twin = dev.store.get(&m2).unwrap().unwrap();
            let Record::Member(tm) = &twin.record else { panic!("a member") };
            assert!(twin.deleted.is_none() && tm.employer_id.as_ref() == Some(&e1));
            let Record::Visit(v) = dev.store.get(&visit).unwrap().unwrap().record else { panic!("a visit") };
            assert_eq!(v.entity_id.as_ref(), Some(&e1), "the kept entity was visited");
        }
        let (_, log) = s.answer(s.http.get(format!("{}/api/console/audit", s.endpoint.base)).bearer_auth(&s.admin));
        let actions: Vec<&str> =
            log["entries"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
        assert!(actions.contains(&format!("review:merge:{e1}").as_str()) && actions.contains(&"review:distinct"));
    });
}

/// Merging two records of one person points the transfers (and cadres and
/// hardship cases) of the dropped one at the kept one.
#[test]
fn a_member_merge_repoints_the_transfers_of_the_dropped_member() {
    each_backend(|b| {
        let s = start(b);
        let mut a = s.enrol(s.township_grant(0), 71);
        s.sync(&mut a).unwrap();
        // A member with a transfer to another union of the township.
        let dropped = a.store.list(RecordKind::Member, None, 1).unwrap()[0].id.clone();
        let Record::Member(member) = a.store.get(&dropped).unwrap().unwrap().record else { panic!("a member") };
        let to_union = a
            .store
            .list(RecordKind::Union, None, 50)
            .unwrap()
            .into_iter()
            .map(|u| u.id)
            .find(|u| *u != member.union_id)
            .expect("a second union");
        let transfer = Transfer {
            member_id: dropped.clone(),
            member_name: member.name.clone(),
            from_union: member.union_id.clone(),
            to_union,
            date: TODAY,
            reason: TransferReason::JobChange,
            note: String::new(),
            place: member.place.clone(),
        };
        let transfer = a.store.insert(Record::Transfer(transfer), TODAY).unwrap().id;
        // The same person registered again under a mistyped ID number.
        let Record::Member(mut twin) = a.store.get(&dropped).unwrap().unwrap().record else { panic!("a member") };
        let mut first17: String = twin.resident_id.chars().take(17).collect();
        let seq = first17.as_bytes()[15];
        first17.replace_range(15..16, if seq == b'9' { "0" } else { "9" });
        twin.resident_id = registry::ids::ResidentId::from_first17(&first17).unwrap().as_str().to_owned();
        twin.card_number = None;
        let kept = a.store.insert(Record::Member(twin), TODAY).unwrap().id;
        s.sync(&mut a).unwrap();
        let merge = serde_json::json!({"a": kept, "b": dropped, "decision": "merge", "keep": kept});
        let (st, v) = s.post_json("/api/console/duplicates", Some(&s.admin), &merge);
        assert_eq!(st, 200, "{v}");
        assert!(v["repointed"].as_u64().unwrap() >= 1, "{v}");
        s.sync(&mut a).unwrap();
        let Record::Transfer(t) = a.store.get(&transfer).unwrap().unwrap().record else { panic!("a transfer") };
        assert_eq!(t.member_id, kept, "the transfer now names the kept member");
        assert!(a.store.get(&dropped).unwrap().unwrap().deleted.is_some());
    });
}

#[test]
fn the_years_targets_and_calendar_are_configured_checked_logged_and_drive_the_dashboard() {
    each_backend(|b| {
        let s = start(b);
        let url = format!("{}/api/console/campaign", s.endpoint.base);
        let (st, v) = s.answer(s.http.get(&url).bearer_auth(&s.admin));
        assert_eq!((st, &v["configured"]), (200, &serde_json::json!(false)), "{v}");
        let mut config = v["config"].clone();
        assert_eq!(config["coverage_goal"], 0.95, "the plans' figures until the county changes them");
        // A deadline before its start is refused whole: nothing saved.
        let mut bad = config.clone();
        bad["coverage_goal"] = serde_json::json!(0.5);
        bad["calendar"][1]["deadline"] = bad["calendar"][1]["starts"].clone();
        bad["calendar"][1]["starts"] = serde_json::json!(format!("{}-12-01", config["year"]));
        let (st, v) = s.post_json("/api/console/campaign", Some(&s.admin), &bad);
        assert_eq!((st, v["code"].as_str()), (400, Some("CONFIG_PHASE_ORDER")), "{v}");
        assert!(v["message"]["zh"].as_str().unwrap().contains("截止日期早于开始日期"), "{v}");
        let (_, v) = s.answer(s.http.get(&url).bearer_auth(&s.admin));
        assert_eq!(v["config"]["coverage_goal"], 0.95);
        // A township clerk may read it, not change it.
        let (_, clerk) =
            s.post_json("/api/login", None, &serde_json::json!({"username": "clerk", "password": "battery staple"}));
        let clerk = clerk["token"].as_str().unwrap().to_owned();
        config["coverage_goal"] = serde_json::json!(0.5);
        config["county_new_unions"] = serde_json::json!(7);
        assert_eq!(s.post_json("/api/console/campaign", Some(&clerk), &config).0, 403);
        let mut tablet = s.enrol(s.township_grant(0), 1);
        s.sync(&mut tablet).unwrap();
        let year = config["year"].as_i64().unwrap() as i32;
        assert_eq!(tablet.store.campaign(year).unwrap().coverage_goal, 0.95, "the plans' figures on the tablet too");
        let (st, v) = s.post_json("/api/console/campaign", Some(&s.admin), &config);
        assert_eq!(st, 200, "{v}");
        // The dashboard measures against the new goal.
        let (_, p) = s.answer(s.http.get(format!("{}/api/console/progress", s.endpoint.base)).bearer_auth(&s.admin));
        let coverage = p["goals"].as_array().unwrap().iter().find(|g| g["key"] == "coverage").unwrap().clone();
        assert_eq!(coverage["target"], 0.5, "{coverage}");
        // So does the tablet once it syncs: the campaign travels in the
        // county's area record, which every device receives.
        s.sync(&mut tablet).unwrap();
        let on_tablet = tablet.store.campaign(year).unwrap();
        assert_eq!((on_tablet.coverage_goal, on_tablet.county_new_unions), (0.5, 7));
        let tablet_goals = tablet.store.progress(&on_tablet, server::today()).unwrap().goals;
        let targets = |goals: &[serde_json::Value]| {
            goals.iter().map(|g| (g["key"].clone(), g["target"].clone())).collect::<Vec<_>>()
        };
        assert_eq!(
            targets(&serde_json::to_value(&tablet_goals).unwrap().as_array().unwrap()[..]),
            targets(p["goals"].as_array().unwrap())
        );
        // Today's snapshot holds the county's figures; the change is logged.
        let (st, v) = s.answer(s.http.get(format!("{}/api/console/snapshots", s.endpoint.base)).bearer_auth(&s.admin));
        assert_eq!(st, 200, "{v}");
        let days = v["days"].as_array().unwrap();
        assert_eq!(days.len(), 1, "{v}");
        assert_eq!(days[0]["day"], server::today().to_string());
        assert_eq!(days[0]["coverage"], p["county"]["coverage"]);
        assert_eq!(days[0]["active_members"], p["county"]["active_members"]);
        let (_, log) = s.answer(s.http.get(format!("{}/api/console/audit", s.endpoint.base)).bearer_auth(&s.admin));
        assert!(log["entries"].as_array().unwrap().iter().any(|e| e["action"] == "configure"), "{log}");
    });
}

#[test]
fn the_area_tree_is_shown_with_its_counts_and_grids_added_at_the_county_reach_devices() {
    each_backend(|b| {
        let s = start(b);
        let mut a = s.enrol(s.township_grant(0), 1);
        s.sync(&mut a).unwrap();
        let t0 = s.county.townships[0].clone();
        let url = format!("{}/api/console/areas", s.endpoint.base);
        let (st, v) = s.answer(s.http.get(&url).bearer_auth(&s.admin));
        assert_eq!(st, 200, "{v}");
        let areas = v["areas"].as_array().unwrap().clone();
        let townships: Vec<&serde_json::Value> = areas.iter().filter(|a| a["level"] == "township").collect();
        let (_, p) = s.answer(s.http.get(format!("{}/api/console/progress", s.endpoint.base)).bearer_auth(&s.admin));
        assert_eq!(townships.len(), p["townships"].as_array().unwrap().len(), "every township of the dashboard");
        let first = townships.iter().find(|t| t["id"] == t0.as_str()).unwrap();
        let reported = p["townships"].as_array().unwrap().iter().find(|t| t["id"] == t0.as_str()).unwrap().clone();
        assert_eq!(first["entities"], reported["entities"], "the tree counts what the dashboard counts");
        let grids_members: i64 = areas
            .iter()
            .filter(|a| a["level"] == "grid" && a["township"] == t0.as_str())
            .map(|a| a["members"].as_i64().unwrap())
            .sum();
        assert!(grids_members > 0 && grids_members <= reported["active_members"].as_i64().unwrap());
        let community = areas.iter().find(|a| a["level"] == "community" && a["township"] == t0.as_str()).unwrap();

        // A new grid in a community, with its leader and surveyors.
        let body = serde_json::json!({"name": " 新区 一网格 ", "level": "grid", "parent": community["id"],
            "grid_leader": "王五", "grid_members": ["张三、李四", "张三"]});
        let (_, clerk) =
            s.post_json("/api/login", None, &serde_json::json!({"username": "clerk", "password": "battery staple"}));
        let clerk = clerk["token"].as_str().unwrap().to_owned();
        assert_eq!(s.post_json("/api/console/areas", Some(&clerk), &body).0, 403);
        let (st, v) = s.post_json("/api/console/areas", Some(&s.admin), &body);
        assert_eq!(st, 200, "{v}");
        let grid = RecordId::from(v["id"].as_str().unwrap());
        let (st, v) = s.post_json("/api/console/areas", Some(&s.admin), &body);
        assert_eq!((st, v["code"].as_str()), (400, Some("AREA_NAME_TAKEN")), "{v}");
        let under_grid = serde_json::json!({"name": "x", "level": "grid", "parent": grid});
        let (st, v) = s.post_json("/api/console/areas", Some(&s.admin), &under_grid);
        assert_eq!((st, v["code"].as_str()), (400, Some("AREA_LEVEL")), "{v}");
        let (_, v) = s.answer(s.http.get(&url).bearer_auth(&s.admin));
        let added = v["areas"].as_array().unwrap().iter().find(|a| a["id"] == grid.as_str()).unwrap().clone();
        assert_eq!(added["name"], "新区 一网格");
        assert_eq!(added["grid_members"], serde_json::json!(["张三", "李四"]));
        assert_eq!(added["township"], t0.as_str());

        // The township's device receives it; then a rename.
        s.sync(&mut a).unwrap();
        let Record::Area(got) = a.store.get(&grid).unwrap().unwrap().record else { panic!("an area") };
        assert_eq!((got.name.as_str(), got.grid_leader.as_deref()), ("新区 一网格", Some("王五")));
        let rename = serde_json::json!({"name": "新区第一网格", "grid_leader": "赵六", "grid_members": ["张三"]});
        let (st, v) = s.post_json(&format!("/api/console/areas/{grid}"), Some(&s.admin), &rename);
        assert_eq!(st, 200, "{v}");
        s.sync(&mut a).unwrap();
        let Record::Area(got) = a.store.get(&grid).unwrap().unwrap().record else { panic!("an area") };
        assert_eq!((got.name.as_str(), got.grid_members.len()), ("新区第一网格", 1));
        let (_, log) = s.answer(s.http.get(format!("{}/api/console/audit", s.endpoint.base)).bearer_auth(&s.admin));
        let configured = log["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "configure").count();
        assert_eq!(configured, 2, "the addition and the rename are logged");
    });
}

#[test]
fn a_background_export_reports_its_progress_and_hands_its_file_over_once() {
    each_backend(|b| {
        let s = start(b);
        let (st, v) =
            s.post_json("/api/console/exports?ledger=member&format=csv", Some(&s.admin), &serde_json::json!({}));
        assert_eq!(st, 200, "{v}");
        let id = v["id"].as_str().unwrap().to_owned();
        let status = format!("{}/api/console/exports/{id}", s.endpoint.base);
        let v = loop {
            let (st, v) = s.answer(s.http.get(&status).bearer_auth(&s.admin));
            assert_eq!(st, 200, "{v}");
            if v["state"] != "running" {
                break v;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        assert_eq!(v["state"], "ready", "{v}");
        let total = v["total"].as_u64().unwrap();
        assert!(total > 0 && v["done"] == total, "{v}");
        // Another staff member cannot see or take it.
        let (_, clerk) =
            s.post_json("/api/login", None, &serde_json::json!({"username": "clerk", "password": "battery staple"}));
        let clerk = clerk["token"].as_str().unwrap().to_owned();
        let (st, v) = s.answer(s.http.get(&status).bearer_auth(&clerk));
        assert_eq!((st, v["code"].as_str()), (404, Some("EXPORT_NOT_FOUND")));
        let file = format!("{status}/file");
        let bytes = s.rt.block_on(async {
            let r = s.http.get(&file).bearer_auth(&s.admin).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200);
            r.bytes().await.unwrap()
        });
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert_eq!(text.lines().count() as u64, total + 1, "a header and a row per member");
        let (st, _) = s.answer(s.http.get(&file).bearer_auth(&s.admin));
        assert_eq!(st, 404, "handed over once");
        let (st, v) = s.post_json("/api/console/exports?ledger=nope", Some(&s.admin), &serde_json::json!({}));
        assert_eq!((st, v["code"].as_str()), (400, Some("BAD_REQUEST")), "{v}");
    });
}

/// A transport that cuts off or corrupts the next blob download, as a
/// dropped connection or a bad proxy would.
struct Faulty {
    inner: HttpTransport,
    cut_at: Option<usize>,
    corrupt: bool,
}

impl Transport for Faulty {
    fn call(&mut self, path: &'static str, body: Vec<u8>) -> Result<Vec<u8>, SyncError> {
        self.inner.call(path, body)
    }

    fn call_partial(&mut self, path: &'static str, body: Vec<u8>) -> Result<(Vec<u8>, bool), SyncError> {
        let (mut answer, whole) = self.inner.call_partial(path, body)?;
        if path == sync::blobs::path::FETCH {
            if let Some(n) = self.cut_at.take() {
                answer.truncate(n);
                return Ok((answer, false));
            }
            if std::mem::take(&mut self.corrupt) {
                let at = answer.len() - 100;
                answer[at] ^= 0x55;
            }
        }
        Ok((answer, whole))
    }
}

/// Bytes that look like a JPEG (its magic, a JFIF header) around a body
/// that does not repeat, so any plaintext copy would be found.
fn fake_jpeg(len: usize, seed: u8) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0];
    let mut x = u32::from(seed).wrapping_mul(2_654_435_761) | 1;
    while out.len() < len - 2 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.push((x >> 24) as u8);
    }
    out.extend([0xFF, 0xD9]);
    out
}

/// Every file under `dir` (recursively) holds neither a JPEG's magic nor
/// a run of the photo's bytes. The magic is the whole JFIF start (SOI,
/// APP0, its length and "JFIF\0": 11 bytes): the 4 bytes FF D8 FF E0 alone
/// turn up by chance in a few megabytes of ciphertext now and then.
fn assert_no_plaintext(dir: &std::path::Path, photo: &[u8]) {
    const MAGIC: [u8; 11] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            assert_no_plaintext(&path, photo);
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.windows(MAGIC.len()).any(|w| w == MAGIC), "JPEG magic in {}", path.display());
        assert!(!bytes.windows(32).any(|w| w == &photo[1000..1032]), "photo bytes in {}", path.display());
    }
}

#[test]
fn a_visit_made_offline_with_photos_reaches_another_device_byte_for_byte_resuming_and_refetching() {
    each_backend(|b| {
        let s = start(b);
        let blob_dir = s._dir.path().join("blobs");
        photos_travel(&s, &blob_dir);
    });
}

#[test]
fn photos_kept_on_an_s3_compatible_store_travel_the_same_way() {
    let s = start_s3(Backend::Sqlite);
    photos_travel(&s, &s3_root());
}

/// A visit with photos made offline on one device reaches another through
/// the server, resuming a cut-off download and refetching a corrupted one;
/// no plaintext photo in the devices' files or under `blob_dir`.
fn photos_travel(s: &Running, blob_dir: &std::path::Path) {
    {
        let dir = tempfile::tempdir().unwrap();
        let mut a = s.enrol_on_disk(s.township_grant(0), 41, &dir.path().join("a.db"));
        let mut b2 = s.enrol_on_disk(s.township_grant(0), 42, &dir.path().join("b.db"));
        let mut other = s.enrol(s.township_grant(1), 43);
        s.sync(&mut a).unwrap();
        s.sync(&mut b2).unwrap();
        s.sync(&mut other).unwrap();
        // Offline at the door: a visit with two photos (one spans frames).
        let small = fake_jpeg(300 << 10, 1);
        let large = fake_jpeg((1 << 20) + (700 << 10), 2);
        let h1 = a.store.put_blob(&small).unwrap();
        let h2 = a.store.put_blob(&large).unwrap();
        let entity = a.store.list(RecordKind::Entity, None, 1).unwrap()[0].id.clone();
        let Record::Entity(e) = a.store.get(&entity).unwrap().unwrap().record else { panic!("an entity") };
        let photo = |bytes: &[u8]| PhotoRef {
            item: String::new(),
            bytes: bytes.len() as i64,
            width: 1600,
            height: 1200,
            taken_at: "2026-11-20 10:15".into(),
            caption: String::new(),
        };
        let visit = CensusVisit {
            entity_id: Some(entity.clone()),
            entity_name: e.name.clone(),
            surveyor: "走访员".into(),
            visited_on: TODAY,
            time: "10:15".into(),
            outcome: VisitOutcome::Updated,
            notes: "门牌已拍照".into(),
            follow_up_on: None,
            position: Some(Position { lat_e6: 33_490_000, lon_e6: 116_210_000, accuracy_m: Some(8), manual: false }),
            photos: [(h1.clone(), photo(&small)), (h2.clone(), photo(&large))].into_iter().collect(),
            place: e.place.clone(),
        };
        let visit = a.store.insert(Record::Visit(visit), TODAY).unwrap().id;
        assert_eq!(a.store.blobs_unpushed().unwrap(), (2, (small.len() + large.len()) as u64));

        // Back online: the records, then the photos.
        let report = s.sync(&mut a).unwrap();
        assert_eq!(report.blobs.pushed, 2, "{report:?}");
        assert_eq!(a.store.blobs_unpushed().unwrap().0, 0);
        assert_no_plaintext(blob_dir, &large);

        // The second device: cut off mid-download, it keeps what arrived...
        let mut t = Faulty { inner: s.transport(&b2.token), cut_at: Some(700 << 10), corrupt: false };
        let err = client::sync(&mut b2.store, &mut t, &Options::default(), &mut |_| {}).unwrap_err();
        assert_eq!(err.code(), "SYNC_INTERRUPTED");
        assert!(b2.store.get(&visit).unwrap().is_some(), "the record came first");
        let states = [b2.store.blob_state(&h1).unwrap(), b2.store.blob_state(&h2).unwrap()];
        let held: u64 = states
            .iter()
            .map(|st| match st {
                store::BlobState::Present { size } => *size,
                store::BlobState::Partial { received, .. } => *received,
                store::BlobState::Missing => 0,
            })
            .sum();
        assert!(held > 500 << 10 && held < 700 << 10, "kept what arrived: {states:?}");
        // ...then a corrupted answer: the blob it completes is refused...
        t.corrupt = true;
        let report = client::sync(&mut b2.store, &mut t, &Options::default(), &mut |_| {}).unwrap();
        assert!(report.blobs.corrupt >= 1, "{report:?}");
        // ...and fetched again whole by the next session.
        let report = s.sync(&mut b2).unwrap();
        assert!(report.blobs.fetched >= 1, "{report:?}");
        assert_eq!(b2.store.blob(&h1).unwrap().unwrap(), small, "byte for byte");
        assert_eq!(b2.store.blob(&h2).unwrap().unwrap(), large, "byte for byte");
        let Record::Visit(got) = b2.store.get(&visit).unwrap().unwrap().record else { panic!("a visit") };
        assert_eq!(got.photos.len(), 2);
        assert_eq!(got.position.unwrap().lat_e6, 33_490_000);

        // A device of another township sees neither the visit nor its photos.
        let (status, answer) = s.raw(
            sync::blobs::path::FETCH,
            &other.token,
            serde_json::to_vec(&serde_json::json!({"want": [{"hash": h1, "from": 0}], "max_bytes": 1 << 20})).unwrap(),
        );
        assert_eq!(status, 200);
        assert!(sync::blobs::decode(&answer).unwrap().is_empty(), "nothing outside the device's scope");
        s.sync(&mut other).unwrap();
        assert!(other.store.get(&visit).unwrap().is_none());

        // No photo in plaintext in either device's files.
        a.store.checkpoint().unwrap();
        b2.store.checkpoint().unwrap();
        drop((a, b2));
        assert_no_plaintext(dir.path(), &large);
    }
}

#[test]
fn the_console_census_matches_the_devices_lists_and_an_offices_unknown_entities_become_visit_tasks() {
    each_backend(|b| {
        let s = start(b);
        let mut a = s.enrol(s.township_grant(0), 51);
        s.sync(&mut a).unwrap();
        let t0 = s.county.townships[0].clone();
        let today = server::today();
        let census = |s: &Running, token: &str| {
            let url = format!("{}/api/console/census?township={t0}", s.endpoint.base);
            let (st, v) = s.answer(s.http.get(&url).bearer_auth(token));
            assert_eq!(st, 200, "{v}");
            v
        };
        let v = census(&s, &s.admin);
        let w = a.store.worklist(today, 5).unwrap();
        assert_eq!(v["counts"]["not_visited"], w.not_visited.total, "the registry's rule on both sides");
        assert_eq!(v["counts"]["visit_again"], w.visit_again.total);
        assert!(v["counts"]["done"].as_u64().unwrap() > 0, "the synthetic county has visits: {}", v["counts"]);
        let grid_sum: u64 =
            v["grids"].as_array().unwrap().iter().map(|g| g["counts"]["entities"].as_u64().unwrap()).sum();
        assert_eq!(v["counts"]["entities"], grid_sum, "the grids add up to the township");
        let names: Vec<&str> =
            v["not_visited"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
        assert!(w.not_visited.rows.iter().all(|r| names.contains(&r.name.as_str())));
        // A clerk of another township may not look.
        s.state
            .db
            .tx(|db| auth::set_user_townships(db, "clerk", std::slice::from_ref(&s.county.townships[1])))
            .unwrap();
        let (_, clerk) =
            s.post_json("/api/login", None, &serde_json::json!({"username": "clerk", "password": "battery staple"}));
        let clerk = clerk["token"].as_str().unwrap().to_owned();
        let url = format!("{}/api/console/census?township={t0}", s.endpoint.base);
        assert_eq!(s.answer(s.http.get(&url).bearer_auth(&clerk)).0, 403);

        // Another office lists an entity the census lacks: it becomes an
        // entity to visit in the chosen grid, once.
        let grid = s.county.grids_in(&t0)[0].clone();
        let csv = "单位名称,统一社会信用代码,从业人员,地址\n新开张粮油店,,4,东街12号\n".as_bytes().to_vec();
        let (st, v) = s.rt.block_on(async {
            let r = s
                .http
                .post(format!("{}/api/console/reconcile?source=市场监管", s.endpoint.base))
                .bearer_auth(&s.admin)
                .body(csv)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<serde_json::Value>().await.unwrap())
        });
        assert_eq!(st, 200, "{v}");
        let import = v["import"].as_i64().unwrap();
        let tasks = format!("/api/console/reconcile/{import}/tasks");
        let body = serde_json::json!({"township": t0, "grid": grid});
        assert_eq!(s.post_json(&tasks, Some(&clerk), &body).0, 403);
        let wrong = serde_json::json!({"township": s.county.townships[1], "grid": grid});
        assert_eq!(s.post_json(&tasks, Some(&s.admin), &wrong).0, 404, "the grid must lie in the township");
        let (st, v) = s.post_json(&tasks, Some(&s.admin), &body);
        assert_eq!((st, v["created"].as_u64()), (200, Some(1)), "{v}");
        let (_, v) = s.post_json(&tasks, Some(&s.admin), &body);
        assert_eq!((v["created"].as_u64(), v["skipped"].as_u64()), (Some(0), Some(1)), "once: {v}");
        s.sync(&mut a).unwrap();
        let w = a.store.worklist(today, 500).unwrap();
        let task = w.not_visited.rows.iter().find(|r| r.name == "新开张粮油店").expect("on the device's list");
        assert_eq!(task.grid.as_ref(), Some(&grid));
        let Record::Entity(e) = a.store.get(&task.id).unwrap().unwrap().record else { panic!("an entity") };
        assert!(e.notes.contains("市场监管") && e.address == "东街12号" && e.workers == 4, "{e:?}");

        // A photo a device took is seen in the console by those who may.
        let photo = fake_jpeg(50_000, 9);
        let hash = a.store.put_blob(&photo).unwrap();
        let mut r = a.store.get(&task.id).unwrap().unwrap().record;
        let Record::Entity(e) = &mut r else { panic!("an entity") };
        e.photos.insert(
            hash.clone(),
            PhotoRef {
                item: String::new(),
                bytes: photo.len() as i64,
                width: 800,
                height: 600,
                taken_at: String::new(),
                caption: "门头".into(),
            },
        );
        a.store.update(&task.id, r, TODAY).unwrap();
        s.sync(&mut a).unwrap();
        let url = format!("{}/api/console/blobs/{hash}", s.endpoint.base);
        let got = s.rt.block_on(async {
            let r = s.http.get(&url).bearer_auth(&s.admin).send().await.unwrap();
            (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
        });
        assert_eq!(got, (200, photo), "the photo as taken");
        assert_eq!(s.answer(s.http.get(&url).bearer_auth(&clerk)).0, 404, "not for another township's clerk");
    });
}

/// The two blob stores behave alike: an upload in pieces, its length held,
/// finished whole; a corrupted one dropped; a claim held once.
#[test]
fn disk_and_s3_blob_stores_keep_uploads_alike() {
    use sync::blobs::BlobStore;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sealer = || sync::server::Sealer::new(&[7; 32]);
    let stores: Vec<(&str, Box<dyn BlobStore>)> = vec![
        ("disk", Box::new(sync::blobs::DiskBlobs::new(dir.path().join("blobs"), sealer()).unwrap())),
        ("s3", {
            let s3 = sync::s3::S3Blobs::new(s3_config(), sealer(), rt.handle().clone()).unwrap();
            s3.ensure_bucket().unwrap();
            Box::new(s3)
        }),
    ];
    let photo = fake_jpeg(200_000, 3);
    let hash = store::blob_hash(&photo);
    let mut other = fake_jpeg(50_000, 4);
    let other_hash = store::blob_hash(&other);
    for (name, st) in &stores {
        assert_eq!(st.complete_size(&hash).unwrap(), None, "{name}");
        assert_eq!(st.append(&hash, 0, &photo[..120_000]).unwrap(), 120_000, "{name}");
        assert_eq!(st.append(&hash, 50_000, &photo[50_000..]).unwrap(), 120_000, "{name}: a gap is not taken");
        assert_eq!(st.partial_len(&hash).unwrap(), 120_000, "{name}");
        assert_eq!(st.append(&hash, 120_000, &photo[120_000..]).unwrap(), 200_000, "{name}");
        assert!(st.finish(&hash).unwrap(), "{name}");
        assert_eq!(st.complete_size(&hash).unwrap(), Some(200_000), "{name}");
        assert_eq!(st.read(&hash).unwrap().unwrap(), photo, "{name}");
        assert_eq!(st.partial_len(&hash).unwrap(), 0, "{name}: the pieces are gone");
        // Bytes that do not hash to the name are dropped.
        other[1000] ^= 1;
        st.append(&other_hash, 0, &other).unwrap();
        other[1000] ^= 1;
        assert!(!st.finish(&other_hash).unwrap(), "{name}");
        assert_eq!((st.read(&other_hash).unwrap(), st.partial_len(&other_hash).unwrap()), (None, 0), "{name}");
        assert!(st.claim(&hash) && !st.claim(&hash), "{name}");
        st.release(&hash);
        assert!(st.claim(&hash), "{name}");
    }
    // Sealed at rest on both.
    assert_no_plaintext(dir.path(), &photo);
    assert_no_plaintext(&s3_root(), &photo);
    // The store checks the requests' signatures: a wrong secret is refused.
    let wrong = sync::s3::S3Config { secret_key: "not the secret".into(), ..s3_config() };
    let wrong = sync::s3::S3Blobs::new(wrong, sealer(), rt.handle().clone()).unwrap();
    let err = wrong.complete_size(&hash).unwrap_err();
    assert!(err.to_string().contains("HTTP 403"), "{err}");
}

#[test]
fn guessing_is_slowed_and_pages_carry_security_headers() {
    let s = start(Backend::Sqlite);
    // Five wrong passwords for one account: then even the right one waits;
    // another account is not affected.
    for _ in 0..5 {
        let (st, v) = s.post_json("/api/login", None, &serde_json::json!({"username": "clerk", "password": "guess"}));
        assert_eq!((st, v["code"].as_str()), (401, Some("UNAUTHENTICATED")));
    }
    let req = s
        .http
        .post(format!("{}/api/login", s.endpoint.base))
        .json(&serde_json::json!({"username": "clerk", "password": "battery staple"}));
    let resp = s.rt.block_on(async { req.send().await.unwrap() });
    assert_eq!(resp.status().as_u16(), 429);
    let wait: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(wait > 800 && wait <= 900, "{wait}");
    let v: serde_json::Value = s.rt.block_on(resp.json()).unwrap();
    assert_eq!(v["code"], "TOO_MANY_ATTEMPTS");
    assert!(v["message"]["zh"].as_str().unwrap().contains("分钟后再试"), "{v}");
    let (st, _) =
        s.post_json("/api/login", None, &serde_json::json!({"username": "admin", "password": "battery staple"}));
    assert_ne!(st, 429, "another account signs in as before");
    // Thirty wrong enrolment codes: redemption waits.
    let bad = serde_json::json!({"code": "0000-0000-0000-0000-0000", "actor": "ab".repeat(16), "public_key": "cd".repeat(32)});
    for _ in 0..30 {
        assert_eq!(s.post_json("/api/enrol/redeem", None, &bad).0, 401);
    }
    let (st, v) = s.post_json("/api/enrol/redeem", None, &bad);
    assert_eq!((st, v["code"].as_str()), (429, Some("TOO_MANY_ATTEMPTS")), "{v}");

    // Headers: the console's policy names its own script; the API is never cached.
    let req = s.http.get(format!("{}/console", s.endpoint.base));
    let page = s.rt.block_on(async { req.send().await.unwrap() });
    let h = page.headers().clone();
    let csp = h["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self' 'sha256-") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("script-src 'self' 'unsafe-inline'"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "DENY");
    let req = s.http.get(format!("{}/api/console/progress", s.endpoint.base)).bearer_auth(&s.admin);
    let api = s.rt.block_on(async { req.send().await.unwrap() });
    assert_eq!(api.headers()["cache-control"], "no-store");
    assert_eq!(api.headers()["referrer-policy"], "no-referrer");
    assert!(api.headers().get("strict-transport-security").is_none(), "plain HTTP here");
}

#[test]
fn device_tokens_expire_and_rotate_without_ever_locking_a_device_out() {
    each_backend(|b| {
        let s = start(b);
        let mut a = s.enrol(s.township_grant(0), 61);
        s.sync(&mut a).unwrap();
        let old = a.token.clone();
        // A rotation answered: the old token still works until the new one
        // is used (an answer lost on the way costs nothing).
        let rotate = |token: &str| {
            let req = s.http.post(format!("{}{}", s.endpoint.base, sync::http::ROTATE_PATH)).bearer_auth(token);
            let (st, v) = s.answer(req);
            assert_eq!(st, 200, "{v}");
            v["token"].as_str().unwrap().to_owned()
        };
        let lost = rotate(&old);
        let new = rotate(&old);
        assert_ne!(lost, new);
        s.sync(&mut a).unwrap();
        a.token = new.clone();
        s.sync(&mut a).unwrap();
        // Once the new one is used, the old one and the lost one are refused.
        for t in [&old, &lost] {
            a.token = t.clone();
            assert_eq!(s.sync(&mut a).unwrap_err().code(), "UNAUTHENTICATED");
        }
        a.token = new.clone();
        s.sync(&mut a).unwrap();
        // An expired token is refused with its own reason.
        s.state
            .db
            .tx(|db| db.execute("UPDATE devices SET token_expires_at = 1 WHERE id = $1", &[a.id.as_str().into()]))
            .unwrap();
        let err = s.sync(&mut a).unwrap_err();
        assert_eq!(err.code(), "TOKEN_EXPIRED", "{err:?}");
        assert!(err.message().zh.contains("重新注册"));
    });
}

#[test]
fn a_device_rotates_its_token_when_due_and_keeps_syncing() {
    let s = start(Backend::Sqlite);
    let mut a = s.enrol(s.township_grant(0), 62);
    sync::http::keep_token(&mut a.store, &a.token).unwrap();
    s.sync(&mut a).unwrap();
    let http = s.http.clone();
    let handle = s.rt.handle().clone();
    let endpoint = s.endpoint.clone();
    let rotated = std::thread::scope(|t| {
        t.spawn(|| sync::http::rotate_if_due(&mut a.store, &http, &endpoint, &handle).unwrap()).join().unwrap()
    });
    assert!(!rotated, "a fresh token is kept");
    // Thirty-one days later.
    let long_ago = sync::http::now_ms() - 31 * 24 * 3600 * 1000;
    a.store.set_sync_value(sync::http::TOKEN_AT_KEY, long_ago.to_string().as_bytes()).unwrap();
    let rotated = std::thread::scope(|t| {
        t.spawn(|| sync::http::rotate_if_due(&mut a.store, &http, &endpoint, &handle).unwrap()).join().unwrap()
    });
    assert!(rotated);
    let new = sync::http::stored_token(&a.store).unwrap().unwrap();
    assert_ne!(new, a.token);
    let old = std::mem::replace(&mut a.token, new);
    s.sync(&mut a).unwrap();
    a.token = old;
    assert_eq!(s.sync(&mut a).unwrap_err().code(), "UNAUTHENTICATED", "the old token is retired");
}

/// No cookie authenticates anything and no answer allows another origin to
/// read it: a forged cross-site request carries no credential.
#[test]
fn the_console_is_not_open_to_cross_site_requests() {
    let s = start(Backend::Sqlite);
    let req = s
        .http
        .post(format!("{}/api/login", s.endpoint.base))
        .json(&serde_json::json!({"username": "clerk", "password": "battery staple"}));
    let resp = s.rt.block_on(async { req.send().await.unwrap() });
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.headers().get("set-cookie").is_none(), "sign-in sets no cookie");
    // A form posted from another site, even with the session token in a
    // cookie, is refused; the answer lets no other origin read it.
    let forged = s
        .http
        .post(format!("{}/api/console/staff", s.endpoint.base))
        .header("origin", "https://evil.example")
        .header("cookie", format!("token={}", s.admin))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=intruder&role=county_admin");
    let resp = s.rt.block_on(async { forged.send().await.unwrap() });
    assert_eq!(resp.status().as_u16(), 401);
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    let (_, staff) = s.answer(s.http.get(format!("{}/api/console/staff", s.endpoint.base)).bearer_auth(&s.admin));
    assert!(staff.as_array().unwrap().iter().all(|u| u["username"] != "intruder"), "nothing was created");
}

/// The organisation ledger carries what the form asks beyond the union's own
/// record: its grid, its chair and vice-chairs in office, its active
/// members and the entities it covers; the member ledger says each member's
/// standing.
#[test]
fn the_ledgers_carry_chairs_members_coverage_and_standing() {
    let s = start(Backend::Sqlite);
    let today = server::today();
    let csv = |ledger: &str| {
        let url = format!("{}/api/console/export?ledger={ledger}&format=csv", s.endpoint.base);
        let bytes = s.rt.block_on(async {
            s.http.get(url).bearer_auth(&s.admin).send().await.unwrap().bytes().await.unwrap().to_vec()
        });
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let mut lines = text.lines().map(|l| l.split(',').map(str::to_owned).collect::<Vec<_>>());
        let header = lines.next().unwrap();
        (header, lines.collect::<Vec<_>>())
    };
    let (header, rows) = csv("organisation");
    let col = |h: &[String], name: &str| h.iter().position(|x| x == name).unwrap_or_else(|| panic!("{name}"));
    let (name, chair, members, covered) =
        (col(&header, "工会名称"), col(&header, "主席"), col(&header, "会员人数"), col(&header, "覆盖单位数"));
    let records = &s.county.records;
    let mut checked = 0;
    for (id, r) in records {
        let Record::Union(u) = r else { continue };
        let Some(row) = rows.iter().find(|row| row[name] == u.name) else { continue };
        let chairs: Vec<&str> = records
            .iter()
            .filter_map(|(_, r)| match r {
                Record::Cadre(c) if &c.union_id == id && c.role == CadreRole::Chair && c.in_office(today) => {
                    Some(c.name.as_str())
                }
                _ => None,
            })
            .collect();
        let active = records
            .iter()
            .filter(|(_, r)| matches!(r, Record::Member(m) if &m.union_id == id && m.is_active(today)))
            .count();
        let entities = records
            .iter()
            .filter(|(_, r)| matches!(r, Record::Entity(e) if e.union_id.as_ref() == Some(id) && !e.closed))
            .count();
        assert_eq!(row[chair], chairs.join("、"), "{}", u.name);
        assert_eq!(row[members], active.to_string(), "{}", u.name);
        assert_eq!(row[covered], entities.to_string(), "{}", u.name);
        checked += 1;
    }
    assert!(checked > 5, "{checked} unions checked");
    let (header, rows) = csv("member");
    let standing = col(&header, "会籍状态（在册／已离会）");
    assert!(rows.iter().all(|r| r[standing] == "在册" || r[standing].starts_with("已离会（")));
    let left = records.iter().filter(|(_, r)| matches!(r, Record::Member(m) if !m.is_active(today))).count();
    assert_eq!(rows.iter().filter(|r| r[standing].starts_with("已离会")).count(), left);
}

//! Targeted protocol cases the simulation reaches only by chance.

use crate::util::*;
use registry::model::*;
use server::auth;
use store::{Init, Store};
use sync::SyncError;
use sync::client::{self, Options, Transport, path};

/// A server in a temp dir with one township-wide device enrolled.
struct Fixture {
    _dir: tempfile::TempDir,
    state: server::AppState,
    token: String,
    store: Store,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let keys = server::ServerKeys { county_secret: *secret().as_bytes(), data_key: [5; 32], card_root: [3; 32] };
    let state = server::AppState::new(server::Db::sqlite(&dir.path().join("s.db")).unwrap(), keys, "http://t".into());
    let county = small_county(1);
    let ctx = state.ctx();
    state
        .db
        .tx(|db| {
            for (id, r) in county.records.iter().filter(|(_, r)| r.kind() == RecordKind::Area) {
                let mut doc = store::new_document(id, r.clone(), [0xcc; 16], "import", TODAY).unwrap();
                sync::server::import(db, &ctx, id, &mut doc)?;
            }
            Ok(())
        })
        .unwrap();
    let store = Store::in_memory(&Init { county_secret: secret(), device_id: Some([1; 16]) }).unwrap();
    let grant = auth::Grant {
        person: "甲".into(),
        role: auth::Role::TownshipStaff,
        all: false,
        townships: vec![county.townships[0].clone()],
        grids: vec![],
    };
    let token = state
        .db
        .tx(|db| {
            auth::create_user(db, "admin", auth::Role::CountyAdmin, "pw")?;
            let session = auth::login(db, "admin", "pw")?.unwrap().0;
            let admin = auth::staff(db, &session)?.unwrap();
            let code = auth::create_enrolment(db, &admin, &grant, 7)?.unwrap();
            Ok(auth::redeem(db, &code, store.device_id(), &[0; 32], secret().as_bytes())?.unwrap().token)
        })
        .unwrap();
    Fixture { _dir: dir, state, token, store }
}

/// Delivers requests to the server, remembering push answers; when told,
/// loses the next push and hands back the first answer it remembered.
struct Replayer<'a> {
    state: &'a server::AppState,
    token: &'a str,
    pushes: Vec<Vec<u8>>,
    lose_push: bool,
}

impl Transport for Replayer<'_> {
    fn call(&mut self, p: &'static str, body: Vec<u8>) -> Result<Vec<u8>, SyncError> {
        if p == path::PUSH && self.lose_push {
            return Ok(self.pushes[0].clone());
        }
        let ctx = self.state.ctx();
        let answer = self.state.db.tx(|db| server::SyncCall::decode(p, &body)?.run(db, &ctx, self.token, None))?;
        let answer = answer.map_err(SyncError::from)?;
        if p == path::PUSH {
            self.pushes.push(answer.clone());
        }
        Ok(answer)
    }
}

#[test]
fn a_late_answer_to_an_older_push_does_not_clear_changes_made_since() {
    let mut f = fixture();
    let (id, member) = member_of_township(0);
    let options = Options { repair: false, ..Options::default() };
    f.store.insert(member.clone(), TODAY).unwrap();
    let mut t = Replayer { state: &f.state, token: &f.token, pushes: Vec::new(), lose_push: false };
    client::sync(&mut f.store, &mut t, &options, &mut |_| {}).unwrap();
    assert!(f.store.outbox().unwrap().is_empty(), "the first push was acknowledged");

    // An edit, then a push that is lost while the answer to the first
    // push arrives in its place.
    let mut edited = member;
    if let Record::Member(m) = &mut edited {
        m.phone = Some("13900000001".into());
    }
    f.store.update(&id, edited, TODAY).unwrap();
    t.lose_push = true;
    let _ = client::sync(&mut f.store, &mut t, &options, &mut |_| {});
    assert_eq!(f.store.outbox().unwrap(), vec![id.clone()], "the edit stays queued: the server does not hold it");

    // Delivered for real, it is acknowledged and the server holds it.
    t.lose_push = false;
    client::sync(&mut f.store, &mut t, &options, &mut |_| {}).unwrap();
    assert!(f.store.outbox().unwrap().is_empty());
    let heads = f.state.db.tx(|db| sync::server::heads_of(db, &id)).unwrap().unwrap();
    let mine: Vec<_> = f.store.heads(&id).unwrap().into_iter().map(|h| h.0).collect();
    assert_eq!(heads, mine);
}

/// Hands this device, once, the answer the server gave another device
/// (a confused proxy), then behaves.
struct Misdirected<'a> {
    state: &'a server::AppState,
    token: &'a str,
    foreign: Option<(&'static str, Vec<u8>)>,
}

impl Transport for Misdirected<'_> {
    fn call(&mut self, p: &'static str, body: Vec<u8>) -> Result<Vec<u8>, SyncError> {
        if let Some((_, answer)) = self.foreign.take_if(|(fp, _)| *fp == p) {
            return Ok(answer);
        }
        let ctx = self.state.ctx();
        let answer = self.state.db.tx(|db| server::SyncCall::decode(p, &body)?.run(db, &ctx, self.token, None))?;
        answer.map_err(SyncError::from)
    }
}

#[test]
fn an_answer_meant_for_another_device_is_ignored_whole() {
    let mut f = fixture();
    let county = small_county(1);
    // Another device, of another township, with a member of its own on the server.
    let (other_id, other_member) = member_of_township(1);
    let ctx = f.state.ctx();
    f.state
        .db
        .tx(|db| {
            let mut doc = store::new_document(&other_id, other_member.clone(), [0xcc; 16], "import", TODAY).unwrap();
            sync::server::import(db, &ctx, &other_id, &mut doc)
        })
        .unwrap();
    let (_, other_token) = second_device(&f, [2; 16], vec![county.townships[1].clone()]);
    // The other device's first pull: its scope, its township's member.
    let req = sync::wire::PullRequest { cursor: String::new(), limit: 1000, want_total: true, skip_own: false };
    let foreign = f
        .state
        .db
        .tx(|db| {
            server::SyncCall::decode(path::PULL, &sync::wire::Message::encode(&req))?.run(db, &ctx, &other_token, None)
        })
        .unwrap()
        .unwrap();
    // This device's first pull gets that answer instead: it uses none of it.
    let mut t = Misdirected { state: &f.state, token: &f.token, foreign: Some((path::PULL, foreign)) };
    client::sync(&mut f.store, &mut t, &Options::default(), &mut |_| {}).unwrap();
    assert!(f.store.get(&other_id).unwrap().is_none(), "another township's member reached this device");
    let scope = client::stored_scope(&f.store).unwrap().unwrap();
    assert_eq!(scope.townships, vec![county.townships[0].clone()], "the other device's scope was taken");
    let cursor = String::from_utf8(f.store.sync_value("cursor").unwrap().unwrap()).unwrap();
    assert!(cursor.starts_with(&format!("v2:{}:", "01".repeat(16))), "{cursor}");
}

/// Delivers requests the way the server's HTTP edge does (`County::sync`:
/// reads on a read-only connection, a push judged there and then written).
struct Edge<'a> {
    state: &'a server::AppState,
    token: &'a str,
}

impl Transport for Edge<'_> {
    fn call(&mut self, p: &'static str, body: Vec<u8>) -> Result<Vec<u8>, SyncError> {
        self.state.county.sync(self.token, p, &body).map_err(|e| SyncError::Server(e.to_string()))
    }
}

/// A second device (of `townships`), and its token.
fn second_device(f: &Fixture, actor: [u8; 16], townships: Vec<RecordId>) -> (Store, String) {
    let store = Store::in_memory(&Init { county_secret: secret(), device_id: Some(actor) }).unwrap();
    let token = f
        .state
        .db
        .tx(|db| {
            let session = auth::login(db, "admin", "pw")?.unwrap().0;
            let admin = auth::staff(db, &session)?.unwrap();
            let grant = auth::Grant {
                person: "丙".into(),
                role: auth::Role::TownshipStaff,
                all: false,
                townships,
                grids: vec![],
            };
            let code = auth::create_enrolment(db, &admin, &grant, 7)?.unwrap();
            Ok(auth::redeem(db, &code, actor, &[0; 32], secret().as_bytes())?.unwrap().token)
        })
        .unwrap();
    (store, token)
}

/// The push a device would send now (its whole outbox).
fn push_request(store: &Store) -> sync::wire::PushRequest {
    let out = store.outgoing(1000, 64 << 20).unwrap();
    sync::wire::PushRequest {
        docs: out
            .into_iter()
            .map(|o| sync::wire::PushDoc { id: o.id, heads: o.heads.iter().map(|h| h.0).collect(), bytes: o.bytes })
            .collect(),
    }
}

/// Judges a push in a read-only transaction, as `County::sync` does.
fn judge(f: &Fixture, token: &str, req: &sync::wire::PushRequest) -> sync::server::JudgedPush {
    let ctx = f.state.ctx();
    f.state
        .db
        .read(|db| {
            let Some(Some((device, None))) = auth::find_device_reading(db, token)? else { panic!("a device") };
            sync::server::judge_push(db, &ctx, &device, req)
        })
        .unwrap()
}

/// Writes a judged push, as `County::sync` does.
fn commit(f: &Fixture, token: &str, req: &sync::wire::PushRequest, judged: sync::server::JudgedPush) -> Vec<u8> {
    let ctx = f.state.ctx();
    let call = server::SyncCall::Push(req.clone());
    f.state.db.tx(|db| call.run(db, &ctx, token, Some(judged))).unwrap().unwrap()
}

/// The first member of the small county's township `n` (0: the fixture's).
fn member_of_township(n: usize) -> (RecordId, Record) {
    let county = small_county(1);
    county
        .records
        .iter()
        .find(|(id, r)| r.kind() == RecordKind::Member && r.region(id).township.as_ref() == Some(&county.townships[n]))
        .unwrap()
        .clone()
}

/// A member of the fixture's township, on the server and on both devices.
fn shared_member(f: &mut Fixture, other: &mut Store, other_token: &str) -> (RecordId, Record) {
    let (id, member) = member_of_township(0);
    f.store.insert(member.clone(), TODAY).unwrap();
    let mut t = Edge { state: &f.state, token: &f.token };
    client::sync(&mut f.store, &mut t, &Options::default(), &mut |_| {}).unwrap();
    let mut t = Edge { state: &f.state, token: other_token };
    client::sync(other, &mut t, &Options::default(), &mut |_| {}).unwrap();
    assert!(other.get(&id).unwrap().is_some(), "the second device holds the member");
    (id, member)
}

#[test]
fn a_push_judged_on_a_document_that_changed_before_its_write_is_judged_again() {
    let mut f = fixture();
    let township = small_county(1).townships[0].clone();
    let (mut other, other_token) = second_device(&f, [2; 16], vec![township]);
    let (id, _) = shared_member(&mut f, &mut other, &other_token);
    let edit = |store: &mut Store, f: &dyn Fn(&mut Member)| {
        let Record::Member(mut m) = store.get(&id).unwrap().unwrap().record else { panic!() };
        f(&mut m);
        store.update(&id, Record::Member(m), TODAY).unwrap();
    };
    edit(&mut f.store, &|m| m.phone = Some("13900000001".into()));
    edit(&mut other, &|m| m.migrant_worker = !m.migrant_worker);

    // The first device's push is judged; before it is written, the second
    // device's edit of the same record lands.
    let req = push_request(&f.store);
    let judged = judge(&f, &f.token, &req);
    let mut t = Edge { state: &f.state, token: &other_token };
    client::sync(&mut other, &mut t, &Options::default(), &mut |_| {}).unwrap();
    let answer = commit(&f, &f.token, &req, judged);

    // Both edits are kept: the stale verdict was not written.
    let resp: sync::wire::PushResponse = sync::wire::Message::decode(&answer).unwrap();
    assert_eq!(resp.results.len(), 1);
    assert_eq!(resp.results[0].outcome, sync::wire::Outcome::Applied);
    let ctx = f.state.ctx();
    let Some(Record::Member(m)) = f.state.db.tx(|db| sync::server::record(db, &ctx, &id)).unwrap() else { panic!() };
    assert_eq!(m.phone.as_deref(), Some("13900000001"));
    let Record::Member(theirs) = other.get(&id).unwrap().unwrap().record else { panic!() };
    assert_eq!(m.migrant_worker, theirs.migrant_worker, "the write between judging and writing was lost");
    let heads = f.state.db.tx(|db| sync::server::heads_of(db, &id)).unwrap().unwrap();
    assert_eq!(resp.results[0].heads, heads, "the answer names the heads the server holds");
    assert_eq!(heads.len(), 2, "both devices' changes are heads");
}

#[test]
fn a_push_judged_before_its_device_was_moved_is_judged_again_in_the_new_scope() {
    let mut f = fixture();
    let county = small_county(1);
    let (mut other, other_token) = second_device(&f, [2; 16], vec![county.townships[0].clone()]);
    let (id, _) = shared_member(&mut f, &mut other, &other_token);
    let Record::Member(mut m) = other.get(&id).unwrap().unwrap().record else { panic!() };
    m.phone = Some("13900000002".into());
    other.update(&id, Record::Member(m), TODAY).unwrap();

    // Judged while the township was the device's; then the county hands
    // the device another township.
    let req = push_request(&other);
    let judged = judge(&f, &other_token, &req);
    let device_id = f.state.db.tx(|db| Ok(auth::find_device(db, &other_token)?.unwrap().0.id)).unwrap();
    f.state.db.tx(|db| auth::set_scope(db, &device_id, false, &[county.townships[1].clone()], &[])).unwrap();
    let answer = commit(&f, &other_token, &req, judged);

    let resp: sync::wire::PushResponse = sync::wire::Message::decode(&answer).unwrap();
    assert_eq!(resp.results[0].outcome, sync::wire::Outcome::Quarantined("OUT_OF_SCOPE".into()));
    let ctx = f.state.ctx();
    let Some(Record::Member(m)) = f.state.db.tx(|db| sync::server::record(db, &ctx, &id)).unwrap() else { panic!() };
    assert_ne!(m.phone.as_deref(), Some("13900000002"), "a write outside the device's new scope was applied");
}

#[test]
fn a_read_only_request_cannot_write() {
    let f = fixture();
    let err = f.state.db.read(|db| db.execute("DELETE FROM devices", &[])).unwrap_err();
    assert!(err.to_string().contains("readonly") || err.to_string().contains("read-only"), "{err}");
    let left = f.state.db.tx(|db| db.query("SELECT count(*) FROM devices", &[])).unwrap();
    assert_eq!(left[0][0].int(), 1, "the devices are all there");
}

#[test]
fn a_device_is_not_sent_back_what_it_pushed_unless_another_write_came_between() {
    let mut f = fixture();
    let township = small_county(1).townships[0].clone();
    let (mut other, other_token) = second_device(&f, [2; 16], vec![township]);
    let (id, _) = shared_member(&mut f, &mut other, &other_token);
    let options = Options { repair: false, refs: false, ..Options::default() };
    let set_phone = |store: &mut Store, phone: &str| {
        let Record::Member(mut m) = store.get(&id).unwrap().unwrap().record else { panic!() };
        m.phone = Some(phone.into());
        store.update(&id, Record::Member(m), TODAY).unwrap();
    };

    // Pushed and held as stored: the pull after the push skips it (the
    // Rust client asks so).
    let cursor = f.store.sync_value("cursor").unwrap().unwrap();
    set_phone(&mut f.store, "13900000011");
    let mut t = Edge { state: &f.state, token: &f.token };
    let r = client::sync(&mut f.store, &mut t, &options, &mut |_| {}).unwrap();
    assert_eq!((r.pushed, r.pulled_changed + r.pulled_unchanged), (1, 0), "{r:?}");
    // A client that does not ask so (one written from an older spec, which
    // relies on its pushes coming back) is sent it.
    let req = sync::wire::PullRequest {
        cursor: String::from_utf8(cursor).unwrap(),
        limit: 1000,
        want_total: false,
        skip_own: false,
    };
    let answer = f.state.county.sync(&f.token, path::PULL, &sync::wire::Message::encode(&req)).unwrap();
    let page: sync::wire::PullResponse = sync::wire::Message::decode(&answer).unwrap();
    assert!(page.docs.iter().any(|d| d.id == id), "a pull without skip_own lacked the device's own push");
    // The other device is sent it.
    let mut t = Edge { state: &f.state, token: &other_token };
    let r = client::sync(&mut other, &mut t, &options, &mut |_| {}).unwrap();
    assert_eq!(r.pulled_changed, 1, "{r:?}");

    // Two devices edit; the second push merges changes the second device
    // lacks: its pull is sent the merged document.
    set_phone(&mut f.store, "13900000012");
    let Record::Member(mut m) = other.get(&id).unwrap().unwrap().record else { panic!() };
    m.migrant_worker = !m.migrant_worker;
    other.update(&id, Record::Member(m), TODAY).unwrap();
    let mut t = Edge { state: &f.state, token: &f.token };
    client::sync(&mut f.store, &mut t, &options, &mut |_| {}).unwrap();
    let mut t = Edge { state: &f.state, token: &other_token };
    let r = client::sync(&mut other, &mut t, &options, &mut |_| {}).unwrap();
    assert_eq!(r.pulled_changed, 1, "the merged document did not come back: {r:?}");
    let Record::Member(m) = other.get(&id).unwrap().unwrap().record else { panic!() };
    assert_eq!(m.phone.as_deref(), Some("13900000012"));

    // A device that starts its feed again (a restored store, no cursor) is
    // sent everything, its own pushes too.
    let mut fresh = Store::in_memory(&Init { county_secret: secret(), device_id: Some([2; 16]) }).unwrap();
    let r = client::sync(&mut fresh, &mut t, &options, &mut |_| {}).unwrap();
    assert!(fresh.get(&id).unwrap().is_some(), "a fresh feed skipped the device's own push: {r:?}");
}

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
        let answer = self.state.db.tx(|db| server::SyncCall::decode(p, &body)?.run(db, &ctx, self.token))?;
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
    let county = small_county(1);
    let (id, member) = county
        .records
        .iter()
        .find(|(id, r)| r.kind() == RecordKind::Member && r.region(id).township.as_ref() == Some(&county.townships[0]))
        .unwrap()
        .clone();
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
        let answer = self.state.db.tx(|db| server::SyncCall::decode(p, &body)?.run(db, &ctx, self.token))?;
        answer.map_err(SyncError::from)
    }
}

#[test]
fn an_answer_meant_for_another_device_is_ignored_whole() {
    let mut f = fixture();
    let county = small_county(1);
    // Another device, of another township, with a member of its own on the server.
    let (other_id, other_member) = county
        .records
        .iter()
        .find(|(id, r)| r.kind() == RecordKind::Member && r.region(id).township.as_ref() == Some(&county.townships[1]))
        .unwrap()
        .clone();
    let other_token = f
        .state
        .db
        .tx(|db| {
            let ctx = f.state.ctx();
            let mut doc = store::new_document(&other_id, other_member.clone(), [0xcc; 16], "import", TODAY).unwrap();
            sync::server::import(db, &ctx, &other_id, &mut doc)?;
            let session = auth::login(db, "admin", "pw")?.unwrap().0;
            let admin = auth::staff(db, &session)?.unwrap();
            let grant = auth::Grant {
                person: "乙".into(),
                role: auth::Role::TownshipStaff,
                all: false,
                townships: vec![county.townships[1].clone()],
                grids: vec![],
            };
            let code = auth::create_enrolment(db, &admin, &grant, 7)?.unwrap();
            Ok(auth::redeem(db, &code, [2; 16], &[0; 32], secret().as_bytes())?.unwrap().token)
        })
        .unwrap();
    // The other device's first pull: its scope, its township's member.
    let req = sync::wire::PullRequest { cursor: String::new(), limit: 1000, want_total: true };
    let ctx = f.state.ctx();
    let foreign = f
        .state
        .db
        .tx(|db| server::SyncCall::decode(path::PULL, &sync::wire::Message::encode(&req))?.run(db, &ctx, &other_token))
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

//! The app's command interface end to end: PIN, standalone records, and a
//! device enrolled with a real county server (axum on loopback, SQLite)
//! that registers offline, syncs in the background and issues a card.

use field::{App, Config};
use registry::model::*;
use registry::{Date, date};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TODAY: Date = date!(2026 - 11 - 25);

fn app(dir: &std::path::Path) -> App {
    app_on(dir, Some(TODAY))
}

/// `today: None` follows the clock, as a device enrolled today must: its
/// card key is valid from the day of enrolment.
fn app_on(dir: &std::path::Path, today: Option<Date>) -> App {
    let mut config = Config::new(dir);
    config.today = today;
    config.sync_interval = Duration::from_secs(3600);
    config.first_retry = Duration::from_millis(200);
    App::new(config).unwrap()
}

fn ok(app: &App, cmd: &str, args: Value) -> Value {
    app.call(cmd, args).unwrap_or_else(|e| panic!("{cmd}: {e} {}", serde_json::to_string(&e).unwrap()))
}

fn code(app: &App, cmd: &str, args: Value) -> String {
    match app.call(cmd, args) {
        Ok(v) => panic!("{cmd} should have been refused: {v}"),
        Err(e) => {
            assert!(!e.message.zh.is_empty() && !e.message.en.is_empty(), "{e}");
            e.code
        }
    }
}

#[test]
fn a_pin_opens_the_store_and_wrong_pins_are_spaced_out_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let a = app(dir.path());
    assert_eq!(ok(&a, "status", Value::Null)["state"], "new");
    assert_eq!(code(&a, "setup", json!({"pin": "12345"})), "PIN_LENGTH");
    assert_eq!(code(&a, "setup", json!({"pin": "123456"})), "PIN_TOO_SIMPLE");
    assert_eq!(code(&a, "setup", json!({"pin": "777777"})), "PIN_TOO_SIMPLE");
    assert_eq!(code(&a, "setup", json!({"pin": "12a456"})), "PIN_NOT_DIGITS");
    assert_eq!(code(&a, "setup", json!({"pin": "258014", "confirm": "258015"})), "PIN_MISMATCH");
    assert_eq!(ok(&a, "status", Value::Null)["state"], "new", "nothing was created by refused setups");
    let s = ok(&a, "setup", json!({"pin": "258014", "confirm": "258014", "operator": "李四"}));
    assert_eq!(s["state"], "open");
    assert_eq!(s["device"]["enrolled"], false);
    assert_eq!(code(&a, "setup", json!({"pin": "258014"})), "ALREADY_SET_UP");
    assert_eq!(ok(&a, "lock", Value::Null)["state"], "locked");
    assert_eq!(code(&a, "home", Value::Null), "APP_LOCKED");
    for _ in 0..field::pin::FREE_TRIES {
        assert_eq!(code(&a, "unlock", json!({"pin": "000001"})), "PIN_WRONG");
    }
    // The sixth try must wait, even with the right PIN and after a restart.
    assert_eq!(code(&a, "unlock", json!({"pin": "258014"})), "PIN_LOCKED");
    drop(a);
    let a = app(dir.path());
    let s = ok(&a, "status", Value::Null);
    assert_eq!(s["state"], "locked");
    assert_eq!(s["failures"], 5);
    assert!(s["wait_ms"].as_u64().unwrap() > 25_000, "{s}");
    assert_eq!(code(&a, "unlock", json!({"pin": "258014"})), "PIN_LOCKED");
    // Once the wait is over the right PIN opens it and clears the count.
    let mut lock = field::pin::LockFile::read(dir.path()).unwrap().unwrap();
    lock.last_failure_ms -= 31_000;
    lock.write(dir.path()).unwrap();
    assert_eq!(ok(&a, "unlock", json!({"pin": "258014"}))["state"], "open");
    assert_eq!(field::pin::LockFile::read(dir.path()).unwrap().unwrap().failures, 0);
    // The lock file holds no PIN and no key: only salt, cost and counts.
    let text = std::fs::read_to_string(field::pin::LockFile::path(dir.path())).unwrap();
    assert!(!text.contains("258014"), "{text}");
    // A forgotten PIN: reset needs the typed word, then the device is new.
    ok(&a, "lock", Value::Null);
    assert_eq!(code(&a, "reset", json!({"confirm": "yes"})), "RESET_NOT_CONFIRMED");
    assert_eq!(ok(&a, "reset", json!({"confirm": "重置"}))["state"], "new");
    assert!(!dir.path().join(field::app::DB_FILE).exists());
}

fn area(name: &str, level: AreaLevel, parent: Option<&str>, township: Option<&str>) -> Value {
    json!({"kind": "area", "data": {
        "name": name, "level": level.key(), "parent": parent, "township": township,
        "township_kind": if level == AreaLevel::Township { Some("town") } else { None },
    }})
}

/// A standalone store with a county and one township; returns the township's id.
fn standalone_with_township(a: &App) -> String {
    ok(a, "setup", json!({"pin": "258014", "operator": "张三"}));
    let county = ok(a, "save", json!({"record": area("示范县", AreaLevel::County, None, None)}))["id"].clone();
    let county = county.as_str().unwrap().to_owned();
    let t = ok(a, "save", json!({"record": area("城关镇", AreaLevel::Township, Some(&county), None)}));
    t["id"].as_str().unwrap().to_owned()
}

fn entity(township: &str, name: &str, workers: i64) -> Value {
    json!({"kind": "entity", "data": {
        "name": name, "unit_kind": "enterprise", "ownership": "private", "industry": "catering",
        "place": {"township": township}, "workers": workers, "women_workers": 3,
    }})
}

fn member(township: &str, union: &str, name: &str, id: &str) -> Value {
    json!({"kind": "member", "data": {
        "name": name, "resident_id": id, "ethnicity": "汉族", "education": "senior_high",
        "political_status": "masses", "union_id": union, "joined_on": "2026-03-01",
        "place": {"township": township},
    }})
}

#[test]
fn records_are_checked_saved_found_and_a_near_duplicate_is_prompted() {
    let dir = tempfile::tempdir().unwrap();
    let a = app(dir.path());
    let t = standalone_with_township(&a);
    let forms = ok(&a, "forms", Value::Null)["forms"].as_array().unwrap().clone();
    assert_eq!(forms.len(), 7);
    assert!(forms.iter().any(|f| f["kind"] == "visit"), "the census visit's form");
    assert_eq!(ok(&a, "areas", Value::Null).as_array().unwrap().len(), 2);
    // Live validation: the issue comes back on its field, nothing is saved.
    let mut bad = entity(&t, "好味餐馆", 10);
    bad["data"]["women_workers"] = json!(11);
    let v = ok(&a, "validate", json!({"record": bad}));
    assert_eq!(v["issues"][0]["field"], "women_workers", "{v}");
    let err = a.call("save", json!({"record": bad})).unwrap_err();
    assert_eq!(err.code, "RECORD_INVALID");
    assert_eq!(err.issues[0].code, "WOMEN_EXCEED_WORKERS");
    // A half-filled form is checked as typed: each empty required field
    // gets its own issue, numbers typed as text are read as numbers.
    let partial = json!({"kind": "member", "data": {"name": "张", "place": {"township": t}}});
    let v = ok(&a, "validate", json!({"record": partial}));
    let required: Vec<&str> = v["issues"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["code"] == "REQUIRED")
        .map(|i| i["field"].as_str().unwrap())
        .collect();
    for field in ["resident_id", "education", "political_status", "union_id", "joined_on", "ethnicity"] {
        assert!(required.contains(&field), "{field} not flagged: {v}");
    }
    assert!(!required.contains(&"name") && !required.contains(&"place.township"), "{v}");
    assert_eq!(code(&a, "save", json!({"record": partial})), "RECORD_INVALID");
    let mut typed = entity(&t, "好味餐馆", 0);
    typed["data"]["workers"] = json!("30");
    typed["data"]["women_workers"] = json!("x");
    let v = ok(&a, "validate", json!({"record": typed}));
    assert_eq!(v["record"]["data"]["workers"], 30, "{v}");
    assert_eq!(v["issues"][0]["code"], "NOT_A_NUMBER", "{v}");
    // Drafts are kept in the encrypted store.
    ok(&a, "draft_put", json!({"key": "member-new", "value": {"name": "张"}}));
    assert_eq!(ok(&a, "draft_get", json!({"key": "member-new"}))["name"], "张");
    ok(&a, "draft_drop", json!({"key": "member-new"}));
    assert_eq!(ok(&a, "draft_get", json!({"key": "member-new"})), Value::Null);
    assert_eq!(code(&a, "draft_get", json!({"key": "../x"})), "BAD_ARGUMENTS");
    // An entity of 30 workers with no union is on the worklist.
    let e = ok(&a, "save", json!({"record": entity(&t, "好味餐馆", 30)}))["id"].as_str().unwrap().to_owned();
    let home = ok(&a, "home", Value::Null);
    assert_eq!(home["worklist"]["need_own_union"]["total"], 1, "{home}");
    assert_eq!(home["worklist"]["need_own_union"]["rows"][0]["id"], e.as_str());
    // The same name in the same township is prompted before saving.
    let v = ok(&a, "validate", json!({"record": entity(&t, "好味餐馆", 12)}));
    assert_eq!(v["duplicates"][0]["id"], e.as_str(), "{v}");
    assert_eq!(code(&a, "save", json!({"record": entity(&t, "好味餐馆", 12)})), "POSSIBLE_DUPLICATE");
    ok(&a, "save", json!({"record": entity(&t, "好味餐馆", 12), "not_duplicate": true}));
    // Its union, then the union covers it and it leaves the worklist.
    let u = ok(
        &a,
        "save",
        json!({"record": {"kind": "union", "data": {
            "name": "好味餐馆工会", "kind": "single_unit", "place": {"township": t}, "workers": 30, "women_workers": 3,
        }}}),
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut covered = ok(&a, "get", json!({"id": e}))["record"].clone();
    covered["data"]["union_id"] = json!(u);
    ok(&a, "save", json!({"id": e, "record": covered}));
    let home = ok(&a, "home", Value::Null);
    assert_eq!(home["worklist"]["need_own_union"]["total"], 0, "{home}");
    assert_eq!(home["worklist"]["chair_vacant"]["total"], 1, "{home}");
    // A member: the ID fills sex and birth date; search finds by name
    // prefix and by ID number; the history names the operator.
    let m = ok(&a, "save", json!({"record": member(&t, &u, "王小明", "110105199003071239")}));
    let m = m["id"].as_str().unwrap().to_owned();
    let got = ok(&a, "get", json!({"id": m}));
    assert_eq!(got["record"]["data"]["sex"], "male");
    assert_eq!(got["record"]["data"]["birth_date"], "1990-03-07");
    assert_eq!(got["history"][0]["by"], "张三");
    let found = ok(&a, "search", json!({"q": "王小"}));
    assert_eq!(found["rows"][0]["id"], m.as_str());
    let found = ok(&a, "search", json!({"q": "110105199003071239"}));
    assert_eq!(found["rows"][0]["id"], m.as_str());
    // The same resident ID again is the same person: refused with its id.
    let err = a.call("save", json!({"record": member(&t, &u, "王晓明", "110105199003071239"), "not_duplicate": true}));
    let err = err.unwrap_err();
    assert_eq!(err.code, "RECORD_DUPLICATE");
    assert_eq!(err.detail.unwrap()["id"], m.as_str());
    // Paging walks the whole list once.
    let first = ok(&a, "list", json!({"kind": "entity", "limit": 1}));
    assert_eq!(first["total"], 2);
    let last = &first["rows"][0];
    let second =
        ok(&a, "list", json!({"kind": "entity", "limit": 1, "after": {"id": last["id"], "name": last["name"]}}));
    assert_eq!(second["rows"].as_array().unwrap().len(), 1);
    assert_ne!(second["rows"][0]["id"], last["id"]);
    // A transfer moves the member and records it.
    let u2 = ok(
        &a,
        "save",
        json!({"record": {"kind": "union", "data": {
            "name": "城关镇联合工会", "kind": "joint", "place": {"township": t}, "workers": 40, "women_workers": 5,
        }}}),
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tr = ok(&a, "transfer", json!({"member": m, "to_union": u2, "date": "2026-11-20", "reason": "job_change"}));
    assert_eq!(ok(&a, "get", json!({"id": m}))["record"]["data"]["union_id"], u2.as_str());
    let tr = ok(&a, "get", json!({"id": tr["transfer"]}));
    assert_eq!(tr["record"]["data"]["from_union"], u.as_str());
    assert_eq!(
        code(&a, "transfer", json!({"member": m, "to_union": u2, "date": "2026-11-21", "reason": "job_change"})),
        "TRANSFER_SAME_UNION"
    );
    // A standalone device cannot issue cards: it has no county key.
    assert_eq!(code(&a, "issue_card", json!({"member": m})), "CARD_NO_KEY");
    // Bad input is refused with a code, never a panic.
    assert_eq!(code(&a, "save", json!({"record": {"kind": "spaceship"}})), "BAD_ARGUMENTS");
    assert_eq!(code(&a, "nope", Value::Null), "UNKNOWN_COMMAND");
    assert_eq!(code(&a, "get", json!({"id": "00"})), "NOT_FOUND");
}

/// A county server on loopback with a small synthetic county.
struct County {
    rt: tokio::runtime::Runtime,
    base: String,
    admin: String,
    township: RecordId,
    state: Arc<server::AppState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    listener_port: u16,
    _dir: tempfile::TempDir,
}

impl County {
    fn start() -> County {
        let dir = tempfile::tempdir().unwrap();
        let secret = registry::keys::CountySecret::from_bytes([42; 32]);
        let db = server::Db::sqlite(&dir.path().join("server.db")).unwrap();
        let keys = server::ServerKeys { county_secret: *secret.as_bytes(), data_key: [5; 32], card_root: [3; 32] };
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let port = listener.local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let state = Arc::new(server::AppState::new(db, keys, base.clone()));
        let config = synth::SynthConfig { seed: 4, members: 60, today: TODAY, year: 2026 };
        let mut records = Vec::new();
        synth::generate(&config, &secret, |id, r| records.push((id, r)));
        let township = records
            .iter()
            .find(|(_, r)| matches!(r, Record::Member(_)))
            .map(|(id, r)| r.region(id).township.unwrap())
            .unwrap();
        let ctx = state.ctx();
        state
            .db
            .tx(|db| {
                for (id, r) in &records {
                    let mut doc = store::new_document(id, r.clone(), [0xcc; 16], "import", TODAY).unwrap();
                    sync::server::import(db, &ctx, id, &mut doc)?;
                }
                server::auth::create_user(db, "admin", server::auth::Role::CountyAdmin, "correct horse")?;
                Ok(())
            })
            .unwrap();
        let mut county =
            County { rt, base, admin: String::new(), township, state, stop: None, listener_port: port, _dir: dir };
        county.serve(listener);
        let v = county.post("/api/login", None, json!({"username": "admin", "password": "correct horse"}));
        county.admin = v["token"].as_str().unwrap().to_owned();
        county
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let st = self.state.clone();
        self.rt.spawn(async move {
            server::serve_on(listener, st, async move {
                let _ = stopped.await;
            })
            .await
            .unwrap()
        });
        self.stop = Some(stop);
    }

    fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // Wait until the port refuses connections.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.listener_port)).is_ok() {
            assert!(Instant::now() < deadline, "the server did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn restart(&mut self) {
        let listener = self.rt.block_on(tokio::net::TcpListener::bind(("127.0.0.1", self.listener_port))).unwrap();
        self.serve(listener);
    }

    fn post(&self, path: &str, token: Option<&str>, body: Value) -> Value {
        let client = sync::http::Endpoint::new(&self.base).client(Duration::from_secs(30)).unwrap();
        let mut req = client.post(format!("{}{path}", self.base)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.rt.block_on(async { req.send().await.unwrap().json::<Value>().await.unwrap() })
    }

    fn enrolment(&self, person: &str) -> String {
        let grant = json!({"person": person, "role": "township_staff", "townships": [self.township]});
        self.post("/api/enrolments", Some(&self.admin), grant)["text"].as_str().unwrap().to_owned()
    }

    fn holds(&self, id: &str) -> bool {
        self.state.db.tx(|db| sync::server::heads_of(db, &RecordId(id.into()))).unwrap().is_some()
    }
}

impl Drop for County {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn an_enrolled_device_registers_offline_syncs_when_the_server_returns_and_issues_a_card() {
    let mut county = County::start();
    let dir = tempfile::tempdir().unwrap();
    let a = app_on(dir.path(), None);
    // A wrong code changes nothing: the device stays new.
    assert_eq!(code(&a, "setup", json!({"pin": "258014", "enrolment": "SJE1:nonsense"})), "ENROLMENT_TEXT_INVALID");
    assert_eq!(ok(&a, "status", Value::Null)["state"], "new");
    let s = ok(&a, "setup", json!({"pin": "258014", "enrolment": county.enrolment("赵六")}));
    assert_eq!(s["device"]["enrolled"], true);
    assert_eq!(s["device"]["person"], "赵六");
    // The background sync brings the township's records.
    wait_for("the first sync", || ok(&a, "sync_status", Value::Null)["state"] == "synced");
    let home = ok(&a, "home", Value::Null);
    assert!(home["counts"]["member"].as_u64().unwrap() > 0, "{home}");
    assert!(!home["progress"]["townships"].as_array().unwrap().is_empty(), "{home}");
    let union = ok(&a, "list", json!({"kind": "union", "limit": 1}))["rows"][0]["id"].as_str().unwrap().to_owned();
    let t = county.township.as_str().to_owned();

    // Offline: the server stops; a member registered now waits in the outbox.
    county.stop();
    let m = ok(&a, "save", json!({"record": member(&t, &union, "钱七", "110105198804150020")}));
    let m = m["id"].as_str().unwrap().to_owned();
    wait_for("offline", || ok(&a, "sync_status", Value::Null)["state"] == "offline");
    assert_eq!(ok(&a, "sync_status", Value::Null)["outbox"], 1);
    // A card is issued at the door with no network.
    let card = ok(&a, "issue_card", json!({"member": m}));
    assert!(card["text"].as_str().unwrap().starts_with("UC1:"));
    assert!(card["svg"].as_str().unwrap().contains("<svg"));
    // Verified offline too: the first sync brought the county's trust list,
    // which names this device's key.
    let checked = ok(&a, "verify_card", json!({"text": card["text"]}));
    assert_eq!(checked["valid"], true, "{checked}");
    assert_eq!(checked["name"], "钱七");
    assert!(!county.holds(&m));

    // The server returns: the probe finds it, and the member with its card
    // number reaches the county.
    county.restart();
    ok(&a, "sync_now", Value::Null);
    wait_for("the member on the server", || county.holds(&m));
    wait_for("an empty outbox", || ok(&a, "sync_status", Value::Null)["outbox"] == 0);
    let ctx = county.state.ctx();
    let members = county.state.db.tx(|db| sync::server::records_of_kind(db, &ctx, RecordKind::Member, None, 10_000));
    let on_server = members.unwrap().into_iter().find(|(id, _)| id.as_str() == m).unwrap().1;
    let Record::Member(on_server) = on_server else { panic!("not a member") };
    assert_eq!(on_server.card_number.as_deref(), card["number"].as_str());
    let checked = ok(&a, "verify_card", json!({"text": card["text"]}));
    assert_eq!(checked["number"], card["number"]);
    // The county widens the device's scope to a second township: after the
    // next sync the app's pickers and home show it.
    let s = ok(&a, "status", Value::Null);
    assert_eq!(s["device"]["scope"]["townships"], json!([t]), "{s}");
    let device_id = s["device"]["device_id"].as_str().unwrap().to_owned();
    let other = ok(&a, "areas", Value::Null)
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["level"] == "township" && r["id"] != t.as_str())
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .unwrap();
    let changed =
        county.post(&format!("/api/devices/{device_id}/scope"), Some(&county.admin), json!({"townships": [t, other]}));
    assert_eq!(changed["device"], device_id.as_str(), "{changed}");
    ok(&a, "sync_now", Value::Null);
    wait_for("the new scope", || {
        ok(&a, "status", Value::Null)["device"]["scope"]["townships"].as_array().is_some_and(|v| v.len() == 2)
    });
    let home = ok(&a, "home", Value::Null);
    assert_eq!(home["device"]["scope"]["townships"].as_array().unwrap().len(), 2, "{home}");
    // A tampered card is refused with its reason.
    let mut text = card["text"].as_str().unwrap().to_owned();
    text.insert(10, 'A');
    assert_eq!(ok(&a, "verify_card", json!({"text": text}))["valid"], false);
}

/// A web page the surveyor happens to open cannot drive the app's local
/// backend (`sanjian app-web`): not by a name of its own resolving to
/// 127.0.0.1 (DNS rebinding), not by a form or `text/plain` post, not from
/// another origin.
#[cfg(feature = "web")]
#[test]
fn a_web_page_elsewhere_cannot_call_the_local_backend() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let app = Arc::new(app(dir.path()));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    let ui = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui");
    rt.spawn(field::web::serve(app, ui, listener, std::future::pending()));
    let post = |host: &str, content_type: &str, origin: Option<&str>| -> u16 {
        let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let origin = origin.map(|o| format!("Origin: {o}\r\n")).unwrap_or_default();
        let body = "null";
        write!(
            tcp,
            "POST /api/status HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n{origin}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        tcp.read_to_string(&mut answer).unwrap();
        answer[9..12].parse().unwrap()
    };
    let me = format!("127.0.0.1:{port}");
    assert_eq!(post(&me, "application/json", None), 200);
    assert_eq!(post(&format!("localhost:{port}"), "application/json", Some(&format!("http://localhost:{port}"))), 200);
    assert_eq!(post(&format!("evil.example:{port}"), "application/json", None), 403, "DNS rebinding");
    assert_eq!(post(&me, "text/plain", None), 403, "a simple cross-site post");
    assert_eq!(post(&me, "application/x-www-form-urlencoded", None), 403, "a form");
    assert_eq!(post(&me, "application/json", Some("http://evil.example")), 403, "another origin");
}

/// A tablet is lost. The county asks for it to be wiped: locked, it wipes
/// itself when its lock screen next reaches the server; unlocked, when its
/// background sync does. A finder guessing PINs wipes it too.
#[test]
fn a_lost_tablet_is_wiped_at_its_next_contact_or_after_ten_wrong_pins() {
    let county = County::start();
    let device_id = |app: &App| ok(app, "status", Value::Null)["device"]["device_id"].as_str().unwrap().to_owned();
    let wipe = |device_id: String| {
        let v = county.post(&format!("/api/devices/{device_id}/wipe"), Some(&county.admin), json!({}));
        assert_eq!(v["wipe_requested"], device_id.as_str(), "{v}");
        device_id
    };
    let gone = |dir: &std::path::Path| !dir.join("device.db").exists() && !dir.join("lock.json").exists();

    // Locked: the lock screen's check (no PIN needed).
    let dir = tempfile::tempdir().unwrap();
    let a = app_on(dir.path(), None);
    ok(&a, "setup", json!({"pin": "258014", "enrolment": county.enrolment("赵六")}));
    wait_for("the first sync", || ok(&a, "sync_status", Value::Null)["state"] == "synced");
    assert_eq!(ok(&a, "check_wipe", Value::Null), json!({"wiped": false, "checked": true}));
    let a_id = device_id(&a);
    ok(&a, "lock", Value::Null);
    let lock = std::fs::read_to_string(dir.path().join("lock.json")).unwrap();
    assert!(lock.contains("sjw_") && !lock.contains("258014") && !lock.contains("sjd_"), "{lock}");
    let id = wipe(a_id);
    assert_eq!(ok(&a, "check_wipe", Value::Null)["wiped"], true);
    let s = ok(&a, "status", Value::Null);
    assert_eq!((s["state"].as_str(), s["wiped"].as_bool()), (Some("new"), Some(true)), "{s}");
    assert!(gone(dir.path()));
    let listed: Value = {
        let client = sync::http::Endpoint::new(&county.base).client(Duration::from_secs(30)).unwrap();
        let req = client.get(format!("{}/api/devices", county.base)).bearer_auth(&county.admin);
        county.rt.block_on(async { req.send().await.unwrap().json().await.unwrap() })
    };
    let entry = listed.as_array().unwrap().iter().find(|d| d["id"] == id.as_str()).unwrap().clone();
    assert_eq!((entry["revoked"].as_bool(), entry["wiped"].as_bool()), (Some(true), Some(true)), "{entry}");

    // Unlocked: the background sync hears it.
    let dir = tempfile::tempdir().unwrap();
    let b = app_on(dir.path(), None);
    ok(&b, "setup", json!({"pin": "258014", "enrolment": county.enrolment("孙七")}));
    wait_for("the first sync", || ok(&b, "sync_status", Value::Null)["state"] == "synced");
    wipe(device_id(&b));
    ok(&b, "sync_now", Value::Null);
    wait_for("the wipe", || ok(&b, "status", Value::Null)["state"] == "new");
    assert!(gone(dir.path()));

    // A finder guessing: the tenth wrong PIN in a row wipes the store (the
    // waits between tries are skipped here by ageing the last failure).
    let dir = tempfile::tempdir().unwrap();
    let c = app(dir.path());
    ok(&c, "setup", json!({"pin": "258014", "operator": "李四"}));
    ok(&c, "lock", Value::Null);
    for i in 1..=field::pin::WIPE_AFTER {
        let mut lock = field::pin::LockFile::read(dir.path()).unwrap().unwrap();
        lock.last_failure_ms = lock.last_failure_ms.saturating_sub(2 * 3600 * 1000);
        lock.write(dir.path()).unwrap();
        let expected = if i < field::pin::WIPE_AFTER { "PIN_WRONG" } else { "PIN_WIPED" };
        assert_eq!(code(&c, "unlock", json!({"pin": "000001"})), expected, "try {i}");
    }
    assert!(gone(dir.path()));
    assert_eq!(ok(&c, "status", Value::Null)["state"], "new");
}

/// The business licence's QR read at the door: its credit code, and the
/// entity already registered under it; the record page's rule findings for
/// a union without a chair, gone once one is registered.
#[test]
fn a_licence_qr_gives_the_credit_code_and_a_new_union_asks_for_its_chair() {
    let dir = tempfile::tempdir().unwrap();
    let a = app(dir.path());
    let t = standalone_with_township(&a);
    let licence = "91310000MA1FL1MMXL";
    let qr = format!("http://www.gsxt.gov.cn/index.html?uniscid={licence}");
    let read = ok(&a, "licence_code", json!({"text": qr}));
    assert_eq!(read["credit_code"], licence, "{read}");
    assert_eq!(read["registered"].as_array().map(Vec::len), Some(0), "nothing registered yet: {read}");
    for text in ["http://www.gsxt.gov.cn/%7B7A3F9C21E0B14D8A9F6E2C5B7D1A0E43%7D", "91310000MA1FL1MMXM", ""] {
        assert_eq!(code(&a, "licence_code", json!({"text": text})), "LICENCE_QR_NO_CODE", "{text}");
    }
    assert_eq!(code(&a, "licence_code", json!({})), "BAD_ARGUMENTS");
    let mut e = entity(&t, "海川精密机械有限公司", 30);
    e["data"]["credit_code"] = json!(licence);
    let e = ok(&a, "save", json!({"record": e}))["id"].as_str().unwrap().to_owned();
    let read = ok(&a, "licence_code", json!({"text": qr}));
    assert_eq!(read["registered"][0]["id"], e.as_str(), "scanned again, the entity is found: {read}");
    // The entity with 30 workers and no union: the rule says so, explained.
    let got = ok(&a, "get", json!({"id": e}));
    assert!(got["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "OWN_UNION_25"), "{got}");
    let u = ok(
        &a,
        "save",
        json!({"record": {"kind": "union", "data": {
            "name": "海川精密机械有限公司工会", "kind": "single_unit", "place": {"township": t}, "workers": 30, "women_workers": 3,
        }}}),
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rules = |a: &App| -> Vec<String> {
        ok(a, "get", json!({"id": u}))["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(rules(&a).contains(&"CHAIR_VACANT".to_owned()), "a new union has no chair: {:?}", rules(&a));
    ok(
        &a,
        "save",
        json!({"record": {"kind": "cadre", "data": {
            "name": "周建华", "union_id": u, "role": "chair", "owner_relation": "unrelated", "place": {"township": t},
        }}}),
    );
    assert!(!rules(&a).contains(&"CHAIR_VACANT".to_owned()), "with its chair: {:?}", rules(&a));
    // The owner's spouse as chair: the rule says why it may not be.
    ok(
        &a,
        "save",
        json!({"record": {"kind": "cadre", "data": {
            "name": "王丽", "union_id": u, "role": "chair", "owner_relation": "close_relative", "place": {"township": t},
        }}}),
    );
    assert!(rules(&a).contains(&"OWNER_MAY_NOT_HOLD".to_owned()), "{:?}", rules(&a));
}

/// Commands that write two records write both or neither: a union founded
/// for an entity covers it in the same transaction; a refused one leaves
/// the entity as it was. A hardship visit is added to the case as stored,
/// not to the copy a page loaded before another edit.
#[test]
fn commands_that_write_two_records_write_both_or_neither() {
    let dir = tempfile::tempdir().unwrap();
    let a = app(dir.path());
    let t = standalone_with_township(&a);
    let e = ok(&a, "save", json!({"record": entity(&t, "红星包装有限公司", 30)}))["id"].as_str().unwrap().to_owned();
    let union = |name: &str| {
        json!({"kind": "union", "data": {
            "name": name, "kind": "single_unit", "place": {"township": t}, "workers": 30, "women_workers": 3,
        }})
    };
    let u = ok(&a, "save", json!({"record": union("红星包装有限公司工会"), "covers": e}))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(ok(&a, "get", json!({"id": e}))["record"]["data"]["union_id"], u.as_str(), "covered at once");
    // A union "covering" a record that is no entity: refused, and no union
    // was written.
    let unions = || ok(&a, "list", json!({"kind": "union", "limit": 100}))["total"].as_u64().unwrap();
    let before = unions();
    assert_eq!(code(&a, "save", json!({"record": union("另一个工会"), "covers": u})), "RECORD_NOT_FOUND");
    assert_eq!(unions(), before, "the union was rolled back with the refusal");

    // A hardship case; the page loads it, another edit lands, then a visit.
    let case = ok(
        &a,
        "save",
        json!({"record": {"kind": "hardship", "data": {
            "name": "刘芳", "kind": "illness", "situation": "长期患病", "household_size": 3,
            "monthly_income_yuan": 600, "registered_on": "2026-05-01", "place": {"township": t},
        }}}),
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut loaded = ok(&a, "get", json!({"id": case}))["record"].clone();
    loaded["data"]["monthly_income_yuan"] = json!(550);
    ok(&a, "save", json!({"record": loaded, "id": case}));
    let visit = json!({"date": "2026-11-20", "kind": "holiday_visit", "visitor": "张三", "amount_yuan": 500, "note": "春节慰问"});
    ok(&a, "add_visit", json!({"id": case, "visit": visit}));
    let data = ok(&a, "get", json!({"id": case}))["record"]["data"].clone();
    assert_eq!(data["monthly_income_yuan"], 550, "the edit made after the page loaded is kept");
    assert_eq!(data["visits"].as_object().unwrap().len(), 1);
    assert_eq!(code(&a, "add_visit", json!({"id": e, "visit": visit})), "BAD_ARGUMENTS");
}

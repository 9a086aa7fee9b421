//! The server's HTTP entry points as an outsider, a township clerk, a
//! county admin or an enrolled device reaches them: a request (route, who
//! asks, body or query) made from the fuzzer's bytes goes through the real
//! router, its authentication, extractors and decoders, into a real SQLite
//! database holding a small county. No input may panic a handler or be
//! answered with a 5xx: a bad request is a 4xx with its code.
//!
//! Input layout: byte 0 picks the route ([`ROUTES`]), byte 1 who asks
//! (nobody, a made-up token, the admin, the clerk, the device); the rest is
//! the body (POST) or the query string (GET).

use axum::body::Body;
use axum::http::{Request, header};
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;

/// Every route the fuzzer reaches: method and path (`{id}` is a record or
/// device id of the county).
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/login"),
    ("POST", "/api/logout"),
    ("POST", "/api/enrol/redeem"),
    ("POST", "/api/enrolments"),
    ("POST", "/api/sync/lookup"),
    ("POST", "/api/sync/wipe-check"),
    ("POST", "/api/sync/rotate"),
    ("POST", "/api/sync/blobs/status"),
    ("POST", "/api/sync/blobs/fetch"),
    ("POST", "/api/cards/verify"),
    ("POST", "/api/cards/revoke"),
    ("POST", "/api/devices/{device}/scope"),
    ("POST", "/api/devices/{device}/reinstate"),
    ("POST", "/api/console/staff"),
    ("POST", "/api/console/campaign"),
    ("POST", "/api/console/areas"),
    ("POST", "/api/console/areas/{area}"),
    ("POST", "/api/console/duplicates"),
    ("POST", "/api/console/conflicts/{member}/settle"),
    ("POST", "/api/console/overrides/{member}/review"),
    ("POST", "/api/console/exports"),
    ("POST", "/api/quarantine/1/resolve"),
    ("GET", "/api/console/progress"),
    ("GET", "/api/console/township"),
    ("GET", "/api/console/trend"),
    ("GET", "/api/console/snapshots"),
    ("GET", "/api/console/campaign"),
    ("GET", "/api/console/three-clears"),
    ("GET", "/api/console/census"),
    ("GET", "/api/console/export"),
    ("GET", "/api/console/conflicts"),
    ("GET", "/api/console/duplicates"),
    ("GET", "/api/console/overrides"),
    ("GET", "/api/console/audit"),
    ("GET", "/api/devices"),
    ("GET", "/api/quarantine"),
];

struct Server {
    rt: tokio::runtime::Runtime,
    router: axum::Router,
    admin: String,
    clerk: String,
    device: String,
    device_id: String,
    area: String,
    member: String,
    _dir: tempfile::TempDir,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temp dir");
        let db = server::Db::sqlite(&dir.path().join("server.db")).expect("a database");
        let secret = registry::keys::CountySecret::from_bytes([42; 32]);
        let keys = server::ServerKeys { county_secret: *secret.as_bytes(), data_key: [5; 32], card_root: [3; 32] };
        let sealer = sync::server::Sealer::new(&keys.data_key);
        let blobs = sync::blobs::DiskBlobs::new(dir.path().join("blobs"), sealer).expect("a blob store");
        let mut state = server::AppState::new(db, keys, "http://localhost".into());
        // As `sanjian serve` runs it: with its attachments on disk.
        state.blobs = Some(Arc::new(blobs));
        let state = Arc::new(state);
        let today = time::macros::date!(2026 - 11 - 25);
        let config = synth::SynthConfig { seed: 2, members: 40, today, year: 2026 };
        let mut records = Vec::new();
        synth::generate(&config, &secret, |id, r| records.push((id, r)));
        let area =
            records.iter().find(|(_, r)| r.kind() == registry::model::RecordKind::Area).expect("areas").0.clone();
        let member =
            records.iter().find(|(_, r)| r.kind() == registry::model::RecordKind::Member).expect("members").0.clone();
        let township = records[1].1.region(&records[1].0).township;
        let ctx = state.ctx();
        let (admin, clerk, device, device_id) = state
            .db
            .tx(|db| {
                for (id, r) in &records {
                    let mut doc = store::new_document(id, r.clone(), [0xcc; 16], "import", today)?;
                    sync::server::import(db, &ctx, id, &mut doc)?;
                }
                use server::auth;
                auth::create_user(db, "admin", auth::Role::CountyAdmin, "correct horse")?;
                auth::create_user(db, "clerk", auth::Role::TownshipStaff, "battery staple")?;
                auth::set_user_townships(db, "clerk", &township.into_iter().collect::<Vec<_>>())?;
                let (admin, staff) = auth::login(db, "admin", "correct horse")?.expect("the admin");
                let (clerk, _) = auth::login(db, "clerk", "battery staple")?.expect("the clerk");
                let grant = auth::Grant {
                    person: "走访员".into(),
                    role: auth::Role::CountyAdmin,
                    all: true,
                    townships: Vec::new(),
                    grids: Vec::new(),
                };
                let code = auth::create_enrolment(db, &staff, &grant, 30)?.expect("an enrolment");
                let creds = auth::redeem(db, &code, [7; 16], &[8; 32], &[42; 32])?.expect("a device");
                Ok((admin, clerk, creds.token, creds.device_id))
            })
            .expect("the county");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        Server {
            rt,
            router: server::router(state),
            admin,
            clerk,
            device,
            device_id,
            area: area.0,
            member: member.0,
            _dir: dir,
        }
    })
}

/// One request made of the fuzzer's bytes; panics (a finding) on a 5xx.
pub fn http_request(data: &[u8]) {
    let [route, who, rest @ ..] = data else { return };
    let s = server();
    let (method, path) = ROUTES[usize::from(*route) % ROUTES.len()];
    let path = path.replace("{device}", &s.device_id).replace("{area}", &s.area).replace("{member}", &s.member);
    let uri = match (method, std::str::from_utf8(rest)) {
        ("GET", Ok(q)) if !q.is_empty() => format!("{path}?{q}"),
        _ => path.clone(),
    };
    let mut req = Request::builder().method(method).uri(uri.as_str()).header(header::HOST, "localhost");
    let token = match who % 5 {
        0 => None,
        1 => Some("sjs_made_up"),
        2 => Some(s.admin.as_str()),
        3 => Some(s.clerk.as_str()),
        _ => Some(s.device.as_str()),
    };
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let body = if method == "POST" { Body::from(rest.to_vec()) } else { Body::empty() };
    let Ok(req) = req.header(header::CONTENT_TYPE, "application/json").body(body) else {
        return; // not a valid URI: the HTTP parser refuses it before any handler
    };
    let status = s.rt.block_on(async { s.router.clone().oneshot(req).await.map(|r| r.status().as_u16()) });
    let status = status.unwrap_or(500);
    assert!(status < 500, "{method} {path} answered {status}");
}

/// A valid request to each route.
pub fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    for (i, (method, path)) in ROUTES.iter().enumerate() {
        let body: &[u8] = match *path {
            "/api/login" => br#"{"username":"admin","password":"correct horse"}"#,
            "/api/enrol/redeem" => br#"{"code":"0000-0000","actor":"00","public_key":"00"}"#,
            "/api/enrolments" => br#"{"person":"x","role":"surveyor","townships":[]}"#,
            "/api/sync/lookup" => br#"{"id":"0123456789abcdef0123456789abcdef"}"#,
            "/api/console/staff" => br#"{"username":"u","role":"township_staff","townships":[]}"#,
            "/api/console/duplicates" => br#"{"a":"00","b":"01","decision":"distinct"}"#,
            "/api/console/exports" => br#"{"ledger":"member","format":"csv"}"#,
            _ if *method == "GET" => b"year=2026",
            _ => b"{}",
        };
        out.push(("http_request", format!("route-{i:02}"), [&[i as u8, 2][..], body].concat()));
    }
    out
}

//! Several `sanjian serve` on one PostgreSQL behind Debian's HAProxy, as a
//! county that cannot be down on ledger day runs them: every piece of
//! server state lives in the database, so any server answers for what
//! another one started.
//!
//! Three servers (separate data directories holding the same key file),
//! HAProxy on loopback balancing round-robin with health checks. Through
//! it: a console session made on one server holds on the others; wrong
//! passwords spread over the three meet one limit; devices sync and
//! nothing is lost; a background export started on one server is followed
//! and fetched on the others; a server killed with SIGKILL mid-day leaves
//! the others carrying on.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

mod common;
use common::{device_store, enrol_text, free_port, fresh_pg_database, http, ok, register, s, sanjian, serve_on};

/// Processes killed when the test ends, however it ends.
struct Running(Vec<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn serve(data: &Path, port: u16, url: &str, public: &str) -> Child {
    serve_on(data, port, &["--database-url", url, "--public-url", public, "--db-pool", "4"])
}

fn status(answer: &str) -> u16 {
    answer.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

/// Which server answered (HAProxy names it in `X-Served-By`).
fn served_by(answer: &str) -> String {
    let head = answer.split_once("\r\n\r\n").map_or(answer, |(h, _)| h);
    head.lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("x-served-by")).map(|(_, v)| v))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn json(answer: &str) -> serde_json::Value {
    serde_json::from_str(answer.split_once("\r\n\r\n").map_or("", |(_, b)| b)).unwrap_or(serde_json::Value::Null)
}

fn members(path: &Path) -> BTreeSet<String> {
    let store = device_store(path);
    let mut out = BTreeSet::new();
    let mut after = None;
    loop {
        let page = store.list(registry::model::RecordKind::Member, after.as_ref(), 500).unwrap();
        let Some(last) = page.last().cloned() else { break };
        out.extend(page.iter().map(|r| r.id.to_string()));
        after = Some(last);
    }
    out
}

#[test]
fn three_servers_on_one_postgresql_behind_haproxy_share_sessions_limits_jobs_and_records() {
    let base = std::env::var("SANJIAN_TEST_PG_URL").expect("SANJIAN_TEST_PG_URL: run the tests with scripts/test.sh");
    let url = fresh_pg_database(&base, "several");
    let dir = tempfile::tempdir().unwrap();
    let county = dir.path().join("county.db");
    ok(sanjian(&["generate", "--members", "300", "--seed", "9", "--db", s(&county), "--today", "2026-11-25"]));
    let stats: serde_json::Value =
        serde_json::from_str(&ok(sanjian(&["stats", "--db", s(&county), "--json", "--today", "2026-11-25"]))).unwrap();
    // The township with the most members (the devices copy one to register).
    let busiest = stats["townships"].as_array().unwrap().iter().max_by_key(|t| t["active_members"].as_u64()).unwrap();
    let township = busiest["name"].as_str().unwrap().to_owned();
    let data: Vec<PathBuf> = (1..=3).map(|i| dir.path().join(format!("server{i}"))).collect();
    ok(sanjian(&["import", "--data", s(&data[0]), "--from", s(&county), "--database-url", &url]));

    // The first server makes the county's admin; the others share its keys.
    let lb = free_port();
    let public = format!("http://127.0.0.1:{lb}");
    let ports = [free_port(), free_port(), free_port()];
    let mut running = Running(vec![serve(&data[0], ports[0], &url, &public)]);
    for d in &data[1..] {
        std::fs::create_dir_all(d).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::copy(data[0].join("server.keys"), d.join("server.keys")).unwrap();
    }
    for (d, port) in data[1..].iter().zip(&ports[1..]) {
        running.0.push(serve(d, *port, &url, &public));
    }
    let password = std::fs::read_to_string(data[0].join("initial-admin-password")).unwrap().trim().to_owned();

    // HAProxy before them.
    let config = dir.path().join("haproxy.cfg");
    let servers: String = ports
        .iter()
        .enumerate()
        .map(|(i, p)| format!("  server s{} 127.0.0.1:{p} check inter 300ms fall 2 rise 1\n", i + 1))
        .collect();
    std::fs::write(
        &config,
        format!(
            "global\n  maxconn 512\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 60s\n  \
             timeout server 60s\n  retries 3\n  option redispatch 1\nfrontend county\n  bind 127.0.0.1:{lb}\n  \
             default_backend servers\nbackend servers\n  balance roundrobin\n  option httpchk GET /health\n  \
             http-response set-header X-Served-By %[srv_name]\n{servers}"
        ),
    )
    .unwrap();
    let haproxy = Command::new("haproxy")
        .args(["-db", "-f", s(&config)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("haproxy (installed by scripts/setup.sh)");
    running.0.push(haproxy);
    let up = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::net::TcpStream::connect(("127.0.0.1", lb)).is_ok()
            && status(&http(&public, "GET", "/health", None, "")) == 200
    });
    assert!(up, "HAProxy answers");

    // 1. A console session made through one server holds on the others.
    let login = http(
        &public,
        "POST",
        "/api/login",
        None,
        &serde_json::json!({"username": "admin", "password": password}).to_string(),
    );
    assert_eq!(status(&login), 200, "{login}");
    let token = json(&login)["token"].as_str().unwrap().to_owned();
    let mut answered = BTreeSet::new();
    for _ in 0..6 {
        let a = http(&public, "GET", "/api/console/progress", Some(&token), "");
        assert_eq!(status(&a), 200, "{a}");
        answered.insert(served_by(&a));
    }
    assert_eq!(answered.len(), 3, "every server took the session: {answered:?}");

    // 2. Wrong passwords spread over the three servers meet one limit (5
    // per source and account): the sixth is refused whichever answers.
    let wrong = serde_json::json!({"username": "nobody", "password": "wrong-password"}).to_string();
    let mut by = BTreeSet::new();
    for _ in 0..5 {
        let a = http(&public, "POST", "/api/login", None, &wrong);
        assert_eq!(status(&a), 401, "{a}");
        by.insert(served_by(&a));
    }
    assert_eq!(by.len(), 3, "the guesses went to every server: {by:?}");
    let a = http(&public, "POST", "/api/login", None, &wrong);
    assert_eq!(status(&a), 429, "one limit over the three servers: {a}");

    // 3. Devices sync through the balancer; nothing is lost.
    let enrol = |person: &str| enrol_text(&data[0], &["--database-url", &url], person, &township);
    let devices: Vec<PathBuf> = (0..3).map(|i| dir.path().join(format!("tablet{i}.db"))).collect();
    let mut registered = BTreeSet::new();
    for (i, d) in devices.iter().enumerate() {
        ok(sanjian(&["device", "enrol", "--db", s(d), "--text", &enrol(&format!("平板{i}"))]));
        let first: serde_json::Value =
            serde_json::from_str(&ok(sanjian(&["device", "sync", "--db", s(d), "--json"]))).unwrap();
        assert!(first["pulled_changed"].as_u64().unwrap_or(0) > 100, "the township reached tablet {i}: {first}");
    }
    for round in 0..2u32 {
        for (i, d) in devices.iter().enumerate() {
            let seq = 600 + 10 * round + i as u32;
            registered.insert(register(d, &format!("多机登记{round}{i}"), seq).to_string());
            ok(sanjian(&["device", "sync", "--db", s(d)]));
        }
    }

    // 4. A background export started on one server is followed and
    // fetched on the others.
    let started = http(&public, "POST", "/api/console/exports?ledger=member&format=csv", Some(&token), "{}");
    assert_eq!(status(&started), 200, "{started}");
    let id = json(&started)["id"].as_str().unwrap().to_owned();
    let mut involved = BTreeSet::from([served_by(&started)]);
    let ready = (0..200).any(|_| {
        let a = http(&public, "GET", &format!("/api/console/exports/{id}"), Some(&token), "");
        assert_eq!(status(&a), 200, "{a}");
        involved.insert(served_by(&a));
        let done = json(&a)["state"] == "ready";
        if !done {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        done
    });
    assert!(ready, "the export finished");
    let file = http(&public, "GET", &format!("/api/console/exports/{id}/file"), Some(&token), "");
    assert_eq!(status(&file), 200, "{}", &file[..file.len().min(300)]);
    assert!(file.contains("多机登记00"), "the file holds what the devices registered");
    involved.insert(served_by(&file));
    assert!(involved.len() >= 2, "more than one server answered for the job: {involved:?}");
    let again = http(&public, "GET", &format!("/api/console/exports/{id}/file"), Some(&token), "");
    assert_eq!(status(&again), 404, "handed over once, by whichever server");

    // 5. One server killed mid-day: the others carry on, the devices too.
    running.0[1].kill().unwrap();
    running.0[1].wait().unwrap();
    for (i, d) in devices.iter().enumerate() {
        registered.insert(register(d, &format!("宕机后登记{i}"), 650 + i as u32).to_string());
        ok(sanjian(&["device", "sync", "--db", s(d)]));
    }
    for _ in 0..4 {
        let a = http(&public, "GET", "/api/console/progress", Some(&token), "");
        assert_eq!(status(&a), 200, "{a}");
        assert_ne!(served_by(&a), "s2", "the dead server is out of the rotation");
    }
    let fresh = dir.path().join("fresh.db");
    ok(sanjian(&["device", "enrol", "--db", s(&fresh), "--text", &enrol("新平板")]));
    ok(sanjian(&["device", "sync", "--db", s(&fresh)]));
    let held = members(&fresh);
    let missing: Vec<&String> = registered.iter().filter(|id| !held.contains(*id)).collect();
    assert!(missing.is_empty(), "every registration reached the new tablet; missing {missing:?}");
    assert_eq!(registered.len(), 9);
}

//! Helpers the CLI's tests (and the chaos benchmark) share.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// The `sanjian` binary with `args`, without a key in the environment.
pub fn sanjian(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sanjian")).args(args).env_remove("SANJIAN_KEY").output().unwrap()
}

/// Its standard output, after asserting it succeeded.
pub fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every run of `len` or more ASCII digits in `text` (phones, ID numbers).
pub fn digit_runs(text: &str, len: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() || (c == 'X' && run.len() == 17) {
            run.push(c);
        } else {
            if run.len() >= len {
                out.push(run.clone());
            }
            run.clear();
        }
    }
    out
}

/// A loopback port free right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A new empty database `<prefix>_<unique>` beside the one the PostgreSQL
/// URL `base` names; its URL.
pub fn fresh_pg_database(base: &str, prefix: &str) -> String {
    let name = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos()
    );
    let o = Command::new("psql")
        .args([base, "-v", "ON_ERROR_STOP=1", "-c", &format!("CREATE DATABASE {name}")])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (root, _) = base.rsplit_once('/').unwrap();
    format!("{root}/{name}")
}

/// A store opened with the key file (`<path>.key`, hex) written beside it
/// by `generate` or `device enrol`.
pub fn device_store(path: &Path) -> store::Store {
    let key_hex = std::fs::read_to_string(format!("{}.key", path.display())).unwrap();
    let key: Vec<u8> = (0..32).map(|i| u8::from_str_radix(&key_hex.trim()[2 * i..2 * i + 2], 16).unwrap()).collect();
    store::Store::open(path, &store::StoreKey::from_bytes(key.try_into().unwrap())).unwrap()
}

/// A bare HTTP/1.1 request; the whole answer as text.
pub fn http(base: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> String {
    use std::io::{Read, Write};
    let host = base.strip_prefix("http://").unwrap();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let mut conn = std::net::TcpStream::connect(host).unwrap();
    write!(
        conn,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    answer
}

/// Registers a new member on the device store at `path`: a copy of one it
/// holds, renamed, with the next resident ID from `seq` nobody holds yet.
pub fn register(path: &Path, name: &str, seq: u32) -> registry::model::RecordId {
    let mut store = device_store(path);
    let any = store.list(registry::model::RecordKind::Member, None, 1).unwrap()[0].id.clone();
    let mut record = store.get(&any).unwrap().unwrap().record;
    let registry::model::Record::Member(m) = &mut record else { panic!("a member") };
    m.name = name.into();
    m.sex = None;
    m.card_number = None;
    let prefix = m.resident_id[..14].to_owned();
    // The next sequence number nobody holds yet.
    for n in seq.. {
        let registry::model::Record::Member(m) = &mut record else { unreachable!() };
        let first17 = format!("{prefix}{:03}", n % 1000);
        m.resident_id = registry::ids::ResidentId::from_first17(&first17).unwrap().as_str().to_owned();
        match store.insert(record.clone(), time::macros::date!(2026 - 11 - 25)) {
            Ok(saved) => return saved.id,
            Err(store::StoreError::Duplicate(_)) => continue,
            Err(e) => panic!("{e}"),
        }
    }
    unreachable!()
}

/// `sanjian serve` on `data` at 127.0.0.1:`port` with `extra` arguments,
/// its log beside the data directory; returned once it listens.
pub fn serve_on(data: &Path, port: u16, extra: &[&str]) -> std::process::Child {
    use std::io::BufRead;
    let log = std::fs::File::create(format!("{}.log", data.display())).unwrap();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_sanjian"))
        .args(["serve", "--data", s(data), "--listen", &format!("127.0.0.1:{port}")])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.starts_with("listening http://127.0.0.1:"), "{first}");
    server
}

/// An enrolment code's text for a township staff tablet, from `sanjian
/// enrol` (`db`: the server's database arguments, none for SQLite).
pub fn enrol_text(data: &Path, db: &[&str], person: &str, township: &str) -> String {
    let args = [&["enrol", "--data", s(data)][..], db, &["--person", person, "--role", "township_staff"][..]].concat();
    let text = ok(sanjian(&[&args[..], &["--township", township, "--text-only"][..]].concat()));
    text.trim().to_owned()
}

//! `sanjian serve` as a county runs it: a generated county imported, the
//! server started, a device enrolled by name and synced through the CLI,
//! revoked, and the server stopped with SIGTERM. Its logs carry no
//! personal data.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

mod common;
use common::{
    device_store, digit_runs, enrol_text, free_port, fresh_pg_database, http, ok, register, s, sanjian, serve_on,
};

fn http_post(base: &str, path: &str, body: &serde_json::Value) -> String {
    http(base, "POST", path, None, &body.to_string())
}

/// The public verify page in Debian's chromium (playwright-core; installed
/// by scripts/setup.sh): pastes the card, checks the verdict in both languages.
fn browser_check(base: &str, card: &str, expected: &str) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e/verify-page.mjs");
    let o = Command::new("node")
        .arg(&script)
        .args([base, card, expected])
        .output()
        .expect("node (scripts/setup.sh installs it)");
    assert!(
        o.status.success(),
        "the verify page in chromium: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A benefit merchant's offline verifier in Debian's chromium
/// (`tests/e2e/merchant-offline.mjs`): installed online, used with the
/// network cut, counts reported when it returns.
fn merchant_check(base: &str, token: &str, admin: &str, card: &str, forged: &str, serial: &str) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e/merchant-offline.mjs");
    let o = Command::new("node")
        .arg(&script)
        .args([base, token, admin, card, forged, serial])
        .output()
        .expect("node (scripts/setup.sh installs it)");
    assert!(
        o.status.success(),
        "the merchant's verifier in chromium: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The JSON body of an answer.
fn json_of(answer: &str) -> serde_json::Value {
    serde_json::from_str(answer.split_once("\r\n\r\n").unwrap().1).unwrap()
}

#[test]
fn a_county_serves_enrols_syncs_revokes_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let county = dir.path().join("county.db");
    let data = dir.path().join("server");
    ok(sanjian(&["generate", "--members", "300", "--seed", "5", "--db", s(&county), "--today", "2026-11-25"]));
    let stats: serde_json::Value =
        serde_json::from_str(&ok(sanjian(&["stats", "--db", s(&county), "--json", "--today", "2026-11-25"]))).unwrap();
    let township = stats["townships"][0]["name"].as_str().unwrap().to_owned();
    ok(sanjian(&["import", "--data", s(&data), "--from", s(&county)]));

    // The county's own base map: an MBTiles file of zooms 0 to 3 (a tiny
    // tile everywhere), for the census map.
    let basemap = dir.path().join("county.mbtiles");
    {
        let db = rusqlite::Connection::open(&basemap).unwrap();
        db.execute_batch(
            "CREATE TABLE metadata (name TEXT, value TEXT);
             CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);
             INSERT INTO metadata VALUES ('name', '示范县底图'), ('format', 'png'), ('minzoom', '0'), ('maxzoom', '3');",
        )
        .unwrap();
        // A 1×1 grey PNG.
        const PNG: &str = "89504e470d0a1a0a0000000d4948445200000001000000010806000000";
        const PNG2: &str = "1f15c4890000000d49444154789c6360606060000000050001a5f645400000000049454e44ae426082";
        let hex = format!("{PNG}{PNG2}");
        let png: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
        for z in 0..=3u32 {
            for x in 0..(1u32 << z) {
                for y in 0..(1u32 << z) {
                    db.execute("INSERT INTO tiles VALUES (?1, ?2, ?3, ?4)", rusqlite::params![z, x, y, png]).unwrap();
                }
            }
        }
    }

    // The server, on a free port, logging to a file.
    let log_path = dir.path().join("server.log");
    let mut server = Command::new(env!("CARGO_BIN_EXE_sanjian"))
        .args(["serve", "--data", s(&data), "--listen", "127.0.0.1:0", "--log", "debug"])
        .args(["--basemap", s(&basemap)])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let base = first.split_whitespace().nth(1).expect("the server says where it listens").to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{first}");

    // First run: the admin's initial password is in a file only its owner reads.
    let pw = data.join("initial-admin-password");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&pw).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let password = std::fs::read_to_string(&pw).unwrap().trim().to_owned();
    assert_eq!(password.len(), 16);

    // An enrolment for a township named as people name it.
    let text = ok(sanjian(&[
        "enrol",
        "--data",
        s(&data),
        "--person",
        "张三",
        "--role",
        "township_staff",
        "--township",
        &township,
    ]));
    let text = text.trim();
    assert!(text.starts_with(&format!("SJE1:{base}#")), "{text}");
    let unknown = sanjian(&["enrol", "--data", s(&data), "--person", "李四", "--township", "没有这个镇"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("没有这个镇"));

    let device = dir.path().join("device.db");
    ok(sanjian(&["device", "enrol", "--db", s(&device), "--text", text]));
    let again = sanjian(&["device", "enrol", "--db", s(&dir.path().join("other.db")), "--text", text]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("ENROLMENT_INVALID"));

    let report: serde_json::Value =
        serde_json::from_str(&ok(sanjian(&["device", "sync", "--db", s(&device), "--json"]))).unwrap();
    assert!(report["pulled_changed"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(report["outbox"], 0);
    let report: serde_json::Value =
        serde_json::from_str(&ok(sanjian(&["device", "sync", "--db", s(&device), "--json"]))).unwrap();
    assert_eq!(report["pulled_changed"], 0, "nothing changed: {report}");

    // The admin signs in over HTTP with the initial password.
    let login = http_post(&base, "/api/login", &serde_json::json!({"username": "admin", "password": password}));
    assert!(login.starts_with("HTTP/1.1 200"), "{login}");
    assert!(login.contains("\"token\":\"sjs_"), "{login}");
    let wrong = http_post(&base, "/api/login", &serde_json::json!({"username": "admin", "password": "guess"}));
    assert!(wrong.starts_with("HTTP/1.1 401") && wrong.contains("UNAUTHENTICATED"), "{wrong}");

    // Another office's list from the command line: one row the census
    // lacks, one malformed code; the report says so.
    let list = dir.path().join("gongshang.csv");
    std::fs::write(&list, "单位名称,统一社会信用代码,从业人员\n新开张小吃店,,3\n坏代码商行,91ABC,5\n").unwrap();
    let report: serde_json::Value = serde_json::from_str(&ok(sanjian(&[
        "import-entities",
        "--data",
        s(&data),
        s(&list),
        "--source",
        "工商",
        "--json",
    ])))
    .unwrap();
    assert_eq!(report["not_in_census"][0]["name"], "新开张小吃店", "{report}");
    assert_eq!(report["problems"][0]["code"], "CREDIT_CODE_LENGTH", "{report}");

    // A registration outside the device's township: the server quarantines
    // it for the county's review (the console below dismisses it).
    {
        let key_hex = std::fs::read_to_string(dir.path().join("device.db.key")).unwrap();
        let key: Vec<u8> =
            (0..32).map(|i| u8::from_str_radix(&key_hex.trim()[2 * i..2 * i + 2], 16).unwrap()).collect();
        let mut store = store::Store::open(&device, &store::StoreKey::from_bytes(key.try_into().unwrap())).unwrap();
        let any = store.list(registry::model::RecordKind::Member, None, 1).unwrap()[0].id.clone();
        let mut record = store.get(&any).unwrap().unwrap().record;
        let registry::model::Record::Member(m) = &mut record else { panic!("a member") };
        m.name = "越界登记".into();
        let first17 = format!("{}{:03}", &m.resident_id[..14], 777);
        m.resident_id = registry::ids::ResidentId::from_first17(&first17).unwrap().as_str().to_owned();
        m.sex = None;
        m.place = registry::model::Place {
            township: registry::model::RecordId::from(stats["townships"][1]["id"].as_str().unwrap()),
            community: None,
            grid: None,
        };
        store.insert(record, time::macros::date!(2026 - 11 - 25)).unwrap();
    }
    let report: serde_json::Value =
        serde_json::from_str(&ok(sanjian(&["device", "sync", "--db", s(&device), "--json"]))).unwrap();
    assert_eq!(report["quarantined"], 1, "{report}");

    // The county console in chromium: signed in, its dashboard says what
    // the registry's report on the same county says.
    let stats_file = dir.path().join("stats.json");
    std::fs::write(&stats_file, stats.to_string()).unwrap();
    let clears_file = dir.path().join("clears.json");
    let clears =
        ok(sanjian(&["three-clears", "--db", s(&county), "--area", &township, "--json", "--today", "2026-11-25"]));
    std::fs::write(&clears_file, clears).unwrap();
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots/console");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e/console.mjs");
    let o = Command::new("node")
        .arg(&script)
        .args([&base, "admin", &password])
        .arg(&stats_file)
        .arg(&shots)
        // The quarantined write above is reviewed; 三个清楚 is checked against the CLI's.
        .arg("review")
        .arg(&clears_file)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "the console in chromium: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    println!("{}", String::from_utf8_lossy(&o.stdout));

    // The same person registered again on the device under another ID
    // number (a typo in the sequence digits) and another employer: the
    // console's near-duplicate queue merges the two, taking that employer.
    let (twin_of, twin) = {
        let key_hex = std::fs::read_to_string(dir.path().join("device.db.key")).unwrap();
        let key: Vec<u8> =
            (0..32).map(|i| u8::from_str_radix(&key_hex.trim()[2 * i..2 * i + 2], 16).unwrap()).collect();
        let mut store = store::Store::open(&device, &store::StoreKey::from_bytes(key.try_into().unwrap())).unwrap();
        let first = store.list(registry::model::RecordKind::Member, None, 1).unwrap()[0].id.clone();
        let mut record = store.get(&first).unwrap().unwrap().record;
        let registry::model::Record::Member(m) = &mut record else { panic!("a member") };
        let name = m.name.clone();
        let seq = &m.resident_id[14..15];
        let first17 =
            format!("{}{}{}", &m.resident_id[..14], if seq == "9" { "0" } else { "9" }, &m.resident_id[15..17]);
        m.resident_id = registry::ids::ResidentId::from_first17(&first17).unwrap().as_str().to_owned();
        m.employer_name = "重复登记测试厂".into();
        m.card_number = None;
        let twin = store.insert(record, time::macros::date!(2026 - 11 - 25)).unwrap().id;
        (first, (twin, name))
    };
    ok(sanjian(&["device", "sync", "--db", s(&device), "--json"]));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e/console-duplicates.mjs");
    let o = Command::new("node").arg(&script).args([&base, "admin", &password, &twin.1]).output().unwrap();
    assert!(
        o.status.success(),
        "the near-duplicate queue in chromium: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    ok(sanjian(&["device", "sync", "--db", s(&device), "--json"]));
    {
        let key_hex = std::fs::read_to_string(dir.path().join("device.db.key")).unwrap();
        let key: Vec<u8> =
            (0..32).map(|i| u8::from_str_radix(&key_hex.trim()[2 * i..2 * i + 2], 16).unwrap()).collect();
        let store = store::Store::open(&device, &store::StoreKey::from_bytes(key.try_into().unwrap())).unwrap();
        let (a, b) = (store.get(&twin_of).unwrap().unwrap(), store.get(&twin.0).unwrap().unwrap());
        // The console keeps the pair's first record (lower id) and drops the other.
        let (kept, gone) = if twin_of.0 < twin.0.0 { (a, b) } else { (b, a) };
        assert!(kept.deleted.is_none() && gone.deleted.is_some(), "one kept, one a tombstone");
        let registry::model::Record::Member(m) = kept.record else { panic!("a member") };
        assert_eq!(m.employer_name, "重复登记测试厂", "the value chosen in the console");
    }

    // A clerk's day, in Chinese at a desktop's width and in English at an
    // upright tablet's: two tablets of the township changed an entity's
    // address to different values offline; the console, opened at the
    // conflicts queue's address, settles it, then goes to a township and
    // downloads a ledger through the navigation. Both tablets then hold the
    // value chosen.
    let second = dir.path().join("device2.db");
    let text2 = ok(sanjian(&[
        "enrol",
        "--data",
        s(&data),
        "--person",
        "李四",
        "--role",
        "township_staff",
        "--township",
        &township,
        "--text-only",
    ]));
    ok(sanjian(&["device", "enrol", "--db", s(&second), "--text", text2.trim()]));
    ok(sanjian(&["device", "sync", "--db", s(&second), "--json"]));
    let entities: Vec<registry::model::RecordId> = device_store(&device)
        .list(registry::model::RecordKind::Entity, None, 2)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(entities.len(), 2, "two entities in the township");
    for (entity, (lang, width, height)) in entities.iter().zip([("zh", "1280", "900"), ("en", "820", "1180")]) {
        for (path, address) in [(&device, "东街一号"), (&second, "西街二号")] {
            let mut store = device_store(path);
            let mut record = store.get(entity).unwrap().unwrap().record;
            let registry::model::Record::Entity(e) = &mut record else { panic!("an entity") };
            e.address = address.into();
            store.update(entity, record, time::macros::date!(2026 - 11 - 25)).unwrap();
        }
        for path in [&device, &second] {
            ok(sanjian(&["device", "sync", "--db", s(path), "--json"]));
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e/console-day.mjs");
        let o = Command::new("node")
            .arg(&script)
            .args([&base, "admin", &password, entity.as_str(), lang, width, height])
            .arg(&shots)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "a clerk's day in chromium ({lang}, {width} px): {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let chose = String::from_utf8_lossy(&o.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("chose: ").map(str::to_owned))
            .expect("the script says which value it chose");
        for path in [&device, &second] {
            ok(sanjian(&["device", "sync", "--db", s(path), "--json"]));
            let store = device_store(path);
            let registry::model::Record::Entity(e) = store.get(entity).unwrap().unwrap().record else {
                panic!("an entity")
            };
            assert_eq!(e.address, chose, "the value settled in the console, on {}", path.display());
            assert!(store.conflicts(entity).unwrap().is_empty(), "no conflict left on {}", path.display());
        }
    }

    // The member ledger from the command line: masked, so no ID number or
    // phone appears in it; a second export to the same file is refused.
    let ledger = dir.path().join("members.csv");
    ok(sanjian(&["export", "--data", s(&data), "--ledger", "member", "--format", "csv", "--out", s(&ledger)]));
    let csv = std::fs::read(&ledger).unwrap();
    assert_eq!(&csv[..3], &[0xEF, 0xBB, 0xBF], "a BOM for Excel");
    let csv = String::from_utf8(csv[3..].to_vec()).unwrap();
    assert!(csv.starts_with("序号,姓名,性别,民族"), "{}", &csv[..60]);
    assert!(csv.lines().count() > 100, "{} lines", csv.lines().count());
    // (Card numbers of an older system are 16 digits in the synthetic
    // county, and this system's `UC` and 16 hexadecimal digits, left out
    // here; IDs are 18 digits, phones 11.)
    let without_cards: Vec<&str> = csv
        .split(',')
        .filter(|f| !(f.len() == 18 && f.starts_with("UC") && f[2..].bytes().all(|b| b.is_ascii_hexdigit())))
        .collect();
    let personal: Vec<String> =
        digit_runs(&without_cards.join(","), 11).into_iter().filter(|r| r.len() == 11 || r.len() == 18).collect();
    assert!(personal.is_empty(), "unmasked numbers: {:?}", personal.first());
    let again = sanjian(&["export", "--data", s(&data), "--ledger", "member", "--format", "csv", "--out", s(&ledger)]);
    assert_eq!(again.status.code(), Some(1));

    // A membership card, issued on the device offline for a member it holds.
    let key_hex = std::fs::read_to_string(dir.path().join("device.db.key")).unwrap();
    let mut key = [0u8; 32];
    for (i, b) in key.iter_mut().enumerate() {
        *b = u8::from_str_radix(&key_hex.trim()[2 * i..2 * i + 2], 16).unwrap();
    }
    let member = {
        let store = store::Store::open(&device, &store::StoreKey::from_bytes(key)).unwrap();
        store.list(registry::model::RecordKind::Member, None, 1).unwrap()[0].id.clone()
    };
    let svg = dir.path().join("card.svg");
    let card = ok(sanjian(&["issue-card", "--db", s(&device), "--member", member.as_str(), "--svg", s(&svg)]));
    let card = card.trim_end_matches('\n').to_owned();
    assert!(card.starts_with("UC1:"), "{card}");
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    let verified: serde_json::Value =
        serde_json::from_str(&ok(sanjian(&["verify-card", &card, "--db", s(&device), "--json"]))).unwrap();
    assert_eq!(verified["valid"], true, "{verified}");
    let serial = verified["serial"].as_str().unwrap().to_owned();
    // Printed, then scanned back from the picture.
    let png = dir.path().join("card.png");
    ok(sanjian(&["render-card", &card, "--db", s(&device), "--png", s(&png)]));
    let scanned: serde_json::Value =
        serde_json::from_str(&ok(sanjian(&["verify-card", "--image", s(&png), "--db", s(&device), "--json"]))).unwrap();
    assert_eq!(scanned["serial"], verified["serial"], "{scanned}");
    // An altered card is refused with its reason.
    let mut altered = card.clone().into_bytes();
    let last = altered.len() - 5;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    let refused = sanjian(&["verify-card", std::str::from_utf8(&altered).unwrap(), "--db", s(&device), "--json"]);
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&refused.stdout).unwrap()["valid"], false);
    // The public verify page and its API, for any phone.
    let page = http(&base, "GET", "/verify", None, "");
    assert!(page.starts_with("HTTP/1.1 200") && page.contains("会员卡查验"), "{page}");
    let answer = json_of(&http_post(&base, "/api/cards/verify", &serde_json::json!({"text": card})));
    assert_eq!(answer["valid"], true, "{answer}");
    browser_check(&base, &card, "valid");
    // The county revokes the card; the next sync brings the new list to the
    // device, which then refuses the card offline; so does the page.
    let admin = json_of(&login)["token"].as_str().unwrap().to_owned();
    // A benefit merchant's offline verifier, in chromium with the network
    // cut: the card accepted, a forged one refused, the card refused once
    // revoked and the lists refreshed; the console counts the checks. (The
    // script revokes the card through the county's API.)
    let progress = json_of(&http(&base, "GET", "/api/console/progress", Some(&admin), ""));
    let township = progress["townships"][0]["id"].as_str().unwrap().to_owned();
    let merchant = json_of(&http(
        &base,
        "POST",
        "/api/console/merchants",
        Some(&admin),
        &serde_json::json!({"name": "幸福超市", "township": township, "benefit": "凭会员卡九折"}).to_string(),
    ));
    let merchant_token = merchant["token"].as_str().unwrap_or_else(|| panic!("{merchant}")).to_owned();
    merchant_check(&base, &merchant_token, &admin, &card, std::str::from_utf8(&altered).unwrap(), &serial);
    // Installed, the verifier starts at its own link (a home-screen app that
    // keeps no browser storage still knows its merchant); a malformed token
    // gets no manifest.
    let manifest = http(&base, "GET", &format!("/m/{merchant_token}/manifest.webmanifest"), None, "");
    assert!(manifest.contains(&format!(r#""start_url": "/m/{merchant_token}""#)), "{manifest}");
    assert!(http(&base, "GET", "/m/../manifest.webmanifest", None, "").starts_with("HTTP/1.1 404"));
    assert!(http(&base, "GET", "/m/ABCDEF/manifest.webmanifest", None, "").starts_with("HTTP/1.1 404"));
    let revoke = serde_json::json!({"serial": serial, "reason": "遗失补办"}).to_string();
    let answer = http(&base, "POST", "/api/cards/revoke", Some(&admin), &revoke);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The same from the county's command line: already revoked, no error.
    let again =
        sanjian(&["revoke-card", "--data", s(&data), &format!("UC{}", serial.to_uppercase()), "--reason", "遗失"]);
    assert!(again.status.success() && String::from_utf8_lossy(&again.stderr).contains("already revoked"), "{again:?}");
    ok(sanjian(&["device", "sync", "--db", s(&device)]));
    let refused = sanjian(&["verify-card", &card, "--db", s(&device), "--json"]);
    assert_eq!(refused.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(v["code"], "CARD_REVOKED", "{v}");
    let answer = json_of(&http_post(&base, "/api/cards/verify", &serde_json::json!({"text": card})));
    assert_eq!(answer["code"], "CARD_REVOKED", "{answer}");
    browser_check(&base, &card, "CARD_REVOKED");

    // The device is listed, then revoked.
    let devices: serde_json::Value =
        serde_json::from_str(&ok(sanjian(&["devices", "list", "--data", s(&data), "--json"]))).unwrap();
    let id = devices[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(devices[0]["person"], "张三");
    ok(sanjian(&["devices", "revoke", "--data", s(&data), &id]));
    let refused = sanjian(&["device", "sync", "--db", s(&device)]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("DEVICE_REVOKED"));
    // Its card key leaves the trust list: its cards are refused as such.
    let answer = json_of(&http_post(&base, "/api/cards/verify", &serde_json::json!({"text": card})));
    assert_eq!(answer["code"], "CARD_ISSUER_REMOVED", "{answer}");

    // SIGTERM: a clean stop.
    let killed = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = server.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("shutting down") && log.contains("stopped"), "{log}");
    assert!(log.contains("/api/sync/pull"), "one line per request: {log}");
    // No resident ID numbers or phone numbers, no password, no token in the log.
    assert!(digit_runs(&log, 11).is_empty(), "digits in the log: {:?}", digit_runs(&log, 11));
    assert!(!log.contains(&password));
    assert!(!log.contains("sjd_"), "a device token in the log");
    // A poster's segment and a merchant's token are logged as `:id` too.
    assert!(log.contains("/api/apply/:id") && log.contains("/m/:id"), "poster and verifier paths logged: {log}");
    assert!(!log.contains(&merchant_token), "a merchant's token in the log");

    // A config file with a misspelt key is refused, with its name.
    let config = dir.path().join("sanjian.toml");
    std::fs::write(&config, format!("data = {:?}\nlisen = \"127.0.0.1:0\"\n", s(&data))).unwrap();
    let bad = sanjian(&["serve", "--config", s(&config)]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("sanjian.toml"), "{bad:?}");

    // Restarting from a config file keeps the admin (no new password) and the data.
    std::fs::write(&config, format!("data = {:?}\nlisten = \"127.0.0.1:0\"\n", s(&data))).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_sanjian"))
        .args(["serve", "--config", s(&config)])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut again = o;
    let mut first = String::new();
    BufReader::new(again.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.starts_with("listening"));
    assert_eq!(std::fs::read_to_string(&pw).unwrap().trim(), password);
    Command::new("kill").args(["-TERM", &again.id().to_string()]).status().unwrap();
    assert!(again.wait().unwrap().success());
}

/// `sanjian serve` keeps photos on an S3-compatible store when given one
/// (the throwaway s3s-fs `scripts/test.sh` starts): it checks the store at
/// start, refusing wrong credentials in plain words.
#[test]
fn serve_with_an_s3_compatible_store_checks_it_at_start() {
    let var = |n: &str| std::env::var(n).unwrap_or_else(|_| panic!("{n}: run the tests with scripts/test.sh"));
    let (endpoint, key, secret) =
        (var("SANJIAN_TEST_S3_ENDPOINT"), var("SANJIAN_TEST_S3_ACCESS_KEY"), var("SANJIAN_TEST_S3_SECRET_KEY"));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let wrong = sanjian(&[
        "serve",
        "--data",
        s(&data),
        "--listen",
        "127.0.0.1:0",
        "--s3-endpoint",
        &endpoint,
        "--s3-access-key",
        &key,
        "--s3-secret-key",
        "wrong",
    ]);
    assert_eq!(wrong.status.code(), Some(1));
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(err.contains("对象存储不可用") && err.contains("403"), "{err}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_sanjian"))
        .args(["serve", "--data", s(&data), "--listen", "127.0.0.1:0", "--s3-endpoint", &endpoint])
        .args(["--s3-bucket", "sanjian-serve-test", "--s3-access-key", &key, "--s3-secret-key", &secret])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.starts_with("listening http://127.0.0.1:"), "{first}");
    assert!(Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap().success());
    assert!(server.wait().unwrap().success());
}

/// A new member on the device, in its first member's union and township.
fn stop_server(mut server: std::process::Child, data: &Path) {
    assert!(Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap().success());
    let status = server.wait().unwrap();
    let log = std::fs::read_to_string(format!("{}.log", data.display())).unwrap_or_default();
    assert!(status.success(), "{status:?}: {log}");
}

/// A backup taken while the server runs, restored after later writes were
/// lost: the devices' repair check pushes what the restored server lacks,
/// and a device enrolled afterwards receives it all.
#[test]
fn a_backup_taken_while_serving_is_restored_and_devices_resync() {
    backup_and_restore(None);
}

/// The same with PostgreSQL (`pg_dump`, `pg_restore`) on the throwaway
/// cluster `scripts/test.sh` starts.
#[test]
fn a_postgresql_server_is_backed_up_with_pg_dump_and_restored() {
    let base = std::env::var("SANJIAN_TEST_PG_URL").expect("SANJIAN_TEST_PG_URL: run the tests with scripts/test.sh");
    backup_and_restore(Some((fresh_pg_database(&base, "bk_src"), fresh_pg_database(&base, "bk_dst"))));
}

/// `pg`: the source and the (empty) target databases, or SQLite.
fn backup_and_restore(pg: Option<(String, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let (src, dst): (Vec<String>, Vec<String>) = match &pg {
        Some((a, b)) => (vec!["--database-url".into(), a.clone()], vec!["--database-url".into(), b.clone()]),
        None => (Vec::new(), Vec::new()),
    };
    let src: Vec<&str> = src.iter().map(String::as_str).collect();
    let dst: Vec<&str> = dst.iter().map(String::as_str).collect();
    let with = |args: &[&str], db: &[&str]| ok(sanjian(&[args, db].concat()));
    let county = dir.path().join("county.db");
    let data = dir.path().join("server");
    ok(sanjian(&["generate", "--members", "200", "--seed", "8", "--db", s(&county)]));
    let stats: serde_json::Value =
        serde_json::from_str(&ok(sanjian(&["stats", "--db", s(&county), "--json"]))).unwrap();
    let township = stats["townships"][0]["name"].as_str().unwrap().to_owned();
    with(&["import", "--data", s(&data), "--from", s(&county)], &src);
    let port = free_port();
    let server = serve_on(&data, port, &src);
    let enrol = |data: &Path, person: &str, db: &[&str]| {
        let text = with(&["enrol", "--data", s(data), "--person", person, "--township", &township], db);
        text.trim().lines().last().unwrap().trim().to_owned()
    };
    let a = dir.path().join("a.db");
    ok(sanjian(&["device", "enrol", "--db", s(&a), "--text", &enrol(&data, "甲", &src)]));
    ok(sanjian(&["device", "sync", "--db", s(&a)]));
    let before = register(&a, "备份前登记", 701);
    ok(sanjian(&["device", "sync", "--db", s(&a)]));
    let backup = dir.path().join("backup");
    let out = with(&["backup", "--data", s(&data), "--out", s(&backup)], &src);
    assert!(out.contains("备份完成"), "{out}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(backup.join("server.keys")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the backup's key file is the owner's alone");
    }
    let again = sanjian(&[&["backup", "--data", s(&data), "--out", s(&backup)][..], &src].concat());
    assert_eq!(again.status.code(), Some(1), "never over a backup");
    let after = register(&a, "备份后登记", 703);
    ok(sanjian(&["device", "sync", "--db", s(&a)]));
    stop_server(server, &data);

    // The server is lost; a new one is restored from the backup.
    let restored = dir.path().join("restored");
    let out = with(&["restore", "--data", s(&restored), "--from", s(&backup)], &dst);
    assert!(out.contains("恢复完成"), "{out}");
    let again = sanjian(&[&["restore", "--data", s(&restored), "--from", s(&backup)][..], &dst].concat());
    assert_eq!(again.status.code(), Some(1), "never over a server's data without --force");
    let server = serve_on(&restored, port, &dst);
    let report: serde_json::Value =
        serde_json::from_str(&ok(sanjian(&["device", "sync", "--db", s(&a), "--json"]))).unwrap();
    assert!(report["repaired"].as_u64().unwrap() >= 1, "the lost write is found and pushed again: {report}");
    // A device enrolled on the restored server gets both registrations.
    let b = dir.path().join("b.db");
    ok(sanjian(&["device", "enrol", "--db", s(&b), "--text", &enrol(&restored, "乙", &dst)]));
    ok(sanjian(&["device", "sync", "--db", s(&b)]));
    let store = device_store(&b);
    for id in [&before, &after] {
        assert!(store.get(id).unwrap().is_some_and(|r| r.deleted.is_none()), "{id} on the new device");
    }
    stop_server(server, &restored);
}

/// An 18-character ID from its first 17 digits.
fn id18(first17: &str) -> String {
    registry::ids::ResidentId::from_first17(first17).unwrap().as_str().to_owned()
}

#[test]
fn a_new_county_starts_from_nothing_in_the_console() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let mut server = Command::new(env!("CARGO_BIN_EXE_sanjian"))
        .args(["serve", "--data", s(&data), "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let base = first.split_whitespace().nth(1).expect("the server says where it listens").to_owned();
    let password = std::fs::read_to_string(data.join("initial-admin-password")).unwrap().trim().to_owned();

    // The county's own sheets: its area tree and unions (UTF-8), and a
    // member ledger as Excel saves it in China (GBK) with a merged title,
    // a bad check digit, an unknown union and a row given twice.
    let areas = dir.path().join("areas.csv");
    std::fs::write(
        &areas,
        "乡镇（街道）,乡镇类型,社区（村）,网格,网格长,网格员\n\
         城关镇,,东街社区,东街第一网格,张建国,李一、王二\n\
         高炉镇,镇,,,,\n\
         高炉镇,,,高炉第一网格,刘明,\n",
    )
    .unwrap();
    let unions = dir.path().join("unions.csv");
    std::fs::write(
        &unions,
        "工会名称,组建形式,乡镇（街道）,网格,成立日期,职工人数,女职工人数\n\
         示范县东街商贸有限公司工会委员会,单独建会,城关镇,东街第一网格,2024-05-01,60,20\n\
         高炉镇小微企业联合工会,联合基层工会,高炉镇,高炉第一网格,2023-03-01,40,10\n",
    )
    .unwrap();
    let (a, c) = (id18("34162119850312004"), id18("34162119950707002"));
    let mut bad = id18("34162119880808001");
    bad.replace_range(17.., if bad.ends_with('0') { "1" } else { "0" });
    let shop = "示范县东街商贸有限公司工会委员会";
    let joint = "高炉镇小微企业联合工会";
    let text = [
        "示范县工会会员实名制登记表,,,,,,,,".to_owned(),
        "填报单位：示范县总工会,,,,,,填报日期：2026年12月,,".to_owned(),
        "序号,姓名,身份证号码,民族,文化程度,政治面貌,所在工会,入会时间,备注".to_owned(),
        format!("1,王小明,{a},汉族,大学本科,群众,{shop},2020/3/5,"),
        format!("2,李四,341621900101003,汉族,高中（中专）,共青团员,{joint},43900,旧证"),
        format!("3,赵六,{c},回族,初中,群众,{joint},2021年7月1日,"),
        format!("4,钱七,{bad},汉族,初中,群众,{shop},2021-01-01,"),
        format!("5,孙八,{},汉族,初中,群众,不存在的工会,2021-01-01,", id18("34162119700101005")),
        format!("6,王小明,{a},汉族,大学本科,群众,{shop},2020-03-05,重复"),
    ]
    .join("\r\n");
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    let members = dir.path().join("members.csv");
    std::fs::write(&members, &gbk).unwrap();

    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots/console");
    std::fs::create_dir_all(&shots).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e/console-intake.mjs");
    let o = Command::new("node")
        .arg(&script)
        .args([&base, &password])
        .args([&areas, &unions, &members, &shots])
        .output()
        .unwrap();
    assert!(Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap().success());
    server.wait().unwrap();
    assert!(
        o.status.success(),
        "a new county in chromium: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A second client, written in Python (standard library only) from
/// `docs/sync.md` alone: it enrols, pulls its township page by page,
/// pushes one edit as an Automerge change it encodes itself, rotates its
/// token and passes the repair check; then the project's own client, on
/// another tablet of the same township, receives the edit.
#[test]
fn a_client_written_from_the_spec_in_python_syncs() {
    let dir = tempfile::tempdir().unwrap();
    let county = dir.path().join("county.db");
    let data = dir.path().join("server");
    ok(sanjian(&["generate", "--members", "300", "--seed", "5", "--db", s(&county), "--today", "2026-11-25"]));
    let stats: serde_json::Value =
        serde_json::from_str(&ok(sanjian(&["stats", "--db", s(&county), "--json", "--today", "2026-11-25"]))).unwrap();
    let township = stats["townships"][0]["name"].as_str().unwrap().to_owned();
    ok(sanjian(&["import", "--data", s(&data), "--from", s(&county)]));
    let mut server = Command::new(env!("CARGO_BIN_EXE_sanjian"))
        .args(["serve", "--data", s(&data), "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let enrol = |person: &str| enrol_text(&data, &[], person, &township);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/sync_client.py");
    let o = Command::new("python3").arg(&script).args(["--enrolment", &enrol("外部客户端")]).output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "the Python client: {out}\n{err}");
    assert!(out.contains("pushed: Applied") && out.contains("repair check: Equal"), "{out}");
    // The edit it made reaches the Rust client of another tablet.
    let edited = out.lines().find_map(|l| l.strip_prefix("edit: ")).expect("the client names its edit").to_owned();
    // "… notes '' -> '<new note>'; change …"
    let note = edited.split_once("-> '").and_then(|(_, n)| n.split_once('\'')).map(|(n, _)| n.to_owned()).unwrap();
    let device = dir.path().join("device.db");
    ok(sanjian(&["device", "enrol", "--db", s(&device), "--text", &enrol("本地平板")]));
    ok(sanjian(&["device", "sync", "--db", s(&device), "--json"]));
    let store = device_store(&device);
    let id = registry::model::RecordId::from(edited.split_whitespace().nth(1).unwrap());
    let got = store.get(&id).unwrap().expect("the edited record is on the tablet").record;
    let notes = match got {
        registry::model::Record::Entity(e) => e.notes,
        registry::model::Record::Union(u) => u.notes,
        registry::model::Record::Visit(v) => v.notes,
        _ => panic!("an entity, a union or a visit"),
    };
    assert_eq!(notes, note, "the Python client's edit, as written");
    assert!(Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap().success());
    server.wait().unwrap();
}

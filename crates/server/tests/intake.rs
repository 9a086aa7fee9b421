//! A county starting from its own sheets: the sheets one county exports
//! (area tree, entity census, the four ledgers, full numbers) imported
//! into a new, empty server give the same figures and the same ledgers;
//! importing them again writes nothing; a member ledger as a county keeps
//! it (a merged title, GBK, 15-digit IDs, full-width digits, Excel serial
//! dates, extra columns) reads, and its bad rows are refused one by one
//! with a stable code while the rest go in.

use crate::http::{Backend, Running, each_backend, start_county};
use crate::util::*;
use registry::model::*;
use registry::progress::ProgressReport;
use std::collections::BTreeMap;

/// The sheets in the order a county brings them in.
const SHEETS: [&str; 6] = ["area", "entity", "organisation", "member", "cadre", "transfer"];

fn export(s: &Running, ledger: &str, format: &str) -> Vec<u8> {
    let url = format!("{}/api/console/export?ledger={ledger}&format={format}&full_ids=true", s.endpoint.base);
    s.rt.block_on(async {
        let r = s.http.get(url).bearer_auth(&s.admin).send().await.unwrap();
        assert_eq!(r.status(), 200, "export {ledger}");
        r.bytes().await.unwrap().to_vec()
    })
}

/// A CSV export's rows without the running number, sorted.
fn rows(csv: &[u8]) -> Vec<String> {
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    let mut out: Vec<String> =
        text.lines().skip(1).map(|l| l.split_once(',').map_or(l, |(_, rest)| rest).to_owned()).collect();
    out.sort();
    out
}

pub(crate) fn intake(s: &Running, query: &str, file: Vec<u8>) -> (u16, serde_json::Value) {
    let url = format!("{}/api/console/intake?{query}", s.endpoint.base);
    s.answer(s.http.post(url).bearer_auth(&s.admin).body(file))
}

fn progress(s: &Running) -> ProgressReport {
    let (st, v) = s.answer(s.http.get(format!("{}/api/console/progress", s.endpoint.base)).bearer_auth(&s.admin));
    assert_eq!(st, 200, "{v}");
    serde_json::from_value(v).unwrap()
}

/// The figures by township name (ids differ between two servers).
fn figures(p: &ProgressReport) -> (String, BTreeMap<String, String>) {
    let county = serde_json::to_string(&p.county).unwrap();
    let towns = p.townships.iter().map(|t| (t.name.clone(), serde_json::to_string(&t.tally).unwrap())).collect();
    (county, towns)
}

fn empty_server(backend: Backend, county_name: &str) -> Running {
    let s = start_county(backend, None, false, County { records: Vec::new(), townships: Vec::new() });
    let (st, v) =
        s.post_json("/api/console/areas", Some(&s.admin), &serde_json::json!({"name": county_name, "level": "county"}));
    assert_eq!(st, 200, "{v}");
    // Once only.
    let (st, v) =
        s.post_json("/api/console/areas", Some(&s.admin), &serde_json::json!({"name": "另一个县", "level": "county"}));
    assert_eq!((st, v["code"].as_str()), (400, Some("AREA_LEVEL")), "{v}");
    s
}

fn county_name(s: &Running) -> String {
    let (st, v) = s.answer(s.http.get(format!("{}/api/console/areas", s.endpoint.base)).bearer_auth(&s.admin));
    assert_eq!(st, 200, "{v}");
    v["county"]["name"].as_str().expect("the demo county is named").to_owned()
}

#[test]
fn a_county_exported_and_imported_into_an_empty_server_has_the_same_figures_and_ledgers() {
    each_backend(|backend| {
        // Big enough to hold transfers, cadres who left and dissolved unions.
        let config = synth::SynthConfig { seed: 7, members: 400, today: TODAY, year: TODAY.year() };
        let mut records = Vec::new();
        synth::generate(&config, &secret(), |id, r| records.push((id, r)));
        let original = start_county(backend, None, false, County { records, townships: Vec::new() });
        let copy = empty_server(backend, &county_name(&original));
        for (i, sheet) in SHEETS.iter().enumerate() {
            // XLSX for half the sheets, CSV for the others: both layouts read.
            let format = if i % 2 == 0 { "xlsx" } else { "csv" };
            let file = export(&original, sheet, format);
            let (st, dry) = intake(&copy, "", file.clone());
            assert_eq!(st, 200, "{sheet}: {dry}");
            assert_eq!(dry["sheet"], *sheet_key(sheet), "the sheet is recognised from its headers");
            assert_eq!(dry["written"], false);
            assert_eq!(dry["counts"]["refused"], 0, "{sheet}: {}", dry["rows"]);
            let (st, done) = intake(&copy, "write=true", file.clone());
            assert_eq!(st, 200, "{sheet}: {done}");
            assert_eq!(done["counts"], dry["counts"], "{sheet}: the dry run said what the import did");
            // Again: nothing changes.
            let (st, again) = intake(&copy, "write=true", file);
            assert_eq!(st, 200);
            let c = &again["counts"];
            assert_eq!(
                (c["create"].as_u64(), c["update"].as_u64(), c["refused"].as_u64()),
                (Some(0), Some(0), Some(0)),
                "{sheet}: {again}"
            );
        }
        for sheet in SHEETS {
            let (a, b) = (rows(&export(&original, sheet, "csv")), rows(&export(&copy, sheet, "csv")));
            assert_eq!(a.len(), b.len(), "{sheet}");
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(x, y, "{sheet}");
            }
        }
        let (a, b) = (figures(&progress(&original)), figures(&progress(&copy)));
        assert_eq!(a.0, b.0, "the county's figures");
        assert_eq!(a.1, b.1, "every township's figures");
    });
}

fn sheet_key(ledger: &str) -> &'static str {
    match ledger {
        "area" => "areas",
        "entity" => "entities",
        "organisation" => "organisation",
        "member" => "member",
        "cadre" => "cadre",
        _ => "transfer",
    }
}

/// An 18-character ID from its first 17 digits.
fn id18(first17: &str) -> String {
    registry::ids::ResidentId::from_first17(first17).unwrap().as_str().to_owned()
}

#[test]
fn a_countys_own_member_ledger_reads_and_its_bad_rows_are_refused_one_by_one() {
    each_backend(|backend| {
        let s = start_county(backend, None, false, small_county(3));
        let (union_id, union) = s
            .county
            .records
            .iter()
            .find_map(|(id, r)| match r {
                Record::Union(u) if u.dissolved_on.is_none() => Some((id.clone(), u.clone())),
                _ => None,
            })
            .unwrap();
        let existing = s.county.active_member();
        let existing_union = s
            .county
            .records
            .iter()
            .find_map(|(id, r)| match r {
                Record::Union(u) if *id == existing.union_id => Some(u.name.clone()),
                _ => None,
            })
            .unwrap();
        // An employer in the union's township with a credit code, named by
        // that code.
        let (employer_id, employer) = s
            .county
            .records
            .iter()
            .find_map(|(id, r)| match r {
                Record::Entity(e) if e.credit_code.is_some() && e.place.township == union.place.township => {
                    Some((id.clone(), e.clone()))
                }
                _ => None,
            })
            .expect("an entity with a code in the union's township");
        let before = progress(&s).county.active_members;
        let (a, b, c) = (id18("34162119850312004"), id18("34162119900101003"), id18("34162119950707002"));
        let mut bad_check = id18("34162119880808001");
        bad_check.replace_range(17.., if bad_check.ends_with('0') { "1" } else { "0" });
        let fullwidth: String = c
            .chars()
            .map(|ch| if ch.is_ascii_digit() { char::from_u32(ch as u32 + 0xFEE0).unwrap() } else { ch })
            .collect();
        let u = &union.name;
        // The county's own layout: a title, a line of who filled it in,
        // headers of its own wording, an extra 备注 column, dates in four
        // spellings; saved by Excel as GBK.
        let lines = [
            "涡阳县工会会员实名制登记表,,,,,,,,,,".to_owned(),
            "填报单位：某某镇总工会,,,,,,,填报日期：2026年12月,,,".to_owned(),
            "序号,姓名,身份证号,民族,文化程度,政治面貌,工作单位,所属工会,入会时间,手机号,备注".to_owned(),
            format!(
                "1,王小明,{a},汉族,大学本科,群众,{},{u},2020/3/5,13800138000,",
                employer.credit_code.clone().unwrap()
            ),
            // The old 15-digit form, a date Excel stored as a serial day.
            format!("2,李四,341621900101003,汉族,高中,共青团员,,{u},43900,,旧证"),
            // Full-width digits, a date written out in Chinese.
            format!("3,赵六,{fullwidth},回族,初中,群众,,{u},２０２１年７月１日,,"),
            // Bad rows, each refused with its own code.
            format!("4,钱七,{bad_check},汉族,初中,群众,,{u},2021-01-01,,"),
            format!("5,孙八,{},汉族,初中,群众,,没有这个工会,2021-01-01,,", id18("34162119700101005")),
            format!("6,王小明,{a},汉族,大学本科,群众,,{u},2020-03-05,,重复"),
            format!("7,周九,341621********0011,汉族,初中,群众,,{u},2021-01-01,,"),
            format!("8,吴十,3.41621198001E+17,汉族,初中,群众,,{u},2021-01-01,,"),
            format!("9,郑一,{},汉族,初中,群众,,{u},去年,,", id18("34162119750505006")),
            // A member the county already holds, with a new phone.
            format!(
                "10,{},{},{},{},{},,{existing_union},{},13900139000,",
                existing.name,
                existing.resident_id,
                existing.ethnicity,
                existing.education.zh(),
                existing.political_status.zh(),
                existing.joined_on
            ),
        ];
        let text = lines.join("\r\n");
        let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
        assert!(!unmappable);
        let file = gbk.into_owned();

        let (st, dry) = intake(&s, "", file.clone());
        assert_eq!(st, 200, "{dry}");
        assert_eq!(dry["sheet"], "member");
        assert_eq!(dry["encoding"], "gbk");
        assert_eq!(dry["header_line"], 3);
        assert_eq!(dry["ignored"], serde_json::json!(["备注"]));
        let verdict = |line: u64| {
            let r = dry["rows"].as_array().unwrap().iter().find(|r| r["line"] == line).unwrap();
            (r["action"].as_str().unwrap().to_owned(), r["code"].as_str().map(str::to_owned))
        };
        for line in [4, 5, 6] {
            assert_eq!(verdict(line).0, "create", "line {line}: {}", dry["rows"]);
        }
        let refused = [
            (7, "ID_CHECKSUM"),
            (8, "LEDGER_UNKNOWN_UNION"),
            (9, "LEDGER_DUPLICATE_ROW"),
            (10, "LEDGER_MASKED"),
            (11, "LEDGER_NUMBER_CELL"),
            (12, "LEDGER_VALUE"),
        ];
        for (line, code) in refused {
            assert_eq!(verdict(line), ("refused".to_owned(), Some(code.to_owned())), "line {line}");
        }
        assert_eq!(verdict(13).0, "update");
        let update = dry["rows"].as_array().unwrap().iter().find(|r| r["line"] == 13).unwrap();
        assert_eq!(update["fields"], serde_json::json!(["phone"]), "only the phone changes: {update}");
        assert_eq!(
            dry["counts"],
            serde_json::json!({"create": 3, "update": 1, "unchanged": 0, "refused": 6}),
            "{}",
            dry["rows"]
        );
        // A dry run writes nothing.
        assert_eq!(progress(&s).county.active_members, before);

        let (st, done) = intake(&s, "write=true", file.clone());
        assert_eq!(st, 200, "{done}");
        assert_eq!(done["counts"], dry["counts"]);
        assert_eq!(progress(&s).county.active_members, before + 3, "three members created");
        // Each as the ledger said: the 15-digit ID upgraded, the serial
        // and Chinese dates read, the full-width ID made plain.
        let member = |rid: &str| {
            let id = secret().record_id(&format!("member:{rid}"));
            match s.state.db.tx(|db| sync::server::record(db, &s.state.ctx(), &id)).unwrap() {
                Some(Record::Member(m)) => m,
                other => panic!("{rid}: {}", other.is_some()),
            }
        };
        let li = member(&b);
        assert_eq!(
            (li.joined_on, li.union_id.clone(), li.place.township.clone()),
            (registry::date!(2020 - 03 - 10), union_id.clone(), union.place.township.clone())
        );
        assert_eq!(li.political_status, PoliticalStatus::YouthLeague);
        assert_eq!(member(&c).joined_on, registry::date!(2021 - 07 - 01));
        let wang = member(&a);
        assert_eq!(wang.joined_on, registry::date!(2020 - 03 - 05));
        assert_eq!(
            (wang.employer_id.as_ref(), wang.employer_name.as_str()),
            (Some(&employer_id), employer.name.as_str()),
            "the employer named by its credit code"
        );
        assert_eq!(member(&existing.resident_id).phone.as_deref(), Some("13900139000"));
        // Logged, as an import by the admin.
        let (st, log) = s.answer(s.http.get(format!("{}/api/console/audit", s.endpoint.base)).bearer_auth(&s.admin));
        assert_eq!(st, 200);
        assert!(
            log["entries"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "import" && e["what"].as_str().unwrap().contains("工会会员实名制登记表")),
            "{log}"
        );

        // The same file again changes nothing.
        let (_, again) = intake(&s, "write=true", file);
        assert_eq!(again["counts"], serde_json::json!({"create": 0, "update": 0, "unchanged": 4, "refused": 6}));
        assert_eq!(progress(&s).county.active_members, before + 3);
    });
}

#[test]
fn only_a_county_admin_brings_sheets_in_and_a_clerk_cannot_even_have_one_read() {
    let s = start_county(Backend::Sqlite, None, false, small_county(3));
    let (st, clerk) =
        s.post_json("/api/login", None, &serde_json::json!({"username": "clerk", "password": "battery staple"}));
    assert_eq!(st, 200);
    let clerk = clerk["token"].as_str().unwrap().to_owned();
    let url = format!("{}/api/console/intake?write=true", s.endpoint.base);
    let file =
        "姓名,公民身份号码,所在工会,入会日期\r\n张三,110105194912310021,某工会,2020-01-01\r\n".as_bytes().to_vec();
    let (st, v) = s.answer(s.http.post(&url).bearer_auth(&clerk).body(file.clone()));
    assert_eq!((st, v["code"].as_str()), (403, Some("FORBIDDEN")), "{v}");
    let (st, v) = s.answer(s.http.post(&url).body(file.clone()));
    assert_eq!((st, v["code"].as_str()), (401, Some("UNAUTHENTICATED")), "{v}");
    // Even an unreadable file is answered as a refusal of the caller, not
    // of the file: nothing is parsed for them.
    let (st, v) = s.answer(s.http.post(&url).bearer_auth(&clerk).body(b"PK\x03\x04garbage".to_vec()));
    assert_eq!((st, v["code"].as_str()), (403, Some("FORBIDDEN")), "{v}");
    // An enrolled tablet's token is no console credential: it opens neither
    // the intake nor the archive.
    let tablet = s.enrol(s.township_grant(0), 93);
    let (st, v) = s.answer(s.http.post(&url).bearer_auth(&tablet.token).body(file.clone()));
    assert_eq!((st, v["code"].as_str()), (401, Some("UNAUTHENTICATED")), "{v}");
    let archive = format!("{}/api/console/archive", s.endpoint.base);
    let (st, v) = s.answer(
        s.http
            .post(&archive)
            .bearer_auth(&tablet.token)
            .json(&serde_json::json!({"passphrase": "a long passphrase here"})),
    );
    assert_eq!((st, v["code"].as_str()), (401, Some("UNAUTHENTICATED")), "{v}");
    let (st, v) = s.answer(s.http.post(&archive).json(&serde_json::json!({"passphrase": "a long passphrase here"})));
    assert_eq!((st, v["code"].as_str()), (401, Some("UNAUTHENTICATED")), "{v}");
    // A file that is no sheet the county keeps is refused whole.
    let (st, v) = intake(&s, "write=true", "甲,乙\r\n1,2\r\n".as_bytes().to_vec());
    assert_eq!((st, v["code"].as_str()), (400, Some("IMPORT_MAPPING")), "{v}");
    let (st, v) = intake(&s, "sheet=member", "姓名,性别\r\n张三,男\r\n".as_bytes().to_vec());
    assert_eq!((st, v["code"].as_str()), (400, Some("IMPORT_MAPPING")), "{v}");
    assert!(v["message"]["zh"].as_str().unwrap().contains("公民身份号码"), "it names what is missing: {v}");
}

#[test]
fn the_archive_opens_in_the_js_automerge_and_agrees_with_the_ledgers() {
    let s = start_county(Backend::Sqlite, None, false, small_county(3));
    let dir = tempfile::tempdir().unwrap();
    let archive = |token: &str, passphrase: &str| {
        let url = format!("{}/api/console/archive", s.endpoint.base);
        let req = s.http.post(url).bearer_auth(token).json(&serde_json::json!({"passphrase": passphrase}));
        s.rt.block_on(async {
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let name =
                r.headers().get("content-disposition").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
            (status, name, r.bytes().await.unwrap().to_vec())
        })
    };
    // A short passphrase is refused; a clerk may not take the county away.
    let (st, _, body) = archive(&s.admin, "short");
    assert_eq!(st, 400, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("ARCHIVE_PASSPHRASE"));
    let (_, clerk) =
        s.post_json("/api/login", None, &serde_json::json!({"username": "clerk", "password": "battery staple"}));
    let (st, _, _) = archive(clerk["token"].as_str().unwrap(), "a long enough passphrase");
    assert_eq!(st, 403);

    let passphrase = "县总工会 2026 档案口令";
    let (st, name, bytes) = archive(&s.admin, passphrase);
    assert_eq!(st, 200);
    assert!(name.contains(".sjarchive"), "{name}");
    assert!(bytes.starts_with(server::archive::MAGIC));
    // Sealed: no name of the county's members appears in it.
    let some = s.county.records.iter().find_map(|(_, r)| match r {
        Record::Member(m) => Some(m.resident_id.clone()),
        _ => None,
    });
    let needle = some.unwrap();
    assert!(!bytes.windows(needle.len()).any(|w| w == needle.as_bytes()), "no ID number in the clear");
    assert!(server::archive::open(&bytes, "wrong passphrase!").is_none());
    let zip = server::archive::open(&bytes, passphrase).expect("it opens with its passphrase");
    assert!(zip.starts_with(b"PK"));
    // Logged, as an export of everything.
    let (_, log) = s.answer(s.http.get(format!("{}/api/console/audit", s.endpoint.base)).bearer_auth(&s.admin));
    assert!(
        log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "export" && e["what"].as_str().unwrap().starts_with("archive")),
        "{log}"
    );

    let path = dir.path().join("county.sjarchive");
    std::fs::write(&path, &bytes).unwrap();
    let mut ledgers = Vec::new();
    for ledger in ["member", "organisation", "entity"] {
        let p = dir.path().join(format!("{ledger}.csv"));
        std::fs::write(&p, export(&s, ledger, "csv")).unwrap();
        ledgers.push(p);
    }
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e/archive-load.mjs");
    let o = std::process::Command::new("node")
        .arg(&script)
        .arg(&path)
        .arg(passphrase)
        .args(&ledgers)
        .output()
        .expect("node (scripts/setup.sh installs it)");
    println!("{}", String::from_utf8_lossy(&o.stdout));
    assert!(
        o.status.success(),
        "the archive in the JS Automerge: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_run_shows_its_progress_to_its_own_admin_while_it_lasts() {
    let s = start_county(Backend::Sqlite, None, false, small_county(3));
    let union = s
        .county
        .records
        .iter()
        .find_map(|(_, r)| match r {
            Record::Union(u) if u.dissolved_on.is_none() => Some(u.name.clone()),
            _ => None,
        })
        .unwrap();
    let mut text = String::from("姓名,公民身份号码,民族,学历,政治面貌,所在工会,入会日期\r\n");
    let rows: u32 = 3000;
    for i in 0..rows {
        let id = id18(&format!("3416211980{:02}{:02}{:03}", 1 + i / 28_000, 1 + (i / 1000) % 28, i % 1000));
        text += &format!("会员{i},{id},汉族,初中,群众,{union},2021-01-01\r\n");
    }
    let ticket = "0f5c2a9e-7b1d-4c3e-9a8f-6d2b1e0c4a7f";
    let url = format!("{}/api/console/intake?write=true&ticket={ticket}", s.endpoint.base);
    let run = s.http.post(url).bearer_auth(&s.admin).body(text.into_bytes());
    let task = s.rt.spawn(async move { run.send().await.unwrap().json::<serde_json::Value>().await.unwrap() });
    let progress = |ticket: &str| {
        let url = format!("{}/api/console/intake-progress?ticket={ticket}", s.endpoint.base);
        // No sign-in: the ticket is the proof.
        let (st, v) = s.answer(s.http.get(url));
        assert_eq!(st, 200, "{v}");
        v
    };
    let mut seen = Vec::new();
    while !task.is_finished() {
        let v = progress(ticket);
        if v["running"] == true {
            seen.push((v["done"].as_u64().unwrap(), v["total"].as_u64().unwrap()));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let report = s.rt.block_on(task).unwrap();
    assert_eq!(report["counts"]["create"], rows, "{}", report["rows"][0]);
    // Nothing counted while the file is read, then every row of it.
    assert!(seen.iter().any(|(d, t)| *t == u64::from(rows) && *d > 0 && d < t), "seen under way: {seen:?}");
    assert!(seen.iter().all(|(d, t)| (*t, *d) == (0, 0) || (*t == u64::from(rows) && d <= t)), "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "the count only grows: {seen:?}");
    // Once done, or for a ticket nobody used, nothing runs.
    assert_eq!(progress(ticket)["running"], false);
    assert_eq!(progress("0f5c2a9e-7b1d-4c3e-9a8f-6d2b1e0c4a70")["running"], false);
    // A short ticket is never followed (it could be guessed).
    let url = format!("{}/api/console/intake?sheet=member&ticket=run-1", s.endpoint.base);
    let run = s.http.post(url).bearer_auth(&s.admin).body(b"x,y\r\n".to_vec());
    let short = s.rt.spawn(async move { run.send().await.unwrap().status().as_u16() });
    assert_eq!(progress("run-1")["running"], false);
    assert_eq!(s.rt.block_on(short).unwrap(), 400);
}

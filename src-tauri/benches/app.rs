//! The field app's backend through Tauri's IPC (issue #5), on a device store
//! of 100,000+ records (a synthetic county):
//!
//! (a) cold start to the first screen: a new backend opens the store with
//!     the PIN (Argon2id) and answers `home` (worklist, progress, counts);
//!     also the lock screen's `status` alone;
//! (b) a save round trip: `call("save")` of a new member through IPC;
//! (c) search as you type: `call("search")` for growing name prefixes.
//!
//! IPC runs on Tauri's mock runtime (the same command handler and JSON as
//! the webview's, without a window); the webview's own start is not in (a).
//!
//!     cargo bench -p sanjian-app --bench app
//!
//! Environment: SANJIAN_BENCH_MEMBERS (default 85,000 members, which makes
//! a little over 100,000 records).

use registry::model::*;
use registry::{Date, date};
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow, WebviewWindowBuilder};

const TODAY: Date = date!(2026 - 11 - 25);
const PIN: &str = "258014";

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// A device store holding the synthetic county, locked with `PIN`.
fn prepare(dir: &Path, members: u64) -> (u64, Vec<String>) {
    let lock = field::pin::LockFile::new();
    let key = lock.derive(PIN).unwrap();
    let secret = registry::keys::CountySecret::from_bytes([7; 32]);
    let init = store::Init { county_secret: secret.clone(), device_id: Some([1; 16]) };
    let mut store = store::Store::create(&dir.join(field::app::DB_FILE), &key, &init).unwrap();
    let config = synth::SynthConfig { seed: 1, members, today: TODAY, year: 2026 };
    let mut batch = Vec::with_capacity(5000);
    let mut total = 0u64;
    let mut names = Vec::new();
    synth::generate(&config, &secret, |id, r| {
        if let Record::Member(m) = &r
            && names.len() < 400
            && total.is_multiple_of(97)
        {
            names.push(m.name.clone());
        }
        batch.push((id, r));
        total += 1;
        if batch.len() == 5000 {
            store.insert_many(std::mem::take(&mut batch), TODAY).unwrap();
        }
    });
    store.insert_many(batch, TODAY).unwrap();
    store.checkpoint().unwrap();
    lock.write(dir).unwrap();
    (total, names)
}

/// A valid resident ID number, different for each `i`.
fn resident_id(i: u32) -> String {
    let birth = date!(1970 - 01 - 01) + time::Duration::days(i64::from(i) * 37);
    let body = format!("320102{:04}{:02}{:02}{:03}", birth.year(), birth.month() as u8, birth.day(), 100 + i % 800);
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body.chars().zip(weights).map(|(c, w)| c.to_digit(10).unwrap() * w).sum();
    format!("{body}{}", "10X98765432".chars().nth((sum % 11) as usize).unwrap())
}

struct Ipc {
    _app: App<MockRuntime>,
    main: WebviewWindow<MockRuntime>,
}

impl Ipc {
    fn start(dir: &Path) -> Ipc {
        let app = sanjian_app_lib::builder_in(tauri::test::mock_builder(), Some(dir.to_owned()))
            .build(sanjian_app_lib::context())
            .unwrap();
        let config = app.config().app.windows.iter().find(|w| w.label == "main").unwrap().clone();
        let main = WebviewWindowBuilder::from_config(&app, &config).unwrap().build().unwrap();
        Ipc { _app: app, main }
    }

    fn call(&self, cmd: &str, args: Value) -> Value {
        let request = InvokeRequest {
            cmd: "call".into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: InvokeBody::Json(json!({"cmd": cmd, "args": args})),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_owned(),
        };
        match get_ipc_response(&self.main, request) {
            Ok(body) => body.deserialize::<Value>().unwrap(),
            Err(e) => panic!("{cmd}: {e}"),
        }
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let members = std::env::var("SANJIAN_BENCH_MEMBERS").ok().and_then(|v| v.parse().ok()).unwrap_or(85_000);
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let (records, names) = prepare(dir.path(), members);
    println!("device store: {records} records ({members} members), prepared in {:.1} s", t.elapsed().as_secs_f64());

    // (a) cold start: a new backend each time (new process state, new
    // connection; the file is in the OS page cache, as on a device that
    // was used before).
    let mut lock_screen = Vec::new();
    let mut first_screen = Vec::new();
    let mut unlock_only = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let ipc = Ipc::start(dir.path());
        assert_eq!(ipc.call("status", Value::Null)["state"], "locked");
        lock_screen.push(t.elapsed());
        let u = Instant::now();
        assert_eq!(ipc.call("unlock", json!({"pin": PIN}))["state"], "open");
        unlock_only.push(u.elapsed());
        let home = ipc.call("home", Value::Null);
        assert!(home["counts"]["member"].as_u64().unwrap() >= members);
        first_screen.push(t.elapsed());
        ipc.call("lock", Value::Null);
    }
    println!("(a) cold start, 5 runs (target ≤ 1.5 s to the first screen)");
    println!("    lock screen (status)        p50 {}", ms(percentile(&mut lock_screen, 0.5)));
    println!("    PIN → store open (Argon2id) p50 {}", ms(percentile(&mut unlock_only, 0.5)));
    println!(
        "    start → home with data      p50 {} / max {}",
        ms(percentile(&mut first_screen, 0.5)),
        ms(*first_screen.iter().max().unwrap())
    );

    let ipc = Ipc::start(dir.path());
    ipc.call("unlock", json!({"pin": PIN}));
    let union = ipc.call("list", json!({"kind": "union", "limit": 1}))["rows"][0].clone();
    let township = union["township"].as_str().unwrap().to_owned();
    let union = union["id"].as_str().unwrap().to_owned();

    // (b) save round trips: new members, each with its own valid ID.
    let mut saves = Vec::new();
    for i in 0..300u32 {
        let id = resident_id(i);
        let record = json!({"kind": "member", "data": {
            "name": format!("测试{i}"), "resident_id": id, "ethnicity": "汉族", "education": "college",
            "political_status": "masses", "union_id": union, "joined_on": "2026-05-01",
            "place": {"township": township},
        }});
        let t = Instant::now();
        // As the form saves: the duplicate check runs too.
        let saved = ipc.call("save", json!({"record": record, "not_duplicate": false}));
        saves.push(t.elapsed());
        assert_eq!(saved["changed"], true, "{saved}");
    }
    println!("(b) save round trip through IPC, 300 new members (target ≤ 30 ms)");
    println!(
        "    p50 {} / p95 {} / max {}",
        ms(percentile(&mut saves, 0.5)),
        ms(percentile(&mut saves, 0.95)),
        ms(*saves.iter().max().unwrap())
    );

    // (c) search as you type: every prefix of sampled names.
    let mut searches = Vec::new();
    let mut hits = 0;
    for name in &names {
        let chars: Vec<char> = name.chars().collect();
        for n in 1..=chars.len() {
            let q: String = chars[..n].iter().collect();
            let t = Instant::now();
            let found = ipc.call("search", json!({"q": q, "limit": 30}));
            searches.push(t.elapsed());
            hits += usize::from(!found["rows"].as_array().unwrap().is_empty());
        }
    }
    println!("(c) search as you type, {} queries over {} names (target ≤ 50 ms)", searches.len(), names.len());
    println!(
        "    p50 {} / p95 {} / max {}   ({hits} with results)",
        ms(percentile(&mut searches, 0.5)),
        ms(percentile(&mut searches, 0.95)),
        ms(*searches.iter().max().unwrap())
    );
}

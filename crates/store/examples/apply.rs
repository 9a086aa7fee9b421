//! Profiling aid: loads N synthetic documents into an empty store the way a
//! first sync does (`apply_pulled`, batches of 1,000) and prints the time.
//!
//!     cargo run --release -p store --example apply -- 20000

use registry::date;
use registry::keys::CountySecret;
use registry::model::{RecordKind, Region};
use store::{Init, Pulled, Store, StoreKey};

/// CPU time (user + system) this process has used so far.
fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let today = date!(2026 - 11 - 25);
    let secret = CountySecret::from_bytes([42; 32]);
    let config = synth::SynthConfig { seed: 7, members: n * 10 / 14, today, year: 2026 };
    let mut docs = Vec::new();
    synth::generate(&config, &secret, |id, r| {
        let mut doc = store::new_document(&id, r, [0xcc; 16], "import", today).unwrap();
        // Stored uncompressed, as the county server stores and sends them.
        docs.push((id, doc.save_nocompress()));
    });
    // The floor: the same documents loaded by Automerge alone, then read.
    let started = std::time::Instant::now();
    let loaded: Vec<automerge::AutoCommit> =
        docs.iter().map(|(_, b)| automerge::AutoCommit::load(b).unwrap()).collect();
    let bare = started.elapsed();
    let started = std::time::Instant::now();
    for doc in &loaded {
        std::hint::black_box(store::hydrate(doc).unwrap());
    }
    println!(
        "bare Automerge load {:.2} s, + reading the records {:.2} s",
        bare.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    drop(loaded);
    let dir = tempfile::tempdir().unwrap();
    // Three times, each into a new store, so a profile of the whole run is
    // mostly the load.
    for round in 0..3 {
        let mut s = Store::create(
            &dir.path().join(format!("d{round}.db")),
            &StoreKey::from_bytes([9; 32]),
            &Init { county_secret: secret.clone(), device_id: Some([1; 16]) },
        )
        .unwrap();
        let keep = |_: RecordKind, _: &Region| true;
        let cpu = cpu_s();
        let started = std::time::Instant::now();
        // As a first sync does: the secondary indexes built once, at the end.
        assert!(s.begin_bulk_load().unwrap());
        for chunk in docs.chunks(std::env::var("BATCH").ok().and_then(|b| b.parse().ok()).unwrap_or(1000)) {
            s.apply_pulled(Pulled { docs: chunk.to_vec(), keep: &keep, values: vec![], left: vec![] }).unwrap();
        }
        let loaded = started.elapsed();
        s.end_bulk_load().unwrap();
        let t = started.elapsed();
        println!(
            "{} documents in {:.2} s: {:.0} µs each, {:.2} s of CPU",
            docs.len(),
            t.as_secs_f64(),
            t.as_micros() as f64 / docs.len() as f64,
            cpu_s() - cpu
        );
        println!(
            "  = {:.0}% of the bare load's speed; the indexes built at the end took {:.2} s",
            100.0 * bare.as_secs_f64() / t.as_secs_f64(),
            (t - loaded).as_secs_f64()
        );
        let size = |ext: &str| std::fs::metadata(dir.path().join(format!("d{round}.db{ext}"))).map_or(0, |m| m.len());
        println!("  database {:.1} MiB, WAL {:.1} MiB", size("") as f64 / 1048576.0, size("-wal") as f64 / 1048576.0);
    }
}

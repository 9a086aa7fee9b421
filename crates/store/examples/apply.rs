//! Profiling aid: loads N synthetic documents into an empty store the way a
//! first sync does (`apply_pulled`, batches of 1,000) and prints the time.
//!
//!     cargo run --release -p store --example apply -- 20000

use registry::date;
use registry::keys::CountySecret;
use registry::model::{RecordKind, Region};
use store::{Init, Pulled, Store, StoreKey};

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let today = date!(2026 - 11 - 25);
    let secret = CountySecret::from_bytes([42; 32]);
    let config = synth::SynthConfig { seed: 7, members: n * 10 / 14, today, year: 2026 };
    let mut docs = Vec::new();
    synth::generate(&config, &secret, |id, r| {
        let mut doc = store::new_document(&id, r, [0xcc; 16], "import", today).unwrap();
        docs.push((id, doc.save()));
    });
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
        let started = std::time::Instant::now();
        for chunk in docs.chunks(1000) {
            s.apply_pulled(Pulled { docs: chunk.to_vec(), keep: &keep, values: vec![], left: vec![] }).unwrap();
        }
        let t = started.elapsed();
        println!(
            "{} documents in {:.2} s: {:.0} µs each",
            docs.len(),
            t.as_secs_f64(),
            t.as_micros() as f64 / docs.len() as f64
        );
    }
}

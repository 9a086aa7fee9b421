//! What the county-side benches share: the process's memory, the bench
//! county's keys, and storing a generated county as the server keeps it.

#![allow(dead_code)]

use registry::model::{Record, RecordId};

/// The process's peak resident memory since the last [`reset_peak`], MiB.
pub fn peak_rss_mib() -> f64 {
    status_mib("VmHWM:")
}

/// The process's resident memory now, MiB.
pub fn rss_mib() -> f64 {
    status_mib("VmRSS:")
}

fn status_mib(key: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Starts the peak memory afresh (Linux: `clear_refs` 5).
pub fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

pub fn keys() -> server::ServerKeys {
    server::ServerKeys { county_secret: [42; 32], data_key: [5; 32], card_root: [3; 32] }
}

/// Stores `records` as the server keeps documents (sealed, with summaries
/// and facts), 5,000 to a transaction.
pub fn store(state: &server::AppState, today: registry::Date, records: &mut Vec<(RecordId, Record)>) {
    let ctx = state.ctx();
    state
        .db
        .tx(|db| {
            for (id, r) in records.iter() {
                let mut doc = store::new_document(id, r.clone(), [0xcc; 16], "import", today).unwrap();
                sync::server::import(db, &ctx, id, &mut doc)?;
            }
            Ok(())
        })
        .unwrap();
    records.clear();
}

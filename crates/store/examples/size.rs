//! Prints where the bytes of a store go (docs vs projections), for tuning.
//! `cargo run --release -p store --example size -- PATH KEYHEX`
fn main() {
    let mut args = std::env::args().skip(1);
    let path = std::path::PathBuf::from(args.next().expect("path"));
    let hex = args.next().unwrap_or_else(|| "5a".repeat(32));
    let mut key = [0u8; 32];
    for (i, b) in key.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex key");
    }
    let store = store::Store::open(&path, &store::StoreKey::from_bytes(key)).expect("open");
    let c = store.connection();
    let (n, bytes): (i64, i64) =
        c.query_row("SELECT count(*), sum(length(bytes)) FROM docs", [], |r| Ok((r.get(0)?, r.get(1)?))).expect("q");
    println!("docs: {n} documents, {bytes} bytes of Automerge, {:.0} B/doc", bytes as f64 / n as f64);
    let mut stmt = c.prepare("SELECT kind, count(*), avg(length(bytes)) FROM docs GROUP BY kind").expect("q");
    let rows =
        stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, f64>(2)?))).expect("q");
    for row in rows {
        let (kind, n, avg) = row.expect("row");
        println!("  {kind:<10} {n:>8} docs, avg {avg:.0} B");
    }
    let mut stmt = c.prepare("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").expect("dbstat");
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))).expect("q");
    for row in rows {
        let (name, bytes) = row.expect("row");
        println!("  {name:<24} {:>8.1} MiB", bytes as f64 / 1048576.0);
    }
}

//! Per-region summaries (counts and fingerprints) that let a device check
//! its copy of its scope without pulling it.

use super::*;

/// The second migration: per-partition summaries of the docs' fingerprints,
/// so the repair check of any scope reads a few rows, not every document.
/// A partition is (is an area, township, grid); a scope is a union of
/// partitions, each counted once.
pub fn summaries_schema() -> String {
    "CREATE TABLE summaries (
        part TEXT PRIMARY KEY,
        area BIGINT NOT NULL,
        township TEXT,
        grid TEXT,
        count BIGINT NOT NULL,
        xor BIGINT NOT NULL
    );"
    .into()
}

pub(crate) fn part_key(is_area: bool, region: &Region) -> String {
    let t = region.township.as_ref().map_or("", |t| t.as_str());
    let g = region.grid.as_ref().map_or("", |g| g.as_str());
    format!("{}|{t}|{g}", u8::from(is_area))
}

/// Adds (`count` = 1) or removes (-1) one document's fingerprint.
pub(crate) fn summary_change(
    db: &mut dyn Sql,
    is_area: bool,
    region: &Region,
    fp: i64,
    count: i64,
) -> Result<(), SyncError> {
    let key = part_key(is_area, region);
    let rows = db.query("SELECT count, xor FROM summaries WHERE part = $1", &[key.as_str().into()])?;
    match rows.first() {
        Some(r) => db.execute(
            "UPDATE summaries SET count = $1, xor = $2 WHERE part = $3",
            &[(r[0].int() + count).into(), (r[1].int() ^ fp).into(), key.as_str().into()],
        )?,
        None => insert_summary(db, &key, is_area, region, count, fp)?,
    };
    Ok(())
}

pub(crate) fn insert_summary(
    db: &mut dyn Sql,
    key: &str,
    is_area: bool,
    region: &Region,
    count: i64,
    xor: i64,
) -> Result<u64, SyncError> {
    db.execute(
        "INSERT INTO summaries (part, area, township, grid, count, xor) VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            key.into(),
            i64::from(is_area).into(),
            Val::opt(region.township.as_ref()),
            Val::opt(region.grid.as_ref()),
            count.into(),
            xor.into(),
        ],
    )
}

/// Rebuilds the summaries from the documents (after the migration that
/// adds them), unless already built.
pub fn ensure_summaries(db: &mut dyn Sql) -> Result<(), SyncError> {
    if !db.query("SELECT 1 FROM counters WHERE name = 'summaries'", &[])?.is_empty() {
        return Ok(());
    }
    db.execute("DELETE FROM summaries", &[])?;
    let mut parts: std::collections::HashMap<String, (bool, Region, i64, i64)> = Default::default();
    let mut after = String::new();
    loop {
        let rows = db.query(
            "SELECT id, kind, township, grid, fp FROM docs WHERE id > $1 ORDER BY id LIMIT 5000",
            &[after.as_str().into()],
        )?;
        let n = rows.len();
        for row in rows {
            let is_area = row[1].text() == Some("area");
            let region =
                Region { township: row[2].text().map(RecordId::from), grid: row[3].text().map(RecordId::from) };
            let e = parts.entry(part_key(is_area, &region)).or_insert((is_area, region, 0, 0));
            e.2 += 1;
            e.3 ^= row[4].int();
            after = row[0].text().unwrap_or_default().to_owned();
        }
        if n < 5000 {
            break;
        }
    }
    for (key, (is_area, region, count, xor)) in parts {
        insert_summary(db, &key, is_area, &region, count, xor)?;
    }
    db.execute("INSERT INTO counters (name, value) VALUES ('summaries', 1)", &[])?;
    Ok(())
}

/// The summary of a scope: the union of its partitions.
pub(crate) fn scope_summary(db: &mut dyn Sql, scope: &Scope) -> Result<Summary, SyncError> {
    let mut params = Vec::new();
    let filter = scope_filter(scope, &mut params);
    let rows = db.query(&format!("SELECT count, xor FROM summaries WHERE area = 1 OR {filter}"), &params)?;
    let mut s = Summary::default();
    for r in rows {
        s.count = s.count.wrapping_add(r[0].int() as u64);
        s.xor ^= r[1].int() as u64;
    }
    Ok(s)
}

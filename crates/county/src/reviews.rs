//! The `reviews` table: every decision the county takes on a review queue
//! (kept credit codes, near duplicates, import tasks), one row each, with
//! who took it; and the queries that say what still awaits a decision.

use crate::db::now_ms;
use registry::model::RecordId;
use sync::SyncError;
use sync::server::Sql;

/// Entities with a kept credit code that await the county: never reviewed,
/// or sent back and edited on a device since (the entity's document is newer
/// than every review; accepted ones stay accepted).
const OVERRIDES_PENDING: &str =
    "SELECT e.id, e.township, e.override_reason FROM f_entities e JOIN docs d ON d.id = e.id
     WHERE e.override_reason IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.queue = 'credit_code_override'
         AND (r.id = e.id OR r.id LIKE e.id || '@%') AND (r.decision = 'accept' OR r.at >= d.updated_at))";

/// A kept credit code awaiting review: the entity, its township and the
/// surveyor's reason.
#[derive(Debug, Clone)]
pub struct PendingOverride {
    pub id: RecordId,
    pub township: String,
    pub reason: Option<String>,
}

/// Up to 500 pending kept credit codes (or the one entity asked for).
pub fn pending_overrides(db: &mut dyn Sql, only: Option<&RecordId>) -> Result<Vec<PendingOverride>, SyncError> {
    let rows = match only {
        Some(id) => db.query(&format!("{OVERRIDES_PENDING} AND e.id = $1"), &[id.as_str().into()])?,
        None => db.query(&format!("{OVERRIDES_PENDING} ORDER BY e.township, e.id LIMIT 500"), &[])?,
    };
    Ok(rows
        .into_iter()
        .map(|r| PendingOverride {
            id: RecordId::from(r[0].text().unwrap_or_default()),
            township: r[1].text().unwrap_or_default().to_owned(),
            reason: r[2].text().map(str::to_owned),
        })
        .collect())
}

/// Records one decision on a queue. A second decision on the same record is
/// kept beside the first (`id@2`, `id@3`…), never over it.
pub fn record(db: &mut dyn Sql, queue: &str, id: &str, decision: &str, by: &str, note: &str) -> Result<(), SyncError> {
    let earlier = db.query(
        "SELECT count(*) FROM reviews WHERE queue = $1 AND (id = $2 OR id LIKE $3)",
        &[queue.into(), id.into(), format!("{id}@%").into()],
    )?;
    let n = earlier.first().map_or(0, |r| r[0].int());
    let review_id = if n == 0 { id.to_owned() } else { format!("{id}@{}", n + 1) };
    db.execute(
        "INSERT INTO reviews (id, queue, decision, by_user, note, at) VALUES ($1, $2, $3, $4, $5, $6)",
        &[review_id.as_str().into(), queue.into(), decision.into(), by.into(), note.into(), now_ms().into()],
    )?;
    Ok(())
}

/// A record whose fields hold concurrent values, as the facts list it.
#[derive(Debug, Clone)]
pub struct Conflicted {
    pub id: RecordId,
    pub kind: Option<String>,
    pub township: String,
    pub name: Option<String>,
}

/// Up to 500 records with conflicting fields, by township and name.
pub fn conflicted(db: &mut dyn Sql) -> Result<Vec<Conflicted>, SyncError> {
    let rows = db.query("SELECT id, kind, township, name FROM f_conflicts ORDER BY township, name LIMIT 500", &[])?;
    Ok(rows
        .into_iter()
        .map(|r| Conflicted {
            id: RecordId::from(r[0].text().unwrap_or_default()),
            kind: r[1].text().map(str::to_owned),
            township: r[2].text().unwrap_or_default().to_owned(),
            name: r[3].text().map(str::to_owned),
        })
        .collect())
}

/// The township a stored document lies in ("" when it has none).
pub fn township_of(db: &mut dyn Sql, id: &RecordId) -> Result<String, SyncError> {
    let rows = db.query("SELECT township FROM docs WHERE id = $1", &[id.as_str().into()])?;
    Ok(rows.first().and_then(|r| r[0].text()).unwrap_or_default().to_owned())
}

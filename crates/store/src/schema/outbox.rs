//! `outbox`: documents changed on this device and not yet acknowledged by the
//! county server. Written in the same transaction as the change itself, so a
//! change is never saved without being queued; cleared only on the server's
//! acknowledgement (sync, issue #3).

use super::Step;
use crate::error::StoreError;
use registry::model::RecordId;
use rusqlite::{Transaction, params};

pub(crate) const V1: Step = Step {
    table: "outbox",
    sql: "CREATE TABLE outbox (
        doc_id TEXT PRIMARY KEY,
        first_queued INTEGER NOT NULL,
        last_queued INTEGER NOT NULL,
        changes INTEGER NOT NULL
    ) WITHOUT ROWID;",
};

pub(crate) fn queue(tx: &Transaction<'_>, id: &RecordId, now: i64) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO outbox (doc_id, first_queued, last_queued, changes) VALUES (?1, ?2, ?2, 1)
         ON CONFLICT(doc_id) DO UPDATE SET last_queued = excluded.last_queued, changes = changes + 1",
    )?
    .execute(params![id.as_str(), now])?;
    Ok(())
}

pub(crate) fn clear(tx: &Transaction<'_>, id: &RecordId) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM outbox WHERE doc_id = ?1")?.execute([id.as_str()])?;
    Ok(())
}

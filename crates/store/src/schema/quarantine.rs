//! `quarantine`: what the device received and could not apply (a document
//! that does not decode or does not read as a record). Kept whole, with the
//! reason, so nothing received is lost; sync goes on past it.

use super::Step;
use crate::error::StoreError;
use registry::model::RecordId;
use rusqlite::{Transaction, params};

pub(crate) const V1: Step = Step {
    table: "quarantine",
    sql: "CREATE TABLE quarantine (
        id INTEGER PRIMARY KEY,
        doc_id TEXT NOT NULL,
        code TEXT NOT NULL,
        detail TEXT NOT NULL,
        bytes BLOB NOT NULL,
        at INTEGER NOT NULL,
        UNIQUE (doc_id, bytes)
    );",
};

pub(crate) fn add(
    tx: &Transaction<'_>,
    id: &RecordId,
    code: &str,
    detail: &str,
    bytes: &[u8],
    now: i64,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO quarantine (doc_id, code, detail, bytes, at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(doc_id, bytes) DO NOTHING",
    )?
    .execute(params![id.as_str(), code, detail, bytes, now])?;
    Ok(())
}

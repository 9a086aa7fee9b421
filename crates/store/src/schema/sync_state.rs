//! `sync_state`: for each document, the heads the county server is known to
//! hold (from its last acknowledgement or the last copy it sent). A push
//! sends only the changes after them; the repair check fingerprints them.

use super::Step;
use crate::error::StoreError;
use automerge::ChangeHash;
use registry::model::RecordId;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

pub(crate) const V1: Step = Step {
    table: "sync_state",
    sql: "CREATE TABLE sync_state (
        doc_id TEXT PRIMARY KEY,
        server_heads BLOB NOT NULL
    ) WITHOUT ROWID;",
};

/// Heads as stored: their 32-byte hashes, sorted, concatenated.
pub(crate) fn encode(heads: &[ChangeHash]) -> Vec<u8> {
    let mut sorted = heads.to_vec();
    sorted.sort();
    sorted.iter().flat_map(|h| h.0).collect()
}

pub(crate) fn decode(bytes: &[u8]) -> Vec<ChangeHash> {
    bytes.chunks_exact(32).filter_map(|c| ChangeHash::try_from(c).ok()).collect()
}

pub(crate) fn get(conn: &Connection, id: &RecordId) -> Result<Option<Vec<ChangeHash>>, StoreError> {
    let bytes: Option<Vec<u8>> = conn
        .prepare_cached("SELECT server_heads FROM sync_state WHERE doc_id = ?1")?
        .query_row([id.as_str()], |r| r.get(0))
        .optional()?;
    Ok(bytes.map(|b| decode(&b)))
}

pub(crate) fn set(tx: &Transaction<'_>, id: &RecordId, heads: &[ChangeHash]) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO sync_state (doc_id, server_heads) VALUES (?1, ?2)
         ON CONFLICT(doc_id) DO UPDATE SET server_heads = excluded.server_heads",
    )?
    .execute(params![id.as_str(), encode(heads)])?;
    Ok(())
}

pub(crate) fn forget(tx: &Transaction<'_>, id: &RecordId) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM sync_state WHERE doc_id = ?1")?.execute([id.as_str()])?;
    Ok(())
}

//! `docs`: the source of truth, one Automerge document per record.
//!
//! `seq` increases with every local write or merge, giving sync a cursor of
//! "what changed here since". Deleted records keep their document (the
//! tombstone is part of it) so the deletion can travel to other devices.

use super::Step;
use crate::error::StoreError;
use registry::model::{RecordId, RecordKind, Region};
use rusqlite::{OptionalExtension, Transaction, params};

pub(crate) const V1: Step = Step {
    table: "docs",
    sql: "CREATE TABLE docs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        township TEXT,
        grid TEXT,
        deleted INTEGER NOT NULL DEFAULT 0,
        bytes BLOB NOT NULL,
        seq INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX docs_seq ON docs(seq);
    CREATE INDEX docs_region ON docs(township, grid);",
};

pub(crate) struct DocRow<'a> {
    pub id: &'a RecordId,
    pub kind: RecordKind,
    pub region: &'a Region,
    pub deleted: bool,
    pub bytes: &'a [u8],
    pub updated_at: i64,
}

pub(crate) fn upsert(tx: &Transaction<'_>, row: &DocRow<'_>) -> Result<i64, StoreError> {
    let seq: i64 = tx.prepare_cached("SELECT coalesce(max(seq), 0) + 1 FROM docs")?.query_row([], |r| r.get(0))?;
    tx.prepare_cached(
        "INSERT INTO docs (id, kind, township, grid, deleted, bytes, seq, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, township = excluded.township,
           grid = excluded.grid, deleted = excluded.deleted, bytes = excluded.bytes,
           seq = excluded.seq, updated_at = excluded.updated_at",
    )?
    .execute(params![
        row.id.as_str(),
        row.kind.key(),
        row.region.township.as_ref().map(RecordId::as_str),
        row.region.grid.as_ref().map(RecordId::as_str),
        row.deleted,
        row.bytes,
        seq,
        row.updated_at,
    ])?;
    Ok(seq)
}

pub(crate) fn bytes(conn: &rusqlite::Connection, id: &RecordId) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT bytes FROM docs WHERE id = ?1")?
        .query_row([id.as_str()], |r| r.get(0))
        .optional()?)
}

/// Removes a document outright: only for a copy that left this device's
/// scope (the county server keeps the record).
pub(crate) fn remove(tx: &Transaction<'_>, id: &RecordId) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM docs WHERE id = ?1")?.execute([id.as_str()])?;
    Ok(())
}

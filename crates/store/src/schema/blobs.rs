//! `blobs`, `blob_chunks`, `blob_refs`: photos and other attachments, kept
//! outside the Automerge documents (which hold only the SHA-256). The bytes
//! live in the encrypted database like everything else, so no photo is ever
//! on disk in plaintext. `blob_refs` is a projection: which documents refer
//! to which blob (and where and when), so sync knows what to fetch.

use super::Step;
use crate::error::StoreError;
use registry::model::{Record, RecordId};
use rusqlite::{Transaction, params};

pub(crate) const V1: Step = Step {
    table: "blobs",
    sql: "CREATE TABLE blobs (
        hash TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        data BLOB NOT NULL,
        local INTEGER NOT NULL,
        pushed INTEGER NOT NULL,
        added_at INTEGER NOT NULL
    );
    CREATE INDEX blobs_unpushed ON blobs(pushed) WHERE pushed = 0;
    CREATE TABLE blob_chunks (
        hash TEXT NOT NULL,
        offset INTEGER NOT NULL,
        total INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (hash, offset)
    );
    CREATE TABLE blob_refs (
        hash TEXT NOT NULL,
        doc_id TEXT NOT NULL,
        township TEXT,
        grid TEXT,
        on_date TEXT,
        size INTEGER NOT NULL,
        PRIMARY KEY (hash, doc_id)
    );
    CREATE INDEX blob_refs_doc ON blob_refs(doc_id);",
};

/// Rewrites the blobs a record refers to (none once it is deleted).
pub(crate) fn project(tx: &Transaction<'_>, id: &RecordId, record: &Record, deleted: bool) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM blob_refs WHERE doc_id = ?1")?.execute([id.as_str()])?;
    let Some(photos) = record.photos().filter(|_| !deleted) else { return Ok(()) };
    let region = record.region(id);
    let record_date = match record {
        Record::Visit(v) => Some(v.visited_on.to_string()),
        _ => None,
    };
    for (hash, p) in photos {
        // The day the photo was taken, else the visit's.
        let on = p.taken_at.get(..10).map(str::to_owned).or_else(|| record_date.clone());
        tx.prepare_cached(
            "INSERT OR REPLACE INTO blob_refs (hash, doc_id, township, grid, on_date, size) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            hash,
            id.as_str(),
            region.township.as_ref().map(RecordId::as_str),
            region.grid.as_ref().map(RecordId::as_str),
            on,
            p.bytes,
        ])?;
    }
    Ok(())
}

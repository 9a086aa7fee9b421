//! `entities`: the legal-entity facts that rules and progress read.

use super::Step;
use crate::error::StoreError;
use registry::model::{LegalEntity, RecordId};
use rusqlite::{Transaction, params};

pub(crate) const V1: Step = Step {
    table: "entities",
    sql: "CREATE TABLE entities (
        id TEXT PRIMARY KEY,
        township TEXT NOT NULL,
        workers INTEGER NOT NULL,
        women_workers INTEGER NOT NULL,
        closed INTEGER NOT NULL,
        union_id TEXT,
        private_enterprise INTEGER NOT NULL,
        checksum_override INTEGER NOT NULL
    );
    CREATE INDEX entities_union ON entities(union_id);
    CREATE INDEX entities_township ON entities(township);",
};

/// Writes the row; an UPDATE of unchanged indexed columns touches no index page.
pub(crate) fn upsert(tx: &Transaction<'_>, id: &RecordId, e: &LegalEntity) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO entities (id, township, workers, women_workers, closed, union_id, private_enterprise, checksum_override) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT(id) DO UPDATE SET township = excluded.township, workers = excluded.workers, women_workers = excluded.women_workers, closed = excluded.closed, union_id = excluded.union_id, private_enterprise = excluded.private_enterprise, checksum_override = excluded.checksum_override",
    )?
    .execute(params![
        id.as_str(),
        e.place.township.as_str(),
        e.workers,
        e.women_workers,
        e.closed,
        e.union_id.as_ref().map(RecordId::as_str),
        registry::rules::private_enterprise(e),
        e.credit_code_override.as_deref().is_some_and(|r| !r.trim().is_empty()),
    ])?;
    Ok(())
}

pub(crate) fn delete(tx: &Transaction<'_>, id: &RecordId) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM entities WHERE id = ?1")?.execute([id.as_str()])?;
    Ok(())
}

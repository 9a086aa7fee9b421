//! `unions`: the grassroots-union facts that rules and progress read.

use super::{Step, date_text};
use crate::error::StoreError;
use registry::model::{GrassrootsUnion, RecordId};
use registry::rules;
use rusqlite::{Transaction, params};

pub(crate) const V1: Step = Step {
    table: "unions",
    sql: "CREATE TABLE unions (
        id TEXT PRIMARY KEY,
        township TEXT NOT NULL,
        kind TEXT NOT NULL,
        founded_on TEXT,
        dissolved_on TEXT,
        liuyou_complete INTEGER NOT NULL,
        bayou_complete INTEGER NOT NULL
    );
    CREATE INDEX unions_township ON unions(township);",
};

/// Writes the row; an UPDATE of unchanged indexed columns touches no index page.
pub(crate) fn upsert(tx: &Transaction<'_>, id: &RecordId, u: &GrassrootsUnion) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO unions (id, township, kind, founded_on, dissolved_on, liuyou_complete, bayou_complete) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(id) DO UPDATE SET township = excluded.township, kind = excluded.kind, founded_on = excluded.founded_on, dissolved_on = excluded.dissolved_on, liuyou_complete = excluded.liuyou_complete, bayou_complete = excluded.bayou_complete",
    )?
    .execute(params![
        id.as_str(),
        u.place.township.as_str(),
        u.kind.key(),
        date_text(u.founded_on),
        date_text(u.dissolved_on),
        rules::liuyou(&u.liuyou).complete(),
        rules::bayou(&u.bayou).complete(),
    ])?;
    Ok(())
}

pub(crate) fn delete(tx: &Transaction<'_>, id: &RecordId) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM unions WHERE id = ?1")?.execute([id.as_str()])?;
    Ok(())
}

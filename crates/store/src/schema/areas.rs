//! `areas`: the area tree (county → township → community → grid).

use super::Step;
use crate::error::StoreError;
use registry::model::{Area, RecordId};
use rusqlite::{Transaction, params};

pub(crate) const V1: Step = Step {
    table: "areas",
    sql: "CREATE TABLE areas (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        level TEXT NOT NULL,
        township_kind TEXT,
        parent TEXT,
        township TEXT
    );
    CREATE INDEX areas_parent ON areas(parent);",
};

/// Writes the row; an UPDATE of unchanged indexed columns touches no index page.
pub(crate) fn upsert(tx: &Transaction<'_>, id: &RecordId, a: &Area) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO areas (id, name, level, township_kind, parent, township) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, level = excluded.level, township_kind = excluded.township_kind, parent = excluded.parent, township = excluded.township",
    )?
    .execute(params![
        id.as_str(),
        a.name,
        a.level.key(),
        a.township_kind.map(|k| k.key()),
        a.parent.as_ref().map(RecordId::as_str),
        a.township.as_ref().map(RecordId::as_str),
    ])?;
    Ok(())
}

pub(crate) fn delete(tx: &Transaction<'_>, id: &RecordId) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM areas WHERE id = ?1")?.execute([id.as_str()])?;
    Ok(())
}

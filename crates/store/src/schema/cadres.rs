//! `cadres`: who holds which office in which union, for vacancy checks.

use super::{Step, date_text};
use crate::error::StoreError;
use registry::model::{Cadre, RecordId};
use rusqlite::{Transaction, params};

pub(crate) const V1: Step = Step {
    table: "cadres",
    sql: "CREATE TABLE cadres (
        id TEXT PRIMARY KEY,
        union_id TEXT NOT NULL,
        role TEXT NOT NULL,
        elected_on TEXT,
        left_on TEXT,
        owner_relation TEXT NOT NULL
    );
    CREATE INDEX cadres_union ON cadres(union_id, role);",
};

/// Writes the row; an UPDATE of unchanged indexed columns touches no index page.
pub(crate) fn upsert(tx: &Transaction<'_>, id: &RecordId, c: &Cadre) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO cadres (id, union_id, role, elected_on, left_on, owner_relation) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(id) DO UPDATE SET union_id = excluded.union_id, role = excluded.role, elected_on = excluded.elected_on, left_on = excluded.left_on, owner_relation = excluded.owner_relation",
    )?
    .execute(params![
        id.as_str(),
        c.union_id.as_str(),
        c.role.key(),
        date_text(c.elected_on),
        date_text(c.left_on),
        c.owner_relation.key(),
    ])?;
    Ok(())
}

pub(crate) fn delete(tx: &Transaction<'_>, id: &RecordId) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM cadres WHERE id = ?1")?.execute([id.as_str()])?;
    Ok(())
}

//! `ref_stubs`: the organisations this device's records refer to outside
//! its scope (a federation in another township covering one of its
//! entities, a member's employer elsewhere), as the county sent them after
//! the last pull: a name, a kind and, for a union, its kind and dissolution.
//! Read-only by construction: they are not documents, so nothing can edit,
//! push or list them as records. The `covering_unions` view joins the
//! unions held and the stubbed ones, for the figures and the worklist.

use super::Step;
use crate::error::StoreError;
use registry::Date;
use registry::model::{RecordId, RecordKind, UnionKind};
use rusqlite::{Transaction, params};

pub(crate) const V1: Step = Step {
    table: "ref_stubs",
    sql: "CREATE TABLE ref_stubs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        union_kind TEXT,
        dissolved_on TEXT,
        township TEXT,
        covered_by TEXT,
        private_open INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX ref_stubs_covered_by ON ref_stubs(covered_by) WHERE covered_by IS NOT NULL;
    CREATE VIEW covering_unions AS
        SELECT id, kind, dissolved_on FROM unions
        UNION ALL
        SELECT s.id, s.union_kind, s.dissolved_on FROM ref_stubs s
        WHERE s.kind = 'union' AND s.union_kind IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM unions u WHERE u.id = s.id);",
};

/// A record referred to from outside this device's scope.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RefStub {
    pub id: RecordId,
    pub kind: RecordKind,
    pub name: String,
    pub union_kind: Option<UnionKind>,
    pub dissolved_on: Option<Date>,
    pub township: Option<RecordId>,
    /// An entity's covering union, when it is one this device holds.
    pub covered_by: Option<RecordId>,
    /// An entity that is an open private enterprise.
    pub private_open: bool,
}

/// Replaces every stub with `stubs` (the county's whole list).
pub(crate) fn replace(tx: &Transaction<'_>, stubs: &[RefStub]) -> Result<(), StoreError> {
    tx.execute("DELETE FROM ref_stubs", [])?;
    let mut insert = tx.prepare_cached(
        "INSERT OR REPLACE INTO ref_stubs (id, kind, name, union_kind, dissolved_on, township, covered_by, private_open)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for s in stubs {
        insert.execute(params![
            s.id.as_str(),
            s.kind.key(),
            s.name,
            s.union_kind.map(UnionKind::key),
            super::date_text(s.dissolved_on),
            s.township.as_ref().map(RecordId::as_str),
            s.covered_by.as_ref().map(RecordId::as_str),
            s.private_open,
        ])?;
    }
    Ok(())
}

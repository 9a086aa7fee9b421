//! The database schema: one module per table, each owning its migration and
//! its row writes. `STEPS` lists every migration in the order it was added;
//! `PRAGMA user_version` counts how many a database has applied.

pub(crate) mod areas;
pub(crate) mod blobs;
pub(crate) mod cadres;
pub(crate) mod docs;
pub(crate) mod entities;
pub(crate) mod members;
pub(crate) mod meta;
pub(crate) mod outbox;
pub(crate) mod quarantine;
pub(crate) mod records;
pub mod ref_stubs;
pub(crate) mod revoked_cards;
pub(crate) mod sync_state;
pub(crate) mod unions;
pub(crate) mod visits;

use crate::error::StoreError;
use registry::keys::CountySecret;
use registry::model::{Record, RecordId};
use rusqlite::Transaction;

/// One migration of one table.
#[derive(Debug)]
pub(crate) struct Step {
    pub table: &'static str,
    pub sql: &'static str,
}

/// Every migration, oldest first. Append only: never edit a released step.
pub(crate) const STEPS: &[Step] = &[
    meta::V1,
    docs::V1,
    records::V1,
    areas::V1,
    entities::V1,
    unions::V1,
    members::V1,
    cadres::V1,
    outbox::V1,
    sync_state::V1,
    quarantine::V1,
    records::V2,
    blobs::V1,
    visits::V1,
    records::V3,
    ref_stubs::V1,
    members::V2,
    revoked_cards::V1,
];

/// Marks a database as a Sanjian store ("SANJ").
pub(crate) const APPLICATION_ID: i64 = 0x5341_4E4A;

/// Applies the steps a database has not yet applied, in one transaction.
pub(crate) fn migrate(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let applied: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = STEPS.len() as i64;
    if applied > known {
        return Err(StoreError::TooNew { found: applied, known });
    }
    for step in &STEPS[applied as usize..] {
        tx.execute_batch(step.sql)
            .map_err(|e| StoreError::Malformed(format!("migration of table {} failed: {e}", step.table)))?;
    }
    tx.pragma_update(None, "user_version", known)?;
    Ok(())
}

/// Context for writing projections.
pub(crate) struct Projector<'a> {
    pub secret: &'a CountySecret,
    /// Fields of the document holding concurrent values.
    pub conflicts: i64,
    /// The county's note when it returned the record for correction.
    pub returned: Option<String>,
}

/// Writes every projection row of a record, or removes them when it is
/// deleted. Rows are upserted, not deleted and re-inserted, so an edit of a
/// field no index covers rewrites no index page.
pub(crate) fn project(
    tx: &Transaction<'_>,
    p: &Projector<'_>,
    id: &RecordId,
    record: &Record,
    deleted: bool,
) -> Result<(), StoreError> {
    blobs::project(tx, id, record, deleted)?;
    if deleted {
        records::delete(tx, id)?;
        return match record {
            Record::Area(_) => areas::delete(tx, id),
            Record::Entity(_) => entities::delete(tx, id),
            Record::Union(_) => unions::delete(tx, id),
            Record::Member(_) => members::delete(tx, id),
            Record::Cadre(_) => cadres::delete(tx, id),
            Record::Visit(_) => visits::delete(tx, id),
            Record::Transfer(_) | Record::Hardship(_) => Ok(()),
        };
    }
    records::upsert(tx, p, id, record)?;
    match record {
        Record::Area(a) => areas::upsert(tx, id, a),
        Record::Entity(e) => entities::upsert(tx, id, e),
        Record::Union(u) => unions::upsert(tx, id, u),
        Record::Member(m) => members::upsert(tx, id, m),
        Record::Cadre(c) => cadres::upsert(tx, id, c),
        Record::Visit(v) => visits::upsert(tx, id, v),
        Record::Transfer(_) | Record::Hardship(_) => Ok(()),
    }
}

/// A date as stored: ISO text, which sorts like the date.
pub(crate) fn date_text(d: Option<registry::Date>) -> Option<String> {
    d.map(|d| d.to_string())
}

/// A date as stored back ([`date_text`]'s inverse); None when absent or
/// unreadable.
pub(crate) fn text_date(s: Option<String>) -> Option<registry::Date> {
    registry::Date::parse(&s?, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// The tables the migrations create, for the migration test.
pub fn tables() -> Vec<&'static str> {
    let mut t: Vec<_> = STEPS.iter().map(|s| s.table).collect();
    t.dedup();
    t
}

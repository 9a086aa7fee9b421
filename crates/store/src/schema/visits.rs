//! `visits`: the door-to-door census visits, for the "not yet visited" and
//! "visit again" lists and the map (positions in millionths of a degree).

use super::{Step, date_text};
use crate::error::StoreError;
use registry::model::{CensusVisit, RecordId};
use rusqlite::{Transaction, params};

pub(crate) const V1: Step = Step {
    table: "visits",
    sql: "CREATE TABLE visits (
        id TEXT PRIMARY KEY,
        entity_id TEXT,
        visited_on TEXT NOT NULL,
        time TEXT NOT NULL,
        outcome TEXT NOT NULL,
        follow_up_on TEXT,
        surveyor TEXT NOT NULL,
        lat_e6 INTEGER,
        lon_e6 INTEGER,
        manual INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX visits_entity ON visits(entity_id, visited_on, time);",
};

/// Writes the row.
pub(crate) fn upsert(tx: &Transaction<'_>, id: &RecordId, v: &CensusVisit) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO visits (id, entity_id, visited_on, time, outcome, follow_up_on, surveyor, lat_e6, lon_e6, manual)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT(id) DO UPDATE SET entity_id = excluded.entity_id, visited_on = excluded.visited_on,
           time = excluded.time, outcome = excluded.outcome, follow_up_on = excluded.follow_up_on,
           surveyor = excluded.surveyor, lat_e6 = excluded.lat_e6, lon_e6 = excluded.lon_e6, manual = excluded.manual",
    )?
    .execute(params![
        id.as_str(),
        v.entity_id.as_ref().map(RecordId::as_str),
        v.visited_on.to_string(),
        v.time,
        v.outcome.key(),
        date_text(v.follow_up_on),
        v.surveyor,
        v.position.map(|p| p.lat_e6),
        v.position.map(|p| p.lon_e6),
        v.position.is_some_and(|p| p.manual),
    ])?;
    Ok(())
}

pub(crate) fn delete(tx: &Transaction<'_>, id: &RecordId) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM visits WHERE id = ?1")?.execute([id.as_str()])?;
    Ok(())
}

//! `records`: the projection every list and search reads: kind, display name,
//! place, union and a keyed token of the natural key.
//!
//! Resident IDs and credit codes are never stored here: `key_token` is an
//! HMAC of the value under the county secret, so an exact lookup works and
//! the index reveals nothing.

use super::{Projector, Step};
use crate::error::StoreError;
use registry::model::{Record, RecordId};
use rusqlite::{Transaction, params};

pub(crate) const V1: Step = Step {
    table: "records",
    sql: "CREATE TABLE records (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        township TEXT,
        community TEXT,
        grid TEXT,
        union_id TEXT,
        key_token BLOB,
        conflicts INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX records_kind_name ON records(kind, name, id);
    CREATE INDEX records_name ON records(name, id);
    CREATE INDEX records_token ON records(key_token) WHERE key_token IS NOT NULL;
    CREATE INDEX records_area ON records(township, grid, kind);
    CREATE INDEX records_union ON records(union_id, kind);",
};

/// The county's return of a record for correction (the note shown on the
/// device's worklist), from the document's `_returned` key.
pub(crate) const V2: Step = Step {
    table: "records",
    sql: "ALTER TABLE records ADD COLUMN returned TEXT;
    CREATE INDEX records_returned ON records(returned) WHERE returned IS NOT NULL;",
};

/// The keyed token of a record's near-duplicate key
/// (`registry::names::near_duplicate_key`: a member's name and birth date,
/// an entity's name without its legal form within its township), the one
/// the county's duplicate queue uses. Rows written before it existed are
/// marked `X''` and filled in when the store is next opened.
pub(crate) const V3: Step = Step {
    table: "records",
    sql: "ALTER TABLE records ADD COLUMN dupkey BLOB;
    UPDATE records SET dupkey = X'' WHERE kind IN ('member', 'entity');
    CREATE INDEX records_dupkey ON records(dupkey) WHERE dupkey IS NOT NULL;",
};

/// The keyed token of a record's near-duplicate key, if it has one.
pub(crate) fn dupkey(secret: &registry::keys::CountySecret, record: &Record) -> Option<[u8; 16]> {
    registry::names::near_duplicate_key(record).map(|k| secret.search_token("near-duplicate", &k))
}

/// The token of a record's identifying number, if it has one.
pub(crate) fn token(p: &Projector<'_>, record: &Record) -> Option<[u8; 16]> {
    match record {
        Record::Member(m) => Some(p.secret.search_token("resident_id", &m.resident_id)),
        Record::Cadre(c) => c.resident_id.as_deref().map(|id| p.secret.search_token("resident_id", id)),
        Record::Hardship(h) => h.resident_id.as_deref().map(|id| p.secret.search_token("resident_id", id)),
        Record::Entity(e) => e.credit_code.as_deref().map(|c| p.secret.search_token("credit_code", c)),
        Record::Union(u) => u.credit_code.as_deref().map(|c| p.secret.search_token("credit_code", c)),
        Record::Area(_) | Record::Transfer(_) | Record::Visit(_) => None,
    }
}

/// Writes the row; an UPDATE of unchanged indexed columns touches no index page.
pub(crate) fn upsert(
    tx: &Transaction<'_>,
    p: &Projector<'_>,
    id: &RecordId,
    record: &Record,
) -> Result<(), StoreError> {
    let region = record.region(id);
    let place = record.place();
    tx.prepare_cached(
        "INSERT INTO records (id, kind, name, township, community, grid, union_id, key_token, conflicts, returned, dupkey) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, name = excluded.name, township = excluded.township, community = excluded.community, grid = excluded.grid, union_id = excluded.union_id, key_token = excluded.key_token, conflicts = excluded.conflicts, returned = excluded.returned, dupkey = excluded.dupkey",
    )?
    .execute(params![
        id.as_str(),
        record.kind().key(),
        record.display_name(),
        region.township.as_ref().map(RecordId::as_str),
        place.and_then(|p| p.community.as_ref()).map(RecordId::as_str),
        region.grid.as_ref().map(RecordId::as_str),
        record.union_id().map(RecordId::as_str),
        token(p, record).as_ref().map(|t| &t[..]),
        p.conflicts,
        p.returned.as_deref(),
        dupkey(p.secret, record).as_ref().map(|t| &t[..]),
    ])?;
    Ok(())
}

pub(crate) fn delete(tx: &Transaction<'_>, id: &RecordId) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM records WHERE id = ?1")?.execute([id.as_str()])?;
    Ok(())
}

//! `members`: the member facts that progress and duplicate checks read.

use super::{Step, date_text};
use crate::error::StoreError;
use registry::model::{Member, RecordId};
use rusqlite::{Transaction, params};

pub(crate) const V1: Step = Step {
    table: "members",
    sql: "CREATE TABLE members (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        birth_date TEXT,
        township TEXT NOT NULL,
        union_id TEXT NOT NULL,
        employer_id TEXT,
        joined_on TEXT NOT NULL,
        left_on TEXT
    );
    CREATE INDEX members_name_birth ON members(name, birth_date);
    CREATE INDEX members_employer ON members(employer_id);",
};

/// Each member's card serial and last valid day (发证率,
/// `registry::rules::card_valid`). Rows written before are marked with the
/// serial `?` and filled in from their documents when the store is next
/// opened (`Store::fill_columns`); a partial index finds them, so opening
/// a store with none left reads no member row.
pub(crate) const V2: Step = Step {
    table: "members",
    sql: "ALTER TABLE members ADD COLUMN card_serial TEXT;
    ALTER TABLE members ADD COLUMN card_expires TEXT;
    UPDATE members SET card_serial = '?';
    CREATE INDEX members_unfilled ON members(id) WHERE card_serial = '?';",
};

/// The mark of a row written before `V2`.
pub(crate) const UNFILLED: &str = "?";

/// Writes the row; an UPDATE of unchanged indexed columns touches no index page.
pub(crate) fn upsert(tx: &Transaction<'_>, id: &RecordId, m: &Member) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO members (id, name, birth_date, township, union_id, employer_id, joined_on, left_on, card_serial, card_expires)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, birth_date = excluded.birth_date, township = excluded.township, union_id = excluded.union_id, employer_id = excluded.employer_id, joined_on = excluded.joined_on, left_on = excluded.left_on, card_serial = excluded.card_serial, card_expires = excluded.card_expires",
    )?
    .execute(params![
        id.as_str(),
        m.name,
        date_text(m.birth_date),
        m.place.township.as_str(),
        m.union_id.as_str(),
        m.employer_id.as_ref().map(RecordId::as_str),
        m.joined_on.to_string(),
        date_text(m.left_on),
        registry::rules::card_serial(m.card_number.as_deref()),
        date_text(m.card_expires),
    ])?;
    Ok(())
}

pub(crate) fn delete(tx: &Transaction<'_>, id: &RecordId) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM members WHERE id = ?1")?.execute([id.as_str()])?;
    Ok(())
}

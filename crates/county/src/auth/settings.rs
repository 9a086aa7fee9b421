//! The `settings` table: the server's own settings (e.g. the public address
//! devices use).

use super::*;

/// The table as the first migration (`auth-v1`) made it; later columns
/// come from the migrations below it.
pub(super) fn create(blob: &str) -> String {
    format!("CREATE TABLE settings (key TEXT PRIMARY KEY, value {blob} NOT NULL);")
}

/// A server setting (e.g. the public address devices use).
pub fn setting(db: &mut dyn Sql, key: &str) -> Result<Option<Vec<u8>>, SyncError> {
    let rows = db.query("SELECT value FROM settings WHERE key = $1", &[key.into()])?;
    Ok(rows.into_iter().next().map(|mut r| std::mem::replace(&mut r[0], Val::Null).into_blob()))
}

pub fn set_setting(db: &mut dyn Sql, key: &str, value: &[u8]) -> Result<(), SyncError> {
    db.execute("DELETE FROM settings WHERE key = $1", &[key.into()])?;
    db.execute("INSERT INTO settings (key, value) VALUES ($1, $2)", &[key.into(), value.to_vec().into()])?;
    Ok(())
}

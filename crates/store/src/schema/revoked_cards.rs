//! `revoked_cards`: the serials of the county's signed revocation list as
//! this device last kept it (`sync::http::keep_card_lists`), so the figures
//! and the worklist leave revoked cards out as the county does
//! (`registry::rules::card_valid`). The signed list itself stays in the
//! sync values; this is its index.

use super::Step;
use crate::error::StoreError;
use crate::store::Store;

pub(crate) const V1: Step =
    Step { table: "revoked_cards", sql: "CREATE TABLE revoked_cards (serial TEXT PRIMARY KEY) WITHOUT ROWID;" };

impl Store {
    /// Replaces the revoked serials (lower-case hex) with `serials`, in one
    /// transaction.
    pub fn set_revoked_cards<'a>(&mut self, serials: impl IntoIterator<Item = &'a str>) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM revoked_cards", [])?;
        {
            let mut insert = tx.prepare("INSERT OR IGNORE INTO revoked_cards (serial) VALUES (?1)")?;
            for s in serials {
                insert.execute([s.to_ascii_lowercase()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

//! Bulk loading: a first sync into an empty store builds the secondary
//! indexes once, at the end, instead of keeping them up to date through
//! every batch.
//!
//! Why: a first sync applies its documents in batches of one to two
//! thousand, one transaction each (so an interrupted sync resumes where it
//! stopped). Each record adds an entry to about a dozen indexes whose keys
//! are spread at random (names, keyed tokens, ids), so every batch touches
//! nearly every leaf page of each of them, and every commit writes each
//! touched page again, encrypted, to the WAL. Loading 23,000 documents
//! wrote 156 MiB of WAL for a 40 MiB database, and the commits took a third
//! of the load. Without the secondary indexes the WAL was 94 MiB and the
//! load, with the indexes built afterwards (a sort each), 10–15% faster.
//!
//! Only non-unique indexes are deferred: the unique ones (primary keys, the
//! change counter) enforce what the writes rely on. Queries during the load
//! still answer, by scanning.
//!
//! The dropped indexes' definitions are kept in `meta` in the same
//! transaction that drops them, so a load cut short (the app killed
//! mid-sync) is finished when the store next opens ([`recover`]), before
//! any migration could expect them.

use crate::error::StoreError;
use crate::schema::meta;
use crate::store::Store;
use rusqlite::Connection;

/// The `meta` key holding the deferred indexes' definitions.
const PENDING: &str = "bulk.deferred_indexes";

impl Store {
    /// Starts a bulk load if this store holds no documents yet: defers its
    /// secondary indexes until [`Store::end_bulk_load`]. Returns whether it
    /// did (a store holding documents is loaded as it is).
    pub fn begin_bulk_load(&mut self) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        let empty = tx.query_row("SELECT NOT EXISTS (SELECT 1 FROM docs)", [], |r| r.get::<_, bool>(0))?;
        if !empty || meta::get(&tx, PENDING)?.is_some() {
            return Ok(false);
        }
        let deferred: Vec<(String, String)> = tx
            .prepare(
                "SELECT name, sql FROM sqlite_master
                 WHERE type = 'index' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (name, _) in &deferred {
            tx.execute_batch(&format!("DROP INDEX \"{name}\""))?;
        }
        let sqls: Vec<&str> = deferred.iter().map(|(_, sql)| sql.as_str()).collect();
        meta::set(&tx, PENDING, &serde_json::to_vec(&sqls).expect("strings serialise"))?;
        tx.commit()?;
        Ok(true)
    }

    /// Ends a bulk load: builds the deferred indexes. Nothing to do when no
    /// bulk load is under way.
    pub fn end_bulk_load(&mut self) -> Result<(), StoreError> {
        recover(&mut self.conn)
    }
}

/// Builds the indexes a bulk load deferred, if any, in one transaction.
pub(crate) fn recover(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    let Some(pending) = meta::get(&tx, PENDING)? else { return Ok(()) };
    let sqls: Vec<String> = serde_json::from_slice(&pending)
        .map_err(|e| StoreError::Malformed(format!("the deferred indexes cannot be read: {e}")))?;
    // Each index is a scan of its table: a cache that holds the tables
    // (for the build only) decrypts each page once, not once per index.
    let cache: i64 = tx.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    tx.execute_batch("PRAGMA cache_size = -65536")?;
    let built = (|| -> Result<(), StoreError> {
        for sql in &sqls {
            tx.execute_batch(sql)?;
        }
        meta::remove(&tx, PENDING)?;
        Ok(())
    })();
    let restored = tx.execute_batch(&format!("PRAGMA cache_size = {cache}"));
    built?;
    restored?;
    tx.commit()?;
    Ok(())
}

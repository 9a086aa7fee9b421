//! Attachments (photos) on the device: content-addressed by SHA-256, kept
//! in the encrypted database outside the Automerge documents, which hold
//! only the hash ([`registry::model::PhotoRef`]). Blobs made here wait to be
//! pushed; blobs the records refer to arrive in chunks, resumable, and are
//! kept only once their bytes match their hash.

use crate::error::StoreError;
use crate::store::{Store, now_ms};
use registry::Date;
use registry::model::RecordId;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The lowercase hex SHA-256 of some bytes: a blob's name.
pub fn blob_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether this device holds a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum BlobState {
    Present {
        size: u64,
    },
    /// Part of it arrived; the rest comes with a later sync.
    Partial {
        received: u64,
        size: u64,
    },
    /// Not downloaded yet (or not wanted by this device's download policy).
    Missing,
}

/// What became of a chunk that arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk {
    /// More is to come: this many bytes are held.
    Partial(u64),
    /// The blob is whole and its bytes match its hash.
    Complete,
    /// The whole blob arrived but its bytes do not match its hash: it was
    /// dropped, to be fetched again.
    Corrupt,
    /// Not the next bytes expected (a repeat or a gap): ignored.
    Ignored,
}

/// Which blobs this device downloads: those its records refer to, limited
/// to some grids and to the last so many days (photos without a date are
/// always wanted).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct BlobPolicy {
    #[serde(default)]
    pub grids: Vec<RecordId>,
    #[serde(default)]
    pub days: Option<u32>,
}

/// A blob to fetch, and how much of it is held already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub hash: String,
    pub from: u64,
    pub size: u64,
}

impl Store {
    /// Keeps a blob made on this device (a photo just taken) and returns its
    /// hash; it waits to be pushed. Keeping the same bytes twice is a no-op.
    pub fn put_blob(&mut self, bytes: &[u8]) -> Result<String, StoreError> {
        let hash = blob_hash(bytes);
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO blobs (hash, size, data, local, pushed, added_at) VALUES (?1, ?2, ?3, 1, 0, ?4)",
            )?
            .execute(params![hash, bytes.len() as i64, bytes, now_ms()])?;
        Ok(hash)
    }

    /// A blob's bytes, if held whole.
    pub fn blob(&self, hash: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT data FROM blobs WHERE hash = ?1")?
            .query_row([hash], |r| r.get(0))
            .optional()?)
    }

    /// Whether a blob is here, partly here or missing.
    pub fn blob_state(&self, hash: &str) -> Result<BlobState, StoreError> {
        if let Some(size) = self
            .conn
            .prepare_cached("SELECT size FROM blobs WHERE hash = ?1")?
            .query_row([hash], |r| r.get::<_, i64>(0))
            .optional()?
        {
            return Ok(BlobState::Present { size: size as u64 });
        }
        let partial: Option<(i64, i64)> = self
            .conn
            .prepare_cached("SELECT coalesce(sum(length(data)), 0), max(total) FROM blob_chunks WHERE hash = ?1 HAVING count(*) > 0")?
            .query_row([hash], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        Ok(match partial {
            Some((received, size)) => BlobState::Partial { received: received as u64, size: size as u64 },
            None => BlobState::Missing,
        })
    }

    /// Blobs made here and not yet pushed that a record refers to, oldest
    /// first, up to about `max_bytes` (at least one).
    pub fn blobs_to_push(&self, max_bytes: u64) -> Result<Vec<(String, u64)>, StoreError> {
        let rows: Vec<(String, i64)> = self
            .conn
            .prepare_cached(
                "SELECT b.hash, b.size FROM blobs b WHERE b.pushed = 0
                 AND EXISTS (SELECT 1 FROM blob_refs r WHERE r.hash = b.hash) ORDER BY b.added_at, b.hash",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        let mut total = 0u64;
        for (hash, size) in rows {
            if !out.is_empty() && total + size as u64 > max_bytes {
                break;
            }
            total += size as u64;
            out.push((hash, size as u64));
        }
        Ok(out)
    }

    /// How many blobs and bytes made here still wait to be pushed.
    pub fn blobs_unpushed(&self) -> Result<(u64, u64), StoreError> {
        let (n, bytes): (i64, i64) =
            self.conn.query_row("SELECT count(*), coalesce(sum(size), 0) FROM blobs WHERE pushed = 0", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        Ok((n as u64, bytes as u64))
    }

    /// The server holds this blob whole.
    pub fn mark_blob_pushed(&mut self, hash: &str) -> Result<(), StoreError> {
        self.conn.prepare_cached("UPDATE blobs SET pushed = 1 WHERE hash = ?1")?.execute([hash])?;
        Ok(())
    }

    /// Blobs the records here refer to that are not held whole, within the
    /// policy, at most `limit`, smallest remainder first.
    pub fn blobs_wanted(&self, policy: &BlobPolicy, today: Date, limit: usize) -> Result<Vec<Wanted>, StoreError> {
        let since = policy.days.map(|d| (today - time::Duration::days(i64::from(d))).to_string());
        let rows: Vec<(String, Option<String>, Option<String>, i64)> = self
            .conn
            .prepare_cached(
                "SELECT r.hash, min(r.grid), max(r.on_date), max(r.size) FROM blob_refs r
                 WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.hash = r.hash) GROUP BY r.hash ORDER BY r.hash",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for (hash, grid, on, size) in rows {
            let grid_ok = policy.grids.is_empty()
                || grid.as_deref().is_some_and(|g| policy.grids.iter().any(|p| p.as_str() == g));
            let date_ok = match (&since, &on) {
                (Some(since), Some(on)) => on >= since,
                _ => true,
            };
            if !grid_ok || !date_ok || !is_hash(&hash) {
                continue;
            }
            let from = match self.blob_state(&hash)? {
                BlobState::Partial { received, .. } => received,
                _ => 0,
            };
            out.push(Wanted { hash, from, size: size.max(0) as u64 });
            if out.len() == limit {
                break;
            }
        }
        Ok(out)
    }

    /// Keeps a chunk of a blob being downloaded: `data` at `offset` of a blob
    /// of `total` bytes. Chunks must come in order (a repeat or a gap is
    /// ignored); the last one completes the blob if its bytes match its hash.
    pub fn add_blob_chunk(&mut self, hash: &str, offset: u64, total: u64, data: &[u8]) -> Result<Chunk, StoreError> {
        if !is_hash(hash) || offset + data.len() as u64 > total || total > registry::validate::MAX_PHOTO_BYTES as u64 {
            return Ok(Chunk::Ignored);
        }
        let held = match self.blob_state(hash)? {
            BlobState::Present { .. } => return Ok(Chunk::Ignored),
            BlobState::Partial { received, size } if size == total => received,
            BlobState::Partial { .. } => {
                // The same hash with another size: start again.
                self.conn.prepare_cached("DELETE FROM blob_chunks WHERE hash = ?1")?.execute([hash])?;
                0
            }
            BlobState::Missing => 0,
        };
        if offset != held || data.is_empty() && total > 0 {
            return Ok(Chunk::Ignored);
        }
        if offset == 0 && data.len() as u64 == total {
            // The whole blob in one piece (most photos): kept at once.
            if blob_hash(data) != hash {
                return Ok(Chunk::Corrupt);
            }
            self.conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO blobs (hash, size, data, local, pushed, added_at) VALUES (?1, ?2, ?3, 0, 1, ?4)",
                )?
                .execute(params![hash, total as i64, data, now_ms()])?;
            return Ok(Chunk::Complete);
        }
        let tx = self.conn.transaction()?;
        tx.prepare_cached("INSERT INTO blob_chunks (hash, offset, total, data) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![hash, offset as i64, total as i64, data])?;
        let received = held + data.len() as u64;
        if received < total {
            tx.commit()?;
            return Ok(Chunk::Partial(received));
        }
        let mut whole = Vec::with_capacity(total as usize);
        {
            let mut stmt = tx.prepare_cached("SELECT data FROM blob_chunks WHERE hash = ?1 ORDER BY offset")?;
            let mut rows = stmt.query([hash])?;
            while let Some(row) = rows.next()? {
                whole.extend_from_slice(row.get_ref(0)?.as_blob().unwrap_or_default());
            }
        }
        tx.prepare_cached("DELETE FROM blob_chunks WHERE hash = ?1")?.execute([hash])?;
        let result = if blob_hash(&whole) == hash {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO blobs (hash, size, data, local, pushed, added_at) VALUES (?1, ?2, ?3, 0, 1, ?4)",
            )?
            .execute(params![hash, whole.len() as i64, whole, now_ms()])?;
            Chunk::Complete
        } else {
            Chunk::Corrupt
        };
        tx.commit()?;
        Ok(result)
    }
}

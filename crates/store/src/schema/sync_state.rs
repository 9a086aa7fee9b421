//! `sync_state`: for each document, the heads the county server is known to
//! hold (from its last acknowledgement or the last copy it sent). A push
//! sends only the changes after them; the repair check fingerprints them.

use super::Step;
use crate::error::StoreError;
use automerge::ChangeHash;
use registry::model::RecordId;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

pub(crate) const V1: Step = Step {
    table: "sync_state",
    sql: "CREATE TABLE sync_state (
        doc_id TEXT PRIMARY KEY,
        server_heads BLOB NOT NULL
    ) WITHOUT ROWID;",
};

/// Heads as stored: their 32-byte hashes, sorted, concatenated.
pub(crate) fn encode(heads: &[ChangeHash]) -> Vec<u8> {
    let mut sorted = heads.to_vec();
    sorted.sort();
    sorted.iter().flat_map(|h| h.0).collect()
}

pub(crate) fn decode(bytes: &[u8]) -> Vec<ChangeHash> {
    bytes.chunks_exact(32).filter_map(|c| ChangeHash::try_from(c).ok()).collect()
}

pub(crate) fn get(conn: &Connection, id: &RecordId) -> Result<Option<Vec<ChangeHash>>, StoreError> {
    let bytes: Option<Vec<u8>> = conn
        .prepare_cached("SELECT server_heads FROM sync_state WHERE doc_id = ?1")?
        .query_row([id.as_str()], |r| r.get(0))
        .optional()?;
    Ok(bytes.map(|b| decode(&b)))
}

/// A document's fingerprint for the repair check: 64 bits of SHA-256 over
/// its id and its sorted heads (`sync::fingerprint` uses this one).
pub fn fingerprint(id: &RecordId, heads: &[ChangeHash]) -> u64 {
    fingerprint_encoded(id, &encode(heads))
}

fn fingerprint_encoded(id: &RecordId, sorted_heads: &[u8]) -> u64 {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(id.as_str().as_bytes());
    h.update(sorted_heads);
    let d = h.finalize();
    u64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

/// How a transaction changed the table's summary (its row count and the XOR
/// of its rows' fingerprints); written once, by [`commit_summary`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Delta {
    count: i64,
    xor: u64,
}

impl Delta {
    fn remove(&mut self, id: &RecordId, old: &[u8]) {
        self.count -= 1;
        self.xor ^= fingerprint_encoded(id, old);
    }
    fn add(&mut self, id: &RecordId, new: &[u8]) {
        self.count += 1;
        self.xor ^= fingerprint_encoded(id, new);
    }
}

fn stored(tx: &Connection, id: &RecordId) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(tx
        .prepare_cached("SELECT server_heads FROM sync_state WHERE doc_id = ?1")?
        .query_row([id.as_str()], |r| r.get(0))
        .optional()?)
}

pub(crate) fn set(
    tx: &Transaction<'_>,
    id: &RecordId,
    heads: &[ChangeHash],
    delta: &mut Delta,
) -> Result<(), StoreError> {
    let new = encode(heads);
    if let Some(old) = stored(tx, id)? {
        if old == new {
            return Ok(());
        }
        delta.remove(id, &old);
    }
    delta.add(id, &new);
    tx.prepare_cached(
        "INSERT INTO sync_state (doc_id, server_heads) VALUES (?1, ?2)
         ON CONFLICT(doc_id) DO UPDATE SET server_heads = excluded.server_heads",
    )?
    .execute(params![id.as_str(), new])?;
    Ok(())
}

pub(crate) fn forget(tx: &Transaction<'_>, id: &RecordId, delta: &mut Delta) -> Result<(), StoreError> {
    if let Some(old) = stored(tx, id)? {
        delta.remove(id, &old);
        tx.prepare_cached("DELETE FROM sync_state WHERE doc_id = ?1")?.execute([id.as_str()])?;
    }
    Ok(())
}

/// The `meta` key of the table's summary: 8 bytes count, 8 bytes XOR. Absent
/// until first asked for (then computed by a scan and kept up to date).
const SUMMARY: &str = "sync_state.summary";

fn decode_summary(b: &[u8]) -> Option<(u64, u64)> {
    let count = u64::from_be_bytes(b.get(..8)?.try_into().ok()?);
    let xor = u64::from_be_bytes(b.get(8..16)?.try_into().ok()?);
    Some((count, xor))
}

fn encode_summary(count: u64, xor: u64) -> Vec<u8> {
    [count.to_be_bytes(), xor.to_be_bytes()].concat()
}

/// Adds a transaction's changes to the kept summary, if one is kept.
pub(crate) fn commit_summary(tx: &Transaction<'_>, delta: Delta) -> Result<(), StoreError> {
    if delta == Delta::default() {
        return Ok(());
    }
    let Some((count, xor)) = super::meta::get(tx, SUMMARY)?.as_deref().and_then(decode_summary) else {
        return Ok(());
    };
    let count = count.wrapping_add_signed(delta.count);
    super::meta::set(tx, SUMMARY, &encode_summary(count, xor ^ delta.xor))
}

/// The summary (count, XOR of fingerprints) of every row: kept in `meta`,
/// computed by one scan the first time.
pub(crate) fn summary(tx: &Transaction<'_>) -> Result<(u64, u64), StoreError> {
    if let Some(s) = super::meta::get(tx, SUMMARY)?.as_deref().and_then(decode_summary) {
        return Ok(s);
    }
    let (mut count, mut xor) = (0u64, 0u64);
    {
        let mut stmt = tx.prepare("SELECT doc_id, server_heads FROM sync_state")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let id = RecordId(r.get(0)?);
            let heads: Vec<u8> = r.get(1)?;
            count += 1;
            xor ^= fingerprint_encoded(&id, &heads);
        }
    }
    super::meta::set(tx, SUMMARY, &encode_summary(count, xor))?;
    Ok((count, xor))
}

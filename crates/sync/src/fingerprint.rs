//! Fingerprints for the repair check. A document's fingerprint is 64 bits of
//! SHA-256 over its id and sorted heads; a set's summary is its size and the
//! XOR of its members' fingerprints, so the device and the server can
//! compare any number of documents in 16 bytes, and narrow a difference
//! down by buckets (an id's first byte).

use crate::wire::{Hash, Summary};
use registry::model::RecordId;

pub fn of(id: &RecordId, heads: &[Hash]) -> u64 {
    // One definition, shared with the store's kept summary.
    let heads: Vec<automerge::ChangeHash> = heads.iter().map(|h| automerge::ChangeHash(*h)).collect();
    store::fingerprint(id, &heads)
}

/// The bucket of an id: its first byte (the first two hex characters).
pub fn bucket(id: &RecordId) -> u8 {
    u8::from_str_radix(id.as_str().get(..2).unwrap_or("00"), 16).unwrap_or(0)
}

/// Adds one document to a summary.
pub fn add(s: &mut Summary, fp: u64) {
    s.count += 1;
    s.xor ^= fp;
}

/// Summaries of all 256 buckets and of the whole set, from (id, fingerprint)
/// pairs given a page at a time.
#[derive(Debug, Clone)]
pub struct Buckets {
    pub total: Summary,
    pub each: Vec<Summary>,
}

impl Default for Buckets {
    fn default() -> Self {
        Buckets { total: Summary::default(), each: vec![Summary::default(); 256] }
    }
}

impl Buckets {
    pub fn add(&mut self, id: &RecordId, fp: u64) {
        add(&mut self.total, fp);
        add(&mut self.each[usize::from(bucket(id))], fp);
    }
}

//! Fingerprints for the repair check. A document's fingerprint is 64 bits of
//! SHA-256 over its id and sorted heads; a set's summary is its size and the
//! XOR of its members' fingerprints, so the device and the server can
//! compare any number of documents in 16 bytes, and narrow a difference
//! down by buckets (an id's first byte).

use crate::wire::{Hash, Summary};
use registry::model::RecordId;
use sha2::{Digest, Sha256};

pub fn of(id: &RecordId, heads: &[Hash]) -> u64 {
    let mut sorted = heads.to_vec();
    sorted.sort_unstable();
    let mut h = Sha256::new();
    h.update(id.as_str().as_bytes());
    for head in &sorted {
        h.update(head);
    }
    let d = h.finalize();
    u64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
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

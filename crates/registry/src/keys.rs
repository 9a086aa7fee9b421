//! Record ids.
//!
//! A member or legal entity registered offline on two tablets must become one
//! record when the tablets sync. So their ids are derived from the natural key
//! (resident ID, credit code) with HMAC-SHA256 under a secret the whole county
//! shares: two devices compute the same id, their documents merge, and the id
//! reveals nothing about the ID number to anyone without the secret (a plain
//! hash of an 18-digit ID with a known structure could be reversed by brute
//! force in minutes). Records with no natural key get random ids.

use crate::model::RecordId;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The county's shared secret for deriving ids and search keys.
#[derive(Clone)]
pub struct CountySecret([u8; 32]);

impl std::fmt::Debug for CountySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CountySecret(..)")
    }
}

impl CountySecret {
    pub fn from_bytes(bytes: [u8; 32]) -> CountySecret {
        CountySecret(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    fn mac(&self, domain: &str, value: &str) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(domain.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The id of the record whose natural key is `natural_key`
    /// (see [`crate::model::Record::natural_key`]).
    pub fn record_id(&self, natural_key: &str) -> RecordId {
        id_from_bytes(&self.mac("sanjian/record-id/v1", natural_key)[..16])
    }

    /// A keyed search token for an exact-match lookup of a sensitive value
    /// (a resident ID or phone), so indexes never hold the value itself.
    pub fn search_token(&self, kind: &str, value: &str) -> [u8; 16] {
        let full = self.mac(&format!("sanjian/search/{kind}/v1"), value);
        let mut out = [0; 16];
        out.copy_from_slice(&full[..16]);
        out
    }
}

/// A record id from 16 bytes (random for records without a natural key).
pub fn id_from_bytes(bytes: &[u8]) -> RecordId {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    RecordId(s)
}

impl CountySecret {
    /// The path segment of a union's application poster (由本人申请): its
    /// id, `-`, and 12 hex digits of a keyed tag, so only holders of the
    /// county's secret (the server, and every enrolled device, offline)
    /// print a poster that the county's form accepts.
    pub fn poster(&self, union: &RecordId) -> String {
        let tag = id_from_bytes(&self.search_token("apply-poster", union.as_str())[..6]);
        format!("{}-{}", union.as_str(), tag.as_str())
    }

    /// The union a poster segment names, if its tag is the county's.
    pub fn poster_union(&self, segment: &str) -> Option<RecordId> {
        let (id, _) = segment.split_once('-')?;
        let union = RecordId::from(id);
        (is_record_id(id) && self.poster(&union) == segment).then_some(union)
    }
}

/// Is this a well-formed record id (32 lowercase hex characters)?
pub fn is_record_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

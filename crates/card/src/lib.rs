//! Signed QR membership cards (`docs/card-format.md`).
//!
//! A card is the text `UC1:` + Base45 of an (untagged) COSE_Sign1: EdDSA
//! over Ed25519, the protected header `{alg: EdDSA, kid}` where `kid` is the
//! first 8 bytes of SHA-256 of the signer's public key, external AAD `UC1`,
//! and a CBOR claims map. Field devices issue cards offline with their own
//! key; the county root key signs the [`lists::TrustList`] of device keys
//! and the [`lists::RevocationList`] of card serials; anyone holding the
//! root public key and the lists verifies a card offline.
//!
//! Decoding is strict: the text must be exactly what this crate would
//! encode for the same bytes, and the bytes exactly what it would sign, so
//! no bit of a card can change without the card being refused.

pub mod base45;
mod cbor;
pub mod error;
pub mod lists;
#[cfg(feature = "render")]
pub mod render;

pub use ed25519_dalek::{SigningKey, VerifyingKey};
pub use error::CardError;

use cbor::{Map, Value};
use coset::{CborSerializable, CoseSign1, CoseSign1Builder, HeaderBuilder, iana};
use ed25519_dalek::Signer;
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

/// The text prefix (QR alphanumeric mode: upper case only).
pub const PREFIX: &str = "UC1:";
/// External additional data of a card's signature.
pub const AAD: &[u8] = b"UC1";
/// The longest name a card carries, in characters.
pub const MAX_NAME_CHARS: usize = 32;

/// A key id: the first 8 bytes of SHA-256 of an Ed25519 public key.
pub type Kid = [u8; 8];

pub fn kid_of(key: &VerifyingKey) -> Kid {
    let d = Sha256::digest(key.as_bytes());
    d[..8].try_into().expect("8 bytes")
}

/// A day: days since 1970-01-01 (China Standard Time for "today").
pub type Day = u32;

/// Today's day number at `unix_seconds`, in China Standard Time (UTC+8).
pub fn day_of(unix_seconds: i64) -> Day {
    (unix_seconds + 8 * 3600).div_euclid(86_400).clamp(0, i64::from(u32::MAX)) as Day
}

/// What a card says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The member's record id (16 bytes).
    pub member: [u8; 16],
    /// The day the card was issued.
    pub issued: Day,
    /// The last day the card is valid.
    pub expires: Day,
    /// A random serial, what revocation lists name.
    pub serial: [u8; 8],
    /// The member's name, NFC-normalised.
    pub name: Option<String>,
    /// The member's union's record id.
    pub union: Option<[u8; 16]>,
}

// Claim keys.
const MEMBER: u64 = 1;
const ISSUED: u64 = 2;
const EXPIRES: u64 = 3;
const SERIAL: u64 = 4;
const NAME: u64 = 5;
const UNION: u64 = 6;

impl Claims {
    /// Checks what an issuer may put on a card; returns the claims with the
    /// name normalised.
    pub fn checked(mut self) -> Result<Claims, CardError> {
        if self.expires < self.issued {
            return Err(CardError::Claims("expiry before issue"));
        }
        if let Some(name) = &self.name {
            let nfc: String = name.trim().nfc().collect();
            let n = nfc.chars().count();
            if n == 0 || n > MAX_NAME_CHARS || nfc.chars().any(char::is_control) {
                return Err(CardError::Claims("the name is empty, too long or has control characters"));
            }
            self.name = Some(nfc);
        }
        Ok(self)
    }

    fn to_cbor(&self) -> Vec<u8> {
        let mut m: Map = vec![
            (MEMBER, Value::Bytes(self.member.to_vec())),
            (ISSUED, Value::Uint(u64::from(self.issued))),
            (EXPIRES, Value::Uint(u64::from(self.expires))),
            (SERIAL, Value::Bytes(self.serial.to_vec())),
        ];
        if let Some(name) = &self.name {
            m.push((NAME, Value::Text(name.clone())));
        }
        if let Some(union) = &self.union {
            m.push((UNION, Value::Bytes(union.to_vec())));
        }
        cbor::encode_map(&m)
    }

    fn from_cbor(bytes: &[u8]) -> Result<Claims, CardError> {
        let bad = CardError::Malformed("claims");
        let m = cbor::decode_map(bytes, &[MEMBER, ISSUED, EXPIRES, SERIAL, NAME, UNION]).ok_or(bad.clone())?;
        let get = |k: u64| m.iter().find(|(key, _)| *key == k).map(|(_, v)| v);
        let bytes_n = |k: u64, n: usize| -> Option<Vec<u8>> {
            match get(k)? {
                Value::Bytes(b) if b.len() == n => Some(b.clone()),
                _ => None,
            }
        };
        let day = |k: u64| -> Option<Day> {
            match get(k)? {
                Value::Uint(d) => Day::try_from(*d).ok(),
                _ => None,
            }
        };
        let claims = Claims {
            member: bytes_n(MEMBER, 16).ok_or(bad.clone())?.try_into().expect("16"),
            issued: day(ISSUED).ok_or(bad.clone())?,
            expires: day(EXPIRES).ok_or(bad.clone())?,
            serial: bytes_n(SERIAL, 8).ok_or(bad.clone())?.try_into().expect("8"),
            name: match get(NAME) {
                None => None,
                Some(Value::Text(t)) => Some(t.clone()),
                Some(_) => return Err(bad),
            },
            union: match get(UNION) {
                None => None,
                Some(_) => Some(bytes_n(UNION, 16).ok_or(bad.clone())?.try_into().expect("16")),
            },
        };
        // What an issuer could not have signed is not a card.
        let normalised = claims.clone().checked().map_err(|_| CardError::Malformed("claims"))?;
        if normalised != claims {
            return Err(CardError::Malformed("claims"));
        }
        Ok(claims)
    }
}

/// The protected header's bytes for a key id: `{1: -8, 4: h'<kid>'}`.
fn protected_bytes(kid: &Kid) -> Vec<u8> {
    let mut b = vec![0xa2, 0x01, 0x27, 0x04, 0x48];
    b.extend_from_slice(kid);
    b
}

/// Signs a COSE_Sign1 with an Ed25519 key; its bytes.
pub(crate) fn sign1(payload: Vec<u8>, aad: &[u8], key: &SigningKey) -> Vec<u8> {
    let kid = kid_of(&key.verifying_key());
    let protected = HeaderBuilder::new().algorithm(iana::Algorithm::EdDSA).key_id(kid.to_vec()).build();
    CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .create_signature(aad, |data| key.sign(data).to_bytes().to_vec())
        .build()
        .to_vec()
        .expect("a COSE_Sign1 serialises")
}

/// A COSE_Sign1 read strictly: the key id, the payload, and the message to
/// check the signature of.
pub(crate) struct Opened {
    pub kid: Kid,
    pub payload: Vec<u8>,
    sign1: CoseSign1,
}

impl Opened {
    pub fn parse(bytes: &[u8]) -> Result<Opened, CardError> {
        let sign1 = CoseSign1::from_slice(bytes).map_err(|_| CardError::Malformed("COSE_Sign1"))?;
        let header = &sign1.protected.header;
        if header.alg != Some(coset::RegisteredLabelWithPrivate::Assigned(iana::Algorithm::EdDSA)) {
            return Err(CardError::Algorithm);
        }
        let kid: Kid = header.key_id.as_slice().try_into().map_err(|_| CardError::Malformed("key id"))?;
        // Exactly the bytes an issuer makes: the canonical protected header,
        // nothing unprotected, a 64-byte signature, nothing after.
        let original = sign1.protected.original_data.as_deref().unwrap_or_default();
        if original != protected_bytes(&kid).as_slice() || !sign1.unprotected.is_empty() || sign1.signature.len() != 64
        {
            return Err(CardError::Malformed("COSE header"));
        }
        let again = sign1.clone().to_vec().map_err(|_| CardError::Malformed("COSE_Sign1"))?;
        if again != bytes {
            return Err(CardError::Malformed("non-canonical or trailing bytes"));
        }
        let payload = sign1.payload.clone().ok_or(CardError::Malformed("no payload"))?;
        Ok(Opened { kid, payload, sign1 })
    }

    /// Checks the signature with `key`, whose kid must be the header's.
    pub fn verify(&self, aad: &[u8], key: &VerifyingKey) -> Result<(), CardError> {
        if kid_of(key) != self.kid {
            return Err(CardError::Forged);
        }
        self.sign1.verify_signature(aad, |sig, data| {
            let sig = ed25519_dalek::Signature::from_slice(sig).map_err(|_| CardError::Forged)?;
            key.verify_strict(data, &sig).map_err(|_| CardError::Forged)
        })
    }
}

/// Issues a card: the claims signed with the device's card key, as text.
pub fn issue(claims: Claims, key: &SigningKey) -> Result<String, CardError> {
    let claims = claims.checked()?;
    let bytes = sign1(claims.to_cbor(), AAD, key);
    Ok(format!("{PREFIX}{}", base45::encode(&bytes)))
}

/// A card read (strictly) but not yet trusted.
pub struct Card {
    pub kid: Kid,
    pub claims: Claims,
    opened: Opened,
}

impl std::fmt::Debug for Card {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Card").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl Card {
    /// Reads a card's text. Refuses a wrong or lower-case prefix, invalid
    /// Base45, anything but the exact bytes an issuer makes, and any
    /// algorithm but EdDSA.
    pub fn decode(text: &str) -> Result<Card, CardError> {
        let body = text.strip_prefix(PREFIX).ok_or(CardError::Prefix)?;
        let bytes = base45::decode(body).ok_or(CardError::Encoding)?;
        let opened = Opened::parse(&bytes)?;
        let claims = Claims::from_cbor(&opened.payload)?;
        Ok(Card { kid: opened.kid, claims, opened })
    }

    /// Checks the signature against one public key.
    pub fn verify_signature(&self, key: &VerifyingKey) -> Result<(), CardError> {
        self.opened.verify(AAD, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_protected_header_is_what_coset_writes() {
        let key = SigningKey::from_bytes(&[1; 32]);
        let bytes = sign1(vec![1, 2, 3], AAD, &key);
        let parsed = CoseSign1::from_slice(&bytes).unwrap();
        assert_eq!(parsed.protected.original_data.unwrap(), protected_bytes(&kid_of(&key.verifying_key())));
    }

    #[test]
    fn days_are_counted_in_china_standard_time() {
        // 2026-11-24T16:00:00Z is midnight of the 25th in Beijing.
        let midnight = 1_795_536_000;
        assert_eq!(day_of(midnight) - day_of(midnight - 1), 1);
        assert_eq!(day_of(0), 0);
    }
}

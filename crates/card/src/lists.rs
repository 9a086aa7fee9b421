//! The county's signed lists, and the verifier that holds them.
//!
//! - [`TrustList`]: the device keys that may issue cards (each with its
//!   validity, and the day it was removed, if it was);
//! - [`RevocationList`]: the serials of revoked cards.
//!
//! Each is a COSE_Sign1 by the county root key with its own external AAD
//! (`UC1-TRUST`, `UC1-REVOKED`, so one cannot pass for the other) and a
//! sequence number: a verifier never replaces a list with an older one.

use crate::cbor::{self, Map, Value};
use crate::{AAD, Card, CardError, Claims, Day, Kid, Opened, SigningKey, VerifyingKey, kid_of, sign1};
use std::collections::BTreeSet;

const TRUST_AAD: &[u8] = b"UC1-TRUST";
const REVOKED_AAD: &[u8] = b"UC1-REVOKED";

// Keys of both lists.
const SEQ: u64 = 1;
const ISSUED: u64 = 2;
const ITEMS: u64 = 3;
// Keys of a trust entry.
const KEY: u64 = 1;
const DEVICE: u64 = 2;
const FROM: u64 = 3;
const UNTIL: u64 = 4;
const REMOVED: u64 = 5;
const ALL: u64 = 6;
const AREAS: u64 = 7;

/// A device key that may issue cards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustEntry {
    pub key: [u8; 32],
    /// The device's id on the county server.
    pub device: String,
    /// First and last day it may issue cards.
    pub from: Day,
    pub until: Day,
    /// The day the county removed it (a lost or revoked device): no card
    /// it signed is valid any more, whatever its date says.
    pub removed: Option<Day>,
    /// The device's scope: the whole county, or these townships and grids
    /// (record ids), for whoever checks who issued a card.
    pub all: bool,
    pub areas: Vec<[u8; 16]>,
}

impl TrustEntry {
    pub fn kid(&self) -> Kid {
        VerifyingKey::from_bytes(&self.key).map(|k| kid_of(&k)).unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrustList {
    pub seq: u64,
    pub issued: Day,
    pub entries: Vec<TrustEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RevocationList {
    pub seq: u64,
    pub issued: Day,
    pub serials: BTreeSet<[u8; 8]>,
}

fn uint(m: &Map, k: u64) -> Option<u64> {
    match cbor::get(m, k)? {
        Value::Uint(n) => Some(*n),
        _ => None,
    }
}

fn day(m: &Map, k: u64) -> Option<Day> {
    Day::try_from(uint(m, k)?).ok()
}

fn items(m: &Map) -> Option<&[Value]> {
    match cbor::get(m, ITEMS)? {
        Value::Array(a) => Some(a),
        _ => None,
    }
}

impl TrustList {
    /// Signs the list with the county root key.
    pub fn sign(&self, root: &SigningKey) -> Vec<u8> {
        let entries = self
            .entries
            .iter()
            .map(|e| {
                let mut m: Map = vec![
                    (KEY, Value::Bytes(e.key.to_vec())),
                    (DEVICE, Value::Text(e.device.clone())),
                    (FROM, Value::Uint(u64::from(e.from))),
                    (UNTIL, Value::Uint(u64::from(e.until))),
                ];
                if let Some(r) = e.removed {
                    m.push((REMOVED, Value::Uint(u64::from(r))));
                }
                if e.all {
                    m.push((ALL, Value::Uint(1)));
                }
                if !e.areas.is_empty() {
                    m.push((AREAS, Value::Array(e.areas.iter().map(|a| Value::Bytes(a.to_vec())).collect())));
                }
                Value::Map(m)
            })
            .collect();
        let m: Map = vec![
            (SEQ, Value::Uint(self.seq)),
            (ISSUED, Value::Uint(u64::from(self.issued))),
            (ITEMS, Value::Array(entries)),
        ];
        sign1(cbor::encode_map(&m), TRUST_AAD, root)
    }

    /// Reads a signed list, checking the root's signature.
    pub fn open(bytes: &[u8], root: &VerifyingKey) -> Result<TrustList, CardError> {
        let opened = Opened::parse(bytes).map_err(|_| CardError::ListInvalid)?;
        opened.verify(TRUST_AAD, root).map_err(|_| CardError::ListInvalid)?;
        let m = cbor::decode_map(&opened.payload, &[SEQ, ISSUED, ITEMS]).ok_or(CardError::ListInvalid)?;
        let mut entries = Vec::new();
        for item in items(&m).ok_or(CardError::ListInvalid)? {
            let Value::Map(e) = item else { return Err(CardError::ListInvalid) };
            if !e.iter().all(|(k, _)| (KEY..=AREAS).contains(k)) {
                return Err(CardError::ListInvalid);
            }
            let entry = (|| {
                Some(TrustEntry {
                    key: match cbor::get(e, KEY)? {
                        Value::Bytes(b) => b.as_slice().try_into().ok()?,
                        _ => return None,
                    },
                    device: match cbor::get(e, DEVICE)? {
                        Value::Text(t) => t.clone(),
                        _ => return None,
                    },
                    from: day(e, FROM)?,
                    until: day(e, UNTIL)?,
                    removed: match cbor::get(e, REMOVED) {
                        None => None,
                        Some(_) => Some(day(e, REMOVED)?),
                    },
                    all: match cbor::get(e, ALL) {
                        None => false,
                        Some(Value::Uint(1)) => true,
                        Some(_) => return None,
                    },
                    areas: match cbor::get(e, AREAS) {
                        None => Vec::new(),
                        Some(Value::Array(a)) if !a.is_empty() => a
                            .iter()
                            .map(|v| match v {
                                Value::Bytes(b) => b.as_slice().try_into().ok(),
                                _ => None,
                            })
                            .collect::<Option<_>>()?,
                        Some(_) => return None,
                    },
                })
            })()
            .ok_or(CardError::ListInvalid)?;
            entries.push(entry);
        }
        Ok(TrustList {
            seq: uint(&m, SEQ).ok_or(CardError::ListInvalid)?,
            issued: day(&m, ISSUED).ok_or(CardError::ListInvalid)?,
            entries,
        })
    }

    pub fn find(&self, kid: &Kid) -> Option<&TrustEntry> {
        self.entries.iter().find(|e| e.kid() == *kid)
    }
}

impl RevocationList {
    pub fn sign(&self, root: &SigningKey) -> Vec<u8> {
        let m: Map = vec![
            (SEQ, Value::Uint(self.seq)),
            (ISSUED, Value::Uint(u64::from(self.issued))),
            (ITEMS, Value::Array(self.serials.iter().map(|s| Value::Bytes(s.to_vec())).collect())),
        ];
        sign1(cbor::encode_map(&m), REVOKED_AAD, root)
    }

    pub fn open(bytes: &[u8], root: &VerifyingKey) -> Result<RevocationList, CardError> {
        let opened = Opened::parse(bytes).map_err(|_| CardError::ListInvalid)?;
        opened.verify(REVOKED_AAD, root).map_err(|_| CardError::ListInvalid)?;
        let m = cbor::decode_map(&opened.payload, &[SEQ, ISSUED, ITEMS]).ok_or(CardError::ListInvalid)?;
        let mut serials = BTreeSet::new();
        let mut last: Option<[u8; 8]> = None;
        for item in items(&m).ok_or(CardError::ListInvalid)? {
            let serial: [u8; 8] = match item {
                Value::Bytes(b) => b.as_slice().try_into().map_err(|_| CardError::ListInvalid)?,
                _ => return Err(CardError::ListInvalid),
            };
            // Sorted and unique, as signed.
            if last.is_some_and(|l| l >= serial) {
                return Err(CardError::ListInvalid);
            }
            last = Some(serial);
            serials.insert(serial);
        }
        Ok(RevocationList {
            seq: uint(&m, SEQ).ok_or(CardError::ListInvalid)?,
            issued: day(&m, ISSUED).ok_or(CardError::ListInvalid)?,
            serials,
        })
    }
}

/// A card that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub claims: Claims,
    /// The device that issued it.
    pub device: String,
    /// The revocation list the answer rests on: its sequence number and
    /// the day it was issued (how old the verifier's knowledge is).
    pub revocations_seq: u64,
    pub revocations_issued: Day,
}

/// Verifies cards offline with the county's root public key and the
/// newest lists it has been given.
#[derive(Debug, Clone)]
pub struct Verifier {
    root: VerifyingKey,
    trust: TrustList,
    revocations: RevocationList,
}

impl Verifier {
    pub fn new(root: VerifyingKey) -> Verifier {
        Verifier { root, trust: TrustList::default(), revocations: RevocationList::default() }
    }

    pub fn trust(&self) -> &TrustList {
        &self.trust
    }

    pub fn revocations(&self) -> &RevocationList {
        &self.revocations
    }

    /// Takes a newer trust list; an older one (lower sequence) is refused.
    pub fn accept_trust(&mut self, bytes: &[u8]) -> Result<(), CardError> {
        let list = TrustList::open(bytes, &self.root)?;
        if list.seq < self.trust.seq || (list.seq == self.trust.seq && list != self.trust && list.seq > 0) {
            return Err(CardError::ListRolledBack);
        }
        self.trust = list;
        Ok(())
    }

    /// Takes a newer revocation list; an older one is refused.
    pub fn accept_revocations(&mut self, bytes: &[u8]) -> Result<(), CardError> {
        let list = RevocationList::open(bytes, &self.root)?;
        if list.seq < self.revocations.seq
            || (list.seq == self.revocations.seq && list != self.revocations && list.seq > 0)
        {
            return Err(CardError::ListRolledBack);
        }
        self.revocations = list;
        Ok(())
    }

    /// Verifies a card's text on `today`.
    pub fn verify(&self, text: &str, today: Day) -> Result<Verified, CardError> {
        let card = Card::decode(text)?;
        self.verify_card(&card, today)
    }

    pub fn verify_card(&self, card: &Card, today: Day) -> Result<Verified, CardError> {
        let entry = self.trust.find(&card.kid).ok_or(CardError::UnknownIssuer)?;
        let key = VerifyingKey::from_bytes(&entry.key).map_err(|_| CardError::UnknownIssuer)?;
        card.opened.verify(AAD, &key)?;
        if entry.removed.is_some() {
            return Err(CardError::IssuerRemoved);
        }
        let c = &card.claims;
        if c.issued < entry.from || c.issued > entry.until {
            return Err(CardError::IssuerNotValid);
        }
        if today < c.issued {
            return Err(CardError::NotYetValid);
        }
        if today > c.expires {
            return Err(CardError::Expired);
        }
        if self.revocations.serials.contains(&c.serial) {
            return Err(CardError::Revoked);
        }
        Ok(Verified {
            claims: c.clone(),
            device: entry.device.clone(),
            revocations_seq: self.revocations.seq,
            revocations_issued: self.revocations.issued,
        })
    }
}

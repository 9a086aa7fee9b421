//! The county's side of membership cards: the root key signs the trust list
//! (every enrolled device's card key, with its validity and the day the
//! device was revoked) and the revocation list of card serials.
//!
//! Each list is a pure function of the database: its sequence number only
//! grows (devices and revocations are never deleted, so a count of them is
//! the sequence) and its day is the day of its last change, so signing it
//! again gives the same list and verifiers never see a "new" list with an
//! old sequence.

use crate::auth::{hex, unhex};
use card::lists::{RevocationList, TrustEntry, TrustList};
use card::{Day, SigningKey, VerifyingKey};
use sync::SyncError;
use sync::server::{Sql, Val};

/// How long a device's card key may issue cards, from its enrolment.
pub const DEVICE_KEY_DAYS: Day = 5 * 365;

pub fn schema() -> String {
    "CREATE TABLE card_revocations (
        serial TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        created_at BIGINT NOT NULL
    );"
    .into()
}

fn day_of_ms(ms: i64) -> Day {
    card::day_of(ms.div_euclid(1000))
}

/// The trust list as the database says it is now.
pub fn trust_list(db: &mut dyn Sql) -> Result<TrustList, SyncError> {
    let rows = db.query(
        "SELECT id, public_key, created_at, revoked_at, scope_all, townships, grids FROM devices ORDER BY created_at, id",
        &[],
    )?;
    let mut list = TrustList::default();
    for r in rows {
        let revoked = !matches!(r[3], Val::Null);
        list.seq += 1 + u64::from(revoked);
        let created = day_of_ms(r[2].int());
        let removed = revoked.then(|| day_of_ms(r[3].int()));
        list.issued = list.issued.max(created).max(removed.unwrap_or(0));
        let key: [u8; 32] = match &r[1] {
            Val::Blob(b) => match b.as_slice().try_into() {
                Ok(k) => k,
                Err(_) => continue,
            },
            _ => continue,
        };
        // A key that is not a usable Ed25519 public key issues nothing.
        if VerifyingKey::from_bytes(&key).map_or(true, |k| k.is_weak()) {
            continue;
        }
        list.entries.push(TrustEntry {
            key,
            device: r[0].text().unwrap_or_default().to_owned(),
            from: created,
            until: created + DEVICE_KEY_DAYS,
            removed,
            all: r[4].int() != 0,
            areas: [&r[5], &r[6]]
                .iter()
                .flat_map(|v| v.text().unwrap_or_default().split(','))
                .filter_map(|id| unhex(id).and_then(|b| <[u8; 16]>::try_from(b).ok()))
                .collect(),
        });
    }
    Ok(list)
}

/// The revocation list as the database says it is now.
pub fn revocation_list(db: &mut dyn Sql) -> Result<RevocationList, SyncError> {
    let rows = db.query("SELECT serial, created_at FROM card_revocations", &[])?;
    let mut list = RevocationList::default();
    for r in rows {
        let Some(serial) = r[0].text().and_then(unhex).and_then(|b| <[u8; 8]>::try_from(b).ok()) else { continue };
        list.seq += 1;
        list.issued = list.issued.max(day_of_ms(r[1].int()));
        list.serials.insert(serial);
    }
    Ok(list)
}

/// The serials of the revoked cards, as the figures ask for them
/// (`sync::facts::Revoked`; lower-case hex like `registry::rules::card_serial`).
pub fn revoked_serials(db: &mut dyn Sql) -> Result<sync::facts::Revoked, SyncError> {
    Ok(db
        .query("SELECT serial FROM card_revocations", &[])?
        .into_iter()
        .filter_map(|r| r[0].text().map(str::to_ascii_lowercase))
        .collect())
}

/// Revokes a card by serial; false when it was revoked already.
pub fn revoke_card(db: &mut dyn Sql, serial: &[u8; 8], reason: &str) -> Result<bool, SyncError> {
    let serial = hex(serial);
    if !db.query("SELECT 1 FROM card_revocations WHERE serial = $1", &[serial.as_str().into()])?.is_empty() {
        return Ok(false);
    }
    db.execute(
        "INSERT INTO card_revocations (serial, reason, created_at) VALUES ($1, $2, $3)",
        &[serial.as_str().into(), reason.into(), crate::db::now_ms().into()],
    )?;
    Ok(true)
}

/// The county root key from its 32-byte seed.
pub fn root_key(seed: &[u8; 32]) -> SigningKey {
    SigningKey::from_bytes(seed)
}

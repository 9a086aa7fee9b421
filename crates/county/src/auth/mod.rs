//! Accounts, sessions, device enrolment and device tokens.
//!
//! - Staff accounts have a role and an argon2 password hash.
//! - An admin creates an *enrolment* for a person and a scope; its one-time
//!   code (shown as text and QR) is redeemed by the device, which sends its
//!   Automerge actor id and public key and gets its own token. Only hashes
//!   of codes and tokens are stored.
//! - A revoked device is refused at its next request.

use crate::db::now_ms;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use rand::RngCore;
use registry::model::RecordId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sync::Scope;
use sync::SyncError;
use sync::server::{Device, Dialect, Sql, Val};

mod devices;
mod enrolments;
mod guesses;
mod refusals;
mod sessions;
mod settings;
mod users;

pub use devices::*;
pub use enrolments::*;
pub use guesses::*;
pub use refusals::*;
pub use sessions::*;
pub use settings::*;
pub use users::*;

/// The first migration (`auth-v1`): the five tables, each defined by its
/// module.
pub fn schema(d: Dialect) -> String {
    let blob = match d {
        Dialect::Sqlite => "BLOB",
        Dialect::Postgres => "BYTEA",
    };
    [
        users::create(blob),
        sessions::create(blob),
        enrolments::create(blob),
        devices::create(blob),
        settings::create(blob),
    ]
    .join("\n")
}

pub fn random_token(prefix: &str) -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    format!("{prefix}{}", hex(&b))
}

fn digest(s: &str) -> Vec<u8> {
    Sha256::digest(s.as_bytes()).to_vec()
}

fn join(ids: &[RecordId]) -> String {
    ids.iter().map(|i| i.as_str()).collect::<Vec<_>>().join(",")
}

fn split(s: &str) -> Vec<RecordId> {
    s.split(',').filter(|x| !x.is_empty()).map(RecordId::from).collect()
}

pub use sync::enrol::{hex, unhex};

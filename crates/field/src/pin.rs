//! The PIN that unlocks a device's store.
//!
//! The store's 32-byte key is derived from the PIN with Argon2id and a random
//! salt; neither the PIN nor the key is written anywhere. `lock.json` beside
//! the store holds the salt, the Argon2 parameters and the count of wrong
//! PINs in a row (no personal data). The count is written *before* each try,
//! so killing the app mid-try does not reset it. After
//! [`FREE_TRIES`] wrong PINs each further try waits, doubling from 30 s up to
//! an hour. A forgotten PIN cannot be recovered: the store is reset and the
//! device enrolled again (what it had synced is safe on the server).

use crate::api::{ApiError, Result};
use crate::codes;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use store::StoreKey;

pub const MIN_DIGITS: usize = 6;
pub const MAX_DIGITS: usize = 12;
/// Wrong PINs allowed in a row before tries are spaced out.
pub const FREE_TRIES: u32 = 5;
/// Wrong PINs in a row after which the store is wiped (with the waits, at
/// least a quarter of an hour of guessing): the data on a lost tablet is
/// gone rather than guessed at, and the device is enrolled again (what it
/// had synced is safe on the server).
pub const WIPE_AFTER: u32 = 10;
const FIRST_WAIT_MS: u64 = 30_000;
const MAX_WAIT_MS: u64 = 3_600_000;

/// Argon2id cost of a new lock file, chosen with `cargo bench -p field
/// --bench pin` (BENCHMARKS.md): 64 MiB and three passes take 0.19 s on
/// the development machine's core, so roughly half a second to a second on
/// a field tablet's slower cores; the memory keeps a guesser's parallelism
/// down. A lock file keeps the cost it was made with.
pub const M_KIB: u32 = 64 * 1024;
pub const T_COST: u32 = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockFile {
    pub version: u32,
    /// Hex.
    pub salt: String,
    pub m_kib: u32,
    pub t_cost: u32,
    /// Wrong PINs in a row.
    pub failures: u32,
    /// Unix ms of the last wrong PIN.
    pub last_failure_ms: u64,
    /// How the locked app asks its county server whether to wipe itself
    /// (a lost tablet); `None` for a standalone store or an older enrolment.
    #[serde(default)]
    pub wipe: Option<WipeCheck>,
}

/// The server and the wipe-check token (it opens nothing: it only asks
/// "must I wipe?"), kept outside the encrypted store so the lock screen can
/// ask without the PIN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WipeCheck {
    pub base: String,
    /// The pinned certificate's SHA-256 (hex), for a self-signed server.
    #[serde(default)]
    pub pin: Option<String>,
    pub token: String,
}

impl LockFile {
    pub fn path(dir: &Path) -> PathBuf {
        dir.join("lock.json")
    }

    pub fn read(dir: &Path) -> Result<Option<LockFile>> {
        match std::fs::read(LockFile::path(dir)) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|_| ApiError::from(codes::LOCK_FILE_DAMAGED)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes atomically (temp file, then rename).
    pub fn write(&self, dir: &Path) -> Result<()> {
        let tmp = dir.join("lock.json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self).expect("plain struct"))?;
        std::fs::rename(&tmp, LockFile::path(dir))?;
        Ok(())
    }

    /// A fresh lock file with a random salt.
    pub fn new() -> LockFile {
        let mut salt = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt);
        LockFile {
            version: 1,
            salt: sync::enrol::hex(&salt),
            m_kib: M_KIB,
            t_cost: T_COST,
            failures: 0,
            last_failure_ms: 0,
            wipe: None,
        }
    }

    /// How long the next try must wait, at `now_ms`.
    pub fn wait_ms(&self, now_ms: u64) -> u64 {
        if self.failures < FREE_TRIES {
            return 0;
        }
        let wait = FIRST_WAIT_MS.saturating_mul(1u64 << (self.failures - FREE_TRIES).min(20)).min(MAX_WAIT_MS);
        (self.last_failure_ms + wait).saturating_sub(now_ms)
    }

    /// The store key for `pin`.
    pub fn derive(&self, pin: &str) -> Result<StoreKey> {
        let salt = sync::enrol::unhex(&self.salt).ok_or_else(|| ApiError::from(codes::LOCK_FILE_DAMAGED))?;
        let params = argon2::Params::new(self.m_kib, self.t_cost, 1, Some(32))
            .map_err(|_| ApiError::from(codes::LOCK_FILE_DAMAGED))?;
        let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut key = [0u8; 32];
        argon.hash_password_into(pin.as_bytes(), &salt, &mut key).map_err(|_| ApiError::from(codes::PIN_KDF_FAILED))?;
        Ok(StoreKey::from_bytes(key))
    }
}

impl Default for LockFile {
    fn default() -> LockFile {
        LockFile::new()
    }
}

/// Checks a new PIN: 6–12 digits, not all one digit, not a plain run.
pub fn check_new(pin: &str) -> Result<()> {
    if !pin.chars().all(|c| c.is_ascii_digit()) {
        return Err(ApiError::from(codes::PIN_NOT_DIGITS));
    }
    if pin.len() < MIN_DIGITS || pin.len() > MAX_DIGITS {
        return Err(ApiError::new(
            codes::PIN_LENGTH.code,
            format!("PIN码须为{MIN_DIGITS}至{MAX_DIGITS}位数字"),
            format!("The PIN must be {MIN_DIGITS} to {MAX_DIGITS} digits"),
        ));
    }
    let b = pin.as_bytes();
    let same = b.iter().all(|&c| c == b[0]);
    let up = b.windows(2).all(|w| w[1] == w[0] + 1);
    let down = b.windows(2).all(|w| w[0] == w[1] + 1);
    if same || up || down {
        return Err(ApiError::from(codes::PIN_TOO_SIMPLE));
    }
    Ok(())
}

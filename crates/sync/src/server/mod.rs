//! The county server's side of sync, written once against [`Sql`] so that
//! the SQLite and PostgreSQL backends share every query and every rule.
//!
//! Each entry point runs inside one transaction the caller opens and commits
//! (an error rolls it back): a push is applied whole or not at all.
//!
//! Tables (see [`schema`]):
//! - `docs`: each record's Automerge document, sealed (encrypted with the
//!   server's data key, the id as associated data), with its kind, region,
//!   heads, fingerprint and `seq`, the write counter the feed's cursor uses;
//! - `departures`: a record's old region when it moves, so devices that saw
//!   it there learn that it left;
//! - `quarantine`: pushed changes the server would not apply, sealed, with
//!   the device, the reason and a digest that makes a replay a no-op;
//! - `counters`: the `seq` counter. Taking it locks its row until commit, so
//!   on PostgreSQL writes commit in `seq` order and no cursor can pass a
//!   write that is still to commit.
//!
//! Its modules, one job each: [`sql`](self) (the query interface both
//! backends implement), `seal` (encryption at rest), `docs` (document
//! storage and the reads over it), `summaries` (per-region fingerprints),
//! `protocol` (push, pull, repair, fetch), `reveals` (the budget of
//! out-of-scope lookups) and `quarantine`. The county's decisions on stored
//! records (settle, merge, edit, return, resolve a quarantined write) are
//! the county layer's (`county::decisions`), written with these.

use crate::codes;
use crate::error::SyncError;
use crate::fingerprint::{self, Buckets};
use crate::scope::Scope;
use crate::wire::*;
use automerge::{AutoCommit, ChangeHash, ReadDoc};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use registry::model::{RecordId, RecordKind, Region};
use registry::{Date, message::blocks_saving, validate};
use sha2::{Digest, Sha256};
use std::collections::HashSet;

mod docs;
mod protocol;
mod quarantine;
mod reveals;
mod seal;
mod sql;
mod summaries;

pub use docs::*;
pub use protocol::*;
pub use quarantine::*;
pub use reveals::*;
pub use seal::*;
pub use sql::*;
pub use summaries::*;

/// An authenticated device, as the server's auth layer found it.
#[derive(Debug, Clone)]
pub struct Device {
    pub id: String,
    /// Its Automerge actor: every change it pushes must be its own.
    pub actor: [u8; 16],
    pub scope: Scope,
}

/// Server settings the sync logic needs.
#[derive(Debug, Clone)]
pub struct Ctx<'a> {
    pub sealer: &'a Sealer,
    /// Today in the county (rules about dates).
    pub today: Date,
    pub now_ms: i64,
}

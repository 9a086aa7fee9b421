//! Sanjian's sync: batched, scoped, resumable, and idempotent.
//!
//! - [`wire`]: the messages and their compact binary encoding;
//! - [`server`]: the county server's side, written once against the [`server::Sql`]
//!   trait so the SQLite and PostgreSQL backends share it;
//! - [`client`]: the device's session over any [`client::Transport`];
//! - `http` (feature `http`): the device's HTTPS transport and background sync;
//!   `s3` (same feature): the server's blobs on an S3-compatible object store;
//! - [`blobs`]: attachments (photos) after the records;
//! - [`scope`], [`fingerprint`]: who sees what, and the repair check's sums.
//!
//! The protocol is described in `docs/sync.md`.

pub mod blobs;
pub mod client;
pub mod codes;
pub mod enrol;
mod error;
pub mod facts;
pub mod fingerprint;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "http")]
pub mod s3;
pub mod scope;
pub mod server;
pub mod wire;

pub use error::SyncError;
pub use scope::Scope;

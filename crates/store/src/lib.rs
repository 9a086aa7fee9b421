//! Sanjian's record store: one Automerge document per record, kept in an
//! encrypted SQLite database (SQLCipher), with projections for lists and
//! search and an outbox for sync, all written in one transaction.
//!
//! # Data model
//! - `docs` holds each record's Automerge document (flat layout, see [`doc`]).
//!   Every change is made with the device's actor id, so the history says which
//!   device changed what; the change message says which operator and why.
//! - Projection tables (`records`, `areas`, `entities`, `unions`, `members`,
//!   `cadres`) are derived from the documents and rewritten with every write.
//! - `outbox` lists documents changed locally and not yet acknowledged;
//!   `sync_state` the heads the county server is known to hold;
//!   `quarantine` what was received and could not be applied.
//!
//! # Identity
//! Members and legal entities get ids derived from their natural key with the
//! county secret ([`registry::keys`]), so two devices that register the same
//! person offline create the same document id, and merging joins them.
//!
//! # Encryption
//! The caller hands in a 32-byte key (the app derives it from the operator's
//! PIN). SQLCipher encrypts every page of the database and its WAL; indexes
//! hold keyed tokens, never resident IDs, credit codes or phone numbers.
//!
//! ```
//! use registry::keys::CountySecret;
//! use store::{Init, Store, StoreKey};
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("county.db");
//! let init = Init::new(CountySecret::from_bytes([7; 32]));
//! let store = Store::create(&path, &StoreKey::from_bytes([1; 32]), &init).unwrap();
//! drop(store);
//! assert_eq!(Store::open(&path, &StoreKey::from_bytes([2; 32])).unwrap_err().code(), "STORE_WRONG_KEY");
//! ```

mod blobs;
mod bulk;
pub mod chunks;
pub mod clock;
pub mod doc;
pub mod error;
mod history;
mod progress;
pub(crate) mod schema;
mod store;
mod sync;
mod worklist;

pub use automerge::ChangeHash;
pub use blobs::{BlobPolicy, BlobState, Chunk, Wanted, blob_hash};
pub use error::StoreError;
pub use history::{Conflict, ConflictValue, FieldChange, HistoryEntry};
pub use schema::ref_stubs::RefStub;
pub use schema::sync_state::fingerprint;
pub use schema::tables;
pub use store::{
    Batch, FeedEntry, Init, ListRow, Returned, Saved, Store, StoreKey, StoredRecord, Tombstone, conflicted_fields,
    delete_document, document_conflicts, hydrate, merge_documents, new_document, random_id, return_document, returned,
    settle_document, update_document,
};
pub use sync::{Outgoing, Pulled, PulledReport, PushAck, Quarantined};
pub use worklist::{AreaRow, Todo, TodoRow, VisitRow, Worklist};

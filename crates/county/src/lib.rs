//! The county's application layer and the server's tables.
//!
//! Every action of the console, the county API and the county CLI is one
//! typed operation here ([`ops`]): a request struct, a response struct, the
//! actors allowed to run it, and one function over one transaction.
//! [`County::run`] is the one door: it names the actor from its credentials
//! ([`actor`]), checks the operation's [`actor::Allowed`] and only then runs
//! it. Refusals are [`CountyError`]s with a stable code and a message in
//! Chinese and English.
//!
//! Invariants (as absences): this crate has no HTTP dependency, so no
//! operation can read a header or shape a response; the `server` crate's
//! routes hold no SQL, only an extractor and a call of [`County::run`].

pub mod actor;
pub mod applications;
pub mod archive;
pub mod areas;
pub mod audit;
pub mod auth;
pub mod basemap;
pub mod campaign;
pub mod cards;
pub mod census;
pub mod db;
pub mod decisions;
pub mod duplicates;
pub mod endpoints;
pub mod error;
pub mod intake;
pub mod keys;
pub mod ledgers;
pub mod merchants;
pub mod ops;
pub mod photos;
pub mod reconcile;
pub mod reviews;
pub mod typescript;

pub use actor::{Actor, Allowed, Credentials};
pub use db::Db;
pub use error::CountyError;
pub use keys::ServerKeys;
pub use ops::{County, Operation};

/// Today in the county (China has one time zone, UTC+8).
pub use store::clock::china_today as today;

//! The domain of a county trade-union federation's union-building campaign
//! ("建会、建制、建家"): its records, their validation, the plan's rules and the
//! year's targets.
//!
//! This crate does no I/O and knows nothing of SQLite, HTTP, Tauri or Automerge.
//! Everything that depends on "now" takes the date as an argument, so the same
//! inputs always give the same answer on a tablet and on the county server.
//!
//! # A tour
//! - [`ids`]: the resident ID number (GB 11643-1999), the Unified Social Credit
//!   Code (GB 32100-2015) and mainland mobile numbers.
//! - [`keys`]: record ids derived from natural keys with the county secret.
//! - [`model`]: the records of the four real-name forms plus the legal-entity
//!   ledger, hardship archive and the area tree, with their categorical enums.
//! - [`names`]: names as compared, and the near-duplicate key.
//! - [`privacy`]: the masking policy (how much of an ID number or a phone a
//!   view shows).
//! - [`validate`]: field-level checks that return [`Issue`]s (a stable code, a
//!   severity and a message in zh-CN and English) for the UI to show beside the
//!   field.
//! - [`rules`]: the plan's rules as pure functions that explain themselves.
//! - [`progress`]: the year's targets and the progress report against them.
//!
//! ```
//! use registry::ids::ResidentId;
//! let id = ResidentId::parse("11010519491231002x", registry::date!(2026-11-25)).unwrap();
//! assert_eq!(id.as_str(), "11010519491231002X");
//! assert_eq!(id.sex(), registry::model::Sex::Female);
//! ```

pub mod ids;
pub mod keys;
pub mod message;
pub mod model;
pub mod names;
pub mod privacy;
pub mod progress;
pub mod rules;
pub mod validate;

pub use message::{Issue, Message, Severity};
pub use time::Date;
pub use time::macros::date;

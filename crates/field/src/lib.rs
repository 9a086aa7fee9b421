//! The field app's backend, shared by the Tauri shell (`src-tauri`), the
//! local HTTP server that lets a browser drive the same screens (`web`,
//! behind the `web` feature) and the CLI's device commands.
//!
//! - [`pin`]: the PIN that derives the store's key, with spaced-out retries.
//! - [`device`]: enrolment with the county server, what the device keeps of
//!   it, one sync session.
//! - [`cards`]: issue a membership card offline, verify one.
//! - [`forms`]: the forms the UI draws, with the registry's labels.
//! - [`app`]: [`App::call`], the one command interface, and the background
//!   sync ([`sync::http::AutoSync`]).
//!
//! Nothing here is desktop-only: a mobile build links the same crate.

pub mod api;
pub mod app;
pub mod cards;
pub mod codes;
pub mod device;
pub mod forms;
pub mod photos;
pub mod pin;
#[cfg(feature = "web")]
pub mod web;

pub use api::ApiError;
pub use app::{App, Config};

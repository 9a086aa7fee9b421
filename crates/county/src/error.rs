//! What a county operation answers when it does not do what was asked.
//!
//! One enum for the layer, implementing the project's one error model
//! ([`registry::message::Coded`]): a stable code, a message in Chinese and
//! English, the HTTP status and any field issues. A refusal of an operation
//! rolls its transaction back: nothing is half-written.

use crate::auth::Denied;
use registry::message::{Coded, Issue, Message};
use sync::SyncError;

#[derive(Debug)]
pub enum CountyError {
    /// Who is asking may not (or is not known): `UNAUTHENTICATED`,
    /// `FORBIDDEN`, `DEVICE_REVOKED`…
    Denied(Denied),
    /// The request itself is refused, with its own code.
    Refused { status: u16, code: &'static str, message: Message },
    /// A record the request would write breaks the registry's rules.
    Invalid { code: &'static str, message: Message, issues: Vec<Issue> },
    /// The database or the sync layer failed (or refused, with its code).
    Sync(SyncError),
}

impl CountyError {
    /// A request whose fields cannot be read (`BAD_REQUEST`).
    pub fn bad_request() -> CountyError {
        CountyError::Denied(crate::auth::BAD_REQUEST)
    }
}

impl Coded for CountyError {
    fn code(&self) -> &str {
        match self {
            CountyError::Denied(d) => d.code,
            CountyError::Refused { code, .. } | CountyError::Invalid { code, .. } => code,
            CountyError::Sync(e) => e.code(),
        }
    }
    fn message(&self) -> Message {
        match self {
            CountyError::Denied(d) => Message::new(d.zh, d.en),
            CountyError::Refused { message, .. } | CountyError::Invalid { message, .. } => message.clone(),
            CountyError::Sync(e) => e.message(),
        }
    }
    fn status(&self) -> u16 {
        match self {
            CountyError::Denied(d) => d.status,
            CountyError::Refused { status, .. } => *status,
            CountyError::Invalid { .. } => 422,
            CountyError::Sync(e) => e.status(),
        }
    }
    fn issues(&self) -> &[Issue] {
        match self {
            CountyError::Invalid { issues, .. } => issues,
            _ => &[],
        }
    }
}

impl std::fmt::Display for CountyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CountyError::Sync(e) => write!(f, "{}: {e}", e.code()),
            other => write!(f, "{}: {}", other.code(), other.message().en),
        }
    }
}

impl std::error::Error for CountyError {}

impl From<Denied> for CountyError {
    fn from(d: Denied) -> CountyError {
        CountyError::Denied(d)
    }
}

impl From<SyncError> for CountyError {
    fn from(e: SyncError) -> CountyError {
        CountyError::Sync(e)
    }
}

//! What crosses the IPC boundary, serialised to JSON for the UI.
//!
//! These types are the contract with `ui/app.js`; renaming a field breaks the
//! UI. Errors always reach the UI as [`ApiError`], `{code, message: {zh, en}}`:
//! the UI branches on the stable `code` and shows the message in its current
//! language, and never matches on message text.

use registry::ids::{CreditCodeError, IdError, ResidentId};
use registry::{Issue, Message};
use serde::Serialize;
use time::Date;

/// A refused request: a stable machine code and a message in both UI languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiError {
    /// E.g. `"ID_CHECKSUM"`; the codes are the registry's.
    pub code: &'static str,
    pub message: Message,
}

impl From<Issue> for ApiError {
    fn from(issue: Issue) -> ApiError {
        ApiError { code: issue.code, message: issue.message }
    }
}

impl From<IdError> for ApiError {
    fn from(e: IdError) -> ApiError {
        e.issue("resident_id").into()
    }
}

impl From<CreditCodeError> for ApiError {
    fn from(e: CreditCodeError) -> ApiError {
        e.issue("credit_code").into()
    }
}

/// A valid resident ID number and what it says about its holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdInfo {
    /// The normalised 18-character form (upper-case `X`, 15-digit IDs upgraded).
    pub id: String,
    /// `YYYY-MM-DD`.
    pub birth_date: Date,
    /// The stable key: `"male"` or `"female"`.
    pub sex: &'static str,
    /// 男/女, male/female.
    pub sex_label: Message,
}

impl From<&ResidentId> for IdInfo {
    fn from(id: &ResidentId) -> IdInfo {
        let sex = id.sex();
        IdInfo {
            id: id.as_str().to_owned(),
            birth_date: id.birth_date(),
            sex: sex.key(),
            sex_label: Message::new(sex.zh(), sex.en()),
        }
    }
}

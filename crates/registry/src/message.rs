//! Messages in two languages and field-level issues.
//!
//! Every problem the software reports carries a stable `code` the UI can branch
//! on (never match on message text) and a message in Simplified Chinese (the
//! default UI language) and English.

use serde::{Deserialize, Serialize};

/// A text in both UI languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Message {
    pub zh: String,
    pub en: String,
}

impl Message {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Message {
        Message { zh: zh.into(), en: en.into() }
    }
}

/// How serious an [`Issue`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The record cannot be saved until this is fixed.
    Error,
    /// The record can be saved only once a person records why they override
    /// it (e.g. a credit code whose check character fails: real registers hold
    /// bad codes). Once the reason is recorded the warning is no longer raised;
    /// the override itself stays on the record for county review.
    Warning,
    /// Advice only; never blocks saving.
    Info,
}

/// A problem with one field of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// The field the UI shows the issue beside, e.g. `"resident_id"`.
    pub field: String,
    /// Stable machine code, e.g. `"ID_CHECKSUM"`.
    pub code: &'static str,
    pub severity: Severity,
    pub message: Message,
}

impl Issue {
    pub fn error(field: &str, code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Issue {
        Issue { field: field.to_owned(), code, severity: Severity::Error, message: Message::new(zh, en) }
    }

    pub fn info(field: &str, code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Issue {
        Issue { field: field.to_owned(), code, severity: Severity::Info, message: Message::new(zh, en) }
    }

    pub fn warning(field: &str, code: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Issue {
        Issue { field: field.to_owned(), code, severity: Severity::Warning, message: Message::new(zh, en) }
    }

    /// The same issue reported against another field name (e.g. a nested form).
    pub fn on_field(mut self, field: &str) -> Issue {
        self.field = field.to_owned();
        self
    }
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} ({} / {})", self.field, self.code, self.message.zh, self.message.en)
    }
}

/// Does any issue block saving? Errors and un-overridden warnings do.
pub fn blocks_saving(issues: &[Issue]) -> bool {
    issues.iter().any(|i| i.severity != Severity::Info)
}

/// A code of the catalogue with its one meaning: the HTTP status it is
/// answered with and its text in both languages. Each crate names its own
/// in a `codes` module (or its error enum), once; a call site uses the
/// constant, and may say something more specific for one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub status: u16,
    pub code: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

impl Code {
    /// A blocking issue with this code on `field`.
    pub fn error(&self, field: &str) -> Issue {
        Issue::error(field, self.code, self.zh, self.en)
    }

    /// An issue saving may override with a reason.
    pub fn warning(&self, field: &str) -> Issue {
        Issue::warning(field, self.code, self.zh, self.en)
    }

    /// Advice on `field`.
    pub fn info(&self, field: &str) -> Issue {
        Issue::info(field, self.code, self.zh, self.en)
    }
}

impl Coded for Code {
    fn code(&self) -> &str {
        self.code
    }
    fn message(&self) -> Message {
        Message::new(self.zh, self.en)
    }
    fn status(&self) -> u16 {
        self.status
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.en)
    }
}

/// One line of the catalogue, whatever kind of error it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub code: String,
    pub status: u16,
    pub message: Message,
}

impl Entry {
    pub fn of(e: &(impl Coded + ?Sized)) -> Entry {
        Entry { code: e.code().to_owned(), status: e.status(), message: e.message() }
    }
}

/// The one error model: every crate keeps its own typed error and
/// implements this, so every edge (an HTTP answer, the app's IPC, the CLI)
/// shows any refusal the same way: a stable code, a message in Chinese and
/// English, the HTTP status it is answered with, and the field issues when
/// a record was refused.
pub trait Coded {
    /// Stable machine code, e.g. `"FORBIDDEN"`.
    fn code(&self) -> &str;
    fn message(&self) -> Message;
    /// The HTTP status a server answers it with (400 unless said).
    fn status(&self) -> u16 {
        400
    }
    /// Field issues, when a record was refused.
    fn issues(&self) -> &[Issue] {
        &[]
    }
}

//! The one error shape the UI meets: a stable code, a message in Chinese and
//! English, and for refused saves the field issues to show beside each field.

use crate::codes;
use registry::{Issue, Message};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiError {
    pub code: String,
    pub message: Message,
    /// Field-level issues (a refused save), empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<Issue>,
    /// Extra facts the UI may use (seconds to wait, the existing record…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Box<serde_json::Value>>,
}

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

impl ApiError {
    pub fn new(code: &str, zh: impl Into<String>, en: impl Into<String>) -> ApiError {
        ApiError { code: code.into(), message: Message::new(zh, en), issues: Vec::new(), detail: None }
    }

    pub fn with_detail(mut self, detail: serde_json::Value) -> ApiError {
        self.detail = Some(Box::new(detail));
        self
    }

    pub fn bad_args(what: &str) -> ApiError {
        ApiError::new(
            codes::BAD_ARGUMENTS.code,
            format!("请求参数有误：{what}"),
            format!("Bad request arguments: {what}"),
        )
    }

    pub fn locked() -> ApiError {
        ApiError::from(codes::APP_LOCKED)
    }

    pub fn invalid(issues: Vec<Issue>) -> ApiError {
        let first = issues.first().map(|i| i.message.clone()).unwrap_or_else(|| Message::new("", ""));
        ApiError {
            code: store::StoreError::Invalid(Vec::new()).code().into(),
            message: Message::new(
                format!("记录未通过校验，未保存：{}", first.zh),
                format!("The record did not pass the checks and was not saved: {}", first.en),
            ),
            issues,
            detail: None,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}) [{}]", self.message.zh, self.message.en, self.code)
    }
}

impl std::error::Error for ApiError {}

impl From<store::StoreError> for ApiError {
    fn from(e: store::StoreError) -> ApiError {
        match e {
            store::StoreError::Invalid(issues) => ApiError::invalid(issues),
            store::StoreError::Duplicate(ref id) => {
                let detail = Some(Box::new(serde_json::json!({"id": id})));
                ApiError { code: e.code().into(), message: e.message(), issues: Vec::new(), detail }
            }
            e => ApiError { code: e.code().into(), message: e.message(), issues: Vec::new(), detail: None },
        }
    }
}

impl From<sync::SyncError> for ApiError {
    fn from(e: sync::SyncError) -> ApiError {
        ApiError { code: e.code().into(), message: e.message(), issues: Vec::new(), detail: None }
    }
}

impl From<card::CardError> for ApiError {
    fn from(e: card::CardError) -> ApiError {
        let (zh, en) = e.message();
        ApiError::new(e.code(), zh, en)
    }
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> ApiError {
        store::StoreError::Io(e).into()
    }
}

/// A code of the catalogue as the app's answer.
impl From<registry::message::Code> for ApiError {
    fn from(c: registry::message::Code) -> ApiError {
        ApiError::new(c.code, c.zh, c.en)
    }
}

/// The project's one error model: the app's answers are shown as any
/// server's are.
impl registry::message::Coded for ApiError {
    fn code(&self) -> &str {
        &self.code
    }
    fn message(&self) -> Message {
        self.message.clone()
    }
    fn status(&self) -> u16 {
        if self.issues.is_empty() { 400 } else { 422 }
    }
    fn issues(&self) -> &[Issue] {
        &self.issues
    }
}

//! Enrolment codes as text (and QR): `SJE1:<server>#<code>[#<pin>]`, where
//! `<pin>` is the SHA-256 of a self-signed server certificate (64 hex).

use crate::error::SyncError;
use registry::message::Message;

/// The prefix of an enrolment code's text.
pub const ENROLMENT_PREFIX: &str = "SJE1:";

/// An enrolment code's text, parsed.
#[derive(Clone, PartialEq, Eq)]
pub struct EnrolmentText {
    /// `http(s)://host:port`, no trailing slash.
    pub base: String,
    pub code: String,
    pub pin: Option<[u8; 32]>,
}

impl std::fmt::Debug for EnrolmentText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The code is a secret until redeemed.
        f.debug_struct("EnrolmentText")
            .field("base", &self.base)
            .field("pinned", &self.pin.is_some())
            .finish_non_exhaustive()
    }
}

impl EnrolmentText {
    pub fn format(&self) -> String {
        match &self.pin {
            Some(p) => format!("{ENROLMENT_PREFIX}{}#{}#{}", self.base, self.code, hex(p)),
            None => format!("{ENROLMENT_PREFIX}{}#{}", self.base, self.code),
        }
    }

    pub fn parse(text: &str) -> Result<EnrolmentText, SyncError> {
        let bad = || SyncError::Refused {
            status: 400,
            code: "ENROLMENT_TEXT_INVALID".into(),
            message: Message::new("注册码格式不正确", "This is not a Sanjian enrolment code"),
        };
        let rest = text.trim().strip_prefix(ENROLMENT_PREFIX).ok_or_else(bad)?;
        let mut parts = rest.split('#');
        let base = parts.next().filter(|b| b.starts_with("http://") || b.starts_with("https://")).ok_or_else(bad)?;
        let code = parts.next().filter(|c| !c.is_empty()).ok_or_else(bad)?;
        let pin = match parts.next() {
            None => None,
            Some(p) => Some(unhex32(p).ok_or_else(bad)?),
        };
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(EnrolmentText { base: base.trim_end_matches('/').to_owned(), code: code.to_owned(), pin })
    }
}

/// Lower-case hex of bytes (ids, keys, hashes in text).
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes of lower- or upper-case hex; `None` for anything else.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

fn unhex32(s: &str) -> Option<[u8; 32]> {
    unhex(s)?.try_into().ok()
}

//! Enrolment codes as text (and QR): `SJE1:<server>#<code>[#<pin>]`, where
//! `<pin>` is the SHA-256 of a self-signed server certificate (64 hex).

use crate::error::SyncError;

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
        let bad = || SyncError::from(crate::codes::ENROLMENT_TEXT_INVALID);
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

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (photos as text, CSP hashes).
pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(char::from(B64[(n >> (18 - 6 * k) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Bytes of standard base64 (padding and whitespace optional); `None` for
/// anything else.
pub fn unbase64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
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

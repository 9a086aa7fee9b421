//! Identifier formats: the resident ID number, the Unified Social Credit Code
//! and mainland mobile numbers.
//!
//! Parsers are strict and never guess: full-width characters (what a Chinese
//! IME types by default) are reported as such so the UI can offer to convert
//! them, rather than silently changing what the surveyor typed.

use crate::message::Issue;
use crate::model::Sex;
use time::{Date, Month};

/// GB 11643-1999 weights for the first 17 characters.
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check characters indexed by `sum mod 11`.
const ID_CHECK: &[u8; 11] = b"10X98765432";
/// Province-level codes that begin a resident ID (incl. 71 Taiwan, 81 Hong Kong,
/// 82 Macao and 83 for the residence permits of Taiwan residents).
const PROVINCES: [u8; 35] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63,
    64, 65, 71, 81, 82, 83,
];

/// A credit code whose check character fails: raised as a warning saving
/// may override with a reason, and named by the county's list imports.
pub const CREDIT_CODE_CHECKSUM: crate::message::Code = crate::message::Code {
    status: 422,
    code: "CREDIT_CODE_CHECKSUM",
    zh: "统一社会信用代码校验位不符：请对照营业执照逐位核对；如确与执照一致，请填写保留理由",
    en: "The credit code does not check out: compare it character by character with the business licence; if it matches, record why it is kept",
};

/// A valid, normalised 18-character resident ID number (公民身份号码).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResidentId(String);

// Never print a resident ID by accident (logs, panics): Debug masks it.
impl std::fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ResidentId({})", mask_id(&self.0))
    }
}

/// Why a resident ID number was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdError {
    Empty,
    FullWidth,
    Length { len: usize },
    Chars,
    Region,
    BirthDate,
    FutureBirth,
    Checksum { expected: char, found: char },
}

impl IdError {
    pub fn code(&self) -> &'static str {
        match self {
            IdError::Empty => "ID_REQUIRED",
            IdError::FullWidth => "ID_FULLWIDTH",
            IdError::Length { .. } => "ID_LENGTH",
            IdError::Chars => "ID_CHARS",
            IdError::Region => "ID_REGION",
            IdError::BirthDate => "ID_BIRTH_DATE",
            IdError::FutureBirth => "ID_BIRTH_FUTURE",
            IdError::Checksum { .. } => "ID_CHECKSUM",
        }
    }

    /// The error as a field issue for the UI.
    pub fn issue(&self, field: &str) -> Issue {
        let (zh, en) = match self {
            IdError::Empty => ("请填写身份证号".to_owned(), "Resident ID number is required".to_owned()),
            IdError::FullWidth => (
                "身份证号含全角字符，请改用半角数字和字母".to_owned(),
                "The ID number contains full-width characters; use half-width digits and letters".to_owned(),
            ),
            IdError::Length { len } => (
                format!("身份证号应为18位（或旧版15位），当前为{len}位"),
                format!("A resident ID has 18 characters (or 15 in the old form); this has {len}"),
            ),
            IdError::Chars => (
                "身份证号只能由数字组成，最后一位可为X".to_owned(),
                "A resident ID is digits only, except that the last may be X".to_owned(),
            ),
            IdError::Region => (
                "身份证号前两位不是有效的省级行政区划代码".to_owned(),
                "The first two digits are not a valid province code".to_owned(),
            ),
            IdError::BirthDate => (
                "身份证号中的出生日期不存在".to_owned(),
                "The birth date inside the ID number is not a real date".to_owned(),
            ),
            IdError::FutureBirth => (
                "身份证号中的出生日期晚于今天".to_owned(),
                "The birth date inside the ID number is in the future".to_owned(),
            ),
            // Not "the last digit should be X": the typo is usually
            // elsewhere, and fixing the check character would make a wrong
            // number pass.
            IdError::Checksum { .. } => (
                "身份证号校验位不符：很可能有一位输错了，请对照证件逐位核对".to_owned(),
                "The ID number does not check out: a digit was probably mistyped; compare it digit by digit with the card".to_owned(),
            ),
        };
        Issue::error(field, self.code(), zh, en)
    }
}

impl std::fmt::Display for IdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let issue = self.issue("resident_id");
        write!(f, "{}: {}", issue.code, issue.message.en)
    }
}

impl std::error::Error for IdError {}

fn has_fullwidth(s: &str) -> bool {
    // U+FF01..U+FF5E is the full-width ASCII block; U+3000 the ideographic space.
    s.chars().any(|c| ('\u{FF01}'..='\u{FF5E}').contains(&c) || c == '\u{3000}')
}

fn id_check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17.iter().zip(ID_WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    ID_CHECK[(sum % 11) as usize]
}

fn birth_date(digits: &[u8]) -> Option<Date> {
    let num = |s: &[u8]| s.iter().try_fold(0u32, |acc, d| d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0')));
    let year = i32::try_from(num(&digits[0..4])?).ok()?;
    let month = Month::try_from(u8::try_from(num(&digits[4..6])?).ok()?).ok()?;
    let day = u8::try_from(num(&digits[6..8])?).ok()?;
    // Nobody alive was born before 1900; treat earlier years as typing errors.
    if year < 1900 {
        return None;
    }
    Date::from_calendar_date(year, month, day).ok()
}

impl ResidentId {
    /// Parses and normalises a resident ID: surrounding whitespace is trimmed, a
    /// lowercase `x` becomes `X`, and the legacy 15-digit form is upgraded to 18
    /// characters (century `19` inserted, check character computed).
    pub fn parse(input: &str, today: Date) -> Result<ResidentId, IdError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(IdError::Empty);
        }
        if has_fullwidth(s) {
            return Err(IdError::FullWidth);
        }
        let upgraded;
        // Count characters, not bytes: "11010519491231002×" has 18 characters
        // (× is two bytes) and is wrong in its characters, not its length.
        let s = match s.chars().count() {
            18 => s,
            15 => {
                if !s.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(IdError::Chars);
                }
                let mut first17 = format!("{}19{}", &s[..6], &s[6..]);
                let check = id_check_char(first17.as_bytes());
                first17.push(char::from(check));
                upgraded = first17;
                &upgraded
            }
            _ => return Err(IdError::Length { len: s.chars().count() }),
        };
        let b = s.as_bytes();
        if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'x' || b[17] == b'X') {
            return Err(IdError::Chars);
        }
        let province = (b[0] - b'0') * 10 + (b[1] - b'0');
        if !PROVINCES.contains(&province) {
            return Err(IdError::Region);
        }
        let born = birth_date(&b[6..14]).ok_or(IdError::BirthDate)?;
        if born > today {
            return Err(IdError::FutureBirth);
        }
        let expected = id_check_char(&b[..17]);
        let found = b[17].to_ascii_uppercase();
        if expected != found {
            return Err(IdError::Checksum { expected: char::from(expected), found: char::from(found) });
        }
        let mut normal = s.to_owned();
        normal.make_ascii_uppercase();
        Ok(ResidentId(normal))
    }

    /// Builds a valid ID from its 17 leading digits (used by the synthetic
    /// county); returns `None` when they are not digits, the province code is
    /// unknown or the date is invalid. (It cannot check that the birth date is
    /// not in the future: it has no `today`.)
    pub fn from_first17(first17: &str) -> Option<ResidentId> {
        let b = first17.as_bytes();
        if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
            return None;
        }
        if !PROVINCES.contains(&((b[0] - b'0') * 10 + (b[1] - b'0'))) {
            return None;
        }
        birth_date(&b[6..14])?;
        let mut s = first17.to_owned();
        s.push(char::from(id_check_char(b)));
        Some(ResidentId(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> Date {
        birth_date(&self.0.as_bytes()[6..14]).expect("validated at parse")
    }

    /// The 17th digit is odd for men and even for women.
    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 { Sex::Male } else { Sex::Female }
    }

    /// The six-digit administrative division code of the place of registration.
    pub fn region_code(&self) -> &str {
        &self.0[..6]
    }

    /// Full age in years on `on`.
    pub fn age_on(&self, on: Date) -> i32 {
        age_on(self.birth_date(), on)
    }
}

/// Full years between `born` and `on`.
pub fn age_on(born: Date, on: Date) -> i32 {
    let mut age = on.year() - born.year();
    if (on.month() as u8, on.day()) < (born.month() as u8, born.day()) {
        age -= 1;
    }
    age
}

pub use crate::privacy::mask_id;

/// GB 32100-2015 alphabet: digits and capitals without I, O, S, V, Z.
pub const CREDIT_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// A Unified Social Credit Code (统一社会信用代码) with valid length and
/// alphabet, upper-cased. Its check character may still be wrong: see
/// [`CreditCode::checksum_ok`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode {
    code: String,
    checksum_ok: bool,
}

/// Why a credit code was refused outright.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreditCodeError {
    Empty,
    FullWidth,
    Length {
        len: usize,
    },
    /// A character outside the alphabet; I, O, S, V and Z are the usual culprits.
    Char {
        ch: char,
    },
}

impl CreditCodeError {
    pub fn code(&self) -> &'static str {
        match self {
            CreditCodeError::Empty => "CREDIT_CODE_REQUIRED",
            CreditCodeError::FullWidth => "CREDIT_CODE_FULLWIDTH",
            CreditCodeError::Length { .. } => "CREDIT_CODE_LENGTH",
            CreditCodeError::Char { .. } => "CREDIT_CODE_CHARS",
        }
    }

    pub fn issue(&self, field: &str) -> Issue {
        let (zh, en) = match self {
            CreditCodeError::Empty => {
                ("请填写统一社会信用代码".to_owned(), "Unified Social Credit Code is required".to_owned())
            }
            CreditCodeError::FullWidth => (
                "统一社会信用代码含全角字符，请改用半角".to_owned(),
                "The credit code contains full-width characters; use half-width".to_owned(),
            ),
            CreditCodeError::Length { len } => (
                format!("统一社会信用代码应为18位，当前为{len}位"),
                format!("A Unified Social Credit Code has 18 characters; this has {len}"),
            ),
            CreditCodeError::Char { ch } => (
                format!("统一社会信用代码不能含字符“{ch}”（不使用I、O、S、V、Z）"),
                format!("The credit code may not contain '{ch}' (I, O, S, V and Z are never used)"),
            ),
        };
        Issue::error(field, self.code(), zh, en)
    }
}

impl std::fmt::Display for CreditCodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let issue = self.issue("credit_code");
        write!(f, "{}: {}", issue.code, issue.message.en)
    }
}

impl std::error::Error for CreditCodeError {}

fn credit_check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(CREDIT_WEIGHTS)
        .map(|(c, w)| CREDIT_ALPHABET.iter().position(|a| a == c).expect("alphabet checked") as u32 * w)
        .sum();
    CREDIT_ALPHABET[((31 - sum % 31) % 31) as usize]
}

impl CreditCode {
    /// Parses a credit code: trims, upper-cases, checks length and alphabet.
    /// A wrong check character is not an error here; it is reported by
    /// [`CreditCode::checksum_ok`] so that a surveyor can override it.
    pub fn parse(input: &str) -> Result<CreditCode, CreditCodeError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(CreditCodeError::Empty);
        }
        if has_fullwidth(s) {
            return Err(CreditCodeError::FullWidth);
        }
        let code = s.to_ascii_uppercase();
        if code.chars().count() != 18 {
            return Err(CreditCodeError::Length { len: code.chars().count() });
        }
        if let Some(ch) = code.chars().find(|c| !c.is_ascii() || !CREDIT_ALPHABET.contains(&(*c as u8))) {
            return Err(CreditCodeError::Char { ch });
        }
        let b = code.as_bytes();
        let checksum_ok = credit_check_char(&b[..17]) == b[17];
        Ok(CreditCode { code, checksum_ok })
    }

    /// Builds a valid code from its first 17 characters (synthetic county).
    pub fn from_first17(first17: &str) -> Option<CreditCode> {
        let b = first17.as_bytes();
        if b.len() != 17 || !b.iter().all(|c| CREDIT_ALPHABET.contains(c)) {
            return None;
        }
        let mut code = first17.to_owned();
        code.push(char::from(credit_check_char(b)));
        Some(CreditCode { code, checksum_ok: true })
    }

    pub fn as_str(&self) -> &str {
        &self.code
    }

    pub fn checksum_ok(&self) -> bool {
        self.checksum_ok
    }

    /// The check character the first 17 characters call for.
    pub fn expected_check_char(&self) -> char {
        char::from(credit_check_char(&self.code.as_bytes()[..17]))
    }

    /// The warning raised when the check character fails and nobody has yet
    /// recorded why the code is kept.
    pub fn checksum_warning(&self, field: &str) -> Option<Issue> {
        (!self.checksum_ok).then(|| CREDIT_CODE_CHECKSUM.warning(field))
    }

    /// The credit code carried by the text of a business licence's QR code.
    ///
    /// A licence's QR usually holds a link to the national publicity system
    /// with the code as one of its parameters (`…?uniscid=91320…`), sometimes
    /// the bare code, and on newer licences an opaque token that carries no
    /// code at all. So this looks for a run of exactly 18 characters of the
    /// code's alphabet, standing alone between other characters (a longer
    /// run is some other identifier), whose check character is right: a
    /// scanned code is either read exactly or not at all, and a code that
    /// fails its check is never offered. `None` means "type it from the
    /// licence".
    pub fn find_in(text: &str) -> Option<CreditCode> {
        let upper = text.to_ascii_uppercase();
        upper
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|run| run.len() == 18)
            .filter_map(|run| CreditCode::parse(run).ok())
            .find(CreditCode::checksum_ok)
    }
}

/// A mainland China mobile number, normalised to 11 digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Mobile(String);

impl std::fmt::Debug for Mobile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mobile({}****{})", &self.0[..3], &self.0[7..])
    }
}

impl Mobile {
    /// Accepts `13812345678`, `138 1234 5678`, `138-1234-5678` and a `+86`/`86` prefix.
    pub fn parse(input: &str) -> Result<Mobile, Issue> {
        let bad = || {
            Issue::error(
                "phone",
                "PHONE_INVALID",
                "手机号应为11位数字，以1开头，第二位为3至9",
                "A mobile number has 11 digits, starting with 1 and then 3 to 9",
            )
        };
        if has_fullwidth(input) {
            return Err(Issue::error(
                "phone",
                "PHONE_FULLWIDTH",
                "手机号含全角字符，请改用半角数字",
                "The phone number contains full-width characters; use half-width digits",
            ));
        }
        let mut digits: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if let Some(rest) = digits.strip_prefix("+86") {
            digits = rest.to_owned();
        } else if digits.len() == 13 && digits.starts_with("86") {
            digits = digits[2..].to_owned();
        }
        let b = digits.as_bytes();
        if b.len() != 11 || !b.iter().all(u8::is_ascii_digit) || b[0] != b'1' || !(b'3'..=b'9').contains(&b[1]) {
            return Err(bad());
        }
        Ok(Mobile(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A landline (固定电话) with its area code, normalised to `0527-83123456`:
/// the area code (`0` then 2 or 3 digits: `010`, `020`–`029` have 3 digits
/// in all, the rest 4) and a local number of 7 or 8 digits not starting with
/// 0 or 1. Accepts spaces, a hyphen, the area code in parentheses and a
/// `+86`/`86` prefix without the leading 0. Companies and families often
/// have only a landline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Landline(String);

impl Landline {
    pub fn parse(input: &str) -> Option<Landline> {
        if has_fullwidth(input) {
            return None;
        }
        let mut digits: String = input.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
        if let Some(rest) =
            digits.strip_prefix("+86").or_else(|| digits.strip_prefix("86").filter(|r| !r.starts_with('0')))
        {
            digits = format!("0{rest}");
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) || !digits.starts_with('0') {
            return None;
        }
        let area = if digits.starts_with("01") || digits.starts_with("02") { 3 } else { 4 };
        let (code, local) = digits.split_at_checked(area)?;
        let ok = matches!(local.len(), 7 | 8) && !local.starts_with(['0', '1']) && code.as_bytes()[1] != b'0';
        ok.then(|| Landline(format!("{code}-{local}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

//! The masking policy: how much of a resident ID number and of a phone a
//! view shows to someone who may not see them whole.
//!
//! | who | ID number | phone | birth date, sex |
//! |---|---|---|---|
//! | the device that holds the record (its surveyor) | whole | whole | whole |
//! | a county admin who asks for a full ledger (logged in the audit log) | whole | whole | whole |
//! | everyone else: township staff, a county admin by default, every review queue | [`mask_id`]: the first 6 digits (where it was issued) | [`mask_phone`]: the first 3 and last 4 | whole |
//!
//! Why these digits: a masked view must leave no number recoverable from
//! any combination of what it shows. An ID number is region (6 digits),
//! birth date (8), sequence (3, odd for men) and a check character computed
//! from the other 17. Ledgers and queues print the birth date and sex, so
//! everything beyond the region must be hidden: the sequence digits and
//! the check. An earlier mask kept the last 4, which with the printed birth
//! date gave all 18 back. What a masked row leaves open: 500 sequence
//! numbers of the right parity, each with its own check character, so at
//! least [`ID_CANDIDATES`] valid numbers fit any masked row (the registry's
//! test counts them). A phone keeps 3 + 4 digits, the carrier prefix and
//! the ending people read aloud to each other: 10,000 numbers fit, and no
//! other column holds a phone's digits.
//!
//! The same masks print `Debug` of every record holding such a number, so a
//! record in a log or a panic shows no more than a masked ledger.

/// How many valid ID numbers at least fit a masked row (a known region,
/// birth date and sex; the sequence and check hidden).
pub const ID_CANDIDATES: usize = 500;

/// `341621************`: the region (the first 6 characters), nothing else.
pub fn mask_id(id: &str) -> String {
    id.chars().enumerate().map(|(i, c)| if i < 6 { c } else { '*' }).collect()
}

/// `138****5678`: the first 3 and last 4 digits of a mobile number; a
/// shorter number is hidden whole.
pub fn mask_phone(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    if chars.len() < 11 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

/// The masked text of a record field holding a personal number (by its
/// flat name: `resident_id`, `phone`, `contact_phone`), or `None` for any
/// other field. Queues that show fields by name mask through this.
pub fn mask_field(field: &str, value: &str) -> Option<String> {
    match field {
        "resident_id" => Some(mask_id(value)),
        "phone" | "contact_phone" => Some(mask_phone(value)),
        _ => None,
    }
}

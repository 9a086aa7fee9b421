//! Resident ID numbers (GB 11643-1999), Unified Social Credit Codes
//! (GB 32100-2015), mobile numbers and record ids.
//!
//! Expected check characters are computed here by independent implementations
//! (or by hand, shown in comments), never by calling the crate's own helpers.

use proptest::prelude::*;
use registry::ids::{CreditCode, CreditCodeError, IdError, Mobile, ResidentId, age_on, mask_id};
use registry::keys::{CountySecret, id_from_bytes, is_record_id};
use registry::model::Sex;
use registry::{Date, Severity, date};

const TODAY: Date = date!(2026 - 11 - 25);

/// Province-level codes per GB/T 2260, plus 71 Taiwan, 81 Hong Kong, 82 Macao
/// and 83 (residence permits of Taiwan residents).
const PROVINCE_CODES: [u32; 35] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63,
    64, 65, 71, 81, 82, 83,
];

/// Independent GB 11643-1999 check character: the weight of position `i`
/// (0-based from the left) is 2^(17-i) mod 11, and the check value `c`
/// (with X standing for 10) makes the weighted sum ≡ 1 (mod 11).
fn id_check(first17: &str) -> char {
    assert_eq!(first17.len(), 17, "id_check takes 17 digits");
    let sum: u64 = first17
        .chars()
        .enumerate()
        .map(|(i, c)| {
            let weight = (1u64 << (17 - i)) % 11;
            u64::from(c.to_digit(10).expect("digits only")) * weight
        })
        .sum();
    match (12 - sum % 11) % 11 {
        10 => 'X',
        n => char::from_digit(n as u32, 10).expect("0..=9"),
    }
}

/// 17 digits plus their correct check character.
fn with_check(first17: &str) -> String {
    format!("{first17}{}", id_check(first17))
}

/// The birth date in characters 7-14, if it is a real date from 1900 on.
fn date_of(id: &str) -> Option<Date> {
    let year: i32 = id[6..10].parse().ok()?;
    let month: u8 = id[10..12].parse().ok()?;
    let day: u8 = id[12..14].parse().ok()?;
    let month = time::Month::try_from(month).ok()?;
    Date::from_calendar_date(year, month, day).ok().filter(|_| year >= 1900)
}

fn parse(s: &str) -> Result<ResidentId, IdError> {
    ResidentId::parse(s, TODAY)
}

fn id_err(s: &str) -> IdError {
    match parse(s) {
        Ok(id) => panic!("{s:?} should be rejected but parsed as {id:?}"),
        Err(e) => e,
    }
}

fn id_code(s: &str) -> &'static str {
    id_err(s).code()
}

// ---------------------------------------------------------------------------
// The independent check-character implementation against published examples.

#[test]
fn independent_id_check_matches_known_examples() {
    // The example of GB 11643-1999 itself.
    assert_eq!(id_check("11010519491231002"), 'X');
    // By hand: digits 4 4 0 3 0 8 1 9 9 9 0 1 0 1 1 2 3 with weights
    // 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 give
    // 28+36+0+15+0+32+2+9+54+27+0+9+0+5+8+8+6 = 239; 239 mod 11 = 8; (12-8) mod 11 = 4.
    assert_eq!(id_check("44030819990101123"), '4');
}

// ---------------------------------------------------------------------------
// Valid resident IDs.

#[test]
fn valid_id_with_digit_check_character() {
    let id = parse("440308199901011234").expect("valid ID with check digit 4");
    assert_eq!(id.as_str(), "440308199901011234");
    assert_eq!(id.region_code(), "440308", "region code is the first six digits");
    assert_eq!(id.birth_date(), date!(1999 - 01 - 01), "birth date from digits 7-14");
    assert_eq!(id.sex(), Sex::Male, "17th digit 3 is odd: male");
}

#[test]
fn valid_id_with_x_check_character() {
    // Sum 167 (7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4), 167 mod 11 = 2 → X.
    let id = parse("11010519491231002X").expect("GB 11643 example");
    assert_eq!(id.as_str(), "11010519491231002X");
    assert_eq!(id.birth_date(), date!(1949 - 12 - 31));
    assert_eq!(id.sex(), Sex::Female, "17th digit 2 is even: female");
    assert_eq!(id.region_code(), "110105");
}

#[test]
fn lowercase_x_is_normalised_to_uppercase() {
    let id = parse("11010519491231002x").expect("lowercase x is accepted");
    assert_eq!(id.as_str(), "11010519491231002X", "x is upper-cased");
    assert_eq!(id, parse("11010519491231002X").unwrap(), "both spellings give the same id");
}

#[test]
fn surrounding_whitespace_is_trimmed() {
    let id = parse("  11010519491231002X\t\n").expect("whitespace around the number is ignored");
    assert_eq!(id.as_str(), "11010519491231002X");
    // An ideographic space (U+3000) at either end is whitespace too.
    let id = parse("\u{3000}440308199901011234\u{3000}").expect("ideographic spaces at the ends are trimmed");
    assert_eq!(id.as_str(), "440308199901011234");
}

#[test]
fn legacy_15_digit_id_is_upgraded_to_18() {
    // 110105 491231 002 → insert "19" after the region: 11010519491231002,
    // whose check character is X (hand-computed above: sum 167, mod 11 = 2).
    let id = parse("110105491231002").expect("legacy 15-digit ID");
    assert_eq!(id.as_str(), "11010519491231002X");
    assert_eq!(id.birth_date(), date!(1949 - 12 - 31));
    assert_eq!(id.sex(), Sex::Female, "the 15th digit (2) of the old form becomes the 17th");

    // 440308 990101 123 → 44030819990101123 + 4 (sum 239, mod 11 = 8).
    let id = parse("440308990101123").expect("legacy 15-digit ID");
    assert_eq!(id.as_str(), "440308199901011234");
    assert_eq!(id.sex(), Sex::Male);

    // And against the independent implementation for a third one.
    let id = parse("320106800229001").expect("1980-02-29 is a real date");
    assert_eq!(id.as_str(), with_check("32010619800229001"));
    assert_eq!(id.birth_date(), date!(1980 - 02 - 29));
}

#[test]
fn legacy_15_digit_id_errors() {
    assert_eq!(id_code("11010549123100A"), "ID_CHARS", "a letter in a 15-digit ID");
    assert_eq!(id_code("11010549123100X"), "ID_CHARS", "the old form has no check character, so no X");
    assert_eq!(id_code("110105490230002"), "ID_BIRTH_DATE", "19490230 is not a date");
    assert_eq!(id_code("990105491231002"), "ID_REGION", "99 is no province");
}

#[test]
fn derived_sex_follows_the_parity_of_the_17th_digit() {
    for d in 0..10u32 {
        let first17 = format!("4403081999010112{d}");
        let id = parse(&with_check(&first17)).expect("valid");
        let expected = if d % 2 == 1 { Sex::Male } else { Sex::Female };
        assert_eq!(id.sex(), expected, "17th digit {d}");
    }
}

#[test]
fn other_valid_province_codes_are_accepted() {
    for p in PROVINCE_CODES {
        let id = with_check(&format!("{p}010219800101001"));
        assert!(parse(&id).is_ok(), "province {p} should be accepted: {id}");
    }
}

#[test]
fn feb_29_in_a_leap_year_is_valid() {
    let id = parse(&with_check("11010520000229001")).expect("2000 is a leap year");
    assert_eq!(id.birth_date(), date!(2000 - 02 - 29));
    let id = parse(&with_check("11010520240229001")).expect("2024 is a leap year");
    assert_eq!(id.birth_date(), date!(2024 - 02 - 29));
}

// ---------------------------------------------------------------------------
// Invalid resident IDs.

#[test]
fn checksum_off_by_one_is_rejected() {
    assert_eq!(
        id_err("440308199901011235"),
        IdError::Checksum { expected: '4', found: '5' },
        "check digit one too high"
    );
    assert_eq!(
        id_err("440308199901011233"),
        IdError::Checksum { expected: '4', found: '3' },
        "check digit one too low"
    );
    assert_eq!(id_err("110105194912310029"), IdError::Checksum { expected: 'X', found: '9' }, "digit where X is due");
    assert_eq!(id_code("440308199901011235"), "ID_CHECKSUM");
}

#[test]
fn x_where_a_digit_is_due_is_a_checksum_error() {
    assert_eq!(id_err("44030819990101123X"), IdError::Checksum { expected: '4', found: 'X' });
    assert_eq!(
        id_err("44030819990101123x"),
        IdError::Checksum { expected: '4', found: 'X' },
        "a lowercase x is reported upper-cased"
    );
}

#[test]
fn a_single_digit_error_in_the_body_is_caught() {
    // 440308199901011234 with the 15th digit changed 1 → 2 and the check kept.
    assert_eq!(id_code("440308199901012234"), "ID_CHECKSUM");
    // Two neighbouring digits swapped (a common typing error): 12 → 21.
    assert_eq!(id_code("440308199901012134"), "ID_CHECKSUM");
}

#[test]
fn impossible_birth_dates_are_rejected() {
    let cases = [
        ("11010519900230001", "Feb 30"),
        ("11010519900229001", "Feb 29 in 1990, not a leap year"),
        ("11010519000229001", "Feb 29 in 1900, a century that is not a leap year"),
        ("11010520230229001", "Feb 29 in 2023"),
        ("11010519901301001", "month 13"),
        ("11010519900001001", "month 00"),
        ("11010519900100001", "day 00"),
        ("11010519900132001", "Jan 32"),
        ("11010519900431001", "Apr 31"),
        ("11010518991231001", "before 1900"),
    ];
    for (first17, what) in cases {
        let id = with_check(first17);
        assert_eq!(id_err(&id), IdError::BirthDate, "{what}: {id}");
        assert_eq!(id_code(&id), "ID_BIRTH_DATE", "{what}");
    }
}

#[test]
fn future_birth_dates_are_rejected_relative_to_today() {
    let tomorrow = with_check("11010520261126001");
    assert_eq!(id_err(&tomorrow), IdError::FutureBirth, "born the day after `today`");
    assert_eq!(id_code(&tomorrow), "ID_BIRTH_FUTURE");
    assert_eq!(id_code(&with_check("11010520270101001")), "ID_BIRTH_FUTURE", "next year");

    let born_today = parse(&with_check("11010520261125001")).expect("born on `today` itself is not in the future");
    assert_eq!(born_today.age_on(TODAY), 0);

    // The same number is fine when `today` is later: the check uses the argument.
    assert!(ResidentId::parse(&tomorrow, date!(2026 - 11 - 26)).is_ok(), "tomorrow's ID is valid tomorrow");
    assert_eq!(
        ResidentId::parse("11010519491231002X", date!(1949 - 12 - 30)),
        Err(IdError::FutureBirth),
        "a 1949 birth is in the future for a device set to 1949-12-30"
    );
}

#[test]
fn wrong_lengths_are_rejected() {
    assert_eq!(id_err("11010519491231002"), IdError::Length { len: 17 }, "17 characters");
    assert_eq!(id_err("11010519491231002X1"), IdError::Length { len: 19 }, "19 characters");
    assert_eq!(id_err("1101051949123100"), IdError::Length { len: 16 }, "16 characters");
    assert_eq!(id_err("11010549123100"), IdError::Length { len: 14 }, "14 characters");
    assert_eq!(id_err("1"), IdError::Length { len: 1 });
    assert_eq!(id_code("11010519491231002"), "ID_LENGTH");
}

#[test]
fn empty_input_is_required() {
    assert_eq!(id_err(""), IdError::Empty);
    assert_eq!(id_err("   "), IdError::Empty, "whitespace only counts as empty");
    assert_eq!(id_code(""), "ID_REQUIRED");
}

#[test]
fn letters_in_the_body_are_rejected() {
    assert_eq!(id_err("11010519491231A02X"), IdError::Chars, "a letter in the serial");
    assert_eq!(id_err("X10105194912310020"), IdError::Chars, "X only allowed last");
    assert_eq!(id_err("1101051949123100XX"), IdError::Chars, "X in 17th place");
    assert_eq!(id_err("11010519491231002Y"), IdError::Chars, "Y as check character");
    assert_eq!(id_err("11010519491231002-"), IdError::Chars, "punctuation");
    assert_eq!(id_err("110105 1949123100X"), IdError::Chars, "an inner space");
    assert_eq!(id_code("11010519491231A02X"), "ID_CHARS");
}

#[test]
fn non_ascii_characters_that_are_not_full_width_are_chars_errors() {
    // The multiplication sign × looks like an X but takes 2 bytes in UTF-8;
    // the number has 18 characters, so the problem is the character, not the length.
    assert_eq!(id_err("11010519491231002×"), IdError::Chars, "× instead of X");
    assert_eq!(id_err("一一010519491231002X"), IdError::Chars, "Chinese numerals");
    assert_eq!(id_err("1101051949123100Ⅹ"), IdError::Length { len: 17 }, "17 characters stay a length error");
}

#[test]
fn full_width_characters_are_rejected_as_such() {
    assert_eq!(id_err("１１０１０５１９４９１２３１００２Ｘ"), IdError::FullWidth, "all full-width");
    assert_eq!(id_err("11010519491231002Ｘ"), IdError::FullWidth, "full-width X only");
    assert_eq!(id_err("1101051949１231002X"), IdError::FullWidth, "one full-width digit");
    assert_eq!(id_err("１１０１０５４９１２３１００２"), IdError::FullWidth, "legacy form in full width");
    assert_eq!(id_err("110105\u{3000}19491231002X"), IdError::FullWidth, "inner ideographic space");
    assert_eq!(id_code("１１０１０５１９４９１２３１００２Ｘ"), "ID_FULLWIDTH");
}

#[test]
fn bad_province_codes_are_rejected() {
    for p in ["00", "10", "16", "20", "39", "47", "55", "60", "66", "70", "72", "80", "84", "90", "99"] {
        let id = with_check(&format!("{p}010219800101001"));
        assert_eq!(id_err(&id), IdError::Region, "province {p}");
        assert_eq!(id_code(&id), "ID_REGION");
    }
}

#[test]
fn error_codes_are_stable() {
    let table = [
        (IdError::Empty, "ID_REQUIRED"),
        (IdError::FullWidth, "ID_FULLWIDTH"),
        (IdError::Length { len: 3 }, "ID_LENGTH"),
        (IdError::Chars, "ID_CHARS"),
        (IdError::Region, "ID_REGION"),
        (IdError::BirthDate, "ID_BIRTH_DATE"),
        (IdError::FutureBirth, "ID_BIRTH_FUTURE"),
        (IdError::Checksum { expected: '1', found: '2' }, "ID_CHECKSUM"),
    ];
    for (err, code) in table {
        assert_eq!(err.code(), code, "{err:?}");
        let issue = err.issue("resident_id");
        assert_eq!(issue.code, code, "issue carries the code");
        assert_eq!(issue.field, "resident_id");
        assert_eq!(issue.severity, Severity::Error, "every ID error blocks saving");
        assert!(!issue.message.zh.is_empty() && !issue.message.en.is_empty(), "{code} has both messages");
        assert!(err.to_string().starts_with(code), "Display starts with the code: {err}");
    }
}

#[test]
fn checksum_message_asks_to_compare_every_digit_not_to_fix_the_last() {
    let issue = id_err("440308199901011235").issue("resident_id");
    // "should be 4" invited changing the last digit, making a mistyped
    // number pass: the typo is usually elsewhere.
    assert!(!issue.message.zh.contains("应为4") && !issue.message.en.contains("should be 4"), "{:?}", issue.message);
    assert!(issue.message.zh.contains("逐位核对"), "{}", issue.message.zh);
    let issue = id_err("11010519491231002").issue("resident_id");
    assert!(issue.message.en.contains("this has 17"), "{}", issue.message.en);
}

// ---------------------------------------------------------------------------
// Masking and age.

#[test]
fn mask_id_keeps_only_the_region() {
    assert_eq!(mask_id("11010519491231002X"), "110105************");
    assert_eq!(mask_id("440308199901011234"), "440308************");
    assert_eq!(mask_id("110105491231002"), "110105*********", "a legacy number is masked at the same places");
    assert_eq!(mask_id("1234567"), "123456*", "short input");
    assert_eq!(mask_id(""), "");
}

/// The attack on the old mask: a township clerk's ledger row printed the
/// region and the last 4 beside the birth date, which is all 18. Now,
/// from everything a masked row shows (the masked number, birth date and
/// sex), at least `ID_CANDIDATES` valid numbers remain.
#[test]
fn a_masked_ledger_row_leaves_at_least_500_id_numbers_possible() {
    use registry::privacy::{ID_CANDIDATES, mask_phone};
    for first17 in ["11010519491231002", "44030819990101123", "34162119880715001"] {
        let id = ResidentId::from_first17(first17).unwrap();
        let real = id.as_str();
        let shown = (mask_id(real), id.birth_date(), id.sex());
        let fits = (0..1000)
            .filter_map(|seq| ResidentId::from_first17(&format!("{}{seq:03}", &real[..14])))
            .filter(|c| (mask_id(c.as_str()), c.birth_date(), c.sex()) == shown)
            .count();
        assert!(fits >= ID_CANDIDATES, "{real}: only {fits} numbers fit its masked row");
    }
    assert_eq!(mask_phone("13812345678"), "138****5678");
    assert_eq!(mask_phone("0527-888"), "********", "not a mobile: hidden whole");
}

#[test]
fn debug_of_a_resident_id_is_masked() {
    let id = parse("11010519491231002X").unwrap();
    let shown = format!("{id:?}");
    assert_eq!(shown, "ResidentId(110105************)");
    assert!(!shown.contains("19491231"), "Debug must not reveal the birth date");
}

#[test]
fn age_on_counts_full_years() {
    let id = parse("11010519491231002X").unwrap();
    assert_eq!(id.age_on(TODAY), 76, "on 2026-11-25");
    assert_eq!(id.age_on(date!(2026 - 12 - 30)), 76, "the day before the birthday");
    assert_eq!(id.age_on(date!(2026 - 12 - 31)), 77, "on the birthday");
    assert_eq!(id.age_on(date!(1949 - 12 - 31)), 0, "on the day of birth");

    assert_eq!(age_on(date!(2010 - 06 - 01), date!(2026 - 05 - 31)), 15);
    assert_eq!(age_on(date!(2010 - 06 - 01), date!(2026 - 06 - 01)), 16);
    // Born on 29 February: in a common year the birthday is reached on 1 March.
    assert_eq!(age_on(date!(2000 - 02 - 29), date!(2026 - 02 - 28)), 25);
    assert_eq!(age_on(date!(2000 - 02 - 29), date!(2026 - 03 - 01)), 26);
    assert_eq!(age_on(date!(2000 - 02 - 29), date!(2024 - 02 - 29)), 24);
    assert_eq!(age_on(date!(2000 - 02 - 29), date!(2024 - 02 - 28)), 23);
}

// ---------------------------------------------------------------------------
// from_first17.

#[test]
fn from_first17_appends_the_check_character() {
    let id = ResidentId::from_first17("11010519491231002").expect("valid");
    assert_eq!(id.as_str(), "11010519491231002X");
    let id = ResidentId::from_first17("44030819990101123").expect("valid");
    assert_eq!(id.as_str(), "440308199901011234");
}

#[test]
fn from_first17_refuses_what_parse_would_refuse() {
    assert!(ResidentId::from_first17("1101051949123100").is_none(), "16 digits");
    assert!(ResidentId::from_first17("110105194912310021").is_none(), "18 digits");
    assert!(ResidentId::from_first17("1101051949123100A").is_none(), "a letter");
    assert!(ResidentId::from_first17("11010519490230002").is_none(), "Feb 30");
    assert!(ResidentId::from_first17("11010518991231002").is_none(), "before 1900");
    assert!(ResidentId::from_first17("00010519491231002").is_none(), "province 00");
    assert!(ResidentId::from_first17("99010519491231002").is_none(), "province 99");
    assert!(ResidentId::from_first17("55000019000101000").is_none(), "province 55 (found by proptest)");
}

// ---------------------------------------------------------------------------
// Properties of the resident ID.

fn valid_first17() -> impl Strategy<Value = (String, Date)> {
    let first = date!(1900 - 01 - 01).to_julian_day();
    let last = TODAY.to_julian_day();
    (prop::sample::select(PROVINCE_CODES.to_vec()), 0u32..10_000, first..=last, 0u32..1000).prop_map(
        |(province, rest, jd, serial)| {
            let born = Date::from_julian_day(jd).expect("in range");
            let s = format!(
                "{province:02}{rest:04}{:04}{:02}{:02}{serial:03}",
                born.year(),
                u8::from(born.month()),
                born.day()
            );
            (s, born)
        },
    )
}

proptest! {
    /// Any 17 digits with a valid province and a past date make an ID that
    /// `parse` accepts, with the independently computed check character.
    #[test]
    fn prop_from_first17_is_accepted_by_parse((first17, born) in valid_first17()) {
        let id = ResidentId::from_first17(&first17).expect("valid province and date");
        prop_assert_eq!(id.as_str(), with_check(&first17));
        prop_assert_eq!(parse(id.as_str()), Ok(id.clone()));
        prop_assert_eq!(parse(&id.as_str().to_lowercase()), Ok(id.clone()));
        prop_assert_eq!(id.birth_date(), born);
        let seventeenth = first17.as_bytes()[16] - b'0';
        prop_assert_eq!(id.sex(), if seventeenth % 2 == 1 { Sex::Male } else { Sex::Female });
    }

    /// For 17 digits with any province and any month and day numbers:
    /// `from_first17` builds an ID exactly when the province and date are
    /// real, and whatever it builds (born by `today`) `parse` accepts.
    #[test]
    fn prop_from_first17_never_builds_an_invalid_id(
        province in 0u32..100,
        rest in 0u32..10_000,
        year in 1890i32..2030,
        month in 0u8..=13,
        day in 0u8..=32,
        serial in 0u32..1000,
    ) {
        let first17 = format!("{province:02}{rest:04}{year:04}{month:02}{day:02}{serial:03}");
        let real = PROVINCE_CODES.contains(&province) && date_of(&first17).is_some();
        let built = ResidentId::from_first17(&first17);
        prop_assert_eq!(built.is_some(), real, "from_first17({}) = {:?}", first17, built);
        if let Some(id) = built
            && id.birth_date() <= TODAY
        {
            prop_assert_eq!(parse(id.as_str()), Ok(id.clone()), "from_first17 built an ID that parse refuses");
        }
    }

    /// Changing any single character of a valid ID to a different digit is
    /// detected: the checksum catches every single substitution, unless the
    /// change already broke the province or the date.
    #[test]
    fn prop_single_digit_error_is_detected(
        (first17, _born) in valid_first17(),
        pos in 0usize..18,
        shift in 1u32..10,
    ) {
        let valid = with_check(&first17);
        let mut chars: Vec<char> = valid.chars().collect();
        let old = chars[pos];
        let new = match old.to_digit(10) {
            Some(d) => char::from_digit((d + shift) % 10, 10).unwrap(),
            None => char::from_digit(shift % 10, 10).unwrap(), // X → any digit
        };
        prop_assert_ne!(old, new);
        chars[pos] = new;
        let changed: String = chars.into_iter().collect();
        let err = parse(&changed);
        prop_assert!(err.is_err(), "{} (from {}) was accepted", changed, valid);
        let err = err.unwrap_err();
        prop_assert!(
            matches!(err, IdError::Checksum { .. } | IdError::BirthDate | IdError::FutureBirth | IdError::Region),
            "unexpected error {:?}", err
        );
        // When the province and date still make sense, it is the checksum that says no.
        let province: u32 = changed[..2].parse().unwrap();
        if PROVINCE_CODES.contains(&province) && date_of(&changed).is_some_and(|d| d <= TODAY) {
            prop_assert!(matches!(err, IdError::Checksum { .. }), "expected a checksum error, got {:?}", err);
        }
    }
}

// ---------------------------------------------------------------------------
// Unified Social Credit Code.

/// The GB 32100-2015 alphabet, typed out: digits and capitals without I, O, S, V, Z.
const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Independent GB 32100-2015 check character: weight of position `i` is
/// 3^i mod 31, the check value is (31 - sum mod 31) mod 31.
fn credit_check(first17: &str) -> char {
    assert_eq!(first17.chars().count(), 17);
    let mut weight = 1u64;
    let mut sum = 0u64;
    for c in first17.chars() {
        let value = ALPHABET.find(c).expect("alphabet character") as u64;
        sum += value * weight;
        weight = weight * 3 % 31;
    }
    let check = (31 - sum % 31) % 31;
    ALPHABET.chars().nth(check as usize).unwrap()
}

fn credit_err(s: &str) -> CreditCodeError {
    match CreditCode::parse(s) {
        Ok(c) => panic!("{s:?} should be refused but parsed as {c:?}"),
        Err(e) => e,
    }
}

/// Real-world codes whose check characters were verified with `credit_check`.
const VALID_CREDIT_CODES: [&str; 6] = [
    "91350100M000100Y43",
    "91110000600037341L",
    "91440300708461136T",
    "914403001922038216",
    "91310000MA1FL1MMXL",
    "12100000400000624D",
];

#[test]
fn valid_credit_codes_are_accepted() {
    for code in VALID_CREDIT_CODES {
        assert_eq!(credit_check(&code[..17]).to_string(), &code[17..], "test vector {code} is itself valid");
        let parsed = CreditCode::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
        assert_eq!(parsed.as_str(), code);
        assert!(parsed.checksum_ok(), "{code} checksum");
        assert_eq!(parsed.checksum_warning("credit_code"), None, "{code}: no warning");
        assert_eq!(parsed.expected_check_char().to_string(), &code[17..]);
    }
}

#[test]
fn lowercase_credit_code_is_accepted_and_upper_cased() {
    let parsed = CreditCode::parse(" 91350100m000100y43 ").expect("lowercase is fine");
    assert_eq!(parsed.as_str(), "91350100M000100Y43", "upper-cased and trimmed");
    assert!(parsed.checksum_ok());
    let parsed = CreditCode::parse("91310000ma1fl1mmxl").expect("lowercase is fine");
    assert_eq!(parsed.as_str(), "91310000MA1FL1MMXL");
    assert!(parsed.checksum_ok());
}

#[test]
fn credit_checksum_off_by_one_parses_but_warns() {
    for (code, expected) in [("91350100M000100Y44", '3'), ("91350100M000100Y42", '3'), ("91110000600037341M", 'L')] {
        let parsed = CreditCode::parse(code).expect("a wrong check character is not a parse error");
        assert_eq!(parsed.as_str(), code, "kept as typed");
        assert!(!parsed.checksum_ok(), "{code}: checksum fails");
        assert_eq!(parsed.expected_check_char(), expected, "{code}");
        let warning = parsed.checksum_warning("credit_code").expect("a warning is raised");
        assert_eq!(warning.code, "CREDIT_CODE_CHECKSUM");
        assert_eq!(warning.severity, Severity::Warning, "overridable, not an error");
        assert_eq!(warning.field, "credit_code");
        assert!(!warning.message.en.contains(&format!("expected {expected}")), "{}", warning.message.en);
        assert!(warning.message.zh.contains("逐位核对"), "{}", warning.message.zh);
    }
    let warning = CreditCode::parse("91350100M000100Y44").unwrap().checksum_warning("other_field").unwrap();
    assert_eq!(warning.field, "other_field", "the warning is reported on the field asked for");
}

/// What a business licence's QR holds, in the forms met in the field.
#[test]
fn the_credit_code_is_found_in_a_licence_qr() {
    let code = "91310000MA1FL1MMXL";
    for text in [
        format!("http://www.gsxt.gov.cn/index.html?uniscid={code}"),
        format!("https://www.gsxt.gov.cn/corp-query-entprise-info-{code}-abc.html"),
        format!("http://qyxy.scjgj.beijing.gov.cn/?uniscid={}&regno=110000012345678", code.to_ascii_lowercase()),
        code.to_owned(),
        format!(" 统一社会信用代码：{code}\n名称：沭阳县宝航食品有限公司"),
    ] {
        let found = CreditCode::find_in(&text).unwrap_or_else(|| panic!("no code found in {text}"));
        assert_eq!(found.as_str(), code, "{text}");
        assert!(found.checksum_ok());
    }
    // A code whose check character fails is not "read": the surveyor types it.
    assert_eq!(CreditCode::find_in("http://www.gsxt.gov.cn/?uniscid=91310000MA1FL1MMXM"), None);
    // An opaque token (newer licences) or a longer run holds no code.
    assert_eq!(CreditCode::find_in("http://www.gsxt.gov.cn/%7B7A3F9C21E0B14D8A9F6E2C5B7D1A0E43%7D"), None);
    assert_eq!(CreditCode::find_in(&format!("X{code}")), None, "19 characters are not a credit code");
    assert_eq!(CreditCode::find_in(""), None);
    // The first valid code wins when a text holds two.
    let first = CreditCode::find_in("91350100M000100Y43/91310000MA1FL1MMXL").unwrap();
    assert_eq!(first.as_str(), "91350100M000100Y43");
}

#[test]
fn forbidden_letters_are_refused() {
    // Replace the 9th character (M) of a valid code by each forbidden letter.
    for ch in ['I', 'O', 'S', 'V', 'Z'] {
        let code = format!("91350100{ch}000100Y43");
        assert_eq!(credit_err(&code), CreditCodeError::Char { ch }, "{code}");
        assert_eq!(credit_err(&code).code(), "CREDIT_CODE_CHARS");
    }
    assert_eq!(credit_err("91350100M0001OOY43"), CreditCodeError::Char { ch: 'O' }, "letter O typed for zero");
    assert_eq!(credit_err("91350100o000100Y43"), CreditCodeError::Char { ch: 'O' }, "lowercase o is upper-cased first");
    assert_eq!(credit_err("91350100-000100Y43"), CreditCodeError::Char { ch: '-' }, "punctuation");
    assert_eq!(credit_err("91350100中000100Y43"), CreditCodeError::Char { ch: '中' }, "a Chinese character");
}

#[test]
fn wrong_credit_code_lengths_are_refused() {
    assert_eq!(credit_err("91350100M000100Y4"), CreditCodeError::Length { len: 17 });
    assert_eq!(credit_err("91350100M000100Y433"), CreditCodeError::Length { len: 19 });
    assert_eq!(credit_err("91350100M000100Y4").code(), "CREDIT_CODE_LENGTH");
    assert_eq!(credit_err(""), CreditCodeError::Empty);
    assert_eq!(credit_err("  "), CreditCodeError::Empty);
    assert_eq!(credit_err("").code(), "CREDIT_CODE_REQUIRED");
}

#[test]
fn full_width_credit_codes_are_refused() {
    assert_eq!(credit_err("９１３５０１００Ｍ０００１００Ｙ４３"), CreditCodeError::FullWidth);
    assert_eq!(credit_err("91350100Ｍ000100Y43"), CreditCodeError::FullWidth, "one full-width letter");
    assert_eq!(credit_err("９１３５０１００Ｍ０００１００Ｙ４３").code(), "CREDIT_CODE_FULLWIDTH");
}

#[test]
fn credit_code_error_issues() {
    for (err, code) in [
        (CreditCodeError::Empty, "CREDIT_CODE_REQUIRED"),
        (CreditCodeError::FullWidth, "CREDIT_CODE_FULLWIDTH"),
        (CreditCodeError::Length { len: 3 }, "CREDIT_CODE_LENGTH"),
        (CreditCodeError::Char { ch: 'O' }, "CREDIT_CODE_CHARS"),
    ] {
        let issue = err.issue("credit_code");
        assert_eq!(issue.code, code);
        assert_eq!(issue.severity, Severity::Error, "{code} is an error");
        assert!(err.to_string().starts_with(code), "{err}");
    }
}

#[test]
fn credit_code_from_first17() {
    let code = CreditCode::from_first17("91350100M000100Y4").expect("valid alphabet");
    assert_eq!(code.as_str(), "91350100M000100Y43");
    assert!(code.checksum_ok());
    assert!(CreditCode::from_first17("91350100M000100Y").is_none(), "16 characters");
    assert!(CreditCode::from_first17("91350100O000100Y4").is_none(), "forbidden O");
    assert!(CreditCode::from_first17("91350100m000100Y4").is_none(), "lowercase is not normalised here");
}

proptest! {
    #[test]
    fn prop_credit_from_first17_round_trips(first17 in "[0-9A-HJ-NP-RTUWXY]{17}") {
        let code = CreditCode::from_first17(&first17).expect("alphabet characters");
        prop_assert_eq!(code.as_str(), format!("{first17}{}", credit_check(&first17)));
        let parsed = CreditCode::parse(code.as_str()).expect("parses");
        prop_assert!(parsed.checksum_ok());
        prop_assert_eq!(parsed, code);
    }

    /// Any single substitution is caught by the check character (31 is prime
    /// and every weight is non-zero mod 31).
    #[test]
    fn prop_credit_single_substitution_fails_checksum(
        first17 in "[0-9A-HJ-NP-RTUWXY]{17}",
        pos in 0usize..18,
        shift in 1usize..31,
    ) {
        let valid = format!("{first17}{}", credit_check(&first17));
        let mut chars: Vec<char> = valid.chars().collect();
        let old = ALPHABET.find(chars[pos]).unwrap();
        chars[pos] = ALPHABET.chars().nth((old + shift) % 31).unwrap();
        let changed: String = chars.into_iter().collect();
        let parsed = CreditCode::parse(&changed).expect("still 18 alphabet characters");
        prop_assert!(!parsed.checksum_ok(), "{} (from {}) passed the checksum", changed, valid);
        prop_assert!(parsed.checksum_warning("credit_code").is_some());
    }
}

// ---------------------------------------------------------------------------
// Mobile numbers.

#[test]
fn valid_mobile_forms_normalise_to_11_digits() {
    for input in [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        " 138 - 1234 - 5678 ",
        "+8613812345678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "8613812345678",
        "86 138 1234 5678",
    ] {
        let m = Mobile::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(m.as_str(), "13812345678", "{input:?}");
    }
    for second in '3'..='9' {
        let n = format!("1{second}012345678");
        assert_eq!(Mobile::parse(&n).map(|m| m.as_str().to_owned()), Ok(n.clone()), "second digit {second}");
    }
}

#[test]
fn invalid_mobile_numbers_are_refused() {
    for (input, what) in [
        ("11812345678", "second digit 1"),
        ("12812345678", "second digit 2"),
        ("10812345678", "second digit 0"),
        ("23812345678", "first digit 2"),
        ("1381234567", "10 digits"),
        ("138123456789", "12 digits"),
        ("1381234567a", "a letter"),
        ("abcdefghijk", "letters"),
        ("", "empty"),
        ("+85213812345678", "Hong Kong prefix"),
        ("+8612812345678", "+86 then second digit 2"),
        ("138.1234.5678", "dots are not separators"),
    ] {
        let issue = Mobile::parse(input).expect_err(what);
        assert_eq!(issue.code, "PHONE_INVALID", "{what}: {input:?}");
        assert_eq!(issue.field, "phone");
        assert_eq!(issue.severity, Severity::Error);
    }
}

#[test]
fn full_width_mobile_is_reported_as_such() {
    let issue = Mobile::parse("１３８１２３４５６７８").expect_err("full-width digits");
    assert_eq!(issue.code, "PHONE_FULLWIDTH");
    let issue = Mobile::parse("138\u{3000}1234\u{3000}5678").expect_err("ideographic spaces");
    assert_eq!(issue.code, "PHONE_FULLWIDTH");
}

#[test]
fn debug_of_a_mobile_is_masked() {
    let m = Mobile::parse("13812345678").unwrap();
    assert_eq!(format!("{m:?}"), "Mobile(138****5678)");
}

// ---------------------------------------------------------------------------
// Record ids from natural keys.

#[test]
fn record_ids_are_deterministic_keyed_and_well_formed() {
    let a = CountySecret::from_bytes([7; 32]);
    let b = CountySecret::from_bytes([8; 32]);
    let key = "member:11010519491231002X";
    let id = a.record_id(key);
    assert_eq!(id, a.record_id(key), "two devices with the same secret agree");
    assert!(is_record_id(id.as_str()), "32 lowercase hex: {id}");
    assert_ne!(id, b.record_id(key), "another county's secret gives another id");
    assert_ne!(id, a.record_id("member:440308199901011234"), "another key gives another id");
    assert!(!id.as_str().contains("1949"), "the id does not reveal the key");

    assert_ne!(a.search_token("resident_id", "x"), a.search_token("phone", "x"), "tokens are domain-separated");
    assert_eq!(a.search_token("phone", "13812345678"), a.search_token("phone", "13812345678"));
    assert_eq!(format!("{a:?}"), "CountySecret(..)", "Debug hides the secret");
}

#[test]
fn id_from_bytes_and_is_record_id() {
    assert_eq!(id_from_bytes(&[0x00, 0x0f, 0xa5, 0xff]).as_str(), "000fa5ff");
    assert!(is_record_id(id_from_bytes(&[0xab; 16]).as_str()));
    assert!(!is_record_id("ABABABABABABABABABABABABABABABAB"), "uppercase hex is not an id");
    assert!(!is_record_id("abababababababababababababababa"), "31 characters");
    assert!(!is_record_id("gbababababababababababababababab"), "not hex");
}

/// A union's poster segment is its id and a tag only the county's secret
/// makes: read back by the same secret; a changed tag, another county's
/// secret, another union's id or a malformed segment names nothing.
#[test]
fn a_poster_names_its_union_only_under_the_countys_secret() {
    use registry::keys::CountySecret;
    use registry::model::RecordId;
    let (ours, theirs) = (CountySecret::from_bytes([1; 32]), CountySecret::from_bytes([2; 32]));
    let union = RecordId::from("0123456789abcdef0123456789abcdef");
    let segment = ours.poster(&union);
    assert_eq!(segment.len(), 32 + 1 + 12, "{segment}");
    assert_eq!(ours.poster_union(&segment), Some(union.clone()));
    assert_eq!(theirs.poster_union(&segment), None, "another county's secret");
    let mut changed = segment.clone().into_bytes();
    let last = changed.len() - 1;
    changed[last] = if changed[last] == b'0' { b'1' } else { b'0' };
    assert_eq!(ours.poster_union(std::str::from_utf8(&changed).unwrap()), None, "a changed tag");
    let other = RecordId::from("f123456789abcdef0123456789abcdef");
    let swapped = format!("{}{}", other.as_str(), &segment[32..]);
    assert_eq!(ours.poster_union(&swapped), None, "another union's id with this tag");
    for bad in ["", "-", "nothing", &segment[..40], &format!("{segment}-x"), &segment.to_uppercase()] {
        assert_eq!(ours.poster_union(bad), None, "{bad}");
    }
}

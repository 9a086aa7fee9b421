//! One cell of a county's own spreadsheet, read as the value it means.
//!
//! Counties keep their ledgers in Excel, typed by many hands over years:
//! full-width digits (１９８５), dates as text in four spellings or as the
//! serial numbers Excel stores (45123 is 2023-07-17), yes and no as 是/否,
//! √, Y or 1, labels abbreviated ("党员" for 中共党员). Each reader here is
//! pure — text in, a value or `None` out — so the planner above can say
//! which column of which row did not read, and the rules in `registry`
//! judge what did.

use registry::Date;
use registry::names::normalise;
use time::Month;

/// The text of a cell as compared: full-width to half-width, trimmed.
pub fn text(cell: &str) -> String {
    normalise(cell)
}

/// A date: `2023-07-17`, `2023/7/17`, `2023.7.17`, `2023年7月17日`,
/// `20230717`, or an Excel serial day number (the 1900 date system,
/// whose day 60 is the 29 February 1900 Lotus never had). A time of day
/// after the date is ignored. `None` for anything else, or a day that
/// does not exist.
pub fn date(cell: &str) -> Option<Date> {
    let t = text(cell);
    if t.is_empty() {
        return None;
    }
    // An Excel serial, possibly with a fraction of a day.
    if let Ok(serial) = t.parse::<f64>()
        && !t.contains(['-', '/'])
        && t.len() != 8
    {
        return excel_serial(serial);
    }
    let day_part = t.split([' ', 'T']).next().unwrap_or("");
    let digits: Vec<&str> =
        day_part.trim_end_matches('日').split(['-', '/', '.', '年', '月']).filter(|p| !p.is_empty()).collect();
    let (y, m, d) = match digits.as_slice() {
        [ymd] if ymd.len() == 8 && ymd.bytes().all(|b| b.is_ascii_digit()) => {
            (ymd[..4].parse().ok()?, ymd[4..6].parse().ok()?, ymd[6..].parse().ok()?)
        }
        [y, m, d] if y.len() == 4 => (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?),
        _ => return None,
    };
    let (y, m, d): (i32, u8, u8) = (y, m, d);
    if !(1900..=2200).contains(&y) {
        return None;
    }
    Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
}

/// Excel's day `serial` (1 = 1900-01-01; Excel counts a 29 February 1900
/// that never was, so serials from 61 on are one day ahead).
pub fn excel_serial(serial: f64) -> Option<Date> {
    if !(1.0..=200_000.0).contains(&serial) {
        return None;
    }
    let whole = serial.trunc() as i64;
    if whole == 60 {
        return None;
    }
    let epoch = Date::from_calendar_date(1899, Month::December, 31).ok()?;
    let days = if whole > 60 { whole - 1 } else { whole };
    epoch.checked_add(time::Duration::days(days))
}

/// Yes or no: 是/否, 有/无, √/×, Y/N, yes/no, true/false, 1/0. An empty
/// cell is no; anything else is `None`.
pub fn yes_no(cell: &str) -> Option<bool> {
    match text(cell).to_lowercase().as_str() {
        "是" | "有" | "√" | "✓" | "y" | "yes" | "true" | "1" | "已建" | "已建立" => Some(true),
        "" | "否" | "无" | "没有" | "×" | "✗" | "n" | "no" | "false" | "0" | "未建" | "未建立" => {
            Some(false)
        }
        _ => None,
    }
}

/// A whole number (a count of workers): `120`, `120.0` (a number cell),
/// `1,200`, `120人`. An empty cell is `Some(0)`.
pub fn count(cell: &str) -> Option<i64> {
    let t: String = text(cell).chars().filter(|c| *c != ',' && *c != '，').collect();
    let t = t.trim_end_matches(['人', '名']);
    if t.is_empty() {
        return Some(0);
    }
    if let Ok(n) = t.parse::<i64>() {
        return (n >= 0).then_some(n);
    }
    let f: f64 = t.parse().ok()?;
    (f >= 0.0 && f.fract() == 0.0 && f < 1e12).then_some(f as i64)
}

/// An identifier typed or stored as a number: a resident ID, a phone, a
/// card number. A number cell arrives as `13800138000` or, for 15-digit
/// IDs, `110105491231002` — already whole; a trailing `.0` is cut. The
/// result has no spaces or dashes inside (`138-0013-8000`).
pub fn code(cell: &str) -> String {
    let t = text(cell);
    let t = t.strip_suffix(".0").unwrap_or(&t);
    t.chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>().to_uppercase()
}

/// Is this identifier masked (`110105********002X`, `138****8000`), as the
/// ledgers are exported for anyone but a county admin who asks?
pub fn masked(code: &str) -> bool {
    code.contains('*')
}

/// Is this a number too long for a spreadsheet's number cell to have kept
/// exactly (an 18-digit ID typed into a number cell loses its last digits
/// to floating point: `1.10105194912310e17`)?
pub fn lost_to_float(cell: &str) -> bool {
    let t = text(cell);
    // Scientific notation: digits (one point among them), E, an optional
    // sign, digits. A credit code may end in E (…24127E) and is no float.
    let Some((mantissa, exponent)) = t.split_once(['e', 'E']) else { return false };
    let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((whole, fraction)) => digits(whole) && (fraction.is_empty() || digits(fraction)),
        None => digits(mantissa),
    };
    mantissa_ok && digits(exponent)
}

/// A value of a labelled list (education, political status, a union's
/// form…) by its label, its stable key or its English name, or by a label
/// that is a prefix or an abbreviation of exactly one of them ("党员" is
/// 中共党员, "大学本科" holds 本科). `None` when nothing or more than one
/// fits.
pub fn label<T: Copy>(cell: &str, all: &[T], names: impl Fn(T) -> [&'static str; 3]) -> Option<T> {
    let t = registry::names::name_key(cell).to_lowercase();
    if t.is_empty() {
        return None;
    }
    let key = |s: &str| registry::names::name_key(s).to_lowercase();
    if let Some(v) = all.iter().copied().find(|v| names(*v).iter().any(|n| key(n) == t)) {
        return Some(v);
    }
    let near: Vec<T> = all
        .iter()
        .copied()
        .filter(|v| {
            let zh = key(names(*v)[0]);
            zh.contains(&t) || t.contains(&zh)
        })
        .collect();
    match near.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn dates_read_in_every_spelling_a_county_has() {
        for s in [
            "2023-07-17",
            "2023/7/17",
            "2023.07.17",
            "2023年7月17日",
            "20230717",
            "２０２３－０７－１７",
            "2023-07-17 00:00:00",
        ] {
            assert_eq!(date(s), Some(date!(2023 - 07 - 17)), "{s}");
        }
        // Excel serials, including the phantom 29 February 1900.
        assert_eq!(date("45124"), Some(date!(2023 - 07 - 17)));
        assert_eq!(date("45124.5"), Some(date!(2023 - 07 - 17)));
        assert_eq!(date("1"), Some(date!(1900 - 01 - 01)));
        assert_eq!(date("59"), Some(date!(1900 - 02 - 28)));
        assert_eq!(date("61"), Some(date!(1900 - 03 - 01)));
        assert_eq!(date("60"), None);
        for bad in ["", "2023-02-30", "17/07/2023", "七月", "2023-13-01", "1800-01-01", "-5"] {
            assert_eq!(date(bad), None, "{bad}");
        }
    }

    #[test]
    fn yes_no_and_counts() {
        for y in ["是", "√", "Y", "yes", "1", "有"] {
            assert_eq!(yes_no(y), Some(true), "{y}");
        }
        for n in ["否", "", "×", "N", "0", "无"] {
            assert_eq!(yes_no(n), Some(false), "{n}");
        }
        assert_eq!(yes_no("也许"), None);
        assert_eq!(count("1,200"), Some(1200));
        assert_eq!(count("１２０"), Some(120));
        assert_eq!(count("120.0"), Some(120));
        assert_eq!(count("35人"), Some(35));
        assert_eq!(count(""), Some(0));
        assert_eq!(count("-3"), None);
        assert_eq!(count("12.5"), None);
        assert_eq!(count("many"), None);
    }

    #[test]
    fn codes_masks_and_floats() {
        assert_eq!(code(" 110105194912310021 "), "110105194912310021");
        assert_eq!(code("11010519491231002x"), "11010519491231002X");
        assert_eq!(code("１３８-0013-8000"), "13800138000");
        assert_eq!(code("13800138000.0"), "13800138000");
        assert!(masked("110105********002X"));
        assert!(!masked("110105194912310021"));
        assert!(lost_to_float("1.10105194912310e17"));
        assert!(lost_to_float("1.1010519491231E+17"));
        assert!(!lost_to_float("110105194912310021"));
        assert!(!lost_to_float("91321322797624127E"), "a credit code ending in E");
        assert!(!lost_to_float("9132132279E624127X"));
    }

    #[test]
    fn labels_by_name_key_or_a_unique_abbreviation() {
        use registry::model::{Education, PoliticalStatus};
        let pol = |s| label(s, PoliticalStatus::ALL, |v| [v.zh(), v.key(), v.en()]);
        assert_eq!(pol("中共党员"), Some(PoliticalStatus::CpcMember));
        assert_eq!(pol("masses"), Some(PoliticalStatus::Masses));
        assert_eq!(pol("群众"), Some(PoliticalStatus::Masses));
        // "党员" is within both 中共党员 and 中共预备党员: not a guess to make.
        assert_eq!(pol("党员"), None);
        let edu = |s| label(s, Education::ALL, |v| [v.zh(), v.key(), v.en()]);
        assert_eq!(edu("大学本科"), Some(Education::Bachelor));
        assert_eq!(edu("高中"), Some(Education::SeniorHigh));
        assert_eq!(edu("博士"), None);
        assert_eq!(edu(""), None);
    }
}

//! Names as compared: normalised text, and the keys under which two records
//! may be the same person or entity (near-duplicates for the county's review
//! queue — the exact duplicates already share a document through
//! [`crate::keys`]).

use crate::model::Record;

/// Full-width ASCII (ＡＢＣ１２３（）) to half-width, the ideographic space
/// to a space, then trimmed with inner runs of space collapsed.
pub fn normalise(s: &str) -> String {
    let half: String = s
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' | '\u{00A0}' => ' ',
            _ => c,
        })
        .collect();
    half.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A name as compared: normalised, with no spaces at all and brackets
/// unified (full-width brackets are already half-width after `normalise`).
pub fn name_key(s: &str) -> String {
    normalise(s).chars().filter(|c| !c.is_whitespace()).collect()
}

/// The legal forms an entity's name may end with, longest first: "某某商贸有限公司"
/// and "某某商贸有限责任公司" are the same entity written twice.
const LEGAL_FORMS: [&str; 8] =
    ["股份有限公司", "有限责任公司", "有限公司", "合作社", "分公司", "公司", "工作室", "商行"];

/// An entity's name as compared for near-duplicates: [`name_key`] with the
/// bracketed place ("(浙江)") and a trailing legal form removed.
pub fn entity_name_key(s: &str) -> String {
    let key = name_key(s);
    let mut plain = String::with_capacity(key.len());
    let mut depth = 0usize;
    for c in key.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            c if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    let stem = LEGAL_FORMS.iter().find_map(|f| plain.strip_suffix(f)).unwrap_or(&plain);
    // A name that is nothing but a legal form stays whole.
    if stem.is_empty() { plain } else { stem.to_owned() }
}

/// The key under which records may be the same person or entity: for a
/// member, the name and birth date; for a legal entity, its name without
/// the legal form, within its township. `None` for other kinds and for
/// records too bare to compare (no name, no birth date). The key holds
/// personal data: store only a keyed hash of it.
pub fn near_duplicate_key(record: &Record) -> Option<String> {
    match record {
        Record::Member(m) => {
            let name = name_key(&m.name);
            let born = m.birth_date?;
            (!name.is_empty()).then(|| format!("member|{name}|{born}"))
        }
        Record::Entity(e) => {
            let name = entity_name_key(&e.name);
            (!name.is_empty()).then(|| format!("entity|{}|{name}", e.place.township))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_and_spaces_are_normalised() {
        assert_eq!(normalise("　ＡＢＣ１２３  公司 "), "ABC123 公司");
        assert_eq!(name_key("某某 （杭州） 公司"), "某某(杭州)公司");
    }

    #[test]
    fn legal_forms_and_bracketed_places_do_not_tell_entities_apart() {
        assert_eq!(entity_name_key("青山商贸有限公司"), entity_name_key("青山商贸有限责任公司"));
        assert_eq!(entity_name_key("青山商贸（浙江）有限公司"), "青山商贸");
        assert_ne!(entity_name_key("青山商贸有限公司"), entity_name_key("青山物流有限公司"));
        assert_eq!(entity_name_key("有限公司"), "有限公司");
    }
}

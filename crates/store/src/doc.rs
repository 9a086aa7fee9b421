//! A record as one Automerge document with a flat layout.
//!
//! Every field of a record is one key of the document's root map, nested
//! fields joined with dots (`place.township`, `liuyou.premises`,
//! `visits.<visit id>.date`), and every value is a scalar. There are no
//! nested Automerge objects. This matters for the commonest real conflict: the
//! same person registered on two tablets offline. Both devices create the
//! document (its id comes from the resident ID), so a nested object such as
//! `place` would be created twice, and Automerge would keep only one of the two
//! objects visible, hiding the other device's fields. With scalars at the root
//! the two creations merge field by field and every value written survives,
//! either as the winner or as a conflict a person settles. This is also why we
//! map records ourselves instead of with autosurgeon, which creates nested
//! objects for nested structs.
//!
//! Lists inside a record (only `Area::grid_members`) are stored whole as one
//! JSON string under a key ending in `[]`; record types use id-keyed maps for
//! anything two devices may add to concurrently.
//!
//! An empty optional field (`None`) is an absent key; clearing a field
//! deletes its key.
//!
//! Reserved keys start with `_`: `_kind`, `_schema`, `_township`, `_grid` and
//! the tombstone `_deleted`, `_deleted_at`, `_deleted_reason`.

use crate::error::StoreError;
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ROOT, ReadDoc, ScalarValue, Value};
use registry::model::{Record, RecordKind};
use serde_json::{Map, Number, Value as Json};
use std::collections::BTreeMap;

/// The schema version written into every document.
pub const SCHEMA_VERSION: i64 = 1;

/// A record's fields as flat key → scalar.
pub type Flat = BTreeMap<String, ScalarValue>;

/// Flattens a record to the keys and scalars of its document (without the
/// reserved `_` keys).
pub fn flatten(record: &Record) -> Flat {
    let json = serde_json::to_value(record).expect("records always serialise");
    let data = json.get("data").cloned().unwrap_or(Json::Null);
    let mut out = Flat::new();
    flatten_into(&mut out, String::new(), &data);
    out
}

fn flatten_into(out: &mut Flat, prefix: String, value: &Json) {
    let key = |k: &str| if prefix.is_empty() { k.to_owned() } else { format!("{prefix}.{k}") };
    match value {
        Json::Object(map) => {
            for (k, v) in map {
                match v {
                    Json::Object(_) => flatten_into(out, key(k), v),
                    Json::Array(_) => {
                        out.insert(format!("{}[]", key(k)), ScalarValue::Str(v.to_string().into()));
                    }
                    // An empty optional field is an absent key, not a stored
                    // null: a record registered on two devices then merges one
                    // device's value into the other's blank instead of
                    // showing a conflict, and a new document has fewer ops.
                    Json::Null => {}
                    _ => {
                        out.insert(key(k), scalar(v));
                    }
                }
            }
        }
        other => {
            out.insert(prefix, scalar(other));
        }
    }
}

fn scalar(v: &Json) -> ScalarValue {
    match v {
        Json::Null => ScalarValue::Null,
        Json::Bool(b) => ScalarValue::Boolean(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => ScalarValue::Int(i),
            None => ScalarValue::F64(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => ScalarValue::Str(s.as_str().into()),
        Json::Array(_) | Json::Object(_) => ScalarValue::Str(v.to_string().into()),
    }
}

fn json(v: &ScalarValue) -> Json {
    match v {
        ScalarValue::Null => Json::Null,
        ScalarValue::Boolean(b) => Json::Bool(*b),
        ScalarValue::Int(i) => Json::Number((*i).into()),
        ScalarValue::Uint(u) => Json::Number((*u).into()),
        ScalarValue::F64(f) => Number::from_f64(*f).map_or(Json::Null, Json::Number),
        ScalarValue::Str(s) => Json::String(s.to_string()),
        ScalarValue::Timestamp(t) => Json::Number((*t).into()),
        ScalarValue::Counter(_) | ScalarValue::Bytes(_) | ScalarValue::Unknown { .. } => Json::Null,
    }
}

/// Loads a document from bytes that came from outside this process (a
/// device, the server, a file, the disk). Fuzzing found input that makes
/// Automerge's loader allocate gigabytes and input that makes it panic
/// (an integer column cut short): the first is refused before Automerge
/// sees it ([`crate::chunks::check`]), the second is caught, so a hostile
/// or damaged document is a refusal like any other malformed document and
/// can never take a server or device down.
pub fn load(bytes: &[u8]) -> Result<AutoCommit, StoreError> {
    guarded(bytes, "the document's", || AutoCommit::load(bytes).map_err(StoreError::Automerge))
}

/// Adds changes from outside to a document, as [`load`] guards loading:
/// a decoder panic is a refusal (the document must then be dropped, not
/// kept: it may hold part of the changes).
pub fn load_incremental(doc: &mut AutoCommit, bytes: &[u8]) -> Result<usize, StoreError> {
    guarded(bytes, "the changes'", || doc.load_incremental(bytes).map_err(StoreError::Automerge))
}

/// The hashes (hex) of the changes in bytes from outside: change chunks,
/// or whole documents. For changes that cannot be applied (kept in a
/// quarantine); what does not decode is left out.
pub fn change_hashes(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in crate::chunks::split(bytes) {
        let change = || automerge::Change::from_bytes(chunk.to_vec()).map_err(|e| StoreError::Malformed(e.to_string()));
        match guarded(chunk, "the change's", change) {
            Ok(change) => out.push(change.hash().to_string()),
            Err(_) => {
                if let Ok(mut doc) = load(chunk) {
                    out.extend(doc.get_changes(&[]).iter().map(|c| c.hash().to_string()));
                }
            }
        }
    }
    out
}

/// The first change in bytes from outside that is not written as Automerge
/// itself writes it, if any (why, in words).
///
/// Why: a change's hash is taken over its bytes as they arrive, but once
/// applied Automerge re-encodes it from its operations whenever it is
/// asked for it. A change that decodes but is laid out otherwise (a
/// column's single value written as a run of one instead of a literal:
/// valid to the decoder, never what Automerge writes) gets a second hash
/// that its document's heads do not know — the server's debug build
/// panics looking it up, a release build stores a document that later
/// cannot be read back. So each change is decoded and encoded again here,
/// and must come out with its own hash. Devices running Sanjian always
/// pass (Automerge wrote their changes); another program's client may not,
/// and its change is kept aside, not stored.
pub fn noncanonical_change(bytes: &[u8]) -> Option<String> {
    const CHANGE: u8 = 1;
    const COMPRESSED_CHANGE: u8 = 2;
    for chunk in crate::chunks::split(bytes) {
        if !matches!(chunk.get(8), Some(&(CHANGE | COMPRESSED_CHANGE))) {
            continue;
        }
        let decoded =
            || automerge::Change::from_bytes(chunk.to_vec()).map_err(|e| StoreError::Malformed(e.to_string()));
        // What does not decode at all is refused by the loader with its own reason.
        let Ok(change) = guarded(chunk, "the change's", decoded) else { continue };
        let again =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| automerge::Change::from(change.decode()).hash()));
        if again.ok() != Some(change.hash()) {
            return Some(format!(
                "change {} (seq {}) is not encoded as Automerge encodes it: decoded and encoded again it is another change",
                change.hash(),
                change.seq()
            ));
        }
    }
    None
}

/// Automerge's decoder over `bytes`, after [`crate::chunks::check`], with
/// a panic turned into a refusal.
fn guarded<T>(bytes: &[u8], what: &str, decode: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
    crate::chunks::check(bytes).map_err(StoreError::Malformed)?;
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode)) {
        Ok(r) => r,
        Err(_) => Err(StoreError::Malformed(format!("{what} bytes make the decoder fail"))),
    }
}

/// Rebuilds a record from its flat fields.
pub fn unflatten(kind: RecordKind, flat: &Flat) -> Result<Record, StoreError> {
    let mut root = Map::new();
    for (key, value) in flat {
        if key.starts_with('_') {
            continue;
        }
        let (path, v) = match key.strip_suffix("[]") {
            Some(path) => {
                let text = match value {
                    ScalarValue::Str(s) => s.to_string(),
                    _ => "[]".to_owned(),
                };
                (path, serde_json::from_str(&text).map_err(|e| StoreError::Malformed(format!("{key}: {e}")))?)
            }
            None => (key.as_str(), json(value)),
        };
        let mut parts = path.split('.').peekable();
        let mut node = &mut root;
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                node.insert(part.to_owned(), v);
                break;
            }
            let entry = node.entry(part.to_owned()).or_insert_with(|| Json::Object(Map::new()));
            if !entry.is_object() {
                *entry = Json::Object(Map::new());
            }
            node = entry.as_object_mut().expect("just made an object");
        }
    }
    let tagged = serde_json::json!({ "kind": kind.key(), "data": Json::Object(root) });
    serde_json::from_value(tagged).map_err(|e| StoreError::Malformed(format!("{}: {e}", kind.key())))
}

/// The winning value of every root key of a document.
pub fn read_flat(doc: &AutoCommit) -> Flat {
    let mut out = Flat::new();
    for item in doc.map_range(ROOT, ..) {
        if let Value::Scalar(s) = Value::from(item.value) {
            out.insert(item.key.to_string(), s.into_owned());
        }
    }
    out
}

/// A reserved string key of the document.
pub fn get_str(doc: &AutoCommit, key: &str) -> Option<String> {
    match doc.get(ROOT, key).ok().flatten() {
        Some((Value::Scalar(s), _)) => match s.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        _ => None,
    }
}

/// The record kind a document says it holds.
pub fn kind_of(doc: &AutoCommit) -> Result<RecordKind, StoreError> {
    let key = get_str(doc, "_kind").ok_or_else(|| StoreError::Malformed("document has no _kind".into()))?;
    RecordKind::from_key(&key).ok_or_else(|| StoreError::Malformed(format!("unknown record kind {key}")))
}

/// The record kind a document's root keys, read already, say it holds.
pub fn kind_in(flat: &Flat) -> Result<RecordKind, StoreError> {
    match flat.get("_kind") {
        Some(ScalarValue::Str(k)) => {
            RecordKind::from_key(k).ok_or_else(|| StoreError::Malformed(format!("unknown record kind {k}")))
        }
        _ => Err(StoreError::Malformed("document has no _kind".into())),
    }
}

/// Writes the differences between `old` and `new` into the document: only
/// changed keys produce operations, so a one-field edit is a small change.
pub fn write_diff(doc: &mut AutoCommit, old: &Flat, new: &Flat) -> Result<usize, StoreError> {
    let mut ops = 0;
    for (key, value) in new {
        if old.get(key) != Some(value) {
            doc.put(ROOT, key.as_str(), value.clone())?;
            ops += 1;
        }
    }
    for key in old.keys() {
        if !key.starts_with('_') && !new.contains_key(key) {
            doc.delete(ROOT, key.as_str())?;
            ops += 1;
        }
    }
    Ok(ops)
}

/// Every value of `key`, winner first, with the actor (device) that wrote it.
pub fn all_values(doc: &AutoCommit, key: &str) -> Vec<(ScalarValue, Vec<u8>)> {
    let mut out = Vec::new();
    for (value, id) in doc.get_all(ROOT, key).unwrap_or_default() {
        if let Value::Scalar(s) = value {
            let actor = match &id {
                ObjId::Id(_, actor, _) => actor.to_bytes().to_vec(),
                ObjId::Root => Vec::new(),
            };
            out.push((s.into_owned(), actor));
        }
    }
    // get_all lists values in op order; the winner (the visible value) is the last.
    out.reverse();
    out
}

/// A scalar for display (history, conflicts): strings bare, others as JSON.
pub fn display(v: &ScalarValue) -> Json {
    json(v)
}

#[cfg(test)]
mod canonical_tests {
    use super::*;

    /// A change creating a county area (`_kind`, `_schema`, `level`,
    /// `name`) by actor 00 01 … 0f, its key column written as four runs of
    /// one instead of one literal run: valid to the decoder, never what
    /// Automerge writes (made by a second client written from
    /// docs/sync.md, which found the fault).
    const NOT_CANONICAL: &str = "856f4a83a20bbd6f01620010000102030405060708090a0b0c0d0e0f010180dcd1eda434000006151d3401420256055712700201055f6b696e6401075f736368656d6101056c6576656c01046e616d650404017c461466766172656101636f756e7479666978747572650400";

    #[test]
    fn a_change_automerge_would_not_write_is_named_and_its_own_changes_pass() {
        let bad: Vec<u8> = (0..NOT_CANONICAL.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&NOT_CANONICAL[i..i + 2], 16).unwrap())
            .collect();
        // It decodes: only the re-encoding tells.
        assert!(automerge::Change::from_bytes(bad.clone()).is_ok());
        let why = noncanonical_change(&bad).expect("named");
        assert!(why.contains("not encoded as Automerge encodes it"), "{why}");
        // Changes Automerge made pass, alone, as a run, compressed or not,
        // and a whole document is not looked into.
        let mut doc = AutoCommit::new().with_actor(automerge::ActorId::from([1u8; 16]));
        doc.put(automerge::ROOT, "_kind", "area").unwrap();
        doc.put(automerge::ROOT, "name", "x".repeat(400)).unwrap();
        doc.commit();
        doc.put(automerge::ROOT, "level", "county").unwrap();
        doc.delete(automerge::ROOT, "name").unwrap();
        let changes: Vec<u8> = doc.get_changes(&[]).iter().flat_map(|c| c.raw_bytes().to_vec()).collect();
        assert_eq!(noncanonical_change(&changes), None);
        let mut compressed = Vec::new();
        for c in doc.get_changes(&[]) {
            compressed.extend_from_slice(&c.clone().bytes());
        }
        assert_eq!(noncanonical_change(&compressed), None);
        assert_eq!(noncanonical_change(&doc.save()), None);
        // One bad change among good ones is still found.
        let mixed: Vec<u8> = changes.iter().chain(&bad).copied().collect();
        assert!(noncanonical_change(&mixed).is_some());
    }
}

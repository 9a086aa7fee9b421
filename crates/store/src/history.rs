//! A record's history (from the Automerge change log) and its conflicts
//! (fields holding concurrent values).

use crate::doc;
use automerge::{AutoCommit, ROOT, ReadDoc, ScalarValue, legacy::Key, legacy::OpType};
use serde::Serialize;

/// One field set or cleared by a change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    /// The value written; None when the field was removed.
    pub value: Option<serde_json::Value>,
}

/// One change to a record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    pub hash: String,
    /// The device (Automerge actor) that made the change, hex.
    pub device: String,
    /// The operator recorded with the change.
    pub by: String,
    /// create, update, delete, settle.
    pub op: String,
    pub note: String,
    pub at_ms: i64,
    pub fields: Vec<FieldChange>,
}

/// The changes of a document, in causal order.
pub(crate) fn history(doc: &mut AutoCommit) -> Vec<HistoryEntry> {
    let mut out = Vec::new();
    for change in doc.get_changes(&[]) {
        let meta: serde_json::Value =
            change.message().and_then(|m| serde_json::from_str(m).ok()).unwrap_or(serde_json::Value::Null);
        let text = |k: &str| meta.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        let expanded = change.decode();
        let fields = expanded
            .operations
            .iter()
            .filter_map(|op| {
                let Key::Map(key) = &op.key else { return None };
                let value = match &op.action {
                    OpType::Put(v) => Some(doc::display(v)),
                    OpType::Delete => None,
                    _ => return None,
                };
                Some(FieldChange { field: key.to_string(), value })
            })
            .collect();
        out.push(HistoryEntry {
            hash: change.hash().to_string(),
            device: change.actor_id().to_hex_string(),
            by: text("by"),
            op: text("op"),
            note: text("note"),
            at_ms: change.timestamp(),
            fields,
        });
    }
    out
}

/// One of the concurrent values of a field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConflictValue {
    pub value: serde_json::Value,
    /// The device that wrote it, hex.
    pub device: String,
    /// The value shown until someone settles the conflict.
    pub winner: bool,
}

/// A field holding concurrent, different values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conflict {
    pub field: String,
    pub values: Vec<ConflictValue>,
}

fn distinct_values(doc: &AutoCommit, key: &str) -> Vec<(ScalarValue, Vec<u8>)> {
    let mut values: Vec<(ScalarValue, Vec<u8>)> = Vec::new();
    for (v, actor) in doc::all_values(doc, key) {
        if !values.iter().any(|(seen, _)| *seen == v) {
            values.push((v, actor));
        }
    }
    values
}

/// Keys whose concurrent values differ (equal values written twice, as when
/// two devices register the same person identically, are no conflict).
pub(crate) fn conflicted_keys(doc: &AutoCommit) -> Vec<String> {
    // One pass over the root marks the keys with concurrent values; only
    // those are compared.
    doc.map_range(ROOT, ..)
        .filter(|item| item.conflict)
        .map(|item| item.key.into_owned())
        .filter(|k| distinct_values(doc, k).len() > 1)
        .collect()
}

/// How many of the keys a pass over the root marked as holding concurrent
/// values really differ ([`conflicted_keys`] with the pass done already).
pub(crate) fn count_conflicted(doc: &AutoCommit, marked: Vec<String>) -> usize {
    marked.iter().filter(|k| distinct_values(doc, k).len() > 1).count()
}

pub(crate) fn conflicts(doc: &AutoCommit) -> Vec<Conflict> {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    conflicted_keys(doc)
        .into_iter()
        .map(|field| {
            let winner = doc::read_flat(doc).remove(&field);
            let values = distinct_values(doc, &field)
                .into_iter()
                .map(|(v, actor)| ConflictValue {
                    winner: winner.as_ref() == Some(&v),
                    value: doc::display(&v),
                    device: hex(&actor),
                })
                .collect();
            Conflict { field, values }
        })
        .collect()
}

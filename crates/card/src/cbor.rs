//! The small CBOR subset cards and lists use: maps with unsigned integer
//! keys in ascending order, whose values are unsigned integers, byte
//! strings, text strings or arrays of those. Decoding is strict: the bytes
//! must be the one canonical encoding ciborium writes (shortest lengths and
//! integers, definite lengths) with nothing after.

use ciborium::value::{Integer, Value as Cbor};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Uint(u64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Value>),
    Map(Map),
}

pub type Map = Vec<(u64, Value)>;

fn to_cbor(v: &Value) -> Cbor {
    match v {
        Value::Uint(n) => Cbor::Integer(Integer::from(*n)),
        Value::Bytes(b) => Cbor::Bytes(b.clone()),
        Value::Text(t) => Cbor::Text(t.clone()),
        Value::Array(a) => Cbor::Array(a.iter().map(to_cbor).collect()),
        Value::Map(m) => map_to_cbor(m),
    }
}

fn map_to_cbor(m: &Map) -> Cbor {
    Cbor::Map(m.iter().map(|(k, v)| (Cbor::Integer(Integer::from(*k)), to_cbor(v))).collect())
}

fn from_cbor(v: Cbor) -> Option<Value> {
    Some(match v {
        Cbor::Integer(i) => Value::Uint(u64::try_from(i).ok()?),
        Cbor::Bytes(b) => Value::Bytes(b),
        Cbor::Text(t) => Value::Text(t),
        Cbor::Array(a) => Value::Array(a.into_iter().map(from_cbor).collect::<Option<_>>()?),
        Cbor::Map(m) => Value::Map(map_from_cbor(m)?),
        _ => return None,
    })
}

fn map_from_cbor(m: Vec<(Cbor, Cbor)>) -> Option<Map> {
    let mut out: Map = Vec::with_capacity(m.len());
    for (k, v) in m {
        let k = match k {
            Cbor::Integer(i) => u64::try_from(i).ok()?,
            _ => return None,
        };
        // Strictly ascending keys: no duplicates, one order.
        if out.last().is_some_and(|(last, _)| *last >= k) {
            return None;
        }
        out.push((k, from_cbor(v)?));
    }
    Some(out)
}

pub fn encode_map(m: &Map) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(&map_to_cbor(m), &mut out).expect("writing to a Vec");
    out
}

/// Decodes a map whose keys are all in `allowed`; `None` unless `bytes` is
/// exactly its canonical encoding.
pub fn decode_map(bytes: &[u8], allowed: &[u64]) -> Option<Map> {
    let mut reader = bytes;
    let value: Cbor = ciborium::de::from_reader(&mut reader).ok()?;
    if !reader.is_empty() {
        return None;
    }
    let m = match value {
        Cbor::Map(m) => map_from_cbor(m)?,
        _ => return None,
    };
    if !m.iter().all(|(k, _)| allowed.contains(k)) || encode_map(&m) != bytes {
        return None;
    }
    Some(m)
}

/// A map value by key.
pub fn get(m: &Map, key: u64) -> Option<&Value> {
    m.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
}

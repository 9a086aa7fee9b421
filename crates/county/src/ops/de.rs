//! Reading request fields that come as text from a path (`/…/{id}/…`) but
//! are numbers: the edges gather path, query and body fields into one
//! request, and a path segment is always text.

use serde::{Deserialize, Deserializer};

/// A number given as a number or as its decimal text.
pub fn number<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        N(i64),
        S(String),
    }
    match Either::deserialize(d)? {
        Either::N(n) => Ok(n),
        Either::S(s) => s.trim().parse().map_err(serde::de::Error::custom),
    }
}

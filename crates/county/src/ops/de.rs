//! Reading request fields that come as text from a path (`/…/{id}/…`) but
//! are numbers: the edges gather path, query and body fields into one
//! request, and a path segment is always text.

use serde::{Deserialize, Deserializer};

/// A number given as a number or as its decimal text.
pub fn number<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize, ts_rs::TS)]
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

/// An optional number, as a number or as its decimal text (a query's
/// `?year=2026`); absent or empty is `None`.
pub fn opt_number<'de, D: Deserializer<'de>, N: std::str::FromStr + Deserialize<'de>>(
    d: D,
) -> Result<Option<N>, D::Error>
where
    N::Err: std::fmt::Display,
{
    #[derive(Deserialize, ts_rs::TS)]
    #[serde(untagged)]
    enum Either<N> {
        N(N),
        S(String),
        None,
    }
    match Option::<Either<N>>::deserialize(d)? {
        None | Some(Either::None) => Ok(None),
        Some(Either::N(n)) => Ok(Some(n)),
        Some(Either::S(s)) if s.trim().is_empty() => Ok(None),
        Some(Either::S(s)) => s.trim().parse().map(Some).map_err(serde::de::Error::custom),
    }
}

/// A yes or no given as a boolean or as text (a query's `?desc=true`);
/// absent or empty is no.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize, ts_rs::TS)]
    #[serde(untagged)]
    enum Either {
        B(bool),
        S(String),
    }
    match Option::<Either>::deserialize(d)? {
        None => Ok(false),
        Some(Either::B(b)) => Ok(b),
        Some(Either::S(s)) => match s.trim() {
            "" | "false" | "0" => Ok(false),
            "true" | "1" => Ok(true),
            other => Err(serde::de::Error::custom(format!("not a yes or no: {other}"))),
        },
    }
}

//! The one SQL abstraction both backends implement: values, the query
//! interface and the dialect (only column types differ).

use super::*;

/// A value bound to or read from a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

impl Val {
    pub fn int(&self) -> i64 {
        match self {
            Val::Int(i) => *i,
            _ => 0,
        }
    }
    pub fn text(&self) -> Option<&str> {
        match self {
            Val::Text(s) => Some(s),
            _ => None,
        }
    }
    pub fn into_blob(self) -> Vec<u8> {
        match self {
            Val::Blob(b) => b,
            _ => Vec::new(),
        }
    }
    pub(crate) fn opt(s: Option<&RecordId>) -> Val {
        s.map_or(Val::Null, |s| Val::Text(s.0.clone()))
    }
}

impl From<&str> for Val {
    fn from(s: &str) -> Val {
        Val::Text(s.to_owned())
    }
}

impl From<String> for Val {
    fn from(s: String) -> Val {
        Val::Text(s)
    }
}

impl From<i64> for Val {
    fn from(i: i64) -> Val {
        Val::Int(i)
    }
}

impl From<Vec<u8>> for Val {
    fn from(b: Vec<u8>) -> Val {
        Val::Blob(b)
    }
}

/// One open transaction of a SQL backend. Queries are written once for both
/// backends: parameters are `$1`, `$2`… numbered in order of first use.
pub trait Sql {
    fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, SyncError>;
    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, SyncError>;
    /// Holds document `id` for this transaction: another transaction that
    /// writes it waits until this one ends, then reads what it wrote. Every
    /// read-modify-write of a document takes it first (two devices pushing
    /// the same record at once would otherwise both read the old document,
    /// and the second write would drop the first one's changes). SQLite's
    /// transactions run one at a time already: nothing to do.
    fn lock_doc(&mut self, _id: &RecordId) -> Result<(), SyncError> {
        Ok(())
    }
}

/// Which SQL a backend speaks, for the few statements that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

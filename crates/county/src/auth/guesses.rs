//! `guesses`: failed sign-ins and enrolment redemptions, counted per key
//! over a sliding window (the server's limits, `server::guard`, decide the
//! keys and the numbers).
//!
//! They live in the database, not in a server's memory, so that several
//! servers behind one load balancer share them: an attacker whose guesses
//! are spread over three servers meets one limit, not three. Keys are
//! stored as keyed hashes (a key names a source address and an account).

use sync::SyncError;
use sync::server::Sql;

/// The migration that creates the table.
pub fn guesses_schema() -> String {
    "CREATE TABLE guesses (limiter TEXT NOT NULL, key TEXT NOT NULL, at BIGINT NOT NULL);
     CREATE INDEX guesses_key ON guesses (limiter, key, at);
     CREATE INDEX guesses_at ON guesses (at);"
        .into()
}

/// How many failures `key` has had since `since` (ms), and the oldest.
pub fn failures_since(db: &mut dyn Sql, limiter: &str, key: &str, since: i64) -> Result<(u64, Option<i64>), SyncError> {
    let rows = db.query(
        "SELECT count(*), min(at) FROM guesses WHERE limiter = $1 AND key = $2 AND at > $3",
        &[limiter.into(), key.into(), since.into()],
    )?;
    let row = rows.first();
    let count = row.map_or(0, |r| r[0].int()) as u64;
    let oldest = row.and_then(|r| match r[1] {
        sync::server::Val::Int(t) => Some(t),
        _ => None,
    });
    Ok((count, oldest))
}

/// Counts one failure of `key` at `at`, and forgets every failure (of any
/// key) from before `expired`.
pub fn add_failure(db: &mut dyn Sql, limiter: &str, key: &str, at: i64, expired: i64) -> Result<(), SyncError> {
    db.execute("DELETE FROM guesses WHERE at <= $1", &[expired.into()])?;
    db.execute("INSERT INTO guesses (limiter, key, at) VALUES ($1, $2, $3)", &[limiter.into(), key.into(), at.into()])?;
    Ok(())
}

/// Forgets `key`'s failures (the right password).
pub fn clear_failures(db: &mut dyn Sql, limiter: &str, key: &str) -> Result<(), SyncError> {
    db.execute("DELETE FROM guesses WHERE limiter = $1 AND key = $2", &[limiter.into(), key.into()])?;
    Ok(())
}

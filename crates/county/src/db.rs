//! The server's database: embedded SQLite (one file, nothing to set up) or
//! PostgreSQL (a database URL). Both run the same queries through
//! [`sync::server::Sql`]; only the schema's column types differ.
//!
//! Every operation is a closure run in one transaction: it commits when the
//! closure returns `Ok` and rolls back otherwise, so a failure halfway
//! through a batch (or a server stopped mid-request) leaves nothing half
//! written.

use std::sync::{Condvar, Mutex};
use sync::SyncError;
use sync::server::{Dialect, Sql, Val};

/// Where the server keeps its data.
#[derive(Debug)]
pub enum Db {
    Sqlite(Lite),
    Postgres(Pool),
}

/// An SQLite database: one connection writes (its transactions run one at
/// a time), and a few read-only connections read beside it. In WAL mode a
/// reader sees the database as of its transaction's first read and never
/// waits for the writer, so work that only reads (a device's pull, the
/// decoding and checking of a push before its short write) runs on both
/// cores while a write commits.
pub struct Lite {
    writer: Mutex<rusqlite::Connection>,
    path: std::path::PathBuf,
    readers: Mutex<Readers>,
    freed: Condvar,
}

#[derive(Default)]
struct Readers {
    idle: Vec<rusqlite::Connection>,
    open: usize,
}

/// The most read-only connections an SQLite database opens: enough to
/// keep every core busy, few enough that their caches stay small.
const MAX_READERS: usize = 4;

impl std::fmt::Debug for Lite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Lite(..)")
    }
}

impl Lite {
    fn writer(&self) -> std::sync::MutexGuard<'_, rusqlite::Connection> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Leases a reader: an idle one, a new one while fewer than
    /// [`MAX_READERS`] are open, or the next one given back.
    fn reader(&self) -> Result<Reader<'_>, SyncError> {
        let mut r = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(c) = r.idle.pop() {
                return Ok(Reader { lite: self, conn: Some(c) });
            }
            if r.open < MAX_READERS {
                r.open += 1;
                drop(r);
                return match self.open_reader() {
                    Ok(c) => Ok(Reader { lite: self, conn: Some(c) }),
                    Err(e) => {
                        self.readers.lock().unwrap_or_else(|p| p.into_inner()).open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            r = self.freed.wait(r).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn open_reader(&self) -> Result<rusqlite::Connection, SyncError> {
        use rusqlite::OpenFlags;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = rusqlite::Connection::open_with_flags(&self.path, flags).map_err(db_err)?;
        conn.execute_batch("PRAGMA busy_timeout = 10000; PRAGMA query_only = ON;").map_err(db_err)?;
        Ok(conn)
    }
}

/// A read-only SQLite connection, back to the pool when dropped.
struct Reader<'l> {
    lite: &'l Lite,
    conn: Option<rusqlite::Connection>,
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            self.lite.readers.lock().unwrap_or_else(|p| p.into_inner()).idle.push(c);
            self.lite.freed.notify_one();
        }
    }
}

/// A small pool of PostgreSQL connections. A connection is leased
/// ([`Lease`]) and goes back when the lease is dropped, even by a panic; a
/// connection found closed (the database restarted) is replaced.
pub struct Pool {
    url: String,
    idle: Mutex<Vec<Conn>>,
    ready: Condvar,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pool(..)")
    }
}

fn db_err(e: impl std::fmt::Display) -> SyncError {
    SyncError::Db(e.to_string())
}

/// Each migration, in order, named; `schema_steps` records which ran.
fn steps(d: Dialect) -> Vec<(&'static str, String)> {
    vec![
        ("sync-v1", sync::server::schema(d)),
        ("auth-v1", crate::auth::schema(d)),
        ("sync-v2-summaries", sync::server::summaries_schema()),
        ("cards-v1", crate::cards::schema()),
        ("sync-v3-quarantine-changes", "ALTER TABLE quarantine ADD COLUMN changes TEXT NOT NULL DEFAULT ''".into()),
        ("console-v1-facts", sync::facts::schema()),
        ("console-v2-exports", crate::ledgers::schema()),
        ("console-v3-imports", crate::reconcile::schema(d)),
        ("auth-v2-user-townships", crate::auth::townships_schema()),
        ("console-v4-facts-areas", sync::facts::schema_v2()),
        ("console-v5-conflicts", sync::facts::schema_v3()),
        ("console-v6-overrides", sync::facts::schema_v4()),
        ("console-v7-dupkeys", sync::facts::schema_v5()),
        ("console-v8-campaign", crate::campaign::schema()),
        ("console-v9-visits", sync::facts::schema_v6()),
        ("auth-v3-token-expiry", crate::auth::token_schema(d)),
        ("auth-v4-suspension", crate::auth::suspension_schema()),
        ("sync-v4-reveals", sync::server::reveals_schema()),
        ("console-v10-card-holders", sync::facts::schema_v7()),
        ("sync-v5-uploads", sync::blobs::uploads_schema()),
        ("auth-v5-wipe", crate::auth::wipe_schema(d)),
        ("console-v11-members-area", sync::facts::schema_v8()),
        ("console-v12-names", sync::facts::schema_v9()),
        ("console-v13-member-names", sync::facts::schema_v10()),
        ("console-v14-grid-indexes", sync::facts::schema_v11()),
        ("sync-v6-facts-digest", sync::server::facts_digest_schema(d)),
        ("auth-v6-guesses", crate::auth::guesses_schema()),
        ("console-v15-export-jobs", crate::ops::exports::jobs_schema(d)),
        ("console-v16-intake-tickets", crate::ops::intake::tickets_schema()),
        ("sync-v7-echo", sync::server::echo_schema()),
        ("console-v17-member-cards", sync::facts::schema_v12()),
        ("apply-v1-applications", crate::applications::schema(d)),
        ("merchants-v1", crate::merchants::schema()),
    ]
}

impl Db {
    /// Opens (creating if needed) a SQLite database file, readable by its
    /// owner only (0600; SQLite gives its WAL and shared-memory files the
    /// database file's mode).
    pub fn sqlite(path: &std::path::Path) -> Result<Db, SyncError> {
        owner_only(path, 0o600).map_err(db_err)?;
        let conn = rusqlite::Connection::open(path).map_err(db_err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000;
             PRAGMA foreign_keys = ON;",
        )
        .map_err(db_err)?;
        let db = Db::Sqlite(Lite {
            writer: Mutex::new(conn),
            path: path.to_owned(),
            readers: Mutex::new(Readers::default()),
            freed: Condvar::new(),
        });
        db.migrate()?;
        Ok(db)
    }

    /// Connects to PostgreSQL with `connections` connections.
    pub fn postgres(url: &str, connections: usize) -> Result<Db, SyncError> {
        let mut idle = Vec::new();
        for _ in 0..connections.max(1) {
            idle.push(Conn::new(postgres::Client::connect(url, postgres::NoTls).map_err(db_err)?));
        }
        let db = Db::Postgres(Pool { url: url.to_owned(), idle: Mutex::new(idle), ready: Condvar::new() });
        db.migrate()?;
        Ok(db)
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    fn migrate(&self) -> Result<(), SyncError> {
        let dialect = self.dialect();
        self.batch("CREATE TABLE IF NOT EXISTS schema_steps (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)")?;
        for (name, sql) in steps(dialect) {
            let done =
                self.tx(|db| Ok(!db.query("SELECT 1 FROM schema_steps WHERE name = $1", &[name.into()])?.is_empty()))?;
            if done {
                continue;
            }
            // One transaction per step: the DDL and its record together.
            match self {
                Db::Sqlite(lite) => {
                    let mut c = lite.writer();
                    let tx = c.transaction().map_err(db_err)?;
                    tx.execute_batch(&sql).map_err(db_err)?;
                    tx.execute(
                        "INSERT INTO schema_steps (name, applied_at) VALUES (?1, ?2)",
                        rusqlite::params![name, now_ms()],
                    )
                    .map_err(db_err)?;
                    tx.commit().map_err(db_err)?;
                }
                Db::Postgres(p) => {
                    let mut client = p.take()?;
                    let result = (|| {
                        let mut tx = client.transaction().map_err(db_err)?;
                        // Two servers starting at once must not both migrate.
                        tx.batch_execute("LOCK TABLE schema_steps IN EXCLUSIVE MODE").map_err(db_err)?;
                        let again = tx.query("SELECT 1 FROM schema_steps WHERE name = $1", &[&name]).map_err(db_err)?;
                        if again.is_empty() {
                            tx.batch_execute(&sql).map_err(db_err)?;
                            tx.execute(
                                "INSERT INTO schema_steps (name, applied_at) VALUES ($1, $2)",
                                &[&name, &now_ms()],
                            )
                            .map_err(db_err)?;
                        }
                        tx.commit().map_err(db_err)
                    })();
                    drop(client);
                    result?;
                }
            }
        }
        self.tx(|db| sync::server::ensure_summaries(db))?;
        // A database with no documents has its facts complete already.
        self.tx(|db| {
            if db.query("SELECT 1 FROM docs LIMIT 1", &[])?.is_empty()
                && db.query("SELECT 1 FROM counters WHERE name = 'facts'", &[])?.is_empty()
            {
                db.execute("INSERT INTO counters (name, value) VALUES ('facts', 1)", &[])?;
            }
            Ok(())
        })
    }

    fn batch(&self, sql: &str) -> Result<(), SyncError> {
        match self {
            Db::Sqlite(lite) => lite.writer().execute_batch(sql).map_err(db_err),
            Db::Postgres(p) => p.take()?.batch_execute(sql).map_err(db_err),
        }
    }

    /// Writes a consistent copy of an SQLite database to `to` while it is
    /// in use (`VACUUM INTO`: a snapshot, compacted). PostgreSQL databases
    /// are copied with `pg_dump` instead.
    pub fn snapshot_sqlite(&self, to: &std::path::Path) -> Result<(), SyncError> {
        match self {
            Db::Sqlite(lite) => {
                let path = to.to_str().ok_or_else(|| SyncError::Server("backup path is not UTF-8".into()))?;
                lite.writer().execute("VACUUM INTO ?1", [path]).map_err(db_err)?;
                Ok(())
            }
            Db::Postgres(_) => Err(SyncError::Server("a PostgreSQL database is backed up with pg_dump".into())),
        }
    }

    /// Runs `f` in one transaction: committed on `Ok`, rolled back on `Err`.
    /// A panic inside `f` (a bug: no input should reach one) rolls the
    /// transaction back and is answered as an error; the connection goes back
    /// to the pool, so a panicking request can never leave the server
    /// without connections.
    pub fn tx<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T, SyncError>) -> Result<T, SyncError> {
        self.tx_with(f)
    }

    /// [`Db::tx`] for work with its own error type (a county operation's
    /// refusal rolls its transaction back just the same).
    pub fn tx_with<T, E: From<SyncError>>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T, E>) -> Result<T, E> {
        let guarded = |sql: &mut dyn Sql| guard(|| f(sql));
        match self {
            Db::Sqlite(lite) => {
                let mut c = lite.writer();
                let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(db_err)?;
                let mut lite = LiteTx(tx);
                let out = guarded(&mut lite)?;
                lite.0.commit().map_err(db_err)?;
                Ok(out)
            }
            Db::Postgres(p) => {
                let mut lease = p.take()?;
                let Conn { client, statements } = lease.conn();
                let tx = client.transaction().map_err(db_err)?;
                let mut pg = Pg { tx, statements };
                let out = guarded(&mut pg)?;
                pg.tx.commit().map_err(db_err)?;
                Ok(out)
            }
        }
    }
}

/// Runs a transaction's work; a panic inside it (a bug: no input should
/// reach one) becomes an error, so the transaction rolls back.
fn guard<T, E: From<SyncError>>(work: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
        .unwrap_or_else(|_| Err(SyncError::Server("the request's work panicked; nothing was written".into()).into()))
}

impl Db {
    /// Runs `f` in a transaction that only reads: on SQLite a read-only
    /// connection beside the writer (any write `f` tries fails, nothing is
    /// written), on PostgreSQL a pooled connection in a `READ ONLY`
    /// transaction. It sees one consistent state of the database, as of its
    /// first read; writes committed meanwhile are not seen. A panic inside
    /// `f` is answered as an error, as in [`Db::tx`].
    pub fn read<T>(&self, f: impl FnOnce(&mut dyn Sql) -> Result<T, SyncError>) -> Result<T, SyncError> {
        let guarded = |sql: &mut dyn Sql| guard(|| f(sql));
        match self {
            Db::Sqlite(lite) => {
                let mut reader = lite.reader()?;
                let conn = reader.conn.as_mut().expect("held until drop");
                let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Deferred).map_err(db_err)?;
                let mut sql = LiteTx(tx);
                guarded(&mut sql)
                // Dropped: the read transaction ends (rolled back).
            }
            Db::Postgres(p) => {
                let mut lease = p.take()?;
                let Conn { client, statements } = lease.conn();
                let mut tx = client.transaction().map_err(db_err)?;
                tx.batch_execute("SET TRANSACTION READ ONLY").map_err(db_err)?;
                let mut pg = Pg { tx, statements };
                let out = guarded(&mut pg)?;
                pg.tx.commit().map_err(db_err)?;
                Ok(out)
            }
        }
    }
}

impl Pool {
    /// Waits for an idle connection; one found closed is replaced.
    fn take(&self) -> Result<Lease<'_>, SyncError> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let client = loop {
            if let Some(c) = idle.pop() {
                break c;
            }
            idle = self.ready.wait(idle).unwrap_or_else(|e| e.into_inner());
        };
        drop(idle);
        if client.client.is_closed() {
            // The slot is kept even if the database cannot be reached now:
            // the closed client goes back and the next lease retries.
            return match postgres::Client::connect(&self.url, postgres::NoTls) {
                Ok(fresh) => Ok(Lease { pool: self, client: Some(Conn::new(fresh)) }),
                Err(e) => {
                    self.give(client);
                    Err(db_err(e))
                }
            };
        }
        Ok(Lease { pool: self, client: Some(client) })
    }

    fn give(&self, c: Conn) {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).push(c);
        self.ready.notify_one();
    }
}

/// A connection taken from the pool, given back when dropped (by a panic
/// too).
struct Lease<'p> {
    pool: &'p Pool,
    client: Option<Conn>,
}

/// A pooled connection and the statements prepared on it, by their SQL:
/// a statement is parsed and planned once per connection, not once per
/// query (every query of a push or a pull was two round trips).
struct Conn {
    client: postgres::Client,
    statements: std::collections::HashMap<String, postgres::Statement>,
}

/// The most statements a connection keeps prepared (the feed's and the
/// scope filters' SQL varies with a scope's size); past it they are all
/// dropped and prepared again as used.
const MAX_STATEMENTS: usize = 256;

impl Conn {
    fn new(client: postgres::Client) -> Conn {
        Conn { client, statements: Default::default() }
    }
}

impl Lease<'_> {
    fn conn(&mut self) -> &mut Conn {
        self.client.as_mut().expect("held until drop")
    }
}

impl std::ops::Deref for Lease<'_> {
    type Target = postgres::Client;
    fn deref(&self) -> &postgres::Client {
        &self.client.as_ref().expect("held until drop").client
    }
}

impl std::ops::DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut postgres::Client {
        &mut self.client.as_mut().expect("held until drop").client
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            self.pool.give(c);
        }
    }
}

/// Makes `path` (created empty if missing, a file unless `mode` has an
/// execute bit) readable by its owner only: the server's data never lies
/// open to other accounts on the machine.
pub fn owner_only(path: &std::path::Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if !path.exists() {
        if mode & 0o100 != 0 {
            std::fs::create_dir_all(path)?;
        } else {
            std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(path)?;
        }
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

pub use store::clock::now_ms;

struct LiteTx<'a>(rusqlite::Transaction<'a>);

fn lite_params(params: &[Val]) -> Vec<rusqlite::types::Value> {
    use rusqlite::types::Value;
    params
        .iter()
        .map(|p| match p {
            Val::Null => Value::Null,
            Val::Int(i) => Value::Integer(*i),
            Val::Text(s) => Value::Text(s.clone()),
            Val::Blob(b) => Value::Blob(b.clone()),
        })
        .collect()
}

impl Sql for LiteTx<'_> {
    fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, SyncError> {
        let mut stmt = self.0.prepare_cached(sql).map_err(db_err)?;
        let n = stmt.execute(rusqlite::params_from_iter(lite_params(params))).map_err(db_err)?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, SyncError> {
        let mut stmt = self.0.prepare_cached(sql).map_err(db_err)?;
        let cols = stmt.column_count();
        let rows = stmt
            .query_map(rusqlite::params_from_iter(lite_params(params)), |r| {
                (0..cols)
                    .map(|i| {
                        Ok(match r.get_ref(i)? {
                            rusqlite::types::ValueRef::Null => Val::Null,
                            rusqlite::types::ValueRef::Integer(i) => Val::Int(i),
                            rusqlite::types::ValueRef::Real(f) => Val::Int(f as i64),
                            rusqlite::types::ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
                            rusqlite::types::ValueRef::Blob(b) => Val::Blob(b.to_vec()),
                        })
                    })
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err)?;
        Ok(rows)
    }
}

struct Pg<'a> {
    tx: postgres::Transaction<'a>,
    statements: &'a mut std::collections::HashMap<String, postgres::Statement>,
}

impl Pg<'_> {
    /// The statement for `sql`, prepared once per connection.
    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, SyncError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.tx.prepare(sql).map_err(db_err)?;
        if self.statements.len() >= MAX_STATEMENTS {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }
}

/// SQL NULL for a parameter of any column type. (`None::<String>` is
/// refused for any column but text: a census visit with no position failed
/// with "error serializing parameter".)
#[derive(Debug)]
struct Null;

impl postgres::types::ToSql for Null {
    fn to_sql(
        &self,
        _: &postgres::types::Type,
        _: &mut postgres::types::private::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(postgres::types::IsNull::Yes)
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

fn pg_params(params: &[Val]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
    params
        .iter()
        .map(|p| -> Box<dyn postgres::types::ToSql + Sync> {
            match p {
                Val::Null => Box::new(Null),
                Val::Int(i) => Box::new(*i),
                Val::Text(s) => Box::new(s.clone()),
                Val::Blob(b) => Box::new(b.clone()),
            }
        })
        .collect()
}

impl Sql for Pg<'_> {
    fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, SyncError> {
        let owned = pg_params(params);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = owned.iter().map(|b| b.as_ref()).collect();
        let stmt = self.statement(sql)?;
        self.tx.execute(&stmt, &refs).map_err(db_err)
    }

    /// A transaction-scoped advisory lock on the id's hash: it holds a
    /// document that has no row yet too (two devices registering the same
    /// person at once), and ends with the transaction.
    fn lock_doc(&mut self, id: &registry::model::RecordId) -> Result<(), SyncError> {
        let stmt = self.statement("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")?;
        self.tx.execute(&stmt, &[&id.as_str()]).map_err(db_err)?;
        Ok(())
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, SyncError> {
        use postgres::types::Type;
        let owned = pg_params(params);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = owned.iter().map(|b| b.as_ref()).collect();
        let stmt = self.statement(sql)?;
        let rows = self.tx.query(&stmt, &refs).map_err(db_err)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut vals = Vec::with_capacity(row.len());
            for (i, col) in row.columns().iter().enumerate() {
                let t = col.type_();
                let v = if *t == Type::INT8 {
                    row.try_get::<_, Option<i64>>(i).map(|v| v.map_or(Val::Null, Val::Int))
                } else if *t == Type::INT4 {
                    row.try_get::<_, Option<i32>>(i).map(|v| v.map_or(Val::Null, |v| Val::Int(i64::from(v))))
                } else if *t == Type::BYTEA {
                    row.try_get::<_, Option<Vec<u8>>>(i).map(|v| v.map_or(Val::Null, Val::Blob))
                } else {
                    row.try_get::<_, Option<String>>(i).map(|v| v.map_or(Val::Null, Val::Text))
                };
                vals.push(v.map_err(db_err)?);
            }
            out.push(vals);
        }
        Ok(out)
    }
}

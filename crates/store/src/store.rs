//! The store handle: open/create, write, read, search, merge.

use crate::doc::{self, Flat};
use crate::error::StoreError;
use crate::schema::{self, Projector, docs, meta, outbox};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, ROOT, ReadDoc, ScalarValue};
use rand::RngCore;
use registry::keys::{CountySecret, id_from_bytes};
use registry::message::{Issue, Severity, blocks_saving};
use registry::model::{Record, RecordId, RecordKind};
use registry::{Date, validate};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, params};
use serde::Serialize;
use std::path::Path;

/// The 32-byte key that encrypts a store.
#[derive(Clone)]
pub struct StoreKey([u8; 32]);

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

impl StoreKey {
    pub fn from_bytes(bytes: [u8; 32]) -> StoreKey {
        StoreKey(bytes)
    }

    fn pragma(&self) -> String {
        let hex: String = self.0.iter().map(|b| format!("{b:02x}")).collect();
        format!("PRAGMA key = \"x'{hex}'\";")
    }
}

/// What a new store is created with.
#[derive(Debug, Clone)]
pub struct Init {
    pub county_secret: CountySecret,
    /// The device's id, which is also its Automerge actor; random when None.
    pub device_id: Option<[u8; 16]>,
}

impl Init {
    pub fn new(county_secret: CountySecret) -> Init {
        Init { county_secret, device_id: None }
    }
}

/// The result of a save.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Saved {
    pub id: RecordId,
    /// Issues that did not block saving (advice for the UI).
    pub issues: Vec<Issue>,
    /// False when the record was unchanged and nothing was written.
    pub changed: bool,
}

/// Who deleted a record, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tombstone {
    pub by: String,
    pub at_ms: i64,
    pub reason: String,
}

/// A record as read back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRecord {
    pub id: RecordId,
    pub record: Record,
    pub deleted: Option<Tombstone>,
    /// Fields holding concurrent values (see [`Store::conflicts`]).
    pub conflicts: usize,
    /// The county's return of the record for correction, until it is edited.
    pub returned: Option<Returned>,
}

/// One entry of the change feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeedEntry {
    pub id: RecordId,
    /// The write sequence number: the feed's cursor.
    pub seq: i64,
    pub kind: RecordKind,
    pub township: Option<RecordId>,
    pub grid: Option<RecordId>,
    pub deleted: bool,
}

/// One row of a list or search result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListRow {
    pub id: RecordId,
    pub kind: RecordKind,
    pub name: String,
    pub township: Option<RecordId>,
    pub grid: Option<RecordId>,
    pub union_id: Option<RecordId>,
    pub conflicts: i64,
}

/// An open store.
#[derive(Debug)]
pub struct Store {
    pub(crate) conn: Connection,
    device: [u8; 16],
    secret: CountySecret,
    operator: String,
    // Fields drop in declaration order: `conn` closes first, then the
    // checkpointer's connection, the last one, which checkpoints the WAL.
    _checkpointer: Option<Checkpointer>,
}

/// Copies the WAL back into the database on a background thread, so that a
/// save never waits for a checkpoint (SQLite's automatic checkpoint runs
/// inside whichever commit crosses the threshold, stalling that save for tens
/// of milliseconds). The store's own connection has automatic checkpoints off.
#[derive(Debug)]
struct Checkpointer {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    /// Checkpoint when the WAL holds more than this many pages (4 MiB).
    const THRESHOLD_PAGES: i64 = 1000;

    fn start(path: &Path, key: &StoreKey) -> Result<Checkpointer, StoreError> {
        let conn = connect(path, key, false)?;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new().name("sanjian-checkpoint".into()).spawn(move || {
            use std::sync::atomic::Ordering;
            while !flag.load(Ordering::Relaxed) {
                std::thread::park_timeout(std::time::Duration::from_millis(250));
                // PASSIVE never blocks writers or readers; it copies what it can.
                // Its result row is (busy, wal pages, pages checkpointed).
                let wal_pages = conn.query_row("PRAGMA wal_checkpoint(NOOP)", [], |r| r.get::<_, i64>(1)).unwrap_or(0);
                if wal_pages >= Self::THRESHOLD_PAGES {
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
            }
        })?;
        Ok(Checkpointer { stop, thread: Some(thread) })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

const ROW_COLUMNS: &str = "id, kind, name, township, grid, union_id, conflicts";

fn list_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ListRow> {
    let kind: String = r.get(1)?;
    Ok(ListRow {
        id: RecordId(r.get(0)?),
        kind: RecordKind::from_key(&kind).unwrap_or(RecordKind::Area),
        name: r.get(2)?,
        township: r.get::<_, Option<String>>(3)?.map(RecordId),
        grid: r.get::<_, Option<String>>(4)?.map(RecordId),
        union_id: r.get::<_, Option<String>>(5)?.map(RecordId),
        conflicts: r.get(6)?,
    })
}

pub(crate) use crate::clock::now_ms;

/// A fresh record id for a record with no natural key.
pub fn random_id() -> RecordId {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    id_from_bytes(&bytes)
}

/// Opens the SQLCipher connection and proves the key, without touching data.
fn connect(path: &Path, key: &StoreKey, create: bool) -> Result<Connection, StoreError> {
    let shown = path.display().to_string();
    let existing = std::fs::metadata(path).map(|m| m.len() > 0).unwrap_or(false);
    if create && existing {
        return Err(StoreError::AlreadyExists(shown));
    }
    if !create {
        if !existing {
            return Err(StoreError::Missing(shown));
        }
        let mut head = [0u8; 16];
        use std::io::Read;
        let n = std::fs::File::open(path)?.read(&mut head)?;
        if n == 16 && &head == b"SQLite format 3\0" {
            return Err(StoreError::NotEncrypted);
        }
    }
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags)?;
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
    conn.execute_batch(&key.pragma())?;
    // The first read proves the key: SQLCipher reports NOTADB otherwise.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA temp_store = MEMORY;
         PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -16000;
         PRAGMA busy_timeout = 5000;
         PRAGMA journal_size_limit = 33554432;",
    )?;
    Ok(conn)
}

impl Store {
    /// Creates a new store at `path`. Refuses if any file is already there.
    pub fn create(path: &Path, key: &StoreKey, init: &Init) -> Result<Store, StoreError> {
        let conn = connect(path, key, true)?;
        let mut store = Store::initialise(conn, init)?;
        store.fill_columns()?;
        store.start_checkpointer(path, key)?;
        Ok(store)
    }

    fn start_checkpointer(&mut self, path: &Path, key: &StoreKey) -> Result<(), StoreError> {
        self._checkpointer = Some(Checkpointer::start(path, key)?);
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(())
    }

    /// An unencrypted in-memory store, for tests and benchmarks of logic.
    pub fn in_memory(init: &Init) -> Result<Store, StoreError> {
        Store::initialise(Connection::open_in_memory()?, init)
    }

    fn initialise(mut conn: Connection, init: &Init) -> Result<Store, StoreError> {
        let device = init.device_id.unwrap_or_else(|| {
            let mut d = [0u8; 16];
            rand::rng().fill_bytes(&mut d);
            d
        });
        let tx = conn.transaction()?;
        tx.pragma_update(None, "application_id", schema::APPLICATION_ID)?;
        schema::migrate(&tx)?;
        meta::set(&tx, "device_id", &device)?;
        meta::set(&tx, "county_secret", init.county_secret.as_bytes())?;
        meta::set(&tx, "created_at", &now_ms().to_be_bytes())?;
        tx.commit()?;
        Ok(Store { conn, device, secret: init.county_secret.clone(), operator: String::new(), _checkpointer: None })
    }

    /// Opens an existing store. A wrong key, a damaged file, a plain SQLite
    /// file or another program's database each give their own error; nothing
    /// is ever re-created over an existing file.
    pub fn open(path: &Path, key: &StoreKey) -> Result<Store, StoreError> {
        let mut conn = connect(path, key, false)?;
        let app: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
        if app != schema::APPLICATION_ID {
            return Err(StoreError::Foreign);
        }
        // A bulk load cut short is finished before any migration runs.
        crate::bulk::recover(&mut conn)?;
        let tx = conn.transaction()?;
        schema::migrate(&tx)?;
        tx.commit()?;
        let device: [u8; 16] = meta::get(&conn, "device_id")?
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| StoreError::Malformed("store has no device id".into()))?;
        let secret: [u8; 32] = meta::get(&conn, "county_secret")?
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| StoreError::Malformed("store has no county secret".into()))?;
        let mut store = Store {
            conn,
            device,
            secret: CountySecret::from_bytes(secret),
            operator: String::new(),
            _checkpointer: None,
        };
        store.fill_columns()?;
        store.start_checkpointer(path, key)?;
        Ok(store)
    }

    /// Fills in projection columns added after rows were written, once:
    /// the near-duplicate tokens (`records::V3` marks them `X''`) and the
    /// members' cards (`members::V2` marks them `?`), from the documents.
    fn fill_columns(&mut self) -> Result<(), StoreError> {
        let ids = |conn: &Connection, sql: &str, mark: &dyn rusqlite::ToSql| -> Result<Vec<RecordId>, StoreError> {
            Ok(conn.prepare(sql)?.query_map([mark], |r| Ok(RecordId(r.get(0)?)))?.collect::<Result<_, _>>()?)
        };
        let dupkeys = ids(&self.conn, "SELECT id FROM records WHERE dupkey = ?1", &Vec::<u8>::new())?;
        let cards = ids(&self.conn, "SELECT id FROM members WHERE card_serial = ?1", &schema::members::UNFILLED)?;
        if dupkeys.is_empty() && cards.is_empty() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        let record = |tx: &rusqlite::Transaction<'_>, id: &RecordId| -> Result<Option<Record>, StoreError> {
            Ok(match docs::bytes(tx, id)? {
                Some(bytes) => {
                    let doc = doc::load(&bytes).map_err(|e| StoreError::Malformed(format!("document {id}: {e}")))?;
                    hydrate(&doc).ok()
                }
                None => None,
            })
        };
        for id in dupkeys {
            let token = record(&tx, &id)?.and_then(|r| schema::records::dupkey(&self.secret, &r));
            tx.execute(
                "UPDATE records SET dupkey = ?1 WHERE id = ?2",
                params![token.as_ref().map(|t| &t[..]), id.as_str()],
            )?;
        }
        for id in cards {
            match record(&tx, &id)? {
                Some(Record::Member(m)) => schema::members::upsert(&tx, &id, &m)?,
                _ => {
                    tx.execute("UPDATE members SET card_serial = NULL WHERE id = ?1", [id.as_str()])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The person operating this device, recorded with every change.
    pub fn set_operator(&mut self, name: &str) {
        self.operator = name.to_owned();
    }

    pub fn device_id(&self) -> [u8; 16] {
        self.device
    }

    pub fn county_secret(&self) -> &CountySecret {
        &self.secret
    }

    /// The raw connection, for read-only reports in sibling crates' tests.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn actor(&self) -> ActorId {
        ActorId::from(self.device)
    }

    fn message(&self, op: &str, note: &str) -> CommitOptions {
        Writer::of(self).message(op, note)
    }

    pub(crate) fn load(&self, id: &RecordId) -> Result<Option<AutoCommit>, StoreError> {
        match docs::bytes(&self.conn, id)? {
            Some(bytes) => {
                let doc = doc::load(&bytes)
                    .map_err(|e| StoreError::Malformed(format!("document {id}: {e}")))?
                    .with_actor(self.actor());
                Ok(Some(doc))
            }
            None => Ok(None),
        }
    }

    /// The id a new record gets: derived from its natural key, else random.
    pub fn id_for(&self, record: &Record) -> RecordId {
        match record.natural_key() {
            Some(key) => self.secret.record_id(&key),
            None => random_id(),
        }
    }

    /// Validates and saves a new record. A record whose natural key is already
    /// registered gives [`StoreError::Duplicate`] with the existing id.
    pub fn insert(&mut self, record: Record, today: Date) -> Result<Saved, StoreError> {
        let id = self.id_for(&record);
        let writer = Writer::of(self);
        let tx = self.conn.transaction()?;
        let saved = write_new(&tx, &writer, id, record, today)?;
        tx.commit()?;
        Ok(saved)
    }

    /// Saves many new records given with their ids in one transaction (the
    /// synthetic county, imports). Stops at the first invalid record, writing
    /// nothing.
    pub fn insert_many(
        &mut self,
        records: impl IntoIterator<Item = (RecordId, Record)>,
        today: Date,
    ) -> Result<usize, StoreError> {
        let writer = Writer::of(self);
        let tx = self.conn.transaction()?;
        let mut n = 0;
        for (id, record) in records {
            write_new(&tx, &writer, id, record, today)?;
            n += 1;
        }
        tx.commit()?;
        Ok(n)
    }

    /// Validates and saves an edit of record `id`. Only changed fields are
    /// written, so concurrent edits of other fields merge cleanly.
    pub fn update(&mut self, id: &RecordId, record: Record, today: Date) -> Result<Saved, StoreError> {
        let writer = Writer::of(self);
        let tx = self.conn.transaction()?;
        let saved = write_update(&tx, &writer, id, record, today)?;
        tx.commit()?;
        Ok(saved)
    }

    /// Writes that land together or not at all, in one transaction: a
    /// transfer and the member it moves, a union and the entity it covers.
    /// Any error (a record refused by the rules included) rolls back every
    /// write of the batch.
    pub fn batch<T>(
        &mut self,
        today: Date,
        work: impl FnOnce(&mut Batch<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let writer = Writer::of(self);
        let tx = self.conn.transaction()?;
        let mut batch = Batch { tx: &tx, writer: &writer, today };
        let out = work(&mut batch)?;
        tx.commit()?;
        Ok(out)
    }

    /// Deletes a record: a tombstone (who, when, why) in its document, never a
    /// hard delete, so the deletion reaches every device.
    pub fn delete(&mut self, id: &RecordId, reason: &str) -> Result<(), StoreError> {
        let mut doc = self.load(id)?.ok_or_else(|| StoreError::NotFound(id.to_string()))?;
        let record = hydrate(&doc)?;
        put_tombstone(&mut doc, &self.operator, reason)?;
        doc.commit_with(self.message("delete", reason));
        let writer = Writer::of(self);
        let tx = self.conn.transaction()?;
        persist(&tx, &writer, id, &mut doc, &record, true)?;
        tx.commit()?;
        Ok(())
    }

    /// Reads a record (deleted ones too, with their tombstone).
    pub fn get(&self, id: &RecordId) -> Result<Option<StoredRecord>, StoreError> {
        let Some(doc) = self.load(id)? else { return Ok(None) };
        stored_record(id, &doc).map(Some)
    }

    /// The encoded document of a record (for merging into another store).
    pub fn export_doc(&self, id: &RecordId) -> Result<Vec<u8>, StoreError> {
        docs::bytes(&self.conn, id)?.ok_or_else(|| StoreError::NotFound(id.to_string()))
    }

    /// Every document id, in id order.
    pub fn doc_ids(&self) -> Result<Vec<RecordId>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT id FROM docs ORDER BY id")?;
        let ids = stmt.query_map([], |r| Ok(RecordId(r.get(0)?)))?.collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// Merges a document received from elsewhere into the store. The result
    /// is stored whatever the rules say of it (a merge cannot be refused
    /// without losing someone's work); issues are reported for review.
    /// A document that cannot be read as a record is refused whole.
    pub fn merge_doc(&mut self, id: &RecordId, bytes: &[u8]) -> Result<Vec<Issue>, StoreError> {
        self.apply_changes(id, bytes)
    }

    /// Applies changes received from elsewhere (a whole saved document or
    /// the output of [`Store::changes_since`]) to a record's document. Applying
    /// the same bytes twice changes nothing. Changes whose dependencies are
    /// missing are refused ([`StoreError::MissingDependencies`]): ask the
    /// sender for the changes since [`Store::heads`]. Bytes that are not
    /// Automerge, or that leave the document unreadable as a record, are
    /// refused whole and nothing is written. Like [`Store::merge_doc`], this
    /// is not a local change and does not touch the outbox.
    pub fn apply_changes(&mut self, id: &RecordId, bytes: &[u8]) -> Result<Vec<Issue>, StoreError> {
        let mut doc = self.load(id)?.unwrap_or_else(|| AutoCommit::new().with_actor(self.actor()));
        let before = doc.get_heads();
        doc::load_incremental(&mut doc, bytes).map_err(|e| StoreError::Malformed(format!("document {id}: {e}")))?;
        if !doc.get_missing_deps(&[]).is_empty() {
            // Changes that build on changes we lack: refuse them whole rather
            // than keep them in memory only; the sender resends from our heads.
            return Err(StoreError::MissingDependencies(id.to_string()));
        }
        if doc.get_heads() == before {
            return Ok(Vec::new());
        }
        let mut record = hydrate(&doc)?;
        let issues = validate::check(&mut record, Date::MAX);
        let writer = Writer::of(self);
        let tx = self.conn.transaction()?;
        persist(&tx, &writer, id, &mut doc, &record, false)?;
        tx.commit()?;
        Ok(issues)
    }

    /// The heads of a record's document: the hashes of its latest changes.
    pub fn heads(&self, id: &RecordId) -> Result<Vec<automerge::ChangeHash>, StoreError> {
        let mut doc = self.load(id)?.ok_or_else(|| StoreError::NotFound(id.to_string()))?;
        Ok(doc.get_heads())
    }

    /// The changes of a record that a peer holding `have` lacks, encoded for
    /// [`Store::apply_changes`]. Empty `have` gives the whole history.
    pub fn changes_since(&self, id: &RecordId, have: &[automerge::ChangeHash]) -> Result<Vec<u8>, StoreError> {
        let mut doc = self.load(id)?.ok_or_else(|| StoreError::NotFound(id.to_string()))?;
        Ok(doc.save_after(have))
    }

    /// Documents written here (locally or by merge) after `after_seq`, in
    /// write order: the cursor-based feed a pull serves. Pass the last
    /// entry's `seq` to continue.
    pub fn feed(&self, after_seq: i64, limit: usize) -> Result<Vec<FeedEntry>, StoreError> {
        let rows = self
            .conn
            .prepare_cached(
                "SELECT id, seq, kind, township, grid, deleted FROM docs WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?
            .query_map(params![after_seq, limit as i64], |r| {
                let kind: String = r.get(2)?;
                Ok(FeedEntry {
                    id: RecordId(r.get(0)?),
                    seq: r.get(1)?,
                    kind: RecordKind::from_key(&kind).unwrap_or(RecordKind::Area),
                    township: r.get::<_, Option<String>>(3)?.map(RecordId),
                    grid: r.get::<_, Option<String>>(4)?.map(RecordId),
                    deleted: r.get(5)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Records that a peer now holds `acked` of a document. The outbox entry
    /// is cleared only if every local head is among them: a change made
    /// after the push stays queued.
    pub fn ack(&mut self, id: &RecordId, acked: &[automerge::ChangeHash]) -> Result<bool, StoreError> {
        let heads = self.heads(id)?;
        if !heads.iter().all(|h| acked.contains(h)) {
            return Ok(false);
        }
        let tx = self.conn.transaction()?;
        outbox::clear(&tx, id)?;
        tx.commit()?;
        Ok(true)
    }

    /// Records whose name holds `text` anywhere: those starting with it
    /// first (by the name index), then the others, each by name. People
    /// search a company by the part they remember ("海川", "食品"), and
    /// nearly every name in a county starts with the county's.
    pub fn search_name(&self, kind: Option<RecordKind>, text: &str, limit: usize) -> Result<Vec<ListRow>, StoreError> {
        let upper = format!("{text}\u{10FFFF}");
        let kind_key = kind.map(RecordKind::key);
        let mut rows = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ROW_COLUMNS} FROM records WHERE (?1 IS NULL OR kind = ?1) AND name >= ?2 AND name < ?3
                 ORDER BY name, id LIMIT ?4"
            ))?
            .query_map(params![kind_key, text, upper, limit as i64], list_row)?
            .collect::<Result<Vec<_>, _>>()?;
        if rows.len() < limit && !text.is_empty() {
            let inside = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {ROW_COLUMNS} FROM records WHERE (?1 IS NULL OR kind = ?1) AND instr(name, ?2) > 1
                     ORDER BY name, id LIMIT ?3"
                ))?
                .query_map(params![kind_key, text, (limit - rows.len()) as i64], list_row)?
                .collect::<Result<Vec<_>, _>>()?;
            rows.extend(inside);
        }
        Ok(rows)
    }

    /// Persons (members, cadres, hardship cases) with this resident ID. The
    /// lookup goes through a keyed token; the ID itself is in no index.
    pub fn find_by_resident_id(&self, resident_id: &str, today: Date) -> Result<Vec<ListRow>, StoreError> {
        let id = registry::ids::ResidentId::parse(resident_id, today)
            .map_err(|e| StoreError::Invalid(vec![e.issue("resident_id")]))?;
        self.by_token(&self.secret.search_token("resident_id", id.as_str()))
    }

    /// Entities and unions with this credit code.
    pub fn find_by_credit_code(&self, code: &str) -> Result<Vec<ListRow>, StoreError> {
        let code =
            registry::ids::CreditCode::parse(code).map_err(|e| StoreError::Invalid(vec![e.issue("credit_code")]))?;
        self.by_token(&self.secret.search_token("credit_code", code.as_str()))
    }

    fn by_token(&self, token: &[u8; 16]) -> Result<Vec<ListRow>, StoreError> {
        let rows = self
            .conn
            .prepare_cached(&format!("SELECT {ROW_COLUMNS} FROM records WHERE key_token = ?1 ORDER BY name, id"))?
            .query_map([&token[..]], list_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// One page of a kind's records in name order; pass the last row of the
    /// previous page as `after` for the next (keyset paging stays fast deep
    /// into a list of 100,000).
    pub fn list(&self, kind: RecordKind, after: Option<&ListRow>, limit: usize) -> Result<Vec<ListRow>, StoreError> {
        let (name, id) = after.map_or((String::new(), String::new()), |r| (r.name.clone(), r.id.0.clone()));
        let rows = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ROW_COLUMNS} FROM records WHERE kind = ?1 AND (name, id) > (?2, ?3) ORDER BY name, id LIMIT ?4"
            ))?
            .query_map(params![kind.key(), name, id, limit as i64], list_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Records of `kind` in an area (a township, and optionally one grid).
    pub fn list_in_area(
        &self,
        kind: RecordKind,
        township: &RecordId,
        grid: Option<&RecordId>,
        limit: usize,
    ) -> Result<Vec<ListRow>, StoreError> {
        let rows = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ROW_COLUMNS} FROM records WHERE township = ?1 AND (?2 IS NULL OR grid = ?2) AND kind = ?3
                 ORDER BY name, id LIMIT ?4"
            ))?
            .query_map(params![township.as_str(), grid.map(RecordId::as_str), kind.key(), limit as i64], list_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Records of `kind` belonging to a union (its members, cadres, covered entities…).
    pub fn list_in_union(
        &self,
        union_id: &RecordId,
        kind: RecordKind,
        limit: usize,
    ) -> Result<Vec<ListRow>, StoreError> {
        let rows = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ROW_COLUMNS} FROM records WHERE union_id = ?1 AND kind = ?2 ORDER BY name, id LIMIT ?3"
            ))?
            .query_map(params![union_id.as_str(), kind.key(), limit as i64], list_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// 三个清楚 for an area (township, community or grid): every private
    /// enterprise with its workers, those with a union and their active
    /// members, those without. The judgement is the registry's
    /// ([`registry::rules::three_clears`]); the store gathers the records.
    pub fn three_clears(&self, area: &RecordId, today: Date) -> Result<registry::rules::ThreeClears, StoreError> {
        let ids: Vec<RecordId> = self
            .conn
            .prepare_cached(
                "SELECT id FROM records WHERE kind = 'entity' AND (township = ?1 OR community = ?1 OR grid = ?1)",
            )?
            .query_map([area.as_str()], |r| Ok(RecordId(r.get(0)?)))?
            .collect::<Result<_, _>>()?;
        let mut entities = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(StoredRecord { record: Record::Entity(e), deleted: None, .. }) = self.get(&id)? {
                entities.push((id, e));
            }
        }
        let mut count = self.conn.prepare_cached(
            "SELECT count(*) FROM members WHERE employer_id = ?1 AND (left_on IS NULL OR left_on > ?2)",
        )?;
        let today_text = today.to_string();
        let mut members = std::collections::HashMap::new();
        for (id, _) in &entities {
            let n: i64 = count.query_row(params![id.as_str(), today_text], |r| r.get(0))?;
            members.insert(id.clone(), n as u64);
        }
        let mut unions = std::collections::HashMap::new();
        for id in entities.iter().filter_map(|(_, e)| e.union_id.as_ref()) {
            if let Some(standing) = self.union_standing(id)? {
                unions.insert(id.clone(), standing);
            }
        }
        Ok(registry::rules::three_clears(
            entities.iter().map(|(id, e)| (id, e)),
            |u| unions.get(u).copied(),
            |id| members.get(id).copied().unwrap_or(0),
            today,
        ))
    }

    /// The standing of the union `id` names, as far as this device knows it:
    /// a union it holds, else a stub the county sent of one outside its
    /// scope. None when it knows neither (or the union was deleted).
    pub fn union_standing(&self, id: &RecordId) -> Result<Option<registry::rules::UnionStanding>, StoreError> {
        if let Some(stored) = self.get(id)? {
            return Ok(match stored {
                StoredRecord { record: Record::Union(u), deleted: None, .. } => {
                    Some(registry::rules::UnionStanding::from(&u))
                }
                _ => None,
            });
        }
        Ok(self.ref_stub(id)?.and_then(|s| {
            s.union_kind.map(|kind| registry::rules::UnionStanding { kind, dissolved_on: s.dissolved_on })
        }))
    }

    /// The stub of a record outside this device's scope that its records
    /// refer to, if the county sent one.
    pub fn ref_stub(&self, id: &RecordId) -> Result<Option<crate::RefStub>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, kind, name, union_kind, dissolved_on, township, covered_by, private_open FROM ref_stubs WHERE id = ?1",
        )?;
        let mut rows = stmt.query([id.as_str()])?;
        let Some(r) = rows.next()? else { return Ok(None) };
        let kind: String = r.get(1)?;
        let union_kind: Option<String> = r.get(3)?;
        let dissolved: Option<String> = r.get(4)?;
        Ok(Some(crate::RefStub {
            id: RecordId(r.get(0)?),
            kind: RecordKind::from_key(&kind).unwrap_or(RecordKind::Union),
            name: r.get(2)?,
            union_kind: union_kind.as_deref().and_then(registry::model::UnionKind::from_key),
            dissolved_on: dissolved
                .and_then(|d| Date::parse(&d, time::macros::format_description!("[year]-[month]-[day]")).ok()),
            township: r.get::<_, Option<String>>(5)?.map(RecordId),
            covered_by: r.get::<_, Option<String>>(6)?.map(RecordId),
            private_open: r.get(7)?,
        }))
    }

    /// Replaces the stubs of the records outside this device's scope that
    /// its records refer to (the county's whole list, after a pull).
    pub fn replace_ref_stubs(&mut self, stubs: &[crate::RefStub]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        schema::ref_stubs::replace(&tx, stubs)?;
        tx.commit()?;
        Ok(())
    }

    /// Areas whose name is exactly `name`.
    pub fn find_area(&self, name: &str) -> Result<Vec<ListRow>, StoreError> {
        let rows = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ROW_COLUMNS} FROM records WHERE kind = 'area' AND name = ?1 ORDER BY id"
            ))?
            .query_map([name], list_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// How many live records of a kind the store holds.
    pub fn count(&self, kind: RecordKind) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row("SELECT count(*) FROM records WHERE kind = ?1", [kind.key()], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Records that may be the same person or entity as `record`, for the
    /// prompt before saving: the same natural key, or for members the same
    /// name and birth date, for entities the same name in the same township.
    /// The live record registered under the same natural key (the same
    /// resident ID number or credit code), if any: not a possible duplicate
    /// but the same person or entity.
    pub fn registered(&self, record: &Record, today: Date) -> Result<Option<ListRow>, StoreError> {
        let mut record = record.clone();
        let _ = validate::check(&mut record, today);
        let Some(key) = record.natural_key() else { return Ok(None) };
        let id = self.secret.record_id(&key);
        Ok(self
            .conn
            .prepare_cached(&format!("SELECT {ROW_COLUMNS} FROM records WHERE id = ?1"))?
            .query_row([id.as_str()], list_row)
            .optional()?)
    }

    pub fn possible_duplicates(&self, record: &Record, today: Date) -> Result<Vec<ListRow>, StoreError> {
        let mut out: Vec<ListRow> = self.registered(record, today)?.into_iter().collect();
        let mut record = record.clone();
        let _ = validate::check(&mut record, today);
        // The near-duplicate key is the registry's, as the county's queue
        // uses it (its keyed token: the index holds no name).
        let near: Vec<ListRow> = match schema::records::dupkey(&self.secret, &record) {
            Some(token) => self
                .conn
                .prepare_cached(&format!("SELECT {ROW_COLUMNS} FROM records WHERE dupkey = ?1"))?
                .query_map(params![&token[..]], list_row)?
                .collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        for row in near {
            if !out.iter().any(|r| r.id == row.id) {
                out.push(row);
            }
        }
        Ok(out)
    }

    /// Documents changed on this device and not yet acknowledged, oldest first.
    pub fn outbox(&self) -> Result<Vec<RecordId>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT doc_id FROM outbox ORDER BY first_queued, doc_id")?;
        let ids = stmt.query_map([], |r| Ok(RecordId(r.get(0)?)))?.collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// Settles a field holding concurrent values by writing the chosen value
    /// (a JSON scalar) over all of them. The result must pass validation.
    pub fn settle(
        &mut self,
        id: &RecordId,
        field: &str,
        value: &serde_json::Value,
        today: Date,
    ) -> Result<Saved, StoreError> {
        let mut doc = self.load(id)?.ok_or_else(|| StoreError::NotFound(id.to_string()))?;
        let (record, issues) = settle_document(&mut doc, field, value, &self.operator, today)?;
        let writer = Writer::of(self);
        let tx = self.conn.transaction()?;
        persist(&tx, &writer, id, &mut doc, &record, true)?;
        tx.commit()?;
        Ok(Saved { id: id.clone(), issues, changed: true })
    }

    /// The change history of a record: who (device, operator) changed which
    /// fields when, oldest first.
    pub fn history(&self, id: &RecordId) -> Result<Vec<crate::history::HistoryEntry>, StoreError> {
        let mut doc = self.load(id)?.ok_or_else(|| StoreError::NotFound(id.to_string()))?;
        Ok(crate::history::history(&mut doc))
    }

    /// The fields of a record that hold concurrent values from different devices.
    pub fn conflicts(&self, id: &RecordId) -> Result<Vec<crate::history::Conflict>, StoreError> {
        let doc = self.load(id)?.ok_or_else(|| StoreError::NotFound(id.to_string()))?;
        Ok(crate::history::conflicts(&doc))
    }

    /// Keeps the WAL file small during a long run of writes (a photo
    /// download): once it holds more than 64 MiB, it is written back and
    /// truncated. The background checkpoint alone cannot catch up while
    /// writes never pause.
    pub fn bound_wal(&self) -> Result<(), StoreError> {
        let pages: i64 = self.conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))?;
        if pages > 16_384 {
            self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(())
    }

    /// Writes the WAL back into the main file (e.g. before a backup).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

/// What a write needs from the store, detached from the connection borrow.
pub(crate) struct Writer {
    actor: ActorId,
    secret: CountySecret,
    operator: String,
}

impl Writer {
    pub(crate) fn of(store: &Store) -> Writer {
        Writer { actor: store.actor(), secret: store.secret.clone(), operator: store.operator.clone() }
    }

    /// Change metadata: the operator and what they did. The device is the actor.
    fn message(&self, op: &str, note: &str) -> CommitOptions {
        change_message(&self.operator, op, note)
    }

    pub(crate) fn secret(&self) -> &CountySecret {
        &self.secret
    }
}

fn change_message(operator: &str, op: &str, note: &str) -> CommitOptions {
    let msg = serde_json::json!({ "op": op, "by": operator, "note": note }).to_string();
    CommitOptions::default().with_message(msg).with_time(now_ms())
}

/// A new record's document made outside any store (the county server's
/// imports and demo data): validated, with its reserved keys, in one change
/// by `actor` on behalf of `operator`.
pub fn new_document(
    id: &RecordId,
    mut record: Record,
    actor: [u8; 16],
    operator: &str,
    today: Date,
) -> Result<AutoCommit, StoreError> {
    checked(&mut record, today)?;
    let mut doc = AutoCommit::new().with_actor(ActorId::from(actor));
    let mut new = doc::flatten(&record);
    add_reserved(&mut new, &Flat::new(), id, &record);
    doc::write_diff(&mut doc, &Flat::new(), &new)?;
    doc.commit_with(change_message(operator, "create", ""));
    Ok(doc)
}

/// Settles a field of a bare document (the county server's review) as
/// [`Store::settle`] does: the chosen value (a JSON scalar) written over
/// the concurrent ones by the document's actor on behalf of `operator`, and
/// the record it makes checked. Returns the record and its non-blocking issues.
pub fn settle_document(
    doc: &mut AutoCommit,
    field: &str,
    value: &serde_json::Value,
    operator: &str,
    today: Date,
) -> Result<(Record, Vec<Issue>), StoreError> {
    if !crate::history::conflicted_keys(doc).iter().any(|k| k == field) {
        return Err(StoreError::NoConflict(field.to_owned()));
    }
    let scalar = match value {
        serde_json::Value::Null => ScalarValue::Null,
        serde_json::Value::Bool(b) => ScalarValue::Boolean(*b),
        serde_json::Value::Number(n) => {
            n.as_i64().map_or(ScalarValue::F64(n.as_f64().unwrap_or(0.0)), ScalarValue::Int)
        }
        serde_json::Value::String(s) => ScalarValue::Str(s.as_str().into()),
        other => ScalarValue::Str(other.to_string().into()),
    };
    doc.put(ROOT, field, scalar)?;
    let mut record = hydrate(doc)?;
    let issues = checked(&mut record, today)?;
    doc.commit_with(change_message(operator, "settle", field));
    Ok((record, issues))
}

/// The reserved key of the county's return of a record for correction.
const RETURNED: &str = "_returned";

/// The county returned a record for correction: why, who, when, from which
/// review queue. The surveyor's next edit of the record clears it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Returned {
    pub queue: String,
    pub note: String,
    pub by: String,
    pub at_ms: i64,
}

/// The return a document carries, if any.
pub fn returned(doc: &AutoCommit) -> Option<Returned> {
    let text = doc::get_str(doc, RETURNED)?;
    serde_json::from_str(&text).ok()
}

/// Returns a bare document's record for correction (the county's review):
/// one change by the document's actor on behalf of `operator`; devices show
/// it on their worklist with the note until the record is edited.
pub fn return_document(doc: &mut AutoCommit, queue: &str, note: &str, operator: &str) -> Result<Record, StoreError> {
    if tombstone(doc).is_some() {
        return Err(StoreError::Deleted(String::new()));
    }
    let record = hydrate(doc)?;
    let r = Returned { queue: queue.into(), note: note.trim().into(), by: operator.into(), at_ms: now_ms() };
    doc.put(ROOT, RETURNED, serde_json::to_string(&r).expect("plain fields serialise"))?;
    doc.commit_with(change_message(operator, "return", note.trim()));
    Ok(record)
}

fn put_tombstone(doc: &mut AutoCommit, operator: &str, reason: &str) -> Result<(), StoreError> {
    doc.put(ROOT, "_deleted", true)?;
    doc.put(ROOT, "_deleted_by", operator)?;
    doc.put(ROOT, "_deleted_at", now_ms())?;
    doc.put(ROOT, "_deleted_reason", reason)?;
    Ok(())
}

/// Deletes a bare document (the county server's merge) as
/// [`Store::delete`] does: a tombstone, who, when and why.
pub fn delete_document(doc: &mut AutoCommit, operator: &str, reason: &str) -> Result<Record, StoreError> {
    let record = hydrate(doc)?;
    put_tombstone(doc, operator, reason)?;
    doc.commit_with(change_message(operator, "delete", reason));
    Ok(record)
}

/// Edits a bare document's record with `edit` as [`Store::update`] does:
/// validated, only changed fields written, one change by the document's
/// actor on behalf of `operator`. A deleted record is refused.
pub fn update_document(
    doc: &mut AutoCommit,
    id: &RecordId,
    operator: &str,
    today: Date,
    edit: impl FnOnce(&mut Record),
) -> Result<(Record, Vec<Issue>), StoreError> {
    if tombstone(doc).is_some() {
        return Err(StoreError::Deleted(id.to_string()));
    }
    let mut record = hydrate(doc)?;
    edit(&mut record);
    let issues = checked(&mut record, today)?;
    let old = doc::read_flat(doc);
    let mut new = doc::flatten(&record);
    add_reserved(&mut new, &old, id, &record);
    if doc::write_diff(doc, &old, &new)? > 0 {
        doc.commit_with(change_message(operator, "update", ""));
    }
    Ok((record, issues))
}

/// Merges the document of `drop` into the document of `keep`, two records
/// of one person or entity: both histories are kept (Automerge merges the
/// changes of both), the values of `keep` win except the fields listed in
/// `take` (which take the value of `drop`) and fields only `drop` fills, and
/// every conflict this leaves is settled in one change by the document's
/// actor on behalf of `operator`. The kept record is validated; it lists
/// the merged id under `_merged_from`. `drop` itself is not changed: the
/// caller deletes it ([`delete_document`]).
pub fn merge_documents(
    keep: &mut AutoCommit,
    keep_id: &RecordId,
    drop: &AutoCommit,
    drop_id: &RecordId,
    take: &[String],
    operator: &str,
    today: Date,
) -> Result<(Record, Vec<Issue>), StoreError> {
    for d in [&*keep, drop] {
        if tombstone(d).is_some() {
            return Err(StoreError::Deleted(if std::ptr::eq(d, drop) { drop_id } else { keep_id }.to_string()));
        }
    }
    let (kind, other) = (doc::kind_of(keep)?, doc::kind_of(drop)?);
    if kind != other {
        return Err(StoreError::WrongKind { expected: kind.key(), found: other.key() });
    }
    let (ours, theirs) = (doc::read_flat(keep), doc::read_flat(drop));
    if let Some(bad) = take.iter().find(|t| t.starts_with('_') || !theirs.contains_key(t.as_str())) {
        return Err(StoreError::UnknownField(bad.clone()));
    }
    let mut wanted: Flat =
        theirs.iter().filter(|(k, _)| !k.starts_with('_')).map(|(k, v)| (k.clone(), v.clone())).collect();
    // An empty text of `keep` does not hide a value of `drop`.
    let empty = |v: &ScalarValue| matches!(v, ScalarValue::Str(s) if s.trim().is_empty());
    for (k, v) in ours.iter().filter(|(k, _)| !k.starts_with('_')) {
        if !empty(v) || theirs.get(k).is_none_or(empty) {
            wanted.insert(k.clone(), v.clone());
        }
    }
    for t in take {
        wanted.insert(t.clone(), theirs[t.as_str()].clone());
    }
    keep.merge(&mut drop.clone())?;
    let merged = doc::read_flat(keep);
    let conflicted = crate::history::conflicted_keys(keep);
    for (key, value) in &wanted {
        if merged.get(key) != Some(value) || conflicted.contains(key) {
            keep.put(ROOT, key.as_str(), value.clone())?;
        }
    }
    let mut record = hydrate(keep)?;
    let issues = checked(&mut record, today)?;
    // The record as normalised, its reserved keys, and every conflict the
    // merge left (reserved keys too) written over with its winner.
    let old = doc::read_flat(keep);
    let mut new = doc::flatten(&record);
    add_reserved(&mut new, &old, keep_id, &record);
    for key in crate::history::conflicted_keys(keep) {
        if let Some(v) = new.get(&key).or(old.get(&key)) {
            keep.put(ROOT, key.as_str(), v.clone())?;
        }
    }
    doc::write_diff(keep, &old, &new)?;
    let mut from: Vec<String> =
        doc::get_str(keep, "_merged_from").and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
    from.push(drop_id.to_string());
    keep.put(ROOT, "_merged_from", serde_json::to_string(&from).expect("strings serialise"))?;
    keep.commit_with(change_message(operator, "merge", drop_id.as_str()));
    Ok((record, issues))
}

/// The names of a bare document's fields holding concurrent, different values.
pub fn conflicted_fields(doc: &AutoCommit) -> Vec<String> {
    crate::history::conflicted_keys(doc)
}

/// The fields of a bare document holding concurrent, different values.
pub fn document_conflicts(doc: &AutoCommit) -> Vec<crate::history::Conflict> {
    crate::history::conflicts(doc)
}

/// Validates and normalises; refuses blocking issues, returns the others.
fn checked(record: &mut Record, today: Date) -> Result<Vec<Issue>, StoreError> {
    let issues = validate::check(record, today);
    if blocks_saving(&issues) {
        return Err(StoreError::Invalid(issues.into_iter().filter(|i| i.severity != Severity::Info).collect()));
    }
    Ok(issues)
}

/// The region rule ([`validate::place_in_tree`]) against the device's area
/// tree: a grid or community outside the record's township is refused at
/// once, as the server would. A store that holds no area yet (before its
/// first sync) leaves the rule to the server.
fn place_checked(tx: &Transaction<'_>, record: &Record) -> Result<(), StoreError> {
    let Some(place) = record.place() else { return Ok(()) };
    let any: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM areas)", [], |r| r.get(0))?;
    if !any {
        return Ok(());
    }
    let mut nodes = std::collections::HashMap::new();
    let mut stmt = tx.prepare_cached("SELECT level, township, parent FROM areas WHERE id = ?1")?;
    let mut ids: Vec<RecordId> =
        [Some(&place.township), place.community.as_ref(), place.grid.as_ref()].into_iter().flatten().cloned().collect();
    // A grid's parent too (its community, for the community rule).
    if let Some(g) = &place.grid
        && let Some(parent) = stmt.query_row([g.as_str()], |r| r.get::<_, Option<String>>(2)).optional()?.flatten()
    {
        ids.push(RecordId(parent));
    }
    for id in &ids {
        let row: Option<(String, Option<String>, Option<String>)> =
            stmt.query_row([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()?;
        let node = row.and_then(|(level, township, parent)| {
            let level = registry::model::AreaLevel::from_key(&level)?;
            let township =
                if level == registry::model::AreaLevel::Township { Some(id.clone()) } else { township.map(RecordId) };
            Some(validate::AreaNode { level, township, parent: parent.map(RecordId) })
        });
        nodes.insert(id.clone(), node);
    }
    let issues = validate::place_in_tree(place, &|id| nodes.get(id).cloned().flatten());
    if issues.is_empty() { Ok(()) } else { Err(StoreError::Invalid(issues)) }
}

/// The reserved keys a record's document carries beside its fields.
fn add_reserved(flat: &mut Flat, old: &Flat, id: &RecordId, record: &Record) {
    let region = record.region(id);
    let text = |v: Option<RecordId>| v.map_or(ScalarValue::Null, |r| ScalarValue::Str(r.0.into()));
    flat.insert("_kind".into(), ScalarValue::Str(record.kind().key().into()));
    flat.insert("_schema".into(), ScalarValue::Int(doc::SCHEMA_VERSION));
    flat.insert("_township".into(), text(region.township));
    flat.insert("_grid".into(), text(region.grid));
    // A save over a tombstone brings the record back.
    if old.get("_deleted") == Some(&ScalarValue::Boolean(true)) {
        flat.insert("_deleted".into(), ScalarValue::Boolean(false));
    }
}

/// One transaction's writes ([`Store::batch`]).
#[allow(missing_debug_implementations)]
pub struct Batch<'a> {
    tx: &'a Transaction<'a>,
    writer: &'a Writer,
    today: Date,
}

impl Batch<'_> {
    /// The record as this batch sees it (its own writes included).
    pub fn get(&self, id: &RecordId) -> Result<Option<StoredRecord>, StoreError> {
        let Some(bytes) = docs::bytes(self.tx, id)? else { return Ok(None) };
        let doc = doc::load(&bytes).map_err(|e| StoreError::Malformed(format!("document {id}: {e}")))?;
        stored_record(id, &doc).map(Some)
    }

    /// As [`Store::insert`], inside the batch.
    pub fn insert(&mut self, record: Record) -> Result<Saved, StoreError> {
        let id = match record.natural_key() {
            Some(key) => self.writer.secret.record_id(&key),
            None => random_id(),
        };
        write_new(self.tx, self.writer, id, record, self.today)
    }

    /// As [`Store::update`], inside the batch.
    pub fn update(&mut self, id: &RecordId, record: Record) -> Result<Saved, StoreError> {
        write_update(self.tx, self.writer, id, record, self.today)
    }
}

/// A document as the record it holds, with its tombstone, conflicts and
/// return note.
fn stored_record(id: &RecordId, doc: &AutoCommit) -> Result<StoredRecord, StoreError> {
    Ok(StoredRecord {
        id: id.clone(),
        record: hydrate(doc)?,
        deleted: tombstone(doc),
        conflicts: crate::history::conflicted_keys(doc).len(),
        returned: returned(doc),
    })
}

/// Validates and writes an edit of record `id` in `tx` (only the changed
/// fields).
fn write_update(
    tx: &Transaction<'_>,
    writer: &Writer,
    id: &RecordId,
    mut record: Record,
    today: Date,
) -> Result<Saved, StoreError> {
    let bytes = docs::bytes(tx, id)?.ok_or_else(|| StoreError::NotFound(id.to_string()))?;
    let mut doc = doc::load(&bytes)
        .map_err(|e| StoreError::Malformed(format!("document {id}: {e}")))?
        .with_actor(writer.actor.clone());
    if tombstone(&doc).is_some() {
        // Editing a deleted record would silently bring it back; reviving
        // is an explicit registration (`insert`) instead.
        return Err(StoreError::Deleted(id.to_string()));
    }
    let kind = doc::kind_of(&doc)?;
    if kind != record.kind() {
        return Err(StoreError::WrongKind { expected: kind.key(), found: record.kind().key() });
    }
    let issues = checked(&mut record, today)?;
    let old = doc::read_flat(&doc);
    let mut new = doc::flatten(&record);
    let place_moved = ["place.township", "place.community", "place.grid"].iter().any(|k| old.get(*k) != new.get(*k));
    add_reserved(&mut new, &old, id, &record);
    // An edit on the device answers the county's return.
    if matches!(old.get(RETURNED), Some(ScalarValue::Str(_))) {
        new.insert(RETURNED.into(), ScalarValue::Null);
    }
    let ops = doc::write_diff(&mut doc, &old, &new)?;
    if ops == 0 {
        return Ok(Saved { id: id.clone(), issues, changed: false });
    }
    doc.commit_with(writer.message("update", ""));
    if place_moved {
        place_checked(tx, &record)?;
    }
    persist(tx, writer, id, &mut doc, &record, true)?;
    Ok(Saved { id: id.clone(), issues, changed: true })
}

fn write_new(
    tx: &Transaction<'_>,
    w: &Writer,
    id: RecordId,
    mut record: Record,
    today: Date,
) -> Result<Saved, StoreError> {
    let issues = checked(&mut record, today)?;
    place_checked(tx, &record)?;
    if let Some(bytes) = docs::bytes(tx, &id)? {
        let existing = doc::load(&bytes).map_err(|e| StoreError::Malformed(format!("document {id}: {e}")))?;
        if tombstone(&existing).is_none() {
            return Err(StoreError::Duplicate(id.0));
        }
        // Re-registering a deleted person or entity revives the same document.
        let mut doc = existing.with_actor(w.actor.clone());
        let old = doc::read_flat(&doc);
        let mut new = doc::flatten(&record);
        add_reserved(&mut new, &old, &id, &record);
        doc::write_diff(&mut doc, &old, &new)?;
        doc.commit_with(w.message("create", ""));
        persist(tx, w, &id, &mut doc, &record, true)?;
        return Ok(Saved { id, issues, changed: true });
    }
    let mut doc = AutoCommit::new().with_actor(w.actor.clone());
    let mut new = doc::flatten(&record);
    add_reserved(&mut new, &Flat::new(), &id, &record);
    doc::write_diff(&mut doc, &Flat::new(), &new)?;
    doc.commit_with(w.message("create", ""));
    // A document with one change by one device has no conflicts.
    persist_counted(tx, w, &id, &mut doc, &record, true, 0)?;
    Ok(Saved { id, issues, changed: true })
}

/// Writes a document, its projections and (for local changes) its outbox
/// entry. Always inside the caller's transaction.
pub(crate) fn persist(
    tx: &Transaction<'_>,
    w: &Writer,
    id: &RecordId,
    doc: &mut AutoCommit,
    record: &Record,
    local: bool,
) -> Result<(), StoreError> {
    let conflicts = crate::history::conflicted_keys(doc).len() as i64;
    persist_counted(tx, w, id, doc, record, local, conflicts)
}

/// What [`persist_received`] needs of a received document besides its
/// record: read from the document where it was decoded, so the document
/// itself need not travel to the writing thread.
#[derive(Debug, Clone)]
pub(crate) struct Described {
    pub deleted: bool,
    pub returned: Option<String>,
    /// Fields holding concurrent values.
    pub conflicts: i64,
}

impl Described {
    /// A received document's record and description, in one pass over
    /// its keys (the reserved keys and the conflict marks come with the
    /// fields: reading them separately cost a fifth of decoding).
    pub(crate) fn read(doc: &AutoCommit) -> Result<(Record, Described), StoreError> {
        let mut flat = Flat::new();
        let mut marked = Vec::new();
        for item in doc.map_range(ROOT, ..) {
            if item.conflict {
                marked.push(item.key.to_string());
            }
            if let automerge::Value::Scalar(s) = automerge::Value::from(item.value) {
                flat.insert(item.key.to_string(), s.into_owned());
            }
        }
        let record = doc::unflatten(doc::kind_in(&flat)?, &flat)?;
        let deleted = flat.get("_deleted") == Some(&ScalarValue::Boolean(true));
        let returned = match flat.get(RETURNED) {
            Some(ScalarValue::Str(text)) => serde_json::from_str::<Returned>(text).ok().map(|r| r.note),
            _ => None,
        };
        let conflicts = crate::history::count_conflicted(doc, marked) as i64;
        Ok((record, Described { deleted, returned, conflicts }))
    }
}

/// [`persist`] of a new copy received whole: it is stored as received, not
/// saved again, and what the projections need of it is known already.
pub(crate) fn persist_received(
    tx: &Transaction<'_>,
    w: &Writer,
    id: &RecordId,
    saved: &[u8],
    record: &Record,
    described: Described,
) -> Result<(), StoreError> {
    write_rows(tx, w, id, saved, record, described, false)
}

/// [`persist`] with the number of conflicted fields already known.
fn persist_counted(
    tx: &Transaction<'_>,
    w: &Writer,
    id: &RecordId,
    doc: &mut AutoCommit,
    record: &Record,
    local: bool,
    conflicts: i64,
) -> Result<(), StoreError> {
    let described = Described { deleted: tombstone(doc).is_some(), returned: returned(doc).map(|r| r.note), conflicts };
    write_rows(tx, w, id, &doc.save(), record, described, local)
}

/// Writes a document's row and its projections, queued for sync when
/// `local`.
fn write_rows(
    tx: &Transaction<'_>,
    w: &Writer,
    id: &RecordId,
    bytes: &[u8],
    record: &Record,
    described: Described,
    local: bool,
) -> Result<(), StoreError> {
    let Described { deleted, returned, conflicts } = described;
    let now = now_ms();
    let region = record.region(id);
    docs::upsert(tx, &docs::DocRow { id, kind: record.kind(), region: &region, deleted, bytes, updated_at: now })?;
    let projector = Projector { secret: &w.secret, conflicts, returned };
    schema::project(tx, &projector, id, record, deleted)?;
    if local {
        outbox::queue(tx, id, now)?;
    }
    Ok(())
}

/// The record a document holds.
pub fn hydrate(doc: &AutoCommit) -> Result<Record, StoreError> {
    // One pass over the root keys: the kind is among them.
    let flat = doc::read_flat(doc);
    doc::unflatten(doc::kind_in(&flat)?, &flat)
}

fn tombstone(doc: &AutoCommit) -> Option<Tombstone> {
    // Direct reads of the reserved keys: this runs on every save.
    let get = |k: &str| match doc.get(ROOT, k).ok().flatten() {
        Some((automerge::Value::Scalar(s), _)) => Some(s.into_owned()),
        _ => None,
    };
    if get("_deleted") != Some(ScalarValue::Boolean(true)) {
        return None;
    }
    let text = |k: &str| match get(k) {
        Some(ScalarValue::Str(s)) => s.to_string(),
        _ => String::new(),
    };
    let at_ms = match get("_deleted_at") {
        Some(ScalarValue::Int(i)) => i,
        _ => 0,
    };
    Some(Tombstone { by: text("_deleted_by"), at_ms, reason: text("_deleted_reason") })
}

//! The county server's side of sync, written once against [`Sql`] so that
//! the SQLite and PostgreSQL backends share every query and every rule.
//!
//! Each entry point runs inside one transaction the caller opens and commits
//! (an error rolls it back): a push is applied whole or not at all.
//!
//! Tables (see [`schema`]):
//! - `docs`: each record's Automerge document, sealed (encrypted with the
//!   server's data key, the id as associated data), with its kind, region,
//!   heads, fingerprint and `seq`, the write counter the feed's cursor uses;
//! - `departures`: a record's old region when it moves, so devices that saw
//!   it there learn that it left;
//! - `quarantine`: pushed changes the server would not apply, sealed, with
//!   the device, the reason and a digest that makes a replay a no-op;
//! - `counters`: the `seq` counter. Taking it locks its row until commit, so
//!   on PostgreSQL writes commit in `seq` order and no cursor can pass a
//!   write that is still to commit.

use crate::codes;
use crate::error::SyncError;
use crate::fingerprint::{self, Buckets};
use crate::scope::Scope;
use crate::wire::*;
use automerge::{AutoCommit, ChangeHash, ReadDoc};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use registry::model::{RecordId, RecordKind, Region};
use registry::{Date, message::blocks_saving, validate};
use sha2::{Digest, Sha256};
use std::collections::HashSet;

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
    fn opt(s: Option<&RecordId>) -> Val {
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

/// The second migration: per-partition summaries of the docs' fingerprints,
/// so the repair check of any scope reads a few rows, not every document.
/// A partition is (is an area, township, grid); a scope is a union of
/// partitions, each counted once.
pub fn summaries_schema() -> String {
    "CREATE TABLE summaries (
        part TEXT PRIMARY KEY,
        area BIGINT NOT NULL,
        township TEXT,
        grid TEXT,
        count BIGINT NOT NULL,
        xor BIGINT NOT NULL
    );"
    .into()
}

fn part_key(is_area: bool, region: &Region) -> String {
    let t = region.township.as_ref().map_or("", |t| t.as_str());
    let g = region.grid.as_ref().map_or("", |g| g.as_str());
    format!("{}|{t}|{g}", u8::from(is_area))
}

/// Adds (`count` = 1) or removes (-1) one document's fingerprint.
fn summary_change(db: &mut dyn Sql, is_area: bool, region: &Region, fp: i64, count: i64) -> Result<(), SyncError> {
    let key = part_key(is_area, region);
    let rows = db.query("SELECT count, xor FROM summaries WHERE part = $1", &[key.as_str().into()])?;
    match rows.first() {
        Some(r) => db.execute(
            "UPDATE summaries SET count = $1, xor = $2 WHERE part = $3",
            &[(r[0].int() + count).into(), (r[1].int() ^ fp).into(), key.as_str().into()],
        )?,
        None => insert_summary(db, &key, is_area, region, count, fp)?,
    };
    Ok(())
}

fn insert_summary(
    db: &mut dyn Sql,
    key: &str,
    is_area: bool,
    region: &Region,
    count: i64,
    xor: i64,
) -> Result<u64, SyncError> {
    db.execute(
        "INSERT INTO summaries (part, area, township, grid, count, xor) VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            key.into(),
            i64::from(is_area).into(),
            Val::opt(region.township.as_ref()),
            Val::opt(region.grid.as_ref()),
            count.into(),
            xor.into(),
        ],
    )
}

/// Rebuilds the summaries from the documents (after the migration that
/// adds them), unless already built.
pub fn ensure_summaries(db: &mut dyn Sql) -> Result<(), SyncError> {
    if !db.query("SELECT 1 FROM counters WHERE name = 'summaries'", &[])?.is_empty() {
        return Ok(());
    }
    db.execute("DELETE FROM summaries", &[])?;
    let mut parts: std::collections::HashMap<String, (bool, Region, i64, i64)> = Default::default();
    let mut after = String::new();
    loop {
        let rows = db.query(
            "SELECT id, kind, township, grid, fp FROM docs WHERE id > $1 ORDER BY id LIMIT 5000",
            &[after.as_str().into()],
        )?;
        let n = rows.len();
        for row in rows {
            let is_area = row[1].text() == Some("area");
            let region =
                Region { township: row[2].text().map(RecordId::from), grid: row[3].text().map(RecordId::from) };
            let e = parts.entry(part_key(is_area, &region)).or_insert((is_area, region, 0, 0));
            e.2 += 1;
            e.3 ^= row[4].int();
            after = row[0].text().unwrap_or_default().to_owned();
        }
        if n < 5000 {
            break;
        }
    }
    for (key, (is_area, region, count, xor)) in parts {
        insert_summary(db, &key, is_area, &region, count, xor)?;
    }
    db.execute("INSERT INTO counters (name, value) VALUES ('summaries', 1)", &[])?;
    Ok(())
}

/// The summary of a scope: the union of its partitions.
fn scope_summary(db: &mut dyn Sql, scope: &Scope) -> Result<Summary, SyncError> {
    let mut params = Vec::new();
    let filter = scope_filter(scope, &mut params);
    let rows = db.query(&format!("SELECT count, xor FROM summaries WHERE area = 1 OR {filter}"), &params)?;
    let mut s = Summary::default();
    for r in rows {
        s.count = s.count.wrapping_add(r[0].int() as u64);
        s.xor ^= r[1].int() as u64;
    }
    Ok(s)
}

/// The schema of the sync tables, by dialect.
pub fn schema(d: Dialect) -> String {
    let (blob, serial) = match d {
        Dialect::Sqlite => ("BLOB", "INTEGER PRIMARY KEY"),
        Dialect::Postgres => ("BYTEA", "BIGSERIAL PRIMARY KEY"),
    };
    format!(
        "CREATE TABLE docs (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            township TEXT,
            grid TEXT,
            deleted BIGINT NOT NULL,
            heads {blob} NOT NULL,
            fp BIGINT NOT NULL,
            sealed {blob} NOT NULL,
            seq BIGINT NOT NULL UNIQUE,
            updated_at BIGINT NOT NULL
        );
        CREATE INDEX docs_township ON docs (township, seq);
        CREATE INDEX docs_grid ON docs (grid, seq);
        CREATE INDEX docs_kind ON docs (kind, seq);
        CREATE TABLE departures (
            doc_id TEXT NOT NULL,
            township TEXT,
            grid TEXT,
            seq BIGINT NOT NULL,
            PRIMARY KEY (doc_id, seq)
        );
        CREATE INDEX departures_seq ON departures (seq);
        CREATE TABLE quarantine (
            id {serial},
            device_id TEXT NOT NULL,
            doc_id TEXT NOT NULL,
            code TEXT NOT NULL,
            detail TEXT NOT NULL,
            digest {blob} NOT NULL UNIQUE,
            sealed {blob} NOT NULL,
            created_at BIGINT NOT NULL,
            resolved_at BIGINT,
            resolution TEXT
        );
        CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
        INSERT INTO counters (name, value) VALUES ('seq', 0);"
    )
}

/// Encrypts documents at rest with the server's 32-byte data key
/// (XChaCha20-Poly1305, random nonce, the record id as associated data, so
/// a sealed document cannot be passed off as another record's).
#[derive(Clone)]
pub struct Sealer(XChaCha20Poly1305, [u8; 32]);

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    pub fn new(key: &[u8; 32]) -> Sealer {
        // A second key, derived, for the keyed hashes of personal data
        // (`keyed_hash`), so the data key itself is only ever a cipher key.
        let mut mac = Sha256::new();
        mac.update(b"sanjian keyed hash v1\0");
        mac.update(key);
        Sealer(XChaCha20Poly1305::new(key.into()), mac.finalize().into())
    }

    /// A keyed hash (hex) of text that holds personal data (a name and birth
    /// date), so equal texts can be found without storing them.
    pub fn keyed_hash(&self, text: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.1);
        h.update(text.as_bytes());
        h.update(self.1);
        crate::enrol::hex(&h.finalize())
    }

    pub fn seal(&self, aad: &str, plain: &[u8]) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut out = nonce.to_vec();
        out.extend(
            self.0.encrypt(&nonce, Payload { msg: plain, aad: aad.as_bytes() }).expect("encryption cannot fail"),
        );
        out
    }

    pub fn open(&self, aad: &str, sealed: &[u8]) -> Result<Vec<u8>, SyncError> {
        if sealed.len() < 24 {
            return Err(SyncError::Sealed(format!("{aad}: too short")));
        }
        let (nonce, ct) = sealed.split_at(24);
        self.0
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: aad.as_bytes() })
            .map_err(|_| SyncError::Sealed(format!("{aad}: does not open with this key")))
    }
}

/// An authenticated device, as the server's auth layer found it.
#[derive(Debug, Clone)]
pub struct Device {
    pub id: String,
    /// Its Automerge actor: every change it pushes must be its own.
    pub actor: [u8; 16],
    pub scope: Scope,
}

/// Server settings the sync logic needs.
#[derive(Debug, Clone)]
pub struct Ctx<'a> {
    pub sealer: &'a Sealer,
    /// Today in the county (rules about dates).
    pub today: Date,
    pub now_ms: i64,
}

/// The code a device is refused with once it has asked about more records
/// outside its scope than [`REVEAL_BUDGET`] allows.
pub const DEVICE_SUSPENDED: &str = "DEVICE_SUSPENDED";

/// How many records outside its scope a device may learn exist in a day.
///
/// Why a budget and not a wall: record ids are keyed hashes of resident ID
/// numbers under the county secret, and every device holds that secret (it
/// derives the same id for the same person offline). So a device can name
/// any person's record. The legitimate need to learn that a record exists
/// elsewhere is real: a surveyor registering someone already a member in
/// another township must start a transfer instead. That answer is given
/// (a push that collides, an explicit [`lookup`]), each one recorded in
/// `reveals`, and past this many distinct records in 24 hours the request
/// is refused and the device suspended (`DEVICE_SUSPENDED`) until a county
/// admin reinstates it. Every other answer (fetch, pull, repair) says
/// nothing of records outside the scope.
pub const REVEAL_BUDGET: i64 = 20;

/// `reveals`: which records outside its scope each device was told exist
/// (or, for a lookup, asked about), when. Ids only: keyed hashes.
pub fn reveals_schema() -> String {
    "CREATE TABLE reveals (
        device_id TEXT NOT NULL,
        doc_id TEXT NOT NULL,
        how TEXT NOT NULL,
        at BIGINT NOT NULL,
        PRIMARY KEY (device_id, doc_id, how)
    );
    CREATE INDEX reveals_at ON reveals (device_id, at);"
        .into()
}

/// Records that `device` is about to learn something of record `id` outside
/// its scope (`how`: `push` or `lookup`); refuses with [`DEVICE_SUSPENDED`]
/// past the budget. The same record again costs nothing.
fn reveal(db: &mut dyn Sql, ctx: &Ctx<'_>, device: &Device, id: &RecordId, how: &str) -> Result<(), SyncError> {
    db.execute(
        "INSERT INTO reveals (device_id, doc_id, how, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        &[device.id.as_str().into(), id.as_str().into(), how.into(), ctx.now_ms.into()],
    )?;
    let day = ctx.now_ms - 24 * 3600 * 1000;
    let rows = db.query(
        "SELECT count(*) FROM reveals WHERE device_id = $1 AND at > $2",
        &[device.id.as_str().into(), day.into()],
    )?;
    if rows.first().map_or(0, |r| r[0].int()) > REVEAL_BUDGET {
        return Err(SyncError::Refused {
            status: 403,
            code: DEVICE_SUSPENDED.into(),
            message: registry::message::Message::new(
                "本设备查询了过多本辖区以外的记录，已暂停同步；请联系县总工会核实后恢复",
                "This device asked about too many records outside its area and is suspended; the county federation can reinstate it",
            ),
        });
    }
    Ok(())
}

/// What a device may learn of a record by its id (the door flow's "is this
/// person registered elsewhere?", before it starts a transfer).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "found", rename_all = "snake_case")]
pub enum Lookup {
    /// In the device's scope (it will have it, or get it with its next pull).
    InScope,
    /// Registered in another township (named, so the transfer can start).
    Elsewhere { township: Option<RecordId> },
    /// Not registered.
    None,
}

/// Answers a device's lookup of a record id. Anything but [`Lookup::InScope`]
/// counts against the device's [`REVEAL_BUDGET`].
pub fn lookup(db: &mut dyn Sql, ctx: &Ctx<'_>, device: &Device, id: &RecordId) -> Result<Lookup, SyncError> {
    let rows = db.query("SELECT kind, township, grid, deleted FROM docs WHERE id = $1", &[id.as_str().into()])?;
    let row = rows.first().filter(|r| r[3].int() == 0);
    if let Some(r) = row {
        let kind = RecordKind::from_key(r[0].text().unwrap_or_default()).unwrap_or(RecordKind::Area);
        let region = Region { township: r[1].text().map(RecordId::from), grid: r[2].text().map(RecordId::from) };
        if device.scope.can_read(kind, &region) {
            return Ok(Lookup::InScope);
        }
    }
    reveal(db, ctx, device, id, "lookup")?;
    Ok(match row {
        Some(r) => Lookup::Elsewhere { township: r[1].text().map(RecordId::from) },
        None => Lookup::None,
    })
}

/// The most a pull or fetch response carries (before compression).
pub const MAX_BATCH_BYTES: usize = 4 << 20;
/// The most documents a pull response carries.
pub const MAX_BATCH_DOCS: u32 = 2000;

fn hashes(heads: &[ChangeHash]) -> Vec<Hash> {
    heads.iter().map(|h| h.0).collect()
}

fn heads_blob(heads: &[Hash]) -> Vec<u8> {
    let mut sorted = heads.to_vec();
    sorted.sort_unstable();
    sorted.concat()
}

/// A stored document (`D`: its bytes, or loaded) with its kind and region.
struct Stored<D> {
    kind: String,
    region: Region,
    doc: D,
}

/// A document's bytes, unsealed.
fn load_bytes(db: &mut dyn Sql, ctx: &Ctx<'_>, id: &RecordId) -> Result<Option<Stored<Vec<u8>>>, SyncError> {
    let rows = db.query("SELECT kind, township, grid, sealed FROM docs WHERE id = $1", &[id.as_str().into()])?;
    let Some(mut row) = rows.into_iter().next() else { return Ok(None) };
    let sealed = std::mem::replace(&mut row[3], Val::Null).into_blob();
    let doc = ctx.sealer.open(id.as_str(), &sealed)?;
    let region = Region { township: row[1].text().map(RecordId::from), grid: row[2].text().map(RecordId::from) };
    Ok(Some(Stored { kind: row[0].text().unwrap_or_default().to_owned(), region, doc }))
}

fn load(db: &mut dyn Sql, ctx: &Ctx<'_>, id: &RecordId) -> Result<Option<Stored<AutoCommit>>, SyncError> {
    let Some(s) = load_bytes(db, ctx, id)? else { return Ok(None) };
    let doc = store::doc::load(&s.doc).map_err(|e| SyncError::Sealed(format!("{id}: {e}")))?;
    Ok(Some(Stored { kind: s.kind, region: s.region, doc }))
}

/// [`load`] for a read-modify-write: the document is held first
/// ([`Sql::lock_doc`]).
fn load_for_write(db: &mut dyn Sql, ctx: &Ctx<'_>, id: &RecordId) -> Result<Option<Stored<AutoCommit>>, SyncError> {
    db.lock_doc(id)?;
    load(db, ctx, id)
}

fn next_seq(db: &mut dyn Sql) -> Result<i64, SyncError> {
    let rows = db.query("UPDATE counters SET value = value + 1 WHERE name = 'seq' RETURNING value", &[])?;
    Ok(rows.first().map_or(0, |r| r[0].int()))
}

/// Writes a document (new or changed) with a new `seq`, recording a
/// departure when its region changed.
/// What the docs row says of a document beside its bytes.
struct Placed<'a> {
    kind: RecordKind,
    /// The record as read from the document (its facts row is written too).
    record: &'a registry::model::Record,
    region: &'a Region,
    old_region: Option<&'a Region>,
    deleted: bool,
}

fn save(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    id: &RecordId,
    doc: &mut AutoCommit,
    placed: Placed<'_>,
) -> Result<Vec<Hash>, SyncError> {
    let Placed { kind, record, region, old_region, deleted } = placed;
    let heads = hashes(&doc.get_heads());
    let fp = fingerprint::of(id, &heads) as i64;
    // Uncompressed: the wire's DEFLATE compresses a whole batch better than
    // Automerge's per-column compression, which costs a tenth of a push's
    // time and the device's first sync a decompression per document.
    let plain = doc.save_nocompress();
    if plain.len() > MAX_DOC_BYTES {
        return Err(SyncError::Document {
            id: id.to_string(),
            code: codes::DOCUMENT_TOO_LARGE.code,
            detail: format!("{} bytes (at most {MAX_DOC_BYTES})", plain.len()),
        });
    }
    let sealed = ctx.sealer.seal(id.as_str(), &plain);
    let seq = next_seq(db)?;
    // The summaries, under the seq row's lock like every write.
    let is_area = kind == RecordKind::Area;
    if let Some(old) =
        db.query("SELECT fp, kind, township, grid FROM docs WHERE id = $1", &[id.as_str().into()])?.first()
    {
        let was_area = old[1].text() == Some("area");
        let old_region =
            Region { township: old[2].text().map(RecordId::from), grid: old[3].text().map(RecordId::from) };
        summary_change(db, was_area, &old_region, old[0].int(), -1)?;
    }
    summary_change(db, is_area, region, fp, 1)?;
    if let Some(old) = old_region.filter(|old| *old != region) {
        db.execute(
            "INSERT INTO departures (doc_id, township, grid, seq) VALUES ($1, $2, $3, $4)",
            &[id.as_str().into(), Val::opt(old.township.as_ref()), Val::opt(old.grid.as_ref()), seq.into()],
        )?;
    }
    db.execute(
        "INSERT INTO docs (id, kind, township, grid, deleted, heads, fp, sealed, seq, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, township = excluded.township,
           grid = excluded.grid, deleted = excluded.deleted, heads = excluded.heads, fp = excluded.fp,
           sealed = excluded.sealed, seq = excluded.seq, updated_at = excluded.updated_at",
        &[
            id.as_str().into(),
            kind.key().into(),
            Val::opt(region.township.as_ref()),
            Val::opt(region.grid.as_ref()),
            i64::from(deleted).into(),
            heads_blob(&heads).into(),
            fp.into(),
            sealed.into(),
            seq.into(),
            ctx.now_ms.into(),
        ],
    )?;
    crate::facts::project(db, id, record, deleted)?;
    crate::facts::dupkey(db, ctx.sealer, id, record, deleted)?;
    crate::facts::blob_refs(db, id, record, deleted)?;
    crate::facts::conflicts(db, id, record, doc, deleted)?;
    if let registry::model::Record::Member(m) = record {
        crate::facts::card_holder(db, id, card_serial(m.card_number.as_deref()).as_deref())?;
    }
    Ok(heads)
}

/// What [`each_document`] calls with each live document and its record.
pub(crate) type DocumentVisitor<'f> =
    dyn FnMut(&mut dyn Sql, &RecordId, &registry::model::Record, &AutoCommit) -> Result<(), SyncError> + 'f;

/// Calls `f` with every live document and its record, 1,000 at a time.
pub(crate) fn each_document(db: &mut dyn Sql, ctx: &Ctx<'_>, f: &mut DocumentVisitor<'_>) -> Result<(), SyncError> {
    let mut after = String::new();
    loop {
        let rows = db.query(
            "SELECT id FROM docs WHERE deleted = 0 AND id > $1 ORDER BY id LIMIT 1000",
            &[after.as_str().into()],
        )?;
        let n = rows.len();
        for row in rows {
            let id = RecordId::from(row[0].text().unwrap_or_default());
            if let Some(s) = load(db, ctx, &id)? {
                let record = store::hydrate(&s.doc).map_err(|e| SyncError::Sealed(format!("{id}: {e}")))?;
                f(db, &id, &record, &s.doc)?;
            }
            after = id.0;
        }
        if n < 1000 {
            return Ok(());
        }
    }
}

/// The actor of the changes the county server makes itself (a settled
/// conflict).
pub const COUNTY_ACTOR: [u8; 16] = *b"sanjian-county\0\0";

/// A document's conflicting fields with their values and the devices that
/// wrote them, for review.
pub fn document_conflicts(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    id: &RecordId,
) -> Result<Option<(registry::model::Record, Vec<store::Conflict>)>, SyncError> {
    let Some(s) = load(db, ctx, id)? else { return Ok(None) };
    let record = store::hydrate(&s.doc).map_err(|e| SyncError::Sealed(format!("{id}: {e}")))?;
    Ok(Some((record, store::document_conflicts(&s.doc))))
}

/// Settles a conflicting field at the county: the chosen value is written
/// over the concurrent ones as the county (`COUNTY_ACTOR`) on behalf of
/// `by`, the record must pass the plan's rules, and devices receive the
/// change with their next pull.
pub fn settle_conflict(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    id: &RecordId,
    field: &str,
    value: &serde_json::Value,
    by: &str,
) -> Result<(), SyncError> {
    let Some(s) = load_for_write(db, ctx, id)? else {
        return Err(review_refused(codes::NOT_FOUND));
    };
    let mut doc = s.doc.with_actor(automerge::ActorId::from(COUNTY_ACTOR));
    let (record, _) = store::settle_document(&mut doc, field, value, by, ctx.today).map_err(|e| {
        let m = e.message();
        SyncError::Refused { status: 409, code: e.code().into(), message: m }
    })?;
    let region = record.region(id);
    let placed =
        Placed { kind: record.kind(), record: &record, region: &region, old_region: Some(&s.region), deleted: false };
    save(db, ctx, id, &mut doc, placed)?;
    Ok(())
}

fn store_refused(e: &store::StoreError) -> SyncError {
    SyncError::Refused { status: 409, code: e.code().into(), message: e.message() }
}

/// Saves a document the county changed (its record read back from it).
fn save_county_change(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    id: &RecordId,
    doc: &mut AutoCommit,
    old_region: &Region,
    deleted: bool,
) -> Result<(), SyncError> {
    let record = store::hydrate(doc).map_err(|e| SyncError::Sealed(format!("{id}: {e}")))?;
    let region = record.region(id);
    let placed =
        Placed { kind: record.kind(), record: &record, region: &region, old_region: Some(old_region), deleted };
    save(db, ctx, id, doc, placed)?;
    Ok(())
}

/// Merges two records of one person or entity at the county (the
/// near-duplicate queue): `drop`'s history is merged into `keep`'s document
/// ([`store::merge_documents`]; `take` lists the fields whose value comes
/// from `drop`), `drop` is deleted with a tombstone naming `keep`, and the
/// records that pointed at `drop` (members' employer and census visits for
/// an entity; cadres', hardship cases' and transfers' member for a member)
/// are pointed at `keep`.
/// All in the caller's transaction; devices receive it with their next pull.
/// Returns how many records were re-pointed.
pub fn merge_records(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    keep: &RecordId,
    drop: &RecordId,
    take: &[String],
    by: &str,
) -> Result<usize, SyncError> {
    if keep == drop {
        return Err(review_refused(codes::MERGE_SAME));
    }
    let live = |db: &mut dyn Sql, id: &RecordId| -> Result<bool, SyncError> {
        let rows = db.query("SELECT deleted FROM docs WHERE id = $1", &[id.as_str().into()])?;
        Ok(rows.first().is_some_and(|r| r[0].int() == 0))
    };
    // Both held, in id order (two merges of the same pair cannot deadlock).
    for id in if keep < drop { [keep, drop] } else { [drop, keep] } {
        db.lock_doc(id)?;
    }
    if !live(db, keep)? || !live(db, drop)? {
        return Err(review_refused(codes::NOT_FOUND));
    }
    let (Some(k), Some(d)) = (load(db, ctx, keep)?, load(db, ctx, drop)?) else {
        return Err(review_refused(codes::NOT_FOUND));
    };
    if !matches!(k.kind.as_str(), "member" | "entity") {
        return Err(review_refused(codes::MERGE_KIND));
    }
    let actor = automerge::ActorId::from(COUNTY_ACTOR);
    let mut kept = k.doc.with_actor(actor.clone());
    store::merge_documents(&mut kept, keep, &d.doc, drop, take, by, ctx.today).map_err(|e| store_refused(&e))?;
    save_county_change(db, ctx, keep, &mut kept, &k.region, false)?;
    let mut dropped = d.doc.with_actor(actor.clone());
    store::delete_document(&mut dropped, by, &format!("合并到 {keep} / merged into {keep}"))
        .map_err(|e| store_refused(&e))?;
    save_county_change(db, ctx, drop, &mut dropped, &d.region, true)?;
    // The records pointing at the dropped one.
    let mut pointing: Vec<RecordId> = Vec::new();
    // An entity's members and visits are found through the facts; what
    // names a member has no facts column, so those kinds are read.
    let kinds: &[RecordKind] = if k.kind == "entity" {
        for sql in ["SELECT id FROM f_members WHERE employer_id = $1", "SELECT id FROM f_visits WHERE entity_id = $1"] {
            let rows = db.query(sql, &[drop.as_str().into()])?;
            pointing.extend(rows.iter().map(|r| RecordId::from(r[0].text().unwrap_or_default())));
        }
        &[]
    } else {
        &[RecordKind::Cadre, RecordKind::Hardship, RecordKind::Transfer]
    };
    for &kind in kinds {
        for township in [d.region.township.as_ref(), k.region.township.as_ref()] {
            let mut after: Option<RecordId> = None;
            loop {
                let page = records_in_township(db, ctx, kind, township, after.as_ref(), 500)?;
                let n = page.len();
                for (id, record) in page {
                    let points = match &record {
                        registry::model::Record::Cadre(c) => c.member_id.as_ref() == Some(drop),
                        registry::model::Record::Hardship(h) => h.member_id.as_ref() == Some(drop),
                        registry::model::Record::Transfer(t) => t.member_id == *drop,
                        _ => false,
                    };
                    if points && !pointing.contains(&id) {
                        pointing.push(id.clone());
                    }
                    after = Some(id);
                }
                if n < 500 {
                    break;
                }
            }
        }
    }
    for id in &pointing {
        county_edit(db, ctx, id, by, |r| match r {
            registry::model::Record::Member(m) => m.employer_id = Some(keep.clone()),
            registry::model::Record::Cadre(c) => c.member_id = Some(keep.clone()),
            registry::model::Record::Hardship(h) => h.member_id = Some(keep.clone()),
            registry::model::Record::Transfer(t) => t.member_id = keep.clone(),
            registry::model::Record::Visit(v) => v.entity_id = Some(keep.clone()),
            _ => {}
        })?;
    }
    Ok(pointing.len())
}

/// Edits a live record at the county (as `COUNTY_ACTOR` on behalf of
/// `by`): validated like any edit, only changed fields written, devices
/// receive it with their next pull. Returns the record as saved.
pub fn county_edit(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    id: &RecordId,
    by: &str,
    edit: impl FnOnce(&mut registry::model::Record),
) -> Result<registry::model::Record, SyncError> {
    let Some(s) = load_for_write(db, ctx, id)? else {
        return Err(review_refused(codes::NOT_FOUND));
    };
    let old_place = place_keys(&s.doc);
    let mut doc = s.doc.with_actor(automerge::ActorId::from(COUNTY_ACTOR));
    let (record, _) = store::update_document(&mut doc, id, by, ctx.today, edit).map_err(|e| store_refused(&e))?;
    if place_keys(&doc) != old_place {
        refuse_bad_place(db, &record)?;
    }
    save_county_change(db, ctx, id, &mut doc, &s.region, false)?;
    Ok(record)
}

/// Returns a record to the field for correction (as `COUNTY_ACTOR` on
/// behalf of `by`): its document carries the note until a device edits the
/// record, and every device holding it lists it on its worklist.
pub fn return_record(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    id: &RecordId,
    queue: &str,
    note: &str,
    by: &str,
) -> Result<(), SyncError> {
    let Some(s) = load_for_write(db, ctx, id)? else {
        return Err(review_refused(codes::NOT_FOUND));
    };
    let mut doc = s.doc.with_actor(automerge::ActorId::from(COUNTY_ACTOR));
    store::return_document(&mut doc, queue, note, by).map_err(|e| store_refused(&e))?;
    save_county_change(db, ctx, id, &mut doc, &s.region, false)
}

/// Creates a record at the county (as `COUNTY_ACTOR` on behalf of `by`),
/// validated, under a fresh id; devices receive it with their next pull.
pub fn county_create(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    record: registry::model::Record,
    by: &str,
) -> Result<RecordId, SyncError> {
    county_create_as(db, ctx, store::random_id(), record, by)
}

/// [`county_create`] under a given id (one derived from a natural key).
pub fn county_create_as(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    id: RecordId,
    record: registry::model::Record,
    by: &str,
) -> Result<RecordId, SyncError> {
    refuse_bad_place(db, &record)?;
    let mut doc = store::new_document(&id, record, COUNTY_ACTOR, by, ctx.today).map_err(|e| store_refused(&e))?;
    import(db, ctx, &id, &mut doc)?;
    Ok(id)
}

/// The county's own writes keep the region rule too: the first issue as a
/// refusal.
fn refuse_bad_place(db: &mut dyn Sql, record: &registry::model::Record) -> Result<(), SyncError> {
    match place_issues(db, record)?.into_iter().next() {
        None => Ok(()),
        Some(i) => Err(SyncError::Refused { status: 409, code: i.code.into(), message: i.message }),
    }
}

/// The most a device may have waiting in the quarantine (unresolved, as
/// stored): past it a push that needs the quarantine is refused whole with
/// `QUOTA_EXCEEDED` until the county reviews what is there, and a revoked
/// device's pushes are no longer kept.
pub const QUARANTINE_QUOTA: i64 = 16 << 20;

/// The largest document a record may grow to (as stored, uncompressed). A
/// member or an entity with years of edits is tens of kilobytes; past this
/// a push is held in the quarantine (`DOCUMENT_TOO_LARGE`) for review.
pub const MAX_DOC_BYTES: usize = 2 << 20;

/// `QUOTA_EXCEEDED`: the device's quarantine is full.
pub fn quota_exceeded() -> SyncError {
    codes::QUOTA_EXCEEDED.into()
}

fn quarantine(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    device: &Device,
    id: &RecordId,
    (code, detail): (&str, &str),
    bytes: &[u8],
    changes: &[String],
) -> Result<(), SyncError> {
    // The same changes held already (sent again, framed differently: a
    // delta, then the whole document) are not kept twice.
    if !changes.is_empty() {
        let held = db
            .query("SELECT changes FROM quarantine WHERE doc_id = $1 AND resolved_at IS NULL", &[id.as_str().into()])?;
        let known: HashSet<&str> = held.iter().flat_map(|r| r[0].text().unwrap_or_default().split(',')).collect();
        if changes.iter().all(|c| known.contains(c.as_str())) {
            return Ok(());
        }
    }
    let mut digest = Sha256::new();
    digest.update(device.id.as_bytes());
    digest.update([0]);
    digest.update(id.as_str().as_bytes());
    digest.update(bytes);
    let digest = digest.finalize().to_vec();
    let exists = db.query("SELECT 1 FROM quarantine WHERE digest = $1", &[digest.clone().into()])?;
    if !exists.is_empty() {
        return Ok(());
    }
    let sealed = ctx.sealer.seal(id.as_str(), bytes);
    let held = db.query(
        "SELECT COALESCE(sum(length(sealed)), 0) FROM quarantine WHERE device_id = $1 AND resolved_at IS NULL",
        &[device.id.as_str().into()],
    )?;
    if held.first().map_or(0, |r| r[0].int()) + sealed.len() as i64 > QUARANTINE_QUOTA {
        return Err(quota_exceeded());
    }
    db.execute(
        "INSERT INTO quarantine (device_id, doc_id, code, detail, digest, sealed, created_at, changes)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            device.id.as_str().into(),
            id.as_str().into(),
            code.into(),
            detail.into(),
            digest.into(),
            sealed.into(),
            ctx.now_ms.into(),
            changes.join(",").into(),
        ],
    )?;
    Ok(())
}

/// Applies a device's push. Every document either is applied, goes to the
/// quarantine (changes another actor made, writes outside the device's
/// scope, results that break the plan's rules) or is asked for again whole
/// (its changes build on changes the server lacks). Bytes that are not
/// Automerge, or that do not read as a record, fail the whole request and
/// nothing is stored. Replaying a push changes nothing.
pub fn push(db: &mut dyn Sql, ctx: &Ctx<'_>, device: &Device, req: &PushRequest) -> Result<PushResponse, SyncError> {
    push_with(db, ctx, device, req, &mut Vec::new())
}

/// A membership card the county should revoke because of an applied push:
/// its serial (16 hex characters) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardToRevoke {
    pub serial: String,
    pub reason: &'static str,
}

/// [`push`], also reporting the cards the applied changes made obsolete: a
/// member's previous card when a new one was issued (its card number
/// changed), and the current card of a member who left, transferred out or
/// was deleted.
pub fn push_with(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    device: &Device,
    req: &PushRequest,
    cards: &mut Vec<CardToRevoke>,
) -> Result<PushResponse, SyncError> {
    // Every document of the push held up front, in id order: two pushes
    // sharing documents wait for each other instead of deadlocking.
    let mut ids: Vec<&RecordId> = req.docs.iter().map(|d| &d.id).collect();
    ids.sort();
    ids.dedup();
    for id in ids {
        db.lock_doc(id)?;
    }
    let mut results = Vec::with_capacity(req.docs.len());
    for d in &req.docs {
        results.push(push_one(db, ctx, device, d, cards)?);
    }
    Ok(PushResponse { results })
}

/// The serial of a card number Sanjian issued: `UC` and 16 hex characters
/// (older card numbers, e.g. 16 digits from a previous system, are not).
pub(crate) fn card_serial(s: Option<&str>) -> Option<String> {
    let hex = s?.strip_prefix("UC")?;
    (hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| hex.to_ascii_lowercase())
}

/// The card number a member record carries for a card serial.
pub fn card_number(serial: &[u8; 8]) -> String {
    let hex: String = serial.iter().map(|b| format!("{b:02X}")).collect();
    format!("UC{hex}")
}

fn root_str(doc: &AutoCommit, key: &str) -> Option<String> {
    match doc.get(automerge::ROOT, key).ok().flatten() {
        Some((automerge::Value::Scalar(v), _)) => v.as_str().map(str::to_owned),
        _ => None,
    }
}

/// What the server's area tree says of an area, read off its docs row (no
/// document is opened): a township's row names itself as township, a grid's
/// names itself as grid, a community's names its township only.
fn area_node(db: &mut dyn Sql, id: &RecordId) -> Result<Option<validate::AreaNode>, SyncError> {
    use registry::model::AreaLevel;
    let rows = db.query("SELECT township, grid FROM docs WHERE id = $1 AND kind = 'area'", &[id.as_str().into()])?;
    Ok(rows.first().map(|r| {
        let (township, grid) = (r[0].text(), r[1].text());
        let level = if grid == Some(id.as_str()) {
            AreaLevel::Grid
        } else if township == Some(id.as_str()) {
            AreaLevel::Township
        } else if township.is_some() {
            AreaLevel::Community
        } else {
            AreaLevel::County
        };
        // The server checks the region key (township, grid); a grid's
        // community is the devices' check, from their area tree.
        validate::AreaNode { level, township: township.map(RecordId::from), parent: None }
    }))
}

/// The region rule ([`validate::place_in_tree`]) against the server's area
/// tree: issues for a record whose grid or community lies outside its
/// township.
pub fn place_issues(db: &mut dyn Sql, record: &registry::model::Record) -> Result<Vec<registry::Issue>, SyncError> {
    let Some(place) = record.place() else { return Ok(Vec::new()) };
    let mut nodes = std::collections::HashMap::new();
    for id in [Some(&place.township), place.community.as_ref(), place.grid.as_ref()].into_iter().flatten() {
        nodes.insert(id.clone(), area_node(db, id)?);
    }
    Ok(validate::place_in_tree(place, &|id| nodes.get(id).cloned().flatten()))
}

/// The townships a device works in: its townships and those its grids lie
/// in (`None`: the whole county).
fn device_townships(db: &mut dyn Sql, device: &Device) -> Result<Option<HashSet<RecordId>>, SyncError> {
    if device.scope.all {
        return Ok(None);
    }
    let mut out: HashSet<RecordId> = device.scope.townships.iter().cloned().collect();
    for g in &device.scope.grids {
        if let Some(t) = area_node(db, g)?.and_then(|n| n.township) {
            out.insert(t);
        }
    }
    Ok(Some(out))
}

/// A reference a device may not make: to a record of a township it does not
/// work in. Figures count references (a union's members, an entity's,
/// a vacant chair), so a device outside a township could otherwise move that
/// township's figures. The county (and a county-wide device) may link
/// across townships; a transfer needs one of its unions in the device's
/// townships. Only references the push sets or changes are checked.
fn foreign_reference(
    db: &mut dyn Sql,
    device: &Device,
    record: &registry::model::Record,
    before: Option<&registry::model::Record>,
) -> Result<Option<String>, SyncError> {
    let old: Vec<(&str, &RecordId)> = before.map(|b| b.references()).unwrap_or_default();
    let set: Vec<(&str, &RecordId)> = record.references().into_iter().filter(|r| !old.contains(r)).collect();
    let transfer = record.transfer_unions().filter(|&u| before.and_then(|b| b.transfer_unions()) != Some(u));
    // Most pushes change no reference (a phone, a date): nothing to read.
    if set.is_empty() && transfer.is_none() {
        return Ok(None);
    }
    let Some(mine) = device_townships(db, device)? else { return Ok(None) };
    let township_of = |db: &mut dyn Sql, id: &RecordId| -> Result<Option<RecordId>, SyncError> {
        let rows = db.query("SELECT township FROM docs WHERE id = $1", &[id.as_str().into()])?;
        Ok(rows.first().and_then(|r| r[0].text().map(RecordId::from)))
    };
    for (field, target) in set {
        if let Some(t) = township_of(db, target)?
            && !mine.contains(&t)
        {
            return Ok(Some(format!("{field}: a record of another township")));
        }
    }
    if let Some((from, to)) = transfer {
        let (a, b) = (township_of(db, from)?, township_of(db, to)?);
        let inside = |t: &Option<RecordId>| t.as_ref().is_none_or(|t| mine.contains(t));
        if !inside(&a) && !inside(&b) {
            return Ok(Some("from_union, to_union: both of other townships".into()));
        }
    }
    Ok(None)
}

/// A document's references as its root keys hold them (the fields
/// `Record::references` and `transfer_unions` read): compared before and
/// after a push, so the reference rule reads nothing for a push that sets
/// none.
fn reference_keys(doc: &AutoCommit) -> [Option<String>; 7] {
    ["union_id", "employer_id", "member_id", "entity_id", "parent_union", "from_union", "to_union"]
        .map(|k| root_str(doc, k))
}

/// A document's place as its root keys hold it (township, community, grid):
/// compared before and after a push, so the region rule is checked where a
/// place is set, not on every edit of a record placed before the rule.
fn place_keys(doc: &AutoCommit) -> [Option<String>; 3] {
    ["place.township", "place.community", "place.grid"].map(|k| root_str(doc, k))
}

fn push_one(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    device: &Device,
    d: &PushDoc,
    cards: &mut Vec<CardToRevoke>,
) -> Result<PushResult, SyncError> {
    let id = &d.id;
    let bad = |code: &'static str, detail: String| SyncError::Document { id: id.to_string(), code, detail };
    // Held already: push_with locks every document of the push first.
    let stored = load(db, ctx, id)?;
    let (mut doc, old) = match stored {
        Some(s) => (s.doc, Some((s.kind, s.region))),
        None => (AutoCommit::new(), None),
    };
    let before = doc.get_heads();
    let old_card = card_serial(root_str(&doc, "card_number").as_deref());
    let old_place = old.as_ref().map(|_| place_keys(&doc));
    let old_refs = reference_keys(&doc);
    match store::doc::load_incremental(&mut doc, &d.bytes) {
        Ok(_) => {}
        // Another change by this device's actor with the same sequence
        // number is stored already: the device's store was copied to a
        // second tablet and both wrote. The clash is kept for the county,
        // the rest of the push goes on.
        Err(store::StoreError::Automerge(automerge::AutomergeError::DuplicateSeqNumber(seq, _))) => {
            let changes = store::doc::change_hashes(&d.bytes);
            let detail = format!("change {seq} of this device exists already with other contents");
            quarantine(db, ctx, device, id, (codes::DEVICE_CLONED.code, &detail), &d.bytes, &changes)?;
            let outcome = Outcome::Quarantined(codes::DEVICE_CLONED.code.into());
            return Ok(PushResult { id: id.clone(), outcome, heads: hashes(&before), held: d.heads.clone() });
        }
        Err(e) => return Err(bad("DOCUMENT_MALFORMED", e.to_string())),
    }
    if !doc.get_missing_deps(&[]).is_empty() {
        return Ok(PushResult { id: id.clone(), outcome: Outcome::Resend, heads: hashes(&before), held: Vec::new() });
    }
    let held = |doc: &mut AutoCommit| -> Vec<Hash> {
        d.heads.iter().filter(|h| doc.get_change_by_hash(&ChangeHash(**h)).is_some()).copied().collect()
    };
    let after = doc.get_heads();
    if after == before {
        let held = held(&mut doc);
        return Ok(PushResult { id: id.clone(), outcome: Outcome::Applied, heads: hashes(&after), held });
    }
    // The changes this push brings (what a quarantine entry holds).
    let new_changes: Vec<String> = doc.get_changes_meta(&before).iter().map(|c| crate::enrol::hex(&c.hash.0)).collect();
    let quarantined = |db: &mut dyn Sql, code: &str, detail: String| -> Result<PushResult, SyncError> {
        quarantine(db, ctx, device, id, (code, &detail), &d.bytes, &new_changes)?;
        let outcome = Outcome::Quarantined(code.to_owned());
        Ok(PushResult { id: id.clone(), outcome, heads: hashes(&before), held: d.heads.clone() })
    };
    let foreign = doc.get_changes_meta(&before).iter().any(|c| c.actor.to_bytes() != device.actor);
    let mut record = store::hydrate(&doc).map_err(|e| bad(store::error::RECORD_UNREADABLE.code, e.to_string()))?;
    if foreign {
        return quarantined(db, codes::ACTOR_MISMATCH.code, "changes made by another device".into());
    }
    let kind = record.kind();
    let region = record.region(id);
    if let Some((old_kind, _)) = &old
        && old_kind != kind.key()
    {
        return quarantined(db, codes::KIND_CHANGED.code, format!("{old_kind} -> {}", kind.key()));
    }
    // A record that exists outside the device's scope: telling the device so
    // (the quarantine's answer) reveals that it exists, within its budget.
    if let Some((old_kind, r)) = &old
        && !device.scope.can_read(RecordKind::from_key(old_kind).unwrap_or(kind), r)
    {
        reveal(db, ctx, device, id, "push")?;
    }
    let old_ok = old.as_ref().is_none_or(|(_, r)| device.scope.can_write(kind, r));
    if !old_ok || !device.scope.can_write(kind, &region) {
        return quarantined(
            db,
            codes::OUT_OF_SCOPE.code,
            "the record is outside the device's townships and grids".into(),
        );
    }
    // The region rule, wherever the push sets a place: a grid or community
    // of another township would carry the record past the boundary the
    // scope check just passed.
    if old_place.as_ref() != Some(&place_keys(&doc)) {
        let wrong = place_issues(db, &record)?;
        if !wrong.is_empty() {
            let codes: Vec<_> = wrong.iter().map(|i| format!("{}:{}", i.field, i.code)).collect();
            return quarantined(db, codes::RULES_BROKEN.code, codes.join(","));
        }
    }
    // The reference rule, only where the push sets a reference (the record
    // as it was is read only then).
    if !device.scope.all && reference_keys(&doc) != old_refs {
        let old_record = old.as_ref().and_then(|_| doc.fork_at(&before).ok()).and_then(|d| store::hydrate(&d).ok());
        if let Some(why) = foreign_reference(db, device, &record, old_record.as_ref())? {
            return quarantined(db, codes::REFERENCE_OUT_OF_SCOPE.code, why);
        }
    }
    let issues = validate::check(&mut record, ctx.today);
    if blocks_saving(&issues) {
        let codes: Vec<_> = issues.iter().map(|i| format!("{}:{}", i.field, i.code)).collect();
        return quarantined(db, codes::RULES_BROKEN.code, codes.join(","));
    }
    let deleted = doc.get(automerge::ROOT, "_deleted").ok().flatten().is_some_and(|(v, _)| v.as_bool() == Some(true));
    let placed = Placed { kind, record: &record, region: &region, old_region: old.as_ref().map(|(_, r)| r), deleted };
    let heads = match save(db, ctx, id, &mut doc, placed) {
        Err(SyncError::Document { code: "DOCUMENT_TOO_LARGE", detail, .. }) => {
            return quarantined(db, codes::DOCUMENT_TOO_LARGE.code, detail);
        }
        saved => saved?,
    };
    if let registry::model::Record::Member(m) = &record {
        // Only this record's own cards: a card number copied from another
        // member's card revokes nothing.
        let current = card_serial(m.card_number.as_deref());
        if let Some(old) = old_card.filter(|o| Some(o) != current.as_ref())
            && crate::facts::holds_card(db, id, &old)?
        {
            cards.push(CardToRevoke { serial: old, reason: "REISSUED" });
        }
        if let Some(current) = current.filter(|_| deleted || m.left_on.is_some())
            && crate::facts::holds_card(db, id, &current)?
        {
            cards.push(CardToRevoke { serial: current, reason: if deleted { "DELETED" } else { "MEMBER_LEFT" } });
        }
    }
    let held = held(&mut doc);
    Ok(PushResult { id: id.clone(), outcome: Outcome::Applied, heads, held })
}

/// The SQL condition selecting documents a scope may read; its parameters
/// are appended to `params` (which holds every earlier one) and numbered on.
pub(crate) fn scope_filter(scope: &Scope, params: &mut Vec<Val>) -> String {
    if scope.all {
        return "1 = 1".into();
    }
    let list = |ids: &[RecordId], params: &mut Vec<Val>| -> String {
        let mut out = Vec::new();
        for id in ids {
            params.push(id.as_str().into());
            out.push(format!("${}", params.len()));
        }
        if out.is_empty() { "NULL".into() } else { out.join(", ") }
    };
    let townships = list(&scope.townships, params);
    let grids = list(&scope.grids, params);
    format!("(township IN ({townships}) OR grid IN ({grids}))")
}

const CURSOR_PREFIX: &str = "v2:";

/// The cursor names its device, so a cursor (or an answer carrying one)
/// can never serve another device: `v2:<actor>:<scope version>:<seq>`.
fn cursor_for(device: &Device, seq: i64) -> String {
    format!("{}{}:{seq}", cursor_prefix(&device.actor), device.scope.version)
}

/// The start of every cursor made for the device with this actor (the
/// client checks answers against it).
pub fn cursor_prefix(actor: &[u8; 16]) -> String {
    format!("{CURSOR_PREFIX}{}:", crate::enrol::hex(actor))
}

fn parse_cursor(cursor: &str, device: &Device) -> Result<Option<i64>, SyncError> {
    if cursor.is_empty() || cursor.starts_with("v1:") {
        // No cursor yet, or one from before cursors named their device:
        // start the feed again (what the device holds applies as a no-op).
        return Ok(None);
    }
    let rest = cursor.strip_prefix(CURSOR_PREFIX).ok_or(SyncError::BadCursor)?;
    let mut parts = rest.split(':');
    let (Some(actor), Some(version), Some(seq), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(SyncError::BadCursor);
    };
    let version: u64 = version.parse().map_err(|_| SyncError::BadCursor)?;
    let seq: i64 = seq.parse().map_err(|_| SyncError::BadCursor)?;
    if seq < 0 {
        return Err(SyncError::BadCursor);
    }
    let mine = crate::enrol::hex(&device.actor);
    // Another device's cursor, or one from an older scope, restarts the
    // feed: the scope's records reach the device, and what it holds already
    // applies as a no-op.
    Ok((actor == mine && version == device.scope.version).then_some(seq))
}

/// The next batch of the device's feed: documents in its scope (and those
/// that left it) written after the cursor, in write order.
pub fn pull(db: &mut dyn Sql, ctx: &Ctx<'_>, device: &Device, req: &PullRequest) -> Result<PullResponse, SyncError> {
    let scope = &device.scope;
    let parsed = parse_cursor(&req.cursor, device)?;
    let after = parsed.unwrap_or(0);
    let limit = req.limit.clamp(1, MAX_BATCH_DOCS);
    let mut params: Vec<Val> = vec![after.into()];
    let filter = scope_filter(scope, &mut params);
    let departed = if scope.all {
        String::new()
    } else {
        format!(" OR id IN (SELECT doc_id FROM departures WHERE seq > $1 AND {filter})")
    };
    let condition = format!("seq > $1 AND (kind = 'area' OR {filter}{departed})");
    let total = if req.want_total {
        let rows = db.query(&format!("SELECT count(*) FROM docs WHERE {condition}"), &params)?;
        Some(rows.first().map_or(0, |r| r[0].int()) as u64)
    } else {
        None
    };
    params.push(i64::from(limit).into());
    let n = params.len();
    let rows = db.query(
        &format!("SELECT id, seq, kind, township, grid FROM docs WHERE {condition} ORDER BY seq LIMIT ${n}"),
        &params,
    )?;
    let mut docs = Vec::with_capacity(rows.len());
    let mut left = Vec::new();
    let mut last = after;
    let mut bytes = 0;
    let mut more = rows.len() as u32 == limit;
    for row in rows {
        let id = RecordId::from(row[0].text().unwrap_or_default());
        last = row[1].int();
        let kind = RecordKind::from_key(row[2].text().unwrap_or_default()).unwrap_or(RecordKind::Area);
        let region = Region { township: row[3].text().map(RecordId::from), grid: row[4].text().map(RecordId::from) };
        if !scope.can_read(kind, &region) {
            // It left the scope: its id, never its document (nothing outside
            // the scope is unsealed).
            left.push(id);
            continue;
        }
        let Some(s) = load_bytes(db, ctx, &id)? else { continue };
        bytes += s.doc.len();
        docs.push(Doc { id, bytes: s.doc });
        if bytes >= MAX_BATCH_BYTES {
            more = true;
            break;
        }
    }
    let next = cursor_for(device, last);
    Ok(PullResponse {
        from: req.cursor.clone(),
        next,
        more,
        total,
        scope: parsed.is_none().then(|| scope.clone()),
        docs,
        left,
    })
}

/// Summaries of the documents a scope reads, by bucket, a page at a time.
fn scope_buckets(
    db: &mut dyn Sql,
    scope: &Scope,
    only: Option<&[u8]>,
) -> Result<(Buckets, Vec<(RecordId, u64)>), SyncError> {
    let mut buckets = Buckets::default();
    let mut listing = Vec::new();
    let mut after = String::new();
    loop {
        let mut params: Vec<Val> = vec![after.clone().into()];
        let filter = scope_filter(scope, &mut params);
        let rows = db.query(
            &format!("SELECT id, fp FROM docs WHERE id > $1 AND (kind = 'area' OR {filter}) ORDER BY id LIMIT 5000"),
            &params,
        )?;
        let n = rows.len();
        for row in rows {
            let id = RecordId::from(row[0].text().unwrap_or_default());
            let fp = row[1].int() as u64;
            if let Some(only) = only {
                if only.contains(&fingerprint::bucket(&id)) {
                    listing.push((id.clone(), fp));
                }
            } else {
                buckets.add(&id, fp);
            }
            after = id.0;
        }
        if n < 5000 {
            return Ok((buckets, listing));
        }
    }
}

/// The repair check (see [`RepairRequest`]).
pub fn repair(db: &mut dyn Sql, device: &Device, req: &RepairRequest) -> Result<RepairResponse, SyncError> {
    if req.buckets.is_empty() {
        if scope_summary(db, &device.scope)? == req.summary {
            return Ok(RepairResponse::Equal);
        }
        let (buckets, _) = scope_buckets(db, &device.scope, None)?;
        return Ok(RepairResponse::Buckets(buckets.each));
    }
    let (_, listing) = scope_buckets(db, &device.scope, Some(&req.buckets))?;
    Ok(RepairResponse::Listing(listing))
}

/// Documents by id (the repair check's follow-up). A document outside the
/// device's scope is answered as `hidden` (forget your copy) only if it left
/// an area the scope covers, which the device saw; any other is answered as
/// `absent`, exactly like an id no record has, so a fetch never tells a
/// device what exists outside its scope. Nothing outside the scope is
/// unsealed.
pub fn fetch(db: &mut dyn Sql, ctx: &Ctx<'_>, device: &Device, req: &FetchRequest) -> Result<FetchResponse, SyncError> {
    let mut out = FetchResponse::default();
    let mut bytes = 0;
    for id in &req.ids {
        if bytes >= MAX_BATCH_BYTES {
            break;
        }
        let rows = db.query("SELECT kind, township, grid FROM docs WHERE id = $1", &[id.as_str().into()])?;
        let Some(r) = rows.first() else {
            out.absent.push(id.clone());
            continue;
        };
        let kind = RecordKind::from_key(r[0].text().unwrap_or_default()).unwrap_or(RecordKind::Area);
        let region = Region { township: r[1].text().map(RecordId::from), grid: r[2].text().map(RecordId::from) };
        if device.scope.can_read(kind, &region) {
            if let Some(s) = load_bytes(db, ctx, id)? {
                bytes += s.doc.len();
                out.docs.push(Doc { id: id.clone(), bytes: s.doc });
            }
            continue;
        }
        let mut params: Vec<Val> = vec![id.as_str().into()];
        let filter = scope_filter(&device.scope, &mut params);
        let left = db.query(&format!("SELECT 1 FROM departures WHERE doc_id = $1 AND {filter} LIMIT 1"), &params)?;
        if left.is_empty() {
            out.absent.push(id.clone());
        } else {
            out.hidden.push(id.clone());
        }
    }
    Ok(out)
}

/// Stores a document the server itself made (an import, the demo county).
pub fn import(db: &mut dyn Sql, ctx: &Ctx<'_>, id: &RecordId, doc: &mut AutoCommit) -> Result<(), SyncError> {
    let record = store::hydrate(doc)?;
    let old = load_for_write(db, ctx, id)?;
    if let Some(mut s) = old {
        s.doc.merge(doc).map_err(|e| SyncError::Document {
            id: id.to_string(),
            code: "DOCUMENT_MALFORMED",
            detail: e.to_string(),
        })?;
        let record = store::hydrate(&s.doc)?;
        let region = record.region(id);
        let placed = Placed {
            kind: record.kind(),
            record: &record,
            region: &region,
            old_region: Some(&s.region),
            deleted: false,
        };
        save(db, ctx, id, &mut s.doc, placed)?;
        return Ok(());
    }
    let region = record.region(id);
    let placed = Placed { kind: record.kind(), record: &record, region: &region, old_region: None, deleted: false };
    save(db, ctx, id, doc, placed)?;
    Ok(())
}

/// One quarantined push, for county review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineEntry {
    pub id: i64,
    pub device_id: String,
    pub doc_id: RecordId,
    pub code: String,
    pub detail: String,
    pub created_at: i64,
}

/// Unresolved quarantine entries, oldest first.
pub fn quarantine_list(db: &mut dyn Sql, limit: i64) -> Result<Vec<QuarantineEntry>, SyncError> {
    let rows = db.query(
        "SELECT id, device_id, doc_id, code, detail, created_at FROM quarantine
         WHERE resolved_at IS NULL ORDER BY id LIMIT $1",
        &[limit.into()],
    )?;
    Ok(rows
        .into_iter()
        .map(|r| QuarantineEntry {
            id: r[0].int(),
            device_id: r[1].text().unwrap_or_default().into(),
            doc_id: RecordId::from(r[2].text().unwrap_or_default()),
            code: r[3].text().unwrap_or_default().into(),
            detail: r[4].text().unwrap_or_default().into(),
            created_at: r[5].int(),
        })
        .collect())
}

/// The changes held in a quarantine entry (for review, or to apply them).
pub fn quarantine_bytes(db: &mut dyn Sql, ctx: &Ctx<'_>, entry: i64) -> Result<Option<(RecordId, Vec<u8>)>, SyncError> {
    let rows = db.query("SELECT doc_id, sealed FROM quarantine WHERE id = $1", &[entry.into()])?;
    let Some(mut row) = rows.into_iter().next() else { return Ok(None) };
    let id = RecordId::from(row[0].text().unwrap_or_default());
    let sealed = std::mem::replace(&mut row[1], Val::Null).into_blob();
    let plain = ctx.sealer.open(id.as_str(), &sealed)?;
    Ok(Some((id, plain)))
}

/// Every live record of a kind, after `after` in id order, `limit` at a
/// time (for the county's own tools: resolving area names, exports).
pub fn records_of_kind(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    kind: RecordKind,
    after: Option<&RecordId>,
    limit: usize,
) -> Result<Vec<(RecordId, registry::model::Record)>, SyncError> {
    let rows = db.query(
        "SELECT id FROM docs WHERE kind = $1 AND deleted = 0 AND id > $2 ORDER BY id LIMIT $3",
        &[kind.key().into(), after.map_or("", |a| a.as_str()).into(), (limit as i64).into()],
    )?;
    records_of_rows(db, ctx, rows)
}

/// The records of documents whose ids are the first column of `rows`.
fn records_of_rows(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    rows: Vec<Vec<Val>>,
) -> Result<Vec<(RecordId, registry::model::Record)>, SyncError> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let id = RecordId::from(row[0].text().unwrap_or_default());
        if let Some(s) = load(db, ctx, &id)? {
            let record = store::hydrate(&s.doc).map_err(|e| SyncError::Sealed(format!("{id}: {e}")))?;
            out.push((id, record));
        }
    }
    Ok(out)
}

/// One live record, read from its document.
pub fn record(db: &mut dyn Sql, ctx: &Ctx<'_>, id: &RecordId) -> Result<Option<registry::model::Record>, SyncError> {
    let deleted = db.query("SELECT deleted FROM docs WHERE id = $1", &[id.as_str().into()])?;
    if deleted.first().is_none_or(|r| r[0].int() != 0) {
        return Ok(None);
    }
    match load(db, ctx, id)? {
        Some(s) => Ok(Some(store::hydrate(&s.doc).map_err(|e| SyncError::Sealed(format!("{id}: {e}")))?)),
        None => Ok(None),
    }
}

/// Every live record of a kind in one township (region key), in id order,
/// `limit` at a time (`None`: records with no township).
pub fn records_in_township(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    kind: RecordKind,
    township: Option<&RecordId>,
    after: Option<&RecordId>,
    limit: usize,
) -> Result<Vec<(RecordId, registry::model::Record)>, SyncError> {
    // SQLite numbers `$n` by first appearance: the placeholders stay in order.
    let mut params: Vec<Val> = vec![kind.key().into(), after.map_or("", |a| a.as_str()).into()];
    let place = match township {
        Some(t) => {
            params.push(t.as_str().into());
            "township = $3 ORDER BY id LIMIT $4"
        }
        None => "township IS NULL ORDER BY id LIMIT $3",
    };
    params.push((limit as i64).into());
    let rows =
        db.query(&format!("SELECT id FROM docs WHERE kind = $1 AND deleted = 0 AND id > $2 AND {place}"), &params)?;
    records_of_rows(db, ctx, rows)
}

/// The townships (region keys) holding live records of a kind.
pub fn townships_of_kind(db: &mut dyn Sql, kind: RecordKind) -> Result<Vec<Option<RecordId>>, SyncError> {
    let rows = db.query("SELECT DISTINCT township FROM docs WHERE kind = $1 AND deleted = 0", &[kind.key().into()])?;
    Ok(rows.into_iter().map(|r| r[0].text().map(RecordId::from)).collect())
}

/// The number of documents and the newest `seq` (health, tests).
pub fn stats(db: &mut dyn Sql) -> Result<(u64, i64), SyncError> {
    let rows = db.query("SELECT count(*), coalesce(max(seq), 0) FROM docs", &[])?;
    let r = rows.first().ok_or_else(|| SyncError::Db("no row".into()))?;
    Ok((r[0].int() as u64, r[1].int()))
}

/// The heads the server holds of a document, if any.
pub fn heads_of(db: &mut dyn Sql, id: &RecordId) -> Result<Option<Vec<Hash>>, SyncError> {
    let rows = db.query("SELECT heads FROM docs WHERE id = $1", &[id.as_str().into()])?;
    Ok(rows.into_iter().next().map(|mut r| {
        std::mem::replace(&mut r[0], Val::Null)
            .into_blob()
            .chunks_exact(32)
            .map(|c| c.try_into().expect("32"))
            .collect()
    }))
}

/// Keeps every document of a push in the quarantine with `code`, applying
/// nothing (a push from a revoked device).
pub fn quarantine_push(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    device: &Device,
    req: &PushRequest,
    code: &str,
) -> Result<(), SyncError> {
    for d in &req.docs {
        match quarantine(db, ctx, device, &d.id, (code, "pushed by a revoked device"), &d.bytes, &[]) {
            // Its quota is full: the rest is not kept (the device is refused
            // either way).
            Err(e) if e.code() == codes::QUOTA_EXCEEDED.code => return Ok(()),
            other => other?,
        }
    }
    Ok(())
}

/// A reviewer's refusal to resolve a quarantine entry, as a stable code.
fn review_refused(code: registry::message::Code) -> SyncError {
    code.into()
}

/// Resolves a quarantine entry at the county: `dismiss` keeps the refusal,
/// `apply` accepts the held changes as the county (merged into the stored
/// document, or a new one) if the record they make passes the plan's rules.
/// Writes from another device's actor and kind changes cannot be applied.
/// The decision, who made it and why are recorded on the entry.
pub fn resolve_quarantine(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    entry: i64,
    decision: &str,
    by: &str,
    note: &str,
) -> Result<(), SyncError> {
    let rows = db.query("SELECT code, resolved_at FROM quarantine WHERE id = $1", &[entry.into()])?;
    let Some(row) = rows.first() else {
        return Err(review_refused(codes::QUARANTINE_NOT_FOUND));
    };
    if row[1] != Val::Null {
        return Err(review_refused(codes::QUARANTINE_RESOLVED));
    }
    let code = row[0].text().unwrap_or_default().to_owned();
    match decision {
        "dismiss" => {}
        "apply" => {
            if matches!(code.as_str(), "ACTOR_MISMATCH" | "KIND_CHANGED") {
                return Err(review_refused(codes::QUARANTINE_NOT_APPLICABLE));
            }
            if code == "DEVICE_CLONED" {
                return Err(SyncError::Refused {
                    status: 409,
                    code: codes::QUARANTINE_NOT_APPLICABLE.code.into(),
                    message: registry::message::Message::new(
                        "被复制设备的修改与原设备的修改编号冲突，不能直接采用；请核对后由县里修改记录",
                        "Changes from a copied device clash with the original's and cannot be applied as they are; \
                     check them and edit the record at the county",
                    ),
                });
            }
            let (id, bytes) = quarantine_bytes(db, ctx, entry)?.expect("the entry exists");
            let stored = load_for_write(db, ctx, &id)?;
            let (mut doc, old) = match stored {
                Some(s) => (s.doc, Some((s.kind, s.region))),
                None => (AutoCommit::new(), None),
            };
            store::doc::load_incremental(&mut doc, &bytes).map_err(|e| SyncError::Document {
                id: id.to_string(),
                code: "DOCUMENT_MALFORMED",
                detail: e.to_string(),
            })?;
            if !doc.get_missing_deps(&[]).is_empty() {
                return Err(review_refused(codes::QUARANTINE_MISSING_CHANGES));
            }
            let mut record = store::hydrate(&doc)?;
            if old.as_ref().is_some_and(|(k, _)| k != record.kind().key()) {
                return Err(review_refused(codes::KIND_CHANGED));
            }
            let issues = validate::check(&mut record, ctx.today);
            if blocks_saving(&issues) {
                let broken: Vec<_> = issues.iter().map(|i| format!("{}:{}", i.field, i.code)).collect();
                return Err(SyncError::Refused {
                    status: 409,
                    code: codes::RULES_BROKEN.code.into(),
                    message: registry::message::Message::new(
                        format!("采用后的记录不符合规则：{}", broken.join("，")),
                        format!("The record would break the plan's rules: {}", broken.join(", ")),
                    ),
                });
            }
            let region = record.region(&id);
            let deleted =
                doc.get(automerge::ROOT, "_deleted").ok().flatten().is_some_and(|(v, _)| v.as_bool() == Some(true));
            let placed = Placed {
                kind: record.kind(),
                record: &record,
                region: &region,
                old_region: old.as_ref().map(|(_, r)| r),
                deleted,
            };
            save(db, ctx, &id, &mut doc, placed)?;
        }
        _ => {
            return Err(review_refused(codes::BAD_DECISION));
        }
    }
    let resolution = serde_json::json!({"decision": decision, "by": by, "note": note}).to_string();
    db.execute(
        "UPDATE quarantine SET resolved_at = $1, resolution = $2 WHERE id = $3",
        &[ctx.now_ms.into(), resolution.into(), entry.into()],
    )?;
    Ok(())
}

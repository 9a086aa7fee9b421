//! Document storage: the `docs`, `departures` and `counters` tables; loading
//! and saving a record's sealed document (with its facts and summaries in
//! the same transaction) and the reads over them.

use super::*;

/// The digest of each document's facts rows (`facts::Rows::write`); empty until
/// the document's next write.
pub fn facts_digest_schema(d: Dialect) -> String {
    let blob = match d {
        Dialect::Sqlite => "BLOB",
        Dialect::Postgres => "BYTEA",
    };
    format!("ALTER TABLE docs ADD COLUMN facts {blob}")
}

/// `docs.echo`: the device whose push left the document exactly as that
/// device holds it (the merged heads are the ones it pushed), so its next
/// pull need not send the document back ([`pull`]). Any other write clears
/// it.
pub fn echo_schema() -> String {
    "ALTER TABLE docs ADD COLUMN echo TEXT".into()
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

pub(crate) fn hashes(heads: &[ChangeHash]) -> Vec<Hash> {
    heads.iter().map(|h| h.0).collect()
}

pub(crate) fn heads_blob(heads: &[Hash]) -> Vec<u8> {
    let mut sorted = heads.to_vec();
    sorted.sort_unstable();
    sorted.concat()
}

/// A stored document (`D`: its bytes, or loaded) with its kind and region.
#[derive(Debug)]
pub struct Stored<D> {
    pub kind: String,
    pub region: Region,
    pub doc: D,
}

/// A document's bytes, unsealed.
pub fn load_bytes(db: &mut dyn Sql, ctx: &Ctx<'_>, id: &RecordId) -> Result<Option<Stored<Vec<u8>>>, SyncError> {
    let rows = db.query("SELECT kind, township, grid, sealed FROM docs WHERE id = $1", &[id.as_str().into()])?;
    let Some(mut row) = rows.into_iter().next() else { return Ok(None) };
    let sealed = std::mem::replace(&mut row[3], Val::Null).into_blob();
    let doc = ctx.sealer.open(id.as_str(), &sealed)?;
    let region = Region { township: row[1].text().map(RecordId::from), grid: row[2].text().map(RecordId::from) };
    Ok(Some(Stored { kind: row[0].text().unwrap_or_default().to_owned(), region, doc }))
}

pub fn load(db: &mut dyn Sql, ctx: &Ctx<'_>, id: &RecordId) -> Result<Option<Stored<AutoCommit>>, SyncError> {
    let Some(s) = load_bytes(db, ctx, id)? else { return Ok(None) };
    let doc = store::doc::load(&s.doc).map_err(|e| SyncError::Sealed(format!("{id}: {e}")))?;
    Ok(Some(Stored { kind: s.kind, region: s.region, doc }))
}

/// [`load`] for a read-modify-write: the document is held first
/// ([`Sql::lock_doc`]).
pub fn load_for_write(db: &mut dyn Sql, ctx: &Ctx<'_>, id: &RecordId) -> Result<Option<Stored<AutoCommit>>, SyncError> {
    db.lock_doc(id)?;
    load(db, ctx, id)
}

pub(crate) fn next_seq(db: &mut dyn Sql) -> Result<i64, SyncError> {
    let rows = db.query("UPDATE counters SET value = value + 1 WHERE name = 'seq' RETURNING value", &[])?;
    Ok(rows.first().map_or(0, |r| r[0].int()))
}

/// What the docs row says of a document beside its bytes.
#[derive(Debug)]
pub struct Placed<'a> {
    pub kind: RecordKind,
    /// The record as read from the document (its facts row is written too).
    pub record: &'a registry::model::Record,
    pub region: &'a Region,
    pub old_region: Option<&'a Region>,
    pub deleted: bool,
}

/// Writes a document (new or changed) with a new `seq`, recording a
/// departure when its region changed, and its facts rows.
pub fn save(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    id: &RecordId,
    doc: &mut AutoCommit,
    placed: Placed<'_>,
) -> Result<Vec<Hash>, SyncError> {
    let sealed = seal_doc(ctx, id, doc)?;
    let facts = crate::facts::rows(ctx.sealer, id, placed.record, doc, placed.deleted)?;
    let (kind, region, old_region, deleted) = (placed.kind, placed.region, placed.old_region, placed.deleted);
    let row = DocRow { kind, region, old_region, deleted, echo: None };
    store_doc(db, ctx, id, &sealed, row, &facts)?;
    Ok(sealed.heads)
}

/// A document ready to store: its heads, fingerprint and sealed bytes.
#[derive(Debug, Clone)]
pub struct SealedDoc {
    pub heads: Vec<Hash>,
    pub fp: i64,
    pub sealed: Vec<u8>,
}

/// Seals a document for [`store_doc`] (no database: a push does this
/// before its short write). `DOCUMENT_TOO_LARGE` past [`MAX_DOC_BYTES`].
pub fn seal_doc(ctx: &Ctx<'_>, id: &RecordId, doc: &mut AutoCommit) -> Result<SealedDoc, SyncError> {
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
    Ok(SealedDoc { heads, fp, sealed: ctx.sealer.seal(id.as_str(), &plain) })
}

/// The docs row's own columns of a document being stored.
#[derive(Debug, Clone, Copy)]
pub struct DocRow<'a> {
    pub kind: RecordKind,
    pub region: &'a Region,
    pub old_region: Option<&'a Region>,
    pub deleted: bool,
    /// The device that holds the document exactly as stored (`docs.echo`).
    pub echo: Option<&'a str>,
}

/// Stores a sealed document with a new `seq`: its docs row, the region
/// summaries, a departure when its region changed and its facts rows.
pub fn store_doc(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    id: &RecordId,
    doc: &SealedDoc,
    row: DocRow<'_>,
    facts: &crate::facts::Rows,
) -> Result<(), SyncError> {
    let DocRow { kind, region, old_region, deleted, echo } = row;
    let seq = next_seq(db)?;
    // The summaries, under the seq row's lock like every write.
    let is_area = kind == RecordKind::Area;
    let mut stored_facts = None;
    if let Some(old) =
        db.query("SELECT fp, kind, township, grid, facts FROM docs WHERE id = $1", &[id.as_str().into()])?.first()
    {
        let was_area = old[1].text() == Some("area");
        let old_region =
            Region { township: old[2].text().map(RecordId::from), grid: old[3].text().map(RecordId::from) };
        summary_change(db, was_area, &old_region, old[0].int(), -1)?;
        stored_facts = match &old[4] {
            Val::Blob(b) => Some(b.clone()),
            _ => None,
        };
    }
    summary_change(db, is_area, region, doc.fp, 1)?;
    if let Some(old) = old_region.filter(|old| *old != region) {
        db.execute(
            "INSERT INTO departures (doc_id, township, grid, seq) VALUES ($1, $2, $3, $4)",
            &[id.as_str().into(), Val::opt(old.township.as_ref()), Val::opt(old.grid.as_ref()), seq.into()],
        )?;
    }
    let facts = facts.write(db, stored_facts.as_deref())?;
    db.execute(
        "INSERT INTO docs (id, kind, township, grid, deleted, heads, fp, sealed, seq, updated_at, facts, echo)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, township = excluded.township,
           grid = excluded.grid, deleted = excluded.deleted, heads = excluded.heads, fp = excluded.fp,
           sealed = excluded.sealed, seq = excluded.seq, updated_at = excluded.updated_at,
           facts = excluded.facts, echo = excluded.echo",
        &[
            id.as_str().into(),
            kind.key().into(),
            Val::opt(region.township.as_ref()),
            Val::opt(region.grid.as_ref()),
            i64::from(deleted).into(),
            heads_blob(&doc.heads).into(),
            doc.fp.into(),
            doc.sealed.clone().into(),
            seq.into(),
            ctx.now_ms.into(),
            facts.into(),
            echo.map_or(Val::Null, Val::from),
        ],
    )?;
    Ok(())
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

/// What the server's area tree says of an area, read off its docs row (no
/// document is opened): a township's row names itself as township, a grid's
/// names itself as grid, a community's names its township only.
pub(crate) fn area_node(db: &mut dyn Sql, id: &RecordId) -> Result<Option<validate::AreaNode>, SyncError> {
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

/// The root keys that name other records.
const REFERENCE_KEYS: [&str; 7] =
    ["union_id", "employer_id", "member_id", "entity_id", "parent_union", "from_union", "to_union"];

/// The root keys that hold a record's place.
const PLACE_KEYS: [&str; 3] = ["place.township", "place.community", "place.grid"];

/// What a push compares before and after its merge, read in one pass over
/// the root map (a `get` per key, twice per push, cost a tenth of a push):
/// its place (the region rule is checked where a place is set, not on every
/// edit of a record placed before the rule), the records it names (the
/// reference rule likewise), its card number and whether it is deleted.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct RootKeys {
    pub place: [Option<String>; 3],
    pub references: [Option<String>; 7],
    pub card_number: Option<String>,
    pub deleted: bool,
}

pub(crate) fn root_keys(doc: &AutoCommit) -> RootKeys {
    let mut out = RootKeys::default();
    for item in doc.map_range(automerge::ROOT, ..) {
        let key = item.key.as_ref();
        let place = PLACE_KEYS.iter().position(|k| *k == key);
        let reference = REFERENCE_KEYS.iter().position(|k| *k == key);
        if place.is_none() && reference.is_none() && key != "card_number" && key != "_deleted" {
            continue;
        }
        let automerge::Value::Scalar(v) = automerge::Value::from(item.value) else { continue };
        if key == "_deleted" {
            out.deleted = v.as_bool() == Some(true);
            continue;
        }
        let text = v.as_str().map(str::to_owned);
        match (place, reference) {
            (Some(i), _) => out.place[i] = text,
            (_, Some(i)) => out.references[i] = text,
            _ => out.card_number = text,
        }
    }
    out
}

/// A document's place as its root keys hold it (township, community, grid).
pub fn place_keys(doc: &AutoCommit) -> [Option<String>; 3] {
    root_keys(doc).place
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

/// Every live record of a kind, in id order, read 2,000 at a time and handed
/// to `f` one by one (the county's tools: exports, imports, names).
pub fn each_of_kind(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    kind: RecordKind,
    mut f: impl FnMut(RecordId, registry::model::Record),
) -> Result<(), SyncError> {
    const PAGE: usize = 2000;
    let mut after: Option<RecordId> = None;
    loop {
        let page = records_of_kind(db, ctx, kind, after.as_ref(), PAGE)?;
        let full = page.len() == PAGE;
        after = page.last().map(|(id, _)| id.clone());
        for (id, r) in page {
            f(id, r);
        }
        if !full {
            return Ok(());
        }
    }
}

/// The records of documents whose ids are the first column of `rows`.
pub(crate) fn records_of_rows(
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

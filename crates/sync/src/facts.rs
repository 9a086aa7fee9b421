//! The county server's facts: one row per live record of the kinds the
//! progress report counts, holding only what the report needs (township,
//! counts, dates, flags, links) and never a name, ID number or phone.
//! Rows are written in the same transaction as the document (`server::save`),
//! so the console's dashboard reads a consistent county without opening a
//! sealed document. The judgements stay the registry's: the rows feed
//! `registry::progress::ProgressBuilder`, as the device's projections do
//! (`store::progress`); "a chair in office" is the one rule restated in SQL.
//!
//! Every statement is the same on SQLite and PostgreSQL; flags are 0/1
//! integers and dates ISO text, which order as dates.

use crate::error::SyncError;
use crate::server::{Ctx, Sql, Val};
use registry::Date;
use registry::model::{Record, RecordId, TownshipKind, UnionKind};
use registry::progress::{CampaignConfig, EntityFacts, MemberFacts, ProgressBuilder, ProgressReport, UnionFacts};
use registry::rules::{self, UnionStanding};

/// The migration that creates the tables.
pub fn schema() -> String {
    "CREATE TABLE f_townships (id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL);
     CREATE TABLE f_entities (id TEXT PRIMARY KEY, township TEXT NOT NULL, grid TEXT, workers BIGINT NOT NULL,
       closed BIGINT NOT NULL, union_id TEXT, private_enterprise BIGINT NOT NULL);
     CREATE INDEX f_entities_union ON f_entities(union_id);
     CREATE TABLE f_unions (id TEXT PRIMARY KEY, township TEXT NOT NULL, grid TEXT, kind TEXT NOT NULL,
       founded_on TEXT, dissolved_on TEXT, liuyou_complete BIGINT NOT NULL, bayou_complete BIGINT NOT NULL);
     CREATE TABLE f_cadres (id TEXT PRIMARY KEY, union_id TEXT NOT NULL, role TEXT NOT NULL,
       elected_on TEXT, left_on TEXT);
     CREATE INDEX f_cadres_union ON f_cadres(union_id, role);
     CREATE TABLE f_members (id TEXT PRIMARY KEY, township TEXT NOT NULL, grid TEXT, union_id TEXT NOT NULL,
       joined_on TEXT NOT NULL, left_on TEXT);"
        .into()
}

fn date(d: Option<Date>) -> Val {
    d.map_or(Val::Null, |d| Val::Text(d.to_string()))
}

fn id(r: Option<&RecordId>) -> Val {
    r.map_or(Val::Null, |r| Val::Text(r.0.clone()))
}

fn flag(b: bool) -> Val {
    Val::Int(i64::from(b))
}

/// The second facts migration: the community of entities and the employer
/// of members (for the three-clears report). It clears the "built" mark, so
/// the server rebuilds the rows from the documents at its next start.
pub fn schema_v2() -> String {
    "ALTER TABLE f_entities ADD COLUMN community TEXT;
     ALTER TABLE f_members ADD COLUMN employer_id TEXT;
     CREATE INDEX f_entities_area ON f_entities(township, community, grid);
     CREATE INDEX f_members_employer ON f_members(employer_id);
     DELETE FROM counters WHERE name = 'facts';"
        .into()
}

/// The third facts migration: documents holding conflicting values (the
/// console's review queue). Clears the "built" mark as `schema_v2` does.
pub fn schema_v3() -> String {
    "CREATE TABLE f_conflicts (id TEXT PRIMARY KEY, kind TEXT NOT NULL, township TEXT, name TEXT NOT NULL,
       fields TEXT NOT NULL);
     CREATE INDEX f_conflicts_township ON f_conflicts(township);
     DELETE FROM counters WHERE name = 'facts';"
        .into()
}

/// The fourth facts migration: why an entity's credit code is kept although
/// its check character fails (the override queue), and the county's reviews.
pub fn schema_v4() -> String {
    "ALTER TABLE f_entities ADD COLUMN override_reason TEXT;
     CREATE TABLE reviews (id TEXT NOT NULL, queue TEXT NOT NULL, decision TEXT NOT NULL, by_user TEXT NOT NULL,
       note TEXT NOT NULL, at BIGINT NOT NULL, PRIMARY KEY (id, queue));
     DELETE FROM counters WHERE name = 'facts';"
        .into()
}

/// The fifth facts migration: the keyed hash under which a member or entity
/// may be a near-duplicate of another (`registry::names::near_duplicate_key`).
pub fn schema_v5() -> String {
    "CREATE TABLE f_dupkeys (id TEXT PRIMARY KEY, kind TEXT NOT NULL, township TEXT, key TEXT NOT NULL);
     CREATE INDEX f_dupkeys_key ON f_dupkeys(key);
     DELETE FROM counters WHERE name = 'facts';"
        .into()
}

/// The sixth facts migration: the census visits (the console's "not yet
/// visited" and "visit again" lists and its map), and which documents refer
/// to which blobs (what a device may upload and download).
pub fn schema_v6() -> String {
    "CREATE TABLE f_visits (id TEXT PRIMARY KEY, entity_id TEXT, township TEXT NOT NULL, grid TEXT,
       visited_on TEXT NOT NULL, time TEXT NOT NULL, outcome TEXT NOT NULL, follow_up_on TEXT, surveyor TEXT NOT NULL,
       lat_e6 BIGINT, lon_e6 BIGINT, manual BIGINT NOT NULL, name TEXT NOT NULL);
     CREATE INDEX f_visits_entity ON f_visits(entity_id, visited_on);
     CREATE INDEX f_visits_area ON f_visits(township, grid, visited_on);
     CREATE TABLE f_blob_refs (hash TEXT NOT NULL, doc_id TEXT NOT NULL, township TEXT, grid TEXT, size BIGINT NOT NULL,
       PRIMARY KEY (hash, doc_id));
     CREATE INDEX f_blob_refs_doc ON f_blob_refs(doc_id);
     DELETE FROM counters WHERE name = 'facts';"
        .into()
}

/// `card_holders`: which member record each card serial belongs to, the
/// first record seen carrying it. A card is revoked because of a record's
/// change (its member left, was deleted, got a new card) only if the card
/// is that record's: a device cannot revoke another township's card by
/// writing its number into a record of its own. Never cleared by a facts
/// rebuild (the first holder stands).
pub fn schema_v7() -> String {
    "CREATE TABLE card_holders (serial TEXT PRIMARY KEY, doc_id TEXT NOT NULL);
     DELETE FROM counters WHERE name = 'facts';"
        .into()
}

/// Members by area: what a device's stubs are read from
/// ([`crate::server::refs`], after every pull).
pub fn schema_v8() -> String {
    "CREATE INDEX f_members_area ON f_members(township, grid);".into()
}

/// The ninth facts migration: entities' and unions' names (an
/// organisation's name is on its licence and its sign: not personal data),
/// for the console's lists that page, sort and search on the server.
/// Clears the "built" mark: names come from the documents at next start.
pub fn schema_v9() -> String {
    "ALTER TABLE f_entities ADD COLUMN name TEXT;
     ALTER TABLE f_unions ADD COLUMN name TEXT;
     CREATE INDEX f_entities_name ON f_entities(township, name);
     DELETE FROM counters WHERE name = 'facts';"
        .into()
}

/// One entity as the console's list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityFact {
    pub id: RecordId,
    pub name: String,
    pub township: RecordId,
    pub grid: Option<RecordId>,
    pub workers: i64,
    pub closed: bool,
    /// The union covering it (`rules::covering`), if any, and its name.
    pub covered_by: Option<(UnionKind, String)>,
}

/// The entities of a township (all townships when `None`), optionally of
/// one grid, each with the union that covers it today by the registry's
/// rule (a dissolved union covers nothing).
pub fn entities(
    db: &mut dyn Sql,
    township: Option<&RecordId>,
    grid: Option<&RecordId>,
    today: Date,
) -> Result<Vec<EntityFact>, SyncError> {
    let mut sql = "SELECT e.id, e.name, e.township, e.grid, e.workers, e.closed, u.kind, u.dissolved_on, u.name
         FROM f_entities e LEFT JOIN f_unions u ON u.id = e.union_id WHERE 1 = 1"
        .to_owned();
    let mut params: Vec<Val> = Vec::new();
    if let Some(t) = township {
        params.push(t.as_str().into());
        sql += &format!(" AND e.township = ${}", params.len());
    }
    if let Some(g) = grid {
        params.push(g.as_str().into());
        sql += &format!(" AND e.grid = ${}", params.len());
    }
    let rows = db.query(&sql, &params)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let union = r[6]
                .text()
                .and_then(UnionKind::from_key)
                .map(|kind| UnionStanding { kind, dissolved_on: date_of(&r[7]) });
            EntityFact {
                id: RecordId::from(r[0].text().unwrap_or_default()),
                name: r[1].text().unwrap_or_default().to_owned(),
                township: RecordId::from(r[2].text().unwrap_or_default()),
                grid: r[3].text().map(RecordId::from),
                workers: r[4].int(),
                closed: r[5].int() != 0,
                covered_by: rules::covering(union, today).map(|k| (k, r[8].text().unwrap_or_default().to_owned())),
            }
        })
        .collect())
}

/// The tenth facts migration: a keyed hash of each member's name (its name
/// key), so the console finds a member by name without the server keeping
/// names in the clear. Clears the "built" mark.
pub fn schema_v10() -> String {
    "CREATE TABLE f_member_names (id TEXT PRIMARY KEY, name_hash TEXT NOT NULL);
     CREATE INDEX f_member_names_hash ON f_member_names(name_hash);
     DELETE FROM counters WHERE name = 'facts';"
        .into()
}

/// A device's scope is townships or grids (`township IN (..) OR grid IN
/// (..)`): with an index led by each column the database answers the OR
/// from both indexes instead of scanning the table. The stubs a grid
/// surveyor's every sync asks for scanned every member of the county
/// without them (a third of the server's time when 100 devices synced).
pub fn schema_v11() -> String {
    "CREATE INDEX f_members_grid ON f_members(grid);
     CREATE INDEX f_entities_grid ON f_entities(grid);
     CREATE INDEX f_unions_area ON f_unions(township, grid);
     CREATE INDEX f_unions_grid ON f_unions(grid);"
        .into()
}

/// The twelfth facts migration: each member's card serial and last valid
/// day (发证率, `registry::rules::card_valid`). Clears the "built" mark.
pub fn schema_v12() -> String {
    "ALTER TABLE f_members ADD COLUMN card_serial TEXT;
     ALTER TABLE f_members ADD COLUMN card_expires TEXT;
     DELETE FROM counters WHERE name = 'facts';"
        .into()
}

/// The keyed hash a member's name is found under (its name key).
pub fn member_name_hash(sealer: &crate::server::Sealer, name: &str) -> String {
    sealer.keyed_hash(&format!("member-name:{}", registry::names::name_key(name)))
}

/// One member as the console's list holds it before the page is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberFact {
    pub id: RecordId,
    pub township: RecordId,
    pub union_id: RecordId,
    pub joined_on: Option<Date>,
    pub left_on: Option<Date>,
}

/// The members of a township (all when `None`), optionally of one union,
/// optionally only those whose name key hashes to `name_hash`.
pub fn members(
    db: &mut dyn Sql,
    township: Option<&RecordId>,
    union: Option<&RecordId>,
    name_hash: Option<&str>,
) -> Result<Vec<MemberFact>, SyncError> {
    let mut sql = "SELECT m.id, m.township, m.union_id, m.joined_on, m.left_on FROM f_members m".to_owned();
    let mut params: Vec<Val> = Vec::new();
    if let Some(h) = name_hash {
        params.push(h.into());
        sql += &format!(" JOIN f_member_names n ON n.id = m.id AND n.name_hash = ${}", params.len());
    }
    sql += " WHERE 1 = 1";
    if let Some(t) = township {
        params.push(t.as_str().into());
        sql += &format!(" AND m.township = ${}", params.len());
    }
    if let Some(u) = union {
        params.push(u.as_str().into());
        sql += &format!(" AND m.union_id = ${}", params.len());
    }
    Ok(db
        .query(&sql, &params)?
        .into_iter()
        .map(|r| MemberFact {
            id: RecordId::from(r[0].text().unwrap_or_default()),
            township: RecordId::from(r[1].text().unwrap_or_default()),
            union_id: RecordId::from(r[2].text().unwrap_or_default()),
            joined_on: date_of(&r[3]),
            left_on: date_of(&r[4]),
        })
        .collect())
}

/// Claims a member's card serial (16 hex characters) for its record, unless
/// another record holds it already.
pub fn card_holder(db: &mut dyn Sql, rid: &RecordId, serial: Option<&str>) -> Result<(), SyncError> {
    if let Some(serial) = serial {
        db.execute(
            "INSERT INTO card_holders (serial, doc_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[serial.into(), rid.as_str().into()],
        )?;
    }
    Ok(())
}

/// Whether card `serial` belongs to record `rid`.
pub fn holds_card(db: &mut dyn Sql, rid: &RecordId, serial: &str) -> Result<bool, SyncError> {
    let rows = db.query("SELECT doc_id FROM card_holders WHERE serial = $1", &[serial.into()])?;
    Ok(rows.first().and_then(|r| r[0].text()) == Some(rid.as_str()))
}

/// Records which blobs a record refers to (none once deleted).
pub fn blob_refs(db: &mut dyn Sql, rid: &RecordId, record: &Record, deleted: bool) -> Result<(), SyncError> {
    db.execute("DELETE FROM f_blob_refs WHERE doc_id = $1", &[rid.as_str().into()])?;
    let Some(photos) = record.photos().filter(|_| !deleted) else { return Ok(()) };
    let region = record.region(rid);
    for (hash, p) in photos {
        db.execute(
            "INSERT INTO f_blob_refs (hash, doc_id, township, grid, size) VALUES ($1, $2, $3, $4, $5)",
            &[
                hash.as_str().into(),
                rid.as_str().into(),
                id(region.township.as_ref()),
                id(region.grid.as_ref()),
                p.bytes.into(),
            ],
        )?;
    }
    Ok(())
}

/// Records (or clears) the keyed hash of a record's near-duplicate key,
/// and of a member's name (the console's search).
pub fn dupkey(
    db: &mut dyn Sql,
    sealer: &crate::server::Sealer,
    rid: &RecordId,
    record: &Record,
    deleted: bool,
) -> Result<(), SyncError> {
    db.execute("DELETE FROM f_dupkeys WHERE id = $1", &[rid.as_str().into()])?;
    db.execute("DELETE FROM f_member_names WHERE id = $1", &[rid.as_str().into()])?;
    if let (Record::Member(m), false) = (record, deleted) {
        db.execute(
            "INSERT INTO f_member_names (id, name_hash) VALUES ($1, $2)",
            &[rid.as_str().into(), member_name_hash(sealer, &m.name).into()],
        )?;
    }
    let Some(key) = registry::names::near_duplicate_key(record).filter(|_| !deleted) else { return Ok(()) };
    let region = record.region(rid);
    db.execute(
        "INSERT INTO f_dupkeys (id, kind, township, key) VALUES ($1, $2, $3, $4)",
        &[
            rid.as_str().into(),
            record.kind().key().into(),
            id(region.township.as_ref()),
            sealer.keyed_hash(&key).into(),
        ],
    )?;
    Ok(())
}

/// A pair of records that may be one person or entity, not yet reviewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NearDuplicate {
    pub a: RecordId,
    pub b: RecordId,
    pub kind: String,
    pub townships: [Option<RecordId>; 2],
}

/// The review id of a pair: both ids in order, space-separated.
pub fn pair_id(a: &RecordId, b: &RecordId) -> String {
    if a.0 <= b.0 { format!("{a} {b}") } else { format!("{b} {a}") }
}

/// Pairs sharing a near-duplicate key that nobody has reviewed, both in
/// `townships`, at most `limit`.
pub fn near_duplicates(db: &mut dyn Sql, townships: &Townships, limit: usize) -> Result<Vec<NearDuplicate>, SyncError> {
    pairs(db, "", &[], townships, limit)
}

/// The pair of `a` and `b` if it waits for review.
pub fn pending_pair(db: &mut dyn Sql, a: &RecordId, b: &RecordId) -> Result<Option<NearDuplicate>, SyncError> {
    let (a, b) = if a.0 <= b.0 { (a, b) } else { (b, a) };
    Ok(pairs(db, " AND a.id = $1 AND b.id = $2", &[a.as_str().into(), b.as_str().into()], &Townships::All, 1)?.pop())
}

const UNREVIEWED_PAIRS: &str = "SELECT a.id, b.id, a.kind, a.township, b.township FROM f_dupkeys a
     JOIN f_dupkeys b ON b.key = a.key AND b.id > a.id
     WHERE NOT EXISTS (SELECT 1 FROM reviews r WHERE r.queue = 'duplicates' AND r.id = a.id || ' ' || b.id)";

fn pairs(
    db: &mut dyn Sql,
    and: &str,
    params: &[Val],
    townships: &Townships,
    limit: usize,
) -> Result<Vec<NearDuplicate>, SyncError> {
    let rows = db.query(&format!("{UNREVIEWED_PAIRS}{and} ORDER BY a.township, a.id, b.id"), params)?;
    let sees = |v: &Val| v.text().map(RecordId::from).is_some_and(|t| townships.keeps(&t));
    Ok(rows
        .into_iter()
        .filter(|r| sees(&r[3]) && sees(&r[4]))
        .take(limit)
        .map(|r| NearDuplicate {
            a: RecordId::from(r[0].text().unwrap_or_default()),
            b: RecordId::from(r[1].text().unwrap_or_default()),
            kind: r[2].text().unwrap_or_default().to_owned(),
            townships: [r[3].text().map(RecordId::from), r[4].text().map(RecordId::from)],
        })
        .collect())
}

/// Records (or clears) a document's conflicting fields. The record's name is
/// kept for the review list (a name, never an ID number or phone).
pub fn conflicts(
    db: &mut dyn Sql,
    rid: &RecordId,
    record: &Record,
    doc: &automerge::AutoCommit,
    deleted: bool,
) -> Result<(), SyncError> {
    // On every write: the names of the conflicting fields only (their
    // values are read when the queue is opened).
    let found = if deleted { Vec::new() } else { store::conflicted_fields(doc) };
    db.execute("DELETE FROM f_conflicts WHERE id = $1", &[rid.as_str().into()])?;
    if !found.is_empty() {
        let region = record.region(rid);
        db.execute(
            "INSERT INTO f_conflicts (id, kind, township, name, fields) VALUES ($1, $2, $3, $4, $5)",
            &[
                rid.as_str().into(),
                record.kind().key().into(),
                id(region.township.as_ref()),
                record.display_name().into(),
                found.join(",").into(),
            ],
        )?;
    }
    Ok(())
}

/// Every facts row of a record, as the statements that write them, and
/// their digest.
///
/// The writers below (`project`, `dupkey`, `blob_refs`, `conflicts`,
/// `card_holder`) run against a recorder that keeps their statements
/// instead of running them; a digest of the statements (their SQL and their
/// values) is stored with the document (`docs.facts`). When a write leaves
/// the digest as it was, the rows are as they would be written and nothing
/// runs ([`Rows::write`]): most edits from the field (a phone number, a
/// note, a visit's time) change no fact, and the dozen statements they skip
/// were half of a push's database time. The digest covers the statements'
/// text too, so a change to what the facts hold rewrites each record's rows
/// on its next write (and a migration that needs them at once rebuilds
/// them, `ensure`).
///
/// Computed without the database, so a push computes them before its
/// short write.
pub fn rows(
    sealer: &crate::server::Sealer,
    rid: &RecordId,
    record: &Record,
    doc: &automerge::AutoCommit,
    deleted: bool,
) -> Result<Rows, SyncError> {
    let mut rows = Recorder::default();
    project(&mut rows, rid, record, deleted)?;
    dupkey(&mut rows, sealer, rid, record, deleted)?;
    blob_refs(&mut rows, rid, record, deleted)?;
    conflicts(&mut rows, rid, record, doc, deleted)?;
    if let Record::Member(m) = record {
        card_holder(&mut rows, rid, crate::server::card_serial(m.card_number.as_deref()).as_deref())?;
    }
    let digest = rows.digest();
    Ok(Rows { statements: rows.statements, digest })
}

/// A record's facts rows, as [`rows`] found them.
#[derive(Debug, Clone)]
pub struct Rows {
    statements: Vec<(String, Vec<Val>)>,
    digest: Vec<u8>,
}

impl Rows {
    /// Writes the rows unless `stored` (the digest kept with the document)
    /// says they are written already; returns the digest to keep.
    pub fn write(&self, db: &mut dyn Sql, stored: Option<&[u8]>) -> Result<Vec<u8>, SyncError> {
        if stored != Some(&self.digest[..]) {
            for (sql, params) in &self.statements {
                db.execute(sql, params)?;
            }
        }
        Ok(self.digest.clone())
    }
}

/// Keeps the statements a facts writer would run (the writers only write).
#[derive(Default)]
struct Recorder {
    statements: Vec<(String, Vec<Val>)>,
}

impl Recorder {
    fn digest(&self) -> Vec<u8> {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        let mut part = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        for (sql, params) in &self.statements {
            part(sql.as_bytes());
            for p in params {
                match p {
                    Val::Null => part(b"n"),
                    Val::Int(i) => {
                        part(b"i");
                        part(&i.to_le_bytes());
                    }
                    Val::Text(t) => {
                        part(b"t");
                        part(t.as_bytes());
                    }
                    Val::Blob(b) => {
                        part(b"b");
                        part(b);
                    }
                }
            }
        }
        h.finalize()[..16].to_vec()
    }
}

impl Sql for Recorder {
    fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, SyncError> {
        self.statements.push((sql.to_owned(), params.to_vec()));
        Ok(0)
    }

    fn query(&mut self, sql: &str, _: &[Val]) -> Result<Vec<Vec<Val>>, SyncError> {
        Err(SyncError::Server(format!("a facts writer read the database: {sql}")))
    }
}

/// Writes (or, for a deleted record, removes) the record's row.
pub fn project(db: &mut dyn Sql, rid: &RecordId, record: &Record, deleted: bool) -> Result<(), SyncError> {
    let (table, insert, params): (&str, &str, Vec<Val>) = match record {
        Record::Area(a) => match (a.level, a.township_kind) {
            (registry::model::AreaLevel::Township, kind) => (
                "f_townships",
                "INSERT INTO f_townships (id, name, kind) VALUES ($1, $2, $3)",
                vec![rid.as_str().into(), a.name.as_str().into(), kind.unwrap_or(TownshipKind::Town).key().into()],
            ),
            _ => return Ok(()),
        },
        Record::Entity(e) => (
            "f_entities",
            "INSERT INTO f_entities (id, township, grid, workers, closed, union_id, private_enterprise, community,
               override_reason, name)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            vec![
                rid.as_str().into(),
                e.place.township.as_str().into(),
                id(e.place.grid.as_ref()),
                e.workers.into(),
                flag(e.closed),
                id(e.union_id.as_ref()),
                flag(rules::private_enterprise(e)),
                id(e.place.community.as_ref()),
                e.credit_code_override.as_deref().map(str::trim).filter(|r| !r.is_empty()).map_or(Val::Null, Val::from),
                e.name.as_str().into(),
            ],
        ),
        Record::Union(u) => (
            "f_unions",
            "INSERT INTO f_unions (id, township, grid, kind, founded_on, dissolved_on, liuyou_complete, bayou_complete,
               name)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            vec![
                rid.as_str().into(),
                u.place.township.as_str().into(),
                id(u.place.grid.as_ref()),
                u.kind.key().into(),
                date(u.founded_on),
                date(u.dissolved_on),
                flag(rules::liuyou(&u.liuyou).complete()),
                flag(rules::bayou(&u.bayou).complete()),
                u.name.as_str().into(),
            ],
        ),
        Record::Cadre(c) => (
            "f_cadres",
            "INSERT INTO f_cadres (id, union_id, role, elected_on, left_on) VALUES ($1, $2, $3, $4, $5)",
            vec![
                rid.as_str().into(),
                c.union_id.as_str().into(),
                c.role.key().into(),
                date(c.elected_on),
                date(c.left_on),
            ],
        ),
        Record::Member(m) => (
            "f_members",
            "INSERT INTO f_members (id, township, grid, union_id, joined_on, left_on, employer_id, card_serial,
               card_expires)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            vec![
                rid.as_str().into(),
                m.place.township.as_str().into(),
                id(m.place.grid.as_ref()),
                m.union_id.as_str().into(),
                date(Some(m.joined_on)),
                date(m.left_on),
                id(m.employer_id.as_ref()),
                crate::server::card_serial(m.card_number.as_deref()).map_or(Val::Null, Val::Text),
                date(m.card_expires),
            ],
        ),
        Record::Visit(v) => (
            "f_visits",
            "INSERT INTO f_visits (id, entity_id, township, grid, visited_on, time, outcome, follow_up_on, surveyor,
               lat_e6, lon_e6, manual, name)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            vec![
                rid.as_str().into(),
                id(v.entity_id.as_ref()),
                v.place.township.as_str().into(),
                id(v.place.grid.as_ref()),
                date(Some(v.visited_on)),
                v.time.as_str().into(),
                v.outcome.key().into(),
                date(v.follow_up_on),
                v.surveyor.as_str().into(),
                v.position.map_or(Val::Null, |p| Val::Int(p.lat_e6)),
                v.position.map_or(Val::Null, |p| Val::Int(p.lon_e6)),
                flag(v.position.is_some_and(|p| p.manual)),
                v.entity_name.as_str().into(),
            ],
        ),
        Record::Transfer(_) | Record::Hardship(_) => return Ok(()),
    };
    db.execute(&format!("DELETE FROM {table} WHERE id = $1"), &[rid.as_str().into()])?;
    if !deleted {
        db.execute(insert, &params)?;
    }
    Ok(())
}

/// The facts tables `ensure` rebuilds from the documents.
pub const TABLES: [&str; 10] = [
    "f_townships",
    "f_entities",
    "f_unions",
    "f_cadres",
    "f_members",
    "f_conflicts",
    "f_dupkeys",
    "f_member_names",
    "f_visits",
    "f_blob_refs",
];

/// Builds the rows from the stored documents once: for a database written
/// before the facts existed. Idempotent; a counter marks it done.
pub fn ensure(db: &mut dyn Sql, ctx: &Ctx<'_>) -> Result<(), SyncError> {
    if !db.query("SELECT 1 FROM counters WHERE name = 'facts'", &[])?.is_empty() {
        return Ok(());
    }
    for table in TABLES {
        db.execute(&format!("DELETE FROM {table}"), &[])?;
    }
    // One pass: each document is opened once for its facts row and its conflicts.
    crate::server::each_document(db, ctx, &mut |db, rid, record, doc| {
        project(db, rid, record, false)?;
        blob_refs(db, rid, record, false)?;
        dupkey(db, ctx.sealer, rid, record, false)?;
        if let Record::Member(m) = record {
            card_holder(db, rid, crate::server::card_serial(m.card_number.as_deref()).as_deref())?;
        }
        conflicts(db, rid, record, doc, false)
    })?;
    db.execute("INSERT INTO counters (name, value) VALUES ('facts', 1)", &[])?;
    Ok(())
}

/// Which townships a report covers: all, or these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Townships {
    All,
    Only(Vec<RecordId>),
}

impl Townships {
    fn keeps(&self, t: &RecordId) -> bool {
        match self {
            Townships::All => true,
            Townships::Only(ids) => ids.contains(t),
        }
    }
}

fn date_of(v: &Val) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    v.text().and_then(|s| Date::parse(s, &fmt).ok())
}

/// The serials of the cards the county revoked (lower-case hex, as
/// `registry::rules::card_serial` gives them): the county's
/// `card_revocations`, the device's kept revocation list.
pub type Revoked = std::collections::HashSet<String>;

/// The progress report from the facts, as of `today`, for `townships`
/// (county figures then sum only those), with the cards of `revoked` not
/// counted as held.
pub fn progress(
    db: &mut dyn Sql,
    config: &CampaignConfig,
    today: Date,
    townships: &Townships,
    revoked: &Revoked,
) -> Result<ProgressReport, SyncError> {
    let mut b = ProgressBuilder::new(config.clone());
    for r in db.query("SELECT id, name, kind FROM f_townships ORDER BY name, id", &[])? {
        let t = RecordId::from(r[0].text().unwrap_or_default());
        if townships.keeps(&t) {
            let kind = r[2].text().and_then(TownshipKind::from_key).unwrap_or(TownshipKind::Town);
            b.add_township(t, r[1].text().unwrap_or_default().to_owned(), kind);
        }
    }
    add_facts(db, &mut b, today, Group::Township(townships), revoked)?;
    Ok(b.finish(today))
}

/// How facts rows are grouped into the builder's "townships".
enum Group<'a> {
    Township(&'a Townships),
    /// The grids of one township; records with no grid go to the group "".
    Grid(&'a RecordId),
    /// Each union: the entities it covers (wherever they are), itself, its
    /// members. Only the groups registered with the builder are reported.
    Union,
}

impl Group<'_> {
    /// The group a row with this township, grid and union (an entity's
    /// covering union, a union's own id, a member's union) belongs to.
    fn of(&self, township: &Val, grid: &Val, union: Option<&str>) -> Option<RecordId> {
        match self {
            Group::Union => union.map(RecordId::from),
            Group::Township(ts) => {
                let t = RecordId::from(township.text().unwrap_or_default());
                ts.keeps(&t).then_some(t)
            }
            Group::Grid(t) => {
                (township.text() == Some(t.as_str())).then(|| RecordId::from(grid.text().unwrap_or_default()))
            }
        }
    }
}

fn add_facts(
    db: &mut dyn Sql,
    b: &mut ProgressBuilder,
    today: Date,
    group: Group<'_>,
    revoked: &Revoked,
) -> Result<(), SyncError> {
    paged(
        db,
        "SELECT e.id, e.township, e.grid, e.workers, e.closed, u.kind, e.private_enterprise, u.dissolved_on, u.id
         FROM f_entities e LEFT JOIN f_unions u ON u.id = e.union_id WHERE e.id > $1 ORDER BY e.id LIMIT $2",
        &[],
        &mut |r| {
            let union = r[5]
                .text()
                .and_then(UnionKind::from_key)
                .map(|kind| UnionStanding { kind, dissolved_on: date_of(&r[7]) });
            let covered_by = rules::covering(union, today);
            if let Some(g) = group.of(&r[1], &r[2], covered_by.and(r[8].text())) {
                b.add_entity(&EntityFacts {
                    township: g,
                    workers: r[3].int(),
                    closed: r[4].int() != 0,
                    covered_by,
                    private: r[6].int() != 0,
                });
            }
        },
    )?;
    let today_text = today.to_string();
    paged(
        db,
        "SELECT u.id, u.township, u.grid, u.kind, u.founded_on, u.dissolved_on, u.liuyou_complete, u.bayou_complete,
           CASE WHEN EXISTS (SELECT 1 FROM f_entities e WHERE e.union_id = u.id AND e.private_enterprise = 1 AND e.closed = 0)
             THEN 1 ELSE 0 END,
           CASE WHEN EXISTS (SELECT 1 FROM f_cadres c WHERE c.union_id = u.id AND c.role = 'chair'
             AND (c.elected_on IS NULL OR c.elected_on <= $1) AND (c.left_on IS NULL OR c.left_on > $1))
             THEN 0 ELSE 1 END
         FROM f_unions u WHERE u.id > $2 ORDER BY u.id LIMIT $3",
        &[today_text.as_str().into()],
        &mut |r| {
            let Some(g) = group.of(&r[1], &r[2], r[0].text()) else { return };
            b.add_union(&UnionFacts {
                township: g,
                kind: r[3].text().and_then(UnionKind::from_key).unwrap_or(UnionKind::SingleUnit),
                founded_on: date_of(&r[4]),
                dissolved: rules::dissolved(date_of(&r[5]), today),
                liuyou_complete: r[6].int() != 0,
                bayou: (r[8].int() != 0).then_some(r[7].int() != 0),
                chair_vacant: r[9].int() != 0,
            });
        },
    )?;
    paged(
        db,
        "SELECT id, township, grid, joined_on, left_on, card_serial, card_expires, union_id FROM f_members
         WHERE id > $1 ORDER BY id LIMIT $2",
        &[],
        &mut |r| {
            let Some(joined_on) = date_of(&r[3]) else { return };
            if let Some(g) = group.of(&r[1], &r[2], r[7].text()) {
                let left = date_of(&r[4]);
                let serial = r[5].text();
                let revoked = serial.is_some_and(|s| revoked.contains(s));
                b.add_member(&MemberFacts {
                    township: g,
                    joined_on,
                    active: left.is_none_or(|d| d > today),
                    carded: rules::card_valid(serial, date_of(&r[6]), revoked, today),
                });
            }
        },
    )
}

/// Calls `f` with each row of `sql`, a page at a time: `sql` selects an id
/// first and ends `WHERE <id> > $n ORDER BY <id> LIMIT $n+1`, `params` being
/// the `$1`… before them. A county's million members are never held at
/// once (read whole, they held 300 MB of a server's memory).
fn paged(db: &mut dyn Sql, sql: &str, params: &[Val], f: &mut dyn FnMut(&[Val])) -> Result<(), SyncError> {
    const PAGE: i64 = 20_000;
    let mut after = String::new();
    loop {
        let mut all = params.to_vec();
        all.push(after.as_str().into());
        all.push(PAGE.into());
        let rows = db.query(sql, &all)?;
        for r in &rows {
            f(r);
        }
        match rows.last() {
            Some(last) if rows.len() as i64 == PAGE => after = last[0].text().unwrap_or_default().to_owned(),
            _ => return Ok(()),
        }
    }
}

/// One township's figures grid by grid (records with no grid under the
/// id ""), with each grid's name from the area tree. The registry's tallies;
/// targets are the township's, not the grids'.
pub fn by_grid(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    config: &CampaignConfig,
    today: Date,
    township: &RecordId,
    revoked: &Revoked,
) -> Result<ProgressReport, SyncError> {
    let mut b = ProgressBuilder::new(config.clone());
    let mut grids: Vec<(RecordId, String)> = Vec::new();
    let mut after: Option<RecordId> = None;
    loop {
        let page = crate::server::records_in_township(
            db,
            ctx,
            registry::model::RecordKind::Area,
            Some(township),
            after.as_ref(),
            500,
        )?;
        for (id, r) in &page {
            if let Record::Area(a) = r
                && a.level == registry::model::AreaLevel::Grid
            {
                grids.push((id.clone(), a.name.clone()));
            }
        }
        match page.last() {
            Some((id, _)) if page.len() == 500 => after = Some(id.clone()),
            _ => break,
        }
    }
    grids.sort_by(|a, b| a.1.cmp(&b.1));
    for (id, name) in grids {
        b.add_township(id, name, TownshipKind::Town);
    }
    b.add_township(RecordId::default(), "（未分网格）".into(), TownshipKind::Town);
    add_facts(db, &mut b, today, Group::Grid(township), revoked)?;
    Ok(b.finish(today))
}

/// The unions of one township not dissolved by `today`, by name: (id, name).
pub fn live_unions(db: &mut dyn Sql, township: &RecordId, today: Date) -> Result<Vec<(RecordId, String)>, SyncError> {
    Ok(db
        .query(
            "SELECT id, name, dissolved_on FROM f_unions WHERE township = $1 ORDER BY name, id",
            &[township.as_str().into()],
        )?
        .into_iter()
        .filter(|r| !rules::dissolved(date_of(&r[2]), today))
        .map(|r| (RecordId::from(r[0].text().unwrap_or_default()), r[1].text().unwrap_or_default().to_owned()))
        .collect())
}

/// The live unions of one township, each with the figures of the entities
/// it covers (wherever they lie), itself and its members: a union's
/// 入会率 (its active members ÷ its covered entities' workers) and 发证率.
/// The registry's tallies, grouped by union; no targets.
pub fn by_union(
    db: &mut dyn Sql,
    config: &CampaignConfig,
    today: Date,
    township: &RecordId,
    revoked: &Revoked,
) -> Result<ProgressReport, SyncError> {
    let mut b = ProgressBuilder::new(config.clone());
    for (id, name) in live_unions(db, township, today)? {
        b.add_township(id, name, TownshipKind::Town);
    }
    add_facts(db, &mut b, today, Group::Union, revoked)?;
    let mut report = b.finish(today);
    for u in &mut report.townships {
        u.tally.target_new_unions = 0;
        u.tally.target_new_members = 0;
    }
    Ok(report)
}

/// New unions (by founding date) and new members (by joining date) month by
/// month in `year`, for the townships given.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Month {
    /// `YYYY-MM`.
    pub month: String,
    pub new_unions: u64,
    pub new_members: u64,
}

pub fn monthly(db: &mut dyn Sql, year: i32, townships: &Townships) -> Result<Vec<Month>, SyncError> {
    let mut months: Vec<Month> =
        (1..=12).map(|m| Month { month: format!("{year:04}-{m:02}"), ..Month::default() }).collect();
    let prefix = format!("{year:04}-%");
    for (sql, unions) in [
        ("SELECT township, founded_on FROM f_unions WHERE founded_on LIKE $1", true),
        ("SELECT township, joined_on FROM f_members WHERE joined_on LIKE $1", false),
    ] {
        for r in db.query(sql, &[prefix.as_str().into()])? {
            if !townships.keeps(&RecordId::from(r[0].text().unwrap_or_default())) {
                continue;
            }
            let m: usize = r[1].text().and_then(|d| d.get(5..7)).and_then(|m| m.parse().ok()).unwrap_or(0);
            if let Some(slot) = m.checked_sub(1).and_then(|i| months.get_mut(i)) {
                if unions {
                    slot.new_unions += 1;
                } else {
                    slot.new_members += 1;
                }
            }
        }
    }
    Ok(months)
}

/// 三个清楚 for an area (a township, community or grid): its private
/// enterprises with their workers, those with a union and their active
/// members, those without. The judgement is the registry's
/// (`registry::rules::three_clears`); the entities are read from their
/// documents, the member counts from the facts.
pub fn three_clears(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    area: &RecordId,
    today: Date,
) -> Result<registry::rules::ThreeClears, SyncError> {
    let ids = db.query(
        "SELECT id FROM f_entities WHERE township = $1 OR community = $1 OR grid = $1 ORDER BY id",
        &[area.as_str().into()],
    )?;
    let today_text = today.to_string();
    let mut entities = Vec::with_capacity(ids.len());
    let mut members = std::collections::HashMap::new();
    for row in ids {
        let rid = RecordId::from(row[0].text().unwrap_or_default());
        if let Some(Record::Entity(e)) = crate::server::record(db, ctx, &rid)? {
            let n = db.query(
                "SELECT COUNT(*) FROM f_members WHERE employer_id = $1 AND (left_on IS NULL OR left_on > $2)",
                &[rid.as_str().into(), today_text.as_str().into()],
            )?;
            members.insert(rid.clone(), n[0][0].int() as u64);
            entities.push((rid, e));
        }
    }
    let mut unions = std::collections::HashMap::new();
    for r in db.query("SELECT id, kind, dissolved_on FROM f_unions", &[])? {
        if let Some(kind) = r[1].text().and_then(UnionKind::from_key) {
            unions.insert(
                RecordId::from(r[0].text().unwrap_or_default()),
                UnionStanding { kind, dissolved_on: date_of(&r[2]) },
            );
        }
    }
    Ok(rules::three_clears(
        entities.iter().map(|(id, e)| (id, e)),
        |u| unions.get(u).copied(),
        |id| members.get(id).copied().unwrap_or(0),
        today,
    ))
}

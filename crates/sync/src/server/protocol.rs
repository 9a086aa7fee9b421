//! The sync protocol's four calls (push, pull, repair, fetch) for one
//! device within its scope, and the cards a push makes obsolete.

use super::*;

/// The most a pull or fetch response carries (before compression).
pub const MAX_BATCH_BYTES: usize = 4 << 20;

/// The most documents a pull response carries.
pub const MAX_BATCH_DOCS: u32 = 2000;

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

pub(crate) use registry::rules::card_serial;

/// The card number a member record carries for a card serial.
pub fn card_number(serial: &[u8; 8]) -> String {
    let hex: String = serial.iter().map(|b| format!("{b:02X}")).collect();
    format!("UC{hex}")
}

/// The townships a device works in: its townships and those its grids lie
/// in (`None`: the whole county).
pub(crate) fn device_townships(db: &mut dyn Sql, device: &Device) -> Result<Option<HashSet<RecordId>>, SyncError> {
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
pub(crate) fn foreign_reference(
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

pub(crate) fn push_one(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    device: &Device,
    d: &PushDoc,
    cards: &mut Vec<CardToRevoke>,
) -> Result<PushResult, SyncError> {
    // Held already: push_with locks every document of the push first.
    let stored = load(db, ctx, &d.id)?;
    let verdict = judge(db, ctx, device, d, stored)?;
    enact(db, ctx, device, d, verdict, cards)
}

/// What a push does with one document, decided by [`judge`] (which only
/// reads) and carried out by [`enact`] (which writes).
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Nothing to write: this answer.
    Answer(PushResult),
    /// Kept in the quarantine, not applied.
    Quarantine(Held),
    /// Applied: the document to store.
    Save(Box<Ready>),
}

/// Changes kept in the quarantine, and why.
#[derive(Debug)]
pub(crate) struct Held {
    code: String,
    detail: String,
    /// The changes (hex hashes) the entry holds.
    changes: Vec<String>,
    /// The heads the server keeps (the document as it was).
    heads: Vec<Hash>,
    /// The record exists outside the device's scope, which the answer
    /// tells it: recorded first, within its budget (`reveal`).
    reveal: bool,
}

/// A pushed document merged and checked, ready to store.
#[derive(Debug)]
pub(crate) struct Ready {
    kind: RecordKind,
    region: Region,
    old_region: Option<Region>,
    deleted: bool,
    sealed: SealedDoc,
    facts: crate::facts::Rows,
    /// The member's card serial before and after the push, and whether the
    /// member left (or was deleted): the cards the push makes obsolete.
    cards: Option<(Option<String>, Option<String>, &'static str)>,
    held: Vec<Hash>,
}

/// Decides what a push does with one document, given the document as
/// stored: merges the pushed changes and checks the result (actor, kind,
/// scope, region, references, the plan's rules). Reads the database (the
/// area tree, the townships of records a reference names) but never
/// writes it, so a push can be judged outside the write lock and enacted
/// in a short write ([`commit_push`]).
pub(crate) fn judge(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    device: &Device,
    d: &PushDoc,
    stored: Option<Stored<AutoCommit>>,
) -> Result<Verdict, SyncError> {
    let id = &d.id;
    let bad = |code: &'static str, detail: String| SyncError::Document { id: id.to_string(), code, detail };
    let (mut doc, old) = match stored {
        Some(s) => (s.doc, Some((s.kind, s.region))),
        None => (AutoCommit::new(), None),
    };
    let before = doc.get_heads();
    let was = root_keys(&doc);
    let old_card = card_serial(was.card_number.as_deref());
    let held_whole = |code: &str, detail: String, changes: Vec<String>| {
        let (code, heads) = (code.to_owned(), hashes(&before));
        Verdict::Quarantine(Held { code, detail, changes, heads, reveal: false })
    };
    // A change Automerge would not write as it stands is never applied: its
    // hash would not survive the document's next save
    // (`store::doc::noncanonical_change` says why). Kept for the county.
    if let Some(detail) = store::doc::noncanonical_change(&d.bytes) {
        let changes = store::doc::change_hashes(&d.bytes);
        return Ok(held_whole(codes::CHANGE_NOT_CANONICAL.code, detail, changes));
    }
    match store::doc::load_incremental(&mut doc, &d.bytes) {
        Ok(_) => {}
        // Another change by this device's actor with the same sequence
        // number is stored already: the device's store was copied to a
        // second tablet and both wrote. The clash is kept for the county,
        // the rest of the push goes on.
        Err(store::StoreError::Automerge(automerge::AutomergeError::DuplicateSeqNumber(seq, _))) => {
            let changes = store::doc::change_hashes(&d.bytes);
            let detail = format!("change {seq} of this device exists already with other contents");
            return Ok(held_whole(codes::DEVICE_CLONED.code, detail, changes));
        }
        Err(e) => return Err(bad("DOCUMENT_MALFORMED", e.to_string())),
    }
    if !doc.get_missing_deps(&[]).is_empty() {
        let (outcome, heads) = (Outcome::Resend, hashes(&before));
        return Ok(Verdict::Answer(PushResult { id: id.clone(), outcome, heads, held: Vec::new() }));
    }
    let held = |doc: &mut AutoCommit| -> Vec<Hash> {
        d.heads.iter().filter(|h| doc.get_change_by_hash(&ChangeHash(**h)).is_some()).copied().collect()
    };
    let after = doc.get_heads();
    if after == before {
        let held = held(&mut doc);
        let (outcome, heads) = (Outcome::Applied, hashes(&after));
        return Ok(Verdict::Answer(PushResult { id: id.clone(), outcome, heads, held }));
    }
    // The changes this push brings (what a quarantine entry holds).
    let new_changes: Vec<String> = doc.get_changes_meta(&before).iter().map(|c| crate::enrol::hex(&c.hash.0)).collect();
    let quarantined = |code: &str, detail: String| Ok(held_whole(code, detail, new_changes.clone()));
    let foreign = doc.get_changes_meta(&before).iter().any(|c| c.actor.to_bytes() != device.actor);
    let now = root_keys(&doc);
    let mut record = store::hydrate(&doc).map_err(|e| bad(store::error::RECORD_UNREADABLE.code, e.to_string()))?;
    if foreign {
        return quarantined(codes::ACTOR_MISMATCH.code, "changes made by another device".into());
    }
    let kind = record.kind();
    let region = record.region(id);
    if let Some((old_kind, _)) = &old
        && old_kind != kind.key()
    {
        return quarantined(codes::KIND_CHANGED.code, format!("{old_kind} -> {}", kind.key()));
    }
    // A record that exists outside the device's scope: telling the device so
    // (the quarantine's answer) reveals that it exists, within its budget.
    // (What a device may write it may read: the scope check below refuses
    // it too.)
    let reveal = old
        .as_ref()
        .is_some_and(|(old_kind, r)| !device.scope.can_read(RecordKind::from_key(old_kind).unwrap_or(kind), r));
    let old_ok = old.as_ref().is_none_or(|(_, r)| device.scope.can_write(kind, r));
    if reveal || !old_ok || !device.scope.can_write(kind, &region) {
        let detail = "the record is outside the device's townships and grids".to_owned();
        let (code, heads) = (codes::OUT_OF_SCOPE.code.to_owned(), hashes(&before));
        return Ok(Verdict::Quarantine(Held { code, detail, changes: new_changes, heads, reveal }));
    }
    // The region rule, wherever the push sets a place: a grid or community
    // of another township would carry the record past the boundary the
    // scope check just passed.
    if old.is_none() || was.place != now.place {
        let wrong = place_issues(db, &record)?;
        if !wrong.is_empty() {
            let codes: Vec<_> = wrong.iter().map(|i| format!("{}:{}", i.field, i.code)).collect();
            return quarantined(codes::RULES_BROKEN.code, codes.join(","));
        }
    }
    // The reference rule, only where the push sets a reference (the record
    // as it was is read only then).
    if !device.scope.all && was.references != now.references {
        let old_record = old.as_ref().and_then(|_| doc.fork_at(&before).ok()).and_then(|d| store::hydrate(&d).ok());
        if let Some(why) = foreign_reference(db, device, &record, old_record.as_ref())? {
            return quarantined(codes::REFERENCE_OUT_OF_SCOPE.code, why);
        }
    }
    let issues = validate::check(&mut record, ctx.today);
    if blocks_saving(&issues) {
        let codes: Vec<_> = issues.iter().map(|i| format!("{}:{}", i.field, i.code)).collect();
        return quarantined(codes::RULES_BROKEN.code, codes.join(","));
    }
    let deleted = now.deleted;
    let sealed = match seal_doc(ctx, id, &mut doc) {
        Err(SyncError::Document { code: "DOCUMENT_TOO_LARGE", detail, .. }) => {
            return quarantined(codes::DOCUMENT_TOO_LARGE.code, detail);
        }
        sealed => sealed?,
    };
    let facts = crate::facts::rows(ctx.sealer, id, &record, &doc, deleted)?;
    let cards = match &record {
        // Only this record's own cards: a card number copied from another
        // member's card revokes nothing (`enact` asks the card holders).
        registry::model::Record::Member(m) => {
            let left = if deleted { "DELETED" } else { "MEMBER_LEFT" };
            let leaving = deleted || m.left_on.is_some();
            Some((old_card, card_serial(m.card_number.as_deref()), if leaving { left } else { "" }))
        }
        _ => None,
    };
    let held = held(&mut doc);
    let old_region = old.map(|(_, r)| r);
    Ok(Verdict::Save(Box::new(Ready { kind, region, old_region, deleted, sealed, facts, cards, held })))
}

/// Carries out a [`Verdict`] in the write transaction.
pub(crate) fn enact(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    device: &Device,
    d: &PushDoc,
    verdict: Verdict,
    cards: &mut Vec<CardToRevoke>,
) -> Result<PushResult, SyncError> {
    let id = &d.id;
    match verdict {
        Verdict::Answer(answer) => Ok(answer),
        Verdict::Quarantine(h) => {
            if h.reveal {
                reveal(db, ctx, device, id, "push")?;
            }
            quarantine(db, ctx, device, id, (&h.code, &h.detail), &d.bytes, &h.changes)?;
            let outcome = Outcome::Quarantined(h.code);
            Ok(PushResult { id: id.clone(), outcome, heads: h.heads, held: d.heads.clone() })
        }
        Verdict::Save(ready) => {
            let Ready { kind, region, old_region, deleted, sealed, facts, cards: serials, held } = *ready;
            // The device holds the document as stored when the merge added
            // nothing to what it pushed: its next pull skips it.
            let mut pushed = d.heads.clone();
            pushed.sort_unstable();
            let echo = (heads_blob(&sealed.heads) == pushed.concat()).then_some(device.id.as_str());
            let row = DocRow { kind, region: &region, old_region: old_region.as_ref(), deleted, echo };
            store_doc(db, ctx, id, &sealed, row, &facts)?;
            if let Some((old, current, leaving)) = serials {
                if let Some(old) = old.filter(|o| Some(o) != current.as_ref())
                    && crate::facts::holds_card(db, id, &old)?
                {
                    cards.push(CardToRevoke { serial: old, reason: "REISSUED" });
                }
                if let Some(current) = current.filter(|_| !leaving.is_empty())
                    && crate::facts::holds_card(db, id, &current)?
                {
                    cards.push(CardToRevoke { serial: current, reason: leaving });
                }
            }
            Ok(PushResult { id: id.clone(), outcome: Outcome::Applied, heads: sealed.heads, held })
        }
    }
}

/// A push judged outside the write lock ([`judge_push`]), for
/// [`commit_push`].
#[derive(Debug)]
pub struct JudgedPush {
    /// The device as it was when judged (a changed scope judges again).
    device: Device,
    /// Per document of the push, in its order: the heads the document had
    /// (`None`: no document yet) and the verdict; `None` where the document
    /// is judged in the write transaction (it appears twice in the push).
    docs: Vec<Option<(Option<Vec<Hash>>, Verdict)>>,
}

/// Judges every document of a push in a read-only transaction: the
/// costly part of a push (unsealing, merging, reading the record, the
/// rules, sealing the result) runs here, beside other requests, and
/// [`commit_push`] then writes in a short transaction. Fails as [`push`]
/// would on bytes that are not Automerge or not a record.
pub fn judge_push(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    device: &Device,
    req: &PushRequest,
) -> Result<JudgedPush, SyncError> {
    let mut seen: std::collections::HashMap<&RecordId, usize> = Default::default();
    for d in &req.docs {
        *seen.entry(&d.id).or_default() += 1;
    }
    let mut docs = Vec::with_capacity(req.docs.len());
    for d in &req.docs {
        if seen[&d.id] > 1 {
            docs.push(None);
            continue;
        }
        // Read in the same snapshot as the document: the heads column is
        // written with the document, always.
        let heads = heads_of(db, &d.id)?;
        let stored = load(db, ctx, &d.id)?;
        docs.push(Some((heads, judge(db, ctx, device, d, stored)?)));
    }
    Ok(JudgedPush { device: device.clone(), docs })
}

/// Writes a push [`judge_push`] judged, in the write transaction: each
/// document whose stored heads are still those it was judged on is
/// enacted as judged (its rows written); one changed meanwhile (another
/// push, a county decision) is judged again here, as [`push_with`] does.
/// Every document is held first, as in [`push_with`]; a device whose scope
/// changed since is judged again whole.
///
/// The checks that read other records (the area tree, the township of a
/// record a reference names) read them as they were when judged, a few
/// milliseconds before: these rules hold at the time of a write (a
/// referenced record that moves later is not checked again), so a verdict
/// that old admits nothing that the other order of the two writes would
/// not have.
pub fn commit_push(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    device: &Device,
    req: &PushRequest,
    judged: JudgedPush,
    cards: &mut Vec<CardToRevoke>,
) -> Result<PushResponse, SyncError> {
    let same = judged.device.id == device.id
        && judged.device.actor == device.actor
        && judged.device.scope == device.scope
        && judged.docs.len() == req.docs.len();
    if !same {
        return push_with(db, ctx, device, req, cards);
    }
    let mut ids: Vec<&RecordId> = req.docs.iter().map(|d| &d.id).collect();
    ids.sort();
    ids.dedup();
    for id in ids {
        db.lock_doc(id)?;
    }
    let mut results = Vec::with_capacity(req.docs.len());
    for (d, j) in req.docs.iter().zip(judged.docs) {
        let result = match j {
            Some((heads, verdict)) if heads_of(db, &d.id)? == heads => enact(db, ctx, device, d, verdict, cards)?,
            _ => push_one(db, ctx, device, d, cards)?,
        };
        results.push(result);
    }
    Ok(PushResponse { results })
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

pub(crate) const CURSOR_PREFIX: &str = "v2:";

/// The cursor names its device, so a cursor (or an answer carrying one)
/// can never serve another device: `v2:<actor>:<scope version>:<seq>`.
pub(crate) fn cursor_for(device: &Device, seq: i64) -> String {
    format!("{}{}:{seq}", cursor_prefix(&device.actor), device.scope.version)
}

/// The start of every cursor made for the device with this actor (the
/// client checks answers against it).
pub fn cursor_prefix(actor: &[u8; 16]) -> String {
    format!("{CURSOR_PREFIX}{}:", crate::enrol::hex(actor))
}

pub(crate) fn parse_cursor(cursor: &str, device: &Device) -> Result<Option<i64>, SyncError> {
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
    // A document this device pushed and holds as stored is not sent back
    // (`docs.echo`) to a device that asks so (`skip_own`), on a feed it is
    // following; a feed started again (a new device, a new scope, an old
    // cursor) sends everything. (A device whose
    // store went back in time behind a kept cursor, restored from a copy,
    // gets what it lost through the repair check.)
    let echo = (parsed.is_some() && req.skip_own).then_some(device.id.as_str());
    let total = if req.want_total {
        let (sql, params) = feed_query(scope, after, echo, None);
        let rows = db.query(&sql, &params)?;
        Some(rows.first().map_or(0, |r| r[0].int()) as u64)
    } else {
        None
    };
    let (sql, params) = feed_query(scope, after, echo, Some(limit));
    let rows = db.query(&sql, &params)?;
    let mut docs = Vec::with_capacity(rows.len());
    let mut left = Vec::new();
    let mut last = after;
    let mut bytes = 0;
    let mut more = rows.len() as u32 == limit;
    for mut row in rows {
        if row[1].int() == last {
            continue; // the same document through another branch
        }
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
        let sealed = std::mem::replace(&mut row[5], Val::Null).into_blob();
        let doc = ctx.sealer.open(id.as_str(), &sealed)?;
        bytes += doc.len();
        docs.push(Doc { id, bytes: doc });
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

/// The feed's query: the documents after `after` that a scope reads (or
/// that left it), in `seq` order, with their sealed bytes (one query per
/// page, not one per document), up to `limit` (`None`: their count).
///
/// One branch per condition (the area tree, each township, each grid, the
/// departures), each read through its `(…, seq)` index up to the limit,
/// then merged: a single `township IN (..) OR grid IN (..)` condition
/// walked the whole `docs` table in `seq` order and dropped what it did
/// not want, which on a county of a million members was 40 rows read for
/// each row sent.
fn feed_query(scope: &Scope, after: i64, echo: Option<&str>, limit: Option<u32>) -> (String, Vec<Val>) {
    let mut params: Vec<Val> = vec![after.into()];
    let mut cut = String::new();
    if let Some(device) = echo {
        params.push(device.into());
        cut = format!(" AND (echo IS NULL OR echo <> ${})", params.len());
    }
    // Numbered in the order they first appear (SQLite numbers by appearance).
    let page = limit.map(|l| {
        params.push(i64::from(l).into());
        format!(" ORDER BY seq LIMIT ${}", params.len())
    });
    let mut branches = Vec::new();
    if scope.all {
        branches.push("1 = 1".to_owned());
    } else {
        branches.push("kind = 'area'".to_owned());
        let mut each = |ids: &[RecordId], column: &str, params: &mut Vec<Val>| -> Vec<String> {
            let mut named = Vec::new();
            for id in ids {
                params.push(id.as_str().into());
                named.push(format!("${}", params.len()));
                branches.push(format!("{column} = ${}", params.len()));
            }
            named
        };
        let townships = each(&scope.townships, "township", &mut params);
        let grids = each(&scope.grids, "grid", &mut params);
        let list = |l: Vec<String>| if l.is_empty() { "NULL".to_owned() } else { l.join(", ") };
        branches.push(format!(
            "id IN (SELECT doc_id FROM departures WHERE seq > $1 AND (township IN ({}) OR grid IN ({})))",
            list(townships),
            list(grids)
        ));
    }
    let sql = match page {
        Some(page) => {
            let union = branches
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    format!(
                        "SELECT * FROM (SELECT id, seq, kind, township, grid, sealed FROM docs
                         WHERE seq > $1{cut} AND {c}{page}) AS b{i}"
                    )
                })
                .collect::<Vec<_>>()
                // ALL: comparing whole rows, bytes included, to drop the
                // few that two branches share (an area in a scope's
                // township) cost more than skipping them by `seq`.
                .join(" UNION ALL ");
            format!("SELECT id, seq, kind, township, grid, sealed FROM ({union}) AS feed{page}")
        }
        None => {
            let union = branches
                .iter()
                .map(|c| format!("SELECT seq FROM docs WHERE seq > $1{cut} AND {c}"))
                .collect::<Vec<_>>()
                .join(" UNION ");
            format!("SELECT count(*) FROM ({union}) AS feed")
        }
    };
    (sql, params)
}

/// Summaries of the documents a scope reads, by bucket, a page at a time.
pub(crate) fn scope_buckets(
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

/// The organisations `device`'s records refer to outside its scope: the
/// unions covering its entities, its members' unions and employers; and the
/// entities outside it that its unions cover (a federation's, a joint
/// union's), so its unions' 八有 is judged on all they cover. Each is
/// sent as a stub (a name, a kind, whether dissolved) so that the device's
/// figures, worklist and pages say what the county's do, without widening
/// what it may write and without any person's data or any history. A
/// county-wide device holds everything and gets none.
///
/// Read from the console's facts (`f_entities`, `f_members`, `f_unions`), in the same
/// transaction as any other call; it spends no reveal budget (the device
/// already holds the ids, on its own records).
pub fn refs(db: &mut dyn Sql, device: &Device) -> Result<RefsResponse, SyncError> {
    if device.scope.all {
        return Ok(RefsResponse::default());
    }
    let mut params = Vec::new();
    let filter = scope_filter(&device.scope, &mut params);
    // The ids its records name, and the entities its unions cover; kept
    // only where the document lies outside the scope (`docs`' own township
    // and grid), so that only the few across the edge are read. The named
    // ids are gathered first (each through the scope's indexes), then
    // looked up by id: led by `docs`, the query read every union and entity
    // of the county.
    // Each stub is read off the facts (`f_unions`, `f_entities`), never
    // off the document: a device's sync asks for its stubs every time.
    let rows = db.query(
        &format!(
            "WITH named(id) AS (
               SELECT union_id FROM f_entities WHERE union_id IS NOT NULL AND {filter}
               UNION SELECT union_id FROM f_members WHERE {filter}
               UNION SELECT employer_id FROM f_members WHERE employer_id IS NOT NULL AND {filter}
               UNION SELECT id FROM f_entities WHERE union_id IN (SELECT id FROM f_unions WHERE {filter}))
             , across(id, kind, township) AS (
               SELECT docs.id, docs.kind, docs.township FROM named JOIN docs ON docs.id = named.id
               WHERE docs.deleted = 0 AND docs.kind IN ('union', 'entity')
               AND CASE WHEN {filter} THEN 0 ELSE 1 END = 1)
             SELECT a.id, a.kind, a.township, u.name, u.kind, u.dissolved_on,
                    e.name, e.union_id, e.closed, e.private_enterprise
             FROM across a
             LEFT JOIN f_unions u ON u.id = a.id
             LEFT JOIN f_entities e ON e.id = a.id
             ORDER BY a.id"
        ),
        &params,
    )?;
    let text = |v: &Val| v.text().unwrap_or_default().to_owned();
    let mut stubs = Vec::with_capacity(rows.len());
    for r in rows {
        let (id, township) = (RecordId(text(&r[0])), text(&r[2]));
        stubs.push(match r[1].text() {
            Some("union") => RefStub {
                id,
                kind: "union".into(),
                name: text(&r[3]),
                union_kind: text(&r[4]),
                dissolved_on: text(&r[5]),
                township,
                ..RefStub::default()
            },
            _ => RefStub {
                id,
                kind: "entity".into(),
                name: text(&r[6]),
                covered_by: text(&r[7]),
                private_open: r[8].int() == 0 && r[9].int() != 0,
                township,
                ..RefStub::default()
            },
        });
    }
    Ok(RefsResponse { stubs })
}

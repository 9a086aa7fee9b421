//! The county's decisions on stored records, written as the county's own
//! actor: settling a conflict, merging two records, editing, creating,
//! returning a record to the field and resolving a quarantined write.

use automerge::{AutoCommit, ReadDoc};
use registry::message::blocks_saving;
use registry::model::{RecordId, RecordKind, Region};
use registry::validate;
use sync::SyncError;
use sync::codes;
use sync::server::*;

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

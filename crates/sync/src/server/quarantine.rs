//! The quarantine: pushed changes the server would not apply, sealed and
//! kept for review within each device's quota, never dropped.

use super::*;

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

pub(crate) fn quarantine(
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
    Ok(quarantine_page(db, None, 0, limit)?.0)
}

/// A page of the quarantine: its entries, how many match in all, and how
/// many wait under each reason's code.
pub type QuarantinePage = (Vec<QuarantineEntry>, i64, Vec<(String, i64)>);

/// A page of the unresolved entries (of one reason's code, if given),
/// oldest first, after `offset` of them; with how many there are in all
/// and by code.
pub fn quarantine_page(
    db: &mut dyn Sql,
    code: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<QuarantinePage, SyncError> {
    let by_code: Vec<(String, i64)> = db
        .query("SELECT code, count(*) FROM quarantine WHERE resolved_at IS NULL GROUP BY code ORDER BY code", &[])?
        .into_iter()
        .map(|r| (r[0].text().unwrap_or_default().to_owned(), r[1].int()))
        .collect();
    let total = by_code.iter().filter(|(c, _)| code.is_none_or(|k| k == c)).map(|(_, n)| n).sum();
    let rows = match code {
        Some(c) => db.query(
            "SELECT id, device_id, doc_id, code, detail, created_at FROM quarantine
             WHERE resolved_at IS NULL AND code = $1 ORDER BY id LIMIT $2 OFFSET $3",
            &[c.into(), limit.into(), offset.into()],
        )?,
        None => db.query(
            "SELECT id, device_id, doc_id, code, detail, created_at FROM quarantine
             WHERE resolved_at IS NULL ORDER BY id LIMIT $1 OFFSET $2",
            &[limit.into(), offset.into()],
        )?,
    };
    let entries = rows
        .into_iter()
        .map(|r| QuarantineEntry {
            id: r[0].int(),
            device_id: r[1].text().unwrap_or_default().into(),
            doc_id: RecordId::from(r[2].text().unwrap_or_default()),
            code: r[3].text().unwrap_or_default().into(),
            detail: r[4].text().unwrap_or_default().into(),
            created_at: r[5].int(),
        })
        .collect();
    Ok((entries, total, by_code))
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

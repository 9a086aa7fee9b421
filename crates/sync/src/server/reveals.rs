//! What a device asked about outside its scope, against its daily budget:
//! past it, the device is suspended.

use super::*;

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
pub(crate) fn reveal(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    device: &Device,
    id: &RecordId,
    how: &str,
) -> Result<(), SyncError> {
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

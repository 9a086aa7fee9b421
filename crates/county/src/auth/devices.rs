//! The `devices` table: enrolled devices, their scope, hashed tokens (with
//! expiry and rotation), revocation, suspension for probing, remote wipe,
//! and their event log.

use super::*;

/// The table as the first migration (`auth-v1`) made it; later columns
/// come from the migrations below it.
pub(super) fn create(blob: &str) -> String {
    format!(
        "CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    actor {blob} NOT NULL UNIQUE,
    person TEXT NOT NULL,
    role TEXT NOT NULL,
    public_key {blob} NOT NULL,
    token_hash {blob} NOT NULL UNIQUE,
    scope_all BIGINT NOT NULL,
    townships TEXT NOT NULL,
    grids TEXT NOT NULL,
    scope_version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    last_seen BIGINT
);"
    )
}

/// How long a device token lives unless rotated (a year: a tablet put away
/// between campaigns must not come back locked out with unsent records);
/// devices rotate theirs every 30 days while they sync.
pub const TOKEN_LIFE_MS: i64 = 365 * 24 * 3600 * 1000;

/// The migration for device tokens' expiry and rotation: a token expires
/// (existing ones a year after this migration runs); a rotation's new
/// token waits in `next_token_hash` until the device first uses it.
pub fn token_schema(d: Dialect) -> String {
    let blob = match d {
        Dialect::Sqlite => "BLOB",
        Dialect::Postgres => "BYTEA",
    };
    let now = now_ms();
    format!(
        "ALTER TABLE devices ADD COLUMN token_expires_at BIGINT;
         ALTER TABLE devices ADD COLUMN next_token_hash {blob};
         UPDATE devices SET token_expires_at = {};
         CREATE UNIQUE INDEX devices_next_token ON devices(next_token_hash);",
        now + TOKEN_LIFE_MS
    )
}

/// Suspends a device found probing for records outside its scope (see
/// [`sync::server::REVEAL_BUDGET`]): every sync call is refused with
/// `DEVICE_SUSPENDED` until a county admin reinstates it. Recorded in the
/// device's events (the audit log).
pub fn suspend(db: &mut dyn Sql, token: &str, why: &str) -> Result<(), SyncError> {
    let hash = digest(token);
    let rows = db.query(
        "SELECT id FROM devices WHERE (token_hash = $1 OR next_token_hash = $1) AND suspended_at IS NULL",
        &[hash.into()],
    )?;
    let Some(id) = rows.first().and_then(|r| r[0].text().map(str::to_owned)) else { return Ok(()) };
    let now = now_ms();
    db.execute(
        "UPDATE devices SET suspended_at = $1, suspended_why = $2 WHERE id = $3",
        &[now.into(), why.into(), id.as_str().into()],
    )?;
    device_event(db, &id, &format!("suspended:{why}"), "server")
}

/// A county admin lifts a suspension; what the device had asked about is
/// forgotten, so its budget starts again. False when there is no such device.
pub fn reinstate(db: &mut dyn Sql, device_id: &str, by: &str) -> Result<bool, SyncError> {
    let n = db.execute(
        "UPDATE devices SET suspended_at = NULL, suspended_why = NULL WHERE id = $1 AND suspended_at IS NOT NULL",
        &[device_id.into()],
    )?;
    if n > 0 {
        db.execute("DELETE FROM reveals WHERE device_id = $1", &[device_id.into()])?;
        device_event(db, device_id, "reinstated", by)?;
    }
    Ok(!db.query("SELECT 1 FROM devices WHERE id = $1", &[device_id.into()])?.is_empty())
}

/// One line of a device's history for the audit log.
pub fn device_event(db: &mut dyn Sql, device_id: &str, what: &str, who: &str) -> Result<(), SyncError> {
    db.execute(
        "INSERT INTO device_events (device_id, at, what, who) VALUES ($1, $2, $3, $4)",
        &[device_id.into(), now_ms().into(), what.into(), who.into()],
    )?;
    Ok(())
}

/// Remote wipe: the hash of each device's wipe-check token (a second
/// secret, kept by the device outside its encrypted store so that even the
/// locked app can ask), when a wipe was asked for and when the device heard.
pub fn wipe_schema(d: Dialect) -> String {
    let blob = match d {
        Dialect::Sqlite => "BLOB",
        Dialect::Postgres => "BYTEA",
    };
    format!(
        "ALTER TABLE devices ADD COLUMN wipe_hash {blob};
         ALTER TABLE devices ADD COLUMN wipe_requested_at BIGINT;
         ALTER TABLE devices ADD COLUMN wiped_at BIGINT;
         CREATE UNIQUE INDEX devices_wipe ON devices(wipe_hash);"
    )
}

/// A lost or stolen tablet: a county admin revokes it and asks for its
/// data to be wiped. At its next contact (a sync while unlocked, or the
/// lock screen's check) the device deletes its store and lock file. False
/// when there is no such device.
pub fn request_wipe(db: &mut dyn Sql, device_id: &str, by: &str) -> Result<bool, SyncError> {
    let now = now_ms();
    let n = db.execute(
        "UPDATE devices SET wipe_requested_at = $1, revoked_at = COALESCE(revoked_at, $1)
         WHERE id = $2 AND wipe_requested_at IS NULL",
        &[now.into(), device_id.into()],
    )?;
    if n > 0 {
        device_event(db, device_id, "wipe-requested", by)?;
    }
    Ok(!db.query("SELECT 1 FROM devices WHERE id = $1", &[device_id.into()])?.is_empty())
}

/// Records that a device heard its wipe (the first time).
pub(crate) fn wiped(db: &mut dyn Sql, device_id: &str) -> Result<(), SyncError> {
    let n = db.execute(
        "UPDATE devices SET wiped_at = $1 WHERE id = $2 AND wiped_at IS NULL",
        &[now_ms().into(), device_id.into()],
    )?;
    if n > 0 {
        device_event(db, device_id, "wiped", "device")?;
    }
    Ok(())
}

/// The lock screen's question, asked with the wipe-check token: must this
/// device wipe itself? `None` for a token no device has.
pub fn wipe_check(db: &mut dyn Sql, wipe_token: &str) -> Result<Option<bool>, SyncError> {
    let rows =
        db.query("SELECT id, wipe_requested_at FROM devices WHERE wipe_hash = $1", &[digest(wipe_token).into()])?;
    let Some(r) = rows.first() else { return Ok(None) };
    let id = r[0].text().unwrap_or_default().to_owned();
    let wipe = r[1] != Val::Null;
    if wipe {
        wiped(db, &id)?;
    }
    Ok(Some(wipe))
}

/// Suspension and the device's event log.
pub fn suspension_schema() -> String {
    "ALTER TABLE devices ADD COLUMN suspended_at BIGINT;
     ALTER TABLE devices ADD COLUMN suspended_why TEXT;
     CREATE TABLE device_events (device_id TEXT NOT NULL, at BIGINT NOT NULL, what TEXT NOT NULL, who TEXT NOT NULL);
     CREATE INDEX device_events_at ON device_events (at);"
        .into()
}

/// The device a token names, and why it is refused if it is (revoked, or
/// suspended for probing); `None` for no device.
pub fn find_device(db: &mut dyn Sql, token: &str) -> Result<Option<(Device, Option<Denied>)>, SyncError> {
    let hash = digest(token);
    let rows = db.query(DEVICE_BY_TOKEN, &[hash.clone().into()])?;
    if let Some(r) = rows.first() {
        let now = now_ms();
        if matches!(&r[8], Val::Blob(next) if *next == hash) {
            // The rotated token's first use: it replaces the old one.
            db.execute(
                "UPDATE devices SET token_hash = next_token_hash, next_token_hash = NULL, token_expires_at = $1
                 WHERE id = $2",
                &[(now + TOKEN_LIFE_MS).into(), r[0].clone()],
            )?;
        } else if !matches!(r[7], Val::Null) && r[7].int() < now {
            return Err(TOKEN_EXPIRED.into());
        }
    }
    let found = rows.first().map(|r| device_of(r));
    if let Some((device, Some(DEVICE_WIPED))) = &found {
        wiped(db, &device.id)?;
    }
    Ok(found)
}

/// [`find_device`] for a request served in a read-only transaction:
/// `None` when finding the device writes (its rotated token's first use,
/// a wipe to record as delivered), so that the caller serves the request
/// in a write transaction instead.
#[allow(clippy::type_complexity)]
pub fn find_device_reading(
    db: &mut dyn Sql,
    token: &str,
) -> Result<Option<Option<(Device, Option<Denied>)>>, SyncError> {
    let hash = digest(token);
    let rows = db.query(DEVICE_BY_TOKEN, &[hash.clone().into()])?;
    let Some(r) = rows.first() else { return Ok(Some(None)) };
    if matches!(&r[8], Val::Blob(next) if *next == hash) || r[10] != Val::Null {
        return Ok(None);
    }
    if !matches!(r[7], Val::Null) && r[7].int() < now_ms() {
        return Err(TOKEN_EXPIRED.into());
    }
    Ok(Some(Some(device_of(r))))
}

const DEVICE_BY_TOKEN: &str =
    "SELECT id, actor, scope_all, townships, grids, scope_version, revoked_at, token_expires_at, next_token_hash,
            suspended_at, wipe_requested_at
     FROM devices WHERE token_hash = $1 OR next_token_hash = $1";

/// A row of [`DEVICE_BY_TOKEN`]: the device, and why it is refused if it is.
fn device_of(r: &[Val]) -> (Device, Option<Denied>) {
    let actor: [u8; 16] = match &r[1] {
        Val::Blob(b) => b.as_slice().try_into().unwrap_or_default(),
        _ => [0; 16],
    };
    let device = Device {
        id: r[0].text().unwrap_or_default().to_owned(),
        actor,
        scope: Scope {
            version: r[5].int() as u64,
            all: r[2].int() != 0,
            townships: split(r[3].text().unwrap_or_default()),
            grids: split(r[4].text().unwrap_or_default()),
        },
    };
    let denied = if r[10] != Val::Null {
        Some(DEVICE_WIPED)
    } else if r[6] != Val::Null {
        Some(DEVICE_REVOKED)
    } else if r[9] != Val::Null {
        Some(DEVICE_SUSPENDED)
    } else {
        None
    };
    (device, denied)
}

/// A new token for a device (it asked with its current one): kept as the
/// next token until the device first uses it, so an answer lost on the way
/// costs nothing (the old token still works; asking again makes another).
pub fn rotate_token(db: &mut dyn Sql, device_id: &str) -> Result<String, SyncError> {
    let token = random_token("sjd_");
    db.execute("UPDATE devices SET next_token_hash = $1 WHERE id = $2", &[digest(&token).into(), device_id.into()])?;
    Ok(token)
}

/// The device a token belongs to; a revoked device is refused.
pub fn device(db: &mut dyn Sql, token: &str) -> Result<Result<Device, Denied>, SyncError> {
    Ok(match find_device(db, token)? {
        Some((device, None)) => Ok(device),
        Some((_, Some(denied))) => Err(denied),
        None => Err(UNAUTHENTICATED),
    })
}

/// Each active (not revoked) device's person and the grids it is enrolled
/// for, by person: what a township's page sums per surveyor.
pub fn active_devices_grids(db: &mut dyn Sql) -> Result<Vec<(String, Vec<String>)>, SyncError> {
    let rows = db.query("SELECT person, grids FROM devices WHERE revoked_at IS NULL ORDER BY person", &[])?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let grids =
                r[1].text().unwrap_or_default().split(',').filter(|g| !g.is_empty()).map(str::to_owned).collect();
            (r[0].text().unwrap_or_default().to_owned(), grids)
        })
        .collect())
}

/// A device as listed for admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct DeviceInfo {
    pub id: String,
    pub person: String,
    pub role: Role,
    pub all: bool,
    pub townships: Vec<RecordId>,
    pub grids: Vec<RecordId>,
    pub created_at: i64,
    pub revoked: bool,
    /// Suspended for probing outside its scope (until reinstated).
    pub suspended: bool,
    /// A wipe was asked for / the device heard it.
    pub wipe_requested: bool,
    pub wiped: bool,
}

pub fn list_devices(db: &mut dyn Sql) -> Result<Vec<DeviceInfo>, SyncError> {
    let rows = db.query(
        "SELECT id, person, role, scope_all, townships, grids, created_at, revoked_at, suspended_at,
                wipe_requested_at, wiped_at
         FROM devices ORDER BY created_at, id",
        &[],
    )?;
    Ok(rows
        .into_iter()
        .map(|r| DeviceInfo {
            id: r[0].text().unwrap_or_default().into(),
            person: r[1].text().unwrap_or_default().into(),
            role: Role::from_key(r[2].text().unwrap_or_default()).unwrap_or(Role::Surveyor),
            all: r[3].int() != 0,
            townships: split(r[4].text().unwrap_or_default()),
            grids: split(r[5].text().unwrap_or_default()),
            created_at: r[6].int(),
            revoked: r[7] != Val::Null,
            suspended: r[8] != Val::Null,
            wipe_requested: r[9] != Val::Null,
            wiped: r[10] != Val::Null,
        })
        .collect())
}

/// Revokes a device. Returns false when there is no such device.
pub fn revoke(db: &mut dyn Sql, device_id: &str) -> Result<bool, SyncError> {
    let n = db.execute(
        "UPDATE devices SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        &[now_ms().into(), device_id.into()],
    )?;
    Ok(n > 0 || !db.query("SELECT 1 FROM devices WHERE id = $1", &[device_id.into()])?.is_empty())
}

/// Moves a device to a new scope (a grid handed to another surveyor): its
/// feed restarts and the new scope's records reach it.
pub fn set_scope(
    db: &mut dyn Sql,
    device_id: &str,
    all: bool,
    townships: &[RecordId],
    grids: &[RecordId],
) -> Result<bool, SyncError> {
    let n = db.execute(
        "UPDATE devices SET scope_all = $1, townships = $2, grids = $3, scope_version = scope_version + 1 WHERE id = $4",
        &[i64::from(all).into(), join(townships).into(), join(grids).into(), device_id.into()],
    )?;
    Ok(n > 0)
}

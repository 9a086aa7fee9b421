//! Accounts, sessions, device enrolment and device tokens.
//!
//! - Staff accounts have a role and an argon2 password hash.
//! - An admin creates an *enrolment* for a person and a scope; its one-time
//!   code (shown as text and QR) is redeemed by the device, which sends its
//!   Automerge actor id and public key and gets its own token. Only hashes
//!   of codes and tokens are stored.
//! - A revoked device is refused at its next request.

use crate::db::now_ms;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use rand::RngCore;
use registry::model::RecordId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sync::Scope;
use sync::SyncError;
use sync::server::{Device, Dialect, Sql, Val};

pub fn schema(d: Dialect) -> String {
    let blob = match d {
        Dialect::Sqlite => "BLOB",
        Dialect::Postgres => "BYTEA",
    };
    format!(
        "CREATE TABLE users (
            id TEXT PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            pw_hash TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            disabled BIGINT NOT NULL DEFAULT 0
        );
        CREATE TABLE sessions (
            token_hash {blob} PRIMARY KEY,
            user_id TEXT NOT NULL,
            expires_at BIGINT NOT NULL
        );
        CREATE TABLE enrolments (
            code_hash {blob} PRIMARY KEY,
            person TEXT NOT NULL,
            role TEXT NOT NULL,
            scope_all BIGINT NOT NULL,
            townships TEXT NOT NULL,
            grids TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            redeemed_at BIGINT,
            device_id TEXT
        );
        CREATE TABLE devices (
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
        );
        CREATE TABLE settings (key TEXT PRIMARY KEY, value {blob} NOT NULL);"
    )
}

/// A staff role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    CountyAdmin,
    TownshipStaff,
    Surveyor,
}

impl Role {
    pub fn key(self) -> &'static str {
        match self {
            Role::CountyAdmin => "county_admin",
            Role::TownshipStaff => "township_staff",
            Role::Surveyor => "surveyor",
        }
    }
    pub fn from_key(s: &str) -> Option<Role> {
        [Role::CountyAdmin, Role::TownshipStaff, Role::Surveyor].into_iter().find(|r| r.key() == s)
    }
}

/// An auth failure or refusal, with a stable code: a [`Code`] of the
/// project's one catalogue.
///
/// [`Code`]: registry::message::Code
pub use registry::message::Code as Denied;

pub const UNAUTHENTICATED: Denied = Denied {
    status: 401,
    code: "UNAUTHENTICATED",
    zh: "未登录或凭据无效",
    en: "Not signed in, or the credentials are not valid",
};
pub const DEVICE_REVOKED: Denied = Denied {
    status: 401,
    code: "DEVICE_REVOKED",
    zh: "该设备已被停用，请联系县总工会",
    en: "This device was revoked; contact the county federation",
};
pub const DEVICE_SUSPENDED: Denied = Denied {
    status: 403,
    code: sync::server::DEVICE_SUSPENDED,
    zh: "本设备查询了过多本辖区以外的记录，已暂停同步；请联系县总工会核实后恢复",
    en: "This device asked about too many records outside its area and is suspended; the county federation can reinstate it",
};
pub const DEVICE_WIPED: Denied = Denied {
    status: 401,
    code: "DEVICE_WIPED",
    zh: "县总工会已要求清除本机数据",
    en: "The county federation asked for this device's data to be wiped",
};
pub const NOT_FOUND_AREA: Denied =
    Denied { status: 404, code: "AREA_NOT_FOUND", zh: "没有这个区域", en: "No such area" };
pub const NOT_FOUND_EXPORT: Denied =
    Denied { status: 404, code: "EXPORT_NOT_FOUND", zh: "没有这个导出任务", en: "No such export" };
pub const FORBIDDEN: Denied =
    Denied { status: 403, code: "FORBIDDEN", zh: "没有权限执行此操作", en: "You may not do this" };
pub const ENROLMENT_INVALID: Denied = Denied {
    status: 401,
    code: "ENROLMENT_INVALID",
    zh: "注册码无效、已过期或已被使用",
    en: "The enrolment code is not valid, has expired or was already used",
};
pub const ACTOR_TAKEN: Denied = Denied {
    status: 409,
    code: "DEVICE_ID_TAKEN",
    zh: "该设备标识已被另一台设备使用",
    en: "This device id is already used by another device",
};
pub const USER_NOT_FOUND: Denied =
    Denied { status: 404, code: "USER_NOT_FOUND", zh: "找不到该账号", en: "No such account" };
pub const DEVICE_NOT_FOUND: Denied =
    Denied { status: 404, code: "DEVICE_NOT_FOUND", zh: "找不到该设备", en: "No such device" };
pub const BAD_REQUEST: Denied =
    Denied { status: 400, code: "BAD_REQUEST", zh: "请求内容有误", en: "The request is malformed" };
pub const USER_EXISTS: Denied =
    Denied { status: 409, code: "USER_EXISTS", zh: "该账号已存在", en: "That account exists already" };
pub const CANNOT_DISABLE_SELF: Denied = Denied {
    status: 409,
    code: "CANNOT_DISABLE_SELF",
    zh: "不能停用自己的账号",
    en: "You cannot disable your own account",
};
pub const NOTHING_TO_REVIEW: Denied = Denied {
    status: 409,
    code: "NOTHING_TO_REVIEW",
    zh: "没有待审核的信用代码",
    en: "There is no kept credit code to review",
};
pub const IMPORT_MAPPING: Denied = Denied {
    status: 400,
    code: "IMPORT_MAPPING",
    zh: "请指定哪一列是单位名称",
    en: "Say which column holds the entity's name",
};
pub const PHOTO_NOT_FOUND: Denied =
    Denied { status: 404, code: "PHOTO_NOT_FOUND", zh: "没有这张照片", en: "No such photo" };
pub const EXPORTS_BUSY: Denied = Denied {
    status: 429,
    code: "EXPORTS_BUSY",
    zh: "导出任务过多，请等待已有导出完成",
    en: "Too many exports at once; wait for one to finish",
};
pub const EXPORT_RUNNING: Denied =
    Denied { status: 409, code: "EXPORT_RUNNING", zh: "导出尚未完成", en: "The export has not finished" };
pub const BLOBS_UNAVAILABLE: Denied = Denied {
    status: 503,
    code: "BLOBS_UNAVAILABLE",
    zh: "服务器未配置照片存储",
    en: "The server keeps no attachments",
};
pub const PHOTO_NOT_UPLOADED: Denied = Denied {
    status: 404,
    code: "PHOTO_NOT_UPLOADED",
    zh: "照片尚未从设备上传",
    en: "The photo has not been uploaded from its device yet",
};
/// Nothing is known by the name asked for: no such address, or no such
/// record. One meaning wherever it is answered (the server, the field app).
pub const NOT_FOUND: Denied = sync::codes::NOT_FOUND;
/// Too many failed sign-ins or redemptions from one place; the edge says
/// how many minutes to wait.
pub const TOO_MANY_ATTEMPTS: Denied = Denied {
    status: 429,
    code: "TOO_MANY_ATTEMPTS",
    zh: "尝试次数过多，请稍后再试",
    en: "Too many attempts: try again later",
};
pub const TOKEN_EXPIRED: Denied = Denied {
    status: 401,
    code: "TOKEN_EXPIRED",
    zh: "本机的登录凭据已过期，请用新的注册码重新注册",
    en: "This device's credentials have expired: enrol it again with a new code",
};
pub const AREA_NAME: Denied =
    Denied { status: 400, code: "AREA_NAME", zh: "请填写名称", en: "The name is required" };
/// The area above is missing, unknown or outside every township (the call
/// site says which).
pub const AREA_PARENT: Denied =
    Denied {
        status: 400, code: "AREA_PARENT", zh: "请选择上级区域和层级", en: "Choose the level and the area above"
    };
pub const AREA_LEVEL: Denied = Denied {
    status: 400,
    code: "AREA_LEVEL",
    zh: "社区（村）只能建在乡镇下，网格只能建在乡镇或社区（村）下",
    en: "A community goes under a township; a grid under a township or community",
};
pub const AREA_NAME_TAKEN: Denied = Denied {
    status: 400,
    code: "AREA_NAME_TAKEN",
    zh: "同一上级下已有同名区域",
    en: "An area of that name is already there",
};

/// Every refusal of the county layer's own, once: what the catalogue test
/// checks (codes unique, both texts) and `ui/lib/county-codes.js` lists.
pub const ALL: &[&Denied] = &[
    &UNAUTHENTICATED,
    &DEVICE_REVOKED,
    &DEVICE_SUSPENDED,
    &DEVICE_WIPED,
    &NOT_FOUND_AREA,
    &NOT_FOUND_EXPORT,
    &FORBIDDEN,
    &ENROLMENT_INVALID,
    &ACTOR_TAKEN,
    &USER_NOT_FOUND,
    &DEVICE_NOT_FOUND,
    &BAD_REQUEST,
    &USER_EXISTS,
    &CANNOT_DISABLE_SELF,
    &NOTHING_TO_REVIEW,
    &IMPORT_MAPPING,
    &PHOTO_NOT_FOUND,
    &EXPORTS_BUSY,
    &EXPORT_RUNNING,
    &BLOBS_UNAVAILABLE,
    &PHOTO_NOT_UPLOADED,
    &NOT_FOUND,
    &TOO_MANY_ATTEMPTS,
    &TOKEN_EXPIRED,
    &AREA_NAME,
    &AREA_PARENT,
    &AREA_LEVEL,
    &AREA_NAME_TAKEN,
];

pub fn random_token(prefix: &str) -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    format!("{prefix}{}", hex(&b))
}

pub use sync::enrol::{hex, unhex};

fn digest(s: &str) -> Vec<u8> {
    Sha256::digest(s.as_bytes()).to_vec()
}

fn join(ids: &[RecordId]) -> String {
    ids.iter().map(|i| i.as_str()).collect::<Vec<_>>().join(",")
}

fn split(s: &str) -> Vec<RecordId> {
    s.split(',').filter(|x| !x.is_empty()).map(RecordId::from).collect()
}

fn hash_password(password: &str) -> Result<String, SyncError> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| SyncError::Server(e.to_string()))?
        .to_string())
}

/// Creates a staff account. Returns its id.
pub fn create_user(db: &mut dyn Sql, username: &str, role: Role, password: &str) -> Result<String, SyncError> {
    let hash = hash_password(password)?;
    let id = random_token("u_")[..18].to_owned();
    db.execute(
        "INSERT INTO users (id, username, role, pw_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        &[id.as_str().into(), username.into(), role.key().into(), hash.into(), now_ms().into()],
    )?;
    Ok(id)
}

/// Sets a staff member's password and signs out their sessions. False when
/// there is no such user.
pub fn set_password(db: &mut dyn Sql, username: &str, password: &str) -> Result<bool, SyncError> {
    let hash = hash_password(password)?;
    let rows = db.query("SELECT id FROM users WHERE username = $1", &[username.into()])?;
    let Some(id) = rows.first().and_then(|r| r[0].text()).map(str::to_owned) else { return Ok(false) };
    db.execute("UPDATE users SET pw_hash = $1 WHERE id = $2", &[hash.into(), id.as_str().into()])?;
    db.execute("DELETE FROM sessions WHERE user_id = $1", &[id.as_str().into()])?;
    Ok(true)
}

pub fn user_exists(db: &mut dyn Sql, username: &str) -> Result<bool, SyncError> {
    Ok(!db.query("SELECT id FROM users WHERE username = $1", &[username.into()])?.is_empty())
}

pub fn user_count(db: &mut dyn Sql) -> Result<i64, SyncError> {
    Ok(db.query("SELECT count(*) FROM users", &[])?.first().map_or(0, |r| r[0].int()))
}

/// A signed-in staff member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Staff {
    pub id: String,
    pub username: String,
    pub role: Role,
    /// The townships a township staff member works for (empty for county
    /// staff); the console shows and exports only these.
    pub townships: Vec<RecordId>,
}

impl Staff {
    /// The townships this person may see: `None` for the whole county.
    pub fn sees(&self) -> Option<&[RecordId]> {
        (self.role != Role::CountyAdmin).then_some(self.townships.as_slice())
    }
}

/// The migration: staff accounts get their townships.
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

pub fn townships_schema() -> String {
    "ALTER TABLE users ADD COLUMN townships TEXT NOT NULL DEFAULT ''".into()
}

/// Assigns a staff member's townships. False when there is no such user.
pub fn set_user_townships(db: &mut dyn Sql, username: &str, townships: &[RecordId]) -> Result<bool, SyncError> {
    let list: Vec<&str> = townships.iter().map(RecordId::as_str).collect();
    Ok(db.execute("UPDATE users SET townships = $1 WHERE username = $2", &[list.join(",").into(), username.into()])?
        > 0)
}

/// A staff account as the console lists it (no password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct StaffAccount {
    pub username: String,
    pub role: Role,
    pub townships: Vec<RecordId>,
    pub disabled: bool,
}

pub fn list_staff(db: &mut dyn Sql) -> Result<Vec<StaffAccount>, SyncError> {
    let rows = db.query("SELECT username, role, townships, disabled FROM users ORDER BY created_at, username", &[])?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(StaffAccount {
                username: r[0].text()?.to_owned(),
                role: Role::from_key(r[1].text()?)?,
                townships: split(r[2].text().unwrap_or_default()),
                disabled: r[3].int() != 0,
            })
        })
        .collect())
}

/// Disables a staff account and signs it out everywhere. False when there
/// is no such user.
pub fn disable_user(db: &mut dyn Sql, username: &str) -> Result<bool, SyncError> {
    let rows = db.query("SELECT id FROM users WHERE username = $1", &[username.into()])?;
    let Some(id) = rows.first().and_then(|r| r[0].text()).map(str::to_owned) else { return Ok(false) };
    db.execute("UPDATE users SET disabled = 1 WHERE id = $1", &[id.as_str().into()])?;
    db.execute("DELETE FROM sessions WHERE user_id = $1", &[id.as_str().into()])?;
    Ok(true)
}

/// Ends the session a token names (signing out). True if there was one.
pub fn logout(db: &mut dyn Sql, token: &str) -> Result<bool, SyncError> {
    Ok(db.execute("DELETE FROM sessions WHERE token_hash = $1", &[digest(token).into()])? > 0)
}

/// Ends every session of a staff member (a county admin signs them out
/// everywhere, e.g. a lost laptop). False when there is no such user.
pub fn sign_out_everywhere(db: &mut dyn Sql, username: &str) -> Result<bool, SyncError> {
    let rows = db.query("SELECT id FROM users WHERE username = $1", &[username.into()])?;
    let Some(id) = rows.first().and_then(|r| r[0].text()).map(str::to_owned) else { return Ok(false) };
    db.execute("DELETE FROM sessions WHERE user_id = $1", &[id.as_str().into()])?;
    Ok(true)
}

/// A new random password: 16 characters a person can type.
/// Drawn without bias from an alphabet without look-alikes (no 0/O, 1/l/I, B/8).
pub fn random_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
}

fn townships_of(db: &mut dyn Sql, id: &str) -> Result<Vec<RecordId>, SyncError> {
    let rows = db.query("SELECT townships FROM users WHERE id = $1", &[id.into()])?;
    Ok(rows.first().map(|r| split(r[0].text().unwrap_or_default())).unwrap_or_default())
}

/// Checks a password and opens a session (12 hours). Returns the token.
pub fn login(db: &mut dyn Sql, username: &str, password: &str) -> Result<Result<(String, Staff), Denied>, SyncError> {
    let rows =
        db.query("SELECT id, role, pw_hash FROM users WHERE username = $1 AND disabled = 0", &[username.into()])?;
    // Verify against a hash made with the same parameters when the user is
    // unknown, so timing does not tell which usernames exist.
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let (id, role, hash) = match rows.first() {
        Some(r) => (
            r[0].text().unwrap_or_default().to_owned(),
            r[1].text().unwrap_or_default().to_owned(),
            r[2].text().unwrap_or_default().to_owned(),
        ),
        None => {
            let dummy = DUMMY.get_or_init(|| hash_password("unknown user").unwrap_or_default());
            (String::new(), String::new(), dummy.clone())
        }
    };
    let ok = PasswordHash::new(&hash)
        .is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok());
    let Some(role) = Role::from_key(&role).filter(|_| ok && !id.is_empty()) else { return Ok(Err(UNAUTHENTICATED)) };
    let token = random_token("sjs_");
    db.execute(
        "INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
        &[digest(&token).into(), id.as_str().into(), (now_ms() + 12 * 3600 * 1000).into()],
    )?;
    let townships = townships_of(db, &id)?;
    Ok(Ok((token, Staff { id, username: username.to_owned(), role, townships })))
}

/// A server setting (e.g. the public address devices use).
pub fn setting(db: &mut dyn Sql, key: &str) -> Result<Option<Vec<u8>>, SyncError> {
    let rows = db.query("SELECT value FROM settings WHERE key = $1", &[key.into()])?;
    Ok(rows.into_iter().next().map(|mut r| std::mem::replace(&mut r[0], Val::Null).into_blob()))
}

pub fn set_setting(db: &mut dyn Sql, key: &str, value: &[u8]) -> Result<(), SyncError> {
    db.execute("DELETE FROM settings WHERE key = $1", &[key.into()])?;
    db.execute("INSERT INTO settings (key, value) VALUES ($1, $2)", &[key.into(), value.to_vec().into()])?;
    Ok(())
}

/// An active staff member by username (for the county's command line,
/// which acts on the server's own files).
pub fn staff_by_username(db: &mut dyn Sql, username: &str) -> Result<Result<Staff, Denied>, SyncError> {
    let rows = db.query("SELECT id, role FROM users WHERE username = $1 AND disabled = 0", &[username.into()])?;
    Ok(match rows.first().and_then(|r| Some((r[0].text()?.to_owned(), Role::from_key(r[1].text()?)?))) {
        Some((id, role)) => {
            let townships = townships_of(db, &id)?;
            Ok(Staff { id, username: username.to_owned(), role, townships })
        }
        None => Err(UNAUTHENTICATED),
    })
}

/// The staff member a session token belongs to.
pub fn staff(db: &mut dyn Sql, token: &str) -> Result<Result<Staff, Denied>, SyncError> {
    let rows = db.query(
        "SELECT u.id, u.username, u.role, u.townships FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = 0",
        &[digest(token).into(), now_ms().into()],
    )?;
    Ok(match rows.first() {
        Some(r) => match Role::from_key(r[2].text().unwrap_or_default()) {
            Some(role) => Ok(Staff {
                id: r[0].text().unwrap_or_default().into(),
                username: r[1].text().unwrap_or_default().into(),
                role,
                townships: split(r[3].text().unwrap_or_default()),
            }),
            None => Err(UNAUTHENTICATED),
        },
        None => Err(UNAUTHENTICATED),
    })
}

/// What an enrolment grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Grant {
    pub person: String,
    pub role: Role,
    #[serde(default)]
    pub all: bool,
    #[serde(default)]
    pub townships: Vec<RecordId>,
    #[serde(default)]
    pub grids: Vec<RecordId>,
}

/// Creates an enrolment valid for `days`; returns the one-time code.
pub fn create_enrolment(
    db: &mut dyn Sql,
    by: &Staff,
    grant: &Grant,
    days: i64,
) -> Result<Result<String, Denied>, SyncError> {
    if by.role != Role::CountyAdmin {
        return Ok(Err(FORBIDDEN));
    }
    let valid_ids = grant.townships.iter().chain(&grant.grids).all(|i| registry::keys::is_record_id(i.as_str()));
    let empty = !grant.all && grant.townships.is_empty() && grant.grids.is_empty();
    if !valid_ids || empty || grant.person.trim().is_empty() || (grant.all && grant.role != Role::CountyAdmin) {
        return Ok(Err(BAD_REQUEST));
    }
    // 20 characters of Crockford base32: easy to read out and type.
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut b = [0u8; 20];
    rand::rng().fill_bytes(&mut b);
    let code: String = b.iter().map(|x| char::from(ALPHABET[usize::from(x % 32)])).collect();
    let now = now_ms();
    db.execute(
        "INSERT INTO enrolments (code_hash, person, role, scope_all, townships, grids, created_by, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            digest(&code).into(),
            grant.person.trim().into(),
            grant.role.key().into(),
            i64::from(grant.all).into(),
            join(&grant.townships).into(),
            join(&grant.grids).into(),
            by.id.as_str().into(),
            now.into(),
            (now + days * 86_400_000).into(),
        ],
    )?;
    Ok(Ok(code))
}

/// Normalises a typed code (spaces, dashes, lower case, O/I/L confusions).
pub fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect()
}

/// What a device gets for redeeming its code.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct Credentials {
    pub device_id: String,
    pub token: String,
    /// The token the device asks "must I wipe?" with, kept outside its
    /// encrypted store (it opens nothing else).
    pub wipe_check: String,
    pub person: String,
    pub role: Role,
    /// The county's shared secret for record ids (hex).
    pub county_secret: String,
    /// The scope granted: the whole county, or these townships and grids
    /// (the app's pickers and home screen keep to it).
    pub scope_all: bool,
    pub townships: Vec<RecordId>,
    pub grids: Vec<RecordId>,
}

/// Redeems an enrolment code for a device's own credentials.
pub fn redeem(
    db: &mut dyn Sql,
    code: &str,
    actor: [u8; 16],
    public_key: &[u8],
    county_secret: &[u8; 32],
) -> Result<Result<Credentials, Denied>, SyncError> {
    let now = now_ms();
    let code = normalise_code(code);
    if !db.query("SELECT 1 FROM devices WHERE actor = $1", &[actor.to_vec().into()])?.is_empty() {
        return Ok(Err(ACTOR_TAKEN));
    }
    // The code is claimed by the statement that reads it: of two
    // redemptions at once, the second finds it redeemed (on PostgreSQL it
    // waits for the first's row lock, then re-checks the condition), never
    // both a device.
    let rows = db.query(
        "UPDATE enrolments SET redeemed_at = $1
         WHERE code_hash = $2 AND redeemed_at IS NULL AND expires_at > $1
         RETURNING person, role, scope_all, townships, grids",
        &[now.into(), digest(&code).into()],
    )?;
    let Some(row) = rows.first() else { return Ok(Err(ENROLMENT_INVALID)) };
    let person = row[0].text().unwrap_or_default().to_owned();
    let role = Role::from_key(row[1].text().unwrap_or_default()).unwrap_or(Role::Surveyor);
    let device_id = random_token("d_")[..18].to_owned();
    let token = random_token("sjd_");
    let wipe_token = random_token("sjw_");
    db.execute(
        "INSERT INTO devices (id, actor, person, role, public_key, token_hash, scope_all, townships, grids, scope_version, created_at,
           token_expires_at, wipe_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        &[
            device_id.as_str().into(),
            actor.to_vec().into(),
            person.as_str().into(),
            role.key().into(),
            public_key.to_vec().into(),
            digest(&token).into(),
            row[2].clone(),
            row[3].clone(),
            row[4].clone(),
            1i64.into(),
            now.into(),
            (now + TOKEN_LIFE_MS).into(),
            digest(&wipe_token).into(),
        ],
    )?;
    db.execute(
        "UPDATE enrolments SET device_id = $1 WHERE code_hash = $2",
        &[device_id.as_str().into(), digest(&code).into()],
    )?;
    Ok(Ok(Credentials {
        device_id,
        token,
        wipe_check: wipe_token,
        person,
        role,
        county_secret: hex(county_secret),
        scope_all: row[2].int() != 0,
        townships: split(row[3].text().unwrap_or_default()),
        grids: split(row[4].text().unwrap_or_default()),
    }))
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
fn wiped(db: &mut dyn Sql, device_id: &str) -> Result<(), SyncError> {
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
    let rows = db.query(
        "SELECT id, actor, scope_all, townships, grids, scope_version, revoked_at, token_expires_at, next_token_hash,
                suspended_at, wipe_requested_at
         FROM devices WHERE token_hash = $1 OR next_token_hash = $1",
        &[hash.clone().into()],
    )?;
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
    let found = rows.into_iter().next().map(|r| {
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
    });
    if let Some((device, Some(DEVICE_WIPED))) = &found {
        wiped(db, &device.id)?;
    }
    Ok(found)
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

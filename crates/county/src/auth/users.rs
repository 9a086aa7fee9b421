//! The `users` table: staff accounts, their role, argon2 password hash and
//! townships.

use super::*;

/// The table as the first migration (`auth-v1`) made it; later columns
/// come from the migrations below it.
pub(super) fn create(_blob: &str) -> String {
    "CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    pw_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0
);"
    .into()
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

pub(crate) fn hash_password(password: &str) -> Result<String, SyncError> {
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

/// A new random password: 16 characters a person can type.
/// Drawn without bias from an alphabet without look-alikes (no 0/O, 1/l/I, B/8).
pub fn random_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect()
}

pub(crate) fn townships_of(db: &mut dyn Sql, id: &str) -> Result<Vec<RecordId>, SyncError> {
    let rows = db.query("SELECT townships FROM users WHERE id = $1", &[id.into()])?;
    Ok(rows.first().map(|r| split(r[0].text().unwrap_or_default())).unwrap_or_default())
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

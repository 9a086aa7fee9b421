//! The `sessions` table: a staff member's sign-in (12 hours), stored as the
//! hash of its token.

use super::*;

/// The table as the first migration (`auth-v1`) made it; later columns
/// come from the migrations below it.
pub(super) fn create(blob: &str) -> String {
    format!(
        "CREATE TABLE sessions (
    token_hash {blob} PRIMARY KEY,
    user_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);"
    )
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

//! The `enrolments` table: one-time codes an admin creates for a person and
//! a scope, redeemed by a device for its own credentials.

use super::*;

/// The table as the first migration (`auth-v1`) made it; later columns
/// come from the migrations below it.
pub(super) fn create(blob: &str) -> String {
    format!(
        "CREATE TABLE enrolments (
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
);"
    )
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

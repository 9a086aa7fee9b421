//! 会员优惠基地: the merchants that give members benefits, and how many
//! cards each checked, day by day (the console's 普惠制 report).
//!
//! A merchant's verifier is an offline web app (`/m/<token>`, served by the
//! server): it keeps the county's root key and signed lists, checks cards
//! with no network, and sends back only counts — how many cards it accepted
//! and refused on each day, never whose. The token in its link is the
//! merchant's only credential: derived from the county's secret (so the
//! console shows the same link again to reprint), stored as a keyed hash,
//! dead once the merchant is withdrawn.
//!
//! No HTTP here (`ops::merchants` and the server's pages are the edges).

use crate::error::CountyError;
use registry::keys::CountySecret;
use registry::model::RecordId;
use serde::{Deserialize, Serialize};
use sync::SyncError;
use sync::server::{Ctx, Sql, Val};

pub fn schema() -> String {
    "CREATE TABLE merchants (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        township TEXT NOT NULL,
        benefit TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        created_by TEXT NOT NULL,
        withdrawn_at BIGINT,
        withdrawn_by TEXT
    );
    CREATE TABLE merchant_counts (
        merchant_id TEXT NOT NULL,
        day TEXT NOT NULL,
        accepted BIGINT NOT NULL,
        refused BIGINT NOT NULL,
        PRIMARY KEY (merchant_id, day)
    );
    CREATE TABLE merchant_batches (
        merchant_id TEXT NOT NULL,
        batch TEXT NOT NULL,
        at BIGINT NOT NULL,
        PRIMARY KEY (merchant_id, batch)
    );"
    .into()
}

/// The longest name and benefit typed, in characters.
const MAX_TEXT: usize = 100;
/// The most checks one report may add to a day (a busy stall checks a few
/// hundred cards a day; a report past this is no stall's).
pub const MAX_PER_REPORT: i64 = 10_000;
/// How many days back a report may name (a verifier offline for a month
/// still reports its days).
pub const DAYS_BACK: i64 = 62;

fn refused(code: registry::message::Code) -> CountyError {
    CountyError::Denied(code)
}

/// A merchant's token (32 hex digits): keyed by the county's secret.
pub fn token(secret: &CountySecret, id: &str) -> String {
    sync::enrol::hex(&secret.search_token("merchant-verifier", id))
}

fn token_hash(ctx: &Ctx<'_>, token: &str) -> String {
    ctx.sealer.keyed_hash(&format!("merchant:{token}"))
}

/// What the county types to register a merchant.
#[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
pub struct NewMerchant {
    pub name: String,
    pub township: String,
    /// The benefit members get (e.g. "凭会员卡九折").
    pub benefit: String,
}

/// Registers a merchant; its id.
pub fn create(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    secret: &CountySecret,
    m: &NewMerchant,
    by: &str,
) -> Result<String, CountyError> {
    let (name, benefit) = (m.name.trim(), m.benefit.trim());
    if name.is_empty() || benefit.is_empty() || name.chars().count() > MAX_TEXT || benefit.chars().count() > MAX_TEXT {
        return Err(refused(crate::auth::MERCHANT_FIELDS));
    }
    if db.query("SELECT 1 FROM f_townships WHERE id = $1", &[m.township.as_str().into()])?.is_empty() {
        return Err(refused(crate::auth::NOT_FOUND_AREA));
    }
    let id = sync::enrol::hex(&rand::random::<[u8; 16]>());
    db.execute(
        "INSERT INTO merchants (id, token_hash, name, township, benefit, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            id.as_str().into(),
            token_hash(ctx, &token(secret, &id)).into(),
            name.into(),
            m.township.as_str().into(),
            benefit.into(),
            ctx.now_ms.into(),
            by.into(),
        ],
    )?;
    Ok(id)
}

/// One day's checks at one merchant.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ts_rs::TS)]
pub struct DayCount {
    /// `YYYY-MM-DD` (China Standard Time).
    pub day: String,
    pub accepted: i64,
    pub refused: i64,
}

/// A merchant as the console lists it.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct Merchant {
    pub id: String,
    /// The verifier link's token.
    pub token: String,
    pub name: String,
    pub township: RecordId,
    pub township_name: String,
    pub benefit: String,
    pub withdrawn: bool,
    /// Its days with checks, newest first (at most `DAYS_BACK`).
    pub counts: Vec<DayCount>,
    pub accepted: i64,
    pub refused: i64,
    /// The verifier's address and its QR code (SVG), filled by the edge
    /// that knows the server's address.
    pub url: String,
    pub qr_svg: String,
}

/// The merchants of `townships` (None: all), with their counts.
pub fn list(
    db: &mut dyn Sql,
    secret: &CountySecret,
    townships: Option<&[RecordId]>,
) -> Result<Vec<Merchant>, SyncError> {
    let rows = db.query(
        "SELECT m.id, m.name, m.township, t.name, m.benefit, m.withdrawn_at FROM merchants m
         LEFT JOIN f_townships t ON t.id = m.township ORDER BY m.township, m.name, m.id",
        &[],
    )?;
    let mut out = Vec::new();
    for r in rows {
        let township = RecordId::from(r[2].text().unwrap_or_default());
        if townships.is_some_and(|ts| !ts.contains(&township)) {
            continue;
        }
        let id = r[0].text().unwrap_or_default().to_owned();
        let counts: Vec<DayCount> = db
            .query(
                "SELECT day, accepted, refused FROM merchant_counts WHERE merchant_id = $1 ORDER BY day DESC LIMIT $2",
                &[id.as_str().into(), DAYS_BACK.into()],
            )?
            .into_iter()
            .map(|c| DayCount {
                day: c[0].text().unwrap_or_default().to_owned(),
                accepted: c[1].int(),
                refused: c[2].int(),
            })
            .collect();
        out.push(Merchant {
            token: token(secret, &id),
            accepted: counts.iter().map(|c| c.accepted).sum(),
            refused: counts.iter().map(|c| c.refused).sum(),
            id,
            name: r[1].text().unwrap_or_default().to_owned(),
            township,
            township_name: r[3].text().unwrap_or_default().to_owned(),
            benefit: r[4].text().unwrap_or_default().to_owned(),
            withdrawn: !matches!(r[5], Val::Null),
            counts,
            url: String::new(),
            qr_svg: String::new(),
        });
    }
    Ok(out)
}

/// Withdraws a merchant (its link stops working); its counts stay. The
/// merchant's township, for the caller's check.
pub fn withdraw(db: &mut dyn Sql, ctx: &Ctx<'_>, id: &str, by: &str) -> Result<RecordId, CountyError> {
    let rows = db.query("SELECT township FROM merchants WHERE id = $1", &[id.into()])?;
    let township =
        RecordId::from(rows.first().ok_or(refused(crate::auth::MERCHANT_UNKNOWN))?[0].text().unwrap_or_default());
    db.execute(
        "UPDATE merchants SET withdrawn_at = $1, withdrawn_by = $2 WHERE id = $3 AND withdrawn_at IS NULL",
        &[ctx.now_ms.into(), by.into(), id.into()],
    )?;
    Ok(township)
}

/// The live merchant a token names: (id, name, township name, benefit).
fn by_token(db: &mut dyn Sql, ctx: &Ctx<'_>, token: &str) -> Result<(String, String, String, String), CountyError> {
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(refused(crate::auth::MERCHANT_UNKNOWN));
    }
    let rows = db.query(
        "SELECT m.id, m.name, t.name, m.benefit FROM merchants m LEFT JOIN f_townships t ON t.id = m.township
         WHERE m.token_hash = $1 AND m.withdrawn_at IS NULL",
        &[token_hash(ctx, &token.to_ascii_lowercase()).into()],
    )?;
    let r = rows.first().ok_or(refused(crate::auth::MERCHANT_UNKNOWN))?;
    let text = |i: usize| r[i].text().unwrap_or_default().to_owned();
    Ok((text(0), text(1), text(2), text(3)))
}

/// What a merchant's verifier shows and pins.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct VerifierInfo {
    pub name: String,
    pub benefit: String,
    pub township: String,
    /// The county's card root public key (hex), which signs the lists.
    pub root_key: String,
}

pub fn info(db: &mut dyn Sql, ctx: &Ctx<'_>, root_key: &[u8; 32], token: &str) -> Result<VerifierInfo, CountyError> {
    let (_, name, township, benefit) = by_token(db, ctx, token)?;
    Ok(VerifierInfo { name, benefit, township, root_key: sync::enrol::hex(root_key) })
}

/// Adds a verifier's counts to its days. Days more than `DAYS_BACK` ago or
/// after tomorrow, negative counts, or more than `MAX_PER_REPORT` in one
/// report are refused whole (`MERCHANT_COUNTS`). A report names its
/// `batch` (the verifier sends a batch again, unchanged, until it is
/// answered): a batch already taken is answered again and counted once.
pub fn add_counts(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    token: &str,
    batch: Option<&str>,
    counts: &[DayCount],
) -> Result<(), CountyError> {
    let (id, ..) = by_token(db, ctx, token)?;
    if let Some(batch) = batch {
        if batch.is_empty() || batch.len() > 64 || !batch.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(refused(crate::auth::MERCHANT_COUNTS));
        }
        // Batches are kept as long as a report may name its days.
        let kept_from = ctx.now_ms - 2 * DAYS_BACK * 86_400_000;
        db.execute(
            "DELETE FROM merchant_batches WHERE merchant_id = $1 AND at < $2",
            &[id.as_str().into(), kept_from.into()],
        )?;
        let new = db.execute(
            "INSERT INTO merchant_batches (merchant_id, batch, at) VALUES ($1, $2, $3) ON CONFLICT (merchant_id, batch) DO NOTHING",
            &[id.as_str().into(), batch.into(), ctx.now_ms.into()],
        )?;
        if new == 0 {
            return Ok(());
        }
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let mut total = 0i64;
    for c in counts {
        let day = registry::Date::parse(&c.day, &fmt).map_err(|_| refused(crate::auth::MERCHANT_COUNTS))?;
        let age = (ctx.today - day).whole_days();
        if !(-1..=DAYS_BACK).contains(&age) || c.accepted < 0 || c.refused < 0 {
            return Err(refused(crate::auth::MERCHANT_COUNTS));
        }
        total = total.saturating_add(c.accepted).saturating_add(c.refused);
    }
    if total > MAX_PER_REPORT || counts.len() > 100 {
        return Err(refused(crate::auth::MERCHANT_COUNTS));
    }
    for c in counts {
        db.execute(
            "INSERT INTO merchant_counts (merchant_id, day, accepted, refused) VALUES ($1, $2, $3, $4)
             ON CONFLICT (merchant_id, day) DO UPDATE SET accepted = merchant_counts.accepted + excluded.accepted,
               refused = merchant_counts.refused + excluded.refused",
            &[id.as_str().into(), c.day.as_str().into(), c.accepted.into(), c.refused.into()],
        )?;
    }
    Ok(())
}

//! 由本人申请: a worker applies to join a union on their own, by scanning
//! the QR code on the union's poster, and the union's area confirms or
//! declines the application.
//!
//! The flow, and why it is shaped so:
//! - A poster names its union by a path segment only the county's secret
//!   makes ([`poster`]: the union's id and a keyed tag), so nobody prints a
//!   poster for a union of their choosing, and a device prints one offline.
//! - The form is checked as the app's member form is (the registry's
//!   `validate::check` on the member record it would make: the ID number's
//!   check digit, the phone), plus consent to the use of the data. An
//!   accepted application is kept sealed (its personal data never in the
//!   clear on disk) with a keyed token of the ID number that groups
//!   repeated applications, and the applicant gets a reference
//!   ([`Reference`]: 100 random bits) to follow it with.
//! - No answer depends on whether the person is a member already or has
//!   applied before: every accepted form gets a fresh reference and the
//!   same words. (Whether it was the same person is the confirming
//!   surveyor's business, at the door or on the phone.)
//! - Staff and devices of the union's area list what waits ([`page`]);
//!   confirming ([`decide`]) creates the member record at the county under
//!   the id the ID number derives (so the app's own registration of the
//!   same person is the same record), or merges into the record that is
//!   there, and settles every other waiting application of the same person
//!   with it; declining keeps a reason the status page shows.
//!
//! No HTTP here: the operations (`ops::applications`) and the pages
//! (`server`) are edges over these functions.

use crate::actor::Actor;
use crate::error::CountyError;
use registry::Date;
use registry::keys::CountySecret;
use registry::message::{Issue, Message};
use registry::model::{Education, Member, PoliticalStatus, Record, RecordId};
use serde::{Deserialize, Serialize};
use sync::SyncError;
use sync::server::{Ctx, Sql, Val};

pub fn schema(d: sync::server::Dialect) -> String {
    let blob = match d {
        sync::server::Dialect::Sqlite => "BLOB",
        sync::server::Dialect::Postgres => "BYTEA",
    };
    format!(
        "CREATE TABLE applications (
        id TEXT PRIMARY KEY,
        union_id TEXT NOT NULL,
        township TEXT NOT NULL,
        grid TEXT,
        status TEXT NOT NULL,
        sealed {blob} NOT NULL,
        person TEXT NOT NULL,
        reason TEXT,
        member_id TEXT,
        created_at BIGINT NOT NULL,
        decided_at BIGINT,
        decided_by TEXT
    );
    CREATE INDEX applications_area ON applications(status, township, created_at);
    CREATE INDEX applications_union ON applications(union_id, status);
    CREATE INDEX applications_person ON applications(person, status);"
    )
}

/// The most applications that may wait for one union: past it the form
/// says the union's queue is full (a flood fills one union's queue, not the
/// database).
pub const MAX_WAITING_PER_UNION: i64 = 300;

/// The longest name, employer and reason typed, in characters.
const MAX_TEXT: usize = 100;

use crate::auth::{
    APPLY_CHOOSE as CHOOSE, APPLY_CONSENT as CONSENT, APPLY_DECIDED as DECIDED, APPLY_INVALID as INVALID,
    APPLY_NOT_FOUND as NOT_FOUND, APPLY_PHONE as PHONE, APPLY_POSTER_UNKNOWN as POSTER_UNKNOWN,
    APPLY_QUEUE_FULL as QUEUE_FULL, APPLY_REASON as REASON, APPLY_TOO_LONG as TOO_LONG,
};

fn refused(code: registry::message::Code) -> CountyError {
    CountyError::Denied(code)
}

/// A form with mistakes: `APPLY_INVALID` with each field's issue.
fn invalid(issues: Vec<Issue>) -> CountyError {
    CountyError::Invalid { code: INVALID.code, message: Message::new(INVALID.zh, INVALID.en), issues }
}

/// What the applicant types.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, ts_rs::TS)]
pub struct Applicant {
    pub name: String,
    pub resident_id: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub employer_name: String,
    #[serde(default)]
    pub ethnicity: String,
    /// `Education` key.
    #[serde(default)]
    pub education: String,
    /// `PoliticalStatus` key.
    #[serde(default)]
    pub political_status: String,
    /// 农民工
    #[serde(default)]
    pub migrant_worker: bool,
    /// 劳务派遣工
    #[serde(default)]
    pub dispatched_worker: bool,
    /// Agreed that the union keeps and uses these data to register them.
    #[serde(default)]
    pub consent: bool,
}

/// The union a poster names, as the form shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct PosterUnion {
    pub union_id: RecordId,
    pub name: String,
    pub township: String,
}

/// A live union's record (not dissolved by `today`).
fn live_union(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    id: &RecordId,
) -> Result<Option<registry::model::GrassrootsUnion>, SyncError> {
    Ok(match sync::server::record(db, ctx, id)? {
        Some(Record::Union(u)) if !registry::rules::dissolved(u.dissolved_on, ctx.today) => Some(u),
        _ => None,
    })
}

fn area_name(db: &mut dyn Sql, id: &RecordId) -> Result<String, SyncError> {
    Ok(db
        .query("SELECT name FROM f_townships WHERE id = $1", &[id.as_str().into()])?
        .first()
        .and_then(|r| r[0].text().map(str::to_owned))
        .unwrap_or_default())
}

/// The live union a poster segment names (`CountySecret::poster`), or
/// `APPLY_POSTER_UNKNOWN`.
fn union_of_poster(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    secret: &CountySecret,
    segment: &str,
) -> Result<(RecordId, registry::model::GrassrootsUnion), CountyError> {
    let union_id = secret.poster_union(segment).ok_or(refused(POSTER_UNKNOWN))?;
    let union = live_union(db, ctx, &union_id)?.ok_or(refused(POSTER_UNKNOWN))?;
    Ok((union_id, union))
}

/// The union a poster segment names, for the form's heading.
pub fn poster_info(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    secret: &CountySecret,
    segment: &str,
) -> Result<PosterUnion, CountyError> {
    let (union_id, u) = union_of_poster(db, ctx, secret, segment)?;
    let township = area_name(db, &u.place.township)?;
    Ok(PosterUnion { union_id, name: u.name, township })
}

/// The poster segment of a live union in `actor`'s area, with what the
/// poster shows; another area's union is `APPLY_POSTER_UNKNOWN`.
pub fn poster_for(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    secret: &CountySecret,
    actor: &Actor,
    union_id: &RecordId,
) -> Result<(String, PosterUnion), CountyError> {
    let u = live_union(db, ctx, union_id)?.ok_or(refused(POSTER_UNKNOWN))?;
    if !sees(actor, &u.place.township, u.place.grid.as_ref()) {
        return Err(refused(POSTER_UNKNOWN));
    }
    let township = area_name(db, &u.place.township)?;
    Ok((secret.poster(union_id), PosterUnion { union_id: union_id.clone(), name: u.name, township }))
}

/// The member record an application would make in `union` on `today`,
/// normalised and checked by the registry, or the issues the form shows.
fn member_of(
    a: &Applicant,
    union_id: &RecordId,
    union: &registry::model::GrassrootsUnion,
    today: Date,
) -> Result<Member, Vec<Issue>> {
    let mut issues = Vec::new();
    let too_long = |field: &str, v: &str, issues: &mut Vec<Issue>| {
        if v.chars().count() > MAX_TEXT {
            issues.push(TOO_LONG.error(field));
        }
    };
    too_long("name", &a.name, &mut issues);
    too_long("employer_name", &a.employer_name, &mut issues);
    too_long("ethnicity", &a.ethnicity, &mut issues);
    let education = Education::from_key(&a.education);
    if education.is_none() {
        issues.push(CHOOSE.error("education"));
    }
    let political_status = PoliticalStatus::from_key(&a.political_status);
    if political_status.is_none() {
        issues.push(CHOOSE.error("political_status"));
    }
    if !a.consent {
        issues.push(CONSENT.error("consent"));
    }
    let mut record = Record::Member(Member {
        name: a.name.trim().to_owned(),
        resident_id: a.resident_id.trim().to_owned(),
        sex: None,
        birth_date: None,
        ethnicity: a.ethnicity.trim().to_owned(),
        education: education.unwrap_or(Education::JuniorHigh),
        political_status: political_status.unwrap_or(PoliticalStatus::Masses),
        employer_id: None,
        employer_name: a.employer_name.trim().to_owned(),
        union_id: union_id.clone(),
        joined_on: today,
        card_number: None,
        card_expires: None,
        phone: Some(a.phone.trim().to_owned()).filter(|p| !p.is_empty()),
        migrant_worker: a.migrant_worker,
        dispatched_worker: a.dispatched_worker,
        place: union.place.clone(),
        left_on: None,
    });
    let checked = registry::validate::check(&mut record, today);
    issues.extend(checked.into_iter().filter(|i| i.severity == registry::message::Severity::Error));
    if a.phone.trim().is_empty() {
        issues.push(PHONE.error("phone"));
    }
    match record {
        Record::Member(m) if issues.is_empty() => Ok(m),
        _ => Err(issues),
    }
}

/// An applicant's reference: 20 characters of Crockford's base 32 (100
/// random bits) in groups of four, easy to read out on the phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference(pub String);

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

impl Reference {
    pub fn random() -> Reference {
        let mut text = String::new();
        for i in 0..20 {
            if i > 0 && i % 4 == 0 {
                text.push('-');
            }
            text.push(CROCKFORD[rand::random_range(0..32)] as char);
        }
        Reference(text)
    }

    /// A reference as typed: case, spaces and dashes aside, `O` read as 0
    /// and `I`/`L` as 1 (Crockford's rule); None if it cannot be one.
    pub fn parse(typed: &str) -> Option<Reference> {
        let mut chars = Vec::new();
        for c in typed.chars().filter(|c| !c.is_whitespace() && *c != '-') {
            let c = match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            if !CROCKFORD.contains(&(c as u8)) || !c.is_ascii() {
                return None;
            }
            chars.push(c);
        }
        if chars.len() != 20 {
            return None;
        }
        let groups: Vec<String> = chars.chunks(4).map(|g| g.iter().collect()).collect();
        Some(Reference(groups.join("-")))
    }

    /// The row's key: a keyed hash, so the table alone gives no reference.
    fn key(&self, ctx: &Ctx<'_>) -> String {
        ctx.sealer.keyed_hash(&format!("application:{}", self.0))
    }
}

/// Keeps an application from `poster`'s union, or says what is wrong with
/// the form. The answer is the same whoever the person is.
pub fn submit(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    secret: &CountySecret,
    segment: &str,
    a: &Applicant,
) -> Result<Reference, CountyError> {
    let (union_id, union) = union_of_poster(db, ctx, secret, segment)?;
    let m = member_of(a, &union_id, &union, ctx.today).map_err(invalid)?;
    let waiting = db.query(
        "SELECT count(*) FROM applications WHERE union_id = $1 AND status = 'pending'",
        &[union_id.as_str().into()],
    )?;
    if waiting.first().map_or(0, |r| r[0].int()) >= MAX_WAITING_PER_UNION {
        return Err(refused(QUEUE_FULL));
    }
    // Kept as checked: the ID number normalised, the phone trimmed.
    let kept = Applicant {
        name: m.name.clone(),
        resident_id: m.resident_id.clone(),
        phone: m.phone.clone().unwrap_or_default(),
        employer_name: m.employer_name.clone(),
        ethnicity: m.ethnicity.clone(),
        education: m.education.key().to_owned(),
        political_status: m.political_status.key().to_owned(),
        migrant_worker: m.migrant_worker,
        dispatched_worker: m.dispatched_worker,
        consent: true,
    };
    let reference = Reference::random();
    let key = reference.key(ctx);
    let plain = serde_json::to_vec(&kept).map_err(|e| SyncError::Server(e.to_string()))?;
    db.execute(
        "INSERT INTO applications (id, union_id, township, grid, status, sealed, person, created_at)
         VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7)",
        &[
            key.as_str().into(),
            union_id.as_str().into(),
            m.place.township.as_str().into(),
            m.place.grid.as_ref().map_or(Val::Null, |g| g.as_str().into()),
            Val::Blob(ctx.sealer.seal(&format!("application:{key}"), &plain)),
            person_token(ctx, &m.resident_id).into(),
            ctx.now_ms.into(),
        ],
    )?;
    Ok(reference)
}

/// The keyed token that groups one person's applications.
fn person_token(ctx: &Ctx<'_>, resident_id: &str) -> String {
    ctx.sealer.keyed_hash(&format!("applicant:{resident_id}"))
}

/// Where an application stands, as its applicant sees it: nothing about
/// the person beyond what they typed is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Standing {
    /// `pending`, `confirmed` or `declined`.
    pub status: String,
    pub union_name: String,
    /// Why it was declined.
    pub reason: Option<String>,
    /// The member holds a valid membership card (after confirmation).
    pub carded: bool,
    /// Days since 1970 (China Standard Time) it was made and decided.
    pub applied_on: String,
    pub decided_on: Option<String>,
}

fn day_text(ms: i64) -> String {
    let day = card::day_of(ms.div_euclid(1000));
    (time::macros::date!(1970 - 01 - 01) + time::Duration::days(i64::from(day))).to_string()
}

/// An application's standing by its reference.
pub fn standing(db: &mut dyn Sql, ctx: &Ctx<'_>, typed: &str) -> Result<Standing, CountyError> {
    let reference = Reference::parse(typed).ok_or(refused(NOT_FOUND))?;
    let rows = db.query(
        "SELECT a.status, a.reason, a.created_at, a.decided_at, u.name, m.card_serial, m.card_expires
         FROM applications a LEFT JOIN f_unions u ON u.id = a.union_id LEFT JOIN f_members m ON m.id = a.member_id
         WHERE a.id = $1",
        &[reference.key(ctx).into()],
    )?;
    let r = rows.first().ok_or(refused(NOT_FOUND))?;
    let serial = r[5].text();
    let revoked = match serial {
        Some(s) => !db.query("SELECT 1 FROM card_revocations WHERE serial = $1", &[s.into()])?.is_empty(),
        None => false,
    };
    let expires =
        r[6].text().and_then(|t| Date::parse(t, time::macros::format_description!("[year]-[month]-[day]")).ok());
    Ok(Standing {
        status: r[0].text().unwrap_or_default().to_owned(),
        union_name: r[4].text().unwrap_or_default().to_owned(),
        reason: r[1].text().map(str::to_owned),
        carded: registry::rules::card_valid(serial, expires, revoked, ctx.today),
        applied_on: day_text(r[2].int()),
        decided_on: match &r[3] {
            Val::Null => None,
            v => Some(day_text(v.int())),
        },
    })
}

/// A waiting application as the area's staff and devices see it: the ID
/// number masked (checked against the card in hand), the phone whole (to
/// call), whether the person is registered already, and how many other
/// applications of theirs wait.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Waiting {
    /// The application's id (not the applicant's reference).
    pub id: String,
    pub union_id: RecordId,
    pub union_name: String,
    pub township: RecordId,
    pub grid: Option<RecordId>,
    pub applied_at: i64,
    pub name: String,
    pub masked_id: String,
    pub phone: String,
    pub employer_name: String,
    pub migrant_worker: bool,
    pub dispatched_worker: bool,
    /// The member record the ID number derives exists (confirming merges).
    pub registered: bool,
    /// Other waiting applications of the same person.
    pub others: u64,
}

/// Does `actor` work where an application's union is?
pub fn sees(actor: &Actor, township: &RecordId, grid: Option<&RecordId>) -> bool {
    match actor {
        Actor::Staff(s) => s.sees().is_none_or(|ts| ts.contains(township)),
        Actor::Device(d) => {
            d.scope.all || d.scope.townships.contains(township) || grid.is_some_and(|g| d.scope.grids.contains(g))
        }
        Actor::Anonymous => false,
    }
}

fn open(ctx: &Ctx<'_>, id: &str, sealed: &Val) -> Result<Applicant, SyncError> {
    let Val::Blob(bytes) = sealed else { return Err(SyncError::Sealed(format!("application {id}"))) };
    let plain = ctx.sealer.open(&format!("application:{id}"), bytes)?;
    serde_json::from_slice(&plain).map_err(|e| SyncError::Sealed(format!("application {id}: {e}")))
}

/// The waiting applications `actor` may see, oldest first: `limit` after
/// the first `skip`, and how many wait in all.
pub fn page(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    secret: &CountySecret,
    actor: &Actor,
    skip: usize,
    limit: usize,
) -> Result<(Vec<Waiting>, usize), SyncError> {
    let rows = db.query(
        "SELECT a.id, a.union_id, a.township, a.grid, a.created_at, a.sealed, a.person, u.name
         FROM applications a LEFT JOIN f_unions u ON u.id = a.union_id
         WHERE a.status = 'pending' ORDER BY a.created_at, a.id",
        &[],
    )?;
    let mine: Vec<&Vec<Val>> = rows
        .iter()
        .filter(|r| {
            let grid = r[3].text().map(RecordId::from);
            sees(actor, &RecordId::from(r[2].text().unwrap_or_default()), grid.as_ref())
        })
        .collect();
    let total = mine.len();
    let mut out = Vec::new();
    for r in mine.into_iter().skip(skip).take(limit) {
        let id = r[0].text().unwrap_or_default().to_owned();
        let a = open(ctx, &id, &r[5])?;
        let person = r[6].text().unwrap_or_default();
        let others = rows.iter().filter(|o| o[6].text() == Some(person) && o[0].text() != Some(&id)).count() as u64;
        let member_id = secret.record_id(&format!("member:{}", a.resident_id));
        let registered =
            !db.query("SELECT 1 FROM docs WHERE id = $1 AND deleted = 0", &[member_id.as_str().into()])?.is_empty();
        out.push(Waiting {
            id,
            union_id: RecordId::from(r[1].text().unwrap_or_default()),
            union_name: r[7].text().unwrap_or_default().to_owned(),
            township: RecordId::from(r[2].text().unwrap_or_default()),
            grid: r[3].text().map(RecordId::from),
            applied_at: r[4].int(),
            name: a.name,
            masked_id: registry::privacy::mask_id(&a.resident_id),
            phone: a.phone,
            employer_name: a.employer_name,
            migrant_worker: a.migrant_worker,
            dispatched_worker: a.dispatched_worker,
            registered,
            others,
        });
    }
    Ok((out, total))
}

/// A decision on an application.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case", tag = "decision")]
pub enum Decision {
    /// The person was reached and is who the form says: register them.
    Confirm,
    /// Not registered, for this reason (the status page shows it).
    Decline { reason: String },
}

/// What a confirmation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Decided {
    /// The member record (created or merged into); none when declined.
    pub member_id: Option<RecordId>,
    /// The record was there already and took the application's news.
    pub merged: bool,
    /// Other waiting applications of the same person settled with it.
    pub settled_too: u64,
}

/// Decides an application `actor` may see. Confirming registers the
/// person at the county under the id their ID number derives: a new member
/// record, or the one there with the application's phone, employer and
/// groups (and, if they had left, rejoining this union today).
pub fn decide(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    secret: &CountySecret,
    actor: &Actor,
    id: &str,
    decision: &Decision,
) -> Result<Decided, CountyError> {
    let rows = db.query(
        "SELECT union_id, township, grid, status, sealed, person FROM applications WHERE id = $1",
        &[id.into()],
    )?;
    let r = rows.first().ok_or(refused(NOT_FOUND))?;
    let township = RecordId::from(r[1].text().unwrap_or_default());
    let grid = r[2].text().map(RecordId::from);
    if !sees(actor, &township, grid.as_ref()) {
        // Another area's application is no more there than a missing one.
        return Err(refused(NOT_FOUND));
    }
    if r[3].text() != Some("pending") {
        return Err(refused(DECIDED));
    }
    let by = actor.name().to_owned();
    let person = r[5].text().unwrap_or_default().to_owned();
    match decision {
        Decision::Decline { reason } => {
            let reason = reason.trim();
            if reason.is_empty() || reason.chars().count() > MAX_TEXT {
                return Err(refused(REASON));
            }
            db.execute(
                "UPDATE applications SET status = 'declined', reason = $1, decided_at = $2, decided_by = $3 WHERE id = $4",
                &[reason.into(), ctx.now_ms.into(), by.as_str().into(), id.into()],
            )?;
            Ok(Decided { member_id: None, merged: false, settled_too: 0 })
        }
        Decision::Confirm => {
            let a = open(ctx, id, &r[4])?;
            let union_id = RecordId::from(r[0].text().unwrap_or_default());
            let union = live_union(db, ctx, &union_id)?.ok_or(refused(POSTER_UNKNOWN))?;
            let m = member_of(&a, &union_id, &union, ctx.today).map_err(invalid)?;
            let member_id = secret.record_id(&format!("member:{}", m.resident_id));
            let merged = sync::server::record(db, ctx, &member_id)?.is_some();
            if merged {
                crate::decisions::county_edit(db, ctx, &member_id, &by, |r| {
                    if let Record::Member(old) = r {
                        merge(old, &m, ctx.today);
                    }
                })?;
            } else {
                crate::decisions::county_create_as(db, ctx, member_id.clone(), Record::Member(m), &by)?;
            }
            let settled = db.execute(
                "UPDATE applications SET status = 'confirmed', member_id = $1, decided_at = $2, decided_by = $3
                 WHERE status = 'pending' AND (id = $4 OR person = $5)",
                &[member_id.as_str().into(), ctx.now_ms.into(), by.as_str().into(), id.into(), person.as_str().into()],
            )?;
            Ok(Decided { member_id: Some(member_id), merged, settled_too: settled.saturating_sub(1) })
        }
    }
}

/// An application's news merged into the member's record: the phone,
/// employer and groups as the person now gives them; a member who had
/// left rejoins the application's union today. An active member stays in
/// their union (moving them is a transfer, not an application).
fn merge(old: &mut Member, new: &Member, today: Date) {
    old.phone = new.phone.clone().or(old.phone.take());
    if !new.employer_name.is_empty() {
        old.employer_name = new.employer_name.clone();
    }
    old.migrant_worker |= new.migrant_worker;
    old.dispatched_worker |= new.dispatched_worker;
    if !old.is_active(today) {
        old.left_on = None;
        old.union_id = new.union_id.clone();
        old.place = new.place.clone();
        old.joined_on = today;
    }
}

/// A union to print a poster for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ts_rs::TS)]
pub struct UnionChoice {
    pub id: RecordId,
    pub name: String,
}

/// The live unions of a township, by name: the unions a poster may be
/// printed for.
pub fn unions_of(db: &mut dyn Sql, township: &RecordId, today: Date) -> Result<Vec<UnionChoice>, SyncError> {
    Ok(sync::facts::live_unions(db, township, today)?.into_iter().map(|(id, name)| UnionChoice { id, name }).collect())
}

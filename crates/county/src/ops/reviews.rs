//! The county's review queues: conflicting values to settle, near
//! duplicates to merge or keep apart, kept credit codes to accept or send
//! back, and 三个清楚 of an area. Each lists only what the staff member's
//! townships hold, and refuses a decision on anything outside them.

use super::{Cx, Method, Operation};
use crate::actor::Allowed;
use crate::auth;
use crate::duplicates::{Decision, Pair};
use crate::error::CountyError;
use registry::model::{AreaLevel, Record, RecordId};
use serde::{Deserialize, Serialize};
use sync::server::{self, Sealer};

/// Is `township` one the actor sees?
fn sees(cx: &Cx<'_>, township: &str) -> bool {
    cx.actor.townships(Some(township)).is_some()
}

/// A record id from a request: well formed, else `BAD_REQUEST`.
fn record_id(id: &str) -> Result<RecordId, CountyError> {
    if registry::keys::is_record_id(id) { Ok(RecordId::from(id)) } else { Err(CountyError::bad_request()) }
}

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ShownValue {
    /// The value, personal numbers masked ([`registry::privacy`]).
    pub value: serde_json::Value,
    /// The device that wrote it, hex.
    pub device: String,
    pub winner: bool,
    /// A keyed hash the settle request names this value by (a masked value
    /// can still be chosen).
    pub choice: String,
}

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ShownConflict {
    pub field: String,
    pub values: Vec<ShownValue>,
}

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ConflictItem {
    pub id: RecordId,
    pub kind: Option<String>,
    pub township: String,
    pub name: Option<String>,
    pub conflicts: Vec<ShownConflict>,
}

/// A page of a review queue: its items, how many wait in all (of those the
/// caller sees), the page and its size.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Items<T> {
    pub items: Vec<T>,
    pub total: usize,
    pub page: u32,
    pub size: u32,
}

/// Which page of a queue (from 1; 50 a page unless asked; at most 200).
#[derive(Debug, Default, Deserialize, Serialize, ts_rs::TS)]
pub struct PageQuery {
    #[serde(default, deserialize_with = "super::de::opt_number")]
    pub page: Option<u32>,
    #[serde(default, deserialize_with = "super::de::opt_number")]
    pub size: Option<u32>,
}

impl PageQuery {
    /// (page, size, how many to skip).
    pub(crate) fn window(&self) -> (u32, u32, usize) {
        super::lists::window(self.page, self.size)
    }
}

fn choice(sealer: &Sealer, field: &str, value: &serde_json::Value) -> String {
    sealer.keyed_hash(&format!("conflict:{field}:{value}"))
}

fn shown(sealer: &Sealer, c: &store::Conflict) -> ShownConflict {
    let values = c
        .values
        .iter()
        .map(|v| {
            let text = match &v.value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            ShownValue {
                value: registry::privacy::mask_field(&c.field, &text).map_or(v.value.clone(), Into::into),
                device: v.device.clone(),
                winner: v.winner,
                choice: choice(sealer, &c.field, &v.value),
            }
        })
        .collect();
    ShownConflict { field: c.field.clone(), values }
}

/// `GET /api/console/conflicts`: records whose fields hold concurrent,
/// different values from several devices, with each value and who wrote it.
#[derive(Debug)]
pub struct Conflicts;

impl Operation for Conflicts {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/console/conflicts";
    type Request = PageQuery;
    type Response = Items<ConflictItem>;
    const ALLOWED: Allowed = Allowed::Staff;
    fn run(cx: &mut Cx<'_>, q: PageQuery) -> Result<Items<ConflictItem>, CountyError> {
        let (page, size, skip) = q.window();
        let mine: Vec<_> = crate::reviews::conflicted(cx.db)?.into_iter().filter(|r| sees(cx, &r.township)).collect();
        let total = mine.len();
        // Only the page's documents are opened.
        let mut items = Vec::new();
        for r in mine.into_iter().skip(skip).take(size as usize) {
            let Some((_, conflicts)) = crate::decisions::document_conflicts(cx.db, &cx.ctx, &r.id)? else { continue };
            let conflicts = conflicts.iter().map(|c| shown(&cx.county.sealer, c)).collect();
            items.push(ConflictItem { id: r.id, kind: r.kind, township: r.township, name: r.name, conflicts });
        }
        Ok(Items { items, total, page, size })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct SettleRequest {
    /// The record (from the path).
    pub id: String,
    pub field: String,
    /// The value chosen, as listed (fields that are not masked)...
    #[serde(default)]
    pub value: Option<serde_json::Value>,
    /// ...or its `choice` from the queue (any field).
    #[serde(default)]
    pub choice: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct Settled {
    pub id: String,
    pub field: String,
}

/// `POST /api/console/conflicts/{id}/settle`: a staff member of the
/// record's township (or a county admin) settles a field; devices receive
/// the settled value with their next pull.
#[derive(Debug)]
pub struct Settle;

impl Operation for Settle {
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/console/conflicts/{id}/settle";
    type Request = SettleRequest;
    type Response = Settled;
    const ALLOWED: Allowed = Allowed::Staff;
    fn run(cx: &mut Cx<'_>, req: SettleRequest) -> Result<Settled, CountyError> {
        let rid = record_id(&req.id)?;
        let township = crate::reviews::township_of(cx.db, &rid)?;
        if !sees(cx, &township) {
            return Err(auth::FORBIDDEN.into());
        }
        let value = match (&req.choice, &req.value) {
            (Some(asked), _) => {
                let Some((_, conflicts)) = crate::decisions::document_conflicts(cx.db, &cx.ctx, &rid)? else {
                    return Err(CountyError::bad_request());
                };
                conflicts
                    .iter()
                    .filter(|c| c.field == req.field)
                    .flat_map(|c| &c.values)
                    .find(|v| choice(&cx.county.sealer, &req.field, &v.value) == *asked)
                    .map(|v| v.value.clone())
                    .ok_or_else(CountyError::bad_request)?
            }
            (None, Some(value)) => value.clone(),
            (None, None) => return Err(CountyError::bad_request()),
        };
        let by = cx.actor.name().to_owned();
        crate::decisions::settle_conflict(cx.db, &cx.ctx, &rid, &req.field, &value, &by)?;
        Ok(Settled { id: req.id, field: req.field })
    }
}

/// `GET /api/console/duplicates`: pairs of records that may be one person
/// or entity, in the townships the staff member sees.
#[derive(Debug)]
pub struct Duplicates;

impl Operation for Duplicates {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/console/duplicates";
    type Request = PageQuery;
    type Response = Items<Pair>;
    const ALLOWED: Allowed = Allowed::Staff;
    fn run(cx: &mut Cx<'_>, q: PageQuery) -> Result<Items<Pair>, CountyError> {
        let townships = cx.actor.townships(None).ok_or(CountyError::Denied(auth::FORBIDDEN))?;
        let (page, size, skip) = q.window();
        let (items, total) = crate::duplicates::page(cx.db, &cx.ctx, &townships, skip, size as usize)?;
        Ok(Items { items, total, page, size })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct DuplicatesDecided {
    pub decision: String,
    pub keep: Option<RecordId>,
    /// How many other records a merge re-pointed.
    pub repointed: usize,
}

/// `POST /api/console/duplicates`: merge (both histories kept) or distinct.
#[derive(Debug)]
pub struct DecideDuplicates;

impl Operation for DecideDuplicates {
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/console/duplicates";
    type Request = Decision;
    type Response = DuplicatesDecided;
    const ALLOWED: Allowed = Allowed::Staff;
    fn run(cx: &mut Cx<'_>, req: Decision) -> Result<DuplicatesDecided, CountyError> {
        let staff = cx.actor.staff()?.clone();
        let repointed = crate::duplicates::decide(cx.db, &cx.ctx, &staff, &req)?;
        Ok(DuplicatesDecided { decision: req.decision, keep: req.keep, repointed })
    }
}

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct OverrideItem {
    pub id: RecordId,
    pub township: String,
    pub name: String,
    pub credit_code: Option<String>,
    pub reason: Option<String>,
}

/// `GET /api/console/overrides`: entities whose credit code fails its check
/// character and was kept with a surveyor's reason, awaiting the county.
#[derive(Debug)]
pub struct Overrides;

impl Operation for Overrides {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/console/overrides";
    type Request = PageQuery;
    type Response = Items<OverrideItem>;
    const ALLOWED: Allowed = Allowed::Staff;
    fn run(cx: &mut Cx<'_>, q: PageQuery) -> Result<Items<OverrideItem>, CountyError> {
        let (page, size, skip) = q.window();
        let mine: Vec<_> =
            crate::reviews::pending_overrides(cx.db, None)?.into_iter().filter(|p| sees(cx, &p.township)).collect();
        let total = mine.len();
        let mut items = Vec::new();
        for p in mine.into_iter().skip(skip).take(size as usize) {
            if let Some(Record::Entity(e)) = server::record(cx.db, &cx.ctx, &p.id)? {
                let credit_code = e.credit_code.map(|c| c.as_str().to_owned());
                items.push(OverrideItem {
                    id: p.id,
                    township: p.township,
                    name: e.name,
                    credit_code,
                    reason: p.reason,
                });
            }
        }
        Ok(Items { items, total, page, size })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct OverrideReview {
    /// The entity (from the path).
    pub id: String,
    /// `accept` (the code stands as registered) or `reject` (the field is
    /// to correct it).
    pub decision: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct Reviewed {
    pub id: String,
    pub decision: String,
}

/// `POST /api/console/overrides/{id}/review`: a county admin's review of a
/// kept credit code, recorded once; a rejected code goes back to the
/// device with the note, and returns to this queue once edited.
#[derive(Debug)]
pub struct ReviewOverride;

impl Operation for ReviewOverride {
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/console/overrides/{id}/review";
    type Request = OverrideReview;
    type Response = Reviewed;
    const ALLOWED: Allowed = Allowed::CountyAdmin;
    fn run(cx: &mut Cx<'_>, req: OverrideReview) -> Result<Reviewed, CountyError> {
        let id = record_id(&req.id)?;
        if !matches!(req.decision.as_str(), "accept" | "reject") {
            return Err(CountyError::bad_request());
        }
        if crate::reviews::pending_overrides(cx.db, Some(&id))?.is_empty() {
            return Err(auth::NOTHING_TO_REVIEW.into());
        }
        let by = cx.actor.name().to_owned();
        if req.decision == "reject" {
            crate::decisions::return_record(cx.db, &cx.ctx, &id, "credit_code_override", &req.note, &by)?;
        }
        crate::reviews::record(cx.db, "credit_code_override", id.as_str(), &req.decision, &by, req.note.trim())?;
        Ok(Reviewed { id: req.id, decision: req.decision })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct AreaQuery {
    pub area: String,
}

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ThreeClearsAnswer {
    pub area: RecordId,
    pub name: String,
    pub level: AreaLevel,
    pub report: registry::rules::ThreeClears,
}

/// `GET /api/console/three-clears?area=`: 三个清楚 for a township, community
/// or grid the staff member may see.
#[derive(Debug)]
pub struct ThreeClears;

impl Operation for ThreeClears {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/console/three-clears";
    type Request = AreaQuery;
    type Response = ThreeClearsAnswer;
    const ALLOWED: Allowed = Allowed::Staff;
    fn run(cx: &mut Cx<'_>, q: AreaQuery) -> Result<ThreeClearsAnswer, CountyError> {
        let area = record_id(&q.area)?;
        let Some(Record::Area(a)) = server::record(cx.db, &cx.ctx, &area)? else {
            return Err(auth::NOT_FOUND_AREA.into());
        };
        let township = a.township.clone().unwrap_or_else(|| area.clone());
        if !sees(cx, township.as_str()) {
            return Err(auth::FORBIDDEN.into());
        }
        let report = sync::facts::three_clears(cx.db, &cx.ctx, &area, cx.ctx.today)?;
        Ok(ThreeClearsAnswer { area, name: a.name, level: a.level, report })
    }
}

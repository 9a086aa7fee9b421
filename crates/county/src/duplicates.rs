//! The near-duplicate review queue: pairs of members (same name and birth
//! date) or legal entities (same name, legal form aside, in one township)
//! that may be one person or entity registered twice with different keys —
//! a typo in an ID number, an entity registered without its credit code.
//! Staff compare the two side by side (ID numbers and phones masked) and
//! either merge them (`crate::decisions::merge_records`: both histories kept)
//! or mark them distinct. Each decision is recorded once in `reviews`.

use crate::auth::Staff;
use crate::db::now_ms;
use registry::model::RecordId;
use registry::privacy::mask_field;
use serde::{Deserialize, Serialize};
use sync::SyncError;
use sync::facts::{self, Townships};
use sync::server::{self, Ctx, Sql};

/// One side of a pair: its fields as text, personal data masked.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Side {
    pub id: RecordId,
    pub name: String,
    pub fields: Vec<(String, String)>,
}

/// A pair for review.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Pair {
    pub kind: String,
    pub township: Option<RecordId>,
    pub a: Side,
    pub b: Side,
    /// The fields whose values differ (the merge asks which to keep).
    pub differ: Vec<String>,
}

/// A record's fields as text, unmasked (compared) and as shown (personal
/// numbers masked by [`registry::privacy`]).
fn side(id: RecordId, record: &registry::model::Record) -> (Side, Vec<(String, String)>) {
    let raw: Vec<(String, String)> = store::doc::flatten(record)
        .into_iter()
        .map(|(k, v)| {
            let text = match store::doc::display(&v) {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, text)
        })
        .collect();
    let fields = raw.iter().map(|(k, v)| (k.clone(), mask_field(k, v).unwrap_or_else(|| v.clone()))).collect();
    (Side { id, name: record.display_name().to_owned(), fields }, raw)
}

/// The unreviewed pairs in `townships`, at most `limit`, read from their documents.
pub fn list(db: &mut dyn Sql, ctx: &Ctx<'_>, townships: &Townships, limit: usize) -> Result<Vec<Pair>, SyncError> {
    Ok(page(db, ctx, townships, 0, limit)?.0)
}

/// The most pairs the queue counts (a county with more has a problem the
/// queue cannot show whole anyway).
pub const MAX_PAIRS: usize = 100_000;

/// A page of the pairs awaiting a decision: `limit` after the first
/// `skip`, each read from its two documents, and how many pairs wait.
pub fn page(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    townships: &Townships,
    skip: usize,
    limit: usize,
) -> Result<(Vec<Pair>, usize), SyncError> {
    let pairs = facts::near_duplicates(db, townships, MAX_PAIRS)?;
    let total = pairs.len();
    let mut out = Vec::new();
    for p in pairs.into_iter().skip(skip).take(limit) {
        let (Some(a), Some(b)) = (server::record(db, ctx, &p.a)?, server::record(db, ctx, &p.b)?) else { continue };
        let ((a, a_raw), (b, b_raw)) = (side(p.a, &a), side(p.b, &b));
        // Compared unmasked: two ID numbers that differ only where the mask
        // hides them still differ.
        let mut differ: Vec<String> = a_raw
            .iter()
            .filter(|(k, v)| b_raw.iter().find(|(bk, _)| bk == k).is_none_or(|(_, bv)| bv != v))
            .map(|(k, _)| k.clone())
            .collect();
        differ.extend(b_raw.iter().filter(|(k, _)| !a_raw.iter().any(|(ak, _)| ak == k)).map(|(k, _)| k.clone()));
        out.push(Pair { kind: p.kind, township: p.townships[0].clone(), a, b, differ });
    }
    Ok((out, total))
}

/// A decision on a pair.
#[derive(Debug, Deserialize, ts_rs::TS)]
pub struct Decision {
    pub a: RecordId,
    pub b: RecordId,
    /// "merge" (into `keep`) or "distinct".
    pub decision: String,
    /// For a merge: the record kept (`a` or `b`).
    #[serde(default)]
    pub keep: Option<RecordId>,
    /// For a merge: fields whose value comes from the other record.
    #[serde(default)]
    pub take: Vec<String>,
    #[serde(default)]
    pub note: String,
}

fn refused(status: u16, code: &str, zh: &str, en: &str) -> SyncError {
    SyncError::Refused { status, code: code.into(), message: registry::message::Message::new(zh, en) }
}

/// Carries out a decision for `staff` (who must see both records'
/// townships): the pair must still be in the queue. Returns how many other
/// records a merge re-pointed.
pub fn decide(db: &mut dyn Sql, ctx: &Ctx<'_>, staff: &Staff, d: &Decision) -> Result<usize, SyncError> {
    let Some(pair) = facts::pending_pair(db, &d.a, &d.b)? else {
        return Err(refused(
            409,
            "NOTHING_TO_REVIEW",
            "这对记录不在待审核列表中",
            "This pair is not waiting for review",
        ));
    };
    let sees = |t: &Option<RecordId>| staff.sees().is_none_or(|mine| t.as_ref().is_some_and(|t| mine.contains(t)));
    if !pair.townships.iter().all(sees) {
        return Err(crate::auth::FORBIDDEN.into());
    }
    let moved = match (d.decision.as_str(), &d.keep) {
        ("distinct", _) => 0,
        ("merge", Some(keep)) if *keep == pair.a || *keep == pair.b => {
            let drop = if *keep == pair.a { &pair.b } else { &pair.a };
            crate::decisions::merge_records(db, ctx, keep, drop, &d.take, &staff.username)?
        }
        _ => {
            return Err(refused(
                400,
                "BAD_DECISION",
                "请选择合并（保留哪一条）或不是同一对象",
                "Choose merge (keeping which) or distinct",
            ));
        }
    };
    let decision = match &d.keep {
        Some(keep) if d.decision == "merge" => format!("merge:{keep}"),
        _ => d.decision.clone(),
    };
    db.execute(
        "INSERT INTO reviews (id, queue, decision, by_user, note, at) VALUES ($1, 'duplicates', $2, $3, $4, $5)",
        &[
            facts::pair_id(&pair.a, &pair.b).into(),
            decision.into(),
            staff.username.as_str().into(),
            d.note.trim().into(),
            now_ms().into(),
        ],
    )?;
    Ok(moved)
}

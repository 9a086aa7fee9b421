//! The quarantine: writes a device sent that could not be applied (rules
//! broken, out of scope, a revoked device's), kept for a county admin to
//! apply or dismiss, never dropped.

use super::{Cx, Method, Operation};
use crate::actor::Allowed;
use crate::error::CountyError;
use serde::{Deserialize, Serialize};
use sync::server;

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct QuarantineItem {
    pub id: i64,
    pub device: String,
    pub doc: String,
    pub code: String,
    pub detail: String,
    pub created_at: i64,
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct QuarantineList {
    pub items: Vec<QuarantineItem>,
    /// Entries waiting (of the code asked for), over every page.
    pub total: i64,
    /// Entries waiting by reason's code (for the filter).
    pub by_code: Vec<(String, i64)>,
    pub page: u32,
    pub size: u32,
}

#[derive(Debug, Default, Deserialize, Serialize, ts_rs::TS)]
pub struct QuarantineQuery {
    /// One reason's entries only (`OUT_OF_SCOPE`, `RULES_BROKEN`…).
    #[serde(default)]
    pub code: Option<String>,
    /// From 1.
    #[serde(default, deserialize_with = "super::de::opt_number")]
    pub page: Option<u32>,
    #[serde(default, deserialize_with = "super::de::opt_number")]
    pub size: Option<u32>,
}

/// `GET /api/quarantine`: what is waiting, oldest first, a page at a time
/// (50 unless asked; at most 200).
#[derive(Debug)]
pub struct ListQuarantine;

impl Operation for ListQuarantine {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/quarantine";
    type Request = QuarantineQuery;
    type Response = QuarantineList;
    const ALLOWED: Allowed = Allowed::CountyAdmin;
    fn run(cx: &mut Cx<'_>, q: QuarantineQuery) -> Result<QuarantineList, CountyError> {
        let (page, size, skip) = super::lists::window(q.page, q.size);
        let code = q.code.as_deref().map(str::trim).filter(|c| !c.is_empty());
        let (entries, total, by_code) = server::quarantine_page(cx.db, code, skip as i64, i64::from(size))?;
        let items = entries
            .into_iter()
            .map(|q| QuarantineItem {
                id: q.id,
                device: q.device_id,
                doc: q.doc_id.0,
                code: q.code,
                detail: q.detail,
                created_at: q.created_at,
            })
            .collect();
        Ok(QuarantineList { items, total, by_code, page, size })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct Resolve {
    /// The entry (from the path).
    #[serde(deserialize_with = "super::de::number")]
    pub id: i64,
    /// `apply` or `dismiss`.
    pub decision: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct Resolved {
    pub id: i64,
    pub decision: String,
}

/// `POST /api/quarantine/{id}/resolve`: the decision, recorded with who
/// made it.
#[derive(Debug)]
pub struct ResolveQuarantine;

impl Operation for ResolveQuarantine {
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/quarantine/{id}/resolve";
    type Request = Resolve;
    type Response = Resolved;
    const ALLOWED: Allowed = Allowed::CountyAdmin;
    fn run(cx: &mut Cx<'_>, req: Resolve) -> Result<Resolved, CountyError> {
        let by = cx.actor.name().to_owned();
        crate::decisions::resolve_quarantine(cx.db, &cx.ctx, req.id, &req.decision, &by, req.note.trim())?;
        Ok(Resolved { id: req.id, decision: req.decision })
    }
}

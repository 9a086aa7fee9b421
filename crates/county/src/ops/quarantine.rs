//! The quarantine: writes a device sent that could not be applied (rules
//! broken, out of scope, a revoked device's), kept for a county admin to
//! apply or dismiss, never dropped.

use super::{Cx, Method, Nothing, Operation};
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
}

/// `GET /api/quarantine`: what is waiting, oldest first.
#[derive(Debug)]
pub struct ListQuarantine;

impl Operation for ListQuarantine {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/quarantine";
    type Request = Nothing;
    type Response = QuarantineList;
    const ALLOWED: Allowed = Allowed::CountyAdmin;
    fn run(cx: &mut Cx<'_>, _: Nothing) -> Result<QuarantineList, CountyError> {
        let items = server::quarantine_list(cx.db, 1000)?
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
        Ok(QuarantineList { items })
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

//! The audit log for county admins.

use super::{Cx, Method, Operation};
use crate::actor::Allowed;
use crate::audit::AuditEntry;
use crate::error::CountyError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct AuditLog {
    pub entries: Vec<AuditEntry>,
    /// Entries of the kind asked for, in all.
    pub total: i64,
    pub page: u32,
    pub size: u32,
}

#[derive(Debug, Default, Deserialize, Serialize, ts_rs::TS)]
pub struct AuditQuery {
    /// `export`, `import`, `review`, `device` or `configure`; all when absent.
    #[serde(default)]
    pub kind: Option<String>,
    /// From 1.
    #[serde(default, deserialize_with = "super::de::opt_number")]
    pub page: Option<u32>,
    #[serde(default, deserialize_with = "super::de::opt_number")]
    pub size: Option<u32>,
}

/// `GET /api/console/audit`: newest first, a page at a time (50 unless
/// asked; at most 200), of one kind or all.
#[derive(Debug)]
pub struct Audit;

impl Operation for Audit {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/console/audit";
    type Request = AuditQuery;
    type Response = AuditLog;
    const ALLOWED: Allowed = Allowed::CountyAdmin;
    fn run(cx: &mut Cx<'_>, q: AuditQuery) -> Result<AuditLog, CountyError> {
        let kind = q.kind.as_deref().map(str::trim).filter(|k| !k.is_empty());
        if kind.is_some_and(|k| !crate::audit::KINDS.contains(&k)) {
            return Err(CountyError::bad_request());
        }
        let (page, size, offset) = super::lists::window(q.page, q.size);
        let (entries, total) = crate::audit::page(cx.db, offset, kind, size as usize)?;
        Ok(AuditLog { entries, total, page, size })
    }
}

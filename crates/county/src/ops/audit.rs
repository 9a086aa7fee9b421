//! The audit log for county admins.

use super::{Cx, Method, Nothing, Operation};
use crate::actor::Allowed;
use crate::audit::AuditEntry;
use crate::error::CountyError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct AuditLog {
    pub entries: Vec<AuditEntry>,
}

/// `GET /api/console/audit`: newest first, 300 entries.
#[derive(Debug)]
pub struct Audit;

impl Operation for Audit {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/console/audit";
    type Request = Nothing;
    type Response = AuditLog;
    const ALLOWED: Allowed = Allowed::CountyAdmin;
    fn run(cx: &mut Cx<'_>, _: Nothing) -> Result<AuditLog, CountyError> {
        Ok(AuditLog { entries: crate::audit::entries(cx.db, 300)? })
    }
}

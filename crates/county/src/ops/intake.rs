//! A county's own sheets brought in ([`crate::intake`]): the area tree,
//! the entity census and the four real-name ledgers, first as a dry run
//! (every row's verdict, nothing written), then imported — the file in
//! one transaction, written as the county, logged.
//!
//! Like the reconciliation of another office's list, a file is not a JSON
//! request: it passes the import door ([`County::intake`]), a county
//! admin admitted before a byte of it is parsed.

use super::County;
use crate::actor::{Actor, Allowed, Credentials};
use crate::error::CountyError;
use crate::intake::{self, Report, Sheet};
use serde::{Deserialize, Serialize};

/// What to do with the file.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ts_rs::TS)]
pub struct IntakeRequest {
    /// Which sheet the file is; guessed from its headers when absent.
    #[serde(default)]
    pub sheet: Option<Sheet>,
    /// Write the rows (an import); otherwise only report (a dry run).
    #[serde(default)]
    pub write: bool,
}

impl County {
    /// Plans (and, when asked, imports) a county's own sheet for whoever
    /// `creds` name (a county admin).
    pub fn intake(&self, creds: Credentials<'_>, req: &IntakeRequest, file: &[u8]) -> Result<Report, CountyError> {
        self.enter(Allowed::CountyAdmin, creds, |_| Ok(()))?;
        let (rows, encoding) = crate::reconcile::read_rows(file)?;
        self.enter(Allowed::CountyAdmin, creds, |cx| run(cx, req, rows, encoding, file))
    }

    /// [`County::intake`] as an actor already named (the CLI's).
    pub fn intake_as(&self, actor: &Actor, req: &IntakeRequest, file: &[u8]) -> Result<Report, CountyError> {
        Allowed::CountyAdmin.admits(actor)?;
        let (rows, encoding) = crate::reconcile::read_rows(file)?;
        self.enter_as(Allowed::CountyAdmin, actor, |cx| run(cx, req, rows, encoding, file))
    }
}

fn run(
    cx: &mut super::Cx<'_>,
    req: &IntakeRequest,
    rows: Vec<Vec<String>>,
    encoding: &str,
    file: &[u8],
) -> Result<Report, CountyError> {
    let secret = registry::keys::CountySecret::from_bytes(cx.county.keys.county_secret);
    let by = cx.actor.name().to_owned();
    let progress = crate::ledgers::Progress::default();
    let report = intake::run(cx.db, &cx.ctx, &secret, rows, encoding, req.sheet, &by, req.write, &progress)?;
    if req.write {
        use sha2::Digest;
        let c = &report.counts;
        let source = format!("{}（{}）", report.sheet.ledger().title(), report.sheet.ledger().key());
        let summary = serde_json::json!({
            "intake": report.sheet,
            "sha256": sync::enrol::hex(&sha2::Sha256::digest(file)),
            "counts": c,
        });
        cx.db.execute(
            "INSERT INTO imports (at, who, source, rows, report) VALUES ($1, $2, $3, $4, $5)",
            &[
                crate::db::now_ms().into(),
                by.as_str().into(),
                source.as_str().into(),
                ((c.create + c.update) as i64).into(),
                summary.to_string().as_str().into(),
            ],
        )?;
    }
    Ok(report)
}

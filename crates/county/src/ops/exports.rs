//! The four real-name ledgers as files (XLSX, CSV with a BOM, or a
//! printable HTML page), for the console (at once, or in the background
//! with a progress bar) and the CLI: one function, each export logged.
//!
//! A file is not a JSON answer, so exports are not an [`super::Operation`];
//! they pass the same door ([`County::export`] / [`County::export_as`]: the
//! actor named and admitted as staff before anything is read).

use super::{County, Cx};
use crate::actor::{Actor, Allowed, Credentials};
use crate::auth;
use crate::error::CountyError;
use crate::ledgers::{self, Ledger, Progress, Sink};
use registry::model::RecordId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use sync::facts::Townships;

/// What to export.
#[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
pub struct ExportRequest {
    /// `organisation`, `member`, `cadre` or `transfer`.
    pub ledger: String,
    /// `xlsx` (the default), `csv` or `html`.
    #[serde(default)]
    pub format: Option<String>,
    /// One township only (a township's staff get theirs in any case).
    #[serde(default)]
    pub township: Option<String>,
    /// Whole ID numbers and phones: county admins only.
    #[serde(default)]
    pub full_ids: bool,
}

/// A ledger's file.
#[derive(Debug)]
pub struct LedgerFile {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
    pub ledger: Ledger,
    pub format: String,
    /// Rows written.
    pub rows: usize,
}

impl LedgerFile {
    /// Its name in Chinese (`工会会员实名制登记表.xlsx`).
    pub fn file_name(&self) -> String {
        format!("{}.{}", self.ledger.title(), self.format)
    }

    /// Its name in ASCII, for clients that cannot read the other.
    pub fn ascii_name(&self) -> String {
        format!("{}.{}", self.ledger.key(), self.format)
    }
}

impl ExportRequest {
    /// The request's shape checked before any work: `BAD_REQUEST` else.
    pub fn check(&self) -> Result<(Ledger, String), CountyError> {
        let ledger = Ledger::from_key(&self.ledger).ok_or_else(CountyError::bad_request)?;
        let format = self.format.clone().unwrap_or_else(|| "xlsx".into());
        if !matches!(format.as_str(), "xlsx" | "csv" | "html")
            || self.township.as_deref().is_some_and(|t| !registry::keys::is_record_id(t))
        {
            return Err(CountyError::bad_request());
        }
        Ok((ledger, format))
    }
}

/// Writes the ledger for the actor (role and townships checked), logs the
/// export, and counts its progress.
fn write(cx: &mut Cx<'_>, req: &ExportRequest, progress: &Progress) -> Result<LedgerFile, CountyError> {
    let (ledger, format) = req.check()?;
    let staff = cx.actor.staff()?.clone();
    if req.full_ids && staff.role != auth::Role::CountyAdmin {
        return Err(auth::FORBIDDEN.into());
    }
    let only = match cx.actor.townships(req.township.as_deref()) {
        None => return Err(auth::FORBIDDEN.into()),
        Some(Townships::All) => None,
        Some(Townships::Only(ts)) => Some(ts),
    };
    let today = cx.ctx.today;
    let (mut sink, mime) = match format.as_str() {
        "csv" => (Sink::csv(ledger), "text/csv; charset=utf-8"),
        "html" => (Sink::html(ledger, today), "text/html; charset=utf-8"),
        _ => (Sink::xlsx(ledger)?, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    };
    let rows =
        ledgers::export_counted(cx.db, &cx.ctx, ledger, only.as_deref(), req.full_ids, today, &mut sink, progress)?;
    let filter = only.as_ref().map_or_else(
        || "all".to_owned(),
        |ts| format!("township={}", ts.iter().map(RecordId::as_str).collect::<Vec<_>>().join(",")),
    );
    ledgers::log_export(cx.db, &staff.username, ledger, &format, &filter, rows, req.full_ids)?;
    Ok(LedgerFile { bytes: sink.finish()?, mime, ledger, format, rows })
}

impl County {
    /// A ledger's file for whoever `creds` name (any staff member; their
    /// townships only; whole IDs for county admins alone).
    pub fn export(
        &self,
        creds: Credentials<'_>,
        req: &ExportRequest,
        progress: &Progress,
    ) -> Result<LedgerFile, CountyError> {
        self.enter(Allowed::Staff, creds, |cx| write(cx, req, progress))
    }

    /// [`County::export`] as an actor already named (the CLI's).
    pub fn export_as(
        &self,
        actor: &Actor,
        req: &ExportRequest,
        progress: &Progress,
    ) -> Result<LedgerFile, CountyError> {
        self.enter_as(Allowed::Staff, actor, |cx| write(cx, req, progress))
    }
}

/// An export running in the background, for the console's progress bar.
#[derive(Debug)]
pub struct ExportJob {
    owner: String,
    started_ms: i64,
    progress: Progress,
    result: Mutex<Option<Result<LedgerFile, CountyError>>>,
}

/// The exports in flight or waiting to be fetched, by random id; each
/// seen only by the staff member who started it.
#[derive(Debug, Default)]
pub struct ExportJobs(Mutex<HashMap<String, Arc<ExportJob>>>);

impl ExportJobs {
    fn get(&self, id: &str, owner: &str) -> Option<Arc<ExportJob>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(id).filter(|j| j.owner == owner).cloned()
    }
}

/// A background export started: its id, for its status and its file.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ExportStarted {
    pub id: String,
}

/// How far a background export has gone (`running`, `ready`, or `failed`
/// with its refusal).
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct ExportStatus {
    pub state: String,
    pub total: u64,
    pub done: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<registry::message::Message>,
}

impl County {
    /// Who a staff member's credentials name (the owner of their exports).
    fn staff_name(&self, creds: Credentials<'_>) -> Result<String, CountyError> {
        self.enter(Allowed::Staff, creds, |cx| Ok(cx.actor.name().to_owned()))
    }

    /// Registers a background export for whoever `creds` name (four at
    /// most at once each; files nobody fetched within the hour are
    /// dropped). The caller runs it with [`County::run_export_job`].
    pub fn start_export(
        &self,
        creds: Credentials<'_>,
        req: &ExportRequest,
    ) -> Result<(String, Arc<ExportJob>), CountyError> {
        req.check()?;
        let owner = self.staff_name(creds)?;
        let mut raw = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut raw);
        let id = auth::hex(&raw);
        let now = crate::db::now_ms();
        let job =
            Arc::new(ExportJob { owner, started_ms: now, progress: Progress::default(), result: Mutex::new(None) });
        let mut jobs = self.exports.0.lock().unwrap_or_else(|e| e.into_inner());
        jobs.retain(|_, j| now - j.started_ms < 3_600_000);
        if jobs.values().filter(|j| j.owner == job.owner).count() >= 4 {
            return Err(auth::EXPORTS_BUSY.into());
        }
        jobs.insert(id.clone(), job.clone());
        Ok((id, job))
    }

    /// Runs a registered export (on a thread of its own) and keeps its
    /// file, or its refusal, for [`County::export_file`].
    pub fn run_export_job(&self, creds: Credentials<'_>, req: &ExportRequest, job: &ExportJob) {
        let out = self.export(creds, req, &job.progress);
        *job.result.lock().unwrap_or_else(|e| e.into_inner()) = Some(out);
    }

    /// How far one of the caller's exports has gone.
    pub fn export_status(&self, creds: Credentials<'_>, id: &str) -> Result<ExportStatus, CountyError> {
        use registry::message::Coded;
        let owner = self.staff_name(creds)?;
        let job = self.exports.get(id, &owner).ok_or(auth::NOT_FOUND_EXPORT)?;
        let (total, done) = (job.progress.total.load(Relaxed), job.progress.done.load(Relaxed));
        let result = job.result.lock().unwrap_or_else(|e| e.into_inner());
        let (state, failed) = match result.as_ref() {
            None => ("running", None),
            Some(Ok(_)) => ("ready", None),
            Some(Err(e)) => ("failed", Some(e)),
        };
        let (code, message) = (failed.map(|e| e.code().to_owned()), failed.map(|e| e.message()));
        Ok(ExportStatus { state: state.into(), total, done, code, message })
    }

    /// The file of one of the caller's finished exports (once).
    pub fn export_file(&self, creds: Credentials<'_>, id: &str) -> Result<LedgerFile, CountyError> {
        let owner = self.staff_name(creds)?;
        let job = self.exports.get(id, &owner).ok_or(auth::NOT_FOUND_EXPORT)?;
        let taken = job.result.lock().unwrap_or_else(|e| e.into_inner()).take();
        let out = taken.ok_or(auth::EXPORT_RUNNING)?;
        self.exports.0.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
        out
    }
}

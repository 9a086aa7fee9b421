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
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
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
    let mut sink = match format.as_str() {
        "csv" => Sink::csv(ledger),
        "html" => Sink::html(ledger, today),
        _ => Sink::xlsx(ledger)?,
    };
    let mime = mime_of(&format);
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

/// An export running in the background, for the console's progress bar:
/// its row in `export_jobs` (any server on the database answers its status
/// and hands its file over), and the progress the running server counts.
#[derive(Debug)]
pub struct ExportJob {
    id: String,
    progress: Progress,
}

/// The exports in flight or waiting to be fetched live in the database
/// (`export_jobs`): the console may ask any server behind a load balancer
/// for a job another one runs. Each is seen only by the staff member who
/// started it; its file is sealed like the documents.
pub fn jobs_schema(d: sync::server::Dialect) -> String {
    let blob = match d {
        sync::server::Dialect::Sqlite => "BLOB",
        sync::server::Dialect::Postgres => "BYTEA",
    };
    format!(
        "CREATE TABLE export_jobs (id TEXT PRIMARY KEY, owner TEXT NOT NULL, started_ms BIGINT NOT NULL,
           total BIGINT NOT NULL, done BIGINT NOT NULL, state TEXT NOT NULL, code TEXT, message TEXT,
           status BIGINT, sealed {blob}, ledger TEXT NOT NULL, format TEXT NOT NULL, rows BIGINT);
         CREATE INDEX export_jobs_owner ON export_jobs (owner, started_ms);"
    )
}

/// A job's file or its refusal is kept this long for its owner to fetch.
const KEPT_MS: i64 = 3_600_000;

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
        let (ledger, format) = req.check()?;
        let owner = self.staff_name(creds)?;
        let mut raw = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut raw);
        let id = auth::hex(&raw);
        let now = crate::db::now_ms();
        self.db.tx_with(|db| {
            db.execute("DELETE FROM export_jobs WHERE started_ms < $1", &[(now - KEPT_MS).into()])?;
            let mine = db.query("SELECT count(*) FROM export_jobs WHERE owner = $1", &[owner.as_str().into()])?;
            if mine.first().map_or(0, |r| r[0].int()) >= 4 {
                return Err(CountyError::from(auth::EXPORTS_BUSY));
            }
            db.execute(
                "INSERT INTO export_jobs (id, owner, started_ms, total, done, state, ledger, format)
                 VALUES ($1, $2, $3, 0, 0, 'running', $4, $5)",
                &[id.as_str().into(), owner.as_str().into(), now.into(), ledger.key().into(), format.as_str().into()],
            )?;
            Ok(())
        })?;
        Ok((id.clone(), Arc::new(ExportJob { id, progress: Progress::default() })))
    }

    /// Runs a registered export (on a thread of its own), telling its row
    /// how far it has gone as it goes, and keeps its file (sealed), or its
    /// refusal, for [`County::export_file`].
    pub fn run_export_job(&self, creds: Credentials<'_>, req: &ExportRequest, job: &ExportJob) {
        let tell = |total: u64, done: u64| {
            let _ = self.db.tx(|db| {
                db.execute(
                    "UPDATE export_jobs SET total = $1, done = $2 WHERE id = $3 AND state = 'running'",
                    &[(total as i64).into(), (done as i64).into(), job.id.as_str().into()],
                )
            });
        };
        let out = job.progress.told_while(tell, || self.export(creds, req, &job.progress));
        let (total, done) = (job.progress.total.load(Relaxed) as i64, job.progress.done.load(Relaxed) as i64);
        let id = job.id.as_str();
        let kept = self.db.tx(|db| match &out {
            Ok(file) => db.execute(
                "UPDATE export_jobs SET state = 'ready', total = $1, done = $2, sealed = $3, rows = $4 WHERE id = $5",
                &[
                    total.into(),
                    done.into(),
                    self.sealer.seal(&format!("export:{id}"), &file.bytes).into(),
                    (file.rows as i64).into(),
                    id.into(),
                ],
            ),
            Err(e) => {
                use registry::message::Coded;
                let message = serde_json::to_string(&e.message()).unwrap_or_default();
                db.execute(
                    "UPDATE export_jobs SET state = 'failed', code = $1, message = $2, status = $3 WHERE id = $4",
                    &[e.code().into(), message.into(), i64::from(e.status()).into(), id.into()],
                )
            }
        });
        if kept.is_err() {
            // The file could not be kept (the database refused it): the job
            // ends as failed rather than running for ever.
            let _ = self.db.tx(|db| {
                db.execute(
                    "UPDATE export_jobs SET state = 'failed', code = 'SERVER_ERROR', status = 500 WHERE id = $1",
                    &[id.into()],
                )
            });
        }
    }

    /// One of the caller's jobs: (state, total, done, code, message, status).
    fn job_row(&self, owner: &str, id: &str) -> Result<Vec<sync::server::Val>, CountyError> {
        let rows = self.db.tx(|db| {
            db.query(
                "SELECT state, total, done, code, message, status FROM export_jobs
                 WHERE id = $1 AND owner = $2 AND started_ms >= $3",
                &[id.into(), owner.into(), (crate::db::now_ms() - KEPT_MS).into()],
            )
        })?;
        rows.into_iter().next().ok_or_else(|| auth::NOT_FOUND_EXPORT.into())
    }

    /// How far one of the caller's exports has gone.
    pub fn export_status(&self, creds: Credentials<'_>, id: &str) -> Result<ExportStatus, CountyError> {
        let owner = self.staff_name(creds)?;
        let row = self.job_row(&owner, id)?;
        let state = row[0].text().unwrap_or("failed").to_owned();
        let (total, done) = (row[1].int() as u64, row[2].int() as u64);
        let code = row[3].text().map(str::to_owned);
        let message = row[4].text().and_then(|m| serde_json::from_str(m).ok());
        Ok(ExportStatus { state, total, done, code, message })
    }

    /// The file of one of the caller's finished exports (once), or the
    /// refusal it ended with.
    pub fn export_file(&self, creds: Credentials<'_>, id: &str) -> Result<LedgerFile, CountyError> {
        let owner = self.staff_name(creds)?;
        // Taken in one transaction: two requests for it get it once.
        let row = self.db.tx_with(|db| {
            let rows = db.query(
                "SELECT state, code, message, status, sealed, ledger, format, rows FROM export_jobs
                 WHERE id = $1 AND owner = $2 AND started_ms >= $3",
                &[id.into(), owner.as_str().into(), (crate::db::now_ms() - KEPT_MS).into()],
            )?;
            let row = rows.into_iter().next().ok_or(auth::NOT_FOUND_EXPORT)?;
            if row[0].text() == Some("running") {
                return Err(CountyError::from(auth::EXPORT_RUNNING));
            }
            db.execute("DELETE FROM export_jobs WHERE id = $1", &[id.into()])?;
            Ok(row)
        })?;
        if row[0].text() != Some("ready") {
            let code = row[1].text().unwrap_or_default();
            return Err(match auth::ALL.iter().find(|d| d.code == code) {
                Some(d) => CountyError::Denied(**d),
                None => {
                    let message: Option<registry::message::Message> =
                        row[2].text().and_then(|m| serde_json::from_str(m).ok());
                    let detail = message.map_or_else(|| code.to_owned(), |m| m.en);
                    CountyError::Sync(sync::SyncError::Server(format!("the export failed: {detail}")))
                }
            });
        }
        let bytes = self.sealer.open(&format!("export:{id}"), &row[4].clone().into_blob())?;
        let ledger = row[5].text().and_then(Ledger::from_key).ok_or_else(CountyError::bad_request)?;
        let format = row[6].text().unwrap_or("xlsx").to_owned();
        let mime = mime_of(&format);
        Ok(LedgerFile { bytes, mime, ledger, format, rows: row[7].int() as usize })
    }
}

/// A ledger file's media type, by its format.
fn mime_of(format: &str) -> &'static str {
    match format {
        "csv" => "text/csv; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        _ => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
}

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
use crate::ledgers::Progress;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};

/// What to do with the file.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ts_rs::TS)]
pub struct IntakeRequest {
    /// Which sheet the file is; guessed from its headers when absent.
    #[serde(default)]
    pub sheet: Option<Sheet>,
    /// Write the rows (an import); otherwise only report (a dry run).
    #[serde(default)]
    pub write: bool,
    /// A name the caller chose for this run (32 to 64 random letters,
    /// digits, `-` or `_`), to follow its progress with
    /// [`County::intake_progress`] while it runs.
    #[serde(default)]
    pub ticket: Option<String>,
}

/// The runs under way by ticket: whose, and how far.
#[derive(Debug, Default)]
pub struct Intakes(Mutex<HashMap<String, (String, Arc<Progress>)>>);

/// A ticket's place in [`Intakes`] for as long as its run lasts.
struct Held<'a>(&'a Intakes, Option<String>);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if let Some(t) = &self.1 {
            self.0.0.lock().unwrap_or_else(|e| e.into_inner()).remove(t);
        }
    }
}

impl Intakes {
    /// Follows a run under `ticket` for `owner` (at most four at once
    /// each; a ticket in use by someone else, or malformed, is not
    /// followed and the run goes on unseen).
    fn hold(&self, ticket: Option<&str>, owner: &str) -> (Held<'_>, Arc<Progress>) {
        let progress = Arc::new(Progress::default());
        let ok = |t: &&str| {
            (MIN_TICKET..=64).contains(&t.len())
                && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        let Some(t) = ticket.filter(ok) else { return (Held(self, None), progress) };
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.contains_key(t) || map.values().filter(|(o, _)| o == owner).count() >= 4 {
            return (Held(self, None), progress);
        }
        map.insert(t.to_owned(), (owner.to_owned(), progress.clone()));
        (Held(self, Some(t.to_owned())), progress)
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct Ticket {
    pub ticket: String,
}

/// How far a run has gone: rows planned of rows in the file; `running`
/// false once it ended (or for a ticket unknown).
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct IntakeStatus {
    pub running: bool,
    pub total: u64,
    pub done: u64,
}

/// The shortest ticket followed: a ticket is its own proof (below), so it
/// must be unguessable — a UUID's 122 random bits, or 32 hex digits.
pub const MIN_TICKET: usize = 32;

/// A run's progress in the database is believed this long after it was
/// last told (the server running it may have died).
const TICKET_FRESH_MS: i64 = 10_000;

/// Runs' progress where several servers share a PostgreSQL database.
pub fn tickets_schema() -> String {
    "CREATE TABLE intake_tickets (ticket TEXT PRIMARY KEY, total BIGINT NOT NULL, done BIGINT NOT NULL,
       updated_ms BIGINT NOT NULL)"
        .into()
}

impl County {
    /// The progress bar's figures for the run under `ticket`. Answered from
    /// memory with no transaction and no sign-in: on SQLite the run holds
    /// the server's one connection for as long as it lasts, so nothing
    /// that needs the database could answer. The ticket is the proof
    /// instead — at least [`MIN_TICKET`] characters the admin's console
    /// drew at random and sent only with the import — and all it tells is
    /// two counts.
    ///
    /// Several servers on one PostgreSQL database (behind a load balancer)
    /// each run some imports: a run there also tells the database how far
    /// it has gone, every quarter second (`intake_tickets`, the ticket
    /// stored as a keyed hash), and a ticket this server does not run is
    /// looked up there. (SQLite has one server, which runs them all.)
    pub fn intake_progress(&self, ticket: &str) -> IntakeStatus {
        let idle = IntakeStatus { running: false, total: 0, done: 0 };
        if ticket.len() < MIN_TICKET {
            return idle;
        }
        if let Some((_, p)) = self.intakes.0.lock().unwrap_or_else(|e| e.into_inner()).get(ticket) {
            return IntakeStatus { running: true, total: p.total.load(Relaxed), done: p.done.load(Relaxed) };
        }
        if self.db.dialect() != sync::server::Dialect::Postgres {
            return idle;
        }
        let hash = self.sealer.keyed_hash(&format!("intake-ticket:{ticket}"));
        let fresh = crate::db::now_ms() - TICKET_FRESH_MS;
        let rows = self.db.tx(|db| {
            db.query(
                "SELECT total, done FROM intake_tickets WHERE ticket = $1 AND updated_ms > $2",
                &[hash.into(), fresh.into()],
            )
        });
        match rows.ok().and_then(|r| r.into_iter().next()) {
            Some(r) => IntakeStatus { running: true, total: r[0].int() as u64, done: r[1].int() as u64 },
            None => idle,
        }
    }

    /// Runs `work`, telling the database how far the run under `ticket`
    /// has gone every quarter second, then forgets it (PostgreSQL only;
    /// see [`County::intake_progress`]).
    fn published<T: Send>(&self, ticket: &str, progress: &Progress, work: impl FnOnce() -> T) -> T {
        let hash = self.sealer.keyed_hash(&format!("intake-ticket:{ticket}"));
        let tell = |total: u64, done: u64| {
            let _ = self.db.tx(|db| {
                db.execute(
                    "INSERT INTO intake_tickets (ticket, total, done, updated_ms) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (ticket) DO UPDATE SET total = excluded.total, done = excluded.done,
                       updated_ms = excluded.updated_ms",
                    &[hash.as_str().into(), (total as i64).into(), (done as i64).into(), crate::db::now_ms().into()],
                )?;
                // Tickets of runs that ended without saying so (a server killed).
                db.execute(
                    "DELETE FROM intake_tickets WHERE updated_ms < $1",
                    &[(crate::db::now_ms() - 3_600_000).into()],
                )
            });
        };
        let out = progress.told_while(tell, work);
        let _ = self.db.tx(|db| db.execute("DELETE FROM intake_tickets WHERE ticket = $1", &[hash.as_str().into()]));
        out
    }

    /// Plans (and, when asked, imports) a county's own sheet for whoever
    /// `creds` name (a county admin).
    pub fn intake(&self, creds: Credentials<'_>, req: &IntakeRequest, file: &[u8]) -> Result<Report, CountyError> {
        let owner = self.enter(Allowed::CountyAdmin, creds, |cx| Ok(cx.actor.name().to_owned()))?;
        let (held, progress) = self.intakes.hold(req.ticket.as_deref(), &owner);
        let (rows, encoding) = crate::reconcile::read_rows(file)?;
        let published = held.1.clone().filter(|_| self.db.dialect() == sync::server::Dialect::Postgres);
        let work = || self.enter(Allowed::CountyAdmin, creds, |cx| run(cx, req, rows, encoding, file, &progress));
        match &published {
            Some(ticket) => self.published(ticket, &progress, work),
            None => work(),
        }
    }

    /// [`County::intake`] as an actor already named (the CLI's).
    pub fn intake_as(&self, actor: &Actor, req: &IntakeRequest, file: &[u8]) -> Result<Report, CountyError> {
        Allowed::CountyAdmin.admits(actor)?;
        let (rows, encoding) = crate::reconcile::read_rows(file)?;
        let progress = Progress::default();
        self.enter_as(Allowed::CountyAdmin, actor, |cx| run(cx, req, rows, encoding, file, &progress))
    }
}

fn run(
    cx: &mut super::Cx<'_>,
    req: &IntakeRequest,
    rows: Vec<Vec<String>>,
    encoding: &str,
    file: &[u8],
    progress: &Progress,
) -> Result<Report, CountyError> {
    let secret = registry::keys::CountySecret::from_bytes(cx.county.keys.county_secret);
    let by = cx.actor.name().to_owned();
    let report = intake::run(cx.db, &cx.ctx, &secret, rows, encoding, req.sheet, &by, req.write, progress)?;
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

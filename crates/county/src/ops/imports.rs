//! Another office's entity list (统计局, 工商, 税务…) reconciled against the
//! census: read (CSV in UTF-8 or GBK, or XLSX), its columns guessed or
//! mapped, matched by credit code then name, and stored whole with its
//! report, for the console and the CLI alike.
//!
//! Like an export, a file is not a JSON request; imports pass the same door
//! ([`County::import`] / [`County::import_as`]): a county admin, admitted
//! before a byte of the file is parsed (parsing is work, and a crafted
//! file's risk, that no one else may cause).

use super::{County, Cx, Method, Operation};
use crate::actor::{Actor, Allowed, Credentials};
use crate::auth;
use crate::error::CountyError;
use crate::reconcile::{self, Mapping, Report};
use registry::model::{AreaLevel, Place, Record, RecordId};
use serde::{Deserialize, Serialize};

/// How to read the list.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ImportRequest {
    /// Whose list: 统计局, 工商, 税务…
    pub source: String,
    /// Only read the file and guess the columns; store nothing.
    #[serde(default)]
    pub preview: bool,
    /// The columns (from 0), when not guessed from the headers.
    #[serde(default)]
    pub name: Option<usize>,
    #[serde(default)]
    pub credit_code: Option<usize>,
    #[serde(default)]
    pub workers: Option<usize>,
    #[serde(default)]
    pub address: Option<usize>,
}

/// A preview (the columns as read and guessed) or the stored report.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ImportAnswer {
    Preview {
        headers: Vec<String>,
        guess: Option<Mapping>,
        encoding: &'static str,
        sample: Vec<Vec<String>>,
        rows: usize,
    },
    Stored {
        import: i64,
        report: Report,
    },
}

impl County {
    /// Reads, reconciles and stores a list for whoever `creds` name (a
    /// county admin).
    pub fn import(
        &self,
        creds: Credentials<'_>,
        req: &ImportRequest,
        file: &[u8],
    ) -> Result<ImportAnswer, CountyError> {
        self.enter(Allowed::CountyAdmin, creds, |_| Ok(()))?;
        let table = reconcile::read_table(file)?;
        self.enter(Allowed::CountyAdmin, creds, |cx| store(cx, req, table))
    }

    /// [`County::import`] as an actor already named (the CLI's).
    pub fn import_as(&self, actor: &Actor, req: &ImportRequest, file: &[u8]) -> Result<ImportAnswer, CountyError> {
        Allowed::CountyAdmin.admits(actor)?;
        let table = reconcile::read_table(file)?;
        self.enter_as(Allowed::CountyAdmin, actor, |cx| store(cx, req, table))
    }
}

fn store(cx: &mut Cx<'_>, req: &ImportRequest, table: reconcile::RawTable) -> Result<ImportAnswer, CountyError> {
    let guessed = reconcile::guess(&table.headers);
    if req.preview {
        let sample = table.rows.iter().take(5).cloned().collect();
        let rows = table.rows.len();
        return Ok(ImportAnswer::Preview {
            headers: table.headers,
            guess: guessed,
            encoding: table.encoding,
            sample,
            rows,
        });
    }
    let mapping = match req.name {
        Some(name) => Mapping { name, credit_code: req.credit_code, workers: req.workers, address: req.address },
        None => guessed.ok_or_else(|| CountyError::from(auth::IMPORT_MAPPING))?,
    };
    let report = reconcile::reconcile(cx.db, &cx.ctx, req.source.trim(), &table, &mapping)?;
    let import = reconcile::store(cx.db, cx.actor.name(), &report)?;
    Ok(ImportAnswer::Stored { import, report })
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct TasksRequest {
    /// The import (from the path).
    #[serde(deserialize_with = "super::de::number")]
    pub id: i64,
    pub township: RecordId,
    #[serde(default)]
    pub grid: Option<RecordId>,
}

/// `POST /api/console/reconcile/{id}/tasks`: the entities of an import the
/// census lacks become entities to visit in a township (and grid).
#[derive(Debug)]
pub struct ReconcileTasks;

impl Operation for ReconcileTasks {
    type Request = TasksRequest;
    type Response = reconcile::Tasks;
    const ALLOWED: Allowed = Allowed::CountyAdmin;
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/console/reconcile/{id}/tasks";
    fn run(cx: &mut Cx<'_>, req: TasksRequest) -> Result<reconcile::Tasks, CountyError> {
        if !std::iter::once(&req.township).chain(&req.grid).all(|i| registry::keys::is_record_id(i.as_str())) {
            return Err(CountyError::bad_request());
        }
        // The grid must lie in the township; its community comes with it.
        let mut place = Place { township: req.township.clone(), community: None, grid: None };
        match sync::server::record(cx.db, &cx.ctx, &req.township)? {
            Some(Record::Area(a)) if a.level == AreaLevel::Township => {}
            _ => return Err(auth::NOT_FOUND_AREA.into()),
        }
        if let Some(g) = &req.grid {
            match sync::server::record(cx.db, &cx.ctx, g)? {
                Some(Record::Area(a)) if a.level == AreaLevel::Grid && a.township.as_ref() == Some(&req.township) => {
                    place.community = a.parent.filter(|p| *p != req.township);
                    place.grid = Some(g.clone());
                }
                _ => return Err(auth::NOT_FOUND_AREA.into()),
            }
        }
        let secret = registry::keys::CountySecret::from_bytes(cx.county.keys.county_secret);
        let by = cx.actor.name().to_owned();
        Ok(reconcile::make_tasks(cx.db, &cx.ctx, &secret, req.id, place, &by)?)
    }
}

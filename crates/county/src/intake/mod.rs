//! Intake: a county starting from what it already keeps — its area tree,
//! its census of legal entities and its four real-name ledgers, in the
//! layouts Sanjian exports or the county's own (XLSX, or CSV in UTF-8 or
//! GBK).
//!
//! One file is one sheet. It is read ([`crate::reconcile::read_rows`]),
//! its header row and columns found ([`layout`]), and each row read into
//! the record it means ([`cells`] for the values, [`World`] for the names
//! that point at other records: a township, a union, an employer). Each
//! row then gets one verdict:
//!
//! - **create** — no record has its natural key (a member's resident ID,
//!   an entity's credit code; a union's, a cadre's or a transfer's name
//!   and union, as the ledgers identify them);
//! - **update** — one does, and the row changes some of its fields
//!   (listed); fields the sheet does not carry, and blank cells, keep
//!   what is stored (a blank says nothing; a new record gets the form's
//!   default);
//! - **unchanged** — one does, and the row changes nothing; so importing
//!   a file twice writes nothing the second time;
//! - **refused** — with the first problem's stable code and a message in
//!   Chinese and English: a value that does not read, a union that does
//!   not exist, the plan's rules ([`registry::validate`]) failing, the row
//!   repeating an earlier one.
//!
//! A dry run ([`plan`]) reports every row and writes nothing. An import
//! runs the same planner and writes each row that is not refused as it
//! goes, as the county (`COUNTY_ACTOR`, so every device that holds the
//! records receives them), inside the caller's one transaction: a file
//! is all in or all out. Rows are refused one by one; a write that fails
//! fails the file.

pub mod cells;
pub mod layout;
mod world;

use registry::message::{Code, Message};
use registry::model::{Record, RecordId};
use serde::{Deserialize, Serialize};
use sync::SyncError;
use sync::server::{Ctx, Sql};
pub use world::World;

/// The kind of sheet a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Sheet {
    /// The area tree: townships, communities, grids.
    Areas,
    /// 法人单位名录.
    Entities,
    /// 基层工会组织实名制登记表.
    Organisation,
    /// 工会会员实名制登记表.
    Member,
    /// 工会干部实名制登记表.
    Cadre,
    /// 工会会员组织关系接转登记表.
    Transfer,
}

impl Sheet {
    /// In the order a county brings them in: each after what it names.
    pub const ALL: &[Sheet] =
        &[Sheet::Areas, Sheet::Entities, Sheet::Organisation, Sheet::Member, Sheet::Cadre, Sheet::Transfer];

    /// The ledger Sanjian exports in this sheet's layout.
    pub fn ledger(self) -> crate::ledgers::Ledger {
        use crate::ledgers::Ledger;
        match self {
            Sheet::Areas => Ledger::Area,
            Sheet::Entities => Ledger::Entity,
            Sheet::Organisation => Ledger::Organisation,
            Sheet::Member => Ledger::Member,
            Sheet::Cadre => Ledger::Cadre,
            Sheet::Transfer => Ledger::Transfer,
        }
    }

    /// Title words that name this sheet (compared as name keys).
    pub fn titles(self) -> &'static [&'static str] {
        match self {
            Sheet::Areas => &["网格"],
            Sheet::Entities => &["法人单位"],
            Sheet::Organisation => &["基层工会组织"],
            Sheet::Member => &["会员实名制"],
            Sheet::Cadre => &["干部实名制"],
            Sheet::Transfer => &["接转"],
        }
    }
}

/// What becomes of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Unchanged,
    Refused,
}

/// One row's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct RowReport {
    /// The row's line in the file (1 = the first line, as a spreadsheet
    /// numbers them).
    pub line: usize,
    /// The name on the row (a person's, a union's, an area's).
    pub name: String,
    pub action: Action,
    /// For an update: the fields the row changes.
    pub fields: Vec<String>,
    /// For a refusal: why, as a stable code and a message.
    pub code: Option<String>,
    pub message: Option<Message>,
    /// Things the row names that did not resolve and were left out (an
    /// employer not in the census, a covered entity not found).
    pub notes: Vec<Message>,
}

/// How many rows of each verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Counts {
    pub create: usize,
    pub update: usize,
    pub unchanged: usize,
    pub refused: usize,
}

/// A column as found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Column {
    pub field: String,
    pub header: String,
    /// From 0.
    pub column: usize,
}

/// The most row verdicts a report lists in full (refusals first); the
/// counts always cover every row.
pub const REPORT_ROWS: usize = 2000;

/// A dry run's or an import's report.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Report {
    pub sheet: Sheet,
    /// utf-8, gbk or xlsx.
    pub encoding: String,
    /// The header row's line.
    pub header_line: usize,
    pub columns: Vec<Column>,
    /// Headers no field took: not imported.
    pub ignored: Vec<String>,
    pub counts: Counts,
    /// Verdicts, refusals first, then by line; at most [`REPORT_ROWS`].
    pub rows: Vec<RowReport>,
    /// Verdicts not listed (the counts hold them).
    pub rows_left_out: usize,
    /// Whether the rows were written (an import) or only planned.
    pub written: bool,
}

/// A refusal of a whole file, with this file's detail.
pub(crate) fn refused_file(code: Code, zh: String, en: String) -> SyncError {
    SyncError::Refused { status: code.status, code: code.code.into(), message: Message::new(zh, en) }
}

/// Reads `bytes` as `sheet` (or the sheet the headers suggest), plans
/// every row and, when `write`, writes them as the county on behalf of
/// `by`. `progress` counts the rows done. The caller holds the
/// transaction.
#[allow(clippy::too_many_arguments)]
pub fn run(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    secret: &registry::keys::CountySecret,
    rows: Vec<Vec<String>>,
    encoding: &str,
    sheet: Option<Sheet>,
    by: &str,
    write: bool,
    progress: &crate::ledgers::Progress,
) -> Result<Report, SyncError> {
    use crate::auth::{IMPORT_EMPTY, IMPORT_MAPPING};
    let sheet = match sheet.or_else(|| layout::guess(&rows)) {
        Some(s) => s,
        None => {
            return Err(refused_file(
                IMPORT_MAPPING,
                "认不出这是哪种表：请在表头写明各列（如“姓名”“公民身份号码”“所在工会”），或选择表的种类".into(),
                "Cannot tell which sheet this is: name the columns in a header row (姓名, 公民身份号码, 所在工会…) or choose the sheet".into(),
            ));
        }
    };
    let Some(found) = layout::find(sheet, &rows) else {
        let need: Vec<&str> = layout::required(sheet)
            .iter()
            .filter_map(|f| layout::fields(sheet).iter().find(|(g, _)| g == f).map(|(_, names)| names[0]))
            .collect();
        return Err(refused_file(
            IMPORT_MAPPING,
            format!("表头中找不到必需的列：{}", need.join("、")),
            format!("The header row lacks a required column: {}", need.join(", ")),
        ));
    };
    if rows.len() <= found.header_row + 1 {
        return Err(SyncError::from(IMPORT_EMPTY));
    }
    let header = &rows[found.header_row];
    let columns = found
        .columns
        .iter()
        .map(|(f, c)| Column { field: (*f).into(), header: registry::names::normalise(&header[*c]), column: *c })
        .collect();
    let mut world = World::load(db, ctx, secret, sheet)?;
    progress.total.store((rows.len() - found.header_row - 1) as u64, std::sync::atomic::Ordering::Relaxed);
    let mut counts = Counts::default();
    let mut refusals = Vec::new();
    let mut others = Vec::new();
    world.prepare(&found, &rows[found.header_row + 1..]);
    for (i, row) in rows.iter().enumerate().skip(found.header_row + 1) {
        let line = i + 1;
        let (report, planned) = world.plan_row(db, ctx, line, &found, row)?;
        match report.action {
            Action::Create => counts.create += 1,
            Action::Update => counts.update += 1,
            Action::Unchanged => counts.unchanged += 1,
            Action::Refused => counts.refused += 1,
        }
        if write {
            for w in planned {
                world.write(db, ctx, w, by)?;
            }
        }
        progress.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if report.action == Action::Refused {
            refusals.push(report);
        } else {
            others.push(report);
        }
    }
    let total = refusals.len() + others.len();
    let mut listed = refusals;
    listed.extend(others);
    listed.truncate(REPORT_ROWS);
    Ok(Report {
        sheet,
        encoding: encoding.into(),
        header_line: found.header_row + 1,
        columns,
        ignored: found.ignored,
        counts,
        rows_left_out: total - listed.len(),
        rows: listed,
        written: write,
    })
}

/// A planned write.
#[derive(Debug)]
pub(crate) enum Write {
    Create(RecordId, Record),
    Update(RecordId, Record),
}

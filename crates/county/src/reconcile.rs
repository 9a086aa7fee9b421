//! Reconciliation with other offices' registers (统计、企业办、工商、税务):
//! their list of legal entities, as CSV (UTF-8 or GBK) or XLSX, read with a
//! column mapping, normalised (full-width to half-width, stray spaces),
//! checked row by row, and matched against the census — by credit code,
//! then by normalised name. The report lists what they have that we never
//! recorded, what we hold that they lack, and worker counts that differ.
//!
//! An import is all or nothing: a file that cannot be read as a table, or a
//! mapping that does not fit it, stores nothing; otherwise the list and its
//! report are stored in one transaction (`imports`).

use crate::db::now_ms;
use registry::ids::CreditCode;
use registry::model::{Record, RecordId, RecordKind};
use serde::Serialize;
use std::collections::HashMap;
use sync::SyncError;
use sync::server::{Ctx, Sql};

/// A refusal of the catalogue, saying more for this file.
fn refused(code: crate::auth::Denied, zh: String, en: String) -> SyncError {
    SyncError::Refused { status: code.status, code: code.code.into(), message: registry::message::Message::new(zh, en) }
}

/// A file read as a table: its header row and data rows, text cells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RawTable {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// utf-8, gbk or xlsx.
    pub encoding: &'static str,
}

pub use registry::names::{name_key, normalise};

fn csv_rows(text: &str) -> Result<Vec<Vec<String>>, SyncError> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                cell.push(c);
            }
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                line += 1;
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    if quoted {
        return Err(refused(
            crate::auth::IMPORT_UNREADABLE,
            format!("文件无法读取：第{line}行的引号没有闭合"),
            format!("The file cannot be read: a quote opened before line {line} is never closed"),
        ));
    }
    if !cell.is_empty() || !row.is_empty() {
        row.push(cell);
        rows.push(row);
    }
    rows.retain(|r| r.iter().any(|c| !c.trim().is_empty()));
    Ok(rows)
}

/// The most rows and columns an imported sheet may reach (an office's
/// list of entities is a few thousand rows of a dozen columns).
pub const MAX_ROWS: u32 = 200_000;
pub const MAX_COLUMNS: u32 = 256;

/// A sheet or file past [`MAX_ROWS`] or [`MAX_COLUMNS`].
fn too_large(zh: &str, en: &str) -> SyncError {
    refused(
        crate::auth::IMPORT_TOO_LARGE,
        format!("{zh}超出{MAX_ROWS}行或{MAX_COLUMNS}列，请拆分后再导入"),
        format!("{en} goes past {MAX_ROWS} rows or {MAX_COLUMNS} columns; split it and import the parts"),
    )
}

/// The first sheet of an XLSX file, cell by cell. Not through calamine's
/// `worksheet_range`, which allocates the rectangle between the outermost
/// cells (two cells far apart would ask for gigabytes): cells are streamed
/// and a cell past [`MAX_ROWS`] or [`MAX_COLUMNS`] refuses the file. A panic
/// inside calamine (fuzzing found one: a sheet dimension ending before it
/// starts) is a refusal too.
fn xlsx_rows(bytes: &[u8]) -> Result<Vec<Vec<String>>, SyncError> {
    use calamine::Reader;
    let unreadable = |e: &dyn std::fmt::Display| {
        refused(
            crate::auth::IMPORT_UNREADABLE,
            format!("XLSX文件无法读取：{e}"),
            format!("The XLSX file cannot be read: {e}"),
        )
    };
    let sheet_unreadable = |e: calamine::XlsxError| {
        refused(
            crate::auth::IMPORT_UNREADABLE,
            format!("XLSX工作表无法读取：{e}"),
            format!("The sheet cannot be read: {e}"),
        )
    };
    let read = || -> Result<std::collections::BTreeMap<u32, std::collections::BTreeMap<u32, String>>, SyncError> {
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
        let Some(first) = book.sheet_names().first().cloned() else {
            return Err(refused(
                crate::auth::IMPORT_UNREADABLE,
                "XLSX文件没有工作表".into(),
                "The XLSX file has no sheet".into(),
            ));
        };
        let mut reader = book.worksheet_cells_reader(&first).map_err(sheet_unreadable)?;
        let mut cells: std::collections::BTreeMap<u32, std::collections::BTreeMap<u32, String>> = Default::default();
        while let Some(cell) = reader.next_cell().map_err(sheet_unreadable)? {
            let (row, col) = cell.get_position();
            if row >= MAX_ROWS || col >= MAX_COLUMNS {
                return Err(too_large("工作表", "The sheet"));
            }
            let text = calamine::Data::from(cell.get_value().clone()).to_string();
            if !text.trim().is_empty() {
                cells.entry(row).or_default().insert(col, text);
            }
        }
        Ok(cells)
    };
    let cells = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read))
        .unwrap_or_else(|_| Err(unreadable(&"the file's structure is damaged")))?;
    // Rows and columns from the first ones holding anything, as a sheet
    // shows them; empty rows are left out.
    let first_col = cells.values().filter_map(|r| r.keys().next()).min().copied().unwrap_or(0);
    let width = cells.values().filter_map(|r| r.keys().next_back()).max().map_or(0, |c| c - first_col + 1);
    Ok(cells
        .into_values()
        .map(|r| {
            let mut row = vec![String::new(); width as usize];
            for (c, text) in r {
                row[(c - first_col) as usize] = text;
            }
            row
        })
        .collect())
}

/// Reads an uploaded file: XLSX (by its zip signature; the first sheet) or
/// CSV in UTF-8 (with or without a BOM) or GBK.
pub fn read_table(bytes: &[u8]) -> Result<RawTable, SyncError> {
    let (mut rows, encoding) = read_rows(bytes)?;
    if rows.len() < 2 {
        return Err(refused(crate::auth::IMPORT_EMPTY, "文件没有数据行".into(), "The file has no data rows".into()));
    }
    let headers: Vec<String> = rows.remove(0).iter().map(|h| normalise(h)).collect();
    Ok(RawTable { headers, rows, encoding })
}

/// The rows of an uploaded file as [`read_table`] reads it, every row
/// (title lines and the header row too), with the encoding found.
pub fn read_rows(bytes: &[u8]) -> Result<(Vec<Vec<String>>, &'static str), SyncError> {
    let (rows, encoding) = if bytes.starts_with(b"PK\x03\x04") {
        (xlsx_rows(bytes)?, "xlsx")
    } else {
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let (text, encoding) = match std::str::from_utf8(body) {
            Ok(t) => (t.to_owned(), "utf-8"),
            Err(_) => {
                let (t, _, bad) = encoding_rs::GBK.decode(body);
                if bad {
                    return Err(refused(
                        crate::auth::IMPORT_ENCODING,
                        "文件编码无法识别（应为UTF-8或GBK）".into(),
                        "The file's encoding is neither UTF-8 nor GBK".into(),
                    ));
                }
                (t.into_owned(), "gbk")
            }
        };
        (csv_rows(&text)?, encoding)
    };
    if rows.len() > MAX_ROWS as usize || rows.iter().any(|r| r.len() > MAX_COLUMNS as usize) {
        return Err(too_large("文件", "The file"));
    }
    Ok((rows, encoding))
}

/// Which column holds what (0-based).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Mapping {
    pub name: usize,
    #[serde(default)]
    pub credit_code: Option<usize>,
    #[serde(default)]
    pub workers: Option<usize>,
    #[serde(default)]
    pub address: Option<usize>,
}

/// A guess from the headers, for the mapping step.
pub fn guess(headers: &[String]) -> Option<Mapping> {
    let find = |words: &[&str]| headers.iter().position(|h| words.iter().any(|w| h.contains(w)));
    Some(Mapping {
        name: find(&["单位名称", "企业名称", "名称", "name"])?,
        credit_code: find(&["统一社会信用代码", "信用代码", "credit"]),
        workers: find(&["从业人员", "职工人数", "职工数", "人数", "workers"]),
        address: find(&["地址", "住所", "address"]),
    })
}

/// One row that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The row's line in the file (the header is line 1).
    pub line: usize,
    pub code: &'static str,
    pub detail: String,
}

/// An entity of their list, after reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Theirs {
    pub line: usize,
    pub name: String,
    pub credit_code: Option<String>,
    pub workers: Option<i64>,
    pub address: String,
}

/// A match with a census entity whose worker count differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub line: usize,
    pub id: RecordId,
    pub name: String,
    pub ours: i64,
    pub theirs: i64,
}

/// The reconciliation report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub source: String,
    pub encoding: &'static str,
    pub rows: usize,
    pub matched_by_code: usize,
    pub matched_by_name: usize,
    /// In their list, not in the census: to be visited.
    pub not_in_census: Vec<Theirs>,
    /// In the census (open), not in their list.
    pub not_in_theirs: Vec<(RecordId, String)>,
    pub worker_mismatches: Vec<Mismatch>,
    /// Rows left out: no name, a malformed credit code, a duplicate.
    pub problems: Vec<Problem>,
    /// Codes whose check character is wrong (kept, matched by name).
    pub bad_checksums: Vec<Problem>,
}

/// Reads their rows with the mapping and matches them against the census.
pub fn reconcile(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    source: &str,
    table: &RawTable,
    mapping: &Mapping,
) -> Result<Report, SyncError> {
    let width = table.headers.len();
    let cols = [Some(mapping.name), mapping.credit_code, mapping.workers, mapping.address];
    if cols.iter().flatten().any(|c| *c >= width) {
        return Err(refused(
            crate::auth::IMPORT_MAPPING,
            format!("列对应有误：文件只有{width}列"),
            format!("The column mapping does not fit: the file has {width} columns"),
        ));
    }
    let mut problems = Vec::new();
    let mut bad_checksums = Vec::new();
    let mut theirs: Vec<Theirs> = Vec::new();
    let mut seen_code: HashMap<String, usize> = HashMap::new();
    let mut seen_name: HashMap<String, usize> = HashMap::new();
    for (i, row) in table.rows.iter().enumerate() {
        let line = i + 2;
        let cell = |c: Option<usize>| c.and_then(|c| row.get(c)).map(|v| normalise(v)).unwrap_or_default();
        let name = cell(Some(mapping.name));
        if name.is_empty() {
            problems.push(Problem { line, code: crate::auth::NO_NAME.code, detail: String::new() });
            continue;
        }
        let raw_code = cell(mapping.credit_code);
        let credit_code = if raw_code.is_empty() {
            None
        } else {
            match CreditCode::parse(&raw_code) {
                Ok(c) => {
                    if !c.checksum_ok() {
                        bad_checksums.push(Problem {
                            line,
                            code: registry::ids::CREDIT_CODE_CHECKSUM.code,
                            detail: raw_code.clone(),
                        });
                    }
                    Some(c.as_str().to_owned())
                }
                Err(e) => {
                    problems.push(Problem { line, code: e.code(), detail: raw_code.clone() });
                    continue;
                }
            }
        };
        let workers = match cell(mapping.workers) {
            w if w.is_empty() => None,
            w => match w.trim_end_matches(".0").parse::<i64>() {
                Ok(n) if n >= 0 => Some(n),
                _ => {
                    problems.push(Problem { line, code: crate::auth::WORKERS_NOT_A_NUMBER.code, detail: w });
                    continue;
                }
            },
        };
        let key = name_key(&name);
        let earlier = credit_code.as_ref().and_then(|c| seen_code.get(c)).or_else(|| seen_name.get(&key));
        if let Some(first) = earlier {
            problems.push(Problem {
                line,
                code: crate::auth::DUPLICATE_ROW.code,
                detail: format!("{name} = line {first}"),
            });
            continue;
        }
        if let Some(c) = &credit_code {
            seen_code.insert(c.clone(), line);
        }
        seen_name.insert(key, line);
        theirs.push(Theirs { line, name, credit_code, workers, address: cell(mapping.address) });
    }
    // The census: every entity, by credit code and by name.
    let mut ours: Vec<(RecordId, String, Option<String>, i64, bool)> = Vec::new();
    let mut after: Option<RecordId> = None;
    loop {
        let page = sync::server::records_of_kind(db, ctx, RecordKind::Entity, after.as_ref(), 2000)?;
        for (id, r) in &page {
            if let Record::Entity(e) = r {
                ours.push((id.clone(), e.name.clone(), e.credit_code.clone(), e.workers, e.closed));
            }
        }
        match page.last() {
            Some((id, _)) if page.len() == 2000 => after = Some(id.clone()),
            _ => break,
        }
    }
    let by_code: HashMap<&str, usize> =
        ours.iter().enumerate().filter_map(|(i, o)| o.2.as_deref().map(|c| (c, i))).collect();
    let by_name: HashMap<String, usize> = ours.iter().enumerate().map(|(i, o)| (name_key(&o.1), i)).collect();
    let mut found = vec![false; ours.len()];
    let (mut matched_by_code, mut matched_by_name) = (0, 0);
    let mut not_in_census = Vec::new();
    let mut worker_mismatches = Vec::new();
    for t in &theirs {
        let hit = match t.credit_code.as_deref().and_then(|c| by_code.get(c)) {
            Some(i) => {
                matched_by_code += 1;
                Some(*i)
            }
            None => by_name.get(&name_key(&t.name)).inspect(|_| matched_by_name += 1).copied(),
        };
        match hit {
            Some(i) => {
                found[i] = true;
                if let Some(w) = t.workers.filter(|w| *w != ours[i].3) {
                    worker_mismatches.push(Mismatch {
                        line: t.line,
                        id: ours[i].0.clone(),
                        name: ours[i].1.clone(),
                        ours: ours[i].3,
                        theirs: w,
                    });
                }
            }
            None => not_in_census.push(t.clone()),
        }
    }
    let not_in_theirs =
        ours.iter().zip(&found).filter(|(o, f)| !**f && !o.4).map(|(o, _)| (o.0.clone(), o.1.clone())).collect();
    Ok(Report {
        source: source.to_owned(),
        encoding: table.encoding,
        rows: table.rows.len(),
        matched_by_code,
        matched_by_name,
        not_in_census,
        not_in_theirs,
        worker_mismatches,
        problems,
        bad_checksums,
    })
}

/// Stores an import: the source, who, the rows it read and the report.
pub fn store(db: &mut dyn Sql, who: &str, report: &Report) -> Result<i64, SyncError> {
    let text = serde_json::to_string(report).map_err(|e| SyncError::Server(e.to_string()))?;
    db.execute(
        "INSERT INTO imports (at, who, source, rows, report) VALUES ($1, $2, $3, $4, $5)",
        &[now_ms().into(), who.into(), report.source.as_str().into(), (report.rows as i64).into(), text.into()],
    )?;
    let id = db.query("SELECT MAX(id) FROM imports", &[])?;
    Ok(id[0][0].int())
}

/// The migration: the import log with each report.
pub fn schema(d: sync::server::Dialect) -> String {
    let serial = match d {
        sync::server::Dialect::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        sync::server::Dialect::Postgres => "BIGSERIAL PRIMARY KEY",
    };
    format!(
        "CREATE TABLE imports (id {serial}, at BIGINT NOT NULL, who TEXT NOT NULL, source TEXT NOT NULL,
           rows BIGINT NOT NULL, report TEXT NOT NULL)"
    )
}

/// What turning an import's unknown entities into visit tasks did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Tasks {
    pub created: usize,
    /// Already in the census (registered meanwhile under the same credit
    /// code) or already made into a task.
    pub skipped: usize,
}

/// Turns the entities of an import that the census lacks into entities to
/// visit in `township` (and `grid`): each is registered as the county (its
/// name, credit code, workers and address from their list, a note saying
/// where it came from), so it appears on that area's devices among the
/// entities not yet visited. Each line is made into a task once.
pub fn make_tasks(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    secret: &registry::keys::CountySecret,
    import: i64,
    place: registry::model::Place,
    by: &str,
) -> Result<Tasks, SyncError> {
    let rows = db.query("SELECT source, report FROM imports WHERE id = $1", &[import.into()])?;
    let Some(row) = rows.first() else {
        return Err(refused(crate::auth::IMPORT_NOT_FOUND, "没有这次名单比对".into(), "No such import".into()));
    };
    let source = row[0].text().unwrap_or_default().to_owned();
    let report: serde_json::Value = serde_json::from_str(row[1].text().unwrap_or("{}")).unwrap_or_default();
    let mut out = Tasks::default();
    for t in report["not_in_census"].as_array().into_iter().flatten() {
        let line = t["line"].as_i64().unwrap_or(0);
        let task = format!("{import}:{line}");
        if !db
            .query("SELECT 1 FROM reviews WHERE id = $1 AND queue = 'import_tasks'", &[task.as_str().into()])?
            .is_empty()
        {
            out.skipped += 1;
            continue;
        }
        let credit_code = t["credit_code"]
            .as_str()
            .and_then(|c| CreditCode::parse(c).ok())
            .filter(CreditCode::checksum_ok)
            .map(|c| c.as_str().to_owned());
        let workers = t["workers"].as_i64().unwrap_or(0).max(0);
        let entity = registry::model::LegalEntity {
            name: t["name"].as_str().unwrap_or_default().to_owned(),
            credit_code: credit_code.clone(),
            credit_code_override: None,
            unit_kind: registry::model::UnitKind::Other,
            ownership: registry::model::Ownership::Other,
            industry: registry::model::Industry::Other,
            address: t["address"].as_str().unwrap_or_default().to_owned(),
            place: place.clone(),
            workers,
            women_workers: 0,
            union_id: None,
            owner_name: None,
            contact_phone: None,
            closed: false,
            notes: format!(
                "来自{source}名单第{line}行，待上门核实 (from the {source} list, line {line}: to be visited)"
            ),
            photos: Default::default(),
        };
        let record = Record::Entity(entity);
        let id = match record.natural_key() {
            Some(key) => secret.record_id(&key),
            None => store::random_id(),
        };
        let exists = db.query("SELECT 1 FROM docs WHERE id = $1 AND deleted = 0", &[id.as_str().into()])?;
        if exists.is_empty() {
            crate::decisions::county_create_as(db, ctx, id, record, by)?;
            out.created += 1;
        } else {
            out.skipped += 1;
        }
        db.execute(
            "INSERT INTO reviews (id, queue, decision, by_user, note, at) VALUES ($1, 'import_tasks', 'task', $2, $3, $4)",
            &[task.as_str().into(), by.into(), place.township.as_str().into(), now_ms().into()],
        )?;
    }
    Ok(out)
}

//! The four real-name ledgers (实名制登记表) as the county reports them
//! upward: XLSX laid out like the paper forms (a title row, Chinese headers,
//! A4 landscape for print), CSV (UTF-8 with a BOM so Excel opens it) and a
//! printable HTML page (A4 landscape, headers repeated on every page).
//! Resident ID numbers and phones are masked unless the caller may see them
//! and asks; every export is logged (who, when, which ledger and filter).

use crate::db::now_ms;
use registry::Date;
use registry::model::{AreaLevel, Record, RecordId, RecordKind};
use std::collections::HashMap;
use sync::SyncError;
use sync::server::{Ctx, Sql};

/// Which ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ledger {
    Organisation,
    Member,
    Cadre,
    Transfer,
    /// 法人单位名录: the census of legal entities, with the union covering each.
    Entity,
    /// The area tree as a sheet: a row per township, community and grid
    /// (the template a new county fills in).
    Area,
}

impl Ledger {
    pub fn from_key(key: &str) -> Option<Ledger> {
        Some(match key {
            "organisation" | "union" => Ledger::Organisation,
            "member" => Ledger::Member,
            "cadre" => Ledger::Cadre,
            "transfer" => Ledger::Transfer,
            "entity" => Ledger::Entity,
            "area" => Ledger::Area,
            _ => return None,
        })
    }

    pub fn key(self) -> &'static str {
        match self {
            Ledger::Organisation => "organisation",
            Ledger::Member => "member",
            Ledger::Cadre => "cadre",
            Ledger::Transfer => "transfer",
            Ledger::Entity => "entity",
            Ledger::Area => "area",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Ledger::Organisation => "基层工会组织实名制登记表",
            // Every member record, with a status column: the title says so.
            Ledger::Member => "工会会员实名制登记表（含已离会会员，见“会籍状态”列）",
            Ledger::Cadre => "工会干部实名制登记表",
            Ledger::Transfer => "工会会员组织关系接转登记表",
            Ledger::Entity => "法人单位名录",
            Ledger::Area => "乡镇（街道）、社区（村）与网格",
        }
    }

    fn sheet(self) -> &'static str {
        match self {
            Ledger::Organisation => "基层工会",
            Ledger::Member => "会员",
            Ledger::Cadre => "工会干部",
            Ledger::Transfer => "接转",
            Ledger::Entity => "法人单位",
            Ledger::Area => "区域网格",
        }
    }

    fn kind(self) -> RecordKind {
        match self {
            Ledger::Organisation => RecordKind::Union,
            Ledger::Member => RecordKind::Member,
            Ledger::Cadre => RecordKind::Cadre,
            Ledger::Transfer => RecordKind::Transfer,
            Ledger::Entity => RecordKind::Entity,
            Ledger::Area => RecordKind::Area,
        }
    }

    pub fn headers(self) -> &'static [&'static str] {
        match self {
            Ledger::Organisation => &[
                "序号",
                "工会名称",
                "组建形式",
                "领域",
                "乡镇（街道）",
                "上级工会",
                "成立日期",
                "批复日期",
                "批复单位",
                "批复文号",
                "职工人数",
                "女职工人数",
                "女职工委员会",
                "经费审查委员会",
                "六有",
                "八有",
                "网格",
                "主席",
                "副主席",
                "会员人数",
                "覆盖单位数",
                "覆盖单位",
                "撤销日期",
            ],
            Ledger::Member => &[
                "序号",
                "姓名",
                "性别",
                "民族",
                "出生日期",
                "公民身份号码",
                "学历",
                "政治面貌",
                "工作单位",
                "所在工会",
                "入会日期",
                "会员卡号",
                "会员卡有效期至",
                "手机号码",
                "农民工",
                "劳务派遣工",
                "青年职工",
                "乡镇（街道）",
                "会籍状态（在册／已离会）",
            ],
            Ledger::Cadre => &[
                "序号",
                "姓名",
                "公民身份号码",
                "所在工会",
                "职务",
                "任职日期",
                "离任日期",
                "专兼职",
                "与企业负责人关系",
                "手机号码",
                "乡镇（街道）",
            ],
            Ledger::Transfer => {
                &["序号", "会员姓名", "转出工会", "转入工会", "接转日期", "接转原因", "备注", "乡镇（街道）"]
            }
            Ledger::Entity => &[
                "序号",
                "单位名称",
                "统一社会信用代码",
                "信用代码保留理由",
                "单位类型",
                "经济类型",
                "行业",
                "地址",
                "乡镇（街道）",
                "社区（村）",
                "网格",
                "职工人数",
                "女职工人数",
                "覆盖工会",
                "主要负责人",
                "联系电话",
                "已注销",
            ],
            Ledger::Area => &["序号", "乡镇（街道）", "乡镇类型", "社区（村）", "网格", "网格长", "网格员", "区划代码"],
        }
    }
}

pub use registry::privacy::{mask_id, mask_phone};

fn yes(b: bool) -> String {
    if b { "是" } else { "否" }.into()
}

fn d(x: Option<Date>) -> String {
    x.map(|d| d.to_string()).unwrap_or_default()
}

/// Where the rows go: CSV or XLSX, written as they come.
pub enum Sink {
    Csv(Vec<u8>),
    Html(Vec<u8>, Date),
    Xlsx(Box<rust_xlsxwriter::Workbook>, u32),
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Sink::Csv(_) => "Sink::Csv",
            Sink::Html(..) => "Sink::Html",
            Sink::Xlsx(..) => "Sink::Xlsx",
        })
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn xlsx_err(e: rust_xlsxwriter::XlsxError) -> SyncError {
    SyncError::Server(format!("xlsx: {e}"))
}

/// A cell that a spreadsheet would read as a formula (it starts with `=`,
/// `+`, `-`, `@`, a tab or a carriage return: a name typed at a door as
/// `=HYPERLINK(…)`) gets a leading apostrophe, so opening the CSV runs
/// nothing (OWASP's advice for CSV injection). XLSX cells are written as
/// typed strings, which no spreadsheet evaluates.
fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{cell}").into() } else { cell.into() }
}

fn csv_line<'a>(cells: impl Iterator<Item = &'a str>, out: &mut Vec<u8>) {
    let quoted: Vec<String> = cells
        .map(|c| {
            let c = inert(c);
            if c.contains([',', '"', '\n', '\r']) { format!("\"{}\"", c.replace('"', "\"\"")) } else { c.into_owned() }
        })
        .collect();
    out.extend_from_slice(quoted.join(",").as_bytes());
    out.extend_from_slice(b"\r\n");
}

impl Sink {
    /// A CSV file, UTF-8 with a BOM (Excel then reads the Chinese).
    pub fn csv(ledger: Ledger) -> Sink {
        let mut out = vec![0xEF, 0xBB, 0xBF];
        csv_line(ledger.headers().iter().copied(), &mut out);
        Sink::Csv(out)
    }

    /// A page to print: A4 landscape, the form's title, its headers repeated
    /// at the top of every printed page, the date printed at the bottom.
    pub fn html(ledger: Ledger, today: Date) -> Sink {
        let mut out = String::from("<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">");
        out += &format!("<title>{}</title>", ledger.title());
        out += "<style>@page { size: A4 landscape; margin: 12mm; } body { font-family: 'Noto Sans CJK SC', sans-serif; font-size: 9pt; } \
            h1 { text-align: center; font-size: 15pt; margin: 0 0 4mm; } table { border-collapse: collapse; width: 100%; } \
            th, td { border: 1px solid #000; padding: 1mm 1.5mm; } thead { display: table-header-group; } \
            tr { break-inside: avoid; } p.foot { margin-top: 3mm; text-align: right; }</style></head><body>";
        out += &format!("<h1>{}</h1><table><thead><tr>", ledger.title());
        for h in ledger.headers() {
            out += &format!("<th>{}</th>", escape(h));
        }
        out += "</tr></thead><tbody>\n";
        Sink::Html(out.into_bytes(), today)
    }

    /// An XLSX workbook in constant-memory mode (rows go to a temporary
    /// file as they are written): a merged title row, bold headers frozen
    /// under it, every cell text, A4 landscape, headers on every page.
    pub fn xlsx(ledger: Ledger) -> Result<Sink, SyncError> {
        use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet_with_constant_memory().map_err(xlsx_err)?;
        ws.set_name(ledger.sheet()).map_err(xlsx_err)?;
        let headers = ledger.headers();
        let last = (headers.len() - 1) as u16;
        for (c, h) in headers.iter().enumerate() {
            let width = if *h == "公民身份号码" {
                22.0
            } else if h.contains("工会") || h.contains("单位") {
                24.0
            } else {
                12.0
            };
            ws.set_column_width(c as u16, width).map_err(xlsx_err)?;
        }
        let title = Format::new().set_bold().set_font_size(16).set_align(FormatAlign::Center);
        let head =
            Format::new().set_bold().set_border(FormatBorder::Thin).set_align(FormatAlign::Center).set_text_wrap();
        ws.merge_range(0, 0, 0, last, ledger.title(), &title).map_err(xlsx_err)?;
        for (c, h) in headers.iter().enumerate() {
            ws.write_string_with_format(1, c as u16, *h, &head).map_err(xlsx_err)?;
        }
        ws.set_freeze_panes(2, 0).map_err(xlsx_err)?;
        ws.set_landscape();
        ws.set_paper_size(9);
        ws.set_repeat_rows(1, 1).map_err(xlsx_err)?;
        ws.set_print_fit_to_pages(1, 0);
        Ok(Sink::Xlsx(Box::new(wb), 2))
    }

    fn row(&mut self, row: &[String]) -> Result<(), SyncError> {
        match self {
            Sink::Csv(out) => csv_line(row.iter().map(String::as_str), out),
            Sink::Html(out, _) => {
                let mut line = String::from("<tr>");
                for c in row {
                    line += &format!("<td>{}</td>", escape(c));
                }
                line += "</tr>\n";
                out.extend_from_slice(line.as_bytes());
            }
            Sink::Xlsx(wb, next) => {
                let cell = rust_xlsxwriter::Format::new().set_border(rust_xlsxwriter::FormatBorder::Thin);
                let ws = wb.worksheet_from_index(0).map_err(xlsx_err)?;
                // Text, never numbers: an 18-digit ID must not become 1.1E+17.
                for (c, v) in row.iter().enumerate() {
                    ws.write_string_with_format(*next, c as u16, v, &cell).map_err(xlsx_err)?;
                }
                *next += 1;
            }
        }
        Ok(())
    }

    /// The file's bytes.
    pub fn finish(self) -> Result<Vec<u8>, SyncError> {
        match self {
            Sink::Csv(out) => Ok(out),
            Sink::Html(mut out, today) => {
                out.extend_from_slice(
                    format!("</tbody></table><p class=\"foot\">打印日期：{today}</p></body></html>\n").as_bytes(),
                );
                Ok(out)
            }
            Sink::Xlsx(mut wb, _) => wb.save_to_buffer().map_err(xlsx_err),
        }
    }
}

/// Writes the ledger's rows for the county or some townships into `sink`,
/// township by township (in name order) and by name within each, so memory
/// holds one township's rows at a time. IDs and phones are masked unless
/// `full` (the caller checks the role). Returns the number of rows.
pub fn export(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    ledger: Ledger,
    townships: Option<&[RecordId]>,
    full: bool,
    today: Date,
    sink: &mut Sink,
) -> Result<usize, SyncError> {
    export_counted(db, ctx, ledger, townships, full, today, sink, &Progress::default())
}

/// How far an export has gone: records to read, records read.
#[derive(Debug, Default)]
pub struct Progress {
    pub total: std::sync::atomic::AtomicU64,
    pub done: std::sync::atomic::AtomicU64,
}

impl Progress {
    /// Runs `work` on this thread while another calls `tell` with the
    /// counts (total, done) every quarter second, from the start until the
    /// work is over: how a long export or import tells the database how far
    /// it has gone, for servers that do not run it.
    pub fn told_while<T: Send>(&self, tell: impl Fn(u64, u64) + Sync, work: impl FnOnce() -> T) -> T {
        use std::sync::atomic::Ordering::Relaxed;
        let finished = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            let teller = s.spawn(|| {
                while !finished.load(Relaxed) {
                    tell(self.total.load(Relaxed), self.done.load(Relaxed));
                    std::thread::park_timeout(std::time::Duration::from_millis(250));
                }
            });
            let out = work();
            finished.store(true, Relaxed);
            teller.thread().unpark();
            out
        })
    }
}

/// [`export`], counting the records read into `progress` as it goes.
#[allow(clippy::too_many_arguments)]
pub fn export_counted(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    ledger: Ledger,
    townships: Option<&[RecordId]>,
    full: bool,
    today: Date,
    sink: &mut Sink,
    progress: &Progress,
) -> Result<usize, SyncError> {
    use std::sync::atomic::Ordering::Relaxed;
    let mut areas: HashMap<RecordId, String> = HashMap::new();
    sync::server::each_of_kind(db, ctx, RecordKind::Area, |id, r| {
        if let Record::Area(a) = r {
            areas.insert(id.clone(), a.name.clone());
        }
    })?;
    let mut unions: HashMap<RecordId, String> = HashMap::new();
    sync::server::each_of_kind(db, ctx, RecordKind::Union, |id, r| {
        if let Record::Union(u) = r {
            unions.insert(id.clone(), u.name.clone());
        }
    })?;
    let name = |id: Option<&RecordId>| id.and_then(|i| unions.get(i)).cloned().unwrap_or_default();
    let place_name = |id: Option<&RecordId>| id.and_then(|i| areas.get(i)).cloned().unwrap_or_default();
    // The organisation ledger's columns from other records: each union's
    // chair and vice-chairs in office, its active members, the entities it
    // covers.
    let mut officers: HashMap<RecordId, (Vec<String>, Vec<String>)> = HashMap::new();
    let mut covered: HashMap<RecordId, Vec<String>> = HashMap::new();
    let mut members_of: HashMap<RecordId, i64> = HashMap::new();
    if ledger == Ledger::Organisation {
        use registry::model::CadreRole;
        sync::server::each_of_kind(db, ctx, RecordKind::Cadre, |_, r| {
            if let Record::Cadre(c) = r
                && c.in_office(today)
            {
                let (chairs, vices) = officers.entry(c.union_id.clone()).or_default();
                match c.role {
                    CadreRole::Chair => chairs.push(c.name.clone()),
                    CadreRole::ViceChair => vices.push(c.name.clone()),
                    _ => {}
                }
            }
        })?;
        sync::server::each_of_kind(db, ctx, RecordKind::Entity, |_, r| {
            if let Record::Entity(e) = r
                && !e.closed
                && let Some(u) = &e.union_id
            {
                covered.entry(u.clone()).or_default().push(e.name.clone());
            }
        })?;
        let today_text = today.to_string();
        for r in db.query(
            "SELECT union_id, count(*) FROM f_members WHERE left_on IS NULL OR left_on > $1 GROUP BY union_id",
            &[today_text.as_str().into()],
        )? {
            members_of.insert(RecordId::from(r[0].text().unwrap_or_default()), r[1].int());
        }
        // In name order, so two servers holding the same records print
        // the same rows.
        for list in covered.values_mut() {
            list.sort();
        }
        for (chairs, vices) in officers.values_mut() {
            chairs.sort();
            vices.sort();
        }
    }
    let id_text = |s: &str| if full { s.to_owned() } else { mask_id(s) };
    let phone = |p: Option<&String>| p.map(|p| if full { p.clone() } else { mask_phone(p) }).unwrap_or_default();
    let mut townships = match townships {
        Some(ts) => ts.iter().cloned().map(Some).collect(),
        None => sync::server::townships_of_kind(db, ledger.kind())?,
    };
    // Known townships by name, then any the area tree lacks.
    townships.sort_by_key(|t| {
        let n = t.as_ref().and_then(|t| areas.get(t)).cloned();
        (n.is_none(), n, t.clone())
    });
    let mut total = 0;
    for t in &townships {
        let rows = match t {
            Some(t) => db.query(
                "SELECT count(*) FROM docs WHERE kind = $1 AND deleted = 0 AND township = $2",
                &[ledger.kind().key().into(), t.as_str().into()],
            )?,
            None => db.query(
                "SELECT count(*) FROM docs WHERE kind = $1 AND deleted = 0 AND township IS NULL",
                &[ledger.kind().key().into()],
            )?,
        };
        total += rows.first().map_or(0, |r| r[0].int().max(0) as u64);
    }
    progress.total.store(total, Relaxed);
    let mut n = 0;
    for t in &townships {
        let town = t.as_ref().and_then(|t| areas.get(t)).cloned().unwrap_or_default();
        let mut rows: Vec<(String, RecordId, Vec<String>)> = Vec::new();
        let mut after: Option<RecordId> = None;
        loop {
            let page = sync::server::records_in_township(db, ctx, ledger.kind(), t.as_ref(), after.as_ref(), 2000)?;
            for (id, r) in &page {
                let row = match r {
                    Record::Union(u) => vec![
                        u.name.clone(),
                        u.kind.zh().into(),
                        u.sector.map(|s| s.zh().to_owned()).unwrap_or_default(),
                        town.clone(),
                        name(u.parent_union.as_ref()),
                        d(u.founded_on),
                        d(u.approved_on),
                        u.approved_by.map(|a| a.zh().to_owned()).unwrap_or_default(),
                        u.approval_doc.clone(),
                        u.workers.to_string(),
                        u.women_workers.to_string(),
                        yes(u.has_women_committee),
                        yes(u.has_audit_committee),
                        yes(registry::rules::liuyou(&u.liuyou).complete()),
                        yes(registry::rules::bayou(&u.bayou).complete()),
                        u.place.grid.as_ref().and_then(|g| areas.get(g)).cloned().unwrap_or_default(),
                        officers.get(id).map(|o| o.0.join("、")).unwrap_or_default(),
                        officers.get(id).map(|o| o.1.join("、")).unwrap_or_default(),
                        members_of.get(id).copied().unwrap_or(0).to_string(),
                        covered.get(id).map_or(0, Vec::len).to_string(),
                        covered.get(id).map(|c| c.join("、")).unwrap_or_default(),
                        d(u.dissolved_on),
                    ],
                    Record::Member(m) => vec![
                        m.name.clone(),
                        m.sex.map(|s| s.zh().to_owned()).unwrap_or_default(),
                        m.ethnicity.clone(),
                        d(m.birth_date),
                        id_text(&m.resident_id),
                        m.education.zh().into(),
                        m.political_status.zh().into(),
                        m.employer_name.clone(),
                        name(Some(&m.union_id)),
                        m.joined_on.to_string(),
                        m.card_number.clone().unwrap_or_default(),
                        d(m.card_expires),
                        phone(m.phone.as_ref()),
                        yes(m.migrant_worker),
                        yes(m.dispatched_worker),
                        yes(m.is_young_worker(today)),
                        town.clone(),
                        match m.left_on {
                            Some(d) if d <= today => format!("已离会（{d}）"),
                            _ => "在册".to_owned(),
                        },
                    ],
                    Record::Cadre(c) => vec![
                        c.name.clone(),
                        c.resident_id.as_deref().map(id_text).unwrap_or_default(),
                        name(Some(&c.union_id)),
                        c.role.zh().into(),
                        d(c.elected_on),
                        d(c.left_on),
                        if c.full_time { "专职" } else { "兼职" }.into(),
                        c.owner_relation.zh().into(),
                        phone(c.phone.as_ref()),
                        town.clone(),
                    ],
                    Record::Transfer(tr) => vec![
                        tr.member_name.clone(),
                        name(Some(&tr.from_union)),
                        name(Some(&tr.to_union)),
                        tr.date.to_string(),
                        tr.reason.zh().into(),
                        tr.note.clone(),
                        town.clone(),
                    ],
                    Record::Entity(e) => vec![
                        e.name.clone(),
                        e.credit_code.clone().unwrap_or_default(),
                        e.credit_code_override.clone().unwrap_or_default(),
                        e.unit_kind.zh().into(),
                        e.ownership.zh().into(),
                        e.industry.zh().into(),
                        e.address.clone(),
                        town.clone(),
                        place_name(e.place.community.as_ref()),
                        place_name(e.place.grid.as_ref()),
                        e.workers.to_string(),
                        e.women_workers.to_string(),
                        name(e.union_id.as_ref()),
                        e.owner_name.clone().unwrap_or_default(),
                        phone(e.contact_phone.as_ref()),
                        yes(e.closed),
                    ],
                    // Sorted by the township's name first, then the
                    // community's and the grid's: a township's own row
                    // (nothing after its name) comes before its parts.
                    Record::Area(a) => match a.level {
                        AreaLevel::County => continue,
                        AreaLevel::Township => vec![
                            a.name.clone(),
                            a.township_kind.map(|k| k.zh().to_owned()).unwrap_or_default(),
                            String::new(),
                            String::new(),
                            String::new(),
                            String::new(),
                            a.code.clone(),
                        ],
                        AreaLevel::Community => {
                            vec![
                                town.clone(),
                                String::new(),
                                a.name.clone(),
                                String::new(),
                                String::new(),
                                String::new(),
                                a.code.clone(),
                            ]
                        }
                        AreaLevel::Grid => vec![
                            town.clone(),
                            String::new(),
                            a.parent
                                .as_ref()
                                .filter(|p| Some(*p) != a.township.as_ref())
                                .map(|p| place_name(Some(p)))
                                .unwrap_or_default(),
                            a.name.clone(),
                            a.grid_leader.clone().unwrap_or_default(),
                            a.grid_members.join("、"),
                            a.code.clone(),
                        ],
                    },
                    _ => continue,
                };
                let key = if ledger == Ledger::Area {
                    [&row[0], &row[2], &row[3]].map(String::as_str).join("\u{1}")
                } else {
                    row[0].clone()
                };
                rows.push((key, id.clone(), row));
            }
            progress.done.fetch_add(page.len() as u64, Relaxed);
            match page.last() {
                Some((id, _)) if page.len() == 2000 => after = Some(id.clone()),
                _ => break,
            }
        }
        // By name within the township, as the paper forms list them.
        rows.sort();
        for (_, _, mut row) in rows {
            n += 1;
            row.insert(0, n.to_string());
            sink.row(&row)?;
        }
    }
    Ok(n)
}

/// Records an export: who, when, which ledger, format and filter, how many rows.
pub fn log_export(
    db: &mut dyn Sql,
    who: &str,
    ledger: Ledger,
    format: &str,
    filter: &str,
    rows: usize,
    full: bool,
) -> Result<(), SyncError> {
    db.execute(
        "INSERT INTO exports (at, who, ledger, format, filter, rows, full_ids) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            now_ms().into(),
            who.into(),
            ledger.key().into(),
            format.into(),
            filter.into(),
            (rows as i64).into(),
            i64::from(full).into(),
        ],
    )?;
    Ok(())
}

/// The migration: the export log.
pub fn schema() -> String {
    "CREATE TABLE exports (at BIGINT NOT NULL, who TEXT NOT NULL, ledger TEXT NOT NULL, format TEXT NOT NULL,
       filter TEXT NOT NULL, rows BIGINT NOT NULL, full_ids BIGINT NOT NULL)"
        .into()
}

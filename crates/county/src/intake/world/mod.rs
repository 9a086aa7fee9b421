//! The records a sheet's rows name, as the planner resolves them: areas
//! by name under their parent, unions by name (within the row's township
//! when two share one), entities by credit code or name, members by
//! resident ID — and each row read into its record, checked by the plan's
//! rules, and compared with the record it would change.
//!
//! The world grows as rows are planned (a township a row creates is there
//! for the next row), in a dry run exactly as in an import, so the dry
//! run says what the import will do.

use super::layout::Layout;
use super::{Action, RowReport, Sheet, Write, cells};
use crate::auth;
use registry::Date;
use registry::keys::CountySecret;
use registry::message::{Code, Message, blocks_saving};
use registry::model::*;
use registry::names::{entity_name_key, name_key, normalise};
use std::collections::HashMap;
use sync::SyncError;
use sync::server::{Ctx, Sql};

mod areas;
mod cadres;
mod entities;
mod members;
mod transfers;
mod unions;

/// What a row comes to: its writes (each with the fields an update
/// changes), or why it is refused.
type Planned = Result<Vec<(Write, Vec<String>)>, No>;

/// Why a row is refused: a stable code and a message.
struct No(String, Message);

impl No {
    fn code(code: Code, zh: String, en: String) -> No {
        No(code.code.into(), Message::new(zh, en))
    }

    fn issue(i: &registry::Issue) -> No {
        No(i.code.into(), i.message.clone())
    }
}

/// One row's cells by field.
pub(crate) struct Row<'a> {
    layout: &'a Layout,
    cells: &'a [String],
}

impl Row<'_> {
    /// The cell, `None` when the sheet has no such column or the cell is
    /// blank: a blank cell says nothing, so it keeps what is stored (a new
    /// record gets the form's default).
    fn get(&self, field: &str) -> Option<&str> {
        let c = self.layout.column(field)?;
        self.cells.get(c).map(String::as_str).filter(|c| !c.trim().is_empty())
    }

    /// The cell as typed, trimmed (empty when absent): names and free
    /// text keep their full-width punctuation (，（）), which is how they
    /// are written; comparisons go through name keys.
    fn text(&self, field: &str) -> String {
        self.get(field).map(|c| c.trim().to_owned()).unwrap_or_default()
    }

    /// The column's name as Sanjian's ledgers write it.
    fn header(&self, field: &str) -> &'static str {
        super::layout::field_name(self.layout.sheet, field)
    }

    /// A date, if the column is there and not empty.
    fn date(&self, field: &str) -> Result<Option<Date>, No> {
        match self.get(field).map(cells::text).filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(t) => cells::date(&t).map(Some).ok_or_else(|| self.unreadable(field, &t)),
        }
    }

    fn yes_no(&self, field: &str) -> Result<Option<bool>, No> {
        match self.get(field) {
            None => Ok(None),
            Some(t) => cells::yes_no(t).map(Some).ok_or_else(|| self.unreadable(field, t)),
        }
    }

    fn count(&self, field: &str) -> Result<Option<i64>, No> {
        match self.get(field) {
            None => Ok(None),
            Some(t) => cells::count(t).map(Some).ok_or_else(|| self.unreadable(field, t)),
        }
    }

    /// A labelled value; `Ok(None)` when absent or empty.
    fn label<T: Copy>(&self, field: &str, all: &[T], names: impl Fn(T) -> [&'static str; 3]) -> Result<Option<T>, No> {
        match self.get(field).map(cells::text).filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(t) => cells::label(&t, all, &names).map(Some).ok_or_else(|| {
                let choices: Vec<&str> = all.iter().map(|v| names(*v)[0]).collect();
                No::code(
                    auth::LEDGER_VALUE,
                    format!("“{}”列的“{t}”不是可选值之一：{}", self.header(field), choices.join("、")),
                    format!("'{t}' in column {} is not one of: {}", self.header(field), choices.join(", ")),
                )
            }),
        }
    }

    fn unreadable(&self, field: &str, value: &str) -> No {
        No::code(
            auth::LEDGER_VALUE,
            format!("“{}”列的“{}”无法识别", self.header(field), cells::text(value)),
            format!("'{}' in column {} cannot be read", cells::text(value), self.header(field)),
        )
    }

    fn required(&self, field: &str) -> Result<String, No> {
        let t = self.text(field);
        if t.is_empty() {
            return Err(self.missing(field));
        }
        Ok(t)
    }

    fn missing(&self, field: &str) -> No {
        No::code(
            auth::LEDGER_REQUIRED,
            format!("“{}”不能为空", self.header(field)),
            format!("Column {} is empty", self.header(field)),
        )
    }

    /// An identifier cell (ID, phone), refused when masked or stored as a
    /// number that lost digits.
    fn code(&self, field: &str) -> Result<Option<String>, No> {
        let Some(raw) = self.get(field) else { return Ok(None) };
        if cells::lost_to_float(raw) {
            return Err(No::code(
                auth::LEDGER_NUMBER_CELL,
                format!("“{}”列存成了数字，末几位已丢失：请把该列设为文本，重新录入后再导入", self.header(field)),
                format!(
                    "Column {} was stored as a number and lost its last digits: format the column as text, type the numbers again and import",
                    self.header(field)
                ),
            ));
        }
        let c = cells::code(raw);
        if cells::masked(&c) {
            return Err(No::code(
                auth::LEDGER_MASKED,
                format!("“{}”已打码：请导出带完整号码的表再导入", self.header(field)),
                format!("Column {} is masked: export the ledger with full numbers and import that", self.header(field)),
            ));
        }
        Ok(Some(c).filter(|c| !c.is_empty()))
    }
}

/// The planner's view of the county, growing as rows are planned.
pub struct World {
    sheet: Sheet,
    secret: CountySecret,
    today: Date,
    county: Option<RecordId>,
    areas: HashMap<RecordId, Area>,
    /// (parent, name key) → area.
    children: HashMap<(RecordId, String), RecordId>,
    unions: HashMap<RecordId, GrassrootsUnion>,
    union_names: HashMap<String, Vec<RecordId>>,
    union_codes: HashMap<String, RecordId>,
    entities: HashMap<RecordId, LegalEntity>,
    entity_codes: HashMap<String, RecordId>,
    entity_names: HashMap<String, Vec<RecordId>>,
    cadres: HashMap<RecordId, Cadre>,
    transfers: HashMap<RecordId, Transfer>,
    /// Members by name key (the transfer sheet names members only so).
    members_by_name: HashMap<String, Vec<(RecordId, Member)>>,
    /// What earlier rows of this file already were (a key → its line).
    seen: HashMap<String, usize>,
    /// The organisation sheet's unions by name, created or not: a parent
    /// may come after the union that names it.
    planned_unions: HashMap<String, RecordId>,
    /// The area sheet's township kinds by name (a township's own row may
    /// come after its grids').
    township_kinds: HashMap<String, TownshipKind>,
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Members and cadres are people: no field of theirs is printed.
        f.debug_struct("World").field("sheet", &self.sheet).field("areas", &self.areas.len()).finish_non_exhaustive()
    }
}

fn diff<T: serde::Serialize>(old: &T, new: &T) -> Vec<String> {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(old), serde_json::to_value(new))
    else {
        return vec!["*".into()];
    };
    let mut keys: Vec<String> = a.keys().chain(b.keys()).filter(|k| a.get(*k) != b.get(*k)).cloned().collect();
    keys.sort();
    keys.dedup();
    keys
}

/// A cell that is a credit code (a union or an employer named by its code
/// rather than its name), normalised.
fn code_of(cell: &str) -> Option<String> {
    let code = cells::code(cell);
    (code.len() == 18).then(|| registry::ids::CreditCode::parse(&code).ok()).flatten().map(|c| c.as_str().to_owned())
}

/// Names split as a cell lists them: 甲、乙，丙;丁.
fn list(cell: &str) -> Vec<String> {
    cell.split(['、', ',', '，', ';', '；', '\n']).map(normalise).filter(|s| !s.is_empty()).fold(
        Vec::new(),
        |mut v, s| {
            if !v.contains(&s) {
                v.push(s);
            }
            v
        },
    )
}

impl World {
    /// What `sheet` needs of the stored county.
    pub fn load(db: &mut dyn Sql, ctx: &Ctx<'_>, secret: &CountySecret, sheet: Sheet) -> Result<World, SyncError> {
        let mut w = World {
            sheet,
            secret: secret.clone(),
            today: ctx.today,
            county: None,
            areas: HashMap::new(),
            children: HashMap::new(),
            unions: HashMap::new(),
            union_names: HashMap::new(),
            union_codes: HashMap::new(),
            entities: HashMap::new(),
            entity_codes: HashMap::new(),
            entity_names: HashMap::new(),
            cadres: HashMap::new(),
            transfers: HashMap::new(),
            members_by_name: HashMap::new(),
            seen: HashMap::new(),
            planned_unions: HashMap::new(),
            township_kinds: HashMap::new(),
        };
        sync::server::each_of_kind(db, ctx, RecordKind::Area, |id, r| {
            if let Record::Area(a) = r {
                w.add_area(id, a);
            }
        })?;
        if sheet != Sheet::Areas {
            sync::server::each_of_kind(db, ctx, RecordKind::Union, |id, r| {
                if let Record::Union(u) = r {
                    w.add_union(id, u);
                }
            })?;
        }
        if matches!(sheet, Sheet::Entities | Sheet::Organisation | Sheet::Member) {
            sync::server::each_of_kind(db, ctx, RecordKind::Entity, |id, r| {
                if let Record::Entity(e) = r {
                    w.add_entity(id, e);
                }
            })?;
        }
        match sheet {
            Sheet::Cadre => sync::server::each_of_kind(db, ctx, RecordKind::Cadre, |id, r| {
                if let Record::Cadre(c) = r {
                    w.cadres.insert(id, c);
                }
            })?,
            Sheet::Transfer => {
                sync::server::each_of_kind(db, ctx, RecordKind::Transfer, |id, r| {
                    if let Record::Transfer(t) = r {
                        w.transfers.insert(id, t);
                    }
                })?;
                sync::server::each_of_kind(db, ctx, RecordKind::Member, |id, r| {
                    if let Record::Member(m) = r {
                        w.members_by_name.entry(name_key(&m.name)).or_default().push((id, m));
                    }
                })?;
            }
            _ => {}
        }
        Ok(w)
    }

    fn add_area(&mut self, id: RecordId, a: Area) {
        if a.level == AreaLevel::County {
            self.county = Some(id.clone());
        }
        if let Some(p) = &a.parent {
            self.children.insert((p.clone(), name_key(&a.name)), id.clone());
        }
        self.areas.insert(id, a);
    }

    fn add_union(&mut self, id: RecordId, u: GrassrootsUnion) {
        if let Some(c) = u.credit_code.as_ref().filter(|c| !c.is_empty()) {
            self.union_codes.insert(c.clone(), id.clone());
        }
        let ids = self.union_names.entry(name_key(&u.name)).or_default();
        if !ids.contains(&id) {
            ids.push(id.clone());
        }
        self.unions.insert(id, u);
    }

    fn add_entity(&mut self, id: RecordId, e: LegalEntity) {
        if let Some(c) = e.credit_code.as_ref().filter(|c| !c.is_empty()) {
            self.entity_codes.insert(c.clone(), id.clone());
        }
        let ids = self.entity_names.entry(entity_name_key(&e.name)).or_default();
        if !ids.contains(&id) {
            ids.push(id.clone());
        }
        self.entities.insert(id, e);
    }

    /// A look over every row before the first is planned: the names a
    /// row may point at further down.
    pub(crate) fn prepare(&mut self, layout: &Layout, rows: &[Vec<String>]) {
        for cells in rows {
            let row = Row { layout, cells };
            match self.sheet {
                Sheet::Organisation => {
                    let name = row.text("name");
                    if name.is_empty() {
                        continue;
                    }
                    let key = name_key(&name);
                    let town = self.township(&row.text("township"));
                    let id = self.union_named(&name, town.as_ref()).ok().unwrap_or_else(store::random_id);
                    self.planned_unions.entry(key).or_insert(id);
                }
                Sheet::Areas => {
                    if let Ok(Some(k)) = row.label("township_kind", TownshipKind::ALL, |v| [v.zh(), v.key(), v.en()]) {
                        self.township_kinds.entry(name_key(&row.text("township"))).or_insert(k);
                    }
                }
                _ => {}
            }
        }
    }

    fn township(&self, name: &str) -> Option<RecordId> {
        let county = self.county.as_ref()?;
        self.children.get(&(county.clone(), name_key(name))).cloned()
    }

    /// A grid or community by name within a township (under the township
    /// or any of its communities).
    fn within(&self, township: &RecordId, level: AreaLevel, name: &str) -> Result<Option<RecordId>, No> {
        let key = name_key(name);
        let hits: Vec<&RecordId> = self
            .areas
            .iter()
            .filter(|(id, a)| {
                a.level == level
                    && name_key(&a.name) == key
                    && (a.township.as_ref() == Some(township) || *id == township)
            })
            .map(|(id, _)| id)
            .collect();
        match hits.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some((*one).clone())),
            _ => Err(No::code(
                auth::LEDGER_AMBIGUOUS,
                format!("本乡镇有多个名为“{name}”的{}", level.zh()),
                format!("The township has more than one {} named {name}", level.en()),
            )),
        }
    }

    /// A row's place: its township (required), and its grid by name if
    /// the sheet has one (the community comes with the grid).
    fn place(&self, row: &Row<'_>) -> Result<(Place, Vec<Message>), No> {
        let name = row.required("township")?;
        let Some(township) = self.township(&name) else {
            return Err(No::code(
                auth::LEDGER_UNKNOWN_AREA,
                format!("没有名为“{name}”的乡镇（街道）：请先在区域设置中添加"),
                format!("No township named {name}: add it in the area tree first"),
            ));
        };
        let mut place = Place { township: township.clone(), community: None, grid: None };
        let mut notes = Vec::new();
        let community = row.text("community");
        if !community.is_empty() {
            match self.within(&township, AreaLevel::Community, &community)? {
                Some(c) => place.community = Some(c),
                None => notes.push(Message::new(
                    format!("本乡镇没有“{community}”社区（村），未填"),
                    format!("No community {community} in the township; left empty"),
                )),
            }
        }
        let grid = row.text("grid");
        if !grid.is_empty() {
            match self.within(&township, AreaLevel::Grid, &grid)? {
                Some(g) => {
                    let parent = self.areas.get(&g).and_then(|a| a.parent.clone()).filter(|p| *p != township);
                    place.community = parent.or(place.community);
                    place.grid = Some(g);
                }
                None => notes.push(Message::new(
                    format!("本乡镇没有“{grid}”网格，未填"),
                    format!("No grid {grid} in the township; left empty"),
                )),
            }
        }
        Ok((place, notes))
    }

    /// A union by name — the one of that name, or among several the one in
    /// `township` — or by its own credit code (工会法人).
    fn union_named(&self, name: &str, township: Option<&RecordId>) -> Result<RecordId, No> {
        if let Some(id) = code_of(name).and_then(|c| self.union_codes.get(&c)) {
            return Ok(id.clone());
        }
        let key = name_key(name);
        let ids = self.union_names.get(&key).cloned().unwrap_or_default();
        let ids: Vec<RecordId> =
            if ids.is_empty() { self.planned_unions.get(&key).cloned().into_iter().collect() } else { ids };
        match ids.as_slice() {
            [] => Err(No::code(
                auth::LEDGER_UNKNOWN_UNION,
                format!("没有名为“{name}”的工会：请先导入基层工会组织登记表"),
                format!("No union named {name}: import the organisation ledger first"),
            )),
            [one] => Ok(one.clone()),
            many => {
                let here: Vec<&RecordId> = many
                    .iter()
                    .filter(|id| township.is_some_and(|t| self.unions.get(*id).is_some_and(|u| u.place.township == *t)))
                    .collect();
                match here.as_slice() {
                    [one] => Ok((*one).clone()),
                    _ => Err(No::code(
                        auth::LEDGER_AMBIGUOUS,
                        format!("有多个名为“{name}”的工会，无法确定是哪一个"),
                        format!("More than one union is named {name}; cannot tell which"),
                    )),
                }
            }
        }
    }

    /// An entity by credit code or name (an employer, a covered unit): the
    /// one with that code, or one of that name,
    /// or among several the one in `township`.
    fn entity_named(&self, name: &str, township: Option<&RecordId>) -> Option<RecordId> {
        if let Some(id) = code_of(name).and_then(|c| self.entity_codes.get(&c)) {
            return Some(id.clone());
        }
        let ids = self.entity_names.get(&entity_name_key(name))?;
        match ids.as_slice() {
            [one] => Some(one.clone()),
            many => {
                let here: Vec<&RecordId> = many
                    .iter()
                    .filter(|id| {
                        township.is_some_and(|t| self.entities.get(*id).is_some_and(|e| e.place.township == *t))
                    })
                    .collect();
                match here.as_slice() {
                    [one] => Some((*one).clone()),
                    _ => None,
                }
            }
        }
    }

    /// A row repeating an earlier one of this file.
    fn once(&mut self, key: String, line: usize) -> Result<(), No> {
        if let Some(first) = self.seen.get(&key) {
            return Err(No::code(
                auth::LEDGER_DUPLICATE_ROW,
                format!("与第{first}行是同一条记录"),
                format!("The same record as line {first}"),
            ));
        }
        self.seen.insert(key, line);
        Ok(())
    }

    /// The plan's rules on a record read from a row: its first blocking
    /// issue refuses the row.
    fn check(&self, record: &mut Record) -> Result<(), No> {
        let issues = registry::validate::check(record, self.today);
        if blocks_saving(&issues) {
            let first = issues.iter().find(|i| i.severity != registry::message::Severity::Info).expect("blocks");
            return Err(No::issue(first));
        }
        Ok(())
    }

    /// Plans one row; the world takes in what the row creates.
    pub(crate) fn plan_row(
        &mut self,
        db: &mut dyn Sql,
        ctx: &Ctx<'_>,
        line: usize,
        layout: &Layout,
        cells: &[String],
    ) -> Result<(RowReport, Vec<Write>), SyncError> {
        let row = Row { layout, cells };
        let name = match self.sheet {
            Sheet::Transfer => row.text("member_name"),
            Sheet::Areas => ["grid", "community", "township"]
                .iter()
                .map(|f| row.text(f))
                .find(|t| !t.is_empty())
                .unwrap_or_default(),
            _ => row.text("name"),
        };
        let mut notes = Vec::new();
        let planned = match self.sheet {
            Sheet::Areas => self.area_row(&row, line),
            Sheet::Entities => self.entity_row(&row, line, &mut notes),
            Sheet::Organisation => self.union_row(&row, line, &mut notes),
            Sheet::Member => self.member_row(db, ctx, &row, line, &mut notes)?,
            Sheet::Cadre => self.cadre_row(&row, line),
            Sheet::Transfer => self.transfer_row(&row, line),
        };
        let mut report =
            RowReport { line, name, action: Action::Unchanged, fields: Vec::new(), code: None, message: None, notes };
        let writes = match planned {
            Err(No(code, message)) => {
                report.action = Action::Refused;
                report.code = Some(code);
                report.message = Some(message);
                Vec::new()
            }
            Ok(writes) => {
                for (w, fields) in &writes {
                    match w {
                        Write::Create(..) => report.action = Action::Create,
                        Write::Update(..) if report.action == Action::Unchanged => {
                            report.action = Action::Update;
                            report.fields.extend(fields.iter().cloned());
                        }
                        Write::Update(..) => report.fields.extend(fields.iter().cloned()),
                    }
                }
                writes.into_iter().map(|(w, _)| w).collect()
            }
        };
        Ok((report, writes))
    }

    /// A create, or an update of `old` (id `id`) when the row changes it,
    /// or nothing.
    fn upsert<T: Clone + PartialEq + serde::Serialize>(
        &self,
        id: RecordId,
        old: Option<&T>,
        mut new: Record,
        wrap: impl Fn(&Record) -> Option<&T>,
    ) -> Planned {
        self.check(&mut new)?;
        Ok(match old {
            None => vec![(Write::Create(id, new), Vec::new())],
            Some(old) => {
                let Some(now) = wrap(&new) else { return Ok(Vec::new()) };
                if now == old {
                    Vec::new()
                } else {
                    let fields = diff(old, now);
                    vec![(Write::Update(id, new), fields)]
                }
            }
        })
    }
    /// Writes one planned record as the county on behalf of `by`.
    pub(crate) fn write(&self, db: &mut dyn Sql, ctx: &Ctx<'_>, w: Write, by: &str) -> Result<(), SyncError> {
        match w {
            Write::Create(id, record) => {
                crate::decisions::county_create_as(db, ctx, id, record, by)?;
            }
            Write::Update(id, record) => {
                crate::decisions::county_edit(db, ctx, &id, by, |r| *r = record)?;
            }
        }
        Ok(())
    }
}

fn area_of(r: &Record) -> Option<&Area> {
    match r {
        Record::Area(a) => Some(a),
        _ => None,
    }
}

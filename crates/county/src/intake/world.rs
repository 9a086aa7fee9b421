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

/// One row's cells by field; `None` when the sheet has no such column.
pub(crate) struct Row<'a> {
    layout: &'a Layout,
    cells: &'a [String],
}

impl Row<'_> {
    fn get(&self, field: &str) -> Option<&str> {
        self.layout.column(field).map(|c| self.cells.get(c).map(String::as_str).unwrap_or(""))
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

fn each(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    kind: RecordKind,
    mut f: impl FnMut(RecordId, Record),
) -> Result<(), SyncError> {
    let mut after: Option<RecordId> = None;
    loop {
        let page = sync::server::records_of_kind(db, ctx, kind, after.as_ref(), 2000)?;
        let full = page.len() == 2000;
        after = page.last().map(|(id, _)| id.clone());
        for (id, r) in page {
            f(id, r);
        }
        if !full {
            return Ok(());
        }
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
        each(db, ctx, RecordKind::Area, |id, r| {
            if let Record::Area(a) = r {
                w.add_area(id, a);
            }
        })?;
        if sheet != Sheet::Areas {
            each(db, ctx, RecordKind::Union, |id, r| {
                if let Record::Union(u) = r {
                    w.add_union(id, u);
                }
            })?;
        }
        if matches!(sheet, Sheet::Entities | Sheet::Organisation | Sheet::Member) {
            each(db, ctx, RecordKind::Entity, |id, r| {
                if let Record::Entity(e) = r {
                    w.add_entity(id, e);
                }
            })?;
        }
        match sheet {
            Sheet::Cadre => each(db, ctx, RecordKind::Cadre, |id, r| {
                if let Record::Cadre(c) = r {
                    w.cadres.insert(id, c);
                }
            })?,
            Sheet::Transfer => {
                each(db, ctx, RecordKind::Transfer, |id, r| {
                    if let Record::Transfer(t) = r {
                        w.transfers.insert(id, t);
                    }
                })?;
                each(db, ctx, RecordKind::Member, |id, r| {
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

    /// A union by name: the one of that name, or among several the one in
    /// `township`.
    fn union_named(&self, name: &str, township: Option<&RecordId>) -> Result<RecordId, No> {
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

    /// An entity by name (an employer, a covered unit): one of that name,
    /// or among several the one in `township`.
    fn entity_named(&self, name: &str, township: Option<&RecordId>) -> Option<RecordId> {
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
    ) -> Result<Vec<(Write, Vec<String>)>, No> {
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

    fn area_row(&mut self, row: &Row<'_>, line: usize) -> Result<Vec<(Write, Vec<String>)>, No> {
        let Some(county) = self.county.clone() else {
            return Err(No::code(
                auth::LEDGER_NO_COUNTY,
                "请先设立本县（名称），再导入乡镇和网格".into(),
                "Name the county first, then import its townships and grids".into(),
            ));
        };
        let town = row.required("township")?;
        let (community, grid) = (row.text("community"), row.text("grid"));
        self.once(format!("area:{}/{}/{}", name_key(&town), name_key(&community), name_key(&grid)), line)?;
        let kind = row.label("township_kind", TownshipKind::ALL, |v| [v.zh(), v.key(), v.en()])?;
        let code = row.text("code");
        let mut out = Vec::new();
        let blank = |name: &str, level| crate::areas::bare(name.to_owned(), level);
        let own_row = community.is_empty() && grid.is_empty();
        // The township.
        let township = match self.township(&town) {
            Some(t) => {
                let old = self.areas[&t].clone();
                let mut new = old.clone();
                if let Some(k) = kind {
                    new.township_kind = Some(k);
                }
                if own_row && !code.is_empty() {
                    new.code = code.clone();
                }
                out.extend(self.upsert(t.clone(), Some(&old), Record::Area(new.clone()), area_of)?);
                self.areas.insert(t.clone(), new);
                t
            }
            None => {
                let mut a = blank(&town, AreaLevel::Township);
                a.township_kind = kind.or_else(|| self.township_kinds.get(&name_key(&town)).copied());
                a.parent = Some(county.clone());
                if own_row {
                    a.code = code.clone();
                }
                let id = store::random_id();
                out.extend(self.upsert(id.clone(), None, Record::Area(a.clone()), area_of)?);
                self.add_area(id.clone(), a);
                id
            }
        };
        // Its community.
        let mut parent = township.clone();
        if !community.is_empty() {
            parent = match self.children.get(&(township.clone(), name_key(&community))).cloned() {
                Some(c) => {
                    if grid.is_empty() && !code.is_empty() {
                        let old = self.areas[&c].clone();
                        let mut new = old.clone();
                        new.code = code.clone();
                        out.extend(self.upsert(c.clone(), Some(&old), Record::Area(new.clone()), area_of)?);
                        self.areas.insert(c.clone(), new);
                    }
                    c
                }
                None => {
                    let mut a = blank(&community, AreaLevel::Community);
                    a.parent = Some(township.clone());
                    a.township = Some(township.clone());
                    if grid.is_empty() {
                        a.code = code.clone();
                    }
                    let id = store::random_id();
                    out.extend(self.upsert(id.clone(), None, Record::Area(a.clone()), area_of)?);
                    self.add_area(id.clone(), a);
                    id
                }
            };
        }
        // Its grid, with its leader and surveyors.
        if !grid.is_empty() {
            let leader = row.get("grid_leader").map(normalise);
            let members = row.get("grid_members").map(list);
            match self.children.get(&(parent.clone(), name_key(&grid))).cloned() {
                Some(g) => {
                    let old = self.areas[&g].clone();
                    let mut new = old.clone();
                    if let Some(l) = leader {
                        new.grid_leader = Some(l).filter(|l| !l.is_empty());
                    }
                    if let Some(m) = members {
                        new.grid_members = m;
                    }
                    if !code.is_empty() {
                        new.code = code.clone();
                    }
                    out.extend(self.upsert(g.clone(), Some(&old), Record::Area(new.clone()), area_of)?);
                    self.areas.insert(g, new);
                }
                None => {
                    let mut a = blank(&grid, AreaLevel::Grid);
                    a.parent = Some(parent.clone());
                    a.township = Some(township.clone());
                    a.grid_leader = leader.filter(|l| !l.is_empty());
                    a.grid_members = members.unwrap_or_default();
                    a.code = code;
                    let id = store::random_id();
                    out.extend(self.upsert(id.clone(), None, Record::Area(a.clone()), area_of)?);
                    self.add_area(id, a);
                }
            }
        }
        Ok(out)
    }

    fn entity_row(
        &mut self,
        row: &Row<'_>,
        line: usize,
        notes: &mut Vec<Message>,
    ) -> Result<Vec<(Write, Vec<String>)>, No> {
        let name = row.required("name")?;
        let credit = match row.code("credit_code")? {
            None => None,
            Some(c) => {
                let code = registry::ids::CreditCode::parse(&c).map_err(|e| No::issue(&e.issue("credit_code")))?;
                // A code whose check character fails is kept only with
                // the reason someone recorded for keeping it.
                if let Some(w) = code.checksum_warning("credit_code")
                    && row.text("credit_code_override").is_empty()
                {
                    return Err(No::issue(&w));
                }
                Some(code.as_str().to_owned())
            }
        };
        let (place, place_notes) = self.place(row)?;
        notes.extend(place_notes);
        let key = match &credit {
            Some(c) => format!("entity:{c}"),
            None => format!("entity-name:{}/{}", place.township, entity_name_key(&name)),
        };
        self.once(key, line)?;
        let id = match &credit {
            Some(c) => {
                self.entity_codes.get(c).cloned().unwrap_or_else(|| self.secret.record_id(&format!("entity:{c}")))
            }
            None => match self.entity_named(&name, Some(&place.township)) {
                Some(id) if self.entities[&id].place.township == place.township => id,
                _ => store::random_id(),
            },
        };
        let old = self.entities.get(&id).cloned();
        let mut e = old.clone().unwrap_or_else(|| LegalEntity {
            name: name.clone(),
            credit_code: None,
            credit_code_override: None,
            unit_kind: UnitKind::Other,
            ownership: Ownership::Other,
            industry: Industry::Other,
            address: String::new(),
            place: place.clone(),
            workers: 0,
            women_workers: 0,
            union_id: None,
            owner_name: None,
            contact_phone: None,
            closed: false,
            notes: String::new(),
            photos: Default::default(),
        });
        e.name = name;
        e.credit_code = credit.or(e.credit_code);
        if row.get("credit_code_override").is_some() {
            e.credit_code_override = Some(row.text("credit_code_override")).filter(|s| !s.is_empty());
        }
        e.place = place.clone();
        if let Some(k) = row.label("unit_kind", UnitKind::ALL, |v| [v.zh(), v.key(), v.en()])? {
            e.unit_kind = k;
        }
        if let Some(k) = row.label("ownership", Ownership::ALL, |v| [v.zh(), v.key(), v.en()])? {
            e.ownership = k;
        }
        if let Some(k) = row.label("industry", Industry::ALL, |v| [v.zh(), v.key(), v.en()])? {
            e.industry = k;
        }
        if row.get("address").is_some() {
            e.address = row.text("address");
        }
        if let Some(n) = row.count("workers")? {
            e.workers = n;
        }
        if let Some(n) = row.count("women_workers")? {
            e.women_workers = n;
        }
        if row.get("owner_name").is_some() {
            e.owner_name = Some(row.text("owner_name")).filter(|s| !s.is_empty());
        }
        if row.get("contact_phone").is_some() {
            e.contact_phone = row.code("contact_phone")?;
        }
        if let Some(t) = row.get("closed") {
            let t = cells::text(t);
            e.closed = if t.contains("注销") || t.contains("迁出") || t.contains("吊销") {
                true
            } else if ["在业", "存续", "正常", "开业"].iter().any(|w| t.contains(w)) {
                false
            } else {
                row.yes_no("closed")?.unwrap_or(false)
            };
        }
        if row.get("union").is_some() {
            let u = row.text("union");
            e.union_id = if u.is_empty() {
                None
            } else {
                match self.union_named(&u, Some(&place.township)) {
                    Ok(id) => Some(id),
                    Err(_) => {
                        notes.push(Message::new(
                            format!("覆盖工会“{u}”尚未登记，暂未填；导入基层工会组织登记表时按其“覆盖单位”列关联"),
                            format!(
                                "Covering union {u} is not registered yet; the organisation ledger's 覆盖单位 column links it when imported"
                            ),
                        ));
                        e.union_id
                    }
                }
            };
        }
        let out = self.upsert(id.clone(), old.as_ref(), Record::Entity(e.clone()), |r| match r {
            Record::Entity(e) => Some(e),
            _ => None,
        })?;
        self.add_entity(id, e);
        Ok(out)
    }

    fn union_row(
        &mut self,
        row: &Row<'_>,
        line: usize,
        notes: &mut Vec<Message>,
    ) -> Result<Vec<(Write, Vec<String>)>, No> {
        let name = row.required("name")?;
        let (place, place_notes) = self.place(row)?;
        notes.extend(place_notes);
        self.once(format!("union:{}", name_key(&name)), line)?;
        let kind = row.label("kind", UnionKind::ALL, |v| [v.zh(), v.key(), v.en()])?;
        let id = self
            .union_named(&name, Some(&place.township))
            .ok()
            .or_else(|| self.planned_unions.get(&name_key(&name)).cloned())
            .unwrap_or_else(store::random_id);
        let old = self.unions.get(&id).cloned();
        let Some(kind) = kind.or(old.as_ref().map(|u| u.kind)) else {
            return Err(row.missing("kind"));
        };
        let mut u = old.clone().unwrap_or_else(|| GrassrootsUnion {
            name: name.clone(),
            kind,
            sector: None,
            place: place.clone(),
            parent_union: None,
            founded_on: None,
            approved_on: None,
            approved_by: None,
            approval_doc: String::new(),
            workers: 0,
            women_workers: 0,
            has_women_committee: false,
            has_audit_committee: false,
            liuyou: LiuYou::default(),
            bayou: BaYou::default(),
            credit_code: None,
            credit_code_override: None,
            dissolved_on: None,
            notes: String::new(),
            photos: Default::default(),
        });
        u.name = name;
        u.kind = kind;
        u.place = place.clone();
        if row.get("sector").is_some() {
            u.sector = row.label("sector", Sector::ALL, |v| [v.zh(), v.key(), v.en()])?;
        }
        if row.get("parent_union").is_some() {
            let p = row.text("parent_union");
            u.parent_union = if p.is_empty() {
                None
            } else {
                match self.union_named(&p, Some(&place.township)) {
                    Ok(pid) if pid != id => Some(pid),
                    _ => {
                        notes.push(Message::new(
                            format!("上级工会“{p}”未找到，未填"),
                            format!("Parent union {p} not found; left empty"),
                        ));
                        u.parent_union
                    }
                }
            };
        }
        for (field, slot) in [
            ("founded_on", &mut u.founded_on),
            ("approved_on", &mut u.approved_on),
            ("dissolved_on", &mut u.dissolved_on),
        ] {
            if row.get(field).is_some() {
                *slot = row.date(field)?;
            }
        }
        if row.get("approved_by").is_some() {
            u.approved_by = row.label("approved_by", ApprovalBody::ALL, |v| [v.zh(), v.key(), v.en()])?;
        }
        if row.get("approval_doc").is_some() {
            u.approval_doc = row.text("approval_doc");
        }
        if let Some(n) = row.count("workers")? {
            u.workers = n;
        }
        if let Some(n) = row.count("women_workers")? {
            u.women_workers = n;
        }
        if let Some(b) = row.yes_no("has_women_committee")? {
            u.has_women_committee = b;
        }
        if let Some(b) = row.yes_no("has_audit_committee")? {
            u.has_audit_committee = b;
        }
        // 六有 and 八有 as the ledger says them, complete or not: "是" has
        // every item; "否" keeps the items a complete record had, less
        // one, no — it clears a complete record (the ledger says it is not)
        // and keeps an incomplete one's items.
        if let Some(b) = row.yes_no("liuyou")? {
            let complete = registry::rules::liuyou(&u.liuyou).complete();
            if b {
                u.liuyou = LiuYou {
                    premises: true,
                    elected_chair: true,
                    organisation: true,
                    activities: true,
                    rules: true,
                    results: true,
                };
            } else if complete {
                u.liuyou = LiuYou::default();
            }
        }
        if let Some(b) = row.yes_no("bayou")? {
            let complete = registry::rules::bayou(&u.bayou).complete();
            if b {
                u.bayou = BaYou {
                    sign_board: true,
                    approval: true,
                    seal: true,
                    funds: true,
                    premises: true,
                    rules: true,
                    activities: true,
                    archives: true,
                };
            } else if complete {
                u.bayou = BaYou::default();
            }
        }
        let mut out = self.upsert(id.clone(), old.as_ref(), Record::Union(u.clone()), |r| match r {
            Record::Union(u) => Some(u),
            _ => None,
        })?;
        self.add_union(id.clone(), u);
        // The units it covers, named: each entity found is pointed at it.
        if let Some(covered) = row.get("covered") {
            for unit in list(covered) {
                match self.entity_named(&unit, Some(&place.township)) {
                    Some(eid) => {
                        let old = self.entities[&eid].clone();
                        if old.union_id.as_ref() != Some(&id) {
                            let mut e = old.clone();
                            e.union_id = Some(id.clone());
                            out.extend(self.upsert(
                                eid.clone(),
                                Some(&old),
                                Record::Entity(e.clone()),
                                |r| match r {
                                    Record::Entity(e) => Some(e),
                                    _ => None,
                                },
                            )?);
                            self.entities.insert(eid, e);
                        }
                    }
                    None => notes.push(Message::new(
                        format!("覆盖单位“{unit}”不在普查中，未关联"),
                        format!("Covered unit {unit} is not in the census; not linked"),
                    )),
                }
            }
        }
        Ok(out)
    }

    fn member_row(
        &mut self,
        db: &mut dyn Sql,
        ctx: &Ctx<'_>,
        row: &Row<'_>,
        line: usize,
        notes: &mut Vec<Message>,
    ) -> Result<Result<Vec<(Write, Vec<String>)>, No>, SyncError> {
        let name = match row.required("name") {
            Ok(n) => n,
            Err(no) => return Ok(Err(no)),
        };
        let resident_id = match row.code("resident_id").and_then(|c| {
            let c = c.unwrap_or_default();
            registry::ids::ResidentId::parse(&c, self.today).map_err(|e| No::issue(&e.issue("resident_id")))
        }) {
            Ok(id) => id.as_str().to_owned(),
            Err(no) => return Ok(Err(no)),
        };
        if let Err(no) = self.once(format!("member:{resident_id}"), line) {
            return Ok(Err(no));
        }
        let id = self.secret.record_id(&format!("member:{resident_id}"));
        let old = match sync::server::record(db, ctx, &id)? {
            Some(Record::Member(m)) => Some(m),
            Some(_) => None,
            None => {
                let rows = db.query("SELECT deleted FROM docs WHERE id = $1", &[id.as_str().into()])?;
                if rows.first().is_some_and(|r| r[0].int() != 0) {
                    return Ok(Err(No::code(
                        auth::LEDGER_DELETED,
                        "此人的会员记录已被删除或合并到另一条记录，未导入".into(),
                        "This person's member record was deleted or merged into another; not imported".into(),
                    )));
                }
                None
            }
        };
        Ok(self.member_fields(row, name, resident_id, id, old, notes))
    }

    fn member_fields(
        &mut self,
        row: &Row<'_>,
        name: String,
        resident_id: String,
        id: RecordId,
        old: Option<Member>,
        notes: &mut Vec<Message>,
    ) -> Result<Vec<(Write, Vec<String>)>, No> {
        let town_name = row.text("township");
        let town = if town_name.is_empty() {
            None
        } else {
            Some(self.township(&town_name).ok_or_else(|| {
                No::code(
                    auth::LEDGER_UNKNOWN_AREA,
                    format!("没有名为“{town_name}”的乡镇（街道）"),
                    format!("No township named {town_name}"),
                )
            })?)
        };
        let union_name = row.required("union")?;
        let union_id = self.union_named(&union_name, town.as_ref())?;
        let union = self.unions.get(&union_id).cloned();
        let joined_on = row.date("joined_on")?.ok_or_else(|| row.missing("joined_on"))?;
        let employer_name = row.text("employer");
        let employer = if employer_name.is_empty() {
            None
        } else {
            let e = self.entity_named(&employer_name, town.as_ref().or(union.as_ref().map(|u| &u.place.township)));
            if e.is_none() {
                notes.push(Message::new(
                    format!("工作单位“{employer_name}”不在普查中，只记名称"),
                    format!("Employer {employer_name} is not in the census; its name is kept"),
                ));
            }
            e
        };
        // Where the member counts: the township named, else the union's;
        // within it the employer's grid, else the union's.
        let township = town.or_else(|| union.as_ref().map(|u| u.place.township.clone())).ok_or_else(|| {
            No::code(auth::LEDGER_REQUIRED, "“乡镇（街道）”不能为空".into(), "Column 乡镇（街道） is empty".into())
        })?;
        let place =
            [employer.as_ref().and_then(|e| self.entities.get(e)).map(|e| &e.place), union.as_ref().map(|u| &u.place)]
                .into_iter()
                .flatten()
                .find(|p| p.township == township)
                .cloned()
                .unwrap_or(Place { township, community: None, grid: None });
        let mut m = old.clone().unwrap_or_else(|| Member {
            name: name.clone(),
            resident_id: resident_id.clone(),
            sex: None,
            birth_date: None,
            ethnicity: String::new(),
            education: Education::JuniorHigh,
            political_status: PoliticalStatus::Masses,
            employer_id: None,
            employer_name: String::new(),
            union_id: union_id.clone(),
            joined_on,
            card_number: None,
            phone: None,
            migrant_worker: false,
            dispatched_worker: false,
            place: place.clone(),
            left_on: None,
        });
        m.name = name;
        m.resident_id = resident_id;
        m.union_id = union_id;
        m.joined_on = joined_on;
        // A place the row does not move keeps its grid.
        if old.as_ref().is_none_or(|o| o.place.township != place.township || o.union_id != m.union_id) {
            m.place = place;
        }
        if row.get("sex").is_some() {
            m.sex = row.label("sex", Sex::ALL, |v| [v.zh(), v.key(), v.en()])?;
        }
        if row.get("birth_date").is_some() {
            m.birth_date = row.date("birth_date")?;
        }
        if row.get("ethnicity").is_some() {
            m.ethnicity = row.text("ethnicity");
        }
        // A new member's education and political status are the form's
        // own fields: never guessed.
        match row.label("education", Education::ALL, |v| [v.zh(), v.key(), v.en()])? {
            Some(e) => m.education = e,
            None if old.is_none() => return Err(row.missing("education")),
            None => {}
        }
        match row.label("political_status", PoliticalStatus::ALL, |v| [v.zh(), v.key(), v.en()])? {
            Some(p) => m.political_status = p,
            None if old.is_none() => return Err(row.missing("political_status")),
            None => {}
        }
        if row.get("employer").is_some() {
            m.employer_name = employer_name;
            m.employer_id = employer;
        }
        if row.get("card_number").is_some() {
            m.card_number = row.code("card_number")?;
        }
        if row.get("phone").is_some() {
            m.phone = row.code("phone")?;
        }
        if let Some(b) = row.yes_no("migrant_worker")? {
            m.migrant_worker = b;
        }
        if let Some(b) = row.yes_no("dispatched_worker")? {
            m.dispatched_worker = b;
        }
        if let Some(s) = row.get("standing") {
            let s = cells::text(s);
            m.left_on = if s.is_empty() || s.contains("在册") || s.contains("在会") {
                None
            } else {
                let date_text: String = s
                    .chars()
                    .filter(|c| c.is_ascii_digit() || matches!(c, '-' | '/' | '.' | '年' | '月' | '日'))
                    .collect();
                match cells::date(&date_text) {
                    Some(d) => Some(d),
                    None => return Err(row.unreadable("standing", &s)),
                }
            };
        }
        self.upsert(id, old.as_ref(), Record::Member(m), |r| match r {
            Record::Member(m) => Some(m),
            _ => None,
        })
    }

    fn cadre_row(&mut self, row: &Row<'_>, line: usize) -> Result<Vec<(Write, Vec<String>)>, No> {
        let name = row.required("name")?;
        let resident_id = match row.code("resident_id")? {
            None => None,
            Some(c) => Some(
                registry::ids::ResidentId::parse(&c, self.today)
                    .map_err(|e| No::issue(&e.issue("resident_id")))?
                    .as_str()
                    .to_owned(),
            ),
        };
        let town = Some(row.text("township")).filter(|t| !t.is_empty()).and_then(|t| self.township(&t));
        let union_id = self.union_named(&row.required("union")?, town.as_ref())?;
        let Some(role) = row.label("role", CadreRole::ALL, |v| [v.zh(), v.key(), v.en()])? else {
            return Err(row.missing("role"));
        };
        let elected_on = row.date("elected_on")?;
        let who = resident_id.clone().unwrap_or_else(|| name_key(&name));
        self.once(format!("cadre:{union_id}/{who}/{}/{:?}", role.key(), elected_on), line)?;
        let same = |c: &Cadre| {
            c.union_id == union_id
                && c.role == role
                && match (&resident_id, &c.resident_id) {
                    (Some(a), Some(b)) => a == b,
                    _ => name_key(&c.name) == name_key(&name),
                }
        };
        // A cadre re-elected to the same office is another term: matched
        // by the date taken up when the row has one.
        let found = self
            .cadres
            .iter()
            .filter(|(_, c)| same(c))
            .find(|(_, c)| elected_on.is_none() || c.elected_on == elected_on || c.elected_on.is_none())
            .map(|(id, c)| (id.clone(), c.clone()));
        let member_id = resident_id.as_ref().map(|r| self.secret.record_id(&format!("member:{r}")));
        let (id, old) = match found {
            Some((id, c)) => (id, Some(c)),
            None => (store::random_id(), None),
        };
        // A cadre counts where the union does.
        let place = self.unions.get(&union_id).map(|u| u.place.clone()).ok_or_else(|| {
            No::code(auth::LEDGER_UNKNOWN_UNION, "所在工会未找到".into(), "The union was not found".into())
        })?;
        let mut c = old.clone().unwrap_or_else(|| Cadre {
            name: name.clone(),
            resident_id: None,
            member_id: None,
            union_id: union_id.clone(),
            role,
            elected_on: None,
            left_on: None,
            full_time: false,
            owner_relation: OwnerRelation::Unrelated,
            phone: None,
            place: place.clone(),
        });
        c.name = name;
        if resident_id.is_some() {
            c.resident_id = resident_id;
            c.member_id = member_id;
        }
        c.union_id = union_id;
        c.role = role;
        c.place = place;
        if elected_on.is_some() || row.get("elected_on").is_some() {
            c.elected_on = elected_on;
        }
        if row.get("left_on").is_some() {
            c.left_on = row.date("left_on")?;
        }
        if row.get("full_time").is_some() {
            let t = row.text("full_time");
            c.full_time = match t.as_str() {
                "专职" => true,
                "兼职" | "" => false,
                _ => row.yes_no("full_time")?.unwrap_or(false),
            };
        }
        if let Some(r) = row.label("owner_relation", OwnerRelation::ALL, |v| [v.zh(), v.key(), v.en()])? {
            c.owner_relation = r;
        }
        if row.get("phone").is_some() {
            c.phone = row.code("phone")?;
        }
        let out = self.upsert(id.clone(), old.as_ref(), Record::Cadre(c.clone()), |r| match r {
            Record::Cadre(c) => Some(c),
            _ => None,
        })?;
        self.cadres.insert(id, c);
        Ok(out)
    }

    fn transfer_row(&mut self, row: &Row<'_>, line: usize) -> Result<Vec<(Write, Vec<String>)>, No> {
        let name = row.required("member_name")?;
        let from = self.union_named(&row.required("from_union")?, None)?;
        let to = self.union_named(&row.required("to_union")?, None)?;
        let Some(date) = row.date("date")? else { return Err(row.missing("date")) };
        // The member: of this name, in one of the two unions (or, past
        // another transfer, anywhere — if only one bears the name).
        let named = self.members_by_name.get(&name_key(&name)).cloned().unwrap_or_default();
        let in_unions: Vec<&(RecordId, Member)> =
            named.iter().filter(|(_, m)| m.union_id == to || m.union_id == from).collect();
        let member = match (in_unions.as_slice(), named.as_slice()) {
            ([one], _) => (*one).clone(),
            ([], [one]) => one.clone(),
            _ => {
                return Err(No::code(
                    auth::LEDGER_UNKNOWN_MEMBER,
                    format!("无法确定是哪一位名为“{name}”的会员：请先导入会员登记表"),
                    format!("Cannot tell which member named {name} this is: import the member ledger first"),
                ));
            }
        };
        self.once(format!("transfer:{}/{from}/{to}/{date}", member.0), line)?;
        let found = self
            .transfers
            .iter()
            .find(|(_, t)| t.member_id == member.0 && t.from_union == from && t.to_union == to && t.date == date)
            .map(|(id, t)| (id.clone(), t.clone()));
        let (id, old) = match found {
            Some((id, t)) => (id, Some(t)),
            None => (store::random_id(), None),
        };
        let mut t = old.clone().unwrap_or_else(|| Transfer {
            member_id: member.0.clone(),
            member_name: name.clone(),
            from_union: from.clone(),
            to_union: to.clone(),
            date,
            reason: TransferReason::Other,
            note: String::new(),
            place: member.1.place.clone(),
        });
        t.member_name = name;
        if let Some(r) = row.label("reason", TransferReason::ALL, |v| [v.zh(), v.key(), v.en()])? {
            t.reason = r;
        }
        if row.get("note").is_some() {
            t.note = row.text("note");
        }
        let out = self.upsert(id.clone(), old.as_ref(), Record::Transfer(t.clone()), |r| match r {
            Record::Transfer(t) => Some(t),
            _ => None,
        })?;
        self.transfers.insert(id, t);
        Ok(out)
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

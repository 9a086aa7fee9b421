//! The county's area tree (township → community or village → grid) as the
//! console shows and edits it: each area with its counts (entities, active
//! members) from the facts, and grids with their leader and surveyors
//! (网格长、网格员). Areas are records like any other: the county adds a
//! community or grid, or renames one, as `COUNTY_ACTOR`, and every device
//! receives the change with its next pull (all devices hold the area tree).

use crate::auth;
use registry::model::{Area, AreaLevel, Record, RecordId, RecordKind};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use sync::SyncError;
use sync::facts::Townships;
use sync::server::{self, Ctx, Sql};

/// One area of the tree, with its counts.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Node {
    pub id: RecordId,
    pub name: String,
    pub level: AreaLevel,
    pub parent: Option<RecordId>,
    pub township: Option<RecordId>,
    pub grid_leader: Option<String>,
    pub grid_members: Vec<String>,
    /// Open entities placed in this area (and the areas under it).
    pub entities: i64,
    /// Active members placed in this grid (grids only; members carry no community).
    pub members: i64,
}

fn counts(db: &mut dyn Sql, sql: &str) -> Result<HashMap<String, i64>, SyncError> {
    Ok(db.query(sql, &[])?.into_iter().filter_map(|r| Some((r[0].text()?.to_owned(), r[1].int()))).collect())
}

/// The areas of the townships in `townships`, townships first, then by name.
pub fn tree(db: &mut dyn Sql, ctx: &Ctx<'_>, townships: &Townships) -> Result<Vec<Node>, SyncError> {
    let by_township = counts(db, "SELECT township, count(*) FROM f_entities WHERE closed = 0 GROUP BY township")?;
    let by_community = counts(
        db,
        "SELECT community, count(*) FROM f_entities WHERE closed = 0 AND community IS NOT NULL GROUP BY community",
    )?;
    let by_grid =
        counts(db, "SELECT grid, count(*) FROM f_entities WHERE closed = 0 AND grid IS NOT NULL GROUP BY grid")?;
    let members =
        counts(db, "SELECT grid, count(*) FROM f_members WHERE left_on IS NULL AND grid IS NOT NULL GROUP BY grid")?;
    let mut out = Vec::new();
    let mut after: Option<RecordId> = None;
    loop {
        let page = server::records_of_kind(db, ctx, RecordKind::Area, after.as_ref(), 1000)?;
        let n = page.len();
        for (id, record) in page {
            after = Some(id.clone());
            let Record::Area(a) = record else { continue };
            let township = match a.level {
                AreaLevel::County => continue,
                AreaLevel::Township => Some(id.clone()),
                _ => a.township.clone(),
            };
            let keeps = match townships {
                Townships::All => true,
                Townships::Only(ids) => township.as_ref().is_some_and(|t| ids.contains(t)),
            };
            if !keeps {
                continue;
            }
            let entities = match a.level {
                AreaLevel::Township => by_township.get(id.as_str()),
                AreaLevel::Community => by_community.get(id.as_str()),
                _ => by_grid.get(id.as_str()),
            };
            out.push(Node {
                entities: entities.copied().unwrap_or(0),
                members: members.get(id.as_str()).copied().unwrap_or(0),
                id,
                name: a.name,
                level: a.level,
                parent: a.parent,
                township,
                grid_leader: a.grid_leader,
                grid_members: a.grid_members,
            });
        }
        if n < 1000 {
            break;
        }
    }
    let rank = |l: AreaLevel| match l {
        AreaLevel::County => 0,
        AreaLevel::Township => 1,
        AreaLevel::Community => 2,
        AreaLevel::Grid => 3,
    };
    out.sort_by(|a, b| rank(a.level).cmp(&rank(b.level)).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}

/// An area to add (the county itself on a new server, a township, a
/// community or a grid), or a grid's people to change.
#[derive(Debug, Deserialize, ts_rs::TS)]
pub struct AreaRequest {
    pub name: String,
    /// For a new area: "county", "township", "community" or "grid".
    #[serde(default)]
    pub level: Option<AreaLevel>,
    /// For a new area: the county (a township's parent; it may be left
    /// out), the township (a community's parent) or the community or
    /// township a grid lies in. None for the county.
    #[serde(default)]
    pub parent: Option<RecordId>,
    /// A township's kind: 镇, 乡, 城镇办事处（街道）or 开发区.
    #[serde(default)]
    pub township_kind: Option<registry::model::TownshipKind>,
    #[serde(default)]
    pub grid_leader: Option<String>,
    #[serde(default)]
    pub grid_members: Vec<String>,
}

/// A refusal of the catalogue, saying more for this case.
fn refused(code: auth::Denied, zh: &str, en: &str) -> SyncError {
    SyncError::Refused { status: code.status, code: code.code.into(), message: registry::message::Message::new(zh, en) }
}

fn people(names: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in names.iter().flat_map(|n| n.split(['、', ',', '，', ';', '；'])) {
        let n = registry::names::normalise(n);
        if !n.is_empty() && !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

fn area_of(db: &mut dyn Sql, ctx: &Ctx<'_>, id: &RecordId) -> Result<Option<Area>, SyncError> {
    Ok(match server::record(db, ctx, id)? {
        Some(Record::Area(a)) => Some(a),
        _ => None,
    })
}

/// Whether a sibling (same parent) already bears this name.
fn name_taken(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    parent: &RecordId,
    name: &str,
    except: Option<&RecordId>,
) -> Result<bool, SyncError> {
    let key = registry::names::name_key(name);
    let all = tree(db, ctx, &Townships::All)?;
    Ok(all.iter().any(|n| {
        n.parent.as_ref() == Some(parent) && Some(&n.id) != except && registry::names::name_key(&n.name) == key
    }))
}

/// Every area's name by id (a few hundred: read whole).
pub fn names(db: &mut dyn Sql, ctx: &Ctx<'_>) -> Result<HashMap<String, String>, SyncError> {
    let mut out = HashMap::new();
    server::each_of_kind(db, ctx, RecordKind::Area, |id, r| {
        if let Record::Area(a) = r {
            out.insert(id.to_string(), a.name);
        }
    })?;
    Ok(out)
}

/// The county's own area, if it has been named.
pub fn county(db: &mut dyn Sql, ctx: &Ctx<'_>) -> Result<Option<RecordId>, SyncError> {
    let mut after = None;
    loop {
        let page = server::records_of_kind(db, ctx, registry::model::RecordKind::Area, after.as_ref(), 2000)?;
        if let Some((id, _)) = page.iter().find(|(_, r)| matches!(r, Record::Area(a) if a.level == AreaLevel::County)) {
            return Ok(Some(id.clone()));
        }
        match page.last() {
            Some((id, _)) if page.len() == 2000 => after = Some(id.clone()),
            _ => return Ok(None),
        }
    }
}

/// Names the county on a new server (once), or adds a township under it
/// (with its kind), a community under a township, or a grid under a
/// community or township, for `by` (a county admin). Returns its id.
pub fn add(db: &mut dyn Sql, ctx: &Ctx<'_>, by: &str, req: &AreaRequest) -> Result<RecordId, SyncError> {
    let name = registry::names::normalise(&req.name);
    if name.is_empty() {
        return Err(SyncError::from(auth::AREA_NAME));
    }
    match req.level {
        Some(AreaLevel::County) => return add_county(db, ctx, by, name),
        Some(AreaLevel::Township) => return add_township(db, ctx, by, name, req),
        _ => {}
    }
    let (Some(level), Some(parent_id)) = (req.level, req.parent.as_ref()) else {
        return Err(SyncError::from(auth::AREA_PARENT));
    };
    let Some(parent) = area_of(db, ctx, parent_id)? else {
        return Err(refused(auth::AREA_PARENT, "上级区域不存在", "No such area above"));
    };
    let fits = matches!(
        (level, parent.level),
        (AreaLevel::Community, AreaLevel::Township) | (AreaLevel::Grid, AreaLevel::Township | AreaLevel::Community)
    );
    if !fits {
        return Err(SyncError::from(auth::AREA_LEVEL));
    }
    if name_taken(db, ctx, parent_id, &name, None)? {
        return Err(SyncError::from(auth::AREA_NAME_TAKEN));
    }
    let township = match parent.level {
        AreaLevel::Township => parent_id.clone(),
        _ => parent
            .township
            .clone()
            .ok_or_else(|| refused(auth::AREA_PARENT, "上级区域不属于任何乡镇", "The area above has no township"))?,
    };
    let grid = level == AreaLevel::Grid;
    let area = Area {
        name,
        level,
        township_kind: None,
        parent: Some(parent_id.clone()),
        township: Some(township),
        code: String::new(),
        grid_leader: req.grid_leader.as_deref().map(registry::names::normalise).filter(|s| grid && !s.is_empty()),
        grid_members: if grid { people(&req.grid_members) } else { Vec::new() },
        duty: String::new(),
        campaigns: Default::default(),
    };
    let what = format!("area:add {} {}", area.level.key(), area.name);
    let id = crate::decisions::county_create(db, ctx, Record::Area(area), by)?;
    log(db, by, &what, &id)?;
    Ok(id)
}

/// An area with nothing but its name and level.
pub(crate) fn bare(name: String, level: AreaLevel) -> Area {
    Area {
        name,
        level,
        township_kind: None,
        parent: None,
        township: None,
        code: String::new(),
        grid_leader: None,
        grid_members: Vec::new(),
        duty: String::new(),
        campaigns: Default::default(),
    }
}

/// The county's own area: one per server.
fn add_county(db: &mut dyn Sql, ctx: &Ctx<'_>, by: &str, name: String) -> Result<RecordId, SyncError> {
    if county(db, ctx)?.is_some() {
        return Err(refused(
            auth::AREA_LEVEL,
            "本县已设立，不能再设一个县",
            "The county is already named; there is only one",
        ));
    }
    let id = crate::decisions::county_create(db, ctx, Record::Area(bare(name.clone(), AreaLevel::County)), by)?;
    log(db, by, &format!("area:add county {name}"), &id)?;
    Ok(id)
}

/// A township under the county, with its kind.
fn add_township(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    by: &str,
    name: String,
    req: &AreaRequest,
) -> Result<RecordId, SyncError> {
    let Some(county) = county(db, ctx)? else {
        return Err(refused(auth::AREA_PARENT, "请先设立本县", "Name the county first"));
    };
    if req.parent.as_ref().is_some_and(|p| *p != county) {
        return Err(SyncError::from(auth::AREA_LEVEL));
    }
    if req.township_kind.is_none() {
        return Err(refused(
            auth::AREA_PARENT,
            "请选择乡镇类别（镇、乡、城镇办事处、开发区）",
            "Choose the township kind (town, rural township, urban office, development zone)",
        ));
    }
    if name_taken(db, ctx, &county, &name, None)? {
        return Err(SyncError::from(auth::AREA_NAME_TAKEN));
    }
    let mut area = bare(name.clone(), AreaLevel::Township);
    area.township_kind = req.township_kind;
    area.parent = Some(county);
    let id = crate::decisions::county_create(db, ctx, Record::Area(area), by)?;
    log(db, by, &format!("area:add township {name}"), &id)?;
    Ok(id)
}

fn log(db: &mut dyn Sql, by: &str, what: &str, id: &RecordId) -> Result<(), SyncError> {
    db.execute(
        "INSERT INTO config_log (at, who, what, detail) VALUES ($1, $2, $3, $4)",
        &[crate::db::now_ms().into(), by.into(), what.into(), id.as_str().into()],
    )?;
    Ok(())
}

/// Renames an area, and for a grid sets its leader and surveyors.
pub fn edit(db: &mut dyn Sql, ctx: &Ctx<'_>, by: &str, id: &RecordId, req: &AreaRequest) -> Result<(), SyncError> {
    let name = registry::names::normalise(&req.name);
    if name.is_empty() {
        return Err(SyncError::from(auth::AREA_NAME));
    }
    let Some(area) = area_of(db, ctx, id)? else {
        return Err(SyncError::from(auth::NOT_FOUND_AREA));
    };
    if let Some(parent) = &area.parent
        && name_taken(db, ctx, parent, &name, Some(id))?
    {
        return Err(SyncError::from(auth::AREA_NAME_TAKEN));
    }
    log(db, by, &format!("area:edit {name}"), id)?;
    crate::decisions::county_edit(db, ctx, id, by, |r| {
        if let Record::Area(a) = r {
            a.name = name;
            if a.level == AreaLevel::Grid {
                a.grid_leader = req.grid_leader.as_deref().map(registry::names::normalise).filter(|s| !s.is_empty());
                a.grid_members = people(&req.grid_members);
            }
        }
    })?;
    Ok(())
}

//! Long lists the console pages through: filtered, sorted and cut into
//! pages on the server, with the total, so a county of 100,000 members
//! sends a clerk fifty rows at a time. What a row's status means comes
//! from the registry (`rules::covering` inside `sync::facts::entities`),
//! never from a restatement here.

use super::{Cx, Method, Operation};
use crate::actor::Allowed;
use crate::auth;
use crate::error::CountyError;
use registry::model::RecordId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use sync::facts::Townships;

/// The most rows a page may hold.
pub const MAX_PAGE: u32 = 200;

/// A page asked for (from 1; fifty rows unless asked, at most
/// [`MAX_PAGE`]): (page, size, rows to skip). Every paged list reads its
/// window here.
pub(super) fn window(page: Option<u32>, size: Option<u32>) -> (u32, u32, usize) {
    let size = size.unwrap_or(50).clamp(1, MAX_PAGE);
    let page = page.unwrap_or(1).clamp(1, 100_000);
    (page, size, (page as usize - 1) * size as usize)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum EntityStatus {
    #[default]
    All,
    /// Open, with a union covering it today.
    Covered,
    /// Open, with none.
    Uncovered,
    /// Closed down or moved away.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum EntitySort {
    #[default]
    Name,
    Workers,
    Township,
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct EntityQuery {
    #[serde(default)]
    pub township: Option<RecordId>,
    #[serde(default)]
    pub grid: Option<RecordId>,
    /// Part of the name (compared as name keys: full-width, spaces).
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub status: EntityStatus,
    #[serde(default)]
    pub sort: EntitySort,
    #[serde(default, deserialize_with = "super::de::opt_bool")]
    pub desc: bool,
    /// From 1.
    #[serde(default, deserialize_with = "super::de::opt_number")]
    pub page: Option<u32>,
    #[serde(default, deserialize_with = "super::de::opt_number")]
    pub size: Option<u32>,
}

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct EntityRow {
    pub id: RecordId,
    pub name: String,
    pub township: String,
    pub grid: Option<String>,
    pub workers: i64,
    pub closed: bool,
    /// The covering union's name, if one covers it.
    pub covered_by: Option<String>,
}

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct EntityPage {
    /// Rows matching the filters, over every page.
    pub total: usize,
    pub page: u32,
    pub size: u32,
    pub rows: Vec<EntityRow>,
}

/// `GET /api/console/entities`: the census's entities, a page at a time,
/// in the staff member's townships only.
#[derive(Debug)]
pub struct ListEntities;

impl Operation for ListEntities {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/console/entities";
    type Request = EntityQuery;
    type Response = EntityPage;
    const ALLOWED: Allowed = Allowed::Staff;
    fn run(cx: &mut Cx<'_>, q: EntityQuery) -> Result<EntityPage, CountyError> {
        if ![&q.township, &q.grid].into_iter().flatten().all(|i| registry::keys::is_record_id(i.as_str())) {
            return Err(CountyError::bad_request());
        }
        let towns = cx.actor.townships(q.township.as_ref().map(|t| t.as_str())).ok_or(auth::FORBIDDEN)?;
        let names: HashMap<String, String> = crate::areas::names(cx.db, &cx.ctx)?;
        let mut facts = match &towns {
            Townships::All => sync::facts::entities(cx.db, None, q.grid.as_ref(), cx.ctx.today)?,
            Townships::Only(ts) => {
                let mut all = Vec::new();
                for t in ts {
                    all.extend(sync::facts::entities(cx.db, Some(t), q.grid.as_ref(), cx.ctx.today)?);
                }
                all
            }
        };
        let key = q.q.as_deref().map(registry::names::name_key).filter(|k| !k.is_empty());
        facts.retain(|e| {
            let status = match q.status {
                EntityStatus::All => true,
                EntityStatus::Covered => !e.closed && e.covered_by.is_some(),
                EntityStatus::Uncovered => !e.closed && e.covered_by.is_none(),
                EntityStatus::Closed => e.closed,
            };
            status && key.as_ref().is_none_or(|k| registry::names::name_key(&e.name).contains(k.as_str()))
        });
        let town = |e: &sync::facts::EntityFact| names.get(e.township.as_str()).cloned().unwrap_or_default();
        match q.sort {
            EntitySort::Name => facts.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id))),
            EntitySort::Workers => facts.sort_by(|a, b| a.workers.cmp(&b.workers).then(a.name.cmp(&b.name))),
            EntitySort::Township => facts.sort_by(|a, b| town(a).cmp(&town(b)).then(a.name.cmp(&b.name))),
        }
        if q.desc {
            facts.reverse();
        }
        let (page, size, skip) = window(q.page, q.size);
        let total = facts.len();
        let rows = facts
            .iter()
            .skip(skip)
            .take(size as usize)
            .map(|e| EntityRow {
                id: e.id.clone(),
                name: e.name.clone(),
                township: town(e),
                grid: e.grid.as_ref().and_then(|g| names.get(g.as_str()).cloned()),
                workers: e.workers,
                closed: e.closed,
                covered_by: e.covered_by.as_ref().map(|(_, n)| n.clone()),
            })
            .collect();
        Ok(EntityPage { total, page, size, rows })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    #[default]
    All,
    /// In the union today.
    Active,
    /// Left it.
    Left,
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct MemberQuery {
    #[serde(default)]
    pub township: Option<RecordId>,
    #[serde(default)]
    pub union: Option<RecordId>,
    /// A whole name (found by its keyed hash: the server keeps no names in
    /// the clear) or a whole resident ID.
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub status: MemberStatus,
    #[serde(default, deserialize_with = "super::de::opt_number")]
    pub page: Option<u32>,
    #[serde(default, deserialize_with = "super::de::opt_number")]
    pub size: Option<u32>,
}

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct MemberRow {
    pub id: RecordId,
    pub name: String,
    /// Masked: `110105********002X`.
    pub resident_id: String,
    pub township: String,
    pub union: String,
    pub employer: String,
    #[ts(type = "string")]
    pub joined_on: registry::Date,
    #[ts(type = "string | null")]
    pub left_on: Option<registry::Date>,
}

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct MemberPage {
    pub total: usize,
    pub page: u32,
    pub size: u32,
    pub rows: Vec<MemberRow>,
}

/// `GET /api/console/members`: the members, newest first, a page at a
/// time, in the staff member's townships only; a page's rows are read
/// from their documents, ID numbers masked.
#[derive(Debug)]
pub struct ListMembers;

impl Operation for ListMembers {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/console/members";
    type Request = MemberQuery;
    type Response = MemberPage;
    const ALLOWED: Allowed = Allowed::Staff;
    fn run(cx: &mut Cx<'_>, q: MemberQuery) -> Result<MemberPage, CountyError> {
        if ![&q.township, &q.union].into_iter().flatten().all(|i| registry::keys::is_record_id(i.as_str())) {
            return Err(CountyError::bad_request());
        }
        let towns = cx.actor.townships(q.township.as_ref().map(|t| t.as_str())).ok_or(auth::FORBIDDEN)?;
        let text = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
        // A resident ID names its record; a name is looked up by its hash.
        let by_id = text.and_then(|t| registry::ids::ResidentId::parse(t, cx.ctx.today).ok()).map(|rid| {
            let secret = registry::keys::CountySecret::from_bytes(cx.county.keys.county_secret);
            secret.record_id(&format!("member:{}", rid.as_str()))
        });
        let hash = match (text, &by_id) {
            (Some(t), None) => Some(sync::facts::member_name_hash(&cx.county.sealer, t)),
            _ => None,
        };
        let mut facts = Vec::new();
        let scope: Vec<Option<&RecordId>> = match &towns {
            Townships::All => vec![None],
            Townships::Only(ts) => ts.iter().map(Some).collect(),
        };
        for t in scope {
            facts.extend(sync::facts::members(cx.db, t, q.union.as_ref(), hash.as_deref())?);
        }
        if let Some(id) = &by_id {
            facts.retain(|m| &m.id == id);
        }
        let today = cx.ctx.today;
        facts.retain(|m| match q.status {
            MemberStatus::All => true,
            MemberStatus::Active => registry::model::active_on(m.left_on, today),
            MemberStatus::Left => !registry::model::active_on(m.left_on, today),
        });
        facts.sort_by(|a, b| b.joined_on.cmp(&a.joined_on).then(a.id.cmp(&b.id)));
        let (page, size, skip) = window(q.page, q.size);
        let total = facts.len();
        let names = crate::areas::names(cx.db, &cx.ctx)?;
        let mut unions: HashMap<RecordId, String> = HashMap::new();
        let mut rows = Vec::new();
        for f in facts.iter().skip(skip).take(size as usize) {
            let Some(registry::model::Record::Member(m)) = sync::server::record(cx.db, &cx.ctx, &f.id)? else {
                continue;
            };
            if !unions.contains_key(&m.union_id) {
                let name = match sync::server::record(cx.db, &cx.ctx, &m.union_id)? {
                    Some(registry::model::Record::Union(u)) => u.name,
                    _ => String::new(),
                };
                unions.insert(m.union_id.clone(), name);
            }
            rows.push(MemberRow {
                id: f.id.clone(),
                resident_id: registry::privacy::mask_id(&m.resident_id),
                township: names.get(m.place.township.as_str()).cloned().unwrap_or_default(),
                union: unions[&m.union_id].clone(),
                employer: m.employer_name,
                joined_on: m.joined_on,
                left_on: m.left_on,
                name: m.name,
            });
        }
        Ok(MemberPage { total, page, size, rows })
    }
}

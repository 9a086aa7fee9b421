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
        let size = q.size.unwrap_or(50).clamp(1, MAX_PAGE);
        let page = q.page.unwrap_or(1).max(1);
        let total = facts.len();
        let rows = facts
            .iter()
            .skip((page as usize - 1) * size as usize)
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

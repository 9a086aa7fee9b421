//! The door-to-door census as the console sees it: for a township (or one
//! of its grids) this year, which open entities nobody has visited, which
//! are to be visited again, every visit with its position and photos, and
//! the same counts grid by grid. The judgement is the registry's
//! (`rules::census_status`), over the facts kept beside the documents.

use registry::Date;
use registry::model::{Record, RecordId, VisitOutcome};
use registry::rules::{CensusStatus, VisitFacts, census_status};
use std::collections::{BTreeMap, HashMap};
use sync::SyncError;
use sync::server::{self, Ctx, Sql, Val};

/// The most entities each list names.
const LIST: usize = 500;

struct Visit {
    row: serde_json::Value,
    entity: Option<String>,
    visited_on: Date,
    time: String,
    outcome: VisitOutcome,
    follow_up_on: Option<Date>,
}

fn date(v: &Val) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    v.text().and_then(|s| Date::parse(s, &fmt).ok())
}

/// The census report of a township, or of one of its grids.
pub fn report(
    db: &mut dyn Sql,
    ctx: &Ctx<'_>,
    township: &RecordId,
    grid: Option<&str>,
    year: i32,
    today: Date,
) -> Result<serde_json::Value, SyncError> {
    let mut params: Vec<Val> = vec![township.as_str().into()];
    let in_grid = match grid {
        Some(g) => {
            params.push(g.into());
            " AND grid = $2"
        }
        None => "",
    };
    let entities = db.query(
        &format!("SELECT id, grid, workers FROM f_entities WHERE township = $1 AND closed = 0{in_grid} ORDER BY id"),
        &params,
    )?;
    let mut photos: HashMap<String, Vec<String>> = HashMap::new();
    for r in db.query(&format!("SELECT doc_id, hash FROM f_blob_refs WHERE township = $1{in_grid}"), &params)? {
        photos
            .entry(r[0].text().unwrap_or_default().to_owned())
            .or_default()
            .push(r[1].text().unwrap_or_default().to_owned());
    }
    let n = params.len();
    params.push(format!("{year:04}-01-01").into());
    params.push(format!("{year:04}-12-31").into());
    let rows = db.query(
        &format!(
            "SELECT id, entity_id, grid, visited_on, time, outcome, follow_up_on, surveyor, lat_e6, lon_e6, manual, name
             FROM f_visits WHERE township = $1{in_grid} AND visited_on >= ${} AND visited_on <= ${}
             ORDER BY visited_on, time, id",
            n + 1,
            n + 2
        ),
        &params,
    )?;
    let mut visits: Vec<Visit> = Vec::with_capacity(rows.len());
    for r in rows {
        let (Some(visited_on), Some(outcome)) = (date(&r[3]), r[5].text().and_then(VisitOutcome::from_key)) else {
            continue;
        };
        let id = r[0].text().unwrap_or_default().to_owned();
        let position = match (&r[8], &r[9]) {
            (Val::Int(lat), Val::Int(lon)) => Some((*lat, *lon)),
            _ => None,
        };
        visits.push(Visit {
            row: serde_json::json!({
                "id": id, "entity_id": r[1].text(), "name": r[11].text(), "grid": r[2].text(),
                "visited_on": r[3].text(), "time": r[4].text(), "outcome": outcome.key(),
                "follow_up_on": r[6].text(), "surveyor": r[7].text(),
                "lat_e6": position.map(|p| p.0), "lon_e6": position.map(|p| p.1), "manual": r[10].int() != 0,
                "photos": photos.get(&id).cloned().unwrap_or_default(),
            }),
            entity: r[1].text().map(str::to_owned),
            visited_on,
            time: r[4].text().unwrap_or_default().to_owned(),
            outcome,
            follow_up_on: date(&r[6]),
        });
    }
    let mut by_entity: HashMap<&str, Vec<VisitFacts<'_>>> = HashMap::new();
    for v in &visits {
        if let Some(e) = &v.entity {
            by_entity.entry(e.as_str()).or_default().push(VisitFacts {
                visited_on: v.visited_on,
                time: &v.time,
                outcome: v.outcome,
                follow_up_on: v.follow_up_on,
            });
        }
    }
    #[derive(Default, serde::Serialize)]
    struct Counts {
        entities: u64,
        not_visited: u64,
        visit_again: u64,
        scheduled: u64,
        done: u64,
    }
    let mut county = Counts::default();
    let mut grids: BTreeMap<String, Counts> = BTreeMap::new();
    let (mut not_visited, mut again) = (Vec::new(), Vec::new());
    for e in &entities {
        let id = e[0].text().unwrap_or_default();
        let status = census_status(by_entity.get(id).map_or(&[][..], Vec::as_slice), year, today);
        let g = grids.entry(e[1].text().unwrap_or_default().to_owned()).or_default();
        for c in [&mut county, g] {
            c.entities += 1;
            match status {
                CensusStatus::NotVisited => c.not_visited += 1,
                CensusStatus::VisitAgain => c.visit_again += 1,
                CensusStatus::Scheduled => c.scheduled += 1,
                CensusStatus::Done => c.done += 1,
            }
        }
        let list = match status {
            CensusStatus::NotVisited => &mut not_visited,
            CensusStatus::VisitAgain => &mut again,
            _ => continue,
        };
        if list.len() < LIST {
            list.push((RecordId::from(id), e[1].text().map(str::to_owned), e[2].int()));
        }
    }
    let mut named = |list: Vec<(RecordId, Option<String>, i64)>| -> Result<Vec<serde_json::Value>, SyncError> {
        let mut out = Vec::with_capacity(list.len());
        for (id, grid, workers) in list {
            let name = match server::record(db, ctx, &id)? {
                Some(Record::Entity(e)) => e.name,
                _ => continue,
            };
            out.push(serde_json::json!({ "id": id, "name": name, "grid": grid, "workers": workers }));
        }
        Ok(out)
    };
    let not_visited = named(not_visited)?;
    let again = named(again)?;
    Ok(serde_json::json!({
        "year": year,
        "township": township,
        "grid": grid,
        "counts": county,
        "grids": grids.into_iter().map(|(g, c)| serde_json::json!({ "grid": g, "counts": c })).collect::<Vec<_>>(),
        "not_visited": not_visited,
        "visit_again": again,
        "visits": visits.into_iter().map(|v| v.row).collect::<Vec<_>>(),
    }))
}

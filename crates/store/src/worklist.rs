//! What is left to do in a surveyor's scope, read from the projections.
//!
//! The field app's home screen shows these lists; each is the plan's rule
//! restated over projection rows (the thresholds and the "chair in office"
//! test are the registry's, as in `progress.rs`), so a store of 100,000
//! records answers without loading a document.

use crate::error::StoreError;
use crate::store::Store;
use registry::Date;
use registry::model::{RecordId, RecordKind};
use registry::rules::OWN_UNION_MIN_WORKERS;
use serde::Serialize;

/// One list of the worklist: its first rows and how many there are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Todo {
    pub total: u64,
    pub rows: Vec<TodoRow>,
}

/// A record on a worklist, with the number that put it there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TodoRow {
    pub id: RecordId,
    pub kind: RecordKind,
    pub name: String,
    pub township: Option<RecordId>,
    pub grid: Option<RecordId>,
    /// Workers for entities; 六有 items met for unions.
    pub count: i64,
    /// The county's note, for records it returned for correction.
    pub note: Option<String>,
}

/// What is left to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Worklist {
    /// Open entities with 25 or more workers and no union of their own
    /// (none at all, or only a joint or community union covering them).
    pub need_own_union: Todo,
    /// Open entities with workers that no union covers at all.
    pub uncovered: Todo,
    /// Live unions with no chair in office.
    pub chair_vacant: Todo,
    /// Live unions missing one or more of the 六有 items.
    pub liuyou_missing: Todo,
    /// Records the county returned for correction, with its note.
    pub returned: Todo,
    /// Open entities nobody has visited this year (`rules::census_status`).
    pub not_visited: Todo,
    /// Entities whose last visit found nobody or was refused with no later
    /// date set, or whose follow-up date has come.
    pub visit_again: Todo,
    /// Live unions with active members who hold no valid card (发证率), with
    /// how many: the members this device holds.
    pub uncarded: Todo,
}

// The covering union (held, or a stub of one outside the scope) is joined
// only while it covers (`rules::covering`: a
// union dissolved by today covers nothing); the store's agreement test holds
// these lists to the registry's findings.
const NEED_OWN_UNION: &str = "FROM entities e JOIN records r ON r.id = e.id
    LEFT JOIN covering_unions u ON u.id = e.union_id AND (u.dissolved_on IS NULL OR u.dissolved_on > ?2)
    WHERE NOT e.closed AND e.workers >= ?1 AND (u.id IS NULL OR u.kind <> 'single_unit')";
const UNCOVERED: &str = "FROM entities e JOIN records r ON r.id = e.id
    LEFT JOIN covering_unions u ON u.id = e.union_id AND (u.dissolved_on IS NULL OR u.dissolved_on > ?2)
    WHERE NOT e.closed AND e.workers > 0 AND e.workers < ?1 AND u.id IS NULL";
const CHAIR_VACANT: &str = "FROM unions u JOIN records r ON r.id = u.id
    WHERE (u.dissolved_on IS NULL OR u.dissolved_on > ?1)
    AND NOT EXISTS (SELECT 1 FROM cadres c WHERE c.union_id = u.id AND c.role = 'chair'
        AND (c.elected_on IS NULL OR c.elected_on <= ?1) AND (c.left_on IS NULL OR c.left_on > ?1))";
const RETURNED: &str = "FROM records r WHERE r.returned IS NOT NULL AND ?1 IS NOT NULL";
const NOT_VISITED: &str = "FROM entities e JOIN records r ON r.id = e.id
    WHERE NOT e.closed AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.entity_id = e.id AND v.visited_on >= ?1)";
/// The latest visit of the year decides, as in `rules::census_status`
/// (the year's start is `?1`'s year; `?1` is today).
const VISIT_AGAIN: &str = "FROM entities e JOIN records r ON r.id = e.id
    JOIN visits v ON v.id = (SELECT v2.id FROM visits v2 WHERE v2.entity_id = e.id
        AND v2.visited_on >= substr(?1, 1, 4) || '-01-01'
        ORDER BY v2.visited_on DESC, v2.time DESC, v2.id DESC LIMIT 1)
    WHERE NOT e.closed AND (v.follow_up_on <= ?1
        OR (v.follow_up_on IS NULL AND v.outcome IN ('nobody_there', 'refused')))";
const LIUYOU_MISSING: &str = "FROM unions u JOIN records r ON r.id = u.id
    WHERE (u.dissolved_on IS NULL OR u.dissolved_on > ?1) AND NOT u.liuyou_complete";

/// `registry::rules::card_valid` restated (`?1` is today): a card serial,
/// not revoked, not past its last day.
const UNCARDED: &str = "FROM unions u JOIN records r ON r.id = u.id
    JOIN (SELECT m.union_id, COUNT(*) AS n FROM members m
        WHERE (m.left_on IS NULL OR m.left_on > ?1)
        AND NOT (m.card_serial IS NOT NULL AND (m.card_expires IS NULL OR m.card_expires >= ?1)
            AND NOT EXISTS (SELECT 1 FROM revoked_cards c WHERE c.serial = m.card_serial))
        GROUP BY m.union_id) w ON w.union_id = u.id
    WHERE (u.dissolved_on IS NULL OR u.dissolved_on > ?1)";

impl Store {
    /// The worklist as of `today`, each list cut to its first `limit` rows
    /// (largest entities first; unions by name).
    pub fn worklist(&self, today: Date, limit: usize) -> Result<Worklist, StoreError> {
        let year_start = format!("{:04}-01-01", today.year());
        let today = today.to_string();
        let limit = limit as i64;
        Ok(Worklist {
            need_own_union: self.todo(
                NEED_OWN_UNION,
                &[&OWN_UNION_MIN_WORKERS, &today],
                "e.workers",
                "e.workers DESC",
                limit,
            )?,
            uncovered: self.todo(UNCOVERED, &[&OWN_UNION_MIN_WORKERS, &today], "e.workers", "e.workers DESC", limit)?,
            chair_vacant: self.todo(CHAIR_VACANT, &[&today], "0", "r.name", limit)?,
            liuyou_missing: self.todo(LIUYOU_MISSING, &[&today], "0", "r.name", limit)?,
            returned: self.todo(RETURNED, &[&today], "0", "r.name", limit)?,
            not_visited: self.todo(NOT_VISITED, &[&year_start], "e.workers", "e.workers DESC", limit)?,
            visit_again: self.todo(
                VISIT_AGAIN,
                &[&today],
                "e.workers",
                "coalesce(v.follow_up_on, v.visited_on)",
                limit,
            )?,
            uncarded: self.todo(UNCARDED, &[&today], "w.n", "w.n DESC", limit)?,
        })
    }

    fn todo(
        &self,
        from: &str,
        params: &[&dyn rusqlite::ToSql],
        count: &str,
        order: &str,
        limit: i64,
    ) -> Result<Todo, StoreError> {
        let conn = self.connection();
        let total: i64 = conn.prepare_cached(&format!("SELECT COUNT(*) {from}"))?.query_row(params, |r| r.get(0))?;
        let mut with_limit = params.to_vec();
        with_limit.push(&limit);
        let rows = conn
            .prepare_cached(&format!(
                "SELECT r.id, r.kind, r.name, r.township, r.grid, {count}, r.returned {from} ORDER BY {order}, r.id LIMIT ?{}",
                with_limit.len()
            ))?
            .query_map(with_limit.as_slice(), |r| {
                let kind: String = r.get(1)?;
                Ok(TodoRow {
                    id: RecordId(r.get(0)?),
                    kind: RecordKind::from_key(&kind).unwrap_or(RecordKind::Entity),
                    name: r.get(2)?,
                    township: r.get::<_, Option<String>>(3)?.map(RecordId),
                    grid: r.get::<_, Option<String>>(4)?.map(RecordId),
                    count: r.get(5)?,
                    note: r.get(6)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Todo { total: total as u64, rows })
    }
}

/// A node of the area tree, for pickers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AreaRow {
    pub id: RecordId,
    pub name: String,
    /// county, township, community, grid.
    pub level: String,
    pub parent: Option<RecordId>,
    pub township: Option<RecordId>,
}

impl Store {
    /// The area tree this store holds, by level then name.
    pub fn areas(&self) -> Result<Vec<AreaRow>, StoreError> {
        let rows = self
            .connection()
            .prepare_cached(
                "SELECT id, name, level, parent, township FROM areas
                 ORDER BY CASE level WHEN 'county' THEN 0 WHEN 'township' THEN 1 WHEN 'community' THEN 2 ELSE 3 END, name, id",
            )?
            .query_map([], |r| {
                Ok(AreaRow {
                    id: RecordId(r.get(0)?),
                    name: r.get(1)?,
                    level: r.get(2)?,
                    parent: r.get::<_, Option<String>>(3)?.map(RecordId),
                    township: r.get::<_, Option<String>>(4)?.map(RecordId),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

/// A census visit as lists and the map show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VisitRow {
    pub id: RecordId,
    pub entity_id: Option<RecordId>,
    /// The entity's name as the visit recorded it.
    pub name: String,
    pub township: Option<RecordId>,
    pub grid: Option<RecordId>,
    pub visited_on: String,
    pub time: String,
    pub outcome: String,
    pub follow_up_on: Option<String>,
    pub surveyor: String,
    pub lat_e6: Option<i64>,
    pub lon_e6: Option<i64>,
    /// The position was typed, not read from the device.
    pub manual: bool,
}

const VISIT_COLUMNS: &str = "v.id, v.entity_id, r.name, r.township, r.grid, v.visited_on, v.time, v.outcome,
    v.follow_up_on, v.surveyor, v.lat_e6, v.lon_e6, v.manual";

fn visit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<VisitRow> {
    Ok(VisitRow {
        id: RecordId(r.get(0)?),
        entity_id: r.get::<_, Option<String>>(1)?.map(RecordId),
        name: r.get(2)?,
        township: r.get::<_, Option<String>>(3)?.map(RecordId),
        grid: r.get::<_, Option<String>>(4)?.map(RecordId),
        visited_on: r.get(5)?,
        time: r.get(6)?,
        outcome: r.get(7)?,
        follow_up_on: r.get(8)?,
        surveyor: r.get(9)?,
        lat_e6: r.get(10)?,
        lon_e6: r.get(11)?,
        manual: r.get(12)?,
    })
}

impl Store {
    /// The visits to an entity, newest first.
    pub fn visits_of(&self, entity: &RecordId) -> Result<Vec<VisitRow>, StoreError> {
        let rows = self
            .connection()
            .prepare_cached(&format!(
                "SELECT {VISIT_COLUMNS} FROM visits v JOIN records r ON r.id = v.id
                 WHERE v.entity_id = ?1 ORDER BY v.visited_on DESC, v.time DESC, v.id DESC"
            ))?
            .query_map([entity.as_str()], visit_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The visits of a year with a position, in a township or a grid (or
    /// all this store holds), for the map: oldest first, at most `limit`.
    pub fn visit_points(
        &self,
        year: i32,
        township: Option<&RecordId>,
        grid: Option<&RecordId>,
        limit: usize,
    ) -> Result<Vec<VisitRow>, StoreError> {
        let rows = self
            .connection()
            .prepare_cached(&format!(
                "SELECT {VISIT_COLUMNS} FROM visits v JOIN records r ON r.id = v.id
                 WHERE v.lat_e6 IS NOT NULL AND v.visited_on >= ?1 AND v.visited_on <= ?2
                   AND (?3 IS NULL OR r.township = ?3) AND (?4 IS NULL OR r.grid = ?4)
                 ORDER BY v.visited_on, v.time, v.id LIMIT ?5"
            ))?
            .query_map(
                rusqlite::params![
                    format!("{year:04}-01-01"),
                    format!("{year:04}-12-31"),
                    township.map(RecordId::as_str),
                    grid.map(RecordId::as_str),
                    limit as i64
                ],
                visit_row,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

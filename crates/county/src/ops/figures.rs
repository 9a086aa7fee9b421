//! The campaign's figures for the console: progress against the year's
//! targets, a township in detail, the monthly trend, the daily snapshots and
//! the door-to-door census. Staff see the county (county admins) or their
//! own townships; asking for another township is `FORBIDDEN`.

use super::{Cx, Method, Operation};
use crate::actor::Allowed;
use crate::auth;
use crate::error::CountyError;
use registry::model::RecordId;
use registry::progress::{ProgressReport, Tally};
use serde::{Deserialize, Serialize};
use sync::facts::{self, Month, Townships};

/// The year asked for (this year if not said), within the years the
/// registry's calendar knows (`CONFIG_YEAR`).
pub fn asked_year(year: Option<i32>) -> Result<i32, CountyError> {
    let year = year.unwrap_or(crate::today().year());
    registry::progress::check_year(year).map_err(|i| CountyError::Refused {
        status: 400,
        code: i.code,
        message: i.message,
    })
}

/// A township asked for by id: well formed, and one the actor may see.
fn township_seen(cx: &Cx<'_>, asked: Option<&str>) -> Result<Townships, CountyError> {
    if asked.is_some_and(|t| !registry::keys::is_record_id(t)) {
        return Err(CountyError::bad_request());
    }
    cx.actor.townships(asked).ok_or(CountyError::Denied(auth::FORBIDDEN))
}

#[derive(Debug, Default, Deserialize, Serialize, ts_rs::TS)]
pub struct YearAndTownship {
    #[serde(default, deserialize_with = "super::de::opt_number")]
    pub year: Option<i32>,
    /// One township's figures only.
    #[serde(default)]
    pub township: Option<String>,
}

/// `GET /api/console/progress`: the campaign's progress against the year's
/// targets, from the facts kept beside the documents.
#[derive(Debug)]
pub struct Progress;

impl Operation for Progress {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/console/progress";
    type Request = YearAndTownship;
    type Response = ProgressReport;
    const ALLOWED: Allowed = Allowed::Staff;
    fn run(cx: &mut Cx<'_>, q: YearAndTownship) -> Result<ProgressReport, CountyError> {
        let townships = township_seen(cx, q.township.as_deref())?;
        let year = asked_year(q.year)?;
        let config = crate::campaign::load(cx.db, year)?;
        let revoked = crate::cards::revoked_serials(cx.db)?;
        Ok(facts::progress(cx.db, &config, cx.ctx.today, &townships, &revoked)?)
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct TownshipQuery {
    pub id: String,
    #[serde(default, deserialize_with = "super::de::opt_number")]
    pub year: Option<i32>,
}

/// A surveyor's sums over the grids their devices are enrolled for.
#[derive(Debug, Default, Deserialize, Serialize, ts_rs::TS)]
pub struct SurveyorTally {
    pub entities: u64,
    pub covered: u64,
    pub with_workers: u64,
    pub unions: u64,
    pub new_unions: u64,
    pub active_members: u64,
    pub new_members: u64,
    pub vacancies: u64,
}

impl SurveyorTally {
    fn add(&mut self, t: &Tally) {
        self.entities += t.entities;
        self.covered += t.coverage.numerator;
        self.with_workers += t.coverage.denominator;
        self.unions += t.unions;
        self.new_unions += t.new_unions;
        self.active_members += t.active_members;
        self.new_members += t.new_members;
        self.vacancies += t.vacancies;
    }
}

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Surveyor {
    pub person: String,
    /// The names of their grids in this township.
    pub grids: Vec<String>,
    pub tally: SurveyorTally,
}

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct TownshipDetail {
    pub township: RecordId,
    pub grids: Vec<registry::progress::TownshipProgress>,
    /// Its live unions, each with the figures of what it covers and its
    /// members (a union's 入会率 and 发证率).
    pub unions: Vec<registry::progress::TownshipProgress>,
    pub surveyors: Vec<Surveyor>,
    pub trend: Vec<Month>,
}

/// `GET /api/console/township?id=`: one township in detail: its grids'
/// figures, each surveyor's, and its month-by-month trend.
#[derive(Debug)]
pub struct Township;

impl Operation for Township {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/console/township";
    type Request = TownshipQuery;
    type Response = TownshipDetail;
    const ALLOWED: Allowed = Allowed::Staff;
    fn run(cx: &mut Cx<'_>, q: TownshipQuery) -> Result<TownshipDetail, CountyError> {
        let only = township_seen(cx, Some(&q.id))?;
        let year = asked_year(q.year)?;
        let township = RecordId::from(q.id.as_str());
        let config = crate::campaign::load(cx.db, year)?;
        let revoked = crate::cards::revoked_serials(cx.db)?;
        let grids = facts::by_grid(cx.db, &cx.ctx, &config, cx.ctx.today, &township, &revoked)?;
        let tallies: std::collections::HashMap<&str, &Tally> =
            grids.townships.iter().map(|g| (g.id.as_str(), &g.tally)).collect();
        let mut surveyors = Vec::new();
        for (person, theirs) in crate::auth::active_devices_grids(cx.db)? {
            let theirs: Vec<&str> = theirs.iter().map(String::as_str).filter(|g| tallies.contains_key(g)).collect();
            if theirs.is_empty() {
                continue;
            }
            let mut tally = SurveyorTally::default();
            for g in &theirs {
                tally.add(tallies[g]);
            }
            let names =
                grids.townships.iter().filter(|g| theirs.contains(&g.id.as_str())).map(|g| g.name.clone()).collect();
            surveyors.push(Surveyor { person, grids: names, tally });
        }
        let trend = facts::monthly(cx.db, year, &only)?;
        let unions = facts::by_union(cx.db, &config, cx.ctx.today, &township, &revoked)?.townships;
        Ok(TownshipDetail { township, grids: grids.townships, unions, surveyors, trend })
    }
}

#[derive(Debug, Default, Deserialize, Serialize, ts_rs::TS)]
pub struct YearOnly {
    #[serde(default, deserialize_with = "super::de::opt_number")]
    pub year: Option<i32>,
}

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct TrendAnswer {
    pub year: i32,
    pub months: Vec<Month>,
}

/// `GET /api/console/trend`: new unions and new members month by month,
/// for what the staff member may see.
#[derive(Debug)]
pub struct Trend;

impl Operation for Trend {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/console/trend";
    type Request = YearOnly;
    type Response = TrendAnswer;
    const ALLOWED: Allowed = Allowed::Staff;
    fn run(cx: &mut Cx<'_>, q: YearOnly) -> Result<TrendAnswer, CountyError> {
        let only = township_seen(cx, None)?;
        let year = asked_year(q.year)?;
        Ok(TrendAnswer { year, months: facts::monthly(cx.db, year, &only)? })
    }
}

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct SnapshotAnswer {
    pub year: i32,
    pub days: Vec<crate::campaign::Day>,
}

/// `GET /api/console/snapshots`: the daily snapshots of the year (the
/// county's, or one township's).
#[derive(Debug)]
pub struct Snapshots;

impl Operation for Snapshots {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/console/snapshots";
    type Request = YearAndTownship;
    type Response = SnapshotAnswer;
    const ALLOWED: Allowed = Allowed::Staff;
    fn run(cx: &mut Cx<'_>, q: YearAndTownship) -> Result<SnapshotAnswer, CountyError> {
        let seen = township_seen(cx, q.township.as_deref())?;
        let year = asked_year(q.year)?;
        // The whole county's own snapshot when the whole county is asked.
        let only = match (q.township.is_none(), seen) {
            (true, Townships::All) => None,
            (_, Townships::Only(ids)) => Some(ids),
            (false, Townships::All) => return Err(CountyError::Denied(auth::FORBIDDEN)),
        };
        Ok(SnapshotAnswer { year, days: crate::campaign::days(cx.db, year, only.as_deref())? })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct CensusQuery {
    pub township: String,
    #[serde(default)]
    pub grid: Option<String>,
    #[serde(default, deserialize_with = "super::de::opt_number")]
    pub year: Option<i32>,
}

/// `GET /api/console/census`: a township's (or grid's) door-to-door census
/// this year: the entities not yet visited, those to visit again, and
/// every visit (with its position and its photos' hashes).
#[derive(Debug)]
pub struct Census;

impl Operation for Census {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/console/census";
    type Request = CensusQuery;
    type Response = serde_json::Value;
    const ALLOWED: Allowed = Allowed::Staff;
    fn run(cx: &mut Cx<'_>, q: CensusQuery) -> Result<serde_json::Value, CountyError> {
        if q.grid.as_deref().is_some_and(|g| !registry::keys::is_record_id(g)) {
            return Err(CountyError::bad_request());
        }
        township_seen(cx, Some(&q.township))?;
        let year = asked_year(q.year)?;
        let township = RecordId::from(q.township.as_str());
        Ok(crate::census::report(cx.db, &cx.ctx, &township, q.grid.as_deref(), year, cx.ctx.today)?)
    }
}

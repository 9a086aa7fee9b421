//! The year's campaign as the county configured it — targets and calendar,
//! kept in `settings` per year (the source plans' figures until a county
//! admin changes them), every change logged — and the daily snapshots of
//! the progress report that the dashboard's trend draws from (rates such as
//! 建会率 have no date of their own to be rebuilt from later).

use crate::db::now_ms;
use registry::Date;
use registry::model::RecordId;
use registry::progress::{CampaignConfig, ProgressReport, Rate};
use serde::Serialize;
use sync::SyncError;
use sync::server::Sql;

fn key(year: i32) -> String {
    format!("campaign:{year}")
}

/// The configuration of `year`: the county's, or the plans' defaults.
pub fn load(db: &mut dyn Sql, year: i32) -> Result<CampaignConfig, SyncError> {
    // The plans' calendar cannot be drawn for a year outside the range.
    registry::progress::check_year(year).map_err(|i| SyncError::Server(format!("campaign year {year}: {}", i.code)))?;
    match crate::auth::setting(db, &key(year))? {
        Some(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| SyncError::Server(format!("stored campaign configuration of {year}: {e}"))),
        None => Ok(CampaignConfig::default_for(year)),
    }
}

/// Whether `year` has a configuration of its own (not the defaults).
pub fn is_configured(db: &mut dyn Sql, year: i32) -> Result<bool, SyncError> {
    Ok(crate::auth::setting(db, &key(year))?.is_some())
}

/// Saves a county admin's configuration after checking it
/// (`CampaignConfig::check`); refused whole with the issues otherwise.
pub fn save(db: &mut dyn Sql, config: &CampaignConfig, by: &str) -> Result<(), SyncError> {
    let issues = config.check();
    if let Some(first) = issues.first() {
        return Err(SyncError::Refused {
            status: 400,
            code: first.code.into(),
            message: registry::message::Message::new(
                issues.iter().map(|i| i.message.zh.as_str()).collect::<Vec<_>>().join("；"),
                issues.iter().map(|i| i.message.en.as_str()).collect::<Vec<_>>().join("; "),
            ),
        });
    }
    let json = serde_json::to_vec(config).map_err(|e| SyncError::Server(e.to_string()))?;
    crate::auth::set_setting(db, &key(config.year), &json)?;
    db.execute(
        "INSERT INTO config_log (at, who, what, detail) VALUES ($1, $2, $3, $4)",
        &[now_ms().into(), by.into(), key(config.year).into(), String::from_utf8_lossy(&json).into_owned().into()],
    )?;
    Ok(())
}

/// Publishes the year's campaign into the county's own area record (as the
/// county), which every device receives whatever its scope: the tablet's
/// home screen then counts against the targets the console shows. False
/// when the county has no area record yet.
pub fn publish(
    db: &mut dyn Sql,
    ctx: &sync::server::Ctx<'_>,
    config: &CampaignConfig,
    by: &str,
) -> Result<bool, SyncError> {
    use registry::model::{AreaLevel, Record};
    let json = serde_json::to_string(config).map_err(|e| SyncError::Server(e.to_string()))?;
    let rows =
        db.query("SELECT id FROM docs WHERE kind = 'area' AND township IS NULL AND deleted = 0 ORDER BY id", &[])?;
    for row in rows {
        let id = RecordId::from(row[0].text().unwrap_or_default());
        if let Some(Record::Area(a)) = sync::server::record(db, ctx, &id)?
            && a.level == AreaLevel::County
        {
            crate::decisions::county_edit(db, ctx, &id, by, |r| {
                if let Record::Area(a) = r {
                    a.campaigns.insert(config.year.to_string(), json);
                }
            })?;
            return Ok(true);
        }
    }
    Ok(false)
}

/// The migration: the configuration log and the daily snapshots.
pub fn schema() -> String {
    "CREATE TABLE config_log (at BIGINT NOT NULL, who TEXT NOT NULL, what TEXT NOT NULL, detail TEXT NOT NULL);
     CREATE TABLE snapshots (day TEXT NOT NULL, township TEXT NOT NULL, coverage_num BIGINT NOT NULL,
       coverage_den BIGINT NOT NULL, qualified_num BIGINT NOT NULL, qualified_den BIGINT NOT NULL,
       standard_num BIGINT NOT NULL, standard_den BIGINT NOT NULL, new_unions BIGINT NOT NULL,
       new_members BIGINT NOT NULL, active_members BIGINT NOT NULL, vacancies BIGINT NOT NULL,
       PRIMARY KEY (day, township));"
        .into()
}

/// The county's row in `snapshots` has an empty township.
const COUNTY: &str = "";

/// Records the whole county's report (every township) as the snapshot of
/// `day`, replacing one taken earlier that day.
pub fn snapshot(db: &mut dyn Sql, day: Date, report: &ProgressReport) -> Result<(), SyncError> {
    db.execute("DELETE FROM snapshots WHERE day = $1", &[day.to_string().into()])?;
    let rows =
        std::iter::once((COUNTY, &report.county)).chain(report.townships.iter().map(|t| (t.id.as_str(), &t.tally)));
    for (township, t) in rows {
        db.execute(
            "INSERT INTO snapshots (day, township, coverage_num, coverage_den, qualified_num, qualified_den,
               standard_num, standard_den, new_unions, new_members, active_members, vacancies)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &[
                day.to_string().into(),
                township.into(),
                (t.coverage.numerator as i64).into(),
                (t.coverage.denominator as i64).into(),
                (t.qualified.numerator as i64).into(),
                (t.qualified.denominator as i64).into(),
                (t.standard.numerator as i64).into(),
                (t.standard.denominator as i64).into(),
                (t.new_unions as i64).into(),
                (t.new_members as i64).into(),
                (t.active_members as i64).into(),
                (t.vacancies as i64).into(),
            ],
        )?;
    }
    Ok(())
}

/// One day's figures for the trend.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Day {
    pub day: String,
    pub coverage: Rate,
    pub qualified: Rate,
    pub standard: Rate,
    pub new_unions: u64,
    pub new_members: u64,
    pub active_members: u64,
    pub vacancies: u64,
}

/// The snapshots of `year`, oldest first: of the county (`None`) or of the
/// sum of some townships.
pub fn days(db: &mut dyn Sql, year: i32, townships: Option<&[RecordId]>) -> Result<Vec<Day>, SyncError> {
    let (from, to) = (format!("{year}-01-01"), format!("{year}-12-31"));
    let rows = db.query(
        "SELECT day, township, coverage_num, coverage_den, qualified_num, qualified_den, standard_num, standard_den,
           new_unions, new_members, active_members, vacancies
         FROM snapshots WHERE day >= $1 AND day <= $2 ORDER BY day",
        &[from.into(), to.into()],
    )?;
    let mut out: Vec<Day> = Vec::new();
    for r in rows {
        let township = r[1].text().unwrap_or_default();
        let wanted = match townships {
            None => township == COUNTY,
            Some(only) => only.iter().any(|t| t.as_str() == township),
        };
        if !wanted {
            continue;
        }
        let day = r[0].text().unwrap_or_default().to_owned();
        if out.last().is_none_or(|d| d.day != day) {
            out.push(Day {
                day,
                coverage: Rate::default(),
                qualified: Rate::default(),
                standard: Rate::default(),
                new_unions: 0,
                new_members: 0,
                active_members: 0,
                vacancies: 0,
            });
        }
        let d = out.last_mut().expect("just pushed");
        let n = |i: usize| r[i].int().max(0) as u64;
        d.coverage.numerator += n(2);
        d.coverage.denominator += n(3);
        d.qualified.numerator += n(4);
        d.qualified.denominator += n(5);
        d.standard.numerator += n(6);
        d.standard.denominator += n(7);
        d.new_unions += n(8);
        d.new_members += n(9);
        d.active_members += n(10);
        d.vacancies += n(11);
    }
    Ok(out)
}

/// Takes (or retakes) today's snapshot of the whole county's figures.
pub fn snapshot_today(db: &mut dyn Sql, today: Date) -> Result<(), SyncError> {
    // Every server on the database takes it every hour: one at a time (on
    // PostgreSQL two at once would each delete, then both insert the day).
    db.lock_doc(&registry::model::RecordId::from("snapshots"))?;
    let config = load(db, today.year())?;
    let revoked = crate::cards::revoked_serials(db)?;
    let report = sync::facts::progress(db, &config, today, &sync::facts::Townships::All, &revoked)?;
    snapshot(db, today, &report)
}

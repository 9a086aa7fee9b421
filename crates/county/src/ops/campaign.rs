//! The year's campaign as the county configured it: its targets and
//! calendar (county admins change them; every change is logged).

use super::figures::{YearOnly, asked_year};
use super::{Cx, Method, Operation};
use crate::actor::Allowed;
use crate::error::CountyError;
use registry::progress::CampaignConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct CampaignAnswer {
    pub config: CampaignConfig,
    /// False while the year runs on the plans' defaults.
    pub configured: bool,
}

/// `GET /api/console/campaign`.
#[derive(Debug)]
pub struct Campaign;

impl Operation for Campaign {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/console/campaign";
    type Request = YearOnly;
    type Response = CampaignAnswer;
    const ALLOWED: Allowed = Allowed::Staff;
    fn run(cx: &mut Cx<'_>, q: YearOnly) -> Result<CampaignAnswer, CountyError> {
        let year = asked_year(q.year)?;
        Ok(CampaignAnswer {
            config: crate::campaign::load(cx.db, year)?,
            configured: crate::campaign::is_configured(cx.db, year)?,
        })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct CampaignSaved {
    pub year: i32,
    pub saved: bool,
}

/// `POST /api/console/campaign`: the year's targets and calendar, checked
/// whole; today's snapshot follows the new targets.
#[derive(Debug)]
pub struct SaveCampaign;

impl Operation for SaveCampaign {
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/console/campaign";
    type Request = CampaignConfig;
    type Response = CampaignSaved;
    const ALLOWED: Allowed = Allowed::CountyAdmin;
    fn run(cx: &mut Cx<'_>, config: CampaignConfig) -> Result<CampaignSaved, CountyError> {
        let by = cx.actor.name().to_owned();
        crate::campaign::save(cx.db, &config, &by)?;
        crate::campaign::publish(cx.db, &cx.ctx, &config, &by)?;
        crate::campaign::snapshot_today(cx.db, cx.ctx.today)?;
        Ok(CampaignSaved { year: config.year, saved: true })
    }
}

//! The area tree (county → township → community → grid): staff see their
//! townships' part with its counts; county admins name the county on a
//! new server, add townships, communities and grids, rename them and set
//! a grid's leader and surveyors.

use super::{Cx, Method, Nothing, Operation};
use crate::actor::Allowed;
use crate::areas::{AreaRequest, Node};
use crate::auth;
use crate::error::CountyError;
use registry::model::RecordId;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct AreaTree {
    /// The county itself, once named (a new server has none: the console
    /// then asks a county admin to name it).
    pub county: Option<CountyArea>,
    pub areas: Vec<Node>,
}

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct CountyArea {
    pub id: RecordId,
    pub name: String,
}

/// `GET /api/console/areas`.
#[derive(Debug)]
pub struct ListAreas;

impl Operation for ListAreas {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/console/areas";
    type Request = Nothing;
    type Response = AreaTree;
    const ALLOWED: Allowed = Allowed::Staff;
    fn run(cx: &mut Cx<'_>, _: Nothing) -> Result<AreaTree, CountyError> {
        let townships = cx.actor.townships(None).ok_or(CountyError::Denied(auth::FORBIDDEN))?;
        let county = match crate::areas::county(cx.db, &cx.ctx)? {
            Some(id) => match sync::server::record(cx.db, &cx.ctx, &id)? {
                Some(registry::model::Record::Area(a)) => Some(CountyArea { id, name: a.name }),
                _ => None,
            },
            None => None,
        };
        Ok(AreaTree { county, areas: crate::areas::tree(cx.db, &cx.ctx, &townships)? })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct AreaId {
    pub id: RecordId,
}

/// `POST /api/console/areas`: the county's name (once), a new township,
/// community or grid.
#[derive(Debug)]
pub struct AddArea;

impl Operation for AddArea {
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/console/areas";
    type Request = AreaRequest;
    type Response = AreaId;
    const ALLOWED: Allowed = Allowed::CountyAdmin;
    fn run(cx: &mut Cx<'_>, req: AreaRequest) -> Result<AreaId, CountyError> {
        let by = cx.actor.name().to_owned();
        Ok(AreaId { id: crate::areas::add(cx.db, &cx.ctx, &by, &req)? })
    }
}

#[derive(Debug, Deserialize, ts_rs::TS)]
pub struct AreaEdit {
    /// The area (from the path).
    pub id: String,
    #[serde(flatten)]
    pub change: AreaRequest,
}

/// `POST /api/console/areas/{id}`: a new name, or a grid's leader and
/// surveyors.
#[derive(Debug)]
pub struct EditArea;

impl Operation for EditArea {
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/console/areas/{id}";
    type Request = AreaEdit;
    type Response = AreaId;
    const ALLOWED: Allowed = Allowed::CountyAdmin;
    fn run(cx: &mut Cx<'_>, req: AreaEdit) -> Result<AreaId, CountyError> {
        if !registry::keys::is_record_id(&req.id) {
            return Err(CountyError::bad_request());
        }
        let (by, id) = (cx.actor.name().to_owned(), RecordId::from(req.id.as_str()));
        crate::areas::edit(cx.db, &cx.ctx, &by, &id, &req.change)?;
        Ok(AreaId { id })
    }
}

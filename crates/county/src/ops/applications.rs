//! 由本人申请 over HTTP: the public form's operations (the union a poster
//! names, the application, its standing) and the area's queue (list,
//! decide, the poster). The work is `crate::applications`'.

use super::reviews::{Items, PageQuery};
use super::{Cx, Guesses, Method, Operation};
use crate::actor::Allowed;
use crate::applications::{self, Applicant, Decided, Decision, PosterUnion, Standing, UnionChoice, Waiting};
use crate::error::CountyError;
use registry::keys::CountySecret;
use registry::model::RecordId;
use serde::{Deserialize, Serialize};

fn secret(cx: &Cx<'_>) -> CountySecret {
    CountySecret::from_bytes(cx.county.keys.county_secret)
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct PosterQuery {
    /// The poster's path segment (`CountySecret::poster`).
    pub poster: String,
}

/// `GET /api/apply/{poster}`: the union a poster names (public).
#[derive(Debug)]
pub struct ApplyUnion;

impl Operation for ApplyUnion {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/apply/{poster}";
    type Request = PosterQuery;
    type Response = PosterUnion;
    const ALLOWED: Allowed = Allowed::Anyone;
    fn run(cx: &mut Cx<'_>, q: PosterQuery) -> Result<PosterUnion, CountyError> {
        let secret = secret(cx);
        applications::poster_info(cx.db, &cx.ctx, &secret, &q.poster)
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct ApplyRequest {
    pub poster: String,
    #[serde(flatten)]
    pub applicant: Applicant,
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct Applied {
    /// The applicant's reference, to follow the application with.
    pub reference: String,
}

/// `POST /api/apply/{poster}`: an application (public). Every submission
/// counts against its source, accepted or not (`Guesses::Submission`).
#[derive(Debug)]
pub struct Apply;

impl Operation for Apply {
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/apply/{poster}";
    type Request = ApplyRequest;
    type Response = Applied;
    const ALLOWED: Allowed = Allowed::Anyone;
    const GUESSES: Guesses = Guesses::Submission;
    fn run(cx: &mut Cx<'_>, req: ApplyRequest) -> Result<Applied, CountyError> {
        let secret = secret(cx);
        let r = applications::submit(cx.db, &cx.ctx, &secret, &req.poster, &req.applicant)?;
        Ok(Applied { reference: r.0 })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct StandingRequest {
    pub reference: String,
}

/// `POST /api/apply-status`: an application's standing by its reference
/// (public; a wrong reference counts against its source).
#[derive(Debug)]
pub struct ApplicationStanding;

impl Operation for ApplicationStanding {
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/apply-status";
    type Request = StandingRequest;
    type Response = Standing;
    const ALLOWED: Allowed = Allowed::Anyone;
    const GUESSES: Guesses = Guesses::Reference;
    fn run(cx: &mut Cx<'_>, req: StandingRequest) -> Result<Standing, CountyError> {
        applications::standing(cx.db, &cx.ctx, &req.reference)
    }
}

/// `GET /api/applications`: the applications waiting in the caller's area
/// (staff: their townships; a device: its scope), oldest first.
#[derive(Debug)]
pub struct Applications;

impl Operation for Applications {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/applications";
    type Request = PageQuery;
    type Response = Items<Waiting>;
    const ALLOWED: Allowed = Allowed::StaffOrDevice;
    fn run(cx: &mut Cx<'_>, q: PageQuery) -> Result<Items<Waiting>, CountyError> {
        let (page, size, skip) = q.window();
        let secret = secret(cx);
        let (items, total) = applications::page(cx.db, &cx.ctx, &secret, cx.actor, skip, size as usize)?;
        Ok(Items { items, total, page, size })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct DecideRequest {
    /// The application's id (`Waiting::id`).
    pub id: String,
    #[serde(flatten)]
    pub decision: Decision,
}

/// `POST /api/applications/{id}/decide`: confirm (register the person, or
/// merge into their record) or decline with a reason.
#[derive(Debug)]
pub struct DecideApplication;

impl Operation for DecideApplication {
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/applications/{id}/decide";
    type Request = DecideRequest;
    type Response = Decided;
    const ALLOWED: Allowed = Allowed::StaffOrDevice;
    fn run(cx: &mut Cx<'_>, req: DecideRequest) -> Result<Decided, CountyError> {
        if req.id.len() != 64 || !req.id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(CountyError::bad_request());
        }
        let secret = secret(cx);
        applications::decide(cx.db, &cx.ctx, &secret, cx.actor, &req.id, &req.decision)
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct PosterRequest {
    pub union: String,
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct Poster {
    pub union_name: String,
    pub township: String,
    /// What the QR code holds: the public form's address.
    pub url: String,
    /// The QR code as SVG.
    pub qr_svg: String,
}

/// `GET /api/applications/poster?union=`: a union's poster (its form's
/// address and QR code), for a union in the caller's area.
#[derive(Debug)]
pub struct ApplicationPoster;

impl Operation for ApplicationPoster {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/applications/poster";
    type Request = PosterRequest;
    type Response = Poster;
    const ALLOWED: Allowed = Allowed::StaffOrDevice;
    fn run(cx: &mut Cx<'_>, req: PosterRequest) -> Result<Poster, CountyError> {
        if !registry::keys::is_record_id(&req.union) {
            return Err(CountyError::bad_request());
        }
        let secret = secret(cx);
        let union = RecordId::from(req.union.as_str());
        let (segment, info) = applications::poster_for(cx.db, &cx.ctx, &secret, cx.actor, &union)?;
        let url = format!("{}/apply/{segment}", cx.county.public_url.trim_end_matches('/'));
        let qr_svg = super::merchants::qr_svg(&url)?;
        Ok(Poster { union_name: info.name, township: info.township, url, qr_svg })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct TownshipUnions {
    pub township: String,
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct UnionChoices {
    pub items: Vec<UnionChoice>,
}

/// `GET /api/applications/unions?township=`: the live unions of one of
/// the clerk's townships, by name, to print a poster for (the console's
/// picker).
#[derive(Debug)]
pub struct PosterUnions;

impl Operation for PosterUnions {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/applications/unions";
    type Request = TownshipUnions;
    type Response = UnionChoices;
    const ALLOWED: Allowed = Allowed::Staff;
    fn run(cx: &mut Cx<'_>, req: TownshipUnions) -> Result<UnionChoices, CountyError> {
        if cx.actor.townships(Some(&req.township)).is_none() {
            return Err(CountyError::Denied(crate::auth::FORBIDDEN));
        }
        Ok(UnionChoices {
            items: applications::unions_of(cx.db, &RecordId::from(req.township.as_str()), cx.ctx.today)?,
        })
    }
}

//! Devices and their enrolment: a county admin hands out enrolment codes,
//! lists the devices, revokes, wipes, reinstates and rescopes them. Every
//! state change lands in the device's events (the audit log).

use super::Guesses;
use super::{Cx, Method, Nothing, Operation};
use crate::actor::Allowed;
use crate::auth::{self, DeviceInfo, Grant};
use crate::error::CountyError;
use registry::model::RecordId;
use serde::{Deserialize, Serialize};

/// `GET /api/devices`.
#[derive(Debug)]
pub struct ListDevices;

impl Operation for ListDevices {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/devices";
    type Request = Nothing;
    type Response = Vec<DeviceInfo>;
    const ALLOWED: Allowed = Allowed::CountyAdmin;
    fn run(cx: &mut Cx<'_>, _: Nothing) -> Result<Vec<DeviceInfo>, CountyError> {
        Ok(auth::list_devices(cx.db)?)
    }
}

/// A device named in the path.
#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct DeviceId {
    pub id: String,
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct Revoked {
    pub revoked: String,
}

/// `POST /api/devices/{id}/revoke`: its token stops working at once; what
/// it pushes afterwards is quarantined for review, not lost.
#[derive(Debug)]
pub struct RevokeDevice;

impl Operation for RevokeDevice {
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/devices/{id}/revoke";
    type Request = DeviceId;
    type Response = Revoked;
    const ALLOWED: Allowed = Allowed::CountyAdmin;
    fn run(cx: &mut Cx<'_>, req: DeviceId) -> Result<Revoked, CountyError> {
        found(auth::revoke(cx.db, &req.id)?)?;
        Ok(Revoked { revoked: req.id })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct WipeRequested {
    pub wipe_requested: String,
}

/// `POST /api/devices/{id}/wipe`: a lost tablet is revoked at once and
/// wipes itself at its next contact.
#[derive(Debug)]
pub struct WipeDevice;

impl Operation for WipeDevice {
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/devices/{id}/wipe";
    type Request = DeviceId;
    type Response = WipeRequested;
    const ALLOWED: Allowed = Allowed::CountyAdmin;
    fn run(cx: &mut Cx<'_>, req: DeviceId) -> Result<WipeRequested, CountyError> {
        found(auth::request_wipe(cx.db, &req.id, cx.actor.name())?)?;
        Ok(WipeRequested { wipe_requested: req.id })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct Reinstated {
    pub reinstated: String,
}

/// `POST /api/devices/{id}/reinstate`: a device suspended for probing
/// records outside its scope may sync again.
#[derive(Debug)]
pub struct ReinstateDevice;

impl Operation for ReinstateDevice {
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/devices/{id}/reinstate";
    type Request = DeviceId;
    type Response = Reinstated;
    const ALLOWED: Allowed = Allowed::CountyAdmin;
    fn run(cx: &mut Cx<'_>, req: DeviceId) -> Result<Reinstated, CountyError> {
        found(auth::reinstate(cx.db, &req.id, cx.actor.name())?)?;
        Ok(Reinstated { reinstated: req.id })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct NewScope {
    pub id: String,
    #[serde(default)]
    pub all: bool,
    #[serde(default)]
    pub townships: Vec<RecordId>,
    #[serde(default)]
    pub grids: Vec<RecordId>,
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct Rescoped {
    pub device: String,
}

/// `POST /api/devices/{id}/scope`: a grid handed to another surveyor; the
/// device's feed restarts with its new scope.
#[derive(Debug)]
pub struct SetScope;

impl Operation for SetScope {
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/devices/{id}/scope";
    type Request = NewScope;
    type Response = Rescoped;
    const ALLOWED: Allowed = Allowed::CountyAdmin;
    fn run(cx: &mut Cx<'_>, req: NewScope) -> Result<Rescoped, CountyError> {
        if !req.townships.iter().chain(&req.grids).all(|i| registry::keys::is_record_id(i.as_str())) {
            return Err(CountyError::bad_request());
        }
        found(auth::set_scope(cx.db, &req.id, req.all, &req.townships, &req.grids)?)?;
        Ok(Rescoped { device: req.id })
    }
}

fn found(yes: bool) -> Result<(), CountyError> {
    if yes { Ok(()) } else { Err(auth::DEVICE_NOT_FOUND.into()) }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct NewEnrolment {
    #[serde(flatten)]
    pub grant: Grant,
    /// Days the code stays valid (clamped to 1..=30; 7 if not said).
    #[serde(default = "seven")]
    pub days: i64,
}

fn seven() -> i64 {
    7
}

/// A one-time enrolment code, as text and as the QR code the device's
/// first-run screen scans.
#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct Enrolment {
    pub code: String,
    /// The code with the server's address (and certificate pin): what the
    /// device redeems.
    pub text: String,
    pub svg: String,
}

/// `POST /api/enrolments` and `sanjian enrol`.
#[derive(Debug)]
pub struct CreateEnrolment;

impl Operation for CreateEnrolment {
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/enrolments";
    type Request = NewEnrolment;
    type Response = Enrolment;
    const ALLOWED: Allowed = Allowed::CountyAdmin;
    fn run(cx: &mut Cx<'_>, req: NewEnrolment) -> Result<Enrolment, CountyError> {
        let staff = cx.actor.staff()?;
        let code = auth::create_enrolment(cx.db, staff, &req.grant, req.days.clamp(1, 30))??;
        let county = cx.county;
        let text = sync::enrol::EnrolmentText { base: county.public_url.clone(), code: code.clone(), pin: county.pin }
            .format();
        let svg = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
            .map(|qr| qr.render::<qrcode::render::svg::Color<'_>>().min_dimensions(240, 240).build())
            .map_err(|e| sync::SyncError::Server(format!("QR: {e}")))?;
        Ok(Enrolment { code, text, svg })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct Redeem {
    /// The one-time enrolment code, as typed or scanned.
    pub code: String,
    /// The device's Automerge actor id (32 hex characters).
    pub actor: String,
    /// Its Ed25519 public key (64 hex characters).
    pub public_key: String,
}

/// What an enrolled device keeps: its credentials and the county's card
/// root public key (what it verifies the card lists, and so every card,
/// with).
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Enrolled {
    #[serde(flatten)]
    pub credentials: auth::Credentials,
    pub card_root: String,
}

/// `POST /api/enrol/redeem`: a device redeems its enrolment code (once).
/// Failures are counted per source by the HTTP edge.
#[derive(Debug)]
pub struct RedeemEnrolment;

impl Operation for RedeemEnrolment {
    type Request = Redeem;
    type Response = Enrolled;
    const ALLOWED: Allowed = Allowed::Anyone;
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/enrol/redeem";
    const GUESSES: Guesses = Guesses::EnrolmentCode;
    fn run(cx: &mut Cx<'_>, req: Redeem) -> Result<Enrolled, CountyError> {
        let actor: [u8; 16] =
            auth::unhex(&req.actor).and_then(|b| b.try_into().ok()).ok_or_else(CountyError::bad_request)?;
        let public_key: [u8; 32] =
            auth::unhex(&req.public_key).and_then(|b| b.try_into().ok()).ok_or_else(CountyError::bad_request)?;
        let secret = cx.county.keys.county_secret;
        let credentials = auth::redeem(cx.db, &req.code, actor, &public_key, &secret)??;
        let root = crate::cards::root_key(&cx.county.keys.card_root);
        Ok(Enrolled { credentials, card_root: auth::hex(root.verifying_key().as_bytes()) })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct Rotated {
    pub token: String,
    pub expires_in_ms: i64,
}

/// `POST /api/sync/rotate`: a device trades its token for a new one (the
/// old one keeps working until the new one is first used).
#[derive(Debug)]
pub struct RotateToken;

impl Operation for RotateToken {
    type Request = Nothing;
    type Response = Rotated;
    const ALLOWED: Allowed = Allowed::Device;
    const METHOD: Method = Method::Post;
    const PATH: &str = sync::client::path::ROTATE;
    fn run(cx: &mut Cx<'_>, _: Nothing) -> Result<Rotated, CountyError> {
        let device = cx.actor.device()?.id.clone();
        Ok(Rotated { token: auth::rotate_token(cx.db, &device)?, expires_in_ms: auth::TOKEN_LIFE_MS })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct WipeAnswer {
    pub wipe: bool,
}

/// `POST /api/sync/wipe-check`: the lock screen's question, asked with the
/// device's wipe-check token (never its sync token): must it wipe itself?
#[derive(Debug)]
pub struct WipeCheck;

impl Operation for WipeCheck {
    type Request = Nothing;
    type Response = WipeAnswer;
    // The wipe-check token opens nothing else: it is read here, not by
    // the actor check (which knows staff and sync tokens).
    const ALLOWED: Allowed = Allowed::Anyone;
    const METHOD: Method = Method::Post;
    const PATH: &str = sync::client::path::WIPE_CHECK;
    fn run(cx: &mut Cx<'_>, _: Nothing) -> Result<WipeAnswer, CountyError> {
        let token = cx.token.ok_or(auth::UNAUTHENTICATED)?;
        match auth::wipe_check(cx.db, token)? {
            Some(wipe) => Ok(WipeAnswer { wipe }),
            None => Err(auth::UNAUTHENTICATED.into()),
        }
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct LookupRequest {
    /// The record id (a person's derives from their resident ID number).
    pub id: String,
}

/// `POST /api/sync/lookup`: is this record registered outside the device's
/// scope? The door flow's "already a member elsewhere? start a transfer".
/// Within the device's daily budget, each answer recorded; past it, the
/// answer is rolled back (nothing learnt) and the device suspended.
#[derive(Debug)]
pub struct Lookup;

impl Operation for Lookup {
    type Request = LookupRequest;
    type Response = sync::server::Lookup;
    const ALLOWED: Allowed = Allowed::Device;
    const METHOD: Method = Method::Post;
    const PATH: &str = sync::client::path::LOOKUP;
    fn run(cx: &mut Cx<'_>, req: LookupRequest) -> Result<sync::server::Lookup, CountyError> {
        if !registry::keys::is_record_id(&req.id) {
            return Err(CountyError::bad_request());
        }
        let device = cx.actor.device()?.clone();
        Ok(sync::server::lookup(cx.db, &cx.ctx, &device, &RecordId::from(req.id.as_str()))?)
    }

    fn refused(county: &super::County, creds: crate::actor::Credentials<'_>, error: CountyError) -> CountyError {
        use registry::message::Coded;
        match (error.code() == sync::server::DEVICE_SUSPENDED, creds) {
            (true, crate::actor::Credentials::Bearer(token)) => {
                match county.db.tx(|db| auth::suspend(db, token, "PROBING")) {
                    Ok(()) => auth::DEVICE_SUSPENDED.into(),
                    Err(e) => e.into(),
                }
            }
            _ => error,
        }
    }
}

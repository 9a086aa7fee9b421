//! 会员优惠基地 over HTTP: the console registers, lists (with each day's
//! checks: the 普惠制 report) and withdraws merchants; a merchant's offline
//! verifier reads what it pins and reports its counts. The work is
//! `crate::merchants`'.

use super::{Cx, Guesses, Method, Operation};
use crate::actor::Allowed;
use crate::auth;
use crate::error::CountyError;
use crate::merchants::{self, DayCount, Merchant, NewMerchant, VerifierInfo};
use registry::keys::CountySecret;
use serde::{Deserialize, Serialize};

fn secret(cx: &Cx<'_>) -> CountySecret {
    CountySecret::from_bytes(cx.county.keys.county_secret)
}

/// A QR code of `text` as SVG.
pub(crate) fn qr_svg(text: &str) -> Result<String, CountyError> {
    let qr = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| sync::SyncError::Server(format!("QR code: {e}")))?;
    Ok(qr.render::<qrcode::render::svg::Color<'_>>().min_dimensions(400, 400).quiet_zone(true).build())
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct MerchantList {
    pub items: Vec<Merchant>,
}

/// `GET /api/console/merchants`: the merchants of the caller's townships
/// with their checks day by day.
#[derive(Debug)]
pub struct ListMerchants;

impl Operation for ListMerchants {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/console/merchants";
    type Request = super::Nothing;
    type Response = MerchantList;
    const ALLOWED: Allowed = Allowed::Staff;
    fn run(cx: &mut Cx<'_>, _: super::Nothing) -> Result<MerchantList, CountyError> {
        let staff = cx.actor.staff()?;
        let townships = staff.sees().map(<[_]>::to_vec);
        let secret = secret(cx);
        let mut items = merchants::list(cx.db, &secret, townships.as_deref())?;
        for m in &mut items {
            m.url = format!("{}/m/{}", cx.county.public_url.trim_end_matches('/'), m.token);
            m.qr_svg = qr_svg(&m.url)?;
        }
        Ok(MerchantList { items })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct MerchantCreated {
    pub id: String,
    pub token: String,
}

/// `POST /api/console/merchants`: registers a merchant in one of the
/// caller's townships; its verifier link's token.
#[derive(Debug)]
pub struct CreateMerchant;

impl Operation for CreateMerchant {
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/console/merchants";
    type Request = NewMerchant;
    type Response = MerchantCreated;
    const ALLOWED: Allowed = Allowed::Staff;
    fn run(cx: &mut Cx<'_>, m: NewMerchant) -> Result<MerchantCreated, CountyError> {
        if cx.actor.townships(Some(&m.township)).is_none() {
            return Err(CountyError::Denied(auth::FORBIDDEN));
        }
        let secret = secret(cx);
        let id = merchants::create(cx.db, &cx.ctx, &secret, &m, cx.actor.name())?;
        Ok(MerchantCreated { token: merchants::token(&secret, &id), id })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct MerchantId {
    pub id: String,
}

/// `POST /api/console/merchants/{id}/withdraw`: its link stops working.
#[derive(Debug)]
pub struct WithdrawMerchant;

impl Operation for WithdrawMerchant {
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/console/merchants/{id}/withdraw";
    type Request = MerchantId;
    type Response = super::Nothing;
    const ALLOWED: Allowed = Allowed::Staff;
    fn run(cx: &mut Cx<'_>, req: MerchantId) -> Result<super::Nothing, CountyError> {
        let township = merchants::withdraw(cx.db, &cx.ctx, &req.id, cx.actor.name())?;
        if cx.actor.townships(Some(township.as_str())).is_none() {
            // Rolled back with the refusal: another township's merchant.
            return Err(CountyError::Denied(auth::MERCHANT_UNKNOWN));
        }
        Ok(super::Nothing {})
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct VerifierToken {
    pub token: String,
}

/// `GET /api/merchants/{token}/info`: what the merchant's verifier shows
/// and pins (public to the link's holder).
#[derive(Debug)]
pub struct MerchantInfo;

impl Operation for MerchantInfo {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/merchants/{token}/info";
    type Request = VerifierToken;
    type Response = VerifierInfo;
    const ALLOWED: Allowed = Allowed::Anyone;
    fn run(cx: &mut Cx<'_>, req: VerifierToken) -> Result<VerifierInfo, CountyError> {
        let root = crate::cards::root_key(&cx.county.keys.card_root).verifying_key();
        merchants::info(cx.db, &cx.ctx, root.as_bytes(), &req.token)
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct CountsReport {
    pub token: String,
    /// The report's id, the same when it is sent again (counted once).
    #[serde(default)]
    pub batch: Option<String>,
    pub counts: Vec<DayCount>,
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct Counted {
    pub ok: bool,
}

/// `POST /api/merchants/{token}/counts`: a verifier's checks, day by day
/// (how many accepted and refused; never whose). A wrong token counts
/// against its source.
#[derive(Debug)]
pub struct MerchantCounts;

impl Operation for MerchantCounts {
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/merchants/{token}/counts";
    type Request = CountsReport;
    type Response = Counted;
    const ALLOWED: Allowed = Allowed::Anyone;
    const GUESSES: Guesses = Guesses::Reference;
    fn run(cx: &mut Cx<'_>, req: CountsReport) -> Result<Counted, CountyError> {
        merchants::add_counts(cx.db, &cx.ctx, &req.token, req.batch.as_deref(), &req.counts)?;
        Ok(Counted { ok: true })
    }
}

//! Membership cards at the county: revoking one (lost, stolen, withdrawn)
//! puts it in the next signed revocation list every device and verifier
//! fetches.

use super::{Cx, Method, Operation};
use crate::actor::Allowed;
use crate::auth;
use crate::error::CountyError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct RevokeCardRequest {
    /// The card's serial, 16 hex characters (a card number `UC…` too).
    pub serial: String,
    pub reason: String,
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct CardRevoked {
    pub serial: String,
    pub revoked: bool,
    /// It was revoked before.
    pub already: bool,
}

/// `POST /api/cards/revoke` and `sanjian revoke-card`.
#[derive(Debug)]
pub struct RevokeCard;

impl Operation for RevokeCard {
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/cards/revoke";
    type Request = RevokeCardRequest;
    type Response = CardRevoked;
    const ALLOWED: Allowed = Allowed::CountyAdmin;
    fn run(cx: &mut Cx<'_>, req: RevokeCardRequest) -> Result<CardRevoked, CountyError> {
        let serial: [u8; 8] = auth::unhex(req.serial.trim().trim_start_matches("UC"))
            .and_then(|b| b.try_into().ok())
            .ok_or_else(CountyError::bad_request)?;
        let new = crate::cards::revoke_card(cx.db, &serial, req.reason.trim())?;
        Ok(CardRevoked { serial: req.serial, revoked: true, already: !new })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct CardRootKey {
    /// The county's card root public key (hex): what verifiers pin.
    pub public_key: String,
    /// Its key id (hex).
    pub kid: String,
}

/// `GET /api/cards/root`: public.
#[derive(Debug)]
pub struct CardRoot;

impl Operation for CardRoot {
    type Request = super::Nothing;
    type Response = CardRootKey;
    const ALLOWED: Allowed = Allowed::Anyone;
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/cards/root";
    fn run(cx: &mut Cx<'_>, _: super::Nothing) -> Result<CardRootKey, CountyError> {
        let key = crate::cards::root_key(&cx.county.keys.card_root).verifying_key();
        Ok(CardRootKey { public_key: auth::hex(key.as_bytes()), kid: auth::hex(&card::kid_of(&key)) })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct CardText {
    /// The card's text (`UC1:…`), as its QR code holds it.
    pub text: String,
}

/// A card checked against the county's own lists.
#[derive(Debug, Default, Deserialize, Serialize, ts_rs::TS)]
pub struct Verdict {
    pub valid: bool,
    /// For a valid card: the member's name, record id, the card's serial,
    /// its days (since the epoch, China time) and the device that issued it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// For a refused card: why, with its stable code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<registry::message::Message>,
    /// The revocation list the answer rests on.
    pub revocations_seq: u64,
    pub revocations_issued: u32,
}

/// `POST /api/cards/verify`: the public verify page's check, with the
/// server's own lists.
#[derive(Debug)]
pub struct VerifyCard;

impl Operation for VerifyCard {
    type Request = CardText;
    type Response = Verdict;
    const ALLOWED: Allowed = Allowed::Anyone;
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/cards/verify";
    fn run(cx: &mut Cx<'_>, req: CardText) -> Result<Verdict, CountyError> {
        let (trust, revoked) = (crate::cards::trust_list(cx.db)?, crate::cards::revocation_list(cx.db)?);
        let root = crate::cards::root_key(&cx.county.keys.card_root);
        let failed = |e: card::CardError| sync::SyncError::Server(e.to_string());
        let mut verifier = card::lists::Verifier::new(root.verifying_key());
        verifier.accept_trust(&trust.sign(&root)).map_err(failed)?;
        verifier.accept_revocations(&revoked.sign(&root)).map_err(failed)?;
        let today = card::day_of(cx.ctx.now_ms.div_euclid(1000));
        Ok(match verifier.verify(&req.text, today) {
            Ok(v) => Verdict {
                valid: true,
                name: v.claims.name,
                member: Some(auth::hex(&v.claims.member)),
                serial: Some(auth::hex(&v.claims.serial)),
                issued: Some(v.claims.issued),
                expires: Some(v.claims.expires),
                device: Some(v.device),
                revocations_seq: v.revocations_seq,
                revocations_issued: v.revocations_issued,
                ..Verdict::default()
            },
            Err(e) => {
                let (zh, en) = e.message();
                Verdict {
                    valid: false,
                    code: Some(e.code().to_owned()),
                    message: Some(registry::message::Message::new(zh, en)),
                    revocations_seq: revoked.seq,
                    revocations_issued: revoked.issued,
                    ..Verdict::default()
                }
            }
        })
    }
}

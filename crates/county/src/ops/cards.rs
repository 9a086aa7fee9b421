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

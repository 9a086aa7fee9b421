//! What devices and the public ask of the county outside its JSON
//! operations: the sync protocol ([`sync::wire`]), attachments
//! ([`sync::blobs`]), the signed card lists and photos.
//!
//! Each is one function of [`County`], so the HTTP edge keeps to reading a
//! request and writing an answer. Every one that touches a record names its
//! device (by its bearer token) inside the transaction that does the work.

use crate::actor::{Allowed, Credentials};
use crate::auth::{self, Denied};
use crate::error::CountyError;
use crate::ops::County;
use sync::SyncError;
use sync::server::{self, Ctx};
use sync::wire::Message;

/// A decoded sync request, one per endpoint.
#[derive(Debug)]
pub enum SyncCall {
    Push(sync::wire::PushRequest),
    Pull(sync::wire::PullRequest),
    Repair(sync::wire::RepairRequest),
    Fetch(sync::wire::FetchRequest),
    Refs(sync::wire::RefsRequest),
}

impl SyncCall {
    /// Decodes a request to one of the [`sync::client::path`]s.
    pub fn decode(path: &str, body: &[u8]) -> Result<SyncCall, SyncError> {
        use sync::client::path;
        Ok(match path {
            path::PUSH => SyncCall::Push(Message::decode(body)?),
            path::PULL => SyncCall::Pull(Message::decode(body)?),
            path::REPAIR => SyncCall::Repair(Message::decode(body)?),
            path::FETCH => SyncCall::Fetch(Message::decode(body)?),
            path::REFS => SyncCall::Refs(Message::decode(body)?),
            _ => return Err(SyncError::Wire(format!("no sync endpoint {path}"))),
        })
    }

    /// Authenticates the device and runs the call, inside the caller's
    /// transaction. A revoked device is refused; what it pushed is kept in
    /// the quarantine for review, not lost.
    pub fn run(
        &self,
        db: &mut dyn server::Sql,
        ctx: &Ctx<'_>,
        token: &str,
        judged: Option<server::JudgedPush>,
    ) -> Result<Result<Vec<u8>, Denied>, SyncError> {
        let device = match auth::find_device(db, token)? {
            None => return Ok(Err(auth::UNAUTHENTICATED)),
            Some((device, Some(denied))) => {
                if let SyncCall::Push(req) = self {
                    server::quarantine_push(db, ctx, &device, req, denied.code)?;
                }
                return Ok(Err(denied));
            }
            Some((device, None)) => device,
        };
        Ok(Ok(match self {
            SyncCall::Push(req) => {
                let mut cards = Vec::new();
                let resp = match judged {
                    Some(judged) => server::commit_push(db, ctx, &device, req, judged, &mut cards)?,
                    None => server::push_with(db, ctx, &device, req, &mut cards)?,
                };
                // Cards the changes made obsolete are revoked in the same
                // transaction.
                for c in cards {
                    if let Some(serial) = auth::unhex(&c.serial).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
                        crate::cards::revoke_card(db, &serial, c.reason)?;
                    }
                }
                resp.encode()
            }
            _ => self.answer(db, ctx, &device)?,
        }))
    }

    /// The answer to a call that only reads (any but a push).
    fn answer(&self, db: &mut dyn server::Sql, ctx: &Ctx<'_>, device: &server::Device) -> Result<Vec<u8>, SyncError> {
        Ok(match self {
            SyncCall::Push(_) => return Err(SyncError::Server("a push writes".into())),
            SyncCall::Pull(req) => server::pull(db, ctx, device, req)?.encode(),
            SyncCall::Repair(req) => server::repair(db, device, req)?.encode(),
            SyncCall::Fetch(req) => server::fetch(db, ctx, device, req)?.encode(),
            SyncCall::Refs(_) => server::refs(db, device)?.encode(),
        })
    }
}

/// What the read-only part of a sync request found.
enum Read {
    /// The whole answer (a call that only reads).
    Answer(Vec<u8>),
    /// A push, judged, for its write.
    Judged(server::JudgedPush),
}

/// The server is up: how many documents it holds and its change sequence.
#[derive(Debug, serde::Serialize)]
pub struct Health {
    pub status: &'static str,
    pub docs: u64,
    pub seq: i64,
}

impl County {
    /// How many documents the county holds, and its change sequence.
    pub fn health(&self) -> Result<Health, CountyError> {
        let (docs, seq) = self.db.tx(|db| server::stats(db))?;
        Ok(Health { status: "ok", docs, seq })
    }

    /// Takes (or retakes) today's snapshot of the whole county's figures.
    pub fn snapshot_today(&self) -> Result<(), SyncError> {
        self.db.tx(|db| crate::campaign::snapshot_today(db, crate::today()))
    }

    /// Builds the console's facts from the stored documents if this
    /// database was written before they existed (once; then a no-op).
    pub fn ensure_facts(&self) -> Result<(), SyncError> {
        let ctx = self.ctx();
        self.db.tx(|db| sync::facts::ensure(db, &ctx))
    }

    /// Is `token` an enrolled device's, for a request to `path`? Asked
    /// before a byte of its body is read: an unknown token, or a revoked
    /// device's, is refused here, except that a revoked device's push is
    /// still read (what it pushed is kept for review, within its quota).
    pub fn device_admitted(&self, token: &str, path: &str) -> Result<(), CountyError> {
        let revoked_ok = path == sync::client::path::PUSH;
        match self.db.tx(|db| auth::find_device(db, token))? {
            None => Err(auth::UNAUTHENTICATED.into()),
            Some((_, Some(denied))) if !revoked_ok => Err(denied.into()),
            Some(_) => Ok(()),
        }
    }

    /// One request of a device to `path`: a sync call or an attachment's.
    pub fn device_request(&self, token: &str, path: &str, body: &[u8]) -> Result<Vec<u8>, CountyError> {
        use sync::blobs::path as blobs;
        match path {
            blobs::STATUS | blobs::PUSH | blobs::FETCH => self.blobs(token, path, body),
            _ => self.sync(token, path, body),
        }
    }

    /// One sync request of a device (`path` is one of the
    /// [`sync::client::path`]s), run in one transaction; its answer,
    /// encoded.
    ///
    /// A device that went past its budget of records outside its scope
    /// ([`server::REVEAL_BUDGET`]) learns nothing (the request was rolled
    /// back) and is suspended until a county admin reinstates it.
    ///
    /// Calls that only read (pull, repair, fetch, refs) run in a read-only
    /// transaction, beside writes; a push is judged in one (its documents
    /// unsealed, merged and checked) and written in a short write
    /// transaction ([`server::commit_push`]). A device whose finding
    /// writes (its rotated token's first use, a wipe to deliver) is served
    /// in a write transaction from the start.
    pub fn sync(&self, token: &str, path: &str, body: &[u8]) -> Result<Vec<u8>, CountyError> {
        let call = SyncCall::decode(path, body)?;
        let ctx = self.ctx();
        let read = self.db.read(|db| {
            let Some(found) = auth::find_device_reading(db, token)? else { return Ok(None) };
            let Some((device, None)) = found else { return Ok(None) };
            Ok(Some(match &call {
                SyncCall::Push(req) => Read::Judged(server::judge_push(db, &ctx, &device, req)?),
                _ => Read::Answer(call.answer(db, &ctx, &device)?),
            }))
        })?;
        let judged = match read {
            Some(Read::Answer(answer)) => return Ok(answer),
            Some(Read::Judged(judged)) => Some(judged),
            None => None,
        };
        match self.db.tx(|db| call.run(db, &ctx, token, judged)) {
            Err(e) if e.code() == server::DEVICE_SUSPENDED => {
                self.db.tx(|db| auth::suspend(db, token, "PROBING"))?;
                Err(auth::DEVICE_SUSPENDED.into())
            }
            Err(e) => Err(e.into()),
            Ok(answer) => Ok(answer?),
        }
    }

    /// One attachment request of an enrolled, unrevoked device, within its
    /// scope (`path` is one of the [`sync::blobs::path`]s); its answer.
    pub fn blobs(&self, token: &str, path: &str, body: &[u8]) -> Result<Vec<u8>, CountyError> {
        let Some(blobs) = self.blobs.clone() else { return Err(auth::BLOBS_UNAVAILABLE.into()) };
        let bad = |e: serde_json::Error| SyncError::Wire(e.to_string());
        let answer = self.db.tx(|db| {
            let device = match auth::find_device(db, token)? {
                None => return Ok(Err(auth::UNAUTHENTICATED)),
                Some((_, Some(denied))) => return Ok(Err(denied)),
                Some((device, None)) => device,
            };
            Ok(Ok(match path {
                sync::blobs::path::STATUS => {
                    let req = serde_json::from_slice(body).map_err(bad)?;
                    serde_json::to_vec(&sync::blobs::status(db, blobs.as_ref(), &device, &req)?).map_err(bad)?
                }
                sync::blobs::path::PUSH => {
                    serde_json::to_vec(&sync::blobs::push(db, blobs.as_ref(), &device, body)?).map_err(bad)?
                }
                _ => {
                    let req = serde_json::from_slice(body).map_err(bad)?;
                    sync::blobs::fetch(db, blobs.as_ref(), &device, &req)?
                }
            }))
        })?;
        Ok(answer?)
    }

    /// A photo (its JPEG bytes), for staff who see a record that refers to
    /// it.
    pub fn photo(&self, creds: Credentials<'_>, hash: &str) -> Result<Vec<u8>, CountyError> {
        self.photo_seen(creds, hash)?;
        if !sync::blobs::is_hash(hash) {
            return Err(auth::BAD_REQUEST.into());
        }
        let Some(blobs) = self.blobs.clone() else { return Err(auth::PHOTO_NOT_FOUND.into()) };
        blobs.read(hash)?.ok_or_else(|| auth::PHOTO_NOT_UPLOADED.into())
    }

    /// The signed trust list (COSE; public: device ids and public keys).
    pub fn signed_trust_list(&self) -> Result<Vec<u8>, CountyError> {
        self.enter(Allowed::Anyone, Credentials::None, |cx| {
            Ok(crate::cards::trust_list(cx.db)?.sign(&crate::cards::root_key(&self.keys.card_root)))
        })
    }

    /// The signed revocation list (COSE; public: card serials only).
    pub fn signed_revocation_list(&self) -> Result<Vec<u8>, CountyError> {
        self.enter(Allowed::Anyone, Credentials::None, |cx| {
            Ok(crate::cards::revocation_list(cx.db)?.sign(&crate::cards::root_key(&self.keys.card_root)))
        })
    }
}

//! The device's sync session: push the outbox, pull the feed, check for
//! anything a cursor missed. Each step reads or writes the store in its own
//! transaction, so a session cut off at any point (a crash, a lost network)
//! resumes where it stopped; each request is safe to repeat, and a late,
//! repeated or misdirected answer can neither move the cursor wrongly nor
//! clear an outbox entry the server does not hold.

use crate::error::SyncError;
use crate::fingerprint::{self, Buckets};
use crate::scope::Scope;
use crate::wire::*;
use automerge::ChangeHash;
use registry::model::{RecordId, RecordKind, Region};
use std::collections::HashMap;
use store::{Pulled, PushAck, Store};

/// The sync endpoints, relative to the server's address.
pub mod path {
    pub const PUSH: &str = "/api/sync/push";
    pub const PULL: &str = "/api/sync/pull";
    pub const REPAIR: &str = "/api/sync/repair";
    pub const FETCH: &str = "/api/sync/fetch";
    /// The organisations the device's records refer to outside its scope.
    pub const REFS: &str = "/api/sync/refs";
    /// A device's token traded for a new one (JSON).
    pub const ROTATE: &str = "/api/sync/rotate";
    /// The lock screen's "must I wipe?" (JSON, with the wipe-check token).
    pub const WIPE_CHECK: &str = "/api/sync/wipe-check";
    /// "Is this record registered outside my scope?" (JSON).
    pub const LOOKUP: &str = "/api/sync/lookup";
}

/// Carries one request to the server and brings back its answer.
pub trait Transport {
    fn call(&mut self, path: &'static str, body: Vec<u8>) -> Result<Vec<u8>, SyncError>;

    /// As [`Transport::call`], but an answer cut off mid-way (a dropped
    /// connection) gives the bytes that arrived and `false` instead of an
    /// error, so a long download keeps what it got (blob batches).
    fn call_partial(&mut self, path: &'static str, body: Vec<u8>) -> Result<(Vec<u8>, bool), SyncError> {
        self.call(path, body).map(|b| (b, true))
    }
}

/// Where a session is, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Push,
    Pull,
    Repair,
    /// Photos and other attachments, after the records.
    Blobs,
    Done,
}

impl Stage {
    pub fn key(self) -> &'static str {
        match self {
            Stage::Push => "push",
            Stage::Pull => "pull",
            Stage::Repair => "repair",
            Stage::Blobs => "blobs",
            Stage::Done => "done",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub stage: Stage,
    pub docs_done: u64,
    /// 0 while unknown.
    pub docs_total: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Documents per push request.
    pub push_docs: usize,
    /// About this many bytes of changes per push request.
    pub push_bytes: usize,
    /// Documents per pull request.
    pub pull_limit: u32,
    /// Run the repair check at the end of the session.
    pub repair: bool,
    /// Push and fetch attachments after the records.
    pub blobs: bool,
    /// Ask for the stubs of the organisations the device's records refer
    /// to outside its scope ([`crate::server::refs`]).
    pub refs: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { push_docs: 500, push_bytes: 1 << 20, pull_limit: 2000, repair: true, blobs: true, refs: true }
    }
}

/// What a session did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Outbox entries the server acknowledged.
    pub pushed: usize,
    /// Pushed documents the server put in its quarantine.
    pub quarantined: usize,
    pub pulled_changed: usize,
    pub pulled_unchanged: usize,
    /// Copies removed because they left the device's scope.
    pub removed: usize,
    /// Received documents this device could not apply (kept locally).
    pub local_quarantine: usize,
    /// Documents the repair check fetched or re-queued.
    pub repaired: usize,
    pub requests: usize,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// The attachments' part of the session.
    pub blobs: crate::blobs::BlobReport,
}

const CURSOR: &str = "cursor";
const SCOPE: &str = "scope";

/// The scope this device last heard from the server, if any.
pub fn stored_scope(store: &Store) -> Result<Option<Scope>, SyncError> {
    match store.sync_value(SCOPE)? {
        Some(b) => Ok(Some(Scope::from_bytes(&b)?)),
        None => Ok(None),
    }
}

struct Session<'a> {
    store: &'a mut Store,
    transport: &'a mut dyn Transport,
    progress: &'a mut dyn FnMut(&Progress),
    report: Report,
}

impl Session<'_> {
    fn call<Req: Message, Resp: Message>(&mut self, path: &'static str, req: &Req) -> Result<Resp, SyncError> {
        call_with(self.transport, &mut self.report, path, req)
    }

    fn tell(&mut self, stage: Stage, done: u64, total: u64) {
        let p = Progress {
            stage,
            docs_done: done,
            docs_total: total,
            bytes_sent: self.report.bytes_sent,
            bytes_received: self.report.bytes_received,
        };
        (self.progress)(&p);
    }
}

/// One request, counted in the session's report.
fn call_with<Req: Message, Resp: Message>(
    transport: &mut dyn Transport,
    report: &mut Report,
    path: &'static str,
    req: &Req,
) -> Result<Resp, SyncError> {
    let body = req.encode();
    report.bytes_sent += body.len() as u64;
    report.requests += 1;
    let answer = transport.call(path, body)?;
    report.bytes_received += answer.len() as u64;
    Resp::decode(&answer)
}

/// Runs one sync session: push, pull, repair.
pub fn sync(
    store: &mut Store,
    transport: &mut dyn Transport,
    options: &Options,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Report, SyncError> {
    let mut s = Session { store, transport, progress, report: Report::default() };
    push(&mut s, options)?;
    pull(&mut s, options)?;
    if options.repair && s.store.outbox_len()? == 0 && repair(&mut s)? > 0 {
        // Documents the server lost were re-queued: send them now.
        push(&mut s, options)?;
    }
    if options.refs {
        refs(&mut s)?;
    }
    if options.blobs {
        s.tell(Stage::Blobs, 0, 0);
        let today = (time::OffsetDateTime::now_utc() + time::Duration::hours(8)).date();
        crate::blobs::sync_blobs(s.store, s.transport, today, &mut s.report.blobs)?;
        s.report.requests += s.report.blobs.requests;
        s.report.bytes_sent += s.report.blobs.bytes_sent;
        s.report.bytes_received += s.report.blobs.bytes_received;
    }
    let (sent, received) = (s.report.bytes_sent, s.report.bytes_received);
    let p = Progress { stage: Stage::Done, docs_done: 0, docs_total: 0, bytes_sent: sent, bytes_received: received };
    (s.progress)(&p);
    Ok(s.report)
}

/// The county's whole list of the organisations this device's records
/// refer to outside its scope, kept as read-only stubs in place of the last.
fn refs(s: &mut Session<'_>) -> Result<(), SyncError> {
    let resp: RefsResponse = s.call(path::REFS, &RefsRequest {})?;
    let date = |d: &str| registry::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).ok();
    let stubs: Vec<store::RefStub> = resp
        .stubs
        .into_iter()
        .filter_map(|w| {
            Some(store::RefStub {
                id: w.id,
                kind: registry::model::RecordKind::from_key(&w.kind)?,
                name: w.name,
                union_kind: registry::model::UnionKind::from_key(&w.union_kind),
                dissolved_on: date(&w.dissolved_on),
                township: (!w.township.is_empty()).then(|| registry::model::RecordId::from(w.township.as_str())),
                covered_by: (!w.covered_by.is_empty()).then(|| registry::model::RecordId::from(w.covered_by.as_str())),
                private_open: w.private_open,
            })
        })
        .collect();
    s.store.replace_ref_stubs(&stubs)?;
    Ok(())
}

fn to_hashes(h: &[Hash]) -> Vec<ChangeHash> {
    h.iter().map(|h| ChangeHash(*h)).collect()
}

fn push(s: &mut Session<'_>, options: &Options) -> Result<(), SyncError> {
    let total = s.store.outbox_len()?;
    let mut done = 0;
    s.tell(Stage::Push, 0, total);
    // Each round clears what the server holds; a round that clears nothing
    // (everything asked for again whole, or changed meanwhile) is retried
    // once with whole documents, then left for the next session.
    let mut idle_rounds = 0;
    while idle_rounds < 2 {
        let out = s.store.outgoing(options.push_docs, options.push_bytes)?;
        if out.is_empty() {
            break;
        }
        let req = PushRequest {
            docs: out
                .iter()
                .map(|o| PushDoc {
                    id: o.id.clone(),
                    heads: o.heads.iter().map(|h| h.0).collect(),
                    bytes: o.bytes.clone(),
                })
                .collect(),
        };
        let resp: PushResponse = s.call(path::PUSH, &req)?;
        let asked: std::collections::HashSet<&RecordId> = out.iter().map(|o| &o.id).collect();
        let mut acks = Vec::with_capacity(resp.results.len());
        for r in &resp.results {
            if !asked.contains(&r.id) {
                continue; // an answer to some other request
            }
            let (server_heads, held) = match &r.outcome {
                Outcome::Applied => (Some(to_hashes(&r.heads)), true),
                Outcome::Quarantined(_) => {
                    s.report.quarantined += 1;
                    (None, true)
                }
                Outcome::Resend => (Some(to_hashes(&r.heads)), false),
            };
            acks.push(PushAck { id: r.id.clone(), pushed: to_hashes(&r.held), server_heads, held });
        }
        let cleared = s.store.settle_push(&acks)?;
        s.report.pushed += cleared;
        done += cleared as u64;
        s.tell(Stage::Push, done, total);
        if cleared == 0 {
            idle_rounds += 1;
        } else {
            idle_rounds = 0;
        }
    }
    Ok(())
}

fn keeper(scope: Option<Scope>) -> impl Fn(RecordKind, &Region) -> bool {
    move |kind, region| scope.as_ref().is_none_or(|s| s.can_read(kind, region))
}

/// Pulls every page after the stored cursor. A first sync into an empty
/// store is a bulk load (`Store::begin_bulk_load`): its indexes are built
/// once, at the end, or at the store's next opening if the pull is cut
/// short.
fn pull(s: &mut Session<'_>, options: &Options) -> Result<(), SyncError> {
    let bulk = s.store.begin_bulk_load()?;
    let pulled = pull_pages(s, options);
    let built = if bulk { s.store.end_bulk_load().map_err(SyncError::from) } else { Ok(()) };
    pulled.and(built)
}

/// The page after this one is asked for while this one is applied (on
/// another thread: the store moves, the transport stays), so the server's
/// work and the network overlap the device's. Asking ahead is harmless: a
/// pull reads, and an answer whose cursor is not the one the store then
/// holds is treated as any late answer.
fn pull_pages(s: &mut Session<'_>, options: &Options) -> Result<(), SyncError> {
    let mut total = 0;
    let mut done = 0;
    let mine = crate::server::cursor_prefix(&s.store.device_id());
    let mut foreign = 0;
    let mut ahead: Option<PullResponse> = None;
    loop {
        let cursor = s.store.sync_value(CURSOR)?.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
        let resp = match ahead.take() {
            Some(resp) => resp,
            None => {
                let req = PullRequest {
                    cursor: cursor.clone(),
                    limit: options.pull_limit,
                    want_total: total == 0,
                    skip_own: true,
                };
                s.call(path::PULL, &req)?
            }
        };
        if !resp.next.starts_with(&mine) {
            // An answer meant for another device (a confused proxy): none of
            // it is used, not its documents, cursor or scope.
            foreign += 1;
            if foreign > 3 {
                return Err(SyncError::Wire("the answers are meant for another device".into()));
            }
            continue;
        }
        if let Some(t) = resp.total {
            total = t;
        }
        let current = resp.from == cursor;
        let scope = match (&resp.scope, current) {
            (Some(scope), true) => Some(scope.clone()),
            _ => stored_scope(s.store)?,
        };
        let mut values = Vec::new();
        if current {
            values.push((CURSOR, resp.next.clone().into_bytes()));
            if let Some(scope) = &resp.scope {
                values.push((SCOPE, scope.to_bytes()));
            }
        }
        let n = resp.docs.len() as u64;
        let keep = keeper(scope);
        let next = (current && resp.more).then(|| PullRequest {
            cursor: resp.next.clone(),
            limit: options.pull_limit,
            want_total: false,
            skip_own: true,
        });
        let more = resp.more;
        let docs: Vec<(RecordId, Vec<u8>)> = resp.docs.into_iter().map(|d| (d.id, d.bytes)).collect();
        let left = resp.left;
        let (store, transport, report) = (&mut *s.store, &mut *s.transport, &mut s.report);
        let keep = &keep;
        let (applied, asked) = std::thread::scope(|scope| {
            let applying = scope.spawn(move || store.apply_pulled(Pulled { docs, keep, values, left }));
            let asked = next.map(|req| call_with(transport, report, path::PULL, &req));
            (applying.join(), asked)
        });
        let applied = applied.map_err(|_| SyncError::Server("applying a pulled page panicked".into()))??;
        s.report.pulled_changed += applied.changed;
        s.report.pulled_unchanged += applied.unchanged;
        s.report.removed += applied.removed;
        s.report.local_quarantine += applied.quarantined;
        done += n;
        s.tell(Stage::Pull, done, total.max(done));
        if !current {
            // A late or repeated answer: its documents are applied (harmless),
            // the cursor stays; ask again from where we are.
            continue;
        }
        if !more {
            return Ok(());
        }
        // An answer asked ahead that failed is asked again, not fatal.
        ahead = asked.and_then(Result::ok);
    }
}

/// The repair check: compares what the server holds in this device's scope
/// with what the device believes it holds; fetches what differs, removes
/// copies the server no longer shows it, re-queues what the server lost.
/// Returns how many documents were re-queued.
fn repair(s: &mut Session<'_>) -> Result<usize, SyncError> {
    s.tell(Stage::Repair, 0, 0);
    // The whole scope's summary is kept by the store: a check when nothing
    // changed reads no document.
    let (count, xor) = s.store.known_summary()?;
    let total = Summary { count, xor };
    let resp: RepairResponse = s.call(path::REPAIR, &RepairRequest { summary: total, buckets: Vec::new() })?;
    let theirs = match resp {
        RepairResponse::Equal => return Ok(0),
        RepairResponse::Buckets(b) if b.len() == 256 => b,
        _ => return Err(SyncError::Wire("unexpected repair answer".into())),
    };
    let mine = known_buckets(s.store, None)?.0;
    let differ: Vec<u8> = (0..=255u8).filter(|&b| theirs[usize::from(b)] != mine.each[usize::from(b)]).collect();
    if differ.is_empty() {
        return Ok(0);
    }
    let listing = match s.call(path::REPAIR, &RepairRequest { summary: total, buckets: differ.clone() })? {
        RepairResponse::Listing(l) => l,
        _ => return Err(SyncError::Wire("unexpected repair answer".into())),
    };
    let (_, my_listing) = known_buckets(s.store, Some(&differ))?;
    let server: HashMap<RecordId, u64> = listing.into_iter().collect();
    let mut wanted: Vec<RecordId> =
        server.iter().filter(|(id, fp)| my_listing.get(*id) != Some(fp)).map(|(id, _)| id.clone()).collect();
    wanted.extend(my_listing.keys().filter(|id| !server.contains_key(*id)).cloned());
    wanted.sort();
    let scope = stored_scope(s.store)?;
    let keep = keeper(scope);
    let mut requeued = 0;
    let total = wanted.len() as u64;
    let mut done = 0;
    for chunk in wanted.chunks(500) {
        let mut resp: FetchResponse = s.call(path::FETCH, &FetchRequest { ids: chunk.to_vec() })?;
        // Only answers about what was asked (a misdirected answer names
        // other documents, and must not remove any).
        let asked: std::collections::HashSet<&RecordId> = chunk.iter().collect();
        resp.docs.retain(|d| asked.contains(&d.id));
        resp.hidden.retain(|id| asked.contains(id));
        resp.absent.retain(|id| asked.contains(id));
        let got = resp.docs.len();
        let r = s.store.apply_pulled(Pulled {
            docs: resp.docs.into_iter().map(|d| (d.id, d.bytes)).collect(),
            keep: &keep,
            values: Vec::new(),
            left: Vec::new(),
        })?;
        s.report.local_quarantine += r.quarantined;
        s.report.removed += r.removed;
        s.report.removed += s.store.forget_known(&resp.hidden, true)?;
        for id in &resp.absent {
            s.store.requeue(id)?;
            requeued += 1;
        }
        s.report.repaired += got + resp.absent.len();
        done += chunk.len() as u64;
        s.tell(Stage::Repair, done, total);
    }
    Ok(requeued)
}

/// Summaries of what the device believes the server holds, and (for the
/// given buckets) the fingerprint of each document in them.
fn known_buckets(store: &Store, only: Option<&[u8]>) -> Result<(Buckets, HashMap<RecordId, u64>), SyncError> {
    let mut buckets = Buckets::default();
    let mut listing = HashMap::new();
    let mut after: Option<RecordId> = None;
    loop {
        let page = store.known_heads(after.as_ref(), 5000)?;
        let n = page.len();
        for (id, heads) in page {
            let heads: Vec<Hash> = heads.iter().map(|h| h.0).collect();
            let fp = fingerprint::of(&id, &heads);
            match only {
                Some(only) if only.contains(&fingerprint::bucket(&id)) => {
                    listing.insert(id.clone(), fp);
                }
                Some(_) => {}
                None => buckets.add(&id, fp),
            }
            after = Some(id);
        }
        if n < 5000 {
            return Ok((buckets, listing));
        }
    }
}

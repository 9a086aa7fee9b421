//! The device side of sync, as store operations: what to push, what the
//! server acknowledged, applying a pulled batch, and the state the repair
//! check compares. Each operation is one transaction, so a crash at any
//! point leaves either the state before it or the state after it.
//!
//! The wire protocol itself lives in the `sync` crate; the store only keeps
//! opaque sync values (the cursor, the scope) beside the data they describe.

use crate::error::StoreError;
use crate::schema::{self, Projector, docs, meta, outbox, quarantine, sync_state};
use crate::store::{Described, Store, Writer, hydrate, now_ms, persist, persist_received};
use automerge::{AutoCommit, ChangeHash};
use registry::model::{Record, RecordId, RecordKind, Region};
use registry::{Date, validate};
use rusqlite::{OptionalExtension, params};

/// A document's changes to push.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: RecordId,
    /// The changes the server lacks (or the whole document).
    pub bytes: Vec<u8>,
    /// The local heads these bytes bring the server to.
    pub heads: Vec<ChangeHash>,
    /// True when `bytes` is the whole document.
    pub whole: bool,
}

/// What the server said of one pushed document.
#[derive(Debug, Clone)]
pub struct PushAck {
    pub id: RecordId,
    /// The heads that were pushed ([`Outgoing::heads`]).
    pub pushed: Vec<ChangeHash>,
    /// The server's heads for the document after the push, or None when the
    /// server could not place the changes (send the whole document next time).
    pub server_heads: Option<Vec<ChangeHash>>,
    /// The server holds the pushed changes (applied or in its quarantine):
    /// the outbox entry may go, unless the document changed since.
    pub held: bool,
}

/// A batch received from the server.
pub struct Pulled<'a> {
    /// Whole documents as the server holds them.
    pub docs: Vec<(RecordId, Vec<u8>)>,
    /// Whether a record belongs on this device; a clean copy of one that does
    /// not (it moved out of the device's scope) is removed.
    pub keep: &'a dyn Fn(RecordKind, &Region) -> bool,
    /// Sync values to write in the same transaction (e.g. the new cursor).
    pub values: Vec<(&'a str, Vec<u8>)>,
    /// Records that left this device's scope (ids only): a clean copy is
    /// removed, one with unsent changes kept (it is pushed whole, and the
    /// county reviews it).
    pub left: Vec<RecordId>,
}

impl std::fmt::Debug for Pulled<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pulled").field("docs", &self.docs.len()).field("values", &self.values).finish()
    }
}

/// What applying a pulled batch did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PulledReport {
    /// Documents new or changed here.
    pub changed: usize,
    /// Documents already up to date.
    pub unchanged: usize,
    /// Clean copies removed because they left this device's scope.
    pub removed: usize,
    /// Documents that could not be applied and went to the local quarantine.
    pub quarantined: usize,
}

/// A document this device received and could not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    pub doc_id: RecordId,
    pub code: String,
    pub detail: String,
    pub bytes: Vec<u8>,
}

const VALUE_PREFIX: &str = "sync.";

impl Store {
    /// A sync value (cursor, scope) kept by the sync client.
    pub fn sync_value(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        meta::get(&self.conn, &format!("{VALUE_PREFIX}{key}"))
    }

    pub fn set_sync_value(&mut self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        meta::set(&self.conn, &format!("{VALUE_PREFIX}{key}"), value)
    }

    /// How many documents wait to be pushed.
    pub fn outbox_len(&self) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// The next documents to push, oldest change first, up to `max_docs`
    /// documents and about `max_bytes` (at least one document). Each carries
    /// only the changes after the heads the server is known to hold.
    pub fn outgoing(&self, max_docs: usize, max_bytes: usize) -> Result<Vec<Outgoing>, StoreError> {
        let ids: Vec<RecordId> = self
            .conn
            .prepare_cached("SELECT doc_id FROM outbox ORDER BY first_queued, doc_id LIMIT ?1")?
            .query_map([max_docs as i64], |r| Ok(RecordId(r.get(0)?)))?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(ids.len());
        let mut total = 0;
        for id in ids {
            let Some(mut doc) = self.load(&id)? else { continue };
            let known = sync_state::get(&self.conn, &id)?.unwrap_or_default();
            // Send the delta only if this document holds every head the server
            // is said to have; otherwise the whole document.
            let whole = known.is_empty() || known.iter().any(|h| doc.get_change_by_hash(h).is_none());
            let bytes = if whole { doc.save() } else { doc.save_after(&known) };
            let heads = doc.get_heads();
            total += bytes.len();
            out.push(Outgoing { id, bytes, heads, whole });
            if total >= max_bytes {
                break;
            }
        }
        Ok(out)
    }

    /// Records the server's answers to a push, in one transaction. Returns
    /// how many outbox entries were cleared: an entry is cleared only when the
    /// server holds every change the document has now.
    pub fn settle_push(&mut self, acks: &[PushAck]) -> Result<usize, StoreError> {
        let mut current = Vec::with_capacity(acks.len());
        for ack in acks {
            current.push(self.load(&ack.id)?.map(|mut doc| doc.get_heads()));
        }
        let tx = self.conn.transaction()?;
        let mut cleared = 0;
        let mut delta = sync_state::Delta::default();
        for (ack, heads) in acks.iter().zip(current) {
            match &ack.server_heads {
                Some(server) => sync_state::set(&tx, &ack.id, server, &mut delta)?,
                None => sync_state::forget(&tx, &ack.id, &mut delta)?,
            }
            let Some(heads) = heads else { continue };
            let covered =
                |h: &ChangeHash| ack.pushed.contains(h) || ack.server_heads.as_ref().is_some_and(|s| s.contains(h));
            if ack.held && heads.iter().all(covered) {
                outbox::clear(&tx, &ack.id)?;
                cleared += 1;
            }
        }
        sync_state::commit_summary(&tx, delta)?;
        tx.commit()?;
        Ok(cleared)
    }

    /// Applies a batch of documents from the server in one transaction,
    /// together with `values` (the new cursor): a crash leaves either none of
    /// it or all of it. Documents that cannot be applied go to the local
    /// quarantine; the batch goes on.
    ///
    /// Received documents are decoded (loaded, read into records, checked)
    /// on worker threads while this thread writes the ones decoded already:
    /// decoding and writing each take about half of a first sync's time, so
    /// they overlap instead of following each other.
    pub fn apply_pulled(&mut self, batch: Pulled<'_>) -> Result<PulledReport, StoreError> {
        let writer = Writer::of(self);
        let actor = self.actor();
        let Pulled { docs, keep, values, left } = batch;
        let mut report = PulledReport::default();
        let now = now_ms();
        let tx = self.conn.transaction()?;
        let mut delta = sync_state::Delta::default();
        for id in left {
            let record = match load_in(&tx, &id, &actor)? {
                Some(doc) if !outbox_has(&tx, &id)? => hydrate(&doc).ok(),
                _ => None,
            };
            match record {
                Some(record) => {
                    remove_copy(&tx, &writer, &id, &record, &mut delta)?;
                    report.removed += 1;
                }
                None => sync_state::forget(&tx, &id, &mut delta)?,
            }
        }
        decode_streamed(docs, |id, bytes, decoded| {
            let received = match decoded {
                Ok(d) => d,
                Err((code, detail)) => {
                    quarantine::add(&tx, &id, code, &detail, &bytes, now)?;
                    report.quarantined += 1;
                    return Ok(());
                }
            };
            let Received { record, heads: server_heads, described } = received;
            let dirty = outbox_has(&tx, &id)?;
            if !keep(record.kind(), &record.region(&id)) && !dirty {
                remove_copy(&tx, &writer, &id, &record, &mut delta)?;
                report.removed += 1;
                return Ok(());
            }
            match load_in(&tx, &id, &actor)? {
                // A new copy is the server's document: its record is read
                // and checked already, and it is stored as received.
                None => persist_received(&tx, &writer, &id, &bytes, &record, described)?,
                Some(mut ours) => {
                    // Loaded again here: a worker decoded it, but only
                    // what a new copy needs travelled.
                    let mut theirs = crate::doc::load(&bytes).map_err(|e| StoreError::Malformed(e.to_string()))?;
                    let before = ours.get_heads();
                    if let Err(e) = ours.merge(&mut theirs) {
                        quarantine::add(&tx, &id, "DOCUMENT_MALFORMED", &e.to_string(), &bytes, now)?;
                        report.quarantined += 1;
                        return Ok(());
                    }
                    if ours.get_heads() == before {
                        sync_state::set(&tx, &id, &server_heads, &mut delta)?;
                        report.unchanged += 1;
                        return Ok(());
                    }
                    let mut record = match hydrate(&ours) {
                        Ok(r) => r,
                        Err(e) => {
                            let code = crate::error::RECORD_UNREADABLE.code;
                            quarantine::add(&tx, &id, code, &e.to_string(), &bytes, now)?;
                            report.quarantined += 1;
                            return Ok(());
                        }
                    };
                    let _advice = validate::check(&mut record, Date::MAX);
                    persist(&tx, &writer, &id, &mut ours, &record, false)?;
                }
            }
            sync_state::set(&tx, &id, &server_heads, &mut delta)?;
            report.changed += 1;
            Ok(())
        })?;
        for (key, value) in &values {
            meta::set(&tx, &format!("{VALUE_PREFIX}{key}"), value)?;
        }
        sync_state::commit_summary(&tx, delta)?;
        tx.commit()?;
        Ok(report)
    }

    /// The heads the server is known to hold, by document id, a page at a
    /// time after `after` (for the repair check's fingerprints).
    pub fn known_heads(
        &self,
        after: Option<&RecordId>,
        limit: usize,
    ) -> Result<Vec<(RecordId, Vec<ChangeHash>)>, StoreError> {
        let rows = self
            .conn
            .prepare_cached("SELECT doc_id, server_heads FROM sync_state WHERE doc_id > ?1 ORDER BY doc_id LIMIT ?2")?
            .query_map(params![after.map_or("", RecordId::as_str), limit as i64], |r| {
                let b: Vec<u8> = r.get(1)?;
                Ok((RecordId(r.get(0)?), sync_state::decode(&b)))
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Forgets what the server was known to hold of these documents (the
    /// repair check found it wrong). A clean copy is removed when `remove`
    /// says so (the server no longer shows it to this device); a copy with
    /// unsent changes is kept and will be pushed whole.
    pub fn forget_known(&mut self, ids: &[RecordId], remove: bool) -> Result<usize, StoreError> {
        let writer = Writer::of(self);
        let mut records = Vec::new();
        for id in ids {
            let record = match self.load(id)? {
                Some(doc) if remove && !outbox_has(&self.conn, id)? => hydrate(&doc).ok(),
                _ => None,
            };
            records.push(record);
        }
        let tx = self.conn.transaction()?;
        let mut removed = 0;
        let mut delta = sync_state::Delta::default();
        for (id, record) in ids.iter().zip(records) {
            sync_state::forget(&tx, id, &mut delta)?;
            if let Some(record) = record {
                remove_copy(&tx, &writer, id, &record, &mut delta)?;
                removed += 1;
            }
        }
        sync_state::commit_summary(&tx, delta)?;
        tx.commit()?;
        Ok(removed)
    }

    /// Queues a document to be pushed whole (the server lost it).
    pub fn requeue(&mut self, id: &RecordId) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let mut delta = sync_state::Delta::default();
        sync_state::forget(&tx, id, &mut delta)?;
        if docs::bytes(&tx, id)?.is_some() {
            outbox::queue(&tx, id, now_ms())?;
        }
        sync_state::commit_summary(&tx, delta)?;
        tx.commit()?;
        Ok(())
    }

    /// The count of documents whose server heads are known and the XOR of
    /// their fingerprints ([`crate::fingerprint`]): the repair check's
    /// summary, kept up to date by every sync write (one scan the first time).
    pub fn known_summary(&mut self) -> Result<(u64, u64), StoreError> {
        let tx = self.conn.transaction()?;
        let s = sync_state::summary(&tx)?;
        tx.commit()?;
        Ok(s)
    }

    /// What this device received and could not apply.
    pub fn quarantined(&self) -> Result<Vec<Quarantined>, StoreError> {
        let rows = self
            .conn
            .prepare("SELECT doc_id, code, detail, bytes FROM quarantine ORDER BY id")?
            .query_map([], |r| {
                Ok(Quarantined { doc_id: RecordId(r.get(0)?), code: r.get(1)?, detail: r.get(2)?, bytes: r.get(3)? })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }
}

/// A received document, decoded by a worker: its record (checked as the
/// plan's rules complete it), its heads, and what its projections need.
/// The document itself stays with the worker (freed where it was made:
/// handing thousands of them to another thread to free cost more than the
/// overlap saved).
struct Received {
    record: Record,
    heads: Vec<ChangeHash>,
    described: Described,
}

type Decoded = Result<Received, (&'static str, String)>;

/// How many received documents a worker decodes at a time.
const DECODE_CHUNK: usize = 32;

/// Decodes received documents on worker threads and hands each to `apply`
/// on the calling thread, in the order received, as soon as it and those
/// before it are decoded. Decoding needs no database; `apply` writes. The
/// first error `apply` returns stops the workers and is returned.
fn decode_streamed(
    docs: Vec<(RecordId, Vec<u8>)>,
    mut apply: impl FnMut(RecordId, Vec<u8>, Decoded) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    fn decode(bytes: &[u8]) -> Decoded {
        let mut doc = crate::doc::load(bytes).map_err(|e| ("DOCUMENT_MALFORMED", e.to_string()))?;
        let (mut record, described) =
            Described::read(&doc).map_err(|e| (crate::error::RECORD_UNREADABLE.code, e.to_string()))?;
        let _advice = validate::check(&mut record, Date::MAX);
        Ok(Received { record, heads: doc.get_heads(), described })
    }
    // As many workers as cores: the writing thread mostly waits for them.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    if workers < 2 || docs.len() < 2 * DECODE_CHUNK {
        for (id, bytes) in docs {
            let d = decode(&bytes);
            apply(id, bytes, d)?;
        }
        return Ok(());
    }
    let mut chunks: Vec<Vec<(RecordId, Vec<u8>)>> = Vec::new();
    let mut rest = docs.into_iter().peekable();
    while rest.peek().is_some() {
        chunks.push(rest.by_ref().take(DECODE_CHUNK).collect());
    }
    let total = chunks.len();
    // Each worker takes the next chunk; the chunks are each taken once.
    type Slot = std::sync::Mutex<Option<Vec<(RecordId, Vec<u8>)>>>;
    let chunks: Vec<Slot> = chunks.into_iter().map(|c| std::sync::Mutex::new(Some(c))).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let stop = std::sync::atomic::AtomicBool::new(false);
    type Done = (usize, Vec<(RecordId, Vec<u8>, Decoded)>);
    let (send, receive) = std::sync::mpsc::channel::<Done>();
    std::thread::scope(|s| {
        for _ in 0..workers {
            let send = send.clone();
            let (chunks, next, stop) = (&chunks, &next, &stop);
            s.spawn(move || {
                use std::sync::atomic::Ordering;
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(slot) = chunks.get(i) else { break };
                    let chunk = slot.lock().unwrap_or_else(|p| p.into_inner()).take().unwrap_or_default();
                    let done = chunk
                        .into_iter()
                        .map(|(id, b)| {
                            let d = decode(&b);
                            (id, b, d)
                        })
                        .collect();
                    if send.send((i, done)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(send);
        // Chunks arrive in any order; they are applied in the order sent.
        let mut waiting = std::collections::BTreeMap::new();
        let mut due = 0;
        let result = (|| {
            while due < total {
                let Ok((i, done)) = receive.recv() else { break };
                waiting.insert(i, done);
                while let Some(done) = waiting.remove(&due) {
                    for (id, bytes, d) in done {
                        apply(id, bytes, d)?;
                    }
                    due += 1;
                }
            }
            Ok(())
        })();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        drop(receive);
        result
    })
}

/// A stored document, read within the transaction `conn` is in.
fn load_in(
    conn: &rusqlite::Connection,
    id: &RecordId,
    actor: &automerge::ActorId,
) -> Result<Option<AutoCommit>, StoreError> {
    match docs::bytes(conn, id)? {
        Some(bytes) => {
            let doc = crate::doc::load(&bytes).map_err(|e| StoreError::Malformed(format!("document {id}: {e}")))?;
            Ok(Some(doc.with_actor(actor.clone())))
        }
        None => Ok(None),
    }
}

fn outbox_has(conn: &rusqlite::Connection, id: &RecordId) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM outbox WHERE doc_id = ?1")?
        .query_row([id.as_str()], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Removes this device's copy of a record and its projections.
fn remove_copy(
    tx: &rusqlite::Transaction<'_>,
    w: &Writer,
    id: &RecordId,
    record: &Record,
    delta: &mut sync_state::Delta,
) -> Result<(), StoreError> {
    let projector = Projector { secret: w.secret(), conflicts: 0, returned: None };
    schema::project(tx, &projector, id, record, true)?;
    docs::remove(tx, id)?;
    sync_state::forget(tx, id, delta)?;
    Ok(())
}

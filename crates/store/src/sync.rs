//! The device side of sync, as store operations: what to push, what the
//! server acknowledged, applying a pulled batch, and the state the repair
//! check compares. Each operation is one transaction, so a crash at any
//! point leaves either the state before it or the state after it.
//!
//! The wire protocol itself lives in the `sync` crate; the store only keeps
//! opaque sync values (the cursor, the scope) beside the data they describe.

use crate::error::StoreError;
use crate::schema::{self, Projector, docs, meta, outbox, quarantine, sync_state};
use crate::store::{Store, Writer, hydrate, now_ms, persist, persist_saved};
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
    pub fn apply_pulled(&mut self, batch: Pulled<'_>) -> Result<PulledReport, StoreError> {
        let writer = Writer::of(self);
        let actor = self.actor();
        let mut report = PulledReport::default();
        // Decode and merge outside the transaction; write inside it.
        enum Step {
            /// With the received bytes when the document is a new copy.
            Write(RecordId, Box<AutoCommit>, Box<Record>, Vec<ChangeHash>, Option<Vec<u8>>),
            Known(RecordId, Vec<ChangeHash>),
            Remove(RecordId, Box<Record>),
            Forget(RecordId),
            Quarantine(RecordId, &'static str, String, Vec<u8>),
        }
        let mut steps = Vec::with_capacity(batch.docs.len() + batch.left.len());
        for id in batch.left {
            let record = match self.load(&id)? {
                Some(doc) if !outbox_has(&self.conn, &id)? => hydrate(&doc).ok(),
                _ => None,
            };
            steps.push(match record {
                Some(record) => Step::Remove(id, Box::new(record)),
                None => Step::Forget(id),
            });
        }
        for (id, bytes, decoded) in decode_all(batch.docs) {
            let (mut theirs, record) = match decoded {
                Ok(d) => d,
                Err((code, detail)) => {
                    steps.push(Step::Quarantine(id, code, detail, bytes));
                    continue;
                }
            };
            let server_heads = theirs.get_heads();
            let dirty = outbox_has(&self.conn, &id)?;
            if !(batch.keep)(record.kind(), &record.region(&id)) && !dirty {
                steps.push(Step::Remove(id, Box::new(record)));
                continue;
            }
            let (merged, mut record, saved) = match self.load(&id)? {
                // A new copy is the server's document: its record is read
                // already, and it is stored as received.
                None => (theirs.with_actor(actor.clone()), record, Some(bytes)),
                Some(mut ours) => {
                    let before = ours.get_heads();
                    if let Err(e) = ours.merge(&mut theirs) {
                        steps.push(Step::Quarantine(id, "DOCUMENT_MALFORMED", e.to_string(), bytes));
                        continue;
                    }
                    if ours.get_heads() == before {
                        steps.push(Step::Known(id, server_heads));
                        continue;
                    }
                    match hydrate(&ours) {
                        Ok(r) => (ours, r, None),
                        Err(e) => {
                            steps.push(Step::Quarantine(
                                id,
                                crate::error::RECORD_UNREADABLE.code,
                                e.to_string(),
                                bytes,
                            ));
                            continue;
                        }
                    }
                }
            };
            let _advice = validate::check(&mut record, Date::MAX);
            steps.push(Step::Write(id, Box::new(merged), Box::new(record), server_heads, saved));
        }
        let now = now_ms();
        let tx = self.conn.transaction()?;
        let mut delta = sync_state::Delta::default();
        for step in steps {
            match step {
                Step::Write(id, mut doc, record, server_heads, saved) => {
                    match saved {
                        Some(bytes) => persist_saved(&tx, &writer, &id, &mut doc, &bytes, &record)?,
                        None => persist(&tx, &writer, &id, &mut doc, &record, false)?,
                    }
                    sync_state::set(&tx, &id, &server_heads, &mut delta)?;
                    report.changed += 1;
                }
                Step::Known(id, server_heads) => {
                    sync_state::set(&tx, &id, &server_heads, &mut delta)?;
                    report.unchanged += 1;
                }
                Step::Remove(id, record) => {
                    remove_copy(&tx, &writer, &id, &record, &mut delta)?;
                    report.removed += 1;
                }
                Step::Forget(id) => sync_state::forget(&tx, &id, &mut delta)?,
                Step::Quarantine(id, code, detail, bytes) => {
                    quarantine::add(&tx, &id, code, &detail, &bytes, now)?;
                    report.quarantined += 1;
                }
            }
        }
        for (key, value) in &batch.values {
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

type Decoded = Result<(AutoCommit, Record), (&'static str, String)>;

/// Loads and reads received documents, on a few threads for a large batch
/// (this is most of a first sync's work, and needs no database).
fn decode_all(docs: Vec<(RecordId, Vec<u8>)>) -> Vec<(RecordId, Vec<u8>, Decoded)> {
    fn decode(bytes: &[u8]) -> Decoded {
        let doc = crate::doc::load(bytes).map_err(|e| ("DOCUMENT_MALFORMED", e.to_string()))?;
        let record = hydrate(&doc).map_err(|e| (crate::error::RECORD_UNREADABLE.code, e.to_string()))?;
        Ok((doc, record))
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    if threads < 2 || docs.len() < 64 {
        return docs
            .into_iter()
            .map(|(id, b)| {
                let d = decode(&b);
                (id, b, d)
            })
            .collect();
    }
    let per = docs.len().div_ceil(threads);
    let mut chunks: Vec<Vec<(RecordId, Vec<u8>)>> = Vec::new();
    let mut rest = docs.into_iter();
    loop {
        let chunk: Vec<_> = rest.by_ref().take(per).collect();
        if chunk.is_empty() {
            break;
        }
        chunks.push(chunk);
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .into_iter()
                        .map(|(id, b)| {
                            let d = decode(&b);
                            (id, b, d)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("decoding thread")).collect()
    })
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

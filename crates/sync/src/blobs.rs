//! Attachments (photos) in sync. Records hold only a blob's SHA-256; the
//! bytes travel after the records, in batches of frames, lazily and
//! resumably: each frame carries a blob's hash, the offset of its bytes and
//! the blob's total size, so a transfer cut off mid-way resumes from what
//! arrived. A blob is kept only whole and only if its bytes hash to its
//! name; a corrupted one is dropped and fetched again.
//!
//! A device may push a blob only once a record in its scope refers to it
//! (with that size), and fetch only blobs its scope's records refer to.
//! The server keeps blobs through a [`BlobStore`]: [`DiskBlobs`] seals each
//! one (and each chunk of a partial upload) with the server's data key.

use crate::error::SyncError;
use crate::server::{Device, Sealer, Sql, Val};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

/// At most this many bytes of blob data per request or answer.
pub const MAX_BATCH: u64 = 4 << 20;
/// At most this many bytes of one blob per frame.
pub const FRAME_DATA: u64 = 1 << 20;
const MAGIC: &[u8; 4] = b"SJB1";
const HEADER: usize = 32 + 8 + 8 + 4;

/// A run of a blob's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Lowercase hex SHA-256 of the whole blob.
    pub hash: String,
    pub offset: u64,
    pub total: u64,
    pub data: Vec<u8>,
}

fn hex32(hash: &str) -> Option<[u8; 32]> {
    if hash.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(hash.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    // Only the lowercase spelling names a blob.
    (crate::enrol::hex(&out) == hash).then_some(out)
}

/// Whether `s` names a blob (64 lowercase hex digits).
pub fn is_hash(s: &str) -> bool {
    hex32(s).is_some()
}

/// Encodes frames into a request or answer body.
pub fn encode(frames: &[Frame]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + frames.iter().map(|f| HEADER + f.data.len()).sum::<usize>());
    out.extend_from_slice(MAGIC);
    for f in frames {
        out.extend_from_slice(&hex32(&f.hash).unwrap_or([0; 32]));
        out.extend_from_slice(&f.offset.to_be_bytes());
        out.extend_from_slice(&f.total.to_be_bytes());
        out.extend_from_slice(&(f.data.len() as u32).to_be_bytes());
        out.extend_from_slice(&f.data);
    }
    out
}

/// Decodes a body of frames. A body cut off mid-frame (a dropped
/// connection) gives the frames before it and the bytes of the last one
/// that arrived; a cut inside a frame's header drops that frame.
pub fn decode(body: &[u8]) -> Result<Vec<Frame>, SyncError> {
    if body.len() < 4 || &body[..4] != MAGIC {
        return Err(SyncError::Wire("not a blob batch".into()));
    }
    let mut frames = Vec::new();
    let mut i = 4;
    while i + HEADER <= body.len() {
        let hash = crate::enrol::hex(&body[i..i + 32]);
        let offset = u64::from_be_bytes(body[i + 32..i + 40].try_into().expect("8 bytes"));
        let total = u64::from_be_bytes(body[i + 40..i + 48].try_into().expect("8 bytes"));
        let len = u32::from_be_bytes(body[i + 48..i + 52].try_into().expect("4 bytes")) as usize;
        let start = i + HEADER;
        let end = (start + len).min(body.len());
        if offset.checked_add(len as u64).is_none_or(|e| e > total) {
            return Err(SyncError::Wire("a blob frame runs past its blob".into()));
        }
        frames.push(Frame { hash, offset, total, data: body[start..end].to_vec() });
        i = start + len;
    }
    Ok(frames)
}

/// Which of some blobs the server holds, whole or in part.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRequest {
    pub hashes: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusResponse {
    /// Bytes held of each blob asked about that the device may send
    /// (the total for a whole one).
    pub received: BTreeMap<String, u64>,
    pub complete: Vec<String>,
    /// Blobs no record in the device's scope refers to (yet).
    pub refused: Vec<String>,
}

/// One blob wanted, from this offset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Want {
    pub hash: String,
    pub from: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchRequest {
    pub want: Vec<Want>,
    pub max_bytes: u64,
}

/// What became of a pushed blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResult {
    pub hash: String,
    /// complete, partial, corrupt (dropped: send it again whole), refused
    /// (no record in scope refers to it with that size), busy (another
    /// upload of it is under way).
    pub state: String,
    pub received: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    pub results: Vec<PushResult>,
}

// ---- the server's storage -----------------------------------------------------

/// Where the server keeps blobs.
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// The size of a blob held whole.
    fn complete_size(&self, hash: &str) -> Result<Option<u64>, SyncError>;
    /// How many bytes of an upload under way are held.
    fn partial_len(&self, hash: &str) -> Result<u64, SyncError>;
    /// Adds bytes at the end of an upload under way (`offset` must be its
    /// length); returns the new length.
    fn append(&self, hash: &str, offset: u64, data: &[u8]) -> Result<u64, SyncError>;
    /// Ends an upload: true if its bytes hash to its name and it is now held
    /// whole; false if not (the upload is dropped).
    fn finish(&self, hash: &str) -> Result<bool, SyncError>;
    /// A whole blob's bytes.
    fn read(&self, hash: &str) -> Result<Option<Vec<u8>>, SyncError>;
    /// Marks an upload as under way; false if another one is.
    fn claim(&self, hash: &str) -> bool;
    fn release(&self, hash: &str);
}

fn io(e: std::io::Error) -> SyncError {
    SyncError::Server(format!("blob storage: {e}"))
}

/// Blobs on the server's disk, sealed with its data key: `<root>/ab/<hash>`
/// for a whole blob; `<root>/partial/<hash>` for an upload under way, a run
/// of sealed chunks each with its plaintext length.
pub struct DiskBlobs {
    root: PathBuf,
    sealer: Sealer,
    busy: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for DiskBlobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiskBlobs").field("root", &self.root).finish()
    }
}

impl DiskBlobs {
    pub fn new(root: PathBuf, sealer: Sealer) -> Result<DiskBlobs, SyncError> {
        std::fs::create_dir_all(root.join("partial")).map_err(io)?;
        Ok(DiskBlobs { root, sealer, busy: Mutex::new(HashSet::new()) })
    }

    fn whole(&self, hash: &str) -> PathBuf {
        self.root.join(&hash[..2]).join(hash)
    }

    fn partial(&self, hash: &str) -> PathBuf {
        self.root.join("partial").join(hash)
    }

    /// The chunks of an upload under way: (plaintext length, sealed bytes).
    fn chunks(&self, hash: &str) -> Result<Vec<(u64, Vec<u8>)>, SyncError> {
        let bytes = match std::fs::read(self.partial(hash)) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(e)),
        };
        let mut out = Vec::new();
        let mut i = 0;
        // A record cut short by a crash ends the list (it is rewritten).
        while i + 12 <= bytes.len() {
            let plain = u64::from_be_bytes(bytes[i..i + 8].try_into().expect("8"));
            let len = u32::from_be_bytes(bytes[i + 8..i + 12].try_into().expect("4")) as usize;
            if i + 12 + len > bytes.len() {
                break;
            }
            out.push((plain, bytes[i + 12..i + 12 + len].to_vec()));
            i += 12 + len;
        }
        Ok(out)
    }
}

impl BlobStore for DiskBlobs {
    fn complete_size(&self, hash: &str) -> Result<Option<u64>, SyncError> {
        match std::fs::metadata(self.whole(hash)) {
            // Sealed: a 24-byte nonce and a 16-byte tag around the bytes.
            Ok(m) => Ok(Some(m.len().saturating_sub(40))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    fn partial_len(&self, hash: &str) -> Result<u64, SyncError> {
        Ok(self.chunks(hash)?.iter().map(|c| c.0).sum())
    }

    fn append(&self, hash: &str, offset: u64, data: &[u8]) -> Result<u64, SyncError> {
        let chunks = self.chunks(hash)?;
        let held: u64 = chunks.iter().map(|c| c.0).sum();
        if offset != held {
            return Ok(held);
        }
        let sealed = self.sealer.seal(&format!("blob-part:{hash}:{offset}"), data);
        let mut record = Vec::with_capacity(12 + sealed.len());
        record.extend_from_slice(&(data.len() as u64).to_be_bytes());
        record.extend_from_slice(&(sealed.len() as u32).to_be_bytes());
        record.extend_from_slice(&sealed);
        // Rewritten whole when a crash left a torn record at the end.
        let path = self.partial(hash);
        let clean_len: u64 = chunks.iter().map(|c| 12 + c.1.len() as u64).sum();
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(io)?;
        if file.metadata().map_err(io)?.len() != clean_len {
            file.set_len(clean_len).map_err(io)?;
        }
        file.write_all(&record).map_err(io)?;
        file.sync_data().map_err(io)?;
        Ok(held + data.len() as u64)
    }

    fn finish(&self, hash: &str) -> Result<bool, SyncError> {
        let mut whole = Vec::new();
        let mut offset = 0u64;
        for (plain, sealed) in self.chunks(hash)? {
            let bytes = self.sealer.open(&format!("blob-part:{hash}:{offset}"), &sealed)?;
            offset += plain;
            whole.extend_from_slice(&bytes);
        }
        let _ = std::fs::remove_file(self.partial(hash));
        if crate::enrol::hex(&Sha256::digest(&whole)) != hash {
            return Ok(false);
        }
        let path = self.whole(hash);
        std::fs::create_dir_all(path.parent().expect("under the root")).map_err(io)?;
        let tmp = path.with_extension("tmp");
        let mut file = std::fs::File::create(&tmp).map_err(io)?;
        file.write_all(&self.sealer.seal(&format!("blob:{hash}"), &whole)).map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)?;
        Ok(true)
    }

    fn read(&self, hash: &str) -> Result<Option<Vec<u8>>, SyncError> {
        match std::fs::read(self.whole(hash)) {
            Ok(sealed) => Ok(Some(self.sealer.open(&format!("blob:{hash}"), &sealed)?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    fn claim(&self, hash: &str) -> bool {
        self.busy.lock().unwrap_or_else(|p| p.into_inner()).insert(hash.to_owned())
    }

    fn release(&self, hash: &str) {
        self.busy.lock().unwrap_or_else(|p| p.into_inner()).remove(hash);
    }
}

// ---- the server's side of the protocol ----------------------------------------

/// The size a record in the device's scope gives a blob, if any refers to it.
fn allowed(db: &mut dyn Sql, device: &Device, hash: &str) -> Result<Option<u64>, SyncError> {
    let mut params: Vec<Val> = vec![hash.into()];
    let filter = crate::server::scope_filter(&device.scope, &mut params);
    let rows = db.query(&format!("SELECT max(size) FROM f_blob_refs WHERE hash = $1 AND {filter}"), &params)?;
    Ok(rows.first().and_then(|r| match r[0] {
        Val::Null => None,
        _ => Some(r[0].int().max(0) as u64),
    }))
}

/// The most a device may hold in unfinished uploads at once (8 photos of
/// the largest size); a frame past it is answered `quota` and tried later.
pub const UPLOAD_QUOTA: u64 = 64 << 20;

/// `uploads`: who is sending which unfinished upload, and how far it got.
pub fn uploads_schema() -> String {
    "CREATE TABLE uploads (hash TEXT PRIMARY KEY, device_id TEXT NOT NULL, bytes BIGINT NOT NULL);
     CREATE INDEX uploads_device ON uploads (device_id);"
        .into()
}

/// Which of the blobs asked about the server holds.
pub fn status(
    db: &mut dyn Sql,
    blobs: &dyn BlobStore,
    device: &Device,
    req: &StatusRequest,
) -> Result<StatusResponse, SyncError> {
    let mut out = StatusResponse::default();
    for hash in req.hashes.iter().take(1000) {
        if !is_hash(hash) || allowed(db, device, hash)?.is_none() {
            out.refused.push(hash.clone());
            continue;
        }
        if let Some(size) = blobs.complete_size(hash)? {
            out.received.insert(hash.clone(), size);
            out.complete.push(hash.clone());
        } else {
            out.received.insert(hash.clone(), blobs.partial_len(hash)?);
        }
    }
    Ok(out)
}

/// Takes a device's frames: each blob must be referred to by a record in its
/// scope with the frame's total size; bytes must continue what is held.
pub fn push(db: &mut dyn Sql, blobs: &dyn BlobStore, device: &Device, body: &[u8]) -> Result<PushResponse, SyncError> {
    let frames = decode(body)?;
    let device_id = device.id.as_str();
    let mut results: Vec<PushResult> = Vec::new();
    let mut set = |hash: &str, state: &str, received: u64| {
        results.retain(|r| r.hash != hash);
        results.push(PushResult { hash: hash.to_owned(), state: state.to_owned(), received });
    };
    for f in frames {
        if allowed(db, device, &f.hash)? != Some(f.total) {
            set(&f.hash, "refused", 0);
            continue;
        }
        if let Some(size) = blobs.complete_size(&f.hash)? {
            set(&f.hash, "complete", size);
            continue;
        }
        if !blobs.claim(&f.hash) {
            set(&f.hash, "busy", 0);
            continue;
        }
        // Unfinished uploads are bounded per device: a record may name any
        // photo (up to 8 MB each) and an upload is only checked whole.
        let pending = db.query(
            "SELECT CAST(COALESCE(sum(bytes), 0) AS BIGINT) FROM uploads WHERE device_id = $1 AND hash <> $2",
            &[device_id.into(), f.hash.as_str().into()],
        )?;
        let pending = pending.first().map_or(0, |r| r[0].int().max(0) as u64);
        if pending + f.offset + f.data.len() as u64 > UPLOAD_QUOTA {
            blobs.release(&f.hash);
            set(&f.hash, "quota", 0);
            continue;
        }
        let outcome = (|| -> Result<(&str, u64), SyncError> {
            let held = blobs.append(&f.hash, f.offset, &f.data)?;
            if held < f.total {
                return Ok(("partial", held));
            }
            Ok(if blobs.finish(&f.hash)? { ("complete", f.total) } else { ("corrupt", 0) })
        })();
        blobs.release(&f.hash);
        let (state, received) = outcome?;
        if state == "partial" {
            db.execute(
                "INSERT INTO uploads (hash, device_id, bytes) VALUES ($1, $2, $3)
                 ON CONFLICT (hash) DO UPDATE SET device_id = excluded.device_id, bytes = excluded.bytes",
                &[f.hash.as_str().into(), device_id.into(), (received as i64).into()],
            )?;
        } else {
            db.execute("DELETE FROM uploads WHERE hash = $1", &[f.hash.as_str().into()])?;
        }
        set(&f.hash, state, received);
    }
    Ok(PushResponse { results })
}

/// The bytes of the wanted blobs the server holds whole and the device may
/// see, from each one's offset, up to about `max_bytes` (at least one frame).
pub fn fetch(
    db: &mut dyn Sql,
    blobs: &dyn BlobStore,
    device: &Device,
    req: &FetchRequest,
) -> Result<Vec<u8>, SyncError> {
    let budget = req.max_bytes.clamp(1, MAX_BATCH);
    let mut frames = Vec::new();
    let mut sent = 0u64;
    for w in req.want.iter().take(1000) {
        if sent >= budget {
            break;
        }
        if !is_hash(&w.hash) || allowed(db, device, &w.hash)?.is_none() {
            continue;
        }
        let Some(bytes) = blobs.read(&w.hash)? else { continue };
        let total = bytes.len() as u64;
        let mut at = w.from.min(total);
        while at < total && sent < budget {
            let n = (total - at).min(FRAME_DATA).min(budget - sent);
            frames.push(Frame {
                hash: w.hash.clone(),
                offset: at,
                total,
                data: bytes[at as usize..(at + n) as usize].to_vec(),
            });
            at += n;
            sent += n;
        }
        if total == 0 {
            frames.push(Frame { hash: w.hash.clone(), offset: 0, total, data: Vec::new() });
        }
    }
    Ok(encode(&frames))
}

// ---- the device's side ---------------------------------------------------------

/// The paths of the blob endpoints.
pub mod path {
    pub const STATUS: &str = "/api/sync/blobs/status";
    pub const PUSH: &str = "/api/sync/blobs/push";
    pub const FETCH: &str = "/api/sync/blobs/fetch";
}

/// What the blob part of a session did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlobReport {
    pub pushed: usize,
    pub fetched: usize,
    /// Blobs whose bytes did not match their hash (dropped, fetched again).
    pub corrupt: usize,
    /// Blobs wanted that the server does not hold whole yet.
    pub unavailable: usize,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub requests: usize,
}

/// The device's download policy, kept with its sync state.
pub const POLICY: &str = "blob_policy";

fn json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("plain structs serialise")
}

fn parse<T: for<'de> Deserialize<'de>>(b: &[u8]) -> Result<T, SyncError> {
    serde_json::from_slice(b).map_err(|e| SyncError::Wire(format!("blob answer: {e}")))
}

fn call(
    transport: &mut dyn crate::client::Transport,
    report: &mut BlobReport,
    path: &'static str,
    body: Vec<u8>,
) -> Result<Vec<u8>, SyncError> {
    report.bytes_sent += body.len() as u64;
    report.requests += 1;
    let answer = transport.call(path, body)?;
    report.bytes_received += answer.len() as u64;
    Ok(answer)
}

/// Pushes the blobs made here that records refer to (resuming uploads the
/// server holds part of), then fetches the blobs this device's records
/// refer to within its download policy (resuming partial downloads).
/// Memory holds one batch (about [`MAX_BATCH`]) at a time.
pub fn sync_blobs(
    store: &mut store::Store,
    transport: &mut dyn crate::client::Transport,
    today: registry::Date,
    report: &mut BlobReport,
) -> Result<(), SyncError> {
    push_blobs(store, transport, report)?;
    fetch_blobs(store, transport, today, report)
}

fn push_blobs(
    store: &mut store::Store,
    transport: &mut dyn crate::client::Transport,
    report: &mut BlobReport,
) -> Result<(), SyncError> {
    // Blobs the server would not take this session (no record in scope yet,
    // another upload under way) are left for the next one.
    let mut later: HashSet<String> = HashSet::new();
    loop {
        let batch: Vec<(String, u64)> =
            store.blobs_to_push(MAX_BATCH)?.into_iter().filter(|(h, _)| !later.contains(h)).collect();
        if batch.is_empty() {
            return Ok(());
        }
        let req = StatusRequest { hashes: batch.iter().map(|b| b.0.clone()).collect() };
        let status: StatusResponse = parse(&call(transport, report, path::STATUS, json(&req))?)?;
        let mut frames = Vec::new();
        let mut budget = MAX_BATCH;
        for (hash, size) in &batch {
            if status.refused.contains(hash) {
                later.insert(hash.clone());
                continue;
            }
            if status.complete.contains(hash) {
                store.mark_blob_pushed(hash)?;
                report.pushed += 1;
                continue;
            }
            let Some(bytes) = store.blob(hash)? else {
                later.insert(hash.clone());
                continue;
            };
            let mut at = status.received.get(hash).copied().unwrap_or(0).min(*size);
            while at < *size && budget > 0 {
                let n = (*size - at).min(FRAME_DATA).min(budget);
                frames.push(Frame {
                    hash: hash.clone(),
                    offset: at,
                    total: *size,
                    data: bytes[at as usize..(at + n) as usize].to_vec(),
                });
                at += n;
                budget -= n;
            }
        }
        if frames.is_empty() {
            continue;
        }
        let answer: PushResponse = parse(&call(transport, report, path::PUSH, encode(&frames))?)?;
        for r in answer.results {
            match r.state.as_str() {
                "complete" => {
                    store.mark_blob_pushed(&r.hash)?;
                    report.pushed += 1;
                }
                "partial" => {}
                "corrupt" => report.corrupt += 1,
                _ => {
                    later.insert(r.hash);
                }
            }
        }
    }
}

fn fetch_blobs(
    store: &mut store::Store,
    transport: &mut dyn crate::client::Transport,
    today: registry::Date,
    report: &mut BlobReport,
) -> Result<(), SyncError> {
    let policy: store::BlobPolicy = match store.sync_value(POLICY)? {
        Some(b) => serde_json::from_slice(&b).unwrap_or_default(),
        None => store::BlobPolicy::default(),
    };
    // Blobs the server did not send (not uploaded yet by the device that
    // took them) or that arrived corrupted are left for the next session.
    let mut later: HashSet<String> = HashSet::new();
    loop {
        let wanted: Vec<store::Wanted> =
            store.blobs_wanted(&policy, today, 2000)?.into_iter().filter(|w| !later.contains(&w.hash)).collect();
        if wanted.is_empty() {
            return Ok(());
        }
        // About one batch's worth of what is left of each.
        let mut asked = Vec::new();
        let mut room = MAX_BATCH;
        for w in &wanted {
            if room == 0 {
                break;
            }
            asked.push(Want { hash: w.hash.clone(), from: w.from });
            room = room.saturating_sub(w.size.saturating_sub(w.from).max(1));
        }
        let req = FetchRequest { want: asked.clone(), max_bytes: MAX_BATCH };
        let body = json(&req);
        report.bytes_sent += body.len() as u64;
        report.requests += 1;
        let (answer, whole) = transport.call_partial(path::FETCH, body)?;
        report.bytes_received += answer.len() as u64;
        let frames = decode(&answer)?;
        let mut progressed: HashSet<String> = HashSet::new();
        for f in frames {
            match store.add_blob_chunk(&f.hash, f.offset, f.total, &f.data)? {
                store::Chunk::Complete => {
                    report.fetched += 1;
                    progressed.insert(f.hash);
                }
                store::Chunk::Partial(_) => {
                    progressed.insert(f.hash);
                }
                store::Chunk::Corrupt => {
                    report.corrupt += 1;
                    later.insert(f.hash);
                }
                store::Chunk::Ignored => {}
            }
        }
        store.bound_wal()?;
        if !whole {
            // What arrived is kept; the next session resumes from there.
            return Err(SyncError::Interrupted);
        }
        for w in asked {
            if !progressed.contains(&w.hash) && !later.contains(&w.hash) {
                report.unavailable += 1;
                later.insert(w.hash);
            }
        }
    }
}

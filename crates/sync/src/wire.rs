//! The wire format: small binary messages, DEFLATE-compressed as a whole.
//!
//! A body is `SJ` `1` (version), a message type byte, a flags byte (bit 0:
//! the payload is DEFLATE-compressed) and the payload. Integers are LEB128
//! varints, byte strings are length-prefixed, record ids travel as their 16
//! raw bytes, change hashes as 32. Decoding checks every length against what
//! is left and the inflated size against [`MAX_INFLATED`], so no input makes
//! a decoder allocate more than the body could hold.

use crate::error::SyncError;
use crate::scope::Scope;
use registry::keys::{id_from_bytes, is_record_id};
use registry::model::RecordId;
use std::io::{Read, Write};

/// The largest payload a body may inflate to.
pub const MAX_INFLATED: usize = 64 << 20;
/// Bodies smaller than this are sent uncompressed.
const COMPRESS_FROM: usize = 256;

pub type Hash = [u8; 32];

/// The device's changes, a batch of documents.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PushRequest {
    pub docs: Vec<PushDoc>,
}

/// One document's changes, with the device's heads once they are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushDoc {
    pub id: RecordId,
    pub heads: Vec<Hash>,
    pub bytes: Vec<u8>,
}

/// A record id with Automerge bytes (changes or a whole document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    pub id: RecordId,
    pub bytes: Vec<u8>,
}

/// What became of one pushed document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Applied (or already held): the server's heads follow.
    Applied,
    /// Held in the county's quarantine for review, with the reason's code.
    Quarantined(String),
    /// The changes build on changes the server lacks: send the whole document.
    Resend,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushResult {
    pub id: RecordId,
    pub outcome: Outcome,
    /// The server's heads for the document after the push.
    pub heads: Vec<Hash>,
    /// Which of the pushed heads the server now holds (in the document or in
    /// its quarantine). The device clears its outbox by these, never by the
    /// request it believes this answers: a late answer to an older push
    /// cannot clear changes made since.
    pub held: Vec<Hash>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PushResponse {
    pub results: Vec<PushResult>,
}

/// Asks for what changed in the device's scope after `cursor`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PullRequest {
    /// Opaque; empty for a first sync.
    pub cursor: String,
    pub limit: u32,
    /// Count what is left (for a progress bar): asked on a batch's first page.
    pub want_total: bool,
    /// Leave out documents this device pushed and holds exactly as stored
    /// (it applied its own changes to its copy). Optional on the wire
    /// (absent: false), so a client that relies on its pushes coming back
    /// gets them.
    pub skip_own: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PullResponse {
    /// The cursor the request carried: a late or repeated response is
    /// recognised by it and moves no cursor.
    pub from: String,
    pub next: String,
    pub more: bool,
    /// Documents left to send including these, when asked.
    pub total: Option<u64>,
    /// The device's scope, sent when the feed (re)starts.
    pub scope: Option<Scope>,
    pub docs: Vec<Doc>,
    /// Records that left the device's scope since the cursor: their ids
    /// only (never their documents, which now belong to another area), so
    /// the device drops its copies.
    pub left: Vec<RecordId>,
}

/// The organisations a device's records refer to outside its scope (the
/// union covering an entity, a member's union or employer), asked after a
/// pull. The answer is the whole list each time: the device replaces its
/// copy, so nothing else keeps it current.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RefsRequest {}

/// One referenced union or entity, read-only on the device: what its
/// figures, worklist and pages need (a name, a kind, whether dissolved),
/// never a document, a history or a person.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RefStub {
    pub id: RecordId,
    /// `"union"` or `"entity"`.
    pub kind: String,
    pub name: String,
    /// A union's kind (`UnionKind::key`).
    pub union_kind: String,
    /// A union's dissolution date, `YYYY-MM-DD`, or empty.
    pub dissolved_on: String,
    /// The township it lies in, or empty.
    pub township: String,
    /// An entity's covering union (a union this device holds: the entity is
    /// sent because the device's union covers it), or empty.
    pub covered_by: String,
    /// An entity that is an open private enterprise (八有 then applies to
    /// its union).
    pub private_open: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RefsResponse {
    pub stubs: Vec<RefStub>,
}

/// A count and a combined fingerprint of a set of documents' heads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    pub count: u64,
    pub xor: u64,
}

/// The repair check. With no buckets: "here is my summary of the whole
/// scope"; with buckets: "list your documents in these buckets".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RepairRequest {
    pub summary: Summary,
    pub buckets: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepairResponse {
    Equal,
    /// The summary of each of the 256 buckets (by an id's first byte).
    Buckets(Vec<Summary>),
    /// Each document in the asked buckets with its fingerprint.
    Listing(Vec<(RecordId, u64)>),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FetchRequest {
    pub ids: Vec<RecordId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FetchResponse {
    pub docs: Vec<Doc>,
    /// Held by the server but outside the device's scope.
    pub hidden: Vec<RecordId>,
    /// Not held by the server at all.
    pub absent: Vec<RecordId>,
}

/// A message that can travel.
pub trait Message: Sized {
    const TYPE: u8;
    fn write(&self, w: &mut Writer);
    fn read(r: &mut Reader<'_>) -> Result<Self, SyncError>;

    fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        self.write(&mut w);
        let payload = w.0;
        let mut out = vec![b'S', b'J', 1, Self::TYPE];
        if payload.len() >= COMPRESS_FROM {
            out.push(1);
            let mut z = flate2::write::DeflateEncoder::new(out, flate2::Compression::fast());
            z.write_all(&payload).expect("writing to a Vec cannot fail");
            z.finish().expect("writing to a Vec cannot fail")
        } else {
            out.push(0);
            out.extend_from_slice(&payload);
            out
        }
    }

    fn decode(body: &[u8]) -> Result<Self, SyncError> {
        let bad = |m: &str| SyncError::Wire(m.to_owned());
        if body.len() < 5 || &body[..2] != b"SJ" {
            return Err(bad("not a Sanjian sync message"));
        }
        if body[2] != 1 {
            return Err(bad("unknown wire version"));
        }
        if body[3] != Self::TYPE {
            return Err(bad("unexpected message type"));
        }
        let inflated;
        let payload = match body[4] {
            0 => &body[5..],
            1 => {
                let mut buf = Vec::new();
                let z = flate2::read::DeflateDecoder::new(&body[5..]);
                z.take(MAX_INFLATED as u64 + 1).read_to_end(&mut buf).map_err(|_| bad("bad compression"))?;
                if buf.len() > MAX_INFLATED {
                    return Err(SyncError::TooLarge);
                }
                inflated = buf;
                &inflated[..]
            }
            _ => return Err(bad("unknown flags")),
        };
        let mut r = Reader(payload);
        let m = Self::read(&mut r)?;
        if !r.0.is_empty() {
            return Err(bad("trailing bytes"));
        }
        Ok(m)
    }
}

#[derive(Debug, Default)]
pub struct Writer(Vec<u8>);

impl Writer {
    pub fn u64(&mut self, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.0.push(b);
                return;
            }
            self.0.push(b | 0x80);
        }
    }
    pub fn bool(&mut self, v: bool) {
        self.0.push(u8::from(v));
    }
    pub fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.0.extend_from_slice(b);
    }
    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    pub fn id(&mut self, id: &RecordId) {
        // Ids are 32 hex characters; the encoder is only given valid ones.
        let s = id.as_str().as_bytes();
        for pair in s.chunks(2) {
            let hex = |c: u8| match c {
                b'0'..=b'9' => c - b'0',
                _ => c - b'a' + 10,
            };
            self.0.push(hex(pair[0]) << 4 | hex(pair.get(1).copied().unwrap_or(b'0')));
        }
    }
    pub fn hash(&mut self, h: &Hash) {
        self.0.extend_from_slice(h);
    }
    fn list<T>(&mut self, items: &[T], mut each: impl FnMut(&mut Writer, &T)) {
        self.u64(items.len() as u64);
        for i in items {
            each(self, i);
        }
    }
}

#[derive(Debug)]
pub struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn short() -> SyncError {
        SyncError::Wire("message ends early".into())
    }
    pub fn u64(&mut self) -> Result<u64, SyncError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.0.split_first().ok_or_else(Self::short)?;
            self.0 = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(SyncError::Wire("varint too long".into()))
    }
    pub fn bool(&mut self) -> Result<bool, SyncError> {
        match self.take(1)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(SyncError::Wire("bad boolean".into())),
        }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], SyncError> {
        if n > self.0.len() {
            return Err(Self::short());
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    pub fn bytes(&mut self) -> Result<Vec<u8>, SyncError> {
        let n = usize::try_from(self.u64()?).map_err(|_| Self::short())?;
        Ok(self.take(n)?.to_vec())
    }
    pub fn str(&mut self) -> Result<String, SyncError> {
        String::from_utf8(self.bytes()?).map_err(|_| SyncError::Wire("text is not UTF-8".into()))
    }
    pub fn id(&mut self) -> Result<RecordId, SyncError> {
        let id = id_from_bytes(self.take(16)?);
        debug_assert!(is_record_id(id.as_str()));
        Ok(id)
    }
    pub fn hash(&mut self) -> Result<Hash, SyncError> {
        Ok(self.take(32)?.try_into().expect("took 32 bytes"))
    }
    /// A list whose every item takes at least `min_item` bytes: the count is
    /// checked against what is left before anything is allocated.
    fn list<T>(
        &mut self,
        min_item: usize,
        mut each: impl FnMut(&mut Reader<'a>) -> Result<T, SyncError>,
    ) -> Result<Vec<T>, SyncError> {
        let n = usize::try_from(self.u64()?).map_err(|_| Self::short())?;
        if n.saturating_mul(min_item.max(1)) > self.0.len() {
            return Err(Self::short());
        }
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(each(self)?);
        }
        Ok(out)
    }
}

fn write_docs(w: &mut Writer, docs: &[Doc]) {
    w.list(docs, |w, d| {
        w.id(&d.id);
        w.bytes(&d.bytes);
    });
}

fn read_docs(r: &mut Reader<'_>) -> Result<Vec<Doc>, SyncError> {
    r.list(17, |r| Ok(Doc { id: r.id()?, bytes: r.bytes()? }))
}

fn write_ids(w: &mut Writer, ids: &[RecordId]) {
    w.list(ids, |w, id| w.id(id));
}

fn read_ids(r: &mut Reader<'_>) -> Result<Vec<RecordId>, SyncError> {
    r.list(16, |r| r.id())
}

impl Message for PushRequest {
    const TYPE: u8 = 1;
    fn write(&self, w: &mut Writer) {
        w.list(&self.docs, |w, d| {
            w.id(&d.id);
            w.list(&d.heads, |w, h| w.hash(h));
            w.bytes(&d.bytes);
        });
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, SyncError> {
        let docs = r.list(18, |r| Ok(PushDoc { id: r.id()?, heads: r.list(32, |r| r.hash())?, bytes: r.bytes()? }))?;
        Ok(PushRequest { docs })
    }
}

impl Message for PushResponse {
    const TYPE: u8 = 2;
    fn write(&self, w: &mut Writer) {
        w.list(&self.results, |w, res| {
            w.id(&res.id);
            match &res.outcome {
                Outcome::Applied => w.u64(0),
                Outcome::Quarantined(code) => {
                    w.u64(1);
                    w.str(code);
                }
                Outcome::Resend => w.u64(2),
            }
            w.list(&res.heads, |w, h| w.hash(h));
            w.list(&res.held, |w, h| w.hash(h));
        });
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, SyncError> {
        let results = r.list(19, |r| {
            let id = r.id()?;
            let outcome = match r.u64()? {
                0 => Outcome::Applied,
                1 => Outcome::Quarantined(r.str()?),
                2 => Outcome::Resend,
                _ => return Err(SyncError::Wire("unknown outcome".into())),
            };
            let heads = r.list(32, |r| r.hash())?;
            let held = r.list(32, |r| r.hash())?;
            Ok(PushResult { id, outcome, heads, held })
        })?;
        Ok(PushResponse { results })
    }
}

impl Message for PullRequest {
    const TYPE: u8 = 3;
    fn write(&self, w: &mut Writer) {
        w.str(&self.cursor);
        w.u64(u64::from(self.limit));
        w.bool(self.want_total);
        if self.skip_own {
            w.bool(true);
        }
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, SyncError> {
        let cursor = r.str()?;
        let limit = u32::try_from(r.u64()?).map_err(|_| SyncError::Wire("limit too large".into()))?;
        let want_total = r.bool()?;
        let skip_own = if r.0.is_empty() { false } else { r.bool()? };
        Ok(PullRequest { cursor, limit, want_total, skip_own })
    }
}

impl Message for PullResponse {
    const TYPE: u8 = 4;
    fn write(&self, w: &mut Writer) {
        w.str(&self.from);
        w.str(&self.next);
        w.bool(self.more);
        match self.total {
            Some(t) => {
                w.bool(true);
                w.u64(t);
            }
            None => w.bool(false),
        }
        match &self.scope {
            Some(s) => {
                w.bool(true);
                s.write(w);
            }
            None => w.bool(false),
        }
        write_docs(w, &self.docs);
        write_ids(w, &self.left);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, SyncError> {
        let from = r.str()?;
        let next = r.str()?;
        let more = r.bool()?;
        let total = if r.bool()? { Some(r.u64()?) } else { None };
        let scope = if r.bool()? { Some(Scope::read(r)?) } else { None };
        let docs = read_docs(r)?;
        // A server from before departures were sent as ids sends none.
        let left = if r.0.is_empty() { Vec::new() } else { read_ids(r)? };
        Ok(PullResponse { from, next, more, total, scope, docs, left })
    }
}

impl Scope {
    fn write(&self, w: &mut Writer) {
        w.u64(self.version);
        w.bool(self.all);
        write_ids(w, &self.townships);
        write_ids(w, &self.grids);
    }
    fn read(r: &mut Reader<'_>) -> Result<Scope, SyncError> {
        Ok(Scope { version: r.u64()?, all: r.bool()?, townships: read_ids(r)?, grids: read_ids(r)? })
    }

    /// The scope as the device stores it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::default();
        self.write(&mut w);
        w.0
    }

    pub fn from_bytes(b: &[u8]) -> Result<Scope, SyncError> {
        Scope::read(&mut Reader(b))
    }
}

impl Message for RepairRequest {
    const TYPE: u8 = 5;
    fn write(&self, w: &mut Writer) {
        w.u64(self.summary.count);
        w.u64(self.summary.xor);
        w.bytes(&self.buckets);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, SyncError> {
        Ok(RepairRequest { summary: Summary { count: r.u64()?, xor: r.u64()? }, buckets: r.bytes()? })
    }
}

impl Message for RepairResponse {
    const TYPE: u8 = 6;
    fn write(&self, w: &mut Writer) {
        match self {
            RepairResponse::Equal => w.u64(0),
            RepairResponse::Buckets(b) => {
                w.u64(1);
                w.list(b, |w, s| {
                    w.u64(s.count);
                    w.u64(s.xor);
                });
            }
            RepairResponse::Listing(l) => {
                w.u64(2);
                w.list(l, |w, (id, fp)| {
                    w.id(id);
                    w.u64(*fp);
                });
            }
        }
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, SyncError> {
        Ok(match r.u64()? {
            0 => RepairResponse::Equal,
            1 => RepairResponse::Buckets(r.list(2, |r| Ok(Summary { count: r.u64()?, xor: r.u64()? }))?),
            2 => RepairResponse::Listing(r.list(17, |r| Ok((r.id()?, r.u64()?)))?),
            _ => return Err(SyncError::Wire("unknown repair answer".into())),
        })
    }
}

impl Message for FetchRequest {
    const TYPE: u8 = 7;
    fn write(&self, w: &mut Writer) {
        write_ids(w, &self.ids);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, SyncError> {
        Ok(FetchRequest { ids: read_ids(r)? })
    }
}

impl Message for RefsRequest {
    const TYPE: u8 = 9;
    fn write(&self, _w: &mut Writer) {}
    fn read(_r: &mut Reader<'_>) -> Result<Self, SyncError> {
        Ok(RefsRequest {})
    }
}

impl Message for RefsResponse {
    const TYPE: u8 = 10;
    fn write(&self, w: &mut Writer) {
        w.list(&self.stubs, |w, s| {
            w.id(&s.id);
            for text in [&s.kind, &s.name, &s.union_kind, &s.dissolved_on, &s.township, &s.covered_by] {
                w.str(text);
            }
            w.bool(s.private_open);
        });
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, SyncError> {
        // An id (16 bytes), six texts (a length byte each, at least) and a flag.
        let stubs = r.list(23, |r| {
            Ok(RefStub {
                id: r.id()?,
                kind: r.str()?,
                name: r.str()?,
                union_kind: r.str()?,
                dissolved_on: r.str()?,
                township: r.str()?,
                covered_by: r.str()?,
                private_open: r.bool()?,
            })
        })?;
        Ok(RefsResponse { stubs })
    }
}

impl Message for FetchResponse {
    const TYPE: u8 = 8;
    fn write(&self, w: &mut Writer) {
        write_docs(w, &self.docs);
        write_ids(w, &self.hidden);
        write_ids(w, &self.absent);
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, SyncError> {
        Ok(FetchResponse { docs: read_docs(r)?, hidden: read_ids(r)?, absent: read_ids(r)? })
    }
}

//! A structural check of Automerge bytes from outside, before Automerge
//! parses them.
//!
//! Automerge 0.12's loader trusts the sizes written inside its input:
//! fuzzing found 138 bytes that made it allocate gigabytes (an experimental
//! "bundle" chunk whose delta-encoded column expands without bound), and a
//! DEFLATE-compressed change or column can inflate a thousandfold. An
//! allocation that large cannot be caught after the fact (the process is
//! killed), so such input must be refused before it reaches the loader.
//!
//! The check walks the chunks (magic, checksum, type, length), accepts only
//! the kinds Sanjian writes — documents, changes and compressed changes —
//! and inflates every compressed part into a counter, never into memory,
//! refusing the input once the inflated total passes [`MAX_INFLATED`].
//! It reads only what the chunk headers and column tables say and leaves
//! the rest (checksums, column contents) to Automerge.

use std::io::Read;

/// The most the compressed parts of one input may inflate to. A record's
/// document is a few kilobytes, its long history a few hundred; a batch of
/// changes is smaller still.
pub const MAX_INFLATED: u64 = 32 << 20;

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const DOCUMENT: u8 = 0;
const CHANGE: u8 = 1;
const COMPRESSED_CHANGE: u8 = 2;
const BUNDLE: u8 = 3;
/// Bit of a column specification that marks its data as DEFLATE-compressed.
const DEFLATE: u64 = 0b1000;

/// Why bytes were refused, in words for the quarantine's record.
pub type Refusal = String;

/// One chunk of a run of chunks: its type, its body, and the whole chunk
/// (header and body).
struct Chunk<'a> {
    kind: u8,
    body: &'a [u8],
    whole: &'a [u8],
}

/// The chunks of `bytes` in order; an `Err` (why the bytes at that point
/// are not a chunk) ends the run.
fn chunks(bytes: &[u8]) -> impl Iterator<Item = Result<Chunk<'_>, Refusal>> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let next = (|| {
            if rest.len() < 9 || rest[..4] != MAGIC {
                return Err("not an Automerge chunk (no magic bytes)".to_owned());
            }
            let mut cursor = Cursor(&rest[9..]);
            let len = cursor.uleb().ok_or("its length is cut short")?;
            let body = cursor.take(len).ok_or_else(|| format!("it says {len} bytes, fewer follow"))?;
            let whole = &rest[..rest.len() - cursor.0.len()];
            Ok((Chunk { kind: rest[8], body, whole }, cursor.0))
        })();
        match next {
            Ok((chunk, after)) => {
                rest = after;
                Some(Ok(chunk))
            }
            Err(e) => {
                rest = &[];
                Some(Err(e))
            }
        }
    })
}

/// Checks `bytes` as a sequence of Automerge chunks (see the module
/// documentation) and returns how many bytes their compressed parts
/// inflate to. Empty input passes.
pub fn check(bytes: &[u8]) -> Result<u64, Refusal> {
    let mut budget = MAX_INFLATED;
    for (index, chunk) in chunks(bytes).enumerate() {
        let at = |what: String| format!("chunk {index}: {what}");
        let chunk = chunk.map_err(at)?;
        match chunk.kind {
            DOCUMENT => budget = document(chunk.body, budget).map_err(at)?,
            CHANGE => {}
            COMPRESSED_CHANGE => budget = inflate(chunk.body, budget).map_err(at)?,
            BUNDLE => {
                return Err(at("a bundle (Automerge's experimental format, whose loader can be made to \
                     exhaust memory) is not accepted"
                    .into()));
            }
            other => return Err(at(format!("unknown chunk type {other}"))),
        }
    }
    Ok(MAX_INFLATED - budget)
}

/// The whole chunks (header and body) of bytes that passed [`check`].
pub fn split(bytes: &[u8]) -> Vec<&[u8]> {
    chunks(bytes).map_while(Result::ok).map(|c| c.whole).collect()
}

/// A document chunk's body: actors, heads, the change and op column tables,
/// then the columns' data. Inflates the compressed columns into the budget.
fn document(body: &[u8], budget: u64) -> Result<u64, Refusal> {
    let cut = |part: &str| format!("the document's {part} is cut short");
    let mut c = Cursor(body);
    let actors = c.uleb().ok_or_else(|| cut("actor count"))?;
    for _ in 0..actors {
        let len = c.uleb().ok_or_else(|| cut("actor list"))?;
        c.take(len).ok_or_else(|| cut("actor list"))?;
    }
    let heads = c.uleb().ok_or_else(|| cut("head count"))?;
    c.take(heads.checked_mul(32).ok_or_else(|| cut("head list"))?).ok_or_else(|| cut("head list"))?;
    let mut columns = Vec::new();
    for table in ["change columns", "op columns"] {
        let count = c.uleb().ok_or_else(|| cut(table))?;
        for _ in 0..count {
            let spec = c.uleb().ok_or_else(|| cut(table))?;
            let len = c.uleb().ok_or_else(|| cut(table))?;
            columns.push((spec, len));
        }
    }
    let mut budget = budget;
    for (spec, len) in columns {
        let data = c.take(len).ok_or_else(|| "the document's columns run past its end".to_owned())?;
        if spec & DEFLATE != 0 {
            budget = inflate(data, budget)?;
        }
    }
    Ok(budget)
}

/// Inflates DEFLATE `data` into a counter, refusing it once it passes
/// `budget`; returns what is left of the budget.
fn inflate(data: &[u8], budget: u64) -> Result<u64, Refusal> {
    let mut inflater = flate2::bufread::DeflateDecoder::new(data).take(budget + 1);
    let n = std::io::copy(&mut inflater, &mut std::io::sink())
        .map_err(|e| format!("a compressed part does not inflate: {e}"))?;
    if n > budget {
        return Err(format!(
            "its compressed parts inflate to more than {} MiB ({} bytes compressed)",
            MAX_INFLATED >> 20,
            data.len()
        ));
    }
    Ok(budget - n)
}

/// Unsigned LEB128 and length-checked slices over the input.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn uleb(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for (i, &b) in self.0.iter().enumerate().take(10) {
            let bits = u64::from(b & 0x7f);
            let shift = 7 * i as u32;
            if shift == 63 && bits > 1 {
                return None;
            }
            value |= bits << shift;
            if b & 0x80 == 0 {
                self.0 = &self.0[i + 1..];
                return Some(value);
            }
        }
        None
    }

    fn take(&mut self, len: u64) -> Option<&'a [u8]> {
        let len = usize::try_from(len).ok().filter(|&l| l <= self.0.len())?;
        let (head, tail) = self.0.split_at(len);
        self.0 = tail;
        Some(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};
    use std::io::Write;

    fn leb(out: &mut Vec<u8>, mut n: u64) {
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            out.push(if n == 0 { b } else { b | 0x80 });
            if n == 0 {
                return;
            }
        }
    }

    fn chunk(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend([0, 0, 0, 0, kind]);
        leb(&mut out, body.len() as u64);
        out.extend(body);
        out
    }

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut d = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        d.write_all(data).unwrap();
        d.finish().unwrap()
    }

    #[test]
    fn documents_and_changes_automerge_writes_pass() {
        let mut doc = AutoCommit::new();
        // Long text columns make Automerge compress some of them.
        for i in 0..400 {
            doc.put(ROOT, format!("field{i}"), "x".repeat(64)).unwrap();
            doc.commit();
        }
        let saved = doc.save();
        assert!(check(&saved).unwrap() > 0, "some columns were compressed, and inflated");
        let changes: Vec<u8> = doc.get_changes(&[]).iter().flat_map(|c| c.raw_bytes().to_vec()).collect();
        assert!(check(&changes).is_ok());
        let mut both = saved.clone();
        both.extend(&changes);
        assert!(check(&both).is_ok());
        assert!(check(&[]).is_ok());
    }

    #[test]
    fn a_compressed_change_that_inflates_past_the_bound_is_refused() {
        let bomb = deflate(&vec![0u8; (MAX_INFLATED + 1024) as usize]);
        assert!(bomb.len() < 100 << 10, "{} bytes", bomb.len());
        let err = check(&chunk(COMPRESSED_CHANGE, &bomb)).unwrap_err();
        assert!(err.contains("inflate to more than 32 MiB"), "{err}");
        // Under the bound, the size alone is no reason to refuse.
        assert!(check(&chunk(COMPRESSED_CHANGE, &deflate(&[7u8; 4096]))).is_ok());
    }

    #[test]
    fn a_document_column_that_inflates_past_the_bound_is_refused() {
        let bomb = deflate(&vec![1u8; (MAX_INFLATED + 1) as usize]);
        let mut body = vec![0, 0, 0]; // no actors, no heads, no change columns
        body.push(1); // one op column: id 1, deflated, a string column
        leb(&mut body, (1 << 4) | DEFLATE | 5);
        leb(&mut body, bomb.len() as u64);
        body.extend(&bomb);
        let err = check(&chunk(DOCUMENT, &body)).unwrap_err();
        assert!(err.contains("inflate to more than"), "{err}");
    }

    #[test]
    fn the_inputs_fuzzing_found_to_exhaust_memory_are_refused_before_automerge_sees_them() {
        for found in [
            &include_bytes!("../../../fuzz/fixtures/stored_document/oom-2186c81515914553d974f51f38c9c23a22f471be")[..],
            &include_bytes!("../../../fuzz/fixtures/stored_document/oom-63c054f0b8790f3b2c06a2a329208568c7eb348d")[..],
        ] {
            assert!(check(found).unwrap_err().contains("bundle"));
            let err = crate::doc::load(found).unwrap_err();
            assert_eq!(err.code(), "DOCUMENT_MALFORMED");
            let mut doc = AutoCommit::new();
            assert_eq!(crate::doc::load_incremental(&mut doc, found).unwrap_err().code(), "DOCUMENT_MALFORMED");
        }
    }

    #[test]
    fn bundles_unknown_kinds_and_short_chunks_are_refused() {
        let err = check(&chunk(BUNDLE, &[0; 8])).unwrap_err();
        assert!(err.contains("bundle"), "{err}");
        assert!(check(&chunk(9, &[])).unwrap_err().contains("unknown chunk type 9"));
        let mut cut = chunk(CHANGE, &[1; 40]);
        cut.truncate(30);
        assert!(check(&cut).unwrap_err().contains("fewer follow"));
        assert!(check(b"not automerge at all").unwrap_err().contains("magic"));
        // The second chunk is the bad one, and is named.
        let mut two = chunk(CHANGE, &[1; 4]);
        two.extend(chunk(BUNDLE, &[]));
        assert!(check(&two).unwrap_err().starts_with("chunk 1:"));
    }
}

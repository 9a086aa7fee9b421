//! Everything out: the county's records as Automerge documents, in one
//! archive a county admin can take away and read with any Automerge
//! implementation — encrypted with a passphrase the admin chooses, since
//! every member's resident ID and phone is inside.
//!
//! The file (`.sjarchive`), byte by byte:
//!
//! ```text
//! SJARCHIVE1\n                       11 bytes, the format and its version
//! {header JSON}\n                    one line: how to decrypt (below)
//! ciphertext                         the rest: the ZIP below, sealed
//! ```
//!
//! The header: `{"format":"sanjian-archive","version":1,"kdf":{"name":
//! "argon2id","version":19,"m_kib":19456,"t":2,"p":1,"salt":"<32 hex>"},
//! "cipher":"chacha20-poly1305","nonce":"<24 hex>"}`. The key is
//! Argon2id(passphrase as UTF-8, salt) with those costs, 32 bytes; the
//! ciphertext is ChaCha20-Poly1305 (RFC 8439) of the ZIP under that key
//! and nonce, its 16-byte tag last, with the first two lines (magic and
//! header, newlines included) as associated data — so a changed header
//! fails to open.
//!
//! The ZIP (entries stored, not compressed: Automerge documents are
//! compressed already) holds `manifest.json` — the county, when and by
//! whom it was exported, and a list of records `{id, kind, township,
//! deleted, file}` — and one file per record, `records/<kind>/<id>.automerge`:
//! the document as `Automerge::save` writes it, every change and its
//! actor kept. The document layout (root keys, their types) is in
//! `docs/sync.md`.

use crate::db::now_ms;
use registry::model::RecordKind;
use serde::Serialize;
use std::io::Write;
use sync::SyncError;
use sync::server::{Ctx, Sql};

/// The first line of every archive.
pub const MAGIC: &[u8] = b"SJARCHIVE1\n";

/// Argon2id's costs: OWASP's minimum for Argon2id (19 MiB, two passes),
/// light enough for a browser or Node to open the archive in a few
/// seconds, heavy enough that guessing a passphrase costs real work.
const M_KIB: u32 = 19 * 1024;
const T: u32 = 2;
const P: u32 = 1;

/// The shortest passphrase accepted (characters).
pub const MIN_PASSPHRASE: usize = 10;

#[derive(Debug, Serialize)]
struct Entry {
    id: String,
    kind: String,
    township: Option<String>,
    deleted: bool,
    file: String,
}

#[derive(Debug, Serialize)]
struct Manifest<'a> {
    format: &'static str,
    county: &'a str,
    exported_at_ms: i64,
    exported_by: &'a str,
    records: Vec<Entry>,
}

fn key(passphrase: &str, salt: &[u8; 16]) -> Result<[u8; 32], SyncError> {
    let params = argon2::Params::new(M_KIB, T, P, Some(32)).map_err(|e| SyncError::Server(format!("argon2: {e}")))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = [0u8; 32];
    argon
        .hash_password_into(passphrase.as_bytes(), salt, &mut out)
        .map_err(|e| SyncError::Server(format!("argon2: {e}")))?;
    Ok(out)
}

/// What an archive holds: its bytes and how many records.
#[derive(Debug)]
pub struct Archive {
    pub bytes: Vec<u8>,
    pub records: usize,
}

/// Every document the county holds (deleted ones as their tombstones), in
/// an archive sealed with `passphrase`, for `by`. The caller checks the
/// role and logs it.
pub fn export(db: &mut dyn Sql, ctx: &Ctx<'_>, county: &str, passphrase: &str, by: &str) -> Result<Archive, SyncError> {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let zip_err = |e: zip::result::ZipError| SyncError::Server(format!("zip: {e}"));
    let mut records = Vec::new();
    for kind in RecordKind::ALL {
        let mut after = String::new();
        loop {
            let rows = db.query(
                "SELECT id, township, deleted FROM docs WHERE kind = $1 AND id > $2 ORDER BY id LIMIT 1000",
                &[kind.key().into(), after.as_str().into()],
            )?;
            for r in &rows {
                let id = registry::model::RecordId::from(r[0].text().unwrap_or_default());
                let Some(s) = sync::server::load_bytes(db, ctx, &id)? else { continue };
                let file = format!("records/{}/{}.automerge", kind.key(), id);
                zip.start_file(file.as_str(), stored).map_err(zip_err)?;
                zip.write_all(&s.doc).map_err(|e| SyncError::Server(format!("zip: {e}")))?;
                records.push(Entry {
                    id: id.to_string(),
                    kind: kind.key().into(),
                    township: r[1].text().map(str::to_owned),
                    deleted: r[2].int() != 0,
                    file,
                });
            }
            match rows.last() {
                Some(r) if rows.len() == 1000 => after = r[0].text().unwrap_or_default().to_owned(),
                _ => break,
            }
        }
    }
    let n = records.len();
    let manifest = Manifest { format: "sanjian-archive", county, exported_at_ms: now_ms(), exported_by: by, records };
    zip.start_file("manifest.json", stored).map_err(zip_err)?;
    zip.write_all(&serde_json::to_vec_pretty(&manifest).map_err(|e| SyncError::Server(e.to_string()))?)
        .map_err(|e| SyncError::Server(format!("zip: {e}")))?;
    let plain = zip.finish().map_err(zip_err)?.into_inner();

    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    rand::fill(&mut salt);
    rand::fill(&mut nonce);
    let header = serde_json::json!({
        "format": "sanjian-archive",
        "version": 1,
        "kdf": {"name": "argon2id", "version": 19, "m_kib": M_KIB, "t": T, "p": P, "salt": sync::enrol::hex(&salt)},
        "cipher": "chacha20-poly1305",
        "nonce": sync::enrol::hex(&nonce),
    });
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(header.to_string().as_bytes());
    out.push(b'\n');
    let cipher = chacha20poly1305::ChaCha20Poly1305::new(&key(passphrase, &salt)?.into());
    let sealed = cipher
        .encrypt(&nonce.into(), Payload { msg: &plain, aad: &out })
        .map_err(|_| SyncError::Server("the archive could not be sealed".into()))?;
    out.extend_from_slice(&sealed);
    Ok(Archive { bytes: out, records: n })
}

/// Opens an archive with its passphrase: the ZIP inside, or `None` when the
/// passphrase is wrong or the file was changed. (The county's own check
/// that what it wrote reads back; other programs follow the format above.)
pub fn open(file: &[u8], passphrase: &str) -> Option<Vec<u8>> {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    let rest = file.strip_prefix(MAGIC)?;
    let end = rest.iter().position(|b| *b == b'\n')?;
    let header: serde_json::Value = serde_json::from_slice(&rest[..end]).ok()?;
    let aad = &file[..MAGIC.len() + end + 1];
    let unhex = |v: &serde_json::Value| sync::enrol::unhex(v.as_str()?);
    let salt: [u8; 16] = unhex(&header["kdf"]["salt"])?.try_into().ok()?;
    let nonce: [u8; 12] = unhex(&header["nonce"])?.try_into().ok()?;
    let cipher = chacha20poly1305::ChaCha20Poly1305::new(&key(passphrase, &salt).ok()?.into());
    cipher.decrypt(&nonce.into(), Payload { msg: &rest[end + 1..], aad }).ok()
}

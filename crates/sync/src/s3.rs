//! The server's blobs on an S3-compatible object store (MinIO, Ceph, a
//! cloud's object storage), as an alternative to [`crate::blobs::DiskBlobs`]:
//! the same sealed bytes under `<prefix>blobs/<hash>`, and an upload under
//! way as sealed chunks under `<prefix>partial/<hash>/<offset>-<length>`.
//! Requests are signed with AWS Signature Version 4 (path-style URLs), so
//! nothing beyond `reqwest` is needed.

use crate::blobs::BlobStore;
use crate::error::SyncError;
use crate::server::Sealer;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::sync::Mutex;
use tokio::runtime::Handle;

/// Where the object store is and how to sign in.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    /// e.g. `http://127.0.0.1:9000` or `https://s3.example.cn`.
    pub endpoint: String,
    pub bucket: String,
    /// Prepended to every key (e.g. `sanjian/`); may be empty.
    pub prefix: String,
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// Blobs in a bucket.
pub struct S3Blobs {
    config: S3Config,
    client: reqwest::Client,
    handle: Handle,
    sealer: Sealer,
    busy: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for S3Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Blobs").field("config", &self.config).finish_non_exhaustive()
    }
}

fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let inner: [u8; 64] = std::array::from_fn(|i| block[i] ^ 0x36);
    let outer: [u8; 64] = std::array::from_fn(|i| block[i] ^ 0x5c);
    let inner_hash = Sha256::new().chain_update(inner).chain_update(message).finalize();
    Sha256::new().chain_update(outer).chain_update(inner_hash).finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    crate::enrol::hex(bytes)
}

/// RFC 3986 encoding as SigV4 wants it (`/` kept in paths when `path`).
fn encode(s: &str, path: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(char::from(b)),
            b'/' if path => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn storage(e: impl std::fmt::Display) -> SyncError {
    SyncError::Server(format!("object store: {e}"))
}

/// An answer: status and body.
struct Answer {
    status: u16,
    body: Vec<u8>,
    length: Option<u64>,
}

impl S3Blobs {
    /// A store over `config`; requests run on `handle` (call its methods
    /// from blocking threads, as the server's handlers do).
    pub fn new(config: S3Config, sealer: Sealer, handle: Handle) -> Result<S3Blobs, SyncError> {
        // The same TLS as the devices' client (ring, the system's roots).
        let client = crate::http::Endpoint::new(&config.endpoint).client(std::time::Duration::from_secs(60))?;
        Ok(S3Blobs { config, client, handle, sealer, busy: Mutex::new(HashSet::new()) })
    }

    /// Creates the bucket if it is not there (a first start).
    pub fn ensure_bucket(&self) -> Result<(), SyncError> {
        let head = self.call("HEAD", "", &[], Vec::new())?;
        if head.status == 200 {
            return Ok(());
        }
        let made = self.call("PUT", "", &[], Vec::new())?;
        match made.status {
            200 | 409 => Ok(()),
            s => Err(storage(format!("creating bucket {}: HTTP {s}", self.config.bucket))),
        }
    }

    /// One signed request to `key` in the bucket (`""`: the bucket itself).
    fn call(&self, method: &str, key: &str, query: &[(&str, &str)], body: Vec<u8>) -> Result<Answer, SyncError> {
        let c = &self.config;
        let base = c.endpoint.trim_end_matches('/');
        let host = base.split_once("://").map_or(base, |(_, h)| h).split('/').next().unwrap_or_default().to_owned();
        let path = if key.is_empty() { format!("/{}", c.bucket) } else { format!("/{}/{}", c.bucket, key) };
        let canonical_path = encode(&path, true);
        let mut pairs: Vec<(String, String)> =
            query.iter().map(|(k, v)| (encode(k, false), encode(v, false))).collect();
        pairs.sort();
        let canonical_query = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
        let now = time::OffsetDateTime::now_utc();
        let date = format!("{:04}{:02}{:02}", now.year(), u8::from(now.month()), now.day());
        let stamp = format!("{date}T{:02}{:02}{:02}Z", now.hour(), now.minute(), now.second());
        let payload = hex(&Sha256::digest(&body));
        let canonical = format!(
            "{method}\n{canonical_path}\n{canonical_query}\nhost:{host}\nx-amz-content-sha256:{payload}\nx-amz-date:{stamp}\n\nhost;x-amz-content-sha256;x-amz-date\n{payload}"
        );
        let scope = format!("{date}/{}/s3/aws4_request", c.region);
        let to_sign = format!("AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{}", hex(&Sha256::digest(canonical.as_bytes())));
        let key_date = hmac(format!("AWS4{}", c.secret_key).as_bytes(), date.as_bytes());
        let key_region = hmac(&key_date, c.region.as_bytes());
        let key_service = hmac(&key_region, b"s3");
        let signing = hmac(&key_service, b"aws4_request");
        let signature = hex(&hmac(&signing, to_sign.as_bytes()));
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={signature}",
            c.access_key
        );
        let url = if canonical_query.is_empty() {
            format!("{base}{canonical_path}")
        } else {
            format!("{base}{canonical_path}?{canonical_query}")
        };
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(storage)?;
        let request = self
            .client
            .request(method, url)
            .header("x-amz-date", stamp)
            .header("x-amz-content-sha256", payload)
            .header(reqwest::header::AUTHORIZATION, authorization)
            .body(body);
        self.handle.block_on(async move {
            let resp = request.send().await.map_err(storage)?;
            let status = resp.status().as_u16();
            let length = resp
                .headers()
                .get(reqwest::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok());
            let body = resp.bytes().await.map_err(storage)?.to_vec();
            Ok(Answer { status, body, length })
        })
    }

    fn whole_key(&self, hash: &str) -> String {
        format!("{}blobs/{hash}", self.config.prefix)
    }

    fn parts_prefix(&self, hash: &str) -> String {
        format!("{}partial/{hash}/", self.config.prefix)
    }

    /// The chunks of an upload under way: (offset, length, key), by offset.
    fn parts(&self, hash: &str) -> Result<Vec<(u64, u64, String)>, SyncError> {
        let prefix = self.parts_prefix(hash);
        let answer = self.call("GET", "", &[("list-type", "2"), ("prefix", &prefix)], Vec::new())?;
        if answer.status != 200 {
            return Err(storage(format!("listing {prefix}: HTTP {}", answer.status)));
        }
        let text = String::from_utf8_lossy(&answer.body);
        let mut out = Vec::new();
        for piece in text.split("<Key>").skip(1) {
            let Some((key, _)) = piece.split_once("</Key>") else { continue };
            let Some((offset, length)) = key.strip_prefix(&prefix).and_then(|n| n.split_once('-')) else { continue };
            if let (Ok(o), Ok(l)) = (offset.parse(), length.parse()) {
                out.push((o, l, key.to_owned()));
            }
        }
        out.sort();
        // Only the run that starts at 0 and continues without a gap counts.
        let mut at = 0;
        out.retain(|(o, l, _)| {
            let keep = *o == at;
            if keep {
                at += l;
            }
            keep
        });
        Ok(out)
    }
}

impl BlobStore for S3Blobs {
    fn complete_size(&self, hash: &str) -> Result<Option<u64>, SyncError> {
        let answer = self.call("HEAD", &self.whole_key(hash), &[], Vec::new())?;
        match answer.status {
            200 => Ok(answer.length.map(|n| n.saturating_sub(40))),
            404 => Ok(None),
            s => Err(storage(format!("HEAD {hash}: HTTP {s}"))),
        }
    }

    fn partial_len(&self, hash: &str) -> Result<u64, SyncError> {
        Ok(self.parts(hash)?.iter().map(|p| p.1).sum())
    }

    fn append(&self, hash: &str, offset: u64, data: &[u8]) -> Result<u64, SyncError> {
        let held = self.partial_len(hash)?;
        if offset != held {
            return Ok(held);
        }
        let sealed = self.sealer.seal(&format!("blob-part:{hash}:{offset}"), data);
        let key = format!("{}{offset:020}-{}", self.parts_prefix(hash), data.len());
        let answer = self.call("PUT", &key, &[], sealed)?;
        if answer.status != 200 {
            return Err(storage(format!("PUT {key}: HTTP {}", answer.status)));
        }
        Ok(held + data.len() as u64)
    }

    fn finish(&self, hash: &str) -> Result<bool, SyncError> {
        let parts = self.parts(hash)?;
        let mut whole = Vec::new();
        for (offset, _, key) in &parts {
            let answer = self.call("GET", key, &[], Vec::new())?;
            if answer.status != 200 {
                return Err(storage(format!("GET {key}: HTTP {}", answer.status)));
            }
            whole.extend_from_slice(&self.sealer.open(&format!("blob-part:{hash}:{offset}"), &answer.body)?);
        }
        for (_, _, key) in &parts {
            self.call("DELETE", key, &[], Vec::new())?;
        }
        if hex(&Sha256::digest(&whole)) != hash {
            return Ok(false);
        }
        let answer = self.call("PUT", &self.whole_key(hash), &[], self.sealer.seal(&format!("blob:{hash}"), &whole))?;
        if answer.status != 200 {
            return Err(storage(format!("PUT {hash}: HTTP {}", answer.status)));
        }
        Ok(true)
    }

    fn read(&self, hash: &str) -> Result<Option<Vec<u8>>, SyncError> {
        let answer = self.call("GET", &self.whole_key(hash), &[], Vec::new())?;
        match answer.status {
            200 => Ok(Some(self.sealer.open(&format!("blob:{hash}"), &answer.body)?)),
            404 => Ok(None),
            s => Err(storage(format!("GET {hash}: HTTP {s}"))),
        }
    }

    fn claim(&self, hash: &str) -> bool {
        self.busy.lock().unwrap_or_else(|p| p.into_inner()).insert(hash.to_owned())
    }

    fn release(&self, hash: &str) {
        self.busy.lock().unwrap_or_else(|p| p.into_inner()).remove(hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        // RFC 4231, test case 2.
        let mac = hmac(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex(&mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn keys_are_encoded_as_sigv4_wants() {
        assert_eq!(encode("/b/sanjian/blobs/ab cd", true), "/b/sanjian/blobs/ab%20cd");
        assert_eq!(encode("a/b", false), "a%2Fb");
    }
}

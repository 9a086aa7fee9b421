//! The device's way to the county server over HTTP(S): reqwest on rustls
//! (ring), run on the app's tokio runtime.
//!
//! - [`Endpoint`]: where the server is and how to trust it: the system's
//!   certificate authorities, an extra authority given as PEM, or the
//!   SHA-256 pin of a self-signed certificate carried in the enrolment code;
//! - [`HttpTransport`]: a [`Transport`] for [`crate::client::sync`], which
//!   runs on a blocking thread (the store is SQLite) and drives each request
//!   on the runtime's handle;
//! - [`redeem`]: turns an enrolment code into the device's credentials;
//! - [`AutoSync`]: syncs on demand and whenever connectivity returns,
//!   probing `/health` with exponential backoff, and reports progress.

use crate::client::{self, Options, Progress, Report, Stage, Transport};
use crate::enrol::{EnrolmentText, hex};
use crate::error::SyncError;
use registry::message::Message;
use registry::model::RecordId;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::Store;
use tokio::runtime::Handle;
use tokio::sync::{Notify, watch};

/// The largest answer a device accepts (the wire format's own cap).
const MAX_ANSWER: usize = crate::wire::MAX_INFLATED;

/// Where the county server is, and how to trust it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Endpoint {
    /// `http://host:port` or `https://host:port`, without a trailing slash.
    pub base: String,
    /// SHA-256 of the server's certificate (DER), for a self-signed one.
    pub pin: Option<[u8; 32]>,
    /// Extra certificate authorities to trust, PEM.
    pub ca_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("base", &self.base)
            .field("pinned", &self.pin.is_some())
            .field("ca", &self.ca_pem.is_some())
            .finish()
    }
}

impl Endpoint {
    pub fn new(base: &str) -> Endpoint {
        Endpoint { base: base.trim_end_matches('/').to_owned(), pin: None, ca_pem: None }
    }

    /// A client for this endpoint. Requests time out after `timeout`.
    pub fn client(&self, timeout: Duration) -> Result<reqwest::Client, SyncError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10).min(timeout))
            .timeout(timeout)
            .user_agent(concat!("sanjian/", env!("CARGO_PKG_VERSION")));
        let builder = if let Some(pin) = self.pin {
            let config = rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map_err(|e| SyncError::Network(format!("tls: {e}")))?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Pinned { pin, provider }))
                .with_no_client_auth();
            builder.tls_backend_preconfigured(config)
        } else {
            let mut roots = rustls::RootCertStore::empty();
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
            if let Some(pem) = &self.ca_pem {
                use rustls::pki_types::pem::PemObject;
                for cert in CertificateDer::pem_slice_iter(pem) {
                    let cert = cert.map_err(|e| SyncError::Network(format!("certificate authority: {e}")))?;
                    roots.add(cert).map_err(|e| SyncError::Network(format!("certificate authority: {e}")))?;
                }
            }
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| SyncError::Network(format!("tls: {e}")))?
                .with_root_certificates(roots)
                .with_no_client_auth();
            builder.tls_backend_preconfigured(config)
        };
        builder.build().map_err(|e| SyncError::Network(format!("client: {e}")))
    }
}

/// Accepts exactly the certificate whose SHA-256 is pinned (a self-signed
/// trial server), checking the handshake's signatures as usual.
#[derive(Debug)]
struct Pinned {
    pin: [u8; 32],
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if Sha256::digest(end_entity.as_ref()).as_slice() == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::ApplicationVerificationFailure))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

impl From<&EnrolmentText> for Endpoint {
    fn from(e: &EnrolmentText) -> Endpoint {
        let mut endpoint = Endpoint::new(&e.base);
        endpoint.pin = e.pin;
        endpoint
    }
}

/// A device's credentials, as the server gives them on enrolment.
#[derive(Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub device_id: String,
    pub token: String,
    /// The token for the lock screen's wipe check (older servers send none).
    #[serde(default)]
    pub wipe_check: String,
    pub person: String,
    pub role: String,
    /// The county's secret for record ids (hex).
    pub county_secret: String,
    /// The county's card root public key (hex), which signs the card lists.
    #[serde(default)]
    pub card_root: String,
    /// The scope granted at enrolment.
    #[serde(default)]
    pub scope_all: bool,
    #[serde(default)]
    pub townships: Vec<String>,
    #[serde(default)]
    pub grids: Vec<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("device_id", &self.device_id)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Redeems an enrolment code: the device gives its actor id and public key
/// and receives its credentials.
pub async fn redeem(
    client: &reqwest::Client,
    enrolment: &EnrolmentText,
    actor: [u8; 16],
    public_key: [u8; 32],
) -> Result<Credentials, SyncError> {
    let body = serde_json::json!({ "code": enrolment.code, "actor": hex(&actor), "public_key": hex(&public_key) });
    let resp = client
        .post(format!("{}/api/enrol/redeem", enrolment.base.trim_end_matches('/')))
        .json(&body)
        .send()
        .await
        .map_err(network)?;
    let bytes = answer(resp).await?;
    serde_json::from_slice(&bytes).map_err(|e| SyncError::Server(format!("enrolment answer: {e}")))
}

fn network(e: reqwest::Error) -> SyncError {
    // The URL is the server's address: no personal data.
    SyncError::Network(e.without_url().to_string())
}

/// Reads an answer (bounded), turning a refusal into its error.
async fn answer(mut resp: reqwest::Response) -> Result<Vec<u8>, SyncError> {
    let status = resp.status();
    if resp.content_length().is_some_and(|n| n as usize > MAX_ANSWER) {
        return Err(SyncError::TooLarge);
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(network)? {
        if bytes.len() + chunk.len() > MAX_ANSWER {
            return Err(SyncError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    if status.is_success() {
        return Ok(bytes);
    }
    #[derive(Deserialize)]
    struct Refusal {
        code: String,
        message: Message,
    }
    match serde_json::from_slice::<Refusal>(&bytes) {
        // A server error may pass: retry later.
        Ok(r) if status.is_server_error() => Err(SyncError::Server(r.code)),
        Ok(r) => Err(SyncError::Refused { status: status.as_u16(), code: r.code, message: r.message }),
        // Not our server's answer (a proxy, a captive portal): try later.
        Err(_) => Err(SyncError::Network(format!("unexpected answer: HTTP {}", status.as_u16()))),
    }
}

/// Carries sync requests over HTTP. Its `call` blocks on the runtime, so
/// a session runs on a blocking thread (`spawn_blocking`), never on an
/// async worker.
#[derive(Debug)]
pub struct HttpTransport {
    client: reqwest::Client,
    base: String,
    token: String,
    handle: Handle,
}

impl HttpTransport {
    pub fn new(client: reqwest::Client, endpoint: &Endpoint, token: &str, handle: Handle) -> HttpTransport {
        HttpTransport { client, base: endpoint.base.clone(), token: token.to_owned(), handle }
    }
}

impl HttpTransport {
    fn request(&self, path: &str, body: Vec<u8>) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/x-sanjian-sync")
            .body(body)
    }
}

impl Transport for HttpTransport {
    fn call(&mut self, path: &'static str, body: Vec<u8>) -> Result<Vec<u8>, SyncError> {
        let request = self.request(path, body);
        self.handle.block_on(async move { answer(request.send().await.map_err(network)?).await })
    }

    fn call_partial(&mut self, path: &'static str, body: Vec<u8>) -> Result<(Vec<u8>, bool), SyncError> {
        let request = self.request(path, body);
        self.handle.block_on(async move {
            let mut resp = request.send().await.map_err(network)?;
            if !resp.status().is_success() {
                return answer(resp).await.map(|b| (b, true));
            }
            let mut bytes = Vec::new();
            loop {
                match resp.chunk().await {
                    Ok(Some(chunk)) => {
                        if bytes.len() + chunk.len() > MAX_ANSWER {
                            return Err(SyncError::TooLarge);
                        }
                        bytes.extend_from_slice(&chunk);
                    }
                    Ok(None) => return Ok((bytes, true)),
                    // Cut off: what arrived is kept.
                    Err(_) => return Ok((bytes, false)),
                }
            }
        })
    }
}

/// Where a device asks for a new token.
pub const ROTATE_PATH: &str = crate::client::path::ROTATE;
/// Sync values: the device's token, and when it got it (ms, decimal).
pub const TOKEN_KEY: &str = "device.token";
pub const TOKEN_AT_KEY: &str = "device.token_at";
/// A device rotates its token once it is this old (tokens live a year).
pub const ROTATE_AFTER_MS: u64 = 30 * 24 * 3600 * 1000;

/// Asks the server for a new token with the current one.
pub async fn rotate(client: &reqwest::Client, endpoint: &Endpoint, token: &str) -> Result<String, SyncError> {
    let resp =
        client.post(format!("{}{ROTATE_PATH}", endpoint.base)).bearer_auth(token).send().await.map_err(network)?;
    let bytes = answer(resp).await?;
    #[derive(Deserialize)]
    struct Rotated {
        token: String,
    }
    let r: Rotated = serde_json::from_slice(&bytes).map_err(|e| SyncError::Wire(format!("rotate answer: {e}")))?;
    Ok(r.token)
}

/// Where a device asks, with its wipe-check token, whether it must wipe
/// itself (a lost tablet the county revoked).
pub const WIPE_CHECK_PATH: &str = crate::client::path::WIPE_CHECK;

/// Asks whether this device must wipe itself. `Ok(true)` only on the
/// server's word; any failure is an error (nothing is wiped on a doubt).
pub async fn wipe_check(client: &reqwest::Client, endpoint: &Endpoint, wipe_token: &str) -> Result<bool, SyncError> {
    let resp = client
        .post(format!("{}{WIPE_CHECK_PATH}", endpoint.base))
        .bearer_auth(wipe_token)
        .send()
        .await
        .map_err(network)?;
    let bytes = answer(resp).await?;
    #[derive(Deserialize)]
    struct Answer {
        wipe: bool,
    }
    let a: Answer = serde_json::from_slice(&bytes).map_err(|e| SyncError::Wire(format!("wipe-check answer: {e}")))?;
    Ok(a.wipe)
}

/// Where a device asks whether a record exists outside its scope.
pub const LOOKUP_PATH: &str = crate::client::path::LOOKUP;

/// Asks whether the record `id` (e.g. the id a resident ID number derives)
/// is registered outside this device's scope, so the surveyor starts a
/// transfer instead of registering the person again. Each answer counts
/// against the device's daily budget ([`crate::server::REVEAL_BUDGET`]).
pub async fn lookup(
    client: &reqwest::Client,
    endpoint: &Endpoint,
    token: &str,
    id: &RecordId,
) -> Result<crate::server::Lookup, SyncError> {
    let resp = client
        .post(format!("{}{LOOKUP_PATH}", endpoint.base))
        .bearer_auth(token)
        .json(&serde_json::json!({ "id": id }))
        .send()
        .await
        .map_err(network)?;
    let bytes = answer(resp).await?;
    serde_json::from_slice(&bytes).map_err(|e| SyncError::Wire(format!("lookup answer: {e}")))
}

/// A county operation answered in JSON, asked with the device's token (the
/// area's queue of applications to join, a union's poster): `body` POSTed,
/// else a GET of `path` (with its query). The answer, or the county's
/// refusal with its code.
pub async fn county_json(
    client: &reqwest::Client,
    endpoint: &Endpoint,
    token: &str,
    path: &str,
    body: Option<&serde_json::Value>,
) -> Result<serde_json::Value, SyncError> {
    let url = format!("{}{path}", endpoint.base);
    let req = match body {
        Some(b) => client.post(url).json(b),
        None => client.get(url),
    };
    let resp = req.bearer_auth(token).send().await.map_err(network)?;
    let bytes = answer(resp).await?;
    serde_json::from_slice(&bytes).map_err(|e| SyncError::Wire(format!("county answer: {e}")))
}

/// The token a device holds in its store, if any.
pub fn stored_token(store: &Store) -> Result<Option<String>, SyncError> {
    Ok(store.sync_value(TOKEN_KEY)?.and_then(|b| String::from_utf8(b).ok()))
}

/// Keeps a device's token and the time it got it.
pub fn keep_token(store: &mut Store, token: &str) -> Result<(), SyncError> {
    store.set_sync_value(TOKEN_KEY, token.as_bytes())?;
    store.set_sync_value(TOKEN_AT_KEY, now_ms().to_string().as_bytes())?;
    Ok(())
}

/// Rotates the device's token if it is due (a device enrolled before the
/// time was kept counts from now). Call from a blocking thread. Returns
/// whether it rotated.
pub fn rotate_if_due(
    store: &mut Store,
    client: &reqwest::Client,
    endpoint: &Endpoint,
    handle: &Handle,
) -> Result<bool, SyncError> {
    let Some(token) = stored_token(store)? else { return Ok(false) };
    let since: Option<u64> =
        store.sync_value(TOKEN_AT_KEY)?.and_then(|b| String::from_utf8(b).ok()).and_then(|s| s.parse().ok());
    let Some(since) = since else {
        store.set_sync_value(TOKEN_AT_KEY, now_ms().to_string().as_bytes())?;
        return Ok(false);
    };
    if now_ms().saturating_sub(since) < ROTATE_AFTER_MS {
        return Ok(false);
    }
    let new = handle.block_on(rotate(client, endpoint, &token))?;
    keep_token(store, &new)?;
    Ok(true)
}

/// The county's signed card lists as served (trust list, revocation list).
/// They are public; the device checks them against the card root key it
/// got at enrolment before keeping them ([`keep_card_lists`]).
pub async fn fetch_card_lists(client: &reqwest::Client, endpoint: &Endpoint) -> Result<(Vec<u8>, Vec<u8>), SyncError> {
    let get = |path: &str| client.get(format!("{}{path}", endpoint.base)).send();
    let trust = answer(get("/api/cards/trust").await.map_err(network)?).await?;
    let revoked = answer(get("/api/cards/revocations").await.map_err(network)?).await?;
    Ok((trust, revoked))
}

/// Sync values holding the card lists and the root key.
pub mod card_keys {
    pub const ROOT: &str = "cards.root";
    pub const TRUST: &str = "cards.trust";
    pub const REVOKED: &str = "cards.revocations";
    /// When the lists were last fetched (ms since the epoch, decimal).
    pub const FETCHED: &str = "cards.fetched_ms";
}

/// The card verifier this device holds: its root key and kept lists.
pub fn card_verifier(store: &Store) -> Result<Option<card::lists::Verifier>, SyncError> {
    let Some(root) = store.sync_value(card_keys::ROOT)? else { return Ok(None) };
    let root: [u8; 32] = root.try_into().map_err(|_| SyncError::Wire("card root key".into()))?;
    let root = card::VerifyingKey::from_bytes(&root).map_err(|_| SyncError::Wire("card root key".into()))?;
    let mut v = card::lists::Verifier::new(root);
    if let Some(t) = store.sync_value(card_keys::TRUST)? {
        let _ = v.accept_trust(&t);
    }
    if let Some(r) = store.sync_value(card_keys::REVOKED)? {
        let _ = v.accept_revocations(&r);
    }
    Ok(Some(v))
}

/// Keeps newly fetched card lists if they are signed by the county and not
/// older than the ones held; a rolled-back or forged list is refused and
/// the held one stays.
pub fn keep_card_lists(store: &mut Store, trust: &[u8], revoked: &[u8]) -> Result<(), SyncError> {
    let Some(mut v) = card_verifier(store)? else { return Ok(()) };
    let refused = |e: card::CardError| {
        let (zh, en) = e.message();
        SyncError::Refused { status: 409, code: e.code().into(), message: Message::new(zh, en) }
    };
    v.accept_trust(trust).map_err(refused)?;
    v.accept_revocations(revoked).map_err(refused)?;
    store.set_sync_value(card_keys::TRUST, trust)?;
    store.set_sync_value(card_keys::REVOKED, revoked)?;
    let serials: Vec<String> = v.revocations().serials.iter().map(|s| crate::enrol::hex(s)).collect();
    store.set_revoked_cards(serials.iter().map(String::as_str))?;
    store.set_sync_value(card_keys::FETCHED, now_ms().to_string().as_bytes())?;
    Ok(())
}

/// Is the server reachable (and ours)?
pub async fn probe(client: &reqwest::Client, endpoint: &Endpoint) -> bool {
    match client.get(format!("{}/health", endpoint.base)).timeout(Duration::from_secs(5)).send().await {
        Ok(r) => r.status().is_success(),
        Err(_) => false,
    }
}

/// Exponential backoff with jitter between connectivity probes.
#[derive(Debug, Clone)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
    current: Duration,
}

impl Backoff {
    pub fn new(first: Duration, max: Duration) -> Backoff {
        Backoff { first, max, current: first }
    }

    /// The next wait: doubled each time up to `max`, with ±20% jitter so
    /// a township's devices do not all knock at once.
    pub fn next_wait(&mut self) -> Duration {
        let base = self.current;
        self.current = (self.current * 2).min(self.max);
        let jitter = rand::random_range(0.8..1.2);
        base.mul_f64(jitter)
    }

    pub fn reset(&mut self) {
        self.current = self.first;
    }
}

/// What the background sync is doing, for the app's status line and
/// progress bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncStatus {
    /// Not yet tried.
    Idle,
    /// The server is unreachable; the next probe is in `retry_in_ms`.
    Offline {
        retry_in_ms: u64,
    },
    Syncing(Progress),
    /// The last session finished.
    Synced {
        report: Box<Report>,
        at_ms: u64,
    },
    /// The last session failed in a way retrying will not fix (e.g. the
    /// device was revoked); `code` is stable.
    Failed {
        code: String,
        message: Message,
    },
}

/// How the background sync behaves.
#[derive(Debug, Clone)]
pub struct AutoSyncConfig {
    pub endpoint: Endpoint,
    pub token: String,
    pub options: Options,
    /// Time between sessions while online.
    pub interval: Duration,
    pub backoff: Backoff,
    pub request_timeout: Duration,
}

impl AutoSyncConfig {
    pub fn new(endpoint: Endpoint, token: String) -> AutoSyncConfig {
        AutoSyncConfig {
            endpoint,
            token,
            options: Options::default(),
            interval: Duration::from_secs(300),
            backoff: Backoff::new(Duration::from_secs(2), Duration::from_secs(300)),
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// A background task that keeps a store in sync: a session on start, on
/// [`AutoSync::sync_now`], and every `interval`; while the server is
/// unreachable it probes with backoff and syncs as soon as it answers.
#[derive(Debug)]
pub struct AutoSync {
    wake: Arc<Notify>,
    status: watch::Receiver<SyncStatus>,
    task: tokio::task::JoinHandle<()>,
}

impl AutoSync {
    /// Starts the task on the current runtime.
    pub fn start(store: Arc<Mutex<Store>>, config: AutoSyncConfig) -> Result<AutoSync, SyncError> {
        let client = config.endpoint.client(config.request_timeout)?;
        let wake = Arc::new(Notify::new());
        let (tx, status) = watch::channel(SyncStatus::Idle);
        let task = tokio::spawn(run(store, config, client, wake.clone(), tx));
        Ok(AutoSync { wake, status, task })
    }

    /// Asks for a session now (a button, or new records in the outbox).
    pub fn sync_now(&self) {
        self.wake.notify_one();
    }

    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.status.clone()
    }

    pub fn stop(self) {
        self.task.abort();
    }
}

async fn run(
    store: Arc<Mutex<Store>>,
    mut config: AutoSyncConfig,
    client: reqwest::Client,
    wake: Arc<Notify>,
    tx: watch::Sender<SyncStatus>,
) {
    loop {
        if !probe(&client, &config.endpoint).await {
            let wait = config.backoff.next_wait();
            tx.send_replace(SyncStatus::Offline { retry_in_ms: wait.as_millis() as u64 });
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = wake.notified() => {}
            }
            continue;
        }
        config.backoff.reset();
        let outcome = session(&store, &config, &client, &tx).await;
        let wait = match outcome {
            Ok(report) => {
                tx.send_replace(SyncStatus::Synced { report: Box::new(report), at_ms: now_ms() });
                config.interval
            }
            Err(e) if e.is_transient() => {
                let wait = config.backoff.next_wait();
                tx.send_replace(SyncStatus::Offline { retry_in_ms: wait.as_millis() as u64 });
                wait
            }
            Err(e) => {
                tx.send_replace(SyncStatus::Failed { code: e.code().to_owned(), message: e.message() });
                config.interval
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = wake.notified() => {}
        }
    }
}

/// One session on a blocking thread; progress goes to the status channel.
async fn session(
    store: &Arc<Mutex<Store>>,
    config: &AutoSyncConfig,
    client: &reqwest::Client,
    tx: &watch::Sender<SyncStatus>,
) -> Result<Report, SyncError> {
    let lists = fetch_card_lists(client, &config.endpoint).await;
    let store = store.clone();
    let options = config.options.clone();
    let tx = tx.clone();
    let (client, endpoint, fallback) = (client.clone(), config.endpoint.clone(), config.token.clone());
    let handle = Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut store = store.lock().unwrap_or_else(|p| p.into_inner());
        // The token the store holds (it changes when rotated).
        let token = stored_token(&store)?.unwrap_or(fallback);
        let mut transport = HttpTransport::new(client.clone(), &endpoint, &token, handle.clone());
        let report = client::sync(&mut store, &mut transport, &options, &mut |p| {
            if p.stage != Stage::Done {
                tx.send_replace(SyncStatus::Syncing(*p));
            }
        })?;
        // The card lists travel with every session; a refused (older or
        // forged) list leaves the held one in place.
        if let Ok((trust, revoked)) = lists {
            let _ = keep_card_lists(&mut store, &trust, &revoked);
        }
        // A token 30 days old is swapped for a new one (the old one works
        // until the new one is first used, next session).
        rotate_if_due(&mut store, &client, &endpoint, &handle)?;
        Ok(report)
    })
    .await
    .unwrap_or_else(|_| Err(SyncError::Interrupted))
}

/// Milliseconds since the epoch ([`store::clock::now_ms`], unsigned).
pub fn now_ms() -> u64 {
    u64::try_from(store::clock::now_ms()).unwrap_or(0)
}

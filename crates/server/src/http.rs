//! The HTTP surface. Sync endpoints take and give the binary messages of
//! [`sync::wire`]; everything else is JSON. Every refusal is a 4xx with a
//! JSON body `{code, message: {zh, en}}`.

use crate::auth;
use crate::db::{Db, now_ms};
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, RawPathParams, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use county::{County, Credentials, Operation, ops};
use registry::message::Coded;
use registry::message::Message as Text;
use std::sync::Arc;
use sync::SyncError;
use sync::client::path;

/// What every handler shares: the county (its database, keys and address;
/// where the operations run) and the HTTP edge's own state.
#[derive(Debug)]
pub struct AppState {
    pub county: County,
    pub max_body: usize,
    /// Served over HTTPS (answers then carry Strict-Transport-Security).
    pub https: bool,
    /// Failed sign-ins and redemptions, counted per source.
    pub limits: crate::guard::Limits,
    /// Reverse proxies whose `X-Forwarded-For` names the client (empty:
    /// the peer is the client).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Sync and attachment bodies read and decoded at once: each may take
    /// `max_body` and inflate to a few times that, so their number bounds
    /// what enrolled devices can make the server hold.
    bodies: Arc<tokio::sync::Semaphore>,
}

/// The county's fields (`db`, `keys`, `pin`…) read through the state.
impl std::ops::Deref for AppState {
    type Target = County;
    fn deref(&self) -> &County {
        &self.county
    }
}

impl std::ops::DerefMut for AppState {
    fn deref_mut(&mut self) -> &mut County {
        &mut self.county
    }
}

impl AppState {
    pub fn new(db: Db, keys: crate::ServerKeys, public_url: String) -> AppState {
        AppState {
            county: County::new(db, keys, public_url),
            max_body: 32 << 20,
            https: false,
            limits: crate::guard::Limits::default(),
            trusted_proxies: Vec::new(),
            bodies: Arc::new(tokio::sync::Semaphore::new(4)),
        }
    }
}

/// Every county operation at its path ([`county::ops::each`]).
struct CountyRoutes(axum::Router<Arc<AppState>>);

impl county::ops::OperationVisitor for CountyRoutes {
    fn visit<O: Operation>(&mut self) {
        use county::ops::{Guesses, Method};
        // Operations whose failures are guesses go through the limits first.
        let handler = match (O::GUESSES, O::METHOD) {
            (Guesses::Nothing, Method::Get) => get(op::<O>),
            (Guesses::Nothing, Method::Post) => post(op::<O>),
            _ => post(guessed::<O>),
        };
        self.0 = std::mem::take(&mut self.0).route(O::PATH, handler);
    }
}

pub fn router(state: Arc<AppState>) -> axum::Router {
    let mut county = CountyRoutes(axum::Router::new());
    county::ops::each(&mut county);
    county
        .0
        .route("/health", get(health))
        .route(path::PUSH, post(device_endpoint))
        .route(path::PULL, post(device_endpoint))
        .route(path::REPAIR, post(device_endpoint))
        .route(path::FETCH, post(device_endpoint))
        .route(path::REFS, post(device_endpoint))
        .route(sync::blobs::path::STATUS, post(device_endpoint))
        .route(sync::blobs::path::PUSH, post(device_endpoint))
        .route(sync::blobs::path::FETCH, post(device_endpoint))
        .route("/api/cards/trust", get(card_trust))
        .route("/api/cards/revocations", get(card_revocations))
        .route("/verify", get(verify_page))
        .route("/apply/{poster}", get(apply_page))
        .route("/apply-status", get(apply_page))
        .route("/m/", get(merchant_page))
        .route("/m/sw.js", get(merchant_worker))
        .route("/m/cardcheck.js", get(merchant_verifier))
        .route("/m/manifest.webmanifest", get(merchant_manifest))
        .route("/m/icon.svg", get(merchant_icon))
        .route("/m/{token}", get(merchant_page))
        .route("/m/{token}/manifest.webmanifest", get(merchant_token_manifest))
        .route("/console", get(console_page))
        .route("/console/map.js", get(console_map_js))
        .route("/console/vendor/chart.js", get(console_chart_js))
        .route("/console/basemap", get(basemap_info))
        .route("/console/tiles/{z}/{x}/{y}", get(basemap_tile))
        .route("/console/lib/{file}", get(console_lib))
        .route("/api/console/export", get(console_export))
        .route("/api/console/exports", post(start_export))
        .route("/api/console/exports/{id}", get(export_status))
        .route("/api/console/exports/{id}/file", get(export_file))
        .route("/api/console/reconcile", post(console_reconcile))
        .route("/api/console/intake", post(console_intake))
        .route("/api/console/archive", post(console_archive))
        .route("/api/console/intake-progress", get(intake_progress))
        .route("/api/console/blobs/{hash}", get(console_blob))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), secure))
        .layer(axum::middleware::from_fn_with_state(state.clone(), source))
        .layer(axum::middleware::from_fn(log))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}

/// Headers on every answer: no sniffing, no framing, no referrer; answers
/// of the API (which hold personal data) are never cached; HTTPS is
/// remembered by browsers when the server speaks it.
async fn secure(State(st): State<Arc<AppState>>, req: Request, next: axum::middleware::Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let set = |h: &mut HeaderMap, name: header::HeaderName, value: &'static str| {
        h.entry(name).or_insert(header::HeaderValue::from_static(value));
    };
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    set(h, header::HeaderName::from_static("permissions-policy"), "camera=(self), geolocation=(), microphone=()");
    if api {
        h.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    }
    if st.https {
        set(h, header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    resp
}

/// Names where each request comes from ([`crate::guard::Source`]), for
/// the limits.
async fn source(State(st): State<Arc<AppState>>, mut req: Request, next: axum::middleware::Next) -> Response {
    let peer = req.extensions().get::<axum::extract::ConnectInfo<crate::guard::Peer>>().map(|c| c.0.0.ip());
    let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let source = crate::guard::Source::of(peer, forwarded, &st.trusted_proxies);
    req.extensions_mut().insert(source);
    next.run(req).await
}

/// One line per request: method, path, status, time. Never bodies, tokens
/// or record contents.
async fn log(req: Request, next: axum::middleware::Next) -> Response {
    let method = req.method().clone();
    // Ids, hashes and tokens in paths (a poster's `<union id>-<tag>` too)
    // are logged as `:id`: a log says what was done, not to which record.
    let path = req
        .uri()
        .path()
        .split('/')
        .map(|seg| if seg.len() >= 16 && seg.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') { ":id" } else { seg })
        .collect::<Vec<_>>()
        .join("/");
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    tracing::info!(%method, %path, status = resp.status().as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    resp
}

/// A refusal or failure as an HTTP answer.
#[derive(Debug)]
pub struct ApiError {
    status: u16,
    code: String,
    message: Text,
    /// The fields a refused form has wrong, each with its code and words.
    issues: Vec<registry::message::Issue>,
}

/// Any refusal of the project's one error model ([`Coded`]): the county
/// layer's, the sync layer's, a `Denied`.
impl<E: Coded + std::fmt::Display> From<E> for ApiError {
    fn from(e: E) -> ApiError {
        if e.status() >= 500 {
            // The detail goes to the log (it names no person), not the client.
            tracing::error!(code = e.code(), error = %e, "request failed");
        }
        ApiError { status: e.status(), code: e.code().to_owned(), message: e.message(), issues: e.issues().to_vec() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = Json(ErrorBody { code: &self.code, message: &self.message, issues: &self.issues });
        if matches!(self.status, 401 | 413) {
            // Refused before the body was read (or past its size): the rest
            // of it is never read, so the connection is not reused, and the
            // client is told so rather than finding out on its next request.
            return (status, [(header::CONNECTION, "close")], body).into_response();
        }
        (status, body).into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// Every refusal's body: `{code, message: {zh, en}}`.
#[derive(serde::Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a Text,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    issues: &'a [registry::message::Issue],
}

async fn not_found() -> ApiError {
    auth::NOT_FOUND.into()
}

/// Runs blocking database work off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> ApiResult<T> + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|_| Err(SyncError::Server("worker panicked".into()).into()))
}

/// One county operation over HTTP: whoever the bearer token names is
/// admitted before a byte of a POST's body is read (a GET's is never
/// read); the request is gathered from the path's parameters, the query and
/// the JSON body (at most 64 KiB), then run ([`County::run`] identifies and
/// admits again, in its transaction).
async fn op<O: Operation>(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    path: RawPathParams,
    Query(query): Query<std::collections::HashMap<String, String>>,
    body: Body,
) -> ApiResult<Json<O::Response>> {
    let token = bearer(&headers).ok();
    let mut bytes = Bytes::new();
    if O::METHOD == county::ops::Method::Post {
        admitted::<O>(&st, &token).await?;
        bytes = read_body(body, 64 << 10).await?;
    }
    let req = who_first::<O, _>(&st, &token, gather::<O::Request>(&path, query, &bytes)).await?;
    run_op::<O>(st, token, req).await.map(Json)
}

/// Is the token's bearer admitted to `O`? (A refusal if not.)
async fn admitted<O: Operation>(st: &Arc<AppState>, token: &Option<String>) -> ApiResult<()> {
    let (state, asked) = (st.clone(), token.clone());
    blocking(move || Ok(state.county.admit::<O>(Credentials::bearer(asked.as_deref()))?)).await
}

/// A malformed request from someone not admitted is answered as theirs:
/// who is asking comes before what is wrong with the asking.
async fn who_first<O: Operation, T>(st: &Arc<AppState>, token: &Option<String>, read: ApiResult<T>) -> ApiResult<T> {
    match read {
        Ok(req) => Ok(req),
        Err(e) => Err(admitted::<O>(st, token).await.err().unwrap_or(e)),
    }
}

/// Runs a county operation on a blocking thread.
async fn run_op<O: Operation>(st: Arc<AppState>, token: Option<String>, req: O::Request) -> ApiResult<O::Response> {
    blocking(move || Ok(st.county.run::<O>(Credentials::bearer(token.as_deref()), req)?)).await
}

/// A request's fields from its three places: the body's JSON object, then
/// the query's and the path's (the path's win: `/devices/{id}/…` names
/// the device whatever the body says).
fn gather<T: serde::de::DeserializeOwned>(
    path: &RawPathParams,
    query: std::collections::HashMap<String, String>,
    body: &[u8],
) -> ApiResult<T> {
    let mut fields = match body.iter().any(|b| !b.is_ascii_whitespace()) {
        true => match serde_json::from_slice(body) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => return Err(auth::BAD_REQUEST.into()),
        },
        false => serde_json::Map::new(),
    };
    for (k, v) in query {
        fields.entry(k).or_insert(v.into());
    }
    for (k, v) in path {
        fields.insert(k.to_owned(), v.to_owned().into());
    }
    serde_json::from_value(serde_json::Value::Object(fields)).map_err(|_| auth::BAD_REQUEST.into())
}

fn bearer(headers: &HeaderMap) -> ApiResult<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty() && t.len() < 200)
        .ok_or_else(|| auth::UNAUTHENTICATED.into())
}

async fn read_body(body: Body, limit: usize) -> ApiResult<Bytes> {
    axum::body::to_bytes(body, limit).await.map_err(|_| SyncError::TooLarge.into())
}

/// A binary answer; the body slot it held is given back once it is made.
fn binary(bytes: Vec<u8>, permit: Permit) -> Response {
    drop(permit);
    ([(header::CONTENT_TYPE, "application/x-sanjian-sync")], bytes).into_response()
}

async fn health(State(st): State<Arc<AppState>>) -> ApiResult<Json<county::endpoints::Health>> {
    blocking(move || Ok(Json(st.county.health()?))).await
}

/// Who a device's bearer token names, asked before any body is read (an
/// unknown token is refused without a byte read, inflated or decoded);
/// then a slot among the bodies being decoded, so enrolled devices too can
/// make the server hold only so much at once.
async fn device_first(st: &Arc<AppState>, headers: &HeaderMap, path: &str) -> ApiResult<(String, Permit)> {
    let (state, token, path) = (st.clone(), bearer(headers)?, path.to_owned());
    let asked = token.clone();
    blocking(move || Ok(state.county.device_admitted(&asked, &path)?)).await?;
    let permit = st.bodies.clone().acquire_owned().await.map_err(|_| SyncError::Server("shutting down".into()))?;
    Ok((token, permit))
}

type Permit = tokio::sync::OwnedSemaphorePermit;

/// The binary endpoints of devices, sync and attachments
/// ([`County::device_request`]).
async fn device_endpoint(
    State(st): State<Arc<AppState>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let (token, permit) = device_first(&st, &headers, uri.path()).await?;
    let body = read_body(body, st.max_body).await?;
    blocking(move || Ok(binary(st.county.device_request(&token, uri.path(), &body)?, permit))).await
}

/// An operation whose failures are guesses (signing in, redeeming an
/// enrolment code; [`county::ops::Guesses`]): failures are counted per
/// source (and account), and a source that keeps guessing waits, the right
/// answer too. Failures from elsewhere never lock this source out.
async fn guessed<O: Operation>(
    State(st): State<Arc<AppState>>,
    axum::Extension(from): axum::Extension<crate::guard::Source>,
    path: RawPathParams,
    body: Body,
) -> ApiResult<Response> {
    let req: O::Request = gather(&path, Default::default(), &read_body(body, 16 << 10).await?)?;
    let account = O::account(&req);
    if let Some(secs) = guesses(&st, O::GUESSES, &from.0, account.as_deref(), None).await? {
        return Ok(too_many(secs));
    }
    let answer = run_op::<O>(st.clone(), None, req).await;
    let status = answer.as_ref().map_or_else(|e| e.status, |_| 200);
    guesses(&st, O::GUESSES, &from.0, account.as_deref(), Some(status)).await?;
    answer.map(|a| Json(a).into_response())
}

/// The guessing limits, in the database (on a blocking thread): with no
/// `status`, must this guess wait (seconds)? With the answer's status,
/// counts it.
async fn guesses(
    st: &Arc<AppState>,
    kind: county::ops::Guesses,
    source: &str,
    account: Option<&str>,
    status: Option<u16>,
) -> ApiResult<Option<u64>> {
    let (st, source, account) = (st.clone(), source.to_owned(), account.map(str::to_owned));
    blocking(move || {
        let (limits, county, now) = (&st.limits, &st.county, now_ms());
        Ok(match status {
            None => limits.blocked(county, kind, &source, account.as_deref(), now)?,
            Some(status) => limits.record(county, kind, &source, account.as_deref(), status, now).map(|()| None)?,
        })
    })
    .await
}

/// Too many failed attempts: try again in `secs` seconds.
fn too_many(secs: u64) -> Response {
    let minutes = secs.div_ceil(60);
    let message = Text::new(
        format!("尝试次数过多，请{minutes}分钟后再试"),
        format!("Too many attempts: try again in {minutes} min"),
    );
    let body = Json(ErrorBody { code: auth::TOO_MANY_ATTEMPTS.code, message: &message, issues: &[] });
    (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, secs.to_string())], body).into_response()
}

// ---------------------------------------------------------------- cards

fn cose(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/cose"), (header::CACHE_CONTROL, "no-cache")], bytes).into_response()
}

/// The signed trust list (public: device ids and public keys only).
async fn card_trust(State(st): State<Arc<AppState>>) -> ApiResult<Response> {
    blocking(move || Ok(cose(st.county.signed_trust_list()?))).await
}

/// The signed revocation list (public: card serials only).
async fn card_revocations(State(st): State<Arc<AppState>>) -> ApiResult<Response> {
    blocking(move || Ok(cose(st.county.signed_revocation_list()?))).await
}

/// A photo, for staff who see a record that refers to it.
async fn console_blob(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(hash): Path<String>,
) -> ApiResult<Response> {
    let token = bearer(&headers).ok();
    let jpeg = blocking(move || Ok(st.county.photo(Credentials::bearer(token.as_deref()), &hash)?)).await?;
    Ok(([(header::CONTENT_TYPE, "image/jpeg"), (header::CACHE_CONTROL, "private, max-age=86400")], jpeg)
        .into_response())
}

use ops::exports::{ExportRequest, LedgerFile};

/// A ledger's file as a download: its Chinese name, and an ASCII one for
/// clients that cannot read it.
fn download(file: LedgerFile) -> Response {
    let (name, ascii) = (file.file_name(), file.ascii_name());
    attachment(file.bytes, &name, &ascii, file.mime)
}

/// A file to save: its Chinese name for browsers that read it, an ASCII
/// one for those that do not.
fn attachment(bytes: Vec<u8>, name: &str, ascii: &str, mime: &str) -> Response {
    let encoded: String = name.bytes().map(|b| format!("%{b:02X}")).collect();
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    ([(header::CONTENT_TYPE, mime.to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes).into_response()
}

/// How far an import under way has gone, for its ticket: from memory, or
/// (several servers on PostgreSQL) from the database
/// (`County::intake_progress` says why it needs no sign-in).
async fn intake_progress(
    State(st): State<Arc<AppState>>,
    Query(q): Query<ops::intake::Ticket>,
) -> ApiResult<Json<ops::intake::IntakeStatus>> {
    blocking(move || Ok(Json(st.county.intake_progress(&q.ticket)))).await
}

/// Every record as Automerge documents in an archive sealed with the
/// admin's passphrase (in the body).
async fn console_archive(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(req): Json<ops::archive::ArchiveRequest>,
) -> ApiResult<Response> {
    let token = bearer(&headers).ok();
    let f = blocking(move || Ok(st.county.archive(Credentials::bearer(token.as_deref()), &req)?)).await?;
    let ascii = f.ascii_name();
    Ok(attachment(f.bytes, &f.name, &ascii, "application/octet-stream"))
}

/// One of the four ledgers as XLSX or CSV, logged (at once, for scripts).
async fn console_export(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<ExportRequest>,
) -> ApiResult<Response> {
    let token = bearer(&headers).ok();
    q.check()?;
    let progress = crate::ledgers::Progress::default();
    blocking(move || Ok(download(st.county.export(Credentials::bearer(token.as_deref()), &q, &progress)?))).await
}

/// Starts an export in the background; answers its id at once.
async fn start_export(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<ExportRequest>,
) -> ApiResult<Json<ops::exports::ExportStarted>> {
    let token = bearer(&headers).ok();
    let (state, asked, req) = (st.clone(), token.clone(), q.clone());
    let (id, job) =
        blocking(move || Ok(state.county.start_export(Credentials::bearer(asked.as_deref()), &req)?)).await?;
    tokio::task::spawn_blocking(move || st.county.run_export_job(Credentials::bearer(token.as_deref()), &q, &job));
    Ok(Json(ops::exports::ExportStarted { id }))
}

/// How far a background export has gone.
async fn export_status(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<ops::exports::ExportStatus>> {
    let token = bearer(&headers).ok();
    blocking(move || Ok(Json(st.county.export_status(Credentials::bearer(token.as_deref()), &id)?))).await
}

/// The file of a finished background export (once).
async fn export_file(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let token = bearer(&headers).ok();
    blocking(move || Ok(download(st.county.export_file(Credentials::bearer(token.as_deref()), &id)?))).await
}

/// Another office's entity list (the file is the body) reconciled against
/// the census: a county admin's import, stored whole with its report.
async fn console_reconcile(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<ops::imports::ImportRequest>,
    body: Body,
) -> ApiResult<Json<ops::imports::ImportAnswer>> {
    let token = bearer(&headers).ok();
    let bytes = read_body(body, st.max_body).await?;
    blocking(move || Ok(Json(st.county.import(Credentials::bearer(token.as_deref()), &q, &bytes)?))).await
}

/// A county's own sheet (the file is the body): a dry run of every row,
/// or the import, by a county admin.
async fn console_intake(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<ops::intake::IntakeRequest>,
    body: Body,
) -> ApiResult<Json<county::intake::Report>> {
    let token = bearer(&headers).ok();
    let bytes = read_body(body, st.max_body).await?;
    blocking(move || Ok(Json(st.county.intake(Credentials::bearer(token.as_deref()), &q, &bytes)?))).await
}

/// The county console (sign-in, then the dashboard).
/// One of the server's pages, with its Content-Security-Policy.
fn page(html: &'static str, policy: &'static std::sync::OnceLock<String>) -> Response {
    let csp = policy.get_or_init(|| crate::guard::page_policy(html)).clone();
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (header::CACHE_CONTROL, "no-cache".to_owned()),
            (header::CONTENT_SECURITY_POLICY, csp),
        ],
        html,
    )
        .into_response()
}

async fn console_page() -> Response {
    static POLICY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    page(include_str!("console.html"), &POLICY)
}

/// The census map, the same module the field app draws with.
async fn console_map_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")],
        include_str!("../../../ui/map.js"),
    )
        .into_response()
}

/// The console's chart library (Chart.js, vendored by scripts/setup.sh and
/// embedded by build.rs): no CDN, the console works with no internet.
async fn console_chart_js() -> Response {
    let body: &'static [u8] = include_bytes!(concat!(env!("OUT_DIR"), "/chart.umd.min.js"));
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "max-age=86400")], body)
        .into_response()
}

/// The county's base map, if one is configured (`county::basemap`).
async fn basemap_info(State(st): State<Arc<AppState>>) -> Json<Option<county::basemap::BasemapInfo>> {
    Json(st.county.basemap.as_ref().map(|b| b.info.clone()))
}

/// One tile of the base map (public geography: no sign-in).
async fn basemap_tile(State(st): State<Arc<AppState>>, Path((z, x, y)): Path<(u8, u32, u32)>) -> ApiResult<Response> {
    let tile = blocking(move || Ok(st.county.basemap.as_ref().map(|b| b.tile(z, x, y)).transpose()?.flatten())).await?;
    let Some((bytes, mime)) = tile else { return Ok(ApiError::from(auth::NOT_FOUND).into_response()) };
    Ok(([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "max-age=86400")], bytes).into_response())
}

/// The front ends' shared library (`ui/lib`), as the console loads it.
async fn console_lib(Path(file): Path<String>) -> Response {
    let body = match file.as_str() {
        "format.js" => include_str!("../../../ui/lib/format.js"),
        "codes.js" => include_str!("../../../ui/lib/codes.js"),
        "labels.js" => include_str!("../../../ui/lib/labels.js"),
        "fields.js" => include_str!("../../../ui/lib/fields.js"),
        _ => return ApiError::from(auth::NOT_FOUND).into_response(),
    };
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], body)
        .into_response()
}

/// The public application form (`/apply/<poster>`, what a union's poster's
/// QR code opens) and the applicant's status page (`/apply-status`).
async fn apply_page() -> Response {
    static POLICY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    page(include_str!("apply.html"), &POLICY)
}

/// A merchant's offline card verifier (`/m/<token>`; `/m/`, the installed
/// app's start, goes back to the token it keeps): one page for every token,
/// which reads its own.
async fn merchant_page() -> Response {
    static POLICY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    page(include_str!("merchant/page.html"), &POLICY)
}

/// A static file of the merchant's verifier; `no-cache`, so the service
/// worker finds a new version when there is one.
fn merchant_file(mime: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

/// The service worker that keeps the verifier and the signed lists offline.
async fn merchant_worker() -> Response {
    merchant_file("text/javascript; charset=utf-8", include_str!("merchant/sw.js"))
}

/// The card verifier in JavaScript (the `card` crate's verdicts).
async fn merchant_verifier() -> Response {
    merchant_file("text/javascript; charset=utf-8", include_str!("cardcheck.js"))
}

async fn merchant_manifest() -> Response {
    merchant_file("application/manifest+json", include_str!("merchant/manifest.webmanifest"))
}

/// The manifest of one merchant's verifier: it starts at the merchant's link.
async fn merchant_token_manifest(Path(token): Path<String>) -> Response {
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return ApiError::from(auth::NOT_FOUND).into_response();
    }
    let body = include_str!("merchant/manifest.webmanifest")
        .replace(r#""start_url": "/m/""#, &format!(r#""start_url": "/m/{token}""#));
    ([(header::CONTENT_TYPE, "application/manifest+json"), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

async fn merchant_icon() -> Response {
    merchant_file("image/svg+xml", include_str!("merchant/icon.svg"))
}

/// The public verify page: any phone can open it and scan or paste a card.
async fn verify_page() -> Response {
    static POLICY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    page(include_str!("verify.html"), &POLICY)
}

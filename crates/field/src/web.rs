//! The app served over local HTTP: `ui/`'s files and `POST /api/{command}`
//! with the same [`App::call`] the Tauri shell invokes. It listens on
//! loopback only; it exists so every screen can be driven by a browser in
//! tests and shown on a development machine without the webview.

use crate::App;
use crate::codes;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

#[derive(Clone)]
struct Web {
    app: Arc<App>,
    ui: Arc<PathBuf>,
}

/// The routes: static files from `ui_dir` and the command endpoint.
pub fn router(app: Arc<App>, ui_dir: PathBuf) -> Router {
    let web = Web { app, ui: Arc::new(ui_dir) };
    Router::new()
        // A photo travels as base64: up to 8 MB of JPEG.
        .route("/api/{cmd}", post(command).layer(axum::extract::DefaultBodyLimit::max(12 << 20)))
        .route("/", get(|s: State<Web>| file(s, UrlPath(String::from("index.html")))))
        .route("/{*path}", get(file))
        .with_state(web)
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    app: Arc<App>,
    ui_dir: PathBuf,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(app, ui_dir)).with_graceful_shutdown(shutdown).await
}

/// Whether a request may reach the backend: addressed to this machine by a
/// loopback name (a page whose own name resolves to 127.0.0.1 — DNS
/// rebinding — sends its own name as `Host`), and a JSON request (a
/// cross-site page can send `text/plain` or a form without asking, but a
/// JSON body needs a CORS preflight this server never grants). An `Origin`,
/// when sent, must be this server's.
fn from_this_machine(headers: &axum::http::HeaderMap) -> bool {
    let loopback = |authority: &str| {
        let host = match authority.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !h.is_empty() => h,
            _ => authority,
        };
        matches!(host, "localhost" | "127.0.0.1" | "[::1]")
    };
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let host_ok = text(header::HOST).is_some_and(loopback);
    let json = text(header::CONTENT_TYPE)
        .is_some_and(|t| t.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")));
    let origin_ok = match text(header::ORIGIN) {
        None => true,
        Some(o) => o.strip_prefix("http://").is_some_and(|a| loopback(a) && Some(a) == text(header::HOST)),
    };
    host_ok && json && origin_ok
}

async fn command(
    State(web): State<Web>,
    UrlPath(cmd): UrlPath<String>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    if !from_this_machine(&headers) {
        let err = crate::ApiError::from(codes::FORBIDDEN_ORIGIN);
        return (StatusCode::FORBIDDEN, axum::Json(err)).into_response();
    }
    let args: serde_json::Value = if body.is_empty() {
        serde_json::Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                let err = crate::ApiError::bad_args(&e.to_string());
                return (StatusCode::BAD_REQUEST, axum::Json(err)).into_response();
            }
        }
    };
    let app = web.app.clone();
    let answer = tokio::task::spawn_blocking(move || app.call(&cmd, args)).await;
    match answer {
        Ok(Ok(v)) => axum::Json(v).into_response(),
        Ok(Err(e)) => (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(e)).into_response(),
        Err(_) => {
            let err = crate::ApiError::from(codes::BACKEND_ERROR);
            (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(err)).into_response()
        }
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}

async fn file(State(web): State<Web>, UrlPath(path): UrlPath<String>) -> Response {
    let rel = Path::new(&path);
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let full = web.ui.join(rel);
    let read = tokio::task::spawn_blocking(move || std::fs::read(&full).map(|b| (b, full))).await;
    match read.ok().and_then(Result::ok) {
        Some((bytes, full)) => {
            ([(header::CONTENT_TYPE, content_type(&full)), (header::CACHE_CONTROL, "no-store")], bytes).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

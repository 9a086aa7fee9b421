//! The Sanjian county server (`sanjian serve`): device enrolment, staff
//! accounts and the sync endpoints, over embedded SQLite or PostgreSQL.
//!
//! The HTTP edge of the county layer ([`county`]): routes are an extractor
//! and one call of [`county::County::run`] on a blocking thread; the sync
//! endpoints run [`sync::server`] for the device their token names.

pub mod guard;
mod http;
pub mod tls;

// The county layer and the server's tables live in `county` (no HTTP);
// their old paths stay for the CLI, the tests and the benches.
pub use county::endpoints::SyncCall;
pub use county::{County, Db, ServerKeys, today};
pub use county::{archive, areas, auth, campaign, cards, census, db, duplicates, keys, ledgers, reconcile};
pub use http::{AppState, router};

use std::net::SocketAddr;
use std::sync::Arc;

/// How to run a server.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// The address devices reach the server at (put in enrolment codes).
    pub public_url: String,
    /// HTTPS when set.
    pub tls: Option<tls::Tls>,
}

/// Binds and serves until `shutdown` completes; requests in flight finish.
pub async fn serve(
    config: Config,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    tracing::info!(addr = %listener.local_addr()?, tls = config.tls.is_some(), "serving");
    match &config.tls {
        Some(tls) => serve_tls_on(listener, tls, state, shutdown).await,
        None => serve_on(listener, state, shutdown).await,
    }
}

/// The day's snapshot of the county's figures (the dashboard's trend),
/// taken at start and then every hour (the day's last one stands); stopped
/// when the returned guard is dropped.
fn snapshots_every_hour(state: Arc<AppState>) -> AbortOnDrop {
    // A weak reference: the task must never be the one to drop the state
    // (a PostgreSQL pool dropped on an async worker would block it).
    let state = Arc::downgrade(&state);
    AbortOnDrop(tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every.tick().await;
            let state = state.clone();
            let done = tokio::task::spawn_blocking(move || match state.upgrade() {
                Some(state) => state.snapshot_today(),
                None => Ok(()),
            });
            match done.await {
                Ok(Err(e)) => tracing::warn!(error = %e, "daily snapshot"),
                Err(e) => tracing::warn!(error = %e, "daily snapshot task"),
                Ok(Ok(())) => {}
            }
        }
    }))
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// [`serve_on`] over HTTPS.
pub async fn serve_tls_on(
    listener: tokio::net::TcpListener,
    tls: &tls::Tls,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let _snapshots = snapshots_every_hour(state.clone());
    let app = router(state).into_make_service_with_connect_info::<guard::Peer>();
    axum::serve(tls::TlsListener::new(listener, tls)?, app).with_graceful_shutdown(shutdown).await
}

/// [`serve`] on a listener already bound (tests bind port 0).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let _snapshots = snapshots_every_hour(state.clone());
    let app = router(state).into_make_service_with_connect_info::<guard::Peer>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

//! `sanjian app-web`: the field app's screens and commands over local HTTP,
//! for a browser on this machine (tests, demonstrations, development). The
//! same `field::App` runs inside the Tauri app.

use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct AppWebArgs {
    /// The device's data directory (its encrypted store and lock file).
    #[arg(long)]
    data: PathBuf,
    /// The UI's files (the repository's `ui/`).
    #[arg(long, default_value = "ui")]
    ui: PathBuf,
    /// Loopback address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:8788")]
    listen: SocketAddr,
    /// Seconds between background syncs while online.
    #[arg(long, default_value_t = 300)]
    sync_interval: u64,
    /// Seconds before the first retry while the server is unreachable.
    #[arg(long, default_value_t = 2)]
    retry: u64,
    #[arg(long)]
    pub today: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct AppSetupArgs {
    /// The app's data directory (must not hold a store yet).
    #[arg(long)]
    data: PathBuf,
    /// The PIN that will unlock the app (6–12 digits).
    #[arg(long, env = "SANJIAN_PIN")]
    pin: String,
    /// The enrolment code (`SJE1:…`); without it the store is standalone.
    #[arg(long)]
    enrolment: Option<String>,
}

/// Sets up an app's data directory as its first-run screen would: PIN,
/// then enrolment (demos and scripted installs).
pub fn setup(args: AppSetupArgs) -> Result<ExitCode> {
    let app = field::App::new(field::Config::new(&args.data))?;
    let status = app.call("setup", serde_json::json!({"pin": args.pin, "enrolment": args.enrolment}))?;
    let device = &status["device"];
    eprintln!(
        "已设置 set up: {} {}",
        device["person"].as_str().unwrap_or("-"),
        device["server"].as_str().unwrap_or("(standalone)")
    );
    app.close();
    Ok(ExitCode::SUCCESS)
}

pub fn run(args: AppWebArgs, today: Option<registry::Date>) -> Result<ExitCode> {
    if !args.listen.ip().is_loopback() {
        anyhow::bail!("app-web 只监听本机地址 (app-web listens on loopback only): {}", args.listen);
    }
    anyhow::ensure!(args.ui.join("index.html").exists(), "no index.html in {}", args.ui.display());
    let mut config = field::Config::new(&args.data);
    config.today = today;
    config.sync_interval = Duration::from_secs(args.sync_interval.max(1));
    config.first_retry = Duration::from_secs(args.retry.max(1));
    let app = Arc::new(field::App::new(config)?);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let served = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen).await.context("binding")?;
        let addr = listener.local_addr()?;
        eprintln!("app listening on http://{addr}/");
        let shutdown = async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
            }
        };
        field::web::serve(app.clone(), args.ui.clone(), listener, shutdown).await.context("serving")
    });
    rt.shutdown_timeout(Duration::from_secs(2));
    app.close();
    drop(app);
    served?;
    Ok(ExitCode::SUCCESS)
}

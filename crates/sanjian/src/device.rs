//! A device's side from the command line: enrol a new store with an
//! enrolment code, then sync it. The app does the same through the same
//! `field::device`; this is for demos, scripted checks and county laptops.

use crate::{KeyArgs, read_key, store_error};
use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use store::Store;
use sync::client::Stage;

#[derive(clap::Subcommand, Debug)]
pub enum DeviceCommand {
    /// Creates a device store and enrols it with a one-time code
    /// (`SJE1:...`, as printed by `sanjian enrol`).
    Enrol {
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
        /// The enrolment code's text.
        #[arg(long)]
        text: String,
        /// An extra certificate authority to trust (PEM).
        #[arg(long)]
        ca_cert: Option<PathBuf>,
    },
    /// Syncs the device store with the county server.
    Sync {
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
        #[arg(long)]
        json: bool,
    },
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?)
}

pub fn run(cmd: DeviceCommand) -> Result<ExitCode> {
    match cmd {
        DeviceCommand::Enrol { db, key, text, ca_cert } => {
            if db.exists() {
                bail!("{} 已存在，未改动 (already exists; nothing changed)", db.display());
            }
            let ca = match &ca_cert {
                Some(ca) => Some(std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?),
                None => None,
            };
            let store_key = read_key(&db, &key, true)?;
            let rt = runtime()?;
            let (_, info) = field::device::enrol(&db, &store_key, &text, ca, rt.handle())?;
            eprintln!(
                "已注册 enrolled: {} ({}), device {}",
                info.person.unwrap_or_default(),
                info.role.unwrap_or_default(),
                info.device_id.unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        DeviceCommand::Sync { db, key, json } => {
            let mut store = Store::open(&db, &read_key(&db, &key, false)?).map_err(store_error)?;
            field::device::set_operator(&mut store)?;
            let rt = runtime()?;
            let mut err = std::io::stderr();
            let report = field::device::sync_once(&mut store, rt.handle(), &mut |p| {
                if p.stage == Stage::Done {
                    let _ = writeln!(err);
                } else {
                    let total = if p.docs_total > 0 { format!("/{}", p.docs_total) } else { String::new() };
                    let _ = write!(
                        err,
                        "\r{:<6} {}{total} 条 records, {} KiB ↑ {} KiB ↓   ",
                        p.stage.key(),
                        p.docs_done,
                        p.bytes_sent / 1024,
                        p.bytes_received / 1024
                    );
                }
            })?;
            if json {
                let v = serde_json::json!({
                    "pushed": report.pushed, "quarantined": report.quarantined,
                    "pulled_changed": report.pulled_changed, "pulled_unchanged": report.pulled_unchanged,
                    "removed": report.removed, "local_quarantine": report.local_quarantine,
                    "repaired": report.repaired, "requests": report.requests,
                    "bytes_sent": report.bytes_sent, "bytes_received": report.bytes_received,
                    "outbox": store.outbox_len().map_err(store_error)?,
                });
                println!("{v}");
            } else {
                println!(
                    "同步完成 synced: 上传 pushed {}, 下载 pulled {}, 隔离 quarantined {}, {} requests, {} KiB ↑ {} KiB ↓",
                    report.pushed,
                    report.pulled_changed,
                    report.quarantined,
                    report.requests,
                    report.bytes_sent / 1024,
                    report.bytes_received / 1024
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

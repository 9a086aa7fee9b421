//! A device's side from the command line: enrol a new store with an
//! enrolment code, then sync it. The app does the same through the same
//! `sync` crate; this is for demos, scripted checks and county laptops.

use crate::{KeyArgs, read_key, store_error};
use anyhow::{Context, Result, bail};
use rand::RngCore;
use registry::keys::CountySecret;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use store::{Init, Store};
use sync::SyncError;
use sync::client::{self, Options, Stage};
use sync::enrol::EnrolmentText;
use sync::http::{Endpoint, HttpTransport};

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

const BASE: &str = "device.server";
const PIN: &str = "device.pin";
const CA: &str = "device.ca";
const TOKEN: &str = "device.token";
const SIGNING_KEY: &str = "device.signing_key";
const PERSON: &str = "device.person";

fn sync_error(e: SyncError) -> anyhow::Error {
    let m = e.message();
    anyhow::anyhow!("{} ({}) [{}]", m.zh, m.en, e.code())
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?)
}

pub fn run(cmd: DeviceCommand) -> Result<ExitCode> {
    match cmd {
        DeviceCommand::Enrol { db, key, text, ca_cert } => {
            let enrolment = EnrolmentText::parse(&text).map_err(sync_error)?;
            if db.exists() {
                bail!("{} 已存在，未改动 (already exists; nothing changed)", db.display());
            }
            let mut endpoint = Endpoint::from(&enrolment);
            if let Some(ca) = &ca_cert {
                endpoint.ca_pem = Some(std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?);
            }
            let mut actor = [0u8; 16];
            rand::rng().fill_bytes(&mut actor);
            let mut seed = [0u8; 32];
            rand::rng().fill_bytes(&mut seed);
            let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
            let public = signing.verifying_key().to_bytes();
            let rt = runtime()?;
            let client = endpoint.client(Duration::from_secs(60)).map_err(sync_error)?;
            let creds = rt.block_on(sync::http::redeem(&client, &enrolment, actor, public)).map_err(sync_error)?;
            let secret: [u8; 32] = unhex(&creds.county_secret)
                .and_then(|b| b.try_into().ok())
                .context("the server sent a malformed county secret")?;
            let store_key = read_key(&db, &key, true)?;
            let mut store = Store::create(
                &db,
                &store_key,
                &Init { county_secret: CountySecret::from_bytes(secret), device_id: Some(actor) },
            )
            .map_err(store_error)?;
            store.set_sync_value(BASE, endpoint.base.as_bytes()).map_err(store_error)?;
            if let Some(pin) = endpoint.pin {
                store.set_sync_value(PIN, &pin).map_err(store_error)?;
            }
            if let Some(ca) = &endpoint.ca_pem {
                store.set_sync_value(CA, ca).map_err(store_error)?;
            }
            store.set_sync_value(TOKEN, creds.token.as_bytes()).map_err(store_error)?;
            store.set_sync_value(SIGNING_KEY, &seed).map_err(store_error)?;
            store.set_sync_value(PERSON, creds.person.as_bytes()).map_err(store_error)?;
            if let Some(root) = unhex(&creds.card_root).filter(|r| r.len() == 32) {
                store.set_sync_value(sync::http::card_keys::ROOT, &root).map_err(store_error)?;
            }
            eprintln!("已注册 enrolled: {} ({}), device {}", creds.person, creds.role, creds.device_id);
            Ok(ExitCode::SUCCESS)
        }
        DeviceCommand::Sync { db, key, json } => {
            let mut store = Store::open(&db, &read_key(&db, &key, false)?).map_err(store_error)?;
            let value = |k: &str| store.sync_value(k).map_err(store_error);
            let Some(base) = value(BASE)? else {
                bail!("该设备尚未注册 (this store is not enrolled: `sanjian device enrol`)")
            };
            let mut endpoint = Endpoint::new(&String::from_utf8_lossy(&base));
            endpoint.pin = value(PIN)?.and_then(|p| p.try_into().ok());
            endpoint.ca_pem = value(CA)?;
            let token = String::from_utf8(value(TOKEN)?.unwrap_or_default())?;
            if let Some(person) = value(PERSON)? {
                store.set_operator(&String::from_utf8_lossy(&person));
            }
            let rt = runtime()?;
            let client = endpoint.client(Duration::from_secs(120)).map_err(sync_error)?;
            let mut transport = HttpTransport::new(client.clone(), &endpoint, &token, rt.handle().clone());
            let mut err = std::io::stderr();
            let report = client::sync(&mut store, &mut transport, &Options::default(), &mut |p| {
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
            })
            .map_err(sync_error)?;
            // The county's card lists travel with every sync.
            let lists = rt.block_on(sync::http::fetch_card_lists(&client, &endpoint)).map_err(sync_error)?;
            sync::http::keep_card_lists(&mut store, &lists.0, &lists.1).map_err(sync_error)?;
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

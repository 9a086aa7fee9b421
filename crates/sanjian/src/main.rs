//! `sanjian`: the county side's command line. Glue only: every judgement is
//! made by the `registry`, every record goes through the `store`.
//!
//! Exit codes: 0 success (or "valid"), 1 a checked value is invalid or the
//! command failed, 2 wrong arguments (with usage).

mod appweb;
mod backup;
mod cards;
mod county;
mod device;
mod report;

use anyhow::{Context, Result, bail};
use clap::{CommandFactory, Parser, Subcommand};
use rand::RngCore;
use registry::Date;
use registry::ids::{CreditCode, ResidentId};
use registry::keys::CountySecret;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use store::{Init, Store, StoreKey};

#[derive(Parser, Debug)]
#[command(name = "sanjian", version, about = "三建 Sanjian: county union-building registry")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check a resident ID number (公民身份号码) and print it normalised.
    ValidateId {
        id: String,
        #[arg(long)]
        json: bool,
        /// The date "now" is (YYYY-MM-DD); defaults to today.
        #[arg(long)]
        today: Option<String>,
    },
    /// Check a Unified Social Credit Code (统一社会信用代码).
    ValidateCreditCode {
        code: String,
        #[arg(long)]
        json: bool,
    },
    /// Generate a synthetic county into a new store.
    Generate {
        #[arg(long, default_value_t = 10_000)]
        members: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
        /// Campaign year; defaults to the year of --today.
        #[arg(long)]
        year: Option<i32>,
        #[arg(long)]
        today: Option<String>,
    },
    /// 三个清楚: the private enterprises of a township, community or grid, with
    /// and without a union.
    ThreeClears {
        #[arg(long)]
        db: PathBuf,
        /// The area's name (e.g. 孙寨镇) or record id.
        #[arg(long)]
        area: String,
        #[command(flatten)]
        key: KeyArgs,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        today: Option<String>,
    },
    /// Runs the county server (sync, enrolment, accounts).
    Serve(county::ServeArgs),
    /// Staff accounts on the county server.
    #[command(subcommand)]
    Admin(county::AdminCommand),
    /// Creates a one-time device enrolment code (shown as QR and text).
    Enrol(county::EnrolArgs),
    /// Enrolled devices: list, revoke.
    #[command(subcommand)]
    Devices(county::DevicesCommand),
    /// Loads a store's records (e.g. a generated demo county) into the server.
    Import {
        #[command(flatten)]
        server: county::ServerArgs,
        /// The store to load from.
        #[arg(long)]
        from: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
    },
    /// Copies the county server's data (keys, database, photos) while it runs.
    Backup(backup::BackupArgs),
    /// Puts a backup back into a server's data directory (or PostgreSQL).
    Restore(backup::RestoreArgs),
    /// Issues a membership card on a device, offline, with its card key.
    IssueCard(cards::IssueArgs),
    /// Verifies a card with the lists a device holds (exit 0 valid, 1 not).
    VerifyCard(cards::VerifyArgs),
    /// Revokes a membership card at the county server.
    RevokeCard(county::RevokeCardArgs),
    /// Writes one of the four real-name ledgers (XLSX or CSV) from the server's data.
    Export(county::ExportArgs),
    /// Reconciles another office's entity list (CSV in UTF-8 or GBK, or XLSX) with the census.
    ImportEntities(county::ImportEntitiesArgs),
    /// Draws a valid card: a printable PNG (ID-card size, 300 dpi) or an SVG.
    RenderCard(cards::RenderArgs),
    /// A device's side from the command line: enrol, sync.
    #[command(subcommand)]
    Device(device::DeviceCommand),
    /// The field app's screens over local HTTP, for a browser on this machine.
    AppWeb(appweb::AppWebArgs),
    /// Sets up an app's data directory (PIN and enrolment), as its first run would.
    AppSetup(appweb::AppSetupArgs),
    /// Report progress against the year's targets.
    Stats {
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        key: KeyArgs,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        year: Option<i32>,
        #[arg(long)]
        today: Option<String>,
    },
}

#[derive(clap::Args, Debug)]
struct KeyArgs {
    /// File holding the store's key as 64 hex characters. Created (mode 0600)
    /// by `generate` when missing. Defaults to DB.key. The SANJIAN_KEY
    /// environment variable, if set, takes precedence.
    #[arg(long)]
    key_file: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let _ = e.print();
            // Every argument error ends with the usage, as the README promises.
            let usage = Cli::command().render_usage();
            if !e.to_string().contains("Usage:") {
                eprintln!("\n{usage}");
            }
            return ExitCode::from(2);
        }
    };
    match run(cli.command) {
        Ok(code) => code,
        // A reader that stops early (`sanjian stats | head`) is not an error.
        Err(e) if e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("错误 error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// "Today" in Beijing time (UTC+8), the civil time of every county the
/// software serves, unless `--today` says otherwise.
fn today(arg: Option<&str>) -> Result<Date> {
    match arg {
        Some(s) => parse_date(s),
        None => Ok(store::clock::china_today()),
    }
}

fn parse_date(s: &str) -> Result<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &fmt).with_context(|| format!("not a date (YYYY-MM-DD): {s}"))
}

fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::ValidateId { id, json, today: t } => validate_id(&id, json, today(t.as_deref())?),
        Command::ValidateCreditCode { code, json } => validate_credit_code(&code, json),
        Command::Generate { members, seed, db, key, year, today: t } => {
            let today = today(t.as_deref())?;
            generate(members, seed, &db, &key, year.unwrap_or(today.year()), today)
        }
        Command::ThreeClears { db, area, key, json, today: t } => {
            let today = today(t.as_deref())?;
            let store = Store::open(&db, &read_key(&db, &key, false)?).map_err(store_error)?;
            let found = store.find_area(&area).map_err(store_error)?;
            let (id, name) = match found.as_slice() {
                [one] => (one.id.clone(), one.name.clone()),
                [] if registry::keys::is_record_id(&area) => (registry::model::RecordId(area.clone()), area.clone()),
                [] => bail!("没有名为“{area}”的区域 no area named {area}"),
                _ => bail!("有多个名为“{area}”的区域，请用区域编号 several areas are named {area}; give its id"),
            };
            let clears = store.three_clears(&id, today).map_err(store_error)?;
            let mut out = std::io::stdout().lock();
            if json {
                serde_json::to_writer_pretty(&mut out, &clears)?;
                writeln!(out)?;
            } else {
                report::three_clears(&mut out, &name, &clears)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => county::serve(args),
        Command::Admin(cmd) => county::admin(cmd),
        Command::Enrol(args) => county::enrol(args),
        Command::Devices(cmd) => county::devices(cmd),
        Command::Import { server, from, key } => {
            let store = Store::open(&from, &read_key(&from, &key, false)?).map_err(store_error)?;
            county::import(server, &store)
        }
        Command::Device(cmd) => device::run(cmd),
        Command::Backup(args) => backup::backup(args),
        Command::Restore(args) => backup::restore(args),
        Command::AppSetup(args) => appweb::setup(args),
        Command::AppWeb(args) => {
            let t = args.today.as_deref().map(parse_date).transpose()?;
            appweb::run(args, t)
        }
        Command::IssueCard(args) => {
            let t = today(args.today.as_deref())?;
            cards::issue(args, t)
        }
        Command::RevokeCard(args) => county::revoke_card(args),
        Command::Export(args) => county::export(args),
        Command::ImportEntities(args) => county::import_entities(args),
        Command::RenderCard(args) => {
            let t = today(args.today.as_deref())?;
            cards::render(args, t)
        }
        Command::VerifyCard(args) => {
            let t = today(args.today.as_deref())?;
            cards::verify(args, t)
        }
        Command::Stats { db, key, json, year, today: t } => {
            let today = today(t.as_deref())?;
            let store = Store::open(&db, &read_key(&db, &key, false)?).map_err(store_error)?;
            let config = store.campaign(year.unwrap_or(today.year())).map_err(store_error)?;
            let report = store.progress(&config, today).map_err(store_error)?;
            let mut out = std::io::stdout().lock();
            if json {
                serde_json::to_writer_pretty(&mut out, &report)?;
                writeln!(out)?;
            } else {
                report::print(&mut out, &report)?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn store_error(e: store::StoreError) -> anyhow::Error {
    let m = e.message();
    anyhow::anyhow!("{} ({}) [{}]", m.zh, m.en, e.code())
}

fn validate_id(input: &str, json: bool, today: Date) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match ResidentId::parse(input, today) {
        Ok(id) => {
            if json {
                let v = serde_json::json!({
                    "valid": true,
                    "id": id.as_str(),
                    "birth_date": id.birth_date().to_string(),
                    "sex": id.sex().key(),
                    "region": id.region_code(),
                });
                writeln!(out, "{v}")?;
            } else {
                writeln!(out, "{}", id.as_str())?;
                writeln!(out, "出生日期 birth date: {}", id.birth_date())?;
                writeln!(out, "性别 sex: {} {}", id.sex().zh(), id.sex().en())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => invalid(&mut out, &e.issue("resident_id"), json),
    }
}

/// Prints why a value is invalid and returns exit code 1.
fn invalid(out: &mut impl Write, issue: &registry::Issue, json: bool) -> Result<ExitCode> {
    if json {
        let v = serde_json::json!({ "valid": false, "code": issue.code, "message": issue.message });
        writeln!(out, "{v}")?;
    } else {
        writeln!(out, "无效 invalid [{}]: {}\n{}", issue.code, issue.message.zh, issue.message.en)?;
    }
    Ok(ExitCode::from(1))
}

fn validate_credit_code(input: &str, json: bool) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    let issue = match CreditCode::parse(input) {
        Ok(code) => match code.checksum_warning("credit_code") {
            None => {
                if json {
                    writeln!(out, "{}", serde_json::json!({ "valid": true, "code": code.as_str() }))?;
                } else {
                    writeln!(out, "{}", code.as_str())?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            Some(warning) => warning,
        },
        Err(e) => e.issue("credit_code"),
    };
    invalid(&mut out, &issue, json)
}

fn key_path(db: &Path, args: &KeyArgs) -> PathBuf {
    args.key_file.clone().unwrap_or_else(|| {
        let mut p = db.as_os_str().to_owned();
        p.push(".key");
        PathBuf::from(p)
    })
}

fn parse_hex_key(text: &str) -> Result<StoreKey> {
    let text = text.trim();
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("a store key is 64 hex characters");
    }
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16)?;
    }
    Ok(StoreKey::from_bytes(key))
}

/// The store key from SANJIAN_KEY or the key file; `create` makes a new
/// random key file when neither exists.
fn read_key(db: &Path, args: &KeyArgs, create: bool) -> Result<StoreKey> {
    if let Ok(hex) = std::env::var("SANJIAN_KEY") {
        return parse_hex_key(&hex).context("SANJIAN_KEY");
    }
    let path = key_path(db, args);
    match std::fs::read_to_string(&path) {
        Ok(text) => parse_hex_key(&text).with_context(|| format!("key file {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            let mut key = [0u8; 32];
            rand::rng().fill_bytes(&mut key);
            let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
            write_private(&path, &hex)?;
            eprintln!("新密钥 new key written to {}", path.display());
            Ok(StoreKey::from_bytes(key))
        }
        Err(e) => Err(e).with_context(|| format!("reading key file {}", path.display())),
    }
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::fs::OpenOptions;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut f = options.open(path).with_context(|| format!("creating {}", path.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

fn generate(members: u64, seed: u64, db: &Path, key: &KeyArgs, year: i32, today: Date) -> Result<ExitCode> {
    let key = read_key(db, key, true)?;
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let mut store = Store::create(db, &key, &Init::new(CountySecret::from_bytes(secret))).map_err(store_error)?;
    store.set_operator("synthetic county generator");
    let config = synth::SynthConfig { seed, members, today, year };
    let secret = store.county_secret().clone();
    let started = std::time::Instant::now();
    // Insert in batches: one transaction per batch keeps memory flat.
    const BATCH: usize = 5_000;
    let mut batch = Vec::with_capacity(BATCH);
    let mut written = 0usize;
    let mut failure = None;
    let summary = synth::generate(&config, &secret, |id, record| {
        if failure.is_some() {
            return;
        }
        batch.push((id, record));
        if batch.len() == BATCH {
            match store.insert_many(batch.drain(..), today) {
                Ok(n) => {
                    written += n;
                    eprint!("\r已写入 written {written}");
                }
                Err(e) => failure = Some(e),
            }
        }
    });
    if let Some(e) = failure {
        return Err(store_error(e));
    }
    written += store.insert_many(batch.drain(..), today).map_err(store_error)?;
    store.checkpoint().map_err(store_error)?;
    eprintln!();
    println!(
        "已生成 generated {written} records in {:.1}s: {} townships, {} communities, {} grids, {} entities, {} unions, {} cadres, {} members, {} transfers, {} hardship cases",
        started.elapsed().as_secs_f64(),
        summary.townships,
        summary.communities,
        summary.grids,
        summary.entities,
        summary.unions,
        summary.cadres,
        summary.members,
        summary.transfers,
        summary.hardship_cases,
    );
    Ok(ExitCode::SUCCESS)
}

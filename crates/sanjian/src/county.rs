//! The county server's commands: `serve`, `admin`, `enrol`, `devices`,
//! `import`. Settings come from flags, then `SANJIAN_*` environment
//! variables, then the config file, then defaults.

use anyhow::{Context, Result, bail};
use county::{Actor, County, CountyError, ops};
use registry::message::Coded;
use registry::model::{Record, RecordId, RecordKind};
use serde::Deserialize;
use server::auth::{self, Role};
use server::{AppState, Db, ServerKeys};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use store::Store;
use sync::SyncError;

/// Where the server's data is: shared by every county command.
#[derive(clap::Args, Debug, Clone)]
pub struct ServerArgs {
    /// A TOML config file (keys as the long flags, with underscores).
    #[arg(long, env = "SANJIAN_CONFIG")]
    pub config: Option<PathBuf>,
    /// The data directory: key file, SQLite database, certificates.
    /// Default ./sanjian-data.
    #[arg(long, env = "SANJIAN_DATA")]
    pub data: Option<PathBuf>,
    /// A PostgreSQL URL (postgres://user@host/db); without it the server
    /// keeps an SQLite database in the data directory.
    #[arg(long, env = "SANJIAN_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// The address to listen on. Default 127.0.0.1:8080.
    #[arg(long, env = "SANJIAN_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// The address devices reach the server at, put in enrolment codes.
    /// Default http(s)://<listen address>.
    #[arg(long, env = "SANJIAN_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// HTTPS certificate chain (PEM); needs --tls-key.
    #[arg(long, env = "SANJIAN_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// HTTPS private key (PEM).
    #[arg(long, env = "SANJIAN_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// HTTPS with a self-signed certificate made (once) in the data
    /// directory, for trials; devices pin it through the enrolment code.
    #[arg(long, env = "SANJIAN_SELF_SIGNED")]
    pub self_signed: bool,
    /// Log filter (tracing syntax), e.g. `info` or `server=debug`.
    #[arg(long, env = "SANJIAN_LOG")]
    pub log: Option<String>,
    /// Logs as JSON lines.
    #[arg(long, env = "SANJIAN_LOG_JSON")]
    pub log_json: bool,
    /// PostgreSQL connections.
    #[arg(long, env = "SANJIAN_DB_POOL")]
    pub db_pool: Option<usize>,
    /// The county's own base map under the census map: an MBTiles file
    /// (raster tiles), served to the console with no internet.
    #[arg(long, env = "SANJIAN_BASEMAP")]
    pub basemap: Option<PathBuf>,
    /// Keep photos on an S3-compatible object store at this URL (e.g.
    /// http://127.0.0.1:9000) instead of the data directory.
    #[arg(long, env = "SANJIAN_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// The bucket (created if missing). Default `sanjian`.
    #[arg(long, env = "SANJIAN_S3_BUCKET")]
    pub s3_bucket: Option<String>,
    /// A prefix for every key, e.g. `county-341621/`.
    #[arg(long, env = "SANJIAN_S3_PREFIX")]
    pub s3_prefix: Option<String>,
    /// The region requests are signed for. Default `us-east-1`.
    #[arg(long, env = "SANJIAN_S3_REGION")]
    pub s3_region: Option<String>,
    #[arg(long, env = "SANJIAN_S3_ACCESS_KEY", hide_env_values = true)]
    pub s3_access_key: Option<String>,
    #[arg(long, env = "SANJIAN_S3_SECRET_KEY", hide_env_values = true)]
    pub s3_secret_key: Option<String>,
    /// A reverse proxy in front of the server (repeatable): requests from
    /// it are keyed, for the sign-in and enrolment limits, by the address
    /// it appends to X-Forwarded-For. Without it the peer is the client.
    #[arg(long = "trusted-proxy", env = "SANJIAN_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// The config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data: Option<PathBuf>,
    database_url: Option<String>,
    listen: Option<SocketAddr>,
    public_url: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    self_signed: Option<bool>,
    log: Option<String>,
    log_json: Option<bool>,
    db_pool: Option<usize>,
    s3_endpoint: Option<String>,
    s3_bucket: Option<String>,
    s3_prefix: Option<String>,
    s3_region: Option<String>,
    s3_access_key: Option<String>,
    s3_secret_key: Option<String>,
    #[serde(default)]
    trusted_proxies: Vec<std::net::IpAddr>,
}

fn file_config(path: Option<&Path>) -> Result<FileConfig> {
    let Some(path) = path else { return Ok(FileConfig::default()) };
    let text = std::fs::read_to_string(path).with_context(|| format!("reading config {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("配置文件有误 config file {}", path.display()))
}

/// The settings every county command needs, resolved.
struct Place {
    data: PathBuf,
    database_url: Option<String>,
}

impl ServerArgs {
    fn resolve(&self, file: &FileConfig) -> Place {
        Place {
            data: self.data.clone().or_else(|| file.data.clone()).unwrap_or_else(|| PathBuf::from("sanjian-data")),
            database_url: self.database_url.clone().or_else(|| file.database_url.clone()),
        }
    }
}

impl Place {
    /// Opens the key file and the database, creating both on first use.
    fn open(&self, pool: usize, county_secret: Option<[u8; 32]>) -> Result<(ServerKeys, Db)> {
        std::fs::create_dir_all(&self.data).with_context(|| format!("creating {}", self.data.display()))?;
        // The data directory is the county's: no other account on the
        // machine may list or read it.
        server::db::owner_only(&self.data, 0o700).with_context(|| format!("securing {}", self.data.display()))?;
        let key_path = self.data.join("server.keys");
        let keys = match county_secret {
            Some(secret) if !key_path.exists() => {
                let keys = ServerKeys { county_secret: secret, ..ServerKeys::generate() };
                keys.save(&key_path)?;
                keys
            }
            _ => ServerKeys::load_or_create(&key_path, true)
                .with_context(|| format!("server key file {}", key_path.display()))?,
        };
        let db = match &self.database_url {
            Some(url) => Db::postgres(url, pool).map_err(sync_error)?,
            None => Db::sqlite(&self.data.join("server.db")).map_err(sync_error)?,
        };
        Ok((keys, db))
    }
}

pub(crate) fn sync_error(e: SyncError) -> anyhow::Error {
    let m = e.message();
    anyhow::anyhow!("{} ({}) [{}]: {e}", m.zh, m.en, e.code())
}

pub fn serve(args: ServeArgs) -> Result<ExitCode> {
    let file = file_config(args.server.config.as_deref())?;
    let place = args.server.resolve(&file);
    let log = args.log.clone().or(file.log.clone()).unwrap_or_else(|| "info".into());
    init_logs(&log, args.log_json || file.log_json.unwrap_or(false))?;
    let listen = args.listen.or(file.listen).unwrap_or_else(|| "127.0.0.1:8080".parse().expect("valid address"));
    let cert = args.tls_cert.clone().or(file.tls_cert.clone());
    let key = args.tls_key.clone().or(file.tls_key.clone());
    let self_signed = args.self_signed || file.self_signed.unwrap_or(false);
    let pool = args.db_pool.or(file.db_pool).unwrap_or(8);

    let (keys, db) = place.open(pool, None)?;
    let tls = match (cert, key, self_signed) {
        (Some(cert), Some(key), false) => Some(server::tls::load(&cert, &key)?),
        (None, None, true) => {
            let mut names = vec!["localhost".to_owned(), listen.ip().to_string()];
            if let Some(host) = args.public_url.as_deref().or(file.public_url.as_deref()).and_then(host_of) {
                names.push(host);
            }
            let (cert, key) = server::tls::self_signed(&place.data.join("tls"), &names)?;
            Some(server::tls::load(&cert, &key)?)
        }
        (None, None, false) => None,
        (_, _, true) => bail!("--self-signed 与 --tls-cert/--tls-key 不能同时使用 (use one or the other)"),
        _ => bail!("--tls-cert 与 --tls-key 须同时给出 (give both --tls-cert and --tls-key)"),
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let listener =
        runtime.block_on(tokio::net::TcpListener::bind(listen)).with_context(|| format!("listening on {listen}"))?;
    let addr = listener.local_addr()?;
    let public_url = args
        .public_url
        .clone()
        .or(file.public_url.clone())
        .unwrap_or_else(|| format!("{scheme}://{addr}"))
        .trim_end_matches('/')
        .to_owned();
    if addr.ip().is_unspecified() && args.public_url.is_none() && file.public_url.is_none() {
        eprintln!("提示：请用 --public-url 给出设备可访问的地址 (hint: give --public-url, the address devices reach)");
    }

    let first_admin = first_run_admin(&db, &place.data)?;
    // Remembered for `sanjian enrol`, which runs beside the server.
    let pin = if self_signed { tls.as_ref().map(|t| t.fingerprint) } else { None };
    db.tx(|db| {
        auth::set_setting(db, "public_url", public_url.as_bytes())?;
        auth::set_setting(db, "pin", pin.as_ref().map_or(&[][..], |p| &p[..]))
    })
    .map_err(sync_error)?;
    let sealer = sync::server::Sealer::new(&keys.data_key);
    let pick = |flag: &Option<String>, file: &Option<String>| flag.clone().or_else(|| file.clone());
    let blobs: Arc<dyn sync::blobs::BlobStore> = match pick(&args.s3_endpoint, &file.s3_endpoint) {
        Some(endpoint) => {
            let config = sync::s3::S3Config {
                endpoint,
                bucket: pick(&args.s3_bucket, &file.s3_bucket).unwrap_or_else(|| "sanjian".into()),
                prefix: pick(&args.s3_prefix, &file.s3_prefix).unwrap_or_default(),
                region: pick(&args.s3_region, &file.s3_region).unwrap_or_else(|| "us-east-1".into()),
                access_key: pick(&args.s3_access_key, &file.s3_access_key)
                    .context("--s3-access-key is needed with --s3-endpoint")?,
                secret_key: pick(&args.s3_secret_key, &file.s3_secret_key)
                    .context("--s3-secret-key is needed with --s3-endpoint")?,
            };
            let s3 = sync::s3::S3Blobs::new(config, sealer, runtime.handle().clone()).map_err(sync_error)?;
            // On a blocking thread: the store signs and sends on the runtime.
            let s3 = std::thread::scope(|t| t.spawn(|| s3.ensure_bucket().map(|()| s3)).join())
                .map_err(|_| anyhow::anyhow!("object store check panicked"))?
                .map_err(sync_error)
                .context("对象存储不可用 (the object store cannot be reached)")?;
            Arc::new(s3)
        }
        None => Arc::new(sync::blobs::DiskBlobs::new(place.data.join("blobs"), sealer).map_err(sync_error)?),
    };
    let mut state = AppState::new(db, keys, public_url.clone());
    state.pin = pin;
    state.https = tls.is_some();
    state.blobs = Some(blobs);
    if let Some(path) = &args.basemap {
        state.county.basemap = Some(county::basemap::Basemap::open(path).map_err(sync_error)?);
    }
    state.trusted_proxies =
        if args.trusted_proxies.is_empty() { file.trusted_proxies.clone() } else { args.trusted_proxies.clone() };
    // The console's facts for documents stored before they existed.
    state.ensure_facts().map_err(sync_error)?;
    let state = Arc::new(state);
    let shutdown = shutdown_signal(&runtime)?;
    // One line on stdout for scripts: where the server is.
    println!("listening {scheme}://{addr} public {public_url}");
    if let Some(t) = &tls {
        let pin: String = t.fingerprint.iter().map(|b| format!("{b:02x}")).collect();
        eprintln!("证书指纹 certificate SHA-256: {pin}");
    }
    if let Some(path) = first_admin {
        eprintln!(
            "首次运行：已创建县管理员账号 admin，初始密码见 {}（仅本人可读），请尽快修改。\n\
             First run: county admin `admin` created; its initial password is in {} (readable by you only). \
             Change it with `sanjian admin passwd`.",
            path.display(),
            path.display()
        );
    }
    // The last reference to the state is dropped here, after the runtime
    // stopped: a PostgreSQL pool must not be dropped on an async thread.
    let serving = state.clone();
    runtime.block_on(async move {
        tracing::info!(%addr, tls = tls.is_some(), "serving");
        match &tls {
            Some(t) => server::serve_tls_on(listener, t, serving, shutdown).await,
            None => server::serve_on(listener, serving, shutdown).await,
        }
    })?;
    drop(runtime);
    drop(state);
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let host = rest.split(['/', '#']).next()?;
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    Some(host.trim_matches(['[', ']']).to_owned())
}

/// Completes on ctrl-c or SIGTERM; requests in flight then finish. The
/// handlers are installed here, before the server says it is listening, so
/// a signal sent at once is never missed.
fn shutdown_signal(
    runtime: &tokio::runtime::Runtime,
) -> Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (mut term, mut int) = runtime.block_on(async {
            Ok::<_, std::io::Error>((signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?))
        })?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            tracing::info!("shutting down");
        })
    }
    #[cfg(not(unix))]
    {
        let _ = runtime;
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down");
        })
    }
}

fn init_logs(filter: &str, json: bool) -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).with_context(|| format!("log filter {filter}"))?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(false);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
    Ok(())
}

/// On the first run (no staff account yet) creates the county admin with a
/// random password written to a file only its owner can read: never to the
/// log.
fn first_run_admin(db: &Db, data: &Path) -> Result<Option<PathBuf>> {
    if db.tx(|db| auth::user_count(db)).map_err(sync_error)? > 0 {
        return Ok(None);
    }
    let password = random_password();
    let path = data.join("initial-admin-password");
    let _ = std::fs::remove_file(&path);
    crate::write_private(&path, &format!("{password}\n"))?;
    db.tx(|db| auth::create_user(db, "admin", Role::CountyAdmin, &password)).map_err(sync_error)?;
    Ok(Some(path))
}

use auth::random_password;

fn read_password(prompt_stdin: bool) -> Result<String> {
    if !prompt_stdin {
        return Ok(random_password());
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.chars().count() < 8 {
        bail!("密码至少 8 个字符 (a password has at least 8 characters)");
    }
    Ok(password)
}

#[derive(clap::Subcommand, Debug)]
pub enum AdminCommand {
    /// Creates a staff account. The password is read from standard input
    /// with --password-stdin, else a random one is printed.
    Create {
        #[command(flatten)]
        server: ServerArgs,
        #[arg(long)]
        username: String,
        /// county_admin, township_staff or surveyor.
        #[arg(long, default_value = "county_admin")]
        role: String,
        /// The townships (name or id, repeatable) township staff work for:
        /// the console shows and exports only these.
        #[arg(long)]
        township: Vec<String>,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Sets a staff account's password (and signs it out everywhere).
    Passwd {
        #[command(flatten)]
        server: ServerArgs,
        #[arg(long)]
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

pub fn admin(cmd: AdminCommand) -> Result<ExitCode> {
    match cmd {
        AdminCommand::Create { server, username, role, township, password_stdin } => {
            let role = Role::from_key(&role)
                .with_context(|| format!("没有这个角色 no role {role} (county_admin, township_staff, surveyor)"))?;
            let (keys, db, _) = open(&server)?;
            if role != Role::CountyAdmin && township.is_empty() {
                bail!("乡镇工作人员须用 --township 指定乡镇 (give the staff member's townships with --township)");
            }
            let townships = resolve_areas(&db, &keys, &township, registry::model::AreaLevel::Township)?;
            let password = read_password(password_stdin)?;
            let created = db
                .tx(|db| {
                    if auth::user_exists(db, &username)? {
                        return Ok(false);
                    }
                    auth::create_user(db, &username, role, &password)?;
                    auth::set_user_townships(db, &username, &townships)?;
                    Ok(true)
                })
                .map_err(sync_error)?;
            if !created {
                bail!("账号 {username} 已存在 (the account {username} exists; use `admin passwd`)");
            }
            if !password_stdin {
                println!("{password}");
                eprintln!("已创建 created {username} ({}); 以上为其密码 the password is above", role.key());
            }
            Ok(ExitCode::SUCCESS)
        }
        AdminCommand::Passwd { server, username, password_stdin } => {
            let db = open(&server)?.1;
            let password = read_password(password_stdin)?;
            if !db.tx(|db| auth::set_password(db, &username, &password)).map_err(sync_error)? {
                bail!("没有账号 {username} (no account {username})");
            }
            if !password_stdin {
                println!("{password}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The server's keys, database and data directory (for backups).
pub(crate) fn open_server(args: &ServerArgs) -> Result<(ServerKeys, Db, PathBuf)> {
    open(args)
}

/// The data directory and the PostgreSQL URL the settings name (the
/// directory may not exist yet).
pub(crate) fn data_and_url(args: &ServerArgs) -> Result<(PathBuf, Option<String>)> {
    let file = file_config(args.config.as_deref())?;
    let place = args.resolve(&file);
    Ok((place.data, place.database_url))
}

fn open(args: &ServerArgs) -> Result<(ServerKeys, Db, PathBuf)> {
    let file = file_config(args.config.as_deref())?;
    let place = args.resolve(&file);
    let (keys, db) = place.open(2, None)?;
    Ok((keys, db, place.data))
}

/// The county layer over the server's data, acting as the machine's county
/// admin (whoever can read the data directory administers the county).
fn as_admin(keys: ServerKeys, db: Db, public_url: String) -> Result<(County, Actor)> {
    let county = County::new(db, keys, public_url);
    let admin = county.cli_actor();
    Ok((county, admin))
}

fn county_error(e: CountyError) -> anyhow::Error {
    let m = e.message();
    anyhow::anyhow!("{} ({}) [{}]", m.zh, m.en, e.code())
}

#[derive(clap::Args, Debug)]
pub struct EnrolArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// The person the device is for.
    #[arg(long)]
    pub person: String,
    /// surveyor, township_staff or county_admin.
    #[arg(long, default_value = "surveyor")]
    pub role: String,
    /// A township by name or record id (repeatable).
    #[arg(long)]
    pub township: Vec<String>,
    /// A grid by name or record id (repeatable).
    #[arg(long)]
    pub grid: Vec<String>,
    /// The whole county.
    #[arg(long)]
    pub all: bool,
    /// Days the code stays valid (1 to 30).
    #[arg(long, default_value_t = 7)]
    pub days: i64,
    /// The server address devices use (default: the config's public_url,
    /// else the one the server last started with).
    #[arg(long, env = "SANJIAN_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The certificate to pin in the code (default: the self-signed one
    /// the server last started with, if any).
    #[arg(long)]
    pub pin_from: Option<PathBuf>,
    /// Print the text only, no QR code.
    #[arg(long)]
    pub text_only: bool,
}

/// Resolves area names (or ids) among the server's areas of a level.
fn resolve_areas(
    db: &Db,
    state_keys: &ServerKeys,
    names: &[String],
    level: registry::model::AreaLevel,
) -> Result<Vec<RecordId>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let sealer = sync::server::Sealer::new(&state_keys.data_key);
    let ctx = sync::server::Ctx { sealer: &sealer, today: server::today(), now_ms: 0 };
    let mut areas: Vec<(RecordId, String)> = Vec::new();
    let mut after: Option<RecordId> = None;
    loop {
        let page = db
            .tx(|db| sync::server::records_of_kind(db, &ctx, RecordKind::Area, after.as_ref(), 500))
            .map_err(sync_error)?;
        let Some((last, _)) = page.last() else { break };
        after = Some(last.clone());
        for (id, r) in page {
            if let Record::Area(a) = r
                && a.level == level
            {
                areas.push((id, a.name));
            }
        }
    }
    names
        .iter()
        .map(|n| {
            let found: Vec<_> = areas.iter().filter(|(id, name)| name == n || id.as_str() == n).collect();
            match found.as_slice() {
                [one] => Ok(one.0.clone()),
                [] => bail!("没有名为“{n}”的{} (no such area: {n})", level.zh()),
                _ => bail!("有多个名为“{n}”的区域，请用编号 (several areas are named {n}; give its id)"),
            }
        })
        .collect()
}

pub fn enrol(args: EnrolArgs) -> Result<ExitCode> {
    let file = file_config(args.server.config.as_deref())?;
    let (keys, db, _) = open(&args.server)?;
    let role = Role::from_key(&args.role)
        .with_context(|| format!("没有这个角色 no role {} (county_admin, township_staff, surveyor)", args.role))?;
    if !args.all && args.township.is_empty() && args.grid.is_empty() {
        bail!("请给出乡镇 --township、网格 --grid 或 --all (give --township, --grid or --all)");
    }
    let townships = resolve_areas(&db, &keys, &args.township, registry::model::AreaLevel::Township)?;
    let grids = resolve_areas(&db, &keys, &args.grid, registry::model::AreaLevel::Grid)?;
    let grant = auth::Grant { person: args.person.clone(), role, all: args.all, townships, grids };
    let (saved_url, saved_pin) =
        db.tx(|db| Ok((auth::setting(db, "public_url")?, auth::setting(db, "pin")?))).map_err(sync_error)?;
    let saved_url = saved_url.map(|u| String::from_utf8_lossy(&u).into_owned());
    let Some(base) = args.public_url.clone().or(file.public_url.clone()).or(saved_url) else {
        bail!("请给出服务器地址 --public-url (give the address devices reach the server at, --public-url)");
    };
    let pin = match &args.pin_from {
        Some(cert) => Some(server::tls::load_fingerprint(cert)?),
        None => saved_pin.and_then(|p| p.try_into().ok()),
    };
    let (mut county, admin) = as_admin(keys, db, base.trim_end_matches('/').to_owned())?;
    county.pin = pin;
    let days = args.days.clamp(1, 30);
    let made = county
        .run_as::<ops::devices::CreateEnrolment>(&admin, ops::devices::NewEnrolment { grant, days })
        .map_err(county_error)?;
    let text = made.text;
    if !args.text_only {
        let qr = qrcode::QrCode::new(text.as_bytes()).context("QR code")?;
        let art = qr.render::<qrcode::render::unicode::Dense1x2>().quiet_zone(true).build();
        eprintln!("{art}");
        eprintln!("{}（{}）设备注册码，{days} 天内有效，只能使用一次：", args.person, role.key());
        eprintln!("Enrolment code for {} ({}), valid {days} days, single use:", args.person, role.key());
    }
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// Revokes a membership card at the county (lost, stolen, withdrawn): it is
/// in the next revocation list every device and verifier fetches.
#[derive(clap::Args, Debug)]
pub struct RevokeCardArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// The card number (UC + 16 hex) or its serial (16 hex).
    pub card: String,
    /// Why, e.g. 遗失.
    #[arg(long)]
    pub reason: String,
}

pub fn revoke_card(args: RevokeCardArgs) -> Result<ExitCode> {
    let (keys, db, _) = open(&args.server)?;
    let (county, admin) = as_admin(keys, db, String::new())?;
    let req = ops::cards::RevokeCardRequest { serial: args.card.trim().to_owned(), reason: args.reason.clone() };
    let done = county.run_as::<ops::cards::RevokeCard>(&admin, req).map_err(county_error)?;
    let serial: [u8; 8] = auth::unhex(args.card.trim().trim_start_matches("UC"))
        .and_then(|b| b.try_into().ok())
        .with_context(|| format!("不是会员卡号 (not a card number: {})", args.card))?;
    if done.already {
        eprintln!("此前已注销 already revoked {}", sync::server::card_number(&serial));
    } else {
        eprintln!("已注销 revoked {}", sync::server::card_number(&serial));
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Subcommand, Debug)]
pub enum DevicesCommand {
    /// Lists enrolled devices.
    List {
        #[command(flatten)]
        server: ServerArgs,
        #[arg(long)]
        json: bool,
    },
    /// Revokes a device: refused at its next request; what it pushes goes
    /// to the quarantine.
    Revoke {
        #[command(flatten)]
        server: ServerArgs,
        id: String,
    },
}

pub fn devices(cmd: DevicesCommand) -> Result<ExitCode> {
    match cmd {
        DevicesCommand::List { server, json } => {
            let (keys, db, _) = open(&server)?;
            let (county, admin) = as_admin(keys, db, String::new())?;
            let list = county.run_as::<ops::devices::ListDevices>(&admin, ops::Nothing {}).map_err(county_error)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                println!("{:<34} {:<10} {:<15} {:<8} scope", "id", "person", "role", "state");
                for d in &list {
                    let scope = if d.all {
                        "全县 county".to_owned()
                    } else {
                        format!("{} townships, {} grids", d.townships.len(), d.grids.len())
                    };
                    let state = if d.revoked { "revoked" } else { "active" };
                    println!("{:<34} {:<10} {:<15} {:<8} {scope}", d.id, d.person, d.role.key(), state);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        DevicesCommand::Revoke { server, id } => {
            let (keys, db, _) = open(&server)?;
            let (county, admin) = as_admin(keys, db, String::new())?;
            county
                .run_as::<ops::devices::RevokeDevice>(&admin, ops::devices::DeviceId { id: id.clone() })
                .map_err(county_error)?;
            eprintln!("已停用 revoked {id}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Loads every record of a store (e.g. a generated demo county) into the
/// server. A new server takes the store's county secret; an existing one
/// must already share it.
pub fn import(server: ServerArgs, store: &Store) -> Result<ExitCode> {
    let file = file_config(server.config.as_deref())?;
    let place = server.resolve(&file);
    let secret = *store.county_secret().as_bytes();
    let (keys, db) = place.open(2, Some(secret))?;
    if keys.county_secret != secret {
        bail!(
            "该数据库属于另一个县（县密钥不同），未导入任何记录 \
             (the store belongs to another county: its county secret differs; nothing imported)"
        );
    }
    let sealer = sync::server::Sealer::new(&keys.data_key);
    let ctx = sync::server::Ctx { sealer: &sealer, today: server::today(), now_ms: server::db::now_ms() };
    let ids = store.doc_ids().map_err(crate::store_error)?;
    let started = std::time::Instant::now();
    for (n, chunk) in ids.chunks(500).enumerate() {
        let docs: Vec<_> = chunk
            .iter()
            .map(|id| Ok((id.clone(), store.export_doc(id)?)))
            .collect::<Result<_, store::StoreError>>()
            .map_err(crate::store_error)?;
        db.tx(|db| {
            for (id, bytes) in &docs {
                let mut doc = store::doc::load(bytes).map_err(|e| SyncError::Wire(e.to_string()))?;
                sync::server::import(db, &ctx, id, &mut doc)?;
            }
            Ok(())
        })
        .map_err(sync_error)?;
        eprint!("\r已导入 imported {}", (n * 500 + chunk.len()).min(ids.len()));
    }
    eprintln!("\r已导入 imported {} records in {:.1} s", ids.len(), started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// organisation, member, cadre or transfer.
    #[arg(long)]
    pub ledger: String,
    /// xlsx, csv (UTF-8 with BOM) or html (the printable page, A4 landscape).
    #[arg(long, default_value = "xlsx")]
    pub format: String,
    /// One township (name or id); the whole county by default.
    #[arg(long)]
    pub township: Option<String>,
    /// Unmasked ID numbers and phones.
    #[arg(long)]
    pub full_ids: bool,
    #[arg(long)]
    pub out: PathBuf,
}

/// Writes one of the four ledgers from the server's data, and logs it.
pub fn export(args: ExportArgs) -> Result<ExitCode> {
    let ledger = server::ledgers::Ledger::from_key(&args.ledger).with_context(|| {
        format!("没有这种登记表 (no such ledger: {}; organisation, member, cadre, transfer)", args.ledger)
    })?;
    if !matches!(args.format.as_str(), "xlsx" | "csv" | "html") {
        bail!("格式只能是 xlsx、csv 或 html（打印版） (the format is xlsx, csv or html, the printable page)");
    }
    if args.out.exists() {
        bail!("{} 已存在，未改动 (already exists; nothing written)", args.out.display());
    }
    let (keys, db, _) = open(&args.server)?;
    let township = match &args.township {
        Some(t) => resolve_areas(&db, &keys, std::slice::from_ref(t), registry::model::AreaLevel::Township)?.pop(),
        None => None,
    };
    let (county, admin) = as_admin(keys, db, String::new())?;
    let req = ops::exports::ExportRequest {
        ledger: ledger.key().to_owned(),
        format: Some(args.format.clone()),
        township: township.map(|t| t.0),
        full_ids: args.full_ids,
    };
    let file = county.export_as(&admin, &req, &server::ledgers::Progress::default()).map_err(county_error)?;
    let (bytes, rows) = (file.bytes, file.rows);
    std::fs::write(&args.out, bytes).with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!("{}：{} 行 rows → {}", ledger.title(), rows, args.out.display());
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args, Debug)]
pub struct ImportEntitiesArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// The other office's list: CSV (UTF-8 or GBK) or XLSX.
    pub file: PathBuf,
    /// Whose list it is, e.g. 统计局, 工商, 税务.
    #[arg(long)]
    pub source: String,
    /// Column numbers (from 1); guessed from the headers when not given.
    #[arg(long)]
    pub name_col: Option<usize>,
    #[arg(long)]
    pub code_col: Option<usize>,
    #[arg(long)]
    pub workers_col: Option<usize>,
    #[arg(long)]
    pub address_col: Option<usize>,
    /// Print the whole report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Reconciles another office's entity list with the census and stores it
/// with its report (all or nothing).
pub fn import_entities(args: ImportEntitiesArgs) -> Result<ExitCode> {
    let bytes = std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let col = |c: Option<usize>| c.map(|c| c.saturating_sub(1));
    let req = ops::imports::ImportRequest {
        source: args.source.clone(),
        preview: false,
        name: col(args.name_col),
        credit_code: col(args.code_col),
        workers: col(args.workers_col),
        address: col(args.address_col),
    };
    let (keys, db, _) = open(&args.server)?;
    let (county, admin) = as_admin(keys, db, String::new())?;
    let report = match county.import_as(&admin, &req, &bytes) {
        Ok(ops::imports::ImportAnswer::Stored { report, .. }) => report,
        Ok(ops::imports::ImportAnswer::Preview { headers, .. }) => {
            bail!("找不到单位名称列，请用 --name-col 指定 (no name column found; give --name-col): {headers:?}")
        }
        Err(e) if e.code() == "IMPORT_MAPPING" => {
            let headers = server::reconcile::read_table(&bytes).map(|t| t.headers).unwrap_or_default();
            bail!("找不到单位名称列，请用 --name-col 指定 (no name column found; give --name-col): {headers:?}")
        }
        Err(e) => return Err(county_error(e)),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}：{} 行 rows ({})", report.source, report.rows, report.encoding);
        println!("  按信用代码匹配 matched by credit code: {}", report.matched_by_code);
        println!("  按名称匹配 matched by name: {}", report.matched_by_name);
        println!("  普查未登记 not in the census (to visit): {}", report.not_in_census.len());
        for t in report.not_in_census.iter().take(20) {
            println!("    第{}行 line {}: {} {}", t.line, t.line, t.name, t.credit_code.as_deref().unwrap_or(""));
        }
        println!("  对方名单没有 not in their list: {}", report.not_in_theirs.len());
        println!("  职工人数不一致 worker counts differ: {}", report.worker_mismatches.len());
        for m in report.worker_mismatches.iter().take(20) {
            println!("    {}: 我方 ours {} / 对方 theirs {}", m.name, m.ours, m.theirs);
        }
        println!("  未采用的行 rows left out: {}", report.problems.len());
        for p in &report.problems {
            println!("    第{}行 line {}: {} {}", p.line, p.line, p.code, p.detail);
        }
        println!("  校验位错误 wrong check characters: {}", report.bad_checksums.len());
    }
    Ok(ExitCode::SUCCESS)
}

//! `sanjian backup` and `sanjian restore`: a county server's data copied
//! while it runs, and put back. A backup is a directory: the key file
//! (without it nothing in the backup can be read — keep the backup as safe
//! as the server), the database (an SQLite snapshot by `VACUUM INTO`, or a
//! `pg_dump` of PostgreSQL), the sealed photos when they are on disk, the
//! TLS certificate (devices pin a self-signed one) and a manifest.
//!
//! After a restore, devices catch up by themselves: their repair check
//! finds what the restored server lacks and pushes it again; devices
//! enrolled after the backup was taken must enrol again.

use crate::county::ServerArgs;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// The directory to create for the backup (must not exist).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// A directory made by `sanjian backup`.
    #[arg(long)]
    pub from: PathBuf,
    /// Replace a server's data already there (the old files are kept aside
    /// as `*.before-restore`).
    #[arg(long)]
    pub force: bool,
}

fn copy_tree(from: &Path, to: &Path) -> Result<u64> {
    let mut n = 0;
    if !from.exists() {
        return Ok(0);
    }
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            n += copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(unix)]
fn owner_only(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

#[cfg(not(unix))]
fn owner_only(_: &Path) -> Result<()> {
    Ok(())
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd.output().with_context(|| format!("{what}: is PostgreSQL's client installed?"))?;
    if !out.status.success() {
        bail!("{what} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

pub fn backup(args: BackupArgs) -> Result<ExitCode> {
    let (data, url) = crate::county::data_and_url(&args.server)?;
    if !data.join("server.keys").exists() {
        bail!("{} 没有服务器数据 (no server data there)", data.display());
    }
    let (_, db, _) = crate::county::open_server(&args.server)?;
    if args.out.exists() {
        bail!("{} 已存在，未改动 (already exists; nothing written)", args.out.display());
    }
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    server::db::owner_only(&args.out, 0o700)?;
    let keys_file = args.out.join("server.keys");
    std::fs::copy(data.join("server.keys"), &keys_file).context("copying the key file")?;
    owner_only(&keys_file)?;
    let (kind, docs) = match &url {
        None => {
            db.snapshot_sqlite(&args.out.join("server.db")).map_err(crate::county::sync_error)?;
            owner_only(&args.out.join("server.db"))?;
            ("sqlite", db.tx(|db| sync::server::stats(db)).map_err(crate::county::sync_error)?.0)
        }
        Some(url) => {
            let docs = db.tx(|db| sync::server::stats(db)).map_err(crate::county::sync_error)?.0;
            run(
                Command::new("pg_dump")
                    .args(["--format=custom", "--no-owner", "--file"])
                    .arg(args.out.join("server.pgdump"))
                    .arg(url),
                "pg_dump",
            )?;
            ("postgres", docs)
        }
    };
    let blobs = copy_tree(&data.join("blobs"), &args.out.join("blobs")).context("copying the photos")?;
    copy_tree(&data.join("tls"), &args.out.join("tls")).context("copying the certificate")?;
    let manifest = serde_json::json!({
        "format": 1, "at_ms": server::db::now_ms(), "database": kind, "documents": docs, "blob_files": blobs,
    });
    std::fs::write(args.out.join("manifest.json"), serde_json::to_vec_pretty(&manifest)?)?;
    println!("备份完成 (backed up): {docs} documents, {blobs} photo files → {}", args.out.display());
    Ok(ExitCode::SUCCESS)
}

pub fn restore(args: RestoreArgs) -> Result<ExitCode> {
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(args.from.join("manifest.json"))
            .with_context(|| format!("{} 不是备份目录 (not a backup)", args.from.display()))?,
    )?;
    let (data, url) = crate::county::data_and_url(&args.server)?;
    std::fs::create_dir_all(&data)?;
    let kind = manifest["database"].as_str().unwrap_or_default();
    let taken = [data.join("server.keys"), data.join("server.db")];
    if taken.iter().any(|p| p.exists()) {
        if !args.force {
            bail!(
                "{} 已有服务器数据，未改动；确需覆盖请加 --force (the data directory is in use; nothing changed; add --force to replace it)",
                data.display()
            );
        }
        for p in taken.iter().chain([&data.join("blobs")]).filter(|p| p.exists()) {
            let aside = PathBuf::from(format!("{}.before-restore", p.display()));
            let _ = std::fs::remove_dir_all(&aside);
            let _ = std::fs::remove_file(&aside);
            std::fs::rename(p, &aside)?;
        }
        for wal in ["server.db-wal", "server.db-shm"] {
            let _ = std::fs::remove_file(data.join(wal));
        }
    }
    std::fs::copy(args.from.join("server.keys"), data.join("server.keys"))?;
    owner_only(&data.join("server.keys"))?;
    match (kind, &url) {
        ("sqlite", None) => {
            std::fs::copy(args.from.join("server.db"), data.join("server.db"))?;
        }
        ("postgres", Some(url)) => {
            run(
                Command::new("pg_restore")
                    .args(["--clean", "--if-exists", "--no-owner", "--dbname"])
                    .arg(url)
                    .arg(args.from.join("server.pgdump")),
                "pg_restore",
            )?;
        }
        ("sqlite", Some(_)) => {
            bail!("这是SQLite备份，不能恢复到PostgreSQL (an SQLite backup cannot be restored into PostgreSQL)")
        }
        _ => bail!("这是PostgreSQL备份，请给出 --database-url (a PostgreSQL backup: give --database-url)"),
    }
    let blobs = copy_tree(&args.from.join("blobs"), &data.join("blobs"))?;
    copy_tree(&args.from.join("tls"), &data.join("tls"))?;
    println!(
        "恢复完成 (restored): {} documents, {blobs} photo files; devices catch up at their next sync",
        manifest["documents"]
    );
    Ok(ExitCode::SUCCESS)
}

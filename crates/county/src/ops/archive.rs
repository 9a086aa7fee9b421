//! Everything out: a county admin takes the county's records away as
//! Automerge documents in one archive sealed with a passphrase of their
//! choosing ([`crate::archive`]); logged like an export.

use super::County;
use crate::actor::{Actor, Allowed, Credentials};
use crate::auth;
use crate::error::CountyError;
use serde::Deserialize;

/// The passphrase that seals the archive (in the body, never in a URL).
#[derive(Debug, Deserialize, ts_rs::TS)]
pub struct ArchiveRequest {
    pub passphrase: String,
}

/// The archive, with the name to save it under.
#[derive(Debug)]
pub struct ArchiveFile {
    pub bytes: Vec<u8>,
    /// `<county>-档案-<date>.sjarchive`
    pub name: String,
    pub records: usize,
}

impl ArchiveFile {
    pub fn ascii_name(&self) -> String {
        format!("sanjian-archive-{}.sjarchive", crate::today())
    }
}

impl County {
    /// The county's records as an archive for whoever `creds` name (a
    /// county admin).
    pub fn archive(&self, creds: Credentials<'_>, req: &ArchiveRequest) -> Result<ArchiveFile, CountyError> {
        self.enter(Allowed::CountyAdmin, creds, |cx| write(cx, req))
    }

    /// [`County::archive`] as an actor already named (the CLI's).
    pub fn archive_as(&self, actor: &Actor, req: &ArchiveRequest) -> Result<ArchiveFile, CountyError> {
        self.enter_as(Allowed::CountyAdmin, actor, |cx| write(cx, req))
    }
}

fn write(cx: &mut super::Cx<'_>, req: &ArchiveRequest) -> Result<ArchiveFile, CountyError> {
    if req.passphrase.chars().count() < crate::archive::MIN_PASSPHRASE {
        return Err(auth::ARCHIVE_PASSPHRASE.into());
    }
    let county = match crate::areas::county(cx.db, &cx.ctx)? {
        Some(id) => match sync::server::record(cx.db, &cx.ctx, &id)? {
            Some(registry::model::Record::Area(a)) => a.name,
            _ => String::new(),
        },
        None => String::new(),
    };
    let by = cx.actor.name().to_owned();
    let archive = crate::archive::export(cx.db, &cx.ctx, &county, &req.passphrase, &by)?;
    cx.db.execute(
        "INSERT INTO exports (at, who, ledger, format, filter, rows, full_ids) VALUES ($1, $2, 'archive', 'sjarchive', '', $3, 1)",
        &[crate::db::now_ms().into(), by.as_str().into(), (archive.records as i64).into()],
    )?;
    Ok(ArchiveFile {
        bytes: archive.bytes,
        name: format!("{county}-档案-{}.sjarchive", crate::today()),
        records: archive.records,
    })
}

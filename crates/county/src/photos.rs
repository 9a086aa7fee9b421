//! Photos at the county: who may see one. A photo is shown to staff who
//! see a record that refers to it (`f_blob_refs`, kept by the facts).

use crate::actor::{Allowed, Credentials};
use crate::error::CountyError;
use crate::ops::County;
use sync::SyncError;
use sync::server::Sql;

/// The townships of the records that refer to a photo.
pub fn townships_of(db: &mut dyn Sql, hash: &str) -> Result<Vec<String>, SyncError> {
    let rows = db.query("SELECT township FROM f_blob_refs WHERE hash = $1", &[hash.into()])?;
    Ok(rows.iter().filter_map(|r| r[0].text().map(str::to_owned)).collect())
}

impl County {
    /// May whoever `creds` name see this photo? `PHOTO_NOT_FOUND` when no
    /// record they see refers to it (an unknown photo looks the same).
    pub fn photo_seen(&self, creds: Credentials<'_>, hash: &str) -> Result<(), CountyError> {
        self.enter(Allowed::Staff, creds, |cx| {
            let seen = townships_of(cx.db, hash)?.iter().any(|t| cx.actor.townships(Some(t)).is_some());
            if seen { Ok(()) } else { Err(crate::auth::PHOTO_NOT_FOUND.into()) }
        })
    }
}

//! A county's own base map under the census map, with no internet: an
//! MBTiles file the county provides (`sanjian serve --basemap FILE`) —
//! SQLite holding raster tiles by zoom, column and row (rows in the TMS
//! scheme, counted from the south), with a `metadata` table naming its
//! zoom range and format. The server reads tiles from it, read-only; with
//! none configured the map draws outlines and points alone, as before.
//!
//! A base map is public geography, not the county's records: its tiles are
//! served without a sign-in, like the card verify page.

use serde::Serialize;
use std::sync::Mutex;
use sync::SyncError;

/// What the console needs to lay tiles under its map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct BasemapInfo {
    pub name: String,
    pub minzoom: u8,
    pub maxzoom: u8,
    /// `png` or `jpg`.
    pub format: String,
}

/// An open MBTiles file.
#[derive(Debug)]
pub struct Basemap {
    conn: Mutex<rusqlite::Connection>,
    pub info: BasemapInfo,
}

/// The deepest zoom served (a street's width is a few pixels at 19).
pub const MAX_ZOOM: u8 = 22;

fn err(path: &std::path::Path, e: impl std::fmt::Display) -> SyncError {
    SyncError::Server(format!("the base map {} cannot be read as MBTiles: {e}", path.display()))
}

impl Basemap {
    /// Opens `path` read-only and reads its zoom range and format (from
    /// its `metadata`, or from its tiles when the metadata is silent).
    pub fn open(path: &std::path::Path) -> Result<Basemap, SyncError> {
        let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| err(path, e))?;
        let meta = |key: &str| -> Option<String> {
            conn.query_row("SELECT value FROM metadata WHERE name = ?1", [key], |r| r.get::<_, String>(0)).ok()
        };
        let (lo, hi): (i64, i64) = conn
            .query_row("SELECT min(zoom_level), max(zoom_level) FROM tiles", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| err(path, e))?;
        let zoom = |v: Option<String>, d: i64| {
            v.and_then(|v| v.parse::<i64>().ok()).unwrap_or(d).clamp(0, i64::from(MAX_ZOOM)) as u8
        };
        let info = BasemapInfo {
            name: meta("name").unwrap_or_default(),
            minzoom: zoom(meta("minzoom"), lo),
            maxzoom: zoom(meta("maxzoom"), hi),
            format: meta("format").unwrap_or_else(|| "png".into()),
        };
        Ok(Basemap { conn: Mutex::new(conn), info })
    }

    /// The tile at zoom `z`, column `x`, row `y` counted from the north (as
    /// web maps count them), and its content type; `None` where the file
    /// has none.
    pub fn tile(&self, z: u8, x: u32, y: u32) -> Result<Option<(Vec<u8>, &'static str)>, SyncError> {
        if z > MAX_ZOOM || u64::from(x) >= 1u64 << z || u64::from(y) >= 1u64 << z {
            return Ok(None);
        }
        let row = (1u64 << z) - 1 - u64::from(y);
        let conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let data: Option<Vec<u8>> = conn
            .query_row(
                "SELECT tile_data FROM tiles WHERE zoom_level = ?1 AND tile_column = ?2 AND tile_row = ?3",
                rusqlite::params![i64::from(z), i64::from(x), row as i64],
                |r| r.get(0),
            )
            .ok();
        Ok(data.map(|d| {
            let mime = if d.starts_with(&[0x89, b'P', b'N', b'G']) {
                "image/png"
            } else if d.starts_with(&[0xFF, 0xD8]) {
                "image/jpeg"
            } else {
                "application/octet-stream"
            };
            (d, mime)
        }))
    }
}

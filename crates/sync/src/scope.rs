//! Who may see and write what: a device's scope is the townships and grids
//! it was enrolled for (or the whole county). Every device reads the area
//! tree (names of townships and grids are no secret and every form needs
//! them); only county-wide devices write it.

use registry::model::{RecordId, RecordKind, Region};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope {
    /// Increases whenever the scope changes; a changed scope restarts the feed.
    pub version: u64,
    /// The whole county.
    pub all: bool,
    pub townships: Vec<RecordId>,
    pub grids: Vec<RecordId>,
}

impl Scope {
    pub fn county(version: u64) -> Scope {
        Scope { version, all: true, townships: Vec::new(), grids: Vec::new() }
    }

    fn covers(&self, region: &Region) -> bool {
        self.all
            || region.township.as_ref().is_some_and(|t| self.townships.contains(t))
            || region.grid.as_ref().is_some_and(|g| self.grids.contains(g))
    }

    /// May a device with this scope see a record of `kind` in `region`?
    pub fn can_read(&self, kind: RecordKind, region: &Region) -> bool {
        kind == RecordKind::Area || self.covers(region)
    }

    /// May it write one?
    pub fn can_write(&self, kind: RecordKind, region: &Region) -> bool {
        if kind == RecordKind::Area {
            return self.all;
        }
        self.covers(region)
    }
}

//! The area sheet: a row per township, community or grid, each made
//! (or its kind, code, leader and surveyors updated) under its parent.

use super::*;

impl World {
    pub(super) fn area_row(&mut self, row: &Row<'_>, line: usize) -> Planned {
        let Some(county) = self.county.clone() else {
            return Err(No::code(
                auth::LEDGER_NO_COUNTY,
                "请先设立本县（名称），再导入乡镇和网格".into(),
                "Name the county first, then import its townships and grids".into(),
            ));
        };
        let town = row.required("township")?;
        let (community, grid) = (row.text("community"), row.text("grid"));
        self.once(format!("area:{}/{}/{}", name_key(&town), name_key(&community), name_key(&grid)), line)?;
        let kind = row.label("township_kind", TownshipKind::ALL, |v| [v.zh(), v.key(), v.en()])?;
        let code = row.text("code");
        let mut out = Vec::new();
        let blank = |name: &str, level| crate::areas::bare(name.to_owned(), level);
        let own_row = community.is_empty() && grid.is_empty();
        // The township.
        let township = match self.township(&town) {
            Some(t) => {
                let old = self.areas[&t].clone();
                let mut new = old.clone();
                if let Some(k) = kind {
                    new.township_kind = Some(k);
                }
                if own_row && !code.is_empty() {
                    new.code = code.clone();
                }
                out.extend(self.upsert(t.clone(), Some(&old), Record::Area(new.clone()), area_of)?);
                self.areas.insert(t.clone(), new);
                t
            }
            None => {
                let mut a = blank(&town, AreaLevel::Township);
                a.township_kind = kind.or_else(|| self.township_kinds.get(&name_key(&town)).copied());
                a.parent = Some(county.clone());
                if own_row {
                    a.code = code.clone();
                }
                let id = store::random_id();
                out.extend(self.upsert(id.clone(), None, Record::Area(a.clone()), area_of)?);
                self.add_area(id.clone(), a);
                id
            }
        };
        // Its community.
        let mut parent = township.clone();
        if !community.is_empty() {
            parent = match self.children.get(&(township.clone(), name_key(&community))).cloned() {
                Some(c) => {
                    if grid.is_empty() && !code.is_empty() {
                        let old = self.areas[&c].clone();
                        let mut new = old.clone();
                        new.code = code.clone();
                        out.extend(self.upsert(c.clone(), Some(&old), Record::Area(new.clone()), area_of)?);
                        self.areas.insert(c.clone(), new);
                    }
                    c
                }
                None => {
                    let mut a = blank(&community, AreaLevel::Community);
                    a.parent = Some(township.clone());
                    a.township = Some(township.clone());
                    if grid.is_empty() {
                        a.code = code.clone();
                    }
                    let id = store::random_id();
                    out.extend(self.upsert(id.clone(), None, Record::Area(a.clone()), area_of)?);
                    self.add_area(id.clone(), a);
                    id
                }
            };
        }
        // Its grid, with its leader and surveyors.
        if !grid.is_empty() {
            let leader = row.get("grid_leader").map(normalise);
            let members = row.get("grid_members").map(list);
            match self.children.get(&(parent.clone(), name_key(&grid))).cloned() {
                Some(g) => {
                    let old = self.areas[&g].clone();
                    let mut new = old.clone();
                    if let Some(l) = leader {
                        new.grid_leader = Some(l).filter(|l| !l.is_empty());
                    }
                    if let Some(m) = members {
                        new.grid_members = m;
                    }
                    if !code.is_empty() {
                        new.code = code.clone();
                    }
                    out.extend(self.upsert(g.clone(), Some(&old), Record::Area(new.clone()), area_of)?);
                    self.areas.insert(g, new);
                }
                None => {
                    let mut a = blank(&grid, AreaLevel::Grid);
                    a.parent = Some(parent.clone());
                    a.township = Some(township.clone());
                    a.grid_leader = leader.filter(|l| !l.is_empty());
                    a.grid_members = members.unwrap_or_default();
                    a.code = code;
                    let id = store::random_id();
                    out.extend(self.upsert(id.clone(), None, Record::Area(a.clone()), area_of)?);
                    self.add_area(id, a);
                }
            }
        }
        Ok(out)
    }
}

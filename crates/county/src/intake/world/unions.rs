//! The organisation ledger (基层工会组织实名制登记表): a union by its name,
//! and the entities it covers pointed at it.

use super::*;

impl World {
    pub(super) fn union_row(&mut self, row: &Row<'_>, line: usize, notes: &mut Vec<Message>) -> Planned {
        let name = row.required("name")?;
        let (place, place_notes) = self.place(row)?;
        notes.extend(place_notes);
        self.once(format!("union:{}", name_key(&name)), line)?;
        let kind = row.label("kind", UnionKind::ALL, |v| [v.zh(), v.key(), v.en()])?;
        let id = self
            .union_named(&name, Some(&place.township))
            .ok()
            .or_else(|| self.planned_unions.get(&name_key(&name)).cloned())
            .unwrap_or_else(store::random_id);
        let old = self.unions.get(&id).cloned();
        let Some(kind) = kind.or(old.as_ref().map(|u| u.kind)) else {
            return Err(row.missing("kind"));
        };
        let mut u = old.clone().unwrap_or_else(|| GrassrootsUnion {
            name: name.clone(),
            kind,
            sector: None,
            place: place.clone(),
            parent_union: None,
            founded_on: None,
            approved_on: None,
            approved_by: None,
            approval_doc: String::new(),
            workers: 0,
            women_workers: 0,
            has_women_committee: false,
            has_audit_committee: false,
            liuyou: LiuYou::default(),
            bayou: BaYou::default(),
            credit_code: None,
            credit_code_override: None,
            dissolved_on: None,
            notes: String::new(),
            photos: Default::default(),
        });
        u.name = name;
        u.kind = kind;
        u.place = place.clone();
        if row.get("sector").is_some() {
            u.sector = row.label("sector", Sector::ALL, |v| [v.zh(), v.key(), v.en()])?;
        }
        if row.get("parent_union").is_some() {
            let p = row.text("parent_union");
            u.parent_union = if p.is_empty() {
                None
            } else {
                match self.union_named(&p, Some(&place.township)) {
                    Ok(pid) if pid != id => Some(pid),
                    _ => {
                        notes.push(Message::new(
                            format!("上级工会“{p}”未找到，未填"),
                            format!("Parent union {p} not found; left empty"),
                        ));
                        u.parent_union
                    }
                }
            };
        }
        for (field, slot) in [
            ("founded_on", &mut u.founded_on),
            ("approved_on", &mut u.approved_on),
            ("dissolved_on", &mut u.dissolved_on),
        ] {
            if row.get(field).is_some() {
                *slot = row.date(field)?;
            }
        }
        if row.get("approved_by").is_some() {
            u.approved_by = row.label("approved_by", ApprovalBody::ALL, |v| [v.zh(), v.key(), v.en()])?;
        }
        if row.get("approval_doc").is_some() {
            u.approval_doc = row.text("approval_doc");
        }
        if let Some(n) = row.count("workers")? {
            u.workers = n;
        }
        if let Some(n) = row.count("women_workers")? {
            u.women_workers = n;
        }
        if let Some(b) = row.yes_no("has_women_committee")? {
            u.has_women_committee = b;
        }
        if let Some(b) = row.yes_no("has_audit_committee")? {
            u.has_audit_committee = b;
        }
        // 六有 and 八有 as the ledger says them, complete or not: "是" has
        // every item; "否" keeps the items a complete record had, less
        // one, no — it clears a complete record (the ledger says it is not)
        // and keeps an incomplete one's items.
        if let Some(b) = row.yes_no("liuyou")? {
            let complete = registry::rules::liuyou(&u.liuyou).complete();
            if b {
                u.liuyou = LiuYou {
                    premises: true,
                    elected_chair: true,
                    organisation: true,
                    activities: true,
                    rules: true,
                    results: true,
                };
            } else if complete {
                u.liuyou = LiuYou::default();
            }
        }
        if let Some(b) = row.yes_no("bayou")? {
            let complete = registry::rules::bayou(&u.bayou).complete();
            if b {
                u.bayou = BaYou {
                    sign_board: true,
                    approval: true,
                    seal: true,
                    funds: true,
                    premises: true,
                    rules: true,
                    activities: true,
                    archives: true,
                };
            } else if complete {
                u.bayou = BaYou::default();
            }
        }
        let mut out = self.upsert(id.clone(), old.as_ref(), Record::Union(u.clone()), |r| match r {
            Record::Union(u) => Some(u),
            _ => None,
        })?;
        self.add_union(id.clone(), u);
        // The units it covers, named: each entity found is pointed at it.
        if let Some(covered) = row.get("covered") {
            for unit in list(covered) {
                match self.entity_named(&unit, Some(&place.township)) {
                    Some(eid) => {
                        let old = self.entities[&eid].clone();
                        if old.union_id.as_ref() != Some(&id) {
                            let mut e = old.clone();
                            e.union_id = Some(id.clone());
                            out.extend(self.upsert(
                                eid.clone(),
                                Some(&old),
                                Record::Entity(e.clone()),
                                |r| match r {
                                    Record::Entity(e) => Some(e),
                                    _ => None,
                                },
                            )?);
                            self.entities.insert(eid, e);
                        }
                    }
                    None => notes.push(Message::new(
                        format!("覆盖单位“{unit}”不在普查中，未关联"),
                        format!("Covered unit {unit} is not in the census; not linked"),
                    )),
                }
            }
        }
        Ok(out)
    }
}

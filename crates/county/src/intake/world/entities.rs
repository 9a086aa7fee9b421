//! The entity census (法人单位名录): an entity by its credit code, or by
//! its name within its township when it has none.

use super::*;

impl World {
    pub(super) fn entity_row(&mut self, row: &Row<'_>, line: usize, notes: &mut Vec<Message>) -> Planned {
        let name = row.required("name")?;
        let credit = match row.code("credit_code")? {
            None => None,
            Some(c) => {
                let code = registry::ids::CreditCode::parse(&c).map_err(|e| No::issue(&e.issue("credit_code")))?;
                // A code whose check character fails is kept only with
                // the reason someone recorded for keeping it.
                if let Some(w) = code.checksum_warning("credit_code")
                    && row.text("credit_code_override").is_empty()
                {
                    return Err(No::issue(&w));
                }
                Some(code.as_str().to_owned())
            }
        };
        let (place, place_notes) = self.place(row)?;
        notes.extend(place_notes);
        let key = match &credit {
            Some(c) => format!("entity:{c}"),
            None => format!("entity-name:{}/{}", place.township, entity_name_key(&name)),
        };
        self.once(key, line)?;
        let id = match &credit {
            Some(c) => {
                self.entity_codes.get(c).cloned().unwrap_or_else(|| self.secret.record_id(&format!("entity:{c}")))
            }
            None => match self.entity_named(&name, Some(&place.township)) {
                Some(id) if self.entities[&id].place.township == place.township => id,
                _ => store::random_id(),
            },
        };
        let old = self.entities.get(&id).cloned();
        let mut e = old.clone().unwrap_or_else(|| LegalEntity {
            name: name.clone(),
            credit_code: None,
            credit_code_override: None,
            unit_kind: UnitKind::Other,
            ownership: Ownership::Other,
            industry: Industry::Other,
            address: String::new(),
            place: place.clone(),
            workers: 0,
            women_workers: 0,
            union_id: None,
            owner_name: None,
            contact_phone: None,
            closed: false,
            notes: String::new(),
            photos: Default::default(),
        });
        e.name = name;
        e.credit_code = credit.or(e.credit_code);
        if row.get("credit_code_override").is_some() {
            e.credit_code_override = Some(row.text("credit_code_override")).filter(|s| !s.is_empty());
        }
        e.place = place.clone();
        if let Some(k) = row.label("unit_kind", UnitKind::ALL, |v| [v.zh(), v.key(), v.en()])? {
            e.unit_kind = k;
        }
        if let Some(k) = row.label("ownership", Ownership::ALL, |v| [v.zh(), v.key(), v.en()])? {
            e.ownership = k;
        }
        if let Some(k) = row.label("industry", Industry::ALL, |v| [v.zh(), v.key(), v.en()])? {
            e.industry = k;
        }
        if row.get("address").is_some() {
            e.address = row.text("address");
        }
        if let Some(n) = row.count("workers")? {
            e.workers = n;
        }
        if let Some(n) = row.count("women_workers")? {
            e.women_workers = n;
        }
        if row.get("owner_name").is_some() {
            e.owner_name = Some(row.text("owner_name")).filter(|s| !s.is_empty());
        }
        if row.get("contact_phone").is_some() {
            e.contact_phone = row.code("contact_phone")?;
        }
        if let Some(t) = row.get("closed") {
            let t = cells::text(t);
            e.closed = if t.contains("注销") || t.contains("迁出") || t.contains("吊销") {
                true
            } else if ["在业", "存续", "正常", "开业"].iter().any(|w| t.contains(w)) {
                false
            } else {
                row.yes_no("closed")?.unwrap_or(false)
            };
        }
        if row.get("union").is_some() {
            let u = row.text("union");
            e.union_id = if u.is_empty() {
                None
            } else {
                match self.union_named(&u, Some(&place.township)) {
                    Ok(id) => Some(id),
                    Err(_) => {
                        notes.push(Message::new(
                            format!("覆盖工会“{u}”尚未登记，暂未填；导入基层工会组织登记表时按其“覆盖单位”列关联"),
                            format!(
                                "Covering union {u} is not registered yet; the organisation ledger's 覆盖单位 column links it when imported"
                            ),
                        ));
                        e.union_id
                    }
                }
            };
        }
        let out = self.upsert(id.clone(), old.as_ref(), Record::Entity(e.clone()), |r| match r {
            Record::Entity(e) => Some(e),
            _ => None,
        })?;
        self.add_entity(id, e);
        Ok(out)
    }
}

//! The cadre ledger (工会干部实名制登记表): a cadre by union, office and
//! resident ID (or name), one record per term.

use super::*;

impl World {
    pub(super) fn cadre_row(&mut self, row: &Row<'_>, line: usize) -> Planned {
        let name = row.required("name")?;
        let resident_id = match row.code("resident_id")? {
            None => None,
            Some(c) => Some(
                registry::ids::ResidentId::parse(&c, self.today)
                    .map_err(|e| No::issue(&e.issue("resident_id")))?
                    .as_str()
                    .to_owned(),
            ),
        };
        let town = Some(row.text("township")).filter(|t| !t.is_empty()).and_then(|t| self.township(&t));
        let union_id = self.union_named(&row.required("union")?, town.as_ref())?;
        let Some(role) = row.label("role", CadreRole::ALL, |v| [v.zh(), v.key(), v.en()])? else {
            return Err(row.missing("role"));
        };
        let elected_on = row.date("elected_on")?;
        let who = resident_id.clone().unwrap_or_else(|| name_key(&name));
        self.once(format!("cadre:{union_id}/{who}/{}/{:?}", role.key(), elected_on), line)?;
        let same = |c: &Cadre| {
            c.union_id == union_id
                && c.role == role
                && match (&resident_id, &c.resident_id) {
                    (Some(a), Some(b)) => a == b,
                    _ => name_key(&c.name) == name_key(&name),
                }
        };
        // A cadre re-elected to the same office is another term: matched
        // by the date taken up when the row has one.
        let found = self
            .cadres
            .iter()
            .filter(|(_, c)| same(c))
            .find(|(_, c)| elected_on.is_none() || c.elected_on == elected_on || c.elected_on.is_none())
            .map(|(id, c)| (id.clone(), c.clone()));
        let member_id = resident_id.as_ref().map(|r| self.secret.record_id(&format!("member:{r}")));
        let (id, old) = match found {
            Some((id, c)) => (id, Some(c)),
            None => (store::random_id(), None),
        };
        // A cadre counts where the union does.
        let place = self.unions.get(&union_id).map(|u| u.place.clone()).ok_or_else(|| {
            No::code(auth::LEDGER_UNKNOWN_UNION, "所在工会未找到".into(), "The union was not found".into())
        })?;
        let mut c = old.clone().unwrap_or_else(|| Cadre {
            name: name.clone(),
            resident_id: None,
            member_id: None,
            union_id: union_id.clone(),
            role,
            elected_on: None,
            left_on: None,
            full_time: false,
            owner_relation: OwnerRelation::Unrelated,
            phone: None,
            place: place.clone(),
        });
        c.name = name;
        if resident_id.is_some() {
            c.resident_id = resident_id;
            c.member_id = member_id;
        }
        c.union_id = union_id;
        c.role = role;
        c.place = place;
        if elected_on.is_some() || row.get("elected_on").is_some() {
            c.elected_on = elected_on;
        }
        if row.get("left_on").is_some() {
            c.left_on = row.date("left_on")?;
        }
        if row.get("full_time").is_some() {
            let t = row.text("full_time");
            c.full_time = match t.as_str() {
                "专职" => true,
                "兼职" | "" => false,
                _ => row.yes_no("full_time")?.unwrap_or(false),
            };
        }
        if let Some(r) = row.label("owner_relation", OwnerRelation::ALL, |v| [v.zh(), v.key(), v.en()])? {
            c.owner_relation = r;
        }
        if row.get("phone").is_some() {
            c.phone = row.code("phone")?;
        }
        let out = self.upsert(id.clone(), old.as_ref(), Record::Cadre(c.clone()), |r| match r {
            Record::Cadre(c) => Some(c),
            _ => None,
        })?;
        self.cadres.insert(id, c);
        Ok(out)
    }
}

//! The member ledger (工会会员实名制登记表): a member by resident ID, in
//! the union named, counted where the employer or the union is.

use super::*;

impl World {
    pub(super) fn member_row(
        &mut self,
        db: &mut dyn Sql,
        ctx: &Ctx<'_>,
        row: &Row<'_>,
        line: usize,
        notes: &mut Vec<Message>,
    ) -> Result<Planned, SyncError> {
        let name = match row.required("name") {
            Ok(n) => n,
            Err(no) => return Ok(Err(no)),
        };
        let resident_id = match row.code("resident_id").and_then(|c| {
            let c = c.unwrap_or_default();
            registry::ids::ResidentId::parse(&c, self.today).map_err(|e| No::issue(&e.issue("resident_id")))
        }) {
            Ok(id) => id.as_str().to_owned(),
            Err(no) => return Ok(Err(no)),
        };
        if let Err(no) = self.once(format!("member:{resident_id}"), line) {
            return Ok(Err(no));
        }
        let id = self.secret.record_id(&format!("member:{resident_id}"));
        let old = match sync::server::record(db, ctx, &id)? {
            Some(Record::Member(m)) => Some(m),
            Some(_) => None,
            None => {
                let rows = db.query("SELECT deleted FROM docs WHERE id = $1", &[id.as_str().into()])?;
                if rows.first().is_some_and(|r| r[0].int() != 0) {
                    return Ok(Err(No::code(
                        auth::LEDGER_DELETED,
                        "此人的会员记录已被删除或合并到另一条记录，未导入".into(),
                        "This person's member record was deleted or merged into another; not imported".into(),
                    )));
                }
                None
            }
        };
        Ok(self.member_fields(row, name, resident_id, id, old, notes))
    }

    fn member_fields(
        &mut self,
        row: &Row<'_>,
        name: String,
        resident_id: String,
        id: RecordId,
        old: Option<Member>,
        notes: &mut Vec<Message>,
    ) -> Planned {
        let town_name = row.text("township");
        let town = if town_name.is_empty() {
            None
        } else {
            Some(self.township(&town_name).ok_or_else(|| {
                No::code(
                    auth::LEDGER_UNKNOWN_AREA,
                    format!("没有名为“{town_name}”的乡镇（街道）"),
                    format!("No township named {town_name}"),
                )
            })?)
        };
        let union_name = row.required("union")?;
        let union_id = self.union_named(&union_name, town.as_ref())?;
        let union = self.unions.get(&union_id).cloned();
        let joined_on = row.date("joined_on")?.ok_or_else(|| row.missing("joined_on"))?;
        let employer_name = row.text("employer");
        let employer = if employer_name.is_empty() {
            None
        } else {
            let e = self.entity_named(&employer_name, town.as_ref().or(union.as_ref().map(|u| &u.place.township)));
            if e.is_none() {
                notes.push(Message::new(
                    format!("工作单位“{employer_name}”不在普查中，只记名称"),
                    format!("Employer {employer_name} is not in the census; its name is kept"),
                ));
            }
            e
        };
        // Where the member counts: the township named, else the union's;
        // within it the employer's grid, else the union's.
        let township = town.or_else(|| union.as_ref().map(|u| u.place.township.clone())).ok_or_else(|| {
            No::code(auth::LEDGER_REQUIRED, "“乡镇（街道）”不能为空".into(), "Column 乡镇（街道） is empty".into())
        })?;
        let place =
            [employer.as_ref().and_then(|e| self.entities.get(e)).map(|e| &e.place), union.as_ref().map(|u| &u.place)]
                .into_iter()
                .flatten()
                .find(|p| p.township == township)
                .cloned()
                .unwrap_or(Place { township, community: None, grid: None });
        let mut m = old.clone().unwrap_or_else(|| Member {
            name: name.clone(),
            resident_id: resident_id.clone(),
            sex: None,
            birth_date: None,
            ethnicity: String::new(),
            education: Education::JuniorHigh,
            political_status: PoliticalStatus::Masses,
            employer_id: None,
            employer_name: String::new(),
            union_id: union_id.clone(),
            joined_on,
            card_number: None,
            card_expires: None,
            phone: None,
            migrant_worker: false,
            dispatched_worker: false,
            place: place.clone(),
            left_on: None,
        });
        m.name = name;
        m.resident_id = resident_id;
        m.union_id = union_id;
        m.joined_on = joined_on;
        // A place the row does not move keeps its grid.
        if old.as_ref().is_none_or(|o| o.place.township != place.township || o.union_id != m.union_id) {
            m.place = place;
        }
        if row.get("sex").is_some() {
            m.sex = row.label("sex", Sex::ALL, |v| [v.zh(), v.key(), v.en()])?;
        }
        if row.get("birth_date").is_some() {
            m.birth_date = row.date("birth_date")?;
        }
        if row.get("ethnicity").is_some() {
            m.ethnicity = row.text("ethnicity");
        }
        // A new member's education and political status are the form's
        // own fields: never guessed.
        match row.label("education", Education::ALL, |v| [v.zh(), v.key(), v.en()])? {
            Some(e) => m.education = e,
            None if old.is_none() => return Err(row.missing("education")),
            None => {}
        }
        match row.label("political_status", PoliticalStatus::ALL, |v| [v.zh(), v.key(), v.en()])? {
            Some(p) => m.political_status = p,
            None if old.is_none() => return Err(row.missing("political_status")),
            None => {}
        }
        if row.get("employer").is_some() {
            // Named by its credit code: the census's name stands for it.
            m.employer_name = match (&employer, code_of(&employer_name)) {
                (Some(e), Some(_)) => self.entities.get(e).map_or(employer_name, |e| e.name.clone()),
                _ => employer_name,
            };
            m.employer_id = employer;
        }
        if row.get("card_number").is_some() {
            let number = row.code("card_number")?;
            // A new number's last day is the row's (none when not given):
            // the old card's does not pass to it.
            if number != m.card_number {
                m.card_expires = None;
            }
            m.card_number = number;
        }
        if row.get("card_expires").is_some() {
            m.card_expires = row.date("card_expires")?;
        }
        if row.get("phone").is_some() {
            m.phone = row.code("phone")?;
        }
        if let Some(b) = row.yes_no("migrant_worker")? {
            m.migrant_worker = b;
        }
        if let Some(b) = row.yes_no("dispatched_worker")? {
            m.dispatched_worker = b;
        }
        if let Some(s) = row.get("standing") {
            let s = cells::text(s);
            m.left_on = if s.is_empty() || s.contains("在册") || s.contains("在会") {
                None
            } else {
                let date_text: String = s
                    .chars()
                    .filter(|c| c.is_ascii_digit() || matches!(c, '-' | '/' | '.' | '年' | '月' | '日'))
                    .collect();
                match cells::date(&date_text) {
                    Some(d) => Some(d),
                    None => return Err(row.unreadable("standing", &s)),
                }
            };
        }
        self.upsert(id, old.as_ref(), Record::Member(m), |r| match r {
            Record::Member(m) => Some(m),
            _ => None,
        })
    }
}

//! The transfer ledger (工会会员组织关系接转登记表): a member named in one
//! of the two unions moved from one to the other on a date.

use super::*;

impl World {
    pub(super) fn transfer_row(&mut self, row: &Row<'_>, line: usize) -> Planned {
        let name = row.required("member_name")?;
        let from = self.union_named(&row.required("from_union")?, None)?;
        let to = self.union_named(&row.required("to_union")?, None)?;
        let Some(date) = row.date("date")? else { return Err(row.missing("date")) };
        // The member: of this name, in one of the two unions (or, past
        // another transfer, anywhere — if only one bears the name).
        let named = self.members_by_name.get(&name_key(&name)).cloned().unwrap_or_default();
        let in_unions: Vec<&(RecordId, Member)> =
            named.iter().filter(|(_, m)| m.union_id == to || m.union_id == from).collect();
        let member = match (in_unions.as_slice(), named.as_slice()) {
            ([one], _) => (*one).clone(),
            ([], [one]) => one.clone(),
            _ => {
                return Err(No::code(
                    auth::LEDGER_UNKNOWN_MEMBER,
                    format!("无法确定是哪一位名为“{name}”的会员：请先导入会员登记表"),
                    format!("Cannot tell which member named {name} this is: import the member ledger first"),
                ));
            }
        };
        self.once(format!("transfer:{}/{from}/{to}/{date}", member.0), line)?;
        let found = self
            .transfers
            .iter()
            .find(|(_, t)| t.member_id == member.0 && t.from_union == from && t.to_union == to && t.date == date)
            .map(|(id, t)| (id.clone(), t.clone()));
        let (id, old) = match found {
            Some((id, t)) => (id, Some(t)),
            None => (store::random_id(), None),
        };
        let mut t = old.clone().unwrap_or_else(|| Transfer {
            member_id: member.0.clone(),
            member_name: name.clone(),
            from_union: from.clone(),
            to_union: to.clone(),
            date,
            reason: TransferReason::Other,
            note: String::new(),
            place: member.1.place.clone(),
        });
        t.member_name = name;
        if let Some(r) = row.label("reason", TransferReason::ALL, |v| [v.zh(), v.key(), v.en()])? {
            t.reason = r;
        }
        if row.get("note").is_some() {
            t.note = row.text("note");
        }
        let out = self.upsert(id.clone(), old.as_ref(), Record::Transfer(t.clone()), |r| match r {
            Record::Transfer(t) => Some(t),
            _ => None,
        })?;
        self.transfers.insert(id, t);
        Ok(out)
    }
}

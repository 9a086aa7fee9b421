//! The progress report computed from the projections.
//!
//! The store only gathers facts; every judgement (what counts as new, covered,
//! qualified, vacant, a valid card) is the registry's. The one rule restated here in SQL is
//! "a chair is in office" (`registry::model::Cadre::in_office`), so that a
//! county of a million members is summarised without loading its records; a
//! test checks it against the registry's own computation on full records.

use crate::error::StoreError;
use crate::store::Store;
use registry::Date;
use registry::model::{RecordId, TownshipKind, UnionKind};
use registry::progress::{CampaignConfig, EntityFacts, MemberFacts, ProgressBuilder, ProgressReport, UnionFacts};
use registry::rules::{self, UnionStanding};

use crate::schema::text_date as date;

impl Store {
    /// The campaign of `year` as the county set it (its area record, which
    /// every device receives), or the plans' defaults until it does.
    pub fn campaign(&self, year: i32) -> Result<CampaignConfig, StoreError> {
        let ids: Vec<String> = self
            .connection()
            .prepare_cached("SELECT id FROM areas WHERE level = 'county' ORDER BY id")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for id in ids {
            if let Some(crate::StoredRecord { record: registry::model::Record::Area(a), deleted: None, .. }) =
                self.get(&RecordId(id))?
                && let Some(config) = a.campaign(year)
            {
                return Ok(config);
            }
        }
        Ok(CampaignConfig::default_for(year))
    }

    /// The progress report against `config` as of `today`.
    pub fn progress(&self, config: &CampaignConfig, today: Date) -> Result<ProgressReport, StoreError> {
        let conn = self.connection();
        let mut b = ProgressBuilder::new(config.clone());
        let mut stmt =
            conn.prepare("SELECT id, name, township_kind FROM areas WHERE level = 'township' ORDER BY name, id")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let kind: Option<String> = r.get(2)?;
            let kind = kind.as_deref().and_then(TownshipKind::from_key).unwrap_or(TownshipKind::Town);
            b.add_township(RecordId(r.get(0)?), r.get(1)?, kind);
        }
        self.add_facts(&mut b, today, false)?;
        Ok(b.finish(today))
    }

    /// The live unions this device holds, each with the figures of the
    /// entities it covers, itself and its members (a union's 入会率 and
    /// 发证率), as the county's `sync::facts::by_union` groups them. An
    /// entity it covers outside this device's scope is not held here: the
    /// county's figures of such a union count it, these do not.
    pub fn progress_by_union(&self, config: &CampaignConfig, today: Date) -> Result<ProgressReport, StoreError> {
        let conn = self.connection();
        let mut b = ProgressBuilder::new(config.clone());
        let mut stmt = conn.prepare(
            "SELECT u.id, r.name, u.dissolved_on FROM unions u JOIN records r ON r.id = u.id ORDER BY r.name, u.id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            if !rules::dissolved(date(r.get(2)?), today) {
                b.add_township(RecordId(r.get(0)?), r.get(1)?, TownshipKind::Town);
            }
        }
        self.add_facts(&mut b, today, true)?;
        let mut report = b.finish(today);
        for u in &mut report.townships {
            u.tally.target_new_unions = 0;
            u.tally.target_new_members = 0;
        }
        Ok(report)
    }

    /// Streams the facts into `b`, grouped by township, or (`by_union`) by
    /// union: an entity to the union covering it, a union to itself, a
    /// member to its union.
    fn add_facts(&self, b: &mut ProgressBuilder, today: Date, by_union: bool) -> Result<(), StoreError> {
        let conn = self.connection();
        let mut stmt = conn.prepare(
            "SELECT e.township, e.workers, e.closed, u.kind, e.private_enterprise, u.dissolved_on, u.id
             FROM entities e LEFT JOIN covering_unions u ON u.id = e.union_id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let kind: Option<String> = r.get(3)?;
            let dissolved_on = date(r.get(5)?);
            let union = kind.as_deref().and_then(UnionKind::from_key).map(|kind| UnionStanding { kind, dissolved_on });
            let covered_by = rules::covering(union, today);
            let group: Option<String> = if by_union { covered_by.and(r.get(6)?) } else { r.get(0)? };
            let Some(group) = group else { continue };
            b.add_entity(&EntityFacts {
                township: RecordId(group),
                workers: r.get(1)?,
                closed: r.get(2)?,
                covered_by,
                private: r.get(4)?,
            });
        }
        let today_text = today.to_string();
        let mut stmt = conn.prepare(
            "SELECT CASE WHEN ?2 THEN u.id ELSE u.township END, u.kind, u.founded_on, u.dissolved_on, u.liuyou_complete, u.bayou_complete,
               EXISTS (SELECT 1 FROM entities e WHERE e.union_id = u.id AND e.private_enterprise AND NOT e.closed)
                 OR EXISTS (SELECT 1 FROM ref_stubs s WHERE s.covered_by = u.id AND s.private_open),
               NOT EXISTS (SELECT 1 FROM cadres c WHERE c.union_id = u.id AND c.role = 'chair'
                   AND (c.elected_on IS NULL OR c.elected_on <= ?1) AND (c.left_on IS NULL OR c.left_on > ?1))
             FROM unions u",
        )?;
        let mut rows = stmt.query(rusqlite::params![&today_text, by_union])?;
        while let Some(r) = rows.next()? {
            let kind: String = r.get(1)?;
            let dissolved = rules::dissolved(date(r.get(3)?), today);
            let bayou_applies: bool = r.get(6)?;
            b.add_union(&UnionFacts {
                township: RecordId(r.get(0)?),
                kind: UnionKind::from_key(&kind).unwrap_or(UnionKind::SingleUnit),
                founded_on: date(r.get(2)?),
                dissolved,
                liuyou_complete: r.get(4)?,
                bayou: bayou_applies.then_some(r.get(5)?),
                chair_vacant: r.get(7)?,
            });
        }
        let mut stmt = conn.prepare(
            "SELECT CASE WHEN ?1 THEN m.union_id ELSE m.township END, m.joined_on, m.left_on, m.card_serial, m.card_expires,
               EXISTS (SELECT 1 FROM revoked_cards c WHERE c.serial = m.card_serial)
             FROM members m",
        )?;
        let mut rows = stmt.query([by_union])?;
        while let Some(r) = rows.next()? {
            let Some(joined_on) = date(r.get(1)?) else { continue };
            let left = date(r.get(2)?);
            let serial: Option<String> = r.get(3)?;
            b.add_member(&MemberFacts {
                township: RecordId(r.get(0)?),
                joined_on,
                active: left.is_none_or(|d| d > today),
                carded: rules::card_valid(serial.as_deref(), date(r.get(4)?), r.get(5)?, today),
            });
        }
        Ok(())
    }
}

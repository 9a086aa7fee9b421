//! The year's targets and the progress report against them.
//!
//! A county configures its campaign once a year ([`CampaignConfig`]; the
//! defaults are the figures of the source plans). Progress is computed by
//! streaming small facts about each record into a [`ProgressBuilder`], so a
//! county of a million members is summarised without holding its records.

use crate::model::{RecordId, TownshipKind, UnionKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::{Date, Month};

/// Founding targets for one kind of township.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TownshipTarget {
    pub new_unions: u32,
    pub new_members_per_union: u32,
}

/// One phase of the campaign calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Phase {
    pub key: String,
    pub zh: String,
    pub en: String,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub starts: Date,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub deadline: Date,
}

/// Where a phase stands on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum PhaseState {
    NotStarted { starts_in_days: i64 },
    Open { days_left: i64 },
    Ended,
}

impl Phase {
    pub fn state(&self, today: Date) -> PhaseState {
        if today < self.starts {
            PhaseState::NotStarted { starts_in_days: (self.starts - today).whole_days() }
        } else if today <= self.deadline {
            PhaseState::Open { days_left: (self.deadline - today).whole_days() }
        } else {
            PhaseState::Ended
        }
    }
}

/// The year's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CampaignConfig {
    pub year: i32,
    pub county_new_unions: u32,
    pub county_new_members: u32,
    pub township_targets: BTreeMap<TownshipKind, TownshipTarget>,
    /// Share of all grassroots unions that should be 六有-qualified.
    pub qualified_rate_goal: f64,
    /// The same for township and community unions.
    pub township_community_qualified_rate_goal: f64,
    /// Share of private-enterprise unions meeting 八有 (规范化建设达标) by year end.
    pub standard_rate_goal: f64,
    /// 建会率 goal: covered entities ÷ entities that need a union.
    pub coverage_goal: f64,
    /// 入会率 goal: active members ÷ workers of the entities unions cover
    /// ("职工入会率达99%以上"). A configuration saved before it existed
    /// reads the plan's figure.
    #[serde(default = "membership_rate_goal")]
    pub membership_rate_goal: f64,
    /// 发证率 goal: active members holding a valid card ÷ active members
    /// ("发证率100%").
    #[serde(default = "card_rate_goal")]
    pub card_rate_goal: f64,
    pub calendar: Vec<Phase>,
}

/// The plan's 入会率: 99%.
pub const MEMBERSHIP_RATE_GOAL: f64 = 0.99;
/// The plan's 发证率: 100%.
pub const CARD_RATE_GOAL: f64 = 1.0;

fn membership_rate_goal() -> f64 {
    MEMBERSHIP_RATE_GOAL
}

fn card_rate_goal() -> f64 {
    CARD_RATE_GOAL
}

/// The campaign years the software plans and reports: a year outside them
/// is refused where it comes in (`CONFIG_YEAR`), never computed with.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// A campaign year as asked for (a query, a form): refused outside
/// [`YEARS`].
pub fn check_year(year: i32) -> Result<i32, crate::Issue> {
    if YEARS.contains(&year) {
        Ok(year)
    } else {
        Err(crate::Issue::error("year", "CONFIG_YEAR", "年度应在2000至2100之间", "The year must be 2000–2100"))
    }
}

fn d(year: i32, month: Month, day: u8) -> Date {
    Date::from_calendar_date(year, month, day).expect("fixed calendar dates are valid")
}

impl CampaignConfig {
    /// The source plans' figures for `year`. The plans give no target for a
    /// development zone; we use the rural township's (3 unions × 30 members).
    pub fn default_for(year: i32) -> CampaignConfig {
        let t = |new_unions, new_members_per_union| TownshipTarget { new_unions, new_members_per_union };
        let phase = |key: &str, zh: &str, en: &str, starts, deadline| Phase {
            key: key.into(),
            zh: zh.into(),
            en: en.into(),
            starts,
            deadline,
        };
        use Month::*;
        CampaignConfig {
            year,
            county_new_unions: 50,
            county_new_members: 380,
            township_targets: BTreeMap::from([
                (TownshipKind::Town, t(4, 50)),
                (TownshipKind::RuralTownship, t(3, 30)),
                (TownshipKind::UrbanOffice, t(3, 30)),
                (TownshipKind::DevelopmentZone, t(3, 30)),
            ]),
            qualified_rate_goal: 0.60,
            township_community_qualified_rate_goal: 0.70,
            standard_rate_goal: 0.80,
            coverage_goal: 0.95,
            membership_rate_goal: MEMBERSHIP_RATE_GOAL,
            card_rate_goal: CARD_RATE_GOAL,
            calendar: vec![
                phase("ledgers", "报送四种实名制登记表", "Real-name ledgers in", d(year, January, 1), d(year, May, 10)),
                phase(
                    "founding",
                    "组建月：建会和发展会员",
                    "Founding drive and new members",
                    d(year, May, 1),
                    d(year, May, 31),
                ),
                phase(
                    "census",
                    "普查摸底、台账维护、主席补选",
                    "Census, ledger upkeep, chair by-elections",
                    d(year, May, 12),
                    d(year, June, 30),
                ),
                phase("publicity", "宣传发动", "Publicity", d(year, May, 4), d(year, August, 31)),
                phase(
                    "self_check",
                    "自查整改",
                    "Self-check and rectification",
                    d(year, October, 1),
                    d(year, October, 15),
                ),
            ],
        }
    }

    /// What is wrong with a configuration a county typed (the console's
    /// targets and calendar screen): empty when it may be saved. Rates are
    /// shares between 0 and 1; every phase has a key, both names, lies in
    /// the year and ends no earlier than it starts; keys are unique.
    pub fn check(&self) -> Vec<crate::Issue> {
        use crate::Issue;
        let mut out = Vec::new();
        if let Err(issue) = check_year(self.year) {
            out.push(issue);
        }
        for (field, rate) in [
            ("qualified_rate_goal", self.qualified_rate_goal),
            ("township_community_qualified_rate_goal", self.township_community_qualified_rate_goal),
            ("standard_rate_goal", self.standard_rate_goal),
            ("coverage_goal", self.coverage_goal),
            ("membership_rate_goal", self.membership_rate_goal),
            ("card_rate_goal", self.card_rate_goal),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                out.push(Issue::error(field, "CONFIG_RATE", "比例目标应在0%至100%之间", "A rate goal must be 0–100%"));
            }
        }
        let big = |n: u32| n > 1_000_000;
        if big(self.county_new_unions) || big(self.county_new_members) {
            out.push(Issue::error("county", "CONFIG_TARGET", "目标数过大", "A target is implausibly large"));
        }
        for (kind, t) in &self.township_targets {
            if big(t.new_unions) || big(t.new_members_per_union) {
                out.push(Issue::error(kind.key(), "CONFIG_TARGET", "目标数过大", "A target is implausibly large"));
            }
        }
        let mut keys = std::collections::BTreeSet::new();
        for (i, p) in self.calendar.iter().enumerate() {
            let field = format!("calendar[{i}]");
            if p.key.trim().is_empty() || !keys.insert(p.key.trim()) {
                out.push(Issue::error(
                    &field,
                    "CONFIG_PHASE_KEY",
                    "阶段标识为空或重复",
                    "A phase key is empty or repeated",
                ));
            }
            if p.zh.trim().is_empty() || p.en.trim().is_empty() {
                out.push(Issue::error(&field, "CONFIG_PHASE_NAME", "阶段名称不能为空", "A phase needs its names"));
            }
            if p.deadline < p.starts {
                out.push(Issue::error(
                    &field,
                    "CONFIG_PHASE_ORDER",
                    format!("“{}”的截止日期早于开始日期", p.zh),
                    format!("“{}” ends before it starts", p.en),
                ));
            }
            if p.starts.year() != self.year || p.deadline.year() != self.year {
                out.push(Issue::error(
                    &field,
                    "CONFIG_PHASE_YEAR",
                    format!("“{}”不在{}年内", p.zh, self.year),
                    format!("“{}” is not within {}", p.en, self.year),
                ));
            }
        }
        out
    }

    pub fn target_for(&self, kind: TownshipKind) -> TownshipTarget {
        self.township_targets.get(&kind).copied().unwrap_or(TownshipTarget { new_unions: 0, new_members_per_union: 0 })
    }

    fn in_year(&self, date: Option<Date>) -> bool {
        date.is_some_and(|d| d.year() == self.year)
    }
}

/// The facts about one legal entity that progress needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityFacts {
    pub township: RecordId,
    pub workers: i64,
    pub closed: bool,
    /// The kind of the union that covers the entity, if any.
    pub covered_by: Option<UnionKind>,
    /// Private enterprise (for the three clears).
    pub private: bool,
}

/// The facts about one union that progress needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnionFacts {
    pub township: RecordId,
    pub kind: UnionKind,
    pub founded_on: Option<Date>,
    pub dissolved: bool,
    pub liuyou_complete: bool,
    /// Some(complete) when 八有 applies.
    pub bayou: Option<bool>,
    pub chair_vacant: bool,
}

/// The facts about one member that progress needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberFacts {
    pub township: RecordId,
    pub joined_on: Date,
    pub active: bool,
    /// Holds a valid card ([`crate::rules::card_valid`]).
    pub carded: bool,
}

/// A share with its numerator and denominator (None when nothing to divide).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Rate {
    pub numerator: u64,
    pub denominator: u64,
}

impl Rate {
    pub fn value(&self) -> Option<f64> {
        (self.denominator > 0).then(|| self.numerator as f64 / self.denominator as f64)
    }

    /// Is the goal met? An empty denominator meets any goal (nothing to do).
    pub fn meets(&self, goal: f64) -> bool {
        self.value().is_none_or(|v| v + 1e-12 >= goal)
    }

    fn add(&mut self, hit: bool) {
        self.denominator += 1;
        self.numerator += u64::from(hit);
    }

    fn absorb(&mut self, o: &Rate) {
        self.numerator += o.numerator;
        self.denominator += o.denominator;
    }
}

/// Counts kept for a township and for the county.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Tally {
    pub target_new_unions: u64,
    pub new_unions: u64,
    pub target_new_members: u64,
    pub new_members: u64,
    pub entities: u64,
    /// 建会率: covered ÷ entities with workers that are not closed.
    pub coverage: Rate,
    /// Entities with 25+ workers that have a union of their own ÷ all such entities.
    pub own_union_25: Rate,
    pub unions: u64,
    /// 六有 qualified ÷ all active unions.
    pub qualified: Rate,
    /// 六有 qualified among township and community unions.
    pub township_community_qualified: Rate,
    /// 八有 met among unions to which 八有 applies.
    pub standard: Rate,
    pub vacancies: u64,
    pub active_members: u64,
    /// 入会率: active members ÷ the workers of the open entities a union
    /// covers. Members are counted where they are placed, workers where
    /// their entity is; a community union's members who applied on their own
    /// (由本人申请) count, so a township may pass 100%.
    pub membership: Rate,
    /// 发证率: active members holding a valid card ÷ active members.
    pub carded: Rate,
    pub private_enterprises: u64,
    pub private_enterprises_with_union: u64,
}

impl Tally {
    fn add_entity(&mut self, e: &EntityFacts) {
        if e.closed {
            return;
        }
        self.entities += 1;
        if e.private {
            self.private_enterprises += 1;
            self.private_enterprises_with_union += u64::from(e.covered_by.is_some());
        }
        if e.workers > 0 {
            self.coverage.add(e.covered_by.is_some());
            if e.covered_by.is_some() {
                self.membership.denominator += e.workers as u64;
            }
        }
        if e.workers >= crate::rules::OWN_UNION_MIN_WORKERS {
            self.own_union_25.add(e.covered_by == Some(UnionKind::SingleUnit));
        }
    }

    fn add_union(&mut self, u: &UnionFacts, config: &CampaignConfig) {
        if u.dissolved {
            return;
        }
        self.unions += 1;
        self.new_unions += u64::from(config.in_year(u.founded_on));
        self.qualified.add(u.liuyou_complete);
        if matches!(u.kind, UnionKind::Township | UnionKind::Community) {
            self.township_community_qualified.add(u.liuyou_complete);
        }
        if let Some(met) = u.bayou {
            self.standard.add(met);
        }
        self.vacancies += u64::from(u.chair_vacant);
    }

    fn add_member(&mut self, m: &MemberFacts, config: &CampaignConfig) {
        if m.active {
            self.active_members += 1;
            self.membership.numerator += 1;
            self.carded.add(m.carded);
        }
        self.new_members += u64::from(config.in_year(Some(m.joined_on)));
    }

    fn absorb(&mut self, o: &Tally) {
        let add = |a: &mut Rate, b: &Rate| a.absorb(b);
        self.new_unions += o.new_unions;
        self.new_members += o.new_members;
        self.entities += o.entities;
        add(&mut self.coverage, &o.coverage);
        add(&mut self.own_union_25, &o.own_union_25);
        self.unions += o.unions;
        add(&mut self.qualified, &o.qualified);
        add(&mut self.township_community_qualified, &o.township_community_qualified);
        add(&mut self.standard, &o.standard);
        self.vacancies += o.vacancies;
        self.active_members += o.active_members;
        add(&mut self.membership, &o.membership);
        add(&mut self.carded, &o.carded);
        self.private_enterprises += o.private_enterprises;
        self.private_enterprises_with_union += o.private_enterprises_with_union;
    }
}

/// One township's progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TownshipProgress {
    pub id: RecordId,
    pub name: String,
    pub kind: TownshipKind,
    #[serde(flatten)]
    pub tally: Tally,
}

/// Is a goal met, with the figures behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Goal {
    pub key: String,
    pub zh: String,
    pub en: String,
    /// A share (`target` and `actual` between 0 and 1, shown as a
    /// percentage) or a count: said here, never guessed from the target.
    pub rate: bool,
    pub target: f64,
    pub actual: Option<f64>,
    pub met: bool,
}

/// A phase of the calendar and whether it is overdue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PhaseProgress {
    pub phase: Phase,
    pub state: PhaseState,
    /// The phase has ended and its measurable goal was not reached.
    pub overdue: bool,
}

/// The progress report for the county and each township.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProgressReport {
    pub year: i32,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub as_of: Date,
    pub county: Tally,
    pub townships: Vec<TownshipProgress>,
    pub goals: Vec<Goal>,
    pub calendar: Vec<PhaseProgress>,
    /// Facts about records whose township is not in the area tree.
    pub unplaced: u64,
}

/// Streams record facts into per-township tallies.
#[derive(Debug)]
pub struct ProgressBuilder {
    config: CampaignConfig,
    townships: BTreeMap<RecordId, TownshipProgress>,
    unplaced: u64,
}

impl ProgressBuilder {
    pub fn new(config: CampaignConfig) -> ProgressBuilder {
        ProgressBuilder { config, townships: BTreeMap::new(), unplaced: 0 }
    }

    pub fn add_township(&mut self, id: RecordId, name: String, kind: TownshipKind) {
        let target = self.config.target_for(kind);
        let tally = Tally {
            target_new_unions: u64::from(target.new_unions),
            target_new_members: u64::from(target.new_unions) * u64::from(target.new_members_per_union),
            ..Tally::default()
        };
        self.townships.insert(id.clone(), TownshipProgress { id, name, kind, tally });
    }

    /// The tally of `township` and the config, or None (counted as unplaced).
    fn tally(&mut self, township: &RecordId) -> Option<(&mut Tally, &CampaignConfig)> {
        match self.townships.get_mut(township) {
            Some(t) => Some((&mut t.tally, &self.config)),
            None => {
                self.unplaced += 1;
                None
            }
        }
    }

    pub fn add_entity(&mut self, e: &EntityFacts) {
        if let Some((t, _)) = self.tally(&e.township) {
            t.add_entity(e);
        }
    }

    pub fn add_union(&mut self, u: &UnionFacts) {
        if let Some((t, config)) = self.tally(&u.township) {
            t.add_union(u, config);
        }
    }

    pub fn add_member(&mut self, m: &MemberFacts) {
        if let Some((t, config)) = self.tally(&m.township) {
            t.add_member(m, config);
        }
    }

    pub fn finish(self, as_of: Date) -> ProgressReport {
        let config = self.config;
        let mut county = Tally {
            target_new_unions: u64::from(config.county_new_unions),
            target_new_members: u64::from(config.county_new_members),
            ..Tally::default()
        };
        let townships: Vec<TownshipProgress> = self.townships.into_values().collect();
        for t in &townships {
            county.absorb(&t.tally);
        }
        let goal = |key: &str, zh: &str, en: &str, target: f64, rate: &Rate| Goal {
            key: key.into(),
            zh: zh.into(),
            en: en.into(),
            rate: true,
            target,
            actual: rate.value(),
            met: rate.meets(target),
        };
        let count_goal = |key: &str, zh: &str, en: &str, target: u64, actual: u64| Goal {
            key: key.into(),
            zh: zh.into(),
            en: en.into(),
            rate: false,
            target: target as f64,
            actual: Some(actual as f64),
            met: actual >= target,
        };
        let goals = vec![
            count_goal("new_unions", "新建工会", "New unions", county.target_new_unions, county.new_unions),
            count_goal("new_members", "发展新会员", "New members", county.target_new_members, county.new_members),
            goal("coverage", "建会率", "Union coverage", config.coverage_goal, &county.coverage),
            goal(
                "own_union_25",
                "25人以上单位单独建会",
                "Entities of 25+ with their own union",
                1.0,
                &county.own_union_25,
            ),
            goal("qualified", "“六有”合格率", "六有 qualified rate", config.qualified_rate_goal, &county.qualified),
            goal(
                "township_community_qualified",
                "乡镇、社区工会“六有”合格率",
                "六有 rate of township and community unions",
                config.township_community_qualified_rate_goal,
                &county.township_community_qualified,
            ),
            goal(
                "standard",
                "规范化建设（八有）达标率",
                "八有 standard rate",
                config.standard_rate_goal,
                &county.standard,
            ),
            goal("membership", "职工入会率", "Membership rate", config.membership_rate_goal, &county.membership),
            goal("cards", "会员发证率", "Card issuance rate", config.card_rate_goal, &county.carded),
        ];
        let founding_met = county.new_unions >= county.target_new_unions
            && county.new_members >= county.target_new_members
            && townships.iter().all(|t| {
                t.tally.new_unions >= t.tally.target_new_unions && t.tally.new_members >= t.tally.target_new_members
            });
        let calendar = config
            .calendar
            .iter()
            .map(|phase| {
                let state = phase.state(as_of);
                let overdue = state == PhaseState::Ended
                    && match phase.key.as_str() {
                        "founding" => !founding_met,
                        "census" => county.vacancies > 0,
                        _ => false,
                    };
                PhaseProgress { phase: phase.clone(), state, overdue }
            })
            .collect();
        ProgressReport { year: config.year, as_of, county, townships, goals, calendar, unplaced: self.unplaced }
    }
}

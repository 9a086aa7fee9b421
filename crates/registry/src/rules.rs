//! The plan's rules as pure functions that explain themselves.
//!
//! Each rule returns its verdict together with a stable rule code and a
//! sentence in both languages that the UI shows as the reason, e.g. "an entity
//! with 25 or more workers must found its own union".

use crate::message::{Message, Severity};
use crate::model::*;
use serde::Serialize;
use time::Date;

/// An entity with this many workers or more must found its own union (单独组建).
pub const OWN_UNION_MIN_WORKERS: i64 = 25;
/// From this many workers the county federation approves a new union.
pub const COUNTY_APPROVAL_MIN_WORKERS: i64 = 50;
/// From this many workers the town union approves; below it the community union.
pub const TOWN_APPROVAL_MIN_WORKERS: i64 = 8;
/// A union with this many women workers or more needs a women workers' committee.
pub const WOMEN_COMMITTEE_MIN_WOMEN: i64 = 10;

/// A verdict, the rule that gave it, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explained<T> {
    pub value: T,
    pub rule: &'static str,
    pub why: Message,
}

fn explained<T>(value: T, rule: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Explained<T> {
    Explained { value, rule, why: Message::new(zh, en) }
}

/// How an entity's workers are to be organised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnionRequirement {
    /// 25 or more workers: the entity founds its own union.
    MustFoundOwn,
    /// Fewer than 25: covered through a joint grassroots union or the community union.
    JointOrCommunity,
    /// No workers: nothing to organise.
    NoWorkers,
}

pub fn union_requirement(workers: i64) -> Explained<UnionRequirement> {
    if workers >= OWN_UNION_MIN_WORKERS {
        explained(
            UnionRequirement::MustFoundOwn,
            "OWN_UNION_25",
            format!("职工{workers}人，达到25人以上，应单独组建工会"),
            format!("{workers} workers: 25 or more, so the entity must found its own union"),
        )
    } else if workers > 0 {
        explained(
            UnionRequirement::JointOrCommunity,
            "JOINT_UNDER_25",
            format!("职工{workers}人，不足25人，可通过联合基层工会或社区工会覆盖"),
            format!("{workers} workers: under 25, so a joint grassroots union or the community union may cover it"),
        )
    } else {
        explained(
            UnionRequirement::NoWorkers,
            "NO_WORKERS",
            "无职工，暂不需建会",
            "No workers, so no union is needed yet",
        )
    }
}

/// Who approves the founding of a union of `workers` workers.
///
/// The plan reads "50人以上 → 县总工会; 8—50人 → 城关镇工会; 7人以下（含7人）→
/// 社区工会". Both of the first two ranges include 50 (in Chinese legal usage
/// 以上 includes the number itself). We resolve the overlap upwards: a union
/// of exactly 50 workers is approved by the county federation, since the
/// rule that names 50 "以上" is the more specific for large units and an
/// approval by the higher body is never invalid. So: ≥ 50 county, 8–49 town,
/// ≤ 7 community.
pub fn approval_body(workers: i64) -> Explained<ApprovalBody> {
    if workers >= COUNTY_APPROVAL_MIN_WORKERS {
        explained(
            ApprovalBody::CountyFederation,
            "APPROVAL_COUNTY_50",
            format!("职工{workers}人（50人以上），由县总工会审批"),
            format!("{workers} workers (50 or more): approved by the county federation"),
        )
    } else if workers >= TOWN_APPROVAL_MIN_WORKERS {
        explained(
            ApprovalBody::TownUnion,
            "APPROVAL_TOWN_8_49",
            format!("职工{workers}人（8至49人），由镇（乡、街道）工会审批"),
            format!("{workers} workers (8 to 49): approved by the town union"),
        )
    } else {
        explained(
            ApprovalBody::CommunityUnion,
            "APPROVAL_COMMUNITY_7",
            format!("职工{workers}人（7人以下，含7人），由社区工会审批"),
            format!("{workers} workers (7 or fewer): approved by the community union"),
        )
    }
}

/// Is a women workers' committee required?
pub fn women_committee(women_workers: i64) -> Explained<bool> {
    if women_workers >= WOMEN_COMMITTEE_MIN_WOMEN {
        explained(
            true,
            "WOMEN_COMMITTEE_10",
            format!("女职工{women_workers}人，10人以上应建立女职工委员会"),
            format!("{women_workers} women workers: 10 or more, so a women workers' committee is required"),
        )
    } else {
        explained(
            false,
            "WOMEN_COMMITTEE_10",
            format!("女职工{women_workers}人，不足10人，可不单设女职工委员会"),
            format!("{women_workers} women workers: fewer than 10, so no separate committee is required"),
        )
    }
}

/// May a person with this relation to the owner hold this role? The owner and
/// close relatives may not be chair, audit committee chair or member.
pub fn may_hold_role(role: CadreRole, relation: OwnerRelation) -> Explained<bool> {
    let restricted = matches!(role, CadreRole::Chair | CadreRole::AuditChair | CadreRole::AuditMember);
    if restricted && relation != OwnerRelation::Unrelated {
        explained(
            false,
            "OWNER_MAY_NOT_HOLD",
            format!("{}不得担任{}", relation.zh(), role.zh()),
            format!("The {} may not be {}", relation.en(), role.en()),
        )
    } else {
        explained(true, "OWNER_MAY_NOT_HOLD", "任职符合规定", "The appointment is allowed")
    }
}

/// A vacant chair that must be filled by election (补选).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Vacancy {
    /// When the chair fell vacant: the last chair's leaving date, else the union's founding date.
    pub since: Option<Date>,
}

/// Is the chair of the union vacant on `on`? `cadres` are the union's cadres.
pub fn chair_vacancy<'a>(
    union: &GrassrootsUnion,
    cadres: impl IntoIterator<Item = &'a Cadre>,
    on: Date,
) -> Option<Vacancy> {
    let mut last_left = None;
    for c in cadres.into_iter().filter(|c| c.role == CadreRole::Chair) {
        if c.in_office(on) {
            return None;
        }
        last_left = last_left.max(c.left_on);
    }
    if union.dissolved_on.is_some_and(|d| d <= on) {
        return None;
    }
    Some(Vacancy { since: last_left.or(union.founded_on) })
}

/// One item of a checklist (六有 / 八有).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChecklistItem {
    pub key: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub met: bool,
}

/// A checklist's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checklist {
    pub items: Vec<ChecklistItem>,
}

impl Checklist {
    pub fn met(&self) -> usize {
        self.items.iter().filter(|i| i.met).count()
    }

    pub fn complete(&self) -> bool {
        self.items.iter().all(|i| i.met)
    }

    pub fn missing(&self) -> impl Iterator<Item = &ChecklistItem> {
        self.items.iter().filter(|i| !i.met)
    }
}

fn item(key: &'static str, zh: &'static str, en: &'static str, met: bool) -> ChecklistItem {
    ChecklistItem { key, zh, en, met }
}

/// 六有: a grassroots union is "qualified" when all six are met.
pub fn liuyou(l: &LiuYou) -> Checklist {
    Checklist {
        items: vec![
            item("premises", "有开展工作的场所设施", "a place and facilities to work", l.premises),
            item("elected_chair", "有依法选举的工会主席", "a lawfully elected chair", l.elected_chair),
            item("organisation", "有独立健全的组织机构", "a sound independent organisation", l.organisation),
            item("activities", "有服务职工的活动载体", "activities serving workers", l.activities),
            item("rules", "有效能完善的制度机制", "working rules and mechanisms", l.rules),
            item("results", "有会员满意的工作绩效", "results members are satisfied with", l.results),
        ],
    }
}

/// 八有: the standard for the unions of private enterprises.
pub fn bayou(b: &BaYou) -> Checklist {
    Checklist {
        items: vec![
            item("sign_board", "有牌子", "a sign board", b.sign_board),
            item("approval", "有批复", "an approval document", b.approval),
            item("seal", "有印章", "a seal", b.seal),
            item("funds", "有经费", "funds", b.funds),
            item("premises", "有场所", "premises", b.premises),
            item("rules", "有制度", "rules", b.rules),
            item("activities", "有活动", "activities", b.activities),
            item("archives", "有档案", "archives", b.archives),
        ],
    }
}

/// A private enterprise (私营企业): what 八有 and the three clears are about.
pub fn private_enterprise(e: &LegalEntity) -> bool {
    e.ownership == Ownership::Private && e.unit_kind == UnitKind::Enterprise
}

/// 八有 applies to a union that covers at least one private enterprise
/// still open.
pub fn bayou_applies<'a>(covered: impl IntoIterator<Item = &'a LegalEntity>) -> bool {
    covered.into_iter().any(|e| !e.closed && private_enterprise(e))
}

/// Has a union been dissolved by `on`?
pub fn dissolved(dissolved_on: Option<Date>, on: Date) -> bool {
    dissolved_on.is_some_and(|d| d <= on)
}

/// The serial of a card this system issued, from the card number a member
/// record carries (`UC` + 16 hexadecimal digits, as the issuing device
/// writes it), in lower case; None for no number or one from elsewhere (a
/// paper card's number typed in, an old system's): those cannot be checked.
pub fn card_serial(card_number: Option<&str>) -> Option<String> {
    let hex = card_number?.strip_prefix("UC")?;
    (hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| hex.to_ascii_lowercase())
}

/// Does a member hold a valid card on `on` (发证率's numerator)? A card this
/// system issued ([`card_serial`]), not revoked by the county, and not past
/// its last day (`card_expires`; a record written before expiry dates were
/// kept has none and counts until its card is revoked). The card itself is
/// checked wherever it is shown (`card::lists::Verifier`); this is what the
/// records say, for the figures: every tier asks it (the device's figures
/// and worklist, the county's facts).
pub fn card_valid(serial: Option<&str>, card_expires: Option<Date>, revoked: bool, on: Date) -> bool {
    serial.is_some() && !revoked && card_expires.is_none_or(|last| last >= on)
}

/// A union as coverage needs it: its kind, and when it was dissolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnionStanding {
    pub kind: UnionKind,
    pub dissolved_on: Option<Date>,
}

impl From<&GrassrootsUnion> for UnionStanding {
    fn from(u: &GrassrootsUnion) -> UnionStanding {
        UnionStanding { kind: u.kind, dissolved_on: u.dissolved_on }
    }
}

/// The kind of the union that covers an entity on `on`: the union its
/// `union_id` names, if that union is known (not deleted) and not dissolved
/// by then. An entity whose union was dissolved needs a union again; it is
/// counted, listed and advised as one that has none. Every tier asks this
/// (the device's figures and worklist, the county's facts, the three clears,
/// the record page).
pub fn covering(union: Option<UnionStanding>, on: Date) -> Option<UnionKind> {
    union.filter(|u| !dissolved(u.dissolved_on, on)).map(|u| u.kind)
}

/// Something a rule found about a record, for review lists and the record page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub why: Message,
}

impl<T> From<Explained<T>> for Finding {
    fn from(e: Explained<T>) -> Finding {
        Finding { rule: e.rule, severity: Severity::Warning, why: e.why }
    }
}

/// What the rules say about one legal entity, given the kind of the union that
/// covers it (None when it has none).
pub fn entity_findings(entity: &LegalEntity, covering: Option<UnionKind>) -> Vec<Finding> {
    if entity.closed {
        return Vec::new();
    }
    let requirement = union_requirement(entity.workers);
    let mut out = Vec::new();
    match (requirement.value, covering) {
        (UnionRequirement::MustFoundOwn, None) => out.push(requirement.into()),
        (UnionRequirement::MustFoundOwn, Some(kind)) if kind != UnionKind::SingleUnit => out.push(Finding {
            rule: "OWN_UNION_25",
            severity: Severity::Warning,
            why: Message::new(
                format!("职工{}人，达到25人以上，应单独组建工会，目前由{}覆盖", entity.workers, kind.zh()),
                format!("{} workers: must found its own union, but is covered by a {}", entity.workers, kind.en()),
            ),
        }),
        (UnionRequirement::JointOrCommunity, None) => {
            out.push(Finding { severity: Severity::Info, ..requirement.into() });
        }
        _ => {}
    }
    out
}

/// What the rules say about one union, given its cadres and the entities it covers.
pub fn union_findings(union: &GrassrootsUnion, cadres: &[&Cadre], covered: &[&LegalEntity], on: Date) -> Vec<Finding> {
    let mut out = Vec::new();
    if dissolved(union.dissolved_on, on) {
        return out;
    }
    let women = women_committee(union.women_workers);
    if women.value && !union.has_women_committee {
        out.push(women.into());
    }
    if let Some(v) = chair_vacancy(union, cadres.iter().copied(), on) {
        let since_zh = v.since.map(|d| format!("（自{d}起）")).unwrap_or_default();
        let since_en = v.since.map(|d| format!(" since {d}")).unwrap_or_default();
        out.push(Finding {
            rule: "CHAIR_VACANT",
            severity: Severity::Warning,
            why: Message::new(
                format!("工会主席空缺{since_zh}，应及时补选"),
                format!("The chair has been vacant{since_en}; a by-election is due"),
            ),
        });
    }
    for c in cadres.iter().filter(|c| c.in_office(on)) {
        let allowed = may_hold_role(c.role, c.owner_relation);
        if !allowed.value {
            out.push(Finding {
                rule: allowed.rule,
                severity: Severity::Warning,
                why: Message::new(format!("{}：{}", c.name, allowed.why.zh), format!("{}: {}", c.name, allowed.why.en)),
            });
        }
    }
    if let Some(body) = union.approved_by {
        let expected = approval_body(union.workers);
        if expected.value != body {
            out.push(Finding {
                rule: "APPROVAL_BODY",
                severity: Severity::Info,
                why: Message::new(
                    format!("由{}审批，但{}", body.zh(), expected.why.zh),
                    format!("Approved by the {}, but {}", body.en(), expected.why.en),
                ),
            });
        }
    }
    out.extend(incomplete("LIUYOU_INCOMPLETE", "六有", &liuyou(&union.liuyou)));
    if bayou_applies(covered.iter().copied()) {
        out.extend(incomplete("BAYOU_INCOMPLETE", "八有", &bayou(&union.bayou)));
    }
    out
}

/// An Info finding listing what a checklist (六有 / 八有) is missing, if anything.
fn incomplete(rule: &'static str, name: &str, list: &Checklist) -> Option<Finding> {
    let missing: Vec<_> = list.missing().collect();
    (!missing.is_empty()).then(|| Finding {
        rule,
        severity: Severity::Info,
        why: Message::new(
            format!("“{name}”缺{}项：{}", missing.len(), missing.iter().map(|i| i.zh).collect::<Vec<_>>().join("、")),
            format!(
                "Missing {} of {name}: {}",
                missing.len(),
                missing.iter().map(|i| i.en).collect::<Vec<_>>().join(", ")
            ),
        ),
    })
}

/// One private enterprise in a three-clears list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ClearsLine {
    pub entity: RecordId,
    pub name: String,
    pub workers: i64,
    pub union: Option<RecordId>,
    /// Active members of the covering union who work at this entity.
    pub members: u64,
}

/// 三个清楚 for an area: (1) every private enterprise with its workers; (2) those
/// with a union and their members; (3) those without, with their workers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ThreeClears {
    pub private_enterprises: Vec<ClearsLine>,
    pub with_union: Vec<ClearsLine>,
    pub without_union: Vec<ClearsLine>,
    pub total_workers: i64,
    pub workers_without_union: i64,
}

/// Builds the three-clears lists from the entities of one area on `on`.
/// `union_of` gives a union's standing by its id (None when unknown or
/// deleted): an entity is "with a union" when that union [`covering`] it;
/// `members_of` gives the number of active members employed by an entity.
pub fn three_clears<'a>(
    entities: impl IntoIterator<Item = (&'a RecordId, &'a LegalEntity)>,
    union_of: impl Fn(&RecordId) -> Option<UnionStanding>,
    members_of: impl Fn(&RecordId) -> u64,
    on: Date,
) -> ThreeClears {
    let mut out = ThreeClears::default();
    for (id, e) in entities {
        if e.closed || !private_enterprise(e) {
            continue;
        }
        let covered = covering(e.union_id.as_ref().and_then(&union_of), on).is_some();
        let line = ClearsLine {
            entity: id.clone(),
            name: e.name.clone(),
            workers: e.workers,
            union: e.union_id.clone().filter(|_| covered),
            members: members_of(id),
        };
        out.total_workers += e.workers;
        if covered {
            out.with_union.push(line.clone());
        } else {
            out.workers_without_union += e.workers;
            out.without_union.push(line.clone());
        }
        out.private_enterprises.push(line);
    }
    for list in [&mut out.private_enterprises, &mut out.with_union, &mut out.without_union] {
        list.sort_by(|a, b| b.workers.cmp(&a.workers).then_with(|| a.name.cmp(&b.name)));
    }
    out
}

/// Where an entity stands in the year's door-to-door census.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum CensusStatus {
    /// No visit this year (拉网式普查: every door is knocked on).
    NotVisited,
    /// The last visit found nobody or was refused and set no later date,
    /// or its follow-up date has come.
    VisitAgain,
    /// Visited; a follow-up is set for later.
    Scheduled,
    /// Visited and done.
    Done,
}

/// One visit as the census status needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisitFacts<'a> {
    pub visited_on: Date,
    /// "HH:MM" (orders visits of one day).
    pub time: &'a str,
    pub outcome: crate::model::VisitOutcome,
    pub follow_up_on: Option<Date>,
}

/// An entity's census status in `year` as of `today`, from its visits: the
/// latest visit of the year decides (by date, then time).
pub fn census_status(visits: &[VisitFacts<'_>], year: i32, today: Date) -> CensusStatus {
    use crate::model::VisitOutcome::*;
    let Some(last) = visits.iter().filter(|v| v.visited_on.year() == year).max_by_key(|v| (v.visited_on, v.time))
    else {
        return CensusStatus::NotVisited;
    };
    match last.follow_up_on {
        Some(d) if d <= today => CensusStatus::VisitAgain,
        Some(_) => CensusStatus::Scheduled,
        None if matches!(last.outcome, NobodyThere | Refused) => CensusStatus::VisitAgain,
        None => CensusStatus::Done,
    }
}

//! Field-level validation and normalisation of records.
//!
//! [`check`] normalises a record in place (ID numbers upper-cased and upgraded,
//! phone numbers reduced to 11 digits, fields derived from the ID filled in)
//! and returns every issue found, each tied to the field the UI shows it
//! beside. A record with an [`Severity::Error`] or an un-overridden
//! [`Severity::Warning`] must not be saved (see [`crate::message::blocks_saving`]).

use crate::ids::{CreditCode, Landline, Mobile, ResidentId, age_on};
use crate::message::{Issue, Severity};
use crate::model::*;
use crate::rules;
use time::Date;

/// A field left empty that the plan requires: the commonest issue, raised
/// here and by the field app's forms.
pub const REQUIRED: crate::message::Code =
    crate::message::Code { status: 422, code: "REQUIRED", zh: "此项必填", en: "This field is required" };

/// A transfer into the union the member is in already: refused by the
/// transfer's own rules and by the field app's transfer command alike.
pub const TRANSFER_SAME_UNION: crate::message::Code = crate::message::Code {
    status: 422,
    code: "TRANSFER_SAME_UNION",
    zh: "转入工会不能与转出工会相同",
    en: "The receiving union must differ from the one left",
};

/// The registry's codes that other layers raise too, in the catalogue
/// (the rest are field issues inside a refused save).
pub const SHARED_CODES: &[crate::message::Code] = &[REQUIRED, TRANSFER_SAME_UNION, crate::ids::CREDIT_CODE_CHECKSUM];

/// Youngest age at which a person may work, and so join a union (劳动法: 16).
pub const MIN_WORKING_AGE: i32 = 16;

/// Normalises `record` in place and returns its issues. `today` is the
/// device's date, used for "not in the future" checks.
pub fn check(record: &mut Record, today: Date) -> Vec<Issue> {
    let mut v = Issues(Vec::new());
    match record {
        Record::Area(r) => area(r, &mut v),
        Record::Entity(r) => entity(r, &mut v),
        Record::Union(r) => union(r, today, &mut v),
        Record::Member(r) => member(r, today, &mut v),
        Record::Cadre(r) => cadre(r, today, &mut v),
        Record::Transfer(r) => transfer(r, today, &mut v),
        Record::Hardship(r) => hardship(r, today, &mut v),
        Record::Visit(r) => visit(r, today, &mut v),
    }
    if let Some(photos) = record.photos() {
        photo_refs(photos, &mut v);
    }
    v.0
}

struct Issues(Vec<Issue>);

impl Issues {
    fn push(&mut self, issue: Issue) {
        self.0.push(issue);
    }

    fn required(&mut self, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.push(REQUIRED.error(field));
        }
    }

    fn required_id(&mut self, field: &str, value: &RecordId) {
        self.required(field, value.as_str());
    }

    fn count(&mut self, field: &str, value: i64) {
        if value < 0 {
            self.push(Issue::error(field, "COUNT_NEGATIVE", "人数不能为负数", "A count cannot be negative"));
        }
    }

    fn women_within_workers(&mut self, workers: i64, women: i64) {
        if workers >= 0 && women > workers {
            self.push(Issue::error(
                "women_workers",
                "WOMEN_EXCEED_WORKERS",
                format!("女职工人数（{women}）不能超过职工总数（{workers}）"),
                format!("Women workers ({women}) cannot exceed workers ({workers})"),
            ));
        }
    }

    fn not_future(&mut self, field: &str, date: Option<Date>, today: Date) {
        if date.is_some_and(|d| d > today) {
            self.push(Issue::error(field, "DATE_IN_FUTURE", "日期不能晚于今天", "The date cannot be in the future"));
        }
    }

    /// `later` must not come before `earlier`.
    fn in_order(&mut self, earlier: (&str, Option<Date>), later: (&str, Option<Date>)) {
        if let (Some(a), Some(b)) = (earlier.1, later.1)
            && b < a
        {
            self.push(Issue::error(
                later.0,
                "DATE_ORDER",
                format!("此日期不能早于“{}”", field_zh(earlier.0)),
                format!("This date cannot be before {}", earlier.0.replace('_', " ")),
            ));
        }
    }

    fn phone(&mut self, field: &str, phone: &mut Option<String>) {
        if let Some(p) = phone.as_mut() {
            if p.trim().is_empty() {
                *phone = None;
                return;
            }
            match Mobile::parse(p) {
                Ok(m) => *p = m.as_str().to_owned(),
                Err(issue) => match Landline::parse(p) {
                    Some(l) => *p = l.as_str().to_owned(),
                    None if issue.code == "PHONE_INVALID" => self.push(Issue::error(
                        field,
                        "PHONE_INVALID",
                        "电话应为11位手机号，或带区号的固定电话（如0527-83123456）",
                        "A phone is an 11-digit mobile number, or a landline with its area code (e.g. 0527-83123456)",
                    )),
                    None => self.push(issue.on_field(field)),
                },
            }
        }
    }

    fn credit_code(&mut self, field: &str, code: &mut Option<String>, reason: &Option<String>) {
        let Some(c) = code.as_mut() else { return };
        if c.trim().is_empty() {
            *code = None;
            return;
        }
        match CreditCode::parse(c) {
            Ok(parsed) => {
                *c = parsed.as_str().to_owned();
                let overridden = reason.as_deref().is_some_and(|r| !r.trim().is_empty());
                if !overridden && let Some(w) = parsed.checksum_warning(field) {
                    self.push(w);
                }
            }
            Err(e) => self.push(e.issue(field)),
        }
    }

    fn resident_id(&mut self, field: &str, id: &mut String, today: Date) -> Option<ResidentId> {
        match ResidentId::parse(id, today) {
            Ok(parsed) => {
                *id = parsed.as_str().to_owned();
                Some(parsed)
            }
            Err(e) => {
                self.push(e.issue(field));
                None
            }
        }
    }

    fn optional_resident_id(&mut self, field: &str, id: &mut Option<String>, today: Date) -> Option<ResidentId> {
        match id {
            Some(s) if s.trim().is_empty() => {
                *id = None;
                None
            }
            Some(s) => self.resident_id(field, s, today),
            None => None,
        }
    }

    fn place(&mut self, place: &Place) {
        self.required_id("place.township", &place.township);
    }
}

/// The Chinese label of a date field, for "cannot be before X" messages.
fn field_zh(field: &str) -> &'static str {
    match field {
        "birth_date" => "出生日期",
        "joined_on" => "入会日期",
        "founded_on" => "成立日期",
        "elected_on" => "当选日期",
        "registered_on" => "建档日期",
        _ => "前一日期",
    }
}

fn area(r: &mut Area, v: &mut Issues) {
    v.required("name", &r.name);
    match r.level {
        AreaLevel::County => {}
        level => {
            if r.parent.is_none() {
                v.push(Issue::error("parent", "AREA_PARENT_REQUIRED", "请选择上级区域", "Choose the parent area"));
            }
            if level == AreaLevel::Township && r.township_kind.is_none() {
                v.push(Issue::error(
                    "township_kind",
                    "REQUIRED",
                    "请选择乡镇类别（镇、乡、城镇办事处、开发区）",
                    "Choose the township kind (town, rural township, urban office, development zone)",
                ));
            }
            if matches!(level, AreaLevel::Community | AreaLevel::Grid) && r.township.is_none() {
                v.push(Issue::error("township", "REQUIRED", "请选择所属乡镇", "Choose the township"));
            }
        }
    }
    for (year, json) in &r.campaigns {
        let field = format!("campaigns.{year}");
        if r.level != AreaLevel::County {
            v.push(Issue::error(
                &field,
                "CAMPAIGN_NOT_COUNTY",
                "年度工作目标只能由县设置",
                "Only the county sets a campaign",
            ));
            continue;
        }
        match serde_json::from_str::<crate::progress::CampaignConfig>(json) {
            Ok(c) if c.year.to_string() == *year => {
                for issue in c.check() {
                    let at = format!("{field}.{}", issue.field);
                    v.push(issue.on_field(&at));
                }
            }
            _ => v.push(Issue::error(
                &field,
                "CAMPAIGN_UNREADABLE",
                "年度工作目标无法读取",
                "The campaign cannot be read",
            )),
        }
    }
    if r.level == AreaLevel::Grid && r.grid_leader.as_deref().is_none_or(|l| l.trim().is_empty()) {
        v.push(Issue::info(
            "grid_leader",
            "GRID_LEADER_MISSING",
            "网格应定人：请指定网格长",
            "Every grid needs a named grid leader",
        ));
    }
}

fn entity(r: &mut LegalEntity, v: &mut Issues) {
    v.required("name", &r.name);
    v.credit_code("credit_code", &mut r.credit_code, &r.credit_code_override);
    v.count("workers", r.workers);
    v.count("women_workers", r.women_workers);
    v.women_within_workers(r.workers, r.women_workers);
    v.phone("contact_phone", &mut r.contact_phone);
    v.place(&r.place);
}

fn union(r: &mut GrassrootsUnion, today: Date, v: &mut Issues) {
    v.required("name", &r.name);
    v.count("workers", r.workers);
    v.count("women_workers", r.women_workers);
    v.women_within_workers(r.workers, r.women_workers);
    v.not_future("founded_on", r.founded_on, today);
    v.not_future("approved_on", r.approved_on, today);
    v.not_future("dissolved_on", r.dissolved_on, today);
    v.in_order(("founded_on", r.founded_on), ("dissolved_on", r.dissolved_on));
    v.credit_code("credit_code", &mut r.credit_code, &r.credit_code_override);
    v.place(&r.place);
    if rules::women_committee(r.women_workers).value && !r.has_women_committee {
        v.push(Issue::info(
            "has_women_committee",
            "WOMEN_COMMITTEE_MISSING",
            "女职工10人以上的工会应建立女职工委员会",
            "A union with 10 or more women workers should have a women workers' committee",
        ));
    }
}

fn member(r: &mut Member, today: Date, v: &mut Issues) {
    v.required("name", &r.name);
    if let Some(id) = v.resident_id("resident_id", &mut r.resident_id, today) {
        match r.sex {
            None => r.sex = Some(id.sex()),
            Some(s) if s != id.sex() => v.push(Issue::error(
                "sex",
                "SEX_MISMATCH",
                format!("性别与身份证号不符（身份证号显示为{}）", id.sex().zh()),
                format!("Sex does not match the ID number (which says {})", id.sex().en()),
            )),
            Some(_) => {}
        }
        match r.birth_date {
            None => r.birth_date = Some(id.birth_date()),
            Some(d) if d != id.birth_date() => v.push(Issue::error(
                "birth_date",
                "BIRTH_DATE_MISMATCH",
                format!("出生日期与身份证号不符（身份证号显示为{}）", id.birth_date()),
                format!("Birth date does not match the ID number (which says {})", id.birth_date()),
            )),
            Some(_) => {}
        }
    }
    if !ETHNICITIES.contains(&r.ethnicity.trim()) {
        v.push(Issue::error(
            "ethnicity",
            "ETHNICITY_UNKNOWN",
            "请选择56个民族之一（如“汉族”）",
            "Choose one of the 56 ethnic groups (e.g. 汉族)",
        ));
    }
    v.required_id("union_id", &r.union_id);
    v.not_future("joined_on", Some(r.joined_on), today);
    if let Some(born) = r.birth_date
        && age_on(born, r.joined_on) < MIN_WORKING_AGE
    {
        v.push(Issue::error(
            "joined_on",
            "JOINED_UNDER_AGE",
            "入会时未满16周岁",
            "The member was under 16 on the date joined",
        ));
    }
    v.in_order(("joined_on", Some(r.joined_on)), ("left_on", r.left_on));
    v.phone("phone", &mut r.phone);
    v.place(&r.place);
}

fn cadre(r: &mut Cadre, today: Date, v: &mut Issues) {
    v.required("name", &r.name);
    v.optional_resident_id("resident_id", &mut r.resident_id, today);
    v.required_id("union_id", &r.union_id);
    v.not_future("elected_on", r.elected_on, today);
    v.in_order(("elected_on", r.elected_on), ("left_on", r.left_on));
    v.phone("phone", &mut r.phone);
    v.place(&r.place);
    let allowed = rules::may_hold_role(r.role, r.owner_relation);
    if !allowed.value {
        // Recorded as found in the census, flagged for rectification: the
        // census must be able to write down the situation it finds.
        v.push(Issue {
            field: "owner_relation".into(),
            code: allowed.rule,
            severity: Severity::Info,
            message: allowed.why,
        });
    }
}

/// The longest side a stored photo may have, in pixels (the device resizes
/// before attaching).
pub const MAX_PHOTO_SIDE: i64 = 1600;
/// The most bytes one stored photo may have.
pub const MAX_PHOTO_BYTES: i64 = 8 << 20;

/// The items a photo may be evidence of, beside the record itself.
pub const PHOTO_ITEMS: [&str; 14] = [
    "liuyou.premises",
    "liuyou.elected_chair",
    "liuyou.organisation",
    "liuyou.activities",
    "liuyou.rules",
    "liuyou.results",
    "bayou.sign_board",
    "bayou.approval",
    "bayou.seal",
    "bayou.funds",
    "bayou.premises",
    "bayou.rules",
    "bayou.activities",
    "bayou.archives",
];

/// The most photos one record carries (a union's 六有 and 八有 evidence
/// with room to spare): a record is not a photo album, and each photo is
/// stored and sent to every device of its area.
pub const MAX_PHOTOS_PER_RECORD: usize = 40;

fn photo_refs(photos: &crate::model::Photos, v: &mut Issues) {
    if photos.len() > MAX_PHOTOS_PER_RECORD {
        v.push(Issue::error(
            "photos",
            "PHOTO_TOO_MANY",
            format!("一条记录最多{MAX_PHOTOS_PER_RECORD}张照片"),
            format!("A record carries at most {MAX_PHOTOS_PER_RECORD} photos"),
        ));
    }
    for (hash, p) in photos {
        let field = format!("photos.{hash}");
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            v.push(Issue::error(&field, "PHOTO_HASH", "照片标识无效", "The photo's hash is not a SHA-256"));
        }
        if p.bytes <= 0 || p.bytes > MAX_PHOTO_BYTES {
            v.push(Issue::error(
                &field,
                "PHOTO_SIZE",
                "照片大小无效（最大8MB）",
                "The photo's size is invalid (8 MB at most)",
            ));
        }
        if p.width > MAX_PHOTO_SIDE || p.height > MAX_PHOTO_SIDE || p.width < 0 || p.height < 0 {
            v.push(Issue::error(
                &field,
                "PHOTO_TOO_LARGE",
                format!("照片长边不能超过{MAX_PHOTO_SIDE}像素"),
                format!("A photo's long side is at most {MAX_PHOTO_SIDE} px"),
            ));
        }
        if !p.item.is_empty() && !PHOTO_ITEMS.contains(&p.item.as_str()) {
            v.push(Issue::error(&field, "PHOTO_ITEM", "照片所证明的项目无效", "The item the photo shows is unknown"));
        }
    }
}

fn visit(r: &mut CensusVisit, today: Date, v: &mut Issues) {
    r.entity_name = r.entity_name.trim().to_owned();
    v.required("entity_name", &r.entity_name);
    v.required("surveyor", &r.surveyor);
    v.not_future("visited_on", Some(r.visited_on), today);
    v.in_order(("visited_on", Some(r.visited_on)), ("follow_up_on", r.follow_up_on));
    let t = r.time.trim();
    let time_ok = t.is_empty()
        || (t.len() == 5
            && t.as_bytes()[2] == b':'
            && t[..2].parse::<u8>().is_ok_and(|h| h < 24)
            && t[3..].parse::<u8>().is_ok_and(|m| m < 60));
    if !time_ok {
        v.push(Issue::error(
            "time",
            "TIME_FORMAT",
            "时间格式应为“时:分”，如 09:30",
            "Give the time as HH:MM, e.g. 09:30",
        ));
    }
    r.time = t.to_owned();
    if matches!(r.outcome, VisitOutcome::NobodyThere | VisitOutcome::Refused) && r.follow_up_on.is_none() {
        v.push(Issue::info(
            "follow_up_on",
            "FOLLOW_UP_SUGGESTED",
            "未能完成普查，建议约定再次走访日期",
            "The census is not done here: set a date to come back",
        ));
    }
    if let Some(p) = &r.position {
        if !(-90_000_000..=90_000_000).contains(&p.lat_e6) || !(-180_000_000..=180_000_000).contains(&p.lon_e6) {
            v.push(Issue::error("position", "POSITION_INVALID", "坐标超出范围", "The coordinates are out of range"));
        } else if !(3_000_000..=54_000_000).contains(&p.lat_e6) || !(73_000_000..=136_000_000).contains(&p.lon_e6) {
            v.push(Issue::info(
                "position",
                "POSITION_OUTSIDE_CHINA",
                "坐标不在中国境内，请核对",
                "The position is outside China: check it",
            ));
        }
        if p.accuracy_m.is_some_and(|a| a < 0) {
            v.push(Issue::error("position", "POSITION_INVALID", "定位精度不能为负数", "Accuracy cannot be negative"));
        }
    }
    v.place(&r.place);
}

fn transfer(r: &mut Transfer, today: Date, v: &mut Issues) {
    v.required_id("member_id", &r.member_id);
    v.required_id("from_union", &r.from_union);
    v.required_id("to_union", &r.to_union);
    if r.from_union == r.to_union && !r.from_union.as_str().is_empty() {
        v.push(TRANSFER_SAME_UNION.error("to_union"));
    }
    v.not_future("date", Some(r.date), today);
    v.place(&r.place);
}

fn hardship(r: &mut HardshipCase, today: Date, v: &mut Issues) {
    v.required("name", &r.name);
    v.optional_resident_id("resident_id", &mut r.resident_id, today);
    v.required("situation", &r.situation);
    if r.household_size < 1 {
        v.push(Issue::error(
            "household_size",
            "HOUSEHOLD_SIZE",
            "家庭人口至少为1",
            "A household has at least one person",
        ));
    }
    if r.monthly_income_yuan < 0 {
        v.push(Issue::error(
            "monthly_income_yuan",
            "AMOUNT_NEGATIVE",
            "金额不能为负数",
            "An amount cannot be negative",
        ));
    }
    v.not_future("registered_on", Some(r.registered_on), today);
    v.in_order(("registered_on", Some(r.registered_on)), ("closed_on", r.closed_on));
    v.phone("phone", &mut r.phone);
    v.place(&r.place);
    for (id, visit) in &r.visits {
        let field = |f: &str| format!("visits.{id}.{f}");
        if visit.date > today {
            v.push(Issue::error(
                &field("date"),
                "DATE_IN_FUTURE",
                "日期不能晚于今天",
                "The date cannot be in the future",
            ));
        }
        if visit.visitor.trim().is_empty() {
            v.push(REQUIRED.error(&field("visitor")));
        }
        if visit.amount_yuan < 0 {
            v.push(Issue::error(
                &field("amount_yuan"),
                "AMOUNT_NEGATIVE",
                "金额不能为负数",
                "An amount cannot be negative",
            ));
        }
    }
}

/// What the area tree says of one area, for [`place_in_tree`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaNode {
    pub level: AreaLevel,
    /// The township it lies in (itself, for a township).
    pub township: Option<RecordId>,
    /// Its parent, where the caller knows it (a grid's community).
    pub parent: Option<RecordId>,
}

/// The region rule: a record's township is a township of the county's area
/// tree, and its community and grid lie in that township.
///
/// Why: a record's region (township, grid) decides which devices see and may
/// write it. A record naming one township and a grid of another would pass
/// a device enrolled for that grid while landing in the other township's
/// figures and on its devices. So every write, on the device and on the
/// server, checks the place against the area tree it holds; `area` answers
/// from that tree (`None`: no such area).
pub fn place_in_tree(place: &Place, area: &dyn Fn(&RecordId) -> Option<AreaNode>) -> Vec<Issue> {
    let mut out = Vec::new();
    let unknown = |field: &str| {
        Issue::error(field, "AREA_UNKNOWN", "所选地区不在本县区划中", "This area is not in the county's area tree")
    };
    match area(&place.township) {
        None => out.push(unknown("place.township")),
        Some(n) if n.level != AreaLevel::Township => out.push(Issue::error(
            "place.township",
            "AREA_WRONG_LEVEL",
            "这里应选择乡镇（街道）",
            "Choose a township here",
        )),
        Some(_) => {}
    }
    let within = |field: &str, id: &RecordId, level: AreaLevel, zh: &str, en: &str| match area(id) {
        None => Some(unknown(field)),
        Some(n) if n.level != level => {
            Some(Issue::error(field, "AREA_WRONG_LEVEL", format!("这里应选择{zh}"), format!("Choose a {en} here")))
        }
        Some(n) if n.township.as_ref() != Some(&place.township) => Some(Issue::error(
            field,
            "AREA_OUTSIDE_TOWNSHIP",
            format!("所选{zh}不属于所选乡镇（街道）"),
            format!("The chosen {en} does not lie in the chosen township"),
        )),
        Some(_) => None,
    };
    if let Some(c) = &place.community {
        out.extend(within("place.community", c, AreaLevel::Community, "社区（村）", "community"));
    }
    if let Some(g) = &place.grid {
        out.extend(within("place.grid", g, AreaLevel::Grid, "网格", "grid"));
        // A grid under a community lies in that community, when one is chosen.
        if let (Some(c), Some(grid)) = (&place.community, area(g))
            && let Some(parent) =
                grid.parent.as_ref().filter(|p| area(p).is_some_and(|n| n.level == AreaLevel::Community))
            && parent != c
            && out.is_empty()
        {
            out.push(Issue::error(
                "place.grid",
                "AREA_OUTSIDE_COMMUNITY",
                "所选网格不属于所选社区（村）",
                "The chosen grid does not lie in the chosen community",
            ));
        }
    }
    out
}

//! The records of the campaign and their categorical fields.
//!
//! The four real-name registration forms (实名制登记表) are [`GrassrootsUnion`],
//! [`Member`], [`Cadre`] and [`Transfer`]; beside them the plan needs the
//! legal-entity ledger ([`LegalEntity`]), the hardship archive
//! ([`HardshipCase`]) and the area tree ([`Area`]).
//!
//! Collections inside a record are maps keyed by an id, never lists: two
//! devices that each add an item offline then both keep theirs when the
//! records merge (see the store's flat document layout).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::Date;

/// Declares a categorical field: serde key, Chinese label, English label.
macro_rules! labelled_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident($key:literal, $zh:literal, $en:literal)),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        pub enum $name {
            $(#[serde(rename = $key)] $variant,)*
        }

        impl $name {
            /// Every value, in form order (for pickers and exports).
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The stable key stored in documents and sent over the wire.
            pub fn key(self) -> &'static str {
                match self { $($name::$variant => $key,)* }
            }

            /// The label the users' forms use.
            pub fn zh(self) -> &'static str {
                match self { $($name::$variant => $zh,)* }
            }

            pub fn en(self) -> &'static str {
                match self { $($name::$variant => $en,)* }
            }

            pub fn from_key(key: &str) -> Option<$name> {
                match key { $($key => Some($name::$variant),)* _ => None }
            }
        }
    };
}

labelled_enum!(
    /// 性别
    Sex { Male("male", "男", "male"), Female("female", "女", "female") }
);

labelled_enum!(
    /// The four kinds of township-level area the plan distinguishes.
    TownshipKind {
        Town("town", "镇", "town"),
        RuralTownship("rural_township", "乡", "rural township"),
        UrbanOffice("urban_office", "城镇办事处（街道）", "urban sub-district office"),
        DevelopmentZone("development_zone", "开发区", "development zone"),
    }
);

labelled_enum!(
    /// Levels of the area tree: county → township → community → grid.
    AreaLevel {
        County("county", "县", "county"),
        Township("township", "乡镇（街道）", "township"),
        Community("community", "社区（居委会）", "community"),
        Grid("grid", "网格", "grid"),
    }
);

labelled_enum!(
    /// 法人单位类别
    UnitKind {
        Organ("organ", "机关法人", "government organ"),
        Institution("institution", "事业单位法人", "public institution"),
        Enterprise("enterprise", "企业法人", "enterprise"),
        SocialOrganisation("social_organisation", "社会团体法人", "social organisation"),
        Other("other", "其他", "other"),
    }
);

labelled_enum!(
    /// 经济类型
    Ownership {
        Private("private", "民营", "private"),
        State("state", "国有", "state-owned"),
        Collective("collective", "集体", "collective"),
        ForeignInvested("foreign_invested", "外资及港澳台", "foreign-invested"),
        Other("other", "其他", "other"),
    }
);

labelled_enum!(
    /// 行业 (the industries the plans single out first).
    Industry {
        RealEstate("real_estate", "房地产开发", "real estate"),
        PropertyManagement("property_management", "物业管理", "property management"),
        Catering("catering", "餐饮", "catering"),
        Wholesale("wholesale", "批发", "wholesale"),
        Retail("retail", "零售", "retail"),
        Transport("transport", "交通运输", "transport"),
        Entertainment("entertainment", "娱乐服务", "entertainment"),
        Hotel("hotel", "酒店宾馆", "hotels"),
        Supermarket("supermarket", "超市", "supermarkets"),
        PrivateKindergarten("private_kindergarten", "民办幼儿园", "private kindergarten"),
        Cooperative("cooperative", "专业合作社", "cooperative"),
        ModernAgriculture("modern_agriculture", "现代农业", "modern agriculture"),
        Manufacturing("manufacturing", "制造业", "manufacturing"),
        Construction("construction", "建筑业", "construction"),
        Education("education", "教育", "education"),
        Health("health", "卫生", "health"),
        Finance("finance", "金融", "finance"),
        PublicAdministration("public_administration", "公共管理", "public administration"),
        Other("other", "其他", "other"),
    }
);

labelled_enum!(
    /// 工会组织形式
    UnionKind {
        SingleUnit("single_unit", "单独建会", "single-unit union"),
        Joint("joint", "联合基层工会", "joint grassroots union"),
        Community("community", "社区工会", "community union"),
        Federation("federation", "区域性、行业性工会联合会", "regional or sector union federation"),
        Township("township", "乡镇（街道）工会", "township union"),
    }
);

labelled_enum!(
    /// Sector federations that cut across townships (系统工会联合会).
    Sector {
        Construction("construction", "建设口", "construction"),
        Transport("transport", "交通口", "transport"),
        Commerce("commerce", "商务口", "commerce"),
        Education("education", "教育口", "education"),
        GovernmentOrgans("government_organs", "机关口", "government organs"),
    }
);

labelled_enum!(
    /// Who approves the founding of a union (组建工会审批).
    ApprovalBody {
        CountyFederation("county_federation", "县总工会", "county federation"),
        TownUnion("town_union", "镇（乡、街道）工会", "town union"),
        CommunityUnion("community_union", "社区工会", "community union"),
    }
);

labelled_enum!(
    /// 文化程度
    Education {
        Primary("primary", "小学及以下", "primary or less"),
        JuniorHigh("junior_high", "初中", "junior high"),
        SeniorHigh("senior_high", "高中（中专）", "senior high / vocational"),
        College("college", "大专", "college"),
        Bachelor("bachelor", "本科", "bachelor"),
        Postgraduate("postgraduate", "研究生", "postgraduate"),
    }
);

labelled_enum!(
    /// 政治面貌
    PoliticalStatus {
        CpcMember("cpc_member", "中共党员", "CPC member"),
        CpcProbationary("cpc_probationary", "中共预备党员", "CPC probationary member"),
        YouthLeague("youth_league", "共青团员", "Youth League member"),
        DemocraticParty("democratic_party", "民主党派", "democratic party member"),
        Masses("masses", "群众", "no affiliation"),
    }
);

labelled_enum!(
    /// 工会干部职务
    CadreRole {
        Chair("chair", "工会主席", "chair"),
        ViceChair("vice_chair", "工会副主席", "vice-chair"),
        CommitteeMember("committee_member", "工会委员", "committee member"),
        AuditChair("audit_chair", "经费审查委员会主任", "audit committee chair"),
        AuditMember("audit_member", "经费审查委员会委员", "audit committee member"),
        WomenCommitteeChair("women_committee_chair", "女职工委员会主任", "women workers' committee chair"),
        WomenCommitteeMember("women_committee_member", "女职工委员会委员", "women workers' committee member"),
    }
);

labelled_enum!(
    /// A cadre's relation to the owner of the enterprise the union sits in.
    OwnerRelation {
        Unrelated("unrelated", "无", "unrelated"),
        Owner("owner", "企业主要负责人（出资人）", "owner"),
        CloseRelative("close_relative", "企业主要负责人近亲属", "close relative of the owner"),
    }
);

labelled_enum!(
    /// 接转原因
    TransferReason {
        JobChange("job_change", "工作调动", "change of job"),
        EmployerClosed("employer_closed", "单位注销或撤销", "employer closed"),
        Relocation("relocation", "迁居", "moved home"),
        UnionReorganised("union_reorganised", "工会撤并", "union reorganised"),
        Other("other", "其他", "other"),
    }
);

labelled_enum!(
    /// 困难类型
    HardshipKind {
        Illness("illness", "因病", "illness"),
        Disability("disability", "因残", "disability"),
        Unemployment("unemployment", "失业下岗", "unemployment"),
        Disaster("disaster", "因灾", "disaster"),
        ChildEducation("child_education", "子女教育", "children's schooling"),
        SingleParent("single_parent", "单亲家庭", "single parent"),
        Other("other", "其他", "other"),
    }
);

labelled_enum!(
    /// What a visit to a worker in hardship gave.
    VisitKind {
        Assistance("assistance", "帮扶救助", "assistance"),
        HolidayVisit("holiday_visit", "节日走访慰问", "holiday visit"),
    }
);

labelled_enum!(
    /// What a door-to-door census visit found (走访结果).
    VisitOutcome {
        Registered("registered", "已登记", "registered"),
        Updated("updated", "已更新信息", "updated"),
        NobodyThere("nobody_there", "无人在", "nobody there"),
        Refused("refused", "拒绝配合", "refused"),
        ClosedOrMoved("closed_or_moved", "已注销或迁出", "closed or moved away"),
        NotFound("not_found", "查无此单位", "not found"),
    }
);

labelled_enum!(
    /// The kinds of record a store holds, one document each.
    RecordKind {
        Area("area", "区域", "area"),
        Entity("entity", "法人单位", "legal entity"),
        Union("union", "基层工会", "grassroots union"),
        Member("member", "会员", "member"),
        Cadre("cadre", "工会干部", "union cadre"),
        Transfer("transfer", "会员组织关系接转", "membership transfer"),
        Hardship("hardship", "困难职工档案", "hardship case"),
        Visit("visit", "走访记录", "census visit"),
    }
);

/// The 56 officially recognised ethnic groups (民族), in the order of GB 3304.
pub const ETHNICITIES: [&str; 56] = [
    "汉族",
    "蒙古族",
    "回族",
    "藏族",
    "维吾尔族",
    "苗族",
    "彝族",
    "壮族",
    "布依族",
    "朝鲜族",
    "满族",
    "侗族",
    "瑶族",
    "白族",
    "土家族",
    "哈尼族",
    "哈萨克族",
    "傣族",
    "黎族",
    "傈僳族",
    "佤族",
    "畲族",
    "高山族",
    "拉祜族",
    "水族",
    "东乡族",
    "纳西族",
    "景颇族",
    "柯尔克孜族",
    "土族",
    "达斡尔族",
    "仫佬族",
    "羌族",
    "布朗族",
    "撒拉族",
    "毛南族",
    "仡佬族",
    "锡伯族",
    "阿昌族",
    "普米族",
    "塔吉克族",
    "怒族",
    "乌孜别克族",
    "俄罗斯族",
    "鄂温克族",
    "德昂族",
    "保安族",
    "裕固族",
    "京族",
    "塔塔尔族",
    "独龙族",
    "鄂伦春族",
    "赫哲族",
    "门巴族",
    "珞巴族",
    "基诺族",
];

/// The id of a record (its document id): 32 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(transparent)]
pub struct RecordId(pub String);

impl RecordId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RecordId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for RecordId {
    fn from(s: &str) -> RecordId {
        RecordId(s.to_owned())
    }
}

/// Where a record sits in the area tree. The township and grid form the
/// record's region key, which decides which devices may see it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Place {
    pub township: RecordId,
    #[serde(default)]
    pub community: Option<RecordId>,
    #[serde(default)]
    pub grid: Option<RecordId>,
}

/// A node of the area tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Area {
    pub name: String,
    pub level: AreaLevel,
    /// Only for townships.
    #[serde(default)]
    pub township_kind: Option<TownshipKind>,
    /// None only for the county.
    #[serde(default)]
    pub parent: Option<RecordId>,
    /// The township a community or grid lies in (its region key).
    #[serde(default)]
    pub township: Option<RecordId>,
    /// Administrative division code, if any.
    #[serde(default)]
    pub code: String,
    /// 网格长 (grids only).
    #[serde(default)]
    pub grid_leader: Option<String>,
    /// 网格员 (grids only).
    #[serde(default)]
    pub grid_members: Vec<String>,
    /// 定责: the grid's written duty.
    #[serde(default)]
    pub duty: String,
    /// The county only: each year's campaign (targets and calendar) as the
    /// county set it, keyed by the year, as the JSON of a
    /// [`crate::progress::CampaignConfig`]. Every device receives the county's
    /// area record, so its home screen counts against the county's targets.
    #[serde(default)]
    pub campaigns: BTreeMap<String, String>,
}

impl Area {
    /// The campaign the county set for `year`, if any (and readable).
    pub fn campaign(&self, year: i32) -> Option<crate::progress::CampaignConfig> {
        let json = self.campaigns.get(&year.to_string())?;
        serde_json::from_str(json).ok().filter(|c: &crate::progress::CampaignConfig| c.year == year)
    }
}

/// A legal entity (法人单位) of the census ledger.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalEntity {
    pub name: String,
    /// Normalised Unified Social Credit Code; some small units have none yet.
    #[serde(default)]
    pub credit_code: Option<String>,
    /// Why a credit code whose check character fails is kept (a surveyor's override).
    #[serde(default)]
    pub credit_code_override: Option<String>,
    pub unit_kind: UnitKind,
    pub ownership: Ownership,
    pub industry: Industry,
    #[serde(default)]
    pub address: String,
    pub place: Place,
    pub workers: i64,
    pub women_workers: i64,
    /// The union that covers this entity: its own, a joint one or the community union.
    #[serde(default)]
    pub union_id: Option<RecordId>,
    /// 主要负责人 (owner or legal representative).
    #[serde(default)]
    pub owner_name: Option<String>,
    #[serde(default)]
    pub contact_phone: Option<String>,
    /// Closed down or moved away (注销、迁出): no longer counted.
    #[serde(default)]
    pub closed: bool,
    #[serde(default)]
    pub notes: String,
    /// Photos (the sign, the premises), keyed by their SHA-256.
    #[serde(default)]
    pub photos: Photos,
}

/// 六有: the six things a qualified grassroots union has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LiuYou {
    /// 有开展工作的场所设施
    pub premises: bool,
    /// 有依法选举的工会主席
    pub elected_chair: bool,
    /// 有独立健全的组织机构
    pub organisation: bool,
    /// 有服务职工的活动载体
    pub activities: bool,
    /// 有效能完善的制度机制
    pub rules: bool,
    /// 有会员满意的工作绩效
    pub results: bool,
}

/// 八有: the eight things a private enterprise's union has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BaYou {
    /// 有牌子
    pub sign_board: bool,
    /// 有批复
    pub approval: bool,
    /// 有印章
    pub seal: bool,
    /// 有经费
    pub funds: bool,
    /// 有场所
    pub premises: bool,
    /// 有制度
    pub rules: bool,
    /// 有活动
    pub activities: bool,
    /// 有档案
    pub archives: bool,
}

/// A grassroots union organisation (基层工会组织实名制登记表).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrassrootsUnion {
    pub name: String,
    pub kind: UnionKind,
    #[serde(default)]
    pub sector: Option<Sector>,
    pub place: Place,
    #[serde(default)]
    pub parent_union: Option<RecordId>,
    #[serde(default)]
    pub founded_on: Option<Date>,
    #[serde(default)]
    pub approved_on: Option<Date>,
    #[serde(default)]
    pub approved_by: Option<ApprovalBody>,
    /// 批复文号
    #[serde(default)]
    pub approval_doc: String,
    pub workers: i64,
    pub women_workers: i64,
    #[serde(default)]
    pub has_women_committee: bool,
    #[serde(default)]
    pub has_audit_committee: bool,
    #[serde(default)]
    pub liuyou: LiuYou,
    #[serde(default)]
    pub bayou: BaYou,
    /// The union's own legal-person credit code (工会法人), if registered.
    #[serde(default)]
    pub credit_code: Option<String>,
    #[serde(default)]
    pub credit_code_override: Option<String>,
    /// Dissolved or merged into another union.
    #[serde(default)]
    pub dissolved_on: Option<Date>,
    #[serde(default)]
    pub notes: String,
    /// Evidence of the 六有 / 八有 items (`PhotoRef::item`), keyed by SHA-256.
    #[serde(default)]
    pub photos: Photos,
}

/// A union member (工会会员实名制登记表).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub name: String,
    /// Normalised 18-character resident ID; the member's natural key.
    pub resident_id: String,
    /// Derived from the ID when left empty; must match it when typed.
    #[serde(default)]
    pub sex: Option<Sex>,
    #[serde(default)]
    pub birth_date: Option<Date>,
    pub ethnicity: String,
    pub education: Education,
    pub political_status: PoliticalStatus,
    #[serde(default)]
    pub employer_id: Option<RecordId>,
    #[serde(default)]
    pub employer_name: String,
    /// A member belongs to exactly one union at a time.
    pub union_id: RecordId,
    pub joined_on: Date,
    #[serde(default)]
    pub card_number: Option<String>,
    /// The last day the card of `card_number` is valid, written by the
    /// device that issued it (never typed).
    #[serde(default)]
    pub card_expires: Option<Date>,
    #[serde(default)]
    pub phone: Option<String>,
    /// 农民工
    #[serde(default)]
    pub migrant_worker: bool,
    /// 劳务派遣工
    #[serde(default)]
    pub dispatched_worker: bool,
    pub place: Place,
    /// Left the union (retired, left the job with no new union…).
    #[serde(default)]
    pub left_on: Option<Date>,
}

/// Workers of 35 or younger count as young workers (青年职工).
pub const YOUNG_WORKER_MAX_AGE: i32 = 35;

impl Member {
    /// 青年职工: derived from the birth date, never typed.
    pub fn is_young_worker(&self, on: Date) -> bool {
        self.birth_date.is_some_and(|b| crate::ids::age_on(b, on) <= YOUNG_WORKER_MAX_AGE)
    }

    pub fn is_active(&self, on: Date) -> bool {
        active_on(self.left_on, on)
    }
}

/// Is a member who left on `left_on` (if ever) still a member on `on`?
/// (For lists that hold the date without the record.)
pub fn active_on(left_on: Option<Date>, on: Date) -> bool {
    left_on.is_none_or(|d| d > on)
}

/// A union cadre (工会干部实名制登记表).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cadre {
    pub name: String,
    #[serde(default)]
    pub resident_id: Option<String>,
    #[serde(default)]
    pub member_id: Option<RecordId>,
    pub union_id: RecordId,
    pub role: CadreRole,
    #[serde(default)]
    pub elected_on: Option<Date>,
    /// End of office; a chair who left makes the chair vacant.
    #[serde(default)]
    pub left_on: Option<Date>,
    #[serde(default)]
    pub full_time: bool,
    pub owner_relation: OwnerRelation,
    #[serde(default)]
    pub phone: Option<String>,
    pub place: Place,
}

impl Cadre {
    pub fn in_office(&self, on: Date) -> bool {
        self.elected_on.is_none_or(|d| d <= on) && self.left_on.is_none_or(|d| d > on)
    }
}

/// A membership transfer (工会会员组织关系接转登记表).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transfer {
    pub member_id: RecordId,
    pub member_name: String,
    pub from_union: RecordId,
    pub to_union: RecordId,
    pub date: Date,
    pub reason: TransferReason,
    #[serde(default)]
    pub note: String,
    pub place: Place,
}

/// One help or holiday visit to a worker in hardship (走访慰问).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub date: Date,
    pub kind: VisitKind,
    pub visitor: String,
    /// Money or goods given, in yuan.
    #[serde(default)]
    pub amount_yuan: i64,
    #[serde(default)]
    pub note: String,
}

/// A worker in hardship (困难职工档案) and the help given.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardshipCase {
    pub name: String,
    #[serde(default)]
    pub resident_id: Option<String>,
    #[serde(default)]
    pub member_id: Option<RecordId>,
    #[serde(default)]
    pub union_id: Option<RecordId>,
    pub kind: HardshipKind,
    pub situation: String,
    pub household_size: i64,
    /// Per-capita monthly household income, yuan.
    pub monthly_income_yuan: i64,
    pub registered_on: Date,
    #[serde(default)]
    pub closed_on: Option<Date>,
    #[serde(default)]
    pub phone: Option<String>,
    pub place: Place,
    /// Visits keyed by a visit id, so visits added on two devices both survive.
    #[serde(default)]
    pub visits: BTreeMap<String, Visit>,
    #[serde(default)]
    pub photos: Photos,
}

/// A position (WGS-84) in millionths of a degree: documents hold integers,
/// so a position compares and merges exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub lat_e6: i64,
    pub lon_e6: i64,
    /// The device's estimate, in metres.
    #[serde(default)]
    pub accuracy_m: Option<i64>,
    /// Typed by hand, not read from the device's location.
    #[serde(default)]
    pub manual: bool,
}

/// A photo kept beside the records: its bytes are a blob addressed by its
/// SHA-256 (the key it is filed under), never inside the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoRef {
    /// What it shows: empty for the record itself, or a 六有 / 八有 item
    /// (`liuyou.premises`, `bayou.sign_board`).
    #[serde(default)]
    pub item: String,
    pub bytes: i64,
    #[serde(default)]
    pub width: i64,
    #[serde(default)]
    pub height: i64,
    /// When it was taken ("YYYY-MM-DD HH:MM"), the only metadata kept.
    #[serde(default)]
    pub taken_at: String,
    #[serde(default)]
    pub caption: String,
}

/// Photos by the lowercase hex SHA-256 of their bytes: photos added on two
/// devices both survive a merge.
pub type Photos = BTreeMap<String, PhotoRef>;

/// One door-to-door census visit (走访记录): which door, who knocked, when,
/// what they found, where they stood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CensusVisit {
    /// The entity visited; none for a door where no registered entity was
    /// found (the name then says what was looked for).
    #[serde(default)]
    pub entity_id: Option<RecordId>,
    /// The entity's name, as registered or as found.
    pub entity_name: String,
    pub surveyor: String,
    pub visited_on: Date,
    /// Local time of day, "HH:MM".
    #[serde(default)]
    pub time: String,
    pub outcome: VisitOutcome,
    #[serde(default)]
    pub notes: String,
    /// When to knock again.
    #[serde(default)]
    pub follow_up_on: Option<Date>,
    #[serde(default)]
    pub position: Option<Position>,
    #[serde(default)]
    pub photos: Photos,
    pub place: Place,
}

/// Any record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Record {
    Area(Area),
    Entity(LegalEntity),
    Union(GrassrootsUnion),
    Member(Member),
    Cadre(Cadre),
    Transfer(Transfer),
    Hardship(HardshipCase),
    Visit(CensusVisit),
}

/// A record's region key: who may see it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Region {
    /// Empty for county-wide records (the county itself).
    pub township: Option<RecordId>,
    pub grid: Option<RecordId>,
}

impl Record {
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::Area(_) => RecordKind::Area,
            Record::Entity(_) => RecordKind::Entity,
            Record::Union(_) => RecordKind::Union,
            Record::Member(_) => RecordKind::Member,
            Record::Cadre(_) => RecordKind::Cadre,
            Record::Transfer(_) => RecordKind::Transfer,
            Record::Hardship(_) => RecordKind::Hardship,
            Record::Visit(_) => RecordKind::Visit,
        }
    }

    /// The name lists and search show.
    pub fn display_name(&self) -> &str {
        match self {
            Record::Area(r) => &r.name,
            Record::Entity(r) => &r.name,
            Record::Union(r) => &r.name,
            Record::Member(r) => &r.name,
            Record::Cadre(r) => &r.name,
            Record::Transfer(r) => &r.member_name,
            Record::Hardship(r) => &r.name,
            Record::Visit(r) => &r.entity_name,
        }
    }

    pub fn place(&self) -> Option<&Place> {
        match self {
            Record::Area(_) => None,
            Record::Entity(r) => Some(&r.place),
            Record::Union(r) => Some(&r.place),
            Record::Member(r) => Some(&r.place),
            Record::Cadre(r) => Some(&r.place),
            Record::Transfer(r) => Some(&r.place),
            Record::Hardship(r) => Some(&r.place),
            Record::Visit(r) => Some(&r.place),
        }
    }

    /// The region key of the record with id `id`.
    pub fn region(&self, id: &RecordId) -> Region {
        match self {
            Record::Area(a) => match a.level {
                AreaLevel::County => Region::default(),
                AreaLevel::Township => Region { township: Some(id.clone()), grid: None },
                AreaLevel::Community => Region { township: a.township.clone(), grid: None },
                AreaLevel::Grid => Region { township: a.township.clone(), grid: Some(id.clone()) },
            },
            _ => {
                let place = self.place().expect("every other record has a place");
                Region { township: Some(place.township.clone()), grid: place.grid.clone() }
            }
        }
    }

    /// The photos a record carries (by hash), if its kind has any.
    pub fn photos(&self) -> Option<&Photos> {
        match self {
            Record::Entity(r) => Some(&r.photos),
            Record::Union(r) => Some(&r.photos),
            Record::Hardship(r) => Some(&r.photos),
            Record::Visit(r) => Some(&r.photos),
            Record::Area(_) | Record::Member(_) | Record::Cadre(_) | Record::Transfer(_) => None,
        }
    }

    /// The natural key that identifies the same person or entity on every
    /// device: the resident ID of a member, the credit code of an entity.
    /// Records without one get random ids.
    pub fn natural_key(&self) -> Option<String> {
        match self {
            Record::Member(m) if !m.resident_id.is_empty() => Some(format!("member:{}", m.resident_id)),
            Record::Entity(e) => e.credit_code.as_ref().filter(|c| !c.is_empty()).map(|c| format!("entity:{c}")),
            _ => None,
        }
    }

    /// The records this record points at that count in their figures (by
    /// field): a member's union and employer, a cadre's union and member, a
    /// hardship case's, a visit's entity, an entity's covering union, a
    /// union's parent. A transfer's two unions are apart
    /// ([`Record::transfer_unions`]): a transfer crosses townships by nature.
    pub fn references(&self) -> Vec<(&'static str, &RecordId)> {
        let refs: Vec<(&'static str, Option<&RecordId>)> = match self {
            Record::Entity(r) => vec![("union_id", r.union_id.as_ref())],
            Record::Union(r) => vec![("parent_union", r.parent_union.as_ref())],
            Record::Member(r) => vec![("union_id", Some(&r.union_id)), ("employer_id", r.employer_id.as_ref())],
            Record::Cadre(r) => vec![("union_id", Some(&r.union_id)), ("member_id", r.member_id.as_ref())],
            Record::Hardship(r) => vec![("union_id", r.union_id.as_ref()), ("member_id", r.member_id.as_ref())],
            Record::Visit(r) => vec![("entity_id", r.entity_id.as_ref())],
            Record::Area(_) | Record::Transfer(_) => Vec::new(),
        };
        refs.into_iter().filter_map(|(f, id)| Some((f, id.filter(|i| !i.as_str().is_empty())?))).collect()
    }

    /// A transfer's unions (from, to).
    pub fn transfer_unions(&self) -> Option<(&RecordId, &RecordId)> {
        match self {
            Record::Transfer(t) => Some((&t.from_union, &t.to_union)),
            _ => None,
        }
    }

    /// The union this record belongs to, if any.
    pub fn union_id(&self) -> Option<&RecordId> {
        match self {
            Record::Entity(r) => r.union_id.as_ref(),
            Record::Member(r) => Some(&r.union_id),
            Record::Cadre(r) => Some(&r.union_id),
            Record::Transfer(r) => Some(&r.to_union),
            Record::Hardship(r) => r.union_id.as_ref(),
            Record::Area(_) | Record::Union(_) | Record::Visit(_) => None,
        }
    }
}

/// Debug output of personal numbers (resident IDs, phones) shows only their
/// ends, so a record printed into a log or a panic leaks nothing.
fn masked<T: AsMaskable + ?Sized>(value: &T) -> String {
    value.masked()
}

trait AsMaskable {
    fn masked(&self) -> String;
}

impl AsMaskable for str {
    fn masked(&self) -> String {
        let chars: Vec<char> = self.chars().collect();
        if chars.len() <= 4 {
            return "*".repeat(chars.len());
        }
        let keep = if chars.len() >= 11 { 3 } else { 1 };
        let head: String = chars[..keep].iter().collect();
        let tail: String = chars[chars.len() - 2..].iter().collect();
        format!("{head}{}{tail}", "*".repeat(chars.len() - keep - 2))
    }
}

impl AsMaskable for String {
    fn masked(&self) -> String {
        self.as_str().masked()
    }
}

impl AsMaskable for Option<String> {
    fn masked(&self) -> String {
        match self {
            Some(s) => format!("Some({})", s.masked()),
            None => "None".to_owned(),
        }
    }
}

impl std::fmt::Debug for LegalEntity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LegalEntity")
            .field("name", &self.name)
            .field("credit_code", &self.credit_code)
            .field("credit_code_override", &self.credit_code_override)
            .field("unit_kind", &self.unit_kind)
            .field("ownership", &self.ownership)
            .field("industry", &self.industry)
            .field("address", &self.address)
            .field("place", &self.place)
            .field("workers", &self.workers)
            .field("women_workers", &self.women_workers)
            .field("union_id", &self.union_id)
            .field("owner_name", &self.owner_name)
            .field("contact_phone", &masked(&self.contact_phone))
            .field("closed", &self.closed)
            .field("notes", &self.notes)
            .finish()
    }
}

impl std::fmt::Debug for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Member")
            .field("name", &self.name)
            .field("resident_id", &masked(&self.resident_id))
            .field("sex", &self.sex)
            .field("birth_date", &self.birth_date)
            .field("ethnicity", &self.ethnicity)
            .field("education", &self.education)
            .field("political_status", &self.political_status)
            .field("employer_id", &self.employer_id)
            .field("employer_name", &self.employer_name)
            .field("union_id", &self.union_id)
            .field("joined_on", &self.joined_on)
            .field("card_number", &self.card_number)
            .field("card_expires", &self.card_expires)
            .field("phone", &masked(&self.phone))
            .field("migrant_worker", &self.migrant_worker)
            .field("dispatched_worker", &self.dispatched_worker)
            .field("place", &self.place)
            .field("left_on", &self.left_on)
            .finish()
    }
}

impl std::fmt::Debug for Cadre {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cadre")
            .field("name", &self.name)
            .field("resident_id", &masked(&self.resident_id))
            .field("member_id", &self.member_id)
            .field("union_id", &self.union_id)
            .field("role", &self.role)
            .field("elected_on", &self.elected_on)
            .field("left_on", &self.left_on)
            .field("full_time", &self.full_time)
            .field("owner_relation", &self.owner_relation)
            .field("phone", &masked(&self.phone))
            .field("place", &self.place)
            .finish()
    }
}

impl std::fmt::Debug for HardshipCase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HardshipCase")
            .field("name", &self.name)
            .field("resident_id", &masked(&self.resident_id))
            .field("member_id", &self.member_id)
            .field("union_id", &self.union_id)
            .field("kind", &self.kind)
            .field("situation", &self.situation)
            .field("household_size", &self.household_size)
            .field("monthly_income_yuan", &self.monthly_income_yuan)
            .field("registered_on", &self.registered_on)
            .field("closed_on", &self.closed_on)
            .field("phone", &masked(&self.phone))
            .field("place", &self.place)
            .field("visits", &self.visits)
            .finish()
    }
}

//! A seeded, realistic synthetic county for tests, benchmarks and the demo.
//!
//! [`generate`] streams one county's records into a sink in dependency order:
//! the area tree top-down (county, townships, communities, grids), the legal
//! entities, the unions, the cadres, the members, the membership transfers and
//! the hardship archive. The same [`SynthConfig`] and secret always give the
//! same stream: everything random comes from two ChaCha8 streams seeded with
//! `seed` (stream 0 for data, stream 1 for random record ids); nothing reads
//! the clock and no hash-map order reaches the output.
//!
//! Every record passes [`registry::validate::check`] without a blocking issue
//! and is already normalised (`check` changes nothing). The rule violations
//! a county really has are there on purpose, as data, so the rules and the
//! progress report have something to find.
//!
//! # Memory and speed
//! Members are generated one at a time and handed to the sink. What is kept is
//! per area, per entity (≈ members / 10) and per union bookkeeping, the
//! per-(region, birth date, sex) counters that keep resident IDs unique (a
//! fixed ≈ 1.2 MB), the cadres waiting to be emitted as members of their union
//! (compact, ≈ 6 per union), and the ≈ 1.5 % of members picked for a transfer
//! or a hardship case (their records are emitted after all members). In a
//! release build 1,000,000 members (100,000 entities, ≈ 32,000 unions) take
//! 2.6–4 s (on a busy 2-core machine) and ≈ 70 MB peak RSS with a sink that
//! drops the records
//! (`cargo run --release -p synth --example county -- 1000000`).
//!
//! # Realism choices
//! **Areas.** One county, named after a real county with its real division
//! code (e.g. 西平县, 411721). Twelve township-level areas, listed in the usual
//! order: one urban sub-district office (…街道办事处, code `…001`), six towns
//! (…镇, `…101`–), four rural townships (…乡, `…201`–) and one development zone
//! (…经济开发区 etc., `…401`). Each township has urban communities (…社区,
//! 12-digit codes `…001`–) and villages (…村, `…200`–): the urban office and
//! the zone mostly communities, towns a seat community plus villages, rural
//! townships mostly villages. Each community has grids (…第N网格, no official
//! code) with a named grid leader, two to four grid members and a written
//! duty. The number of communities per township and grids per community grows
//! with the logarithm of `members` (≈ 50 communities and 85 grids at 2,000
//! members, ≈ 100 and 400 at 1,000,000).
//!
//! **Legal entities.** `max(20, members / 10)` entities. About 6 % come from
//! pools of real-world public bodies (county bureaus 县…局, the township
//! government, the county hospital and high schools, township schools and
//! health centres, associations and chambers of commerce) with their own size
//! ranges; the rest are enterprises with the size mix ≈ 38 % 1–7, 32 % 8–24,
//! 22 % 25–99, 7 % 100–499 and 1 % 500–2,000 workers (so ≈ 70 % under 25).
//! Industries are weighted toward those the plans name (retail, catering,
//! wholesale, manufacturing, construction, transport, cooperatives, modern
//! agriculture, hotels, supermarkets, property, private kindergartens…);
//! units of 100 or more are drawn from the industries where large units are
//! found. Women workers are an industry-typical share (≈ 5–15 % in
//! construction, ≈ 90 % in kindergartens). Ownership is ≈ 88 % private for
//! enterprises; public bodies are state-owned. Big units cluster in the
//! development zone and the urban office, cooperatives in villages.
//!
//! Names follow the legal pattern region + trade name + industry + form
//! (`西平县鑫盛商贸有限公司`; shop forms such as …商行, …饭店, …诊所 only under
//! 25 workers); small shops are individual businesses (`西平县王庄镇李记烩面馆`). Names are unique in the county. Credit codes are
//! valid GB 32100 codes: registration authority and kind (`91` enterprise,
//! `92` individual business, `93` farmers' cooperative, and the real codes of
//! public bodies: `11` organ, `12` institution, `51` social organisation), the
//! county's division code, a 9-character organisation code (the old 8-digit
//! form or the post-2015 `MA…` form, with its own GB 11714 check character)
//! and the check character; all codes are unique. ≈ 1 % carry a wrong check
//! character with `credit_code_override` set (as real registers do), ≈ 3 % of
//! the small units have no code yet (and so a random id), ≈ 2 % are closed.
//! Owners' names and valid mobile numbers (≈ 90 %) are given; addresses are
//! street numbers in communities and village groups (…村三组) in villages.
//!
//! **Unions.** One township union (…镇总工会) per township; two sector
//! federations (建设, 交通运输; a third, 商务, from 500 entities up) placed in
//! the urban office; one community union per community (…社区工会 / …村工会);
//! a single-unit union (…工会委员会, organs …机关工会委员会) for ≈ 92 % of
//! entities with 25 or more workers (the rest, at least one, have none, which
//! the 25-worker rule finds) and for ≈ 6 % of units of 10–24; joint grassroots
//! unions (…行业联合工会) over 3–12 small units of one township and industry
//! group (a township's groups of fewer than three are pooled into its
//! …小微企业联合工会). Small enterprises are ≈ 42 % in a joint union, ≈ 47 % in their
//! community union, some in a matching sector federation, ≈ 11 % uncovered;
//! small public bodies are covered by the township union. Closed entities are
//! uncovered. Workers and women workers of a union are the sums over the
//! entities it covers. Single-unit unions' parent is the township union or the
//! matching sector federation; joint and community unions' the township union.
//!
//! Each township gets its plan target of unions founded in `year` (4 per town,
//! 3 otherwise, from [`registry::progress::CampaignConfig::default_for`]) give
//! or take one or two (but at most 40 % of its candidates, so a tiny county is
//! not mostly new), chosen among its enterprise single-unit, joint and
//! community unions with a preference for small ones; 60 % of them in the May
//! founding drive
//! (when `today` is past it). Older unions were founded in earlier years
//! (township unions 1984–2002). Grassroots unions are approved by the body
//! [`registry::rules::approval_body`] names ≈ 94 % of the time (some old
//! records have none); township unions and federations record no approval
//! body. Women workers' committees exist in ≈ 88 % of unions with 10 or more
//! women; 六有 is complete in ≈ 65 % (≈ 70 % for township and community
//! unions; never with a vacant chair), 八有 in ≈ 75 %. Township unions and some
//! larger ones have a union legal-person credit code (`81…`).
//!
//! **Cadres.** Each union has a chair, except ≈ 5 % vacancies (half with no
//! chair recorded, half whose chair has left; at least one in every county).
//! Unions of 50 or more workers, township unions and federations have a
//! vice-chair (two from 300), unions of 25 or more committee members, unions
//! with an audit committee its chair (plus members from 50 workers), unions
//! with a women's committee its (female) chair. In ≈ 1 % of the single-unit
//! unions of private enterprises (at least one) the chair is the owner or a
//! close relative (same surname). Terms are five years: cadres were elected at
//! founding or at the last election. Most cadres in office are also members of
//! their union: their member record (same resident ID, `member_id` linked) is
//! among the union's members.
//!
//! **Members.** Exactly `members` members, spread over the covered entities in
//! proportion to their workers (fewer per worker in unions founded this year
//! and in joint and community unions; never more than the workers). Sex
//! follows the employer's share of women; ages 18–60 (women mostly ≤ 55);
//! names from surnames by frequency and sex-typed given names; ≈ 5 % from
//! ethnic minorities (回族, 满族, 壮族…). Resident IDs are registered in the
//! county (≈ 75 %), neighbouring counties or other provinces, and unique: the
//! sequence digits come from a counter per (region, birth date, sex). Members
//! joined at 18 or later; in unions founded this year half joined on or after
//! the founding (the others were members before, elsewhere), and ≈ 3 % of the
//! others joined this year: ≈ 4 % of all members are new at 20,000 members and
//! up, ≈ 7–8 % in a county of 2,000. Education and political status depend on age and employer;
//! migrant workers ≈ 30 % (more when registered elsewhere), dispatched ≈ 5 %;
//! mobile ≈ 92 %; a member card (county code + 10-digit serial) ≈ 90 %; ≈ 2 %
//! have left.
//!
//! **Dissolved unions**: ≈ 3 % of single-unit unions founded before this
//! year were dissolved this year (drawn from a stream of their own); their
//! entities still name them.
//!
//! **Transfers** for ≈ 0.5 % of active members: from another union (mostly of
//! the same township) that existed at the time, into the current one, after
//! the member joined, for a reason that fits the union left (only joint,
//! community and township unions are merged away, only enterprises close).
//! **Hardship cases** for ≈ 1 %: kind, situation, household size and
//! per-capita income, registered in the last four years, ≈ 15 % closed, with
//! 0–3 visits under ids from the RNG: at most one holiday visit per Spring
//! Festival in the weeks around it, assistance (medical aid for illness and
//! disability, 金秋助学 school grants in August–September) with amounts in yuan.

mod data;
mod people;
mod util;

use people::{CompactPerson, CreditCodes, People, Person, mobile};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use registry::Date;
use registry::keys::{CountySecret, id_from_bytes};
use registry::model::*;
use registry::progress::CampaignConfig;
use registry::rules;
use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use util::{Rand, Weighted, add_days, add_years, between, dec31, jan1, one, skewed, spring_festival, ymd, zh_num};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynthConfig {
    pub seed: u64,
    /// Exactly this many member records are generated.
    pub members: u64,
    /// No date in the output is later than this.
    pub today: Date,
    /// The campaign year: "new" unions and members are founded / joined in it.
    pub year: i32,
}

/// How many records of each kind were emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// All area records (county, townships, communities and grids).
    pub areas: u64,
    pub townships: u64,
    pub communities: u64,
    pub grids: u64,
    pub entities: u64,
    pub unions: u64,
    pub cadres: u64,
    pub members: u64,
    pub transfers: u64,
    pub hardship_cases: u64,
    pub visits: u64,
}

/// Streams the county's records, in dependency order (areas top-down, entities,
/// unions, cadres, members, transfers, hardship cases), into `sink`. Memory
/// does not grow with `members` beyond small per-entity/per-union bookkeeping.
pub fn generate(config: &SynthConfig, secret: &CountySecret, mut sink: impl FnMut(RecordId, Record)) -> Summary {
    let mut g = Gen::new(config, secret);
    g.run(&mut sink);
    g.summary
}

type Sink<'s> = &'s mut dyn FnMut(RecordId, Record);

struct Township {
    id: RecordId,
    name: String,
    kind: TownshipKind,
    code: String,
    communities: Vec<usize>,
}

struct Community {
    id: RecordId,
    name: String,
    township: usize,
    village: bool,
    code: String,
    grids: Vec<usize>,
}

struct Grid {
    id: RecordId,
    name: String,
    community: usize,
    leader: String,
    members: Vec<String>,
    duty: String,
}

enum Credit {
    None,
    Valid(String),
    /// A wrong check character kept on purpose.
    Bad(String),
}

struct Entity {
    id: RecordId,
    name: String,
    credit: Credit,
    kind: UnitKind,
    ownership: Ownership,
    industry: Industry,
    township: usize,
    community: usize,
    grid: usize,
    workers: i64,
    women: i64,
    closed: bool,
    owner: String,
    owner_sex: Sex,
    union: Option<usize>,
    quota: u64,
}

impl Entity {
    fn private_enterprise(&self) -> bool {
        self.kind == UnitKind::Enterprise && self.ownership == Ownership::Private
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Vacancy {
    Filled,
    NoChair,
    ChairLeft,
}

/// A cadre who will also be emitted as a member of the union.
struct Reserved {
    person: CompactPerson,
    /// Joined the union no later than this (the cadre's election).
    joined_by: Date,
}

struct Union {
    id: RecordId,
    name: String,
    kind: UnionKind,
    sector: Option<Sector>,
    township: usize,
    community: Option<usize>,
    grid: Option<usize>,
    parent: Option<usize>,
    /// The entity of a single-unit union.
    entity: Option<usize>,
    founded_on: Date,
    is_new: bool,
    workers: i64,
    women: i64,
    covers_private: bool,
    women_committee: bool,
    audit_committee: bool,
    vacancy: Vacancy,
    owner_chair: Option<OwnerRelation>,
    quota: u64,
    reserved: VecDeque<Reserved>,
}

/// A member kept for a transfer or a hardship case.
struct Sampled {
    id: RecordId,
    name: String,
    resident_id: String,
    union: usize,
    entity: usize,
    joined_on: Date,
    phone: Option<String>,
}

/// How a small or large entity is (or is not) covered, before unions exist.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cover {
    None,
    Own,
    Joint,
    Community,
    Township,
    Federation(usize),
}

struct Gen<'a> {
    cfg: &'a SynthConfig,
    secret: &'a CountySecret,
    rng: Rand,
    ids: Rand,
    people: People,
    codes: CreditCodes,
    campaign: CampaignConfig,
    county_id: RecordId,
    county_name: &'static str,
    county_stem: &'static str,
    county_code: &'static str,
    townships: Vec<Township>,
    communities: Vec<Community>,
    grids: Vec<Grid>,
    entities: Vec<Entity>,
    unions: Vec<Union>,
    unions_by_township: Vec<Vec<usize>>,
    /// Dates "this year" may take: `year`'s 1 January to the earlier of its
    /// 31 December and today. None when today is before the year.
    this_year: Option<(Date, Date)>,
    /// The last date "before this year" may take.
    before_year: Date,
    card_serial: u64,
    doc_numbers: BTreeMap<String, u32>,
    summary: Summary,
}

/// Industry groups of joint unions: (name, industries).
const JOINT_GROUPS: [(&str, &[Industry]); 8] = [
    ("商贸行业", &[Industry::Wholesale, Industry::Retail, Industry::Supermarket]),
    ("餐饮住宿行业", &[Industry::Catering, Industry::Hotel, Industry::Entertainment]),
    ("建筑物业行业", &[Industry::RealEstate, Industry::PropertyManagement, Industry::Construction]),
    ("农业", &[Industry::Cooperative, Industry::ModernAgriculture]),
    ("制造业", &[Industry::Manufacturing]),
    ("交通物流行业", &[Industry::Transport]),
    ("教育卫生行业", &[Industry::PrivateKindergarten, Industry::Education, Industry::Health]),
    // Mixed: the other industries, and small buckets of any industry.
    ("小微企业", &[]),
];

fn joint_group(industry: Industry) -> usize {
    JOINT_GROUPS.iter().position(|(_, inds)| inds.contains(&industry)).unwrap_or(JOINT_GROUPS.len() - 1)
}

fn sector_of(industry: Industry) -> Option<Sector> {
    match industry {
        Industry::Construction | Industry::RealEstate | Industry::PropertyManagement => Some(Sector::Construction),
        Industry::Transport => Some(Sector::Transport),
        Industry::Wholesale | Industry::Retail | Industry::Supermarket | Industry::Catering | Industry::Hotel => {
            Some(Sector::Commerce)
        }
        _ => None,
    }
}

/// Typical share of women workers by industry.
fn women_share(industry: Industry) -> (f64, f64) {
    use Industry::*;
    match industry {
        PrivateKindergarten => (0.85, 1.0),
        Supermarket => (0.6, 0.85),
        Catering | Retail => (0.5, 0.8),
        Hotel | Health => (0.5, 0.8),
        Education => (0.55, 0.75),
        Finance | Entertainment => (0.4, 0.6),
        Manufacturing => (0.25, 0.6),
        Construction => (0.03, 0.15),
        Transport => (0.05, 0.2),
        _ => (0.3, 0.5),
    }
}

const ENTERPRISE_INDUSTRIES: [(Industry, u32); 17] = [
    (Industry::Retail, 14),
    (Industry::Catering, 12),
    (Industry::Manufacturing, 12),
    (Industry::Wholesale, 9),
    (Industry::Construction, 8),
    (Industry::Transport, 6),
    (Industry::Cooperative, 6),
    (Industry::ModernAgriculture, 5),
    (Industry::Supermarket, 5),
    (Industry::RealEstate, 4),
    (Industry::PropertyManagement, 4),
    (Industry::Hotel, 4),
    (Industry::Entertainment, 3),
    (Industry::PrivateKindergarten, 3),
    (Industry::Health, 2),
    (Industry::Finance, 1),
    (Industry::Other, 2),
];

const LARGE_INDUSTRIES: [(Industry, u32); 9] = [
    (Industry::Manufacturing, 40),
    (Industry::Construction, 15),
    (Industry::RealEstate, 6),
    (Industry::PropertyManagement, 6),
    (Industry::Supermarket, 8),
    (Industry::Transport, 8),
    (Industry::Hotel, 6),
    (Industry::Finance, 4),
    (Industry::Wholesale, 7),
];

/// Enterprise size classes: (fewest, most workers, weight in ‰).
const SIZE_CLASSES: [((i64, i64), u32); 5] =
    [((1, 7), 380), ((8, 24), 320), ((25, 99), 220), ((100, 499), 70), ((500, 2000), 10)];

/// A public body from the pools: name, kind, industry, workers range, township.
struct PublicBody {
    name: String,
    kind: UnitKind,
    industry: Industry,
    workers: (i64, i64),
    township: usize,
}

impl<'a> Gen<'a> {
    fn new(cfg: &'a SynthConfig, secret: &'a CountySecret) -> Gen<'a> {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let mut ids = ChaCha8Rng::seed_from_u64(cfg.seed);
        ids.set_stream(1);
        let (county_name, county_stem, county_code) = *one(&mut rng, data::COUNTIES);
        let people = People::new(county_code, &mut rng, cfg.today);
        let end = dec31(cfg.year).min(cfg.today);
        let this_year = (jan1(cfg.year) <= end).then(|| (jan1(cfg.year), end));
        let before_year = dec31(cfg.year - 1).min(cfg.today);
        let county_id = random_id(&mut ids);
        Gen {
            cfg,
            secret,
            rng,
            ids,
            people,
            codes: CreditCodes::default(),
            campaign: CampaignConfig::default_for(cfg.year),
            county_id,
            county_name,
            county_stem,
            county_code,
            townships: Vec::new(),
            communities: Vec::new(),
            grids: Vec::new(),
            entities: Vec::new(),
            unions: Vec::new(),
            unions_by_township: Vec::new(),
            this_year,
            before_year,
            card_serial: 0,
            doc_numbers: BTreeMap::new(),
            summary: Summary::default(),
        }
    }

    fn run(&mut self, sink: Sink<'_>) {
        self.build_areas();
        self.build_entities();
        self.plan_unions();
        self.apportion_members();
        self.emit_areas(sink);
        self.emit_entities(sink);
        self.emit_unions(sink);
        // Every credit code is issued: free the register before the members.
        self.codes = CreditCodes::default();
        self.emit_cadres(sink);
        let (transfers, hardship) = self.emit_members(sink);
        self.emit_transfers(transfers, sink);
        self.emit_hardship(hardship, sink);
        self.emit_visits(sink);
    }

    /// This year's door-to-door census so far: most open entities visited
    /// once by their grid's surveyor (some found nobody or were refused and
    /// are to be visited again), closed ones found closed, each visit with
    /// the device's position around its grid. Drawn from a random stream of
    /// its own, so the records above do not change with it.
    fn emit_visits(&mut self, sink: Sink<'_>) {
        let Some((start, end)) = self.this_year else { return };
        let mut rng = ChaCha8Rng::seed_from_u64(self.cfg.seed);
        rng.set_stream(2);
        let code: i64 = self.county_code.parse().unwrap_or(341_621);
        let centre = (31_000_000 + (code % 300) * 10_000, 114_000_000 + (code / 7 % 400) * 10_000);
        let spread = |rng: &mut Rand, r: i64| rng.random_range(-r..=r);
        let townships: Vec<(i64, i64)> = (0..self.townships.len())
            .map(|_| (centre.0 + spread(&mut rng, 150_000), centre.1 + spread(&mut rng, 150_000)))
            .collect();
        let grids: Vec<(i64, i64)> = (0..self.grids.len())
            .map(|g| {
                let t = self.communities[self.grids[g].community].township;
                (townships[t].0 + spread(&mut rng, 20_000), townships[t].1 + spread(&mut rng, 20_000))
            })
            .collect();
        let outcomes = Weighted::new(&[
            (VisitOutcome::Registered, 55),
            (VisitOutcome::Updated, 25),
            (VisitOutcome::NobodyThere, 15),
            (VisitOutcome::Refused, 5),
        ]);
        for e in 0..self.entities.len() {
            let en = &self.entities[e];
            if !rng.random_bool(if en.closed { 0.8 } else { 0.7 }) {
                continue;
            }
            let outcome = if en.closed { VisitOutcome::ClosedOrMoved } else { outcomes.pick(&mut rng) };
            let visited_on = between(&mut rng, start, end);
            let follow_up_on = (matches!(outcome, VisitOutcome::NobodyThere | VisitOutcome::Refused)
                && rng.random_bool(0.5))
            .then(|| add_days(visited_on, rng.random_range(7..=30)));
            let grid = &self.grids[en.grid];
            let surveyor = grid.members.first().unwrap_or(&grid.leader).clone();
            let (lat, lon) = grids[en.grid];
            let position = Position {
                lat_e6: lat + spread(&mut rng, 4_000),
                lon_e6: lon + spread(&mut rng, 4_000),
                accuracy_m: Some(rng.random_range(5..=50)),
                manual: rng.random_bool(0.05),
            };
            let notes = match outcome {
                VisitOutcome::NobodyThere => "大门紧闭，已留联系卡".to_owned(),
                VisitOutcome::Refused => "负责人不在，工作人员不愿提供信息".to_owned(),
                VisitOutcome::ClosedOrMoved => "现场已无经营，邻居称已搬离".to_owned(),
                _ => String::new(),
            };
            let visit = CensusVisit {
                entity_id: Some(en.id.clone()),
                entity_name: en.name.clone(),
                surveyor,
                visited_on,
                time: format!("{:02}:{:02}", rng.random_range(8..=17), rng.random_range(0..60)),
                outcome,
                notes,
                follow_up_on,
                position: Some(position),
                photos: Photos::new(),
                place: self.entity_place(e),
            };
            let id = random_id(&mut self.ids);
            self.emit(sink, id, Record::Visit(visit));
        }
    }

    fn emit(&mut self, sink: Sink<'_>, id: RecordId, record: Record) {
        let s = &mut self.summary;
        match &record {
            Record::Area(a) => {
                s.areas += 1;
                match a.level {
                    AreaLevel::County => {}
                    AreaLevel::Township => s.townships += 1,
                    AreaLevel::Community => s.communities += 1,
                    AreaLevel::Grid => s.grids += 1,
                }
            }
            Record::Entity(_) => s.entities += 1,
            Record::Union(_) => s.unions += 1,
            Record::Cadre(_) => s.cadres += 1,
            Record::Member(_) => s.members += 1,
            Record::Transfer(_) => s.transfers += 1,
            Record::Hardship(_) => s.hardship_cases += 1,
            Record::Visit(_) => s.visits += 1,
        }
        sink(id, record);
    }

    fn today(&self) -> Date {
        self.cfg.today
    }

    /// `floor(log2(members / 1000))`, at least 0: how much the area tree grows.
    fn scale(&self) -> usize {
        let k = (self.cfg.members / 1000).max(1);
        (63 - k.leading_zeros()) as usize
    }

    // ----- areas -----------------------------------------------------------

    fn build_areas(&mut self) {
        let scale = self.scale();
        let county_code = self.county_code;
        let rng = &mut self.rng;
        let mut towns: Vec<&str> = data::TOWN_STEMS.to_vec();
        let mut rurals: Vec<&str> = data::RURAL_STEMS.to_vec();
        let mut plan: Vec<(TownshipKind, String, String)> = Vec::new();
        let code = |prefix: &str| format!("{county_code}{prefix}");
        plan.push((TownshipKind::UrbanOffice, format!("{}街道办事处", one(rng, data::URBAN_STEMS)), code("001")));
        for i in 0..6 {
            let stem = towns.swap_remove(rng.random_range(0..towns.len()));
            plan.push((TownshipKind::Town, format!("{stem}镇"), code(&format!("{}", 101 + i))));
        }
        for i in 0..4 {
            let stem = rurals.swap_remove(rng.random_range(0..rurals.len()));
            plan.push((TownshipKind::RuralTownship, format!("{stem}乡"), code(&format!("{}", 201 + i))));
        }
        plan.push((
            TownshipKind::DevelopmentZone,
            format!("{}{}", self.county_stem, one(rng, data::DEV_ZONE_SUFFIXES)),
            code("401"),
        ));
        for (kind, name, code) in plan {
            let id = random_id(&mut self.ids);
            let t = self.townships.len();
            let stem = name.trim_end_matches(['镇', '乡']).to_owned();
            let r = &mut self.rng;
            let (urban, villages) = match kind {
                TownshipKind::UrbanOffice => (3 + scale / 2 + r.random_range(0..=2), r.random_range(0..=1)),
                TownshipKind::Town => (1 + usize::from(scale >= 4), 2 + scale / 2 + r.random_range(0..=2)),
                TownshipKind::RuralTownship => (1, 2 + scale / 2 + r.random_range(0..=2)),
                TownshipKind::DevelopmentZone => (1 + scale / 3 + r.random_range(0..=1), r.random_range(0..=1)),
            };
            self.townships.push(Township { id, name, kind, code: code.clone(), communities: Vec::new() });
            let mut used = BTreeSet::new();
            for i in 0..urban {
                let name = if i == 0 && kind == TownshipKind::Town {
                    format!("{stem}社区")
                } else {
                    self.fresh_name(&mut used, |r| format!("{}社区", one(r, data::COMMUNITY_WORDS)))
                };
                self.add_community(t, name, false, format!("{code}{:03}", i + 1), scale);
            }
            for i in 0..villages {
                let name = self.fresh_name(&mut used, village_name);
                self.add_community(t, name, true, format!("{code}{:03}", 200 + i + 1), scale);
            }
        }
    }

    /// A name not yet in `used` (after a few tries, numbered).
    fn fresh_name(&mut self, used: &mut BTreeSet<String>, make: impl Fn(&mut Rand) -> String) -> String {
        for _ in 0..40 {
            let name = make(&mut self.rng);
            if used.insert(name.clone()) {
                return name;
            }
        }
        let base = make(&mut self.rng);
        let mut n = 2;
        loop {
            let name = format!("{base}{}", zh_num(n));
            if used.insert(name.clone()) {
                return name;
            }
            n += 1;
        }
    }

    fn add_community(&mut self, township: usize, name: String, village: bool, code: String, scale: usize) {
        let c = self.communities.len();
        let id = random_id(&mut self.ids);
        let n_grids = if village {
            1 + scale / 4 + self.rng.random_range(0..=1)
        } else {
            2 + scale / 3 + self.rng.random_range(0..=2)
        };
        let mut grids = Vec::with_capacity(n_grids);
        for i in 0..n_grids {
            let grid_name = format!("{name}第{}网格", zh_num(i as u32 + 1));
            let leader_sex = if self.rng.random_bool(0.6) { Sex::Male } else { Sex::Female };
            let leader = self.people.name(&mut self.rng, leader_sex);
            let members = (0..self.rng.random_range(2..=4))
                .map(|_| {
                    let sex = if self.rng.random_bool(0.5) { Sex::Male } else { Sex::Female };
                    self.people.name(&mut self.rng, sex)
                })
                .collect();
            let duty = one(&mut self.rng, data::GRID_DUTIES).replace("{}", &grid_name);
            grids.push(self.grids.len());
            self.grids.push(Grid {
                id: random_id(&mut self.ids),
                name: grid_name,
                community: c,
                leader,
                members,
                duty,
            });
        }
        self.townships[township].communities.push(c);
        self.communities.push(Community { id, name, township, village, code, grids });
    }

    fn emit_areas(&mut self, sink: Sink<'_>) {
        let county = Area {
            name: self.county_name.to_owned(),
            level: AreaLevel::County,
            township_kind: None,
            parent: None,
            township: None,
            code: self.county_code.to_owned(),
            grid_leader: None,
            grid_members: Vec::new(),
            duty: String::new(),
            campaigns: Default::default(),
        };
        self.emit(sink, self.county_id.clone(), Record::Area(county));
        for t in 0..self.townships.len() {
            let tw = &self.townships[t];
            let area = Area {
                name: tw.name.clone(),
                level: AreaLevel::Township,
                township_kind: Some(tw.kind),
                parent: Some(self.county_id.clone()),
                township: None,
                code: tw.code.clone(),
                grid_leader: None,
                grid_members: Vec::new(),
                duty: String::new(),
                campaigns: Default::default(),
            };
            self.emit(sink, tw.id.clone(), Record::Area(area));
        }
        for c in 0..self.communities.len() {
            let co = &self.communities[c];
            let township = self.townships[co.township].id.clone();
            let area = Area {
                name: co.name.clone(),
                level: AreaLevel::Community,
                township_kind: None,
                parent: Some(township.clone()),
                township: Some(township),
                code: co.code.clone(),
                grid_leader: None,
                grid_members: Vec::new(),
                duty: String::new(),
                campaigns: Default::default(),
            };
            self.emit(sink, co.id.clone(), Record::Area(area));
        }
        for g in 0..self.grids.len() {
            let gr = &self.grids[g];
            let co = &self.communities[gr.community];
            let area = Area {
                name: gr.name.clone(),
                level: AreaLevel::Grid,
                township_kind: None,
                parent: Some(co.id.clone()),
                township: Some(self.townships[co.township].id.clone()),
                code: String::new(),
                grid_leader: Some(gr.leader.clone()),
                grid_members: gr.members.clone(),
                duty: gr.duty.clone(),
                campaigns: Default::default(),
            };
            self.emit(sink, gr.id.clone(), Record::Area(area));
        }
    }

    fn place(&self, township: usize, community: Option<usize>, grid: Option<usize>) -> Place {
        Place {
            township: self.townships[township].id.clone(),
            community: community.map(|c| self.communities[c].id.clone()),
            grid: grid.map(|g| self.grids[g].id.clone()),
        }
    }

    fn entity_place(&self, e: usize) -> Place {
        let en = &self.entities[e];
        self.place(en.township, Some(en.community), Some(en.grid))
    }

    fn union_place(&self, u: usize) -> Place {
        let un = &self.unions[u];
        self.place(un.township, un.community, un.grid)
    }

    fn township_of_kind(&self, kind: TownshipKind) -> usize {
        self.townships.iter().position(|t| t.kind == kind).expect("every kind exists")
    }

    // ----- entities --------------------------------------------------------

    fn public_bodies(&mut self) -> Vec<PublicBody> {
        let seat = self.township_of_kind(TownshipKind::UrbanOffice);
        let county = self.county_name;
        let mut out = Vec::new();
        for organ in data::COUNTY_ORGANS {
            let workers = if self.rng.random_bool(0.3) { (12, 24) } else { (25, 120) };
            out.push(PublicBody {
                name: format!("{county}{organ}"),
                kind: UnitKind::Organ,
                industry: Industry::PublicAdministration,
                workers,
                township: seat,
            });
        }
        for &(name, industry, lo, hi) in data::COUNTY_INSTITUTIONS {
            out.push(PublicBody {
                name: format!("{county}{name}"),
                kind: UnitKind::Institution,
                industry,
                workers: (lo, hi),
                township: seat,
            });
        }
        for name in data::COUNTY_SOCIETIES {
            out.push(PublicBody {
                name: format!("{county}{name}"),
                kind: UnitKind::SocialOrganisation,
                industry: Industry::Other,
                workers: (2, 10),
                township: seat,
            });
        }
        for (t, tw) in self.townships.iter().enumerate() {
            let government = match tw.kind {
                TownshipKind::UrbanOffice => tw.name.clone(),
                TownshipKind::DevelopmentZone => format!("{}管理委员会", tw.name),
                _ => format!("{}人民政府", tw.name),
            };
            let body =
                |name: String, kind, industry, workers| PublicBody { name, kind, industry, workers, township: t };
            out.push(body(government, UnitKind::Organ, Industry::PublicAdministration, (30, 90)));
            if tw.kind != TownshipKind::DevelopmentZone {
                let health = if tw.kind == TownshipKind::UrbanOffice {
                    format!("{}社区卫生服务中心", tw.name.trim_end_matches("街道办事处"))
                } else {
                    format!("{}卫生院", tw.name)
                };
                out.push(body(health, UnitKind::Institution, Industry::Health, (20, 90)));
                out.push(body(format!("{}中心学校", tw.name), UnitKind::Institution, Industry::Education, (40, 150)));
                out.push(body(format!("{}中心幼儿园", tw.name), UnitKind::Institution, Industry::Education, (10, 30)));
                out.push(body(
                    format!("{}农业农村服务中心", tw.name),
                    UnitKind::Institution,
                    Industry::PublicAdministration,
                    (6, 20),
                ));
            }
            out.push(body(format!("{}商会", tw.name), UnitKind::SocialOrganisation, Industry::Other, (2, 8)));
        }
        out
    }

    fn build_entities(&mut self) {
        let n = (self.cfg.members / 10).max(20) as usize;
        let mut pool = self.public_bodies();
        let mut names: HashSet<String> = HashSet::with_capacity(n);
        let size_classes = Weighted::new(&SIZE_CLASSES);
        let industries = Weighted::new(&ENTERPRISE_INDUSTRIES);
        let large_industries = Weighted::new(&LARGE_INDUSTRIES);
        let township_weights = |large: bool| -> Vec<(usize, u32)> {
            self.townships
                .iter()
                .enumerate()
                .map(|(t, tw)| {
                    let w = match (tw.kind, large) {
                        (TownshipKind::UrbanOffice, false) => 40,
                        (TownshipKind::DevelopmentZone, false) => 35,
                        (TownshipKind::Town, false) => 12,
                        (TownshipKind::RuralTownship, false) => 6,
                        (TownshipKind::UrbanOffice, true) => 40,
                        (TownshipKind::DevelopmentZone, true) => 60,
                        (TownshipKind::Town, true) => 10,
                        (TownshipKind::RuralTownship, true) => 3,
                    };
                    (t, w)
                })
                .collect()
        };
        let small_places = Weighted::new(&township_weights(false));
        let large_places = Weighted::new(&township_weights(true));
        self.entities.reserve(n);
        for _ in 0..n {
            let rng = &mut self.rng;
            let public =
                (!pool.is_empty() && rng.random_bool(0.06)).then(|| pool.swap_remove(rng.random_range(0..pool.len())));
            let (kind, ownership, industry, workers, township, name, individual) = match public {
                Some(body) => {
                    let workers = rng.random_range(body.workers.0..=body.workers.1);
                    let ownership =
                        if body.kind == UnitKind::SocialOrganisation { Ownership::Other } else { Ownership::State };
                    (body.kind, ownership, body.industry, workers, body.township, Some(body.name), false)
                }
                None => {
                    let (lo, hi) = size_classes.pick(rng);
                    let workers = skewed(rng, lo, hi, 1.6);
                    let industry = if workers >= 100 { large_industries.pick(rng) } else { industries.pick(rng) };
                    let ownership = match industry {
                        Industry::Cooperative if rng.random_bool(0.6) => Ownership::Collective,
                        _ => match rng.random_range(0..100) {
                            0..88 => Ownership::Private,
                            88..91 => Ownership::State,
                            91..94 => Ownership::Collective,
                            94..96 if workers >= 25 => Ownership::ForeignInvested,
                            _ => Ownership::Other,
                        },
                    };
                    let individual = workers <= 7
                        && ownership == Ownership::Private
                        && matches!(
                            industry,
                            Industry::Catering | Industry::Retail | Industry::Supermarket | Industry::Entertainment
                        )
                        && rng.random_bool(0.5);
                    let township = if workers >= 100 { large_places.pick(rng) } else { small_places.pick(rng) };
                    (UnitKind::Enterprise, ownership, industry, workers, township, None, individual)
                }
            };
            let community = self.pick_community(township, industry);
            let grid = *one(&mut self.rng, &self.communities[community].grids);
            let name = match name {
                Some(n) => {
                    names.insert(n.clone());
                    n
                }
                None => self.enterprise_name(&mut names, industry, individual, workers, township, community),
            };
            let rng = &mut self.rng;
            let (lo, hi) = women_share(industry);
            let share = lo + (hi - lo) * rng.random::<f64>();
            let women = ((workers as f64 * share).round() as i64).clamp(0, workers);
            let owner_sex = if rng.random_bool(0.72) { Sex::Male } else { Sex::Female };
            let owner = self.people.name(&mut self.rng, owner_sex);
            let rng = &mut self.rng;
            let authority = match (kind, industry) {
                (UnitKind::Organ, _) => "11",
                (UnitKind::Institution, _) => "12",
                (UnitKind::SocialOrganisation, _) => "51",
                (_, Industry::Cooperative) => "93",
                _ if individual => "92",
                _ => "91",
            };
            let credit = if kind == UnitKind::Enterprise && workers < 25 && rng.random_bool(0.03) {
                Credit::None
            } else if rng.random_bool(0.01) {
                Credit::Bad(self.codes.issue_bad(rng, authority, self.county_code))
            } else {
                Credit::Valid(self.codes.issue(rng, authority, self.county_code))
            };
            let closed = rng.random_bool(0.02);
            let id = match &credit {
                Credit::Valid(c) | Credit::Bad(c) => self.secret.record_id(&format!("entity:{c}")),
                Credit::None => random_id(&mut self.ids),
            };
            self.entities.push(Entity {
                id,
                name,
                credit,
                kind,
                ownership,
                industry,
                township,
                community,
                grid,
                workers,
                women,
                closed,
                owner,
                owner_sex,
                union: None,
                quota: 0,
            });
        }
    }

    fn pick_community(&mut self, township: usize, industry: Industry) -> usize {
        let farming = matches!(industry, Industry::Cooperative | Industry::ModernAgriculture);
        let weights: Vec<(usize, u32)> = self.townships[township]
            .communities
            .iter()
            .map(|&c| {
                let village = self.communities[c].village;
                (c, if village == farming { 4 } else { 1 })
            })
            .collect();
        Weighted::new(&weights).pick(&mut self.rng)
    }

    fn enterprise_name(
        &mut self,
        names: &mut HashSet<String>,
        industry: Industry,
        individual: bool,
        workers: i64,
        township: usize,
        community: usize,
    ) -> String {
        let county = self.county_name;
        // Shops and restaurants (…商行, …饭店, …诊所) are small; larger units are companies.
        let all_words = data::enterprise_words(industry);
        let company_words: Vec<&str> = all_words.iter().copied().filter(|w| w.ends_with("公司")).collect();
        let words: &[&str] = if workers >= 25 && !company_words.is_empty() { &company_words } else { all_words };
        let stem = self.county_stem;
        let township_name = self.townships[township].name.clone();
        let rng = &mut self.rng;
        for attempt in 0..60 {
            let brand = brand(rng);
            let name = if individual {
                let word = one(rng, data::shop_words(industry));
                if industry == Industry::Catering && rng.random_bool(0.5) {
                    format!("{county}{township_name}{}记{word}", self.people.surname(rng))
                } else {
                    format!("{county}{township_name}{brand}{word}")
                }
            } else if industry == Industry::PrivateKindergarten {
                let k = one(rng, data::KINDERGARTEN_BRANDS);
                let word = one(rng, data::enterprise_words(industry));
                match attempt % 3 {
                    0 => format!("{county}{k}{word}"),
                    1 => format!("{township_name}{k}{word}"),
                    _ => format!("{county}{brand}{word}"),
                }
            } else if industry == Industry::Cooperative {
                let place = if rng.random_bool(0.5) {
                    self.communities[community].name.trim_end_matches(['村', '社', '区']).to_owned()
                } else {
                    brand
                };
                format!("{county}{place}{}", one(rng, data::enterprise_words(industry)))
            } else {
                let prefix = if rng.random_bool(0.8) { county } else { stem };
                let word = one(rng, words);
                if attempt < 40 {
                    format!("{prefix}{brand}{word}")
                } else {
                    format!("{prefix}{township_name}{brand}{word}")
                }
            };
            if names.insert(name.clone()) {
                return name;
            }
        }
        // Practically unreachable: number the name.
        let base = format!("{county}{township_name}{}", data::enterprise_words(industry)[0]);
        (2..)
            .map(|n| format!("{base}（{}）", zh_num(n)))
            .find(|n| names.insert(n.clone()))
            .expect("an unused number exists")
    }

    fn emit_entities(&mut self, sink: Sink<'_>) {
        for e in 0..self.entities.len() {
            let place = self.entity_place(e);
            let address = self.address(e);
            let rng = &mut self.rng;
            let phone = rng.random_bool(0.9).then(|| mobile(rng));
            let en = &mut self.entities[e];
            let (credit_code, credit_code_override, mut notes) = match std::mem::replace(&mut en.credit, Credit::None) {
                Credit::None => (None, None, "尚未办理统一社会信用代码，待核实".to_owned()),
                Credit::Valid(c) => (Some(c), None, String::new()),
                Credit::Bad(c) => (
                    Some(c),
                    Some("与营业执照原件一致，校验位异常，保留原码，已报市场监管部门核实".to_owned()),
                    String::new(),
                ),
            };
            if en.closed {
                let why = if rng.random_bool(0.7) { "已注销" } else { "已迁出本县" };
                notes = if notes.is_empty() { why.to_owned() } else { format!("{why}；{notes}") };
            }
            let record = LegalEntity {
                name: en.name.clone(),
                credit_code,
                credit_code_override,
                unit_kind: en.kind,
                ownership: en.ownership,
                industry: en.industry,
                address,
                place,
                workers: en.workers,
                women_workers: en.women,
                union_id: None,
                owner_name: Some(en.owner.clone()),
                contact_phone: phone,
                closed: en.closed,
                notes,
                photos: Default::default(),
            };
            let union_id = en.union.map(|u| self.unions[u].id.clone());
            let id = self.entities[e].id.clone();
            self.emit(sink, id, Record::Entity(LegalEntity { union_id, ..record }));
        }
    }

    fn address(&mut self, e: usize) -> String {
        let en = &self.entities[e];
        let co = &self.communities[en.community];
        let tw = &self.townships[en.township];
        let rng = &mut self.rng;
        if co.village {
            format!("{}{}{}{}组", self.county_name, tw.name, co.name, zh_num(rng.random_range(1..=9)))
        } else if tw.kind == TownshipKind::DevelopmentZone && rng.random_bool(0.4) {
            let a = one(rng, data::STREETS);
            let mut b = one(rng, data::STREETS);
            while b == a {
                b = one(rng, data::STREETS);
            }
            let corner = one(rng, &["东北角", "西北角", "东南角", "西南角"]);
            format!("{}{}{a}与{b}交叉口{corner}", self.county_name, tw.name)
        } else {
            format!("{}{}{}{}号", self.county_name, tw.name, one(rng, data::STREETS), rng.random_range(1..=399))
        }
    }

    // ----- unions ----------------------------------------------------------

    fn new_union(&mut self, name: String, kind: UnionKind, township: usize) -> usize {
        let id = random_id(&mut self.ids);
        self.unions.push(Union {
            id,
            name,
            kind,
            sector: None,
            township,
            community: None,
            grid: None,
            parent: None,
            entity: None,
            founded_on: self.today(),
            is_new: false,
            workers: 0,
            women: 0,
            covers_private: false,
            women_committee: false,
            audit_committee: false,
            vacancy: Vacancy::Filled,
            owner_chair: None,
            quota: 0,
            reserved: VecDeque::new(),
        });
        self.unions.len() - 1
    }

    fn plan_unions(&mut self) {
        // Township unions, federations and community unions.
        for t in 0..self.townships.len() {
            let name = format!("{}总工会", self.townships[t].name.trim_end_matches("办事处"));
            self.new_union(name, UnionKind::Township, t);
        }
        let seat = self.township_of_kind(TownshipKind::UrbanOffice);
        let mut sectors = vec![(Sector::Construction, "建设"), (Sector::Transport, "交通运输")];
        if self.entities.len() >= 500 {
            sectors.push((Sector::Commerce, "商务"));
        }
        let mut federations: Vec<(Sector, usize)> = Vec::new();
        for (sector, word) in sectors {
            let u = self.new_union(format!("{}{word}系统工会联合会", self.county_name), UnionKind::Federation, seat);
            self.unions[u].sector = Some(sector);
            federations.push((sector, u));
        }
        let mut community_union = Vec::with_capacity(self.communities.len());
        for c in 0..self.communities.len() {
            let co = &self.communities[c];
            let t = co.township;
            let name = format!("{}{}工会", self.townships[t].name.trim_end_matches("办事处"), co.name);
            let u = self.new_union(name, UnionKind::Community, t);
            self.unions[u].community = Some(c);
            community_union.push(u);
        }

        // How each entity is covered.
        let mut covers = Vec::with_capacity(self.entities.len());
        for e in 0..self.entities.len() {
            let en = &self.entities[e];
            let rng = &mut self.rng;
            let public = en.kind != UnitKind::Enterprise;
            let cover = if en.closed || en.workers == 0 {
                Cover::None
            } else if en.workers >= rules::OWN_UNION_MIN_WORKERS {
                let p = if public { 0.97 } else { 0.92 };
                if rng.random_bool(p) { Cover::Own } else { Cover::None }
            } else if en.workers >= 10 && rng.random_bool(0.06) {
                Cover::Own
            } else if public {
                match rng.random_range(0..10) {
                    0..7 => Cover::Township,
                    7..9 => Cover::Community,
                    _ => Cover::None,
                }
            } else {
                let federation = sector_of(en.industry).and_then(|s| federations.iter().find(|(fs, _)| *fs == s));
                if let Some(&(_, f)) = federation
                    && rng.random_bool(0.25)
                {
                    Cover::Federation(f)
                } else {
                    match rng.random_range(0..100) {
                        0..42 => Cover::Joint,
                        42..89 => Cover::Community,
                        _ => Cover::None,
                    }
                }
            };
            covers.push(cover);
        }
        // At least one unit of 25+ without a union, for the rules to find.
        let big = |e: &Entity| !e.closed && e.workers >= rules::OWN_UNION_MIN_WORKERS;
        let big_count = self.entities.iter().filter(|e| big(e)).count();
        let big_uncovered =
            (0..self.entities.len()).filter(|&e| big(&self.entities[e]) && covers[e] == Cover::None).count();
        if big_count >= 3 && big_uncovered == 0 {
            let candidates: Vec<usize> = (0..self.entities.len())
                .filter(|&e| big(&self.entities[e]) && self.entities[e].kind == UnitKind::Enterprise)
                .collect();
            if !candidates.is_empty() {
                covers[*one(&mut self.rng, &candidates)] = Cover::None;
            }
        }

        // Create single-unit unions and group joint ones.
        let mut joint: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
        for (e, &cover) in covers.iter().enumerate() {
            let en = &self.entities[e];
            let union = match cover {
                Cover::None => None,
                Cover::Own => {
                    let name = if en.kind == UnitKind::Organ {
                        format!("{}机关工会委员会", en.name)
                    } else {
                        format!("{}工会委员会", en.name)
                    };
                    let (t, c, g) = (en.township, en.community, en.grid);
                    let u = self.new_union(name, UnionKind::SingleUnit, t);
                    let un = &mut self.unions[u];
                    un.community = Some(c);
                    un.grid = Some(g);
                    un.entity = Some(e);
                    Some(u)
                }
                Cover::Joint => {
                    joint.entry((en.township, joint_group(en.industry))).or_default().push(e);
                    None
                }
                Cover::Community => Some(community_union[en.community]),
                Cover::Township => Some(en.township),
                Cover::Federation(f) => Some(f),
            };
            self.entities[e].union = union;
        }
        // A bucket too small for a joint union of its own industry joins the
        // township's mixed bucket; a unit left alone there goes to its community union.
        let mixed = JOINT_GROUPS.len() - 1;
        let mut buckets: BTreeMap<(usize, usize), Vec<usize>> = BTreeMap::new();
        for ((t, group), list) in joint {
            let key = if list.len() < 3 { (t, mixed) } else { (t, group) };
            buckets.entry(key).or_default().extend(list);
        }
        for ((t, group), members) in buckets {
            if members.len() < 2 {
                for e in members {
                    self.entities[e].union = Some(community_union[self.entities[e].community]);
                }
                continue;
            }
            let mut chunks: Vec<&[usize]> = Vec::new();
            let mut rest = &members[..];
            while !rest.is_empty() {
                let size = self.rng.random_range(3..=12).min(rest.len());
                // A joint union needs at least two units: a remainder of one joins this chunk.
                let take = if rest.len() - size == 1 { rest.len() } else { size };
                let (chunk, tail) = rest.split_at(take);
                chunks.push(chunk);
                rest = tail;
            }
            let base = self.townships[t].name.trim_end_matches("办事处").to_owned();
            let word = JOINT_GROUPS[group].0;
            for (i, chunk) in chunks.iter().enumerate() {
                let name = if chunks.len() == 1 {
                    format!("{base}{word}联合工会")
                } else {
                    format!("{base}{word}第{}联合工会", zh_num(i as u32 + 1))
                };
                let u = self.new_union(name, UnionKind::Joint, t);
                self.unions[u].community = Some(self.entities[chunk[0]].community);
                for &e in *chunk {
                    self.entities[e].union = Some(u);
                }
            }
        }

        // Workers, women and private enterprises covered.
        for e in 0..self.entities.len() {
            if let Some(u) = self.entities[e].union {
                let (w, f, private) =
                    (self.entities[e].workers, self.entities[e].women, self.entities[e].private_enterprise());
                let un = &mut self.unions[u];
                un.workers += w;
                un.women += f;
                un.covers_private |= private;
            }
        }
        self.unions_by_township = vec![Vec::new(); self.townships.len()];
        for u in 0..self.unions.len() {
            self.unions_by_township[self.unions[u].township].push(u);
        }

        self.found_unions();
        self.shape_unions(&federations);
    }

    /// Founding dates: the year's new unions per township, the rest earlier.
    fn found_unions(&mut self) {
        let today = self.today();
        let before = self.before_year;
        for u in 0..self.unions.len() {
            let rng = &mut self.rng;
            let (from, to) = match self.unions[u].kind {
                UnionKind::Township => (ymd(1984, 1, 1), ymd(2002, 12, 31)),
                UnionKind::Federation => (ymd(2010, 1, 1), ymd(2020, 12, 31)),
                UnionKind::Community => (ymd(2008, 1, 1), before),
                UnionKind::Joint => (ymd(2012, 1, 1), before),
                UnionKind::SingleUnit => (ymd(2000, 1, 1), before),
            };
            // Later years are likelier: most unions were founded in the drives since 2010.
            let a = between(rng, from, to.min(today));
            let b = between(rng, from, to.min(today));
            self.unions[u].founded_on = a.max(b).min(today);
        }
        let Some((start, end)) = self.this_year else { return };
        let drive = (ymd(self.cfg.year, 5, 1), ymd(self.cfg.year, 5, 31));
        for t in 0..self.townships.len() {
            let target = i64::from(self.campaign.target_for(self.townships[t].kind).new_unions);
            let mut candidates: Vec<(usize, f64)> = self.unions_by_township[t]
                .iter()
                .filter_map(|&u| {
                    let un = &self.unions[u];
                    let w = match un.kind {
                        // Public bodies have had their unions for years.
                        UnionKind::SingleUnit
                            if un.entity.is_some_and(|e| self.entities[e].kind != UnitKind::Enterprise) =>
                        {
                            return None;
                        }
                        UnionKind::SingleUnit => 1.0 / (1.0 + un.workers as f64 / 25.0),
                        UnionKind::Joint => 1.0,
                        UnionKind::Community => 0.3,
                        _ => return None,
                    };
                    Some((u, w))
                })
                .collect();
            // The plan's target give or take, but in a tiny county not most of its unions.
            let cap = (candidates.len() as f64 * 0.4).ceil() as usize;
            let mut k = ((target + self.rng.random_range(-1..=2)).max(0) as usize).min(cap);
            while k > 0 && !candidates.is_empty() {
                let total: f64 = candidates.iter().map(|(_, w)| w).sum();
                let mut x = self.rng.random::<f64>() * total;
                let mut i = 0;
                while i + 1 < candidates.len() && x >= candidates[i].1 {
                    x -= candidates[i].1;
                    i += 1;
                }
                let (u, _) = candidates.swap_remove(i);
                let date = if end >= drive.1 && self.rng.random_bool(0.6) {
                    between(&mut self.rng, drive.0, drive.1)
                } else {
                    between(&mut self.rng, start, end)
                };
                self.unions[u].founded_on = date;
                self.unions[u].is_new = true;
                k -= 1;
            }
        }
    }

    /// Parents, committees, vacancies and owners in the chair.
    fn shape_unions(&mut self, federations: &[(Sector, usize)]) {
        for u in 0..self.unions.len() {
            let rng = &mut self.rng;
            let un = &self.unions[u];
            let parent = match un.kind {
                UnionKind::Township | UnionKind::Federation => None,
                UnionKind::Joint | UnionKind::Community => Some(un.township),
                UnionKind::SingleUnit => {
                    let industry = self.entities[un.entity.expect("single-unit union has its entity")].industry;
                    match sector_of(industry).and_then(|s| federations.iter().find(|(fs, _)| *fs == s)) {
                        Some(&(_, f)) if rng.random_bool(0.5) => Some(f),
                        _ => Some(un.township),
                    }
                }
            };
            let women_committee = if un.women >= rules::WOMEN_COMMITTEE_MIN_WOMEN {
                rng.random_bool(0.88)
            } else {
                un.women > 0 && rng.random_bool(0.08)
            };
            let audit_committee = if un.workers >= 25 || un.kind != UnionKind::SingleUnit {
                rng.random_bool(0.85)
            } else {
                rng.random_bool(0.25)
            };
            let vacancy = match rng.random_range(0..1000) {
                0..25 => Vacancy::NoChair,
                25..50 => Vacancy::ChairLeft,
                _ => Vacancy::Filled,
            };
            let un = &mut self.unions[u];
            un.parent = parent;
            un.women_committee = women_committee;
            un.audit_committee = audit_committee;
            un.vacancy = vacancy;
        }
        if !self.unions.iter().any(|u| u.vacancy != Vacancy::Filled) {
            let u = self.rng.random_range(0..self.unions.len());
            self.unions[u].vacancy = Vacancy::ChairLeft;
        }
        // The owner or a close relative in the chair of a private enterprise's union.
        let candidates: Vec<usize> = (0..self.unions.len())
            .filter(|&u| {
                let un = &self.unions[u];
                un.kind == UnionKind::SingleUnit
                    && un.vacancy == Vacancy::Filled
                    && un.entity.is_some_and(|e| self.entities[e].private_enterprise())
            })
            .collect();
        let mut any = false;
        for &u in &candidates {
            if self.rng.random_bool(0.012) {
                self.unions[u].owner_chair = Some(self.owner_relation());
                any = true;
            }
        }
        if !any && !candidates.is_empty() {
            let u = *one(&mut self.rng, &candidates);
            self.unions[u].owner_chair = Some(self.owner_relation());
        }
    }

    fn owner_relation(&mut self) -> OwnerRelation {
        if self.rng.random_bool(0.6) { OwnerRelation::Owner } else { OwnerRelation::CloseRelative }
    }

    fn approval_doc(&mut self, body: ApprovalBody, u: usize, year: i32) -> String {
        let un = &self.unions[u];
        let prefix = match body {
            ApprovalBody::CountyFederation => format!("{}总工", self.county_stem),
            ApprovalBody::TownUnion => format!("{}工会", self.townships[un.township].name.trim_end_matches("办事处")),
            ApprovalBody::CommunityUnion => match un.community {
                Some(c) => format!("{}工", self.communities[c].name),
                None => format!("{}工", self.townships[un.township].name),
            },
        };
        let n = self.doc_numbers.entry(format!("{prefix}{year}")).or_insert(0);
        *n += 1;
        format!("{prefix}〔{year}〕{n}号")
    }

    fn emit_unions(&mut self, sink: Sink<'_>) {
        let today = self.today();
        // Dissolutions draw from their own stream, so the rest of the county
        // is the same with or without them.
        let mut fate = ChaCha8Rng::seed_from_u64(self.cfg.seed);
        fate.set_stream(3);
        for u in 0..self.unions.len() {
            let (kind, workers, founded_on, vacancy, covers_private, is_new) = {
                let un = &self.unions[u];
                (un.kind, un.workers, un.founded_on, un.vacancy, un.covers_private, un.is_new)
            };
            let grassroots = matches!(kind, UnionKind::SingleUnit | UnionKind::Joint | UnionKind::Community);
            let rng = &mut self.rng;
            let approved_by = if !grassroots || (founded_on.year() < 2005 && rng.random_bool(0.3)) {
                None
            } else if rng.random_bool(0.94) {
                Some(rules::approval_body(workers).value)
            } else {
                Some(*one(rng, ApprovalBody::ALL))
            };
            let approved_on = approved_by.map(|_| add_days(founded_on, -rng.random_range(5..=40)));
            let approval_doc = match (approved_by, approved_on) {
                (Some(body), Some(on)) => self.approval_doc(body, u, on.year()),
                _ => String::new(),
            };
            let rng = &mut self.rng;
            let liuyou_rate = if matches!(kind, UnionKind::Township | UnionKind::Community) { 0.74 } else { 0.7 };
            let mut six = [true; 6];
            if vacancy != Vacancy::Filled {
                six[1] = false;
            } else if !rng.random_bool(liuyou_rate) {
                knock_out(rng, &mut six);
            }
            let mut eight = [true; 8];
            if !rng.random_bool(if covers_private { 0.78 } else { 0.7 }) {
                knock_out(rng, &mut eight);
            }
            if approved_by.is_none() {
                eight[1] = false;
            }
            let credit_code = match kind {
                UnionKind::Township => true,
                _ if is_new => rng.random_bool(0.1),
                _ if workers >= 50 => rng.random_bool(0.6),
                _ => rng.random_bool(0.2),
            }
            .then(|| self.codes.issue(&mut self.rng, "81", self.county_code));
            let un = &self.unions[u];
            let notes = if is_new { format!("{}年新建", self.cfg.year) } else { String::new() };
            let record = GrassrootsUnion {
                name: un.name.clone(),
                kind,
                sector: un.sector,
                place: self.union_place(u),
                parent_union: un.parent.map(|p| self.unions[p].id.clone()),
                founded_on: Some(founded_on),
                approved_on: approved_on.map(|d| d.min(today)),
                approved_by,
                approval_doc,
                workers,
                women_workers: un.women,
                has_women_committee: un.women_committee,
                has_audit_committee: un.audit_committee,
                liuyou: LiuYou {
                    premises: six[0],
                    elected_chair: six[1],
                    organisation: six[2],
                    activities: six[3],
                    rules: six[4],
                    results: six[5],
                },
                bayou: BaYou {
                    sign_board: eight[0],
                    approval: eight[1],
                    seal: eight[2],
                    funds: eight[3],
                    premises: eight[4],
                    rules: eight[5],
                    activities: eight[6],
                    archives: eight[7],
                },
                credit_code,
                credit_code_override: None,
                // ≈ 3 % of older single-unit unions were dissolved this
                // year; their entities still name them (and are uncovered
                // again on every tier).
                dissolved_on: match self.this_year {
                    Some((start, end)) if kind == UnionKind::SingleUnit && !is_new && fate.random_bool(0.03) => {
                        Some(between(&mut fate, start.max(founded_on), end))
                    }
                    _ => None,
                },
                notes,
                photos: Default::default(),
            };
            let id = un.id.clone();
            self.emit(sink, id, Record::Union(record));
        }
    }

    // ----- members: quotas -------------------------------------------------

    /// Spreads exactly `members` members over the covered entities, in
    /// proportion to their workers, never more than their workers unless the
    /// county has too few workers.
    fn apportion_members(&mut self) {
        let mut weights: Vec<(usize, f64)> = Vec::new();
        for e in 0..self.entities.len() {
            let en = &self.entities[e];
            let Some(u) = en.union else { continue };
            let un = &self.unions[u];
            let propensity = match (un.kind, un.is_new) {
                (UnionKind::SingleUnit, false) => 0.9,
                (UnionKind::SingleUnit, true) => 0.45,
                (_, false) => 0.7,
                (_, true) => 0.35,
            };
            let jitter = 0.6 + 0.4 * self.rng.random::<f64>();
            weights.push((e, en.workers as f64 * propensity * jitter));
        }
        let mut remaining = self.cfg.members;
        // Rounds: allocate proportionally among entities with room left.
        for _ in 0..64 {
            if remaining == 0 {
                break;
            }
            let open: Vec<(usize, f64)> = weights
                .iter()
                .copied()
                .filter(|&(e, w)| w > 0.0 && (self.entities[e].quota as i64) < self.entities[e].workers)
                .collect();
            let total: f64 = open.iter().map(|(_, w)| w).sum();
            if open.is_empty() || total <= 0.0 {
                break;
            }
            let mut cum = 0.0;
            let mut given_before = 0u64;
            let mut given = 0u64;
            for (i, &(e, w)) in open.iter().enumerate() {
                cum += w;
                let upto = if i + 1 == open.len() {
                    remaining
                } else {
                    ((remaining as f64) * cum / total).floor().min(remaining as f64) as u64
                };
                let share = upto.saturating_sub(given_before);
                given_before = given_before.max(upto);
                let en = &mut self.entities[e];
                let room = (en.workers as u64).saturating_sub(en.quota);
                let add = share.min(room);
                en.quota += add;
                given += add;
            }
            remaining -= given;
        }
        // Too few workers for the members asked for: over-fill the largest units.
        if remaining > 0 {
            let mut order: Vec<usize> = weights.iter().map(|&(e, _)| e).collect();
            if order.is_empty() {
                // No covered entity at all: cover the largest open one by its community union.
                let e = (0..self.entities.len())
                    .filter(|&e| !self.entities[e].closed)
                    .max_by_key(|&e| (self.entities[e].workers, std::cmp::Reverse(e)))
                    .unwrap_or(0);
                let en = &self.entities[e];
                let u = self
                    .unions
                    .iter()
                    .position(|u| u.kind == UnionKind::Community && u.community == Some(en.community))
                    .expect("every community has a union");
                self.entities[e].closed = false;
                self.entities[e].union = Some(u);
                self.entities[e].workers = self.entities[e].workers.max(1);
                let (w, f) = (self.entities[e].workers, self.entities[e].women);
                self.unions[u].workers += w;
                self.unions[u].women += f;
                order.push(e);
            }
            order.sort_by_key(|&e| (std::cmp::Reverse(self.entities[e].workers), e));
            let n = order.len() as u64;
            for (i, &e) in order.iter().enumerate() {
                self.entities[e].quota += remaining / n + u64::from((i as u64) < remaining % n);
            }
        }
        for e in 0..self.entities.len() {
            if let Some(u) = self.entities[e].union {
                self.unions[u].quota += self.entities[e].quota;
            }
        }
        debug_assert_eq!(self.entities.iter().map(|e| e.quota).sum::<u64>(), self.cfg.members);
    }

    // ----- cadres ----------------------------------------------------------

    fn emit_cadres(&mut self, sink: Sink<'_>) {
        let today = self.today();
        for u in 0..self.unions.len() {
            let (kind, workers, women, founded_on, vacancy, owner_chair, women_committee, audit_committee) = {
                let un = &self.unions[u];
                (
                    un.kind,
                    un.workers,
                    un.women,
                    un.founded_on,
                    un.vacancy,
                    un.owner_chair,
                    un.women_committee,
                    un.audit_committee,
                )
            };
            let five_years_ago = add_years(today, -5);
            let term =
                if founded_on >= five_years_ago { founded_on } else { between(&mut self.rng, five_years_ago, today) };
            let federation_like = matches!(kind, UnionKind::Township | UnionKind::Federation);
            // Chair.
            match vacancy {
                Vacancy::NoChair => {}
                Vacancy::ChairLeft => {
                    let elected = between(&mut self.rng, founded_on, add_days(today, -180).max(founded_on));
                    let left = between(&mut self.rng, add_days(elected, 90).min(today), today);
                    let person = self.cadre_person(CadreRole::Chair);
                    self.cadre(
                        sink,
                        u,
                        CadreRole::Chair,
                        person,
                        elected,
                        Some(left),
                        federation_like,
                        OwnerRelation::Unrelated,
                    );
                }
                Vacancy::Filled => {
                    let relation = owner_chair.unwrap_or(OwnerRelation::Unrelated);
                    let person = match relation {
                        OwnerRelation::Unrelated => self.cadre_person(CadreRole::Chair),
                        _ => {
                            let en = &self.entities[self.unions[u].entity.expect("owner chairs are in single units")];
                            let (owner, owner_sex) = (en.owner.clone(), en.owner_sex);
                            if relation == OwnerRelation::Owner {
                                self.people.person(&mut self.rng, owner, owner_sex, 35, 60)
                            } else {
                                let surname: String = owner.chars().next().into_iter().collect();
                                let sex = if self.rng.random_bool(0.5) { Sex::Male } else { Sex::Female };
                                let name = format!("{surname}{}", self.people.given_name(&mut self.rng, sex));
                                self.people.person(&mut self.rng, name, sex, 25, 55)
                            }
                        }
                    };
                    let full_time = federation_like || (workers >= 500 && self.rng.random_bool(0.6));
                    let elected = self.elected(term);
                    self.cadre(sink, u, CadreRole::Chair, person, elected, None, full_time, relation);
                }
            }
            let vice = if workers >= 300 {
                2
            } else if workers >= 50 || federation_like {
                1
            } else {
                0
            };
            let committee = if workers >= 100 {
                self.rng.random_range(3..=5)
            } else if workers >= 25 || kind != UnionKind::SingleUnit {
                2
            } else {
                0
            };
            let mut roles = vec![CadreRole::ViceChair; vice];
            roles.extend(std::iter::repeat_n(CadreRole::CommitteeMember, committee));
            if audit_committee {
                roles.push(CadreRole::AuditChair);
                if workers >= 50 {
                    let n = self.rng.random_range(1..=2);
                    roles.extend(std::iter::repeat_n(CadreRole::AuditMember, n));
                }
            }
            if women_committee {
                roles.push(CadreRole::WomenCommitteeChair);
                if women >= 50 {
                    roles.push(CadreRole::WomenCommitteeMember);
                }
            }
            for role in roles {
                let person = self.cadre_person(role);
                let elected = self.elected(term);
                let full_time =
                    role == CadreRole::ViceChair && kind == UnionKind::Township && self.rng.random_bool(0.5);
                self.cadre(sink, u, role, person, elected, None, full_time, OwnerRelation::Unrelated);
            }
        }
    }

    /// Elected at the start of the term, or later in a by-election.
    fn elected(&mut self, term: Date) -> Date {
        let today = self.today();
        if self.rng.random_bool(0.85) { term } else { between(&mut self.rng, term, today) }
    }

    fn cadre_person(&mut self, role: CadreRole) -> Person {
        let rng = &mut self.rng;
        let (sex, lo, hi) = match role {
            CadreRole::WomenCommitteeChair | CadreRole::WomenCommitteeMember => (Sex::Female, 26, 52),
            CadreRole::Chair | CadreRole::AuditChair => {
                (if rng.random_bool(0.7) { Sex::Male } else { Sex::Female }, 30, 58)
            }
            _ => (if rng.random_bool(0.55) { Sex::Male } else { Sex::Female }, 25, 55),
        };
        let name = self.people.name(&mut self.rng, sex);
        self.people.person(&mut self.rng, name, sex, lo, hi)
    }

    #[allow(clippy::too_many_arguments)]
    fn cadre(
        &mut self,
        sink: Sink<'_>,
        u: usize,
        role: CadreRole,
        person: Person,
        elected_on: Date,
        left_on: Option<Date>,
        full_time: bool,
        owner_relation: OwnerRelation,
    ) {
        let un = &self.unions[u];
        let room = un.quota > un.reserved.len() as u64;
        let rng = &mut self.rng;
        let (resident_id, member_id) = if left_on.is_none() && room && rng.random_bool(0.9) {
            let member_id = member_record_id(self.secret, &person.resident_id);
            (Some(person.resident_id.clone()), Some(member_id))
        } else if rng.random_bool(0.75) {
            (Some(person.resident_id.clone()), None)
        } else {
            (None, None)
        };
        let phone = rng.random_bool(0.95).then(|| mobile(rng));
        let record = Cadre {
            name: person.name.clone(),
            resident_id,
            member_id: member_id.clone(),
            union_id: un.id.clone(),
            role,
            elected_on: Some(elected_on),
            left_on,
            full_time,
            owner_relation,
            phone,
            place: self.union_place(u),
        };
        if member_id.is_some() {
            self.unions[u].reserved.push_back(Reserved { person: person.compact(), joined_by: elected_on });
        }
        let id = random_id(&mut self.ids);
        self.emit(sink, id, Record::Cadre(record));
    }

    // ----- members ---------------------------------------------------------

    fn emit_members(&mut self, sink: Sink<'_>) -> (Vec<Sampled>, Vec<Sampled>) {
        let mut transfers = Vec::new();
        let mut hardship = Vec::new();
        let education_young = Weighted::new(&[
            (Education::Primary, 2),
            (Education::JuniorHigh, 24),
            (Education::SeniorHigh, 30),
            (Education::College, 24),
            (Education::Bachelor, 17),
            (Education::Postgraduate, 3),
        ]);
        let education_older = Weighted::new(&[
            (Education::Primary, 10),
            (Education::JuniorHigh, 42),
            (Education::SeniorHigh, 28),
            (Education::College, 11),
            (Education::Bachelor, 8),
            (Education::Postgraduate, 1),
        ]);
        let education_public = Weighted::new(&[
            (Education::JuniorHigh, 2),
            (Education::SeniorHigh, 10),
            (Education::College, 25),
            (Education::Bachelor, 53),
            (Education::Postgraduate, 10),
        ]);
        let today = self.today();
        for e in 0..self.entities.len() {
            let quota = self.entities[e].quota;
            if quota == 0 {
                continue;
            }
            let en = &self.entities[e];
            let u = en.union.expect("members only in covered entities");
            let employer_id = en.id.clone();
            let employer_name = en.name.clone();
            let public = en.kind != UnitKind::Enterprise;
            let industry = en.industry;
            let women_share = if en.workers > 0 { en.women as f64 / en.workers as f64 } else { 0.5 };
            let place = self.entity_place(e);
            let union_id = self.unions[u].id.clone();
            let (union_new, union_founded) = (self.unions[u].is_new, self.unions[u].founded_on);
            for _ in 0..quota {
                let (person, joined_by) = match self.unions[u].reserved.pop_front() {
                    Some(r) => (r.person.expand(), r.joined_by),
                    None => {
                        let sex =
                            if self.rng.random_bool(women_share.clamp(0.0, 1.0)) { Sex::Female } else { Sex::Male };
                        (self.people.worker(&mut self.rng, sex), today)
                    }
                };
                let rng = &mut self.rng;
                let adult = add_years(person.birth, 18).min(today);
                let upper = joined_by.max(adult);
                // New this year: most members of a union founded this year
                // joined at or after its founding; elsewhere a few joined this year.
                let window = |lo: Date, hi: Date| (lo <= hi).then_some((lo, hi));
                let recent = match self.this_year {
                    Some((start, end)) if union_new && rng.random_bool(0.5) => {
                        window(union_founded.max(adult).max(start), upper.min(end))
                    }
                    Some((start, end)) if rng.random_bool(0.032) => window(start.max(adult), upper.min(end)),
                    _ => None,
                };
                let joined_on = match recent {
                    Some((lo, hi)) => between(rng, lo, hi),
                    None => match window(adult, self.before_year.min(upper)) {
                        Some((lo, hi)) => between(rng, lo, hi),
                        None => between(rng, adult, upper),
                    },
                };
                let age = registry::ids::age_on(person.birth, today);
                let education = if public {
                    education_public.pick(rng)
                } else if age >= 46 {
                    education_older.pick(rng)
                } else {
                    education_young.pick(rng)
                };
                let political_status = political_status(rng, public, age);
                let migrant_worker = !public
                    && rng.random_bool(match (person.local, industry) {
                        (false, _) => 0.7,
                        (true, Industry::Construction | Industry::Manufacturing | Industry::Catering) => 0.3,
                        (true, _) => 0.15,
                    });
                let dispatched_worker = rng.random_bool(if public { 0.02 } else { 0.055 });
                let phone = rng.random_bool(0.92).then(|| mobile(rng));
                // Nine in ten hold a card number: four in five of those a
                // card this system issued (with its last day: one in
                // seventeen past), the rest an older system's number, which
                // no verifier can check (not counted by 发证率). Drawn from
                // the counter, not the generator, so every other field of the
                // county stays as it was.
                let card = rng.random_bool(0.9).then(|| {
                    self.card_serial += 1;
                    let n = self.card_serial;
                    if n.is_multiple_of(5) {
                        (format!("{}{:010}", self.county_code, n), None)
                    } else {
                        let expires = if n.is_multiple_of(17) {
                            add_days(today, -1 - (n % 300) as i32)
                        } else {
                            add_days(joined_on.max(add_days(today, -700)), 5 * 365 - 1)
                        };
                        (format!("UC{:016X}", mix64(n ^ 0x5345_5249_414c)), Some(expires))
                    }
                });
                let (card_number, card_expires) = card.map_or((None, None), |(n, e)| (Some(n), e));
                let left_on =
                    (joined_on < today && rng.random_bool(0.02)).then(|| between(rng, add_days(joined_on, 1), today));
                let id = member_record_id(self.secret, &person.resident_id);
                if left_on.is_none() {
                    let sample = || Sampled {
                        id: id.clone(),
                        name: person.name.clone(),
                        resident_id: person.resident_id.clone(),
                        union: u,
                        entity: e,
                        joined_on,
                        phone: phone.clone(),
                    };
                    if rng.random_bool(0.005) {
                        transfers.push(sample());
                    }
                    if rng.random_bool(0.01) {
                        hardship.push(sample());
                    }
                }
                let member = Member {
                    name: person.name,
                    resident_id: person.resident_id,
                    sex: Some(person.sex),
                    birth_date: Some(person.birth),
                    ethnicity: person.ethnicity.to_owned(),
                    education,
                    political_status,
                    employer_id: Some(employer_id.clone()),
                    employer_name: employer_name.clone(),
                    union_id: union_id.clone(),
                    joined_on,
                    card_number,
                    card_expires,
                    phone,
                    migrant_worker,
                    dispatched_worker,
                    place: place.clone(),
                    left_on,
                };
                self.emit(sink, id, Record::Member(member));
            }
        }
        (transfers, hardship)
    }

    // ----- transfers and hardship -----------------------------------------

    fn emit_transfers(&mut self, sampled: Vec<Sampled>, sink: Sink<'_>) {
        let today = self.today();
        let reasons = Weighted::new(&[
            (TransferReason::JobChange, 50),
            (TransferReason::Relocation, 15),
            (TransferReason::EmployerClosed, 10),
            (TransferReason::UnionReorganised, 10),
            (TransferReason::Other, 15),
        ]);
        for s in sampled {
            let to = s.union;
            let earliest = add_days(s.joined_on, 1).max(self.unions[to].founded_on);
            if earliest > today {
                continue;
            }
            let date = between(&mut self.rng, earliest, today);
            let township = self.unions[to].township;
            let mut from = None;
            for _ in 0..20 {
                let pool: &[usize] = if self.rng.random_bool(0.7) { &self.unions_by_township[township] } else { &[] };
                let candidate = if pool.is_empty() {
                    self.rng.random_range(0..self.unions.len())
                } else {
                    *one(&mut self.rng, pool)
                };
                if candidate != to && self.unions[candidate].founded_on < date {
                    from = Some(candidate);
                    break;
                }
            }
            let Some(from) = from else { continue };
            let from_public = self.unions[from].entity.is_some_and(|e| self.entities[e].kind != UnitKind::Enterprise);
            let reason = match reasons.pick(&mut self.rng) {
                // Only joint, community and township unions are merged away,
                // and only enterprises close down.
                TransferReason::UnionReorganised if self.unions[from].kind == UnionKind::SingleUnit => {
                    TransferReason::JobChange
                }
                TransferReason::EmployerClosed if from_public => TransferReason::JobChange,
                r => r,
            };
            let from_name = &self.unions[from].name;
            let note = match reason {
                TransferReason::JobChange => format!("工作调动，由{from_name}转入"),
                TransferReason::Relocation => "迁居后就近转入".to_owned(),
                TransferReason::EmployerClosed => format!("原单位停产歇业，由{from_name}转入"),
                TransferReason::UnionReorganised => format!("{from_name}撤并后转入"),
                _ => String::new(),
            };
            let record = Transfer {
                member_id: s.id,
                member_name: s.name,
                from_union: self.unions[from].id.clone(),
                to_union: self.unions[to].id.clone(),
                date,
                reason,
                note,
                place: self.entity_place(s.entity),
            };
            let id = random_id(&mut self.ids);
            self.emit(sink, id, Record::Transfer(record));
        }
    }

    fn emit_hardship(&mut self, sampled: Vec<Sampled>, sink: Sink<'_>) {
        let today = self.today();
        let kinds = Weighted::new(&[
            (HardshipKind::Illness, 35),
            (HardshipKind::Disability, 10),
            (HardshipKind::Unemployment, 10),
            (HardshipKind::Disaster, 5),
            (HardshipKind::ChildEducation, 20),
            (HardshipKind::SingleParent, 12),
            (HardshipKind::Other, 8),
        ]);
        let households = Weighted::new(&[(1i64, 5), (2, 15), (3, 35), (4, 30), (5, 10), (6, 5)]);
        for s in sampled {
            let rng = &mut self.rng;
            let kind = kinds.pick(rng);
            let situation = (*one(rng, data::hardship_situations(kind))).to_owned();
            let household_size =
                if kind == HardshipKind::SingleParent { rng.random_range(2..=3) } else { households.pick(rng) };
            let monthly_income_yuan = rng.random_range(30..=150) * 10;
            let registered_on = between(rng, s.joined_on.max(add_years(today, -4)), today);
            let closed_on = (rng.random_bool(0.15) && registered_on < add_days(today, -60))
                .then(|| between(rng, add_days(registered_on, 60), today));
            let end = closed_on.unwrap_or(today);
            let n_visits = *one(rng, &[0, 1, 1, 1, 2, 2, 2, 3, 3, 0]);
            let township_union = self.unions[self.unions[s.union].township].name.clone();
            let mut visits = BTreeMap::new();
            let case_kind = kind;
            // Holiday visits in the weeks before Spring Festival (送温暖).
            let mut festivals: Vec<Date> = (registered_on.year()..=end.year() + 1)
                .map(spring_festival)
                .filter(|&f| add_days(f, -20) >= registered_on && add_days(f, -20) <= end)
                .collect();
            for _ in 0..n_visits {
                let rng = &mut self.rng;
                let holiday = !festivals.is_empty() && rng.random_bool(0.65);
                let (date, kind, amount_yuan, note) = if holiday {
                    // At most one holiday visit per Spring Festival.
                    let f = festivals.swap_remove(rng.random_range(0..festivals.len()));
                    let date = between(rng, add_days(f, -20), add_days(f, 5).min(end));
                    (date, VisitKind::HolidayVisit, rng.random_range(5..=20) * 100, *one(rng, data::HOLIDAY_NOTES))
                } else {
                    let (note, date) = match case_kind {
                        // 金秋助学: school grants in late summer.
                        HardshipKind::ChildEducation => {
                            let windows: Vec<(Date, Date)> = (registered_on.year()..=end.year())
                                .map(|y| (ymd(y, 8, 15).max(registered_on), ymd(y, 9, 15).min(end)))
                                .filter(|(lo, hi)| lo <= hi)
                                .collect();
                            if windows.is_empty() {
                                (data::ASSISTANCE_NOTES[0], between(rng, registered_on, end))
                            } else {
                                let (lo, hi) = *one(rng, &windows);
                                (data::ASSISTANCE_NOTES[2], between(rng, lo, hi))
                            }
                        }
                        HardshipKind::Illness | HardshipKind::Disability => {
                            (data::ASSISTANCE_NOTES[1], between(rng, registered_on, end))
                        }
                        _ => (data::ASSISTANCE_NOTES[0], between(rng, registered_on, end)),
                    };
                    (date, VisitKind::Assistance, rng.random_range(2..=20) * 500, note)
                };
                let visitor_sex = if rng.random_bool(0.5) { Sex::Male } else { Sex::Female };
                let org = if rng.random_bool(0.6) {
                    township_union.clone()
                } else {
                    format!("{}总工会", self.county_name)
                };
                let visitor = format!("{}（{org}）", self.people.name(&mut self.rng, visitor_sex));
                let visit_id = random_id(&mut self.ids).0;
                visits.insert(visit_id, Visit { date, kind, visitor, amount_yuan, note: note.to_owned() });
            }
            let record = HardshipCase {
                name: s.name,
                resident_id: Some(s.resident_id),
                member_id: Some(s.id),
                union_id: Some(self.unions[s.union].id.clone()),
                kind,
                situation,
                household_size,
                monthly_income_yuan,
                registered_on,
                closed_on,
                phone: s.phone,
                place: self.entity_place(s.entity),
                visits,
                photos: Default::default(),
            };
            let id = random_id(&mut self.ids);
            self.emit(sink, id, Record::Hardship(record));
        }
    }
}

/// The id of the member with this resident ID (as `Record::natural_key` keys it).
fn member_record_id(secret: &CountySecret, resident_id: &str) -> RecordId {
    secret.record_id(&format!("member:{resident_id}"))
}

fn random_id(ids: &mut Rand) -> RecordId {
    let mut bytes = [0u8; 16];
    ids.fill_bytes(&mut bytes);
    id_from_bytes(&bytes)
}

fn political_status(rng: &mut Rand, public: bool, age: i32) -> PoliticalStatus {
    // Shares of CPC members, probationary members and democratic parties;
    // Youth League members among the young.
    let (cpc, probationary, democratic, league) =
        if public { (0.45, 0.02, 0.02, 0.08) } else { (0.07, 0.005, 0.003, 0.12) };
    let r: f64 = rng.random();
    if r < cpc {
        PoliticalStatus::CpcMember
    } else if r < cpc + probationary {
        PoliticalStatus::CpcProbationary
    } else if r < cpc + probationary + democratic {
        PoliticalStatus::DemocraticParty
    } else if age <= 28 && r < cpc + probationary + democratic + league {
        PoliticalStatus::YouthLeague
    } else {
        PoliticalStatus::Masses
    }
}

/// Two different trade-name characters (字号).
fn brand(rng: &mut Rand) -> String {
    let a = one(rng, data::BRAND_CHARS);
    let mut b = one(rng, data::BRAND_CHARS);
    while b == a {
        b = one(rng, data::BRAND_CHARS);
    }
    format!("{a}{b}")
}

fn village_name(rng: &mut Rand) -> String {
    let head = one(rng, data::VILLAGE_HEADS);
    let tail = one(rng, data::VILLAGE_TAILS);
    match rng.random_range(0..10) {
        0..6 => format!("{head}{tail}村"),
        6..8 => format!("{head}家{tail}村"),
        _ => format!("{head}{}{tail}村", one(rng, data::VILLAGE_HEADS)),
    }
}

/// Sets one to three items of a checklist to unmet.
fn knock_out<const N: usize>(rng: &mut Rand, items: &mut [bool; N]) {
    for _ in 0..rng.random_range(1..=3) {
        items[rng.random_range(0..N)] = false;
    }
}

/// SplitMix64's finaliser: distinct inputs give distinct, well-spread
/// outputs (a bijection), for card serials that are unique and look random.
fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

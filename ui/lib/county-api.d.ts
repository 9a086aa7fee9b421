// Generated from the county layer's operations (crates/county/src/typescript.rs).
// Do not edit: SANJIAN_BLESS=1 cargo test -p county --test typescript rewrites it.

export type Applied = { 
/**
 * The applicant's reference, to follow the application with.
 */
reference: string, };

export type ApplyRequest = { poster: string, name: string, resident_id: string, phone: string, employer_name: string, ethnicity: string, 
/**
 * `Education` key.
 */
education: string, 
/**
 * `PoliticalStatus` key.
 */
political_status: string, 
/**
 * 农民工
 */
migrant_worker: boolean, 
/**
 * 劳务派遣工
 */
dispatched_worker: boolean, 
/**
 * Agreed that the union keeps and uses these data to register them.
 */
consent: boolean, };

export type AreaEdit = { 
/**
 * The area (from the path).
 */
id: string, name: string, 
/**
 * For a new area: "county", "township", "community" or "grid".
 */
level: AreaLevel | null, 
/**
 * For a new area: the county (a township's parent; it may be left
 * out), the township (a community's parent) or the community or
 * township a grid lies in. None for the county.
 */
parent: RecordId | null, 
/**
 * A township's kind: 镇, 乡, 城镇办事处（街道）or 开发区.
 */
township_kind: TownshipKind | null, grid_leader: string | null, grid_members: Array<string>, };

export type AreaId = { id: RecordId, };

export type AreaLevel = "county" | "township" | "community" | "grid";

export type AreaQuery = { area: string, };

export type AreaRequest = { name: string, 
/**
 * For a new area: "county", "township", "community" or "grid".
 */
level: AreaLevel | null, 
/**
 * For a new area: the county (a township's parent; it may be left
 * out), the township (a community's parent) or the community or
 * township a grid lies in. None for the county.
 */
parent: RecordId | null, 
/**
 * A township's kind: 镇, 乡, 城镇办事处（街道）or 开发区.
 */
township_kind: TownshipKind | null, grid_leader: string | null, grid_members: Array<string>, };

export type AreaTree = { 
/**
 * The county itself, once named (a new server has none: the console
 * then asks a county admin to name it).
 */
county: CountyArea | null, areas: Array<Node>, };

export type AuditEntry = { at: number, who: string | null, 
/**
 * `export`, `import`, `configure`, `review:<decision>`, `device:<event>`.
 */
action: string, what: string, 
/**
 * Rows written (exports and imports).
 */
rows?: number | null, 
/**
 * An export with whole ID numbers.
 */
full_ids?: boolean | null, note?: string | null, };

export type AuditLog = { entries: Array<AuditEntry>, 
/**
 * Entries of the kind asked for, in all.
 */
total: number, page: number, size: number, };

export type AuditQuery = { 
/**
 * `export`, `import`, `review`, `device` or `configure`; all when absent.
 */
kind: string | null, 
/**
 * From 1.
 */
page: number | null, size: number | null, };

export type CampaignAnswer = { config: CampaignConfig, 
/**
 * False while the year runs on the plans' defaults.
 */
configured: boolean, };

export type CampaignConfig = { year: number, county_new_unions: number, county_new_members: number, township_targets: { [key in TownshipKind]?: TownshipTarget }, 
/**
 * Share of all grassroots unions that should be 六有-qualified.
 */
qualified_rate_goal: number, 
/**
 * The same for township and community unions.
 */
township_community_qualified_rate_goal: number, 
/**
 * Share of private-enterprise unions meeting 八有 (规范化建设达标) by year end.
 */
standard_rate_goal: number, 
/**
 * 建会率 goal: covered entities ÷ entities that need a union.
 */
coverage_goal: number, 
/**
 * 入会率 goal: active members ÷ workers of the entities unions cover
 * ("职工入会率达99%以上"). A configuration saved before it existed
 * reads the plan's figure.
 */
membership_rate_goal: number, 
/**
 * 发证率 goal: active members holding a valid card ÷ active members
 * ("发证率100%").
 */
card_rate_goal: number, calendar: Array<Phase>, };

export type CampaignSaved = { year: number, saved: boolean, };

export type CardRevoked = { serial: string, revoked: boolean, 
/**
 * It was revoked before.
 */
already: boolean, };

export type CardRootKey = { 
/**
 * The county's card root public key (hex): what verifiers pin.
 */
public_key: string, 
/**
 * Its key id (hex).
 */
kid: string, };

export type CardText = { 
/**
 * The card's text (`UC1:…`), as its QR code holds it.
 */
text: string, };

export type CensusQuery = { township: string, grid: string | null, year: number | null, };

export type ClearsLine = { entity: RecordId, name: string, workers: number, union: RecordId | null, 
/**
 * Active members of the covering union who work at this entity.
 */
members: number, };

export type ConflictItem = { id: RecordId, kind: string | null, township: string, name: string | null, conflicts: Array<ShownConflict>, };

export type Counted = { ok: boolean, };

export type CountsReport = { token: string, 
/**
 * The report's id, the same when it is sent again (counted once).
 */
batch: string | null, counts: Array<DayCount>, };

export type CountyArea = { id: RecordId, name: string, };

export type Day = { day: string, coverage: Rate, qualified: Rate, standard: Rate, new_unions: number, new_members: number, active_members: number, vacancies: number, };

export type DayCount = { 
/**
 * `YYYY-MM-DD` (China Standard Time).
 */
day: string, accepted: number, refused: number, };

export type DecideRequest = { 
/**
 * The application's id (`Waiting::id`).
 */
id: string, } & ({ "decision": "confirm" } | { "decision": "decline", reason: string, });

export type Decided = { 
/**
 * The member record (created or merged into); none when declined.
 */
member_id: RecordId | null, 
/**
 * The record was there already and took the application's news.
 */
merged: boolean, 
/**
 * Other waiting applications of the same person settled with it.
 */
settled_too: number, };

export type Decision = { a: RecordId, b: RecordId, 
/**
 * "merge" (into `keep`) or "distinct".
 */
decision: string, 
/**
 * For a merge: the record kept (`a` or `b`).
 */
keep: RecordId | null, 
/**
 * For a merge: fields whose value comes from the other record.
 */
take: Array<string>, note: string, };

export type DeviceId = { id: string, };

export type DeviceInfo = { id: string, person: string, role: Role, all: boolean, townships: Array<RecordId>, grids: Array<RecordId>, created_at: number, revoked: boolean, 
/**
 * Suspended for probing outside its scope (until reinstated).
 */
suspended: boolean, 
/**
 * A wipe was asked for / the device heard it.
 */
wipe_requested: boolean, wiped: boolean, };

export type Disabled = { disabled: string, };

export type DuplicatesDecided = { decision: string, keep: RecordId | null, 
/**
 * How many other records a merge re-pointed.
 */
repointed: number, };

export type Enrolled = { card_root: string, device_id: string, token: string, 
/**
 * The token the device asks "must I wipe?" with, kept outside its
 * encrypted store (it opens nothing else).
 */
wipe_check: string, person: string, role: Role, 
/**
 * The county's shared secret for record ids (hex).
 */
county_secret: string, 
/**
 * The scope granted: the whole county, or these townships and grids
 * (the app's pickers and home screen keep to it).
 */
scope_all: boolean, townships: Array<RecordId>, grids: Array<RecordId>, };

export type Enrolment = { code: string, 
/**
 * The code with the server's address (and certificate pin): what the
 * device redeems.
 */
text: string, svg: string, };

export type EntityPage = { 
/**
 * Rows matching the filters, over every page.
 */
total: number, page: number, size: number, rows: Array<EntityRow>, };

export type EntityQuery = { township: RecordId | null, grid: RecordId | null, 
/**
 * Part of the name (compared as name keys: full-width, spaces).
 */
q: string | null, status: EntityStatus, sort: EntitySort, desc: boolean, 
/**
 * From 1.
 */
page: number | null, size: number | null, };

export type EntityRow = { id: RecordId, name: string, township: string, grid: string | null, workers: number, closed: boolean, 
/**
 * The covering union's name, if one covers it.
 */
covered_by: string | null, };

export type EntitySort = "name" | "workers" | "township";

export type EntityStatus = "all" | "covered" | "uncovered" | "closed";

export type Goal = { key: string, zh: string, en: string, 
/**
 * A share (`target` and `actual` between 0 and 1, shown as a
 * percentage) or a count: said here, never guessed from the target.
 */
rate: boolean, target: number, actual: number | null, met: boolean, };

export type Items<T> = { items: Array<T>, total: number, page: number, size: number, };

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;

export type LoggedOut = { signed_out: boolean, };

export type Lookup = { "found": "in_scope" } | { "found": "elsewhere", township: RecordId | null, } | { "found": "none" };

export type LookupRequest = { 
/**
 * The record id (a person's derives from their resident ID number).
 */
id: string, };

export type MemberPage = { total: number, page: number, size: number, rows: Array<MemberRow>, };

export type MemberQuery = { township: RecordId | null, union: RecordId | null, 
/**
 * A whole name (found by its keyed hash: the server keeps no names in
 * the clear) or a whole resident ID.
 */
q: string | null, status: MemberStatus, page: number | null, size: number | null, };

export type MemberRow = { id: RecordId, name: string, 
/**
 * Masked: `110105********002X`.
 */
resident_id: string, township: string, union: string, employer: string, joined_on: string, left_on: string | null, };

export type MemberStatus = "all" | "active" | "left";

export type Merchant = { id: string, 
/**
 * The verifier link's token.
 */
token: string, name: string, township: RecordId, township_name: string, benefit: string, withdrawn: boolean, 
/**
 * Its days with checks, newest first (at most `DAYS_BACK`).
 */
counts: Array<DayCount>, accepted: number, refused: number, 
/**
 * The verifier's address and its QR code (SVG), filled by the edge
 * that knows the server's address.
 */
url: string, qr_svg: string, };

export type MerchantCreated = { id: string, token: string, };

export type MerchantId = { id: string, };

export type MerchantList = { items: Array<Merchant>, };

export type Message = { zh: string, en: string, };

export type Month = { 
/**
 * `YYYY-MM`.
 */
month: string, new_unions: number, new_members: number, };

export type NewEnrolment = { 
/**
 * Days the code stays valid (clamped to 1..=30; 7 if not said).
 */
days: number, person: string, role: Role, all: boolean, townships: Array<RecordId>, grids: Array<RecordId>, };

export type NewMerchant = { name: string, township: string, 
/**
 * The benefit members get (e.g. "凭会员卡九折").
 */
benefit: string, };

export type NewScope = { id: string, all: boolean, townships: Array<RecordId>, grids: Array<RecordId>, };

export type NewStaff = { username: string, 
/**
 * `county_admin` or `township_staff`.
 */
role: string, 
/**
 * The townships a township's staff work for (required for them).
 */
townships: Array<RecordId>, };

export type Node = { id: RecordId, name: string, level: AreaLevel, parent: RecordId | null, township: RecordId | null, grid_leader: string | null, grid_members: Array<string>, 
/**
 * Open entities placed in this area (and the areas under it).
 */
entities: number, 
/**
 * Active members placed in this grid (grids only; members carry no community).
 */
members: number, };

export type Nothing = Record<symbol, never>;

export type OverrideItem = { id: RecordId, township: string, name: string, credit_code: string | null, reason: string | null, };

export type OverrideReview = { 
/**
 * The entity (from the path).
 */
id: string, 
/**
 * `accept` (the code stands as registered) or `reject` (the field is
 * to correct it).
 */
decision: string, note: string, };

export type PageQuery = { page: number | null, size: number | null, };

export type Pair = { kind: string, township: RecordId | null, a: Side, b: Side, 
/**
 * The fields whose values differ (the merge asks which to keep).
 */
differ: Array<string>, };

export type Phase = { key: string, zh: string, en: string, starts: string, deadline: string, };

export type PhaseProgress = { phase: Phase, state: PhaseState, 
/**
 * The phase has ended and its measurable goal was not reached.
 */
overdue: boolean, };

export type PhaseState = { "state": "not_started", starts_in_days: number, } | { "state": "open", days_left: number, } | { "state": "ended" };

export type Poster = { union_name: string, township: string, 
/**
 * What the QR code holds: the public form's address.
 */
url: string, 
/**
 * The QR code as SVG.
 */
qr_svg: string, };

export type PosterQuery = { 
/**
 * The poster's path segment (`CountySecret::poster`).
 */
poster: string, };

export type PosterRequest = { union: string, };

export type PosterUnion = { union_id: RecordId, name: string, township: string, };

export type ProgressReport = { year: number, as_of: string, county: Tally, townships: Array<TownshipProgress>, goals: Array<Goal>, calendar: Array<PhaseProgress>, 
/**
 * Facts about records whose township is not in the area tree.
 */
unplaced: number, };

export type QuarantineItem = { id: number, device: string, doc: string, code: string, detail: string, created_at: number, };

export type QuarantineList = { items: Array<QuarantineItem>, 
/**
 * Entries waiting (of the code asked for), over every page.
 */
total: number, 
/**
 * Entries waiting by reason's code (for the filter).
 */
by_code: Array<[string, number]>, page: number, size: number, };

export type QuarantineQuery = { 
/**
 * One reason's entries only (`OUT_OF_SCOPE`, `RULES_BROKEN`…).
 */
code: string | null, 
/**
 * From 1.
 */
page: number | null, size: number | null, };

export type Rate = { numerator: number, denominator: number, };

export type RecordId = string;

export type Redeem = { 
/**
 * The one-time enrolment code, as typed or scanned.
 */
code: string, 
/**
 * The device's Automerge actor id (32 hex characters).
 */
actor: string, 
/**
 * Its Ed25519 public key (64 hex characters).
 */
public_key: string, };

export type Reinstated = { reinstated: string, };

export type Rescoped = { device: string, };

export type Resolve = { 
/**
 * The entry (from the path).
 */
id: number, 
/**
 * `apply` or `dismiss`.
 */
decision: string, note: string, };

export type Resolved = { id: number, decision: string, };

export type Reviewed = { id: string, decision: string, };

export type RevokeCardRequest = { 
/**
 * The card's serial, 16 hex characters (a card number `UC…` too).
 */
serial: string, reason: string, };

export type Revoked = { revoked: string, };

export type Role = "county_admin" | "township_staff" | "surveyor";

export type Rotated = { token: string, expires_in_ms: number, };

export type Session = { token: string, staff: Staff, };

export type SettleRequest = { 
/**
 * The record (from the path).
 */
id: string, field: string, 
/**
 * The value chosen, as listed (fields that are not masked)...
 */
value: JsonValue | null, 
/**
 * ...or its `choice` from the queue (any field).
 */
choice: string | null, };

export type Settled = { id: string, field: string, };

export type ShownConflict = { field: string, values: Array<ShownValue>, };

export type ShownValue = { 
/**
 * The value, personal numbers masked ([`registry::privacy`]).
 */
value: JsonValue, 
/**
 * The device that wrote it, hex.
 */
device: string, winner: boolean, 
/**
 * A keyed hash the settle request names this value by (a masked value
 * can still be chosen).
 */
choice: string, };

export type Side = { id: RecordId, name: string, fields: Array<[string, string]>, };

export type SignIn = { username: string, password: string, };

export type SignedOut = { signed_out: string, };

export type SnapshotAnswer = { year: number, days: Array<Day>, };

export type Staff = { id: string, username: string, role: Role, 
/**
 * The townships a township staff member works for (empty for county
 * staff); the console shows and exports only these.
 */
townships: Array<RecordId>, };

export type StaffAccount = { username: string, role: Role, townships: Array<RecordId>, disabled: boolean, };

export type StaffCreated = { username: string, role: Role, password: string, };

export type Standing = { 
/**
 * `pending`, `confirmed` or `declined`.
 */
status: string, union_name: string, 
/**
 * Why it was declined.
 */
reason: string | null, 
/**
 * The member holds a valid membership card (after confirmation).
 */
carded: boolean, 
/**
 * Days since 1970 (China Standard Time) it was made and decided.
 */
applied_on: string, decided_on: string | null, };

export type StandingRequest = { reference: string, };

export type Surveyor = { person: string, 
/**
 * The names of their grids in this township.
 */
grids: Array<string>, tally: SurveyorTally, };

export type SurveyorTally = { entities: number, covered: number, with_workers: number, unions: number, new_unions: number, active_members: number, new_members: number, vacancies: number, };

export type Tally = { target_new_unions: number, new_unions: number, target_new_members: number, new_members: number, entities: number, 
/**
 * 建会率: covered ÷ entities with workers that are not closed.
 */
coverage: Rate, 
/**
 * Entities with 25+ workers that have a union of their own ÷ all such entities.
 */
own_union_25: Rate, unions: number, 
/**
 * 六有 qualified ÷ all active unions.
 */
qualified: Rate, 
/**
 * 六有 qualified among township and community unions.
 */
township_community_qualified: Rate, 
/**
 * 八有 met among unions to which 八有 applies.
 */
standard: Rate, vacancies: number, active_members: number, 
/**
 * 入会率: active members ÷ the workers of the open entities a union
 * covers. Members are counted where they are placed, workers where
 * their entity is; a community union's members who applied on their own
 * (由本人申请) count, so a township may pass 100%.
 */
membership: Rate, 
/**
 * 发证率: active members holding a valid card ÷ active members.
 */
carded: Rate, private_enterprises: number, private_enterprises_with_union: number, };

export type Tasks = { created: number, 
/**
 * Already in the census (registered meanwhile under the same credit
 * code) or already made into a task.
 */
skipped: number, };

export type TasksRequest = { 
/**
 * The import (from the path).
 */
id: number, township: RecordId, grid: RecordId | null, };

export type ThreeClears = { private_enterprises: Array<ClearsLine>, with_union: Array<ClearsLine>, without_union: Array<ClearsLine>, total_workers: number, workers_without_union: number, };

export type ThreeClearsAnswer = { area: RecordId, name: string, level: AreaLevel, report: ThreeClears, };

export type TownshipDetail = { township: RecordId, grids: Array<TownshipProgress>, 
/**
 * Its live unions, each with the figures of what it covers and its
 * members (a union's 入会率 and 发证率).
 */
unions: Array<TownshipProgress>, surveyors: Array<Surveyor>, trend: Array<Month>, };

export type TownshipKind = "town" | "rural_township" | "urban_office" | "development_zone";

export type TownshipProgress = { id: RecordId, name: string, kind: TownshipKind, target_new_unions: number, new_unions: number, target_new_members: number, new_members: number, entities: number, 
/**
 * 建会率: covered ÷ entities with workers that are not closed.
 */
coverage: Rate, 
/**
 * Entities with 25+ workers that have a union of their own ÷ all such entities.
 */
own_union_25: Rate, unions: number, 
/**
 * 六有 qualified ÷ all active unions.
 */
qualified: Rate, 
/**
 * 六有 qualified among township and community unions.
 */
township_community_qualified: Rate, 
/**
 * 八有 met among unions to which 八有 applies.
 */
standard: Rate, vacancies: number, active_members: number, 
/**
 * 入会率: active members ÷ the workers of the open entities a union
 * covers. Members are counted where they are placed, workers where
 * their entity is; a community union's members who applied on their own
 * (由本人申请) count, so a township may pass 100%.
 */
membership: Rate, 
/**
 * 发证率: active members holding a valid card ÷ active members.
 */
carded: Rate, private_enterprises: number, private_enterprises_with_union: number, };

export type TownshipQuery = { id: string, year: number | null, };

export type TownshipTarget = { new_unions: number, new_members_per_union: number, };

export type TownshipUnions = { township: string, };

export type TrendAnswer = { year: number, months: Array<Month>, };

export type UnionChoice = { id: RecordId, name: string, };

export type UnionChoices = { items: Array<UnionChoice>, };

export type Username = { username: string, };

export type Verdict = { valid: boolean, 
/**
 * For a valid card: the member's name, record id, the card's serial,
 * its days (since the epoch, China time) and the device that issued it.
 */
name?: string | null, member?: string | null, serial?: string | null, issued?: number | null, expires?: number | null, device?: string | null, 
/**
 * For a refused card: why, with its stable code.
 */
code?: string | null, message?: Message | null, 
/**
 * The revocation list the answer rests on.
 */
revocations_seq: number, revocations_issued: number, };

export type VerifierInfo = { name: string, benefit: string, township: string, 
/**
 * The county's card root public key (hex), which signs the lists.
 */
root_key: string, };

export type VerifierToken = { token: string, };

export type Waiting = { 
/**
 * The application's id (not the applicant's reference).
 */
id: string, union_id: RecordId, union_name: string, township: RecordId, grid: RecordId | null, applied_at: number, name: string, masked_id: string, phone: string, employer_name: string, migrant_worker: boolean, dispatched_worker: boolean, 
/**
 * The member record the ID number derives exists (confirming merges).
 */
registered: boolean, 
/**
 * Other waiting applications of the same person.
 */
others: number, };

export type WipeAnswer = { wipe: boolean, };

export type WipeRequested = { wipe_requested: string, };

export type YearAndTownship = { year: number | null, 
/**
 * One township's figures only.
 */
township: string | null, };

export type YearOnly = { year: number | null, };

/** Every county operation: what it takes and what it answers. */
export interface CountyOperations {
  ListStaff: { request: Nothing; response: Array<StaffAccount> };
  CreateStaff: { request: NewStaff; response: StaffCreated };
  DisableStaff: { request: Username; response: Disabled };
  SignOutStaff: { request: Username; response: SignedOut };
  Logout: { request: Nothing; response: LoggedOut };
  Login: { request: SignIn; response: Session };
  ListDevices: { request: Nothing; response: Array<DeviceInfo> };
  RevokeDevice: { request: DeviceId; response: Revoked };
  WipeDevice: { request: DeviceId; response: WipeRequested };
  ReinstateDevice: { request: DeviceId; response: Reinstated };
  SetScope: { request: NewScope; response: Rescoped };
  CreateEnrolment: { request: NewEnrolment; response: Enrolment };
  RedeemEnrolment: { request: Redeem; response: Enrolled };
  RotateToken: { request: Nothing; response: Rotated };
  WipeCheck: { request: Nothing; response: WipeAnswer };
  Lookup: { request: LookupRequest; response: Lookup };
  ListQuarantine: { request: QuarantineQuery; response: QuarantineList };
  ResolveQuarantine: { request: Resolve; response: Resolved };
  RevokeCard: { request: RevokeCardRequest; response: CardRevoked };
  CardRoot: { request: Nothing; response: CardRootKey };
  VerifyCard: { request: CardText; response: Verdict };
  Progress: { request: YearAndTownship; response: ProgressReport };
  Township: { request: TownshipQuery; response: TownshipDetail };
  Trend: { request: YearOnly; response: TrendAnswer };
  Snapshots: { request: YearAndTownship; response: SnapshotAnswer };
  Census: { request: CensusQuery; response: JsonValue };
  Campaign: { request: YearOnly; response: CampaignAnswer };
  SaveCampaign: { request: CampaignConfig; response: CampaignSaved };
  ListAreas: { request: Nothing; response: AreaTree };
  AddArea: { request: AreaRequest; response: AreaId };
  EditArea: { request: AreaEdit; response: AreaId };
  Audit: { request: AuditQuery; response: AuditLog };
  Conflicts: { request: PageQuery; response: Items<ConflictItem> };
  Settle: { request: SettleRequest; response: Settled };
  Duplicates: { request: PageQuery; response: Items<Pair> };
  DecideDuplicates: { request: Decision; response: DuplicatesDecided };
  Overrides: { request: PageQuery; response: Items<OverrideItem> };
  ReviewOverride: { request: OverrideReview; response: Reviewed };
  ThreeClears: { request: AreaQuery; response: ThreeClearsAnswer };
  ReconcileTasks: { request: TasksRequest; response: Tasks };
  ListEntities: { request: EntityQuery; response: EntityPage };
  ListMembers: { request: MemberQuery; response: MemberPage };
  ApplyUnion: { request: PosterQuery; response: PosterUnion };
  Apply: { request: ApplyRequest; response: Applied };
  ApplicationStanding: { request: StandingRequest; response: Standing };
  Applications: { request: PageQuery; response: Items<Waiting> };
  DecideApplication: { request: DecideRequest; response: Decided };
  ApplicationPoster: { request: PosterRequest; response: Poster };
  PosterUnions: { request: TownshipUnions; response: UnionChoices };
  ListMerchants: { request: Nothing; response: MerchantList };
  CreateMerchant: { request: NewMerchant; response: MerchantCreated };
  WithdrawMerchant: { request: MerchantId; response: Nothing };
  MerchantInfo: { request: VerifierToken; response: VerifierInfo };
  MerchantCounts: { request: CountsReport; response: Counted };
}

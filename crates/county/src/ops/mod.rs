//! The county's operations: one typed function per console, API or CLI
//! action.
//!
//! Each operation is a type implementing [`Operation`]: its request and
//! response structs (the DTOs the edges serialise; no ad-hoc JSON), the
//! actors it admits, and `run`, which does its work over one transaction
//! through [`Cx`]. [`County::run`] (for the HTTP edge) and
//! [`County::run_as`] (for the CLI, which acts as the machine's county
//! admin) are the only ways in: both name the actor and check
//! [`Operation::ALLOWED`] before `run`, and roll the transaction back on
//! any refusal.
//!
//! Where to look, by what the console does:
//! - staff accounts and sessions: [`staff`]
//! - devices (list, revoke, wipe, reinstate, scope) and enrolment codes: [`devices`]
//! - the quarantine of writes a device could not apply: [`quarantine`]
//! - membership cards (revoke): [`cards`]
//! - the campaign's figures (progress, a township, trend, snapshots, census): [`figures`]
//! - the year's targets and calendar: [`campaign`]
//! - the area tree: [`areas`]
//! - the audit log: [`audit`]
//! - long lists paged, sorted and filtered on the server: [`lists`]
//! - the four ledgers as files: [`exports`]
//! - every record as Automerge documents, sealed with a passphrase: [`archive`]
//! - other offices' entity lists reconciled with the census: [`imports`]
//! - the county's own sheets (area tree, entities, the four ledgers) brought in: [`intake`]
//! - the review queues (conflicts, near duplicates, kept credit codes) and 三个清楚: [`reviews`]
//! - 由本人申请: the public application form and the area's queue of applications: [`applications`]
//! - 会员优惠基地: merchants, their offline verifiers' reports, the 普惠制 report: [`merchants`]

pub mod applications;
pub mod archive;
pub mod areas;
pub mod audit;
pub mod campaign;
pub mod cards;
pub mod de;
pub mod devices;
pub mod exports;
pub mod figures;
pub mod imports;
pub mod intake;
pub mod lists;
pub mod merchants;
pub mod quarantine;
pub mod reviews;
pub mod staff;

use crate::actor::{self, Actor, Allowed, Credentials};
use crate::db::{Db, now_ms};
use crate::error::CountyError;
use crate::keys::ServerKeys;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sync::server::{Ctx, Sealer, Sql};
use ts_rs::TS;

/// A request or an answer with no fields.
#[derive(Debug, Default, serde::Deserialize, Serialize, ts_rs::TS)]
pub struct Nothing {}

/// The county: its database and keys, and where devices reach it.
#[derive(Debug)]
pub struct County {
    pub db: Db,
    pub sealer: Sealer,
    pub keys: ServerKeys,
    /// The address devices reach the server at (put in enrolment codes).
    pub public_url: String,
    /// SHA-256 of a self-signed certificate, put in enrolment codes.
    pub pin: Option<[u8; 32]>,
    /// Imports under way, for their progress bars.
    pub intakes: intake::Intakes,
    /// Where photos and other attachments are kept (`sanjian serve`: under
    /// its data directory); without it the attachment endpoints answer 503.
    pub blobs: Option<std::sync::Arc<dyn sync::blobs::BlobStore>>,
    /// The county's own base map for the census map (`--basemap`), if any.
    pub basemap: Option<crate::basemap::Basemap>,
}

/// How an operation is asked for over HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Reads only; its request comes from the path and the query.
    Get,
    /// Changes something; its request is a JSON body (and the path).
    Post,
}

/// What an operation's failure may be a guess at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guesses {
    Nothing,
    /// A staff member's password (counted per source and account).
    Password,
    /// An enrolment code (counted per source).
    EnrolmentCode,
    /// A public form sent without an account (an application to join):
    /// every submission counts per source, accepted or refused, so a source
    /// cannot flood the queues.
    Submission,
    /// An application's reference (failures counted per source).
    Reference,
}

/// One action of the county's.
pub trait Operation: 'static {
    /// What the caller sends (path, query and body fields together).
    type Request: DeserializeOwned + TS + Send + 'static;
    /// What the caller gets.
    type Response: Serialize + TS + Send + 'static;
    /// Who may run it; checked before `run` by [`County::run`].
    const ALLOWED: Allowed;
    /// Where the HTTP edge serves it (`{name}` segments are request fields).
    const METHOD: Method;
    const PATH: &'static str;
    /// Are its failures someone's guesses (a password, an enrolment code)?
    /// The HTTP edge then counts them per source (and per account) and makes
    /// a source that keeps guessing wait.
    const GUESSES: Guesses = Guesses::Nothing;
    fn run(cx: &mut Cx<'_>, req: Self::Request) -> Result<Self::Response, CountyError>;

    /// The account a guess is aimed at (a username), for
    /// [`Guesses::Password`].
    fn account(_req: &Self::Request) -> Option<String> {
        None
    }

    /// Called after a refusal, its transaction rolled back: what must be
    /// written even though the operation was refused (a device probing past
    /// its budget is suspended). The error it returns is the answer.
    fn refused(_county: &County, _creds: Credentials<'_>, error: CountyError) -> CountyError {
        error
    }
}

/// Something done with every operation (the server's routes, the
/// TypeScript declarations, the tests' counts).
pub trait OperationVisitor {
    fn visit<O: Operation>(&mut self);
}

/// Every county operation, once: the one list the HTTP router and the
/// generated TypeScript follow.
pub fn each(v: &mut impl OperationVisitor) {
    v.visit::<staff::ListStaff>();
    v.visit::<staff::CreateStaff>();
    v.visit::<staff::DisableStaff>();
    v.visit::<staff::SignOutStaff>();
    v.visit::<staff::Logout>();
    v.visit::<staff::Login>();
    v.visit::<devices::ListDevices>();
    v.visit::<devices::RevokeDevice>();
    v.visit::<devices::WipeDevice>();
    v.visit::<devices::ReinstateDevice>();
    v.visit::<devices::SetScope>();
    v.visit::<devices::CreateEnrolment>();
    v.visit::<devices::RedeemEnrolment>();
    v.visit::<devices::RotateToken>();
    v.visit::<devices::WipeCheck>();
    v.visit::<devices::Lookup>();
    v.visit::<quarantine::ListQuarantine>();
    v.visit::<quarantine::ResolveQuarantine>();
    v.visit::<cards::RevokeCard>();
    v.visit::<cards::CardRoot>();
    v.visit::<cards::VerifyCard>();
    v.visit::<figures::Progress>();
    v.visit::<figures::Township>();
    v.visit::<figures::Trend>();
    v.visit::<figures::Snapshots>();
    v.visit::<figures::Census>();
    v.visit::<campaign::Campaign>();
    v.visit::<campaign::SaveCampaign>();
    v.visit::<areas::ListAreas>();
    v.visit::<areas::AddArea>();
    v.visit::<areas::EditArea>();
    v.visit::<audit::Audit>();
    v.visit::<reviews::Conflicts>();
    v.visit::<reviews::Settle>();
    v.visit::<reviews::Duplicates>();
    v.visit::<reviews::DecideDuplicates>();
    v.visit::<reviews::Overrides>();
    v.visit::<reviews::ReviewOverride>();
    v.visit::<reviews::ThreeClears>();
    v.visit::<imports::ReconcileTasks>();
    v.visit::<lists::ListEntities>();
    v.visit::<lists::ListMembers>();
    v.visit::<applications::ApplyUnion>();
    v.visit::<applications::Apply>();
    v.visit::<applications::ApplicationStanding>();
    v.visit::<applications::Applications>();
    v.visit::<applications::DecideApplication>();
    v.visit::<applications::ApplicationPoster>();
    v.visit::<applications::PosterUnions>();
    v.visit::<merchants::ListMerchants>();
    v.visit::<merchants::CreateMerchant>();
    v.visit::<merchants::WithdrawMerchant>();
    v.visit::<merchants::MerchantInfo>();
    v.visit::<merchants::MerchantCounts>();
}

/// An operation's name, as the TypeScript declarations and the logs know
/// it: its type's own name (`ListStaff`).
pub fn name_of<O: Operation>() -> &'static str {
    let full = std::any::type_name::<O>();
    full.rsplit("::").next().unwrap_or(full)
}

/// What an operation works with: one transaction, the county, the actor
/// (already admitted) and the day.
#[allow(missing_debug_implementations)] // holds the transaction
pub struct Cx<'a> {
    pub db: &'a mut dyn Sql,
    pub county: &'a County,
    pub actor: &'a Actor,
    pub ctx: Ctx<'a>,
    /// The caller's own bearer token, for the operations about that
    /// session or device itself (sign out, rotate).
    pub token: Option<&'a str>,
}

impl County {
    pub fn new(db: Db, keys: ServerKeys, public_url: String) -> County {
        County {
            db,
            sealer: Sealer::new(&keys.data_key),
            keys,
            public_url,
            pin: None,
            intakes: Default::default(),
            blobs: None,
            basemap: None,
        }
    }

    pub fn ctx(&self) -> Ctx<'_> {
        Ctx { sealer: &self.sealer, today: crate::today(), now_ms: now_ms() }
    }

    /// Runs `O` for whoever `creds` name: identified and admitted first,
    /// then `O::run` in one transaction (rolled back on any error).
    pub fn run<O: Operation>(&self, creds: Credentials<'_>, req: O::Request) -> Result<O::Response, CountyError> {
        self.enter(O::ALLOWED, creds, |cx| O::run(cx, req)).map_err(|e| O::refused(self, creds, e))
    }

    /// Would `creds` be admitted to `O`? Asked by an edge before it reads
    /// a request's body, so that nobody unknown can make the server parse
    /// anything; [`County::run`] asks again inside its transaction.
    pub fn admit<O: Operation>(&self, creds: Credentials<'_>) -> Result<(), CountyError> {
        if O::ALLOWED == Allowed::Anyone {
            return Ok(());
        }
        self.enter(O::ALLOWED, creds, |_| Ok(()))
    }

    /// Runs `O` as an actor the caller has already named (the CLI's county
    /// admin): still admitted by `O::ALLOWED` first.
    pub fn run_as<O: Operation>(&self, actor: &Actor, req: O::Request) -> Result<O::Response, CountyError> {
        self.enter_as(O::ALLOWED, actor, |cx| O::run(cx, req))
    }

    /// The one door: one transaction, the actor named from `creds` and
    /// admitted by `allowed`, then `work` (rolled back on any error).
    pub(crate) fn enter<T>(
        &self,
        allowed: Allowed,
        creds: Credentials<'_>,
        work: impl FnOnce(&mut Cx<'_>) -> Result<T, CountyError>,
    ) -> Result<T, CountyError> {
        self.db.tx_with(|db| {
            let actor = actor::identify(db, allowed, creds)??;
            allowed.admits(&actor)?;
            let token = match creds {
                Credentials::Bearer(t) => Some(t),
                Credentials::None => None,
            };
            work(&mut Cx { db, county: self, actor: &actor, ctx: self.ctx(), token })
        })
    }

    /// [`County::enter`] for an actor already named.
    pub(crate) fn enter_as<T>(
        &self,
        allowed: Allowed,
        actor: &Actor,
        work: impl FnOnce(&mut Cx<'_>) -> Result<T, CountyError>,
    ) -> Result<T, CountyError> {
        allowed.admits(actor)?;
        self.db.tx_with(|db| work(&mut Cx { db, county: self, actor, ctx: self.ctx(), token: None }))
    }

    /// Who the command line acts as: the operator of the server's own
    /// machine (whoever can read its data directory administers the
    /// county), a county admin named `cli:<user>` in the audit log.
    pub fn cli_actor(&self) -> Actor {
        let user = std::env::var("USER").unwrap_or_else(|_| "local".into());
        Actor::Staff(crate::auth::Staff {
            id: format!("cli:{user}"),
            username: format!("cli:{user}"),
            role: crate::auth::Role::CountyAdmin,
            townships: Vec::new(),
        })
    }
}

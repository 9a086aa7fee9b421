//! Staff accounts and their sessions: county admins manage them; anyone
//! signed in can sign themselves out.

use super::Guesses;
use super::{Cx, Method, Nothing, Operation};
use crate::actor::Allowed;
use crate::auth::{self, Role, StaffAccount};
use crate::error::CountyError;
use registry::model::RecordId;
use serde::{Deserialize, Serialize};

/// A staff account named in the path.
#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct Username {
    pub username: String,
}

/// `GET /api/console/staff`: every account, no password hashes.
#[derive(Debug)]
pub struct ListStaff;

impl Operation for ListStaff {
    const METHOD: Method = Method::Get;
    const PATH: &str = "/api/console/staff";
    type Request = Nothing;
    type Response = Vec<StaffAccount>;
    const ALLOWED: Allowed = Allowed::CountyAdmin;
    fn run(cx: &mut Cx<'_>, _: Nothing) -> Result<Vec<StaffAccount>, CountyError> {
        Ok(auth::list_staff(cx.db)?)
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct NewStaff {
    pub username: String,
    /// `county_admin` or `township_staff`.
    pub role: String,
    /// The townships a township's staff work for (required for them).
    #[serde(default)]
    pub townships: Vec<RecordId>,
}

/// The account made, with its first password: answered once, never stored
/// in plain text.
#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct StaffCreated {
    pub username: String,
    pub role: Role,
    pub password: String,
}

/// `POST /api/console/staff`.
#[derive(Debug)]
pub struct CreateStaff;

impl Operation for CreateStaff {
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/console/staff";
    type Request = NewStaff;
    type Response = StaffCreated;
    const ALLOWED: Allowed = Allowed::CountyAdmin;
    fn run(cx: &mut Cx<'_>, req: NewStaff) -> Result<StaffCreated, CountyError> {
        let username = req.username.trim().to_owned();
        let role = Role::from_key(&req.role).ok_or_else(CountyError::bad_request)?;
        let bad = username.is_empty()
            || username.chars().count() > 32
            || !req.townships.iter().all(|t| registry::keys::is_record_id(t.as_str()))
            || (role != Role::CountyAdmin && req.townships.is_empty());
        if bad {
            return Err(CountyError::bad_request());
        }
        if auth::user_exists(cx.db, &username)? {
            return Err(auth::USER_EXISTS.into());
        }
        let password = auth::random_password();
        auth::create_user(cx.db, &username, role, &password)?;
        auth::set_user_townships(cx.db, &username, &req.townships)?;
        Ok(StaffCreated { username, role, password })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct Disabled {
    pub disabled: String,
}

/// `POST /api/console/staff/{username}/disable`: the account can no longer
/// sign in, and every session of it ends. Never one's own.
#[derive(Debug)]
pub struct DisableStaff;

impl Operation for DisableStaff {
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/console/staff/{username}/disable";
    type Request = Username;
    type Response = Disabled;
    const ALLOWED: Allowed = Allowed::CountyAdmin;
    fn run(cx: &mut Cx<'_>, req: Username) -> Result<Disabled, CountyError> {
        if cx.actor.name() == req.username {
            return Err(auth::CANNOT_DISABLE_SELF.into());
        }
        if !auth::disable_user(cx.db, &req.username)? {
            return Err(auth::USER_NOT_FOUND.into());
        }
        Ok(Disabled { disabled: req.username })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct SignedOut {
    pub signed_out: String,
}

/// `POST /api/console/staff/{username}/sign-out`: every session of a staff
/// member ends.
#[derive(Debug)]
pub struct SignOutStaff;

impl Operation for SignOutStaff {
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/console/staff/{username}/sign-out";
    type Request = Username;
    type Response = SignedOut;
    const ALLOWED: Allowed = Allowed::CountyAdmin;
    fn run(cx: &mut Cx<'_>, req: Username) -> Result<SignedOut, CountyError> {
        if !auth::sign_out_everywhere(cx.db, &req.username)? {
            return Err(auth::USER_NOT_FOUND.into());
        }
        Ok(SignedOut { signed_out: req.username })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct LoggedOut {
    pub signed_out: bool,
}

/// `POST /api/logout`: the caller's session ends on the server, not only in
/// the browser.
#[derive(Debug)]
pub struct Logout;

impl Operation for Logout {
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/logout";
    type Request = Nothing;
    type Response = LoggedOut;
    const ALLOWED: Allowed = Allowed::Staff;
    fn run(cx: &mut Cx<'_>, _: Nothing) -> Result<LoggedOut, CountyError> {
        let token = cx.token.ok_or(auth::UNAUTHENTICATED)?;
        if !auth::logout(cx.db, token)? {
            return Err(auth::UNAUTHENTICATED.into());
        }
        Ok(LoggedOut { signed_out: true })
    }
}

#[derive(Debug, Deserialize, Serialize, ts_rs::TS)]
pub struct SignIn {
    pub username: String,
    pub password: String,
}

/// A session: its bearer token (12 hours) and who it is.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct Session {
    pub token: String,
    pub staff: auth::Staff,
}

/// `POST /api/login`. Failures are counted per source and account by the
/// HTTP edge, which makes a source wait after too many.
#[derive(Debug)]
pub struct Login;

impl Operation for Login {
    type Request = SignIn;
    type Response = Session;
    const ALLOWED: Allowed = Allowed::Anyone;
    const METHOD: Method = Method::Post;
    const PATH: &str = "/api/login";
    const GUESSES: Guesses = Guesses::Password;
    fn account(req: &SignIn) -> Option<String> {
        Some(req.username.trim().to_lowercase())
    }
    fn run(cx: &mut Cx<'_>, req: SignIn) -> Result<Session, CountyError> {
        let (token, staff) = auth::login(cx.db, &req.username, &req.password)??;
        Ok(Session { token, staff })
    }
}

//! Who is asking, and what they may do: checked here, once, for every
//! operation ([`crate::County::run`]), never inside an operation's body.
//!
//! An operation declares the actors it allows ([`Allowed`]); the caller
//! brings credentials (a bearer token, or the CLI's own county admin);
//! [`identify`] turns them into an [`Actor`] by the operation's own kind of
//! token, and [`Allowed::admits`] says yes or gives the refusal. What a
//! staff member may *see* within an operation (their townships) is asked of
//! the actor ([`Actor::townships`]), so no operation reads a role itself.

use crate::auth::{self, Denied, Role, Staff};
use sync::SyncError;
use sync::facts::Townships;
use sync::server::{Device, Sql};

/// Who runs an operation.
#[derive(Debug, Clone)]
pub enum Actor {
    /// No credentials: the public pages (verify a card, the card lists).
    Anonymous,
    /// A signed-in staff member: a county admin, or township staff with
    /// their townships.
    Staff(Staff),
    /// An enrolled device, with its scope.
    Device(Device),
}

/// The actors an operation admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    /// Anyone, signed in or not.
    Anyone,
    /// Any signed-in staff member (a township's staff see their townships only).
    Staff,
    /// County admins only.
    CountyAdmin,
    /// An enrolled device that is neither revoked nor suspended.
    Device,
    /// A signed-in staff member or an enrolled device (the area's queues
    /// both work: what each sees is the operation's to narrow).
    StaffOrDevice,
}

/// What a caller brings.
#[derive(Debug, Clone, Copy)]
pub enum Credentials<'a> {
    None,
    /// A bearer token: a staff session's or a device's, read as the
    /// operation's [`Allowed`] says.
    Bearer(&'a str),
}

impl<'a> Credentials<'a> {
    pub fn bearer(token: Option<&'a str>) -> Credentials<'a> {
        match token {
            Some(t) => Credentials::Bearer(t),
            None => Credentials::None,
        }
    }
}

/// Names the actor, reading the token as the kind the operation admits. A
/// missing or unknown token for an operation that needs one is
/// `UNAUTHENTICATED`; a revoked or suspended device is refused with its code.
pub fn identify(
    db: &mut dyn Sql,
    allowed: Allowed,
    creds: Credentials<'_>,
) -> Result<Result<Actor, Denied>, SyncError> {
    Ok(match (allowed, creds) {
        (Allowed::Anyone, _) => Ok(Actor::Anonymous),
        (_, Credentials::None) => Err(auth::UNAUTHENTICATED),
        (Allowed::Staff | Allowed::CountyAdmin, Credentials::Bearer(token)) => {
            auth::staff(db, token)?.map(Actor::Staff)
        }
        (Allowed::Device, Credentials::Bearer(token)) => auth::device(db, token)?.map(Actor::Device),
        // A staff session's token first; a token that is none is read as a
        // device's (whose refusal, revoked or suspended, is then the answer).
        (Allowed::StaffOrDevice, Credentials::Bearer(token)) => match auth::staff(db, token)? {
            Ok(s) => Ok(Actor::Staff(s)),
            Err(_) => auth::device(db, token)?.map(Actor::Device),
        },
    })
}

impl Allowed {
    /// May `actor` run an operation that admits these?
    pub fn admits(self, actor: &Actor) -> Result<(), Denied> {
        match (self, actor) {
            (Allowed::Anyone, _) => Ok(()),
            (Allowed::Staff, Actor::Staff(_)) => Ok(()),
            (Allowed::CountyAdmin, Actor::Staff(s)) if s.role == Role::CountyAdmin => Ok(()),
            (Allowed::CountyAdmin, Actor::Staff(_)) => Err(auth::FORBIDDEN),
            (Allowed::Device, Actor::Device(_)) => Ok(()),
            (Allowed::StaffOrDevice, Actor::Staff(_) | Actor::Device(_)) => Ok(()),
            (_, Actor::Anonymous) => Err(auth::UNAUTHENTICATED),
            _ => Err(auth::FORBIDDEN),
        }
    }
}

impl Actor {
    /// The staff member, for operations that admit only staff.
    pub fn staff(&self) -> Result<&Staff, Denied> {
        match self {
            Actor::Staff(s) => Ok(s),
            _ => Err(auth::FORBIDDEN),
        }
    }

    /// The device, for operations that admit only devices.
    pub fn device(&self) -> Result<&Device, Denied> {
        match self {
            Actor::Device(d) => Ok(d),
            _ => Err(auth::FORBIDDEN),
        }
    }

    /// Who did it, as the audit log names them.
    pub fn name(&self) -> &str {
        match self {
            Actor::Anonymous => "anonymous",
            Actor::Staff(s) => &s.username,
            Actor::Device(d) => &d.id,
        }
    }

    /// The townships this actor may see, narrowed to the one asked for:
    /// `None` when they ask for a township not theirs (answered as
    /// `FORBIDDEN` by the operation's caller).
    pub fn townships(&self, asked: Option<&str>) -> Option<Townships> {
        let mine = match self {
            Actor::Staff(s) => s.sees(),
            _ => return None,
        };
        match (mine, asked) {
            (None, None) => Some(Townships::All),
            (None, Some(t)) => Some(Townships::Only(vec![t.into()])),
            (Some(mine), None) => Some(Townships::Only(mine.to_vec())),
            (Some(mine), Some(t)) => mine.iter().any(|m| m.as_str() == t).then(|| Townships::Only(vec![t.into()])),
        }
    }
}

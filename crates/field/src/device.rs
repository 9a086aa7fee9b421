//! A device's enrolment with its county server and what it keeps of it.
//!
//! Enrolment redeems a one-time code (`SJE1:…`): the device sends a fresh
//! actor id and the public half of a fresh card key, and receives a token,
//! the county secret, the operator's name and the county's card root key.
//! All of it is kept inside the encrypted store (`sync_values`), never in a
//! plain file. The CLI's `sanjian device` and the app share this module.

use crate::api::{ApiError, Result};
use crate::codes;
use registry::keys::CountySecret;
use serde::Serialize;
use std::path::Path;
use std::time::Duration;
use store::{Init, Store, StoreKey};
use sync::enrol::{EnrolmentText, unhex};
use sync::http::{Endpoint, HttpTransport};

pub const BASE: &str = "device.server";
pub const PIN: &str = "device.pin";
pub const CA: &str = "device.ca";
pub const TOKEN: &str = sync::http::TOKEN_KEY;
pub const SIGNING_KEY: &str = "device.signing_key";
pub const PERSON: &str = "device.person";
pub const ROLE: &str = "device.role";
pub const DEVICE_ID: &str = "device.id";
/// The wipe-check token (copied to the lock file by the app).
pub const WIPE_CHECK: &str = "device.wipe_check";
/// The scope granted at enrolment, JSON `{all, townships, grids}`.
pub const SCOPE: &str = "device.scope";

/// Who this device is, as the UI shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    /// False for a standalone store (no county server).
    pub enrolled: bool,
    pub server: Option<String>,
    pub person: Option<String>,
    pub role: Option<String>,
    pub device_id: Option<String>,
    /// The scope granted at enrolment; `None` for a standalone store.
    pub scope: Option<Scope>,
}

/// Where a device may register: the whole county, or some townships and grids.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Scope {
    pub all: bool,
    pub townships: Vec<String>,
    pub grids: Vec<String>,
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut b);
    b
}

/// Redeems `text` and creates the device's store at `path` (which must not
/// exist). Nothing is written unless the server accepted the code.
pub fn enrol(
    path: &Path,
    key: &StoreKey,
    text: &str,
    ca_pem: Option<Vec<u8>>,
    rt: &tokio::runtime::Handle,
) -> Result<(Store, DeviceInfo)> {
    let enrolment = EnrolmentText::parse(text.trim())?;
    if path.exists() {
        return Err(ApiError::new(
            "STORE_EXISTS",
            format!("{} 已存在，未改动", path.display()),
            format!("{} already exists; nothing changed", path.display()),
        ));
    }
    let mut endpoint = Endpoint::from(&enrolment);
    endpoint.ca_pem = ca_pem;
    let actor: [u8; 16] = random();
    let seed: [u8; 32] = random();
    let public = card::SigningKey::from_bytes(&seed).verifying_key().to_bytes();
    let client = endpoint.client(Duration::from_secs(60))?;
    let creds = rt.block_on(sync::http::redeem(&client, &enrolment, actor, public))?;
    let secret: [u8; 32] = unhex(&creds.county_secret)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ApiError::from(codes::ENROL_MALFORMED))?;
    let mut store =
        Store::create(path, key, &Init { county_secret: CountySecret::from_bytes(secret), device_id: Some(actor) })?;
    let mut put = |k: &str, v: &[u8]| store.set_sync_value(k, v);
    put(BASE, endpoint.base.as_bytes())?;
    if let Some(pin) = endpoint.pin {
        put(PIN, &pin)?;
    }
    if let Some(ca) = &endpoint.ca_pem {
        put(CA, ca)?;
    }
    put(TOKEN, creds.token.as_bytes())?;
    put(sync::http::TOKEN_AT_KEY, sync::http::now_ms().to_string().as_bytes())?;
    put(SIGNING_KEY, &seed)?;
    put(PERSON, creds.person.as_bytes())?;
    put(ROLE, creds.role.as_bytes())?;
    put(DEVICE_ID, creds.device_id.as_bytes())?;
    if !creds.wipe_check.is_empty() {
        put(WIPE_CHECK, creds.wipe_check.as_bytes())?;
    }
    let scope = Scope { all: creds.scope_all, townships: creds.townships.clone(), grids: creds.grids.clone() };
    put(SCOPE, &serde_json::to_vec(&scope).expect("plain struct"))?;
    if let Some(root) = unhex(&creds.card_root).filter(|r| r.len() == 32) {
        put(sync::http::card_keys::ROOT, &root)?;
    }
    store.set_operator(&creds.person);
    let info = info(&store)?;
    Ok((store, info))
}

/// A standalone store: no server, a county secret of its own. For trials
/// and demonstrations; it cannot join a county later.
pub fn standalone(path: &Path, key: &StoreKey, operator: &str) -> Result<(Store, DeviceInfo)> {
    let mut store = Store::create(
        path,
        key,
        &Init { county_secret: CountySecret::from_bytes(random()), device_id: Some(random()) },
    )?;
    if !operator.trim().is_empty() {
        store.set_sync_value(PERSON, operator.trim().as_bytes())?;
        store.set_operator(operator.trim());
    }
    let info = info(&store)?;
    Ok((store, info))
}

fn text(store: &Store, key: &str) -> Result<Option<String>> {
    Ok(store.sync_value(key)?.map(|b| String::from_utf8_lossy(&b).into_owned()))
}

pub fn info(store: &Store) -> Result<DeviceInfo> {
    let server = text(store, BASE)?;
    Ok(DeviceInfo {
        enrolled: server.is_some(),
        server,
        person: text(store, PERSON)?,
        role: text(store, ROLE)?,
        device_id: text(store, DEVICE_ID)?,
        scope: scope(store)?,
    })
}

/// The device's scope: as the server last stated it in a pull (so a scope
/// the county changed shows after the next sync), else as granted at
/// enrolment; `None` for a standalone store.
pub fn scope(store: &Store) -> Result<Option<Scope>> {
    if let Some(s) = sync::client::stored_scope(store)? {
        let ids = |v: Vec<registry::model::RecordId>| v.into_iter().map(|id| id.0).collect();
        return Ok(Some(Scope { all: s.all, townships: ids(s.townships), grids: ids(s.grids) }));
    }
    Ok(store.sync_value(SCOPE)?.and_then(|b| serde_json::from_slice(&b).ok()))
}

/// The server and token an enrolled store syncs with; `None` if standalone.
pub fn connection(store: &Store) -> Result<Option<(Endpoint, String)>> {
    let Some(base) = text(store, BASE)? else { return Ok(None) };
    let mut endpoint = Endpoint::new(&base);
    endpoint.pin = store.sync_value(PIN)?.and_then(|p| p.try_into().ok());
    endpoint.ca_pem = store.sync_value(CA)?;
    let token = text(store, TOKEN)?.unwrap_or_default();
    Ok(Some((endpoint, token)))
}

/// What the lock file keeps for the locked app's wipe check.
pub fn wipe_check(store: &Store) -> Result<Option<crate::pin::WipeCheck>> {
    let (Some(base), Some(token)) = (text(store, BASE)?, text(store, WIPE_CHECK)?) else { return Ok(None) };
    let pin = store.sync_value(PIN)?.map(|p| sync::enrol::hex(&p));
    Ok(Some(crate::pin::WipeCheck { base, pin, token }))
}

/// Sets the store's operator to the enrolled person (their name goes with
/// every change).
pub fn set_operator(store: &mut Store) -> Result<()> {
    if let Some(person) = text(store, PERSON)? {
        store.set_operator(&person);
    }
    Ok(())
}

/// One sync session now, then the county's card lists; `progress` sees each
/// step. For the CLI; the app runs [`sync::http::AutoSync`].
pub fn sync_once(
    store: &mut Store,
    rt: &tokio::runtime::Handle,
    progress: &mut dyn FnMut(&sync::client::Progress),
) -> Result<sync::client::Report> {
    let Some((endpoint, token)) = connection(store)? else {
        return Err(not_enrolled());
    };
    let client = endpoint.client(Duration::from_secs(120))?;
    let mut transport = HttpTransport::new(client.clone(), &endpoint, &token, rt.clone());
    let report = sync::client::sync(store, &mut transport, &sync::client::Options::default(), progress)?;
    let (trust, revoked) = rt.block_on(sync::http::fetch_card_lists(&client, &endpoint))?;
    sync::http::keep_card_lists(store, &trust, &revoked)?;
    sync::http::rotate_if_due(store, &client, &endpoint, rt)?;
    Ok(report)
}

pub fn not_enrolled() -> ApiError {
    ApiError::from(codes::NOT_ENROLLED)
}

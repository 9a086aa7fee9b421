//! Membership cards on a device: issue one offline with the device's own
//! card key, verify one with the county's lists the device holds.

use crate::api::{ApiError, Result};
use crate::codes;
use crate::device::SIGNING_KEY;
use registry::Date;
use registry::model::{Record, RecordId};
use serde::{Deserialize, Serialize};
use store::Store;
use sync::enrol::hex;

/// A card just issued, or kept since and shown again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issued {
    /// `UC1:…`, what the QR code holds.
    pub text: String,
    /// The QR code as SVG, for the screen and for print.
    pub svg: String,
    /// `UC` + 16 hex, written into the member's record.
    pub number: String,
    /// The member's previous card, which the county is to revoke.
    pub replaces: Option<String>,
    pub name: String,
    /// The member's union, printed on the card's face.
    #[serde(default)]
    pub union_name: Option<String>,
    pub issued: Date,
    pub expires: Date,
}

/// Where a device keeps the card it issued for a member (inside its
/// encrypted store, never synced: the card is shown again from here, never
/// issued again, which would revoke the one the member holds).
fn kept_key(member: &RecordId) -> String {
    format!("card.{member}")
}

fn union_name(store: &Store, union: &RecordId) -> Option<String> {
    store.get(union).ok().flatten().map(|r| r.record.display_name().to_owned())
}

/// The card this device issued for `member`, if it is still the member's
/// card (a card issued since on another device replaces it).
pub fn kept(store: &Store, member: &RecordId) -> Result<Option<Issued>> {
    let Some(bytes) = store.sync_value(&kept_key(member))? else { return Ok(None) };
    let Ok(mut card) = serde_json::from_slice::<Issued>(&bytes) else { return Ok(None) };
    let current = match store.get(member)?.map(|r| r.record) {
        Some(Record::Member(m)) if m.left_on.is_none() => m,
        _ => return Ok(None),
    };
    if current.card_number.as_deref() != Some(card.number.as_str()) {
        return Ok(None);
    }
    card.svg = qr_svg(&card.text)?;
    card.replaces = None;
    card.name = current.name.clone();
    card.union_name = union_name(store, &current.union_id);
    Ok(Some(card))
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checked {
    pub valid: bool,
    pub code: Option<String>,
    pub message: Option<registry::Message>,
    pub name: Option<String>,
    pub number: Option<String>,
    pub member: Option<String>,
    pub union_name: Option<String>,
    pub issued: Option<Date>,
    pub expires: Option<Date>,
    /// The device that issued it.
    pub device: Option<String>,
    /// Which revocation list it was checked against.
    pub revocations_seq: Option<u64>,
}

pub fn day(date: Date) -> card::Day {
    let epoch = time::macros::date!(1970 - 01 - 01);
    (date - epoch).whole_days().max(0) as card::Day
}

pub fn date_of(day: card::Day) -> Date {
    time::macros::date!(1970 - 01 - 01) + time::Duration::days(i64::from(day))
}

fn id_bytes(id: &RecordId) -> Option<[u8; 16]> {
    sync::enrol::unhex(id.as_str())?.try_into().ok()
}

/// The QR code of `text` as SVG.
pub fn qr_svg(text: &str) -> Result<String> {
    let qr = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).map_err(|e| {
        ApiError::new(codes::CARD_QR.code, format!("二维码生成失败：{e}"), format!("The QR code failed: {e}"))
    })?;
    Ok(qr.render::<qrcode::render::svg::Color<'_>>().min_dimensions(300, 300).quiet_zone(true).build())
}

/// Issues a card for a live, valid member this device holds, valid for
/// `years`. The card number goes into the member's record (and so to the
/// county with the next sync). A device whose key the county's trust list
/// shows as not valid today, or removed, issues nothing: the card would be
/// refused everywhere.
pub fn issue(store: &mut Store, member: &RecordId, years: u32, today: Date) -> Result<Issued> {
    let Some(seed) = store.sync_value(SIGNING_KEY)? else {
        return Err(ApiError::from(codes::CARD_NO_KEY));
    };
    let seed: [u8; 32] = seed.try_into().map_err(|_| ApiError::from(codes::CARD_KEY_DAMAGED))?;
    let key = card::SigningKey::from_bytes(&seed);
    let Some(stored) = store.get(member)? else {
        return Err(ApiError::from(sync::codes::NOT_FOUND));
    };
    if stored.deleted.is_some() {
        return Err(ApiError::from(codes::CARD_RECORD_DELETED));
    }
    let mut record = stored.record;
    let Record::Member(m) = &record else {
        return Err(ApiError::from(codes::CARD_NOT_A_MEMBER));
    };
    if m.left_on.is_some() {
        return Err(ApiError::from(codes::CARD_MEMBER_LEFT));
    }
    let issues = registry::validate::check(&mut record.clone(), today);
    if registry::message::blocks_saving(&issues) {
        return Err(ApiError::invalid(issues));
    }
    let Record::Member(m) = &mut record else { unreachable!("checked above") };
    let mut serial = [0u8; 8];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut serial);
    let issued = day(today);
    let claims_expires = issued + 365 * years.clamp(1, 10) - 1;
    let claims = card::Claims {
        member: id_bytes(member).ok_or_else(|| ApiError::from(codes::CARD_BAD_ID))?,
        issued,
        expires: claims_expires,
        serial,
        name: Some(m.name.clone()),
        union: id_bytes(&m.union_id),
    };
    let text = card::issue(claims, &key)?;
    // The device's own key, as the county's list shows it: a card outside
    // its validity would be refused by every verifier.
    if let Some(verifier) = sync::http::card_verifier(store)?
        && let Err(e @ (card::CardError::IssuerNotValid | card::CardError::IssuerRemoved)) =
            verifier.verify(&text, issued)
    {
        return Err(e.into());
    }
    let number = sync::server::card_number(&serial);
    let expires = date_of(claims_expires);
    let replaces = m.card_number.replace(number.clone());
    m.card_expires = Some(expires);
    let name = m.name.clone();
    let union = union_name(store, &m.union_id);
    store.update(member, record, today)?;
    let card = Issued { svg: qr_svg(&text)?, text, number, replaces, name, union_name: union, issued: today, expires };
    let keep = Issued { svg: String::new(), ..card.clone() };
    store.set_sync_value(&kept_key(member), &serde_json::to_vec(&keep).expect("plain struct"))?;
    Ok(card)
}

/// Verifies a card's text (line breaks dropped; Base45 may hold spaces).
pub fn verify(store: &Store, text: &str, today: Date) -> Result<Checked> {
    let Some(verifier) = sync::http::card_verifier(store)? else {
        return Err(ApiError::from(codes::CARD_NO_ROOT));
    };
    let text: String = text.trim().chars().filter(|c| *c != '\n' && *c != '\r').collect();
    Ok(match verifier.verify(&text, day(today)) {
        Ok(v) => {
            let union_name = v.claims.union.and_then(|u| store.get(&RecordId(hex(&u))).ok().flatten()).and_then(|r| {
                match r.record {
                    Record::Union(u) => Some(u.name),
                    _ => None,
                }
            });
            Checked {
                valid: true,
                code: None,
                message: None,
                name: v.claims.name.clone(),
                number: Some(sync::server::card_number(&v.claims.serial)),
                member: Some(hex(&v.claims.member)),
                union_name,
                issued: Some(date_of(v.claims.issued)),
                expires: Some(date_of(v.claims.expires)),
                device: Some(v.device),
                revocations_seq: Some(v.revocations_seq),
            }
        }
        Err(e) => {
            let (zh, en) = e.message();
            Checked {
                valid: false,
                code: Some(e.code().into()),
                message: Some(registry::Message::new(zh, en)),
                name: None,
                number: None,
                member: None,
                union_name: None,
                issued: None,
                expires: None,
                device: None,
                revocations_seq: None,
            }
        }
    })
}

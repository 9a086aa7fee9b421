//! 由本人申请, attacked as its users and abusers would: a worker applies by
//! a union's poster (mistakes first), follows the application by its
//! reference; the area's tablet and clerk see it, others do not; confirming
//! registers the person under the id their ID number derives and settles
//! their other applications; a later application of a registered person
//! merges; no answer says whether a person is registered; a source cannot
//! flood a union's queue; nothing personal is kept in the clear.

use crate::http::{Backend, Running, start};
use crate::util::*;
use registry::model::*;
use server::auth;

fn union_in(s: &Running, t: usize) -> RecordId {
    let township = &s.county.townships[t];
    s.county
        .records
        .iter()
        .find_map(|(id, r)| match r {
            Record::Union(u) if &u.place.township == township && u.dissolved_on.is_none() => Some(id.clone()),
            _ => None,
        })
        .expect("a live union in the township")
}

fn poster(s: &Running, token: &str, union: &RecordId) -> (u16, serde_json::Value) {
    s.answer(s.http.get(format!("{}/api/applications/poster?union={union}", s.endpoint.base)).bearer_auth(token))
}

/// The poster's path segment from its URL.
fn segment(poster: &serde_json::Value) -> String {
    poster["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned()
}

fn form(name: &str, resident_id: &str) -> serde_json::Value {
    serde_json::json!({
        "name": name, "resident_id": resident_id, "phone": "13912345678", "employer_name": "县城商贸有限公司",
        "ethnicity": "汉族", "education": "senior_high", "political_status": "masses", "migrant_worker": true,
        "consent": true
    })
}

fn apply(s: &Running, segment: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
    s.post_json(&format!("/api/apply/{segment}"), None, body)
}

fn standing(s: &Running, reference: &str) -> (u16, serde_json::Value) {
    s.post_json("/api/apply-status", None, &serde_json::json!({ "reference": reference }))
}

fn waiting(s: &Running, token: &str) -> Vec<serde_json::Value> {
    let (st, v) = s.answer(s.http.get(format!("{}/api/applications?size=100", s.endpoint.base)).bearer_auth(token));
    assert_eq!(st, 200, "{v}");
    v["items"].as_array().unwrap().clone()
}

fn decide(s: &Running, token: &str, id: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    s.post_json(&format!("/api/applications/{id}/decide"), Some(token), &body)
}

fn login(s: &Running, user: &str, password: &str) -> String {
    let (st, v) = s.post_json("/api/login", None, &serde_json::json!({"username": user, "password": password}));
    assert_eq!(st, 200, "{v}");
    v["token"].as_str().unwrap().to_owned()
}

/// A resident ID number no record of the county holds.
fn fresh_id(seq: u32) -> String {
    registry::ids::ResidentId::from_first17(&format!("34162119900101{seq:03}")).unwrap().as_str().to_owned()
}

fn member_id_of(resident_id: &str) -> RecordId {
    secret().record_id(&format!("member:{resident_id}"))
}

fn application_flow(backend: Backend) {
    let s = start(backend);
    let union = union_in(&s, 0);
    let mut tablet = s.enrol(s.township_grant(0), 1);
    let other = s.enrol(s.township_grant(1), 2);
    s.sync(&mut tablet).unwrap();

    // The poster: for the tablet's own union; not for another township's
    // device; a tag the county did not make names nothing.
    let (st, p) = poster(&s, &tablet.token, &union);
    assert_eq!(st, 200, "{p}");
    assert!(p["qr_svg"].as_str().unwrap().starts_with("<?xml") || p["qr_svg"].as_str().unwrap().contains("<svg"));
    let seg = segment(&p);
    assert_eq!(poster(&s, &other.token, &union).0, 404, "another township's union");
    let (st, info) = s.answer(s.http.get(format!("{}/api/apply/{seg}", s.endpoint.base)));
    assert_eq!((st, info["union_id"].as_str()), (200, Some(union.as_str())), "{info}");
    let forged = format!("{}-000000000000", union.as_str());
    let (st, v) = s.answer(s.http.get(format!("{}/api/apply/{forged}", s.endpoint.base)));
    assert_eq!((st, v["code"].as_str()), (404, Some("APPLY_POSTER_UNKNOWN")));

    // The console's picker: the live unions of the clerk's own townships.
    let (st, v) = s.answer(
        s.http
            .get(format!("{}/api/applications/unions?township={}", s.endpoint.base, s.county.townships[0]))
            .bearer_auth(&s.admin),
    );
    assert_eq!(st, 200, "{v}");
    assert!(v["items"].as_array().unwrap().iter().any(|u| u["id"] == union.as_str()), "{v}");
    s.state.db.tx(|db| auth::set_user_townships(db, "clerk", std::slice::from_ref(&s.county.townships[1]))).unwrap();
    let (st, _) = s.answer(
        s.http
            .get(format!("{}/api/applications/unions?township={}", s.endpoint.base, s.county.townships[0]))
            .bearer_auth(login(&s, "clerk", "battery staple")),
    );
    assert_eq!(st, 403, "another township's unions");

    // Planted mistakes, each told by its field and code.
    let person = fresh_id(101);
    let mut bad = form("王小二", &person);
    bad["resident_id"] =
        serde_json::json!(format!("{}{}", &person[..17], if &person[17..] == "0" { "1" } else { "0" }));
    bad["consent"] = serde_json::json!(false);
    let (st, v) = apply(&s, &seg, &bad);
    assert_eq!((st, v["code"].as_str()), (422, Some("APPLY_INVALID")), "{v}");
    let fields: Vec<(&str, &str)> = v["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["field"].as_str().unwrap(), i["code"].as_str().unwrap()))
        .collect();
    assert!(fields.contains(&("resident_id", "ID_CHECKSUM")), "{fields:?}");
    assert!(fields.contains(&("consent", "APPLY_CONSENT")), "{fields:?}");
    assert!(v["issues"][0]["message"]["zh"].as_str().is_some_and(|m| !m.is_empty()));

    // Applied; followed by the reference (typed loosely: lower case, no dashes).
    let (st, v) = apply(&s, &seg, &form("王小二", &person));
    assert_eq!(st, 200, "{v}");
    let reference = v["reference"].as_str().unwrap().to_owned();
    assert_eq!(reference.len(), 24, "{reference}");
    let (st, v) = standing(&s, &reference.replace('-', "").to_lowercase());
    assert_eq!((st, v["status"].as_str(), v["carded"].as_bool()), (200, Some("pending"), Some(false)), "{v}");
    assert_eq!(standing(&s, "0000-0000-0000-0000-0000").0, 404, "a reference nobody was given");
    // The same person applying again (they forgot their reference).
    let (_, again) = apply(&s, &seg, &form("王小二", &person));
    let second = again["reference"].as_str().unwrap().to_owned();
    assert_ne!(second, reference);

    // No oracle: a registered member's ID number is answered as anyone's.
    let registered = s.county.active_member();
    let (st, v) = apply(&s, &seg, &form(&registered.name, &registered.resident_id));
    assert_eq!(st, 200, "{v}");
    assert_eq!(v.as_object().unwrap().keys().collect::<Vec<_>>(), vec!["reference"], "{v}");
    let (_, v) = standing(&s, v["reference"].as_str().unwrap());
    assert_eq!(v["status"], "pending", "{v}");

    // The queue: the township's tablet and its clerk see the three; another
    // township's device sees none and cannot decide them.
    let mine = waiting(&s, &tablet.token);
    assert_eq!(mine.len(), 3, "{mine:?}");
    let first = mine.iter().find(|x| x["name"] == "王小二").unwrap();
    assert_eq!(first["phone"], "13912345678", "the phone to call");
    assert!(!first["masked_id"].as_str().unwrap().contains(&person[6..14]), "the ID number masked");
    assert_eq!((first["registered"].as_bool(), first["others"].as_u64()), (Some(false), Some(1)));
    let known = mine.iter().find(|x| x["name"].as_str() == Some(registered.name.as_str())).unwrap();
    assert!(known["registered"].as_bool().unwrap(), "the registered member is flagged for the confirming surveyor");
    assert!(waiting(&s, &other.token).is_empty(), "another township's device");
    s.state.db.tx(|db| auth::set_user_townships(db, "clerk", std::slice::from_ref(&s.county.townships[1]))).unwrap();
    let clerk = login(&s, "clerk", "battery staple");
    assert!(waiting(&s, &clerk).is_empty(), "another township's clerk");
    let id = first["id"].as_str().unwrap().to_owned();
    let (st, v) = decide(&s, &other.token, &id, serde_json::json!({"decision": "confirm"}));
    assert_eq!((st, v["code"].as_str()), (404, Some("APPLY_NOT_FOUND")), "decided from another township: {v}");
    let (st, v) = decide(&s, &clerk, &id, serde_json::json!({"decision": "confirm"}));
    assert_eq!(st, 404, "{v}");
    assert_eq!(standing(&s, &reference).1["status"], "pending", "nothing decided by them");

    // Confirmed by the tablet: the member record under the id the ID
    // number derives, both of the person's applications settled.
    let (st, v) = decide(&s, &tablet.token, &id, serde_json::json!({"decision": "confirm"}));
    assert_eq!(st, 200, "{v}");
    assert_eq!((v["merged"].as_bool(), v["settled_too"].as_u64()), (Some(false), Some(1)), "{v}");
    let member = member_id_of(&person);
    assert_eq!(v["member_id"].as_str(), Some(member.as_str()));
    let (st, v) = decide(&s, &tablet.token, &id, serde_json::json!({"decision": "confirm"}));
    assert_eq!((st, v["code"].as_str()), (409, Some("APPLY_DECIDED")));
    for r in [&reference, &second] {
        assert_eq!(standing(&s, r).1["status"], "confirmed", "{r}");
    }
    // The tablet gets the record with its next sync and issues the card;
    // the status page says so.
    s.sync(&mut tablet).unwrap();
    let stored = tablet.store.get(&member).unwrap().expect("the confirmed member reached the tablet");
    let Record::Member(mut m) = stored.record else { panic!("a member") };
    assert_eq!((m.union_id.clone(), m.phone.as_deref(), m.migrant_worker), (union.clone(), Some("13912345678"), true));
    m.card_number = Some("UC00000000000000C1".into());
    m.card_expires = Some(server::today() + time::Duration::days(365));
    tablet.store.update(&member, Record::Member(m), server::today()).unwrap();
    s.sync(&mut tablet).unwrap();
    let (_, v) = standing(&s, &reference);
    assert_eq!((v["status"].as_str(), v["carded"].as_bool()), (Some("confirmed"), Some(true)), "{v}");

    // The same person applies once more, with a new phone: confirming
    // merges into their record (one member, the new phone).
    let mut newer = form("王小二", &person);
    newer["phone"] = serde_json::json!("13800001111");
    let (_, v) = apply(&s, &seg, &newer);
    let third = v["reference"].as_str().unwrap().to_owned();
    let w = waiting(&s, &tablet.token);
    let next = w.iter().find(|x| x["name"] == "王小二").unwrap();
    assert!(next["registered"].as_bool().unwrap());
    let (st, v) = decide(&s, &tablet.token, next["id"].as_str().unwrap(), serde_json::json!({"decision": "confirm"}));
    assert_eq!((st, v["merged"].as_bool()), (200, Some(true)), "{v}");
    s.sync(&mut tablet).unwrap();
    let Record::Member(m) = tablet.store.get(&member).unwrap().unwrap().record else { panic!() };
    assert_eq!((m.phone.as_deref(), m.card_number.as_deref()), (Some("13800001111"), Some("UC00000000000000C1")));
    assert_eq!(standing(&s, &third).1["status"], "confirmed");

    // Declined, with the reason the status page shows; a decline needs one.
    let w = waiting(&s, &tablet.token);
    let last = w[0]["id"].as_str().unwrap().to_owned();
    let (st, v) = decide(&s, &tablet.token, &last, serde_json::json!({"decision": "decline", "reason": "  "}));
    assert_eq!((st, v["code"].as_str()), (422, Some("APPLY_REASON")));
    let (st, _) =
        decide(&s, &tablet.token, &last, serde_json::json!({"decision": "decline", "reason": "电话联系不上本人"}));
    assert_eq!(st, 200);
    assert!(waiting(&s, &tablet.token).is_empty());

    // The audit log: each decision, by whom (the tablet), with a decline's reason.
    let (_, log) =
        s.answer(s.http.get(format!("{}/api/console/audit?kind=application", s.endpoint.base)).bearer_auth(&s.admin));
    let entries = log["entries"].as_array().unwrap_or_else(|| panic!("{log}"));
    let of = |action: &str| entries.iter().filter(|e| e["action"] == action && e["who"] == tablet.id.as_str()).count();
    assert_eq!((of("application:confirmed"), of("application:declined")), (3, 1), "{log}");
    assert!(entries.iter().any(|e| e["note"] == "电话联系不上本人"));

    // Nothing personal in the clear: the applications table holds sealed
    // bytes and keyed hashes only.
    let rows = s
        .state
        .db
        .tx(|db| db.query("SELECT id, union_id, township, person, sealed, reason FROM applications", &[]))
        .unwrap();
    assert_eq!(rows.len(), 4, "the refused form was not kept");
    for r in &rows {
        for v in r {
            let text = match v {
                sync::server::Val::Text(t) => t.clone(),
                sync::server::Val::Blob(b) => String::from_utf8_lossy(b).into_owned(),
                _ => continue,
            };
            for secret in [person.as_str(), "13912345678", "13800001111", "王小二", &registered.resident_id] {
                assert!(!text.contains(secret), "{secret} in the clear");
            }
        }
    }
}

#[test]
fn a_worker_applies_by_a_poster_and_the_township_confirms() {
    application_flow(Backend::Sqlite);
}

#[test]
fn applications_on_postgresql() {
    application_flow(Backend::Postgres);
}

/// Every submission from one source counts, good or bad: the eleventh in a
/// quarter of an hour waits (429), a well-formed one too; and a union's
/// queue holds at most `MAX_WAITING_PER_UNION`, told to the next applicant
/// without a word about anyone.
#[test]
fn a_source_cannot_flood_a_unions_queue() {
    let s = start(Backend::Sqlite);
    let union = union_in(&s, 0);
    let seg = segment(&poster(&s, &s.admin, &union).1);
    let limit = server::guard::APPLICATIONS_PER_QUARTER_HOUR as u32;
    for i in 0..limit {
        let body =
            if i % 2 == 0 { form("甲", &fresh_id(i)) } else { serde_json::json!({"name": "乙", "resident_id": "1"}) };
        let (st, v) = apply(&s, &seg, &body);
        assert!(st == 200 || st == 422 || st == 400, "{st} {v}");
    }
    let (st, v) = apply(&s, &seg, &form("丙", &fresh_id(900)));
    assert_eq!((st, v["code"].as_str()), (429, Some("TOO_MANY_ATTEMPTS")), "{v}");

    // The queue's cap, filled at the county's side of the edge.
    let secret = secret();
    let ctx = s.state.ctx();
    let waiting_now =
        s.state.db.tx(|db| db.query("SELECT count(*) FROM applications WHERE status = 'pending'", &[])).unwrap()[0][0]
            .int();
    let fill = county::applications::MAX_WAITING_PER_UNION - waiting_now;
    s.state
        .db
        .tx(|db| {
            for i in 0..fill {
                let a: county::applications::Applicant =
                    serde_json::from_value(form("丁", &fresh_id(100 + i as u32 % 800))).unwrap();
                county::applications::submit(db, &ctx, &secret, &seg, &a)
                    .map_err(|e| sync::SyncError::Server(e.to_string()))?;
            }
            Ok(())
        })
        .unwrap();
    let over = s.state.db.tx(|db| {
        let a: county::applications::Applicant = serde_json::from_value(form("戊", &fresh_id(999))).unwrap();
        Ok(county::applications::submit(db, &ctx, &secret, &seg, &a).map(|_| ()).map_err(|e| e.to_string()))
    });
    assert!(over.unwrap().unwrap_err().starts_with("APPLY_QUEUE_FULL"));
}

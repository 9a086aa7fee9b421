//! 会员优惠基地 as its users and abusers meet it: a clerk registers a
//! merchant of their own township only; the verifier's link answers what
//! it pins (the county's root key) and takes day counts within bounds; a
//! withdrawn merchant's link is dead; a clerk sees only their townships'
//! merchants; nothing of a verified person reaches the server.

use crate::http::{Backend, Running, start};
use server::auth;

fn login(s: &Running, user: &str, password: &str) -> String {
    let (st, v) = s.post_json("/api/login", None, &serde_json::json!({"username": user, "password": password}));
    assert_eq!(st, 200, "{v}");
    v["token"].as_str().unwrap().to_owned()
}

fn merchants(s: &Running, token: &str) -> Vec<serde_json::Value> {
    let (st, v) = s.answer(s.http.get(format!("{}/api/console/merchants", s.endpoint.base)).bearer_auth(token));
    assert_eq!(st, 200, "{v}");
    v["items"].as_array().unwrap().clone()
}

fn report(s: &Running, token: &str, counts: serde_json::Value) -> (u16, serde_json::Value) {
    s.post_json(&format!("/api/merchants/{token}/counts"), None, &serde_json::json!({ "counts": counts }))
}

fn day(offset: i64) -> String {
    (server::today() + time::Duration::days(offset)).to_string()
}

#[test]
fn merchants_are_registered_counted_and_withdrawn_within_their_townships() {
    merchants_flow(Backend::Sqlite);
}

#[test]
fn merchants_on_postgresql() {
    merchants_flow(Backend::Postgres);
}

fn merchants_flow(backend: Backend) {
    let s = start(backend);
    let (mine, theirs) = (&s.county.townships[0], &s.county.townships[1]);
    s.state.db.tx(|db| auth::set_user_townships(db, "clerk", std::slice::from_ref(mine))).unwrap();
    let clerk = login(&s, "clerk", "battery staple");
    let new = |township: &str| serde_json::json!({"name": "幸福超市", "township": township, "benefit": "凭会员卡九折"});
    let (st, v) = s.post_json("/api/console/merchants", Some(&clerk), &new(theirs.as_str()));
    assert_eq!((st, v["code"].as_str()), (403, Some("FORBIDDEN")), "another township's merchant");
    let (st, v) = s.post_json(
        "/api/console/merchants",
        Some(&clerk),
        &serde_json::json!({"name": " ", "township": mine, "benefit": "x"}),
    );
    assert_eq!((st, v["code"].as_str()), (422, Some("MERCHANT_FIELDS")));
    let (st, v) = s.post_json("/api/console/merchants", Some(&clerk), &new(mine.as_str()));
    assert_eq!(st, 200, "{v}");
    let token = v["token"].as_str().unwrap().to_owned();
    let (st, other) = s.post_json("/api/console/merchants", Some(&s.admin), &new(theirs.as_str()));
    assert_eq!(st, 200, "{other}");

    // The clerk lists theirs only; the link and QR code name the verifier.
    let list = merchants(&s, &clerk);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["token"], token.as_str());
    assert!(list[0]["url"].as_str().unwrap().ends_with(&format!("/m/{token}")));
    assert!(list[0]["qr_svg"].as_str().unwrap().contains("<svg"));
    assert_eq!(merchants(&s, &s.admin).len(), 2);

    // What the verifier pins: the county's root key.
    let (st, info) = s.answer(s.http.get(format!("{}/api/merchants/{token}/info", s.endpoint.base)));
    assert_eq!(st, 200, "{info}");
    let (_, root) = s.answer(s.http.get(format!("{}/api/cards/root", s.endpoint.base)));
    assert_eq!(info["root_key"], root["public_key"]);
    assert_eq!((info["name"].as_str(), info["benefit"].as_str()), (Some("幸福超市"), Some("凭会员卡九折")));

    // Counts within bounds add up; out of bounds they are refused whole.
    assert_eq!(report(&s, &token, serde_json::json!([{"day": day(0), "accepted": 3, "refused": 1}])).0, 200);
    assert_eq!(report(&s, &token, serde_json::json!([{"day": day(0), "accepted": 2, "refused": 0}, {"day": day(-3), "accepted": 5, "refused": 2}])).0, 200);
    for bad in [
        serde_json::json!([{"day": day(0), "accepted": -1, "refused": 0}]),
        serde_json::json!([{"day": day(5), "accepted": 1, "refused": 0}]),
        serde_json::json!([{"day": day(-400), "accepted": 1, "refused": 0}]),
        serde_json::json!([{"day": "昨天", "accepted": 1, "refused": 0}]),
        serde_json::json!([{"day": day(0), "accepted": 9_000, "refused": 2_000}]),
    ] {
        let (st, v) = report(&s, &token, bad.clone());
        assert_eq!((st, v["code"].as_str()), (422, Some("MERCHANT_COUNTS")), "{bad}");
    }
    // A report sent again after its answer was lost counts once.
    let again = serde_json::json!({"batch": "5f1c0a", "counts": [{"day": day(0), "accepted": 1, "refused": 0}]});
    for _ in 0..3 {
        assert_eq!(s.post_json(&format!("/api/merchants/{token}/counts"), None, &again).0, 200);
    }
    let bad_batch = serde_json::json!({"batch": "a b", "counts": [{"day": day(0), "accepted": 1, "refused": 0}]});
    assert_eq!(s.post_json(&format!("/api/merchants/{token}/counts"), None, &bad_batch).0, 422);
    let m = &merchants(&s, &clerk)[0];
    assert_eq!((m["accepted"].as_i64(), m["refused"].as_i64()), (Some(11), Some(3)));
    assert_eq!(m["counts"][0], serde_json::json!({"day": day(0), "accepted": 6, "refused": 1}));

    // Withdrawn by the clerk: the link is dead, the counts stay. Another
    // township's merchant cannot be withdrawn by them.
    let other_id = other["id"].as_str().unwrap();
    let (st, _) =
        s.post_json(&format!("/api/console/merchants/{other_id}/withdraw"), Some(&clerk), &serde_json::json!({}));
    assert_eq!(st, 404);
    assert!(!merchants(&s, &s.admin).iter().any(|m| m["withdrawn"] == true), "nothing withdrawn by the refusal");
    let id = m["id"].as_str().unwrap();
    assert_eq!(
        s.post_json(&format!("/api/console/merchants/{id}/withdraw"), Some(&clerk), &serde_json::json!({})).0,
        200
    );
    let (st, v) = s.answer(s.http.get(format!("{}/api/merchants/{token}/info", s.endpoint.base)));
    assert_eq!((st, v["code"].as_str()), (404, Some("MERCHANT_UNKNOWN")));
    assert_eq!(report(&s, &token, serde_json::json!([{"day": day(0), "accepted": 1, "refused": 0}])).0, 404);
    assert_eq!(merchants(&s, &clerk)[0]["accepted"].as_i64(), Some(11));
    // The audit log names who registered and who withdrew.
    let (st, log) =
        s.answer(s.http.get(format!("{}/api/console/audit?kind=merchant", s.endpoint.base)).bearer_auth(&s.admin));
    assert_eq!(st, 200, "{log}");
    let actions: Vec<(&str, &str)> = log["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("{log}"))
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["who"].as_str().unwrap_or("")))
        .collect();
    assert!(actions.contains(&("merchant:withdraw", "clerk")), "{actions:?}");
    assert_eq!(actions.iter().filter(|(a, _)| *a == "merchant:register").count(), 2, "{actions:?}");
}

/// Wrong tokens are guesses: a source that keeps trying waits.
#[test]
fn guessing_merchant_tokens_is_slowed() {
    let s = start(Backend::Sqlite);
    let mut last = 0;
    for i in 0..40 {
        let (st, _) = report(&s, &format!("{i:032x}"), serde_json::json!([]));
        last = st;
        if st == 429 {
            break;
        }
        assert_eq!(st, 404);
    }
    assert_eq!(last, 429, "the source waits after its wrong guesses");
}

//! The console's long lists, paged on the server: the entity list's pages
//! cover every entity once, in order; its status filters agree with the
//! registry's covering rule over the county's records (dissolved unions
//! cover nothing); a clerk pages through their township only.

use crate::http::{Backend, Running, each_backend, start};
use registry::model::*;
use registry::rules;
use std::collections::{BTreeMap, BTreeSet};

fn page(s: &Running, token: &str, query: &str) -> (u16, serde_json::Value) {
    s.answer(s.http.get(format!("{}/api/console/entities?{query}", s.endpoint.base)).bearer_auth(token))
}

/// Every page of a query, the rows' ids in order.
fn all_pages(s: &Running, token: &str, query: &str, size: usize) -> (usize, Vec<String>) {
    let mut ids = Vec::new();
    let mut total = 0;
    for p in 1.. {
        let (st, v) = page(s, token, &format!("{query}&size={size}&page={p}"));
        assert_eq!(st, 200, "{v}");
        total = v["total"].as_u64().unwrap() as usize;
        let rows = v["rows"].as_array().unwrap();
        assert!(rows.len() <= size);
        ids.extend(rows.iter().map(|r| r["id"].as_str().unwrap().to_owned()));
        if rows.len() < size {
            break;
        }
    }
    (total, ids)
}

#[test]
fn the_entity_list_pages_and_filters_as_the_registry_counts() {
    each_backend(|backend: Backend| {
        let s = start(backend);
        let today = server::today();
        let unions: BTreeMap<&RecordId, &GrassrootsUnion> = s
            .county
            .records
            .iter()
            .filter_map(|(id, r)| if let Record::Union(u) = r { Some((id, u)) } else { None })
            .collect();
        let mut expect: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for (id, r) in &s.county.records {
            let Record::Entity(e) = r else { continue };
            let standing = e.union_id.as_ref().and_then(|u| unions.get(u)).map(|u| rules::UnionStanding::from(*u));
            let status = match (e.closed, rules::covering(standing, today)) {
                (true, _) => "closed",
                (false, Some(_)) => "covered",
                (false, None) => "uncovered",
            };
            expect.entry(status).or_default().insert(id.to_string());
            expect.entry("all").or_default().insert(id.to_string());
        }
        // Every entity once, in name order, over pages of 3.
        let (total, ids) = all_pages(&s, &s.admin, "sort=name", 3);
        assert_eq!(total, expect["all"].len());
        assert_eq!(ids.iter().cloned().collect::<BTreeSet<_>>(), expect["all"], "each once");
        assert_eq!(ids.len(), total);
        let (_, first) = page(&s, &s.admin, "sort=name&size=200");
        let names: Vec<&str> = first["rows"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert!(names.windows(2).all(|w| w[0] <= w[1]), "in name order: {names:?}");
        let (_, rev) = page(&s, &s.admin, "sort=name&desc=true&size=1");
        assert_eq!(rev["rows"][0]["name"].as_str(), names.last().copied(), "descending");
        // The status filters are the registry's.
        for status in ["covered", "uncovered", "closed"] {
            let (total, ids) = all_pages(&s, &s.admin, &format!("status={status}"), 50);
            let want = expect.get(status).cloned().unwrap_or_default();
            assert_eq!((total, ids.into_iter().collect::<BTreeSet<_>>()), (want.len(), want), "{status}");
        }
        // Part of a name, typed full-width or spaced.
        let some = names[0].chars().take(3).collect::<String>();
        let (_, hit) = page(&s, &s.admin, &format!("q={}", urlencode(&format!(" {some} "))));
        assert!(hit["total"].as_u64().unwrap() >= 1);
        assert!(hit["rows"].as_array().unwrap().iter().all(|r| r["name"].as_str().unwrap().contains(&some)));
        // A page is at most 200 rows, however many are asked for.
        let (_, big) = page(&s, &s.admin, "size=100000");
        assert_eq!(big["size"], 200);
    });
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[test]
fn a_clerk_pages_through_their_own_township_only() {
    let s = start(Backend::Sqlite);
    let (t0, t1) = (s.county.townships[0].clone(), s.county.townships[1].clone());
    s.state.db.tx(|db| server::auth::set_user_townships(db, "clerk", std::slice::from_ref(&t0))).unwrap();
    let (st, v) =
        s.post_json("/api/login", None, &serde_json::json!({"username": "clerk", "password": "battery staple"}));
    assert_eq!(st, 200);
    let clerk = v["token"].as_str().unwrap().to_owned();
    let mine: BTreeSet<String> = s
        .county
        .records
        .iter()
        .filter(|(_, r)| matches!(r, Record::Entity(e) if e.place.township == t0))
        .map(|(id, _)| id.to_string())
        .collect();
    let (total, ids) = all_pages(&s, &clerk, "sort=workers", 4);
    assert_eq!((total, ids.into_iter().collect::<BTreeSet<_>>()), (mine.len(), mine), "their township's, all of them");
    let (st, v) = page(&s, &clerk, &format!("township={t1}"));
    assert_eq!((st, v["code"].as_str()), (403, Some("FORBIDDEN")), "not another township's");
    let (st, _) = page(&s, &clerk, "township=../../etc");
    assert_eq!(st, 400);
    let (st, _) = s.answer(s.http.get(format!("{}/api/console/entities", s.endpoint.base)));
    assert_eq!(st, 401);
}

fn members(s: &Running, token: &str, query: &str) -> (u16, serde_json::Value) {
    s.answer(s.http.get(format!("{}/api/console/members?{query}", s.endpoint.base)).bearer_auth(token))
}

#[test]
fn the_member_list_finds_by_whole_name_or_id_and_counts_standing_as_the_registry() {
    each_backend(|backend: Backend| {
        let s = start(backend);
        let today = server::today();
        let all: Vec<&Member> = s
            .county
            .records
            .iter()
            .filter_map(|(_, r)| if let Record::Member(m) = r { Some(m) } else { None })
            .collect();
        let (st, v) = members(&s, &s.admin, "size=200");
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["total"].as_u64().unwrap() as usize, all.len());
        let rows = v["rows"].as_array().unwrap();
        assert!(rows.iter().all(|r| r["resident_id"].as_str().unwrap().contains("********")), "IDs masked");
        let joined: Vec<&str> = rows.iter().map(|r| r["joined_on"].as_str().unwrap()).collect();
        assert!(joined.windows(2).all(|w| w[0] >= w[1]), "newest first");
        for (status, want) in [
            ("active", all.iter().filter(|m| m.is_active(today)).count()),
            ("left", all.iter().filter(|m| !m.is_active(today)).count()),
        ] {
            let (_, v) = members(&s, &s.admin, &format!("status={status}"));
            assert_eq!(v["total"].as_u64().unwrap() as usize, want, "{status}");
        }
        // A whole name, typed with spaces; a whole resident ID.
        let m = all[0];
        let same =
            all.iter().filter(|x| registry::names::name_key(&x.name) == registry::names::name_key(&m.name)).count();
        let spaced: String = m.name.chars().flat_map(|c| [c, ' ']).collect();
        let (_, v) = members(&s, &s.admin, &format!("q={}", urlencode(&spaced)));
        assert_eq!(v["total"].as_u64().unwrap() as usize, same, "{v}");
        assert!(v["rows"].as_array().unwrap().iter().all(|r| r["name"] == m.name.as_str()));
        let (_, v) = members(&s, &s.admin, &format!("q={}", m.resident_id));
        assert_eq!(v["total"], 1);
        assert_eq!(v["rows"][0]["name"], m.name.as_str());
        // Part of a name finds nothing: names are kept only as keyed hashes.
        let part: String = m.name.chars().take(1).collect();
        if all.iter().all(|x| registry::names::name_key(&x.name) != part) {
            let (_, v) = members(&s, &s.admin, &format!("q={}", urlencode(&part)));
            assert_eq!(v["total"], 0);
        }
    });
}

#[test]
fn a_clerk_lists_their_townships_members_only() {
    let s = start(Backend::Sqlite);
    let (t0, t1) = (s.county.townships[0].clone(), s.county.townships[1].clone());
    s.state.db.tx(|db| server::auth::set_user_townships(db, "clerk", std::slice::from_ref(&t0))).unwrap();
    let (_, v) =
        s.post_json("/api/login", None, &serde_json::json!({"username": "clerk", "password": "battery staple"}));
    let clerk = v["token"].as_str().unwrap().to_owned();
    let mine =
        s.county.records.iter().filter(|(_, r)| matches!(r, Record::Member(m) if m.place.township == t0)).count();
    let (st, v) = members(&s, &clerk, "size=200");
    assert_eq!((st, v["total"].as_u64().unwrap() as usize), (200, mine));
    // Another township's member, by ID: not found for this clerk.
    let theirs = s
        .county
        .records
        .iter()
        .find_map(|(_, r)| match r {
            Record::Member(m) if m.place.township == t1 => Some(m.resident_id.clone()),
            _ => None,
        })
        .unwrap();
    let (_, v) = members(&s, &clerk, &format!("q={theirs}"));
    assert_eq!(v["total"], 0, "another township's member is not found");
    let (st, v) = members(&s, &clerk, &format!("township={t1}"));
    assert_eq!((st, v["code"].as_str()), (403, Some("FORBIDDEN")));
}

#[test]
fn the_quarantine_pages_and_filters_by_reason() {
    use sync::wire::{self, Message as _};
    let s = start(Backend::Sqlite);
    let dev = s.enrol(s.township_grant(0), 71);
    let (st, _) = s.post_json(&format!("/api/devices/{}/revoke", dev.id), Some(&s.admin), &serde_json::json!({}));
    assert_eq!(st, 200);
    // A revoked tablet's push is kept whole, an entry per document.
    let docs = (0..5u8)
        .map(|i| wire::PushDoc { id: RecordId(server::auth::hex(&[i + 1; 16])), heads: vec![], bytes: vec![i; 64] })
        .collect();
    let (st, _) = s.raw(sync::client::path::PUSH, &dev.token, wire::PushRequest { docs }.encode());
    assert_eq!(st, 401);
    let list = |q: &str| {
        let (st, v) = s.answer(s.http.get(format!("{}/api/quarantine?{q}", s.endpoint.base)).bearer_auth(&s.admin));
        assert_eq!(st, 200, "{v}");
        v
    };
    let first = list("size=2");
    let waiting = first["total"].as_i64().unwrap();
    assert!(waiting >= 1, "{first}");
    assert_eq!(first["items"].as_array().unwrap().len() as i64, waiting.min(2));
    let by_code: i64 = first["by_code"].as_array().unwrap().iter().map(|c| c[1].as_i64().unwrap()).sum();
    assert_eq!(by_code, waiting, "the codes' counts add up");
    // Every entry once over the pages, oldest first.
    let mut ids = Vec::new();
    for page in 1..=((waiting + 1) / 2) {
        ids.extend(
            list(&format!("size=2&page={page}"))["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()),
        );
    }
    assert_eq!(ids.len() as i64, waiting);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let code = first["by_code"][0][0].as_str().unwrap().to_owned();
    assert_eq!(list(&format!("code={code}"))["total"], first["by_code"][0][1]);
    assert_eq!(list("code=NO_SUCH_CODE")["total"], 0);
    // A clerk cannot read it.
    let (_, v) =
        s.post_json("/api/login", None, &serde_json::json!({"username": "clerk", "password": "battery staple"}));
    let (st, _) =
        s.answer(s.http.get(format!("{}/api/quarantine", s.endpoint.base)).bearer_auth(v["token"].as_str().unwrap()));
    assert_eq!(st, 403);
}

#[test]
fn the_audit_log_pages_every_entry_once_even_within_one_millisecond() {
    let s = start(Backend::Sqlite);
    // Sixty configuration entries, many in the same millisecond.
    s.state
        .db
        .tx(|db| {
            for i in 0..60 {
                db.execute(
                    "INSERT INTO config_log (at, who, what, detail) VALUES ($1, 'admin', $2, '')",
                    &[(1_000 + i / 7).into(), format!("step {i:02}").as_str().into()],
                )?;
            }
            Ok(())
        })
        .unwrap();
    let get = |q: &str| {
        let (st, v) = s.answer(s.http.get(format!("{}/api/console/audit?{q}", s.endpoint.base)).bearer_auth(&s.admin));
        assert_eq!(st, 200, "{v}");
        v
    };
    let first = get("kind=configure&size=25");
    assert_eq!(first["total"], 60);
    let mut seen = Vec::new();
    for page in 1..=3 {
        let v = get(&format!("kind=configure&size=25&page={page}"));
        seen.extend(v["entries"].as_array().unwrap().iter().map(|e| e["what"].as_str().unwrap().to_owned()));
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 60, "every entry once over the pages");
    assert_eq!(get("kind=export")["total"], 0);
    let (st, _) =
        s.answer(s.http.get(format!("{}/api/console/audit?kind=nonsense", s.endpoint.base)).bearer_auth(&s.admin));
    assert_eq!(st, 400);
}

#[test]
fn every_review_queue_pages_with_its_total() {
    let s = start(Backend::Sqlite);
    for queue in ["conflicts", "duplicates", "overrides"] {
        let get = |q: &str| {
            let (st, v) =
                s.answer(s.http.get(format!("{}/api/console/{queue}?{q}", s.endpoint.base)).bearer_auth(&s.admin));
            assert_eq!(st, 200, "{queue}: {v}");
            v
        };
        let all = get("size=200");
        let total = all["total"].as_u64().unwrap() as usize;
        assert_eq!(all["items"].as_array().unwrap().len(), total.min(200), "{queue}");
        let mut seen = 0;
        for page in 1..=total.max(1) {
            let v = get(&format!("size=1&page={page}"));
            assert_eq!(v["total"].as_u64().unwrap() as usize, total, "{queue}: the same total on every page");
            seen += v["items"].as_array().unwrap().len();
        }
        assert_eq!(seen, total, "{queue}: every item once, a page at a time");
        assert!(get(&format!("size=1&page={}", total + 1))["items"].as_array().unwrap().is_empty(), "{queue}");
    }
}

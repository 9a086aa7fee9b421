//! One truth on every tier: for every township of a synthetic county (with
//! federations in the urban office covering other townships' entities,
//! unions dissolved this year and transfers between townships), the
//! progress figures are the same on a township's tablet, a grid's tablet
//! (for its grid), the township clerk's console and the county admin's
//! console; and the tablet's worklist says what the registry says over the
//! county's records.

use crate::http::{Backend, Running, start_county};
use crate::util::*;
use registry::model::*;
use registry::progress::{ProgressReport, Tally, TownshipProgress};
use registry::rules;
use server::auth;
use std::collections::BTreeMap;

fn county(seed: u64, members: u64) -> County {
    let config = synth::SynthConfig { seed, members, today: TODAY, year: TODAY.year() };
    let mut records = Vec::new();
    synth::generate(&config, &secret(), |id, r| records.push((id, r)));
    let townships = records
        .iter()
        .filter(|(_, r)| matches!(r, Record::Area(a) if a.level == AreaLevel::Township))
        .map(|(id, _)| id.clone())
        .collect();
    County { records, townships }
}

fn login(s: &Running, user: &str, password: &str) -> String {
    let (st, v) = s.post_json("/api/login", None, &serde_json::json!({"username": user, "password": password}));
    assert_eq!(st, 200, "{v}");
    v["token"].as_str().unwrap().to_owned()
}

fn console_progress(s: &Running, token: &str) -> ProgressReport {
    let (st, v) = s.answer(s.http.get(format!("{}/api/console/progress", s.endpoint.base)).bearer_auth(token));
    assert_eq!(st, 200, "{v}");
    serde_json::from_value(v).unwrap()
}

fn row<'a>(report: &'a ProgressReport, township: &RecordId) -> &'a TownshipProgress {
    report.townships.iter().find(|t| &t.id == township).unwrap_or_else(|| panic!("no row for {township}"))
}

/// The entities the registry lists as needing their own union and as
/// uncovered, over the county's records, for one township (or one grid).
fn registry_lists(c: &County, township: &RecordId, grid: Option<&RecordId>) -> (Vec<RecordId>, Vec<RecordId>) {
    let today = server::today();
    let unions: BTreeMap<&RecordId, &GrassrootsUnion> =
        c.records.iter().filter_map(|(id, r)| if let Record::Union(u) = r { Some((id, u)) } else { None }).collect();
    let (mut own, mut uncovered) = (Vec::new(), Vec::new());
    for (id, r) in &c.records {
        let Record::Entity(e) = r else { continue };
        if &e.place.township != township || grid.is_some_and(|g| e.place.grid.as_ref() != Some(g)) {
            continue;
        }
        let standing = e.union_id.as_ref().and_then(|u| unions.get(u)).map(|u| rules::UnionStanding::from(*u));
        for f in rules::entity_findings(e, rules::covering(standing, today)) {
            match f.rule {
                "OWN_UNION_25" => own.push(id.clone()),
                "JOINT_UNDER_25" => uncovered.push(id.clone()),
                _ => {}
            }
        }
    }
    own.sort();
    uncovered.sort();
    (own, uncovered)
}

fn sorted_ids(t: &store::Todo) -> Vec<RecordId> {
    let mut v: Vec<RecordId> = t.rows.iter().map(|r| r.id.clone()).collect();
    v.sort();
    v
}

fn figures_agree(backend: Backend, seed: u64, members: u64) {
    let c = county(seed, members);
    let today = server::today();
    // The awkward cases are there.
    let unions: BTreeMap<&RecordId, &GrassrootsUnion> =
        c.records.iter().filter_map(|(id, r)| if let Record::Union(u) = r { Some((id, u)) } else { None }).collect();
    let across = c
        .records
        .iter()
        .filter(|(_, r)| {
            matches!(r, Record::Entity(e) if e.union_id.as_ref().and_then(|u| unions.get(u)).is_some_and(|u| u.place.township != e.place.township))
        })
        .count();
    assert!(across > 0, "entities covered from another township");
    assert!(unions.values().any(|u| rules::dissolved(u.dissolved_on, today)), "unions dissolved this year");
    let s = start_county(backend, None, false, c.clone());
    // The county revoked every ninth card this system issued; the tablets
    // keep the signed list and leave those cards out as the county does.
    let serials: Vec<String> = c
        .records
        .iter()
        .filter_map(
            |(_, r)| if let Record::Member(m) = r { rules::card_serial(m.card_number.as_deref()) } else { None },
        )
        .collect();
    let revoked: Vec<[u8; 8]> =
        serials.iter().step_by(9).map(|h| auth::unhex(h).unwrap().try_into().unwrap()).collect();
    assert!(!revoked.is_empty());
    s.state
        .db
        .tx(|db| {
            for serial in &revoked {
                county::cards::revoke_card(db, serial, "遗失")?;
            }
            Ok(())
        })
        .unwrap();
    let admin = console_progress(&s, &s.admin);
    let mut unions_with_figures = 0;
    for (i, township) in c.townships.iter().enumerate() {
        // The township's tablet.
        let grant = serde_json::json!({"person": format!("员{i}"), "role": "township_staff", "townships": [township]});
        let mut tablet = s.enrol(grant, 10 + i as u8);
        s.sync(&mut tablet).unwrap();
        s.keep_card_lists(&mut tablet);
        // What reached it from outside its township: stubs of unions and
        // entities only, read-only (no document to open, edit or push).
        let stubs: Vec<(String, String)> = tablet
            .store
            .connection()
            .prepare("SELECT id, kind FROM ref_stubs")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for (id, kind) in &stubs {
            assert!(kind == "union" || kind == "entity", "{kind}");
            assert!(tablet.store.get(&RecordId::from(id.as_str())).unwrap().is_none(), "a stub is no record");
        }
        let config = tablet.store.campaign(today.year()).unwrap();
        let on_tablet = tablet.store.progress(&config, today).unwrap();
        // The township's clerk.
        s.state.db.tx(|db| auth::set_user_townships(db, "clerk", std::slice::from_ref(township))).unwrap();
        let clerk = console_progress(&s, &login(&s, "clerk", "battery staple"));
        let name = &row(&admin, township).name;
        assert_eq!(row(&on_tablet, township), row(&admin, township), "{name}: the tablet and the county admin");
        assert_eq!(row(&clerk, township), row(&admin, township), "{name}: the clerk and the county admin");
        // The tablet's worklist says what the registry says.
        let (own, uncovered) = registry_lists(&c, township, None);
        let w = tablet.store.worklist(today, 100_000).unwrap();
        assert_eq!(sorted_ids(&w.need_own_union), own, "{name}: must found its own union");
        assert_eq!(sorted_ids(&w.uncovered), uncovered, "{name}: uncovered");
        let carded = row(&admin, township).tally.carded;
        assert!(carded.numerator > 0 && carded.numerator < carded.denominator, "{name}: 发证率 {carded:?}");
        // Each union's 入会率 and 发证率: the tablet's are the console's for
        // every union whose covered entities and members all lie in the
        // township (the tablet holds no more of a union that reaches beyond).
        let (st, detail) = s.answer(
            s.http.get(format!("{}/api/console/township?id={township}", s.endpoint.base)).bearer_auth(&s.admin),
        );
        assert_eq!(st, 200, "{detail}");
        let console_unions: Vec<TownshipProgress> = serde_json::from_value(detail["unions"].clone()).unwrap();
        let tablet_unions = tablet.store.progress_by_union(&config, today).unwrap();
        let within = |u: &RecordId| {
            c.records.iter().all(|(_, r)| match r {
                Record::Entity(e) if e.union_id.as_ref() == Some(u) => &e.place.township == township,
                Record::Member(m) if &m.union_id == u => &m.place.township == township,
                _ => true,
            })
        };
        let mut compared = 0;
        for cu in &console_unions {
            if !within(&cu.id) {
                continue;
            }
            let tu = row(&tablet_unions, &cu.id);
            assert_eq!(
                (tu.tally.membership, tu.tally.carded),
                (cu.tally.membership, cu.tally.carded),
                "{name}: union {}",
                cu.name
            );
            compared += 1;
            unions_with_figures += usize::from(cu.tally.membership.denominator > 0 && cu.tally.carded.denominator > 0);
        }
        assert!(compared > 0 || console_unions.is_empty(), "{name}: no union to compare");
        // A grid's tablet, for its grid: its township row is the console's
        // row of that grid.
        if let Some(grid) = c.grids_in(township).first() {
            let grant =
                serde_json::json!({"person": format!("格{i}"), "role": "surveyor", "townships": [], "grids": [grid]});
            let mut small = s.enrol(grant, 100 + i as u8);
            s.sync(&mut small).unwrap();
            s.keep_card_lists(&mut small);
            let on_grid = small.store.progress(&config, today).unwrap();
            let (st, detail) = s.answer(
                s.http.get(format!("{}/api/console/township?id={township}", s.endpoint.base)).bearer_auth(&s.admin),
            );
            assert_eq!(st, 200, "{detail}");
            let grids: Vec<TownshipProgress> = serde_json::from_value(detail["grids"].clone()).unwrap();
            let console_grid = grids.iter().find(|g| &g.id == grid).unwrap();
            let tally = |t: &Tally| Tally { target_new_unions: 0, target_new_members: 0, ..t.clone() };
            assert_eq!(tally(&row(&on_grid, township).tally), tally(&console_grid.tally), "{name}: grid {grid}");
            let (own, uncovered) = registry_lists(&c, township, Some(grid));
            let w = small.store.worklist(today, 100_000).unwrap();
            assert_eq!(sorted_ids(&w.need_own_union), own, "{name}: grid {grid}: must found its own union");
            assert_eq!(sorted_ids(&w.uncovered), uncovered, "{name}: grid {grid}: uncovered");
        }
    }
    assert!(unions_with_figures > 0, "unions with members and covered workers were compared");
}

#[test]
fn a_tablet_a_clerk_and_the_county_see_the_same_figures() {
    figures_agree(Backend::Sqlite, 21, 2_500);
}

#[test]
fn the_same_figures_with_the_server_on_postgresql() {
    figures_agree(Backend::Postgres, 24, 2_500);
}

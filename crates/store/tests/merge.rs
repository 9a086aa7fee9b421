//! Merging stores: the same person registered twice, and random concurrent
//! edits on several devices converging.

use crate::util::*;
use proptest::prelude::*;
use registry::model::*;
use std::collections::BTreeMap;
use store::Store;

fn merge_all(from: &Store, to: &mut Store) {
    for id in from.doc_ids().unwrap() {
        to.merge_doc(&id, &from.export_doc(&id).unwrap()).unwrap();
    }
}

#[test]
fn the_same_person_registered_on_two_devices_becomes_one_record() {
    let mut a = memory_store(1);
    let mut b = memory_store(2);
    let mut on_b = member("张三", "11010519900101001", "u1");
    if let Record::Member(m) = &mut on_b {
        m.card_number = Some("B-7".into());
        m.phone = None;
    }
    let sa = a.insert(member("张三", "11010519900101001", "u1"), TODAY).unwrap();
    let sb = b.insert(on_b, TODAY).unwrap();
    assert_eq!(sa.id, sb.id, "the id comes from the resident ID and the county secret");
    merge_all(&b, &mut a);
    merge_all(&a, &mut b);
    assert_eq!(a.count(RecordKind::Member).unwrap(), 1);
    assert_eq!(b.count(RecordKind::Member).unwrap(), 1);
    let ra = a.get(&sa.id).unwrap().unwrap();
    let rb = b.get(&sa.id).unwrap().unwrap();
    assert_eq!(ra.record, rb.record);
    let m = as_member(&ra.record);
    assert_eq!(m.name, "张三");
    // What only one device filled in is kept: the phone from a, the card from b.
    assert_eq!(m.phone.as_deref(), Some("13912345678"));
    assert_eq!(m.card_number.as_deref(), Some("B-7"));
    assert!(a.conflicts(&sa.id).unwrap().is_empty(), "{:?}", a.conflicts(&sa.id).unwrap());
    let h = a.history(&sa.id).unwrap();
    assert_eq!(h.iter().filter(|e| e.op == "create").count(), 2, "both registrations are in the history");
}

#[test]
fn the_same_person_registered_with_different_values_keeps_both_for_review() {
    let mut a = memory_store(1);
    let mut b = memory_store(2);
    let mut on_b = member("张叁", "11010519900101001", "u1");
    if let Record::Member(m) = &mut on_b {
        m.phone = Some("13800000009".into());
    }
    let id = a.insert(member("张三", "11010519900101001", "u1"), TODAY).unwrap().id;
    b.insert(on_b, TODAY).unwrap();
    merge_all(&b, &mut a);
    let mut fields: Vec<_> = a.conflicts(&id).unwrap().into_iter().map(|c| c.field).collect();
    fields.sort();
    assert_eq!(fields, ["name", "phone"]);
    assert_eq!(a.get(&id).unwrap().unwrap().conflicts, 2);
    assert_eq!(a.search_name(Some(RecordKind::Member), "张", 10).unwrap()[0].conflicts, 2, "lists show it");
}

#[test]
fn a_document_that_is_not_a_record_is_refused_whole() {
    let mut a = memory_store(1);
    let err = a.merge_doc(&RecordId::from("00000000000000000000000000000000"), b"not automerge").unwrap_err();
    assert_eq!(err.code(), "DOCUMENT_MALFORMED");
    assert!(a.doc_ids().unwrap().is_empty());
}

/// One edit: device, record index, field, value index.
#[derive(Debug, Clone)]
struct Edit {
    device: usize,
    record: usize,
    field: usize,
    value: usize,
}

fn apply(m: &mut Member, field: usize, value: usize, device: usize) -> (String, serde_json::Value) {
    let v = value * 10 + device;
    match field {
        0 => {
            let p = format!("1380000{v:04}");
            m.phone = Some(p.clone());
            ("phone".into(), serde_json::json!(p))
        }
        1 => {
            let c = format!("C-{v}");
            m.card_number = Some(c.clone());
            ("card_number".into(), serde_json::json!(c))
        }
        2 => {
            let e = Education::ALL[v % Education::ALL.len()];
            m.education = e;
            ("education".into(), serde_json::json!(e.key()))
        }
        3 => {
            m.migrant_worker = v.is_multiple_of(2);
            ("migrant_worker".into(), serde_json::json!(v.is_multiple_of(2)))
        }
        _ => {
            let n = format!("单位{v}");
            m.employer_name = n.clone();
            ("employer_name".into(), serde_json::json!(n))
        }
    }
}

/// A projection row: id, kind, name, township, grid, union, conflicts.
type ProjectionRow = (String, String, String, Option<String>, Option<String>, Option<String>, i64);

/// Everything a store shows of its records, for comparing stores.
fn snapshot(s: &Store) -> (BTreeMap<String, Record>, Vec<ProjectionRow>) {
    let records =
        s.doc_ids().unwrap().into_iter().map(|id| (id.0.clone(), s.get(&id).unwrap().unwrap().record)).collect();
    let mut stmt = s
        .connection()
        .prepare("SELECT id, kind, name, township, grid, union_id, conflicts FROM records ORDER BY id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    (records, rows)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, .. ProptestConfig::default() })]

    /// Random concurrent edits of the same records on 3–5 forked stores,
    /// merged in random orders: identical documents and projections
    /// everywhere, and no written value lost (it is the final value, or kept
    /// as a conflict, and it is in the history).
    #[test]
    fn forked_stores_converge_and_lose_nothing(
        devices in 3usize..=5,
        edits in prop::collection::vec((0usize..5, 0usize..3, 0usize..5, 0usize..50), 1..40),
        order in prop::collection::vec((0usize..5, 0usize..5), 0..30),
        also_register_twice in any::<bool>(),
    ) {
        let mut stores: Vec<Store> = (0..devices).map(|d| memory_store(d as u8 + 1)).collect();
        let ids: Vec<RecordId> = (0..3)
            .map(|i| stores[0].insert(member(&format!("会员{i}"), &format!("11010519900{}01001", i + 1), "u1"), TODAY).unwrap().id)
            .collect();
        for d in 1..devices {
            let (first, rest) = stores.split_at_mut(1);
            merge_all(&first[0], &mut rest[d - 1]);
        }
        if also_register_twice {
            // A new person registered offline on the first two devices.
            stores[0].insert(member("新会员", "11010520000101001", "u1"), TODAY).unwrap();
            stores[1].insert(member("新会员", "11010520000101001", "u2"), TODAY).unwrap();
        }
        // Offline editing: no merges, so every device's last write per field is concurrent with the others'.
        let mut last: BTreeMap<(usize, usize, String), serde_json::Value> = BTreeMap::new();
        let mut all_written: Vec<(usize, String, serde_json::Value)> = Vec::new();
        for (device, record, field, value) in edits {
            let e = Edit { device: device % devices, record, field, value };
            let s = &mut stores[e.device];
            let mut rec = s.get(&ids[e.record]).unwrap().unwrap().record;
            let Record::Member(m) = &mut rec else { unreachable!() };
            let (key, v) = apply(m, e.field, e.value, e.device);
            let saved = s.update(&ids[e.record], rec, TODAY).unwrap();
            if saved.changed {
                last.insert((e.device, e.record, key.clone()), v.clone());
                all_written.push((e.record, key, v));
            }
        }
        // Random pairwise merges, then a full round so that everyone has everything.
        for (from, to) in order {
            let (from, to) = (from % devices, to % devices);
            if from == to { continue; }
            let src: Vec<_> = stores[from].doc_ids().unwrap().into_iter()
                .map(|id| { let b = stores[from].export_doc(&id).unwrap(); (id, b) }).collect();
            for (id, bytes) in src { stores[to].merge_doc(&id, &bytes).unwrap(); }
        }
        for _ in 0..2 {
            for from in 0..devices {
                let src: Vec<_> = stores[from].doc_ids().unwrap().into_iter()
                    .map(|id| { let b = stores[from].export_doc(&id).unwrap(); (id, b) }).collect();
                for (to, store) in stores.iter_mut().enumerate() {
                    if to == from { continue; }
                    for (id, bytes) in &src { store.merge_doc(id, bytes).unwrap(); }
                }
            }
        }
        let first = snapshot(&stores[0]);
        for s in &stores[1..] {
            prop_assert_eq!(&snapshot(s), &first, "stores diverged");
        }
        // No value lost: each device's last write of a field is the winner or one of the conflicting values.
        for ((_, record, field), value) in &last {
            let id = &ids[*record];
            let got = stores[0].get(id).unwrap().unwrap().record;
            let flat = store::doc::flatten(&got);
            let winner = flat.get(field).map(store::doc::display);
            let conflicting: Vec<serde_json::Value> = stores[0].conflicts(id).unwrap().into_iter()
                .filter(|c| &c.field == field).flat_map(|c| c.values.into_iter().map(|v| v.value)).collect();
            prop_assert!(winner.as_ref() == Some(value) || conflicting.contains(value),
                "value {} of {} lost: winner {:?}, conflicts {:?}", value, field, winner, conflicting);
        }
        // And every value ever written is in the record's history.
        for (record, field, value) in &all_written {
            let h = stores[devices - 1].history(&ids[*record]).unwrap();
            prop_assert!(h.iter().any(|e| e.fields.iter().any(|f| &f.field == field && f.value.as_ref() == Some(value))),
                "{} = {} missing from history", field, value);
        }
        if also_register_twice {
            prop_assert_eq!(stores[2 % devices].search_name(Some(RecordKind::Member), "新会员", 10).unwrap().len(), 1);
        }
    }
}

#[test]
fn an_automerge_document_that_is_not_a_valid_record_is_refused_whole() {
    use automerge::transaction::Transactable;
    let mut a = memory_store(1);
    let id = RecordId::from("0123456789abcdef0123456789abcdef");
    // A real Automerge document claiming to be a member, with a count where a
    // name should be and no resident ID.
    let mut doc = automerge::AutoCommit::new();
    doc.put(automerge::ROOT, "_kind", "member").unwrap();
    doc.put(automerge::ROOT, "name", 42_i64).unwrap();
    let err = a.merge_doc(&id, &doc.save()).unwrap_err();
    assert_eq!(err.code(), "DOCUMENT_MALFORMED");
    assert!(a.doc_ids().unwrap().is_empty(), "nothing half-written");
    // And one of an unknown kind.
    let mut doc = automerge::AutoCommit::new();
    doc.put(automerge::ROOT, "_kind", "spaceship").unwrap();
    assert_eq!(a.merge_doc(&id, &doc.save()).unwrap_err().code(), "DOCUMENT_MALFORMED");
    assert!(a.doc_ids().unwrap().is_empty());
}

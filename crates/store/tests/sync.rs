//! The primitives sync builds on: heads, changes since heads, applying
//! changes idempotently, the write-ordered feed and outbox acknowledgement.

use crate::util::*;
use registry::model::*;

fn edit_phone(s: &mut store::Store, id: &RecordId, phone: &str) {
    let mut rec = s.get(id).unwrap().unwrap().record;
    if let Record::Member(m) = &mut rec {
        m.phone = Some(phone.into());
    }
    assert!(s.update(id, rec, TODAY).unwrap().changed);
}

#[test]
fn changes_since_heads_bring_a_peer_up_to_date_and_replaying_changes_nothing() {
    let mut a = memory_store(1);
    let mut b = memory_store(2);
    let id = a.insert(member("张三", "11010519900101001", "u1"), TODAY).unwrap().id;
    b.apply_changes(&id, &a.changes_since(&id, &[]).unwrap()).unwrap();
    assert_eq!(b.heads(&id).unwrap(), a.heads(&id).unwrap());

    edit_phone(&mut a, &id, "13800000001");
    let whole = a.changes_since(&id, &[]).unwrap();
    let delta = a.changes_since(&id, &b.heads(&id).unwrap()).unwrap();
    assert!(
        delta.len() < whole.len() / 2,
        "a one-field edit is a small delta: {} vs {} bytes",
        delta.len(),
        whole.len()
    );
    let before = b.feed(0, 100).unwrap();
    b.apply_changes(&id, &delta).unwrap();
    assert_eq!(b.get(&id).unwrap().unwrap().record, a.get(&id).unwrap().unwrap().record);
    // Replaying the same bytes (a retried request) changes nothing, not even the feed.
    let after = b.feed(0, 100).unwrap();
    assert_ne!(before, after);
    b.apply_changes(&id, &delta).unwrap();
    b.apply_changes(&id, &whole).unwrap();
    assert_eq!(b.feed(0, 100).unwrap(), after);
    assert!(b.outbox().unwrap().is_empty(), "received changes are not queued to be sent back");
}

#[test]
fn changes_that_skip_a_step_are_refused_whole_and_can_be_resent() {
    let mut a = memory_store(1);
    let mut b = memory_store(2);
    let id = a.insert(member("张三", "11010519900101001", "u1"), TODAY).unwrap().id;
    b.apply_changes(&id, &a.changes_since(&id, &[]).unwrap()).unwrap();
    let h1 = a.heads(&id).unwrap();
    edit_phone(&mut a, &id, "13800000001");
    let h2 = a.heads(&id).unwrap();
    edit_phone(&mut a, &id, "13800000002");
    // The second delta arrives first (a reordered response).
    let second = a.changes_since(&id, &h2).unwrap();
    let err = b.apply_changes(&id, &second).unwrap_err();
    assert_eq!(err.code(), "CHANGES_MISSING_DEPS");
    assert_eq!(b.heads(&id).unwrap(), h1, "nothing applied");
    // Resending from the heads b holds brings it up to date.
    b.apply_changes(&id, &a.changes_since(&id, &b.heads(&id).unwrap()).unwrap()).unwrap();
    assert_eq!(as_member(&b.get(&id).unwrap().unwrap().record).phone.as_deref(), Some("13800000002"));
}

#[test]
fn the_feed_lists_writes_in_order_and_resumes_from_a_cursor() {
    let mut s = memory_store(1);
    let a = s.insert(member("甲", "11010519900101001", "u1"), TODAY).unwrap().id;
    let b = s.insert(member("乙", "11010519900101002", "u1"), TODAY).unwrap().id;
    let c = s.insert(member("丙", "11010519900101003", "u1"), TODAY).unwrap().id;
    let ids = |f: Vec<store::FeedEntry>| f.into_iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(ids(s.feed(0, 10).unwrap()), [a.clone(), b.clone(), c.clone()]);
    let first = s.feed(0, 2).unwrap();
    assert_eq!(ids(s.feed(first[1].seq, 10).unwrap()), std::slice::from_ref(&c));
    // An edit moves the record to the end of the feed; a deletion travels too.
    edit_phone(&mut s, &a, "13800000001");
    s.delete(&b, "重复").unwrap();
    let feed = s.feed(first[1].seq, 10).unwrap();
    assert_eq!(ids(feed.clone()), [c, a, b]);
    assert!(feed[2].deleted);
    assert_eq!(feed[0].township, Some(RecordId::from("t1")));
}

#[test]
fn the_outbox_is_cleared_only_when_every_local_change_is_acknowledged() {
    let mut s = memory_store(1);
    let id = s.insert(member("张三", "11010519900101001", "u1"), TODAY).unwrap().id;
    let pushed = s.heads(&id).unwrap();
    // An edit made while the push was in flight.
    edit_phone(&mut s, &id, "13800000001");
    assert!(!s.ack(&id, &pushed).unwrap(), "the later edit is not acknowledged");
    assert_eq!(s.outbox().unwrap(), vec![id.clone()]);
    let now = s.heads(&id).unwrap();
    assert!(s.ack(&id, &now).unwrap());
    assert!(s.outbox().unwrap().is_empty());
    // Acknowledging again is harmless.
    assert!(s.ack(&id, &now).unwrap());
}

/// The repair check's summary is kept by every sync write; it always equals
/// a scan of what the server is known to hold.
#[test]
fn the_kept_summary_of_known_heads_follows_every_sync_write() {
    let mut county = memory_store(1);
    let mut device = memory_store(2);
    let scan = |s: &store::Store| {
        let (mut count, mut xor) = (0u64, 0u64);
        for (id, heads) in s.known_heads(None, 10_000).unwrap() {
            count += 1;
            xor ^= store::fingerprint(&id, &heads);
        }
        (count, xor)
    };
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(county.insert(member(&format!("张{i}"), &format!("1101051990010100{i}"), "u1"), TODAY).unwrap().id);
    }
    let keep = |_: RecordKind, _: &Region| true;
    let pulled = |c: &store::Store, ids: &[RecordId]| -> Vec<(RecordId, Vec<u8>)> {
        ids.iter().map(|id| (id.clone(), c.export_doc(id).unwrap())).collect()
    };
    assert_eq!(device.known_summary().unwrap(), (0, 0));
    device
        .apply_pulled(store::Pulled { docs: pulled(&county, &ids[..4]), keep: &keep, values: vec![], left: vec![] })
        .unwrap();
    assert_eq!(device.known_summary().unwrap(), scan(&device));
    assert_eq!(device.known_summary().unwrap().0, 4);
    // New heads for one, the same heads again for another.
    edit_phone(&mut county, &ids[0], "13800000009");
    device
        .apply_pulled(store::Pulled { docs: pulled(&county, &ids[..2]), keep: &keep, values: vec![], left: vec![] })
        .unwrap();
    assert_eq!(device.known_summary().unwrap(), scan(&device));
    // A local edit pushed and acknowledged; another the server forgot.
    edit_phone(&mut device, &ids[1], "13800000010");
    let heads = device.heads(&ids[1]).unwrap();
    device
        .settle_push(&[store::PushAck {
            id: ids[1].clone(),
            pushed: heads.clone(),
            server_heads: Some(heads),
            held: true,
        }])
        .unwrap();
    assert_eq!(device.known_summary().unwrap(), scan(&device));
    device.forget_known(&ids[2..3], false).unwrap();
    device.requeue(&ids[3]).unwrap();
    assert_eq!(device.known_summary().unwrap(), scan(&device));
    assert_eq!(device.known_summary().unwrap().0, 2);
    // A copy that left the device's scope is removed, and leaves the summary.
    let nothing = |_: RecordKind, _: &Region| false;
    device
        .apply_pulled(store::Pulled { docs: pulled(&county, &ids[..1]), keep: &nothing, values: vec![], left: vec![] })
        .unwrap();
    assert_eq!(device.known_summary().unwrap(), scan(&device));
    assert_eq!(device.known_summary().unwrap().0, 1);
}

/// A first sync into an empty store builds its secondary indexes once, at
/// the end (`store::bulk`). Attacked as a crash would: the app killed
/// mid-load leaves the indexes missing, and the next open builds them. The
/// batch is large enough to be decoded on worker threads, and it holds an
/// unreadable document and a document sent twice (an older then a newer
/// copy): the bad one is quarantined, and the newer copy wins because the
/// batch is applied in the order received.
#[test]
fn a_first_sync_defers_its_indexes_and_a_load_cut_short_builds_them_at_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let indexes = |s: &store::Store| -> Vec<String> {
        s.connection()
            .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let mut county = memory_store(1);
    let mut ids = Vec::new();
    for i in 0..150 {
        let first17 = format!("110105199001{:02}{:03}", 1 + i % 28, i / 28);
        ids.push(county.insert(member(&format!("王{i}"), &first17, "u1"), TODAY).unwrap().id);
    }
    let mut batch: Vec<(RecordId, Vec<u8>)> =
        ids.iter().map(|id| (id.clone(), county.export_doc(id).unwrap())).collect();
    // The 100th record sent twice: now, and after an edit, later in the batch.
    edit_phone(&mut county, &ids[100], "13800000100");
    batch.insert(120, (ids[100].clone(), county.export_doc(&ids[100]).unwrap()));
    batch.insert(40, (RecordId::from("not-a-document"), b"not automerge".to_vec()));

    let path = dir.path().join("device.db");
    let mut device = store::Store::create(&path, &key(), &init(2)).unwrap();
    let all = indexes(&device);
    assert!(all.len() > 10, "the store's indexes: {all:?}");
    assert!(device.begin_bulk_load().unwrap(), "an empty store is bulk loaded");
    let during = indexes(&device);
    assert!(during.len() < all.len() && during.iter().all(|n| all.contains(n)), "{during:?}");
    let keep = |_: RecordKind, _: &Region| true;
    let report = device.apply_pulled(store::Pulled { docs: batch, keep: &keep, values: vec![], left: vec![] }).unwrap();
    assert_eq!((report.changed, report.quarantined), (151, 1));
    // Queries answer during the load (by scanning).
    assert_eq!(device.search_name(Some(RecordKind::Member), "王149", 10).unwrap().len(), 1);
    // Killed here: the load never ends.
    drop(device);

    let mut device = store::Store::open(&path, &key()).unwrap();
    assert_eq!(indexes(&device), all, "the next open builds what the load deferred");
    assert_eq!(device.count(RecordKind::Member).unwrap(), 150);
    let phone = |s: &store::Store| as_member(&s.get(&ids[100]).unwrap().unwrap().record).phone.clone();
    assert_eq!(phone(&device), Some("13800000100".into()), "the newer copy, applied last, wins");
    assert_eq!(device.quarantined().unwrap().len(), 1);
    assert!(!device.begin_bulk_load().unwrap(), "a store holding documents is loaded as it is");
    assert_eq!(indexes(&device), all);
    device.end_bulk_load().unwrap();
    assert_eq!(indexes(&device), all, "ending a load that never began changes nothing");
}

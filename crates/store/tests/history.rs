//! History, conflicts and settling them.

use crate::util::*;
use registry::model::*;

#[test]
fn concurrent_edits_of_one_field_are_kept_as_a_conflict_and_can_be_settled() {
    let mut a = memory_store(1);
    let mut b = memory_store(2);
    let saved = a.insert(member("张三", "11010519900101001", "u1"), TODAY).unwrap();
    b.merge_doc(&saved.id, &a.export_doc(&saved.id).unwrap()).unwrap();

    let edit = |s: &mut store::Store, phone: &str, card: Option<&str>| {
        let mut rec = s.get(&saved.id).unwrap().unwrap().record;
        if let Record::Member(m) = &mut rec {
            m.phone = Some(phone.into());
            if let Some(c) = card {
                m.card_number = Some(c.into());
            }
        }
        s.update(&saved.id, rec, TODAY).unwrap();
    };
    edit(&mut a, "13800000001", Some("A-1"));
    edit(&mut b, "13800000002", None);
    a.merge_doc(&saved.id, &b.export_doc(&saved.id).unwrap()).unwrap();
    b.merge_doc(&saved.id, &a.export_doc(&saved.id).unwrap()).unwrap();

    // Different fields merged silently; the same field keeps both values.
    let got_a = a.get(&saved.id).unwrap().unwrap();
    let got_b = b.get(&saved.id).unwrap().unwrap();
    assert_eq!(got_a.record, got_b.record, "both devices show the same winner");
    assert_eq!(as_member(&got_a.record).card_number.as_deref(), Some("A-1"));
    assert_eq!(got_a.conflicts, 1);
    let conflicts = a.conflicts(&saved.id).unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].field, "phone");
    let mut values: Vec<_> = conflicts[0].values.iter().map(|v| v.value.as_str().unwrap().to_owned()).collect();
    values.sort();
    assert_eq!(values, ["13800000001", "13800000002"]);
    assert_eq!(conflicts[0].values.iter().filter(|v| v.winner).count(), 1);
    let devices: Vec<_> = conflicts[0].values.iter().map(|v| v.device.clone()).collect();
    assert!(devices.contains(&"01".repeat(16)) && devices.contains(&"02".repeat(16)), "{devices:?}");
    let winner = conflicts[0].values.iter().find(|v| v.winner).unwrap().value.clone();
    assert_eq!(Some(winner.as_str().unwrap()), as_member(&got_a.record).phone.as_deref());
    let listed = a.search_name(Some(RecordKind::Member), "张三", 1).unwrap();
    assert_eq!(listed[0].conflicts, 1, "lists show that a record has conflicts");

    // Settling with an invalid value is refused; with a valid one it clears the conflict.
    let err = a.settle(&saved.id, "phone", &serde_json::json!("12345"), TODAY).unwrap_err();
    assert_eq!(err.code(), "RECORD_INVALID");
    assert_eq!(a.conflicts(&saved.id).unwrap().len(), 1, "a refused settle changes nothing");
    a.settle(&saved.id, "phone", &serde_json::json!("13800000002"), TODAY).unwrap();
    assert!(a.conflicts(&saved.id).unwrap().is_empty());
    assert_eq!(as_member(&a.get(&saved.id).unwrap().unwrap().record).phone.as_deref(), Some("13800000002"));
    assert_eq!(
        a.settle(&saved.id, "phone", &serde_json::json!("13800000002"), TODAY).unwrap_err().code(),
        "NO_CONFLICT"
    );
    b.merge_doc(&saved.id, &a.export_doc(&saved.id).unwrap()).unwrap();
    assert!(b.conflicts(&saved.id).unwrap().is_empty(), "the settlement travels");
}

#[test]
fn history_says_which_device_and_operator_changed_which_field() {
    let mut a = memory_store(1);
    a.set_operator("网格员 王五");
    let saved = a.insert(member("张三", "11010519900101001", "u1"), TODAY).unwrap();
    let mut b = memory_store(2);
    b.set_operator("县总工会 赵六");
    b.merge_doc(&saved.id, &a.export_doc(&saved.id).unwrap()).unwrap();
    let mut rec = b.get(&saved.id).unwrap().unwrap().record;
    if let Record::Member(m) = &mut rec {
        m.education = Education::Bachelor;
    }
    b.update(&saved.id, rec, TODAY).unwrap();
    b.delete(&saved.id, "离职").unwrap();
    let h = b.history(&saved.id).unwrap();
    let ops: Vec<_> = h.iter().map(|e| (e.op.as_str(), e.by.as_str(), e.device.clone())).collect();
    assert_eq!(
        ops,
        [
            ("create", "网格员 王五", "01".repeat(16)),
            ("update", "县总工会 赵六", "02".repeat(16)),
            ("delete", "县总工会 赵六", "02".repeat(16)),
        ]
    );
    assert!(h[0].fields.iter().any(|f| f.field == "name" && f.value == Some(serde_json::json!("张三"))));
    assert_eq!(h[1].fields.len(), 1);
    assert_eq!(h[1].fields[0].value, Some(serde_json::json!("bachelor")));
    assert_eq!(h[2].note, "离职");
    assert!(h.iter().all(|e| e.at_ms > 0));
}

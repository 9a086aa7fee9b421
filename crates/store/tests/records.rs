//! Writing, reading, searching and deleting records.

use crate::util::*;
use registry::model::*;

#[test]
fn insert_normalises_derives_and_reads_back() {
    let mut s = memory_store(1);
    let mut rec = member("张三", "11010519900101001", "u1");
    if let Record::Member(m) = &mut rec {
        m.resident_id = m.resident_id.to_lowercase();
        m.phone = Some("+86 139-1234-5678".into());
    }
    let saved = s.insert(rec, TODAY).unwrap();
    let got = s.get(&saved.id).unwrap().unwrap();
    let m = as_member(&got.record);
    assert_eq!(m.sex, Some(Sex::Male), "derived from the ID's 17th digit (1, odd)");
    assert_eq!(m.birth_date, Some(registry::date!(1990 - 01 - 01)));
    assert_eq!(m.phone.as_deref(), Some("13912345678"));
    assert_eq!(saved.id, s.county_secret().record_id(&format!("member:{}", m.resident_id)));
    assert!(got.deleted.is_none());
    assert_eq!(got.conflicts, 0);
}

#[test]
fn invalid_record_is_refused_and_nothing_is_written() {
    let mut s = memory_store(1);
    let mut rec = member("张三", "11010519900101001", "u1");
    if let Record::Member(m) = &mut rec {
        m.resident_id.replace_range(17..18, if m.resident_id.ends_with('0') { "1" } else { "0" });
    }
    let err = s.insert(rec, TODAY).unwrap_err();
    assert_eq!(err.code(), "RECORD_INVALID");
    match err {
        store::StoreError::Invalid(issues) => {
            assert_eq!(issues.len(), 1);
            assert_eq!(issues[0].code, "ID_CHECKSUM");
            assert_eq!(issues[0].field, "resident_id");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.count(RecordKind::Member).unwrap(), 0);
    assert!(s.doc_ids().unwrap().is_empty());
    assert!(s.outbox().unwrap().is_empty());
}

#[test]
fn credit_code_checksum_warning_blocks_until_a_reason_is_recorded() {
    let mut s = memory_store(1);
    let mut rec = entity("县城商贸有限公司", "91621202MA7XXXXX0", 30, None);
    if let Record::Entity(e) = &mut rec {
        let code = e.credit_code.as_mut().unwrap();
        let last = if code.ends_with('0') { "1" } else { "0" };
        code.replace_range(17..18, last);
    }
    let err = s.insert(rec.clone(), TODAY).unwrap_err();
    match &err {
        store::StoreError::Invalid(issues) => assert_eq!(issues[0].code, "CREDIT_CODE_CHECKSUM"),
        other => panic!("{other:?}"),
    }
    if let Record::Entity(e) = &mut rec {
        e.credit_code_override = Some("与营业执照核对一致".into());
    }
    let saved = s.insert(rec, TODAY).unwrap();
    assert!(saved.issues.iter().all(|i| i.code != "CREDIT_CODE_CHECKSUM"));
}

#[test]
fn the_same_natural_key_twice_on_one_device_is_a_duplicate() {
    let mut s = memory_store(1);
    let first = s.insert(member("张三", "11010519900101001", "u1"), TODAY).unwrap();
    let err = s.insert(member("张三丰", "11010519900101001", "u2"), TODAY).unwrap_err();
    assert_eq!(err.code(), "RECORD_DUPLICATE");
    assert!(matches!(err, store::StoreError::Duplicate(ref id) if *id == first.id.0));
}

#[test]
fn update_writes_only_changes_and_queues_the_outbox() {
    let mut s = memory_store(1);
    let saved = s.insert(member("张三", "11010519900101001", "u1"), TODAY).unwrap();
    assert_eq!(s.outbox().unwrap(), vec![saved.id.clone()]);
    let mut rec = s.get(&saved.id).unwrap().unwrap().record;
    let unchanged = s.update(&saved.id, rec.clone(), TODAY).unwrap();
    assert!(!unchanged.changed, "saving an unchanged record writes nothing");
    if let Record::Member(m) = &mut rec {
        m.card_number = Some("6212-0001".into());
    }
    let changed = s.update(&saved.id, rec, TODAY).unwrap();
    assert!(changed.changed);
    let h = s.history(&saved.id).unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[1].op, "update");
    assert_eq!(h[1].fields.len(), 1, "a one-field edit is one operation: {:?}", h[1].fields);
    assert_eq!(h[1].fields[0].field, "card_number");
}

#[test]
fn update_of_another_kind_is_refused() {
    let mut s = memory_store(1);
    let saved = s.insert(member("张三", "11010519900101001", "u1"), TODAY).unwrap();
    let err = s.update(&saved.id, union("工会", UnionKind::SingleUnit, "t1", TODAY), TODAY).unwrap_err();
    assert_eq!(err.code(), "RECORD_WRONG_KIND");
}

#[test]
fn delete_leaves_a_tombstone_and_leaves_lists() {
    let mut s = memory_store(1);
    s.set_operator("县总工会 李四");
    let saved = s.insert(member("张三", "11010519900101001", "u1"), TODAY).unwrap();
    s.delete(&saved.id, "重复登记").unwrap();
    let got = s.get(&saved.id).unwrap().unwrap();
    let t = got.deleted.expect("tombstone");
    assert_eq!(t.reason, "重复登记");
    assert_eq!(t.by, "县总工会 李四");
    assert!(t.at_ms > 0);
    assert_eq!(s.count(RecordKind::Member).unwrap(), 0);
    assert!(s.search_name(None, "张", 10).unwrap().is_empty());
    assert_eq!(s.doc_ids().unwrap(), vec![saved.id.clone()], "the document stays");
    // An edit of a deleted record is refused rather than reviving it silently.
    let err = s.update(&saved.id, got.record.clone(), TODAY).unwrap_err();
    assert_eq!(err.code(), "RECORD_DELETED");
    // Registering the person again revives the same record.
    let again = s.insert(member("张三", "11010519900101001", "u1"), TODAY).unwrap();
    assert_eq!(again.id, saved.id);
    assert!(s.get(&saved.id).unwrap().unwrap().deleted.is_none());
}

#[test]
fn search_by_name_prefix_id_number_and_credit_code() {
    let mut s = memory_store(1);
    s.insert(member("张三", "11010519900101001", "u1"), TODAY).unwrap();
    s.insert(member("张三丰", "11010519900101002", "u1"), TODAY).unwrap();
    s.insert(member("李四", "11010519900101003", "u1"), TODAY).unwrap();
    s.insert(entity("张家饭店", "91621202MA7XXXXX0", 5, None), TODAY).unwrap();
    let names = |rows: Vec<store::ListRow>| rows.into_iter().map(|r| r.name).collect::<Vec<_>>();
    assert_eq!(names(s.search_name(Some(RecordKind::Member), "张", 10).unwrap()), ["张三", "张三丰"]);
    assert_eq!(names(s.search_name(None, "张", 10).unwrap()), ["张三", "张三丰", "张家饭店"]);
    assert_eq!(names(s.search_name(Some(RecordKind::Member), "张三", 1).unwrap()), ["张三"]);
    assert!(s.search_name(Some(RecordKind::Member), "王", 10).unwrap().is_empty());
    let found = s.find_by_resident_id(&rid("11010519900101003").to_lowercase(), TODAY).unwrap();
    assert_eq!(names(found), ["李四"]);
    assert!(s.find_by_resident_id(&rid("11010519900101004"), TODAY).unwrap().is_empty());
    assert_eq!(s.find_by_resident_id("123", TODAY).unwrap_err().code(), "RECORD_INVALID");
    let code = credit("91621202MA7XXXXX0").to_lowercase();
    assert_eq!(names(s.find_by_credit_code(&code).unwrap()), ["张家饭店"]);
}

#[test]
fn keyset_paging_walks_the_whole_list_once() {
    let mut s = memory_store(1);
    for i in 0..25 {
        s.insert(member(&format!("会员{:02}", 24 - i), &format!("110105199002{:02}{:03}", i + 1, i), "u1"), TODAY)
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = s.list(RecordKind::Member, after.as_ref(), 10).unwrap();
        if page.is_empty() {
            break;
        }
        seen.extend(page.iter().map(|r| r.name.clone()));
        after = page.last().cloned();
    }
    let expected: Vec<String> = (0..25).map(|i| format!("会员{i:02}")).collect();
    assert_eq!(seen, expected);
}

#[test]
fn possible_duplicates_by_key_and_by_name_and_birth_date() {
    let mut s = memory_store(1);
    let first = s.insert(member("张三", "11010519900101001", "u1"), TODAY).unwrap();
    // Same ID number.
    let same = s.possible_duplicates(&member("张叁", "11010519900101001", "u2"), TODAY).unwrap();
    assert_eq!(same.iter().map(|r| &r.id).collect::<Vec<_>>(), vec![&first.id]);
    // Another ID number (a typo?) but the same name and birth date.
    let near = s.possible_duplicates(&member("张三", "11010519900101011", "u2"), TODAY).unwrap();
    assert_eq!(near.iter().map(|r| &r.id).collect::<Vec<_>>(), vec![&first.id]);
    // Someone else.
    assert!(s.possible_duplicates(&member("张三", "11010519910101011", "u2"), TODAY).unwrap().is_empty());
}

#[test]
fn search_finds_any_part_of_a_name_starts_first() {
    let mut s = memory_store(1);
    s.insert(entity("沭阳海川精密机械有限公司", "91621202MA7XXXXX1", 30, None), TODAY).unwrap();
    s.insert(entity("沭阳县宝航食品有限公司", "91621202MA7XXXXX2", 12, None), TODAY).unwrap();
    s.insert(entity("食品站", "91621202MA7XXXXX3", 3, None), TODAY).unwrap();
    let names = |rows: Vec<store::ListRow>| rows.into_iter().map(|r| r.name).collect::<Vec<_>>();
    let entities = Some(RecordKind::Entity);
    assert_eq!(names(s.search_name(entities, "海川", 10).unwrap()), ["沭阳海川精密机械有限公司"]);
    assert_eq!(names(s.search_name(entities, "宝航食品", 10).unwrap()), ["沭阳县宝航食品有限公司"]);
    // A name that starts with the text comes first, then the others.
    assert_eq!(names(s.search_name(entities, "食品", 10).unwrap()), ["食品站", "沭阳县宝航食品有限公司"]);
    assert_eq!(names(s.search_name(entities, "食品", 1).unwrap()), ["食品站"]);
    assert!(s.search_name(Some(RecordKind::Member), "食品", 10).unwrap().is_empty(), "within the kind asked");
    assert!(s.search_name(entities, "机械厂", 10).unwrap().is_empty());
}

#[test]
fn prefix_search_does_not_match_neighbouring_characters() {
    let mut s = memory_store(1);
    s.insert(member("张", "11010519900101001", "u1"), TODAY).unwrap();
    s.insert(member("弛", "11010519900101002", "u1"), TODAY).unwrap();
    let rows = s.search_name(Some(RecordKind::Member), "张", 10).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(s.search_name(Some(RecordKind::Member), "", 10).unwrap().len(), 2);
}

#[test]
fn lists_by_area_and_by_union() {
    let mut s = memory_store(1);
    s.insert(member("张三", "11010519900101001", "u1"), TODAY).unwrap();
    s.insert(member("李四", "11010519900101002", "u2"), TODAY).unwrap();
    let mut elsewhere = member("王五", "11010519900101003", "u1");
    if let Record::Member(m) = &mut elsewhere {
        m.place = place("t2");
    }
    s.insert(elsewhere, TODAY).unwrap();
    s.insert(entity("张家饭店", "91621202MA7XXXXX0", 5, Some("u1")), TODAY).unwrap();
    let names = |rows: Vec<store::ListRow>| rows.into_iter().map(|r| r.name).collect::<Vec<_>>();
    let u1 = RecordId::from("u1");
    assert_eq!(names(s.list_in_union(&u1, RecordKind::Member, 10).unwrap()), ["张三", "王五"]);
    assert_eq!(names(s.list_in_union(&u1, RecordKind::Entity, 10).unwrap()), ["张家饭店"]);
    let t1 = RecordId::from("t1");
    assert_eq!(names(s.list_in_area(RecordKind::Member, &t1, None, 10).unwrap()), ["张三", "李四"]);
    assert_eq!(
        names(s.list_in_area(RecordKind::Member, &t1, Some(&RecordId::from("g1")), 10).unwrap()),
        ["张三", "李四"]
    );
    assert!(s.list_in_area(RecordKind::Member, &t1, Some(&RecordId::from("g9")), 10).unwrap().is_empty());
}

#[test]
fn clearing_an_optional_field_removes_it_and_the_history_says_so() {
    let mut s = memory_store(1);
    let id = s.insert(member("张三", "11010519900101001", "u1"), TODAY).unwrap().id;
    let mut rec = s.get(&id).unwrap().unwrap().record;
    if let Record::Member(m) = &mut rec {
        m.phone = None;
    }
    assert!(s.update(&id, rec, TODAY).unwrap().changed);
    assert_eq!(as_member(&s.get(&id).unwrap().unwrap().record).phone, None);
    let last = s.history(&id).unwrap().pop().unwrap();
    assert_eq!(last.fields, vec![store::FieldChange { field: "phone".into(), value: None }]);
}

/// The tablet's prompt uses the registry's near-duplicate key, as the
/// county's queue does: the same company written with its province in
/// brackets and another legal form, or a name typed with a full-width
/// space, is prompted; another township's company of that name is not.
#[test]
fn the_duplicate_prompt_uses_the_registrys_near_duplicate_key() {
    let mut s = memory_store(1);
    let first = s.insert(entity("青山商贸有限公司", "91341621MA2N0A0B0", 10, None), TODAY).unwrap();
    let mut again = entity("青山商贸（浙江）有限责任公司", "91341621MA2N0A0C0", 10, None);
    let near = s.possible_duplicates(&again, TODAY).unwrap();
    assert_eq!(near.iter().map(|r| &r.id).collect::<Vec<_>>(), vec![&first.id]);
    if let Record::Entity(e) = &mut again {
        e.place = place("t2");
    }
    assert!(s.possible_duplicates(&again, TODAY).unwrap().is_empty(), "another township");
    let m = s.insert(member("欧阳 娜娜", "11010519900101001", "u1"), TODAY).unwrap();
    let near = s.possible_duplicates(&member("欧阳　娜娜", "11010519900101011", "u2"), TODAY).unwrap();
    assert_eq!(near.iter().map(|r| &r.id).collect::<Vec<_>>(), vec![&m.id]);
}

/// A store written before the near-duplicate tokens existed gets them
/// when it is next opened.
#[test]
fn an_older_store_gets_its_near_duplicate_tokens_on_opening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut s = store::Store::create(&path, &key(), &init(1)).unwrap();
    let first = s.insert(entity("青山商贸有限公司", "91341621MA2N0A0B0", 10, None), TODAY).unwrap();
    s.connection().execute("UPDATE records SET dupkey = X''", []).unwrap();
    drop(s);
    let s = store::Store::open(&path, &key()).unwrap();
    let left: i64 =
        s.connection().query_row("SELECT count(*) FROM records WHERE dupkey = X''", [], |r| r.get(0)).unwrap();
    assert_eq!(left, 0);
    let near = s.possible_duplicates(&entity("青山商贸有限责任公司", "91341621MA2N0A0C0", 10, None), TODAY).unwrap();
    assert_eq!(near.iter().map(|r| &r.id).collect::<Vec<_>>(), vec![&first.id]);
}

/// A store written before the members' card columns existed
/// (`members::V2` marks its rows `?`) fills them from the documents when it
/// is next opened.
#[test]
fn an_older_store_gets_its_members_cards_on_opening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut s = store::Store::create(&path, &key(), &init(1)).unwrap();
    let mut carded = member("张三", "11010519900101001", "u1");
    if let Record::Member(m) = &mut carded {
        m.card_number = Some("UC00A1B2C3D4E5F6A7".into());
        m.card_expires = Some(registry::date!(2028 - 05 - 19));
    }
    let a = s.insert(carded, TODAY).unwrap();
    let b = s.insert(member("李四", "11010519900101011", "u1"), TODAY).unwrap();
    s.connection().execute("UPDATE members SET card_serial = '?', card_expires = NULL", []).unwrap();
    drop(s);
    let s = store::Store::open(&path, &key()).unwrap();
    let row = |id: &RecordId| -> (Option<String>, Option<String>) {
        s.connection()
            .query_row("SELECT card_serial, card_expires FROM members WHERE id = ?1", [id.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap()
    };
    assert_eq!(row(&a.id), (Some("00a1b2c3d4e5f6a7".into()), Some("2028-05-19".into())));
    assert_eq!(row(&b.id), (None, None));
}

/// A batch lands whole or not at all: a refused second write rolls the
/// first back.
#[test]
fn a_batch_is_written_whole_or_not_at_all() {
    let mut s = memory_store(1);
    let m = s.insert(member("张三", "11010519900101001", "u1"), TODAY).unwrap();
    let moved = member("张三", "11010519900101001", "u2");
    let mut bad = member("李四", "11010519900101011", "u2");
    if let Record::Member(x) = &mut bad {
        x.name = String::new();
    }
    let err = s.batch(TODAY, |b| {
        b.update(&m.id, moved.clone())?;
        b.insert(bad)
    });
    assert_eq!(err.unwrap_err().code(), "RECORD_INVALID");
    let Record::Member(kept) = s.get(&m.id).unwrap().unwrap().record else { panic!() };
    assert_eq!(kept.union_id, RecordId::from("u1"), "the first write was rolled back");
    // And a batch that succeeds writes both, each seeing the other.
    let saved = s
        .batch(TODAY, |b| {
            b.update(&m.id, moved.clone())?;
            assert!(matches!(b.get(&m.id)?.unwrap().record, Record::Member(ref x) if x.union_id.as_str() == "u2"));
            b.insert(member("李四", "11010519900101011", "u2"))
        })
        .unwrap();
    assert!(s.get(&saved.id).unwrap().is_some());
}

//! Opening, creating, encryption at rest and migrations.

use crate::util::*;
use store::{Store, StoreKey};

#[test]
fn create_then_open_with_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut s = Store::create(&path, &key(), &init(1)).unwrap();
    let saved = s.insert(member("张三", "11010519900101001", "u1"), TODAY).unwrap();
    drop(s);
    let s = Store::open(&path, &key()).unwrap();
    assert_eq!(s.device_id(), [1; 16]);
    assert_eq!(as_member(&s.get(&saved.id).unwrap().unwrap().record).name, "张三");
}

#[test]
fn wrong_key_is_a_clear_error_and_the_file_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut s = Store::create(&path, &key(), &init(1)).unwrap();
    s.insert(member("张三", "11010519900101001", "u1"), TODAY).unwrap();
    drop(s);
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path, &StoreKey::from_bytes([8; 32])).unwrap_err();
    assert_eq!(err.code(), "STORE_WRONG_KEY");
    assert!(err.message().zh.contains("密码错误"));
    assert_eq!(std::fs::read(&path).unwrap(), before, "a failed open must not change the file");
    assert!(Store::open(&path, &key()).is_ok());
}

#[test]
fn refuses_to_create_over_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    std::fs::write(&path, b"precious data").unwrap();
    assert_eq!(Store::create(&path, &key(), &init(1)).unwrap_err().code(), "STORE_EXISTS");
    assert_eq!(std::fs::read(&path).unwrap(), b"precious data");
}

#[test]
fn missing_file_is_not_created_by_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("none.db");
    assert_eq!(Store::open(&path, &key()).unwrap_err().code(), "STORE_MISSING");
    assert!(!path.exists());
}

#[test]
fn plain_sqlite_and_garbage_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.db");
    let c = rusqlite::Connection::open(&plain).unwrap();
    c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);").unwrap();
    drop(c);
    assert_eq!(Store::open(&plain, &key()).unwrap_err().code(), "STORE_NOT_ENCRYPTED");

    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x5a; 8192]).unwrap();
    assert_eq!(Store::open(&garbage, &key()).unwrap_err().code(), "STORE_WRONG_KEY");
    assert_eq!(std::fs::read(&garbage).unwrap(), vec![0x5a; 8192]);
}

#[test]
fn an_encrypted_database_of_another_program_is_foreign() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch(
        "PRAGMA key = \"x'0909090909090909090909090909090909090909090909090909090909090909'\"; CREATE TABLE t (x);",
    )
    .unwrap();
    drop(c);
    assert_eq!(Store::open(&path, &key()).unwrap_err().code(), "STORE_FOREIGN");
}

#[test]
fn a_truncated_store_is_an_error_not_a_new_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut s = Store::create(&path, &key(), &init(1)).unwrap();
    for i in 0..50 {
        s.insert(member(&format!("会员{i}"), &format!("110105199001{:02}{:03}", i % 28 + 1, i), "u1"), TODAY).unwrap();
    }
    s.checkpoint().unwrap();
    drop(s);
    let bytes = std::fs::read(&path).unwrap();
    // Damage the first page (the database header).
    let mut damaged = bytes.clone();
    for b in &mut damaged[100..600] {
        *b ^= 0xff;
    }
    std::fs::write(&path, &damaged).unwrap();
    let err = Store::open(&path, &key()).unwrap_err();
    assert_eq!(err.code(), "STORE_WRONG_KEY");
    assert_eq!(std::fs::read(&path).unwrap(), damaged, "nothing re-created over the damaged file");
}

/// Resident IDs and phone numbers never appear in plaintext in any file of
/// the store: database, WAL or shared-memory index.
#[test]
fn no_plaintext_personal_data_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let mut s = Store::create(&path, &key(), &init(1)).unwrap();
    let mut secrets = Vec::new();
    for i in 0..200u32 {
        let rec = member(&format!("王{i}"), &format!("110105198{}0{}1{}{:03}", i % 10, i % 9 + 1, i % 3, i), "u1");
        let phone = format!("139{:08}", 10_000_000 + i);
        let mut m = as_member(&rec).clone();
        m.phone = Some(phone.clone());
        secrets.push(m.resident_id.clone());
        secrets.push(phone);
        s.insert(registry::model::Record::Member(m), TODAY).unwrap();
    }
    // Before checkpoint: the data lives in the WAL too.
    // A control: the scan finds a number planted in plaintext.
    let control = tempfile::tempdir().unwrap();
    std::fs::write(control.path().join("plain.txt"), format!("xx{}yy", secrets[7])).unwrap();
    assert!(plaintext_in(control.path(), &secrets).is_some(), "the scan must see plaintext");
    let check = |when: &str| {
        if let Some(found) = plaintext_in(dir.path(), &secrets) {
            panic!("{when}: {found}");
        }
        std::fs::read_dir(dir.path()).unwrap().count()
    };
    let files = check("with WAL");
    assert!(files >= 2, "expected the database and its WAL, saw {files} files");
    assert!(std::fs::metadata(dir.path().join("s.db-wal")).unwrap().len() > 0, "the WAL holds data");
    s.checkpoint().unwrap();
    drop(s);
    check("after checkpoint");
}

/// Scans every file of `dir` for any of `secrets` (all at least 11 bytes) or
/// an unencrypted SQLite header, in one pass per file.
fn plaintext_in(dir: &std::path::Path, secrets: &[String]) -> Option<String> {
    let mut prefixes: std::collections::HashMap<&[u8], Vec<&str>> = std::collections::HashMap::new();
    for s in secrets {
        prefixes.entry(&s.as_bytes()[..11]).or_default().push(s);
    }
    for entry in std::fs::read_dir(dir).unwrap() {
        let file = entry.unwrap().path();
        let bytes = std::fs::read(&file).unwrap();
        if bytes.starts_with(b"SQLite format 3") {
            return Some(format!("{} is not encrypted", file.display()));
        }
        for (at, window) in bytes.windows(11).enumerate() {
            if prefixes.get(window).is_some_and(|c| c.iter().any(|s| bytes[at..].starts_with(s.as_bytes()))) {
                return Some(format!("a personal number in plaintext in {}", file.display()));
            }
        }
    }
    None
}

#[test]
fn migrations_create_every_table_and_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let s = Store::create(&path, &key(), &init(1)).unwrap();
    let version: i64 = s.connection().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    let tables = store::tables();
    assert_eq!(version as usize, tables.len(), "one step per table in this first schema");
    for t in &tables {
        let n: i64 = s
            .connection()
            .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", [t], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1, "table {t} exists");
    }
    drop(s);
    // Re-opening applies nothing again and keeps the version.
    let s = Store::open(&path, &key()).unwrap();
    let again: i64 = s.connection().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(again, version);
    // The schema matches what SQLite itself reports as sound.
    let ok: String = s.connection().query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
}

#[test]
fn a_store_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let s = Store::create(&path, &key(), &init(1)).unwrap();
    s.connection().pragma_update(None, "user_version", 999).unwrap();
    drop(s);
    assert_eq!(Store::open(&path, &key()).unwrap_err().code(), "STORE_TOO_NEW");
}

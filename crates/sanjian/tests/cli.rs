//! The `sanjian` binary as a user runs it.

use std::process::Output;

mod common;
use common::sanjian;

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn validate_id_prints_the_normalised_id_birth_date_and_sex() {
    let o = sanjian(&["validate-id", "11010519491231002x", "--today", "2026-11-25"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(lines[0], "11010519491231002X");
    assert!(lines[1].ends_with("1949-12-31"), "{out}");
    assert!(lines[2].contains("女") && lines[2].contains("female"), "{out}");
}

#[test]
fn validate_id_upgrades_the_15_digit_form_and_speaks_json() {
    let o = sanjian(&["validate-id", "110105491231002", "--json", "--today", "2026-11-25"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["id"], "11010519491231002X");
    assert_eq!(v["birth_date"], "1949-12-31");
    assert_eq!(v["sex"], "female");
}

#[test]
fn invalid_ids_exit_1_with_the_reason() {
    for (id, code) in [
        ("110105194912310021", "ID_CHECKSUM"),
        ("11010519490230002X", "ID_BIRTH_DATE"),
        ("11010520991231002X", "ID_BIRTH_FUTURE"),
        ("1101051949123100", "ID_LENGTH"),
        ("１１０１０５１９４９１２３１００２Ｘ", "ID_FULLWIDTH"),
    ] {
        let o = sanjian(&["validate-id", id, "--json", "--today", "2026-11-25"]);
        assert_eq!(o.status.code(), Some(1), "{id}");
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["valid"], false, "{id}");
        assert_eq!(v["code"], code, "{id}");
        assert!(!v["message"]["zh"].as_str().unwrap().is_empty());
        assert!(!v["message"]["en"].as_str().unwrap().is_empty());
    }
    let o = sanjian(&["validate-id", "110105194912310021"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("ID_CHECKSUM") && stdout(&o).contains("校验位"));
}

#[test]
fn validate_credit_code() {
    let o = sanjian(&["validate-credit-code", "91350100m000100y43"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(stdout(&o).trim(), "91350100M000100Y43");
    let o = sanjian(&["validate-credit-code", "91350100M000100Y44", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["code"], "CREDIT_CODE_CHECKSUM");
    let o = sanjian(&["validate-credit-code", "91350100M000100I43", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["code"], "CREDIT_CODE_CHARS");
}

#[test]
fn wrong_arguments_exit_2_with_usage() {
    for args in [&[][..], &["validate-id"][..], &["frobnicate"][..], &["generate", "--members", "ten", "--db", "x"][..]]
    {
        let o = sanjian(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("Usage"), "{args:?}");
    }
}

#[test]
fn generate_then_stats() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("county.db");
    let db = db.to_str().unwrap();
    let o = sanjian(&["generate", "--members", "800", "--seed", "3", "--db", db, "--today", "2026-11-25"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).contains("800 members"), "{}", stdout(&o));
    let key_file = format!("{db}.key");
    assert_eq!(std::fs::read_to_string(&key_file).unwrap().trim().len(), 64);

    let o = sanjian(&["stats", "--db", db, "--json", "--today", "2026-11-25"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let active = v["county"]["active_members"].as_u64().unwrap();
    assert!(active > 700 && active <= 800, "{active}");
    assert!(v["townships"].as_array().unwrap().len() >= 10);
    assert_eq!(v["county"]["target_new_unions"], 50);
    assert_eq!(v["goals"].as_array().unwrap().len(), 9);
    let carded = &v["county"]["carded"];
    assert!(carded["numerator"].as_u64().unwrap() > 0 && carded["denominator"].as_u64() == Some(active), "{carded}");

    let o = sanjian(&["stats", "--db", db, "--today", "2026-11-25"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("全县 county") && stdout(&o).contains("建会率"), "{}", stdout(&o));

    // Three clears of the first township, by name.
    let township = v["townships"][0]["name"].as_str().unwrap().to_owned();
    let o = sanjian(&["three-clears", "--db", db, "--area", &township, "--json", "--today", "2026-11-25"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let c: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let all = c["private_enterprises"].as_array().unwrap().len();
    assert!(all > 0);
    assert_eq!(all, c["with_union"].as_array().unwrap().len() + c["without_union"].as_array().unwrap().len());
    let o = sanjian(&["three-clears", "--db", db, "--area", &township]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("三、未建会"), "{}", stdout(&o));
    let o = sanjian(&["three-clears", "--db", db, "--area", "没有这个乡"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no area named"));

    // Generating over an existing store is refused; the store is kept.
    let o = sanjian(&["generate", "--members", "100", "--db", db]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("STORE_EXISTS"));

    // The wrong key is a clear error.
    std::fs::write(dir.path().join("wrong.key"), "00".repeat(32)).unwrap();
    let wrong = dir.path().join("wrong.key");
    let o = sanjian(&["stats", "--db", db, "--key-file", wrong.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("STORE_WRONG_KEY"));
}

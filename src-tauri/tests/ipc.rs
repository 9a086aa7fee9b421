//! The commands as the UI sees them: invoked through Tauri's IPC on the mock
//! runtime (no webview, no display), with the app's real `tauri.conf.json`
//! and capabilities, answering in the JSON that `ui/app.js` reads.

use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response};
use tauri::webview::InvokeRequest;
use tauri::{App, WebviewWindow, WebviewWindowBuilder};

/// The app with its real context, and its main window built from
/// tauri.conf.json (`App::run` would do that once the event loop is ready).
fn app(dir: &std::path::Path) -> (App<MockRuntime>, WebviewWindow<MockRuntime>) {
    let app = sanjian_app_lib::builder_in(tauri::test::mock_builder(), Some(dir.to_owned()))
        .build(sanjian_app_lib::context())
        .expect("the app builds on the mock runtime");
    let config = app.config().app.windows.iter().find(|w| w.label == "main").expect("tauri.conf.json declares main");
    let main = WebviewWindowBuilder::from_config(&app, config).and_then(|w| w.build()).expect("main window builds");
    (app, main)
}

/// Invokes `cmd` from the main window as `invoke(cmd, args)` in the UI would.
fn invoke(cmd: &str, args: Value) -> Result<Value, Value> {
    let dir = tempfile::tempdir().unwrap();
    let (_app, main) = app(dir.path());
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().expect("a valid url"),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_owned(),
    };
    get_ipc_response(&main, request).map(|body| body.deserialize::<Value>().expect("a JSON answer"))
}

/// Asserts that `err` is the UI's error contract, exactly `{code, message:
/// {zh, en}}` with both messages filled in, and returns its code.
fn error_code(err: &Value) -> &str {
    let keys = |v: &Value| {
        v.as_object().map(|o| {
            let mut keys: Vec<String> = o.keys().cloned().collect();
            keys.sort();
            keys
        })
    };
    assert_eq!(keys(err), Some(vec!["code".to_owned(), "message".to_owned()]), "{err}");
    assert_eq!(keys(&err["message"]), Some(vec!["en".to_owned(), "zh".to_owned()]), "{err}");
    for lang in ["zh", "en"] {
        assert!(!err["message"][lang].as_str().unwrap_or_default().is_empty(), "empty {lang} message: {err}");
    }
    err["code"].as_str().expect("code is a string")
}

#[test]
fn validate_id_normalises_a_valid_id() {
    let answer = invoke("validate_id", json!({ "id": " 11010519491231002x " }));
    assert_eq!(
        answer,
        Ok(json!({
            "id": "11010519491231002X",
            "birth_date": "1949-12-31",
            "sex": "female",
            "sex_label": { "zh": "女", "en": "female" },
        }))
    );
}

#[test]
fn validate_id_upgrades_a_15_digit_id() {
    let answer = invoke("validate_id", json!({ "id": "110105491231002" })).expect("valid");
    assert_eq!(answer["id"], "11010519491231002X");
}

#[test]
fn validate_id_reports_a_wrong_check_character() {
    let err = invoke("validate_id", json!({ "id": "110105194912310021" })).expect_err("checksum fails");
    assert_eq!(error_code(&err), "ID_CHECKSUM");
    // It asks to compare every digit rather than naming the check character
    // to type (the typo is usually elsewhere).
    assert!(err["message"]["zh"].as_str().unwrap().contains("逐位核对"), "{err}");
    assert!(!err["message"]["zh"].as_str().unwrap().contains('X'), "{err}");
}

#[test]
fn validate_id_error_codes() {
    let cases = [
        ("", "ID_REQUIRED"),
        ("1101051949", "ID_LENGTH"),
        ("１１０１０５１９４９１２３１００２Ｘ", "ID_FULLWIDTH"),
        ("11010519491231002A", "ID_CHARS"),
        ("990105194912310020", "ID_REGION"),
        ("110105194902300020", "ID_BIRTH_DATE"),
        // A birth date in 2099 lies in the future of the system clock.
        ("110105209912310020", "ID_BIRTH_FUTURE"),
    ];
    for (input, code) in cases {
        let err = invoke("validate_id", json!({ "id": input })).expect_err(input);
        assert_eq!(error_code(&err), code, "input {input:?}");
    }
}

#[test]
fn validate_credit_code_accepts_and_normalises() {
    assert_eq!(
        invoke("validate_credit_code", json!({ "code": "91350100M000100Y43" })),
        Ok(json!("91350100M000100Y43"))
    );
    assert_eq!(
        invoke("validate_credit_code", json!({ "code": "91350100m000100y43" })),
        Ok(json!("91350100M000100Y43"))
    );
}

#[test]
fn validate_credit_code_refuses_a_wrong_check_character() {
    let err = invoke("validate_credit_code", json!({ "code": "91350100M000100Y44" })).expect_err("checksum fails");
    assert_eq!(error_code(&err), "CREDIT_CODE_CHECKSUM");
}

#[test]
fn validate_credit_code_error_codes() {
    let cases = [
        ("", "CREDIT_CODE_REQUIRED"),
        ("91350100M000100Y4", "CREDIT_CODE_LENGTH"),
        ("91350100M000100I43", "CREDIT_CODE_CHARS"),
        ("９１350100M000100Y43", "CREDIT_CODE_FULLWIDTH"),
    ];
    for (input, code) in cases {
        let err = invoke("validate_credit_code", json!({ "code": input })).expect_err(input);
        assert_eq!(error_code(&err), code, "input {input:?}");
    }
}

/// A call the UI gets wrong (here: a missing argument) is refused by Tauri
/// before any command runs; the UI turns such answers into BACKEND_ERROR.
#[test]
fn a_missing_argument_is_refused() {
    assert!(invoke("validate_id", json!({})).is_err());
    assert!(invoke("no_such_command", json!({})).is_err());
}

#[test]
fn the_call_command_reaches_the_field_backend() {
    let answer = invoke("call", json!({ "cmd": "status", "args": null })).expect("status answers");
    assert_eq!(answer["state"], "new", "a fresh data directory: {answer}");
    assert_eq!(answer["free_tries"], 5);
    let err = invoke("call", json!({ "cmd": "home" })).expect_err("nothing is open");
    assert_eq!(error_code(&err), "APP_LOCKED");
    let err = invoke("call", json!({ "cmd": "launch_rockets" })).expect_err("unknown");
    assert_eq!(error_code(&err), "UNKNOWN_COMMAND");
}

//! The IPC commands. Each one unpacks its arguments, calls one registry
//! function and maps the result into [`crate::dto`]; logic that a command
//! would otherwise grow belongs in the registry crate.

use crate::dto::{ApiError, IdInfo};
use registry::ids::{CreditCode, ResidentId};
use std::sync::Arc;
use time::Date;

/// Today's date in China (UTC+8: the surveyor's wall calendar decides
/// whether a birth date lies in the future).
fn today() -> Date {
    field::app::china_today()
}

/// Validates a resident ID number (公民身份号码) as typed.
#[tauri::command]
pub fn validate_id(id: String) -> Result<IdInfo, ApiError> {
    let id = ResidentId::parse(&id, today())?;
    Ok(IdInfo::from(&id))
}

/// Validates a Unified Social Credit Code (统一社会信用代码) and returns it
/// normalised. A wrong check character is an error here (code
/// `CREDIT_CODE_CHECKSUM`); the full form will let a surveyor keep such a code
/// with a reason, which the registry models as a warning.
#[tauri::command]
pub fn validate_credit_code(code: String) -> Result<String, ApiError> {
    let code = CreditCode::parse(&code)?;
    match code.checksum_warning("credit_code") {
        None => Ok(code.as_str().to_owned()),
        Some(warning) => Err(warning.into()),
    }
}

/// The one command every screen uses: `invoke("call", {cmd, args})` runs
/// `field::App::call` on a blocking thread (PIN derivation, SQLite and sync
/// setup must not hold up the webview's event loop).
#[tauri::command]
pub async fn call(
    backend: tauri::State<'_, crate::Backend>,
    cmd: String,
    args: Option<serde_json::Value>,
) -> Result<serde_json::Value, field::ApiError> {
    let backend: Arc<field::App> = backend.0.get().cloned().ok_or_else(|| {
        field::ApiError::new(
            "BACKEND_NOT_READY",
            "应用尚未启动完成，请稍候",
            "The app is still starting; wait a moment",
        )
    })?;
    tauri::async_runtime::spawn_blocking(move || backend.call(&cmd, args.unwrap_or(serde_json::Value::Null)))
        .await
        .unwrap_or_else(|_| Err(field::ApiError::new("BACKEND_ERROR", "后台出错", "The backend failed")))
}

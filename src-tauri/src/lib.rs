//! The Tauri v2 shell of Sanjian's field app (三建 · 工会组建登记).
//!
//! The shell owns the window, the webview over the static files in `ui/` and
//! the IPC commands. It holds no domain logic: each command in [`commands`]
//! unpacks its arguments, calls one function of the `registry` crate and maps
//! the answer to a serialisable type in [`dto`]. The `registry` crate does not
//! know this shell exists.
//!
//! [`builder`] registers the commands; [`run`] uses it with the real runtime
//! and the tests use it with Tauri's mock runtime, so both see the same
//! handler list.

pub mod commands;
pub mod dto;

use tauri::{Builder, Context, Runtime};

/// Registers the IPC commands the UI may invoke.
pub fn builder<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder.invoke_handler(tauri::generate_handler![commands::validate_id, commands::validate_credit_code])
}

/// The app's context: `tauri.conf.json`, the capabilities, the icons and the
/// `ui/` files, all embedded at compile time.
pub fn context<R: Runtime>() -> Context<R> {
    tauri::generate_context!()
}

/// Starts the app and returns when its last window closes.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    if let Err(e) = builder(Builder::default()).run(context()) {
        eprintln!("三建无法启动 Sanjian failed to start: {e}");
        std::process::exit(1);
    }
}

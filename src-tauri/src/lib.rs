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

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use tauri::{Builder, Context, Manager, Runtime};

/// Where the device keeps its store: `--data DIR` on the command line, else
/// `SANJIAN_APP_DATA`, else the platform's app data directory.
fn data_dir<R: Runtime>(app: &tauri::App<R>) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--data"
            && let Some(dir) = args.next()
        {
            return Ok(dir.into());
        }
    }
    if let Some(dir) = std::env::var_os("SANJIAN_APP_DATA") {
        return Ok(dir.into());
    }
    Ok(app.path().app_data_dir()?)
}

/// Registers the IPC commands the UI may invoke, and makes the backend
/// ([`field::App`]) when the app starts.
pub fn builder<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder_in(builder, None)
}

/// The backend, made when the app starts (its data directory comes from
/// the running app's paths) or up front when a directory is given.
#[derive(Debug, Default)]
pub struct Backend(pub OnceLock<Arc<field::App>>);

/// [`builder`] with the data directory given (tests and benchmarks).
pub fn builder_in<R: Runtime>(builder: Builder<R>, dir: Option<PathBuf>) -> Builder<R> {
    let backend = Backend::default();
    if let Some(dir) = dir {
        let app = field::App::new(field::Config::new(dir)).expect("the backend starts in the given directory");
        let _ = backend.0.set(Arc::new(app));
    }
    builder
        .manage(backend)
        .setup(|app| {
            let backend = app.state::<Backend>();
            if backend.0.get().is_none() {
                let made = field::App::new(field::Config::new(data_dir(app)?))?;
                let _ = backend.0.set(Arc::new(made));
            }
            #[cfg(target_os = "linux")]
            allow_camera(app);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![commands::call, commands::validate_id, commands::validate_credit_code])
}

/// The app's context: `tauri.conf.json`, the capabilities, the icons and the
/// `ui/` files, all embedded at compile time.
pub fn context<R: Runtime>() -> Context<R> {
    tauri::generate_context!()
}

/// WebKitGTK refuses the camera until the webview enables media streams and
/// answers the permission request: the card scanner may use the camera
/// (video only); every other request (microphone, location, notifications)
/// is denied.
#[cfg(target_os = "linux")]
fn allow_camera<R: Runtime>(app: &tauri::App<R>) {
    use webkit2gtk::glib::prelude::Cast;
    use webkit2gtk::{PermissionRequestExt, SettingsExt, UserMediaPermissionRequestExt, WebViewExt};
    let Some(window) = app.get_webview_window("main") else { return };
    let _ = window.with_webview(|webview| {
        let view = webview.inner();
        if let Some(settings) = WebViewExt::settings(&view) {
            settings.set_enable_media_stream(true);
        }
        view.connect_permission_request(|_, request| {
            match request.downcast_ref::<webkit2gtk::UserMediaPermissionRequest>() {
                Some(media) if media.is_for_video_device() && !media.is_for_audio_device() => request.allow(),
                _ => request.deny(),
            }
            true
        });
    });
}

/// Starts the app and returns when its last window closes.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    if let Err(e) = builder(Builder::default()).run(context()) {
        eprintln!("三建无法启动 Sanjian failed to start: {e}");
        std::process::exit(1);
    }
}

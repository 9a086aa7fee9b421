//! The desktop binary: glue only, everything lives in the library so that a
//! mobile build can start the same app from its own entry point.

// Without this a release build on Windows would also open a console window.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    sanjian_app_lib::run();
}

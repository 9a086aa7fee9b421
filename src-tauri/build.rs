//! Reads tauri.conf.json and capabilities/, checks them, and prepares what
//! `tauri::generate_context!` embeds (config, ACL, icons, the `ui/` files).

fn main() {
    tauri_build::build();
}

//! Helpers the CLI's tests (and the chaos benchmark) share.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// The `sanjian` binary with `args`, without a key in the environment.
pub fn sanjian(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sanjian")).args(args).env_remove("SANJIAN_KEY").output().unwrap()
}

/// Its standard output, after asserting it succeeded.
pub fn ok(o: Output) -> String {
    assert!(o.status.success(), "{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every run of `len` or more ASCII digits in `text` (phones, ID numbers).
pub fn digit_runs(text: &str, len: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() || (c == 'X' && run.len() == 17) {
            run.push(c);
        } else {
            if run.len() >= len {
                out.push(run.clone());
            }
            run.clear();
        }
    }
    out
}

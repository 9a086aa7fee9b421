//! Integration tests of the `registry` crate: identifier formats, the plan's
//! rules, record validation and the progress report.
//!
//! One test binary with a module per area, so the crate is linked once.

mod ids;
mod labels;
mod progress;
mod rules;
mod validate;

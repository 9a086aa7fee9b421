//! Integration tests of the record store.

mod util;

mod history;
mod merge;
mod open;
mod progress;
mod records;
mod sync;

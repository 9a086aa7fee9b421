//! Server tests: the sync simulation, scopes and enrolment, bad input.

mod protocol;
mod sim;
mod util;

//! Server tests: the sync simulation, scopes and enrolment, bad input.

mod sim;
mod util;

//! Server tests: the sync simulation, scopes and enrolment, bad input.

mod http;
mod protocol;
mod sim;
mod util;

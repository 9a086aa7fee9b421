//! Server tests: the sync simulation, scopes and enrolment, bad input.

mod attacks;
mod http;
mod protocol;
mod sim;
mod util;

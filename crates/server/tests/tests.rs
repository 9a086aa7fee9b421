//! Server tests: the sync simulation, scopes and enrolment, bad input.

mod agreement;
mod applications;
mod attacks;
mod http;
mod intake;
mod lists;
mod merchants;
mod protocol;
mod routes;
mod sim;
mod util;

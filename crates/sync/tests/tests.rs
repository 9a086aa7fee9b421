//! Tests of the sync crate on its own: the wire format.

mod wire;

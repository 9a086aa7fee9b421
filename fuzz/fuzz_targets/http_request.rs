#![no_main]

libfuzzer_sys::fuzz_target!(init: fuzzing::count_only_uncaught_panics(), |data: &[u8]| fuzzing::http_request(data));

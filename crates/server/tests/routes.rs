//! The HTTP edge stays thin: a route is an extractor and one call of the
//! county layer. Read from the source, as a reviewer would.
//!
//! Every JSON action is a `county::ops` operation, routed by one generic
//! handler. The few routes that are not (the binary sync protocol, files,
//! pages) are listed in `EDGE`, and each is held to the same rule: at most
//! ten lines, one call of the county layer, no SQL, no database.

const HTTP: &str = include_str!("../src/http.rs");

/// Routes that are not JSON operations: the binary sync and attachment
/// protocol, the signed card lists, photos and ledger files, the pages.
const EDGE: &[&str] = &[
    "health",
    "device_endpoint",
    "card_trust",
    "card_revocations",
    "console_blob",
    "console_export",
    "start_export",
    "export_status",
    "export_file",
    "console_reconcile",
    "console_intake",
    "console_archive",
    "intake_progress",
    "console_page",
    "console_map_js",
    "console_chart_js",
    "basemap_info",
    "basemap_tile",
    "console_lib",
    "verify_page",
    "apply_page",
    "merchant_page",
    "merchant_worker",
    "merchant_verifier",
    "merchant_manifest",
    "merchant_token_manifest",
    "merchant_icon",
    "not_found",
];

/// The one handler for operations whose failures are guesses: the rate
/// limits around the same call.
const LIMITED: &[&str] = &["guessed"];

/// The functions of the file that start at column 0: name → lines of body.
fn functions() -> Vec<(String, Vec<&'static str>)> {
    let lines: Vec<&str> = HTTP.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let rest = line.strip_prefix("async fn ").or_else(|| line.strip_prefix("fn "));
        if let Some(rest) = rest {
            let name = rest.split(['(', '<']).next().unwrap().to_owned();
            // The signature may span lines; the body starts after the line
            // ending in `{` and ends at the `}` in column 0.
            let mut j = i;
            while !lines[j].trim_end().ends_with('{') {
                j += 1;
            }
            let start = j + 1;
            let mut end = start;
            while lines[end] != "}" {
                end += 1;
            }
            out.push((name, lines[start..end].to_vec()));
            i = end;
        }
        i += 1;
    }
    out
}

/// The handler names the router names (`get(name)`, `post(name)`).
fn routed() -> Vec<String> {
    let router = &HTTP[HTTP.find("pub fn router").unwrap()..];
    let router = &router[..router.find("\n}\n").unwrap()];
    let mut names = Vec::new();
    for opener in ["get(", "post(", ".fallback("] {
        for part in router.split(opener).skip(1) {
            let name: String = part.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
            if !name.is_empty() {
                names.push(name);
            }
        }
    }
    names
}

/// Counts the county's operations.
struct Count(usize, Vec<&'static str>);

impl county::ops::OperationVisitor for Count {
    fn visit<O: county::Operation>(&mut self) {
        self.0 += 1;
        self.1.push(O::PATH);
    }
}

#[test]
fn routes_are_an_extractor_and_one_call_of_the_county_layer() {
    let functions = functions();
    let routed = routed();
    // Every county operation is routed by the one visitor, to the one
    // generic handler.
    let mut count = Count(0, Vec::new());
    county::ops::each(&mut count);
    assert!(count.0 >= 40, "operations in county::ops: {}", count.0);
    assert!(HTTP.contains("county::ops::each(&mut county);"), "the router serves county::ops::each");
    for path in &count.1 {
        assert!(path.starts_with("/api/"), "{path}");
        assert!(!HTTP.contains(&format!("\"{path}\"")), "{path} is routed by hand as well as by its operation");
    }
    for name in &routed {
        assert!(EDGE.contains(&name.as_str()), "route `{name}` must be a county operation (county::ops)");
    }
    // The one generic handler, the edge's own routes and the rate-limited
    // wrappers: short, no SQL, no ad-hoc JSON, no authorisation of their
    // own.
    let short = [("op", 10), ("run_op", 10)].into_iter().chain(EDGE.iter().map(|n| (*n, 10)));
    for (name, most) in short.chain(LIMITED.iter().map(|n| (*n, 10))) {
        let (_, body) = functions.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("`{name}` is missing"));
        assert!(body.len() <= most, "`{name}` has {} lines (at most {most})", body.len());
        for line in body {
            for banned in [
                "json!",
                "SELECT",
                "INSERT",
                "UPDATE",
                "DELETE",
                ".query(",
                ".execute(",
                "as_admin",
                "as_staff",
                ".tx(",
            ] {
                assert!(!line.contains(banned), "`{name}` must not use `{banned}`: {line}");
            }
        }
    }
    // Nowhere in the edge: SQL or ad-hoc JSON (answers are the county
    // layer's DTOs, or the edge's own small structs).
    for banned in ["json!", "SELECT ", "INSERT ", "UPDATE ", "DELETE ", ".query(", ".execute(", ".db.", "find_device"] {
        assert!(!HTTP.contains(banned), "the HTTP edge must not use `{banned}`");
    }
    // Every name on the list is a route (an edge route that became an
    // operation comes off it).
    for name in EDGE {
        assert!(routed.iter().any(|n| n == name), "`{name}` is not routed: take it off EDGE");
    }
}

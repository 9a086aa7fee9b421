//! A county starting from its own sheets: the sheets one county exports
//! (area tree, entity census, the four ledgers, full numbers) imported
//! into a new, empty server give the same figures and the same ledgers;
//! importing them again writes nothing; a member ledger as a county keeps
//! it (a merged title, GBK, 15-digit IDs, full-width digits, Excel serial
//! dates, extra columns) reads, and its bad rows are refused one by one
//! with a stable code while the rest go in.

use crate::http::{Backend, Running, each_backend, start_county};
use crate::util::*;
use registry::progress::ProgressReport;
use std::collections::BTreeMap;

/// The sheets in the order a county brings them in.
const SHEETS: [&str; 6] = ["area", "entity", "organisation", "member", "cadre", "transfer"];

fn export(s: &Running, ledger: &str, format: &str) -> Vec<u8> {
    let url = format!("{}/api/console/export?ledger={ledger}&format={format}&full_ids=true", s.endpoint.base);
    s.rt.block_on(async {
        let r = s.http.get(url).bearer_auth(&s.admin).send().await.unwrap();
        assert_eq!(r.status(), 200, "export {ledger}");
        r.bytes().await.unwrap().to_vec()
    })
}

/// A CSV export's rows without the running number, sorted.
fn rows(csv: &[u8]) -> Vec<String> {
    let text = String::from_utf8(csv[3..].to_vec()).unwrap();
    let mut out: Vec<String> =
        text.lines().skip(1).map(|l| l.split_once(',').map_or(l, |(_, rest)| rest).to_owned()).collect();
    out.sort();
    out
}

pub(crate) fn intake(s: &Running, query: &str, file: Vec<u8>) -> (u16, serde_json::Value) {
    let url = format!("{}/api/console/intake?{query}", s.endpoint.base);
    s.answer(s.http.post(url).bearer_auth(&s.admin).body(file))
}

fn progress(s: &Running) -> ProgressReport {
    let (st, v) = s.answer(s.http.get(format!("{}/api/console/progress", s.endpoint.base)).bearer_auth(&s.admin));
    assert_eq!(st, 200, "{v}");
    serde_json::from_value(v).unwrap()
}

/// The figures by township name (ids differ between two servers).
fn figures(p: &ProgressReport) -> (String, BTreeMap<String, String>) {
    let county = serde_json::to_string(&p.county).unwrap();
    let towns = p.townships.iter().map(|t| (t.name.clone(), serde_json::to_string(&t.tally).unwrap())).collect();
    (county, towns)
}

fn empty_server(backend: Backend, county_name: &str) -> Running {
    let s = start_county(backend, None, false, County { records: Vec::new(), townships: Vec::new() });
    let (st, v) =
        s.post_json("/api/console/areas", Some(&s.admin), &serde_json::json!({"name": county_name, "level": "county"}));
    assert_eq!(st, 200, "{v}");
    // Once only.
    let (st, v) =
        s.post_json("/api/console/areas", Some(&s.admin), &serde_json::json!({"name": "另一个县", "level": "county"}));
    assert_eq!((st, v["code"].as_str()), (400, Some("AREA_LEVEL")), "{v}");
    s
}

fn county_name(s: &Running) -> String {
    let (st, v) = s.answer(s.http.get(format!("{}/api/console/areas", s.endpoint.base)).bearer_auth(&s.admin));
    assert_eq!(st, 200, "{v}");
    v["county"]["name"].as_str().expect("the demo county is named").to_owned()
}

#[test]
fn a_county_exported_and_imported_into_an_empty_server_has_the_same_figures_and_ledgers() {
    each_backend(|backend| {
        // Big enough to hold transfers, cadres who left and dissolved unions.
        let config = synth::SynthConfig { seed: 7, members: 400, today: TODAY, year: TODAY.year() };
        let mut records = Vec::new();
        synth::generate(&config, &secret(), |id, r| records.push((id, r)));
        let original = start_county(backend, None, false, County { records, townships: Vec::new() });
        let copy = empty_server(backend, &county_name(&original));
        for (i, sheet) in SHEETS.iter().enumerate() {
            // XLSX for half the sheets, CSV for the others: both layouts read.
            let format = if i % 2 == 0 { "xlsx" } else { "csv" };
            let file = export(&original, sheet, format);
            let (st, dry) = intake(&copy, "", file.clone());
            assert_eq!(st, 200, "{sheet}: {dry}");
            assert_eq!(dry["sheet"], *sheet_key(sheet), "the sheet is recognised from its headers");
            assert_eq!(dry["written"], false);
            assert_eq!(dry["counts"]["refused"], 0, "{sheet}: {}", dry["rows"]);
            let (st, done) = intake(&copy, "write=true", file.clone());
            assert_eq!(st, 200, "{sheet}: {done}");
            assert_eq!(done["counts"], dry["counts"], "{sheet}: the dry run said what the import did");
            // Again: nothing changes.
            let (st, again) = intake(&copy, "write=true", file);
            assert_eq!(st, 200);
            let c = &again["counts"];
            assert_eq!(
                (c["create"].as_u64(), c["update"].as_u64(), c["refused"].as_u64()),
                (Some(0), Some(0), Some(0)),
                "{sheet}: {again}"
            );
        }
        for sheet in SHEETS {
            let (a, b) = (rows(&export(&original, sheet, "csv")), rows(&export(&copy, sheet, "csv")));
            assert_eq!(a.len(), b.len(), "{sheet}");
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(x, y, "{sheet}");
            }
        }
        let (a, b) = (figures(&progress(&original)), figures(&progress(&copy)));
        assert_eq!(a.0, b.0, "the county's figures");
        assert_eq!(a.1, b.1, "every township's figures");
    });
}

fn sheet_key(ledger: &str) -> &'static str {
    match ledger {
        "area" => "areas",
        "entity" => "entities",
        "organisation" => "organisation",
        "member" => "member",
        "cadre" => "cadre",
        _ => "transfer",
    }
}

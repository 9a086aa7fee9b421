//! The bodies of Sanjian's fuzz targets: every decoder that reads bytes from
//! outside — a membership card's text, a sync request or answer, a stored
//! or received Automerge document, another office's CSV or XLSX list. Each
//! must refuse bad input with an error, never panic or run away.
//!
//! `fuzz/` (cargo-fuzz, libFuzzer) runs them on generated input; the
//! normal tests (`tests/replay.rs`) run them on the seed corpus and on every
//! crasher ever found, kept in `fuzz/fixtures/<target>/`.

use sync::wire::Message;

/// A fuzz target: its name and its body.
pub type Target = (&'static str, fn(&[u8]));

/// Every target.
pub const TARGETS: [Target; 5] = [
    ("card_decode", card_decode),
    ("sync_message", sync_message),
    ("stored_document", stored_document),
    ("import_table", import_table),
    ("http_request", http_request),
];

/// For each fuzz target's `init`. libFuzzer's Rust harness aborts on any
/// panic, even one the code catches: Sanjian catches the panics of the
/// Automerge and calamine decoders and refuses the input, so such a panic is
/// handled, not a finding. A quiet hook lets it be the refusal it is; a
/// panic nobody catches still unwinds into the harness, which aborts and
/// keeps the input as a crash.
pub fn count_only_uncaught_panics() {
    std::panic::set_hook(Box::new(|_| {}));
}

/// A card's text as scanned: strict decoding.
pub fn card_decode(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = card::Card::decode(text);
    }
}

/// A sync request or answer, and a blob batch, as the server or device reads them.
pub fn sync_message(data: &[u8]) {
    let _ = sync::wire::PushRequest::decode(data);
    let _ = sync::wire::PushResponse::decode(data);
    let _ = sync::wire::PullRequest::decode(data);
    let _ = sync::wire::PullResponse::decode(data);
    let _ = sync::wire::RepairRequest::decode(data);
    let _ = sync::wire::FetchRequest::decode(data);
    let _ = sync::wire::FetchResponse::decode(data);
    let _ = sync::blobs::decode(data);
}

/// A stored or received document: loaded as the store and the server load
/// outside bytes (`store::doc::load`, which turns a decoder panic into a
/// refusal), read as a record, validated, its conflicts listed, and taken
/// as incremental changes too.
pub fn stored_document(data: &[u8]) {
    let mut empty = automerge::AutoCommit::new();
    let _ = store::doc::load_incremental(&mut empty, data);
    let Ok(doc) = store::doc::load(data) else { return };
    let _ = store::document_conflicts(&doc);
    if let Ok(mut record) = store::hydrate(&doc) {
        let _ = registry::validate::check(&mut record, time::macros::date!(2026 - 11 - 25));
    }
}

/// Another office's entity list (CSV in UTF-8 or GBK, or XLSX).
pub fn import_table(data: &[u8]) {
    if let Ok(table) = server::reconcile::read_table(data) {
        let _ = server::reconcile::guess(&table.headers);
    }
}

mod http;
pub use http::{ROUTES, http_request};

/// A valid input of each target, to start the fuzzer from what the decoders
/// accept (written to `fuzz/corpus/<target>/` by `cargo run -p fuzzing`).
pub fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    // A card, issued by a device key.
    let key = card::SigningKey::from_bytes(&[11; 32]);
    let claims = card::Claims {
        member: [0x5a; 16],
        issued: 20782,
        expires: 20782 + 365,
        serial: [1, 2, 3, 4, 5, 6, 7, 8],
        name: Some("陈晓红".into()),
        union: Some([0x33; 16]),
    };
    out.push(("card_decode", "card".into(), card::issue(claims, &key).expect("a valid card").into_bytes()));
    // Documents of every kind from a small synthetic county, and the sync
    // messages that carry them.
    let secret = registry::keys::CountySecret::from_bytes([42; 32]);
    let config = synth::SynthConfig { seed: 1, members: 60, today: time::macros::date!(2026 - 11 - 25), year: 2026 };
    let mut kinds = std::collections::BTreeSet::new();
    let mut docs = Vec::new();
    synth::generate(&config, &secret, |id, record| {
        if kinds.insert(record.kind()) {
            let mut doc = store::new_document(&id, record, [7; 16], "seed", config.today).expect("valid");
            docs.push((id, doc.save()));
        }
    });
    for (id, bytes) in &docs {
        out.push(("stored_document", format!("doc-{id}"), bytes.clone()));
    }
    let push = sync::wire::PushRequest {
        docs: docs
            .iter()
            .map(|(id, b)| sync::wire::PushDoc { id: id.clone(), heads: vec![[9; 32]], bytes: b.clone() })
            .collect(),
    };
    out.push(("sync_message", "push".into(), push.encode()));
    let pull = sync::wire::PullRequest {
        cursor: "v2:07070707070707070707070707070707:1:42".into(),
        limit: 1000,
        want_total: true,
        skip_own: true,
    };
    out.push(("sync_message", "pull".into(), pull.encode()));
    let frames = sync::blobs::encode(&[sync::blobs::Frame {
        hash: "ab".repeat(32),
        offset: 0,
        total: 5,
        data: vec![0xFF, 0xD8, b'a', b'b', b'c'],
    }]);
    out.push(("sync_message", "blobs".into(), frames));
    // Lists as offices send them.
    let csv = "单位名称,统一社会信用代码,从业人员,地址\n青山商贸有限公司,91341621MA2N0XYZ1A,12,城关镇东街1号\n";
    out.push(("import_table", "utf8.csv".into(), csv.as_bytes().to_vec()));
    out.push(("import_table", "bom.csv".into(), [&[0xEF, 0xBB, 0xBF][..], csv.as_bytes()].concat()));
    let xlsx = server::ledgers::Sink::xlsx(server::ledgers::Ledger::Organisation).and_then(|s| s.finish());
    out.push(("import_table", "ledger.xlsx".into(), xlsx.expect("an empty ledger")));
    out.extend(http::seeds());
    out
}

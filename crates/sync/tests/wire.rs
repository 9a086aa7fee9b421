use proptest::prelude::*;
use registry::keys::id_from_bytes;
use sync::wire::*;

fn id(n: u8) -> registry::model::RecordId {
    id_from_bytes(&[n; 16])
}

#[test]
fn messages_round_trip_and_large_ones_are_compressed() {
    let req = PushRequest {
        docs: (0..50).map(|i| PushDoc { id: id(i), heads: vec![[i; 32]], bytes: vec![7; 300] }).collect(),
    };
    let body = req.encode();
    assert!(body.len() < 50 * 300 / 4, "compressed: {} bytes", body.len());
    assert_eq!(PushRequest::decode(&body).unwrap(), req);
    let resp = PullResponse {
        from: String::new(),
        next: "v1:0:9".into(),
        more: true,
        total: Some(9),
        scope: Some(sync::Scope { version: 3, all: false, townships: vec![id(1)], grids: vec![id(2), id(3)] }),
        docs: vec![Doc { id: id(9), bytes: vec![1, 2, 3] }],
        left: vec![id(7)],
    };
    assert_eq!(PullResponse::decode(&resp.encode()).unwrap(), resp);
    // An answer without the ids of departed records (an older server) reads
    // as none left.
    let older = PullResponse { left: Vec::new(), ..resp.clone() }.encode();
    let mut cut = older[..5].to_vec();
    cut.extend_from_slice(&older[5..older.len() - 1]);
    assert_eq!(PullResponse::decode(&cut).unwrap(), PullResponse { left: Vec::new(), ..resp });
    let rep = RepairResponse::Listing(vec![(id(4), u64::MAX), (id(5), 0)]);
    assert_eq!(RepairResponse::decode(&rep.encode()).unwrap(), rep);
}

#[test]
fn a_message_of_another_type_is_refused() {
    let body = PullRequest { cursor: "x".into(), limit: 5, want_total: false, skip_own: false }.encode();
    assert_eq!(PushRequest::decode(&body).unwrap_err().code(), "SYNC_MALFORMED");
}

#[test]
fn a_compression_bomb_is_refused_without_inflating_it_all() {
    use std::io::Write;
    let mut z = flate2::write::DeflateEncoder::new(vec![b'S', b'J', 1, 1, 1], flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..70 {
        z.write_all(&zeros).unwrap();
    }
    let body = z.finish().unwrap();
    assert!(body.len() < 200_000);
    assert_eq!(PushRequest::decode(&body).unwrap_err().code(), "SYNC_TOO_LARGE");
}

proptest! {
    #[test]
    fn no_input_makes_a_decoder_panic(body in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = PushRequest::decode(&body);
        let _ = PushResponse::decode(&body);
        let _ = PullResponse::decode(&body);
        let _ = RepairResponse::decode(&body);
        let _ = FetchResponse::decode(&body);
    }

    #[test]
    fn a_huge_list_count_is_refused_before_allocating(n in 1_000_000u64..u64::MAX) {
        let mut w = vec![b'S', b'J', 1, 1, 0];
        let mut v = n;
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 { w.push(b); break; }
            w.push(b | 0x80);
        }
        prop_assert!(PushRequest::decode(&w).is_err());
    }
}

#[test]
fn a_pull_request_asks_to_skip_its_own_pushes_only_with_the_optional_last_field() {
    // A request as clients written from the older spec send it: no field.
    let old = PullRequest { cursor: String::new(), limit: 1000, want_total: true, skip_own: false }.encode();
    assert_eq!(old, [0x53, 0x4A, 0x01, 0x03, 0x00, 0x00, 0xE8, 0x07, 0x01], "the documented first pull");
    assert!(!PullRequest::decode(&old).unwrap().skip_own);
    let new = PullRequest { cursor: String::new(), limit: 1000, want_total: true, skip_own: true };
    let bytes = new.encode();
    assert_eq!(bytes.len(), old.len() + 1);
    assert_eq!(PullRequest::decode(&bytes).unwrap(), new);
    // Anything after it is still refused.
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(PullRequest::decode(&longer).unwrap_err().code(), "SYNC_MALFORMED");
}

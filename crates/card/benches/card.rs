//! Cards per second: issued (signed + encoded), verified (decoded, checked
//! against the trust and revocation lists), on one core.
//!
//!     cargo bench -p card --bench card
//!
//! Target (issue #4): verify ≥ 10,000/s.

use card::lists::{RevocationList, TrustEntry, TrustList, Verifier};
use card::{Claims, SigningKey, issue};
use std::time::Instant;

const TODAY: card::Day = 20782;

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let root = SigningKey::from_bytes(&[7; 32]);
    let device = SigningKey::from_bytes(&[11; 32]);
    let mut verifier = Verifier::new(root.verifying_key());
    let trust = TrustList {
        seq: 1,
        issued: TODAY,
        entries: vec![TrustEntry {
            key: device.verifying_key().to_bytes(),
            device: "d_bench".into(),
            from: TODAY - 1,
            until: TODAY + 365,
            removed: None,
            all: false,
            areas: vec![[0x21; 16]],
        }],
    };
    verifier.accept_trust(&trust.sign(&root)).unwrap();
    // A realistic revocation list: 10,000 revoked serials.
    let serials = (0u64..10_000).map(|i| (i * 7919).to_be_bytes()).collect();
    verifier.accept_revocations(&RevocationList { seq: 1, issued: TODAY, serials }.sign(&root)).unwrap();

    let n = 20_000u64;
    let claims = |i: u64| Claims {
        member: [(i % 251) as u8; 16],
        issued: TODAY,
        expires: TODAY + 1095,
        serial: (i | 1 << 63).to_be_bytes(),
        name: Some("欧阳娜娜".into()),
        union: Some([0x6b; 16]),
    };
    let started = Instant::now();
    let cards: Vec<String> = (0..n).map(|i| issue(claims(i), &device).unwrap()).collect();
    let issued = started.elapsed();

    let started = Instant::now();
    let mut ok = 0;
    for c in &cards {
        ok += usize::from(verifier.verify(c, TODAY).is_ok());
    }
    let verified = started.elapsed();
    assert_eq!(ok as u64, n);

    // Printable PNGs (fewer: each is a 1011 × 638 picture).
    let fonts: Vec<Vec<u8>> = [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    ]
    .iter()
    .map(|f| std::fs::read(f).expect("fonts installed by scripts/setup.sh"))
    .collect();
    let fonts: Vec<&[u8]> = fonts.iter().map(Vec::as_slice).collect();
    let face = card::render::Face {
        federation: "孙寨县总工会".into(),
        name: "欧阳娜娜".into(),
        union_name: "孙寨县明远机械制造有限公司工会委员会".into(),
        number: "0102030405060708".into(),
        valid_until: "2029-11-24".into(),
    };
    let pictures = 200;
    let started = Instant::now();
    let mut bytes = 0;
    for c in cards.iter().take(pictures) {
        bytes += card::render::card_png(c, &face, &fonts).unwrap().len();
    }
    let rendered = started.elapsed();
    let started = Instant::now();
    for c in cards.iter().take(pictures) {
        bytes += card::render::svg(c).unwrap().len();
    }
    let svgs = started.elapsed();

    println!("cards: {n}, {} characters each", cards[0].len());
    println!("issue (sign + encode)   {:>9.0} cards/s", n as f64 / issued.as_secs_f64());
    println!("verify (decode + check) {:>9.0} cards/s   (target ≥ 10,000/s)", n as f64 / verified.as_secs_f64());
    println!("render printable PNG    {:>9.1} cards/s", pictures as f64 / rendered.as_secs_f64());
    println!(
        "render SVG              {:>9.0} cards/s   ({} bytes written)",
        pictures as f64 / svgs.as_secs_f64(),
        bytes
    );
}

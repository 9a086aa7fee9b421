//! Card format, signature, lists and the verifier's refusals.

use card::lists::{RevocationList, TrustEntry, TrustList, Verifier};
use card::{CardError, Claims, SigningKey, base45, issue};
use rand::{Rng, SeedableRng};

const TODAY: card::Day = 20782; // 2026-11-25

fn root() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

fn device_key() -> SigningKey {
    SigningKey::from_bytes(&[11; 32])
}

fn claims(name: Option<&str>) -> Claims {
    Claims {
        member: [0x5a; 16],
        issued: TODAY,
        expires: TODAY + 3 * 365,
        serial: [1, 2, 3, 4, 5, 6, 7, 8],
        name: name.map(str::to_owned),
        union: Some([0x6b; 16]),
    }
}

fn entry(key: &SigningKey) -> TrustEntry {
    TrustEntry {
        key: key.verifying_key().to_bytes(),
        device: "d_device1".into(),
        from: TODAY - 30,
        until: TODAY + 365,
        removed: None,
        all: false,
        areas: vec![[0x21; 16], [0x22; 16]],
    }
}

/// A verifier holding a trust list with the device key and an empty
/// revocation list.
fn verifier() -> Verifier {
    let mut v = Verifier::new(root().verifying_key());
    let trust = TrustList { seq: 1, issued: TODAY, entries: vec![entry(&device_key())] };
    v.accept_trust(&trust.sign(&root())).unwrap();
    v.accept_revocations(&RevocationList { seq: 1, issued: TODAY, serials: Default::default() }.sign(&root())).unwrap();
    v
}

#[test]
fn base45_matches_the_rfc_examples_and_is_strict() {
    assert_eq!(base45::encode(b"AB"), "BB8");
    assert_eq!(base45::encode(b"Hello!!"), "%69 VD92EX0");
    assert_eq!(base45::encode(b"base-45"), "UJCLQE7W581");
    assert_eq!(base45::decode("QED8WEX0").unwrap(), b"ietf!");
    for bad in ["GGW", "ZZZ", "A", "abc", "BB8A", "BB\u{e9}"] {
        assert_eq!(base45::decode(bad), None, "{bad}");
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    for len in 0..64 {
        let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        assert_eq!(base45::decode(&base45::encode(&bytes)).unwrap(), bytes);
    }
}

#[test]
fn a_card_round_trips_and_verifies() {
    let text = issue(claims(Some("欧阳娜娜")), &device_key()).unwrap();
    assert!(text.starts_with("UC1:"));
    let v = verifier();
    let ok = v.verify(&text, TODAY).unwrap();
    assert_eq!(ok.claims, claims(Some("欧阳娜娜")));
    assert_eq!(ok.device, "d_device1");
    assert_eq!((ok.revocations_seq, ok.revocations_issued), (1, TODAY));
    // Names are stored NFC-normalised: a decomposed é becomes one character.
    let text = issue(claims(Some("Zoe\u{301}")), &device_key()).unwrap();
    assert_eq!(v.verify(&text, TODAY).unwrap().claims.name.as_deref(), Some("Zo\u{e9}"));
}

#[test]
fn the_golden_vector_is_stable() {
    let text = issue(claims(Some("张三")), &device_key()).unwrap();
    // The fixture is one line; Base45 may end in a space, so only the newline goes.
    let golden = include_str!("fixtures/golden-card.txt").trim_end_matches('\n');
    assert_eq!(text, golden, "the encoding changed: a card issued before would no longer match");
    assert_eq!(verifier().verify(golden, TODAY).unwrap().claims.name.as_deref(), Some("张三"));
}

#[test]
fn every_single_bit_flip_is_refused() {
    let text = issue(claims(Some("欧阳娜娜")), &device_key()).unwrap();
    let v = verifier();
    let bytes = text.as_bytes();
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut flipped = bytes.to_vec();
            flipped[i] ^= 1 << bit;
            let Ok(s) = String::from_utf8(flipped) else { continue };
            assert!(v.verify(&s, TODAY).is_err(), "flip of bit {bit} of character {i} accepted");
        }
    }
    // And every bit of the signed bytes under the text.
    let raw = base45::decode(&text[4..]).unwrap();
    for i in 0..raw.len() {
        for bit in 0..8 {
            let mut flipped = raw.clone();
            flipped[i] ^= 1 << bit;
            let s = format!("UC1:{}", base45::encode(&flipped));
            assert!(v.verify(&s, TODAY).is_err(), "flip of bit {bit} of byte {i} accepted");
        }
    }
}

#[test]
fn each_kind_of_bad_card_has_its_own_reason() {
    let v = verifier();
    let good = issue(claims(Some("李四")), &device_key()).unwrap();
    let reason = |text: &str| v.verify(text, TODAY).unwrap_err();

    // Prefix: wrong, lower case, missing.
    assert_eq!(reason(&good.replacen("UC1:", "UC2:", 1)), CardError::Prefix);
    assert_eq!(reason(&good.replacen("UC1:", "uc1:", 1)), CardError::Prefix);
    assert_eq!(reason(&good[4..]), CardError::Prefix);
    // Not Base45.
    assert_eq!(reason(&format!("{good}a")), CardError::Encoding);
    // Trailing data after the COSE structure.
    let mut raw = base45::decode(&good[4..]).unwrap();
    raw.push(0);
    assert!(matches!(reason(&format!("UC1:{}", base45::encode(&raw))), CardError::Malformed(_)));
    // Signed by a key the trust list does not hold.
    let stranger = SigningKey::from_bytes(&[99; 32]);
    assert_eq!(reason(&issue(claims(None), &stranger).unwrap()), CardError::UnknownIssuer);
    // Signed by a stranger but claiming the device's key id: forged.
    let forged = forge_with_kid(&stranger, &device_key());
    assert_eq!(reason(&forged), CardError::Forged);
    // Another algorithm (ES256 in the header).
    assert_eq!(reason(&with_alg(&device_key(), coset::iana::Algorithm::ES256)), CardError::Algorithm);
    // Expired, not yet valid.
    let mut old = claims(None);
    old.issued = TODAY - 400;
    old.expires = TODAY - 1;
    let mut list = TrustList { seq: 2, issued: TODAY, entries: vec![entry(&device_key())] };
    list.entries[0].from = TODAY - 500;
    let mut v2 = Verifier::new(root().verifying_key());
    v2.accept_trust(&list.sign(&root())).unwrap();
    assert_eq!(v2.verify(&issue(old, &device_key()).unwrap(), TODAY).unwrap_err(), CardError::Expired);
    assert_eq!(v2.verify(&good, TODAY - 1).unwrap_err(), CardError::NotYetValid);
    // Issued on a day outside the device key's validity.
    let mut early = claims(None);
    early.issued = TODAY - 31;
    assert_eq!(reason(&issue(early, &device_key()).unwrap()), CardError::IssuerNotValid);
}

#[test]
fn revocation_and_removed_devices_and_rolled_back_lists() {
    let mut v = verifier();
    let good = issue(claims(Some("王五")), &device_key()).unwrap();
    assert!(v.verify(&good, TODAY).is_ok());
    // Revoked by serial.
    let revoked = RevocationList { seq: 2, issued: TODAY, serials: [[1, 2, 3, 4, 5, 6, 7, 8]].into_iter().collect() };
    v.accept_revocations(&revoked.sign(&root())).unwrap();
    assert_eq!(v.verify(&good, TODAY).unwrap_err(), CardError::Revoked);
    // A rolled-back (older) revocation list is refused and changes nothing.
    let older = RevocationList { seq: 1, issued: TODAY, serials: Default::default() };
    assert_eq!(v.accept_revocations(&older.sign(&root())).unwrap_err(), CardError::ListRolledBack);
    assert_eq!(v.verify(&good, TODAY).unwrap_err(), CardError::Revoked);
    // A list not signed by the root, or a trust list passed off as a
    // revocation list, is refused.
    let stranger = SigningKey::from_bytes(&[99; 32]);
    let fake = RevocationList { seq: 9, issued: TODAY, serials: Default::default() };
    assert_eq!(v.accept_revocations(&fake.sign(&stranger)).unwrap_err(), CardError::ListInvalid);
    let trust = TrustList { seq: 9, issued: TODAY, entries: vec![] };
    assert_eq!(v.accept_revocations(&trust.sign(&root())).unwrap_err(), CardError::ListInvalid);

    // The device key removed from the trust list: its cards are refused.
    let mut other = claims(None);
    other.serial = [9; 8];
    let card = issue(other, &device_key()).unwrap();
    assert!(v.verify(&card, TODAY).is_ok());
    let mut removed = entry(&device_key());
    removed.removed = Some(TODAY);
    v.accept_trust(&TrustList { seq: 2, issued: TODAY, entries: vec![removed] }.sign(&root())).unwrap();
    assert_eq!(v.verify(&card, TODAY).unwrap_err(), CardError::IssuerRemoved);
    // The list carries each key's scope, as signed.
    assert_eq!(v.trust().entries[0].areas, vec![[0x21; 16], [0x22; 16]]);
    // And the older trust list cannot bring it back.
    let back = TrustList { seq: 1, issued: TODAY, entries: vec![entry(&device_key())] };
    assert_eq!(v.accept_trust(&back.sign(&root())).unwrap_err(), CardError::ListRolledBack);
}

#[test]
fn names_too_long_or_empty_cannot_be_issued() {
    let long: String = "测".repeat(card::MAX_NAME_CHARS + 1);
    assert!(matches!(issue(claims(Some(&long)), &device_key()), Err(CardError::Claims(_))));
    assert!(matches!(issue(claims(Some("  ")), &device_key()), Err(CardError::Claims(_))));
    let mut backwards = claims(None);
    backwards.expires = backwards.issued - 1;
    assert!(matches!(issue(backwards, &device_key()), Err(CardError::Claims(_))));
}

#[test]
fn cards_fit_the_qr_size_budget() {
    use qrcode::{EcLevel, QrCode, Version};
    let version = |text: &str, ec: EcLevel| match QrCode::with_error_correction_level(text, ec).unwrap().version() {
        Version::Normal(v) => v,
        Version::Micro(_) => 0,
    };
    let twenty: String = "欧".repeat(20);
    let text = issue(claims(Some(&twenty)), &device_key()).unwrap();
    assert!(version(&text, EcLevel::M) <= 10, "20-character name: version {} at M", version(&text, EcLevel::M));
    let longest: String = "欧".repeat(card::MAX_NAME_CHARS);
    let text = issue(claims(Some(&longest)), &device_key()).unwrap();
    assert!(version(&text, EcLevel::Q) <= 14, "longest name: version {} at Q", version(&text, EcLevel::Q));
}

/// A card whose header names `claimed`'s key id but is signed by `signer`.
fn forge_with_kid(signer: &SigningKey, claimed: &SigningKey) -> String {
    use coset::{CborSerializable, CoseSign1Builder, HeaderBuilder, iana};
    use ed25519_dalek::Signer;
    let real = issue(claims(None), claimed).unwrap();
    let parsed = coset::CoseSign1::from_slice(&base45::decode(&real[4..]).unwrap()).unwrap();
    let kid = card::kid_of(&claimed.verifying_key());
    let protected = HeaderBuilder::new().algorithm(iana::Algorithm::EdDSA).key_id(kid.to_vec()).build();
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(parsed.payload.unwrap())
        .create_signature(card::AAD, |d| signer.sign(d).to_bytes().to_vec())
        .build();
    format!("UC1:{}", base45::encode(&sign1.to_vec().unwrap()))
}

/// A card signed properly but whose header says another algorithm.
fn with_alg(key: &SigningKey, alg: coset::iana::Algorithm) -> String {
    use coset::{CborSerializable, CoseSign1Builder, HeaderBuilder};
    use ed25519_dalek::Signer;
    let real = issue(claims(None), key).unwrap();
    let parsed = coset::CoseSign1::from_slice(&base45::decode(&real[4..]).unwrap()).unwrap();
    let kid = card::kid_of(&key.verifying_key());
    let protected = HeaderBuilder::new().algorithm(alg).key_id(kid.to_vec()).build();
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(parsed.payload.unwrap())
        .create_signature(card::AAD, |d| key.sign(d).to_bytes().to_vec())
        .build();
    format!("UC1:{}", base45::encode(&sign1.to_vec().unwrap()))
}

/// The fonts the project installs (scripts/setup.sh: fonts-dejavu-core,
/// fonts-droid-fallback): Latin first, then Chinese.
const FONTS: [&str; 2] =
    ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"];

#[test]
fn a_printed_card_scans_back_to_the_same_verified_claims() {
    let c = claims(Some("欧阳娜娜"));
    let text = issue(c.clone(), &device_key()).unwrap();
    let face = card::render::Face {
        federation: "孙寨县总工会".into(),
        name: "欧阳娜娜".into(),
        union_name: "孙寨县明远机械制造有限公司工会委员会".into(),
        number: "0102030405060708".into(),
        valid_until: "2029-11-24".into(),
    };
    let fonts: Vec<Vec<u8>> =
        FONTS.iter().map(|f| std::fs::read(f).expect("fonts installed by scripts/setup.sh")).collect();
    let fonts: Vec<&[u8]> = fonts.iter().map(Vec::as_slice).collect();
    let png_bytes = card::render::card_png(&text, &face, &fonts).unwrap();
    // To look at it: SANJIAN_CARD_PNG=/tmp/card.png cargo nextest run -p card
    if let Ok(path) = std::env::var("SANJIAN_CARD_PNG") {
        std::fs::write(path, &png_bytes).unwrap();
    }

    // Decode the PNG, find the QR code in it with rqrr, verify what it says.
    let decoder = png::Decoder::new(std::io::Cursor::new(&png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), card::render::CARD_PX);
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let (w, h) = (info.width as usize, info.height as usize);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        let i = (y * w + x) * 3;
        ((u16::from(buf[i]) + u16::from(buf[i + 1]) + u16::from(buf[i + 2])) / 3) as u8
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(content, text);
    assert_eq!(verifier().verify(&content, TODAY).unwrap().claims, c);
    // The Chinese text is drawn: the name's area is not blank.
    let dark = buf.chunks(3).filter(|p| p[0] < 100 && p[1] < 100 && p[2] < 100).count();
    assert!(dark > 20_000, "{dark} dark pixels");

    // Every character needs a glyph: with the Chinese font alone, digits
    // would be empty boxes, and that is an error, not a card.
    assert!(matches!(card::render::card_png(&text, &face, &fonts[1..]), Err(card::render::RenderError::Glyph(_))));

    let svg = card::render::svg(&text).unwrap();
    assert!(svg.starts_with("<?xml") && svg.contains("<svg"));
}

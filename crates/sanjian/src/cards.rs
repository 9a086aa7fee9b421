//! Membership cards from the command line: issue on a device (offline,
//! with the device's own card key), verify with the lists a device holds,
//! revoke at the county.

use crate::{KeyArgs, read_key, store_error};
use anyhow::{Context, Result, bail};
use field::cards::{date_of, day};
use registry::Date;
use registry::model::{Record, RecordId};
use std::path::PathBuf;
use std::process::ExitCode;
use store::Store;
use sync::enrol::hex;

#[derive(clap::Args, Debug)]
pub struct IssueArgs {
    /// The device store (enrolled with `sanjian device enrol`).
    #[arg(long)]
    db: PathBuf,
    #[command(flatten)]
    key: KeyArgs,
    /// The member's record id.
    #[arg(long)]
    member: String,
    /// Years the card is valid.
    #[arg(long, default_value_t = 3)]
    years: u32,
    /// Also write the QR code as SVG to this file.
    #[arg(long)]
    svg: Option<PathBuf>,
    #[arg(long)]
    pub today: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The card's text (UC1:…); or give --image.
    #[arg(required_unless_present = "image")]
    text: Option<String>,
    /// A PNG picture of the card's QR code (a scan, a photo, a printed card).
    #[arg(long)]
    image: Option<PathBuf>,
    /// A device store holding the county's card root key and lists.
    #[arg(long)]
    db: PathBuf,
    #[command(flatten)]
    key: KeyArgs,
    #[arg(long)]
    json: bool,
    #[arg(long)]
    pub today: Option<String>,
}

/// Issues a card for a member this device holds (see `field::cards::issue`).
pub fn issue(args: IssueArgs, today: Date) -> Result<ExitCode> {
    let mut store = Store::open(&args.db, &read_key(&args.db, &args.key, false)?).map_err(store_error)?;
    field::device::set_operator(&mut store)?;
    let issued = field::cards::issue(&mut store, &RecordId(args.member.clone()), args.years, today)?;
    if let Some(path) = &args.svg {
        std::fs::write(path, &issued.svg).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(old) = issued.replaces {
        eprintln!("旧卡号 {old} 应由县总工会注销 (the old card {old} is to be revoked by the county)");
    }
    eprintln!("卡号 card number {}", issued.number);
    println!("{}", issued.text);
    Ok(ExitCode::SUCCESS)
}

/// Verifies a card with the root key and lists a device holds: exit 0
/// valid, 1 refused with the reason.
pub fn verify(args: VerifyArgs, today: Date) -> Result<ExitCode> {
    let store = Store::open(&args.db, &read_key(&args.db, &args.key, false)?).map_err(store_error)?;
    let Some(verifier) = sync::http::card_verifier(&store).map_err(|e| anyhow::anyhow!("{e}"))? else {
        bail!("该设备没有县总工会的会员卡根密钥 (this store holds no card root key: enrol and sync it)");
    };
    let text = match (&args.text, &args.image) {
        (Some(t), _) => t.clone(),
        (None, Some(path)) => qr_in_png(path)?,
        (None, None) => bail!("请给出会员卡文字或 --image (give the card's text or --image)"),
    };
    // Base45 may end in a space: only line breaks are removed.
    let text: String = text.chars().filter(|c| *c != '\n' && *c != '\r').collect();
    let fetched = store.sync_value(sync::http::card_keys::FETCHED).map_err(store_error)?;
    let fetched_ms: Option<i64> = fetched.and_then(|b| String::from_utf8(b).ok()?.parse().ok());
    match verifier.verify(&text, day(today)) {
        Ok(v) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({
                        "valid": true, "name": v.claims.name, "member": hex(&v.claims.member),
                        "serial": hex(&v.claims.serial), "issued": date_of(v.claims.issued).to_string(),
                        "expires": date_of(v.claims.expires).to_string(), "device": v.device,
                        "revocations_seq": v.revocations_seq, "lists_fetched_ms": fetched_ms,
                    })
                );
            } else {
                println!("有效 valid: {}", v.claims.name.as_deref().unwrap_or("-"));
                println!(
                    "卡号 card {}  有效期至 valid until {}",
                    sync::server::card_number(&v.claims.serial),
                    date_of(v.claims.expires)
                );
                println!("注销名单 revocation list #{}", v.revocations_seq);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let (zh, en) = e.message();
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({ "valid": false, "code": e.code(), "message": { "zh": zh, "en": en } })
                );
            } else {
                println!("无效 invalid [{}]: {zh}\n{en}", e.code());
            }
            Ok(ExitCode::from(1))
        }
    }
}

/// The text of the QR code in a PNG picture.
fn qr_in_png(path: &std::path::Path) -> Result<String> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().context("not a PNG picture")?;
    let mut buf = vec![0; reader.output_buffer_size().context("the picture is too large")?];
    let info = reader.next_frame(&mut buf).context("the PNG picture is damaged")?;
    let channels = info.color_type.samples();
    let (w, h) = (info.width as usize, info.height as usize);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        let i = (y * w + x) * channels;
        let px = &buf[i..i + channels.min(3)];
        (px.iter().map(|&v| u32::from(v)).sum::<u32>() / px.len() as u32) as u8
    });
    let grids = img.detect_grids();
    let Some(grid) = grids.first() else { bail!("图片中没有找到二维码 (no QR code found in the picture)") };
    let (_, text) = grid.decode().map_err(|e| anyhow::anyhow!("二维码无法读取 (the QR code cannot be read): {e}"))?;
    Ok(text)
}

#[derive(clap::Args, Debug)]
pub struct RenderArgs {
    /// The card's text (UC1:…).
    text: String,
    /// The device store: its lists check the card first, its records give
    /// the union's and the federation's names.
    #[arg(long)]
    db: PathBuf,
    #[command(flatten)]
    key: KeyArgs,
    /// The printable card, 85.6 × 54 mm at 300 dpi.
    #[arg(long)]
    png: Option<PathBuf>,
    /// The QR code alone, for screens.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// The federation's name on the card (default: the county's name + 总工会).
    #[arg(long)]
    federation: Option<String>,
    #[arg(long)]
    pub today: Option<String>,
}

/// Fonts printed cards are drawn with, Latin first (scripts/setup.sh installs them).
pub const FONTS: [&str; 2] =
    ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"];

/// Renders a valid card for print (PNG) or screen (SVG).
pub fn render(args: RenderArgs, today: Date) -> Result<ExitCode> {
    let store = Store::open(&args.db, &read_key(&args.db, &args.key, false)?).map_err(store_error)?;
    let Some(verifier) = sync::http::card_verifier(&store).map_err(|e| anyhow::anyhow!("{e}"))? else {
        bail!("该设备没有县总工会的会员卡根密钥 (this store holds no card root key: enrol and sync it)");
    };
    let v = verifier.verify(&args.text, day(today)).map_err(|e| {
        let (zh, en) = e.message();
        anyhow::anyhow!("无效的会员卡不能打印：{zh} ({en}) [{}]", e.code())
    })?;
    let union_name = v
        .claims
        .union
        .and_then(|u| store.get(&RecordId(hex(&u))).ok().flatten())
        .and_then(|r| match r.record {
            Record::Union(u) => Some(u.name),
            _ => None,
        })
        .unwrap_or_default();
    let federation = match args.federation {
        Some(f) => f,
        None => county_name(&store)?.map(|c| format!("{c}总工会")).unwrap_or_else(|| "县总工会".into()),
    };
    if let Some(path) = &args.svg {
        std::fs::write(path, card::render::svg(&args.text)?).with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.png {
        let fonts: Vec<Vec<u8>> = FONTS
            .iter()
            .map(|f| std::fs::read(f).with_context(|| format!("font {f} (scripts/setup.sh installs it)")))
            .collect::<Result<_>>()?;
        let fonts: Vec<&[u8]> = fonts.iter().map(Vec::as_slice).collect();
        let face = card::render::Face {
            federation,
            name: v.claims.name.clone().unwrap_or_default(),
            union_name,
            number: sync::server::card_number(&v.claims.serial),
            valid_until: date_of(v.claims.expires).to_string(),
        };
        let png = card::render::card_png(&args.text, &face, &fonts)?;
        std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The county's name from the area tree a device holds.
fn county_name(store: &Store) -> Result<Option<String>> {
    for row in store.list(registry::model::RecordKind::Area, None, 10_000).map_err(store_error)? {
        if let Some(r) = store.get(&row.id).map_err(store_error)?
            && let Record::Area(a) = r.record
            && a.level == registry::model::AreaLevel::County
        {
            return Ok(Some(a.name));
        }
    }
    Ok(None)
}

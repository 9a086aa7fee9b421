//! Cards as pictures (feature `render`): an SVG QR code for screens, and a
//! printable card the size of an ID card (85.6 × 54 mm, ISO/IEC 7810 ID-1)
//! as a 300-dpi PNG with its Chinese text drawn from a CJK font.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use qrcode::{Color, EcLevel, QrCode};

/// What the printed card shows beside its QR code.
#[derive(Debug, Clone)]
pub struct Face {
    /// The issuing federation, e.g. 孙寨县总工会.
    pub federation: String,
    pub name: String,
    pub union_name: String,
    /// The card number (the serial, in hex).
    pub number: String,
    /// The last valid day, `YYYY-MM-DD`.
    pub valid_until: String,
}

/// Width and height of a printed card at 300 dpi.
pub const CARD_PX: (u32, u32) = (1011, 638);

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the card text does not fit a QR code")]
    Qr,
    #[error("a font cannot be read")]
    Font,
    #[error("no font has a glyph for {0:?}")]
    Glyph(char),
    #[error("PNG: {0}")]
    Png(String),
}

fn qr(text: &str) -> Result<QrCode, RenderError> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|_| RenderError::Qr)
}

/// The card's QR code as SVG (level M, quiet zone included).
pub fn svg(text: &str) -> Result<String, RenderError> {
    Ok(qr(text)?.render::<qrcode::render::svg::Color<'_>>().min_dimensions(256, 256).build())
}

/// Fonts in order of preference: each character is drawn with the first
/// that has a glyph for it (a Latin font first, then a CJK one).
struct Fonts<'a>(Vec<FontRef<'a>>);

impl<'a> Fonts<'a> {
    fn pick(&self, c: char) -> Result<&FontRef<'a>, RenderError> {
        self.0.iter().find(|f| f.glyph_id(c).0 != 0).ok_or(RenderError::Glyph(c))
    }

    fn measure(&self, size: f32, text: &str) -> Result<f32, RenderError> {
        let mut w = 0.0;
        for c in text.chars() {
            let scaled = self.pick(c)?.as_scaled(PxScale::from(size));
            w += scaled.h_advance(scaled.glyph_id(c));
        }
        Ok(w)
    }
}

/// An RGB canvas.
struct Canvas {
    w: u32,
    h: u32,
    px: Vec<u8>,
}

impl Canvas {
    fn new(w: u32, h: u32) -> Canvas {
        Canvas { w, h, px: vec![255; (w * h * 3) as usize] }
    }

    fn fill(&mut self, x0: u32, y0: u32, w: u32, h: u32, rgb: [u8; 3]) {
        for y in y0..(y0 + h).min(self.h) {
            for x in x0..(x0 + w).min(self.w) {
                let i = ((y * self.w + x) * 3) as usize;
                self.px[i..i + 3].copy_from_slice(&rgb);
            }
        }
    }

    fn blend(&mut self, x: i64, y: i64, coverage: f32, rgb: [u8; 3]) {
        if x < 0 || y < 0 || x >= i64::from(self.w) || y >= i64::from(self.h) {
            return;
        }
        let i = ((y as u32 * self.w + x as u32) * 3) as usize;
        let a = coverage.clamp(0.0, 1.0);
        for (px, target) in self.px[i..i + 3].iter_mut().zip(rgb) {
            let old = f32::from(*px);
            *px = (old + (f32::from(target) - old) * a).round() as u8;
        }
    }

    /// Draws a line of text with its baseline at `y`; returns its width.
    fn text(
        &mut self,
        fonts: &Fonts<'_>,
        size: f32,
        x: f32,
        y: f32,
        text: &str,
        rgb: [u8; 3],
    ) -> Result<f32, RenderError> {
        let scale = PxScale::from(size);
        let mut caret = x;
        for c in text.chars() {
            let font = fonts.pick(c)?;
            let scaled = font.as_scaled(scale);
            let glyph = scaled.scaled_glyph(c);
            let id = glyph.id;
            let mut glyph = glyph;
            glyph.position = point(caret, y);
            if let Some(outline) = font.outline_glyph(glyph) {
                let b = outline.px_bounds();
                outline.draw(|gx, gy, cov| {
                    self.blend(b.min.x as i64 + i64::from(gx), b.min.y as i64 + i64::from(gy), cov, rgb);
                });
            }
            caret += scaled.h_advance(id);
        }
        Ok(caret - x)
    }

    fn png(&self) -> Result<Vec<u8>, RenderError> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, self.w, self.h);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            // 300 dpi = 11,811 pixels per metre.
            enc.set_pixel_dims(Some(png::PixelDimensions { xppu: 11_811, yppu: 11_811, unit: png::Unit::Meter }));
            let mut w = enc.write_header().map_err(|e| RenderError::Png(e.to_string()))?;
            w.write_image_data(&self.px).map_err(|e| RenderError::Png(e.to_string()))?;
        }
        Ok(out)
    }
}

const RED: [u8; 3] = [0xc8, 0x10, 0x2e];
const INK: [u8; 3] = [0x1d, 0x1d, 0x1f];
const GREY: [u8; 3] = [0x55, 0x55, 0x55];

/// The printable card: a 1011 × 638 PNG at 300 dpi. `fonts` are TrueType
/// or OpenType fonts in order of preference, which together must have a
/// glyph for every character shown (the project installs DejaVu Sans for
/// Latin and Droid Sans Fallback for Chinese; see `scripts/setup.sh`).
pub fn card_png(text: &str, face: &Face, fonts: &[&[u8]]) -> Result<Vec<u8>, RenderError> {
    let font = Fonts(
        fonts.iter().map(|f| FontRef::try_from_slice(f).map_err(|_| RenderError::Font)).collect::<Result<_, _>>()?,
    );
    let (w, h) = CARD_PX;
    let mut c = Canvas::new(w, h);
    // Header band.
    let band = 120;
    c.fill(0, 0, w, band, RED);
    c.text(&font, 56.0, 40.0, 82.0, &face.federation, [255, 255, 255])?;
    let tag = "会员卡";
    let tag_w = font.measure(44.0, tag)?;
    c.text(&font, 44.0, w as f32 - 40.0 - tag_w, 80.0, tag, [255, 255, 255])?;
    // The QR code, right, as large as the space allows, whole modules.
    let code = qr(text)?;
    let modules = code.width() as u32 + 8; // with a 4-module quiet zone
    let room = h - band - 30;
    let m = (room / modules).max(1);
    let side = m * modules;
    let (qx, qy) = (w - side - 30, band + (h - band - side) / 2);
    for (i, color) in code.to_colors().iter().enumerate() {
        if *color == Color::Dark {
            let (x, y) = ((i % code.width()) as u32 + 4, (i / code.width()) as u32 + 4);
            c.fill(qx + x * m, qy + y * m, m, m, [0, 0, 0]);
        }
    }
    // The member, left.
    let x = 40.0;
    c.text(&font, 72.0, x, band as f32 + 120.0, &face.name, INK)?;
    let lines =
        [("工会", face.union_name.as_str()), ("卡号", face.number.as_str()), ("有效期至", face.valid_until.as_str())];
    let mut y = band as f32 + 220.0;
    for (label, value) in lines {
        let lw = c.text(&font, 34.0, x, y, label, GREY)?;
        // Long union names are cut to the space left of the QR code.
        let room = (qx as f32 - 30.0 - x - lw - 16.0).max(0.0);
        let mut shown = String::new();
        for ch in value.chars() {
            shown.push(ch);
            if font.measure(34.0, &shown)? > room {
                shown.pop();
                shown.push('…');
                break;
            }
        }
        c.text(&font, 34.0, x + lw + 16.0, y, &shown, INK)?;
        y += 64.0;
    }
    c.png()
}

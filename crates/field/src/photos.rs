//! Photos as the device keeps them: JPEG only, the long side at most
//! `registry::validate::MAX_PHOTO_SIDE` (the UI resizes on the device
//! before attaching), every metadata segment (EXIF with its GPS position,
//! XMP, ICC, comments) stripped; the time it was taken is kept in the
//! record's `PhotoRef`, never in the file.

use crate::api::ApiError;
use crate::codes;

/// What is known of a cleaned JPEG.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaned {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

fn bad(code: &str, zh: &str, en: &str) -> ApiError {
    ApiError::new(code, zh, en)
}

/// Checks a JPEG and drops its metadata segments (APP1–APP15 and COM;
/// APP0, the JFIF header, stays). Refuses what is not a baseline or
/// progressive JPEG, or is larger than allowed.
pub fn clean_jpeg(input: &[u8]) -> Result<Cleaned, ApiError> {
    let not_jpeg = || ApiError::from(codes::PHOTO_NOT_JPEG);
    if input.len() < 4 || input[..2] != [0xFF, 0xD8] {
        return Err(not_jpeg());
    }
    if input.len() as i64 > registry::validate::MAX_PHOTO_BYTES {
        return Err(ApiError::from(codes::PHOTO_SIZE));
    }
    let mut out = Vec::with_capacity(input.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut i = 2;
    let mut size = None;
    loop {
        // Fill bytes (0xFF runs) may precede a marker.
        while i < input.len() && input[i] == 0xFF && input.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        if i + 4 > input.len() || input[i] != 0xFF {
            return Err(not_jpeg());
        }
        let marker = input[i + 1];
        let len = usize::from(u16::from_be_bytes([input[i + 2], input[i + 3]]));
        if len < 2 || i + 2 + len > input.len() {
            return Err(not_jpeg());
        }
        let segment = &input[i..i + 2 + len];
        match marker {
            // Start of frame (baseline, extended, progressive, lossless):
            // precision, height, width.
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF if len >= 7 => {
                let h = u32::from(u16::from_be_bytes([segment[5], segment[6]]));
                let w = u32::from(u16::from_be_bytes([segment[7], segment[8]]));
                size = Some((w, h));
                out.extend_from_slice(segment);
            }
            0xE1..=0xEF | 0xFE => {} // metadata: dropped
            0xDA => {
                // Start of scan: the rest is image data to the end.
                out.extend_from_slice(&input[i..]);
                break;
            }
            _ => out.extend_from_slice(segment),
        }
        i += 2 + len;
    }
    let (width, height) = size.ok_or_else(not_jpeg)?;
    let max = registry::validate::MAX_PHOTO_SIDE as u32;
    if width == 0 || height == 0 {
        return Err(not_jpeg());
    }
    if width.max(height) > max {
        return Err(bad(
            codes::PHOTO_TOO_LARGE.code,
            &format!("照片长边不能超过{max}像素，请先缩小"),
            &format!("A photo's long side is at most {max} px: resize it first"),
        ));
    }
    Ok(Cleaned { bytes: out, width, height })
}

/// Standard base64 with padding (the UI's photos travel as text).
pub fn base64_encode(bytes: &[u8]) -> String {
    sync::enrol::base64(bytes)
}

/// Decodes standard base64 (padding optional; a `data:` URL prefix is skipped).
pub fn base64_decode(text: &str) -> Result<Vec<u8>, ApiError> {
    let text = text.split_once(";base64,").map_or(text, |(_, b)| b);
    sync::enrol::unbase64(text).ok_or_else(|| ApiError::from(codes::BAD_BASE64))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal JPEG: SOI, an EXIF segment holding a GPS tag's bytes, a
    /// frame header of `w`×`h`, a scan, EOI.
    fn jpeg(w: u16, h: u16) -> Vec<u8> {
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, b'J', b'F'];
        let exif = b"Exif\0\0GPSLatitude 30.1";
        j.extend([0xFF, 0xE1]);
        j.extend(((exif.len() + 2) as u16).to_be_bytes());
        j.extend(exif);
        j.extend([0xFF, 0xC0, 0, 11, 8]);
        j.extend(h.to_be_bytes());
        j.extend(w.to_be_bytes());
        j.extend([1, 1, 0x11, 0]);
        j.extend([0xFF, 0xDA, 0, 2, 0x12, 0x34, 0xFF, 0xD9]);
        j
    }

    #[test]
    fn metadata_is_stripped_and_the_size_read() {
        let c = clean_jpeg(&jpeg(1600, 1200)).unwrap();
        assert_eq!((c.width, c.height), (1600, 1200));
        assert!(!c.bytes.windows(4).any(|w| w == b"Exif"), "EXIF gone");
        assert!(c.bytes.windows(2).any(|w| w == [0xFF, 0xE0]), "JFIF kept");
        assert_eq!(&c.bytes[c.bytes.len() - 2..], &[0xFF, 0xD9]);
    }

    #[test]
    fn too_large_or_not_a_jpeg_is_refused() {
        assert_eq!(clean_jpeg(&jpeg(2000, 1000)).unwrap_err().code, "PHOTO_TOO_LARGE");
        assert_eq!(clean_jpeg(b"\x89PNG\r\n").unwrap_err().code, "PHOTO_NOT_JPEG");
        assert_eq!(clean_jpeg(&jpeg(10, 10)[..12]).unwrap_err().code, "PHOTO_NOT_JPEG");
    }

    #[test]
    fn base64_round_trips() {
        for n in 0..10 {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 5) as u8).collect();
            assert_eq!(base64_decode(&base64_encode(&bytes)).unwrap(), bytes);
        }
        assert_eq!(base64_encode(b"Man"), "TWFu");
        assert_eq!(base64_decode("data:image/jpeg;base64,TWE=").unwrap(), b"Ma");
    }
}

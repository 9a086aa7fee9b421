//! Base45 (RFC 9285), strict: every character is in the alphabet, no
//! group decodes out of range, and no length is left over, so a text
//! decodes to exactly one byte string and that string encodes back to the
//! same text.

const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(2) * 3);
    for pair in bytes.chunks(2) {
        let (mut n, digits) = match pair {
            [a, b] => (usize::from(*a) * 256 + usize::from(*b), 3),
            [a] => (usize::from(*a), 2),
            _ => unreachable!("chunks of 1 or 2"),
        };
        for _ in 0..digits {
            out.push(char::from(ALPHABET[n % 45]));
            n /= 45;
        }
    }
    out
}

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// Decodes strictly; `None` on any invalid character, range or length.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if bytes.len() % 3 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 3 * 2 + 1);
    for group in bytes.chunks(3) {
        let mut n = 0u32;
        for (i, &c) in group.iter().enumerate() {
            n += value(c)? * 45u32.pow(i as u32);
        }
        match group.len() {
            3 if n <= 0xffff => out.extend_from_slice(&(n as u16).to_be_bytes()),
            2 if n <= 0xff => out.push(n as u8),
            _ => return None,
        }
    }
    Some(out)
}

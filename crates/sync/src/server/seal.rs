//! Sealing: every document and quarantined write is encrypted with the
//! server's data key (XChaCha20-Poly1305), its id as associated data.

use super::*;

/// Encrypts documents at rest with the server's 32-byte data key
/// (XChaCha20-Poly1305, random nonce, the record id as associated data, so
/// a sealed document cannot be passed off as another record's).
#[derive(Clone)]
pub struct Sealer(XChaCha20Poly1305, [u8; 32]);

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    pub fn new(key: &[u8; 32]) -> Sealer {
        // A second key, derived, for the keyed hashes of personal data
        // (`keyed_hash`), so the data key itself is only ever a cipher key.
        let mut mac = Sha256::new();
        mac.update(b"sanjian keyed hash v1\0");
        mac.update(key);
        Sealer(XChaCha20Poly1305::new(key.into()), mac.finalize().into())
    }

    /// A keyed hash (hex) of text that holds personal data (a name and birth
    /// date), so equal texts can be found without storing them.
    pub fn keyed_hash(&self, text: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.1);
        h.update(text.as_bytes());
        h.update(self.1);
        crate::enrol::hex(&h.finalize())
    }

    pub fn seal(&self, aad: &str, plain: &[u8]) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut out = nonce.to_vec();
        out.extend(
            self.0.encrypt(&nonce, Payload { msg: plain, aad: aad.as_bytes() }).expect("encryption cannot fail"),
        );
        out
    }

    pub fn open(&self, aad: &str, sealed: &[u8]) -> Result<Vec<u8>, SyncError> {
        if sealed.len() < 24 {
            return Err(SyncError::Sealed(format!("{aad}: too short")));
        }
        let (nonce, ct) = sealed.split_at(24);
        self.0
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: aad.as_bytes() })
            .map_err(|_| SyncError::Sealed(format!("{aad}: does not open with this key")))
    }
}

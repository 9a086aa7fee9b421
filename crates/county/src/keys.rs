//! The server's secrets: the county secret (record ids; handed to enrolled
//! devices) and the data key that seals documents at rest. Kept in a key
//! file readable by its owner only, never in the database.

use crate::auth::{hex, unhex};
use rand::RngCore;
use std::path::Path;

#[derive(Clone)]
pub struct ServerKeys {
    pub county_secret: [u8; 32],
    pub data_key: [u8; 32],
    /// The seed of the county's card root key (Ed25519), which signs the
    /// trust and revocation lists.
    pub card_root: [u8; 32],
}

impl std::fmt::Debug for ServerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKeys(..)")
    }
}

impl ServerKeys {
    pub fn generate() -> ServerKeys {
        let mut k = ServerKeys { county_secret: [0; 32], data_key: [0; 32], card_root: [0; 32] };
        rand::rng().fill_bytes(&mut k.county_secret);
        rand::rng().fill_bytes(&mut k.data_key);
        rand::rng().fill_bytes(&mut k.card_root);
        k
    }

    /// Reads the key file, or creates it (mode 0600) when `create` is set and
    /// there is none.
    pub fn load_or_create(path: &Path, create: bool) -> std::io::Result<ServerKeys> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let (keys, complete) = ServerKeys::parse(&text)
                    .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "the key file is damaged"))?;
                if !complete {
                    // A key file from before card keys: add the new key,
                    // keeping the others, by an atomic replace.
                    let tmp = path.with_extension("keys.new");
                    let _ = std::fs::remove_file(&tmp);
                    keys.save(&tmp)?;
                    std::fs::rename(&tmp, path)?;
                }
                Ok(keys)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let keys = ServerKeys::generate();
                keys.save(path)?;
                Ok(keys)
            }
            Err(e) => Err(e),
        }
    }

    /// Writes a new key file (mode 0600); an existing one is never overwritten.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let text = format!(
            "county_secret={}\ndata_key={}\ncard_root={}\n",
            hex(&self.county_secret),
            hex(&self.data_key),
            hex(&self.card_root)
        );
        write_private(path, text.as_bytes())
    }

    /// The keys, and whether every key was in the file (a missing card root
    /// key is made here).
    fn parse(text: &str) -> Option<(ServerKeys, bool)> {
        let mut k = ServerKeys::generate();
        let (mut a, mut b, mut c) = (false, false, false);
        for line in text.lines() {
            let (key, value) = line.split_once('=')?;
            let bytes: [u8; 32] = unhex(value.trim())?.try_into().ok()?;
            match key.trim() {
                "county_secret" => (k.county_secret, a) = (bytes, true),
                "data_key" => (k.data_key, b) = (bytes, true),
                "card_root" => (k.card_root, c) = (bytes, true),
                _ => {}
            }
        }
        (a && b).then_some((k, c))
    }
}

/// Creates a file readable by its owner only; fails if it exists.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    use std::io::Write;
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

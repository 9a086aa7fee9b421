//! What the server does against guessing and against the browser being
//! turned on its own pages: failed sign-ins and enrolment redemptions are
//! counted and, past a limit, refused for a while (`Limiter`); every answer
//! carries security headers, HTML pages a Content-Security-Policy that
//! allows only their own inline script (by its hash) and this origin.

use county::ops::County;
use sync::SyncError;

/// Failures counted over a sliding window, per key, in the county's
/// database (`county::auth::guesses`): every server on the database counts
/// the same failures.
#[derive(Debug)]
pub struct Limiter {
    /// Which count (the table holds every limiter's).
    name: &'static str,
    window_ms: i64,
    max: u64,
}

impl Limiter {
    pub fn new(name: &'static str, max: u64, window_ms: i64) -> Limiter {
        Limiter { name, window_ms, max }
    }

    /// The stored form of a key: a keyed hash (keys name addresses and
    /// accounts).
    fn stored(county: &County, key: &str) -> String {
        county.sealer.keyed_hash(&format!("guess:{key}"))
    }

    /// Seconds to wait before `key` may try again, if it is over its limit.
    pub fn blocked(&self, county: &County, key: &str, now_ms: i64) -> Result<Option<u64>, SyncError> {
        let key = Self::stored(county, key);
        let (count, oldest) =
            county.db.tx(|db| county::auth::failures_since(db, self.name, &key, now_ms - self.window_ms))?;
        if count < self.max {
            return Ok(None);
        }
        let oldest = oldest.unwrap_or(now_ms);
        Ok(Some(((oldest + self.window_ms - now_ms).max(1000) / 1000) as u64))
    }

    pub fn fail(&self, county: &County, key: &str, now_ms: i64) -> Result<(), SyncError> {
        let key = Self::stored(county, key);
        // Failures older than the longest window are dropped as we go.
        county.db.tx(|db| county::auth::add_failure(db, self.name, &key, now_ms, now_ms - LONGEST_WINDOW_MS))
    }

    pub fn clear(&self, county: &County, key: &str) -> Result<(), SyncError> {
        let key = Self::stored(county, key);
        county.db.tx(|db| county::auth::clear_failures(db, self.name, &key))
    }
}

/// Applications one source may send in a quarter of an hour: a family or a
/// workshop applying from one phone or one Wi-Fi gets through; a script
/// filling a union's queue waits.
pub const APPLICATIONS_PER_QUARTER_HOUR: u64 = 10;

/// No limiter counts over a longer window than this.
const LONGEST_WINDOW_MS: i64 = 15 * 60 * 1000;

/// The server's limits, keyed by where a request comes from, so that no
/// one can lock another person out: wrong passwords are counted per source
/// address and account (5) and per source address (100); failed enrolment
/// redemptions per source address (30). An attacker who fails from one
/// address waits; the admin signing in from another does not. (An
/// enrolment code has 100 bits: this stops a flood, not a guess.)
#[derive(Debug)]
pub struct Limits {
    pub login_account: Limiter,
    pub login_source: Limiter,
    pub redeem_source: Limiter,
    /// Applications to join sent from one source, accepted or not.
    pub apply_source: Limiter,
    /// Wrong application references from one source.
    pub reference_source: Limiter,
}

impl Default for Limits {
    fn default() -> Limits {
        const QUARTER_HOUR: i64 = LONGEST_WINDOW_MS;
        Limits {
            login_account: Limiter::new("login_account", 5, QUARTER_HOUR),
            login_source: Limiter::new("login_source", 100, QUARTER_HOUR),
            redeem_source: Limiter::new("redeem_source", 30, QUARTER_HOUR),
            apply_source: Limiter::new("apply_source", APPLICATIONS_PER_QUARTER_HOUR, QUARTER_HOUR),
            reference_source: Limiter::new("reference_source", 30, QUARTER_HOUR),
        }
    }
}

impl Limits {
    /// Must a guess of `kind` from `source` (at `account`) wait? Seconds.
    pub fn blocked(
        &self,
        county: &County,
        kind: county::ops::Guesses,
        source: &str,
        account: Option<&str>,
        now: i64,
    ) -> Result<Option<u64>, SyncError> {
        use county::ops::Guesses;
        Ok(match kind {
            Guesses::Nothing => None,
            Guesses::Password => {
                let account = format!("{source}|user:{}", account.unwrap_or_default());
                match self.login_account.blocked(county, &account, now)? {
                    Some(secs) => Some(secs),
                    None => self.login_source.blocked(county, source, now)?,
                }
            }
            Guesses::EnrolmentCode => self.redeem_source.blocked(county, source, now)?,
            Guesses::Submission => self.apply_source.blocked(county, source, now)?,
            Guesses::Reference => self.reference_source.blocked(county, source, now)?,
        })
    }

    /// Counts a guess's outcome: a failure counts against the source (and
    /// the account); a right password clears its account's count. A
    /// server's own failure (`status` 500 and up) is no guess.
    pub fn record(
        &self,
        county: &County,
        kind: county::ops::Guesses,
        source: &str,
        account: Option<&str>,
        status: u16,
        now: i64,
    ) -> Result<(), SyncError> {
        use county::ops::Guesses;
        let failed = (400..500).contains(&status);
        match kind {
            Guesses::Nothing => {}
            Guesses::Password => {
                let account = format!("{source}|user:{}", account.unwrap_or_default());
                if status < 400 {
                    self.login_account.clear(county, &account)?;
                } else {
                    self.login_account.fail(county, &account, now)?;
                    self.login_source.fail(county, source, now)?;
                }
            }
            Guesses::EnrolmentCode if failed => self.redeem_source.fail(county, source, now)?,
            Guesses::EnrolmentCode => {}
            // Counted whatever the answer (but a server's own failure).
            Guesses::Submission if status < 500 => self.apply_source.fail(county, source, now)?,
            Guesses::Submission => {}
            Guesses::Reference if failed => self.reference_source.fail(county, source, now)?,
            Guesses::Reference => {}
        }
        Ok(())
    }
}

/// The peer address of a connection, as `axum::serve` hands it to the
/// router (plain TCP or TLS).
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub std::net::SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, tokio::net::TcpListener>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, tokio::net::TcpListener>) -> Peer {
        Peer(*stream.remote_addr())
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, crate::tls::TlsListener>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, crate::tls::TlsListener>) -> Peer {
        Peer(*stream.remote_addr())
    }
}

/// Where a request comes from, as the limits key it: the peer's address,
/// or, when the peer is a proxy the county trusts (`--trusted-proxy`), the
/// last address that proxy appended to `X-Forwarded-For`. Set on every
/// request by [`crate::http`]'s middleware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source(pub String);

impl Source {
    pub fn of(peer: Option<std::net::IpAddr>, forwarded_for: Option<&str>, trusted: &[std::net::IpAddr]) -> Source {
        let Some(peer) = peer else { return Source("unknown".into()) };
        if trusted.contains(&peer)
            && let Some(last) = forwarded_for.and_then(|f| f.rsplit(',').next()).map(str::trim)
            && let Ok(ip) = last.parse::<std::net::IpAddr>()
        {
            return Source(ip.to_string());
        }
        Source(peer.to_string())
    }
}

/// The SHA-256 of each inline `<script>` of a page (classic or module), as
/// CSP sources.
fn script_hashes(page: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut out = Vec::new();
    for part in page.split("<script").skip(1) {
        let Some((attributes, rest)) = part.split_once('>') else { continue };
        if attributes.contains("src=") {
            continue;
        }
        if let Some((script, _)) = rest.split_once("</script>") {
            out.push(format!("'sha256-{}'", sync::enrol::base64(&Sha256::digest(script.as_bytes()))));
        }
    }
    out.join(" ")
}

/// The Content-Security-Policy of one of the server's pages: its own
/// inline script and this origin's scripts, nothing framed, nothing sent
/// elsewhere. (Inline styles stay allowed: the pages set widths and colours
/// through style attributes.)
pub fn page_policy(page: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' {}; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; \
         media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'",
        script_hashes(page)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_past_the_limit_block_until_the_window_passes() {
        let dir = tempfile::tempdir().unwrap();
        let keys = crate::ServerKeys { county_secret: [1; 32], data_key: [2; 32], card_root: [3; 32] };
        let county = County::new(county::db::Db::sqlite(&dir.path().join("g.db")).unwrap(), keys, String::new());
        let l = Limiter::new("test", 3, 60_000);
        let other = Limiter::new("other", 3, 60_000);
        for t in [0, 1000, 2000] {
            assert_eq!(l.blocked(&county, "a", t).unwrap(), None);
            l.fail(&county, "a", t).unwrap();
        }
        assert_eq!(l.blocked(&county, "a", 3000).unwrap(), Some(57));
        assert_eq!(l.blocked(&county, "b", 3000).unwrap(), None, "another key is free");
        assert_eq!(other.blocked(&county, "a", 3000).unwrap(), None, "another limiter's count is its own");
        assert_eq!(l.blocked(&county, "a", 60_001).unwrap(), None, "the oldest failure expired");
        // Stored hashed: no address or account in the table.
        let stored = county.db.tx(|db| db.query("SELECT key FROM guesses", &[])).unwrap();
        assert!(stored.iter().all(|r| r[0].text().is_some_and(|k| k.len() == 64 && k != "a")));
        l.clear(&county, "a").unwrap();
        assert_eq!(l.blocked(&county, "a", 3000).unwrap(), None);
    }

    #[test]
    fn the_source_is_the_peer_unless_the_peer_is_a_trusted_proxy() {
        let proxy: std::net::IpAddr = "10.0.0.1".parse().unwrap();
        let peer: std::net::IpAddr = "192.0.2.7".parse().unwrap();
        // A client cannot choose its own key by sending the header.
        assert_eq!(Source::of(Some(peer), Some("203.0.113.9"), &[proxy]).0, "192.0.2.7");
        // Behind the county's proxy: the address the proxy appended (the
        // last one; earlier ones are the client's own words).
        assert_eq!(Source::of(Some(proxy), Some("1.2.3.4, 203.0.113.9"), &[proxy]).0, "203.0.113.9");
        assert_eq!(Source::of(Some(proxy), Some("nonsense"), &[proxy]).0, "10.0.0.1");
        assert_eq!(Source::of(None, None, &[]).0, "unknown");
    }

    #[test]
    fn a_page_policy_names_its_inline_script_by_hash() {
        let p = page_policy("<p>x</p><script>alert(1)</script>");
        // echo -n 'alert(1)' | openssl dgst -sha256 -binary | base64
        assert!(p.contains("'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"), "{p}");
        assert!(p.contains("frame-ancestors 'none'") && !p.contains("script-src 'self' 'unsafe-inline'"));
    }
}

//! HTTPS: rustls (ring) in front of the same router. Handshakes run on
//! their own tasks with a deadline, so a slow or hostile client never holds
//! up the accept loop.
//!
//! For trials without a certificate authority, [`self_signed`] makes a
//! certificate once and keeps it; devices trust it by its SHA-256 pin,
//! which the enrolment code carries.

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A loaded certificate and key.
#[derive(Debug, Clone)]
pub struct Tls {
    pub config: Arc<ServerConfig>,
    /// SHA-256 of the leaf certificate (DER): what a device pins.
    pub fingerprint: [u8; 32],
}

fn invalid(what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{what}: {e}"))
}

/// Loads a PEM certificate chain and private key.
pub fn load(cert: &Path, key: &Path) -> io::Result<Tls> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| invalid(&cert.display().to_string(), e))?
        .collect::<Result<_, _>>()
        .map_err(|e| invalid(&cert.display().to_string(), e))?;
    let leaf = certs.first().ok_or_else(|| invalid(&cert.display().to_string(), "no certificate in the file"))?;
    let fingerprint: [u8; 32] = Sha256::digest(leaf.as_ref()).into();
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| invalid(&key.display().to_string(), e))?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid("tls", e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| invalid("certificate and key", e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls { config: Arc::new(config), fingerprint })
}

/// The SHA-256 pin of a PEM certificate file's leaf certificate.
pub fn load_fingerprint(cert: &Path) -> io::Result<[u8; 32]> {
    let leaf = CertificateDer::pem_file_iter(cert)
        .map_err(|e| invalid(&cert.display().to_string(), e))?
        .next()
        .ok_or_else(|| invalid(&cert.display().to_string(), "no certificate in the file"))?
        .map_err(|e| invalid(&cert.display().to_string(), e))?;
    Ok(Sha256::digest(leaf.as_ref()).into())
}

/// The self-signed certificate in `dir` (`tls-cert.pem`, `tls-key.pem`),
/// made for `names` on first use and kept afterwards. The key file is
/// readable by its owner only.
pub fn self_signed(dir: &Path, names: &[String]) -> io::Result<(PathBuf, PathBuf)> {
    let cert = dir.join("tls-cert.pem");
    let key = dir.join("tls-key.pem");
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    let made = rcgen::generate_simple_self_signed(names.to_vec()).map_err(|e| invalid("self-signed certificate", e))?;
    std::fs::create_dir_all(dir)?;
    crate::keys::write_private(&key, made.signing_key.serialize_pem().as_bytes())?;
    std::fs::write(&cert, made.cert.pem())?;
    Ok((cert, key))
}

/// A TLS listener for `axum::serve`.
#[derive(Debug)]
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    addr: SocketAddr,
    accepting: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, tls: &Tls) -> io::Result<TlsListener> {
        let addr = tcp.local_addr()?;
        let acceptor = TlsAcceptor::from(tls.config.clone());
        let (tx, ready) = mpsc::channel(64);
        let accepting = tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(s) => s,
                    Err(e) => {
                        // Out of file descriptors and the like: wait, go on.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { ready, addr, accepting })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept task is gone (only when dropped): accept nothing more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }
}

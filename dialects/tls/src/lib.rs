//! strata-tls: what the PostgreSQL and MySQL drivers share about TLS failures —
//! finding rustls's error behind a failed connect, and saying why a server's
//! certificate was refused. Not a backend: the two drivers' own crates hold
//! everything that differs (the URL parameters, hints and defaults).
//!
//! A crate rather than a module of the engine because this reads rustls's error
//! types, and the dialect-neutral engine depends on no TLS library. Reading the
//! errors' text instead would be fragile: mysql_async's host name check broke
//! exactly so, when rustls reworded the error it matched.

use std::error::Error;

use rustls::CertificateError;

/// The rustls error behind a failed connect, if TLS was the reason.
pub fn rustls_error<'a>(error: &'a (dyn Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        // `io::Error::source` skips the error it wraps, which is where tokio-rustls puts
        // the rustls error: look inside explicitly.
        if let Some(found) = error
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(found);
        }
        current = error.source();
    }
    None
}

/// Why a server's certificate was refused, as far as a hint can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// No trusted certificate authority signed it: name the one that did.
    UnknownIssuer,
    /// It does not name the host connected to.
    WrongName,
    Other,
}

/// A server certificate this client refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub reason: Reason,
    /// What was wrong with it, in a user's words.
    pub what: String,
}

impl Rejection {
    /// The refused certificate behind a failed connect, if that is why it failed.
    pub fn find(error: &(dyn Error + 'static)) -> Option<Self> {
        rustls_error(error).and_then(Self::of)
    }

    /// `error` as a refused certificate, if it is one.
    pub fn of(error: &rustls::Error) -> Option<Self> {
        let rustls::Error::InvalidCertificate(reason) = error else {
            return None;
        };
        Some(match reason {
            CertificateError::UnknownIssuer => Self {
                reason: Reason::UnknownIssuer,
                what: "it is not signed by a trusted certificate authority (UnknownIssuer)"
                    .to_string(),
            },
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                Self {
                    reason: Reason::WrongName,
                    what: reason.to_string(),
                }
            }
            _ => Self {
                reason: Reason::Other,
                what: reason.to_string(),
            },
        })
    }

    /// The message users read: which `server` (as the caller names it), the TLS
    /// setting the URL `asked` for, what was wrong, and the caller's `hint`.
    pub fn message(&self, server: &str, asked: &str, hint: &str) -> String {
        format!(
            "the TLS certificate of {server} was rejected ({asked}): {}\n  hint: {hint}",
            self.what
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rustls_error_is_found_inside_an_io_error() {
        let tls = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls.clone());
        assert_eq!(rustls_error(&io), Some(&tls));
        assert_eq!(rustls_error(&tls), Some(&tls));
        let plain = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(rustls_error(&plain), None);
    }

    #[test]
    fn refused_certificates_say_why() {
        let refused = |reason| Rejection::of(&rustls::Error::InvalidCertificate(reason));
        let unknown = refused(CertificateError::UnknownIssuer).unwrap();
        assert_eq!(unknown.reason, Reason::UnknownIssuer);
        assert!(unknown.what.contains("UnknownIssuer"), "{}", unknown.what);
        let name = refused(CertificateError::NotValidForName).unwrap();
        assert_eq!(name.reason, Reason::WrongName);
        assert_eq!(
            refused(CertificateError::Expired).unwrap().reason,
            Reason::Other
        );
        assert_eq!(Rejection::of(&rustls::Error::DecryptError), None);
        assert_eq!(
            unknown.message("`db`", "sslmode=verify-full", "trust it"),
            "the TLS certificate of `db` was rejected (sslmode=verify-full): it is not \
             signed by a trusted certificate authority (UnknownIssuer)\n  hint: trust it"
        );
    }
}

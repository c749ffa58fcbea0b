//! TLS with libpq's `sslmode` semantics, over rustls with the `ring` provider.
//!
//! | sslmode       | TLS                               | certificate check               |
//! |---------------|-----------------------------------|---------------------------------|
//! | `disable`     | never                             | —                               |
//! | `allow`       | only if a plain session is refused| none                            |
//! | `prefer` (default) | if the server offers it      | none                            |
//! | `require`     | always                            | none (chain if `sslrootcert` is given) |
//! | `verify-ca`   | always                            | chain up to a trusted root      |
//! | `verify-full` | always                            | chain, and the host name        |
//!
//! Trusted roots: the PEM file `sslrootcert` names; `sslrootcert=system` (which, as in
//! libpq 16, implies and demands `verify-full`), or neither it nor libpq's default file
//! `~/.postgresql/root.crt`, means the system's store.

mod roots;
mod verifiers;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::ClientConfig;
use tokio_postgres::config::SslMode as WireSslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum SslMode {
    Disable,
    Allow,
    #[default]
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    const NAMES: [(&'static str, SslMode); 6] = [
        ("disable", SslMode::Disable),
        ("allow", SslMode::Allow),
        ("prefer", SslMode::Prefer),
        ("require", SslMode::Require),
        ("verify-ca", SslMode::VerifyCa),
        ("verify-full", SslMode::VerifyFull),
    ];

    pub(super) fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, mode)| *mode == self)
            .map_or("?", |(name, _)| name)
    }

    /// Whether a failed certificate check can be the reason a connect failed.
    pub(super) fn verifies(self) -> bool {
        matches!(self, SslMode::VerifyCa | SslMode::VerifyFull)
    }
}

impl FromStr for SslMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Self::NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(text))
            .map(|(_, mode)| *mode)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::NAMES.iter().map(|(name, _)| *name).collect();
                format!(
                    "unknown sslmode `{text}`; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// The TLS parameters of a URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct TlsSettings {
    pub mode: SslMode,
    /// `sslrootcert`: a PEM file of trusted roots, or `system`.
    pub root_cert: Option<PathBuf>,
}

impl TlsSettings {
    /// `sslrootcert=system`.
    pub(super) fn trusts_the_system_store(&self) -> bool {
        self.root_cert
            .as_deref()
            .is_some_and(|path| path.as_os_str() == roots::SYSTEM)
    }

    /// The mode tokio-postgres runs the first attempt with (`allow` starts plain; the
    /// verification modes are `require` plus the verifier of [`Self::connector`]).
    pub(super) fn wire_mode(&self) -> WireSslMode {
        match self.mode {
            SslMode::Disable | SslMode::Allow => WireSslMode::Disable,
            SslMode::Prefer => WireSslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => WireSslMode::Require,
        }
    }

    /// The TLS connector for this mode. Fails when the trusted roots cannot be read.
    pub(super) fn connector(&self) -> Result<MakeRustlsConnect, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = self.verifier(&provider)?;
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot set up TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(MakeRustlsConnect::new(config))
    }

    fn verifier(
        &self,
        provider: &Arc<CryptoProvider>,
    ) -> Result<Arc<dyn ServerCertVerifier>, String> {
        let algorithms = provider.signature_verification_algorithms;
        let checks_chain = self.mode.verifies()
            // libpq: "if a root CA file exists, sslmode=require behaves like verify-ca".
            || (self.mode == SslMode::Require && self.root_cert.is_some());
        if !checks_chain {
            return Ok(Arc::new(verifiers::AnyCertificate::new(algorithms)));
        }
        let roots = Arc::new(roots::load(self.root_cert.as_deref())?);
        if self.mode == SslMode::VerifyFull {
            let verifier = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .map_err(|e| format!("cannot set up certificate verification: {e}"))?;
            Ok(verifier)
        } else {
            Ok(Arc::new(verifiers::ChainOnly::new(roots, algorithms)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (name, mode) in SslMode::NAMES {
            assert_eq!(SslMode::from_str(name), Ok(mode));
            assert_eq!(mode.name(), name);
        }
    }

    #[test]
    fn wire_modes() {
        let wire = |mode| {
            TlsSettings {
                mode,
                root_cert: None,
            }
            .wire_mode()
        };
        assert_eq!(wire(SslMode::Disable), WireSslMode::Disable);
        assert_eq!(wire(SslMode::Allow), WireSslMode::Disable);
        assert_eq!(wire(SslMode::Prefer), WireSslMode::Prefer);
        assert_eq!(wire(SslMode::VerifyCa), WireSslMode::Require);
        assert_eq!(wire(SslMode::VerifyFull), WireSslMode::Require);
    }

    #[test]
    fn an_unreadable_root_file_is_reported_by_name() {
        let settings = TlsSettings {
            mode: SslMode::VerifyCa,
            root_cert: Some("/nonexistent/strata-root.crt".into()),
        };
        let error = settings.connector().err().expect("an error");
        assert!(error.contains("/nonexistent/strata-root.crt"), "{error}");
    }

    #[test]
    fn the_unverified_modes_need_no_roots() {
        for mode in [
            SslMode::Disable,
            SslMode::Allow,
            SslMode::Prefer,
            SslMode::Require,
        ] {
            let settings = TlsSettings {
                mode,
                root_cert: None,
            };
            assert!(settings.connector().is_ok(), "{mode:?}");
        }
    }
}

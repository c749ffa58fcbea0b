//! TLS with the MySQL client's `--ssl-mode` semantics, over `mysql_async`'s rustls.
//!
//! | ssl-mode               | TLS                              | certificate check       |
//! |------------------------|----------------------------------|-------------------------|
//! | `DISABLED`             | never                            | —                       |
//! | `PREFERRED` (default)  | if the server offers it          | none                    |
//! | `REQUIRED`             | always                           | none                    |
//! | `VERIFY_CA`            | always                           | chain up to a trusted CA |
//! | `VERIFY_IDENTITY`      | always                           | chain, and the host name |
//!
//! Trusted CAs: the file `ssl-ca` names, else `mysql_async`'s built-in Mozilla roots. As
//! in the `mysql` client, `ssl-ca` without `ssl-mode` means `VERIFY_CA`.
//!
//! `mysql_async`'s own `require_ssl`, `verify_ca`, `verify_identity` and
//! `built_in_roots` keep their meaning (`require_ssl=true` verifies the certificate
//! and host name unless told otherwise); a URL uses either those or `ssl-mode`.

use std::path::PathBuf;
use std::str::FromStr;

use mysql_async::SslOpts;

/// The MySQL client's `--ssl-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum SslMode {
    Disabled,
    #[default]
    Preferred,
    Required,
    VerifyCa,
    VerifyIdentity,
}

impl SslMode {
    const NAMES: [(&'static str, SslMode); 5] = [
        ("DISABLED", SslMode::Disabled),
        ("PREFERRED", SslMode::Preferred),
        ("REQUIRED", SslMode::Required),
        ("VERIFY_CA", SslMode::VerifyCa),
        ("VERIFY_IDENTITY", SslMode::VerifyIdentity),
    ];

    pub(super) fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, mode)| *mode == self)
            .map_or("?", |(name, _)| name)
    }

    /// Whether the certificate is checked, so that `ssl-ca` matters.
    pub(super) fn verifies(self) -> bool {
        matches!(self, SslMode::VerifyCa | SslMode::VerifyIdentity)
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
                    "unknown ssl-mode `{text}`; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// How a URL asks for TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TlsRequest {
    /// `ssl-mode` (PREFERRED when absent) and `ssl-ca`.
    SslMode { mode: SslMode, ca: Option<PathBuf> },
    /// `mysql_async`'s own parameters, already applied by `Opts::from_url`.
    Library,
}

impl Default for TlsRequest {
    fn default() -> Self {
        TlsRequest::SslMode {
            mode: SslMode::default(),
            ca: None,
        }
    }
}

impl TlsRequest {
    /// How an error names the request: `ssl-mode=REQUIRED`, or `require_ssl=true`.
    pub(super) fn describe(&self) -> String {
        match self {
            TlsRequest::SslMode { mode, .. } => format!("ssl-mode={}", mode.name()),
            TlsRequest::Library => "require_ssl=true".to_string(),
        }
    }
}

/// `mysql_async`'s TLS options for `mode`, trusting the PEM (or DER) certificates
/// `ca_certificates` holds instead of the built-in roots when given. `None` for a plain
/// connection.
pub(super) fn ssl_opts(mode: SslMode, ca_certificates: Option<Vec<u8>>) -> Option<SslOpts> {
    let checks_chain = mode.verifies();
    let opts = SslOpts::default()
        // REQUIRED and PREFERRED encrypt without authenticating the server, as in the
        // `mysql` client: MySQL's auto-generated certificates are self-signed.
        .with_danger_accept_invalid_certs(!checks_chain)
        .with_danger_skip_domain_validation(mode != SslMode::VerifyIdentity);
    let opts = match ca_certificates {
        Some(pem) if checks_chain => opts
            .with_root_certs(vec![pem.into()])
            .with_disable_built_in_roots(true),
        _ => opts,
    };
    (mode != SslMode::Disabled).then_some(opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_case_insensitively() {
        for (name, mode) in SslMode::NAMES {
            assert_eq!(SslMode::from_str(name), Ok(mode));
            assert_eq!(SslMode::from_str(&name.to_ascii_lowercase()), Ok(mode));
            assert_eq!(mode.name(), name);
        }
        let error = SslMode::from_str("VERIFY-FULL").unwrap_err();
        assert!(
            error.contains("VERIFY_IDENTITY"),
            "lists the values: {error}"
        );
    }

    #[test]
    fn verification_per_mode() {
        assert_eq!(ssl_opts(SslMode::Disabled, None), None);
        for mode in [SslMode::Preferred, SslMode::Required] {
            let opts = ssl_opts(mode, Some(b"ignored".to_vec())).unwrap();
            assert!(opts.accept_invalid_certs(), "{mode:?}");
            assert!(opts.root_certs().is_empty(), "{mode:?}");
        }
        let ca = ssl_opts(SslMode::VerifyCa, Some(b"pem".to_vec())).unwrap();
        assert!(!ca.accept_invalid_certs() && ca.skip_domain_validation());
        assert!(ca.disable_built_in_roots() && ca.root_certs().len() == 1);
        let full = ssl_opts(SslMode::VerifyIdentity, None).unwrap();
        assert!(!full.accept_invalid_certs() && !full.skip_domain_validation());
        assert!(!full.disable_built_in_roots());
    }
}

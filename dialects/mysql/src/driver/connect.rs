//! Opening a connection: the URL's options, TLS as it asks, and the errors users read.

use std::path::Path;
use std::time::Duration;

use mysql_async::{Conn, Opts, OptsBuilder, SslOpts};
use strata_engine::dialect::driver::{redact_url, DriverError};
use strata_tls::{Reason, Rejection};

use super::tls::{self, SslMode, TlsRequest};
use super::url::{self, ConnectionUrl};
use super::{caused_by, error_message};

/// How long to wait for the server to accept and authenticate a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Connects to `url`. Errors name the URL with its password redacted.
pub(super) async fn open(url: &str) -> Result<Conn, DriverError> {
    open_parsed(url, parse(url)?).await
}

/// `url`'s options and TLS request, or why they cannot be read.
pub(super) fn parse(url: &str) -> Result<ConnectionUrl, DriverError> {
    url::parse(url).map_err(|reason| DriverError::Url {
        url: redact_url(url),
        reason,
    })
}

/// Connects with the options parsed from `url` (changed by the caller: no database);
/// `url` names the target in errors, its password redacted.
pub(super) async fn open_parsed(url: &str, parsed: ConnectionUrl) -> Result<Conn, DriverError> {
    let target = redact_url(url);
    let ConnectionUrl { opts, tls } = parsed;
    let failed = |message: String| DriverError::connect(&target, message);
    let ssl = match &tls {
        TlsRequest::Library => None,
        TlsRequest::SslMode { mode, ca } => {
            let ca_certificates = read_ca(*mode, ca.as_deref()).map_err(failed)?;
            tls::ssl_opts(*mode, ca_certificates)
        }
    };
    let host = opts.ip_or_hostname().to_string();
    tokio::time::timeout(CONNECT_TIMEOUT, connect(opts, &tls, ssl))
        .await
        .map_err(|_| failed(format!("no answer within {}s", CONNECT_TIMEOUT.as_secs())))?
        .map_err(|e| caused_by(failed(describe(&e, &host, &tls)), e))
}

/// Connects with `ssl` (the options of an `ssl-mode`); under PREFERRED, once more
/// without TLS when the server offers none.
async fn connect(
    opts: Opts,
    tls: &TlsRequest,
    ssl: Option<SslOpts>,
) -> Result<Conn, mysql_async::Error> {
    let TlsRequest::SslMode { mode, .. } = tls else {
        if opts.ssl_opts().is_some() {
            use_ring_for_tls();
        }
        return Conn::new(opts).await;
    };
    let Some(ssl) = ssl else {
        return Conn::new(opts).await;
    };
    use_ring_for_tls();
    match Conn::new(OptsBuilder::from_opts(opts.clone()).ssl_opts(ssl)).await {
        Err(e) if *mode == SslMode::Preferred && offers_no_tls(&e) => Conn::new(opts).await,
        other => other,
    }
}

/// `mysql_async` builds its TLS settings with rustls's process-wide default provider,
/// which rustls can only pick by itself while one provider is compiled in: name `ring`
/// (strata's choice) so that another crate enabling aws-lc-rs cannot make that panic.
fn use_ring_for_tls() {
    // An error means a default is set already, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The certificates of `ssl-ca`, read here so that a bad path is named in the error.
/// The MySQL client ignores `ssl-ca` when the mode verifies nothing; so does strata.
fn read_ca(mode: SslMode, ca: Option<&Path>) -> Result<Option<Vec<u8>>, String> {
    match ca {
        Some(path) if mode.verifies() => std::fs::read(path)
            .map(Some)
            .map_err(|e| format!("cannot read ssl-ca `{}`: {e}", path.display())),
        Some(path) => {
            tracing::warn!(
                ssl_ca = %path.display(),
                ssl_mode = mode.name(),
                "ssl-ca is ignored: this ssl-mode does not verify the server's certificate"
            );
            Ok(None)
        }
        None => Ok(None),
    }
}

fn offers_no_tls(error: &mysql_async::Error) -> bool {
    matches!(
        error,
        mysql_async::Error::Driver(mysql_async::DriverError::NoClientSslFlagFromServer)
    )
}

/// Why a connect failed; for TLS failures, what the URL asked and what to do about it.
fn describe(error: &mysql_async::Error, host: &str, tls: &TlsRequest) -> String {
    let asked = tls.describe();
    if offers_no_tls(error) {
        return format!(
            "the server does not support TLS, which {asked} asks for\n  hint: enable TLS \
             on the server, or connect with ssl-mode=PREFERRED (TLS when offered) or DISABLED"
        );
    }
    let Some(rejection) = Rejection::find(error) else {
        return error_message(error);
    };
    let hint = match rejection.reason {
        Reason::UnknownIssuer => match tls {
            TlsRequest::SslMode { .. } => {
                "name the certificate authority that signed it with ssl-ca=<PEM file>, \
                 or use ssl-mode=REQUIRED to encrypt without verifying"
            }
            TlsRequest::Library => {
                "mysql_async's require_ssl verifies the certificate: add verify_ca=false \
                 to encrypt without verifying, or use ssl-mode=VERIFY_CA&ssl-ca=<PEM file>"
            }
        },
        Reason::WrongName => match tls {
            // mysql_async skips the host name check by matching the text
            // "NotValidForName" in rustls's error, which rustls no longer writes.
            TlsRequest::SslMode {
                mode: SslMode::VerifyCa,
                ..
            } => {
                "VERIFY_CA should not check the host name, but mysql_async cannot skip \
                 that check with this rustls: connect with a host name the certificate \
                 names, or use ssl-mode=REQUIRED"
            }
            _ => "connect with a host name the certificate names",
        },
        _ => "check the server's certificate and ssl-ca",
    };
    rejection.message(&format!("`{host}`"), &asked, hint)
}

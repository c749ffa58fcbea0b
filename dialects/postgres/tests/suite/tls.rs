//! TLS as the URL's `sslmode` asks, against the test server.
//!
//! The tests only connect and read session facts, so they share the server's own
//! database. What a server with `ssl = on` must do and what one with `ssl = off` must do
//! are both checked: the branch taken depends on the server's `SHOW ssl`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use strata_engine::dialect::driver::{Driver, DriverError};
use strata_postgres::PostgresDriver;

use crate::common;

/// A CA certificate that signed no server's certificate.
fn unrelated_ca() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/unrelated-ca.pem")
}

/// `url` with `params` appended to its query (a later `sslmode` wins over an earlier one).
fn with_params(url: &str, params: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{params}")
}

/// `url` with a password in its userinfo, to check that errors never show it. Only for
/// connects that fail before authentication.
fn with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    match rest.split_once('@') {
        Some((user, host)) => {
            let user = user.split(':').next().unwrap_or(user);
            format!("{scheme}://{user}:{password}@{host}")
        }
        None => format!("{scheme}://postgres:{password}@{rest}"),
    }
}

/// The host of `url` (`127.0.0.1`, `db.example`, `::1`).
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(bracketed) = host_port.strip_prefix('[') {
        return bracketed.split(']').next().unwrap_or(bracketed).to_string();
    }
    host_port.split(':').next().unwrap_or(host_port).to_string()
}

fn sslrootcert(path: &Path) -> String {
    format!("sslrootcert={}", path.display())
}

async fn scalar(url: &str, sql: &str) -> String {
    let mut driver = PostgresDriver::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"));
    let rows = driver.query(sql).await.expect(sql);
    Box::new(driver).close().await.expect("close");
    rows.into_iter()
        .next()
        .and_then(|row| row.into_iter().next().flatten())
        .unwrap_or_default()
}

/// Whether the session `url` opens is encrypted, as the server sees it.
async fn encrypted(url: &str) -> bool {
    scalar(
        url,
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    )
    .await
        == "t"
}

/// Whether the server accepts TLS at all (`ssl = on`).
async fn server_has_tls(server: &str) -> bool {
    scalar(&with_params(server, "sslmode=disable"), "SHOW ssl").await == "on"
}

/// The server's certificate file, when this process can read it (server on this
/// machine): a self-signed certificate (Debian's snakeoil) is its own root.
async fn server_certificate(server: &str) -> Option<PathBuf> {
    let path = PathBuf::from(scalar(server, "SHOW ssl_cert_file").await);
    let readable = std::fs::read(&path).is_ok();
    if !readable {
        eprintln!(
            "SKIPPED: the server's certificate `{}` is not readable here",
            path.display()
        );
    }
    readable.then_some(path)
}

async fn connect_error(url: &str) -> DriverError {
    match PostgresDriver::connect(url).await {
        Ok(driver) => {
            let _ = Box::new(driver).close().await;
            panic!("connecting to {url} should have failed")
        }
        Err(error) => error,
    }
}

#[tokio::test]
async fn require_encrypts_the_session() {
    let Some(server) = common::server_url() else {
        return;
    };
    let url = with_params(&server, "sslmode=require");
    if server_has_tls(&server).await {
        assert!(encrypted(&url).await, "sslmode=require must use TLS");
    } else {
        let error = connect_error(&url).await;
        assert!(matches!(error, DriverError::Connect { .. }), "{error:?}");
        assert!(
            error.to_string().contains("does not support TLS"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn disable_stays_plain() {
    let Some(server) = common::server_url() else {
        return;
    };
    let url = with_params(&server, "sslmode=disable");
    assert!(!encrypted(&url).await, "sslmode=disable must not use TLS");
}

#[tokio::test]
async fn without_sslmode_tls_is_used_when_the_server_offers_it() {
    let Some(server) = common::server_url() else {
        return;
    };
    if server.contains("sslmode=") {
        eprintln!("SKIPPED: the test URL sets an sslmode itself");
        return;
    }
    assert_eq!(encrypted(&server).await, server_has_tls(&server).await);
}

#[tokio::test]
async fn verify_full_names_the_host_whose_certificate_it_rejects() {
    let Some(server) = common::server_url() else {
        return;
    };
    if !server_has_tls(&server).await {
        eprintln!("SKIPPED: the test server has ssl = off");
        return;
    }
    let host = host_of(&server);
    let url = with_params(
        &with_password(&server, "hunter2"),
        &format!("sslmode=verify-full&{}", sslrootcert(&unrelated_ca())),
    );
    let error = connect_error(&url).await;
    let text = error.to_string();
    assert!(matches!(error, DriverError::Connect { .. }), "{error:?}");
    assert!(
        text.contains(&format!("certificate of `{host}` was rejected")),
        "{text}"
    );
    assert!(
        text.contains("sslmode=verify-full") && text.contains("UnknownIssuer"),
        "{text}"
    );
    assert!(
        text.contains("hint: name the certificate authority"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}

/// With the system's roots, which do not vouch for a self-signed certificate for this
/// IP address (Debian's snakeoil names the machine's host name only).
#[tokio::test]
async fn verify_full_with_the_system_roots_rejects_the_server_by_ip_address() {
    let Some(server) = common::server_url() else {
        return;
    };
    let host = host_of(&server);
    if host.parse::<IpAddr>().is_err() || !server_has_tls(&server).await {
        eprintln!("SKIPPED: needs ssl = on and a test URL naming an IP address");
        return;
    }
    let error = connect_error(&with_params(&server, "sslmode=verify-full")).await;
    let text = error.to_string();
    assert!(matches!(error, DriverError::Connect { .. }), "{error:?}");
    assert!(
        text.contains(&format!("certificate of `{host}` was rejected")),
        "{text}"
    );
}

#[tokio::test]
async fn verify_ca_accepts_a_certificate_signed_by_sslrootcert() {
    let Some(server) = common::server_url() else {
        return;
    };
    if !server_has_tls(&server).await {
        eprintln!("SKIPPED: the test server has ssl = off");
        return;
    }
    let Some(certificate) = server_certificate(&server).await else {
        return;
    };
    let url = with_params(
        &server,
        &format!("sslmode=verify-ca&{}", sslrootcert(&certificate)),
    );
    assert!(encrypted(&url).await);
}

#[tokio::test]
async fn verify_ca_rejects_a_certificate_no_root_signed() {
    let Some(server) = common::server_url() else {
        return;
    };
    if !server_has_tls(&server).await {
        eprintln!("SKIPPED: the test server has ssl = off");
        return;
    }
    let url = with_params(
        &server,
        &format!("sslmode=verify-ca&{}", sslrootcert(&unrelated_ca())),
    );
    let error = connect_error(&url).await;
    assert!(error.to_string().contains("UnknownIssuer"), "{error}");
}

/// The server's own certificate as the root, but an IP address it does not name.
#[tokio::test]
async fn verify_full_checks_the_host_name_that_verify_ca_ignores() {
    let Some(server) = common::server_url() else {
        return;
    };
    let host = host_of(&server);
    if host.parse::<IpAddr>().is_err() || !server_has_tls(&server).await {
        eprintln!("SKIPPED: needs ssl = on and a test URL naming an IP address");
        return;
    }
    let Some(certificate) = server_certificate(&server).await else {
        return;
    };
    let url = with_params(
        &server,
        &format!("sslmode=verify-full&{}", sslrootcert(&certificate)),
    );
    let text = connect_error(&url).await.to_string();
    assert!(text.contains("not valid for name"), "{text}");
    assert!(text.contains("hint: connect with a host name"), "{text}");
}

#[tokio::test]
async fn an_unknown_sslmode_is_a_url_error() {
    let url = "postgres://app:hunter2@127.0.0.1:1/app?sslmode=verify_full";
    let error = connect_error(url).await;
    let text = error.to_string();
    assert!(matches!(error, DriverError::Url { .. }), "{error:?}");
    assert!(text.contains("unknown sslmode `verify_full`"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn url_helpers() {
    assert_eq!(host_of("postgres://u:p@127.0.0.1:5432/db?x=1"), "127.0.0.1");
    assert_eq!(host_of("postgres://db.example/db"), "db.example");
    assert_eq!(host_of("postgres://u@[::1]:5432/db"), "::1");
    assert_eq!(
        with_password("postgres://postgres@h:1/d", "pw"),
        "postgres://postgres:pw@h:1/d"
    );
    assert_eq!(with_params("postgres://h/d", "a=1"), "postgres://h/d?a=1");
    assert_eq!(
        with_params("postgres://h/d?b=2", "a=1"),
        "postgres://h/d?b=2&a=1"
    );
}

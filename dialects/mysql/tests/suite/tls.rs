//! TLS as the URL's `ssl-mode` asks, against the test server.
//!
//! The tests only connect and read session facts, so they share the server's own
//! database. Whether the server offers TLS (`have_ssl`) decides what each must see: the
//! CI server (MariaDB from Debian) has it disabled.

use strata_engine::dialect::driver::{Driver, DriverError};
use strata_mysql::MysqlDriver;

use crate::common;

/// `url` with `params` appended to its query (a later `ssl-mode` wins).
fn with_params(url: &str, params: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{params}")
}

async fn connect(url: &str) -> MysqlDriver {
    MysqlDriver::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"))
}

async fn connect_error(url: &str) -> DriverError {
    match MysqlDriver::connect(url).await {
        Ok(driver) => {
            let _ = Box::new(driver).close().await;
            panic!("connecting to {url} should have failed")
        }
        Err(error) => error,
    }
}

/// The value of the first row's second column (`SHOW … LIKE` answers name, value).
async fn shown(driver: &mut MysqlDriver, sql: &str) -> Option<String> {
    let rows = driver.query(sql).await.expect(sql);
    rows.into_iter()
        .next()
        .and_then(|row| row.into_iter().nth(1).flatten())
}

/// Whether the session `url` opens is encrypted, as the server sees it.
async fn encrypted(url: &str) -> bool {
    let mut driver = connect(url).await;
    let cipher = shown(&mut driver, "SHOW SESSION STATUS LIKE 'Ssl_cipher'").await;
    Box::new(driver).close().await.expect("close");
    cipher.is_some_and(|cipher| !cipher.is_empty())
}

/// Whether the server offers TLS: `have_ssl` (MariaDB, MySQL 8.0), or a non-empty
/// `tls_version` where `have_ssl` is gone.
async fn server_has_tls(server: &str) -> bool {
    let mut driver = connect(&with_params(server, "ssl-mode=DISABLED")).await;
    let have_ssl = shown(&mut driver, "SHOW GLOBAL VARIABLES LIKE 'have_ssl'").await;
    let offered = match have_ssl {
        Some(value) => value.eq_ignore_ascii_case("YES"),
        None => shown(&mut driver, "SHOW GLOBAL VARIABLES LIKE 'tls_version'")
            .await
            .is_some_and(|versions| !versions.is_empty()),
    };
    Box::new(driver).close().await.expect("close");
    offered
}

/// `url` logging in with a password the server never sees (the connects that use it
/// fail before authentication), to check that errors never show it.
fn with_password(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let (userinfo, host) = rest.split_once('@').unwrap_or(("root", rest));
    let user = userinfo.split(':').next().unwrap_or(userinfo);
    format!("{scheme}://{user}:hunter2@{host}")
}

async fn assert_refused_for_want_of_tls(url: &str, asked: &str) {
    let error = connect_error(url).await;
    let text = error.to_string();
    assert!(matches!(error, DriverError::Connect { .. }), "{error:?}");
    assert!(
        text.contains(&format!(
            "the server does not support TLS, which {asked} asks for"
        )),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}

#[tokio::test]
async fn required_encrypts_or_says_the_server_has_no_tls() {
    let Some(server) = common::server_url() else {
        return;
    };
    if server_has_tls(&server).await {
        assert!(encrypted(&with_params(&server, "ssl-mode=REQUIRED")).await);
    } else {
        let url = with_params(&with_password(&server), "ssl-mode=required");
        assert_refused_for_want_of_tls(&url, "ssl-mode=REQUIRED").await;
    }
}

#[tokio::test]
async fn verify_identity_on_a_server_without_tls_says_so() {
    let Some(server) = common::server_url() else {
        return;
    };
    if server_has_tls(&server).await {
        eprintln!("SKIPPED: the test server offers TLS");
        return;
    }
    let url = with_params(&with_password(&server), "ssl-mode=VERIFY_IDENTITY");
    assert_refused_for_want_of_tls(&url, "ssl-mode=VERIFY_IDENTITY").await;
}

#[tokio::test]
async fn mysql_async_require_ssl_is_understood() {
    let Some(server) = common::server_url() else {
        return;
    };
    if server_has_tls(&server).await {
        eprintln!("SKIPPED: the test server offers TLS");
        return;
    }
    let url = with_params(&with_password(&server), "require_ssl=true");
    assert_refused_for_want_of_tls(&url, "require_ssl=true").await;
}

#[tokio::test]
async fn disabled_stays_plain() {
    let Some(server) = common::server_url() else {
        return;
    };
    assert!(!encrypted(&with_params(&server, "ssl-mode=DISABLED")).await);
}

/// PREFERRED, as in the `mysql` client: TLS exactly when the server offers it.
#[tokio::test]
async fn without_ssl_mode_tls_is_used_when_the_server_offers_it() {
    let Some(server) = common::server_url() else {
        return;
    };
    if server.to_ascii_lowercase().contains("ssl") {
        eprintln!("SKIPPED: the test URL sets TLS parameters itself");
        return;
    }
    assert_eq!(encrypted(&server).await, server_has_tls(&server).await);
}

#[tokio::test]
async fn a_bad_ssl_mode_is_a_url_error() {
    let error = connect_error("mysql://root:hunter2@127.0.0.1:1/db?ssl-mode=VERIFY_FULL").await;
    let text = error.to_string();
    assert!(matches!(error, DriverError::Url { .. }), "{error:?}");
    assert!(text.contains("unknown ssl-mode `VERIFY_FULL`"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[tokio::test]
async fn an_unreadable_ssl_ca_is_named() {
    let url = "mysql://root@127.0.0.1:1/db?ssl-mode=VERIFY_CA&ssl-ca=/nonexistent/ca.pem";
    let error = connect_error(url).await;
    assert!(matches!(error, DriverError::Connect { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("cannot read ssl-ca `/nonexistent/ca.pem`"),
        "{error}"
    );
}

#[test]
fn url_helpers() {
    assert_eq!(
        with_password("mysql://root@127.0.0.1:3306/mysql"),
        "mysql://root:hunter2@127.0.0.1:3306/mysql"
    );
    assert_eq!(with_params("mysql://h/d", "a=1"), "mysql://h/d?a=1");
    assert_eq!(with_params("mysql://h/d?b=2", "a=1"), "mysql://h/d?b=2&a=1");
}

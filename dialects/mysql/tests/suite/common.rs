//! Server-test support: a database of its own for each test, dropped afterwards
//! whether the test passed or not.

use std::future::Future;
use std::sync::Arc;

use strata_engine::dialect::driver::Driver;
use strata_engine::{Dialect, ServerVersion};
use strata_mysql::{MysqlDialect, MysqlDriver};
use strata_testkit as testkit;

/// The admin URL of the test server, or `None` (test skipped) when unset.
pub(crate) fn server_url() -> Option<String> {
    testkit::server_url("STRATA_TEST_MYSQL_URL")
}

/// The server's flavour (MySQL or MariaDB) and version, as its driver detects them.
pub(crate) async fn server_dialect(server: &str) -> (Arc<dyn Dialect>, ServerVersion) {
    let driver = MysqlDriver::connect(server).await.expect("connect");
    let detected = (driver.dialect(), driver.version());
    Box::new(driver).close().await.expect("close");
    detected
}

/// `url` pointing at database `db` instead of its own.
pub(crate) fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    format!("{}/{db}{query}", &base[..authority_end])
}

/// `url` logging in as `userinfo` (`user:password`) instead of its own user.
pub(crate) fn with_user(url: &str, userinfo: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let host_start = rest[..authority_end].rfind('@').map_or(0, |i| i + 1);
    format!("{scheme}://{userinfo}@{}", &rest[host_start..])
}

/// Creates a fresh database, runs `body` with a URL to it, and drops the database
/// again — also when `body` panics, whose panic is then passed on.
pub(crate) async fn in_fresh_database<F, Fut>(server: &str, prefix: &str, body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let name = testkit::unique_db_name(prefix);
    let quoted = MysqlDialect::mysql().quote_ident(&name);
    let mut admin = MysqlDriver::connect(server)
        .await
        .expect("connect to the test server");
    admin
        .execute(&format!("CREATE DATABASE {quoted}"))
        .await
        .expect("create the test database");
    // A spawned task turns a panic into a JoinError instead of unwinding past the
    // clean-up below.
    let outcome = tokio::spawn(body(with_database(server, &name))).await;
    let dropped = admin.execute(&format!("DROP DATABASE {quoted}")).await;
    let _ = Box::new(admin).close().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
    dropped.expect("drop the test database");
}

/// The message of a panic caught by `tokio::spawn` or `catch_unwind`. Pass the payload
/// (`&*boxed`), not the box: a `&Box<…>` would coerce to a `dyn Any` that is the box.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(ToString::to_string))
        .unwrap_or_default()
}

#[test]
fn with_database_replaces_only_the_path() {
    assert_eq!(
        with_database("mysql://root@127.0.0.1:3306/mysql", "t1"),
        "mysql://root@127.0.0.1:3306/t1"
    );
    assert_eq!(
        with_database("mysql://u:p@h/db?prefer_socket=false", "t2"),
        "mysql://u:p@h/t2?prefer_socket=false"
    );
    assert_eq!(with_database("mysql://h", "t3"), "mysql://h/t3");
}

#[test]
fn with_user_replaces_only_the_login() {
    assert_eq!(
        with_user("mysql://root@127.0.0.1:3306/mysql", "u:p"),
        "mysql://u:p@127.0.0.1:3306/mysql"
    );
    assert_eq!(with_user("mysql://h:1/db", "u:p"), "mysql://u:p@h:1/db");
}

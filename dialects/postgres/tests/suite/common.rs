//! Fresh databases on the test server, dropped afterwards even when the test fails.

use std::future::Future;

use strata_engine::dialect::driver::Driver;
use strata_postgres::PostgresDriver;
use strata_testkit as testkit;

/// The server URL from `STRATA_TEST_POSTGRES_URL`, or `None` (test skipped).
pub(crate) fn server_url() -> Option<String> {
    testkit::server_url("STRATA_TEST_POSTGRES_URL")
}

/// `url` with its database path replaced by `database`, query string kept.
pub(crate) fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let (scheme, rest) = base.split_once("://").expect("a URL with a scheme");
    let authority = rest.split('/').next().unwrap_or(rest);
    let mut out = format!("{scheme}://{authority}/{database}");
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// Creates a database, runs `body` with its URL, and drops the database whether
/// `body` succeeded or panicked (the panic is re-raised afterwards).
pub(crate) async fn with_fresh_database<F, Fut>(server: &str, body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let name = testkit::unique_db_name("strata_pg");
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    let mut admin = PostgresDriver::connect(server)
        .await
        .expect("connect to the test server");
    admin
        .execute(&format!("CREATE DATABASE {quoted}"))
        .await
        .expect("create the test database");
    // A spawned task turns a panic into a JoinError, so the drop below always runs.
    let outcome = tokio::spawn(body(with_database(server, &name))).await;
    admin
        .execute(&format!("DROP DATABASE {quoted} WITH (FORCE)"))
        .await
        .expect("drop the test database");
    Box::new(admin).close().await.expect("close");
    if let Err(error) = outcome {
        match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(error) => panic!("test body did not finish: {error}"),
        }
    }
}

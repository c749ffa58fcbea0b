//! What the benchmarks share: server URLs, connections, a fresh database per run.

use strata_engine::dialect::driver::Driver;

/// A server URL from the environment (`STRATA_TEST_POSTGRES_URL`, …); unset or empty:
/// that backend is skipped.
pub(crate) fn env_url(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|u| !u.is_empty())
}

pub(crate) async fn connect(url: &str) -> Box<dyn Driver> {
    let registry = strata::backends();
    let (backend, _) = registry.for_url(url).unwrap();
    backend.connect(url).await.unwrap()
}

/// A fresh database for `url` (servers) — returns its URL and, for a server, the admin
/// URL and the statement that drops it.
pub(crate) async fn fresh_database(url: &str) -> (String, Option<(String, String)>) {
    if url.starts_with("sqlite") {
        let path = url.trim_start_matches("sqlite://");
        let _ = std::fs::remove_file(path);
        return (url.to_string(), None);
    }
    let name = format!("strata_bench_{}", std::process::id());
    let mut admin = connect(url).await;
    let quoted = admin.dialect().quote_ident(&name);
    let _ = admin
        .execute(&format!("DROP DATABASE IF EXISTS {quoted}"))
        .await;
    admin
        .execute(&format!("CREATE DATABASE {quoted}"))
        .await
        .unwrap();
    admin.close().await.unwrap();
    let (scheme, rest) = url.split_once("://").unwrap();
    let authority = rest.split('/').next().unwrap();
    (
        format!("{scheme}://{authority}/{name}"),
        Some((url.to_string(), format!("DROP DATABASE {quoted}"))),
    )
}

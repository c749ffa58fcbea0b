//! The test servers: where they are, and what a test does when one is missing.
//!
//! A server test asks [`server_url`] for its server. When the variable is unset or
//! empty, or nothing answers at the URL's host and port, the test is skipped with a
//! `SKIPPED: …` line on stderr — on a laptop without servers the suite still passes —
//! except under `CI=true`, where a missing server fails the test. The decision is
//! [`decide`], a pure function of the variable's value, the CI flag and a probe.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// How long a probe waits for a server to accept a TCP connection.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// What a server test does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Run against this URL.
    Run(String),
    /// Skip, saying why and what to do (printed after `SKIPPED: <test>: `).
    Skip(String),
    /// Fail: under CI a missing server is an error, not a skip.
    Fail(String),
}

/// Where a server URL points: what the probe connects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `PostgreSQL` or `MySQL/MariaDB`, from the URL's scheme.
    pub server: &'static str,
    /// The host as the URL writes it (an IPv6 address in brackets).
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    /// The endpoint of a server URL, or `None` when it cannot be probed (no host, as
    /// with a Unix socket; an unknown scheme without a port; not a URL at all) — the
    /// test then runs and its driver reports what is wrong.
    pub fn of(url: &str) -> Option<Self> {
        let parsed = url::Url::parse(url).ok()?;
        let (server, default_port) = match parsed.scheme() {
            "postgres" | "postgresql" => ("PostgreSQL", Some(5432)),
            "mysql" | "mariadb" => ("MySQL/MariaDB", Some(3306)),
            _ => ("server", None),
        };
        let host = parsed.host_str().filter(|h| !h.is_empty())?.to_string();
        let port = parsed.port().or(default_port)?;
        Some(Self { server, host, port })
    }

    /// Whether something accepts a TCP connection there within [`PROBE_TIMEOUT`].
    pub fn answers(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        let Ok(addresses) = (host, self.port).to_socket_addrs() else {
            return false;
        };
        addresses
            .into_iter()
            .any(|address| TcpStream::connect_timeout(&address, PROBE_TIMEOUT).is_ok())
    }

    /// [`answers`](Self::answers), asked once per endpoint and process: a test binary
    /// has dozens of server tests, and a server logs every probe (PostgreSQL: an
    /// "incomplete startup packet").
    pub fn answers_once(&self) -> bool {
        static ANSWERS: Mutex<BTreeMap<(String, u16), bool>> = Mutex::new(BTreeMap::new());
        let mut answers = ANSWERS.lock().unwrap_or_else(PoisonError::into_inner);
        *answers
            .entry((self.host.clone(), self.port))
            .or_insert_with(|| self.answers())
    }
}

/// What a server test does, given the value of its variable `var`, whether `CI=true`,
/// and whether the server answers (`answers` is asked only when there is a URL to
/// probe).
pub fn decide(
    var: &str,
    value: Option<&str>,
    ci: bool,
    answers: impl FnOnce(&Endpoint) -> bool,
) -> Decision {
    let (missing, remedy) = match value.filter(|v| !v.is_empty()) {
        None => (format!("{var} is not set"), "set it to the server's URL"),
        Some(url) => match Endpoint::of(url) {
            Some(endpoint) if !answers(&endpoint) => (
                format!(
                    "no {} at {}:{} ({var})",
                    endpoint.server, endpoint.host, endpoint.port
                ),
                "start it",
            ),
            _ => return Decision::Run(url.to_string()),
        },
    };
    if ci {
        Decision::Fail(format!(
            "{missing}, and CI=true: server tests must run in CI"
        ))
    } else {
        Decision::Skip(format!(
            "{missing}; {remedy} or set CI=true to fail instead"
        ))
    }
}

/// The URL of the test server in `var`, or `None` (the caller returns: test skipped,
/// with a `SKIPPED:` line on stderr) when it is not configured or does not answer.
///
/// # Panics
///
/// Under `CI=true`, when the server is missing.
pub fn server_url(var: &str) -> Option<String> {
    let value = std::env::var(var).ok();
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    match decide(var, value.as_deref(), ci, Endpoint::answers_once) {
        Decision::Run(url) => Some(url),
        Decision::Skip(reason) => {
            // Straight to stderr, past libtest's capture, so a skip is seen without
            // `--nocapture`.
            let _ = writeln!(std::io::stderr(), "SKIPPED: {}: {reason}", current_test());
            None
        }
        Decision::Fail(reason) => panic!("{reason}"),
    }
}

/// The running test's name: libtest names each test's thread after it (except with
/// `--test-threads=1`, where tests run on `main`).
fn current_test() -> String {
    match std::thread::current().name() {
        Some(name) if name != "main" => name.to_string(),
        _ => "a server test".to_string(),
    }
}

/// A database name unique to this test process and call, for tests that make their own.
pub fn unique_db_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const VAR: &str = "STRATA_TEST_POSTGRES_URL";

    /// A local port nothing listens on: bound by the system, then released.
    fn unused_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }

    #[test]
    fn an_unanswered_server_is_skipped_without_ci_and_fails_under_ci() {
        let port = unused_port();
        let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        let expected = format!("no PostgreSQL at 127.0.0.1:{port} ({VAR})");
        assert_eq!(
            decide(VAR, Some(&url), false, Endpoint::answers),
            Decision::Skip(format!(
                "{expected}; start it or set CI=true to fail instead"
            ))
        );
        assert_eq!(
            decide(VAR, Some(&url), true, Endpoint::answers),
            Decision::Fail(format!(
                "{expected}, and CI=true: server tests must run in CI"
            ))
        );
    }

    #[test]
    fn an_answering_server_runs_with_or_without_ci() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let url = format!("mysql://root@127.0.0.1:{port}/mysql");
        for ci in [false, true] {
            assert_eq!(
                decide("STRATA_TEST_MYSQL_URL", Some(&url), ci, Endpoint::answers),
                Decision::Run(url.clone())
            );
        }
    }

    #[test]
    fn an_unset_or_empty_variable_is_skipped_without_ci_and_fails_under_ci() {
        for value in [None, Some("")] {
            let never = |_: &Endpoint| -> bool { panic!("nothing to probe") };
            assert_eq!(
                decide(VAR, value, false, never),
                Decision::Skip(format!(
                    "{VAR} is not set; set it to the server's URL or set CI=true to fail instead"
                ))
            );
            assert_eq!(
                decide(VAR, value, true, never),
                Decision::Fail(format!(
                    "{VAR} is not set, and CI=true: server tests must run in CI"
                ))
            );
        }
    }

    #[test]
    fn endpoints_take_the_schemes_default_port_and_unprobeable_urls_run() {
        let endpoint = |url| Endpoint::of(url).map(|e| (e.server, e.host, e.port));
        assert_eq!(
            endpoint("postgres://u:p@db.internal/app"),
            Some(("PostgreSQL", "db.internal".into(), 5432))
        );
        assert_eq!(
            endpoint("postgresql://[::1]:6543/app?sslmode=require"),
            Some(("PostgreSQL", "[::1]".into(), 6543))
        );
        assert_eq!(
            endpoint("mariadb://root@127.0.0.1/mysql"),
            Some(("MySQL/MariaDB", "127.0.0.1".into(), 3306))
        );
        // A socket, an unknown scheme without a port, or no URL at all: the test runs,
        // and its driver says what is wrong.
        for url in [
            "postgres:///app?host=/run/postgresql",
            "odd://h/x",
            "not a url",
        ] {
            assert_eq!(endpoint(url), None, "{url}");
            assert_eq!(
                decide(VAR, Some(url), true, |_| panic!("nothing to probe")),
                Decision::Run(url.into())
            );
        }
    }

    #[test]
    fn unique_db_names_differ_within_a_process() {
        assert_ne!(unique_db_name("t"), unique_db_name("t"));
    }
}

//! Opening a connection: URL checks, the connect itself, and its errors.

use std::str::FromStr;

use strata_engine::dialect::driver::{redact_url, DriverError};
use tokio::task::JoinHandle;
use tokio_postgres::{Client, Config, NoTls};

use super::messages::describe;

/// `sslmode` values that demand TLS, which this driver cannot do yet.
const TLS_MODES: &[&str] = &["require", "verify-ca", "verify-full"];

/// The `application_name` of strata's sessions when the URL names none, so that
/// `pg_stat_activity` (and a waiting `strata migrate`) can tell who holds the lock.
const APPLICATION_NAME: &str = "strata";

/// Connects to `url` and spawns the connection task on the current tokio runtime.
pub(super) async fn open(url: &str) -> Result<(Client, JoinHandle<()>), DriverError> {
    let mut config = parse(url)?;
    if config.get_application_name().is_none() {
        config.application_name(APPLICATION_NAME);
    }
    let (client, connection) = config
        .connect(NoTls)
        .await
        .map_err(|e| DriverError::Connect {
            target: redact_url(url),
            message: describe(&e),
        })?;
    let task = tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %describe(&e), "PostgreSQL connection closed with an error");
        }
    });
    Ok((client, task))
}

/// The connection settings of a `postgres://` or `postgresql://` URL.
fn parse(url: &str) -> Result<Config, DriverError> {
    let is_postgres_url = ["postgres://", "postgresql://"].iter().any(|scheme| {
        url.get(..scheme.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
    });
    if !is_postgres_url {
        return Err(url_error(
            url,
            "expected a `postgres://` or `postgresql://` URL",
        ));
    }
    if let Some(mode) = tls_mode(url) {
        return Err(DriverError::Connect {
            target: redact_url(url),
            message: format!(
                "sslmode={mode} asks for TLS, which strata's PostgreSQL driver does not support yet; \
                 connect without TLS (sslmode=disable or prefer) or through a TLS-terminating proxy"
            ),
        });
    }
    // tokio-postgres reads only the lowercase scheme.
    let normalized = match url.split_once("://") {
        Some((scheme, rest)) => format!("{}://{rest}", scheme.to_ascii_lowercase()),
        None => url.to_string(),
    };
    Config::from_str(&normalized).map_err(|e| url_error(url, &e.to_string()))
}

/// The `sslmode` of the URL's query when it demands TLS.
fn tls_mode(url: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| key.eq_ignore_ascii_case("sslmode"))
        .map(|(_, mode)| mode.to_ascii_lowercase())
        .filter(|mode| TLS_MODES.contains(&mode.as_str()))
}

fn url_error(url: &str, reason: &str) -> DriverError {
    DriverError::Url {
        url: redact_url(url),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_schemes_are_accepted() {
        assert!(parse("postgres://app@localhost/app").is_ok());
        assert!(parse("postgresql://app@localhost:5433/app").is_ok());
        assert!(parse("POSTGRES://app@localhost/app").is_ok());
    }

    #[test]
    fn other_schemes_are_refused_without_the_password() {
        let error = parse("mysql://root:hunter2@localhost/app").unwrap_err();
        assert!(matches!(error, DriverError::Url { .. }), "{error:?}");
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }

    #[test]
    fn tls_is_refused_with_a_clear_message() {
        for mode in ["require", "verify-full", "REQUIRE"] {
            let url = format!("postgres://app:hunter2@db/app?connect_timeout=5&sslmode={mode}");
            let error = parse(&url).unwrap_err();
            let text = error.to_string();
            assert!(matches!(error, DriverError::Connect { .. }), "{error:?}");
            assert!(text.contains("does not support yet"), "{text}");
            assert!(!text.contains("hunter2"), "{text}");
        }
        assert!(parse("postgres://app@db/app?sslmode=disable").is_ok());
        assert!(parse("postgres://app@db/app?sslmode=prefer").is_ok());
    }
}

//! `postgres://` URLs → tokio-postgres's `Config` plus the TLS settings strata reads
//! itself.
//!
//! tokio-postgres knows only `sslmode=disable|prefer|require` and no `sslrootcert`, so
//! the TLS parameters are taken out of the query here and the rest is left to its
//! parser (which reports unknown parameters itself). So is strata's own `schema`
//! parameter (the schema strata's tables and history live in; see `schema`).

use std::path::PathBuf;
use std::str::FromStr;

use strata_engine::dialect::driver::{redact_url, DriverError};
use strata_engine::dialect::url::{
    join_query, percent_decode, refuse_fragment, split_query, QueryParam,
};
use tokio_postgres::config::Host;
use tokio_postgres::Config;

use super::tls::{SslMode, TlsSettings};

/// libpq parameters for client certificates and revocation lists, which strata does not
/// support yet: refused by name rather than as tokio-postgres's "unknown option".
const UNSUPPORTED_TLS_PARAMETERS: &[&str] =
    &["sslcert", "sslkey", "sslpassword", "sslcrl", "sslcrldir"];

/// What a `postgres://` or `postgresql://` URL says.
#[derive(Debug)]
pub(super) struct Settings {
    /// Everything tokio-postgres reads.
    pub config: Config,
    pub tls: TlsSettings,
    /// `?schema=NAME`, decoded and checked: the only schema of the session's
    /// `search_path`. `None`: the server's default `search_path`.
    pub schema: Option<String>,
}

/// The settings of a `postgres://` or `postgresql://` URL.
pub(super) fn parse(url: &str) -> Result<Settings, DriverError> {
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
    // tokio-postgres would read `db#x` as the database `db#x`.
    refuse_fragment(url).map_err(|reason| url_error(url, &reason))?;
    let (base, params) = split_query(url);
    let mut tls = TlsSettings::default();
    let mut explicit_mode = false;
    let mut search_schema = None;
    let mut kept = Vec::new();
    let decode = |raw| percent_decode(raw).map_err(|e| url_error(url, &e.to_string()));
    for QueryParam { pair, key, value } in params {
        match key {
            // As in libpq, a repeated parameter's last value wins.
            "sslmode" => {
                let value = decode(value)?;
                tls.mode = SslMode::from_str(&value).map_err(|reason| url_error(url, &reason))?;
                explicit_mode = true;
            }
            "sslrootcert" => {
                let value = decode(value)?;
                tls.root_cert = Some(PathBuf::from(value));
            }
            "schema" => {
                let value = decode(value)?;
                check_schema_name(&value).map_err(|reason| url_error(url, &reason))?;
                // Last-one-wins would let a `&schema=` appended to a URL that has one
                // migrate a tenant other than the one meant.
                if let Some(first) = search_schema.replace(value) {
                    return Err(url_error(
                        url,
                        &format!("`schema` given twice (first `{first}`); a session has one"),
                    ));
                }
            }
            key if UNSUPPORTED_TLS_PARAMETERS.contains(&key) => {
                return Err(url_error(
                    url,
                    &format!(
                        "`{key}`: client certificates and revocation lists are not supported \
                         yet; strata's PostgreSQL driver reads sslmode and sslrootcert"
                    ),
                ));
            }
            _ => kept.push(pair),
        }
    }
    if tls.trusts_the_system_store() {
        // libpq 16: trusting every CA of the system only means something with the host
        // name checked, so `sslrootcert=system` defaults to, and demands, verify-full.
        if !explicit_mode {
            tls.mode = SslMode::VerifyFull;
        } else if tls.mode != SslMode::VerifyFull {
            return Err(url_error(
                url,
                &format!(
                    "sslrootcert=system needs sslmode=verify-full, not sslmode={}",
                    tls.mode.name()
                ),
            ));
        }
    }
    // tokio-postgres reads only the lowercase scheme.
    let (scheme, rest) = base.split_once("://").unwrap_or((base, ""));
    let normalized = join_query(&format!("{}://{rest}", scheme.to_ascii_lowercase()), &kept);
    let config = Config::from_str(&normalized).map_err(|e| url_error(url, &e.to_string()))?;
    // tokio-postgres ends the user info at the first `@`: with a raw `@` in the
    // password, the rest of the password would be taken for (and shown as) a host.
    let at_in_host = config
        .get_hosts()
        .iter()
        .any(|host| matches!(host, Host::Tcp(name) if name.contains('@')));
    if at_in_host {
        return Err(url_error(
            url,
            "more than one `@`: a `@` in a user name or password is written `%40`",
        ));
    }
    if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
        return Err(url_error(
            url,
            "no host; e.g. `postgres://user@localhost:5432/app`",
        ));
    }
    Ok(Settings {
        config,
        tls,
        schema: search_schema,
    })
}

/// PostgreSQL keeps the first 63 bytes of a longer identifier (NAMEDATALEN - 1).
const MAX_IDENTIFIER_BYTES: usize = 63;

/// Why `name` cannot be a schema's name. Any character is allowed (the name is always
/// quoted as an identifier), but not an empty name, a NUL (no PostgreSQL text holds
/// one), a name the server would silently cut short, which could make two tenants'
/// URLs name one schema, nor a system schema: the server reserves `pg_*` (and a
/// superuser could otherwise write strata's tables into `pg_toast`), and
/// `information_schema` is the server's too, yet writable by a superuser.
fn check_schema_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("`schema=` needs a schema name, e.g. `?schema=tenant_42`".to_string());
    }
    if name.starts_with("pg_") || name == "information_schema" {
        return Err(format!(
            "`schema`: `{name}` is a system schema; name one of the application's"
        ));
    }
    if name.contains('\0') {
        return Err("`schema`: a schema name cannot contain a NUL character".to_string());
    }
    if name.len() > MAX_IDENTIFIER_BYTES {
        return Err(format!(
            "`schema`: a PostgreSQL name has at most {MAX_IDENTIFIER_BYTES} bytes, \
             this one has {}",
            name.len()
        ));
    }
    Ok(())
}

fn url_error(url: &str, reason: &str) -> DriverError {
    DriverError::Url {
        url: redact_url(url),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn tls_of(url: &str) -> TlsSettings {
        parse(url).expect("a valid URL").tls
    }

    fn schema_of(url: &str) -> Option<String> {
        parse(url).expect("a valid URL").schema
    }

    #[test]
    fn schema_is_taken_out_of_the_query_and_decoded() {
        assert_eq!(schema_of("postgres://app@db/app"), None);
        assert_eq!(
            schema_of("postgres://app@db/app?sslmode=disable&schema=tenant_42"),
            Some("tenant_42".to_string())
        );
        assert_eq!(
            schema_of("postgres://app@db/app?schema=Tenant%20%227%22%3B%20x"),
            Some("Tenant \"7\"; x".to_string())
        );
        // tokio-postgres never sees it (it would refuse an unknown parameter), and
        // the others still reach it.
        let settings = parse("postgres://app@db/app?schema=t&application_name=x").unwrap();
        assert_eq!(settings.config.get_application_name(), Some("x"));
    }

    #[test]
    fn bad_schema_names_are_url_errors_without_the_password() {
        let long = "s".repeat(64);
        for (query, says) in [
            ("schema=", "needs a schema name"),
            ("schema", "needs a schema name"),
            ("schema=a%00b", "NUL"),
            (&format!("schema={long}") as &str, "at most 63 bytes"),
            ("schema=%zz", "percent-encoding"),
            ("schema=a&schema=b", "given twice"),
            ("schema=a&schema=a", "given twice"),
            ("schema=pg_catalog", "system schema"),
            ("schema=pg_toast", "system schema"),
            ("schema=information_schema", "system schema"),
        ] {
            let error = parse(&format!("postgres://app:hunter2@db/app?{query}")).unwrap_err();
            let text = error.to_string();
            assert!(matches!(error, DriverError::Url { .. }), "{error:?}");
            assert!(text.contains(says), "{query}: {text}");
            assert!(!text.contains("hunter2"), "{text}");
        }
        assert!(parse(&format!("postgres://app@db/app?schema={}", "s".repeat(63))).is_ok());
    }

    #[test]
    fn the_schema_stays_in_the_redacted_url() {
        let shown = redact_url("postgres://app:hunter2@db/app?schema=tenant_42");
        assert!(shown.contains("schema=tenant_42"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

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
    fn fragments_are_refused_rather_than_read_as_the_database_name() {
        for url in [
            "postgres://app@db/app#staging",
            "postgres://app:pa#ss@db/app",
        ] {
            let error = parse(url).unwrap_err();
            assert!(matches!(error, DriverError::Url { .. }), "{error:?}");
            assert!(error.to_string().contains("%23"), "{error}");
            assert!(!error.to_string().contains("pa#ss"), "{error}");
        }
        assert!(parse("postgres://app:pa%23ss@db/app").is_ok());
    }

    #[test]
    fn a_raw_at_in_the_password_is_refused_not_taken_for_a_host() {
        let error = parse("postgres://app:p@ss@Zq8@db:5432/app").unwrap_err();
        assert!(error.to_string().contains("%40"), "{error}");
        assert!(!error.to_string().contains("Zq8"), "{error}");
        assert!(parse("postgres://app:p%40ss@db/app").is_ok());
    }

    #[test]
    fn a_url_without_host_is_refused() {
        let error = parse("postgres://u:Zq8@").unwrap_err();
        assert!(error.to_string().contains("no host"), "{error}");
        assert!(!error.to_string().contains("Zq8"), "{error}");
    }

    #[test]
    fn sslmode_defaults_to_prefer_as_in_libpq() {
        assert_eq!(tls_of("postgres://app@db/app").mode, SslMode::Prefer);
    }

    #[test]
    fn every_libpq_sslmode_is_read() {
        for (text, mode) in [
            ("disable", SslMode::Disable),
            ("allow", SslMode::Allow),
            ("prefer", SslMode::Prefer),
            ("require", SslMode::Require),
            ("verify-ca", SslMode::VerifyCa),
            ("verify-full", SslMode::VerifyFull),
            ("VERIFY-FULL", SslMode::VerifyFull),
        ] {
            let url = format!("postgres://app@db/app?connect_timeout=5&sslmode={text}");
            assert_eq!(tls_of(&url).mode, mode, "{url}");
        }
    }

    #[test]
    fn the_other_parameters_still_reach_tokio_postgres() {
        let Settings { config, tls, .. } =
            parse("postgres://app@db/app?sslmode=verify-full&connect_timeout=7&application_name=x")
                .unwrap();
        assert_eq!(tls.mode, SslMode::VerifyFull);
        assert_eq!(
            config.get_connect_timeout(),
            Some(&std::time::Duration::from_secs(7))
        );
        assert_eq!(config.get_application_name(), Some("x"));
    }

    #[test]
    fn sslrootcert_is_percent_decoded() {
        let tls = tls_of("postgres://app@db/app?sslrootcert=%2Fetc%2Fca%20dir%2Froot.crt");
        assert_eq!(
            tls.root_cert.as_deref(),
            Some(Path::new("/etc/ca dir/root.crt"))
        );
    }

    #[test]
    fn sslrootcert_system_means_verify_full_as_in_libpq() {
        assert_eq!(
            tls_of("postgres://app@db/app?sslrootcert=system").mode,
            SslMode::VerifyFull
        );
        let error = parse("postgres://app@db/app?sslrootcert=system&sslmode=require").unwrap_err();
        assert!(matches!(error, DriverError::Url { .. }), "{error:?}");
        assert!(
            error.to_string().contains("needs sslmode=verify-full"),
            "{error}"
        );
    }

    #[test]
    fn an_unknown_sslmode_is_a_url_error_without_the_password() {
        let error = parse("postgres://app:hunter2@db/app?sslmode=required").unwrap_err();
        let text = error.to_string();
        assert!(matches!(error, DriverError::Url { .. }), "{error:?}");
        assert!(
            text.contains("sslmode") && text.contains("required"),
            "{text}"
        );
        assert!(
            text.contains("verify-full"),
            "lists the valid values: {text}"
        );
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn client_certificates_are_refused_by_name() {
        let error = parse("postgres://app@db/app?sslcert=/c.pem").unwrap_err();
        assert!(matches!(error, DriverError::Url { .. }), "{error:?}");
        assert!(error.to_string().contains("sslcert"), "{error}");
    }

    #[test]
    fn a_refused_sslpassword_is_not_shown() {
        let error = parse("postgres://app@db/app?sslpassword=hunter2").unwrap_err();
        let text = error.to_string();
        assert!(text.contains("sslpassword"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn bad_percent_encoding_is_a_url_error() {
        let error = parse("postgres://app@db/app?sslrootcert=%zz").unwrap_err();
        assert!(matches!(error, DriverError::Url { .. }), "{error:?}");
    }
}

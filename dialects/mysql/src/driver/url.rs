//! Database URLs → `mysql_async` options, plus the TLS request strata handles itself.

use std::path::PathBuf;
use std::str::FromStr;

use mysql_async::{Opts, OptsBuilder};
use strata_engine::dialect::url::{
    join_query, percent_decode, refuse_fragment, split_query, QueryParam,
};

use super::tls::{SslMode, TlsRequest};

/// `mysql_async`'s own TLS parameters, which it reads itself.
const LIBRARY_TLS_PARAMETERS: &[&str] = &[
    "require_ssl",
    "verify_ca",
    "verify_identity",
    "built_in_roots",
];

/// MySQL client TLS options strata does not support yet (dashes as underscores):
/// refused by name rather than as `mysql_async`'s "unknown URL parameter".
const UNSUPPORTED_TLS_OPTIONS: &[&str] = &[
    "ssl_cert",
    "ssl_key",
    "ssl_capath",
    "ssl_crl",
    "ssl_crlpath",
    "ssl_cipher",
    "tls_version",
];

/// A URL's connection options and how it asks for TLS.
#[derive(Debug)]
pub(super) struct ConnectionUrl {
    /// Without TLS options when `tls` is [`TlsRequest::SslMode`]: the connect adds them.
    pub opts: Opts,
    pub tls: TlsRequest,
}

/// `mysql_async` options for `url`: the `mariadb` scheme becomes `mysql`, the MySQL
/// client's `ssl-mode` and `ssl-ca` are taken out of the query, and the connection
/// stays on the URL's TCP host and port unless the URL asks for `prefer_socket` itself
/// (`mysql_async` would otherwise move a loopback connection onto the server's Unix
/// socket, which MySQL may authenticate differently).
pub(super) fn parse(url: &str) -> Result<ConnectionUrl, String> {
    // The `url` crate would drop `#…` silently, with whatever of a password it held.
    refuse_fragment(url)?;
    let url = mysql_scheme(url)?;
    let (base, params) = split_query(&url);
    let mut mode = None;
    let mut ca = None;
    let mut library_tls = None;
    let mut kept = Vec::new();
    let decode = |raw| percent_decode(raw).map_err(|e| e.to_string());
    for QueryParam { pair, key, value } in params {
        // As in MySQL option names, dashes and underscores are interchangeable.
        match key.to_ascii_lowercase().replace('-', "_").as_str() {
            "ssl_mode" => mode = Some(SslMode::from_str(&decode(value)?)?),
            "ssl_ca" => ca = Some(PathBuf::from(decode(value)?)),
            option if UNSUPPORTED_TLS_OPTIONS.contains(&option) => {
                return Err(format!(
                    "`{key}`: client certificates, CA directories, revocation lists and \
                     cipher choices are not supported yet; strata's MySQL driver reads \
                     ssl-mode and ssl-ca"
                ));
            }
            _ => {
                if LIBRARY_TLS_PARAMETERS.contains(&key) {
                    library_tls.get_or_insert(key);
                }
                kept.push(pair);
            }
        }
    }
    let tls = match (mode, ca, library_tls) {
        (None, None, Some(_)) => TlsRequest::Library,
        (_, _, Some(key)) => {
            return Err(format!(
                "`{key}` is mysql_async's way to ask for TLS, and ssl-mode/ssl-ca the MySQL \
                 client's: use one of them"
            ))
        }
        // As in the `mysql` client, naming a CA without a mode asks to verify with it.
        (None, Some(ca), None) => TlsRequest::SslMode {
            mode: SslMode::VerifyCa,
            ca: Some(ca),
        },
        (mode, ca, None) => TlsRequest::SslMode {
            mode: mode.unwrap_or_default(),
            ca,
        },
    };
    let kept_url = join_query(base, &kept);
    let opts = Opts::from_url(&kept_url).map_err(|e| e.to_string())?;
    // Without one, the first statement fails far from the cause ("No database
    // selected"), after the lock and history were looked for in no schema.
    if opts.db_name().is_none_or(str::is_empty) {
        return Err(
            "no database: add `/dbname` to the URL, e.g. `mysql://user@host:3306/app`".to_string(),
        );
    }
    let asks_for_socket = kept.iter().any(|pair| pair.starts_with("prefer_socket="));
    let opts = if asks_for_socket {
        opts
    } else {
        OptsBuilder::from_opts(opts).prefer_socket(false).into()
    };
    Ok(ConnectionUrl { opts, tls })
}

/// `url` with a `mysql:` scheme, as `mysql_async` requires.
fn mysql_scheme(url: &str) -> Result<String, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| "expected mysql://user:password@host:port/database".to_string())?;
    if scheme.eq_ignore_ascii_case("mysql") || scheme.eq_ignore_ascii_case("mariadb") {
        Ok(format!("mysql://{rest}"))
    } else {
        Err(format!(
            "the scheme must be mysql or mariadb, not `{scheme}`"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mariadb_scheme_becomes_mysql() {
        assert_eq!(
            mysql_scheme("mariadb://u:p@h:3306/db?x=1").unwrap(),
            "mysql://u:p@h:3306/db?x=1"
        );
        assert_eq!(mysql_scheme("MySQL://h/db").unwrap(), "mysql://h/db");
        assert!(mysql_scheme("postgres://h/db").is_err());
        assert!(mysql_scheme("h/db").is_err());
    }

    fn opts_of(url: &str) -> Opts {
        parse(url).expect("a valid URL").opts
    }

    fn tls_of(url: &str) -> TlsRequest {
        parse(url).expect("a valid URL").tls
    }

    #[test]
    fn urls_parse_into_options() {
        let opts = opts_of("mariadb://app:s3cret@db.example:3307/shop");
        assert_eq!(opts.ip_or_hostname(), "db.example");
        assert_eq!(opts.tcp_port(), 3307);
        assert_eq!(opts.user(), Some("app"));
        assert_eq!(opts.db_name(), Some("shop"));
        assert!(!opts.prefer_socket());
        assert!(opts_of("mysql://h/db?prefer_socket=true").prefer_socket());
    }

    #[test]
    fn percent_encoded_passwords_are_decoded() {
        let opts = opts_of("mysql://app:p%40ss%3Aw@h/db");
        assert_eq!(opts.pass(), Some("p@ss:w"));
    }

    #[test]
    fn a_url_without_a_database_is_refused() {
        for url in [
            "mysql://root@h:3306",
            "mysql://root@h:3306/",
            "mariadb://root:pw@h/?ssl-mode=DISABLED",
        ] {
            let error = parse(url).unwrap_err();
            assert!(error.contains("add `/dbname`"), "{url}: {error}");
        }
    }

    #[test]
    fn fragments_are_refused() {
        for url in ["mysql://root@h/db#x", "mysql://root:pa#ss@h/db"] {
            let error = parse(url).unwrap_err();
            assert!(error.contains("%23"), "{url}: {error}");
            assert!(!error.contains("pa#ss"), "{url}: {error}");
        }
        assert_eq!(opts_of("mysql://root:pa%23ss@h/db").pass(), Some("pa#ss"));
    }

    #[test]
    fn ssl_mode_defaults_to_preferred() {
        let tls = tls_of("mysql://h/db");
        assert_eq!(
            tls,
            TlsRequest::SslMode {
                mode: SslMode::Preferred,
                ca: None
            }
        );
    }

    #[test]
    fn ssl_mode_is_read_in_both_spellings_and_any_case() {
        for query in [
            "ssl-mode=REQUIRED",
            "ssl_mode=required",
            "SSL-MODE=Required",
            "ssl-mode=VERIFY_IDENTITY&ssl-mode=REQUIRED",
        ] {
            let url = format!("mysql://h/db?{query}&prefer_socket=false");
            assert_eq!(
                tls_of(&url),
                TlsRequest::SslMode {
                    mode: SslMode::Required,
                    ca: None
                },
                "{url}"
            );
            assert!(opts_of(&url).ssl_opts().is_none(), "{url}");
        }
    }

    #[test]
    fn ssl_ca_alone_means_verify_ca() {
        let tls = tls_of("mysql://h/db?ssl-ca=%2Fetc%2Fmysql%2Fca.pem");
        assert_eq!(
            tls,
            TlsRequest::SslMode {
                mode: SslMode::VerifyCa,
                ca: Some(PathBuf::from("/etc/mysql/ca.pem"))
            }
        );
        let tls = tls_of("mysql://h/db?ssl_ca=/ca.pem&ssl-mode=verify_identity");
        assert_eq!(
            tls,
            TlsRequest::SslMode {
                mode: SslMode::VerifyIdentity,
                ca: Some(PathBuf::from("/ca.pem"))
            }
        );
    }

    #[test]
    fn mysql_async_parameters_keep_their_meaning() {
        let url = "mysql://h/db?require_ssl=true&verify_ca=false";
        assert_eq!(tls_of(url), TlsRequest::Library);
        let ssl = opts_of(url).ssl_opts().cloned().expect("TLS options");
        assert!(ssl.accept_invalid_certs());
    }

    #[test]
    fn both_ways_at_once_are_refused() {
        let error = parse("mysql://h/db?require_ssl=true&ssl-mode=REQUIRED").unwrap_err();
        assert!(error.contains("use one of them"), "{error}");
    }

    #[test]
    fn bad_tls_values_are_refused() {
        let error = parse("mysql://h/db?ssl-mode=VERIFY_FULL").unwrap_err();
        assert!(error.contains("unknown ssl-mode `VERIFY_FULL`"), "{error}");
        let error = parse("mysql://h/db?ssl-cert=/c.pem").unwrap_err();
        assert!(error.contains("ssl-cert"), "{error}");
        assert!(parse("mysql://h/db?ssl-ca=%zz").is_err());
    }
}

//! Database URLs → `mysql_async` options.

use mysql_async::{Opts, OptsBuilder};

/// `mysql_async` options for `url`: the `mariadb` scheme becomes `mysql`, and the
/// connection stays on the URL's TCP host and port unless the URL asks for
/// `prefer_socket` itself (`mysql_async` would otherwise move a loopback connection
/// onto the server's Unix socket, which MySQL may authenticate differently).
pub fn connection_opts(url: &str) -> Result<Opts, String> {
    let url = mysql_scheme(url)?;
    let opts = Opts::from_url(&url).map_err(|e| e.to_string())?;
    let asks_for_socket = url
        .split_once('?')
        .is_some_and(|(_, query)| query.split('&').any(|kv| kv.starts_with("prefer_socket=")));
    Ok(if asks_for_socket {
        opts
    } else {
        OptsBuilder::from_opts(opts).prefer_socket(false).into()
    })
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

    #[test]
    fn urls_parse_into_options() {
        let opts = connection_opts("mariadb://app:s3cret@db.example:3307/shop").unwrap();
        assert_eq!(opts.ip_or_hostname(), "db.example");
        assert_eq!(opts.tcp_port(), 3307);
        assert_eq!(opts.user(), Some("app"));
        assert_eq!(opts.db_name(), Some("shop"));
        assert!(!opts.prefer_socket());
        assert!(connection_opts("mysql://h/db?prefer_socket=true")
            .unwrap()
            .prefer_socket());
    }

    #[test]
    fn percent_encoded_passwords_are_decoded() {
        let opts = connection_opts("mysql://app:p%40ss%3Aw@h/db").unwrap();
        assert_eq!(opts.pass(), Some("p@ss:w"));
    }
}

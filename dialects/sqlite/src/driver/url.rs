//! `sqlite:` URLs: which database file (or memory) a URL names.
//!
//! - `sqlite://db.sqlite3`, `sqlite://data/db.sqlite3`: relative to the current directory;
//! - `sqlite:///var/lib/app/db.sqlite3`: absolute (three slashes, as in SQLAlchemy);
//! - `sqlite::memory:` (also `sqlite://:memory:`): a private in-memory database;
//! - `sqlite:db.sqlite3`: relative, the short form sqlx accepts.
//!
//! `%XX` escapes are decoded (`my%20db.sqlite3`). Query parameters are refused rather
//! than silently taken as part of the file name.

use std::path::PathBuf;

use strata_engine::dialect::driver::{redact_url, DriverError};
use strata_engine::dialect::url::percent_decode;

/// Where a URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Memory,
    File(PathBuf),
}

/// Parses a `sqlite:` URL.
pub fn parse(url: &str) -> Result<Location, DriverError> {
    let bad = |reason: &str| DriverError::Url {
        url: redact_url(url),
        reason: reason.to_string(),
    };
    let (scheme, rest) = url.split_once(':').ok_or_else(|| {
        bad("expected `sqlite://path`, `sqlite:///absolute/path` or `sqlite::memory:`")
    })?;
    if !scheme.eq_ignore_ascii_case("sqlite") {
        return Err(bad("not a `sqlite:` URL"));
    }
    if rest.contains('?') || rest.contains('#') {
        return Err(bad("query parameters and fragments are not supported"));
    }
    // `//path` and `path` are both relative; `///path` keeps its leading slash.
    let path = rest.strip_prefix("//").unwrap_or(rest);
    if path == ":memory:" {
        return Ok(Location::Memory);
    }
    if path.is_empty() {
        return Err(bad("no file name; e.g. `sqlite://db.sqlite3`"));
    }
    // `sqlite://user:password@host/db` was meant for a server; its file name would
    // carry the password into messages and onto the disk.
    if path
        .split('/')
        .next()
        .is_some_and(|first| first.contains('@'))
    {
        return Err(bad(
            "a SQLite URL names a file and has no user, password or host; \
             e.g. `sqlite://db.sqlite3`",
        ));
    }
    let decoded = percent_decode(path).map_err(|_| bad("invalid %-escape"))?;
    Ok(Location::File(PathBuf::from(decoded)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> Location {
        Location::File(PathBuf::from(path))
    }

    #[test]
    fn relative_paths_have_two_slashes() {
        assert_eq!(parse("sqlite://db.sqlite3").unwrap(), file("db.sqlite3"));
        assert_eq!(parse("sqlite://data/app.db").unwrap(), file("data/app.db"));
        assert_eq!(parse("sqlite:db.sqlite3").unwrap(), file("db.sqlite3"));
    }

    #[test]
    fn absolute_paths_have_three_slashes() {
        assert_eq!(
            parse("sqlite:///var/lib/app.db").unwrap(),
            file("/var/lib/app.db")
        );
    }

    #[test]
    fn memory_databases() {
        assert_eq!(parse("sqlite::memory:").unwrap(), Location::Memory);
        assert_eq!(parse("sqlite://:memory:").unwrap(), Location::Memory);
    }

    #[test]
    fn escapes_are_decoded_and_the_scheme_is_case_insensitive() {
        assert_eq!(
            parse("SQLite://my%20db.sqlite3").unwrap(),
            file("my db.sqlite3")
        );
    }

    #[test]
    fn errors_never_show_a_password() {
        for url in [
            "sqlite://user:Zq8@/tmp/x.db",
            "sqlite://x.db?password=Zq8",
            "sqlite:u:Zq8@x.db#frag",
        ] {
            let error = parse(url).unwrap_err().to_string();
            assert!(!error.contains("Zq8"), "{url} → {error}");
        }
    }

    #[test]
    fn at_signs_deeper_in_the_path_are_file_names() {
        assert_eq!(parse("sqlite://data/a@b.db").unwrap(), file("data/a@b.db"));
    }

    #[test]
    fn bad_urls_say_why() {
        for url in [
            "postgres://x",
            "sqlite://",
            "sqlite:",
            "db.sqlite3",
            "sqlite://a.db?mode=ro",
            "sqlite://a%2.db",
            "sqlite://user:pw@/tmp/x.db",
            "sqlite:user:pw@x.db",
            "sqlite://user@host/x.db",
        ] {
            assert!(
                matches!(parse(url), Err(DriverError::Url { .. })),
                "{url} should be refused"
            );
        }
    }
}

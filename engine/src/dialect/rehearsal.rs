//! `migrate --rehearse`: a throwaway copy of the target database, made and dropped by
//! its backend ([`super::Backend::rehearsal_copy`]), that the pending plan runs on.
//!
//! A copy is named `<database>_strata_rehearsal_<pid>` (a SQLite file: next to the
//! original, with that stem), so that one a killed rehearsal left behind is easy to
//! find and drop by hand.

use std::fmt;

/// The suffix every rehearsal copy's name carries, followed by the process id.
pub const COPY_MARKER: &str = "_strata_rehearsal_";

/// The name of a copy of `database` made by this process, at most `max_len` bytes
/// (the server's identifier limit): `database` is shortened to fit, never the
/// marker, so that the copy stays findable.
pub fn copy_name(database: &str, max_len: usize) -> String {
    let suffix = format!("{COPY_MARKER}{}", std::process::id());
    let mut keep = max_len.saturating_sub(suffix.len()).min(database.len());
    while !database.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}{suffix}", &database[..keep])
}

/// `url` (`scheme://[user[:password]@]host[:port]/database[?query]`) naming the
/// database `name` instead; `None` for a URL of another form.
pub fn url_with_database(url: &str, name: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    // The password may hold a `/`: the path starts after the last `@`.
    let host_from = before_query.rfind('@').map_or(0, |at| at + 1);
    let path_at = before_query[host_from..]
        .find('/')
        .map_or(before_query.len(), |slash| host_from + slash);
    let mut out = format!("{scheme}://{}/{}", &before_query[..path_at], escape(name));
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    Some(out)
}

/// A database name as a URL path holds it.
fn escape(name: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' => {
                out.push(char::from(byte));
            }
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out
}

/// `--rehearse-sample`: at most `rows` rows of each table, but the history table
/// whole, since its rows decide which migrations are pending (a sampled history
/// would have the rehearsal run applied migrations again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample<'a> {
    pub rows: u64,
    pub history_table: &'a str,
}

impl Sample<'_> {
    /// The most rows of `table` to copy (`None`: all).
    pub fn limit(&self, table: &str) -> Option<u64> {
        (table != self.history_table).then_some(self.rows)
    }
}

/// How the copy was made, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CopyMethod {
    /// A consistent file copy (SQLite's `VACUUM INTO`).
    File,
    /// `CREATE DATABASE … TEMPLATE` (PostgreSQL).
    Template,
    /// The structure rebuilt and the rows copied (all, or a sample per table).
    Rows,
}

impl fmt::Display for CopyMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CopyMethod::File => "file copy",
            CopyMethod::Template => "template copy",
            CopyMethod::Rows => "structure and rows copied",
        })
    }
}

/// A copy made by [`super::Backend::rehearsal_copy`]; give it back to
/// [`super::Backend::drop_rehearsal_copy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RehearsalCopy {
    /// Where to connect to the copy (holds the original URL's credentials: print it
    /// only through `redact_url`).
    pub url: String,
    /// The copy as its server names it (a SQLite file: its path).
    pub name: String,
    pub method: CopyMethod,
    /// At most this many rows were copied per table (`None`: all of them).
    pub sample: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_name_is_shortened_before_the_marker() {
        let name = copy_name(&"x".repeat(80), 63);
        assert_eq!(name.len(), 63);
        assert!(name.contains(COPY_MARKER), "{name}");
        assert!(copy_name("app", 63).starts_with("app_strata_rehearsal_"));
    }

    #[test]
    fn the_history_table_is_never_sampled() {
        let sample = Sample {
            rows: 0,
            history_table: "strata_migrations",
        };
        assert_eq!(sample.limit("items"), Some(0));
        assert_eq!(sample.limit("strata_migrations"), None);
    }

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            url_with_database("postgres://u:p/w@h:5432/app?sslmode=disable", "c").unwrap(),
            "postgres://u:p/w@h:5432/c?sslmode=disable"
        );
        assert_eq!(
            url_with_database("mysql://root@127.0.0.1", "c d").unwrap(),
            "mysql://root@127.0.0.1/c%20d"
        );
        assert_eq!(url_with_database("host=h dbname=app", "c"), None);
    }
}

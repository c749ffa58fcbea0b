//! Session settings the rendered SQL relies on: strings read as the dialect writes
//! them, and strictness, so that the server refuses a value it would otherwise cut.

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

/// Flags added to the session's `sql_mode`: a value that does not fit its column is
/// an error, not a truncated value with a warning (`STRICT_ALL_TABLES`, also for
/// non-transactional tables), and so are zero or invalid dates and division by zero
/// in a write.
pub(super) const STRICT_FLAGS: &[&str] = &[
    "STRICT_ALL_TABLES",
    "NO_ZERO_DATE",
    "NO_ZERO_IN_DATE",
    "ERROR_FOR_DIVISION_BY_ZERO",
];

/// Flags taken out: `NO_BACKSLASH_ESCAPES` (the dialect escapes backslashes in string
/// literals), and `ALLOW_INVALID_DATES`, which would store `2024-02-31`.
const REMOVED_FLAGS: &[&str] = &["NO_BACKSLASH_ESCAPES", "ALLOW_INVALID_DATES"];

/// The session's `sql_mode` for strata: the server's mode, other flags kept as they
/// are (`ANSI_QUOTES`, `NO_AUTO_VALUE_ON_ZERO`, … change nothing strata writes, or
/// were chosen for this server's data), with [`STRICT_FLAGS`] added and
/// [`REMOVED_FLAGS`] taken out.
pub(super) fn strict_mode(server_mode: &str) -> String {
    let mut flags: Vec<String> = server_mode
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .filter(|f| !REMOVED_FLAGS.iter().any(|r| r.eq_ignore_ascii_case(f)))
        .map(str::to_ascii_uppercase)
        .collect();
    for flag in STRICT_FLAGS {
        if !flags.iter().any(|f| f == flag) {
            flags.push((*flag).to_string());
        }
    }
    flags.join(",")
}

/// Sets the session's `sql_mode` to [`strict_mode`] of what it is now.
pub(super) async fn configure(conn: &mut Conn) -> Result<(), mysql_async::Error> {
    let mode: Option<String> = conn.query_first("SELECT @@SESSION.sql_mode").await?;
    let wanted = strict_mode(&mode.unwrap_or_default());
    // Mode names are letters and underscores, so nothing needs escaping; quotes are
    // doubled all the same, the one escaping valid with NO_BACKSLASH_ESCAPES still on.
    let sql = format!("SET SESSION sql_mode = '{}'", wanted.replace('\'', "''"));
    conn.query_drop(sql).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strictness_is_added_and_other_flags_are_kept() {
        assert_eq!(
            strict_mode(""),
            "STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO"
        );
        let mode = strict_mode(
            "ansi_quotes,NO_BACKSLASH_ESCAPES,STRICT_TRANS_TABLES,ALLOW_INVALID_DATES,NO_ZERO_DATE",
        );
        assert_eq!(
            mode,
            "ANSI_QUOTES,STRICT_TRANS_TABLES,NO_ZERO_DATE,STRICT_ALL_TABLES,NO_ZERO_IN_DATE,\
             ERROR_FOR_DIVISION_BY_ZERO"
        );
    }
}

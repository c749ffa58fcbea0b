//! The server refusing the algorithm a safe plan asked for: what the user can do.
//!
//! A safe `ALTER TABLE` names `ALGORITHM=INSTANT` or `INPLACE, LOCK=NONE` (see the
//! dialect's `online`), so a change the server can only make by copying the table
//! fails (ER_ALTER_OPERATION_NOT_SUPPORTED, _REASON) instead of blocking writes for
//! the length of the copy. The error says so, and how to proceed.

use strata_engine::ServerVersion;

use crate::flavour::Flavour;

/// ER_ALTER_OPERATION_NOT_SUPPORTED: "ALGORITHM=INSTANT is not supported for this
/// operation. Try ALGORITHM=COPY".
pub(super) const NOT_SUPPORTED: u16 = 1845;
/// ER_ALTER_OPERATION_NOT_SUPPORTED_REASON: "… is not supported. Reason: …".
pub(super) const NOT_SUPPORTED_REASON: u16 = 1846;

/// The message for server error `number` (whose own words are `said`) of `sql`,
/// when it is the server refusing an online algorithm; `None` otherwise.
pub(super) fn message(
    number: u16,
    said: &str,
    sql: &str,
    flavour: Flavour,
    version: ServerVersion,
) -> Option<String> {
    if number != NOT_SUPPORTED && number != NOT_SUPPORTED_REASON {
        return None;
    }
    let table = altered_table(sql).unwrap_or_else(|| "the table".to_string());
    Some(format!(
        "this change needs a table copy of {table} on {flavour} {version} (blocking \
         writes for the copy); run it with `safe = false` on this migration to accept \
         the copy, or with an online schema change tool (gh-ost, \
         pt-online-schema-change). The server said: {said}"
    ))
}

/// The table of `ALTER TABLE `name` …`, as `` `name` ``.
fn altered_table(sql: &str) -> Option<String> {
    let rest = sql.strip_prefix("ALTER TABLE `")?;
    let mut name = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '`' {
            if chars.peek() == Some(&'`') {
                chars.next();
            } else {
                return Some(format!("`{name}`"));
            }
        }
        name.push(c);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_algorithm_names_the_table_the_server_and_the_ways_out() {
        let sql = "ALTER TABLE `a``b` ADD x, ALGORITHM=INSTANT";
        let version = ServerVersion::new(10, 11, 2);
        let text = message(
            1846,
            "ERROR 1846 (0A000): no",
            sql,
            Flavour::Mariadb,
            version,
        )
        .expect("a refusal");
        assert!(
            text.starts_with(
                "this change needs a table copy of `a`b` on MariaDB 10.11.2 (blocking writes \
                 for the copy); run it with `safe = false`"
            ),
            "{text}"
        );
        assert!(text.contains("(gh-ost, pt-online-schema-change)"), "{text}");
        assert!(
            text.ends_with("The server said: ERROR 1846 (0A000): no"),
            "{text}"
        );
        assert!(message(1845, "x", sql, Flavour::Mysql, version).is_some());
    }

    #[test]
    fn other_errors_are_not_refusals() {
        let version = ServerVersion::new(8, 0, 36);
        assert_eq!(
            message(1146, "x", "ALTER TABLE `t` ADD x", Flavour::Mysql, version),
            None
        );
    }
}

//! Session settings the rendered SQL relies on.

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

/// Clears `NO_BACKSLASH_ESCAPES` from the session's `sql_mode`: the dialect escapes
/// backslashes in string literals, so the session must read them as escapes. The
/// rest of the mode (strictness above all) stays as the server has it.
pub(super) async fn enable_backslash_escapes(conn: &mut Conn) -> Result<(), mysql_async::Error> {
    let mode: Option<String> = conn.query_first("SELECT @@SESSION.sql_mode").await?;
    let mode = mode.unwrap_or_default();
    let is_flag = |f: &&str| f.eq_ignore_ascii_case("NO_BACKSLASH_ESCAPES");
    let flags: Vec<&str> = mode.split(',').filter(|f| !f.is_empty()).collect();
    if !flags.iter().any(is_flag) {
        return Ok(());
    }
    let kept: Vec<&str> = flags.into_iter().filter(|f| !is_flag(f)).collect();
    // Mode names are letters and underscores, so nothing needs escaping; quotes are
    // doubled all the same, the one escaping valid with NO_BACKSLASH_ESCAPES still on.
    let sql = format!(
        "SET SESSION sql_mode = '{}'",
        kept.join(",").replace('\'', "''")
    );
    conn.query_drop(sql).await
}

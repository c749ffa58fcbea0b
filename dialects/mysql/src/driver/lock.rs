//! The migration lock: MySQL's named user locks (`GET_LOCK`), which the server
//! releases by itself when the session ends, so a crashed run never leaves one.

use strata_engine::naming::fit_identifier;

/// MySQL refuses user-lock names longer than 64 characters.
const MAX_LOCK_NAME_LEN: usize = 64;

/// The server-wide lock name for the engine's lock `name` in `database`.
///
/// User locks are global to the server, not per database: qualifying the name
/// with the database keeps two projects on one server from waiting on each other.
pub(super) fn lock_key(database: Option<&str>, name: &str) -> String {
    let qualified = match database {
        Some(db) => format!("{db}.{name}"),
        None => name.to_string(),
    };
    fit_identifier(&qualified, MAX_LOCK_NAME_LEN)
}

/// `SELECT GET_LOCK(…, 0)`: 1 when taken, 0 when another session holds it; never
/// waits (the engine owns the retry policy).
pub(super) fn try_lock_sql(key: &str, quote: impl Fn(&str) -> String) -> String {
    format!("SELECT GET_LOCK({}, 0)", quote(key))
}

/// Who holds the lock: its connection id, and the user, host, command and seconds
/// in that command where the `PROCESSLIST` shows them (it shows other users'
/// sessions only with the PROCESS privilege).
pub(super) fn holder_sql(key: &str, quote: impl Fn(&str) -> String) -> String {
    format!(
        "SELECT l.id, p.USER, p.HOST, p.COMMAND, p.TIME FROM (SELECT IS_USED_LOCK({}) AS id) AS l \
         LEFT JOIN information_schema.PROCESSLIST AS p ON p.ID = l.id",
        quote(key)
    )
}

pub(super) fn unlock_sql(key: &str, quote: impl Fn(&str) -> String) -> String {
    format!("SELECT RELEASE_LOCK({})", quote(key))
}

/// A row of `holder_sql`, as far as the server filled it in.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Holder<'a> {
    pub id: Option<&'a str>,
    pub user: Option<&'a str>,
    pub host: Option<&'a str>,
    pub command: Option<&'a str>,
    pub seconds: Option<&'a str>,
}

/// `connection 42 (app@10.0.0.5:51234, Query for 12s)`, or as much of it as is
/// known; `None` when the lock was released in the meantime.
pub(super) fn describe_holder(holder: Holder<'_>) -> Option<String> {
    let id = holder.id?;
    let mut details = Vec::new();
    if let (Some(user), Some(host)) = (holder.user, holder.host) {
        details.push(format!("{user}@{host}"));
    }
    if let (Some(command), Some(seconds)) = (holder.command, holder.seconds) {
        details.push(format!("{command} for {seconds}s"));
    }
    Some(if details.is_empty() {
        format!("connection {id}")
    } else {
        format!("connection {id} ({})", details.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_names_are_qualified_by_database_and_fit_64() {
        assert_eq!(
            lock_key(Some("shop"), "strata:strata_migrations"),
            "shop.strata:strata_migrations"
        );
        assert_eq!(lock_key(None, "strata:x"), "strata:x");
        let long = lock_key(Some(&"d".repeat(64)), "strata:strata_migrations");
        assert!(long.len() <= 64, "{long}");
        assert_ne!(
            long,
            lock_key(Some(&"d".repeat(63)), "strata:strata_migrations")
        );
    }

    #[test]
    fn holders_are_described_with_what_is_known() {
        assert_eq!(describe_holder(Holder::default()), None);
        let id = Holder {
            id: Some("7"),
            ..Holder::default()
        };
        assert_eq!(describe_holder(id).as_deref(), Some("connection 7"));
        let seen = Holder {
            user: Some("app"),
            host: Some("h:1"),
            ..id
        };
        assert_eq!(
            describe_holder(seen).as_deref(),
            Some("connection 7 (app@h:1)")
        );
        let busy = Holder {
            command: Some("Query"),
            seconds: Some("12"),
            ..seen
        };
        assert_eq!(
            describe_holder(busy).as_deref(),
            Some("connection 7 (app@h:1, Query for 12s)")
        );
    }
}

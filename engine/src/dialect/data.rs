//! What the data operations (`run_code`, `backfill`) render to: not SQL the runner
//! sends as it is, but statements marked with what the runner needs to do their work
//! (call the application's function, walk the table in batches). Their `sql` is what
//! `sqlmigrate` shows.

use std::fmt::Write as _;
use std::time::Duration;

use super::Dialect;

/// A `run_code` statement: the runner calls the application's function `function`
/// (`code::Functions`) on its connection instead of sending SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub function: String,
}

impl Call {
    /// The placeholder `sqlmigrate` prints where the function runs.
    pub fn placeholder(function: &str) -> String {
        format!(
            "-- run_code: calls the application's function {function} (registered with strata::Migrator; the CLI cannot run it)"
        )
    }
}

/// A `backfill` statement, rendered for one dialect: everything the runner needs to
/// walk the table's primary key in batches. Identifiers are quoted, the SET list and
/// the filter are this dialect's SQL; key values come from the server and go back
/// into SQL through [`BackfillSql::literal`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillSql {
    /// The table, unquoted (for messages and progress).
    pub table: String,
    /// The primary key column, unquoted.
    pub key_name: String,
    pub quoted_table: String,
    pub quoted_key: String,
    /// The key is an integer column: its values go into SQL as numbers.
    pub numeric_key: bool,
    /// The SET list (`"slug" = lower("title")`).
    pub set: String,
    /// The `where` filter, if any.
    pub predicate: Option<String>,
    pub batch_size: u64,
    pub pause: Option<Duration>,
}

impl BackfillSql {
    fn after(&self, after: Option<&str>) -> String {
        after
            .map(|last| format!(" WHERE {} > {last}", self.quoted_key))
            .unwrap_or_default()
    }

    /// The key ending the next full batch after key literal `after` (`None`: from the
    /// start); no row when fewer than a batch remain (then [`BackfillSql::last_key`]).
    /// The walk counts keys, not filtered rows, so every batch reads at most
    /// `batch_size` index entries whatever the filter.
    pub fn next_end(&self, after: Option<&str>) -> String {
        format!(
            "SELECT {key} FROM {table}{after} ORDER BY {key} LIMIT 1 OFFSET {offset}",
            key = self.quoted_key,
            table = self.quoted_table,
            after = self.after(after),
            offset = self.batch_size.saturating_sub(1)
        )
    }

    /// The last key after `after` (NULL when none is left).
    pub fn last_key(&self, after: Option<&str>) -> String {
        format!(
            "SELECT max({}) FROM {}{}",
            self.quoted_key,
            self.quoted_table,
            self.after(after)
        )
    }

    /// The number of keys after `after` up to `end`: the rows of a short last batch.
    pub fn count(&self, after: Option<&str>, end: &str) -> String {
        let key = &self.quoted_key;
        let mut sql = format!(
            "SELECT count(*) FROM {}{}",
            self.quoted_table,
            self.after(after)
        );
        let _ = write!(
            sql,
            "{} {key} <= {end}",
            if after.is_some() { " AND" } else { " WHERE" }
        );
        sql
    }

    /// The UPDATE of the batch of keys after `after` up to `end` (key literals).
    pub fn update(&self, after: Option<&str>, end: &str) -> String {
        let key = &self.quoted_key;
        let mut sql = format!("UPDATE {} SET {} WHERE ", self.quoted_table, self.set);
        if let Some(after) = after {
            let _ = write!(sql, "{key} > {after} AND ");
        }
        let _ = write!(sql, "{key} <= {end}");
        if let Some(predicate) = &self.predicate {
            let _ = write!(sql, " AND ({predicate})");
        }
        sql
    }

    /// A key value read from the server as SQL: a number for an integer key (refused
    /// unless it is one), a string literal quoted by the dialect otherwise. Never the
    /// text as it came.
    pub fn literal(&self, dialect: &dyn Dialect, value: &str) -> Option<String> {
        if self.numeric_key {
            value.parse::<i128>().ok().map(|n| n.to_string())
        } else {
            Some(dialect.string_value(value))
        }
    }

    /// The comment `sqlmigrate` prints above the UPDATE of one batch.
    pub fn describe(&self) -> String {
        let pause = self
            .pause
            .map(|p| {
                format!(
                    ", pausing {} between batches",
                    humantime::format_duration(p)
                )
            })
            .unwrap_or_default();
        format!(
            "-- backfill {} in batches of {} by {}, each committed with its checkpoint{pause}:",
            self.table, self.batch_size, self.key_name
        )
    }
}

//! Whether the history table can be believed, checked against itself and the project
//! before anything runs: rows that cannot be read, a migration with several rows, rows
//! whose file is gone, a migration recorded before its dependency (Django's
//! `InconsistentMigrationHistory`), a checkpoint past the end of its file.
//!
//! Pure functions over rows already read (the read `migrate` does anyway), so the
//! check costs no query. `migrate` (through the executor's `plan`) refuses on any
//! [`Problem::blocks`]; `showmigrations` shows every problem next to its migration.
//!
//! Every one is bad input (exit 2), not a database failure: nothing was attempted,
//! retrying cannot help, and a person must decide whether the files or the table are
//! right. `docs/history.md` says how to repair each.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::{HistoryRow, RowState};
use crate::graph::Graph;
use crate::migration::MigrationKey;

/// What reading found wrong with the table's rows themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Damage {
    /// Migrations with more than one row, and how many they have.
    pub duplicates: BTreeMap<MigrationKey, usize>,
    /// Rows that could not be understood.
    pub corrupt: Vec<CorruptRow>,
}

/// A row with at least one column that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptRow {
    /// The `app` and `name` columns as stored, to say which row it is.
    pub app: Option<String>,
    pub name: Option<String>,
    pub columns: Vec<BadColumn>,
}

impl CorruptRow {
    /// The migration the row is about, when its `app` and `name` are readable.
    pub fn key(&self) -> Option<MigrationKey> {
        match (&self.app, &self.name) {
            (Some(app), Some(name)) if plain(app) && plain(name) => {
                Some(MigrationKey::new(app.clone(), name.clone()))
            }
            _ => None,
        }
    }
}

/// One column of a row that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadColumn {
    pub column: &'static str,
    /// The value found, shortened for a message; `None` for NULL.
    pub found: Option<String>,
    pub expected: &'static str,
}

impl BadColumn {
    pub(super) fn new(column: &'static str, found: Option<&str>, expected: &'static str) -> Self {
        Self {
            column,
            found: found.map(shorten),
            expected,
        }
    }
}

/// The longest stored value a message repeats; a longer one is cut.
const SHOWN_CHARS: usize = 40;

fn shorten(value: &str) -> String {
    let mut shown: String = value.chars().take(SHOWN_CHARS).collect();
    if value.chars().count() > SHOWN_CHARS {
        shown.push('…');
    }
    shown
}

/// A value as a message shows it: quoted, control characters escaped, or NULL.
fn show(value: Option<&str>) -> String {
    value.map_or_else(|| "NULL".to_string(), |v| format!("'{}'", v.escape_debug()))
}

/// Text a terminal shows as it is: not blank, and no control or bidirectional
/// formatting characters (an escape sequence or a right-to-left override in a row
/// would reach the terminal raw).
fn plain(text: &str) -> bool {
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    !text.trim().is_empty() && !text.chars().any(hidden)
}

/// A required text column: present, not blank, and plain.
pub(super) fn text(
    value: Option<String>,
    column: &'static str,
    bad: &mut Vec<BadColumn>,
) -> Option<String> {
    match value {
        Some(v) if plain(&v) => Some(v),
        other => {
            bad.push(BadColumn::new(
                column,
                other.as_deref(),
                "a name without control characters",
            ));
            None
        }
    }
}

/// A count: a whole number, zero or more.
pub(super) fn number(
    value: Option<&str>,
    column: &'static str,
    bad: &mut Vec<BadColumn>,
) -> Option<usize> {
    let parsed = value
        .and_then(|v| v.trim().parse::<u64>().ok())
        .and_then(|n| usize::try_from(n).ok());
    if parsed.is_none() {
        bad.push(BadColumn::new(column, value, "a whole number, 0 or more"));
    }
    parsed
}

/// The row format: 1 or more (a larger one than [`super::FORMAT`] is a newer strata's).
pub(super) fn format(value: Option<&str>, bad: &mut Vec<BadColumn>) -> Option<u32> {
    let parsed = value
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|f| *f >= 1);
    if parsed.is_none() {
        bad.push(BadColumn::new(
            "format",
            value,
            "a row format number, 1 or more",
        ));
    }
    parsed
}

/// A SHA-256 as strata writes it (a `char(64)` may come back padded).
pub(super) fn checksum(value: Option<&str>, bad: &mut Vec<BadColumn>) -> Option<String> {
    let trimmed = value.map(str::trim_end);
    match trimmed {
        Some(sum)
            if sum.len() == 64
                && sum
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
        {
            Some(sum.to_string())
        }
        _ => {
            bad.push(BadColumn::new(
                "checksum",
                value,
                "a SHA-256: 64 lowercase hex digits",
            ));
            None
        }
    }
}

/// One reason not to believe the history table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A row with columns that cannot be understood.
    Corrupt(CorruptRow),
    /// A migration with `count` rows (a table without its unique key, or a
    /// hand-made insert).
    Duplicate { key: MigrationKey, count: usize },
    /// A row of an app of the project whose migration file is gone. `renamed_to`: a
    /// file of the same app with the same content and no row of its own.
    MissingFile {
        key: MigrationKey,
        state: RowState,
        path: String,
        renamed_to: Option<String>,
    },
    /// Rows of an app that is not in the project (removed from `strata.toml`): not
    /// ours to judge, so they are shown and otherwise left alone.
    OtherApp { app: String, rows: usize },
    /// `key` is recorded (applied, or partially) while `dependency` is not applied.
    Inconsistent {
        key: MigrationKey,
        state: RowState,
        dependency: MigrationKey,
        dependency_state: Option<RowState>,
    },
    /// A checkpoint past the last operation of the (unchanged) file.
    BeyondEnd {
        key: MigrationKey,
        done: usize,
        total: usize,
    },
}

impl Problem {
    /// Whether `migrate` must refuse to run. Only rows of an app outside the project
    /// do not stop it: that is how an app is removed.
    pub fn blocks(&self) -> bool {
        !matches!(self, Problem::OtherApp { .. })
    }

    /// The migration the problem is about, when there is one.
    pub fn key(&self) -> Option<MigrationKey> {
        match self {
            Problem::Corrupt(row) => row.key(),
            Problem::Duplicate { key, .. }
            | Problem::MissingFile { key, .. }
            | Problem::Inconsistent { key, .. }
            | Problem::BeyondEnd { key, .. } => Some(key.clone()),
            Problem::OtherApp { .. } => None,
        }
    }

    /// A few words for a listing that shows the problem next to its migration.
    pub fn short(&self) -> String {
        match self {
            Problem::Corrupt(row) => {
                let columns: Vec<&str> = row.columns.iter().map(|c| c.column).collect();
                format!("unreadable row: {}", columns.join(", "))
            }
            Problem::Duplicate { count, .. } => format!("{count} history rows"),
            Problem::MissingFile { renamed_to, .. } => match renamed_to {
                Some(new) => format!("file missing; renamed to {new}?"),
                None => "file missing".to_string(),
            },
            Problem::OtherApp { .. } => "app not in this project".to_string(),
            Problem::Inconsistent { dependency, .. } => {
                format!("recorded before its dependency {dependency}")
            }
            Problem::BeyondEnd { done, total, .. } => {
                format!("checkpoint {done} past its {total} operations")
            }
        }
    }
}

fn state_word(state: RowState) -> &'static str {
    match state {
        RowState::Applied => "applied",
        RowState::Partial => "partially applied",
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Corrupt(row) => {
                let which = match row.key() {
                    Some(key) => format!("the row of {key}"),
                    None => format!("a row (app {}, name {})", show(row.app.as_deref()), show(row.name.as_deref())),
                };
                let columns: Vec<String> = row
                    .columns
                    .iter()
                    .map(|c| {
                        format!(
                            "column `{}` holds {} (expected {})",
                            c.column,
                            show(c.found.as_deref()),
                            c.expected
                        )
                    })
                    .collect();
                write!(f, "{which} is unreadable: {}", columns.join("; "))
            }
            Problem::Duplicate { key, count } => write!(
                f,
                "{key} has {count} rows, where there must be one; delete all but one of them"
            ),
            Problem::MissingFile {
                key,
                state,
                path,
                renamed_to: Some(new),
            } => write!(
                f,
                "{key} has no file any more ({path}) but is recorded as {}; {}.{new} has the same content and no row, so it looks renamed: if so, record the new name (set `name` = '{new}' in its row)",
                state_word(*state),
                key.app,
            ),
            Problem::MissingFile {
                key, state, path, ..
            } => write!(
                f,
                "{key} has no file any more ({path}) but is recorded as {}; restore the file from version control or, if it was deleted on purpose and its changes are undone in the database, delete its row",
                state_word(*state),
            ),
            Problem::OtherApp { app, rows } => write!(
                f,
                "{rows} row(s) of app `{app}`, which is not in this project, are ignored"
            ),
            Problem::Inconsistent {
                key,
                state,
                dependency,
                dependency_state,
            } => write!(
                f,
                "{key} is recorded as {} but its dependency {dependency} is {}: if {dependency}'s changes are in the database its row was lost (record it), otherwise {key} was recorded by mistake (delete its row)",
                state_word(*state),
                dependency_state.map_or("not applied", |_| "only partially applied"),
            ),
            Problem::BeyondEnd { key, done, total } => write!(
                f,
                "{key} is recorded as partially applied with {done} operations done, but its file has {total}: set `operations_done` to what the database really holds"
            ),
        }
    }
}

/// The message for `problems` of `table`: one line each.
pub fn describe(table: &str, problems: &[Problem]) -> String {
    let mut text = format!(
        "the history table `{table}` cannot be trusted, so nothing was run ({} problem{}):",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for problem in problems {
        text.push_str("\n  - ");
        text.push_str(&problem.to_string());
    }
    text.push_str("\nrepair `");
    text.push_str(table);
    text.push_str("` (or the files) and run again; docs/history.md shows the SQL for each case");
    text
}

/// Every problem of the history `rows` (and what reading them found, `damage`)
/// against the project's `graph`, in a stable order.
pub fn check(
    graph: &Graph,
    rows: &BTreeMap<MigrationKey, HistoryRow>,
    damage: &Damage,
) -> Vec<Problem> {
    let mut problems: Vec<Problem> = damage
        .corrupt
        .iter()
        .cloned()
        .map(Problem::Corrupt)
        .collect();
    problems.extend(
        damage
            .duplicates
            .iter()
            .map(|(key, count)| Problem::Duplicate {
                key: key.clone(),
                count: *count,
            }),
    );
    // Keys with an unreadable row are reported once, as unreadable.
    let unreadable: BTreeSet<MigrationKey> =
        damage.corrupt.iter().filter_map(CorruptRow::key).collect();
    let mut other_apps: BTreeMap<&str, usize> = BTreeMap::new();
    for row in rows.values() {
        if !graph.apps().contains(&row.key.app) {
            if is_app_name(&row.key.app) {
                *other_apps.entry(&row.key.app).or_default() += 1;
            } else {
                problems.push(Problem::Corrupt(CorruptRow {
                    app: Some(row.key.app.clone()),
                    name: Some(row.key.name.clone()),
                    columns: vec![BadColumn::new(
                        "app",
                        Some(&row.key.app),
                        "an app name: letters, digits and `_`",
                    )],
                }));
            }
            continue;
        }
        let Some(m) = graph.get(&row.key) else {
            problems.push(missing_file(graph, rows, row));
            continue;
        };
        // Only with the file's checksum is the file known unchanged, and the row
        // wrong; otherwise operations were deleted, which `edits` reports.
        if row.state == RowState::Partial
            && row.checksum == m.checksum
            && row.operations_done > m.operations.len()
        {
            problems.push(Problem::BeyondEnd {
                key: row.key.clone(),
                done: row.operations_done,
                total: m.operations.len(),
            });
        }
        for dependency in &m.dependencies {
            let dependency_state = rows.get(dependency).map(|r| r.state);
            if dependency_state != Some(RowState::Applied) && !unreadable.contains(dependency) {
                problems.push(Problem::Inconsistent {
                    key: row.key.clone(),
                    state: row.state,
                    dependency: dependency.clone(),
                    dependency_state,
                });
            }
        }
    }
    problems.extend(other_apps.into_iter().map(|(app, rows)| Problem::OtherApp {
        app: app.to_string(),
        rows,
    }));
    problems
}

/// The problem of `row`, whose app is in the project but whose file is not.
fn missing_file(
    graph: &Graph,
    rows: &BTreeMap<MigrationKey, HistoryRow>,
    row: &HistoryRow,
) -> Problem {
    let siblings: Vec<_> = graph.app_migrations(&row.key.app).collect();
    // Where the file would be: next to its app's other migrations.
    let dir = siblings.first().and_then(|m| m.path.parent()).map_or_else(
        || format!("apps/{}/migrations", row.key.app),
        |d| d.display().to_string(),
    );
    let renamed_to = siblings
        .iter()
        // A partial row holds its applied part's checksum, which a rename keeps too.
        .find(|m| super::edits::edit(row, m).is_none() && !rows.contains_key(&m.key))
        .map(|m| m.key.name.clone());
    Problem::MissingFile {
        key: row.key.clone(),
        state: row.state,
        path: format!("{dir}/{}.toml", row.key.name),
        renamed_to,
    }
}

/// Whether `app` could be an app of a project: letters, digits and `_`.
fn is_app_name(app: &str) -> bool {
    !app.is_empty() && app.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The blocking problems of the history, as an error; rows of apps outside the
/// project are only logged.
pub fn verify(
    table: &str,
    graph: &Graph,
    rows: &BTreeMap<MigrationKey, HistoryRow>,
    damage: &Damage,
) -> Result<(), super::HistoryError> {
    let (blocking, notes): (Vec<Problem>, Vec<Problem>) = check(graph, rows, damage)
        .into_iter()
        .partition(Problem::blocks);
    for note in notes {
        tracing::warn!("history table `{table}`: {note}");
    }
    if blocking.is_empty() {
        Ok(())
    } else {
        Err(super::HistoryError::Inconsistent {
            table: table.to_string(),
            problems: blocking,
        })
    }
}

#[cfg(test)]
mod tests;

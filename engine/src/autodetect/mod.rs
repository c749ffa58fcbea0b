//! The autodetector behind `strata makemigrations`: the operations that turn one
//! schema (what the migrations build) into another (what the models say).
//!
//! The work is split by concern, one private module each:
//! - `renames`: likely table and column renames, and the accepted ones as a name
//!   mapping;
//! - `compare`: what changes, once the accepted renames are applied — which columns
//!   and objects are added, dropped, altered, renamed, and which must be dropped and
//!   re-added because they would block another change;
//! - `order`: dependency order of tables (creation and dropping);
//! - `emit`: the operations, in an order every backend can apply, each checked
//!   against the state it lands on;
//! - `rules`: the state's rules the plan works around.
//!
//! The caller (the CLI) first asks the user about the renames ([`open_renames`],
//! re-read after each accepted answer, or the full [`rename_candidates`] list), then
//! about [`needs_one_off_default`] and [`needs_not_null_answer`], and passes the answers to [`diff`] as
//! [`Decisions`]. Renames are never guessed: while candidates are neither accepted
//! nor declined, `diff` refuses with [`AutodetectError::UnresolvedRenames`].

mod compare;
mod emit;
mod order;
mod renames;
mod rules;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::ast::{DefaultValue, Operation};
use crate::state::{SchemaState, StateError};

pub use renames::rename_candidates;

/// What a rename renames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RenameKind {
    Table,
    Column,
}

/// A dropped and an added table (or column of one table) that look like one renamed.
#[derive(Debug, Clone, PartialEq)]
pub struct RenameCandidate {
    pub kind: RenameKind,
    /// For a column: its table, by the table's new name. Empty for a table.
    pub table: String,
    pub from: String,
    pub to: String,
    /// How alike the two are, in `0.0..=1.0`; candidates are listed best first.
    pub score: f64,
    /// For a column renamed *and* changed: what else changes (`type varchar(50) ->
    /// varchar(80), now NOT NULL`), which an accepted rename alters after renaming.
    pub change: Option<String>,
}

impl fmt::Display for RenameCandidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            RenameKind::Table => write!(f, "table {} to {}", self.from, self.to),
            RenameKind::Column => {
                write!(f, "column {}.{} to {}", self.table, self.from, self.to)?;
                match &self.change {
                    Some(change) => write!(f, " (and changed: {change})"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// A rename the user accepted. Any rename that fits may be given, not only a listed
/// candidate. Ordered by kind, table, from, to: the order clashing renames are
/// settled in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AcceptedRename {
    pub kind: RenameKind,
    /// For a column: its table, by the table's new name. Empty for a table.
    pub table: String,
    pub from: String,
    pub to: String,
}

impl AcceptedRename {
    pub fn table(from: impl Into<String>, to: impl Into<String>) -> Self {
        Self {
            kind: RenameKind::Table,
            table: String::new(),
            from: from.into(),
            to: to.into(),
        }
    }

    /// `table` by its new name.
    pub fn column(
        table: impl Into<String>,
        from: impl Into<String>,
        to: impl Into<String>,
    ) -> Self {
        Self {
            kind: RenameKind::Column,
            table: table.into(),
            from: from.into(),
            to: to.into(),
        }
    }
}

/// The user's answers to the questions the autodetector cannot answer alone.
#[derive(Debug, Clone, Default)]
pub struct Decisions {
    pub renames: Vec<AcceptedRename>,
    /// The user answered every rename question: candidates not accepted are a drop
    /// and an add.
    pub no_rename: bool,
    /// (table, column) → the value existing rows get for a column added NOT NULL
    /// without a default of its own (the column keeps no default afterwards), or for
    /// the rows where a column that becomes NOT NULL is NULL (a `backfill` before the
    /// `alter_column`). Tables by their new names.
    pub one_off_defaults: BTreeMap<(String, String), DefaultValue>,
    /// (table, column) of columns that become NOT NULL whose table holds no NULL in
    /// them (or whose rows the user fills): only the `alter_column`, no backfill.
    pub no_nulls: BTreeSet<(String, String)>,
}

impl Decisions {
    /// Accepts the rename of table `from` to `to`.
    pub fn rename_table(mut self, from: &str, to: &str) -> Self {
        self.renames.push(AcceptedRename::table(from, to));
        self
    }

    /// Accepts the rename of column `from` to `to` of `table` (by its new name).
    pub fn rename_column(mut self, table: &str, from: &str, to: &str) -> Self {
        self.renames.push(AcceptedRename::column(table, from, to));
        self
    }

    /// Accepts a listed candidate.
    pub fn accept(self, candidate: &RenameCandidate) -> Self {
        match candidate.kind {
            RenameKind::Table => self.rename_table(&candidate.from, &candidate.to),
            RenameKind::Column => {
                self.rename_column(&candidate.table, &candidate.from, &candidate.to)
            }
        }
    }
}

/// Why the autodetector produced no operations.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AutodetectError {
    #[error("possible renames need an answer: {}", list(.0))]
    UnresolvedRenames(Vec<RenameCandidate>),
    #[error(
        "columns added NOT NULL without a default to existing tables need a one-off default for existing rows: {}",
        .0.iter().map(|(t, c)| format!("{t}.{c}")).collect::<Vec<_>>().join(", ")
    )]
    NeedsDefault(Vec<(String, String)>),
    /// Columns that become NOT NULL, without a default in the models: the rows where
    /// they are NULL need a value, or the answer that there are none.
    #[error(
        "columns that become NOT NULL need a value for the rows where they are NULL, or the answer that there are none: {}",
        .0.iter().map(|(t, c)| format!("{t}.{c}")).collect::<Vec<_>>().join(", ")
    )]
    NeedsNotNullAnswer(Vec<(String, String)>),
    /// The value for the NULL rows of a column that becomes NOT NULL cannot be
    /// written by a backfill.
    #[error("cannot fill the NULL rows of `{table}.{column}` before it becomes NOT NULL: {reason}; fill them yourself (a run_sql migration before this one) and answer that there are no NULL rows")]
    CannotBackfill {
        table: String,
        column: String,
        reason: String,
    },
    #[error("cannot rename {what} `{from}` to `{to}`: {reason}")]
    InvalidRename {
        what: String,
        from: String,
        to: String,
        reason: String,
    },
    #[error("the one-off default for `{table}.{column}` does not fit: {error}")]
    BadOneOffDefault {
        table: String,
        column: String,
        error: StateError,
    },
    /// A change no operation expresses (a primary key, an auto-increment flag): it
    /// needs a hand-written migration, or a new table.
    #[error("table `{table}`: {what} cannot be changed by a migration operation; write the migration by hand (e.g. a new table and run_sql to copy the rows)")]
    Unsupported { table: String, what: String },
    /// The planned operations did not fit the schema: a bug in the autodetector,
    /// reported instead of writing a migration that cannot run.
    #[error("internal error: the planned operation `{operation}` does not fit: {error}")]
    Internal { operation: String, error: String },
}

fn list(candidates: &[RenameCandidate]) -> String {
    candidates
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The candidates `decisions` leaves open, best first: neither accepted nor ruled
/// out by an accepted rename of one of their names. Column candidates count only in
/// tables present on both sides, by name or through an accepted table rename — so a
/// column question appears once its table's rename is accepted. `no_rename` is not
/// consulted: this is the list to ask about, one at a time, re-reading it after each
/// accepted answer.
pub fn open_renames(
    old: &SchemaState,
    new: &SchemaState,
    decisions: &Decisions,
) -> Vec<RenameCandidate> {
    renames::unresolved(old, new, &renames::Renames::lenient(old, new, decisions))
}

/// Refuses accepted renames that do not fit (a name on the wrong side, a name used
/// twice): a mistyped answer is reported, never ignored while its question stays
/// open.
pub fn check_renames(
    old: &SchemaState,
    new: &SchemaState,
    decisions: &Decisions,
) -> Result<(), AutodetectError> {
    renames::Renames::validated(old, new, decisions).map(|_| ())
}

/// Columns added NOT NULL without a default to a table that already exists (by its
/// new name), for which `decisions` holds no one-off default yet. Renames are taken
/// from `decisions`; resolve them first.
pub fn needs_one_off_default(
    old: &SchemaState,
    new: &SchemaState,
    decisions: &Decisions,
) -> Vec<(String, String)> {
    let renames = renames::Renames::lenient(old, new, decisions);
    compare::added_columns(old, new, &renames)
        .into_iter()
        .filter(|(table, column)| {
            !column.null
                && column.default.is_none()
                && !column.auto
                && !decisions
                    .one_off_defaults
                    .contains_key(&(table.clone(), column.name.clone()))
        })
        .map(|(table, column)| (table, column.name))
        .collect()
}

/// Columns of tables that stay (by new names) which are nullable before and NOT
/// NULL in `new`, whose NULL rows nothing fills: no one-off value in `decisions`,
/// not declared free of NULLs, and no literal default in the models (a literal
/// default fills them, as Django does, where the table has the one-column primary
/// key a backfill walks). Renames are taken from `decisions`.
pub fn needs_not_null_answer(
    old: &SchemaState,
    new: &SchemaState,
    decisions: &Decisions,
) -> Vec<(String, String)> {
    let renames = renames::Renames::lenient(old, new, decisions);
    compare::nulls_forbidden(old, new, &renames)
        .into_iter()
        .filter(|(table, column)| {
            let key = (table.clone(), column.name.clone());
            // A literal default answers only where a backfill can write it.
            let walkable = new
                .tables
                .get(table)
                .is_some_and(|t| t.primary_key.len() == 1);
            (compare::literal_default(column).is_none() || !walkable)
                && !decisions.one_off_defaults.contains_key(&key)
                && !decisions.no_nulls.contains(&key)
        })
        .map(|(table, column)| (table, column.name))
        .collect()
}

/// The operations that turn `old` into `new`, in an order every backend can apply.
///
/// Deterministic: the same input gives the same operations. Applied in sequence to
/// `old` they give a schema whose `canonical()` equals `new.canonical()`; `diff`
/// checks that itself before returning.
pub fn diff(
    old: &SchemaState,
    new: &SchemaState,
    decisions: &Decisions,
) -> Result<Vec<Operation>, AutodetectError> {
    let renames = renames::Renames::validated(old, new, decisions)?;
    if !decisions.no_rename {
        let unresolved = renames::unresolved(old, new, &renames);
        if !unresolved.is_empty() {
            return Err(AutodetectError::UnresolvedRenames(unresolved));
        }
    }
    let missing = needs_one_off_default(old, new, decisions);
    if !missing.is_empty() {
        return Err(AutodetectError::NeedsDefault(missing));
    }
    let missing = needs_not_null_answer(old, new, decisions);
    if !missing.is_empty() {
        return Err(AutodetectError::NeedsNotNullAnswer(missing));
    }
    let changes = compare::Changes::between(old, new, &renames, decisions)?;
    let (ops, reached) = emit::operations(old, &changes)?;
    if reached.canonical() != new.canonical() {
        return Err(AutodetectError::Internal {
            operation: "the whole migration".into(),
            error: "the operations do not reach the models' schema".into(),
        });
    }
    Ok(ops)
}

fn internal(op: &Operation, error: &StateError) -> AutodetectError {
    AutodetectError::Internal {
        operation: op.to_string(),
        error: error.to_string(),
    }
}

//! What a rendered statement does to a live table: the lock it takes and the work it
//! does under it. Each dialect answers for its own server ([`Dialect::explain`]); the
//! default here is the conservative answer, true of any SQL database.
//!
//! [`Dialect::explain`]: super::Dialect::explain

use std::fmt;

use serde::Serialize;

use super::Statement;
use crate::ast::{Constraint, Operation};

/// What others cannot do to the table while the statement holds its lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Blocks {
    /// Reads and writes go on (a concurrent build, a `VALIDATE`, a snapshot read).
    Nothing,
    /// Reads go on; inserts, updates and deletes wait.
    Writes,
    /// Every query on the table waits, reads included.
    ReadsAndWrites,
}

/// The work the statement does on the table's rows while it holds its lock: what
/// makes it last seconds or hours on a big table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TableWork {
    /// The catalog only: instant whatever the table's size.
    Catalog,
    /// Reads every row (a check, a validation, a guard).
    Scan,
    /// Reads every row to build an index.
    BuildIndex,
    /// Writes a new copy of the table (a rewrite, MySQL's `ALGORITHM=COPY`, SQLite's
    /// rebuild).
    Rewrite,
    /// Updates rows one batch at a time, each batch committed on its own (a
    /// `backfill`): long on a big table, but never one long lock.
    Batches,
}

/// One statement's lock and work, as `sqlmigrate --explain` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockNote {
    /// The table the lock is on, when there is one.
    pub table: Option<String>,
    /// The lock as the server's documentation names it: `ACCESS EXCLUSIVE`,
    /// `SHARE UPDATE EXCLUSIVE`, `metadata lock (exclusive), ALGORITHM=INPLACE`,
    /// `database write lock`.
    pub lock: String,
    pub blocks: Blocks,
    pub work: TableWork,
    /// Anything else worth knowing (`brief: waits for running queries only`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl LockNote {
    pub fn new(
        table: Option<&str>,
        lock: impl Into<String>,
        blocks: Blocks,
        work: TableWork,
    ) -> Self {
        Self {
            table: table.map(str::to_string),
            lock: lock.into(),
            blocks,
            work,
            note: None,
        }
    }

    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// Whether a big table makes this statement slow while others wait on it.
    pub fn blocks_for_long(&self) -> bool {
        self.blocks != Blocks::Nothing && self.work != TableWork::Catalog
    }

    /// The answer of standard SQL with no knowledge of the server: the table is
    /// locked against everything, and any change that may touch rows is taken to
    /// rewrite them. A dialect narrows it down for its server.
    pub fn conservative(op: &Operation, statement: &Statement) -> Self {
        let table = op.table();
        if statement.fails_with_rows.is_some() {
            return Self::new(table, "read", Blocks::Nothing, TableWork::Scan)
                .with_note("strata's guard: counts the rows that would not fit");
        }
        let (blocks, work) = match op {
            Operation::CreateTable(_) => (Blocks::Nothing, TableWork::Catalog),
            Operation::AddColumn(o) if o.column.null && o.column.default.is_none() => {
                (Blocks::ReadsAndWrites, TableWork::Catalog)
            }
            Operation::AddColumn(_) => (Blocks::ReadsAndWrites, TableWork::Rewrite),
            Operation::AlterColumn(o) if o.ty.is_some() => {
                (Blocks::ReadsAndWrites, TableWork::Rewrite)
            }
            Operation::AlterColumn(o) if o.null == Some(false) => {
                (Blocks::ReadsAndWrites, TableWork::Scan)
            }
            Operation::CreateIndex(_) => (Blocks::Writes, TableWork::BuildIndex),
            Operation::AddConstraint(o) => match o.constraint {
                Constraint::Unique { .. } => (Blocks::Writes, TableWork::BuildIndex),
                Constraint::Check { .. } => (Blocks::ReadsAndWrites, TableWork::Scan),
            },
            Operation::AddForeignKey(_) => (Blocks::ReadsAndWrites, TableWork::Scan),
            Operation::RunSql(_) => {
                return Self::new(None, "unknown", Blocks::ReadsAndWrites, TableWork::Rewrite)
                    .with_note("raw SQL: strata cannot tell what it locks")
            }
            Operation::RunCode(_) => {
                return Self::new(None, "unknown", Blocks::ReadsAndWrites, TableWork::Rewrite)
                    .with_note("the application's code: strata cannot tell what it locks")
            }
            Operation::Backfill(o) => {
                return Self::new(table, "row locks", Blocks::Nothing, TableWork::Batches)
                    .with_note(format!(
                        "on one batch of {} rows at a time, each batch committed on its own",
                        o.batch_size
                    ))
            }
            _ => (Blocks::ReadsAndWrites, TableWork::Catalog),
        };
        Self::new(table, "exclusive", blocks, work)
    }
}

impl fmt::Display for Blocks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Blocks::Nothing => "blocks nothing",
            Blocks::Writes => "blocks writes",
            Blocks::ReadsAndWrites => "blocks reads and writes",
        })
    }
}

impl fmt::Display for TableWork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TableWork::Catalog => "catalog only",
            TableWork::Scan => "scans the table",
            TableWork::BuildIndex => "builds an index",
            TableWork::Rewrite => "rewrites the table",
            TableWork::Batches => "updates the rows in batches",
        })
    }
}

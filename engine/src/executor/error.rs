//! What can stop a run, with what it left behind as data: the CLI (or an embedding
//! application) decides how to say it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::dialect::driver::DriverError;
use crate::error::Category;
use crate::history::{edits, Edit, HistoryError};
use crate::migration::{Migration, MigrationKey, StateAtError};
use crate::script::{Direction, LockTimedOut, ScriptError};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecError {
    /// The plan was refused before anything ran, by what vets it ([`super::Observer::vet`]).
    #[error(transparent)]
    Refused(Box<dyn std::error::Error + Send + Sync>),
    #[error(
        "gave up after {waited:?} waiting for the migration lock `{name}`{}",
        .holder.as_ref().map(|h| format!(", held by {h}")).unwrap_or_default()
    )]
    LockTimeout {
        name: String,
        waited: Duration,
        holder: Option<String>,
    },
    #[error(transparent)]
    History(#[from] HistoryError),
    /// The squashed migrations cannot be chosen for this database's history.
    #[error(transparent)]
    Graph(#[from] crate::graph::GraphError),
    #[error(transparent)]
    Driver(#[from] DriverError),
    /// A file that no longer says what its history row recorded: applied and edited,
    /// or stopped part-way with an operation that ran edited.
    #[error("{path}: {}", .edit.about(.key), path = .path.display())]
    Edited {
        key: MigrationKey,
        path: PathBuf,
        edit: Edit,
    },
    #[error("applied migration {key} has no file any more (look in apps/{}/migrations/); restore it from version control", .key.app)]
    MissingFile { key: MigrationKey },
    #[error("{key} ({path}): {source}", path = .path.display())]
    Script {
        key: MigrationKey,
        path: PathBuf,
        source: ScriptError,
    },
    #[error(transparent)]
    StateAt(#[from] StateAtError),
    /// A statement failed. `after` says what the database holds now.
    #[error(
        "{key} ({path}): operation {operation} of {total} ({description}{}) failed:\n  {source}{}",
        if *.in_commit { "; failed in the checks and commit after it" } else { "" },
        blame(.lock_timeout.as_ref()),
        path = .path.display()
    )]
    Failed {
        key: MigrationKey,
        path: PathBuf,
        direction: Direction,
        /// The failing operation of the step, 1-based, of `total`.
        operation: usize,
        total: usize,
        description: String,
        /// The failing statement of that operation, 1-based; 0 for strata's own
        /// bookkeeping around it.
        statement: usize,
        /// The failure came after the last operation: in the checks and commit that
        /// close the transaction.
        in_commit: bool,
        source: DriverError,
        after: AfterFailure,
        /// The statement waited for a lock past `ddl_lock_timeout` on every attempt.
        lock_timeout: Option<LockTimedOut>,
        /// How to undo what the migration applied, for the message.
        rollback: Rollback,
    },
    /// `--single-transaction` refused before anything ran: a step (`key`, when one
    /// is to blame) cannot run inside the plan's one transaction.
    #[error("--single-transaction: {reason}; nothing was run (run without --single-transaction to apply it step by step)")]
    SingleTransaction {
        key: Option<MigrationKey>,
        reason: String,
    },
    /// `--single-transaction`: the checks or the commit closing the plan's
    /// transaction failed; nothing of the plan was applied.
    #[error("--single-transaction: the checks and commit at the end of the plan failed, so nothing of the plan was applied (rolled back):\n  {source}")]
    SingleTransactionCommit { source: DriverError },
    /// Every step of the run committed, but waiting for those commits to be durable
    /// (`Driver::make_durable`) failed: they are kept, and a running server writes
    /// them out on its own within a second.
    #[error("every step that ran was committed, but waiting for the commits to reach the disk failed (a running server writes them out on its own):\n  {source}")]
    NotConfirmedDurable { source: DriverError },
    /// A partial migration that the plan neither resumes nor rolls back.
    #[error(
        "{key} is partially applied, so nothing else can run before it is resumed or rolled back.\n{}",
        how_to_resume(.key, .path, *.done, *.statements_done, *.total, .rollback)
    )]
    PartialPending {
        key: MigrationKey,
        path: PathBuf,
        done: usize,
        statements_done: usize,
        total: usize,
        rollback: Rollback,
    },
    /// Rolling back a migration stopped inside a `run_sql`: its reverse undoes the
    /// whole operation, not the statements that ran.
    #[error(
        "{key} stopped inside operation {operation} (a run_sql, {statements} of its statements applied), which rolling back cannot undo: resume it with `strata migrate` (fix the cause first: its operations after {operation} may be edited) and roll back after, or repair the database by hand and delete its history row (docs/history.md)"
    )]
    InsideRunSql {
        key: MigrationKey,
        operation: usize,
        statements: usize,
    },
    /// A statement checkpoint at or past the end of its operation: the history row
    /// was written by hand or damaged.
    #[error(
        "{key}: its history row says {statements} statements of operation {operation} are applied, but that operation has {total} here; the row is damaged (docs/history.md)"
    )]
    CheckpointPastOperation {
        key: MigrationKey,
        operation: usize,
        statements: usize,
        total: usize,
    },
    #[error(
        "{key}: the live schema does not match its checkpoint ({done} operations done), so it cannot be resumed safely:\n  {}\nmake its tables match {}, or set `operations_done` in its history row to what the database holds (docs/history.md); then run `strata migrate` again",
        .differences.join("\n  "),
        checkpointed(*.done, .path)
    )]
    Drift {
        key: MigrationKey,
        path: PathBuf,
        done: usize,
        differences: Vec<String>,
    },
    /// A `run_code` of the plan names a function the application did not register
    /// (the CLI registers none). Found before anything runs.
    #[error(
        "migration {key} operation {operation} calls the application's function {function}, which is not registered: run this migration through the application that registers it (strata::Migrator::register), or mark it {} with --fake",
        if *.direction == Direction::Forward { "applied" } else { "unapplied" }
    )]
    MissingFunction {
        key: MigrationKey,
        /// The operation of the file, 1-based.
        operation: usize,
        function: String,
        direction: Direction,
    },
    #[error("--fake-initial: {key} creates tables of which only some exist ({existing}); fix the schema by hand or apply without --fake-initial")]
    FakeInitialPartly { key: MigrationKey, existing: String },
}

/// What a failed step left in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterFailure {
    /// Its transaction rolled back: the database is as it was before the step.
    RolledBack,
    /// `--single-transaction`: the plan's one transaction rolled back, so the
    /// database is as it was before the plan, every step before this one included.
    PlanRolledBack,
    /// Step by step, it failed on its first statement, before anything changed, and
    /// its history row was put back: the database is as it was before the step.
    Unchanged,
    /// Step by step, it stopped part-way. The history row is a checkpoint recording
    /// the operations of the migration now in effect, listed here in file order, of
    /// the migration's `total`. A later `migrate` resumes from it.
    /// Going forward, `statements_done` statements of the next operation (a
    /// `run_sql`) are in effect too, and recorded: the next run resumes after them.
    Partial {
        in_effect: Vec<String>,
        statements_done: usize,
        total: usize,
    },
}

/// How to undo what a partially applied migration applied: move its app back to the
/// migration it follows there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollback {
    app: String,
    /// The app's migration it follows, `zero` when it is the app's first; `None` when
    /// it follows several (a merge), which no one target undoes alone.
    target: Option<String>,
}

impl Rollback {
    pub fn of(m: &Migration) -> Self {
        let mut parents = m.dependencies.iter().filter(|d| d.app == m.key.app);
        let target = match (parents.next(), parents.next()) {
            (None, _) => Some("zero".to_string()),
            (Some(parent), None) => Some(parent.name.clone()),
            (Some(_), Some(_)) => None,
        };
        Self {
            app: m.key.app.clone(),
            target,
        }
    }
}

impl fmt::Display for Rollback {
    /// The command, quoted, or what to do when no one command does it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            Some(target) => write!(f, "`strata migrate {} {target}`", self.app),
            None => write!(
                f,
                "`strata migrate {} NAME` (NAME: the migration before it)",
                self.app
            ),
        }
    }
}

/// Exactly how to go on after `key` (at `path`) stopped after `done` of its `total`
/// operations and `statements_done` statements of the next: which operations may be
/// edited to fix the cause, the command that resumes, and the one that rolls back.
pub fn how_to_resume(
    key: &MigrationKey,
    path: &Path,
    done: usize,
    statements_done: usize,
    total: usize,
    rollback: &Rollback,
) -> String {
    let path = path.display();
    if done >= total {
        return format!(
            "{key} ran all its {total} operations but was not recorded as applied: fix the cause and run `strata migrate` to record it (or {rollback} to roll it back)"
        );
    }
    let next = done + 1;
    if statements_done > 0 {
        return format!(
            "{key} stopped inside operation {next} (a run_sql) after its statement {statements_done}. Fix the cause — you may edit {} of {path}, not {} (to change the statements of operation {next} that did not run, edit them and run `strata migrate --accept-edited`) — then run `strata migrate` to resume at statement {} of operation {next}; it cannot be rolled back from inside a run_sql.",
            edits::operations(next + 1, total),
            edits::operations(1, next),
            statements_done + 1,
        );
    }
    let applied = if done == 0 {
        String::new()
    } else {
        format!(", not {}", edits::operations(1, done))
    };
    format!(
        "{key} stopped after operation {done} of {total}. Fix the cause — you may edit {} of {path}{applied} — then run `strata migrate` to resume at operation {next} (or {rollback} to roll back what was applied).",
        edits::operations(next, total),
    )
}

/// What the tables of a migration checkpointed after `done` operations must hold.
fn checkpointed(done: usize, path: &Path) -> String {
    match done {
        0 => "what they were before it".to_string(),
        n => format!("{} of {}", edits::operations(1, n), path.display()),
    }
}

/// Who held the lock a statement gave up waiting for, as the error says it.
fn blame(lock_timeout: Option<&LockTimedOut>) -> String {
    let Some(timed_out) = lock_timeout else {
        return String::new();
    };
    let mut out = format!(
        "\n  gave up after {} attempt(s) waiting for a lock (ddl_lock_timeout each; ddl_retries retries)",
        timed_out.attempts
    );
    if timed_out.blockers.is_empty() {
        out.push_str("\n  the server did not say who holds it");
    } else {
        out.push_str("\n  held by:");
        for blocker in &timed_out.blockers {
            out.push_str("\n    ");
            out.push_str(&blocker.to_string());
        }
    }
    out.push_str(
        "\n  end or wait for those sessions (their transactions hold the lock), then run `strata migrate` again",
    );
    out
}

impl ExecError {
    /// Whether the database was left with a migration partially applied.
    pub fn left_partial(&self) -> bool {
        matches!(
            self,
            ExecError::Failed {
                after: AfterFailure::Partial { .. },
                ..
            }
        )
    }

    pub fn category(&self) -> Category {
        match self {
            ExecError::LockTimeout { .. }
            | ExecError::Failed {
                lock_timeout: Some(_),
                ..
            } => Category::LockTimeout,
            ExecError::History(e) => e.category(),
            ExecError::Driver(e) => e.category(),
            ExecError::Failed { after, .. } => match after {
                AfterFailure::Partial { .. } => Category::Partial,
                AfterFailure::RolledBack
                | AfterFailure::PlanRolledBack
                | AfterFailure::Unchanged => Category::Database,
            },
            ExecError::SingleTransactionCommit { .. } | ExecError::NotConfirmedDurable { .. } => {
                Category::Database
            }
            ExecError::PartialPending { .. }
            | ExecError::Drift { .. }
            | ExecError::InsideRunSql { .. } => Category::Partial,
            ExecError::Edited { .. }
            | ExecError::MissingFile { .. }
            | ExecError::Graph(_)
            | ExecError::Script { .. }
            | ExecError::StateAt(_)
            | ExecError::CheckpointPastOperation { .. }
            | ExecError::MissingFunction { .. }
            | ExecError::FakeInitialPartly { .. }
            | ExecError::SingleTransaction { .. }
            | ExecError::Refused(_) => Category::BadInput,
        }
    }
}

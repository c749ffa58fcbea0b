//! The history rows one step writes, in either direction: the row a step-by-step run
//! starts with, a checkpoint after each operation, and the final record — for a
//! transactional run, only the final record, which commits with the migration.
//!
//! A checkpoint counts the migration's operations in effect: going forward, the
//! operations done (and, inside a `run_sql`, its statements done); going backward,
//! the operations not yet undone (a reverse `run_sql` is recorded once it is done).

use std::sync::Arc;
use std::time::Instant;

use crate::code::{Function, Functions};
use crate::dialect::{Dialect, Statement};
use crate::history::{BackfillCursor, Elapsed, History, RowState};
use crate::migration::{applied_part_checksum, Migration};
use crate::script::{Bookkeeping, Direction, Progress, Retry};

pub(super) struct Ledger<'a> {
    pub(super) history: &'a History,
    pub(super) dialect: &'a dyn Dialect,
    pub(super) migration: &'a Migration,
    pub(super) direction: Direction,
    /// Operations in the step's script: forward, the migration's; backward, the
    /// ones being undone.
    pub(super) total: usize,
    /// What an earlier, interrupted run completed (forward only).
    pub(super) skip: Progress,
    /// The migration's history row before this step.
    pub(super) row: Option<RowState>,
    /// The run is step by step, so the start row exists by the time it finishes.
    pub(super) step_by_step: bool,
    /// When the step started; `None` when faking, which records no duration.
    pub(super) started: Option<Instant>,
    /// How a lock wait that timed out is retried.
    pub(super) retry: Retry,
    /// The application's functions, which `run_code` operations call.
    pub(super) functions: &'a Functions,
    /// Forward, resuming inside a backfill: the operation (0-based, the first not
    /// done) and the last batch an earlier run committed.
    pub(super) backfill: Option<(usize, BackfillCursor)>,
    /// `--single-transaction`: when the plan's transaction began.
    pub(super) plan_began: Option<Instant>,
}

impl Ledger<'_> {
    /// The migration's operations in effect once `done` of the step's are done.
    fn in_effect(&self, done: usize) -> usize {
        match self.direction {
            Direction::Forward => done,
            Direction::Backward => self.total - done,
        }
    }

    fn update(&self, state: RowState, done: Progress, duration: Option<Elapsed>) -> Statement {
        let key = &self.migration.key;
        let in_effect = self.in_effect(done.operations);
        let checksum = self.checksum(state, in_effect, done.statements);
        self.history.update(
            self.dialect,
            key,
            state,
            in_effect,
            done.statements,
            &checksum,
            duration,
        )
    }

    /// A new row for a migration partly applied, `in_effect` operations of it.
    fn insert_partial(&self, in_effect: usize) -> Statement {
        self.history.insert(
            self.dialect,
            &self.migration.key,
            &self.checksum(RowState::Partial, in_effect, 0),
            RowState::Partial,
            in_effect,
            &Elapsed::Millis(0),
        )
    }

    /// The checksum of a row in `state` with `operations` in effect and `statements`
    /// of the next: the file's once applied; while partial, that of the operations
    /// that ran (a `run_sql` stopped inside included), so that the next run lets the
    /// others be edited and refuses an edit of these.
    fn checksum(&self, state: RowState, operations: usize, statements: usize) -> String {
        let m = self.migration;
        match state {
            RowState::Applied => m.checksum.clone(),
            RowState::Partial => {
                let covered = operations + usize::from(statements > 0);
                // Never past the file: the step runs the file's operations.
                applied_part_checksum(m, covered).unwrap_or_else(|| m.checksum.clone())
            }
        }
    }

    /// The record of the finished step: the migration applied, or its row gone.
    pub(super) fn record(&self) -> Statement {
        let elapsed = self.started.map_or(0, |s| s.elapsed().as_millis());
        self.record_taking(Elapsed::Millis(elapsed))
    }

    fn record_taking(&self, elapsed: Elapsed) -> Statement {
        let key = &self.migration.key;
        match self.direction {
            Direction::Backward => {
                // A squash's rollback undoes what it replaces, however that was applied.
                let mut keys = vec![key.clone()];
                keys.extend(self.migration.replaces.iter().cloned());
                self.history.delete_all(self.dialect, &keys)
            }
            Direction::Forward => {
                if self.row.is_some() || self.step_by_step {
                    let done = Progress::operations(self.total);
                    self.update(RowState::Applied, done, Some(elapsed))
                } else {
                    let checksum = &self.migration.checksum;
                    self.history.insert(
                        self.dialect,
                        key,
                        checksum,
                        RowState::Applied,
                        self.total,
                        &elapsed,
                    )
                }
            }
        }
    }

    /// After a step-by-step run failed before changing anything: the statement that
    /// puts the history row back as it was, when the step began from a complete
    /// state (nothing of the migration applied, or all of it).
    pub(super) fn restore(&self) -> Option<Statement> {
        match (self.direction, self.row) {
            (Direction::Forward, None) => {
                Some(self.history.delete(self.dialect, &self.migration.key))
            }
            (Direction::Backward, Some(RowState::Applied)) => {
                Some(self.update(RowState::Applied, Progress::default(), None))
            }
            _ => None,
        }
    }
}

impl Bookkeeping for Ledger<'_> {
    fn skip(&self) -> Progress {
        self.skip
    }

    fn start(&self) -> Option<Statement> {
        // Resuming inside a backfill: the row keeps its cursor until the next batch.
        if let Some((op, cursor)) = &self.backfill {
            return self.backfill_checkpoint(*op, cursor);
        }
        Some(match self.row {
            Some(_) => self.update(RowState::Partial, self.skip, None),
            None => self.insert_partial(0),
        })
    }

    /// A new row is inserted already at `done`; an existing row is moved there by the
    /// checkpoint alone, which says all the start row would.
    fn start_at(&self, done: Progress) -> Option<Statement> {
        if self.backfill.is_some() {
            return None;
        }
        match self.row {
            Some(_) => self.checkpoint(done),
            None if done.statements == 0 => {
                Some(self.insert_partial(self.in_effect(done.operations)))
            }
            None => None,
        }
    }

    fn checkpoint(&self, done: Progress) -> Option<Statement> {
        // Going backward, a row counts whole operations in effect: a reverse `run_sql`
        // part-way has no row of its own (the next run cannot resume it either way).
        if self.direction == Direction::Backward && done.statements > 0 {
            return None;
        }
        Some(self.update(RowState::Partial, done, None))
    }

    fn commits_with_checkpoint(&self, statement: &Statement) -> bool {
        // The application's function writes data: with its checkpoint, or not at all.
        statement.call.is_some()
            || (statement.fails_with_rows.is_none()
                && self.dialect.commits_with_checkpoint(&statement.sql))
    }

    fn function(&self, name: &str) -> Option<Arc<dyn Function>> {
        self.functions.get(name).cloned()
    }

    fn backfill_resume(&self, index: usize) -> Option<BackfillCursor> {
        match (&self.backfill, self.direction) {
            (Some((op, cursor)), Direction::Forward) if *op == index => Some(cursor.clone()),
            _ => None,
        }
    }

    fn backfill_checkpoint(&self, index: usize, cursor: &BackfillCursor) -> Option<Statement> {
        // A rollback never runs a backfill (its inverse runs nothing).
        if self.direction == Direction::Backward {
            return None;
        }
        // Partial, with the backfill's own definition covered: its batches ran.
        let checksum = self.checksum(RowState::Partial, index, 1);
        Some(self.history.update_cursor(
            self.dialect,
            &self.migration.key,
            index,
            &checksum,
            cursor,
        ))
    }

    fn finish(&self) -> Option<Statement> {
        Some(self.record())
    }

    /// [`Ledger::record`], sent with the statements of the transaction that `began`
    /// (strata's `BEGIN` for the step, else the plan's) before they have run: the
    /// database measures the time they take. `None` where it cannot.
    fn finish_sent_with(&self, began: Option<Instant>) -> Option<Statement> {
        let Some(started) = self
            .started
            .filter(|_| self.direction == Direction::Forward)
        else {
            // Faking records no duration; a rollback's record deletes the row.
            return Some(self.record());
        };
        let began = began.or(self.plan_began)?;
        // Signed: the plan's transaction began before the step started.
        let offset = match began.checked_duration_since(started) {
            Some(after) => i128::try_from(after.as_millis()).ok()?,
            None => -i128::try_from(started.duration_since(began).as_millis()).ok()?,
        };
        let sql = self.dialect.millis_since_begin(offset)?;
        Some(self.record_taking(Elapsed::Measured(sql)))
    }

    fn retry(&self) -> Retry {
        self.retry
    }
}

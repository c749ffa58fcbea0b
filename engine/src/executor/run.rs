//! Running prepared steps, one after the other, under the lock. Apply and unapply
//! share one path (`Run::execute`): they differ only in their script and in the
//! history rows their ledger writes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::info;

use super::fake;
use super::ledger::Ledger;
use super::plan::{InEffect, PartialRollback, PlannedStep, Prepared, Work};
use super::resume::locate_checkpoint;
use super::{AfterFailure, BackfillProgress, ExecError, Observer, OperationObserver, Options};
use crate::code::Function;
use crate::dialect::driver::Driver;
use crate::dialect::Statement;
use crate::dialect::{Dialect, ServerVersion};
use crate::graph::Graph;
use crate::history::{BackfillCursor, History, RowState};
use crate::migration::Migration;
use crate::script::{
    self, Bookkeeping, Direction, ExecuteError, Progress, RenderedOperation, Retry, Script,
    ScriptError,
};
use crate::state::SchemaState;

/// The pause before the first retry of a lock wait that timed out; it doubles after.
const FIRST_RETRY_PAUSE: Duration = Duration::from_millis(500);

/// The state of one `migrate` run as it goes.
pub(super) struct Run<'a> {
    pub(super) graph: &'a Graph,
    pub(super) history: &'a History,
    pub(super) options: &'a Options,
    pub(super) dialect: &'a dyn Dialect,
    pub(super) version: ServerVersion,
    pub(super) in_effect: InEffect,
    /// The schema after everything applied so far, once forward steps begin.
    pub(super) forward: Option<SchemaState>,
    /// `--single-transaction`: when the plan's transaction began.
    pub(super) plan_began: Option<Instant>,
}

/// One step about to run: its script (`None` when it is faked) and its ledger.
struct Ready<'s, 'l> {
    step: &'s PlannedStep,
    migration: &'s Migration,
    script: Option<&'s Script>,
    ledger: Ledger<'l>,
}

impl Run<'_> {
    pub(super) async fn step(
        &mut self,
        driver: &mut dyn Driver,
        prepared: Prepared<'_>,
        observer: &mut dyn Observer,
    ) -> Result<(), ExecError> {
        let started = Instant::now();
        let Prepared {
            step,
            migration,
            work,
        } = prepared;
        match work {
            Work::Apply { script } => {
                self.apply(driver, &step, migration, script, observer)
                    .await?;
            }
            Work::Unapply { script, partial } => {
                self.unapply(driver, &step, migration, script, partial, observer)
                    .await?;
            }
        }
        observer.finished(&step, started.elapsed());
        // Saturates only after half a billion years.
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        info!(elapsed_ms, "done");
        Ok(())
    }

    async fn apply(
        &mut self,
        driver: &mut dyn Driver,
        step: &PlannedStep,
        m: &Migration,
        script: Option<Script>,
        observer: &mut dyn Observer,
    ) -> Result<(), ExecError> {
        let recorded = self.in_effect.partial(&m.key);
        // The running schema holds the completed part of a partial migration, so a
        // resumed one starts from the schema without it.
        let before = match (self.forward.take(), recorded) {
            (Some(state), None) => state,
            _ => self.in_effect.schema(self.graph, &m.key)?,
        };
        let mut done = Progress {
            operations: step.done,
            statements: step.done_statements,
        };
        if recorded.is_some() && !self.options.fake {
            let operations = locate_checkpoint(
                driver,
                self.dialect,
                self.options,
                m,
                &before,
                done.operations,
                Direction::Forward,
            )
            .await?;
            if operations != done.operations {
                done = Progress::operations(operations);
            }
        }
        // The script was rendered from this same `before` (`plan::prepare`): only the
        // state after it is needed, for the next step.
        let mut after = before;
        m.replay(&mut after, m.operations.len())?;
        let script = script.map(|s| self.joined(s));
        if let Some(script) = &script {
            super::plan::statement_checkpoint_fits(m, script, done.operations, done.statements)?;
        }
        let fake = self.options.fake
            || (self.options.fake_initial && fake::initial_exists(driver, m, &after).await?);
        let script = script.as_ref().filter(|_| !fake);
        let row = recorded.map(|_| RowState::Partial);
        let mut ledger = self.ledger(m, Direction::Forward, m.operations.len(), done, row, script);
        // The recorded cursor belongs to the backfill right after the checkpoint, when
        // the run resumes at that checkpoint.
        ledger.backfill = self
            .in_effect
            .cursor(&m.key)
            .filter(|_| recorded == Some(done.operations) && done.statements == 0)
            .map(|cursor| (done.operations, cursor.clone()));
        let ready = Ready {
            step,
            migration: m,
            script,
            ledger,
        };
        execute(driver, ready, m.operations.len(), observer).await?;
        self.in_effect.mark_applied(&m.key);
        self.forward = Some(after);
        Ok(())
    }

    async fn unapply(
        &mut self,
        driver: &mut dyn Driver,
        step: &PlannedStep,
        m: &Migration,
        script: Option<Script>,
        partial: Option<PartialRollback>,
        observer: &mut dyn Observer,
    ) -> Result<(), ExecError> {
        let script = match (script, &partial) {
            // A rollback of a migration that stopped part-way (or of a rollback that
            // did): undo what the live schema really has.
            (Some(script), Some(p)) => {
                let actual = locate_checkpoint(
                    driver,
                    self.dialect,
                    self.options,
                    m,
                    &p.before,
                    p.recorded,
                    Direction::Backward,
                )
                .await?;
                if actual == p.recorded {
                    Some(script)
                } else {
                    let operations = &m.operations[..actual];
                    let (script, _) = script::render(
                        self.dialect,
                        self.version,
                        &p.before,
                        operations,
                        self.options.mode(m),
                        Direction::Backward,
                    )
                    .map_err(|source| script_error(m, source))?;
                    Some(script)
                }
            }
            (script, _) => script,
        };
        let script = script.map(|s| self.joined(s));
        let total = script.as_ref().map_or(0, |s| s.operations.len());
        let row = Some(match partial {
            Some(_) => RowState::Partial,
            None => RowState::Applied,
        });
        let ledger = self.ledger(
            m,
            Direction::Backward,
            total,
            Progress::default(),
            row,
            script.as_ref(),
        );
        let ready = Ready {
            step,
            migration: m,
            script: script.as_ref(),
            ledger,
        };
        execute(driver, ready, total, observer).await?;
        self.in_effect.mark_unapplied(&m.key);
        self.forward = None;
        Ok(())
    }

    /// The script as it runs: joining the plan's one transaction under
    /// `--single-transaction` (every script is one that can: `single::check`).
    fn joined(&self, mut script: Script) -> Script {
        if self.options.single_transaction {
            super::single::PlanTransaction::join(&mut script);
        }
        script
    }

    fn ledger<'l>(
        &'l self,
        m: &'l Migration,
        direction: Direction,
        total: usize,
        skip: Progress,
        row: Option<RowState>,
        script: Option<&Script>,
    ) -> Ledger<'l> {
        Ledger {
            history: self.history,
            dialect: self.dialect,
            migration: m,
            direction,
            total,
            skip,
            row,
            step_by_step: script.is_some_and(|s| s.transaction.is_none()),
            started: script.map(|_| Instant::now()),
            // A retry reruns one step, but its failure rolled back the whole plan.
            retry: Retry {
                retries: if self.options.single_transaction {
                    0
                } else {
                    self.options.ddl_retries
                },
                first_pause: FIRST_RETRY_PAUSE,
            },
            functions: &self.options.functions,
            backfill: None,
            plan_began: self.plan_began,
        }
    }
}

/// The one path of every step: tell the observer, run the script with its ledger (or
/// only record it, when faked), and on failure say what the database holds now.
async fn execute(
    driver: &mut dyn Driver,
    ready: Ready<'_, '_>,
    operations: usize,
    observer: &mut dyn Observer,
) -> Result<(), ExecError> {
    let Ready {
        step,
        migration: m,
        script,
        ledger,
    } = ready;
    observer.started(step, operations, script.is_none());
    let Some(script) = script else {
        info!("faked");
        driver.execute(&ledger.record().sql).await?;
        return Ok(());
    };
    let result = match observer.operations() {
        Some(to) => {
            let announced = Announced {
                ledger: &ledger,
                to,
                total: script.operations.len(),
            };
            script.execute_with(driver, &announced).await
        }
        None => script.execute_with(driver, &ledger).await,
    };
    let Err(e) = result else {
        return Ok(());
    };
    // A failed statement changed nothing (each is one statement; a data statement is
    // rolled back with its checkpoint), so nothing ran when none before it did.
    let nothing_ran = e.completed == 0
        && e.statements_done == 0
        && !e.backfilled
        && (e.statement <= 1 || e.nothing_in_effect);
    let after = if script.transaction.is_some() {
        AfterFailure::RolledBack
    } else if e.at_start {
        // The history row saying the step started could not be written (a read-only
        // user, say): nothing ran and nothing was written, so nothing needs undoing.
        AfterFailure::Unchanged
    } else if nothing_ran && restore(driver, &ledger).await {
        AfterFailure::Unchanged
    } else {
        let in_effect = match ledger.direction {
            Direction::Forward => e.completed,
            Direction::Backward => ledger.total - e.completed,
        };
        AfterFailure::Partial {
            in_effect: m.operations[..in_effect.min(m.operations.len())]
                .iter()
                .map(ToString::to_string)
                .collect(),
            statements_done: match ledger.direction {
                Direction::Forward => e.statements_done,
                Direction::Backward => 0,
            },
            total: m.operations.len(),
        }
    };
    Err(failure(m, script, ledger.direction, e, after))
}

/// The ledger, telling an observer of each operation as it starts.
struct Announced<'a, 'l> {
    ledger: &'a Ledger<'l>,
    to: &'a dyn OperationObserver,
    total: usize,
}

// Every method, so that none falls back to its default instead of the ledger's.
#[deny(clippy::missing_trait_methods)]
impl Bookkeeping for Announced<'_, '_> {
    fn skip(&self) -> Progress {
        self.ledger.skip()
    }
    fn start(&self) -> Option<Statement> {
        self.ledger.start()
    }
    fn start_at(&self, done: Progress) -> Option<Statement> {
        self.ledger.start_at(done)
    }
    fn checkpoint(&self, done: Progress) -> Option<Statement> {
        self.ledger.checkpoint(done)
    }
    fn commits_with_checkpoint(&self, statement: &Statement) -> bool {
        self.ledger.commits_with_checkpoint(statement)
    }
    fn finish(&self) -> Option<Statement> {
        self.ledger.finish()
    }
    fn finish_sent_with(&self, began: Option<Instant>) -> Option<Statement> {
        self.ledger.finish_sent_with(began)
    }
    fn retry(&self) -> Retry {
        self.ledger.retry()
    }
    fn operation_starting(&self, index: usize, operation: &RenderedOperation) {
        self.to.operation(index, self.total, &operation.description);
    }
    fn follows_operations(&self) -> bool {
        self.to.follows_operations()
    }
    fn function(&self, name: &str) -> Option<Arc<dyn Function>> {
        self.ledger.function(name)
    }
    fn backfill_resume(&self, index: usize) -> Option<BackfillCursor> {
        self.ledger.backfill_resume(index)
    }
    fn backfill_checkpoint(&self, index: usize, cursor: &BackfillCursor) -> Option<Statement> {
        self.ledger.backfill_checkpoint(index, cursor)
    }
    fn backfill_progress(&self, index: usize, progress: &BackfillProgress) {
        self.to.backfill_progress(index, progress);
    }
}

/// Puts the history row back as it was before a step that changed nothing; whether
/// that worked.
async fn restore(driver: &mut dyn Driver, ledger: &Ledger<'_>) -> bool {
    match ledger.restore() {
        Some(statement) => driver.execute(&statement.sql).await.is_ok(),
        None => false,
    }
}

fn failure(
    m: &Migration,
    script: &Script,
    direction: Direction,
    e: ExecuteError,
    after: AfterFailure,
) -> ExecError {
    let total = script.operations.len();
    let operation = e.operation.min(total.saturating_sub(1));
    ExecError::Failed {
        key: m.key.clone(),
        path: m.path.clone(),
        direction,
        operation: operation + 1,
        total,
        description: script
            .operations
            .get(operation)
            .map_or_else(|| "bookkeeping".into(), |o| o.description.clone()),
        statement: e.statement,
        // Past the last operation: the checks and commit that close the transaction.
        in_commit: e.operation >= total && total > 0,
        lock_timeout: e.lock_timeout,
        source: e.source,
        after,
        rollback: super::Rollback::of(m),
    }
}

fn script_error(m: &Migration, source: ScriptError) -> ExecError {
    ExecError::Script {
        key: m.key.clone(),
        path: m.path.clone(),
        source,
    }
}

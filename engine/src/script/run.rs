//! Running a script on a live server: in one transaction when it has one, otherwise
//! statement by statement with the caller's bookkeeping (checkpoints) between
//! operations. The mechanism only: what the bookkeeping says is the executor's
//! policy (`executor::ledger`).

use tracing::Instrument;

use super::{RenderedOperation, Script};
use crate::dialect::driver::{run_statement, Driver, DriverError};
use crate::dialect::{Statement, TransactionSql};

/// How far a step-by-step run got: `operations` done, and `statements` of the next
/// one (only for an operation recorded statement by statement; 0 otherwise).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Progress {
    pub operations: usize,
    pub statements: usize,
}

impl Progress {
    pub fn operations(operations: usize) -> Self {
        Self {
            operations,
            statements: 0,
        }
    }
}

/// Statements a caller adds to a script's run. Every method has a do-nothing default,
/// which is how a script runs on its own ([`Script::execute`]).
pub trait Bookkeeping: Sync {
    /// What an earlier run completed (resuming a partial migration): not run again,
    /// in a transaction or step by step.
    fn skip(&self) -> Progress {
        Progress::default()
    }

    /// Step by step: run before the first operation.
    fn start(&self) -> Option<Statement> {
        None
    }

    /// Step by step: run after each operation but the last, and after each statement
    /// of an operation recorded by statement, given the progress it records.
    fn checkpoint(&self, done: Progress) -> Option<Statement> {
        let _ = done;
        None
    }

    /// Step by step: whether `statement` and the record after it go in one
    /// transaction (`Dialect::commits_with_checkpoint`).
    fn commits_with_checkpoint(&self, statement: &Statement) -> bool {
        let _ = statement;
        false
    }

    /// The record of a finished run: in a transaction, run just before the commit;
    /// step by step, after the last operation. Called at that moment, so it can
    /// record how long the run took.
    fn finish(&self) -> Option<Statement> {
        None
    }
}

/// No bookkeeping at all.
struct Unrecorded;
impl Bookkeeping for Unrecorded {}

/// A failed run: statement `statement` (1-based; 0 = bookkeeping) of operation
/// `operation` (0-based) failed. `completed` operations, and `statements_done`
/// statements of the next one, stay applied: always none in a transaction, which
/// was rolled back. Every statement is sent alone, so one that failed changed
/// nothing (or was rolled back with its checkpoint).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{source}")]
pub struct ExecuteError {
    pub completed: usize,
    pub statements_done: usize,
    pub operation: usize,
    pub statement: usize,
    /// Step by step, the very first record (the history row saying the run started)
    /// failed: nothing was run or written.
    pub at_start: bool,
    pub source: DriverError,
}

impl ExecuteError {
    fn new(at: Progress, statement: usize, source: DriverError) -> Self {
        Self {
            completed: at.operations,
            statements_done: at.statements,
            operation: at.operations,
            statement,
            at_start: false,
            source,
        }
    }
}

impl Script {
    /// Runs the script on its own, with no bookkeeping (tests, tools).
    pub async fn execute(&self, driver: &mut dyn Driver) -> Result<(), ExecuteError> {
        self.execute_with(driver, &Unrecorded).await
    }

    /// Runs the script with the caller's bookkeeping: in one transaction when it has
    /// one (rolled back on failure), otherwise statement by statement with a
    /// checkpoint after each operation.
    pub async fn execute_with(
        &self,
        driver: &mut dyn Driver,
        bookkeeping: &dyn Bookkeeping,
    ) -> Result<(), ExecuteError> {
        match &self.transaction {
            Some(t) => self.execute_in_transaction(driver, t, bookkeeping).await,
            None => self.execute_step_by_step(driver, bookkeeping).await,
        }
    }

    async fn execute_step_by_step(
        &self,
        driver: &mut dyn Driver,
        bookkeeping: &dyn Bookkeeping,
    ) -> Result<(), ExecuteError> {
        let result = self.run_step_by_step(driver, bookkeeping).await;
        if result.is_err() {
            for statement in &self.recovery {
                // Best effort: the original failure is what the user needs to see.
                let _ = driver.execute(&statement.sql).await;
            }
        }
        result
    }

    async fn run_step_by_step(
        &self,
        driver: &mut dyn Driver,
        bookkeeping: &dyn Bookkeeping,
    ) -> Result<(), ExecuteError> {
        let skip = bookkeeping.skip();
        if let Some(start) = bookkeeping.start() {
            run_statement(driver, &start)
                .await
                .map_err(|e| ExecuteError {
                    at_start: true,
                    ..ExecuteError::new(skip, 0, e)
                })?;
        }
        let total = self.operations.len();
        // What is in effect so far; a failure reports it.
        let mut at = skip;
        for (i, op) in self.operations.iter().enumerate().skip(skip.operations) {
            let span = tracing::info_span!("operation", n = i + 1, description = %op.description);
            let first = if i == skip.operations {
                skip.statements
            } else {
                0
            };
            let count = op.statements.len();
            async {
                for (j, statement) in op.statements.iter().enumerate().skip(first) {
                    let after = if j + 1 == count {
                        Progress::operations(i + 1)
                    } else {
                        Progress {
                            operations: i,
                            statements: j + 1,
                        }
                    };
                    let record = if j + 1 < count && !op.by_statement {
                        None
                    } else {
                        record_after(bookkeeping, after, total)
                    };
                    let with_record = record
                        .as_ref()
                        .filter(|_| bookkeeping.commits_with_checkpoint(statement));
                    tracing::debug!(sql = %statement.sql, "executing");
                    driver
                        .clear_leftovers(&statement.sql)
                        .await
                        .map_err(|e| ExecuteError::new(at, j + 1, e))?;
                    if let Some(record) = with_record {
                        run_with_record(driver, statement, record)
                            .await
                            .map_err(|(j, e)| ExecuteError::new(at, j, e))?;
                        at = after;
                        continue;
                    }
                    run_statement(driver, statement)
                        .await
                        .map_err(|e| ExecuteError::new(at, j + 1, e))?;
                    at = after;
                    if let Some(record) = record {
                        run_statement(driver, &record)
                            .await
                            .map_err(|e| ExecuteError::new(at, 0, e))?;
                    }
                }
                if first >= count {
                    // No SQL on this database: only its record.
                    at = Progress::operations(i + 1);
                    if let Some(record) = record_after(bookkeeping, at, total) {
                        run_statement(driver, &record)
                            .await
                            .map_err(|e| ExecuteError::new(at, 0, e))?;
                    }
                }
                Ok::<(), ExecuteError>(())
            }
            .instrument(span)
            .await?;
        }
        if total == 0 || skip.operations >= total {
            // Nothing ran, so nothing recorded the end yet.
            if let Some(finish) = bookkeeping.finish() {
                run_statement(driver, &finish)
                    .await
                    .map_err(|e| ExecuteError::new(at, 0, e))?;
            }
        }
        Ok(())
    }

    async fn execute_in_transaction(
        &self,
        driver: &mut dyn Driver,
        t: &TransactionSql,
        bookkeeping: &dyn Bookkeeping,
    ) -> Result<(), ExecuteError> {
        let failed = |statement, source| ExecuteError::new(Progress::default(), statement, source);
        for statement in &t.before {
            run_statement(driver, statement)
                .await
                .map_err(|e| failed(0, e))?;
        }
        let mut position = (0, 0);
        let body = async {
            for statement in &t.begin {
                run_statement(driver, statement).await?;
            }
            let skip = bookkeeping.skip().operations;
            for (i, op) in self.operations.iter().enumerate().skip(skip) {
                if let Err((j, e)) = run_operation(driver, i, op).await {
                    position = (i, j);
                    return Err(e);
                }
            }
            position = (self.operations.len(), 0);
            // Guards first (they read rows), then the history row, then the commit:
            // each statement alone, never a `;`-joined batch.
            let (guards, closing): (Vec<&Statement>, Vec<&Statement>) =
                t.commit.iter().partition(|s| s.fails_with_rows.is_some());
            for guard in guards {
                run_statement(driver, guard).await?;
            }
            if let Some(finish) = bookkeeping.finish() {
                run_statement(driver, &finish).await?;
            }
            for statement in closing {
                run_statement(driver, statement).await?;
            }
            Ok::<(), DriverError>(())
        }
        .await;
        if body.is_err() {
            // The failure already says what went wrong; a failed rollback adds nothing.
            let _ = driver.execute("ROLLBACK").await;
        }
        for statement in &t.after {
            run_statement(driver, statement)
                .await
                .map_err(|e| failed(0, e))?;
        }
        body.map_err(|source| ExecuteError {
            operation: position.0,
            ..ExecuteError::new(Progress::default(), position.1, source)
        })
    }
}

/// The record once `done`: a checkpoint, or after the last operation the finish.
fn record_after(bookkeeping: &dyn Bookkeeping, done: Progress, total: usize) -> Option<Statement> {
    if done.operations >= total {
        bookkeeping.finish()
    } else {
        bookkeeping.checkpoint(done)
    }
}

/// Runs one operation's statements (in a transaction) inside a tracing span; on
/// failure, the 1-based number of the statement that failed.
async fn run_operation(
    driver: &mut dyn Driver,
    index: usize,
    op: &RenderedOperation,
) -> Result<(), (usize, DriverError)> {
    let span = tracing::info_span!("operation", n = index + 1, description = %op.description);
    async {
        for (j, statement) in op.statements.iter().enumerate() {
            tracing::debug!(sql = %statement.sql, "executing");
            run_statement(driver, statement)
                .await
                .map_err(|e| (j + 1, e))?;
        }
        Ok(())
    }
    .instrument(span)
    .await
}

/// `statement` and the `record` after it in one transaction, each sent alone: both
/// or neither. On failure, 0 when the record (or the commit) failed, 1 when the
/// statement did; either way the transaction was rolled back.
async fn run_with_record(
    driver: &mut dyn Driver,
    statement: &Statement,
    record: &Statement,
) -> Result<(), (usize, DriverError)> {
    driver.execute("BEGIN").await.map_err(|e| (1, e))?;
    let result = async {
        run_statement(driver, statement).await.map_err(|e| (1, e))?;
        run_statement(driver, record).await.map_err(|e| (0, e))?;
        driver.execute("COMMIT").await.map_err(|e| (0, e))
    }
    .await;
    if result.is_err() {
        // The failure already says what went wrong; a failed rollback adds nothing.
        let _ = driver.execute("ROLLBACK").await;
    }
    result
}

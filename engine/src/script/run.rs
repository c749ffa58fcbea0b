//! Running a script on a live server: in one transaction when it has one, otherwise
//! statement by statement with the caller's bookkeeping (checkpoints) between
//! operations. The mechanism only: what the bookkeeping says is the executor's
//! policy (`executor::ledger`).

use tracing::Instrument;

use super::{RenderedOperation, Script};
use crate::dialect::driver::{run_statement, Driver, DriverError};
use crate::dialect::{Statement, TransactionSql};

/// Statements a caller adds to a script's run. Every method has a do-nothing default,
/// which is how a script runs on its own ([`Script::execute`]).
pub trait Bookkeeping: Sync {
    /// Operations already completed by an earlier run (resuming a partial migration):
    /// not run again, in a transaction or step by step.
    fn skip(&self) -> usize {
        0
    }

    /// Step by step: run before the first operation.
    fn start(&self) -> Option<Statement> {
        None
    }

    /// Step by step: run after each operation but the last, given how many
    /// operations of the script are done.
    fn checkpoint(&self, done: usize) -> Option<Statement> {
        let _ = done;
        None
    }

    /// Send each checkpoint with its operation's last statement, in one round trip
    /// (`Capabilities::batch_statements`).
    fn batch_checkpoints(&self) -> bool {
        false
    }

    /// The record of a finished run: in a transaction, run just before the commit and
    /// in its round trip; step by step, after the last operation. Called at that
    /// moment, so it can record how long the run took.
    fn finish(&self) -> Option<Statement> {
        None
    }
}

/// No bookkeeping at all.
struct Unrecorded;
impl Bookkeeping for Unrecorded {}

/// A failed run: statement `statement` (1-based; 0 = bookkeeping) of operation
/// `operation` (0-based) failed. `completed` operations stay applied: always 0 in a
/// transaction, which was rolled back.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{source}")]
pub struct ExecuteError {
    pub completed: usize,
    pub operation: usize,
    pub statement: usize,
    pub source: DriverError,
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
        let failed = |completed, statement, source| ExecuteError {
            completed,
            operation: completed,
            statement,
            source,
        };
        if let Some(start) = bookkeeping.start() {
            run_statement(driver, &start)
                .await
                .map_err(|e| failed(skip, 0, e))?;
        }
        let total = self.operations.len();
        for (i, op) in self.operations.iter().enumerate().skip(skip) {
            let checkpoint = if i + 1 < total {
                bookkeeping.checkpoint(i + 1)
            } else {
                None
            };
            let riding = match &checkpoint {
                Some(c) if bookkeeping.batch_checkpoints() => std::slice::from_ref(c),
                _ => &[],
            };
            run_operation(driver, i, op, riding)
                .await
                .map_err(|(j, e)| failed(i, j, e))?;
            if let Some(c) = checkpoint.filter(|_| !bookkeeping.batch_checkpoints()) {
                run_statement(driver, &c)
                    .await
                    .map_err(|e| failed(i + 1, 0, e))?;
            }
        }
        if let Some(finish) = bookkeeping.finish() {
            run_statement(driver, &finish)
                .await
                .map_err(|e| failed(total, 0, e))?;
        }
        Ok(())
    }

    async fn execute_in_transaction(
        &self,
        driver: &mut dyn Driver,
        t: &TransactionSql,
        bookkeeping: &dyn Bookkeeping,
    ) -> Result<(), ExecuteError> {
        let failed = |statement, source| ExecuteError {
            completed: 0,
            operation: 0,
            statement,
            source,
        };
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
            for (i, op) in self.operations.iter().enumerate().skip(bookkeeping.skip()) {
                if let Err((j, e)) = run_operation(driver, i, op, &[]).await {
                    position = (i, j);
                    return Err(e);
                }
            }
            position = (self.operations.len(), 0);
            // Guards first (they read rows); then the history row and the commit go in
            // one round trip, so bookkeeping costs no extra trip per migration.
            let (guards, closing): (Vec<&Statement>, Vec<&Statement>) =
                t.commit.iter().partition(|s| s.fails_with_rows.is_some());
            for guard in guards {
                run_statement(driver, guard).await?;
            }
            let finish = bookkeeping.finish();
            let batch: Vec<&str> = finish
                .iter()
                .chain(closing)
                .map(|s| s.sql.as_str())
                .collect();
            driver.execute(&batch.join(";\n")).await?;
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
            completed: 0,
            operation: position.0,
            statement: position.1,
            source,
        })
    }
}

/// Runs one operation's statements inside a tracing span; on failure, the 1-based
/// number of the statement that failed. `riding` (plain statements, e.g. the
/// checkpoint) is sent with the last statement in one round trip; a failure there
/// counts as the last statement's.
async fn run_operation(
    driver: &mut dyn Driver,
    index: usize,
    op: &RenderedOperation,
    riding: &[Statement],
) -> Result<(), (usize, DriverError)> {
    let span = tracing::info_span!("operation", n = index + 1, description = %op.description);
    async {
        let count = op.statements.len();
        for (j, statement) in op.statements.iter().enumerate() {
            tracing::debug!(sql = %statement.sql, "executing");
            let last = j + 1 == count;
            let batchable = last
                && !riding.is_empty()
                && statement.fails_with_rows.is_none()
                && riding.iter().all(|r| r.fails_with_rows.is_none());
            if batchable {
                let batch: Vec<&str> = std::iter::once(statement)
                    .chain(riding)
                    .map(|s| s.sql.as_str())
                    .collect();
                driver
                    .execute(&batch.join(";\n"))
                    .await
                    .map_err(|e| (j + 1, e))?;
                return Ok(());
            }
            run_statement(driver, statement)
                .await
                .map_err(|e| (j + 1, e))?;
        }
        // Nothing to ride with (no statements, or a guard last): send it alone.
        for statement in riding {
            run_statement(driver, statement)
                .await
                .map_err(|e| (count, e))?;
        }
        Ok(())
    }
    .instrument(span)
    .await
}

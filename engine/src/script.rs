//! A list of operations rendered for one dialect, with the transaction boundaries the
//! executor uses: what `sqlmigrate` prints is exactly what `migrate` runs.

use std::fmt::{self, Write as _};

use tracing::Instrument;

use crate::ast::Operation;
use crate::dialect::driver::{run_statement, Driver, DriverError};
use crate::dialect::{
    Dialect, RenderContext, RenderError, ServerVersion, Statement, TransactionSql,
};
use crate::state::{InverseError, SchemaState, StateError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Backward,
}

/// One operation's statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedOperation {
    pub description: String,
    pub statements: Vec<Statement>,
}

/// A rendered migration (or any run of operations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The wrapper when the whole script runs in one transaction.
    pub transaction: Option<TransactionSql>,
    /// Step by step: run (errors ignored) after a failed statement, to close what an
    /// operation may have opened itself (a SQLite rebuild's own transaction).
    pub recovery: Vec<Statement>,
    pub operations: Vec<RenderedOperation>,
}

/// Why operations could not be rendered; `index` is the 1-based operation number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    #[error("operation {index} ({description}): {source}")]
    State {
        index: usize,
        description: String,
        source: StateError,
    },
    #[error("operation {index} ({description}): {source}")]
    Render {
        index: usize,
        description: String,
        source: RenderError,
    },
    #[error("operation {index} ({description}): {source}")]
    Inverse {
        index: usize,
        description: String,
        source: InverseError,
    },
}

/// Renders `operations` (a migration's, in file order) against `state`, the schema
/// before the migration. Backward renders the inverses, last operation first.
/// Returns the script and the state after it.
pub fn render(
    dialect: &dyn Dialect,
    version: ServerVersion,
    state: &SchemaState,
    operations: &[Operation],
    atomic: bool,
    direction: Direction,
) -> Result<(Script, SchemaState), ScriptError> {
    render_from(
        dialect,
        version,
        state.clone(),
        operations,
        atomic,
        direction,
    )
}

/// `render`, taking the state by value: the executor's path, with no copy of the
/// schema per operation however long the history.
pub fn render_from(
    dialect: &dyn Dialect,
    version: ServerVersion,
    mut current: SchemaState,
    operations: &[Operation],
    atomic: bool,
    direction: Direction,
) -> Result<(Script, SchemaState), ScriptError> {
    let capabilities = dialect.capabilities(version);
    let transactional = atomic && capabilities.transactional_ddl;
    let mut rendered = Vec::with_capacity(operations.len());
    let mut render_one = |current: &mut SchemaState, index: usize, op: &Operation| {
        let ctx = RenderContext {
            state: current,
            version,
            capabilities: &capabilities,
            in_transaction: transactional,
        };
        // Rendering only reads the state, and `apply` changes nothing when it refuses,
        // so one state serves both; the state's verdict wins over the renderer's.
        let statements = dialect.render(op, &ctx);
        let description = op.to_string();
        current.apply(op).map_err(|source| ScriptError::State {
            index,
            description: description.clone(),
            source,
        })?;
        let statements = statements.map_err(|source| ScriptError::Render {
            index,
            description: description.clone(),
            source,
        })?;
        rendered.push(RenderedOperation {
            description,
            statements,
        });
        Ok::<(), ScriptError>(())
    };
    match direction {
        Direction::Forward => {
            for (i, op) in operations.iter().enumerate() {
                render_one(&mut current, i + 1, op)?;
            }
        }
        Direction::Backward => {
            // Each inverse comes from the state before its operation, so walk forward
            // first. Every inverse exists before any SQL does: an irreversible
            // operation stops the plan before anything runs.
            let mut inverses = Vec::with_capacity(operations.len());
            for (i, op) in operations.iter().enumerate() {
                let inverse = op
                    .inverse(&current)
                    .map_err(|source| ScriptError::Inverse {
                        index: i + 1,
                        description: op.to_string(),
                        source,
                    })?;
                current.apply(op).map_err(|source| ScriptError::State {
                    index: i + 1,
                    description: op.to_string(),
                    source,
                })?;
                inverses.push(inverse);
            }
            for (i, inverse) in inverses.iter().enumerate().rev() {
                render_one(&mut current, i + 1, inverse)?;
            }
        }
    }
    Ok((
        Script {
            transaction: transactional.then(|| dialect.transaction_sql()),
            recovery: if transactional {
                Vec::new()
            } else {
                let wrapper = dialect.transaction_sql();
                std::iter::once(Statement::new("ROLLBACK"))
                    .chain(wrapper.after)
                    .collect()
            },
            operations: rendered,
        },
        current,
    ))
}

impl Script {
    /// Every statement in run order, wrapper included.
    pub fn statements(&self) -> impl Iterator<Item = &Statement> {
        let (before, begin, commit, after) = match &self.transaction {
            Some(t) => (&t.before[..], &t.begin[..], &t.commit[..], &t.after[..]),
            None => (&[][..], &[][..], &[][..], &[][..]),
        };
        before
            .iter()
            .chain(begin)
            .chain(self.operations.iter().flat_map(|o| o.statements.iter()))
            .chain(commit)
            .chain(after)
    }

    /// Runs the script on its own, with no bookkeeping (tests, tools).
    pub async fn execute(&self, driver: &mut dyn Driver) -> Result<(), ExecuteError> {
        self.execute_with(driver, &Bookkeeping::default()).await
    }

    /// Runs the script with the executor's bookkeeping: in one transaction when it has
    /// one (rolled back on failure, `bookkeeping.commit` just before the commit),
    /// otherwise statement by statement with a checkpoint after each operation.
    pub async fn execute_with(
        &self,
        driver: &mut dyn Driver,
        bookkeeping: &Bookkeeping<'_>,
    ) -> Result<(), ExecuteError> {
        match &self.transaction {
            Some(t) => self.execute_in_transaction(driver, t, bookkeeping).await,
            None => self.execute_step_by_step(driver, bookkeeping).await,
        }
    }

    async fn execute_step_by_step(
        &self,
        driver: &mut dyn Driver,
        bookkeeping: &Bookkeeping<'_>,
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
        bookkeeping: &Bookkeeping<'_>,
    ) -> Result<(), ExecuteError> {
        let skip = bookkeeping.skip;
        let failed = |completed, statement, source| ExecuteError {
            completed,
            operation: completed,
            statement,
            source,
        };
        for statement in &bookkeeping.start {
            run_statement(driver, statement)
                .await
                .map_err(|e| failed(skip, 0, e))?;
        }
        for (i, op) in self.operations.iter().enumerate().skip(skip) {
            let checkpoint = bookkeeping.checkpoint.map(|f| f(i + 1)).unwrap_or_default();
            let riding = if bookkeeping.batch_checkpoints {
                checkpoint.as_slice()
            } else {
                &[]
            };
            run_operation(driver, i, op, riding)
                .await
                .map_err(|(j, e)| failed(i, j, e))?;
            if !bookkeeping.batch_checkpoints {
                for statement in &checkpoint {
                    run_statement(driver, statement)
                        .await
                        .map_err(|e| failed(i + 1, 0, e))?;
                }
            }
        }
        for statement in &bookkeeping.finish {
            run_statement(driver, statement)
                .await
                .map_err(|e| failed(self.operations.len(), 0, e))?;
        }
        Ok(())
    }

    async fn execute_in_transaction(
        &self,
        driver: &mut dyn Driver,
        t: &TransactionSql,
        bookkeeping: &Bookkeeping<'_>,
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
            for (i, op) in self.operations.iter().enumerate().skip(bookkeeping.skip) {
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
            let history = bookkeeping.commit.map(|f| f()).unwrap_or_default();
            let batch: Vec<&str> = history
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

/// Statements the executor adds to a script's run.
#[derive(Default)]
pub struct Bookkeeping<'a> {
    /// Operations already completed by an earlier run (resuming a partial migration):
    /// not run again, in a transaction or step by step.
    pub skip: usize,
    /// Transactional: made and run just before the commit (the history row, which
    /// records the duration up to that moment).
    pub commit: Option<&'a (dyn Fn() -> Vec<Statement> + Sync)>,
    /// Step by step: run before the first operation.
    pub start: Vec<Statement>,
    /// Step by step: run after each operation, given how many are done.
    pub checkpoint: Option<&'a (dyn Fn(usize) -> Vec<Statement> + Sync)>,
    /// Send each checkpoint with its operation's last statement, in one round trip
    /// (`Capabilities::batch_statements`).
    pub batch_checkpoints: bool,
    /// Step by step: run after the last operation.
    pub finish: Vec<Statement>,
}

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

/// The script as `sqlmigrate` prints it: a comment per operation, `;`-terminated statements.
impl fmt::Display for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        let write_all = |out: &mut String, statements: &[Statement]| {
            for s in statements {
                write_statement(out, s);
            }
        };
        if let Some(t) = &self.transaction {
            write_all(&mut out, &t.before);
            write_all(&mut out, &t.begin);
        }
        for op in &self.operations {
            let _ = writeln!(out, "--\n-- {}\n--", op.description);
            if op.statements.is_empty() {
                out.push_str("-- (no SQL needed on this database)\n");
            }
            write_all(&mut out, &op.statements);
        }
        if let Some(t) = &self.transaction {
            write_all(&mut out, &t.commit);
            write_all(&mut out, &t.after);
        }
        f.write_str(&out)
    }
}

fn write_statement(out: &mut String, statement: &Statement) {
    if let Some(message) = &statement.fails_with_rows {
        let _ = writeln!(out, "-- guard: fails if this returns rows: {message}");
    }
    let _ = writeln!(out, "{};", statement.sql);
}

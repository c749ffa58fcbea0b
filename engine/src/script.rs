//! A list of operations rendered for one dialect, with the transaction boundaries the
//! executor uses: what `sqlmigrate` prints is exactly what `migrate` runs.

use std::fmt::{self, Write as _};

use crate::ast::Operation;
use crate::dialect::driver::{run_statement, Driver, DriverError};
use crate::dialect::{Dialect, RenderContext, RenderError, ServerVersion, Statement, TransactionSql};
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
    let capabilities = dialect.capabilities(version);
    let transactional = atomic && capabilities.transactional_ddl;
    let steps = match direction {
        Direction::Forward => forward_steps(state, operations)?,
        Direction::Backward => backward_steps(state, operations)?,
    };
    let mut rendered = Vec::with_capacity(steps.len());
    let mut after = state.clone();
    for (index, op, before) in steps {
        let ctx = RenderContext {
            state: &before,
            version,
            capabilities: &capabilities,
            in_transaction: transactional,
        };
        let statements = dialect.render(&op, &ctx).map_err(|source| ScriptError::Render {
            index,
            description: op.to_string(),
            source,
        })?;
        after = before;
        after.apply(&op).expect("checked while planning the steps");
        rendered.push(RenderedOperation {
            description: op.to_string(),
            statements,
        });
    }
    Ok((
        Script {
            transaction: transactional.then(|| dialect.transaction_sql()),
            operations: rendered,
        },
        after,
    ))
}

/// (operation number, operation, state before it), in the order they run.
type Steps = Vec<(usize, Operation, SchemaState)>;

fn forward_steps(state: &SchemaState, operations: &[Operation]) -> Result<Steps, ScriptError> {
    let mut current = state.clone();
    let mut steps = Vec::with_capacity(operations.len());
    for (i, op) in operations.iter().enumerate() {
        let before = current.clone();
        current.apply(op).map_err(|source| ScriptError::State {
            index: i + 1,
            description: op.to_string(),
            source,
        })?;
        steps.push((i + 1, op.clone(), before));
    }
    Ok(steps)
}

fn backward_steps(state: &SchemaState, operations: &[Operation]) -> Result<Steps, ScriptError> {
    // Operation i's inverse comes from the state before i and runs against the state
    // after i. Every inverse is computed before any SQL exists, so an irreversible
    // operation stops the plan before anything runs.
    let forward = forward_steps(state, operations)?;
    let mut after = state.clone();
    for op in operations {
        after.apply(op).expect("checked by forward_steps");
    }
    let mut steps = Vec::with_capacity(forward.len());
    for (index, op, before) in forward.into_iter().rev() {
        let inverse = op.inverse(&before).map_err(|source| ScriptError::Inverse {
            index,
            description: op.to_string(),
            source,
        })?;
        steps.push((index, inverse, std::mem::replace(&mut after, before)));
    }
    Ok(steps)
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

    /// Runs the script: in one transaction when it has one (rolled back on failure),
    /// otherwise statement by statement. Returns how many operations completed.
    pub async fn execute(&self, driver: &mut dyn Driver) -> Result<(), ExecuteError> {
        match &self.transaction {
            Some(t) => self.execute_in_transaction(driver, t).await,
            None => {
                for (i, op) in self.operations.iter().enumerate() {
                    for statement in &op.statements {
                        run_statement(driver, statement)
                            .await
                            .map_err(|source| ExecuteError { completed: i, source })?;
                    }
                }
                Ok(())
            }
        }
    }

    async fn execute_in_transaction(&self, driver: &mut dyn Driver, t: &TransactionSql) -> Result<(), ExecuteError> {
        let failed = |source| ExecuteError { completed: 0, source };
        for statement in &t.before {
            run_statement(driver, statement).await.map_err(failed)?;
        }
        let body = async {
            for statement in t.begin.iter().chain(self.operations.iter().flat_map(|o| o.statements.iter())) {
                run_statement(driver, statement).await?;
            }
            for statement in &t.commit {
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
            run_statement(driver, statement).await.map_err(failed)?;
        }
        body.map_err(failed)
    }
}

/// A failed run: `completed` operations were applied (always 0 in a transaction).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source}")]
pub struct ExecuteError {
    pub completed: usize,
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

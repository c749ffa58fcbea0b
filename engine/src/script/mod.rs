//! A list of operations rendered for one dialect, with the transaction boundaries the
//! executor uses: what `sqlmigrate` prints is exactly what `migrate` runs.

pub use run::{Bookkeeping, ExecuteError, LockTimedOut, Progress, Retry};
pub use split::{first_keyword, is_data_statement, leading_keywords, split_statements, SplitError};

mod backfill;
mod run;
mod split;

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use crate::ast::Operation;
use crate::dialect::{
    Ahead, Dialect, LockNote, RenderContext, RenderError, Runs, ServerVersion, Statement,
    TransactionSql,
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
    /// Run step by step, progress is recorded after each of its statements, not only
    /// after the whole operation: a `run_sql`, whose statements strata cannot undo or
    /// check against the schema, resumes at the statement that failed.
    pub by_statement: bool,
    /// The tables whose locks the operation waits for: who blocks it (blocker blame).
    pub tables: Vec<String>,
    /// What undoes a part-way run of the operation ([`Dialect::cleanup`]).
    pub cleanup: Vec<Statement>,
    /// What each statement locks and does to the table ([`Dialect::explain`]), in the
    /// order of `statements`; filled by [`render_explained`] only (empty otherwise).
    pub locks: Vec<LockNote>,
    /// Its change is made by the statements of operation `n` (1-based, in run
    /// order), with others' ([`Dialect::render_ahead`]); its own are its guards.
    pub carried_by: Option<usize>,
}

impl RenderedOperation {
    /// The comment `sqlmigrate` shows before the operation's statements, if any.
    pub fn no_sql_note(&self) -> String {
        match self.carried_by {
            Some(n) => format!("-- (its change is made by the statements of operation {n})\n"),
            None if self.statements.is_empty() => {
                "-- (no SQL needed on this database)\n".to_string()
            }
            None => String::new(),
        }
    }
}

/// How a migration's operations are rendered and run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    /// In one transaction where the database can (a migration's `atomic`).
    pub atomic: bool,
    /// Safe plans for tables that existed before the migration (`safe`).
    pub safe: bool,
}

impl Mode {
    /// How `migration` is rendered in a project: its `atomic`, and a safe plan unless
    /// the migration or the project (`[database] safe`) says `safe = false`.
    pub fn of(migration: &crate::migration::Migration, project_safe: bool) -> Self {
        Self {
            atomic: migration.atomic,
            safe: migration.safe && project_safe,
        }
    }
}

/// A bare `atomic` flag: the plain plan, as scripts were rendered before safe plans.
impl From<bool> for Mode {
    fn from(atomic: bool) -> Self {
        Self {
            atomic,
            safe: false,
        }
    }
}

/// A rendered migration (or any run of operations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The wrapper when the whole script runs in one transaction.
    pub transaction: Option<TransactionSql>,
    /// Step by step, but consecutive [`Runs::InGroup`] statements share one
    /// transaction, committed with their checkpoints: an atomic migration whose safe
    /// plan has statements that must run alone.
    pub groups: bool,
    /// With `groups`: the dialect's transaction statements, whose settings hold for
    /// the whole run (`before` first, `after` last) and whose guards run before each
    /// group's `COMMIT` (SQLite: foreign keys off for its table rebuilds, and checked).
    pub envelope: Option<Box<TransactionSql>>,
    /// Step by step: run (errors ignored) after a failed statement, to close what an
    /// operation may have opened itself (a SQLite rebuild's own transaction).
    pub recovery: Vec<Statement>,
    pub operations: Vec<RenderedOperation>,
}

/// Why operations could not be rendered; `index` is the 1-based operation number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
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
    mode: impl Into<Mode>,
    direction: Direction,
) -> Result<(Script, SchemaState), ScriptError> {
    render_from(dialect, version, state.clone(), operations, mode, direction)
}

/// `render`, with each operation's lock notes ([`RenderedOperation::locks`]) filled
/// in: what `sqlmigrate --explain` and `lint` read. Running a script needs none, so
/// `render` leaves them out.
pub fn render_explained(
    dialect: &dyn Dialect,
    version: ServerVersion,
    state: &SchemaState,
    operations: &[Operation],
    mode: Mode,
    direction: Direction,
) -> Result<(Script, SchemaState), ScriptError> {
    let explained = Explained { mode, locks: true };
    render_script(
        dialect,
        version,
        state.clone(),
        operations,
        explained,
        direction,
    )
}

/// `render`, taking the state by value: the executor's path, with no copy of the
/// schema per operation however long the history.
pub fn render_from(
    dialect: &dyn Dialect,
    version: ServerVersion,
    current: SchemaState,
    operations: &[Operation],
    mode: impl Into<Mode>,
    direction: Direction,
) -> Result<(Script, SchemaState), ScriptError> {
    let explained = Explained {
        mode: mode.into(),
        locks: false,
    };
    render_script(dialect, version, current, operations, explained, direction)
}

/// A mode, and whether the lock notes are wanted.
#[derive(Clone, Copy)]
struct Explained {
    mode: Mode,
    locks: bool,
}

fn render_script(
    dialect: &dyn Dialect,
    version: ServerVersion,
    mut current: SchemaState,
    operations: &[Operation],
    explained: Explained,
    direction: Direction,
) -> Result<(Script, SchemaState), ScriptError> {
    let Explained { mode, locks } = explained;
    let capabilities = dialect.capabilities(version);
    let transactional = mode.atomic && capabilities.transactional_ddl;
    let mut rendered = Vec::with_capacity(operations.len());
    let mut new_tables = NewTables::default();
    if direction == Direction::Backward {
        // Undoing a migration, the tables it created are about to go: no safe plan
        // for changes to them on the way.
        for op in operations {
            new_tables.follow(op);
        }
    }
    let run = run_order(&mut current, operations, direction)?;
    let mut at = 0;
    while at < run.len() {
        let (index, op) = (run[at].0, &run[at].1);
        // The dialect renders what the database holds: foreign keys without a
        // database constraint are left out, and adding or dropping one is no SQL.
        // A run the dialect may coalesce ends before such an operation.
        let in_database = current.in_database();
        let db_op = crate::state::operation_in_database(op, &current);
        let following: Vec<Operation> = run[at + 1..]
            .iter()
            .map_while(|(_, next)| {
                crate::state::operation_in_database(next, &current).map(Cow::into_owned)
            })
            .collect();
        let ctx = RenderContext {
            state: &in_database,
            version,
            capabilities: &capabilities,
            in_transaction: transactional,
            safe: mode.safe && new_tables.is_existing(op),
        };
        // Rendering only reads the state, and `apply` changes nothing when it refuses,
        // so one state serves both.
        let rendered_ahead = match &db_op {
            Some(db_op) => dialect
                .render_ahead(db_op, &following, &ctx)
                .and_then(|ahead| Ok((ahead, dialect.cleanup(db_op, &ctx)?))),
            None => Ok((
                Ahead {
                    operations: vec![Vec::new()],
                    made_by: 0,
                },
                Vec::new(),
            )),
        };
        drop(in_database);
        let (ahead, cleanup) = match rendered_ahead {
            Ok(rendered) => rendered,
            Err(source) => return Err(refused(&mut current, index, op, source)),
        };
        let first = rendered.len() + 1;
        let made_by = (ahead.operations.len() > 1).then_some(first + ahead.made_by);
        for (j, statements) in ahead.operations.into_iter().enumerate() {
            let Some((index, op)) = run.get(at) else {
                break;
            };
            let notes: Vec<LockNote> = match crate::state::operation_in_database(op, &current) {
                Some(db_op) if locks => {
                    let in_database = current.in_database();
                    let ctx = RenderContext {
                        state: &in_database,
                        version,
                        capabilities: &capabilities,
                        in_transaction: transactional,
                        safe: mode.safe && new_tables.is_existing(op),
                    };
                    statements
                        .iter()
                        .map(|s| dialect.explain(&db_op, s, &ctx))
                        .collect()
                }
                _ => Vec::new(),
            };
            new_tables.follow(op);
            let description = op.to_string();
            // The state's verdict wins over the renderer's.
            current.apply(op).map_err(|source| ScriptError::State {
                index: *index,
                description: description.clone(),
                source,
            })?;
            let number = first + j;
            rendered.push(RenderedOperation {
                description,
                statements,
                by_statement: matches!(op, Operation::RunSql(_)),
                tables: op.locked_tables(),
                cleanup: if j == 0 { cleanup.clone() } else { Vec::new() },
                locks: notes,
                carried_by: made_by.filter(|&n| n != number),
            });
            at += 1;
        }
    }
    Ok((Script::assemble(dialect, transactional, rendered), current))
}

/// The error of an operation the dialect could not render: the state's verdict when
/// the operation does not fit the state, the renderer's otherwise.
fn refused(
    current: &mut SchemaState,
    index: usize,
    op: &Operation,
    source: RenderError,
) -> ScriptError {
    let description = op.to_string();
    match current.apply(op) {
        Err(source) => ScriptError::State {
            index,
            description,
            source,
        },
        Ok(()) => ScriptError::Render {
            index,
            description,
            source,
        },
    }
}

/// The operations in run order, each with its 1-based number in the file: backward,
/// the inverses, last operation first (`current` is then the state after them all).
fn run_order(
    current: &mut SchemaState,
    operations: &[Operation],
    direction: Direction,
) -> Result<Vec<(usize, Operation)>, ScriptError> {
    let mut run: Vec<(usize, Operation)> = Vec::with_capacity(operations.len());
    match direction {
        Direction::Forward => {
            run.extend(
                operations
                    .iter()
                    .cloned()
                    .enumerate()
                    .map(|(i, op)| (i + 1, op)),
            );
        }
        Direction::Backward => {
            // Each inverse comes from the state before its operation, so walk forward
            // first. Every inverse exists before any SQL does: an irreversible
            // operation stops the plan before anything runs.
            for (i, op) in operations.iter().enumerate() {
                let inverse = op.inverse(current).map_err(|source| ScriptError::Inverse {
                    index: i + 1,
                    description: op.to_string(),
                    source,
                })?;
                current.apply(op).map_err(|source| ScriptError::State {
                    index: i + 1,
                    description: op.to_string(),
                    source,
                })?;
                run.push((i + 1, inverse));
            }
            run.reverse();
        }
    }
    Ok(run)
}

impl Script {
    /// The script of `operations`: in one transaction when the migration may have
    /// one, unless a statement must run alone, which splits it into transactional
    /// groups and those statements, each checkpointed; otherwise step by step.
    fn assemble(
        dialect: &dyn Dialect,
        transactional: bool,
        operations: Vec<RenderedOperation>,
    ) -> Self {
        let alone = operations
            .iter()
            .flat_map(|o| &o.statements)
            .any(|s| s.runs != Runs::InGroup);
        let groups = transactional && alone;
        let transactional = transactional && !alone;
        Script {
            transaction: transactional.then(|| dialect.transaction_sql()),
            groups,
            envelope: groups.then(|| Box::new(dialect.transaction_sql())),
            recovery: if transactional {
                Vec::new()
            } else {
                let wrapper = dialect.transaction_sql();
                std::iter::once(Statement::new("ROLLBACK"))
                    .chain(wrapper.after)
                    .collect()
            },
            operations,
        }
    }
}

/// The tables created (or renamed into being) by the operations so far: a safe plan
/// is for tables that existed before the migration, which the application may be using.
#[derive(Default)]
pub(crate) struct NewTables(std::collections::BTreeSet<String>);

impl NewTables {
    /// Whether `op` works on a table that existed before (none of those followed).
    pub(crate) fn is_existing(&self, op: &Operation) -> bool {
        !matches!(op, Operation::CreateTable(_))
            && op.table().is_some_and(|table| !self.0.contains(table))
    }

    /// Takes note of the tables `op` creates or renames.
    pub(crate) fn follow(&mut self, op: &Operation) {
        match op {
            Operation::CreateTable(t) => {
                self.0.insert(t.name.clone());
            }
            Operation::RenameTable(r) if self.0.remove(&r.from) => {
                self.0.insert(r.to.clone());
            }
            _ => {}
        }
    }
}

impl Script {
    /// The guards run before each transactional group's `COMMIT` ([`Script::envelope`]).
    pub fn group_guards(&self) -> impl Iterator<Item = &Statement> {
        self.envelope
            .iter()
            .flat_map(|e| &e.commit)
            .filter(|s| s.fails_with_rows.is_some())
    }

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
}

/// How a statement runs, as the runner runs it: what `sqlmigrate` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "number", rename_all = "snake_case")]
pub enum Unit {
    /// In the migration's one transaction.
    Transaction,
    /// In transactional group `n` (1-based) of a migration run in steps.
    Group(usize),
    /// Committed alone, with its checkpoint.
    OwnTransaction,
    /// Outside any transaction (autocommit): a step of its own.
    Outside,
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unit::Transaction => f.write_str("in the migration's transaction"),
            Unit::Group(n) => write!(f, "in transaction group {n}"),
            Unit::OwnTransaction => f.write_str("in a transaction of its own"),
            Unit::Outside => f.write_str("outside any transaction"),
        }
    }
}

impl Script {
    /// How each statement of each operation runs, in the runner's terms.
    pub fn units(&self) -> Vec<Vec<Unit>> {
        let mut groups = 0;
        let mut open = false;
        self.operations
            .iter()
            .map(|op| {
                op.statements
                    .iter()
                    .map(|s| {
                        if self.transaction.is_some() {
                            return Unit::Transaction;
                        }
                        let grouped = self.groups && s.runs == Runs::InGroup;
                        if !grouped {
                            open = false;
                        }
                        match s.runs {
                            _ if grouped => {
                                if !open {
                                    groups += 1;
                                    open = true;
                                }
                                Unit::Group(groups)
                            }
                            Runs::OwnTransaction => Unit::OwnTransaction,
                            Runs::InGroup | Runs::Outside => Unit::Outside,
                        }
                    })
                    .collect()
            })
            .collect()
    }
}

/// The script as `sqlmigrate` prints it: a comment per operation, `;`-terminated
/// statements, and the transactions of a migration run in steps as the runner opens
/// and commits them.
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
        if let Some(e) = &self.envelope {
            write_all(&mut out, &e.before);
        }
        let group_guards: Vec<Statement> = self.group_guards().cloned().collect();
        let mut group = None;
        for (op, units) in self.operations.iter().zip(self.units()) {
            let _ = writeln!(out, "--\n-- {}\n--", op.description);
            out.push_str(&op.no_sql_note());
            for (statement, unit) in op.statements.iter().zip(units) {
                if group.is_some() && group != Some(unit) {
                    write_all(&mut out, &group_guards);
                    out.push_str("COMMIT;\n");
                    group = None;
                }
                match unit {
                    Unit::Group(_) if group.is_none() => {
                        out.push_str("BEGIN;\n");
                        group = Some(unit);
                    }
                    Unit::OwnTransaction => {
                        out.push_str("-- in a transaction of its own:\n");
                    }
                    _ if statement.backfill.is_some() => {}
                    Unit::Outside if self.groups => {
                        out.push_str("-- outside any transaction:\n");
                    }
                    _ => {}
                }
                write_statement(&mut out, statement);
            }
        }
        if group.is_some() {
            write_all(&mut out, &group_guards);
            out.push_str("COMMIT;\n");
        }
        if let Some(t) = &self.transaction {
            write_all(&mut out, &t.commit);
            write_all(&mut out, &t.after);
        }
        if let Some(e) = &self.envelope {
            write_all(&mut out, &e.after);
        }
        f.write_str(&out)
    }
}

/// One statement as `sqlmigrate` prints it: `;`-terminated, after its guard's or
/// backfill's comment; a `run_code` placeholder as the comment it is.
pub fn write_statement(out: &mut String, statement: &Statement) {
    if statement.call.is_some() {
        // Already a comment: nothing the database runs.
        let _ = writeln!(out, "{}", statement.sql);
        return;
    }
    if let Some(backfill) = &statement.backfill {
        let _ = writeln!(out, "{}", backfill.describe());
    }
    if let Some(message) = &statement.fails_with_rows {
        let _ = writeln!(out, "-- guard: fails if this returns rows: {message}");
    }
    if statement.generates {
        let _ = writeln!(out, "-- runs each statement this query returns:");
    }
    let _ = writeln!(out, "{};", statement.sql);
}

//! Running a script on a live server: in one transaction when it has one, otherwise
//! statement by statement with the caller's bookkeeping (checkpoints) between
//! operations — in transactional groups when the script has them (a safe plan), a
//! statement marked to run alone committing on its own. A unit (the transaction, a
//! group, a statement) whose lock wait timed out is rolled back and run again
//! (`Retry`); a failed operation's part that had committed is undone (its cleanup).
//! Inside a transaction strata opened, statements are sent together where the driver
//! pipelines them ([`Driver::execute_pipelined`]), each still one statement: a
//! failure aborts the transaction, so nothing sent after it changes anything.
//! The mechanism only: what the bookkeeping says is the executor's policy
//! (`executor::ledger`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::Instrument;

use super::backfill::run_backfill;
use super::{RenderedOperation, Script};
use crate::code::{Function, Session};
use crate::dialect::driver::{run_statement, Blocker, Driver, DriverError};
use crate::dialect::{BackfillSql, Call, Runs, Statement, TransactionSql};
use crate::executor::BackfillProgress;
use crate::history::BackfillCursor;

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

    /// Once statement `j` (0-based) of operation `op`, which has `count`, has run.
    fn after_statement(op: usize, j: usize, count: usize) -> Self {
        if j + 1 == count {
            Self::operations(op + 1)
        } else {
            Self {
                operations: op,
                statements: j + 1,
            }
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

    /// Step by step: the record that the run started, written before the first
    /// operation — or, when the run opens with a transactional group, inside that
    /// group just before its commit, so that a group that fails takes it back.
    fn start(&self) -> Option<Statement> {
        None
    }

    /// Step by step: run after each operation but the last, and after each statement
    /// of an operation recorded by statement, given the progress it records. In a
    /// transactional group, only the group's last record runs, before its commit; the
    /// record after a statement run outside any transaction waits for that commit
    /// when a group comes next (at most one operation is in effect unrecorded).
    fn checkpoint(&self, done: Progress) -> Option<Statement> {
        let _ = done;
        None
    }

    /// Step by step, when the run opens with a transactional group: one statement
    /// that writes the start row already saying `done` (the progress the group
    /// records before it commits), in place of the start row and that checkpoint.
    /// `None`, the default, writes both.
    fn start_at(&self, done: Progress) -> Option<Statement> {
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
    /// step by step, after the last operation. Called once what it records has run,
    /// so it can record how long the run took (unless `finish_sent_with` answered).
    fn finish(&self) -> Option<Statement> {
        None
    }

    /// `finish`, built before the statements of the transaction that writes it have
    /// run, to be sent with them: the database measures the time they take from the
    /// transaction's `BEGIN` ([`Dialect::millis_since_begin`]), sent at `began` —
    /// `None` when the runner joined a transaction it did not open. `None`, the
    /// default, where it cannot: the runner then asks `finish` once they have run.
    ///
    /// [`Dialect::millis_since_begin`]: crate::dialect::Dialect::millis_since_begin
    fn finish_sent_with(&self, began: Option<Instant>) -> Option<Statement> {
        let _ = began;
        None
    }

    /// How a statement (or transactional group) whose lock wait ran out is retried.
    fn retry(&self) -> Retry {
        Retry::default()
    }

    /// Operation `index` (0-based) is about to run: a notice for a progress display,
    /// not a statement. Again when a retry runs it again.
    fn operation_starting(&self, index: usize, operation: &RenderedOperation) {
        let _ = (index, operation);
    }

    /// Whether each `operation_starting` must come as its operation really starts
    /// ([`OperationObserver::follows_operations`]): statements then go one by one,
    /// never queued for a transaction's commit.
    ///
    /// [`OperationObserver::follows_operations`]: crate::executor::OperationObserver::follows_operations
    fn follows_operations(&self) -> bool {
        false
    }

    /// The application's function a `run_code` statement calls, when registered.
    fn function(&self, name: &str) -> Option<Arc<dyn Function>> {
        let _ = name;
        None
    }

    /// Where the backfill of operation `index` (0-based) resumes: the last batch an
    /// earlier run committed.
    fn backfill_resume(&self, index: usize) -> Option<BackfillCursor> {
        let _ = index;
        None
    }

    /// The record committed with each batch of the backfill of operation `index`, in
    /// the batch's transaction: how far it got.
    fn backfill_checkpoint(&self, index: usize, cursor: &BackfillCursor) -> Option<Statement> {
        let _ = (index, cursor);
        None
    }

    /// The backfill of operation `index` committed a batch: a notice for a progress
    /// display.
    fn backfill_progress(&self, index: usize, progress: &BackfillProgress) {
        let _ = (index, progress);
    }
}

/// Runs one statement of a script: a call of the application's function for a
/// `run_code`, the SQL otherwise (a backfill is walked by the step-by-step runner).
async fn run_script_statement(
    driver: &mut dyn Driver,
    statement: &Statement,
    bookkeeping: &dyn Bookkeeping,
) -> Result<(), DriverError> {
    if let Some(call) = &statement.call {
        return call_function(driver, call, bookkeeping).await;
    }
    if statement.backfill.is_some() {
        // `Script::assemble` never puts one in a transaction: its batches commit.
        return Err(DriverError::statement(
            &statement.sql,
            "a backfill cannot run inside the migration's transaction",
        ));
    }
    run_statement(driver, statement).await
}

/// Calls the application's function of `call` on the connection; its failure fails
/// the statement, naming the function.
async fn call_function(
    driver: &mut dyn Driver,
    call: &Call,
    bookkeeping: &dyn Bookkeeping,
) -> Result<(), DriverError> {
    let name = &call.function;
    let placeholder = Call::placeholder(name);
    let Some(function) = bookkeeping.function(name) else {
        return Err(DriverError::statement(
            placeholder,
            format!("the application's function {name} is not registered"),
        ));
    };
    let span = tracing::info_span!("run_code", function = %name);
    function
        .call(Session::new(driver))
        .instrument(span)
        .await
        .map_err(|e| {
            DriverError::statement(
                placeholder,
                format!("the application's function {name} failed: {e}"),
            )
        })
}

/// How lock waits that ran out ([`Driver::is_lock_timeout`]) are retried: the unit
/// that failed (its transaction rolled back) runs again after a pause that doubles
/// each time, with jitter, so that waiting sessions do not retry in step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retry {
    pub retries: u32,
    /// The pause before the first retry.
    pub first_pause: Duration,
}

impl Retry {
    /// The longest pause between two attempts.
    const LONGEST_PAUSE: Duration = Duration::from_secs(30);

    /// The pause before retry `attempt` (0-based): `first_pause · 2^attempt`, capped,
    /// then scaled by a random factor in [0.5, 1].
    fn pause(self, attempt: u32) -> Duration {
        let full = self
            .first_pause
            .saturating_mul(1 << attempt.min(16))
            .min(Self::LONGEST_PAUSE);
        full.mul_f64(0.5 + fastrand::f64() / 2.0)
    }
}

/// The retries of one run: attempts since the last statement that succeeded.
struct Retries {
    policy: Retry,
    attempts: u32,
}

impl Retries {
    fn new(policy: Retry) -> Self {
        Self {
            policy,
            attempts: 0,
        }
    }

    fn succeeded(&mut self) {
        self.attempts = 0;
    }

    /// After a failed unit of `script`: `Ok` once the pause before its retry is over,
    /// or the failure given up — a lock timeout with who held locks on the failed
    /// operation's tables.
    async fn after_failure(
        &mut self,
        driver: &mut dyn Driver,
        mut e: ExecuteError,
        script: &Script,
    ) -> Result<(), ExecuteError> {
        if !driver.is_lock_timeout(&e.source) {
            return Err(e);
        }
        let tables = script
            .operations
            .get(e.operation)
            .map_or(&[][..], |op| &op.tables[..]);
        let blockers = blame(driver, tables).await;
        for blocker in &blockers {
            tracing::warn!(tables = ?tables, "the lock wait timed out; held by {blocker}");
        }
        if self.attempts >= self.policy.retries {
            e.lock_timeout = Some(LockTimedOut {
                attempts: self.attempts + 1,
                blockers,
            });
            return Err(e);
        }
        let pause = self.policy.pause(self.attempts);
        self.attempts += 1;
        tracing::warn!(
            attempt = self.attempts,
            of = self.policy.retries,
            pause_ms = u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
            "the lock wait timed out; rolled back, retrying"
        );
        tokio::time::sleep(pause).await;
        Ok(())
    }
}

/// Who holds locks on `tables`, as the server tells; nothing when it cannot.
async fn blame(driver: &mut dyn Driver, tables: &[String]) -> Vec<Blocker> {
    if tables.is_empty() {
        return Vec::new();
    }
    match driver.lock_holders(tables).await {
        Ok(blockers) => blockers,
        Err(e) => {
            tracing::debug!(error = %e, "could not list who holds locks");
            Vec::new()
        }
    }
}

/// A lock wait that ran out on every attempt.
#[derive(Debug, Clone)]
pub struct LockTimedOut {
    pub attempts: u32,
    /// Who held locks on the operation's tables after the last attempt.
    pub blockers: Vec<Blocker>,
}

/// No bookkeeping at all.
struct Unrecorded;
impl Bookkeeping for Unrecorded {}

/// A failed run: statement `statement` (1-based; 0 = bookkeeping) of operation
/// `operation` (0-based) failed. `completed` operations, and `statements_done`
/// statements of the next one, stay applied: always none in a transaction, which
/// was rolled back. Every statement is one statement (several may be sent together
/// inside a transaction, where a failure aborts the rest), so one that failed changed
/// nothing (or was rolled back with its checkpoint).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{source}")]
pub struct ExecuteError {
    pub completed: usize,
    pub statements_done: usize,
    pub operation: usize,
    pub statement: usize,
    /// Step by step, the very first record (the history row saying the run started)
    /// failed: nothing is in effect or written (statements of a first group that
    /// ran before it were rolled back with it).
    pub at_start: bool,
    /// The statement's lock wait ran out on every attempt.
    pub lock_timeout: Option<LockTimedOut>,
    /// Nothing of the failed operation is in effect: none of its statements had
    /// committed (a guard only reads), or its cleanup undid those that had.
    pub nothing_in_effect: bool,
    /// The failed operation is a backfill that committed batches in this run: the
    /// database changed although no operation completed (its checkpoint says how far).
    pub backfilled: bool,
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
            lock_timeout: None,
            nothing_in_effect: false,
            backfilled: false,
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
    /// one (rolled back on failure), otherwise step by step with a checkpoint after
    /// each operation (in transactional groups when the script has them).
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
        let mut result = self.run_step_by_step(driver, bookkeeping).await;
        if let Err(e) = &mut result {
            for statement in &self.recovery {
                // Best effort: the original failure is what the user needs to see.
                let _ = driver.execute(&statement.sql).await;
            }
            if let Some(op) = self.operations.get(e.operation) {
                self.undo_part_of(driver, op, e).await;
            }
        }
        result
    }

    /// After operation `op` failed (`e`): what it left outside a transaction goes, so
    /// the database holds whole operations — an INVALID index the failed statement's
    /// concurrent build left (`clear_leftovers`), and, when statements of it had
    /// committed before the failure (a constraint whose `VALIDATE` then failed), its
    /// cleanup. Nothing committed, nothing to undo: a statement that failed because
    /// an object of its name exists must not remove that object.
    async fn undo_part_of(
        &self,
        driver: &mut dyn Driver,
        op: &RenderedOperation,
        e: &mut ExecuteError,
    ) {
        // 0: strata's record after the operation's statements failed.
        let failed = match e.statement {
            0 => op.statements.len(),
            n => n - 1,
        };
        if let Some(statement) = op.statements.get(failed) {
            if statement.runs == Runs::Outside {
                let _ = driver.clear_leftovers(&statement.sql).await;
            }
        }
        let committed = op.statements[..failed.min(op.statements.len())]
            .iter()
            .any(|s| s.fails_with_rows.is_none() && (!self.groups || s.runs != Runs::InGroup));
        let mut nothing_left = true;
        if committed {
            nothing_left = !op.cleanup.is_empty();
            for statement in &op.cleanup {
                nothing_left &= run_statement(driver, statement).await.is_ok();
            }
        }
        if nothing_left && e.completed == e.operation {
            e.statements_done = 0;
            e.nothing_in_effect = true;
        }
    }

    async fn run_step_by_step(
        &self,
        driver: &mut dyn Driver,
        bookkeeping: &dyn Bookkeeping,
    ) -> Result<(), ExecuteError> {
        let skip = bookkeeping.skip();
        for statement in self.envelope.iter().flat_map(|e| &e.before) {
            run_statement(driver, statement)
                .await
                .map_err(|e| ExecuteError {
                    at_start: true,
                    ..ExecuteError::new(skip, 0, e)
                })?;
        }
        let positions = self.positions(skip);
        // A run that opens with a transactional group writes its start row in that
        // group's transaction (`close_group`): a commit fewer, and a first group
        // that fails takes the row back with everything else it did.
        let opens_with_group = positions.first().is_some_and(|p| self.in_group(*p));
        let mut start = bookkeeping.start();
        if !opens_with_group {
            if let Some(start) = start.take() {
                run_statement(driver, &start)
                    .await
                    .map_err(|e| ExecuteError {
                        at_start: true,
                        ..ExecuteError::new(skip, 0, e)
                    })?;
            }
        }
        let mut steps = Steps {
            script: self,
            bookkeeping,
            at: skip,
            group: None,
            start,
            retries: Retries::new(bookkeeping.retry()),
            announced: None,
            backfill: None,
            pending: None,
            deferred: None,
            queued: Vec::new(),
        };
        let mut next = 0;
        while next <= positions.len() {
            // One past the last position: the commit of a group still open.
            let outcome = match positions.get(next) {
                Some(&position) => steps.run(driver, next, position).await,
                None => steps.close_group(driver, Position::end(self)).await,
            };
            match outcome {
                Ok(()) => next += 1,
                Err(e) => {
                    let restart = steps.roll_back_group(driver).await.unwrap_or(next);
                    next = restart;
                    steps.after_failure(driver, e).await?;
                }
            }
        }
        steps.write_deferred(driver).await?; // always taken by a later record
        if self.operations.len() <= skip.operations {
            // Nothing ran, so nothing recorded the end yet.
            if let Some(finish) = bookkeeping.finish() {
                run_statement(driver, &finish)
                    .await
                    .map_err(|e| ExecuteError::new(steps.at, 0, e))?;
            }
        }
        for statement in self.envelope.iter().flat_map(|e| &e.after) {
            run_statement(driver, statement)
                .await
                .map_err(|e| ExecuteError::new(steps.at, 0, e))?;
        }
        Ok(())
    }

    /// Whether the statement at `position` runs in a transactional group.
    fn in_group(&self, position: Position) -> bool {
        self.groups
            && position
                .statement
                .is_some_and(|j| self.operations[position.op].statements[j].runs == Runs::InGroup)
    }

    /// Every statement left to run, in order, from `skip`; an operation without SQL
    /// on this database is one position with no statement (its record only).
    fn positions(&self, skip: Progress) -> Vec<Position> {
        let mut positions = Vec::new();
        for (op, rendered) in self.operations.iter().enumerate().skip(skip.operations) {
            let first = if op == skip.operations {
                skip.statements
            } else {
                0
            };
            if first >= rendered.statements.len() {
                positions.push(Position {
                    op,
                    statement: None,
                });
            }
            for statement in first..rendered.statements.len() {
                positions.push(Position {
                    op,
                    statement: Some(statement),
                });
            }
        }
        positions
    }

    async fn execute_in_transaction(
        &self,
        driver: &mut dyn Driver,
        t: &TransactionSql,
        bookkeeping: &dyn Bookkeeping,
    ) -> Result<(), ExecuteError> {
        let mut retries = Retries::new(bookkeeping.retry());
        loop {
            let Err(e) = self.transaction_once(driver, t, bookkeeping).await else {
                return Ok(());
            };
            retries.after_failure(driver, e, self).await?;
        }
    }

    async fn transaction_once(
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
        let began = Instant::now();
        let body = async {
            for statement in &t.begin {
                run_statement(driver, statement).await?;
            }
            let skip = bookkeeping.skip().operations;
            let operations = self.operations.iter().enumerate().skip(skip);
            // The operations' statements, sent together where the driver can (a
            // failure aborts the transaction, so nothing sent after it changes
            // anything).
            let mut body: Vec<Queued> = Vec::new();
            let one_by_one = bookkeeping.follows_operations();
            for (i, op) in operations {
                if one_by_one
                    || op
                        .statements
                        .iter()
                        .any(|s| s.call.is_some() || s.backfill.is_some())
                {
                    // A function runs between statements (a backfill is refused), or
                    // the notice must come as the operation starts: what is queued
                    // goes first.
                    send(driver, &mut body, &mut position).await?;
                    bookkeeping.operation_starting(i, op);
                    if let Err((j, e)) = run_operation(driver, i, op, bookkeeping).await {
                        position = (i, j);
                        return Err(e);
                    }
                    continue;
                }
                bookkeeping.operation_starting(i, op);
                for (j, statement) in op.statements.iter().enumerate() {
                    tracing::debug!(operation = i + 1, sql = %statement.sql, "executing");
                    body.push(Queued {
                        op: i,
                        number: j + 1,
                        statement,
                    });
                }
            }
            // Then guards (they read rows), the history row and the commit. The row
            // records how long the run took: sent with the rest where the database
            // measures it from the transaction's `BEGIN` (this one's, or the one the
            // script joined), else built once the rest has run.
            let opened = Some(began).filter(|_| !t.begin.is_empty());
            let mut finish = bookkeeping.finish_sent_with(opened);
            if finish.is_none() {
                send(driver, &mut body, &mut position).await?;
                finish = bookkeeping.finish();
            }
            let (guards, closing): (Vec<&Statement>, Vec<&Statement>) =
                t.commit.iter().partition(|s| s.fails_with_rows.is_some());
            let end = |statement| Queued {
                op: self.operations.len(),
                number: 0,
                statement,
            };
            body.extend(guards.into_iter().chain(&finish).chain(closing).map(end));
            send(driver, &mut body, &mut position).await
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

/// One statement of a step-by-step run: statement `statement` (0-based) of operation
/// `op`, or the operation's record alone when it has no SQL here.
#[derive(Debug, Clone, Copy)]
struct Position {
    op: usize,
    statement: Option<usize>,
}

impl Position {
    /// After the last operation.
    fn end(script: &Script) -> Self {
        Self {
            op: script.operations.len(),
            statement: None,
        }
    }
}

/// An open transactional group: where it started, to go back there on failure.
#[derive(Debug, Clone, Copy)]
struct Group {
    position: usize,
    at: Progress,
    /// Its first operation, which a failure of the start row is reported against.
    op: usize,
    /// When its `BEGIN` was sent.
    began: Instant,
}

/// A step-by-step run in progress.
struct Steps<'a> {
    script: &'a Script,
    bookkeeping: &'a dyn Bookkeeping,
    /// What is in effect so far; a failure reports it.
    at: Progress,
    group: Option<Group>,
    /// The start row, until the first group that writes it commits.
    start: Option<Statement>,
    retries: Retries,
    /// The operation last announced to the bookkeeping (`operation_starting`).
    announced: Option<usize>,
    /// The last batch committed by a backfill that failed (operation, cursor), where
    /// its retry starts.
    backfill: Option<(usize, BackfillCursor)>,
    /// The record the open group owes, after its last operation: built and written
    /// just before the group commits (every record before it in the group would be
    /// replaced unseen, since only the commit makes any of them visible). The finish
    /// records how long the run took: sent with the group's statements where the
    /// database measures their time, built once they have run otherwise.
    pending: Option<Owed>,
    /// The checkpoint after an operation whose statement ran outside a transaction
    /// (`CREATE INDEX CONCURRENTLY`), held back for the commit of the group after it,
    /// whose own record replaces it: a commit fewer per such operation.
    /// Written on its own before anything else runs outside a group, and after a
    /// failure. So at most that one operation is ever in effect without its record,
    /// the case a resume already finds (`executor::resume::locate_checkpoint`): the
    /// statement's whole effect is an index, which the schema comparison sees.
    deferred: Option<Held>,
    /// The open group's statements not sent yet: they go with its commit, together
    /// where the driver pipelines (`close_group`), since a failure in a group rolls
    /// all of it back anyway.
    queued: Vec<Queued<'a>>,
}

/// The record after operation `op`, saying `done`, not built yet.
#[derive(Debug, Clone, Copy)]
struct Owed {
    op: usize,
    done: Progress,
}

/// A statement of the open group not sent yet: statement `number` (1-based) of
/// operation `op`.
struct Queued<'a> {
    op: usize,
    number: usize,
    statement: &'a Statement,
}

/// What the failure of a statement sent at a group's close is charged to.
#[derive(Clone, Copy)]
enum Charge {
    /// The start row: nothing of the run is in effect.
    Start,
    /// Strata's record after operation `op` (or the commit before it).
    Record(usize),
    /// Statement `number` (1-based) of operation `op`.
    Statement { op: usize, number: usize },
}

/// A record waiting to be written: the one after operation `op`, saying `done`.
struct Held {
    op: usize,
    done: Progress,
    statement: Statement,
}

impl<'a> Steps<'a> {
    async fn run(
        &mut self,
        driver: &mut dyn Driver,
        index: usize,
        position: Position,
    ) -> Result<(), ExecuteError> {
        let script: &'a Script = self.script;
        let op = &script.operations[position.op];
        if self.announced != Some(position.op) {
            self.announced = Some(position.op);
            self.bookkeeping.operation_starting(position.op, op);
        }
        let span =
            tracing::info_span!("operation", n = position.op + 1, description = %op.description);
        let Some(j) = position.statement else {
            return self.without_sql(driver, position.op).instrument(span).await;
        };
        let statement = &op.statements[j];
        let count = op.statements.len();
        let after = Progress::after_statement(position.op, j, count);
        let grouped = self.script.groups && statement.runs == Runs::InGroup;
        let queued = grouped && self.queues(statement);
        let recorded = j + 1 == count || op.by_statement;
        // In a group, the record is owed until the group commits (`pending`);
        // otherwise built once what runs before it has been sent (the finish records
        // how long the run took).
        let records = recorded && !grouped;
        // `migrate -v`: who is in the way, before an operation waits for its locks.
        if j == 0 && tracing::enabled!(tracing::Level::INFO) {
            for blocker in blame(driver, &op.tables).await {
                tracing::info!(tables = ?op.tables, "before the operation: locks held by {blocker}");
            }
        }
        async {
            if grouped {
                if self.group.is_none() {
                    self.open_group(driver, index, position.op, j).await?;
                }
                if queued {
                    self.queue(position.op, j + 1, statement, after, recorded);
                    return Ok(());
                }
                self.send_queued(driver).await?; // what is queued goes first
            } else {
                self.close_group(driver, position).await?;
                self.write_deferred(driver).await?;
            }
            if let Some(backfill) = &statement.backfill {
                let record = records.then(|| self.record_for(after)).flatten();
                return self
                    .walk(driver, position.op, j, backfill, record.as_ref(), after)
                    .await;
            }
            tracing::debug!(sql = %statement.sql, "executing");
            if !grouped && statement.call.is_none() {
                driver
                    .clear_leftovers(&statement.sql)
                    .await
                    .map_err(|e| self.error(position.op, j + 1, e))?;
            }
            let with_statement = records
                && (statement.runs == Runs::OwnTransaction
                    || (statement.runs == Runs::InGroup
                        && self.bookkeeping.commits_with_checkpoint(statement)));
            let with_record = with_statement.then(|| self.record_for(after)).flatten();
            if let Some(record) = &with_record {
                // 0: the record failed; 1: the statement did (number j + 1).
                run_with_record(driver, statement, record, self.bookkeeping)
                    .await
                    .map_err(|(which, e)| self.error(position.op, which * (j + 1), e))?;
                self.at = after;
                self.retries.succeeded();
                return Ok(());
            }
            run_script_statement(driver, statement, self.bookkeeping)
                .await
                .map_err(|e| self.error(position.op, j + 1, e))?;
            self.at = after;
            if grouped && recorded {
                self.owe(position.op);
            }
            if let Some(record) = records.then(|| self.record_for(after)).flatten() {
                if self.deferrable(statement) {
                    self.deferred = Some(Held {
                        op: position.op,
                        done: after,
                        statement: record,
                    });
                } else {
                    self.record(driver, position.op, record).await?;
                }
            }
            if !grouped {
                self.retries.succeeded();
            }
            Ok(())
        }
        .instrument(span)
        .await
    }

    /// Runs the backfill statement `j` of operation `op`, then its record (`after`).
    async fn walk(
        &mut self,
        driver: &mut dyn Driver,
        op: usize,
        j: usize,
        backfill: &BackfillSql,
        record: Option<&Statement>,
        after: Progress,
    ) -> Result<(), ExecuteError> {
        let from = match self.backfill.take() {
            Some((index, cursor)) if index == op => Some(cursor),
            _ => self.bookkeeping.backfill_resume(op),
        };
        // The envelope's settings serve the schema groups (SQLite: foreign keys off,
        // so that a rebuild's DROP TABLE cascades nothing); a backfill's batches are
        // data, checked as any write is, so they run with the settings restored.
        let envelope = self.script.envelope.as_deref();
        for statement in envelope.iter().flat_map(|e| &e.after) {
            run_statement(driver, statement)
                .await
                .map_err(|e| self.error(op, j + 1, e))?;
        }
        let walked = run_backfill(driver, op, backfill, self.bookkeeping, from).await;
        for statement in envelope.iter().flat_map(|e| &e.before) {
            run_statement(driver, statement)
                .await
                .map_err(|e| self.error(op, j + 1, e))?;
        }
        if let Err(failed) = walked {
            // A retry goes on after the batches this attempt committed.
            self.backfill = failed.cursor.map(|c| (op, c));
            return Err(ExecuteError {
                backfilled: failed.committed,
                ..self.error(op, j + 1, failed.source)
            });
        }
        self.at = after;
        if let Some(record) = record {
            run_statement(driver, record)
                .await
                .map_err(|e| self.error(op, 0, e))?;
        }
        self.retries.succeeded();
        Ok(())
    }

    /// Whether the record after `statement`, which just ran and left `self.at`, can
    /// wait for the next group's commit (see `deferred`): a statement outside any
    /// transaction that ended an operation, not the last one.
    fn deferrable(&self, statement: &Statement) -> bool {
        self.script.groups
            && statement.runs == Runs::Outside
            && statement.call.is_none()
            && self.at.statements == 0
            && self.at.operations < self.script.operations.len()
    }

    /// Whether `statement`, in a group, waits for the group's commit to be sent with
    /// it: not when its rows are read or an application's function runs, nor when
    /// each operation must be seen starting.
    fn queues(&self, statement: &Statement) -> bool {
        statement.call.is_none()
            && statement.backfill.is_none()
            && !self.bookkeeping.follows_operations()
    }

    /// The record once `done`, outside any group.
    fn record_for(&self, done: Progress) -> Option<Statement> {
        record_after(self.bookkeeping, done, self.script.operations.len())
    }

    /// Operation `op`, which has no SQL on this database: only its record.
    async fn without_sql(
        &mut self,
        driver: &mut dyn Driver,
        op: usize,
    ) -> Result<(), ExecuteError> {
        self.at = Progress::operations(op + 1);
        if self.group.is_some() {
            self.owe(op);
            return Ok(());
        }
        let total = self.script.operations.len();
        if let Some(record) = record_after(self.bookkeeping, self.at, total) {
            self.record(driver, op, record).await?;
        }
        Ok(())
    }

    /// Statement `number` of operation `op`, in the open group: sent with the group's
    /// commit (`queued`), leaving `after` in effect once it commits.
    fn queue(
        &mut self,
        op: usize,
        number: usize,
        statement: &'a Statement,
        after: Progress,
        recorded: bool,
    ) {
        tracing::debug!(sql = %statement.sql, "executing with the group's commit");
        self.queued.push(Queued {
            op,
            number,
            statement,
        });
        self.at = after;
        if recorded {
            self.owe(op);
        }
    }

    /// The open group owes the record after operation `op`, which replaces any it
    /// owed before (see `pending`).
    fn owe(&mut self, op: usize) {
        self.pending = Some(Owed { op, done: self.at });
    }

    /// Writes `record`, the one after operation `op`, outside any group.
    async fn record(
        &mut self,
        driver: &mut dyn Driver,
        op: usize,
        record: Statement,
    ) -> Result<(), ExecuteError> {
        run_statement(driver, &record)
            .await
            .map_err(|e| self.error(op, 0, e))?;
        self.deferred = None; // replaced by this later record
        Ok(())
    }

    /// Writes the checkpoint held back after a statement outside a transaction, just
    /// before the next one.
    async fn write_deferred(&mut self, driver: &mut dyn Driver) -> Result<(), ExecuteError> {
        if let Some(held) = self.deferred.take() {
            run_statement(driver, &held.statement)
                .await
                .map_err(|e| self.error(held.op, 0, e))?;
        }
        Ok(())
    }

    /// The finish record, for the group that ends the run and `began`: sent with the
    /// queued statements where the database measures their time; otherwise built
    /// once they have been sent and run, as it records how long the run took.
    async fn finish(
        &mut self,
        driver: &mut dyn Driver,
        began: Instant,
    ) -> Result<Option<Statement>, ExecuteError> {
        if let Some(finish) = self.bookkeeping.finish_sent_with(Some(began)) {
            return Ok(Some(finish));
        }
        self.send_queued(driver).await?;
        Ok(self.bookkeeping.finish())
    }

    /// Sends the open group's queued statements, without its commit.
    async fn send_queued(&mut self, driver: &mut dyn Driver) -> Result<(), ExecuteError> {
        let mut queued = std::mem::take(&mut self.queued);
        let mut failed = (0, 0);
        send(driver, &mut queued, &mut failed)
            .await
            .map_err(|e| self.error(failed.0, failed.1, e))
    }

    /// Opens a group at position `index` (statement `j` of operation `op`).
    async fn open_group(
        &mut self,
        driver: &mut dyn Driver,
        index: usize,
        op: usize,
        j: usize,
    ) -> Result<(), ExecuteError> {
        let began = Instant::now();
        driver
            .execute("BEGIN")
            .await
            .map_err(|e| self.error(op, j + 1, e))?;
        self.group = Some(Group {
            position: index,
            at: self.at,
            op,
            began,
        });
        Ok(())
    }

    /// Commits the open group, if any, before `position` runs outside it.
    async fn close_group(
        &mut self,
        driver: &mut dyn Driver,
        position: Position,
    ) -> Result<(), ExecuteError> {
        if let Some(group) = self.group {
            let owed = self.pending.take();
            // The group's own record, when it has one, replaces the held-back one —
            // once the group commits: until then a failure still owes it.
            let merged = self.start_at_record(
                owed.map(|o| o.done)
                    .or_else(|| self.deferred.as_ref().map(|held| held.done)),
            );
            let own = match owed {
                Some(o) => {
                    let statement = if o.done.operations >= self.script.operations.len() {
                        self.finish(driver, group.began).await?
                    } else if merged.is_none() {
                        self.bookkeeping.checkpoint(o.done)
                    } else {
                        None // the start row, written at its progress, says it
                    };
                    statement.map(|statement| Held {
                        op: o.op,
                        done: o.done,
                        statement,
                    })
                }
                None => None,
            };
            let queued = std::mem::take(&mut self.queued);
            let record = own.as_ref().or(self.deferred.as_ref());
            let commit = commit();
            let mut closing: Vec<(&Statement, Charge)> = queued
                .iter()
                .map(|q| {
                    let charge = Charge::Statement {
                        op: q.op,
                        number: q.number,
                    };
                    (q.statement, charge)
                })
                .collect();
            if let Some(start) = merged.as_ref().or(self.start.as_ref()) {
                closing.push((start, Charge::Start));
            }
            if let Some(held) = record.filter(|_| merged.is_none()) {
                closing.push((&held.statement, Charge::Record(held.op)));
            }
            let charge = Charge::Record(position.op);
            closing.extend(self.script.group_guards().map(|g| (g, charge)));
            closing.push((&commit, charge));
            let statements: Vec<&Statement> = closing.iter().map(|(s, _)| *s).collect();
            run_pipelined(driver, &statements)
                .await
                .map_err(|(i, e)| match closing[i].1 {
                    Charge::Start => ExecuteError {
                        at_start: true,
                        ..self.error(group.op, 0, e)
                    },
                    Charge::Record(op) => self.error(op, 0, e),
                    Charge::Statement { op, number } => self.error(op, number, e),
                })?;
            self.group = None;
            self.start = None;
            self.deferred = None;
            self.retries.succeeded();
        }
        Ok(())
    }

    /// Before the open group commits, while the start row waits for the first group:
    /// that row written already at `record`'s progress, one write in place of the
    /// start row and `record`, when the bookkeeping can (`start_at`).
    fn start_at_record(&self, record: Option<Progress>) -> Option<Statement> {
        match (&self.start, record) {
            (Some(_), Some(done)) if done.operations < self.script.operations.len() => {
                self.bookkeeping.start_at(done)
            }
            _ => None,
        }
    }

    /// After a failure inside a group: rolls it back, so what is in effect is what was
    /// before the group; returns the position to run it again from.
    async fn roll_back_group(&mut self, driver: &mut dyn Driver) -> Option<usize> {
        let group = self.group.take()?;
        self.pending = None;
        self.queued.clear();
        // The failure already says what went wrong; a failed rollback adds nothing.
        let _ = driver.execute("ROLLBACK").await;
        self.at = group.at;
        Some(group.position)
    }

    /// A failure: given up (`Err`), or waited for the retry of a lock timeout (`Ok`).
    async fn after_failure(
        &mut self,
        driver: &mut dyn Driver,
        mut e: ExecuteError,
    ) -> Result<(), ExecuteError> {
        // What the group would have recorded is still owed; the failure being what
        // the user needs to hear, a record that cannot be written adds nothing (the
        // resume finds the operation in effect).
        if let Some(held) = self.deferred.take() {
            let _ = run_statement(driver, &held.statement).await;
        }
        // A rolled-back group changed nothing: report what is in effect before it.
        e.completed = self.at.operations;
        e.statements_done = self.at.statements;
        self.retries.after_failure(driver, e, self.script).await
    }

    fn error(&self, op: usize, statement: usize, source: DriverError) -> ExecuteError {
        ExecuteError {
            operation: op,
            ..ExecuteError::new(self.at, statement, source)
        }
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
    bookkeeping: &dyn Bookkeeping,
) -> Result<(), (usize, DriverError)> {
    let span = tracing::info_span!("operation", n = index + 1, description = %op.description);
    async {
        for (j, statement) in op.statements.iter().enumerate() {
            tracing::debug!(sql = %statement.sql, "executing");
            run_script_statement(driver, statement, bookkeeping)
                .await
                .map_err(|e| (j + 1, e))?;
        }
        Ok(())
    }
    .instrument(span)
    .await
}

/// Inside a transaction: the `queued` statements ([`run_pipelined`]), which are then
/// no longer queued; on failure, `failed` is the operation and statement number of
/// the one that failed.
async fn send(
    driver: &mut dyn Driver,
    queued: &mut Vec<Queued<'_>>,
    failed: &mut (usize, usize),
) -> Result<(), DriverError> {
    let statements: Vec<&Statement> = queued.iter().map(|q| q.statement).collect();
    let sent = run_pipelined(driver, &statements).await.map_err(|(i, e)| {
        *failed = (queued[i].op, queued[i].number);
        e
    });
    queued.clear();
    sent
}

/// Inside the open transaction: `statements`, in order. Each run of statements sent
/// as they are goes together ([`Driver::execute_pipelined`]); any other (a guard,
/// whose rows are read before anything after it is sent) alone. On failure, the
/// index of the statement that failed.
async fn run_pipelined(
    driver: &mut dyn Driver,
    statements: &[&Statement],
) -> Result<(), (usize, DriverError)> {
    let mut start = 0;
    while start < statements.len() {
        let plain = statements[start..]
            .iter()
            .take_while(|s| s.is_plain())
            .count();
        if plain == 0 {
            run_statement(driver, statements[start])
                .await
                .map_err(|e| (start, e))?;
            start += 1;
            continue;
        }
        let sql: Vec<&str> = statements[start..start + plain]
            .iter()
            .map(|s| s.sql.as_str())
            .collect();
        driver
            .execute_pipelined(&sql)
            .await
            .map_err(|(i, e)| (start + i, e))?;
        start += plain;
    }
    Ok(())
}

/// The statement that commits a group or a transaction strata opened with `BEGIN`.
fn commit() -> Statement {
    Statement::new("COMMIT")
}

/// `statement` and the `record` after it in one transaction, each one statement
/// (pipelined with the commit, [`run_pipelined`]; the statement alone when it calls
/// a function or each operation is followed): both or neither. On failure, 0 when the record (or the commit) failed, 1 when the
/// statement did; either way the transaction was rolled back.
pub(super) async fn run_with_record(
    driver: &mut dyn Driver,
    statement: &Statement,
    record: &Statement,
    bookkeeping: &dyn Bookkeeping,
) -> Result<(), (usize, DriverError)> {
    driver.execute("BEGIN").await.map_err(|e| (1, e))?;
    let result = async {
        if statement.call.is_some() || bookkeeping.follows_operations() {
            run_script_statement(driver, statement, bookkeeping)
                .await
                .map_err(|e| (1, e))?;
            return run_pipelined(driver, &[record, &commit()])
                .await
                .map_err(|(_, e)| (0, e));
        }
        run_pipelined(driver, &[statement, record, &commit()])
            .await
            .map_err(|(i, e)| (usize::from(i == 0), e))
    }
    .await;
    if result.is_err() {
        // The failure already says what went wrong; a failed rollback adds nothing.
        let _ = driver.execute("ROLLBACK").await;
    }
    result
}

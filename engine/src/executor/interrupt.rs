//! Stopping a run on request (Ctrl-C, SIGTERM) through its normal failure path.
//!
//! The front end raises an [`Interrupt`] and cancels the running statement on the
//! server ([`Canceller`]); [`Interruptible`] wraps the run's connection so that, when
//! no statement was running to fail, the next statement strata sends fails instead.
//! Either way exactly one statement fails as "interrupted", and the executor rolls
//! back or records its checkpoint and releases the lock as after any failure. The
//! history table's own statements (checkpoints, rows, the rollback after a failure)
//! always run, so that what the database holds is recorded truthfully.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::dialect::driver::{Canceller, Driver, DriverError, LockAttempt, Row};
use crate::dialect::{Dialect, ServerVersion};
use crate::state::SchemaState;

/// A request to stop, shared between the run and whoever raises it (a signal
/// handler on another thread).
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn raise(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_raised(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// A connection whose statements stop once an [`Interrupt`] is raised; see the module
/// docs.
pub struct Interruptible {
    inner: Box<dyn Driver>,
    interrupt: Interrupt,
    /// Statements naming it are strata's bookkeeping, never refused.
    history_table: String,
    /// A statement has failed since the interrupt: that failure is the interruption,
    /// and the statements of the failure path that follow must run.
    spent: bool,
}

impl Interruptible {
    pub fn new(inner: Box<dyn Driver>, interrupt: Interrupt, history_table: &str) -> Self {
        Self {
            inner,
            interrupt,
            history_table: history_table.to_string(),
            spent: false,
        }
    }

    /// Refuses `sql` when an interrupt is pending and nothing has failed of it yet.
    fn gate(&mut self, sql: &str) -> Result<(), DriverError> {
        if !self.interrupt.is_raised() || self.spent || sql.contains(&self.history_table) {
            return Ok(());
        }
        self.spent = true;
        Err(interrupted(sql))
    }

    /// A statement that fails once the interrupt is raised is the cancelled one.
    fn settle<T>(&mut self, result: &Result<T, DriverError>) {
        if result.is_err() && self.interrupt.is_raised() {
            self.spent = true;
        }
    }
}

const NOT_RUN: &str = "not run: strata was interrupted";

/// The failure of a statement strata did not send because it was interrupted.
pub fn interrupted(sql: &str) -> DriverError {
    DriverError::statement(sql, NOT_RUN)
}

/// Whether `error` is a statement refused by [`Interruptible`] (not one the server
/// cancelled).
pub fn is_interrupted(error: &DriverError) -> bool {
    matches!(error, DriverError::Statement { message, .. } if message == NOT_RUN)
}

#[async_trait]
impl Driver for Interruptible {
    fn dialect(&self) -> Arc<dyn Dialect> {
        self.inner.dialect()
    }

    fn version(&self) -> ServerVersion {
        self.inner.version()
    }

    async fn execute(&mut self, sql: &str) -> Result<(), DriverError> {
        self.gate(sql)?;
        let result = self.inner.execute(sql).await;
        self.settle(&result);
        result
    }

    async fn query(&mut self, sql: &str) -> Result<Vec<Row>, DriverError> {
        self.gate(sql)?;
        let result = self.inner.query(sql).await;
        self.settle(&result);
        result
    }

    async fn table_names(&mut self) -> Result<Vec<String>, DriverError> {
        self.inner.table_names().await
    }

    async fn close(self: Box<Self>) -> Result<(), DriverError> {
        self.inner.close().await
    }

    /// Never takes the lock once interrupted: waiting for it ends there.
    async fn try_lock(&mut self, name: &str) -> Result<LockAttempt, DriverError> {
        if self.interrupt.is_raised() {
            return Err(interrupted(&format!("(take the migration lock `{name}`)")));
        }
        self.inner.try_lock(name).await
    }

    async fn unlock(&mut self, name: &str) -> Result<(), DriverError> {
        self.inner.unlock(name).await
    }

    async fn introspect(&mut self) -> Result<SchemaState, DriverError> {
        self.inner.introspect().await
    }

    fn canceller(&self) -> Option<Arc<dyn Canceller>> {
        self.inner.canceller()
    }

    async fn set_statement_timeout(&mut self, timeout: Duration) -> Result<(), DriverError> {
        self.inner.set_statement_timeout(timeout).await
    }
}

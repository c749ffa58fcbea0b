//! Stopping a run on request (Ctrl-C, SIGTERM) through its normal failure path.
//!
//! The front end raises an [`Interrupt`] and cancels the running statement on the
//! server ([`Canceller`]); [`Interruptible`] wraps the run's connection so that, when
//! no statement was running to fail, the next statement strata sends fails instead.
//! Either way exactly one statement fails as "interrupted", and the executor rolls
//! back or records its checkpoint and releases the lock as after any failure. The
//! history table's own statements (checkpoints, rows, the rollback after a failure)
//! always run, so that what the database holds is recorded truthfully.
//!
//! [`Canceller`]: crate::dialect::driver::Canceller

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;

use crate::dialect::driver::{Driver, DriverError, DriverWrapper};

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
/// docs. A [`Driver`] through [`DriverWrapper`], which forwards every other method.
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
impl DriverWrapper for Interruptible {
    type Ticket = ();

    fn inner(&self) -> &dyn Driver {
        &*self.inner
    }

    fn inner_mut(&mut self) -> &mut dyn Driver {
        &mut *self.inner
    }

    fn into_inner(self: Box<Self>) -> Box<dyn Driver> {
        self.inner
    }

    /// Refuses `sql` when an interrupt is pending and nothing has failed of it yet.
    /// Never a `ROLLBACK`: it only undoes, and refused after a failure strata found
    /// itself (a guard's rows), it would leave the session in that transaction.
    async fn before_statement(&mut self, sql: &str) -> Result<(), DriverError> {
        let undoes = sql == "ROLLBACK";
        if !self.interrupt.is_raised() || self.spent || undoes || sql.contains(&self.history_table)
        {
            return Ok(());
        }
        self.spent = true;
        Err(interrupted(sql))
    }

    /// A statement that fails once the interrupt is raised is the cancelled one.
    async fn after_statement(&mut self, _ticket: (), error: Option<&DriverError>) {
        if error.is_some() && self.interrupt.is_raised() {
            self.spent = true;
        }
    }

    /// Never takes the lock once interrupted: waiting for it ends there.
    fn before_lock(&mut self, name: &str) -> Result<(), DriverError> {
        if self.interrupt.is_raised() {
            return Err(interrupted(&format!("(take the migration lock `{name}`)")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::dialect::driver::{LockAttempt, Row};
    use crate::dialect::{Dialect, ServerVersion};

    /// Records what reaches the server. A statement containing `SLOW` is one during
    /// which the signal arrives and which the server then cancels.
    #[derive(Default)]
    struct Recorder {
        sent: Arc<Mutex<Vec<String>>>,
        signal: Interrupt,
    }

    #[async_trait]
    impl Driver for Recorder {
        fn dialect(&self) -> Arc<dyn Dialect> {
            unreachable!("the wrapper never asks")
        }
        fn version(&self) -> ServerVersion {
            ServerVersion::new(1, 0, 0)
        }
        async fn execute(&mut self, sql: &str) -> Result<(), DriverError> {
            self.sent.lock().unwrap().push(sql.to_string());
            if sql.contains("SLOW") {
                self.signal.raise();
                return Err(DriverError::statement(sql, "canceled on request"));
            }
            Ok(())
        }
        async fn query(&mut self, sql: &str) -> Result<Vec<Row>, DriverError> {
            self.execute(sql).await.map(|()| Vec::new())
        }
        async fn table_names(&mut self) -> Result<Vec<String>, DriverError> {
            Ok(Vec::new())
        }
        async fn close(self: Box<Self>) -> Result<(), DriverError> {
            Ok(())
        }
        async fn try_lock(&mut self, _: &str) -> Result<LockAttempt, DriverError> {
            Ok(LockAttempt::Acquired)
        }
    }

    fn wrapped() -> (Interruptible, Interrupt, Arc<Mutex<Vec<String>>>) {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let interrupt = Interrupt::new();
        let recorder = Recorder {
            sent: sent.clone(),
            signal: interrupt.clone(),
        };
        let driver = Interruptible::new(Box::new(recorder), interrupt.clone(), "strata_migrations");
        (driver, interrupt, sent)
    }

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn between_statements_the_next_one_is_refused_and_the_failure_path_runs() {
        let (mut driver, interrupt, sent) = wrapped();
        run(async {
            driver.execute("CREATE TABLE a (x int)").await.unwrap();
            interrupt.raise();
            // Bookkeeping still records what was done.
            driver
                .execute("UPDATE strata_migrations SET operations_done = 1")
                .await
                .unwrap();
            let refused = driver.execute("CREATE TABLE b (x int)").await.unwrap_err();
            assert!(is_interrupted(&refused), "{refused}");
            // The failure path after it: a rollback, a checkpoint, the unlock.
            driver.execute("ROLLBACK").await.unwrap();
            assert!(driver.try_lock("strata:x").await.is_err(), "no new lock");
        });
        let sent = sent.lock().unwrap().clone();
        assert_eq!(
            sent,
            [
                "CREATE TABLE a (x int)",
                "UPDATE strata_migrations SET operations_done = 1",
                "ROLLBACK"
            ]
        );
    }

    #[test]
    fn a_rollback_is_never_refused() {
        let (mut driver, interrupt, sent) = wrapped();
        run(async {
            driver.execute("BEGIN").await.unwrap();
            interrupt.raise();
            // The failure path of a failure strata found itself, raised meanwhile.
            driver.execute("ROLLBACK").await.unwrap();
            let refused = driver.execute("CREATE TABLE b (x int)").await.unwrap_err();
            assert!(is_interrupted(&refused), "{refused}");
        });
        assert_eq!(sent.lock().unwrap().clone(), ["BEGIN", "ROLLBACK"]);
    }

    #[test]
    fn a_statement_cancelled_by_the_server_is_the_interruption() {
        let (mut driver, _interrupt, sent) = wrapped();
        run(async {
            let cancelled = driver.execute("SELECT SLOW").await.unwrap_err();
            assert!(!is_interrupted(&cancelled), "the server's own failure");
            // Its failure path is not refused a second time.
            driver.execute("ROLLBACK").await.unwrap();
            driver.execute("DROP TABLE leftover").await.unwrap();
        });
        assert_eq!(sent.lock().unwrap().len(), 3);
    }

    #[test]
    fn nothing_is_refused_without_an_interrupt() {
        let (mut driver, _interrupt, sent) = wrapped();
        run(async {
            for sql in ["BEGIN", "CREATE TABLE a (x int)", "COMMIT"] {
                driver.execute(sql).await.unwrap();
            }
            assert_eq!(
                driver.try_lock("strata:x").await.unwrap(),
                LockAttempt::Acquired
            );
        });
        assert_eq!(sent.lock().unwrap().len(), 3);
    }
}

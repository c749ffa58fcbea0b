//! The connection a rehearsal runs the plan through: the copy's driver, wrapped so
//! that each statement is timed and charged to the operation running it (the one the
//! observer last heard start), and so that the operation's table is measured around
//! its statements: its rows before, its storage id (`Driver::storage_id`) before and
//! after. The probes run on the same session, so they see the migration's own
//! uncommitted changes; none can fail on a missing table, so none aborts a
//! PostgreSQL transaction.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use strata_engine::dialect::driver::{Blocker, Canceller, Driver, DriverError, LockAttempt, Row};
use strata_engine::{Dialect, SchemaState, ServerVersion};

use super::rehearse_report::{lock, SharedLog};

pub(super) struct Probe {
    inner: Box<dyn Driver>,
    log: SharedLog,
    /// The operation (step, index) whose statements come now; its table.
    seen: Option<(usize, usize)>,
    table: Option<String>,
}

impl Probe {
    pub(super) fn new(inner: Box<dyn Driver>, log: SharedLog) -> Self {
        Self {
            inner,
            log,
            seen: None,
            table: None,
        }
    }

    /// The running operation; measured first if this is its first statement.
    async fn enter(&mut self) -> Option<(usize, usize)> {
        let at = {
            let log = lock(&self.log);
            log.current
                .map(|op| (log.steps.len().saturating_sub(1), op))
        }?;
        if self.seen != Some(at) {
            self.seen = Some(at);
            self.begin().await;
        }
        Some(at)
    }

    /// Before an operation's first statement: its table's rows and storage id.
    async fn begin(&mut self) {
        let tables = lock(&self.log)
            .current_mut()
            .map(|op| op.tables.clone())
            .unwrap_or_default();
        let existing = self.inner.table_names().await.unwrap_or_default();
        self.table = tables.into_iter().find(|t| existing.contains(t));
        let Some(table) = self.table.clone() else {
            return;
        };
        let count = format!(
            "SELECT count(*) FROM {}",
            self.inner.dialect().quote_ident(&table)
        );
        let rows = match self.inner.query(&count).await {
            Ok(rows) => rows
                .first()
                .and_then(|row| row.first().cloned().flatten())
                .and_then(|n| n.parse().ok()),
            Err(e) => {
                tracing::debug!("no row count of {table}: {e}");
                None
            }
        };
        let before = self.inner.storage_id(&table).await.ok().flatten();
        if let Some(op) = lock(&self.log).current_mut() {
            op.table = Some(table);
            op.rows = rows;
            op.storage_before = before;
        }
    }

    /// After a statement of operation `at`: its time, its failure, the storage id.
    async fn leave(
        &mut self,
        at: Option<(usize, usize)>,
        elapsed: Duration,
        error: Option<&DriverError>,
    ) {
        if at.is_none() {
            return;
        }
        let failed = {
            let mut log = lock(&self.log);
            let Some(op) = log.current_mut() else {
                return;
            };
            op.elapsed += elapsed;
            if let Some(error) = error {
                op.error.get_or_insert_with(|| error.to_string());
            }
            op.error.is_some()
        };
        // After a failure a PostgreSQL transaction refuses every query: no probe.
        let Some(table) = self.table.clone().filter(|_| !failed) else {
            return;
        };
        let after = self.inner.storage_id(&table).await.ok().flatten();
        if let Some(op) = lock(&self.log).current_mut() {
            op.storage_after = after;
        }
    }
}

#[async_trait]
impl Driver for Probe {
    fn dialect(&self) -> Arc<dyn Dialect> {
        self.inner.dialect()
    }

    fn version(&self) -> ServerVersion {
        self.inner.version()
    }

    async fn execute(&mut self, sql: &str) -> Result<(), DriverError> {
        let at = self.enter().await;
        let started = Instant::now();
        let result = self.inner.execute(sql).await;
        self.leave(at, started.elapsed(), result.as_ref().err())
            .await;
        result
    }

    async fn execute_compound(&mut self, sql: &str) -> Result<(), DriverError> {
        let at = self.enter().await;
        let started = Instant::now();
        let result = self.inner.execute_compound(sql).await;
        self.leave(at, started.elapsed(), result.as_ref().err())
            .await;
        result
    }

    async fn query(&mut self, sql: &str) -> Result<Vec<Row>, DriverError> {
        let at = self.enter().await;
        let started = Instant::now();
        let result = self.inner.query(sql).await;
        self.leave(at, started.elapsed(), result.as_ref().err())
            .await;
        result
    }

    async fn table_names(&mut self) -> Result<Vec<String>, DriverError> {
        self.inner.table_names().await
    }

    async fn close(self: Box<Self>) -> Result<(), DriverError> {
        self.inner.close().await
    }

    async fn try_lock(&mut self, name: &str) -> Result<LockAttempt, DriverError> {
        self.inner.try_lock(name).await
    }

    async fn unlock(&mut self, name: &str) -> Result<(), DriverError> {
        self.inner.unlock(name).await
    }

    async fn clear_leftovers(&mut self, sql: &str) -> Result<(), DriverError> {
        self.inner.clear_leftovers(sql).await
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

    async fn set_ddl_lock_timeout(&mut self, timeout: Duration) -> Result<(), DriverError> {
        self.inner.set_ddl_lock_timeout(timeout).await
    }

    fn is_lock_timeout(&self, error: &DriverError) -> bool {
        self.inner.is_lock_timeout(error)
    }

    async fn lock_holders(&mut self, tables: &[String]) -> Result<Vec<Blocker>, DriverError> {
        self.inner.lock_holders(tables).await
    }

    async fn table_rows(
        &mut self,
        tables: &[String],
    ) -> Result<BTreeMap<String, u64>, DriverError> {
        self.inner.table_rows(tables).await
    }

    async fn storage_id(&mut self, table: &str) -> Result<Option<String>, DriverError> {
        self.inner.storage_id(table).await
    }
}

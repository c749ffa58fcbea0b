//! The connection a rehearsal runs the plan through: the copy's driver, wrapped so
//! that each statement is timed and charged to the operation running it (the one the
//! observer last heard start), and so that the operation's table is measured around
//! its statements: its rows before, its storage id (`Driver::storage_id`) before and
//! after. The probes run on the same session, so they see the migration's own
//! uncommitted changes; none can fail on a missing table, so none aborts a
//! PostgreSQL transaction.

use std::time::Instant;

use async_trait::async_trait;
use strata_engine::dialect::driver::{Driver, DriverError, DriverWrapper};

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
}

#[async_trait]
impl DriverWrapper for Probe {
    /// When the statement started, if an operation runs it: a statement outside
    /// every operation is charged to none.
    type Ticket = Option<Instant>;

    fn inner(&self) -> &dyn Driver {
        &*self.inner
    }

    fn inner_mut(&mut self) -> &mut dyn Driver {
        &mut *self.inner
    }

    fn into_inner(self: Box<Self>) -> Box<dyn Driver> {
        self.inner
    }

    /// The running operation; measured first if this is its first statement.
    async fn before_statement(&mut self, _sql: &str) -> Result<Self::Ticket, DriverError> {
        let at = {
            let log = lock(&self.log);
            log.current
                .map(|op| (log.steps.len().saturating_sub(1), op))
        };
        if at.is_some() && self.seen != at {
            self.seen = at;
            self.begin().await;
        }
        Ok(at.map(|_| Instant::now()))
    }

    /// After a statement of an operation: its time, its failure, the storage id.
    async fn after_statement(&mut self, started: Option<Instant>, error: Option<&DriverError>) {
        let Some(started) = started else {
            return;
        };
        let elapsed = started.elapsed();
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

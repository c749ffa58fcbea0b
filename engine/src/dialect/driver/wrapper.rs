//! The one forwarding of [`Driver`] for every connection that wraps another (the
//! executor's `Interruptible`, the rehearsal's probe). A wrapper says what it does
//! around a statement and before the lock; the blanket impl here forwards the rest.
//!
//! A method added to `Driver` is forwarded here, once for every wrapper. Until it is,
//! `clippy::missing_trait_methods` refuses the impl: a provided method left out would
//! silently run its default instead of reaching the wrapped driver.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{Blocker, Canceller, Driver, DriverError, LockAttempt, Row};
use crate::dialect::{Dialect, ServerVersion};
use crate::state::SchemaState;

/// A connection that wraps another and sees its statements go by. It is a [`Driver`]
/// through the blanket impl of this module.
#[async_trait]
pub trait DriverWrapper: Send {
    /// What [`DriverWrapper::before_statement`] hands to
    /// [`DriverWrapper::after_statement`] (when the statement started, say).
    type Ticket: Send;

    fn inner(&self) -> &dyn Driver;

    fn inner_mut(&mut self) -> &mut dyn Driver;

    fn into_inner(self: Box<Self>) -> Box<dyn Driver>;

    /// Before each statement (`execute`, `execute_compound`, `query`). An error
    /// becomes the statement's, which is then not sent.
    async fn before_statement(&mut self, sql: &str) -> Result<Self::Ticket, DriverError>;

    /// After each statement sent, with its failure if it failed.
    async fn after_statement(&mut self, ticket: Self::Ticket, error: Option<&DriverError>);

    /// Before each attempt to take the migration lock. An error becomes the
    /// attempt's, which is then not made.
    fn before_lock(&mut self, name: &str) -> Result<(), DriverError> {
        let _ = name;
        Ok(())
    }
}

/// Sends one statement through the wrapped driver, between the wrapper's hooks.
macro_rules! between_hooks {
    ($wrapper:ident . $method:ident ($sql:ident)) => {{
        let ticket = $wrapper.before_statement($sql).await?;
        let result = $wrapper.inner_mut().$method($sql).await;
        $wrapper
            .after_statement(ticket, result.as_ref().err())
            .await;
        result
    }};
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl<W: DriverWrapper> Driver for W {
    fn dialect(&self) -> Arc<dyn Dialect> {
        self.inner().dialect()
    }

    fn version(&self) -> ServerVersion {
        self.inner().version()
    }

    async fn execute(&mut self, sql: &str) -> Result<(), DriverError> {
        between_hooks!(self.execute(sql))
    }

    async fn execute_compound(&mut self, sql: &str) -> Result<(), DriverError> {
        between_hooks!(self.execute_compound(sql))
    }

    async fn query(&mut self, sql: &str) -> Result<Vec<Row>, DriverError> {
        between_hooks!(self.query(sql))
    }

    /// The hooks before every statement, then those let through sent together, then
    /// the hooks after each. A statement the hooks refuse is not sent, nor anything
    /// after it (a `COMMIT` among them never is), as one by one.
    async fn execute_pipelined(&mut self, statements: &[&str]) -> Result<(), (usize, DriverError)> {
        let mut tickets = Vec::with_capacity(statements.len());
        let mut refused = None;
        for (i, sql) in statements.iter().enumerate() {
            match self.before_statement(sql).await {
                Ok(ticket) => tickets.push(ticket),
                Err(e) => {
                    refused = Some((i, e));
                    break;
                }
            }
        }
        let sent = &statements[..tickets.len()];
        let result = if sent.is_empty() {
            Ok(())
        } else {
            self.inner_mut().execute_pipelined(sent).await
        };
        for (i, ticket) in tickets.into_iter().enumerate() {
            let error = match &result {
                Err((failed, e)) if *failed == i => Some(e),
                _ => None,
            };
            self.after_statement(ticket, error).await;
        }
        result?;
        refused.map_or(Ok(()), Err)
    }

    async fn table_names(&mut self) -> Result<Vec<String>, DriverError> {
        self.inner_mut().table_names().await
    }

    async fn close(self: Box<Self>) -> Result<(), DriverError> {
        self.into_inner().close().await
    }

    async fn try_lock(&mut self, name: &str) -> Result<LockAttempt, DriverError> {
        self.before_lock(name)?;
        self.inner_mut().try_lock(name).await
    }

    async fn unlock(&mut self, name: &str) -> Result<(), DriverError> {
        self.inner_mut().unlock(name).await
    }

    async fn defer_durability(&mut self) -> Result<(), DriverError> {
        self.inner_mut().defer_durability().await
    }

    async fn make_durable(&mut self) -> Result<(), DriverError> {
        self.inner_mut().make_durable().await
    }

    async fn clear_leftovers(&mut self, sql: &str) -> Result<(), DriverError> {
        self.inner_mut().clear_leftovers(sql).await
    }

    async fn introspect(&mut self) -> Result<SchemaState, DriverError> {
        self.inner_mut().introspect().await
    }

    fn canceller(&self) -> Option<Arc<dyn Canceller>> {
        self.inner().canceller()
    }

    async fn set_statement_timeout(&mut self, timeout: Duration) -> Result<(), DriverError> {
        self.inner_mut().set_statement_timeout(timeout).await
    }

    async fn set_ddl_lock_timeout(&mut self, timeout: Duration) -> Result<(), DriverError> {
        self.inner_mut().set_ddl_lock_timeout(timeout).await
    }

    fn is_lock_timeout(&self, error: &DriverError) -> bool {
        self.inner().is_lock_timeout(error)
    }

    async fn lock_holders(&mut self, tables: &[String]) -> Result<Vec<Blocker>, DriverError> {
        self.inner_mut().lock_holders(tables).await
    }

    async fn table_rows(
        &mut self,
        tables: &[String],
    ) -> Result<BTreeMap<String, u64>, DriverError> {
        self.inner_mut().table_rows(tables).await
    }

    async fn storage_id(&mut self, table: &str) -> Result<Option<String>, DriverError> {
        self.inner_mut().storage_id(table).await
    }

    fn unsupported(&self, what: &str) -> DriverError {
        self.inner().unsupported(what)
    }
}

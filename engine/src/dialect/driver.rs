//! The async side of a dialect plugin: a connection to a live server.
//!
//! Drivers stay thin — connect, execute, query — and the policy (transactions,
//! history, locking) lives once in the engine.

use std::sync::Arc;

use async_trait::async_trait;

use super::{Dialect, ServerVersion, Statement};
use crate::state::SchemaState;

/// Where the CLI and the drivers have always found it; the code is in [`super::url`].
pub use super::url::redact as redact_url;

/// A failure talking to a server. Messages never contain a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriverError {
    #[error("invalid database URL `{url}`: {reason}")]
    Url { url: String, reason: String },
    #[error("cannot connect to {target}: {message}")]
    Connect { target: String, message: String },
    #[error("{message}\n  while running: {sql}")]
    Statement { sql: String, message: String },
    #[error("the {driver} driver does not support {what}")]
    Unsupported { driver: String, what: String },
    #[error("{message}\n  guard: {sql}\n  rows: {rows}")]
    Guard {
        sql: String,
        message: String,
        rows: String,
    },
}

/// A row of text values, as a guard or a simple query returns it.
pub type Row = Vec<Option<String>>;

/// A live connection. Required methods only; see the module docs.
#[async_trait]
pub trait Driver: Send {
    /// The dialect for this server's flavour and version.
    fn dialect(&self) -> Arc<dyn Dialect>;

    fn version(&self) -> ServerVersion;

    /// Runs SQL that returns no rows of interest.
    async fn execute(&mut self, sql: &str) -> Result<(), DriverError>;

    /// Runs a query and returns its rows as text.
    async fn query(&mut self, sql: &str) -> Result<Vec<Row>, DriverError>;

    /// Names of the user tables in the connected schema, sorted.
    async fn table_names(&mut self) -> Result<Vec<String>, DriverError>;

    async fn close(self: Box<Self>) -> Result<(), DriverError>;

    // ---- provided: override to support `migrate` ---------------------------------

    /// Tries once, without waiting, to take the migration lock called `name`. The
    /// lock must die with the session (or process), so a crash never leaves it behind.
    /// The executor owns the policy: it retries until its timeout.
    async fn try_lock(&mut self, name: &str) -> Result<LockAttempt, DriverError> {
        let _ = name;
        Err(self.unsupported("locking"))
    }

    async fn unlock(&mut self, name: &str) -> Result<(), DriverError> {
        let _ = name;
        Err(self.unsupported("locking"))
    }

    /// The live schema (user tables only), in neutral terms.
    async fn introspect(&mut self) -> Result<SchemaState, DriverError> {
        Err(self.unsupported("introspection"))
    }

    fn unsupported(&self, what: &str) -> DriverError {
        DriverError::Unsupported {
            driver: self.dialect().name().to_string(),
            what: what.to_string(),
        }
    }
}

/// The outcome of one attempt to take the migration lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockAttempt {
    Acquired,
    /// Someone else holds it; `holder` describes them when the server can tell.
    Busy {
        holder: Option<String>,
    },
}

/// Runs a rendered statement: executes it, or for a guard, fails if it returns rows.
pub async fn run_statement(
    driver: &mut dyn Driver,
    statement: &Statement,
) -> Result<(), DriverError> {
    match &statement.fails_with_rows {
        None => driver.execute(&statement.sql).await,
        Some(message) => {
            let rows = driver.query(&statement.sql).await?;
            if rows.is_empty() {
                return Ok(());
            }
            let rows = rows
                .iter()
                .map(|r| {
                    let cells: Vec<_> = r.iter().map(|c| c.as_deref().unwrap_or("NULL")).collect();
                    format!("({})", cells.join(", "))
                })
                .collect::<Vec<_>>()
                .join(" ");
            Err(DriverError::Guard {
                sql: statement.sql.clone(),
                message: message.clone(),
                rows,
            })
        }
    }
}

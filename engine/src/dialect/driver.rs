//! The async side of a dialect plugin: a connection to a live server.
//!
//! Drivers stay thin — connect, execute, query — and the policy (transactions,
//! history, locking) lives once in the engine.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{Dialect, ServerVersion, Statement};
use crate::state::SchemaState;

mod wrapper;

pub use wrapper::DriverWrapper;

/// Where the CLI and the drivers have always found it; the code is in [`super::url`].
pub use super::url::redact as redact_url;

/// A failure talking to a server. Messages never contain a password.
///
/// `Connect` and `Statement` keep what the driver's library reported besides its
/// words: the server's [`ErrorCode`] ([`DriverError::code`]) and the library's own
/// error, as [`std::error::Error::source`]. Both variants are `#[non_exhaustive]`, so
/// that the next such detail breaks no driver: build them with
/// [`DriverError::connect`] and [`DriverError::statement`], then
/// [`DriverError::with_code`] and [`DriverError::with_source`].
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    #[error("invalid database URL `{url}`: {reason}")]
    Url { url: String, reason: String },
    #[error("cannot connect to {target}: {message}")]
    #[non_exhaustive]
    Connect {
        target: String,
        message: String,
        code: Option<ErrorCode>,
        source: Option<ErrorSource>,
    },
    #[error("{message}\n  while running: {sql}")]
    #[non_exhaustive]
    Statement {
        sql: String,
        message: String,
        code: Option<ErrorCode>,
        source: Option<ErrorSource>,
    },
    #[error("the {driver} driver does not support {what}")]
    Unsupported { driver: String, what: String },
    #[error("{message}\n  guard: {sql}\n  rows: {rows}")]
    Guard {
        sql: String,
        message: String,
        rows: String,
    },
}

/// The library's error behind a [`DriverError`], shared so that the error stays
/// `Clone`. Its text never holds a password either: the built-in drivers' libraries
/// never print the connection's options.
///
/// A newtype that derefs to the error, not an `Arc` field: thiserror would hand the
/// `Arc` itself out as the source, which no caller can downcast to the library's
/// error type; through `Deref`, `source()` is the library's error.
#[derive(Clone)]
pub struct ErrorSource(Arc<dyn std::error::Error + Send + Sync>);

impl Deref for ErrorSource {
    type Target = dyn std::error::Error + Send + Sync;

    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

impl fmt::Debug for ErrorSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The code a database gave a failure, for callers that act on its kind rather than
/// its words (a lock timeout to retry, a table that does not exist).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// A five-character SQLSTATE, as PostgreSQL reports every error (`42P01`: no such
    /// table; `55P03`: lock not available).
    SqlState(String),
    /// A MySQL/MariaDB error number with the SQLSTATE the server paired it with
    /// (`1146`, `42S02`). The number is the precise one: many share `HY000`.
    ServerError { number: u16, sqlstate: String },
    /// SQLite's extended result code (`2067`: `SQLITE_CONSTRAINT_UNIQUE`).
    ResultCode(i32),
}

impl ErrorCode {
    /// The SQLSTATE, for a database that gave one.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            ErrorCode::SqlState(state)
            | ErrorCode::ServerError {
                sqlstate: state, ..
            } => Some(state),
            ErrorCode::ResultCode(_) => None,
        }
    }
}

impl DriverError {
    /// A failure to connect to `target` (a redacted URL, or what the URL names).
    pub fn connect(target: impl Into<String>, message: impl Into<String>) -> Self {
        DriverError::Connect {
            target: target.into(),
            message: message.into(),
            code: None,
            source: None,
        }
    }

    /// A failure of the statement `sql`.
    pub fn statement(sql: impl Into<String>, message: impl Into<String>) -> Self {
        DriverError::Statement {
            sql: sql.into(),
            message: message.into(),
            code: None,
            source: None,
        }
    }

    /// With the database's code for the failure; only `Connect` and `Statement` keep
    /// one.
    pub fn with_code(mut self, code: impl Into<Option<ErrorCode>>) -> Self {
        if let DriverError::Connect { code: slot, .. } | DriverError::Statement { code: slot, .. } =
            &mut self
        {
            *slot = code.into();
        }
        self
    }

    /// With the library's error behind the failure; only `Connect` and `Statement`
    /// keep one.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        if let DriverError::Connect { source: slot, .. }
        | DriverError::Statement { source: slot, .. } = &mut self
        {
            *slot = Some(ErrorSource(Arc::new(source)));
        }
        self
    }

    /// The database's code for the failure, when it gave one.
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            DriverError::Connect { code, .. } | DriverError::Statement { code, .. } => {
                code.as_ref()
            }
            _ => None,
        }
    }

    /// This failure as one to connect to `target`: a statement that fails while a
    /// connection is being set up means that the connection could not be made.
    pub fn while_connecting(self, target: impl Into<String>) -> Self {
        match self {
            DriverError::Statement {
                message,
                code,
                source,
                ..
            } => DriverError::Connect {
                target: target.into(),
                message,
                code,
                source,
            },
            other => other,
        }
    }
}

/// A row of text values, as a guard or a simple query returns it.
pub type Row = Vec<Option<String>>;

/// A live connection. Required methods only; see the module docs.
///
/// A connection that wraps another implements [`DriverWrapper`] instead, whose
/// blanket impl forwards every method here: a new one is added there too.
#[async_trait]
pub trait Driver: Send {
    /// The dialect for this server's flavour and version.
    fn dialect(&self) -> Arc<dyn Dialect>;

    fn version(&self) -> ServerVersion;

    /// Runs exactly one statement, whose rows (if any) are of no interest. SQL holding
    /// several statements is refused before any of it runs: the driver sends it
    /// through an API the server runs as one statement (or checks it first), so a
    /// value that slipped into rendered SQL can never chain a second statement.
    async fn execute(&mut self, sql: &str) -> Result<(), DriverError>;

    /// Runs one compound statement whose body holds `;` (a `run_sql` with
    /// `split = false`), which a tokenizer-based check of [`Driver::execute`] would
    /// take for several. Only the user's own raw SQL comes here.
    async fn execute_compound(&mut self, sql: &str) -> Result<(), DriverError> {
        self.execute(sql).await
    }

    /// Inside an open transaction: runs `statements` (each exactly one, as by
    /// `execute`; the last may be its `COMMIT`). Stops at the first failure, with its
    /// index. A driver may send them all before it reads an answer (PostgreSQL
    /// pipelines them: one round trip, not one each), which is safe only inside a
    /// transaction: a failure aborts it, so nothing after it changes anything, and a
    /// `COMMIT` among them rolls back. The default sends them one by one.
    async fn execute_pipelined(&mut self, statements: &[&str]) -> Result<(), (usize, DriverError)> {
        run_in_order(self, statements).await
    }

    /// Runs exactly one query (several are refused, as by `execute`) and returns its
    /// rows as text.
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

    /// Called under the migration lock before a plan's first step runs: lets the
    /// run's commits return before they are durable, where the database commits (and
    /// so loses, after a crash) in order, and [`make_durable`](Driver::make_durable)
    /// can wait for them all at once. A crash then loses only the run's last commits,
    /// each migration with its history row. PostgreSQL: `synchronous_commit = off`
    /// for the session. The default does nothing: every commit waits, as the
    /// database says.
    async fn defer_durability(&mut self) -> Result<(), DriverError> {
        Ok(())
    }

    /// Called before the lock is released, after a run that succeeded or failed:
    /// ends [`defer_durability`](Driver::defer_durability) and waits until every
    /// commit of the run is as durable as the database's own setting makes a commit.
    async fn make_durable(&mut self) -> Result<(), DriverError> {
        Ok(())
    }

    /// Called before `sql` runs outside a transaction (step by step): removes what an
    /// earlier, interrupted run of the same statement left behind that would make it
    /// fail again. PostgreSQL: the INVALID index a failed or killed
    /// `CREATE INDEX CONCURRENTLY` leaves under the name it is building. The default
    /// does nothing.
    async fn clear_leftovers(&mut self, sql: &str) -> Result<(), DriverError> {
        let _ = sql;
        Ok(())
    }

    /// The live schema (user tables only), in neutral terms.
    async fn introspect(&mut self) -> Result<SchemaState, DriverError> {
        Err(self.unsupported("introspection"))
    }

    /// A handle that stops the statement this connection is running, from another
    /// thread (a signal handler): the statement fails, and the executor takes its
    /// normal failure path. `None` when the driver cannot cancel.
    fn canceller(&self) -> Option<Arc<dyn Canceller>> {
        None
    }

    /// Makes the server abort any statement of this session that runs longer than
    /// `timeout`. A driver that cannot refuses, so that a configured limit is never
    /// silently ignored.
    async fn set_statement_timeout(&mut self, timeout: Duration) -> Result<(), DriverError> {
        let _ = timeout;
        Err(self.unsupported("statement_timeout"))
    }

    /// Makes the server give up on a lock that strata's statements wait for longer
    /// than `timeout` (PostgreSQL `lock_timeout`, MySQL `lock_wait_timeout`), so that
    /// a migration never queues in front of the application's queries for long. The
    /// statement then fails with an error [`Driver::is_lock_timeout`] recognises. The
    /// default does nothing: a database without such locks (SQLite) has no queue.
    async fn set_ddl_lock_timeout(&mut self, timeout: Duration) -> Result<(), DriverError> {
        let _ = timeout;
        Ok(())
    }

    /// Whether `error` is a lock wait that ran out (`set_ddl_lock_timeout`): the
    /// executor rolls back, waits and retries it.
    fn is_lock_timeout(&self, error: &DriverError) -> bool {
        let _ = error;
        false
    }

    /// The sessions other than this one that hold a lock on any of `tables` (or, where
    /// the server cannot tell per table, an open transaction that may): who a DDL
    /// statement on them waits for. Empty by default.
    async fn lock_holders(&mut self, tables: &[String]) -> Result<Vec<Blocker>, DriverError> {
        let _ = tables;
        Ok(Vec::new())
    }

    /// How many rows each of `tables` holds, as the server estimates it cheaply
    /// (PostgreSQL `reltuples`, MySQL `TABLE_ROWS`, SQLite a count). A table the
    /// server knows nothing about is left out. Empty by default.
    async fn table_rows(
        &mut self,
        tables: &[String],
    ) -> Result<std::collections::BTreeMap<String, u64>, DriverError> {
        let _ = tables;
        Ok(std::collections::BTreeMap::new())
    }

    /// What identifies the storage of `table` (PostgreSQL `relfilenode`, SQLite's
    /// `rootpage`, InnoDB's `TABLE_ID`): a statement that changes it rewrote the
    /// table (`migrate --rehearse`). `None` when the table does not exist or the
    /// server cannot tell; never an error for a missing table, since the probe runs
    /// inside the migration's transaction.
    async fn storage_id(&mut self, table: &str) -> Result<Option<String>, DriverError> {
        let _ = table;
        Ok(None)
    }

    fn unsupported(&self, what: &str) -> DriverError {
        DriverError::Unsupported {
            driver: self.dialect().name().to_string(),
            what: what.to_string(),
        }
    }
}

/// The limits a run sets on a connection strata opened itself: `[database]
/// statement_timeout` and `ddl_lock_timeout`, for the CLI and the library alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// `None` or zero: no limit (as PostgreSQL reads `statement_timeout = 0`).
    pub statement_timeout: Option<Duration>,
    /// Zero: the server's own setting is left alone.
    pub ddl_lock_timeout: Duration,
}

impl SessionLimits {
    /// Sets the limits on `driver`.
    pub async fn apply(&self, driver: &mut dyn Driver) -> Result<(), DriverError> {
        if let Some(timeout) = self.statement_timeout.filter(|t| !t.is_zero()) {
            driver.set_statement_timeout(timeout).await?;
        }
        if !self.ddl_lock_timeout.is_zero() {
            driver.set_ddl_lock_timeout(self.ddl_lock_timeout).await?;
        }
        Ok(())
    }
}

/// Stops the statement a connection is running, from outside that connection's task:
/// a PostgreSQL cancel request, MySQL's `KILL QUERY` from a second connection,
/// SQLite's interrupt. Cancelling when nothing runs does nothing.
#[async_trait]
pub trait Canceller: Send + Sync {
    async fn cancel(&self) -> Result<(), DriverError>;
}

/// A session that holds a lock a DDL statement waits for: what `migrate` prints when
/// it gives up, so the user knows whom to ask (or what to kill).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Blocker {
    /// The server's process or thread id (`pg_terminate_backend`, `KILL`).
    pub pid: String,
    pub user: Option<String>,
    /// PostgreSQL's `application_name`; MySQL's `program_name` where known.
    pub application: Option<String>,
    /// Client address and port, or `local`.
    pub client: Option<String>,
    /// What the session is doing: `idle in transaction`, `active`, `Sleep`.
    pub state: Option<String>,
    /// How long its current transaction has been open.
    #[serde(with = "humantime_serde")]
    pub transaction_age: Option<Duration>,
    /// The lock it holds or the table it touches, as the server reports it.
    pub lock: Option<String>,
    /// The start of its current or last query (at most 200 characters).
    pub query: Option<String>,
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pid {}", self.pid)?;
        let fields = [
            ("user", self.user.clone()),
            ("application", self.application.clone()),
            ("client", self.client.clone()),
            ("state", self.state.clone()),
            (
                "transaction open for",
                self.transaction_age.map(|age| {
                    humantime::format_duration(Duration::from_secs(age.as_secs())).to_string()
                }),
            ),
            ("holds", self.lock.clone()),
        ];
        for (name, value) in fields {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                write!(f, ", {name}: {value}")?;
            }
        }
        if let Some(query) = self.query.as_ref().filter(|q| !q.is_empty()) {
            let query: String = query.split_whitespace().collect::<Vec<_>>().join(" ");
            write!(f, ", query: {query:?}")?;
        }
        Ok(())
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

/// `statements` one by one with `execute`, up to the first failure (its index).
pub async fn run_in_order<D: Driver + ?Sized>(
    driver: &mut D,
    statements: &[&str],
) -> Result<(), (usize, DriverError)> {
    for (i, sql) in statements.iter().enumerate() {
        driver.execute(sql).await.map_err(|e| (i, e))?;
    }
    Ok(())
}

/// What a driver answers when handed several statements at once.
pub fn several_statements(sql: &str) -> DriverError {
    DriverError::statement(
        sql,
        "refused: more than one statement in one call; strata sends exactly one at a time",
    )
}

/// Runs a rendered statement: executes it, or for a guard, fails if it returns rows;
/// for a generator, runs the statements its rows hold.
pub async fn run_statement(
    driver: &mut dyn Driver,
    statement: &Statement,
) -> Result<(), DriverError> {
    match &statement.fails_with_rows {
        None if statement.generates => {
            for row in driver.query(&statement.sql).await? {
                if let Some(Some(sql)) = row.into_iter().next() {
                    driver.execute(&sql).await?;
                }
            }
            Ok(())
        }
        None if statement.compound => driver.execute_compound(&statement.sql).await,
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

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;

    #[test]
    fn the_library_error_stays_behind_the_message() {
        let io = std::io::Error::other("disk on fire");
        let error = DriverError::statement("SELECT 1", "it failed")
            .with_code(ErrorCode::SqlState("58030".into()))
            .with_source(io);
        assert_eq!(error.to_string(), "it failed\n  while running: SELECT 1");
        assert_eq!(error.code(), Some(&ErrorCode::SqlState("58030".into())));
        let source = error.source().expect("a source");
        assert_eq!(source.to_string(), "disk on fire");
        assert!(
            source.downcast_ref::<std::io::Error>().is_some(),
            "{source:?}"
        );
        let copy = error.clone();
        assert!(copy.source().is_some() && copy.code().is_some());
    }

    #[test]
    fn a_statement_while_connecting_is_a_connect_error_with_its_details() {
        let error = DriverError::statement("PRAGMA x", "no")
            .with_code(ErrorCode::ResultCode(14))
            .with_source(std::io::Error::other("cause"))
            .while_connecting("db.sqlite3");
        assert_eq!(error.to_string(), "cannot connect to db.sqlite3: no");
        assert_eq!(error.code(), Some(&ErrorCode::ResultCode(14)));
        assert!(error.source().is_some());
    }

    #[test]
    fn only_connect_and_statement_keep_details() {
        let url = DriverError::Url {
            url: "x".into(),
            reason: "y".into(),
        }
        .with_code(ErrorCode::ResultCode(1))
        .with_source(std::io::Error::other("z"));
        assert_eq!(url.code(), None);
        assert!(url.source().is_none());
        assert!(DriverError::connect("t", "m").code().is_none());
    }

    #[test]
    fn sqlstates_where_the_database_gives_one() {
        let mysql = ErrorCode::ServerError {
            number: 1146,
            sqlstate: "42S02".into(),
        };
        assert_eq!(mysql.sqlstate(), Some("42S02"));
        assert_eq!(
            ErrorCode::SqlState("42P01".into()).sqlstate(),
            Some("42P01")
        );
        assert_eq!(ErrorCode::ResultCode(2067).sqlstate(), None);
    }
}

//! `MysqlDriver`: one `mysql_async` connection, over TCP with TLS as the URL's
//! `ssl-mode` asks (see `tls`).
//!
//! It connects, learns the server's flavour and version from `SELECT VERSION()`,
//! makes the session read string literals the way the dialect writes them, and
//! otherwise only runs SQL, takes the migration lock (`lock`) and reads the schema
//! back (`introspect`): policy lives in the engine.

mod blockers;
mod cancel;
mod connect;
mod create;
mod introspect;
mod lock;
mod refusal;
mod rehearsal;
mod session;
mod tls;
mod url;
mod warnings;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Value};
use strata_engine::dialect::driver::{
    redact_url, several_statements, Blocker, Canceller, Driver, DriverError, ErrorCode,
    LockAttempt, Row,
};
use strata_engine::script::split_statements;
use strata_engine::{Dialect, SchemaState, ServerVersion};

use crate::dialect::MysqlDialect;
use crate::flavour::Flavour;

/// A live connection to MySQL or MariaDB.
pub struct MysqlDriver {
    conn: Conn,
    dialect: Arc<MysqlDialect>,
    version: ServerVersion,
    /// The database the URL named, fixed at connect time (a `run_sql` may `USE`
    /// another): it scopes the migration lock.
    database: Option<String>,
    /// `None` on the application's connection, whose URL strata does not know.
    canceller: Option<Arc<cancel::MysqlCanceller>>,
}

impl std::fmt::Debug for MysqlDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MysqlDriver")
            .field("flavour", &self.dialect.flavour())
            .field("version", &self.version)
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

impl MysqlDriver {
    /// Connects to `mysql://user:pass@host:port/db` or `mariadb://…`, with TLS as the
    /// URL's `ssl-mode` asks (PREFERRED by default). Errors name the URL with its
    /// password redacted.
    pub async fn connect(url: &str) -> Result<Self, DriverError> {
        Self::start(url, connect::open(url).await?).await
    }

    /// A driver on the application's own connection (e.g. from its
    /// `mysql_async::Pool`), taken by value and given back by
    /// [`MysqlDriver::into_conn`]. Its session's `sql_mode` is made strict (see the
    /// `session` module), and stays so.
    pub async fn from_conn(conn: Conn) -> Result<Self, DriverError> {
        Self::start_with("the application's connection".into(), None, conn).await
    }

    /// Gives the connection back (to the application that handed it over, or to its
    /// pool when dropped).
    pub fn into_conn(self) -> Conn {
        self.conn
    }

    /// The driver of a connection just opened to `url`'s server.
    async fn start(url: &str, conn: Conn) -> Result<Self, DriverError> {
        let canceller = Arc::new(cancel::MysqlCanceller::new(url, conn.id()));
        Self::start_with(redact_url(url), Some(canceller), conn).await
    }

    /// Flavour and version read and checked, session configured; `target` names the
    /// connection in errors.
    async fn start_with(
        target: String,
        canceller: Option<Arc<cancel::MysqlCanceller>>,
        mut conn: Conn,
    ) -> Result<Self, DriverError> {
        let connect_failed = |message: String| DriverError::connect(&target, message);
        let server_failed = |e: mysql_async::Error| caused_by(connect_failed(error_message(&e)), e);

        let identity: Option<(String, Option<String>)> = conn
            .query_first("SELECT VERSION(), DATABASE()")
            .await
            .map_err(server_failed)?;
        let (version_text, database) = identity.unwrap_or_default();
        let (flavour, version) =
            Flavour::detect(&version_text).map_err(|e| connect_failed(e.to_string()))?;
        let minimum = flavour.minimum_version();
        if version < minimum {
            return Err(connect_failed(format!(
                "{flavour} {version} is older than the oldest supported, {flavour} {minimum}"
            )));
        }
        session::configure(&mut conn).await.map_err(server_failed)?;
        tracing::debug!(%flavour, %version, target = %target, "connected");
        Ok(Self {
            conn,
            dialect: Arc::new(MysqlDialect::new(flavour)),
            version,
            database,
            canceller,
        })
    }

    pub fn flavour(&self) -> Flavour {
        self.dialect.flavour()
    }

    /// The first cell of the first row of `sql`.
    async fn scalar(&mut self, sql: &str) -> Result<Option<String>, DriverError> {
        let rows = self.query(sql).await?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next().flatten()))
    }

    /// Refuses SQL that holds more than one statement (or that the tokenizer cannot
    /// read, so cannot be counted) before the server sees any of it.
    fn one_statement(&self, sql: &str) -> Result<(), DriverError> {
        // The server splits statements at `;` alone: without one there is one. The
        // tokenizer is for the rest (a `;` in a string or a comment is no split).
        if !sql.contains(';') {
            return Ok(());
        }
        let lexer = self.dialect.sql_lexer();
        match split_statements(&*lexer, sql) {
            Ok(statements) if statements.len() <= 1 => Ok(()),
            Ok(_) => Err(several_statements(sql)),
            Err(e) => Err(DriverError::statement(sql, format!("refused: {e}"))),
        }
    }

    fn lock_key(&self, name: &str) -> String {
        lock::lock_key(self.database.as_deref(), name)
    }
}

#[async_trait]
impl Driver for MysqlDriver {
    fn dialect(&self) -> Arc<dyn Dialect> {
        self.dialect.clone()
    }

    fn version(&self) -> ServerVersion {
        self.version
    }

    /// Runs exactly one statement. `mysql_async` always asks for
    /// `CLIENT_MULTI_STATEMENTS` (and has no `COM_SET_OPTION` to turn it off), and
    /// the prepared-statement protocol cannot run every statement, so the driver
    /// checks first, with the dialect's tokenizer (`one_statement`). A data-loss
    /// warning is an error (`warnings::check`).
    async fn execute(&mut self, sql: &str) -> Result<(), DriverError> {
        tracing::debug!(sql, "execute");
        self.one_statement(sql)?;
        let (flavour, version) = (self.flavour(), self.version);
        self.conn
            .query_drop(sql)
            .await
            .map_err(|e| ddl_error(sql, e, flavour, version))?;
        warnings::check(&mut self.conn, sql).await
    }

    /// The user's compound statement (`CREATE TRIGGER … BEGIN …; … END`), which the
    /// server parses as one: no tokenizer check, which would count its inner `;`.
    async fn execute_compound(&mut self, sql: &str) -> Result<(), DriverError> {
        tracing::debug!(sql, "execute compound");
        self.conn
            .query_drop(sql)
            .await
            .map_err(|e| statement_error(sql, e))?;
        warnings::check(&mut self.conn, sql).await
    }

    /// The first result set of `sql`, every value as text.
    async fn query(&mut self, sql: &str) -> Result<Vec<Row>, DriverError> {
        tracing::debug!(sql, "query");
        self.one_statement(sql)?;
        let rows: Vec<mysql_async::Row> = self
            .conn
            .query(sql)
            .await
            .map_err(|e| statement_error(sql, e))?;
        Ok(rows
            .into_iter()
            .map(|row| row.unwrap().into_iter().map(value_text).collect())
            .collect())
    }

    /// The base tables (not views) of the connection's current database.
    async fn table_names(&mut self) -> Result<Vec<String>, DriverError> {
        let rows = self
            .query(
                "SELECT TABLE_NAME FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'",
            )
            .await?;
        let mut names: Vec<String> = rows
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect();
        names.sort();
        Ok(names)
    }

    async fn close(self: Box<Self>) -> Result<(), DriverError> {
        self.conn.disconnect().await.map_err(|e| {
            let message = format!("while disconnecting: {}", error_message(&e));
            caused_by(DriverError::connect("the server", message), e)
        })
    }

    /// `KILL QUERY` from a second connection; see the `cancel` module.
    fn canceller(&self) -> Option<Arc<dyn Canceller>> {
        self.canceller.clone().map(|c| -> Arc<dyn Canceller> { c })
    }

    /// MariaDB: `max_statement_time`, for every statement (error 1969). MySQL:
    /// `max_execution_time`, which limits only read-only `SELECT`s — MySQL has no
    /// server-side limit for DDL or writes.
    async fn set_statement_timeout(&mut self, timeout: Duration) -> Result<(), DriverError> {
        let sql = match self.flavour() {
            Flavour::Mariadb => format!(
                "SET SESSION max_statement_time = {:.3}",
                timeout.as_secs_f64().max(0.001)
            ),
            Flavour::Mysql => format!(
                "SET SESSION max_execution_time = {}",
                timeout.as_millis().max(1)
            ),
        };
        self.execute(&sql).await
    }

    /// `lock_wait_timeout`, which bounds the wait for a metadata lock, in whole
    /// seconds (rounded up, at least 1).
    async fn set_ddl_lock_timeout(&mut self, timeout: Duration) -> Result<(), DriverError> {
        let seconds = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
        self.execute(&format!(
            "SET SESSION lock_wait_timeout = {}",
            seconds.max(1)
        ))
        .await
    }

    /// ER_LOCK_WAIT_TIMEOUT (1205): "Lock wait timeout exceeded".
    fn is_lock_timeout(&self, error: &DriverError) -> bool {
        matches!(
            error.code(),
            Some(ErrorCode::ServerError { number: 1205, .. })
        )
    }

    /// See `blockers`: per table where the server shows metadata locks, otherwise
    /// every session with an open InnoDB transaction.
    async fn lock_holders(&mut self, tables: &[String]) -> Result<Vec<Blocker>, DriverError> {
        self.holders(tables).await
    }

    /// InnoDB's `TABLE_ID`; see the `rehearsal` module. A server that hides the
    /// InnoDB views (no `PROCESS` privilege) cannot tell.
    async fn storage_id(&mut self, table: &str) -> Result<Option<String>, DriverError> {
        match self.query(&self.storage_id_sql(table)).await {
            Ok(rows) => Ok(rows
                .into_iter()
                .next()
                .and_then(|row| row.into_iter().next().flatten())),
            Err(e) => {
                tracing::debug!("no storage id for {table}: {e}");
                Ok(None)
            }
        }
    }

    /// `TABLE_ROWS`, or a capped count where it says 0; see `blockers`.
    async fn table_rows(
        &mut self,
        tables: &[String],
    ) -> Result<std::collections::BTreeMap<String, u64>, DriverError> {
        self.row_estimates(tables).await
    }

    async fn try_lock(&mut self, name: &str) -> Result<LockAttempt, DriverError> {
        let key = self.lock_key(name);
        let quote = |s: &str| self.dialect.quote_string(s);
        let (take, who) = (
            lock::try_lock_sql(&key, quote),
            lock::holder_sql(&key, quote),
        );
        match self.scalar(&take).await?.as_deref() {
            Some("1") => Ok(LockAttempt::Acquired),
            Some("0") => {
                let rows = self.query(&who).await?;
                let holder = rows.first().and_then(|r| {
                    let cell = |i: usize| r.get(i).and_then(Option::as_deref);
                    lock::describe_holder(lock::Holder {
                        id: cell(0),
                        user: cell(1),
                        host: cell(2),
                        command: cell(3),
                        seconds: cell(4),
                    })
                });
                Ok(LockAttempt::Busy { holder })
            }
            other => Err(DriverError::statement(
                &take,
                format!("GET_LOCK answered {other:?} instead of 1 or 0"),
            )),
        }
    }

    async fn unlock(&mut self, name: &str) -> Result<(), DriverError> {
        let key = self.lock_key(name);
        let sql = lock::unlock_sql(&key, |s| self.dialect.quote_string(s));
        match self.scalar(&sql).await?.as_deref() {
            Some("1") => Ok(()),
            _ => Err(DriverError::statement(
                sql,
                format!("this session does not hold the migration lock `{key}`"),
            )),
        }
    }

    /// The base tables of the connection's current database; see `introspect`
    /// for what cannot be read.
    async fn introspect(&mut self) -> Result<SchemaState, DriverError> {
        let (flavour, version) = (self.flavour(), self.version);
        introspect::introspect(self, flavour, version).await
    }
}

fn value_text(value: Value) -> Option<String> {
    match value {
        Value::NULL => None,
        // The text protocol sends every other value as bytes.
        Value::Bytes(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Double(d) => Some(d.to_string()),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

/// `statement_error`, restated when the server refused the algorithm a safe plan
/// asked for (`refusal`).
fn ddl_error(
    sql: &str,
    e: mysql_async::Error,
    flavour: Flavour,
    version: ServerVersion,
) -> DriverError {
    let refusal = match &e {
        mysql_async::Error::Server(server) => {
            refusal::message(server.code, &error_message(&e), sql, flavour, version)
        }
        _ => None,
    };
    match refusal {
        Some(message) => caused_by(DriverError::statement(sql, message), e),
        None => statement_error(sql, e),
    }
}

fn statement_error(sql: &str, e: mysql_async::Error) -> DriverError {
    caused_by(DriverError::statement(sql, error_message(&e)), e)
}

/// `error` with `mysql_async`'s error behind it, and the server's error number and
/// SQLSTATE when the server refused.
fn caused_by(error: DriverError, cause: mysql_async::Error) -> DriverError {
    let code = match &cause {
        mysql_async::Error::Server(server) => Some(ErrorCode::ServerError {
            number: server.code,
            sqlstate: server.state.clone(),
        }),
        _ => None,
    };
    error.with_code(code).with_source(cause)
}

/// The server's own words (`ERROR 1146 (42S02): Table 'x.y' doesn't exist`) for a
/// server error; the library's description otherwise. Neither holds the password.
fn error_message(e: &mysql_async::Error) -> String {
    match e {
        mysql_async::Error::Server(s) => {
            format!("ERROR {} ({}): {}", s.code, s.state, s.message)
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> Option<String> {
        strata_testkit::server_url("STRATA_TEST_MYSQL_URL")
    }

    /// A server (or an `init` command) may set `NO_BACKSLASH_ESCAPES`; the dialect's
    /// literals must still read back exactly.
    #[tokio::test]
    async fn backslash_escapes_are_turned_back_on() {
        let Some(url) = server() else { return };
        let mut driver = MysqlDriver::connect(&url).await.expect("connect");
        driver
            .execute("SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_BACKSLASH_ESCAPES')")
            .await
            .unwrap();
        session::configure(&mut driver.conn).await.unwrap();
        let mode = driver.scalar("SELECT @@SESSION.sql_mode").await.unwrap();
        assert!(!mode.unwrap_or_default().contains("NO_BACKSLASH_ESCAPES"));
        let value = "a\\'b\\";
        let literal = crate::MysqlDialect::mysql().quote_string(value);
        let read = driver.scalar(&format!("SELECT {literal}")).await.unwrap();
        assert_eq!(read.as_deref(), Some(value));
        Box::new(driver).close().await.unwrap();
    }

    /// A server whose mode is not strict (simulated in this session: the shared
    /// server's global mode cannot change under parallel tests) is made strict by
    /// `session::configure`, the step `connect` runs.
    #[tokio::test]
    async fn a_lax_session_is_made_strict() {
        let Some(url) = server() else { return };
        let mut driver = MysqlDriver::connect(&url).await.expect("connect");
        let mode = driver.scalar("SELECT @@SESSION.sql_mode").await.unwrap();
        assert!(mode.unwrap_or_default().contains("STRICT_ALL_TABLES"));
        driver.execute("SET SESSION sql_mode = ''").await.unwrap();
        session::configure(&mut driver.conn).await.unwrap();
        let mode = driver.scalar("SELECT @@SESSION.sql_mode").await.unwrap();
        for flag in session::STRICT_FLAGS {
            assert!(
                mode.as_deref().unwrap_or_default().contains(flag),
                "{mode:?}"
            );
        }
        let value = driver
            .scalar("SELECT CAST('abcdefghij' AS CHAR(2))")
            .await
            .unwrap();
        assert_eq!(
            value.as_deref(),
            Some("ab"),
            "a cast still cuts; a write does not"
        );
        Box::new(driver).close().await.unwrap();
    }

    /// In a session that is not strict, a write the server truncates with a warning
    /// fails all the same: the warning is the error.
    #[tokio::test]
    async fn data_loss_warnings_fail_the_statement() {
        let Some(url) = server() else { return };
        let mut driver = MysqlDriver::connect(&url).await.expect("connect");
        driver.execute("SET SESSION sql_mode = ''").await.unwrap();
        driver
            .execute("CREATE TEMPORARY TABLE strata_trunc_probe (c varchar(2), n int NOT NULL)")
            .await
            .unwrap();
        let error = driver
            .execute("INSERT INTO strata_trunc_probe (c, n) VALUES ('abcdefghij', 1)")
            .await
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("1265") && error.contains("treats as errors"),
            "{error}"
        );
        let error = driver
            .execute("UPDATE strata_trunc_probe SET n = NULL")
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("1048"), "{error}");
        // A warning that loses no data does not fail.
        driver
            .execute("DROP TEMPORARY TABLE IF EXISTS strata_no_such_table")
            .await
            .unwrap();
        Box::new(driver).close().await.unwrap();
    }

    #[test]
    fn values_read_as_text() {
        assert_eq!(value_text(Value::NULL), None);
        assert_eq!(
            value_text(Value::Bytes(b"abc".to_vec())).as_deref(),
            Some("abc")
        );
        assert_eq!(value_text(Value::Int(-3)).as_deref(), Some("-3"));
    }
}

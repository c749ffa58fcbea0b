//! `SqliteDriver`: a rusqlite connection behind the engine's `Driver` trait.
//!
//! rusqlite is synchronous; the database is a local file, so calls run directly in
//! the async methods instead of on a blocking thread.

mod connect;
mod introspect;
mod lock;
pub(crate) mod rehearsal;
pub(crate) mod url;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use strata_engine::dialect::driver::{
    redact_url, several_statements, Canceller, Driver, DriverError, ErrorCode, LockAttempt, Row,
};
use strata_engine::dialect::url::redact_text;
use strata_engine::{Dialect, SchemaState, ServerVersion};

use crate::dialect::SqliteDialect;
use url::Location;

use connect::OpenMode;
pub use connect::BUSY_TIMEOUT;

/// A connection to one SQLite database, with foreign keys enforced.
pub struct SqliteDriver {
    conn: Connection,
    version: ServerVersion,
    /// The migration lock's file; `None` for an in-memory database, which no other
    /// connection can see and so needs no lock.
    lock_path: Option<PathBuf>,
    held: Option<HeldLock>,
}

/// The migration lock while this connection holds it: the open, OS-locked file, and
/// the names it was taken under (a database has one lock; taking it again under
/// another name while holding it is not a conflict).
struct HeldLock {
    _file: lock::Held,
    names: BTreeSet<String>,
}

impl SqliteDriver {
    /// Opens the database a `sqlite:` URL names, creating the file if it is missing.
    pub fn connect(url: &str) -> Result<Self, DriverError> {
        Self::connect_with(url, OpenMode::Create)
    }

    /// Opens the database a `sqlite:` URL names without ever creating it: for commands
    /// that only read. A missing file reads as an empty database (everything pending),
    /// with a warning naming the path, so a wrong path is visible and nothing is left
    /// behind.
    pub fn connect_existing(url: &str) -> Result<Self, DriverError> {
        Self::connect_with(url, OpenMode::Existing)
    }

    fn connect_with(url: &str, mode: OpenMode) -> Result<Self, DriverError> {
        let mut location = url::parse(url)?;
        // The path as the user wrote it, redacted in case a password ended up in it.
        let target = match &location {
            Location::Memory => ":memory:".to_string(),
            Location::File(path) => redact_url(&path.display().to_string()),
        };
        if let (OpenMode::Existing, Location::File(path)) = (mode, &location) {
            if !path.exists() {
                let shown = std::env::current_dir().map_or_else(
                    |_| path.display().to_string(),
                    |dir| dir.join(path).display().to_string(),
                );
                tracing::warn!(
                    "no database file at {}: read as an empty database (`strata migrate` creates it)",
                    redact_url(&shown)
                );
                location = Location::Memory;
            }
        }
        let conn = connect::open(&location, mode).map_err(|e| {
            caused_by(
                DriverError::connect(&target, redact_text(&e.to_string())),
                e,
            )
        })?;
        let mut driver = Self::from_connection(conn).map_err(|e| e.while_connecting(&target))?;
        if let (None, Location::File(path)) = (&driver.lock_path, &location) {
            // SQLite could not give the file's name as UTF-8; the URL's path will do.
            driver.lock_path = Some(lock::lock_path(path));
        }
        Ok(driver)
    }

    /// Wraps an open connection: turns foreign keys on, sets the busy timeout and
    /// reads the library version.
    pub fn from_connection(conn: Connection) -> Result<Self, DriverError> {
        let version = connect::prepare(&conn)?;
        // An empty name: an in-memory or temporary database.
        let lock_path = conn
            .path()
            .filter(|path| !path.is_empty())
            .map(|path| lock::lock_path(Path::new(path)));
        Ok(Self {
            conn,
            version,
            lock_path,
            held: None,
        })
    }

    /// The underlying connection, for callers that need SQLite specifics.
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Gives the connection back, e.g. to the application that handed it to
    /// [`SqliteDriver::from_connection`], with the migration lock released. The
    /// session settings strata made (foreign keys on, a busy timeout) stay.
    pub fn into_connection(self) -> Connection {
        self.conn
    }

    /// Who this process is, for the lock file: what a waiting process will print.
    fn holder_description(&self, name: &str) -> String {
        // SQLite's clock, so no date library is needed; UTC, as the history table.
        let since: String = self
            .conn
            .query_row("SELECT datetime('now') || ' UTC'", [], |row| row.get(0))
            .unwrap_or_else(|_| "an unknown time".into());
        lock::holder_description(name, &since)
    }

    /// The one statement of `sql`, prepared (`None` for SQL with no statement, only
    /// comments or nothing); several are refused.
    fn prepare_one(&self, sql: &str) -> Result<Option<rusqlite::Statement<'_>>, DriverError> {
        let mut batch = rusqlite::Batch::new(&self.conn, sql);
        let first = batch.next().map_err(|e| statement_error(sql, e))?;
        // Preparing the next statement runs nothing; one that cannot even be prepared
        // (it needs a table the first would create) is a second statement all the same.
        match batch.next() {
            Ok(None) => {}
            Ok(Some(_)) | Err(_) => return Err(several_statements(sql)),
        }
        Ok(first)
    }

    fn execute_one(&self, sql: &str) -> Result<(), DriverError> {
        let Some(mut statement) = self.prepare_one(sql)? else {
            return Ok(());
        };
        let mut rows = statement.raw_query();
        while rows.next().map_err(|e| statement_error(sql, e))?.is_some() {}
        Ok(())
    }

    fn query_rows(&self, sql: &str) -> Result<Vec<Row>, DriverError> {
        let Some(mut statement) = self.prepare_one(sql)? else {
            return Ok(Vec::new());
        };
        read_rows(&mut statement).map_err(|e| statement_error(sql, e))
    }
}

/// Every row of a prepared statement, as text.
fn read_rows(statement: &mut rusqlite::Statement<'_>) -> Result<Vec<Row>, rusqlite::Error> {
    let width = statement.column_count();
    let mut rows = statement.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let mut cells = Vec::with_capacity(width);
        for i in 0..width {
            cells.push(as_text(row.get_ref(i)?));
        }
        out.push(cells);
    }
    Ok(out)
}

/// A value as text: NULL is `None`, numbers as SQLite prints them, blobs in hex
/// (as SQLite's `hex()`).
fn as_text(value: ValueRef<'_>) -> Option<String> {
    match value {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        // `{:?}` keeps the decimal point (`1.0`), as SQLite does, and round-trips.
        ValueRef::Real(f) => Some(format!("{f:?}")),
        ValueRef::Text(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        ValueRef::Blob(bytes) => Some(upper_hex(bytes)),
    }
}

/// Bytes in upper-case hex, two digits each, as SQLite's `hex()` writes them.
fn upper_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 * bytes.len());
    for b in bytes {
        // `write!` into a `String` cannot fail.
        let _ = write!(out, "{b:02X}");
    }
    out
}

fn statement_error(sql: &str, error: rusqlite::Error) -> DriverError {
    caused_by(DriverError::statement(sql, error.to_string()), error)
}

/// `error` with rusqlite's error behind it, and SQLite's extended result code when
/// SQLite itself failed.
fn caused_by(error: DriverError, cause: rusqlite::Error) -> DriverError {
    let code = match &cause {
        rusqlite::Error::SqliteFailure(failure, _) => {
            Some(ErrorCode::ResultCode(failure.extended_code))
        }
        _ => None,
    };
    error.with_code(code).with_source(cause)
}

/// Interrupts the connection's running statement from another thread (a signal
/// handler's); with nothing running, it does nothing.
struct SqliteCanceller(rusqlite::InterruptHandle);

#[async_trait]
impl Canceller for SqliteCanceller {
    async fn cancel(&self) -> Result<(), DriverError> {
        self.0.interrupt();
        Ok(())
    }
}

#[async_trait]
impl Driver for SqliteDriver {
    fn dialect(&self) -> Arc<dyn Dialect> {
        Arc::new(SqliteDialect)
    }

    fn version(&self) -> ServerVersion {
        self.version
    }

    /// Runs exactly one statement: SQLite compiles one statement at a time, and a
    /// second one after it (its "tail") is refused before the first runs. Rows a
    /// statement returns (a `SELECT` in a `run_sql`, a `PRAGMA`) are read and dropped.
    async fn execute(&mut self, sql: &str) -> Result<(), DriverError> {
        tracing::debug!(sql, "sqlite execute");
        self.execute_one(sql)
    }

    async fn query(&mut self, sql: &str) -> Result<Vec<Row>, DriverError> {
        tracing::debug!(sql, "sqlite query");
        self.query_rows(sql)
    }

    /// An exact `count(*)` of each table that exists: SQLite keeps no estimate
    /// (`sqlite_stat1` only after `ANALYZE`), and a count is what a file database of
    /// the size SQLite serves affords.
    async fn storage_id(&mut self, table: &str) -> Result<Option<String>, DriverError> {
        let rows = self.query_rows(&rehearsal::storage_id_sql(table))?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next().flatten()))
    }

    async fn table_rows(
        &mut self,
        tables: &[String],
    ) -> Result<std::collections::BTreeMap<String, u64>, DriverError> {
        let existing = self.table_names().await?;
        let mut rows = std::collections::BTreeMap::new();
        for table in tables.iter().filter(|t| existing.contains(t)) {
            let sql = format!("SELECT count(*) FROM {}", SqliteDialect.quote_ident(table));
            let count = self
                .query_rows(&sql)?
                .into_iter()
                .next()
                .and_then(|r| r.into_iter().next().flatten())
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            rows.insert(table.clone(), count);
        }
        Ok(rows)
    }

    async fn table_names(&mut self) -> Result<Vec<String>, DriverError> {
        // `sqlite_sequence`, `sqlite_stat1`… are SQLite's own, and left out.
        let sql = introspect::TABLES_SQL;
        let rows = self.query_rows(sql)?;
        Ok(rows
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect())
    }

    /// An exclusive OS lock on `<database>.strata-lock` (see the `lock` module): the
    /// operating system releases it when the process ends, so it is never stale. An
    /// in-memory database is private to this connection: always acquired.
    async fn try_lock(&mut self, name: &str) -> Result<LockAttempt, DriverError> {
        if let Some(held) = &mut self.held {
            held.names.insert(name.to_string());
            return Ok(LockAttempt::Acquired);
        }
        let Some(path) = &self.lock_path else {
            return Ok(LockAttempt::Acquired);
        };
        let failed = |e: std::io::Error| {
            let message = format!("cannot take the migration lock: {e}");
            DriverError::statement(format!("(lock file {})", path.display()), message)
                .with_source(e)
        };
        match lock::try_acquire(path, &self.holder_description(name)).map_err(failed)? {
            lock::Attempt::Acquired(file) => {
                tracing::debug!(lock = name, path = %path.display(), "migration lock taken");
                self.held = Some(HeldLock {
                    _file: file,
                    names: BTreeSet::from([name.to_string()]),
                });
                Ok(LockAttempt::Acquired)
            }
            lock::Attempt::Busy(holder) => Ok(LockAttempt::Busy { holder }),
        }
    }

    /// Releases the lock once every name it was taken under is released; closing the
    /// file is what releases it. Releasing a lock not held does nothing.
    async fn unlock(&mut self, name: &str) -> Result<(), DriverError> {
        if let Some(held) = &mut self.held {
            held.names.remove(name);
            if held.names.is_empty() {
                self.held = None;
                tracing::debug!(lock = name, "migration lock released");
            }
        }
        Ok(())
    }

    /// SQLite's interrupt: the running statement fails with `SQLITE_INTERRUPT`.
    fn canceller(&self) -> Option<Arc<dyn Canceller>> {
        Some(Arc::new(SqliteCanceller(self.conn.get_interrupt_handle())))
    }

    /// SQLite runs in this process, so no server can abort a long statement: the
    /// limit bounds what can hang, the wait for another writer's lock (the busy
    /// timeout, 30 s by default).
    async fn set_statement_timeout(&mut self, timeout: Duration) -> Result<(), DriverError> {
        self.conn
            .busy_timeout(timeout)
            .map_err(|e| statement_error("(busy timeout)", e))
    }

    async fn introspect(&mut self) -> Result<SchemaState, DriverError> {
        introspect::schema(&self.conn).map_err(|e| statement_error("(introspection)", e))
    }

    async fn close(self: Box<Self>) -> Result<(), DriverError> {
        self.conn
            .close()
            .map_err(|(_, e)| statement_error("(close)", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_text() {
        assert_eq!(as_text(ValueRef::Null), None);
        assert_eq!(as_text(ValueRef::Integer(-3)).as_deref(), Some("-3"));
        assert_eq!(as_text(ValueRef::Real(1.0)).as_deref(), Some("1.0"));
        assert_eq!(as_text(ValueRef::Real(2.5)).as_deref(), Some("2.5"));
        assert_eq!(as_text(ValueRef::Text(b"hi")).as_deref(), Some("hi"));
        assert_eq!(as_text(ValueRef::Blob(&[0, 255])).as_deref(), Some("00FF"));
    }

    #[tokio::test]
    async fn connects_to_memory_with_foreign_keys_on() {
        let mut driver = SqliteDriver::connect("sqlite::memory:").unwrap();
        assert!(driver.version() >= SqliteDialect.minimum_version());
        let rows = driver.query("PRAGMA foreign_keys").await.unwrap();
        assert_eq!(rows, vec![vec![Some("1".to_string())]]);
    }

    #[tokio::test]
    async fn creates_a_missing_file_and_lists_only_user_tables() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.sqlite3");
        let mut driver = SqliteDriver::connect(&format!("sqlite://{}", path.display())).unwrap();
        assert!(path.exists());
        driver
            .execute("CREATE TABLE \"b\" (id integer PRIMARY KEY AUTOINCREMENT)")
            .await
            .unwrap();
        let err = driver
            .execute("CREATE TABLE a (x int); DROP TABLE b")
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("refused: more than one statement"),
            "{err}"
        );
        assert_eq!(driver.table_names().await.unwrap(), ["b"], "nothing ran");
        driver.execute("CREATE TABLE a (x int);").await.unwrap();
        driver
            .execute("INSERT INTO b DEFAULT VALUES")
            .await
            .unwrap();
        assert_eq!(driver.table_names().await.unwrap(), ["a", "b"]);
        Box::new(driver).close().await.unwrap();
    }

    #[tokio::test]
    async fn errors_carry_the_sql_and_sqlites_message() {
        let mut driver = SqliteDriver::connect("sqlite::memory:").unwrap();
        let err = driver.execute("SELEC 1").await.unwrap_err();
        match err {
            DriverError::Statement { sql, message, .. } => {
                assert_eq!(sql, "SELEC 1");
                assert!(message.contains("syntax error"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn errors_keep_sqlites_result_code_and_rusqlites_error() {
        let mut driver = SqliteDriver::connect("sqlite::memory:").unwrap();
        driver
            .execute("CREATE TABLE t (x int UNIQUE)")
            .await
            .unwrap();
        driver.execute("INSERT INTO t VALUES (1)").await.unwrap();
        let err = driver
            .execute("INSERT INTO t VALUES (1)")
            .await
            .unwrap_err();
        // SQLITE_CONSTRAINT_UNIQUE
        assert_eq!(err.code(), Some(&ErrorCode::ResultCode(2067)), "{err:?}");
        strata_testkit::source_as::<rusqlite::Error>(&err);

        let err = SqliteDriver::connect("sqlite:///nonexistent-dir-strata/x.db")
            .err()
            .unwrap();
        // SQLITE_CANTOPEN
        assert_eq!(err.code(), Some(&ErrorCode::ResultCode(14)), "{err:?}");
        strata_testkit::source_as::<rusqlite::Error>(&err);
    }

    /// The canceller stops a statement running on another thread, which then fails
    /// with SQLITE_INTERRUPT, and the connection stays usable.
    #[test]
    fn the_canceller_interrupts_a_running_statement() {
        let mut driver = SqliteDriver::connect("sqlite::memory:").unwrap();
        let canceller = driver.canceller().expect("SQLite can cancel");
        let started = std::time::Instant::now();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let stopper = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
                .block_on(canceller.cancel())
        });
        // Minutes of work without the interrupt.
        let endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
                       SELECT count(*) FROM c";
        let err = runtime.block_on(driver.query(endless)).unwrap_err();
        stopper.join().unwrap().unwrap();
        // SQLITE_INTERRUPT
        assert_eq!(err.code(), Some(&ErrorCode::ResultCode(9)), "{err:?}");
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        let rows = runtime.block_on(driver.query("SELECT 1")).unwrap();
        assert_eq!(rows, vec![vec![Some("1".to_string())]]);
    }

    #[tokio::test]
    async fn a_missing_directory_is_a_connect_error() {
        let err = SqliteDriver::connect("sqlite:///nonexistent-dir-strata/x.db")
            .err()
            .unwrap();
        assert!(matches!(err, DriverError::Connect { .. }), "{err:?}");
    }
}

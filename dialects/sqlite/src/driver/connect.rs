//! Opening a database: the file (or memory) a URL names, and the session settings
//! strata relies on.

use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use strata_engine::dialect::driver::DriverError;
use strata_engine::{Dialect, ServerVersion};

use super::statement_error;
use super::url::Location;
use crate::dialect::SqliteDialect;

/// How long a statement waits for another connection's write lock on the database
/// before failing with `database is locked` (SQLite's default is not to wait at all).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether a missing database file is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OpenMode {
    /// `migrate`: a new project's database starts as an empty file.
    Create,
    /// Commands that only read (`showmigrations`, `migrate --plan`, `inspectdb`…): a
    /// wrong path must not leave an empty database behind.
    Existing,
}

/// Opens the database at `location`, creating the file if it is missing and `mode`
/// allows.
pub(super) fn open(location: &Location, mode: OpenMode) -> rusqlite::Result<Connection> {
    match (location, mode) {
        (Location::Memory, _) => Connection::open_in_memory(),
        (Location::File(path), OpenMode::Create) => Connection::open(path),
        (Location::File(path), OpenMode::Existing) => Connection::open_with_flags(
            path,
            // rusqlite's defaults without SQLITE_OPEN_CREATE.
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        ),
    }
}

/// Turns foreign keys on, sets the busy timeout, and reads the library version,
/// refusing one older than the dialect supports.
pub(super) fn prepare(conn: &Connection) -> Result<ServerVersion, DriverError> {
    // Off by default in SQLite; strata's guarantees assume they are enforced.
    conn.execute_batch("PRAGMA foreign_keys = ON")
        .map_err(|e| statement_error("PRAGMA foreign_keys = ON", e))?;
    // Another writer of the file (the application, a second strata) makes a
    // migration wait for it rather than fail at once.
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| statement_error("(busy timeout)", e))?;
    let sql = "SELECT sqlite_version()";
    let text: String = conn
        .query_row(sql, [], |row| row.get(0))
        .map_err(|e| statement_error(sql, e))?;
    let version: ServerVersion = text.parse().map_err(|reason| {
        DriverError::statement(sql, format!("unreadable SQLite version `{text}`: {reason}"))
    })?;
    let minimum = SqliteDialect.minimum_version();
    if version < minimum {
        return Err(DriverError::statement(
            sql,
            format!("SQLite {version} is too old; strata needs {minimum} or later"),
        ));
    }
    Ok(version)
}

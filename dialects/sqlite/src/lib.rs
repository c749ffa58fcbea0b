//! strata-sqlite: the SQLite backend of strata.
//!
//! - [`SqliteDialect`] renders operations as SQLite SQL, natively where SQLite's
//!   `ALTER TABLE` can and by the documented table rebuild where it cannot;
//! - [`SqliteDriver`] runs them on a database file through rusqlite (bundled SQLite);
//! - [`SqliteBackend`] registers both under the `sqlite` URL scheme.
//!
//! # Type mapping
//!
//! [`sql_type`] holds the mapping (the names Django writes). An auto-increment column
//! is always `integer NOT NULL PRIMARY KEY AUTOINCREMENT`, whatever its neutral integer
//! type: only `integer` makes the column the rowid.
//!
//! # Defaults
//!
//! Booleans are written `1`/`0` (what SQLite stores and reports back); `now` is
//! `CURRENT_TIMESTAMP` (`CURRENT_DATE`, `CURRENT_TIME` for a date or time column);
//! `uuid` is a random version 4 UUID built from `randomblob()`.
//!
//! # Rebuilds and foreign keys
//!
//! The connection enforces foreign keys (`PRAGMA foreign_keys = ON` at connect). A
//! migration turns them off around its transaction and runs `PRAGMA
//! foreign_key_check` before `COMMIT`, so a table rebuild never cascades into the
//! tables that reference it and never commits a dangling reference. In a non-atomic
//! migration each rebuild opens and closes that envelope itself; if one of its
//! statements fails, the engine stops there and the rebuild's transaction stays open
//! on the connection until it is rolled back or closed (nothing is committed).
//!
//! A rebuild refuses to run when a trigger or view uses the table: `DROP TABLE` would
//! drop the table's triggers, and a view naming it breaks the rename.

mod dialect;
mod driver;
mod rebuild;
mod types;
mod url;

use std::sync::Arc;

use async_trait::async_trait;
use strata_engine::dialect::driver::{Driver, DriverError};
use strata_engine::dialect::Backend;
use strata_engine::Dialect;

pub use dialect::SqliteDialect;
pub use driver::SqliteDriver;
pub use types::{affinity, sql_type, Affinity};
pub use url::{parse as parse_url, Location};

/// The SQLite backend for a [`strata_engine::dialect::Registry`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteBackend;

#[async_trait]
impl Backend for SqliteBackend {
    fn names(&self) -> &'static [&'static str] {
        &["sqlite"]
    }

    fn dialect(&self, _name: &str) -> Arc<dyn Dialect> {
        Arc::new(SqliteDialect)
    }

    async fn connect(&self, url: &str) -> Result<Box<dyn Driver>, DriverError> {
        Ok(Box::new(SqliteDriver::connect(url)?))
    }
}

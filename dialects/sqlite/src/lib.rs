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
//! `uuid` and `json` are declared `uuid` and `json`: readable, and mapped back exactly
//! by introspection. SQLite gives both NUMERIC affinity, which stores text that reads
//! as a number as that number: harmless for a UUID (its hyphens keep it text), but a
//! JSON document that is a bare number changes spelling (`'1e5'` is stored as
//! `100000`, `'1.50'` as `1.5`); objects, arrays and strings are stored unchanged.
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
//! statements fails, the engine's recovery (`ROLLBACK`, then the envelope's `PRAGMA
//! foreign_keys = ON`) undoes the rebuild and turns foreign keys back on.
//!
//! A rebuild refuses to run when a trigger or view uses the table: `DROP TABLE` would
//! drop the table's triggers, and a view naming it breaks the rename.
//!
//! # The migration lock
//!
//! SQLite has no advisory locks: the driver takes an exclusive OS file lock on
//! `<database file>.strata-lock` (created when missing, never deleted), which the
//! operating system releases when the process ends, so a killed `strata` never
//! leaves a stale lock. The holder writes its program, pid and start time into the
//! file; a waiting process reports them. An in-memory database is private to its
//! connection, so its lock is always acquired. The connection also waits up to
//! [`BUSY_TIMEOUT`] for other writers of the file instead of failing at once.
//!
//! # Introspection
//!
//! The live schema is read from SQLite's pragmas and from the `CREATE` statements in
//! `sqlite_master` (checks, `AUTOINCREMENT`, constraint names, index predicates); the
//! module docs of `driver::introspect` list how each SQLite concept maps back to a
//! neutral one. Types map back through [`neutral_type`], the reverse of [`sql_type`].
//!
//! # Layout
//!
//! As in every built-in backend crate: `backend` is the registry entry; `dialect`
//! renders, offline (`types` is the type mapping, `rebuild` the table rebuild);
//! `driver` talks to the database (`connect`, `url`, `lock`, `introspect`). SQLite
//! has no TLS, so the driver has no `tls`.

mod backend;
mod dialect;
mod driver;

pub use backend::SqliteBackend;
pub use dialect::types::{affinity, neutral_type, sql_type, Affinity};
pub use dialect::SqliteDialect;
pub use driver::url::{parse as parse_url, Location};
pub use driver::{SqliteDriver, BUSY_TIMEOUT};

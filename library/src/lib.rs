//! strata as a library: an application runs its own schema migrations, on SQLite,
//! PostgreSQL or MySQL/MariaDB, with the lock, checksums, checkpoints and history
//! table of the `strata` command line: the two can be used on the same database.
//!
//! Add it with the backends the application uses (each is a feature; all three by
//! default, with `macros`, which provides [`embed_migrations!`]):
//!
//! ```toml
//! [dependencies]
//! strata = { version = "0.1", default-features = false, features = ["postgres", "macros"] }
//! ```
//!
//! Then compile the project's migrations into the binary and run them at start-up:
//!
//! ```
//! static MIGRATIONS: strata::Embedded = strata::embed_migrations!("../testdata/tracker");
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let url = format!("sqlite://{}", dir.path().join("app.sqlite3").display());
//! let migrator = strata::Migrator::from_embedded(&MIGRATIONS)?
//!     .lock_timeout(std::time::Duration::from_secs(30));
//! let report = migrator.run(&url).await?;
//! for step in &report.steps {
//!     println!("{} {}.{} in {:?}", step.direction, step.app, step.name, step.duration);
//! }
//! // Everything is applied: a second run does nothing.
//! assert!(migrator.run(&url).await?.is_empty());
//! # Ok(()) }
//! ```
//!
//! - [`Migrator`]: the migrations ([`Migrator::from_embedded`],
//!   [`Migrator::from_project`]), the settings, the application's functions for
//!   `run_code` operations ([`Migrator::register`]), and what it does: [`Migrator::run`],
//!   [`Migrator::migrate_to`], [`Migrator::status`], [`Migrator::plan`], on a URL or on
//!   a connection the application already holds ([`Migrator::run_on`]).
//! - [`blocking::Migrator`]: the same without an async runtime.
//! - [`embed_migrations!`]: the migrations read, validated and checksummed at compile
//!   time.
//! - [`Report`], [`Status`], [`PlanStep`] and [`Error`]: what comes back.
//! - [`sqlite`], [`postgres`], [`mysql`]: the backend crates, for their drivers
//!   (e.g. a driver on the application's own `tokio_postgres::Client`).
//!
//! Every operation runs in a `tracing` span (`strata.migrate`, `strata.status`,
//! `strata.plan`), with the engine's spans and events inside.

#![deny(missing_docs)]
// The engine's errors carry their full context (paths, keys, the SQL) by value;
// they only travel on the failure path.
#![allow(clippy::result_large_err)]

pub mod blocking;
mod embedded;
mod error;
mod migrator;
mod plan;
mod report;
mod status;

pub use embedded::{Embedded, EmbeddedMigration};
pub use error::Error;
pub use migrator::Migrator;
pub use plan::{PlanOperation, PlanStep};
pub use report::{Direction, Report, StepReport};
pub use status::{MigrationState, MigrationStatus, Status};

/// Compiles a project's migrations into the binary, as a [`Embedded`] value.
///
/// ```
/// // The folder holding strata.toml, relative to this crate's Cargo.toml.
/// static MIGRATIONS: strata::Embedded = strata::embed_migrations!("../examples/embedded/project");
/// assert_eq!(MIGRATIONS.apps, ["shop"]);
/// assert!(strata::Migrator::from_embedded(&MIGRATIONS).is_ok());
/// ```
///
/// The argument is the folder holding `strata.toml`, relative to the crate's
/// `CARGO_MANIFEST_DIR`. At compile time the macro reads `strata.toml` (`apps`,
/// `apps_dir`) and every app's migration files, parses and validates them (a broken
/// file is a compile error naming the file and line), and embeds each file's text
/// (with `include_str!`, so that changing a file rebuilds the crate) with its
/// checksum. A *new* file is only seen when the crate is rebuilt: add a `build.rs`
/// with `println!("cargo:rerun-if-changed=migrations-project");` (see
/// `docs/embedding.md`).
#[cfg(feature = "macros")]
pub use strata_macros::embed_migrations;

/// The engine: operations, graph, executor, drivers' traits. What the library's
/// types are built from, for anything beyond them.
pub use strata_engine as engine;

/// The functions `run_code` operations call: register them with [`Migrator::register`].
pub use strata_engine::code::{BoxFuture, CodeResult, Session};
/// Where [`Migrator::migrate_to`] takes an app; see [`Migrator::target`].
pub use strata_engine::graph::Target;

/// SQLite (rusqlite, bundled): `strata::sqlite::SqliteDriver::from_connection` wraps
/// the application's own `rusqlite::Connection`.
#[cfg(feature = "sqlite")]
pub use strata_sqlite as sqlite;

/// PostgreSQL (tokio-postgres): `strata::postgres::PostgresDriver::on_client` runs
/// on a `tokio_postgres::Client` the application owns (e.g. from its pool).
#[cfg(feature = "postgres")]
pub use strata_postgres as postgres;

/// MySQL and MariaDB (mysql_async): `strata::mysql::MysqlDriver::from_conn` runs on
/// the application's own `mysql_async::Conn`.
#[cfg(feature = "mysql")]
pub use strata_mysql as mysql;

use strata_engine::dialect::Registry;

/// The backends this build of strata has (its features), by URL scheme: `sqlite:`,
/// `postgres:`/`postgresql:`, `mysql:`/`mariadb:`. A third-party backend is
/// registered on the result with [`Registry::register`].
pub fn backends() -> Registry {
    // Not mutated in a build without any backend feature.
    #[allow(unused_mut)]
    let mut registry = Registry::new();
    #[cfg(feature = "sqlite")]
    registry.register(std::sync::Arc::new(strata_sqlite::SqliteBackend));
    #[cfg(feature = "postgres")]
    registry.register(std::sync::Arc::new(strata_postgres::PostgresBackend));
    #[cfg(feature = "mysql")]
    registry.register(std::sync::Arc::new(strata_mysql::MysqlBackend));
    registry
}

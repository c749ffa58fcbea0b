//! strata-mysql: the MySQL and MariaDB backend of strata.
//!
//! - [`MysqlDialect`]: renders operations for MySQL 8.0.19+ ([`MysqlDialect::mysql`])
//!   or MariaDB 10.5.2+ ([`MysqlDialect::mariadb`]); the two differ only through
//!   [`Flavour`].
//! - [`MysqlDriver`]: a `mysql_async` connection that detects flavour and version,
//!   takes the migration lock (`GET_LOCK`) and reads the live schema back.
//! - [`MysqlBackend`]: registers both under the `mysql` and `mariadb` names.
//!
//! DDL is not transactional on either server: scripts run statement by statement,
//! and every operation is written as a single statement wherever the servers allow,
//! so each one either happens or does not.
//!
//! # Layout
//!
//! As in every built-in backend crate: `backend` is the registry entry; `dialect`
//! renders, offline (`types` is the type mapping, with `quoting`, `columns`, `keys`
//! and `fk_index`); `driver` talks to the server (`connect`, `url`, `tls`, `lock`,
//! `introspect`, with `session` for the session settings the SQL relies on).
//! `flavour` stays at the crate root: the dialect and the driver both ask it what
//! differs between MySQL and MariaDB.

mod backend;
pub mod dialect;
mod driver;
mod flavour;

pub use backend::MysqlBackend;
pub use dialect::MysqlDialect;
pub use driver::MysqlDriver;
pub use flavour::{Flavour, UnknownVersion};

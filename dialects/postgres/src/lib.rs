//! strata-postgres: the PostgreSQL plugin of strata.
//!
//! - [`PostgresDialect`] renders operations to PostgreSQL SQL, offline;
//! - [`PostgresDriver`] runs them on a live server (tokio-postgres), takes the
//!   migration lock (a session-level advisory lock) and introspects the schema;
//! - [`PostgresBackend`] registers both under the URL schemes `postgres` and `postgresql`.
//!
//! The engine's default rendering already writes PostgreSQL-flavoured SQL, so the
//! dialect only overrides what PostgreSQL spells its own way: the type names, identity
//! columns and the `USING` clause of a type change.
//!
//! # Layout
//!
//! As in every built-in backend crate: `backend` is the registry entry; `dialect`
//! renders, offline (`types` is the type mapping); `driver` talks to the server
//! (`connect`, `url`, `tls`, `lock`, `introspect`, `schema` for a URL's `?schema=`,
//! with `messages` for the server's error reports and `version` for
//! `server_version_num`).

mod backend;
mod dialect;
mod driver;

pub use backend::PostgresBackend;
pub use dialect::types::{neutral_type, sql_type};
pub use dialect::PostgresDialect;
pub use driver::{ClientHandle, OwnedClient, PostgresDriver};
/// The client library, at the version [`PostgresDriver::on_client`] takes.
pub use tokio_postgres;

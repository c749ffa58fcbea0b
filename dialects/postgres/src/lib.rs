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

mod backend;
mod dialect;
mod driver;
mod types;

pub use backend::PostgresBackend;
pub use dialect::PostgresDialect;
pub use driver::PostgresDriver;
pub use types::{neutral_type, sql_type};

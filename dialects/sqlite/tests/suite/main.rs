//! strata-sqlite's integration tests, one binary: the corpus's golden SQL and its
//! execution on SQLite files, introspection, the migration lock, the shared executor,
//! and table rebuilds.

mod execute;
mod golden;
mod introspect;
mod lock;
mod migrate;
mod rebuild;
mod rehearsal;

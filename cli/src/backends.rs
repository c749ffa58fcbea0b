//! The built-in dialect plugins.

use std::sync::Arc;

use strata_engine::dialect::Registry;

pub(crate) fn builtin() -> Registry {
    let mut registry = Registry::new();
    registry
        .register(Arc::new(strata_sqlite::SqliteBackend))
        .register(Arc::new(strata_postgres::PostgresBackend))
        .register(Arc::new(strata_mysql::MysqlBackend));
    registry
}

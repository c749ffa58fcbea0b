//! `SqliteBackend`: the registry entry for the `sqlite` scheme.

use std::sync::Arc;

use async_trait::async_trait;
use strata_engine::dialect::driver::{Driver, DriverError};
use strata_engine::dialect::Backend;
use strata_engine::Dialect;

use crate::{SqliteDialect, SqliteDriver};

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

    async fn connect_existing(&self, url: &str) -> Result<Box<dyn Driver>, DriverError> {
        Ok(Box::new(SqliteDriver::connect_existing(url)?))
    }
}

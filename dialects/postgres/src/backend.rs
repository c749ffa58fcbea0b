//! `PostgresBackend`: the registry entry for the `postgres` / `postgresql` schemes.

use std::sync::Arc;

use async_trait::async_trait;
use strata_engine::dialect::driver::{Driver, DriverError};
use strata_engine::dialect::registry::DatabaseCreation;
use strata_engine::dialect::rehearsal::{RehearsalCopy, Sample};
use strata_engine::dialect::Backend;
use strata_engine::Dialect;

use crate::{PostgresDialect, PostgresDriver};

/// PostgreSQL, under both URL schemes libpq accepts.
#[derive(Debug, Clone, Copy, Default)]
pub struct PostgresBackend;

#[async_trait]
impl Backend for PostgresBackend {
    fn names(&self) -> &'static [&'static str] {
        &["postgres", "postgresql"]
    }

    fn dialect(&self, _name: &str) -> Arc<dyn Dialect> {
        Arc::new(PostgresDialect)
    }

    async fn connect(&self, url: &str) -> Result<Box<dyn Driver>, DriverError> {
        Ok(Box::new(PostgresDriver::connect(url).await?))
    }

    /// As `connect`, but a URL's `?schema=` that does not exist is an error, not
    /// created: reading a missing tenant must not look like reading an empty one.
    async fn connect_existing(&self, url: &str) -> Result<Box<dyn Driver>, DriverError> {
        Ok(Box::new(PostgresDriver::connect_existing(url).await?))
    }

    async fn create_database(&self, url: &str) -> Result<DatabaseCreation, DriverError> {
        PostgresDriver::create_database(url).await
    }

    async fn rehearsal_copy(
        &self,
        url: &str,
        sample: Option<Sample<'_>>,
    ) -> Result<RehearsalCopy, DriverError> {
        PostgresDriver::rehearsal_copy(url, sample).await
    }

    async fn drop_rehearsal_copy(
        &self,
        url: &str,
        copy: &RehearsalCopy,
    ) -> Result<(), DriverError> {
        PostgresDriver::drop_rehearsal_copy(url, copy).await
    }
}

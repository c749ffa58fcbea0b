//! The registry entry: both flavours under their own names.

use std::sync::Arc;

use async_trait::async_trait;
use strata_engine::dialect::driver::{Driver, DriverError};
use strata_engine::dialect::registry::DatabaseCreation;
use strata_engine::dialect::rehearsal::{RehearsalCopy, Sample};
use strata_engine::dialect::Backend;
use strata_engine::Dialect;

use crate::{MysqlDialect, MysqlDriver};

/// `mysql:` and `mariadb:` URLs, and the `mysql`/`mariadb` offline dialects.
///
/// Online, the flavour comes from the server, not from the scheme: a `mysql://` URL
/// that reaches MariaDB renders MariaDB's SQL.
#[derive(Debug, Clone, Copy, Default)]
pub struct MysqlBackend;

#[async_trait]
impl Backend for MysqlBackend {
    fn names(&self) -> &'static [&'static str] {
        &["mysql", "mariadb"]
    }

    fn dialect(&self, name: &str) -> Arc<dyn Dialect> {
        if name.eq_ignore_ascii_case("mariadb") {
            Arc::new(MysqlDialect::mariadb())
        } else {
            Arc::new(MysqlDialect::mysql())
        }
    }

    async fn connect(&self, url: &str) -> Result<Box<dyn Driver>, DriverError> {
        Ok(Box::new(MysqlDriver::connect(url).await?))
    }

    async fn create_database(&self, url: &str) -> Result<DatabaseCreation, DriverError> {
        MysqlDriver::create_database(url).await
    }

    async fn rehearsal_copy(
        &self,
        url: &str,
        sample: Option<Sample<'_>>,
    ) -> Result<RehearsalCopy, DriverError> {
        MysqlDriver::rehearsal_copy(url, sample).await
    }

    async fn drop_rehearsal_copy(
        &self,
        url: &str,
        copy: &RehearsalCopy,
    ) -> Result<(), DriverError> {
        MysqlDriver::drop_rehearsal_copy(url, copy).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_name_gives_its_flavour() {
        let backend = MysqlBackend;
        assert_eq!(backend.names(), ["mysql", "mariadb"]);
        assert_eq!(backend.dialect("mysql").name(), "mysql");
        assert_eq!(backend.dialect("mariadb").name(), "mariadb");
        assert_eq!(backend.dialect("MariaDB").name(), "mariadb");
    }
}

//! `SqliteBackend`: the registry entry for the `sqlite` scheme.

use std::fs::OpenOptions;
use std::io::ErrorKind;
use std::sync::Arc;

use async_trait::async_trait;
use strata_engine::dialect::driver::{redact_url, Driver, DriverError};
use strata_engine::dialect::registry::DatabaseCreation;
use strata_engine::dialect::rehearsal::{RehearsalCopy, Sample};
use strata_engine::dialect::Backend;
use strata_engine::Dialect;

use crate::driver::rehearsal;
use crate::driver::url::{self, Location};
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

    async fn create_database(&self, url: &str) -> Result<DatabaseCreation, DriverError> {
        create_file(url)
    }

    async fn rehearsal_copy(
        &self,
        url: &str,
        _sample: Option<Sample<'_>>,
    ) -> Result<RehearsalCopy, DriverError> {
        rehearsal::copy(url)
    }

    async fn drop_rehearsal_copy(
        &self,
        _url: &str,
        copy: &RehearsalCopy,
    ) -> Result<(), DriverError> {
        rehearsal::drop_copy(copy)
    }
}

/// Creates the database file a `sqlite:` URL names, empty (SQLite reads an empty file
/// as an empty database), in a folder that must exist: a missing folder is more often
/// a wrong path than a wish, and is named rather than made.
fn create_file(url: &str) -> Result<DatabaseCreation, DriverError> {
    let path = match url::parse(url)? {
        Location::Memory => {
            return Err(DriverError::Url {
                url: redact_url(url),
                reason: "an in-memory database lives only as long as its connection; there \
                         is nothing to create"
                    .to_string(),
            })
        }
        Location::File(path) => path,
    };
    let shown = redact_url(&path.display().to_string());
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(folder) = folder.filter(|f| !f.is_dir()) {
        return Err(DriverError::connect(
            &shown,
            format!(
                "the folder {} does not exist; create it first (strata creates the database \
                 file, not its folders)",
                redact_url(&folder.display().to_string())
            ),
        ));
    }
    // `create_new`: of two processes creating the file at once, exactly one does.
    let created = match OpenOptions::new().write(true).create_new(true).open(&path) {
        Ok(_) => true,
        Err(e) if e.kind() == ErrorKind::AlreadyExists && path.is_file() => false,
        Err(e) => {
            return Err(DriverError::connect(&shown, e.to_string()).with_source(e));
        }
    };
    Ok(DatabaseCreation {
        database: shown,
        created,
        schema: None,
    })
}

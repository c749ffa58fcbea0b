//! The same [`Migrator`](crate::Migrator), for applications without an async
//! runtime: each call runs on a private current-thread runtime that lives for the
//! call (the connection is opened and closed inside it, so nothing outlives it).
//! Do not call these from inside a tokio runtime; use the async methods there.
//!
//! ```no_run
//! static MIGRATIONS: strata::Embedded = strata::embed_migrations!("../testdata/tracker");
//!
//! fn main() -> Result<(), strata::Error> {
//!     let migrator = strata::blocking::Migrator::from_embedded(&MIGRATIONS)?;
//!     let report = migrator.run("sqlite://app.sqlite3")?;
//!     println!("{} migrations applied", report.steps.len());
//!     Ok(())
//! }
//! ```

use std::future::Future;
use std::path::Path;

use crate::{Embedded, Error, PlanStep, Report, Status, Target};

/// A [`crate::Migrator`] with blocking methods.
#[derive(Debug)]
pub struct Migrator {
    inner: crate::Migrator,
}

impl From<crate::Migrator> for Migrator {
    /// The async migrator, as configured, behind blocking methods.
    fn from(inner: crate::Migrator) -> Self {
        Self { inner }
    }
}

impl Migrator {
    /// [`crate::Migrator::from_project`].
    pub fn from_project(root: impl AsRef<Path>) -> Result<Self, Error> {
        crate::Migrator::from_project(root).map(Self::from)
    }

    /// [`crate::Migrator::from_embedded`].
    pub fn from_embedded(embedded: &Embedded) -> Result<Self, Error> {
        crate::Migrator::from_embedded(embedded).map(Self::from)
    }

    /// The async migrator inside, for its settings and targets.
    pub fn inner(&self) -> &crate::Migrator {
        &self.inner
    }

    /// [`crate::Migrator::run`], blocking.
    pub fn run(&self, url: &str) -> Result<Report, Error> {
        block_on(self.inner.run(url))
    }

    /// [`crate::Migrator::migrate_to`], blocking.
    pub fn migrate_to(&self, url: &str, targets: &[Target]) -> Result<Report, Error> {
        block_on(self.inner.migrate_to(url, targets))
    }

    /// [`crate::Migrator::status`], blocking.
    pub fn status(&self, url: &str) -> Result<Status, Error> {
        block_on(self.inner.status(url))
    }

    /// [`crate::Migrator::plan`], blocking.
    pub fn plan(&self, url: &str, targets: &[Target]) -> Result<Vec<PlanStep>, Error> {
        block_on(self.inner.plan(url, targets))
    }
}

fn block_on<T>(future: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?
        .block_on(future)
}

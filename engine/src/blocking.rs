//! A blocking front for applications without an async runtime. It owns a private
//! current-thread runtime for the life of the connection (drivers such as
//! PostgreSQL's run their connection as a task on it).
//!
//! ```no_run
//! # fn demo(registry: &strata_engine::dialect::Registry, graph: &strata_engine::graph::Graph) -> Result<(), Box<dyn std::error::Error>> {
//! use strata_engine::blocking::Database;
//! use strata_engine::executor::Options;
//! let mut db = Database::connect(registry, "sqlite://app.sqlite3")?;
//! let options = Options::new("strata_migrations", std::time::Duration::from_secs(60));
//! db.migrate(graph, &graph.latest_targets(), &options)?;
//! db.close()?;
//! # Ok(()) }
//! ```

use crate::dialect::driver::{Driver, DriverError};
use crate::dialect::{Registry, RegistryError};
use crate::executor::{self, ExecError, Options, PlannedStep, Quiet, Status};
use crate::graph::{Graph, Target};
use crate::state::SchemaState;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Driver(#[from] DriverError),
    #[error("cannot start a runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// A connection with blocking methods.
pub struct Database {
    runtime: tokio::runtime::Runtime,
    driver: Box<dyn Driver>,
}

impl Database {
    /// Connects to `url` with the backend its scheme names.
    pub fn connect(registry: &Registry, url: &str) -> Result<Self, ConnectError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (backend, _) = registry.for_url(url)?;
        let driver = runtime.block_on(backend.connect(url))?;
        Ok(Self { runtime, driver })
    }

    /// `executor::migrate`, blocking.
    pub fn migrate(
        &mut self,
        graph: &Graph,
        targets: &[Target],
        options: &Options,
    ) -> Result<Vec<PlannedStep>, ExecError> {
        self.runtime.block_on(executor::migrate(
            graph,
            self.driver.as_mut(),
            targets,
            options,
            &mut Quiet,
        ))
    }

    /// What the history table says is applied.
    pub fn status(&mut self, options: &Options) -> Result<Status, ExecError> {
        self.runtime
            .block_on(executor::status(self.driver.as_mut(), options))
    }

    /// The live schema.
    pub fn introspect(&mut self) -> Result<SchemaState, DriverError> {
        self.runtime.block_on(self.driver.introspect())
    }

    /// The async driver, for anything else.
    pub fn driver(&mut self) -> &mut dyn Driver {
        self.driver.as_mut()
    }

    pub fn close(self) -> Result<(), DriverError> {
        let Self { runtime, driver } = self;
        runtime.block_on(driver.close())
    }
}

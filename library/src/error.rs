//! The one error type of the library: the engine's errors, with their context.

use std::path::PathBuf;

use strata_engine::dialect::driver::DriverError;
use strata_engine::dialect::RegistryError;
use strata_engine::executor::ExecError;
use strata_engine::graph::GraphError;
use strata_engine::migration::FileError;
use strata_engine::project::ProjectError;

use crate::Report;

/// Why a [`Migrator`](crate::Migrator) could not load its migrations or run them.
/// Every message names what it is about: the file and line, the migration and
/// operation, the URL (without its password).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `strata.toml` or a migration file could not be read or understood.
    #[error(transparent)]
    Project(#[from] ProjectError),
    /// An embedded migration file does not parse.
    #[error(transparent)]
    File(#[from] FileError),
    /// An embedded text differs from the one the binary was built with.
    #[error("{path}: the embedded text has checksum {found}, not {expected} as computed when the binary was built; embed it with strata::embed_migrations!")]
    EmbeddedChecksum {
        /// The file, as the project names it.
        path: PathBuf,
        /// The checksum compiled in.
        expected: String,
        /// The checksum of the embedded text.
        found: String,
    },
    /// The migrations do not form a valid graph, or a target names no migration.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// No backend of this build takes the URL's scheme.
    #[error(transparent)]
    Backend(#[from] RegistryError),
    /// Connecting or talking to the database failed.
    #[error(transparent)]
    Driver(#[from] DriverError),
    /// The run stopped: the lock, an edited applied migration
    /// ([`ExecError::Edited`], refused as the CLI refuses it), a failed statement…
    /// `report` holds the steps that completed before it (each committed).
    #[error("{source}")]
    Migrate {
        /// What the executor reported.
        source: ExecError,
        /// The steps that completed before the failure.
        report: Report,
    },
    /// Reading the history or planning failed (`status`, `plan`).
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// The blocking API could not start its runtime.
    #[error("cannot start a runtime for strata's blocking API: {0}")]
    Runtime(#[source] std::io::Error),
}

impl Error {
    /// The executor's error, from a run or a read of the history.
    pub fn exec(&self) -> Option<&ExecError> {
        match self {
            Error::Migrate { source, .. } | Error::Exec(source) => Some(source),
            _ => None,
        }
    }

    /// Whether this is the refusal of an applied migration whose file changed since.
    pub fn is_edited_migration(&self) -> bool {
        matches!(self.exec(), Some(ExecError::Edited { .. }))
    }
}

//! Migrations compiled into the binary by [`embed_migrations!`](crate::embed_migrations),
//! and how they become a graph at run time.

use std::path::Path;

use strata_engine::graph::Graph;
use strata_engine::migration::{checksum, Migration};

use crate::Error;

/// A project's migrations as [`embed_migrations!`](crate::embed_migrations) compiled
/// them in: what [`Migrator::from_embedded`](crate::Migrator::from_embedded) reads.
///
/// The fields are public so that a value can also be written by hand (a test, a
/// generator); the macro is the usual way.
#[derive(Debug, Clone, Copy)]
pub struct Embedded {
    /// The project's apps, in `strata.toml` order.
    pub apps: &'static [&'static str],
    /// Every migration file of every app.
    pub migrations: &'static [EmbeddedMigration],
}

/// One migration file, as it was when the binary was built.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedMigration {
    /// Its app.
    pub app: &'static str,
    /// Its path in the project (`apps/shop/migrations/0001_initial.toml`): the
    /// migration's name is the file's stem, and messages name this path.
    pub path: &'static str,
    /// The file's text.
    pub text: &'static str,
    /// The checksum of `text` computed at compile time
    /// (`strata_engine::migration::checksum`).
    pub checksum: &'static str,
}

impl Embedded {
    /// Parses every migration (each text must still have its compiled-in checksum)
    /// and validates the graph they form.
    pub(crate) fn graph(&self) -> Result<Graph, Error> {
        let mut migrations = Vec::with_capacity(self.migrations.len());
        for embedded in self.migrations {
            migrations.push(embedded.parse()?);
        }
        let apps = self.apps.iter().map(ToString::to_string).collect();
        Ok(Graph::new(apps, migrations)?)
    }
}

impl EmbeddedMigration {
    fn parse(&self) -> Result<Migration, Error> {
        let found = checksum(self.text);
        if found != self.checksum {
            return Err(Error::EmbeddedChecksum {
                path: self.path.into(),
                expected: self.checksum.into(),
                found,
            });
        }
        Ok(Migration::parse(self.app, Path::new(self.path), self.text)?)
    }
}

//! `introspect()`: the live schema of the connected database, in neutral terms.
//!
//! `catalog` reads `information_schema`, `assemble` turns its rows into a
//! `SchemaState` with the help of `types` (column types), `defaults` (column
//! defaults, shown differently by each flavour) and `literal` (quoted strings).
//!
//! Whatever strata cannot express — a type with no neutral equivalent (`enum`,
//! `decimal … unsigned`, `mediumtext`, …), an expression default other than the neutral
//! `now`/`uuid`, a generated or `ON UPDATE` column, a prefix, expression, descending
//! or full-text index, a foreign key into another database — makes introspection
//! fail with `DriverError::Unsupported` naming the table and object: reading it as
//! the nearest neutral thing would let a drift check pass over a real difference.

mod assemble;
mod catalog;
mod defaults;
mod literal;
mod types;

use strata_engine::dialect::driver::{Driver, DriverError};
use strata_engine::{SchemaState, ServerVersion};

use crate::flavour::Flavour;

/// A part of the live schema that has no neutral equivalent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum Inexpressible {
    #[error("column `{table}`.`{column}`: {reason}")]
    Column {
        table: String,
        column: String,
        reason: String,
    },
    #[error("index `{index}` on table `{table}`: {reason}")]
    Index {
        table: String,
        index: String,
        reason: String,
    },
    #[error("foreign key `{name}` on table `{table}`: {reason}")]
    ForeignKey {
        table: String,
        name: String,
        reason: String,
    },
}

/// Reads the schema of the database `driver` is connected to.
pub(super) async fn introspect(
    driver: &mut dyn Driver,
    flavour: Flavour,
    version: ServerVersion,
) -> Result<SchemaState, DriverError> {
    let catalog = catalog::read(driver, flavour).await?;
    assemble::schema(flavour, version, &catalog).map_err(|e| DriverError::Unsupported {
        driver: flavour.name().to_string(),
        what: format!("introspecting this schema, which strata cannot express: {e}"),
    })
}

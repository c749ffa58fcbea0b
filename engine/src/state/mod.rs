//! `SchemaState`: the tables as the migrations leave them, in memory.
//!
//! `apply` is the pure state effect of an operation (Django's `state_forwards`);
//! `inverse` derives the operation that undoes it from the state before it. SQL
//! lives elsewhere, in the dialects.

mod apply;
mod database;
mod inverse;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::ast::TableDef;

pub use apply::{default_fits, is_unique_key, mentions};
pub use database::{operation_in_database, table_in_database};
pub use inverse::InverseError;

/// Every table of the schema, by name.
///
/// Each table sits behind an `Arc`, so a copy of the state shares its tables and
/// costs a map of pointers: rendering and linting take one per migration, and a
/// change copies only the table it changes (`Arc::make_mut`, see
/// [`SchemaState::table_mut`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SchemaState {
    pub tables: BTreeMap<String, Arc<TableDef>>,
}

/// An operation that does not fit the state it is applied to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    #[error("table `{table}` does not exist")]
    NoSuchTable { table: String },
    #[error("table `{table}` already exists")]
    TableExists { table: String },
    #[error("column `{table}.{column}` does not exist")]
    NoSuchColumn { table: String, column: String },
    #[error("column `{table}.{column}` already exists")]
    ColumnExists { table: String, column: String },
    #[error("`{name}` does not exist on table `{table}` (looking for {what})")]
    NoSuchObject {
        table: String,
        name: String,
        what: &'static str,
    },
    #[error("the name `{name}` is already used by an index or constraint on table `{table}`")]
    NameTaken { table: String, name: String },
    #[error("`{object}` still uses {what}; drop or change it first")]
    InUse { what: String, object: String },
    /// A check or index `where` that is not one expression over the table's columns
    /// as they are at that point.
    #[error("{what} on table `{table}`: {message}")]
    Expression {
        table: String,
        what: String,
        message: String,
    },
    #[error("{0}")]
    Invalid(String),
}

impl SchemaState {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn table(&self, name: &str) -> Result<&TableDef, StateError> {
        self.tables
            .get(name)
            .map(|t| &**t)
            .ok_or_else(|| StateError::NoSuchTable {
                table: name.to_string(),
            })
    }

    /// Table `name`, to change: copied first when another state shares it.
    pub fn table_mut(&mut self, name: &str) -> Result<&mut TableDef, StateError> {
        self.tables
            .get_mut(name)
            .map(Arc::make_mut)
            .ok_or_else(|| StateError::NoSuchTable {
                table: name.to_string(),
            })
    }

    /// The table that owns index or constraint `name`; names are unique schema-wide
    /// (PostgreSQL and SQLite index names, MySQL constraint names all demand it).
    pub fn owner_of(&self, name: &str) -> Option<&TableDef> {
        self.tables
            .values()
            .map(|t| &**t)
            .find(|t| t.object_names().any(|n| n == name))
    }
}

impl SchemaState {
    /// The state with every table's columns, indexes and constraints sorted by name.
    ///
    /// Two schemas that differ only in the order of those are the same schema to a
    /// database (a column dropped and added back lands last), so comparisons of
    /// states — rollback checks, introspection — compare canonical forms.
    pub fn canonical(&self) -> SchemaState {
        let mut state = self.clone();
        for t in state.tables.values_mut().map(Arc::make_mut) {
            t.columns.sort_by(|a, b| a.name.cmp(&b.name));
            t.indexes.sort_by(|a, b| a.name.cmp(&b.name));
            t.uniques.sort_by(|a, b| a.name.cmp(&b.name));
            t.checks.sort_by(|a, b| a.name.cmp(&b.name));
            t.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
        }
        state
    }
}

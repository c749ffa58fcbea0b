//! The history table (`strata_migrations`): which migrations are applied, with their
//! checksums and, for a migration that stopped half-way, how far it got.
//!
//! The table is described as a neutral `TableDef` and created through the dialect,
//! and its rows are read and written with plain SQL, so no driver needs history code.

use std::collections::BTreeMap;

use crate::ast::{ColumnDef, DefaultExpr, DefaultValue, Operation, TableDef, UniqueDef};
use crate::dialect::driver::{Driver, DriverError, Row};
use crate::dialect::{Dialect, RenderContext, Statement};
use crate::migration::MigrationKey;
use crate::state::SchemaState;
use crate::types::ColumnType;

/// The newest row format this strata reads and writes; rows with a larger number come
/// from a newer strata, whose meaning this one cannot know.
///
/// - 1: `state` is `applied` or `partial`.
/// - 2: `state` may also be `partial:<n>`: stopped after `operations_done` operations
///   and `n` statements of the next one (a `run_sql` runs statement by statement).
///   Only such rows are written as format 2, so an older strata reads every other row
///   and refuses, rather than misreads, a run stopped inside a `run_sql`.
pub const FORMAT: u32 = 2;

/// The format of rows that need nothing newer.
const FORMAT_PLAIN: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowState {
    Applied,
    /// Stopped after `operations_done` operations (non-atomic execution only).
    Partial,
}

impl RowState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Partial => "partial",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    pub key: MigrationKey,
    pub checksum: String,
    pub state: RowState,
    pub operations_done: usize,
    /// Statements of the next operation done as well (a partial `run_sql`); 0 when
    /// the migration stopped between operations.
    pub statements_done: usize,
    pub applied_at: Option<String>,
}

#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    #[error(transparent)]
    Driver(#[from] DriverError),
    #[error(
        "history table `{table}` was written by a newer strata (row format {found}, this strata knows {FORMAT}); upgrade strata"
    )]
    NewerFormat { table: String, found: u32 },
    #[error("history table `{table}` holds an unreadable row: {row}")]
    Corrupt { table: String, row: String },
}

/// The history table of one database.
#[derive(Debug, Clone)]
pub struct History {
    pub table: String,
}

impl History {
    pub fn new(table: impl Into<String>) -> Self {
        Self {
            table: table.into(),
        }
    }

    /// The table, in neutral terms.
    pub fn table_def(&self) -> TableDef {
        let column = |name: &str, ty: ColumnType| ColumnDef {
            name: name.into(),
            ty,
            null: false,
            default: None,
            auto: false,
        };
        TableDef {
            name: self.table.clone(),
            columns: vec![
                ColumnDef {
                    auto: true,
                    ..column("id", ColumnType::BigInt)
                },
                column("app", ColumnType::Varchar(255)),
                column("name", ColumnType::Varchar(255)),
                column("checksum", ColumnType::Char(64)),
                ColumnDef {
                    default: Some(DefaultValue::Expr {
                        expr: DefaultExpr::Now,
                    }),
                    ..column("applied_at", ColumnType::TimestampTz)
                },
                column("duration_ms", ColumnType::BigInt),
                column("state", ColumnType::Varchar(16)),
                column("operations_done", ColumnType::Int),
                column("format", ColumnType::Int),
            ],
            primary_key: vec!["id".into()],
            uniques: vec![UniqueDef {
                name: format!("{}_app_name_uniq", self.table),
                columns: vec!["app".into(), "name".into()],
            }],
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
        }
    }

    /// Creates the table if it does not exist. Call under the migration lock.
    pub async fn ensure(&self, driver: &mut dyn Driver) -> Result<(), HistoryError> {
        if driver.table_names().await?.contains(&self.table) {
            return Ok(());
        }
        let dialect = driver.dialect();
        let version = driver.version();
        let capabilities = dialect.capabilities(version);
        let state = SchemaState::new();
        let ctx = RenderContext {
            state: &state,
            version,
            capabilities: &capabilities,
            in_transaction: false,
        };
        let statements = dialect
            .render(&Operation::CreateTable(self.table_def()), &ctx)
            .map_err(|e| {
                DriverError::statement(format!("CREATE TABLE {}", self.table), e.to_string())
            })?;
        for statement in statements {
            driver.execute(&statement.sql).await?;
        }
        Ok(())
    }

    /// Every row, by migration.
    pub async fn read(
        &self,
        driver: &mut dyn Driver,
    ) -> Result<BTreeMap<MigrationKey, HistoryRow>, HistoryError> {
        let dialect = driver.dialect();
        let sql = format!(
            "SELECT app, name, checksum, state, operations_done, format, applied_at FROM {}",
            dialect.quote_ident(&self.table)
        );
        let mut rows = BTreeMap::new();
        for row in driver.query(&sql).await? {
            let parsed = self.parse_row(&row)?;
            rows.insert(parsed.key.clone(), parsed);
        }
        Ok(rows)
    }

    fn parse_row(&self, row: &Row) -> Result<HistoryRow, HistoryError> {
        let corrupt = || HistoryError::Corrupt {
            table: self.table.clone(),
            row: format!("{row:?}"),
        };
        let text = |i: usize| row.get(i).and_then(Clone::clone).ok_or_else(corrupt);
        let number =
            |i: usize| text(i).and_then(|t| t.trim().parse::<u64>().map_err(|_| corrupt()));
        let format = u32::try_from(number(5)?).map_err(|_| corrupt())?;
        if format > FORMAT {
            return Err(HistoryError::NewerFormat {
                table: self.table.clone(),
                found: format,
            });
        }
        let state_text = text(3)?;
        let (state, statements_done) = match state_text.split_once(':') {
            None if state_text == "applied" => (RowState::Applied, 0),
            None if state_text == "partial" => (RowState::Partial, 0),
            Some(("partial", n)) if format >= 2 => {
                (RowState::Partial, n.parse().map_err(|_| corrupt())?)
            }
            _ => return Err(corrupt()),
        };
        Ok(HistoryRow {
            key: MigrationKey::new(text(0)?, text(1)?),
            checksum: text(2)?,
            state,
            operations_done: usize::try_from(number(4)?).map_err(|_| corrupt())?,
            statements_done,
            applied_at: row.get(6).cloned().flatten(),
        })
    }

    /// Records `key` as `state` after `operations_done` operations.
    pub fn insert(
        &self,
        dialect: &dyn Dialect,
        key: &MigrationKey,
        checksum: &str,
        state: RowState,
        operations_done: usize,
        duration_ms: u128,
    ) -> Statement {
        Statement::new(format!(
            "INSERT INTO {} ({}, {}, {}, {}, {}, {}, {}) VALUES ({}, {}, {}, {}, {duration_ms}, {operations_done}, {FORMAT_PLAIN})",
            dialect.quote_ident(&self.table),
            dialect.quote_ident("app"),
            dialect.quote_ident("name"),
            dialect.quote_ident("checksum"),
            dialect.quote_ident("state"),
            dialect.quote_ident("duration_ms"),
            dialect.quote_ident("operations_done"),
            dialect.quote_ident("format"),
            dialect.quote_string(&key.app),
            dialect.quote_string(&key.name),
            dialect.quote_string(checksum),
            dialect.quote_string(state.as_str()),
        ))
    }

    /// Moves `key`'s row to `state` after `operations_done` operations and, for a
    /// partial one, `statements_done` statements of the next (format 2 when not 0).
    pub fn update(
        &self,
        dialect: &dyn Dialect,
        key: &MigrationKey,
        state: RowState,
        operations_done: usize,
        statements_done: usize,
        duration_ms: Option<u128>,
    ) -> Statement {
        let duration = duration_ms
            .map(|d| format!(", {} = {d}", dialect.quote_ident("duration_ms")))
            .unwrap_or_default();
        let (state, format) = match state {
            RowState::Partial if statements_done > 0 => {
                (format!("partial:{statements_done}"), FORMAT)
            }
            _ => (state.as_str().to_string(), FORMAT_PLAIN),
        };
        Statement::new(format!(
            "UPDATE {} SET {} = {}, {} = {operations_done}, {} = {format}{duration} WHERE {}",
            dialect.quote_ident(&self.table),
            dialect.quote_ident("state"),
            dialect.quote_string(&state),
            dialect.quote_ident("operations_done"),
            dialect.quote_ident("format"),
            Self::row_filter(dialect, key)
        ))
    }

    /// Stores a new checksum for `key` (a deliberate edit the user accepted).
    pub fn update_checksum(
        &self,
        dialect: &dyn Dialect,
        key: &MigrationKey,
        checksum: &str,
    ) -> Statement {
        Statement::new(format!(
            "UPDATE {} SET {} = {} WHERE {}",
            dialect.quote_ident(&self.table),
            dialect.quote_ident("checksum"),
            dialect.quote_string(checksum),
            Self::row_filter(dialect, key)
        ))
    }

    pub fn delete(&self, dialect: &dyn Dialect, key: &MigrationKey) -> Statement {
        Statement::new(format!(
            "DELETE FROM {} WHERE {}",
            dialect.quote_ident(&self.table),
            Self::row_filter(dialect, key)
        ))
    }

    fn row_filter(dialect: &dyn Dialect, key: &MigrationKey) -> String {
        format!(
            "{} = {} AND {} = {}",
            dialect.quote_ident("app"),
            dialect.quote_string(&key.app),
            dialect.quote_ident("name"),
            dialect.quote_string(&key.name)
        )
    }
}

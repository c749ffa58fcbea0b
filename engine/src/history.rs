//! The history table (`strata_migrations`): which migrations are applied, with their
//! checksums and, for a migration that stopped half-way, how far it got.
//!
//! The table is described as a neutral `TableDef` and created through the dialect,
//! and its rows are read and written with plain SQL, so no driver needs history code.
//! Reading never trusts a row: one that cannot be understood, or a migration with
//! several rows, is kept aside ([`Damage`]) for [`consistency`] to report.

pub mod consistency;
pub mod edits;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::ast::{ColumnDef, DefaultExpr, DefaultValue, Operation, TableDef, UniqueDef};
use crate::dialect::driver::{Driver, DriverError, Row};
use crate::dialect::{Dialect, RenderContext, Statement};
use crate::migration::MigrationKey;
use crate::state::SchemaState;
use crate::types::ColumnType;

pub use consistency::{BadColumn, CorruptRow, Damage, Problem};
pub use edits::Edit;

/// The newest row format this strata reads and writes; rows with a larger number come
/// from a newer strata, whose meaning this one cannot know.
///
/// - 1: `state` is `applied` or `partial`.
/// - 2: `state` may also be `partial:<n>`: stopped after `operations_done` operations
///   and `n` statements of the next one (a `run_sql` runs statement by statement).
///   Only such rows are written as format 2, so an older strata reads every other row
///   and refuses, rather than misreads, a run stopped inside a `run_sql`.
/// - 3: a `partial` row's `checksum` is not the file's but that of the operations it
///   applied ([`crate::migration::applied_part_checksum`]), so the operations not yet
///   run may be edited before resuming. Every partial row is written as format 3: an
///   older strata would take the file for edited.
/// - 4: a `partial` row may carry a `backfill_cursor` ([`BackfillCursor`]): its
///   migration stopped inside the `backfill` that is operation `operations_done + 1`,
///   whose batches up to that key are committed. Only such rows are written as format
///   4, so an older strata refuses them rather than running the backfill again from
///   its first row.
pub const FORMAT: u32 = 4;

/// The format of a partial row that carries a backfill cursor.
const FORMAT_CURSOR: u32 = 4;

/// The column holding a [`BackfillCursor`]; added by [`History::ensure`] to a table an
/// older strata created.
pub const CURSOR_COLUMN: &str = "backfill_cursor";

/// How far a `backfill` got: the last key of its last committed batch, as the server
/// wrote it, and the rows walked so far (every run counted). Stored as JSON in
/// [`CURSOR_COLUMN`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BackfillCursor {
    pub key: String,
    pub rows: u64,
}

impl BackfillCursor {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

/// The format of rows that need nothing newer: every applied row.
const FORMAT_PLAIN: u32 = 1;

/// The format a row in `state` is written with: a partial row's checksum is its
/// applied part's, which only format 3 says.
fn format_of(state: RowState) -> u32 {
    match state {
        RowState::Applied => FORMAT_PLAIN,
        RowState::Partial => FORMAT,
    }
}

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
    /// The row's format (see [`FORMAT`]): from 3, a partial row's `checksum` covers
    /// only its applied operations.
    pub format: u32,
    /// A partial row stopped inside a `backfill` (operation `operations_done + 1`):
    /// how far it got.
    pub cursor: Option<BackfillCursor>,
}

impl HistoryRow {
    /// The operations of the migration that ran, whole or in part: a `run_sql`
    /// stopped part-way counts, since its statements that ran must not change.
    pub fn operations_covered(&self) -> usize {
        self.operations_done + usize::from(self.statements_done > 0 || self.cursor.is_some())
    }
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
    /// A plan runs a backfill, and the column that records its progress could not be
    /// added to a table an older strata created (the user may not alter it).
    #[error(
        "history table `{table}` needs the column `{CURSOR_COLUMN}` (where a backfill got; new in row format 4) to run a backfill, and it could not be added: {source}. Run this once as a user that may alter the table, or add the column (text, NULL allowed) yourself"
    )]
    CursorColumn { table: String, source: DriverError },
    /// The rows contradict themselves or the project (see [`consistency`]).
    #[error("{}", consistency::describe(.table, .problems))]
    Inconsistent {
        table: String,
        problems: Vec<Problem>,
    },
}

/// How far a migration got, as its history row records it.
struct Progressed<'a> {
    state: &'a str,
    operations_done: usize,
    checksum: &'a str,
    format: u32,
    cursor: Option<&'a BackfillCursor>,
}

/// The history table of one database.
#[derive(Debug, Clone)]
pub struct History {
    pub table: String,
    /// Whether the table has [`CURSOR_COLUMN`]: false once [`History::ensure_for`]
    /// found a table an older strata created and left it as it was (no backfill to
    /// run), so the rows are written without it.
    cursor_column: Arc<AtomicBool>,
}

impl History {
    pub fn new(table: impl Into<String>) -> Self {
        Self {
            table: table.into(),
            cursor_column: Arc::new(AtomicBool::new(true)),
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
            ..Default::default()
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
                Self::cursor_column(),
            ],
            primary_key: vec!["id".into()],
            uniques: vec![UniqueDef {
                name: format!("{}_app_name_uniq", self.table),
                columns: vec!["app".into(), "name".into()],
            }],
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
            ..Default::default()
        }
    }

    fn cursor_column() -> ColumnDef {
        ColumnDef {
            name: CURSOR_COLUMN.into(),
            ty: ColumnType::Text,
            null: true,
            default: None,
            auto: false,
            ..Default::default()
        }
    }

    /// Whether the table has the cursor column (a table an older strata created does
    /// not, until [`History::ensure`] adds it). Asked of the server, outside any
    /// transaction: a failed probe changes nothing.
    async fn has_cursor(&self, driver: &mut dyn Driver) -> bool {
        let dialect = driver.dialect();
        // Qualified: SQLite reads an unknown unqualified "name" as a string.
        let table = dialect.quote_ident(&self.table);
        let probe = format!(
            "SELECT {table}.{} FROM {table} WHERE 1 = 0",
            dialect.quote_ident(CURSOR_COLUMN),
        );
        driver.query(&probe).await.is_ok()
    }

    /// Creates the table if it does not exist, or adds the columns a newer strata
    /// needs to one an older strata created. Call under the migration lock.
    pub async fn ensure(&self, driver: &mut dyn Driver) -> Result<(), HistoryError> {
        self.ensure_for(driver, true).await
    }

    /// [`History::ensure`], adding [`CURSOR_COLUMN`] to a table an older strata
    /// created only when `backfills` (the plan runs one): a database user that may
    /// write the history table but not alter it keeps running every other migration.
    pub async fn ensure_for(
        &self,
        driver: &mut dyn Driver,
        backfills: bool,
    ) -> Result<(), HistoryError> {
        if driver.table_names().await?.contains(&self.table) {
            let has_cursor = self.has_cursor(driver).await;
            self.cursor_column
                .store(has_cursor || backfills, Ordering::Relaxed);
            if !has_cursor && backfills {
                self.run_operation(
                    driver,
                    &Operation::AddColumn(crate::ast::AddColumn {
                        table: self.table.clone(),
                        column: Self::cursor_column(),
                    }),
                )
                .await
                .map_err(|e| match e {
                    HistoryError::Driver(source) => HistoryError::CursorColumn {
                        table: self.table.clone(),
                        source,
                    },
                    other => other,
                })?;
            }
            return Ok(());
        }
        self.run_operation(driver, &Operation::CreateTable(self.table_def()))
            .await
    }

    /// Renders `op` on the history table (as it is, to the dialect: the state holds it
    /// whole) and runs it.
    async fn run_operation(
        &self,
        driver: &mut dyn Driver,
        op: &Operation,
    ) -> Result<(), HistoryError> {
        let dialect = driver.dialect();
        let version = driver.version();
        let capabilities = dialect.capabilities(version);
        let mut state = SchemaState::new();
        if !matches!(op, Operation::CreateTable(_)) {
            let mut old = self.table_def();
            old.columns.retain(|c| c.name != CURSOR_COLUMN);
            state.apply(&Operation::CreateTable(old)).map_err(|e| {
                DriverError::statement(format!("ALTER TABLE {}", self.table), e.to_string())
            })?;
        }
        let ctx = RenderContext {
            state: &state,
            version,
            capabilities: &capabilities,
            in_transaction: false,
            safe: false,
        };
        let statements = dialect
            .render(op, &ctx)
            .map_err(|e| DriverError::statement(format!("{op} ({})", self.table), e.to_string()))?;
        for statement in statements {
            driver.execute(&statement.sql).await?;
        }
        Ok(())
    }

    /// Every readable row, by migration, and what was wrong with the others. Only a
    /// row from a newer strata fails the read: nothing of it can be interpreted.
    pub async fn read(
        &self,
        driver: &mut dyn Driver,
    ) -> Result<(BTreeMap<MigrationKey, HistoryRow>, Damage), HistoryError> {
        let dialect = driver.dialect();
        // A table an older strata created has no cursor column until `ensure` runs.
        let cursor = if self.has_cursor(driver).await {
            dialect.quote_ident(CURSOR_COLUMN)
        } else {
            "NULL".to_string()
        };
        let sql = format!(
            "SELECT app, name, checksum, state, operations_done, format, applied_at, {cursor} FROM {}",
            dialect.quote_ident(&self.table)
        );
        let mut rows = BTreeMap::new();
        let mut damage = Damage::default();
        for row in driver.query(&sql).await? {
            match self.parse_row(&row)? {
                Ok(parsed) => {
                    if rows.contains_key(&parsed.key) {
                        *damage.duplicates.entry(parsed.key.clone()).or_insert(1) += 1;
                    } else {
                        rows.insert(parsed.key.clone(), parsed);
                    }
                }
                Err(corrupt) => damage.corrupt.push(corrupt),
            }
        }
        Ok((rows, damage))
    }

    /// The row, or every column of it that cannot be understood.
    fn parse_row(&self, row: &Row) -> Result<Result<HistoryRow, CorruptRow>, HistoryError> {
        let cell = |i: usize| row.get(i).cloned().flatten();
        let mut bad = Vec::new();
        let format = consistency::format(cell(5).as_deref(), &mut bad);
        if let Some(found) = format.filter(|f| *f > FORMAT) {
            return Err(HistoryError::NewerFormat {
                table: self.table.clone(),
                found,
            });
        }
        let app = consistency::text(cell(0), "app", &mut bad);
        let name = consistency::text(cell(1), "name", &mut bad);
        let checksum = consistency::checksum(cell(2).as_deref(), &mut bad);
        let state = match cell(3).as_deref() {
            Some("applied") => Some((RowState::Applied, 0)),
            Some("partial") => Some((RowState::Partial, 0)),
            found => match found.and_then(|s| s.strip_prefix("partial:")) {
                // Stopped inside a `run_sql`: only format 2 rows say so.
                Some(n) if format.is_some_and(|f| f >= 2) && n.parse::<usize>().is_ok() => {
                    n.parse().ok().map(|n| (RowState::Partial, n))
                }
                _ => {
                    bad.push(BadColumn::new("state", found, "`applied` or `partial`"));
                    None
                }
            },
        };
        let done = consistency::number(cell(4).as_deref(), "operations_done", &mut bad);
        let cursor = match cell(7) {
            None => None,
            // Only a format 4 partial row stopped inside a backfill says how far.
            Some(text) => match BackfillCursor::from_json(&text) {
                Some(cursor)
                    if format.is_some_and(|f| f >= FORMAT_CURSOR)
                        && matches!(state, Some((RowState::Partial, 0))) =>
                {
                    Some(cursor)
                }
                _ => {
                    bad.push(BadColumn::new(
                        CURSOR_COLUMN,
                        Some(&text),
                        "`{\"key\": …, \"rows\": …}` on a partial row of format 4",
                    ));
                    None
                }
            },
        };
        match (app, name, checksum, state, done, format, bad.is_empty()) {
            (
                Some(app),
                Some(name),
                Some(checksum),
                Some((state, statements_done)),
                Some(done),
                Some(format),
                true,
            ) => Ok(Ok(HistoryRow {
                key: MigrationKey::new(app, name),
                checksum,
                state,
                operations_done: done,
                statements_done,
                applied_at: cell(6),
                format,
                cursor,
            })),
            _ => Ok(Err(CorruptRow {
                app: cell(0),
                name: cell(1),
                columns: bad,
            })),
        }
    }

    /// Records `key` as `state` after `operations_done` operations, with `checksum`:
    /// the file's for an applied migration, its applied part's for a partial one.
    pub fn insert(
        &self,
        dialect: &dyn Dialect,
        key: &MigrationKey,
        checksum: &str,
        state: RowState,
        operations_done: usize,
        duration: &Elapsed,
    ) -> Statement {
        Statement::new(format!(
            "INSERT INTO {} ({}, {}, {}, {}, {}, {}, {}) VALUES ({}, {}, {}, {}, {duration}, {operations_done}, {})",
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
            format_of(state),
        ))
    }

    /// Moves `key`'s row to `state` after `operations_done` operations and, for a
    /// partial one, `statements_done` statements of the next, with `checksum` (the
    /// file's once applied, the applied part's while partial: see [`FORMAT`]).
    #[allow(clippy::too_many_arguments)] // one row's columns, each its own value
    pub fn update(
        &self,
        dialect: &dyn Dialect,
        key: &MigrationKey,
        state: RowState,
        operations_done: usize,
        statements_done: usize,
        checksum: &str,
        duration: Option<Elapsed>,
    ) -> Statement {
        let duration = duration
            .map(|d| format!(", {} = {d}", dialect.quote_ident("duration_ms")))
            .unwrap_or_default();
        let format = format_of(state);
        let state = match state {
            RowState::Partial if statements_done > 0 => format!("partial:{statements_done}"),
            _ => state.as_str().to_string(),
        };
        let row = Progressed {
            state: &state,
            operations_done,
            checksum,
            format,
            cursor: None,
        };
        self.set_progress(dialect, key, &row, &duration)
    }

    /// Records `key` partial after `operations_done` operations and inside the
    /// `backfill` after them, at `cursor` (format 4), with `checksum` (covering the
    /// backfill too: its batches ran).
    pub fn update_cursor(
        &self,
        dialect: &dyn Dialect,
        key: &MigrationKey,
        operations_done: usize,
        checksum: &str,
        cursor: &BackfillCursor,
    ) -> Statement {
        let row = Progressed {
            state: RowState::Partial.as_str(),
            operations_done,
            checksum,
            format: FORMAT_CURSOR,
            cursor: Some(cursor),
        };
        self.set_progress(dialect, key, &row, "")
    }

    /// The UPDATE of `key`'s row to `row`, then `extra` (`, column = value` pairs).
    fn set_progress(
        &self,
        dialect: &dyn Dialect,
        key: &MigrationKey,
        row: &Progressed<'_>,
        extra: &str,
    ) -> Statement {
        let cursor = row.cursor.map_or_else(
            || "NULL".to_string(),
            |c| dialect.quote_string(&c.to_json()),
        );
        let cursor = if self.cursor_column.load(Ordering::Relaxed) {
            format!(", {} = {cursor}", dialect.quote_ident(CURSOR_COLUMN))
        } else {
            String::new()
        };
        Statement::new(format!(
            "UPDATE {} SET {} = {}, {} = {}, {} = {}, {} = {}{cursor}{extra} WHERE {}",
            dialect.quote_ident(&self.table),
            dialect.quote_ident("state"),
            dialect.quote_string(row.state),
            dialect.quote_ident("operations_done"),
            row.operations_done,
            dialect.quote_ident("checksum"),
            dialect.quote_string(row.checksum),
            dialect.quote_ident("format"),
            row.format,
            Self::row_filter(dialect, key)
        ))
    }

    /// Stores a new checksum for `key`'s row, in `state` (a deliberate edit the user
    /// accepted): the file's, or for a partial row its applied part's.
    pub fn update_checksum(
        &self,
        dialect: &dyn Dialect,
        key: &MigrationKey,
        state: RowState,
        checksum: &str,
    ) -> Statement {
        Statement::new(format!(
            "UPDATE {} SET {} = {}, {} = {} WHERE {}",
            dialect.quote_ident(&self.table),
            dialect.quote_ident("checksum"),
            dialect.quote_string(checksum),
            dialect.quote_ident("format"),
            format_of(state),
            Self::row_filter(dialect, key)
        ))
    }

    pub fn delete(&self, dialect: &dyn Dialect, key: &MigrationKey) -> Statement {
        self.delete_all(dialect, std::slice::from_ref(key))
    }

    /// Deletes the rows of every key in `keys`, in one statement: a squashed
    /// migration rolled back takes the rows of the migrations it replaces with it.
    pub fn delete_all(&self, dialect: &dyn Dialect, keys: &[MigrationKey]) -> Statement {
        let filters: Vec<String> = keys
            .iter()
            .map(|key| Self::row_filter(dialect, key))
            .collect();
        let filter = if let [one] = filters.as_slice() {
            one.clone()
        } else {
            filters
                .iter()
                .map(|f| format!("({f})"))
                .collect::<Vec<_>>()
                .join(" OR ")
        };
        Statement::new(format!(
            "DELETE FROM {} WHERE {filter}",
            dialect.quote_ident(&self.table),
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

/// How long a step took, as its history row records it (`duration_ms`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Elapsed {
    /// Measured by strata.
    Millis(u128),
    /// Measured by the database, when the row is sent before the statements it times
    /// have run: an SQL expression ([`Dialect::millis_since_begin`]).
    Measured(String),
}

impl std::fmt::Display for Elapsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Millis(ms) => write!(f, "{ms}"),
            Self::Measured(sql) => f.write_str(sql),
        }
    }
}

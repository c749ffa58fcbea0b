//! What a statement does to a live SQLite database (`Dialect::explain`).
//!
//! SQLite locks the whole database, not a table: every statement that writes, DDL
//! included, takes the database's write lock (<https://www.sqlite.org/lockingv3.html>),
//! so writes to every table wait; readers go on in WAL mode
//! (<https://www.sqlite.org/wal.html>), and wait too in the rollback-journal modes
//! while the change commits. A plain `ALTER TABLE` (rename, add or drop a column)
//! only edits the schema; the table rebuild (`rebuild`) copies every row.

use strata_engine::ast::Operation;
use strata_engine::dialect::{Blocks, LockNote, TableWork};
use strata_engine::{Dialect, Statement};

use super::SqliteDialect;

const WRITE_LOCK: &str = "database write lock";
const WHOLE_DATABASE: &str =
    "SQLite locks the whole database: writes to every table wait; readers go on in WAL mode";

/// The lock note of `statement`, one of `op`'s statements.
pub(super) fn explain(d: SqliteDialect, op: &Operation, statement: &Statement) -> LockNote {
    let table = op.table();
    if statement.fails_with_rows.is_some() || matches!(op, Operation::RunSql(_)) {
        return LockNote::conservative(op, statement);
    }
    let sql = statement.sql.as_str();
    if sql.starts_with("PRAGMA") || sql == "BEGIN" || sql == "COMMIT" {
        return LockNote::new(table, "none", Blocks::Nothing, TableWork::Catalog);
    }
    let copy_target =
        table.map(|t| format!("INSERT INTO {} ", d.quote_ident(&format!("new__{t}"))));
    let work = if copy_target.is_some_and(|target| sql.starts_with(&target)) {
        TableWork::Rewrite
    } else if sql.starts_with("CREATE INDEX") || sql.starts_with("CREATE UNIQUE INDEX") {
        TableWork::BuildIndex
    } else {
        TableWork::Catalog
    };
    let note = match work {
        TableWork::Rewrite => format!("table rebuild: copies every row. {WHOLE_DATABASE}"),
        _ => WHOLE_DATABASE.to_string(),
    };
    LockNote::new(table, WRITE_LOCK, Blocks::Writes, work).with_note(note)
}

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
    if statement.fails_with_rows.is_some()
        || matches!(
            op,
            Operation::RunSql(_) | Operation::RunCode(_) | Operation::Backfill(_)
        )
    {
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

#[cfg(test)]
mod tests {
    use strata_engine::ast::Operation;
    use strata_engine::dialect::{Blocks, TableWork};
    use strata_engine::{Dialect, RenderContext, SchemaState};

    use crate::SqliteDialect;

    fn ops(text: &str) -> Vec<Operation> {
        #[derive(serde::Deserialize)]
        struct Ops {
            operations: Vec<Operation>,
        }
        toml::from_str::<Ops>(text).expect("operations").operations
    }

    /// The notes of every statement of the last operation, after the others.
    fn notes(text: &str) -> Vec<(String, strata_engine::dialect::LockNote)> {
        let d = SqliteDialect;
        let mut state = SchemaState::new();
        let mut all = ops(text);
        let op = all.pop().unwrap();
        for earlier in &all {
            state.apply(earlier).unwrap();
        }
        let capabilities = d.capabilities(d.minimum_version());
        let ctx = RenderContext {
            state: &state,
            version: d.minimum_version(),
            capabilities: &capabilities,
            in_transaction: false,
            safe: true,
        };
        d.render(&op, &ctx)
            .unwrap()
            .into_iter()
            .map(|s| (s.sql.clone(), d.explain(&op, &s, &ctx)))
            .collect()
    }

    const TABLE: &str = r#"
        [[operations]]
        kind = "create_table"
        name = "t"
        primary_key = ["id"]
        columns = [{ name = "id", type = "bigint", auto = true }, { name = "a", type = "int", null = true }]
        "#;

    #[test]
    fn a_plain_alter_is_catalog_work_under_the_database_write_lock() {
        let notes = notes(&format!(
            "{TABLE}\n[[operations]]\nkind = \"rename_column\"\ntable = \"t\"\nfrom = \"a\"\nto = \"b\"\n"
        ));
        assert_eq!(notes.len(), 1, "{notes:?}");
        let note = &notes[0].1;
        assert_eq!(note.lock, "database write lock");
        assert_eq!(
            (note.blocks, note.work),
            (Blocks::Writes, TableWork::Catalog)
        );
        assert!(note
            .note
            .as_deref()
            .unwrap()
            .contains("readers go on in WAL mode"));
    }

    #[test]
    fn the_rebuild_copy_rewrites_the_table() {
        let notes = notes(&format!(
            "{TABLE}\n[[operations]]\nkind = \"alter_column\"\ntable = \"t\"\ncolumn = \"a\"\ntype = \"bigint\"\n"
        ));
        let rewrites: Vec<_> = notes
            .iter()
            .filter(|(_, n)| n.work == TableWork::Rewrite)
            .collect();
        assert_eq!(rewrites.len(), 1, "{notes:?}");
        assert!(
            rewrites[0].0.starts_with("INSERT INTO \"new__t\""),
            "{rewrites:?}"
        );
        assert!(rewrites[0].1.blocks_for_long());
        assert!(notes
            .iter()
            .any(|(sql, n)| sql == "BEGIN" && n.blocks == Blocks::Nothing));
    }
}

//! The table rebuild: how SQLite makes every change its `ALTER TABLE` cannot.
//!
//! The procedure is the documented one
//! (<https://www.sqlite.org/lang_altertable.html#otheralter>): create the new table
//! under a temporary name, copy the rows, drop the old table, rename the new one into
//! place, recreate the indexes. Renaming the *new* table (never the old one) keeps
//! the `REFERENCES` of other tables pointing at the right name.
//!
//! Consecutive operations on one table that each need a rebuild are made with one
//! (`coalesce`): one copy of the rows, whatever the number of changes.
//!
//! It relies on foreign keys being off (`PRAGMA foreign_keys = OFF`, which only takes
//! effect outside a transaction): with them on, `DROP TABLE` deletes the old rows one
//! by one and cascades into the tables that reference it. In a transactional
//! migration the dialect's transaction envelope does that; otherwise the rebuild
//! carries the same envelope itself.

// `write!` into a `String`, which cannot fail.
use std::fmt::Write as _;

use strata_engine::ast::{ColumnDef, Operation, TableDef};
use strata_engine::dialect::RenderResult;
use strata_engine::{Dialect, RenderContext, RenderError, Statement};

use super::types::{affinity, Affinity};
use super::{SqliteDialect, FOREIGN_KEY_VIOLATIONS};

/// The statements that apply `op` to its table by rebuilding it. `op` must be one
/// that works on a single existing table.
pub(super) fn rebuild(d: SqliteDialect, op: &Operation, ctx: &RenderContext) -> RenderResult {
    let name = op
        .table()
        .ok_or_else(|| d.unsupported(op.kind(), "-", "a table rebuild needs a table"))?;
    let old = ctx.state.table(name)?;
    let mut after = ctx.state.clone();
    after.apply(op)?;
    let new = after.table(name)?;
    rebuild_table(d, old, new, ctx)
}

/// The temporary table that holds the SQL of the rebuilt table's triggers while the
/// table is rebuilt (`DROP TABLE` drops them).
const SAVED_TRIGGERS: &str = "temp.\"strata_rebuild_triggers\"";

/// The statements that turn table `old` (as it is live) into `new` (same name) with
/// one copy of its rows. Columns are matched by name: a column only `new` has takes
/// its default, one only `old` has is dropped.
///
/// The triggers on the table are read from `sqlite_master` when the rebuild runs
/// (strata does not model them), kept in a temporary table, and created again once
/// the new table has its name. Views, and triggers on other tables, are SQL text
/// that names the table: they stay as they are, and the rename into place runs with
/// `legacy_alter_table` on, which does not parse them again (without it, SQLite
/// refuses the rename because they name a table that, for that moment, is missing).
/// What would break is one that uses a dropped column: the rebuild refuses it first.
pub(super) fn rebuild_table(
    d: SqliteDialect,
    old: &TableDef,
    new: &TableDef,
    ctx: &RenderContext,
) -> RenderResult {
    let name = &new.name;
    let table = d.table_ident(name, ctx)?;
    // The temporary name may exceed the identifier limit by its prefix; SQLite has none.
    let temp = d.quote_ident(&format!("new__{name}"));
    let dropped: Vec<&str> = old
        .columns
        .iter()
        .filter(|c| new.column(&c.name).is_none())
        .map(|c| c.name.as_str())
        .collect();

    let mut out = Vec::new();
    if !ctx.in_transaction {
        out.push(Statement::new("PRAGMA foreign_keys = OFF"));
        out.push(Statement::new("BEGIN"));
    }
    if !dropped.is_empty() {
        out.push(dropped_columns_guard(d, name, &dropped));
    }
    out.push(Statement::new(format!(
        "CREATE TEMP TABLE {SAVED_TRIGGERS} AS SELECT sql FROM main.sqlite_master \
         WHERE type = 'trigger' AND tbl_name = {} COLLATE NOCASE ORDER BY rowid",
        d.quote_string(name)
    )));
    out.push(Statement::new(format!(
        "CREATE TABLE {temp} (\n    {}\n)",
        d.table_body(new, ctx)?.join(",\n    ")
    )));
    out.push(copy_rows(d, old, new, &table, &temp, ctx)?);
    if new.auto_column().is_some() {
        out.extend(carry_sequence(d, name));
    }
    out.push(Statement::new(format!("DROP TABLE {table}")));
    out.push(Statement::new("PRAGMA legacy_alter_table = ON"));
    out.push(Statement::new(format!(
        "ALTER TABLE {temp} RENAME TO {table}"
    )));
    out.push(Statement::new("PRAGMA legacy_alter_table = OFF"));
    out.extend(d.table_indexes(new, ctx)?);
    out.push(Statement::generator(format!(
        "SELECT sql FROM {SAVED_TRIGGERS} ORDER BY rowid"
    )));
    out.push(Statement::new(format!("DROP TABLE {SAVED_TRIGGERS}")));
    if !ctx.in_transaction {
        out.push(Statement::guard(
            "PRAGMA foreign_key_check",
            FOREIGN_KEY_VIOLATIONS,
        ));
        out.push(Statement::new("COMMIT"));
        out.push(Statement::new("PRAGMA foreign_keys = ON"));
    }
    Ok(out)
}

/// Refuses the rebuild when a trigger or view that uses the table also uses a column
/// the rebuild drops: recreated or kept, it would fail whenever it runs. Triggers
/// and views are SQL text, so "uses" means "names it as a whole word" (a false
/// alarm only asks the user to drop and recreate one, never loses anything).
fn dropped_columns_guard(d: SqliteDialect, table: &str, dropped: &[&str]) -> Statement {
    let columns: Vec<String> = dropped.iter().map(|c| mentions(d, c)).collect();
    let names: Vec<String> = dropped.iter().map(|c| format!("`{c}`")).collect();
    Statement::guard(
        format!(
            "SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'view') \
             AND (tbl_name = {} COLLATE NOCASE OR {}) AND ({})",
            d.quote_string(table),
            mentions(d, table),
            columns.join(" OR ")
        ),
        format!(
            "table `{table}` is rebuilt without column(s) {}, which these triggers or \
             views use (they would fail once it is gone): drop them, or change them not \
             to use the column(s), before this migration",
            names.join(", ")
        ),
    )
}

/// The condition that an object's SQL text names `word` (a table or column) as a
/// whole word, plain or quoted.
fn mentions(d: SqliteDialect, word: &str) -> String {
    let lower = word.to_ascii_lowercase();
    let pattern = format!("*[^a-z0-9_$]{}[^a-z0-9_$]*", escape_glob(&lower));
    let mut mentioned = format!(
        "(' ' || lower(sql) || ' ') GLOB {}",
        d.quote_string(&pattern)
    );
    let plain = lower
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if !plain {
        // SQL text spells such a name quoted, with its quotes doubled (`"a""b"`).
        let _ = write!(
            mentioned,
            " OR instr(lower(sql), {}) > 0",
            d.quote_string(&d.quote_ident(&lower))
        );
    }
    format!("({mentioned})")
}

/// `GLOB` metacharacters in a name, made literal.
fn escape_glob(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '*' | '?' | '[' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            _ => out.push(c),
        }
    }
    out
}

/// `INSERT INTO temp (…) SELECT … FROM table` for every column both tables have. A new
/// column is left out, so it takes its default; a dropped one is simply not copied.
fn copy_rows(
    d: SqliteDialect,
    old: &TableDef,
    new: &TableDef,
    table: &str,
    temp: &str,
    ctx: &RenderContext,
) -> Result<Statement, RenderError> {
    let mut names = Vec::new();
    let mut values = Vec::new();
    // A generated column cannot be written: the new table computes it.
    for column in new.columns.iter().filter(|c| c.generated.is_none()) {
        if let Some(before) = old.column(&column.name) {
            names.push(d.quote_ident(&column.name));
            values.push(copy_expr(d, before, column, ctx)?);
        }
    }
    Ok(Statement::new(format!(
        "INSERT INTO {temp} ({}) SELECT {} FROM {table}",
        names.join(", "),
        values.join(", ")
    )))
}

/// The value a column copies. Type changes rely on the new column's affinity, which
/// converts every value that converts losslessly (`'12'` → 12, 12 → `'12'`) and keeps
/// the others as they are: SQLite's `CAST` would turn `'abc'` into 0. The exception is
/// a real going into an integer column, which affinity would keep as a real: it is
/// rounded, as PostgreSQL and MySQL do (the column-change guards have refused any
/// with a fraction, so this only stores `2.0` as `2`). A column that becomes
/// `NOT NULL` copies no NULL: the guards have refused the change when it held one, as
/// PostgreSQL and MySQL refuse it (a default does not fill old rows in).
fn copy_expr(
    d: SqliteDialect,
    old: &ColumnDef,
    new: &ColumnDef,
    ctx: &RenderContext,
) -> Result<String, RenderError> {
    let col = d.quote_ident(&old.name);
    let mut expr = col.clone();
    if old.ty != new.ty
        && affinity(&d.column_type(new, ctx)?) == Affinity::Integer
        && affinity(&d.column_type(old, ctx)?) != Affinity::Integer
    {
        expr = format!(
            "CASE WHEN typeof({col}) = 'real' THEN CAST(round({col}) AS integer) ELSE {col} END"
        );
    }
    Ok(expr)
}

/// Keeps `AUTOINCREMENT`'s promise across the rebuild: the new table continues the old
/// table's sequence, so ids of deleted rows are not handed out again.
fn carry_sequence(d: SqliteDialect, table: &str) -> [Statement; 2] {
    let temp = d.quote_string(&format!("new__{table}"));
    [
        Statement::new(format!("DELETE FROM sqlite_sequence WHERE name = {temp}")),
        Statement::new(format!(
            "INSERT INTO sqlite_sequence (name, seq) SELECT {temp}, seq FROM sqlite_sequence WHERE name = {}",
            d.quote_string(table)
        )),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_metacharacters_are_escaped() {
        assert_eq!(escape_glob("a*b?c[d]"), "a[*]b[?]c[[]d]");
        assert_eq!(escape_glob("plain_name"), "plain_name");
    }
}

//! The table rebuild: how SQLite makes every change its `ALTER TABLE` cannot.
//!
//! The procedure is the documented one
//! (<https://www.sqlite.org/lang_altertable.html#otheralter>): create the new table
//! under a temporary name, copy the rows, drop the old table, rename the new one into
//! place, recreate the indexes. Renaming the *new* table (never the old one) keeps
//! the `REFERENCES` of other tables pointing at the right name.
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

    let table = d.table_ident(name, ctx)?;
    // The temporary name may exceed the identifier limit by its prefix; SQLite has none.
    let temp = d.quote_ident(&format!("new__{name}"));

    let mut out = Vec::new();
    if !ctx.in_transaction {
        out.push(Statement::new("PRAGMA foreign_keys = OFF"));
        out.push(Statement::new("BEGIN"));
    }
    out.push(dependents_guard(d, name));
    out.push(Statement::new(format!(
        "CREATE TABLE {temp} (\n    {}\n)",
        d.table_body(new, ctx)?.join(",\n    ")
    )));
    out.push(copy_rows(d, old, new, &table, &temp, ctx)?);
    if new.auto_column().is_some() {
        out.extend(carry_sequence(d, name));
    }
    out.push(Statement::new(format!("DROP TABLE {table}")));
    out.push(Statement::new(format!(
        "ALTER TABLE {temp} RENAME TO {table}"
    )));
    out.extend(d.table_indexes(new, ctx)?);
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

/// Refuses the rebuild when triggers or views use the table: `DROP TABLE` would drop
/// its triggers silently, and a view naming it breaks the rename. Views and triggers
/// are SQL text, so "uses" means "names it as a whole word" (a false alarm only asks
/// the user to drop and recreate a view, never loses anything).
fn dependents_guard(d: SqliteDialect, table: &str) -> Statement {
    let lower = table.to_ascii_lowercase();
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
    Statement::guard(
        format!(
            "SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'view') \
             AND (tbl_name = {} COLLATE NOCASE OR {mentioned})",
            d.quote_string(table),
        ),
        format!(
            "table `{table}` must be rebuilt (SQLite cannot make this change in place), \
             but these triggers or views use it and would be lost or broken: drop them \
             before this migration and create them again after it"
        ),
    )
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

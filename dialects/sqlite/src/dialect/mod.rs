//! `SqliteDialect`: the SQL strata writes for SQLite.
//!
//! SQLite's `ALTER TABLE` can rename a table or a column, add a column and drop a
//! column, each with restrictions. Those are used natively when SQLite allows them;
//! everything else is the documented table rebuild of [`rebuild`].
//!
//! `DROP COLUMN` is always native (the trait's default statement): SQLite refuses to
//! drop a column that a key, unique, index, foreign key, check or partial-index
//! predicate uses, and the schema state refuses every one of those drops first.

mod coalesce;
mod fit;
mod locks;
mod rebuild;
pub(crate) mod types;

// `write!` into a `String`, which cannot fail.
use std::fmt::Write as _;

use strata_engine::ast::{
    AddColumn, AddConstraint, AddForeignKey, AlterColumn, ColumnDef, Constraint, DefaultExpr,
    DefaultValue, DropColumn, DropConstraint, DropForeignKey, DropIndex, ForeignKeyDef, IndexDef,
    Operation, RenameIndex, TableDef,
};
use strata_engine::dialect::{Ahead, LockNote, RenderResult, RenderResultOf, TransactionSql};
use strata_engine::types::Fit;
use strata_engine::{
    Capabilities, ColumnType, Dialect, RenderContext, RenderError, ServerVersion, Statement,
};

use types::{sql_type, AUTO_TYPE};

/// The message of the guard that ends every transaction that may have rebuilt a table.
pub(crate) const FOREIGN_KEY_VIOLATIONS: &str =
    "foreign key violations: rows reference missing parent rows (table, rowid, parent, fkid)";

/// SQLite has no function for a random UUID; this expression builds a version 4 one
/// (`xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx`) from `randomblob`. `random() & 3`
/// rather than `abs(random()) % 4`: `abs` overflows on the smallest integer.
const UUID_V4_SQL: &str = "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || \
substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (random() & 3), 1) || \
substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))";

/// The SQLite dialect (3.35.0 and later: `ALTER TABLE … DROP COLUMN` exists from 3.35).
#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteDialect;

impl SqliteDialect {
    /// The column definition inside `CREATE TABLE`, with its single-column foreign
    /// keys written inline exactly as Django does (`"user_id" bigint NOT NULL
    /// REFERENCES "auth_user" ("id") …`), so the schema is the one Django users know.
    /// SQLite ignores foreign key names, so none is written; introspection names them
    /// `<table>_<columns>_fk`, and drift compares foreign keys by what they connect.
    fn column_in_table(
        self,
        table: &TableDef,
        column: &ColumnDef,
        ctx: &RenderContext,
    ) -> RenderResultOf<String> {
        let inline_pk = table.primary_key.len() == 1 && table.primary_key[0] == column.name;
        let mut sql = self.column_sql(column, inline_pk, ctx)?;
        push_json_check(&mut sql, column);
        for fk in single_column_fks(table, &column.name) {
            let _ = write!(
                sql,
                " REFERENCES {} ({})",
                self.table_ident(&fk.references, ctx)?,
                self.ident_list(&fk.referenced_columns)
            );
            push_actions(&mut sql, fk);
        }
        Ok(sql)
    }

    /// A unique constraint as SQLite keeps it best: a named unique index, which can be
    /// introspected and dropped without rebuilding the table.
    fn unique_index(
        self,
        table: &str,
        name: &str,
        columns: &[String],
        ctx: &RenderContext,
    ) -> RenderResult {
        let index = IndexDef {
            name: name.to_string(),
            columns: columns.to_vec(),
            unique: true,
            predicate: None,
            ..Default::default()
        };
        self.create_index(table, &index, ctx)
    }

    /// Every unique constraint and index of a table, as `CREATE [UNIQUE] INDEX`.
    pub(crate) fn table_indexes(self, table: &TableDef, ctx: &RenderContext) -> RenderResult {
        let mut out = Vec::new();
        for u in &table.uniques {
            out.extend(self.unique_index(&table.name, &u.name, &u.columns, ctx)?);
        }
        for index in &table.indexes {
            out.extend(self.create_index(&table.name, index, ctx)?);
        }
        Ok(out)
    }

    /// Whether `ALTER TABLE … ADD COLUMN` accepts the column: SQLite refuses a
    /// non-constant default (`CURRENT_TIMESTAMP`, any parenthesized expression) and a
    /// `NOT NULL` column without a non-null default. (A new column carries no key,
    /// unique or foreign key: those are separate operations.)
    pub(crate) fn can_add_column_natively(column: &ColumnDef) -> bool {
        // A type check (`CHECK (col >= 0)`) is a table constraint, which `ADD COLUMN`
        // cannot add: the rebuild writes it.
        if column.ty.is_unsigned() || column.ty == ColumnType::Enum {
            return false;
        }
        // "cannot add a STORED column": only a virtual one is added in place.
        if let Some(generated) = &column.generated {
            return !generated.stored;
        }
        match &column.default {
            Some(DefaultValue::Expr { .. }) => false,
            Some(_) => true,
            None => column.null,
        }
    }
}

impl Dialect for SqliteDialect {
    /// SQLite reads a statement's text up to a NUL character: a value holding one
    /// is spelled as its parts joined by `char(0)`.
    fn string_value(&self, value: &str) -> String {
        if !value.contains('\0') {
            return self.quote_string(value);
        }
        let parts: Vec<String> = value.split('\0').map(|p| self.quote_string(p)).collect();
        format!("({})", parts.join(" || char(0) || "))
    }

    fn sql_lexer(&self) -> Box<dyn sqlparser::dialect::Dialect> {
        Box::new(sqlparser::dialect::SQLiteDialect {})
    }

    /// A data statement of a step-by-step migration commits with its checkpoint, so a
    /// crash never leaves its rows without it (a rerun would insert them again).
    fn commits_with_checkpoint(&self, sql: &str) -> bool {
        strata_engine::script::is_data_statement(&*self.sql_lexer(), sql)
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn minimum_version(&self) -> ServerVersion {
        ServerVersion::new(3, 35, 0)
    }

    fn collation_key(&self) -> Option<&'static str> {
        Some("sqlite")
    }

    fn capabilities(&self, _version: ServerVersion) -> Capabilities {
        Capabilities {
            transactional_ddl: true,
            // SQLite has no limit; 128 keeps generated names readable and portable-ish.
            max_identifier_len: 128,
            partial_indexes: true,
            deferrable_constraints: true,
            set_default_actions: true,
            expression_indexes: true,
            virtual_generated_columns: true,
            ..Capabilities::BASELINE
        }
    }

    fn column_type(&self, column: &ColumnDef, _ctx: &RenderContext) -> Result<String, RenderError> {
        Ok(if column.auto {
            AUTO_TYPE.to_string()
        } else {
            sql_type(column.ty)
        })
    }

    /// `1`/`0`: what SQLite stores for a boolean and what `PRAGMA table_info` reports
    /// back as the default, so an introspected default reads the same as it was written
    /// (Django writes boolean defaults on SQLite the same way).
    fn bool_literal(&self, value: bool) -> &'static str {
        if value {
            "1"
        } else {
            "0"
        }
    }

    /// `CURRENT_*` keywords need no parentheses; any other expression must have them
    /// in a SQLite `DEFAULT` clause.
    fn default_expr_sql(&self, expr: DefaultExpr, column: &ColumnDef) -> RenderResultOf<String> {
        Ok(match (expr, column.ty) {
            (DefaultExpr::Now, ColumnType::Date) => "CURRENT_DATE".into(),
            (DefaultExpr::Now, ColumnType::Time) => "CURRENT_TIME".into(),
            (DefaultExpr::Now, _) => "CURRENT_TIMESTAMP".into(),
            (DefaultExpr::Uuid, _) => format!("({UUID_V4_SQL})"),
        })
    }

    /// AUTOINCREMENT: ids are never reused, as on the other databases. (An auto column
    /// is always the whole, inline primary key.)
    fn auto_increment_sql(&self) -> &'static str {
        "AUTOINCREMENT"
    }

    /// Columns (with inline single-column foreign keys), the composite primary key,
    /// checks and multi-column foreign keys. Unique constraints are unique indexes,
    /// created after the table.
    fn table_body(&self, t: &TableDef, ctx: &RenderContext) -> RenderResultOf<Vec<String>> {
        let mut lines = Vec::new();
        for c in &t.columns {
            lines.push(self.column_in_table(t, c, ctx)?);
        }
        if t.primary_key.len() > 1 {
            lines.push(format!("PRIMARY KEY ({})", self.ident_list(&t.primary_key)));
        }
        for c in &t.checks {
            lines.push(self.constraint_sql(&strata_engine::dialect::check(c), ctx)?);
        }
        for c in &t.columns {
            for tc in strata_engine::dialect::type_checks::type_checks(&t.name, c, ctx.capabilities)
            {
                lines.push(self.constraint_sql(&strata_engine::dialect::type_check(tc), ctx)?);
            }
        }
        for fk in t.foreign_keys.iter().filter(|fk| fk.columns.len() > 1) {
            lines.push(self.foreign_key_sql(fk, ctx)?);
        }
        Ok(lines)
    }

    fn create_table(&self, t: &TableDef, ctx: &RenderContext) -> RenderResult {
        let body = self.table_body(t, ctx)?.join(",\n    ");
        let mut out = vec![Statement::new(format!(
            "CREATE TABLE {} (\n    {body}\n)",
            self.table_ident(&t.name, ctx)?
        ))];
        out.extend(self.table_indexes(t, ctx)?);
        Ok(out)
    }

    fn add_column(&self, o: &AddColumn, ctx: &RenderContext) -> RenderResult {
        if Self::can_add_column_natively(&o.column) {
            let mut column = self.column_sql(&o.column, false, ctx)?;
            push_json_check(&mut column, &o.column);
            return Ok(vec![Statement::new(format!(
                "ALTER TABLE {} ADD COLUMN {column}",
                self.table_ident(&o.table, ctx)?,
            ))]);
        }
        rebuild::rebuild(*self, &Operation::AddColumn(o.clone()), ctx)
    }

    /// SQLite refuses `DROP COLUMN` on a column a check names: a column with a type
    /// check (`CHECK (col >= 0)`) goes with a rebuild.
    fn drop_column(&self, o: &DropColumn, ctx: &RenderContext) -> RenderResult {
        let typed = ctx
            .state
            .table(&o.table)?
            .column(&o.column)
            .is_some_and(|c| {
                !strata_engine::dialect::type_checks::type_checks(&o.table, c, ctx.capabilities)
                    .is_empty()
            });
        if typed {
            return rebuild::rebuild(*self, &Operation::DropColumn(o.clone()), ctx);
        }
        Ok(vec![Statement::new(format!(
            "ALTER TABLE {} DROP COLUMN {}",
            self.table_ident(&o.table, ctx)?,
            self.quote_ident(&o.column)
        ))])
    }

    fn alter_column(&self, o: &AlterColumn, ctx: &RenderContext) -> RenderResult {
        // A comment change alone is nothing here: SQLite keeps no comments.
        let nothing_changes = o.ty.is_none()
            && o.null.is_none()
            && o.default.is_none()
            && !o.drop_default
            && o.values.is_none()
            && o.collation.is_none();
        if nothing_changes {
            return Ok(Vec::new());
        }
        let old = ctx
            .state
            .table(&o.table)?
            .column(&o.column)
            .ok_or_else(|| strata_engine::state::StateError::NoSuchColumn {
                table: o.table.clone(),
                column: o.column.clone(),
            })?;
        let mut new = strata_engine::dialect::type_checks::retyped(old, o);
        new.null = o.null.unwrap_or(old.null);
        // The guards read before the rebuild writes anything.
        let mut out = self.column_change_guards(&o.table, old, &new, ctx)?;
        out.extend(rebuild::rebuild(
            *self,
            &Operation::AlterColumn(o.clone()),
            ctx,
        )?);
        Ok(out)
    }

    fn misfit_sql(&self, value: &str, from: ColumnType, fit: Fit) -> String {
        fit::misfit_sql(value, from, fit)
    }

    /// SQLite cannot rename an index: drop it and create it again under the new name.
    fn rename_index(&self, o: &RenameIndex, ctx: &RenderContext) -> RenderResult {
        let table = ctx.state.table(&o.table)?;
        let mut index = table.index(&o.from).cloned().ok_or_else(|| {
            strata_engine::state::StateError::NoSuchObject {
                table: o.table.clone(),
                name: o.from.clone(),
                what: "an index",
            }
        })?;
        index.name.clone_from(&o.to);
        let mut out = self.drop_index(
            &DropIndex {
                table: o.table.clone(),
                name: o.from.clone(),
            },
            ctx,
        )?;
        out.extend(self.create_index(&o.table, &index, ctx)?);
        Ok(out)
    }

    fn add_foreign_key(&self, o: &AddForeignKey, ctx: &RenderContext) -> RenderResult {
        rebuild::rebuild(*self, &Operation::AddForeignKey(o.clone()), ctx)
    }

    fn drop_foreign_key(&self, o: &DropForeignKey, ctx: &RenderContext) -> RenderResult {
        rebuild::rebuild(*self, &Operation::DropForeignKey(o.clone()), ctx)
    }

    fn add_constraint(&self, o: &AddConstraint, ctx: &RenderContext) -> RenderResult {
        match &o.constraint {
            Constraint::Unique { name, columns } => self.unique_index(&o.table, name, columns, ctx),
            Constraint::Check { .. } => {
                rebuild::rebuild(*self, &Operation::AddConstraint(o.clone()), ctx)
            }
        }
    }

    fn drop_constraint(&self, o: &DropConstraint, ctx: &RenderContext) -> RenderResult {
        match ctx.state.table(&o.table)?.constraint(&o.name) {
            Some(Constraint::Unique { .. }) => Ok(vec![Statement::new(format!(
                "DROP INDEX {}",
                self.object_ident(&o.name, ctx)
            ))]),
            _ => rebuild::rebuild(*self, &Operation::DropConstraint(o.clone()), ctx),
        }
    }

    /// Consecutive changes to one table that need rebuilds are made with one copy of
    /// its rows; see `coalesce`.
    fn render_ahead(
        &self,
        op: &Operation,
        following: &[Operation],
        ctx: &RenderContext,
    ) -> RenderResultOf<Ahead> {
        if let Some(ahead) = coalesce::render_ahead(*self, op, following, ctx)? {
            return Ok(ahead);
        }
        Ok(Ahead {
            operations: vec![self.render(op, ctx)?],
            made_by: 0,
        })
    }

    /// The database write lock; see `locks`.
    fn explain(&self, op: &Operation, statement: &Statement, _ctx: &RenderContext) -> LockNote {
        locks::explain(*self, op, statement)
    }

    /// Foreign keys are off for the whole migration: `PRAGMA foreign_keys` cannot
    /// change inside a transaction, and with them on, a rebuild's `DROP TABLE` would
    /// delete (or cascade into) the rows of every table that references the rebuilt
    /// one. The check before `COMMIT` restores the guarantee they give.
    fn transaction_sql(&self) -> TransactionSql {
        TransactionSql {
            before: vec![Statement::new("PRAGMA foreign_keys = OFF")],
            begin: vec![Statement::new("BEGIN")],
            commit: vec![
                Statement::guard("PRAGMA foreign_key_check", FOREIGN_KEY_VIOLATIONS),
                Statement::new("COMMIT"),
            ],
            after: vec![Statement::new("PRAGMA foreign_keys = ON")],
        }
    }
}

/// The single-column foreign keys of `table` on `column`.
fn single_column_fks<'a>(
    table: &'a TableDef,
    column: &'a str,
) -> impl Iterator<Item = &'a ForeignKeyDef> {
    table
        .foreign_keys
        .iter()
        .filter(move |fk| fk.columns.len() == 1 && fk.columns[0] == column)
}

/// SQLite stores any text in a `json` column; a column-level `CHECK (json_valid(…))`
/// rejects invalid JSON as PostgreSQL and MySQL do (Django writes the same check). It
/// is unnamed and inline, so `RENAME COLUMN` rewrites it and introspection can tell
/// it from a user's check (it hides it).
fn push_json_check(sql: &mut String, column: &ColumnDef) {
    if column.ty == ColumnType::Json {
        let _ = write!(
            sql,
            " CHECK (json_valid({}))",
            SqliteDialect.quote_ident(&column.name)
        );
    }
}

fn push_actions(sql: &mut String, fk: &ForeignKeyDef) {
    if let Some(action) = fk.on_delete {
        sql.push_str(" ON DELETE ");
        sql.push_str(action.sql());
    }
    if let Some(action) = fk.on_update {
        sql.push_str(" ON UPDATE ");
        sql.push_str(action.sql());
    }
    if let Some(deferrable) = fk.deferrable {
        sql.push(' ');
        sql.push_str(deferrable.sql());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, ty: ColumnType) -> ColumnDef {
        ColumnDef {
            name: name.into(),
            ty,
            null: false,
            default: None,
            auto: false,
            ..Default::default()
        }
    }

    #[test]
    fn identifiers_are_quoted_so_any_name_is_safe() {
        let d = SqliteDialect;
        assert_eq!(d.quote_ident("order"), "\"order\"");
        assert_eq!(d.quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(d.quote_ident("a`b"), "\"a`b\"");
        assert_eq!(d.quote_string("it's"), "'it''s'");
    }

    #[test]
    fn add_column_is_native_only_when_sqlite_accepts_it() {
        let mut c = column("c", ColumnType::Int);
        assert!(
            !SqliteDialect::can_add_column_natively(&c),
            "NOT NULL without default"
        );
        c.default = Some(DefaultValue::Int(0));
        assert!(SqliteDialect::can_add_column_natively(&c));
        c.null = true;
        c.default = None;
        assert!(SqliteDialect::can_add_column_natively(&c));
        let mut t = column("t", ColumnType::DateTime);
        t.null = true;
        t.default = Some(DefaultValue::Expr {
            expr: DefaultExpr::Now,
        });
        assert!(
            !SqliteDialect::can_add_column_natively(&t),
            "non-constant default"
        );
    }
}

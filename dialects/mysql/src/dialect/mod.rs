//! `MysqlDialect`: SQL for MySQL 8 and MariaDB 10.5+.
//!
//! The engine's defaults already write what MySQL accepts for dropping and renaming
//! tables and columns and for adding columns (through our column definition);
//! this file overrides what MySQL spells differently: backquotes, backslash-aware
//! strings, `MODIFY COLUMN`, keys managed through `ALTER TABLE … ADD/DROP INDEX`,
//! `DROP FOREIGN KEY`, and the foreign keys' supporting indexes (`fk_index`).

mod columns;
mod fit;
mod fk_index;
mod keys;
mod online;
mod quoting;
mod types;

use strata_engine::ast::{
    AddColumn, AddConstraint, AddForeignKey, AlterColumn, ColumnDef, Constraint, CreateIndex,
    DefaultExpr, DefaultValue, DropConstraint, DropForeignKey, DropIndex, ForeignKeyDef, IndexDef,
    Operation, RenameIndex, TableDef,
};
use strata_engine::dialect::{LockNote, RenderResult, RenderResultOf};
use strata_engine::state::StateError;
use strata_engine::types::Fit;
use strata_engine::{Capabilities, ColumnType, Dialect, RenderContext, ServerVersion, Statement};

/// For introspection and drift checks: which server indexes are foreign keys' own
/// supporting indexes (named like the foreign key, absent from the schema state).
pub use fk_index::{
    covered as foreign_key_covered, needing_own_index as foreign_keys_with_own_index,
};
/// Identifier quoting, as the server also shows identifiers inside expressions.
pub(crate) use quoting::quote_ident;
/// The type mapping, for the documentation's type table.
pub use types::sql_type;

use crate::flavour::Flavour;

/// Longest identifier on both servers (MySQL counts characters; bytes is stricter).
const MAX_IDENTIFIER_LEN: usize = 64;

/// The MySQL/MariaDB renderer, for one flavour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MysqlDialect {
    flavour: Flavour,
}

impl MysqlDialect {
    pub const fn new(flavour: Flavour) -> Self {
        Self { flavour }
    }

    /// MySQL 8.0.19 and later.
    pub const fn mysql() -> Self {
        Self::new(Flavour::Mysql)
    }

    /// MariaDB 10.5.2 and later.
    pub const fn mariadb() -> Self {
        Self::new(Flavour::Mariadb)
    }

    pub fn flavour(&self) -> Flavour {
        self.flavour
    }
}

impl Dialect for MysqlDialect {
    fn sql_lexer(&self) -> Box<dyn sqlparser::dialect::Dialect> {
        Box::new(sqlparser::dialect::MySqlDialect {})
    }

    /// A data statement commits with its checkpoint in one InnoDB transaction, so a
    /// crash never leaves its rows without the checkpoint (the rerun would insert them
    /// again); DDL commits implicitly, so its checkpoint follows it.
    fn commits_with_checkpoint(&self, sql: &str) -> bool {
        strata_engine::script::is_data_statement(&*self.sql_lexer(), sql)
    }

    fn name(&self) -> &'static str {
        self.flavour.name()
    }

    fn minimum_version(&self) -> ServerVersion {
        self.flavour.minimum_version()
    }

    fn collation_key(&self) -> Option<&'static str> {
        Some("mysql")
    }

    /// Introspection reads a column's collation only where it differs from its
    /// table's (`driver/introspect/catalog.rs`): this is that default, per table.
    fn table_collations_sql(&self) -> Option<&'static str> {
        Some(
            "SELECT TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'",
        )
    }

    /// The same on every supported version of both flavours, but functional key
    /// parts (MySQL 8.0.13+; MariaDB has none).
    fn capabilities(&self, version: ServerVersion) -> Capabilities {
        // DDL commits implicitly (the baseline): migrations run statement by
        // statement, with checkpoints, and scripts carry no BEGIN/COMMIT.
        Capabilities {
            max_identifier_len: MAX_IDENTIFIER_LEN,
            unsigned_integers: true,
            column_comments: true,
            expression_indexes: self.flavour == Flavour::Mysql && version.at_least(8, 0, 13),
            index_prefix_lengths: true,
            native_enums: true,
            virtual_generated_columns: true,
            table_comments: true,
            ..Capabilities::BASELINE
        }
    }

    fn column_type(&self, column: &ColumnDef, ctx: &RenderContext) -> RenderResultOf<String> {
        self.sql_type_in("column type", "-", column, ctx)
    }

    // ---- quoting and fragments ------------------------------------------------------

    fn quote_ident(&self, name: &str) -> String {
        quoting::quote_ident(name)
    }

    fn quote_string(&self, value: &str) -> String {
        quoting::quote_string(value)
    }

    /// `LENGTH` counts bytes here; the neutral `length` counts characters.
    fn expr_function(&self, function: strata_engine::expr::Function) -> &'static str {
        match function {
            strata_engine::expr::Function::Length => "CHAR_LENGTH",
            other => other.name(),
        }
    }

    fn default_sql(
        &self,
        default: &DefaultValue,
        column: &ColumnDef,
        _ctx: &RenderContext,
    ) -> RenderResultOf<String> {
        Ok(self.literal_default(default, column))
    }

    fn default_expr_sql(&self, expr: DefaultExpr, column: &ColumnDef) -> RenderResultOf<String> {
        Ok(Self::now_or_uuid(expr, column.ty))
    }

    /// Both actions always written, `NO ACTION` where the migration gives none: the
    /// servers' own default is `RESTRICT` (MariaDB reports an unnamed action as
    /// `RESTRICT`), which InnoDB enforces exactly as `NO ACTION`, but which would then
    /// be indistinguishable from an explicit `restrict` when the schema is read back.
    fn foreign_key_sql(&self, fk: &ForeignKeyDef, ctx: &RenderContext) -> RenderResultOf<String> {
        self.foreign_key_definition(fk, ctx)
    }

    fn column_sql(
        &self,
        column: &ColumnDef,
        inline_pk: bool,
        ctx: &RenderContext,
    ) -> RenderResultOf<String> {
        self.column_definition("column", "-", column, inline_pk, ctx)
    }

    /// Columns, keys, indexes (inline, so creating a table is one atomic statement),
    /// checks, and foreign keys with the supporting indexes they need.
    fn table_body(&self, t: &TableDef, ctx: &RenderContext) -> RenderResultOf<Vec<String>> {
        const OP: &str = "create_table";
        self.require_indexable(OP, t, &t.primary_key, "the primary key")?;
        let inline_pk = t.primary_key.len() == 1;
        let mut lines = Vec::new();
        for c in &t.columns {
            let is_pk = inline_pk && t.primary_key[0] == c.name;
            lines.push(self.column_definition(OP, &t.name, c, is_pk, ctx)?);
        }
        if t.primary_key.len() > 1 {
            lines.push(format!("PRIMARY KEY ({})", self.ident_list(&t.primary_key)));
        }
        for u in &t.uniques {
            self.require_indexable(
                OP,
                t,
                &u.columns,
                &format!("unique constraint `{}`", u.name),
            )?;
            lines.push(self.constraint_sql(&strata_engine::dialect::unique(u), ctx)?);
        }
        for index in &t.indexes {
            lines.push(self.index_clause(OP, t, index, ctx)?);
        }
        for c in &t.checks {
            lines.push(self.constraint_sql(&strata_engine::dialect::check(c), ctx)?);
        }
        for fk in fk_index::needing_own_index(t) {
            self.require_indexable(OP, t, &fk.columns, &format!("foreign key `{}`", fk.name))?;
            lines.push(self.supporting_index(fk, ctx));
        }
        for fk in &t.foreign_keys {
            lines.push(self.foreign_key_sql(fk, ctx)?);
        }
        Ok(lines)
    }

    // ---- one method per operation -----------------------------------------------------

    fn create_table(&self, t: &TableDef, ctx: &RenderContext) -> RenderResult {
        let body = self.table_body(t, ctx)?.join(",\n    ");
        let comment = t
            .comment
            .as_deref()
            .map(|c| format!(" COMMENT={}", self.quote_string(c)))
            .unwrap_or_default();
        Ok(vec![Statement::new(format!(
            "CREATE TABLE {} (\n    {body}\n){}{comment}",
            self.table_ident(&t.name, ctx)?,
            self.table_options()
        ))])
    }

    /// The `COMMENT` table option; MySQL has no "no comment", so removing it is
    /// setting it empty.
    fn table_comment(
        &self,
        table: &str,
        comment: Option<&str>,
        ctx: &RenderContext,
    ) -> RenderResult {
        Ok(vec![Statement::new(format!(
            "ALTER TABLE {} COMMENT = {}",
            self.table_ident(table, ctx)?,
            self.quote_string(comment.unwrap_or_default())
        ))])
    }

    /// InnoDB, whatever the server's default engine: foreign keys, checks and crash
    /// safety depend on it. No charset or collation: tables inherit the database's,
    /// so a deliberate database collation is respected (create the database with
    /// `CHARACTER SET utf8mb4`).
    fn table_options(&self) -> &'static str {
        " ENGINE=InnoDB"
    }

    fn add_column(&self, o: &AddColumn, ctx: &RenderContext) -> RenderResult {
        Ok(vec![Statement::new(format!(
            "ALTER TABLE {} ADD COLUMN {}",
            self.table_ident(&o.table, ctx)?,
            self.column_definition("add_column", &o.table, &o.column, false, ctx)?
        ))])
    }

    /// `MODIFY COLUMN` with the column's whole definition after the change: MySQL has
    /// no clause for changing only the type or only the nullability.
    fn alter_column(&self, o: &AlterColumn, ctx: &RenderContext) -> RenderResult {
        let comment_changes = o.comment.is_some() || o.drop_comment;
        if o.ty.is_none()
            && o.null.is_none()
            && o.default.is_none()
            && !o.drop_default
            && !comment_changes
            && o.values.is_none()
            && o.collation.is_none()
        {
            return Ok(Vec::new());
        }
        let table = ctx.state.table(&o.table)?;
        let old = table
            .column(&o.column)
            .ok_or_else(|| StateError::NoSuchColumn {
                table: o.table.clone(),
                column: o.column.clone(),
            })?;
        let mut new = strata_engine::dialect::type_checks::retyped(old, o);
        if let Some(null) = o.null {
            new.null = null;
        }
        if let Some(default) = &o.default {
            new.default = Some(default.clone());
        }
        if o.drop_default {
            new.default = None;
        }
        if o.comment.is_some() {
            new.comment.clone_from(&o.comment);
        }
        if o.drop_comment {
            new.comment = None;
        }
        if !types::indexable(new.ty) && types::indexable(old.ty) {
            self.refuse_unindexable_key_column(table, &new)?;
        }
        let mut out = self.column_change_guards(&o.table, old, &new, ctx)?;
        out.push(Statement::new(format!(
            "ALTER TABLE {} MODIFY COLUMN {}",
            self.table_ident(&o.table, ctx)?,
            self.column_definition("alter_column", &o.table, &new, false, ctx)?
        )));
        Ok(out)
    }

    fn misfit_sql(&self, value: &str, from: ColumnType, fit: Fit) -> String {
        fit::misfit_sql(value, from, fit)
    }

    fn create_index(&self, table: &str, index: &IndexDef, ctx: &RenderContext) -> RenderResult {
        let t = ctx.state.table(table)?;
        let clause = self.index_clause("create_index", t, index, ctx)?;
        let op = Operation::CreateIndex(CreateIndex {
            table: table.to_string(),
            index: index.clone(),
        });
        self.alter_keys(table, &op, vec![format!("ADD {clause}")], ctx)
    }

    fn drop_index(&self, o: &DropIndex, ctx: &RenderContext) -> RenderResult {
        let main = format!("DROP INDEX {}", self.object_ident(&o.name, ctx));
        self.alter_keys(&o.table, &Operation::DropIndex(o.clone()), vec![main], ctx)
    }

    fn rename_index(&self, o: &RenameIndex, ctx: &RenderContext) -> RenderResult {
        Ok(vec![Statement::new(format!(
            "ALTER TABLE {} RENAME INDEX {} TO {}",
            self.table_ident(&o.table, ctx)?,
            self.object_ident(&o.from, ctx),
            self.object_ident(&o.to, ctx)
        ))])
    }

    fn add_foreign_key(&self, o: &AddForeignKey, ctx: &RenderContext) -> RenderResult {
        let t = ctx.state.table(&o.table)?;
        let fk = &o.foreign_key;
        self.require_indexable(
            "add_foreign_key",
            t,
            &fk.columns,
            &format!("foreign key `{}`", fk.name),
        )?;
        let main = format!("ADD {}", self.foreign_key_sql(fk, ctx)?);
        self.alter_keys(
            &o.table,
            &Operation::AddForeignKey(o.clone()),
            vec![main],
            ctx,
        )
    }

    fn drop_foreign_key(&self, o: &DropForeignKey, ctx: &RenderContext) -> RenderResult {
        let main = format!("DROP FOREIGN KEY {}", self.object_ident(&o.name, ctx));
        self.alter_keys(
            &o.table,
            &Operation::DropForeignKey(o.clone()),
            vec![main],
            ctx,
        )
    }

    fn add_constraint(&self, o: &AddConstraint, ctx: &RenderContext) -> RenderResult {
        if let Constraint::Unique { name, columns } = &o.constraint {
            let t = ctx.state.table(&o.table)?;
            self.require_indexable(
                "add_constraint",
                t,
                columns,
                &format!("unique constraint `{name}`"),
            )?;
        }
        let main = format!("ADD {}", self.constraint_sql(&o.constraint, ctx)?);
        self.alter_keys(
            &o.table,
            &Operation::AddConstraint(o.clone()),
            vec![main],
            ctx,
        )
    }

    /// A unique constraint is an index to MySQL (`DROP INDEX`); a check has its own
    /// clause, which differs between the flavours.
    fn drop_constraint(&self, o: &DropConstraint, ctx: &RenderContext) -> RenderResult {
        let t = ctx.state.table(&o.table)?;
        let constraint = t
            .constraint(&o.name)
            .ok_or_else(|| StateError::NoSuchObject {
                table: o.table.clone(),
                name: o.name.clone(),
                what: "a unique or check constraint",
            })?;
        let name = self.object_ident(&o.name, ctx);
        let main = match constraint {
            Constraint::Unique { .. } => format!("DROP INDEX {name}"),
            Constraint::Check { .. } => format!("{} {name}", self.flavour.drop_check_clause()),
        };
        self.alter_keys(
            &o.table,
            &Operation::DropConstraint(o.clone()),
            vec![main],
            ctx,
        )
    }

    fn run_sql_keys(&self) -> Vec<&'static str> {
        self.flavour.run_sql_keys().to_vec()
    }

    /// The plain statements, each `ALTER TABLE` naming the least blocking algorithm
    /// the server documents for it (`online`).
    fn render_safe(&self, op: &Operation, ctx: &RenderContext) -> RenderResult {
        let statements = self.render_plain(op, ctx)?;
        if let Some(o) = online::unchecked_fk::applies(self.flavour, op) {
            return online::unchecked_fk::plan(*self, o, ctx, statements);
        }
        Ok(online::with_algorithm(self.flavour, ctx, op, statements))
    }

    /// A foreign key added unchecked (MariaDB's safe plan) is dropped again when the
    /// check of the rows before it fails.
    fn cleanup(&self, op: &Operation, ctx: &RenderContext) -> RenderResultOf<Vec<Statement>> {
        match online::unchecked_fk::applies(self.flavour, op) {
            Some(o) if ctx.safe => online::unchecked_fk::cleanup(*self, o, ctx),
            _ => Ok(Vec::new()),
        }
    }

    /// The metadata lock and algorithm of the statement; see `online`.
    fn explain(&self, op: &Operation, statement: &Statement, ctx: &RenderContext) -> LockNote {
        online::explain(self.flavour, op, statement, ctx)
    }
}

#[cfg(test)]
mod tests;

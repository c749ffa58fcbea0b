//! The dialect plugin: a pure, synchronous SQL renderer (`Dialect`) and, in
//! `driver`, the async connection to a server (`Driver`).
//!
//! A dialect receives the operation, the state before it and a server version — never
//! a connection — so `sqlmigrate --dialect X` works anywhere.
//!
//! # Implementing a dialect
//!
//! Required: [`Dialect::name`], [`Dialect::minimum_version`], [`Dialect::capabilities`]
//! and [`Dialect::column_type`]. Everything else has a default that writes the common
//! (PostgreSQL-flavoured, standard) SQL; override only the statements your database
//! spells differently, as Django's schema editors do.

use std::fmt::Write as _;

mod capabilities;
mod data;
pub mod driver;
pub mod index;
mod locks;
pub mod registry;
pub mod rehearsal;
pub mod type_checks;
pub mod url;

use crate::ast::*;
use crate::expr::{self, ExprStyle, Function};
use crate::naming::fit_identifier;
use crate::state::{SchemaState, StateError};
use crate::types::{ColumnType, Fit, REAL_MAX};

pub use capabilities::{Capabilities, ServerVersion};
pub use data::{BackfillSql, Call};
pub use locks::{Blocks, LockNote, TableWork};
pub use registry::{Backend, Registry, RegistryError};

/// One SQL statement of a rendered migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sql: String,
    /// When set, the statement is a guard: the run fails with this message if the
    /// query returns any row (e.g. SQLite's `PRAGMA foreign_key_check`).
    pub fails_with_rows: Option<String>,
    /// A `run_sql` the user marked `split = false`: one compound statement whose body
    /// holds `;`, sent with [`Driver::execute_compound`](driver::Driver::execute_compound).
    pub compound: bool,
    /// How the statement may share a transaction with its neighbours (safe plans).
    pub runs: Runs,
    /// A `run_code`: the runner calls the application's function instead of sending
    /// `sql` (a placeholder comment).
    pub call: Option<Call>,
    /// A `backfill`: the runner walks the table in batches, each committed with its
    /// checkpoint, instead of sending `sql` (the UPDATE of one batch, as shown).
    pub backfill: Option<Box<BackfillSql>>,
    /// A query whose rows are statements: the runner runs it, then the SQL text in the
    /// first column of each row, in order. What only the live database knows, read at
    /// run time (SQLite recreating the triggers a table rebuild dropped).
    pub generates: bool,
}

/// Where a statement runs when a migration is executed in steps (a safe plan).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Runs {
    /// With its neighbours, in the transactional group around it (the default).
    #[default]
    InGroup,
    /// In a transaction of its own, committed before the next statement starts, so
    /// that the lock it takes is not held while the next one works (`ADD CONSTRAINT
    /// … NOT VALID` before its `VALIDATE`).
    OwnTransaction,
    /// Outside any transaction: the server refuses it inside one (`CREATE INDEX
    /// CONCURRENTLY`).
    Outside,
}

impl Statement {
    pub fn new(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            fails_with_rows: None,
            compound: false,
            runs: Runs::InGroup,
            call: None,
            backfill: None,
            generates: false,
        }
    }

    /// A query whose rows are the statements to run ([`Statement::generates`]).
    pub fn generator(sql: impl Into<String>) -> Self {
        Self {
            generates: true,
            ..Self::new(sql)
        }
    }

    pub fn guard(sql: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            fails_with_rows: Some(message.into()),
            ..Self::new(sql)
        }
    }

    /// A statement the server refuses inside a transaction ([`Runs::Outside`]).
    pub fn outside(sql: impl Into<String>) -> Self {
        Self {
            runs: Runs::Outside,
            ..Self::new(sql)
        }
    }

    /// Whether [`run_statement`](driver::run_statement) sends `sql` as it is, one
    /// `execute`: not a guard, a generator, a compound statement, an application's
    /// function or a backfill.
    pub fn is_plain(&self) -> bool {
        self.fails_with_rows.is_none()
            && !self.generates
            && !self.compound
            && self.call.is_none()
            && self.backfill.is_none()
    }

    /// A statement committed on its own ([`Runs::OwnTransaction`]).
    pub fn own_transaction(sql: impl Into<String>) -> Self {
        Self {
            runs: Runs::OwnTransaction,
            ..Self::new(sql)
        }
    }
}

/// The statements around a migration that runs in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionSql {
    /// Run before the transaction opens (settings that cannot change inside one).
    pub before: Vec<Statement>,
    pub begin: Vec<Statement>,
    /// Checks and the commit itself.
    pub commit: Vec<Statement>,
    /// Run after the transaction ends, committed or rolled back.
    pub after: Vec<Statement>,
}

/// Everything a renderer may look at besides the operation.
#[derive(Debug, Clone, Copy)]
pub struct RenderContext<'a> {
    /// The schema before the operation.
    pub state: &'a SchemaState,
    pub version: ServerVersion,
    pub capabilities: &'a Capabilities,
    /// The statements will run inside a transaction (so e.g. no concurrent index).
    pub in_transaction: bool,
    /// Render the safe plan for this operation: its table existed before the migration
    /// (and may be busy), and neither the migration nor the project opted out with
    /// `safe = false`. A safe rendering avoids long blocking locks: statements marked
    /// [`Runs::OwnTransaction`] or [`Runs::Outside`], `NOT VALID` then `VALIDATE`,
    /// `ALGORITHM=…, LOCK=NONE`. A script whose safe plan has statements that must
    /// run alone runs in transactional groups and steps (`Script::groups`).
    pub safe: bool,
}

/// Why an operation could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    #[error("{operation} on table `{table}` is not supported by {dialect}: {reason}")]
    Unsupported {
        operation: &'static str,
        table: String,
        dialect: String,
        reason: String,
    },
    #[error("{dialect}: identifier `{name}` is longer than {limit} bytes")]
    IdentifierTooLong {
        dialect: String,
        name: String,
        limit: usize,
    },
    /// A check or index predicate that is not an accepted expression. Loading refuses
    /// these with the file's position first; this is the renderer's own guard.
    #[error("{what}: {message}")]
    Expression { what: String, message: String },
    #[error(transparent)]
    State(#[from] StateError),
}

pub type RenderResult = Result<Vec<Statement>, RenderError>;

/// What [`Dialect::render_ahead`] rendered: the statements of the operation, then of
/// each following operation it renders with it, in order (a guard stays with its own
/// operation, so a failure names it), and which of them (0: the operation itself)
/// makes the change of them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ahead {
    pub operations: Vec<Vec<Statement>>,
    pub made_by: usize,
}

/// A SQL renderer for one database family. See the module docs for what is required.
pub trait Dialect: Send + Sync {
    // ---- required -------------------------------------------------------------------

    /// `sqlite`, `postgres`, `mysql`, `mariadb`: also the key of per-dialect `run_sql`.
    fn name(&self) -> &'static str;

    /// The oldest supported server version; offline rendering targets it.
    fn minimum_version(&self) -> ServerVersion;

    fn capabilities(&self, version: ServerVersion) -> Capabilities;

    /// The SQL type of a column (without nullability or default).
    fn column_type(&self, column: &ColumnDef, ctx: &RenderContext) -> Result<String, RenderError>;

    // ---- quoting and fragments ------------------------------------------------------

    /// Quotes an identifier so that any name (`order`, `a"b`) is safe.
    fn quote_ident(&self, name: &str) -> String {
        format!("\"{}\"", name.replace('"', "\"\""))
    }

    fn quote_string(&self, value: &str) -> String {
        format!("'{}'", value.replace('\'', "''"))
    }

    /// `value`, text read back from the server, as an SQL expression: its quoted
    /// string, unless it holds what a literal of this SQL cannot (SQLite ends a
    /// statement's text at a NUL character).
    fn string_value(&self, value: &str) -> String {
        self.quote_string(value)
    }

    /// A quoted table or column name, refused if too long for the server.
    fn table_ident(&self, name: &str, ctx: &RenderContext) -> Result<String, RenderError> {
        if name.len() > ctx.capabilities.max_identifier_len {
            return Err(RenderError::IdentifierTooLong {
                dialect: self.name().to_string(),
                name: name.to_string(),
                limit: ctx.capabilities.max_identifier_len,
            });
        }
        Ok(self.quote_ident(name))
    }

    /// A quoted index or constraint name, shortened with a hash suffix if too long.
    fn object_ident(&self, name: &str, ctx: &RenderContext) -> String {
        self.quote_ident(&fit_identifier(name, ctx.capabilities.max_identifier_len))
    }

    fn ident_list(&self, names: &[String]) -> String {
        names
            .iter()
            .map(|n| self.quote_ident(n))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn bool_literal(&self, value: bool) -> &'static str {
        if value {
            "true"
        } else {
            "false"
        }
    }

    /// The `DEFAULT …` expression (without the keyword).
    fn default_sql(
        &self,
        default: &DefaultValue,
        column: &ColumnDef,
        ctx: &RenderContext,
    ) -> RenderResultOf<String> {
        let _ = ctx;
        Ok(match default {
            DefaultValue::Bool(b) => self.bool_literal(*b).to_string(),
            DefaultValue::Int(i) if column.ty == ColumnType::Duration => self.duration_literal(*i),
            DefaultValue::Int(i) => i.to_string(),
            DefaultValue::Float(f) => format!("{f:?}"),
            DefaultValue::Text(s) => self.quote_string(s),
            DefaultValue::Expr { expr } => self.default_expr_sql(*expr, column)?,
        })
    }

    /// A `duration` of `micros` microseconds as a literal of the column's SQL type:
    /// the number itself where a duration is stored as its microseconds.
    fn duration_literal(&self, micros: i64) -> String {
        micros.to_string()
    }

    fn default_expr_sql(&self, expr: DefaultExpr, column: &ColumnDef) -> RenderResultOf<String> {
        Ok(match (expr, column.ty) {
            (DefaultExpr::Now, ColumnType::Date) => "CURRENT_DATE".into(),
            (DefaultExpr::Now, ColumnType::Time) => "CURRENT_TIME".into(),
            (DefaultExpr::Now, _) => "CURRENT_TIMESTAMP".into(),
            (DefaultExpr::Uuid, _) => "gen_random_uuid()".into(),
        })
    }

    /// `"name" type [NOT] NULL [DEFAULT …]`; `inline_pk` adds the single-column key.
    fn column_sql(
        &self,
        column: &ColumnDef,
        inline_pk: bool,
        ctx: &RenderContext,
    ) -> RenderResultOf<String> {
        if let Some(generated) = &column.generated {
            return Ok(format!(
                "{} {}{}{}",
                self.table_ident(&column.name, ctx)?,
                self.column_type(column, ctx)?,
                self.generated_sql(&column.name, generated)?,
                if inline_pk { " PRIMARY KEY" } else { "" }
            ));
        }
        let mut sql = format!(
            "{} {}{} {}",
            self.table_ident(&column.name, ctx)?,
            self.column_type(column, ctx)?,
            self.collate_sql(column),
            if column.null { "NULL" } else { "NOT NULL" }
        );
        if let Some(default) = &column.default {
            sql.push_str(" DEFAULT ");
            sql.push_str(&self.default_sql(default, column, ctx)?);
        }
        if inline_pk {
            sql.push_str(" PRIMARY KEY");
        }
        if column.auto {
            sql.push(' ');
            sql.push_str(self.auto_increment_sql());
        }
        Ok(sql)
    }

    /// The key of this backend in a column's `collation` (`sqlite`, `postgres`,
    /// `mysql`); `None` renders no collation.
    fn collation_key(&self) -> Option<&'static str> {
        None
    }

    /// Where introspection leaves out a column collation equal to its table's
    /// default (MySQL cannot tell one given explicitly from one inherited): the query
    /// whose rows are (table, default collation) for the connected schema, so that
    /// drift compares such a collation equal to none. `None`: collations read back
    /// as given.
    fn table_collations_sql(&self) -> Option<&'static str> {
        None
    }

    /// ` COLLATE "name"` for `column` on this backend, or nothing for its default.
    fn collate_sql(&self, column: &ColumnDef) -> String {
        self.collation_key()
            .and_then(|key| column.collation.get(key))
            .map(|name| format!(" COLLATE {}", self.quote_ident(name)))
            .unwrap_or_default()
    }

    /// ` GENERATED ALWAYS AS (…) STORED | VIRTUAL`, in place of the nullability and
    /// default of a plain column (a generated column is nullable: MariaDB refuses
    /// `NOT NULL` on one). The expression is rendered from its parse tree.
    fn generated_sql(&self, column: &str, generated: &Generated) -> RenderResultOf<String> {
        Ok(format!(
            " GENERATED ALWAYS AS ({}) {}",
            self.expr_sql(&generated.expr, &format!("generated column `{column}`"))?,
            if generated.stored {
                "STORED"
            } else {
                "VIRTUAL"
            }
        ))
    }

    /// The clause after `PRIMARY KEY` that makes an auto column count by itself
    /// (`AUTOINCREMENT`, `GENERATED BY DEFAULT AS IDENTITY`, `AUTO_INCREMENT`).
    fn auto_increment_sql(&self) -> &'static str {
        "GENERATED BY DEFAULT AS IDENTITY"
    }

    fn foreign_key_sql(&self, fk: &ForeignKeyDef, ctx: &RenderContext) -> RenderResultOf<String> {
        let mut sql = format!(
            "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({})",
            self.object_ident(&fk.name, ctx),
            self.ident_list(&fk.columns),
            self.table_ident(&fk.references, ctx)?,
            self.ident_list(&fk.referenced_columns)
        );
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
        Ok(sql)
    }

    fn constraint_sql(
        &self,
        constraint: &Constraint,
        ctx: &RenderContext,
    ) -> RenderResultOf<String> {
        Ok(match constraint {
            Constraint::Unique { name, columns } => format!(
                "CONSTRAINT {} UNIQUE ({})",
                self.object_ident(name, ctx),
                self.ident_list(columns)
            ),
            Constraint::Check { name, expr } => format!(
                "CONSTRAINT {} CHECK ({})",
                self.object_ident(name, ctx),
                self.expr_sql(expr, &format!("check constraint `{name}`"))?
            ),
        })
    }

    // ---- expressions ----------------------------------------------------------------

    /// A check or partial-index expression in this dialect's SQL. The text is parsed
    /// again and written from the tree (identifiers by `quote_ident`, strings by
    /// `quote_string`, booleans by `bool_literal`, functions by `expr_function`), so
    /// DDL never contains the text as the user wrote it. `what` names it in an error.
    fn expr_sql(&self, text: &str, what: &str) -> RenderResultOf<String> {
        let parsed = expr::parse(text, None).map_err(|e| RenderError::Expression {
            what: what.to_string(),
            message: e.message,
        })?;
        Ok(expr::render(&parsed, &ExprDialect(self)))
    }

    /// The name of a portable function in this dialect.
    fn expr_function(&self, function: Function) -> &'static str {
        function.name()
    }

    /// The body lines of `CREATE TABLE` (columns, keys, constraints), without indexes.
    fn table_body(&self, t: &TableDef, ctx: &RenderContext) -> RenderResultOf<Vec<String>> {
        let inline_pk = t.primary_key.len() == 1;
        let mut lines = Vec::new();
        for c in &t.columns {
            let is_pk = inline_pk && t.primary_key[0] == c.name;
            lines.push(self.column_sql(c, is_pk, ctx)?);
        }
        if t.primary_key.len() > 1 {
            lines.push(format!("PRIMARY KEY ({})", self.ident_list(&t.primary_key)));
        }
        for u in &t.uniques {
            lines.push(self.constraint_sql(&unique(u), ctx)?);
        }
        for c in &t.checks {
            lines.push(self.constraint_sql(&check(c), ctx)?);
        }
        for c in &t.columns {
            for tc in type_checks::type_checks(&t.name, c, ctx.capabilities) {
                lines.push(self.constraint_sql(&type_check(tc), ctx)?);
            }
        }
        for fk in &t.foreign_keys {
            lines.push(self.foreign_key_sql(fk, ctx)?);
        }
        Ok(lines)
    }

    // ---- one method per operation -----------------------------------------------------

    /// Renders one operation against the state before it: the safe plan when
    /// `ctx.safe` asks for one, the plain statements otherwise. The caller has checked
    /// that the operation fits that state (`script::render_from` applies it first).
    fn render(&self, op: &Operation, ctx: &RenderContext) -> RenderResult {
        for (operation, table, fk) in created_foreign_keys(op) {
            if let Some(reason) = unsupported_foreign_key(fk, ctx.capabilities) {
                return Err(self.unsupported(operation, table, &reason));
            }
        }
        if !ctx.capabilities.virtual_generated_columns {
            if let Some((operation, table, column)) = virtual_generated_column(op) {
                return Err(self.unsupported(
                    operation,
                    table,
                    &format!(
                        "column `{column}` is a virtual generated column (computed when \
                         read), and this server has stored ones only; write \
                         `stored = true` (computed on write and kept on disk)"
                    ),
                ));
            }
        }
        if ctx.safe {
            self.render_safe(op, ctx)
        } else {
            self.render_plain(op, ctx)
        }
    }

    /// Renders `op` and, when it can, some of the operations that run right after it
    /// (`following`, in run order) together with it ([`Ahead`]): SQLite makes
    /// consecutive changes to one table that each need a table rebuild with one copy
    /// of the rows, in the statements of the last of them, each keeping its guards.
    /// Only sensible when nothing records progress between them
    /// (`ctx.in_transaction`). The default renders `op` alone.
    fn render_ahead(
        &self,
        op: &Operation,
        following: &[Operation],
        ctx: &RenderContext,
    ) -> RenderResultOf<Ahead> {
        let _ = following;
        Ok(Ahead {
            operations: vec![self.render(op, ctx)?],
            made_by: 0,
        })
    }

    /// The safe plan of an operation on a table the application may be using (see
    /// [`RenderContext::safe`]): statements that avoid long blocking locks, marked with
    /// how they must run ([`Runs`]). The default is the plain statements; a dialect
    /// overrides it for its server's online techniques, falling back on
    /// [`Dialect::render_plain`] for operations that need none.
    fn render_safe(&self, op: &Operation, ctx: &RenderContext) -> RenderResult {
        self.render_plain(op, ctx)
    }

    /// The plain statements of an operation: one method per operation below.
    fn render_plain(&self, op: &Operation, ctx: &RenderContext) -> RenderResult {
        match op {
            Operation::CreateTable(t) => self.create_table(t, ctx),
            Operation::DropTable(o) => self.drop_table(o, ctx),
            Operation::RenameTable(o) => self.rename_table(o, ctx),
            Operation::AddColumn(o) => self.add_column(o, ctx),
            Operation::DropColumn(o) => self.drop_column(o, ctx),
            Operation::RenameColumn(o) => self.rename_column(o, ctx),
            Operation::AlterColumn(o) => self.alter_column(o, ctx),
            Operation::CreateIndex(o) => self.create_index(&o.table, &o.index, ctx),
            Operation::DropIndex(o) => self.drop_index(o, ctx),
            Operation::RenameIndex(o) => self.rename_index(o, ctx),
            Operation::AddForeignKey(o) => self.add_foreign_key(o, ctx),
            Operation::DropForeignKey(o) => self.drop_foreign_key(o, ctx),
            Operation::AddConstraint(o) => self.add_constraint(o, ctx),
            Operation::DropConstraint(o) => self.drop_constraint(o, ctx),
            Operation::RunSql(o) => self.run_sql(o, ctx),
            Operation::RunCode(o) => Ok(self.run_code(o)),
            Operation::Backfill(o) => self.backfill(o, ctx),
            Operation::AlterTable(o) => self.alter_table(o, ctx),
        }
    }

    fn create_table(&self, t: &TableDef, ctx: &RenderContext) -> RenderResult {
        let body = self.table_body(t, ctx)?.join(",\n    ");
        let mut out = vec![Statement::new(format!(
            "CREATE TABLE {} (\n    {body}\n){}",
            self.table_ident(&t.name, ctx)?,
            self.table_options()
        ))];
        for index in &t.indexes {
            out.extend(self.create_index(&t.name, index, ctx)?);
        }
        let commented = t.columns.iter().filter(|c| c.comment.is_some());
        for c in commented.filter(|_| ctx.capabilities.column_comments) {
            out.extend(self.column_comment(&t.name, &c.name, c.comment.as_deref(), ctx)?);
        }
        if let Some(comment) = t
            .comment
            .as_deref()
            .filter(|_| ctx.capabilities.table_comments)
        {
            out.extend(self.table_comment(&t.name, Some(comment), ctx)?);
        }
        Ok(out)
    }

    /// Sets (or, with `None`, removes) a column's comment where it is a statement of
    /// its own: the SQL standard's `COMMENT ON COLUMN` (PostgreSQL). Called only with
    /// the `column_comments` capability; a dialect that writes the comment into the
    /// column definition (MySQL) renders it there instead.
    fn column_comment(
        &self,
        table: &str,
        column: &str,
        comment: Option<&str>,
        ctx: &RenderContext,
    ) -> RenderResult {
        Ok(vec![Statement::new(format!(
            "COMMENT ON COLUMN {}.{} IS {}",
            self.table_ident(table, ctx)?,
            self.quote_ident(column),
            comment.map_or_else(|| "NULL".to_string(), |c| self.string_value(c))
        ))])
    }

    /// A table's options: its comment, where the server keeps one (`table_comments`).
    fn alter_table(&self, o: &AlterTable, ctx: &RenderContext) -> RenderResult {
        if !ctx.capabilities.table_comments || (o.comment.is_none() && !o.drop_comment) {
            return Ok(Vec::new());
        }
        let comment = o.comment.as_deref().filter(|_| !o.drop_comment);
        self.table_comment(&o.table, comment, ctx)
    }

    /// Sets (or, with `None`, removes) a table's comment: the SQL standard's
    /// `COMMENT ON TABLE` (PostgreSQL). Called only with the `table_comments`
    /// capability.
    fn table_comment(
        &self,
        table: &str,
        comment: Option<&str>,
        ctx: &RenderContext,
    ) -> RenderResult {
        Ok(vec![Statement::new(format!(
            "COMMENT ON TABLE {} IS {}",
            self.table_ident(table, ctx)?,
            comment.map_or_else(|| "NULL".to_string(), |c| self.string_value(c))
        ))])
    }

    /// Text after the closing parenthesis of `CREATE TABLE` (e.g. MySQL's engine).
    fn table_options(&self) -> &'static str {
        ""
    }

    fn drop_table(&self, o: &DropTable, ctx: &RenderContext) -> RenderResult {
        Ok(vec![Statement::new(format!(
            "DROP TABLE {}",
            self.table_ident(&o.name, ctx)?
        ))])
    }

    fn rename_table(&self, o: &RenameTable, ctx: &RenderContext) -> RenderResult {
        let mut out = vec![Statement::new(format!(
            "ALTER TABLE {} RENAME TO {}",
            self.table_ident(&o.from, ctx)?,
            self.table_ident(&o.to, ctx)?
        ))];
        for c in &ctx.state.table(&o.from)?.columns {
            out.extend(self.rename_type_checks(&o.to, (&o.from, c), (&o.to, c), ctx)?);
        }
        Ok(out)
    }

    /// `RENAME CONSTRAINT` for the type checks of a column whose table or name
    /// changed (their names say both), where the server can rename a constraint.
    fn rename_type_checks(
        &self,
        table_now: &str,
        before: (&str, &ColumnDef),
        after: (&str, &ColumnDef),
        ctx: &RenderContext,
    ) -> RenderResultOf<Vec<Statement>> {
        if !ctx.capabilities.rename_constraint {
            return Ok(Vec::new());
        }
        let old = type_checks::type_checks(before.0, before.1, ctx.capabilities);
        let new = type_checks::type_checks(after.0, after.1, ctx.capabilities);
        let mut out = Vec::new();
        for (a, b) in old.iter().zip(&new).filter(|(a, b)| a.name != b.name) {
            out.push(Statement::new(format!(
                "ALTER TABLE {} RENAME CONSTRAINT {} TO {}",
                self.table_ident(table_now, ctx)?,
                self.object_ident(&a.name, ctx),
                self.object_ident(&b.name, ctx)
            )));
        }
        Ok(out)
    }

    fn add_column(&self, o: &AddColumn, ctx: &RenderContext) -> RenderResult {
        let mut sql = format!(
            "ALTER TABLE {} ADD COLUMN {}",
            self.table_ident(&o.table, ctx)?,
            self.column_sql(&o.column, false, ctx)?
        );
        for tc in type_checks::type_checks(&o.table, &o.column, ctx.capabilities) {
            sql.push_str(", ADD ");
            sql.push_str(&self.constraint_sql(&type_check(tc), ctx)?);
        }
        let mut out = vec![Statement::new(sql)];
        if let Some(comment) = o
            .column
            .comment
            .as_ref()
            .filter(|_| ctx.capabilities.column_comments)
        {
            out.extend(self.column_comment(&o.table, &o.column.name, Some(comment), ctx)?);
        }
        Ok(out)
    }

    fn drop_column(&self, o: &DropColumn, ctx: &RenderContext) -> RenderResult {
        Ok(vec![Statement::new(format!(
            "ALTER TABLE {} DROP COLUMN {}",
            self.table_ident(&o.table, ctx)?,
            self.quote_ident(&o.column)
        ))])
    }

    fn rename_column(&self, o: &RenameColumn, ctx: &RenderContext) -> RenderResult {
        let mut out = vec![Statement::new(format!(
            "ALTER TABLE {} RENAME COLUMN {} TO {}",
            self.table_ident(&o.table, ctx)?,
            self.quote_ident(&o.from),
            self.table_ident(&o.to, ctx)?
        ))];
        if let Some(c) = ctx.state.table(&o.table)?.column(&o.from) {
            let renamed = ColumnDef {
                name: o.to.clone(),
                ..c.clone()
            };
            out.extend(self.rename_type_checks(
                &o.table,
                (&o.table, c),
                (&o.table, &renamed),
                ctx,
            )?);
        }
        Ok(out)
    }

    /// Standard `ALTER COLUMN … TYPE / SET NOT NULL / SET DEFAULT` clauses in one
    /// statement, after the guards of [`Dialect::column_change_guards`]. A default is
    /// taken off before a type change and put back after it, rendered for the new
    /// type: a server converts the old default expression before any `SET DEFAULT` of
    /// the same statement, and refuses one it cannot cast (text `'5'` → integer).
    /// PostgreSQL runs `DROP DEFAULT` subcommands before type changes and `SET
    /// DEFAULT` after them, so one statement does it.
    fn alter_column(&self, o: &AlterColumn, ctx: &RenderContext) -> RenderResult {
        let table = ctx.state.table(&o.table)?;
        let old = table
            .column(&o.column)
            .ok_or_else(|| StateError::NoSuchColumn {
                table: o.table.clone(),
                column: o.column.clone(),
            })?;
        let col = self.quote_ident(&o.column);
        let mut new = type_checks::retyped(old, o);
        let recast_default = o.ty.is_some_and(|ty| ty != old.ty) && old.default.is_some();
        let mut clauses = Vec::new();
        let old_checks = type_checks::type_checks(&o.table, old, ctx.capabilities);
        let new_checks = type_checks::type_checks(&o.table, &new, ctx.capabilities);
        for gone in old_checks.iter().filter(|c| !new_checks.contains(c)) {
            clauses.push(format!(
                "DROP CONSTRAINT {}",
                self.object_ident(&gone.name, ctx)
            ));
        }
        if recast_default {
            clauses.push(format!("ALTER COLUMN {col} DROP DEFAULT"));
        }
        if let Some(ty) = o.ty {
            new.ty = ty;
            let sql_type = self.column_type(&new, ctx)?;
            // `int` → `int unsigned` where both are `integer`: only the type check
            // changes.
            if ty == old.ty
                || sql_type != self.column_type(old, ctx)?
                || new.collation != old.collation
            {
                clauses.push(format!(
                    "ALTER COLUMN {col} TYPE {sql_type}{}{}",
                    self.collate_sql(&new),
                    self.type_change_using(&o.column, old.ty, ty, &sql_type)
                ));
            }
        } else if self.collate_sql(&new) != self.collate_sql(old) {
            // A collation is set with the type; back to the default is `COLLATE "default"`.
            let collate = match self.collate_sql(&new) {
                none if none.is_empty() => " COLLATE \"default\"".to_string(),
                some => some,
            };
            clauses.push(format!(
                "ALTER COLUMN {col} TYPE {}{collate}",
                self.column_type(&new, ctx)?
            ));
        }
        if let Some(null) = o.null {
            new.null = null;
            clauses.push(format!(
                "ALTER COLUMN {col} {} NOT NULL",
                if null { "DROP" } else { "SET" }
            ));
        }
        let kept_default = recast_default && !o.drop_default;
        let default = o
            .default
            .as_ref()
            .or_else(|| old.default.as_ref().filter(|_| kept_default));
        if let Some(default) = default {
            clauses.push(format!(
                "ALTER COLUMN {col} SET DEFAULT {}",
                self.default_sql(default, &new, ctx)?
            ));
        }
        if o.drop_default && !recast_default {
            clauses.push(format!("ALTER COLUMN {col} DROP DEFAULT"));
        }
        for added in new_checks.iter().filter(|c| !old_checks.contains(c)) {
            clauses.push(format!(
                "ADD {}",
                self.constraint_sql(&type_check(added.clone()), ctx)?
            ));
        }
        let comment = if !ctx.capabilities.column_comments {
            Vec::new()
        } else if o.drop_comment {
            self.column_comment(&o.table, &o.column, None, ctx)?
        } else if let Some(comment) = &o.comment {
            self.column_comment(&o.table, &o.column, Some(comment), ctx)?
        } else {
            Vec::new()
        };
        if clauses.is_empty() {
            return Ok(comment);
        }
        let mut out = self.column_change_guards(&o.table, old, &new, ctx)?;
        out.push(Statement::new(format!(
            "ALTER TABLE {} {}",
            self.table_ident(&o.table, ctx)?,
            clauses.join(", ")
        )));
        out.extend(comment);
        Ok(out)
    }

    /// A conversion clause for a type change (PostgreSQL's `USING`); none by default.
    /// It must never change a value the guards let through: no cast that truncates.
    fn type_change_using(
        &self,
        column: &str,
        from: ColumnType,
        to: ColumnType,
        sql_type: &str,
    ) -> String {
        let _ = (column, from, to, sql_type);
        String::new()
    }

    /// Guards that make a column change fail before anything changes when a row does
    /// not fit the column's new definition: a value the new type would truncate,
    /// round or drop ([`ColumnType::fit`]), or a NULL where the column becomes
    /// `NOT NULL`. Each counts those rows; the count is what the error shows. Every
    /// dialect's column change starts with these, so the same migration fails on the
    /// same data everywhere, whatever the server itself would have done.
    fn column_change_guards(
        &self,
        table: &str,
        old: &ColumnDef,
        new: &ColumnDef,
        ctx: &RenderContext,
    ) -> RenderResultOf<Vec<Statement>> {
        let quoted_table = self.table_ident(table, ctx)?;
        let col = self.quote_ident(&old.name);
        let count = |condition: String| {
            format!(
                "SELECT misfits FROM (SELECT count(*) AS misfits FROM {quoted_table} \
                 WHERE {condition}) AS counted WHERE misfits > 0"
            )
        };
        let mut out = Vec::new();
        if let Some(fit) = old.ty.fit(new.ty) {
            let condition = match fit {
                Fit::Nothing => format!("{col} IS NOT NULL"),
                _ => format!(
                    "{col} IS NOT NULL AND ({})",
                    self.misfit_sql(&col, old.ty, fit)
                ),
            };
            out.push(Statement::guard(
                count(condition),
                format!(
                    "alter_column: table `{table}`, column `{}`: rows hold values {} \
                     (their number is under `rows`), which type `{}` cannot hold \
                     unchanged (it is `{}` now); this change was not made. Fix or delete \
                     those rows first (a run_sql operation before this one), or keep \
                     a type they fit",
                    old.name,
                    fit.describe(),
                    new.ty,
                    old.ty
                ),
            ));
        }
        if old.null && !new.null {
            out.push(Statement::guard(
                count(format!("{col} IS NULL")),
                format!(
                    "alter_column: table `{table}`, column `{}` becomes NOT NULL, but rows \
                     hold NULL in it (their number is under `rows`); this change was not \
                     made. Fill them in first (a run_sql UPDATE before this operation), \
                     or keep the column nullable",
                    old.name
                ),
            ));
        }
        Ok(out)
    }

    /// The condition under which `value`, a non-null column of type `from`, does not
    /// fit `fit`: standard SQL, PostgreSQL's spelling. Computed in exact `numeric`
    /// (PostgreSQL has no two-argument `round` for floating point).
    fn misfit_sql(&self, value: &str, from: ColumnType, fit: Fit) -> String {
        let _ = from;
        let number = format!("CAST({value} AS numeric)");
        match fit {
            Fit::Chars(n) => format!("char_length(CAST({value} AS text)) > {n}"),
            Fit::Integer { min, max, whole } => {
                let range = format!("{value} < {min} OR {value} > {max}");
                if whole {
                    format!("{range} OR {number} <> round({number})")
                } else {
                    range
                }
            }
            Fit::Decimal { precision, scale } => format!(
                "{number} <> round({number}, {scale}) OR abs({number}) >= {}",
                power_of_ten(precision - scale)
            ),
            Fit::RealRange => format!("abs({value}) > {REAL_MAX:e}"),
            Fit::Exact { limit } => format!("{value} > {limit} OR {value} < -{limit}"),
            Fit::Bool => format!("{value} NOT IN (0, 1)"),
            Fit::Midnight => format!("CAST({value} AS time) <> TIME '00:00:00'"),
            Fit::Nothing => "1 = 1".into(),
        }
    }

    fn create_index(&self, table: &str, index: &IndexDef, ctx: &RenderContext) -> RenderResult {
        let written = index::check_support(self, "create_index", table, index, ctx)?;
        let mut sql = format!(
            "CREATE {}INDEX {}{} ON {}{} ({})",
            if index.unique { "UNIQUE " } else { "" },
            if !ctx.in_transaction && ctx.capabilities.concurrent_index {
                "CONCURRENTLY "
            } else {
                ""
            },
            self.object_ident(&index.name, ctx),
            self.table_ident(table, ctx)?,
            match index.method {
                Some(m) if ctx.capabilities.index_methods => format!(" USING {}", m.name()),
                _ => String::new(),
            },
            index::keys_sql(self, index, ctx)?
        );
        if !index.include.is_empty() {
            let _ = write!(sql, " INCLUDE ({})", self.ident_list(&index.include));
        }
        if index.nulls_not_distinct {
            sql.push_str(" NULLS NOT DISTINCT");
        }
        match (&index.predicate, written) {
            (Some(predicate), index::Predicate::Written) => {
                sql.push_str(" WHERE ");
                sql.push_str(
                    &self.expr_sql(predicate, &format!("the `where` of index `{}`", index.name))?,
                );
            }
            (Some(_), index::Predicate::Dropped) => {
                sql = format!("{} {sql}", index::plain_note(self, index));
            }
            (None, _) => {}
        }
        Ok(vec![Statement::new(sql)])
    }

    fn drop_index(&self, o: &DropIndex, ctx: &RenderContext) -> RenderResult {
        Ok(vec![Statement::new(format!(
            "DROP INDEX {}{}",
            if !ctx.in_transaction && ctx.capabilities.concurrent_index {
                "CONCURRENTLY "
            } else {
                ""
            },
            self.object_ident(&o.name, ctx)
        ))])
    }

    fn rename_index(&self, o: &RenameIndex, ctx: &RenderContext) -> RenderResult {
        Ok(vec![Statement::new(format!(
            "ALTER INDEX {} RENAME TO {}",
            self.object_ident(&o.from, ctx),
            self.object_ident(&o.to, ctx)
        ))])
    }

    fn add_foreign_key(&self, o: &AddForeignKey, ctx: &RenderContext) -> RenderResult {
        Ok(vec![Statement::new(format!(
            "ALTER TABLE {} ADD {}",
            self.table_ident(&o.table, ctx)?,
            self.foreign_key_sql(&o.foreign_key, ctx)?
        ))])
    }

    fn drop_foreign_key(&self, o: &DropForeignKey, ctx: &RenderContext) -> RenderResult {
        Ok(vec![Statement::new(format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            self.table_ident(&o.table, ctx)?,
            self.object_ident(&o.name, ctx)
        ))])
    }

    fn add_constraint(&self, o: &AddConstraint, ctx: &RenderContext) -> RenderResult {
        Ok(vec![Statement::new(format!(
            "ALTER TABLE {} ADD {}",
            self.table_ident(&o.table, ctx)?,
            self.constraint_sql(&o.constraint, ctx)?
        ))])
    }

    fn drop_constraint(&self, o: &DropConstraint, ctx: &RenderContext) -> RenderResult {
        Ok(vec![Statement::new(format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            self.table_ident(&o.table, ctx)?,
            self.object_ident(&o.name, ctx)
        ))])
    }

    fn run_sql(&self, o: &RunSql, ctx: &RenderContext) -> RenderResult {
        let _ = ctx;
        let mut keys = self.run_sql_keys();
        keys.push("default");
        match o.sql.for_keys(&keys) {
            // One statement each, so the executor records progress per statement and
            // no driver is ever handed several at once.
            Some(sql) if !o.split => Ok(vec![Statement {
                compound: true,
                ..Statement::new(sql.trim().trim_end_matches(';'))
            }]),
            Some(sql) => crate::script::split_statements(&*self.sql_lexer(), sql)
                .map(|statements| statements.into_iter().map(Statement::new).collect())
                .map_err(|e| self.unsupported("run_sql", "-", &e.to_string())),
            None => Err(self.unsupported(
                "run_sql",
                "-",
                &format!(
                    "the operation has no SQL for {} (looked for: {})",
                    self.name(),
                    keys.join(", ")
                ),
            )),
        }
    }

    /// A call of the application's function, in the migration's transaction where it
    /// has one.
    fn run_code(&self, o: &RunCode) -> Vec<Statement> {
        vec![Statement {
            call: Some(Call {
                function: o.name.clone(),
            }),
            ..Statement::new(Call::placeholder(&o.name))
        }]
    }

    /// A backfill: one statement outside any transaction (its batches commit one by
    /// one), carrying the batch SQL of this dialect; shown as the UPDATE of one batch.
    /// Its rollback renders nothing.
    fn backfill(&self, o: &Backfill, ctx: &RenderContext) -> RenderResult {
        if o.undo {
            return Ok(Vec::new());
        }
        let table = ctx.state.table(&o.table)?;
        let [key] = &table.primary_key[..] else {
            return Err(self.unsupported(
                "backfill",
                &o.table,
                "a backfill walks a one-column primary key",
            ));
        };
        let numeric_key = table.column(key).is_some_and(|c| c.ty.is_integer());
        let set = match (&o.set, &o.set_sql) {
            (Some(set), _) => set
                .iter()
                .map(|(column, value)| {
                    let what = format!("backfill of `{}`: the value set in `{column}`", o.table);
                    Ok(format!(
                        "{} = {}",
                        self.table_ident(column, ctx)?,
                        self.expr_sql(value, &what)?
                    ))
                })
                .collect::<RenderResultOf<Vec<_>>>()?
                .join(", "),
            (None, Some(sql)) => {
                let mut keys = self.run_sql_keys();
                keys.push("default");
                sql.for_keys(&keys)
                    .ok_or_else(|| {
                        self.unsupported(
                            "backfill",
                            &o.table,
                            &format!(
                                "`set_sql` has no SET list for {} (looked for: {})",
                                self.name(),
                                keys.join(", ")
                            ),
                        )
                    })?
                    .trim()
                    .to_string()
            }
            (None, None) => {
                return Err(self.unsupported("backfill", &o.table, "it has no `set`"));
            }
        };
        let predicate = o
            .predicate
            .as_deref()
            .map(|p| self.expr_sql(p, &format!("backfill of `{}`: the `where`", o.table)))
            .transpose()?;
        let sql = BackfillSql {
            table: o.table.clone(),
            key_name: key.clone(),
            quoted_table: self.table_ident(&o.table, ctx)?,
            quoted_key: self.quote_ident(key),
            numeric_key,
            set,
            predicate,
            batch_size: o.batch_size,
            pause: o.pause,
        };
        let shown = sql.update(Some("<last key>"), "<batch end>");
        Ok(vec![Statement {
            backfill: Some(Box::new(sql)),
            ..Statement::outside(shown)
        }])
    }

    /// The keys a per-dialect `run_sql` is looked up by, in order, before `default`:
    /// the dialect's own name, then the family it belongs to (MariaDB runs SQL
    /// written for MySQL unless the migration gives it its own).
    fn run_sql_keys(&self) -> Vec<&'static str> {
        vec![self.name()]
    }

    // ---- raw SQL ------------------------------------------------------------------------

    /// The tokenizer's view of this database's SQL (its quotes and comments): splits a
    /// `run_sql` into statements and lets a driver check it runs exactly one.
    fn sql_lexer(&self) -> Box<dyn sqlparser::dialect::Dialect> {
        Box::new(sqlparser::dialect::GenericDialect {})
    }

    /// Whether `sql`, run step by step (outside a migration transaction), goes in one
    /// transaction with the checkpoint after it (`BEGIN`, it, checkpoint, `COMMIT`), so
    /// a crash never leaves it done without its checkpoint (data statements: a rerun
    /// would run them again). `false`, the default, runs it alone and records the
    /// checkpoint after it: right for DDL, which commits implicitly or must not run
    /// in a transaction (`CREATE INDEX CONCURRENTLY`).
    fn commits_with_checkpoint(&self, sql: &str) -> bool {
        let _ = sql;
        false
    }

    /// An SQL expression for the whole milliseconds since the current transaction
    /// began plus `offset_ms` (negative when what is timed started later), never
    /// below 0: so that the history row sent together with a transaction's
    /// statements, before they have run, records how long they took. `None`, the
    /// default, where the database cannot tell: the row is then built once they ran.
    fn millis_since_begin(&self, offset_ms: i128) -> Option<String> {
        let _ = offset_ms;
        None
    }

    // ---- locks and recovery ---------------------------------------------------------

    /// What `statement`, one of `op`'s rendered statements, does to the table while it
    /// runs: the lock it takes, what that lock blocks, and whether it reads or
    /// rewrites the table. `sqlmigrate --explain` prints it; `lint` judges by it.
    /// `ctx` is the context `op` was rendered in. The default is the conservative
    /// answer of standard SQL (see [`LockNote::conservative`]).
    fn explain(&self, op: &Operation, statement: &Statement, ctx: &RenderContext) -> LockNote {
        let _ = ctx;
        LockNote::conservative(op, statement)
    }

    /// Statements that undo what part of `op`'s rendering leaves behind when it stops
    /// between statements run outside one transaction (a `NOT VALID` constraint whose
    /// `VALIDATE` failed, an index built concurrently before the step that attaches
    /// it). Each must succeed when there is nothing to undo (`IF EXISTS`). The
    /// executor runs them, errors ignored, after such an operation fails and before it
    /// runs again from its first statement. None by default.
    fn cleanup(&self, op: &Operation, ctx: &RenderContext) -> RenderResultOf<Vec<Statement>> {
        let _ = (op, ctx);
        Ok(Vec::new())
    }

    // ---- transactions -----------------------------------------------------------------

    /// The statements around a transactional migration.
    fn transaction_sql(&self) -> TransactionSql {
        TransactionSql {
            before: Vec::new(),
            begin: vec![Statement::new("BEGIN")],
            commit: vec![Statement::new("COMMIT")],
            after: Vec::new(),
        }
    }

    // ---- helpers ----------------------------------------------------------------------

    fn unsupported(&self, operation: &'static str, table: &str, reason: &str) -> RenderError {
        RenderError::Unsupported {
            operation,
            table: table.to_string(),
            dialect: self.name().to_string(),
            reason: reason.to_string(),
        }
    }
}

pub type RenderResultOf<T> = Result<T, RenderError>;

/// The foreign keys `op` creates, with the operation's name and table.
fn created_foreign_keys(op: &Operation) -> Vec<(&'static str, &str, &ForeignKeyDef)> {
    match op {
        Operation::CreateTable(t) => t
            .foreign_keys
            .iter()
            .map(|f| ("create_table", t.name.as_str(), f))
            .collect(),
        Operation::AddForeignKey(o) => vec![("add_foreign_key", o.table.as_str(), &o.foreign_key)],
        _ => Vec::new(),
    }
}

/// Why a server with `capabilities` cannot create `fk` as written, if it cannot.
fn unsupported_foreign_key(fk: &ForeignKeyDef, capabilities: &Capabilities) -> Option<String> {
    if fk.deferrable.is_some() && !capabilities.deferrable_constraints {
        return Some(format!(
            "foreign key `{}` is deferrable (`deferrable = \"{}\"`), and this server \
             checks foreign keys row by row with no deferral; remove `deferrable` (the key \
             is then checked after each statement)",
            fk.name,
            fk.deferrable.map_or("", Deferrable::name)
        ));
    }
    let set_default = [("on_delete", fk.on_delete), ("on_update", fk.on_update)]
        .into_iter()
        .find(|(_, action)| *action == Some(FkAction::SetDefault));
    match set_default {
        Some((key, _)) if !capabilities.set_default_actions => Some(format!(
            "foreign key `{}` has `{key} = \"set default\"`, which InnoDB does not \
             implement (MariaDB would silently enforce `restrict` instead); choose `set null`, \
             `cascade`, `restrict` or `no action`",
            fk.name
        )),
        _ => None,
    }
}

/// The first virtual generated column `op` creates, with the operation's name and
/// table: what a server with stored generated columns only refuses.
fn virtual_generated_column(op: &Operation) -> Option<(&'static str, &str, &str)> {
    let virtual_one = |c: &ColumnDef| c.generated.as_ref().is_some_and(|g| !g.stored);
    match op {
        Operation::CreateTable(t) => t
            .columns
            .iter()
            .find(|c| virtual_one(c))
            .map(|c| ("create_table", t.name.as_str(), c.name.as_str())),
        Operation::AddColumn(o) => virtual_one(&o.column).then_some((
            "add_column",
            o.table.as_str(),
            o.column.name.as_str(),
        )),
        _ => None,
    }
}

/// A dialect as the expression renderer sees it.
struct ExprDialect<'a, D: ?Sized>(&'a D);

impl<D: Dialect + ?Sized> ExprStyle for ExprDialect<'_, D> {
    fn ident(&self, name: &str) -> String {
        self.0.quote_ident(name)
    }
    fn string(&self, value: &str) -> String {
        self.0.quote_string(value)
    }
    fn boolean(&self, value: bool) -> String {
        self.0.bool_literal(value).to_string()
    }
    fn function(&self, f: Function) -> String {
        self.0.expr_function(f).to_string()
    }
}

/// `10^exponent` as an exact literal (`1000`): a float (`1e3`) would compare inexactly
/// with a large decimal.
pub fn power_of_ten(exponent: u8) -> String {
    format!("1{}", "0".repeat(usize::from(exponent)))
}

/// The unique constraint of a table as a `Constraint`.
pub fn unique(u: &UniqueDef) -> Constraint {
    Constraint::Unique {
        name: u.name.clone(),
        columns: u.columns.clone(),
    }
}

/// The check constraint of a table as a `Constraint`.
/// A type check as the constraint it is created as.
pub fn type_check(c: type_checks::TypeCheck) -> Constraint {
    Constraint::Check {
        name: c.name,
        expr: c.expr,
    }
}

pub fn check(c: &CheckDef) -> Constraint {
    Constraint::Check {
        name: c.name.clone(),
        expr: c.expr.clone(),
    }
}

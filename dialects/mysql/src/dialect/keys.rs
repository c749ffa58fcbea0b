//! Indexes, unique constraints and foreign keys: the statements that change a
//! table's keys, each one `ALTER TABLE` that also keeps the foreign keys' supporting
//! indexes right (see `fk_index`).

use strata_engine::ast::{ColumnDef, FkAction, ForeignKeyDef, IndexDef, Operation, TableDef};
use strata_engine::dialect::index;
use strata_engine::dialect::{RenderResult, RenderResultOf};
use strata_engine::{Dialect, RenderContext, Statement};

use super::{fk_index, types, MysqlDialect};

impl MysqlDialect {
    /// `ALTER TABLE <table> <clauses>` for `op`, with the supporting-index changes the
    /// operation makes necessary: created before the main clauses (an index a new
    /// foreign key can use), dropped after them, all in one statement.
    pub(crate) fn alter_keys(
        self,
        table: &str,
        op: &Operation,
        main: Vec<String>,
        ctx: &RenderContext,
    ) -> RenderResult {
        let mut after_state = ctx.state.clone();
        after_state.apply(op)?;
        let before = ctx.state.table(table)?;
        let after = after_state.table(table)?;
        let upkeep = fk_index::upkeep(before, after);
        let clauses: Vec<String> = upkeep
            .create
            .iter()
            .map(|fk| format!("ADD {}", self.supporting_index(fk, ctx)))
            .chain(main)
            .chain(
                upkeep
                    .drop
                    .iter()
                    .map(|name| format!("DROP INDEX {}", self.object_ident(name, ctx))),
            )
            .collect();
        Ok(vec![Statement::new(format!(
            "ALTER TABLE {} {}",
            self.table_ident(table, ctx)?,
            clauses.join(", ")
        ))])
    }

    /// `CONSTRAINT … FOREIGN KEY … REFERENCES … ON DELETE … ON UPDATE …`, with
    /// `NO ACTION` spelled out for an action the migration leaves unsaid.
    pub(crate) fn foreign_key_definition(
        self,
        fk: &ForeignKeyDef,
        ctx: &RenderContext,
    ) -> RenderResultOf<String> {
        let action = |a: Option<FkAction>| a.unwrap_or(FkAction::NoAction).sql();
        Ok(format!(
            "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {}",
            self.object_ident(&fk.name, ctx),
            self.ident_list(&fk.columns),
            self.table_ident(&fk.references, ctx)?,
            self.ident_list(&fk.referenced_columns),
            action(fk.on_delete),
            action(fk.on_update)
        ))
    }

    /// `INDEX <fk name> (<fk columns>)`: a foreign key's own supporting index.
    pub(crate) fn supporting_index(self, fk: &ForeignKeyDef, ctx: &RenderContext) -> String {
        format!(
            "INDEX {} ({})",
            self.object_ident(&fk.name, ctx),
            self.ident_list(&fk.columns)
        )
    }

    /// `[UNIQUE] INDEX name (columns)`, as `CREATE TABLE` and `ADD` write it.
    pub(crate) fn index_clause(
        self,
        operation: &'static str,
        table: &TableDef,
        index: &IndexDef,
        ctx: &RenderContext,
    ) -> RenderResultOf<String> {
        let written = index::check_support(&self, operation, &table.name, index, ctx)?;
        // A prefix length is what makes a text or bytes column indexable here.
        let whole: Vec<String> = index
            .columns
            .iter()
            .filter(|c| !index.lengths.contains_key(*c))
            .cloned()
            .collect();
        self.require_indexable(operation, table, &whole, &format!("index `{}`", index.name))?;
        let note = match written {
            index::Predicate::Dropped => format!(" {}", index::plain_note(&self, index)),
            index::Predicate::Written => String::new(),
        };
        Ok(format!(
            "{}INDEX {} ({}){note}",
            if index.unique { "UNIQUE " } else { "" },
            self.object_ident(&index.name, ctx),
            index::keys_sql(&self, index, ctx)?
        ))
    }

    /// Refuses a key over a `longtext`, `longblob` or `json` column: the servers
    /// index those only with a prefix length, which a neutral migration cannot give.
    pub(crate) fn require_indexable(
        self,
        operation: &'static str,
        table: &TableDef,
        columns: &[String],
        what: &str,
    ) -> RenderResultOf<()> {
        let unindexable = columns
            .iter()
            .filter_map(|name| table.column(name))
            .find(|c| !types::indexable(c.ty));
        match unindexable {
            None => Ok(()),
            Some(c) => Err(self.unsupported(
                operation,
                &table.name,
                &format!(
                    "{what} covers `{}`, a {} column; MySQL and MariaDB index text, bytes \
                     and json columns only with a prefix length — use varchar(n) or drop the key",
                    c.name, c.ty
                ),
            )),
        }
    }

    /// A column turning into `longtext`/`longblob`/`json` must not be in any key:
    /// the server would refuse the `MODIFY` for want of a prefix length.
    pub(crate) fn refuse_unindexable_key_column(
        self,
        table: &TableDef,
        column: &ColumnDef,
    ) -> RenderResultOf<()> {
        let name = &column.name;
        let uses = |cols: &[String]| cols.iter().any(|c| c == name);
        let key = if uses(&table.primary_key) {
            Some("the primary key".to_string())
        } else {
            table
                .indexes
                .iter()
                .find(|i| uses(&i.columns))
                .map(|i| format!("index `{}`", i.name))
                .or_else(|| {
                    table
                        .uniques
                        .iter()
                        .find(|u| uses(&u.columns))
                        .map(|u| format!("unique constraint `{}`", u.name))
                })
                .or_else(|| {
                    table
                        .foreign_keys
                        .iter()
                        .find(|f| uses(&f.columns))
                        .map(|f| format!("foreign key `{}`", f.name))
                })
        };
        match key {
            None => Ok(()),
            Some(key) => Err(self.unsupported(
                "alter_column",
                &table.name,
                &format!(
                    "`{name}` would become {}, but {key} covers it; MySQL and MariaDB index \
                     text, bytes and json columns only with a prefix length — drop the key first",
                    column.ty
                ),
            )),
        }
    }
}

//! The state effect of each operation. Every check runs before the first change,
//! so a refused operation leaves the state exactly as it was.

use std::collections::HashSet;
use std::sync::Arc;

use super::{SchemaState, StateError};
use crate::ast::*;
use crate::expr::{self, Scope};
use crate::types::ColumnType;

impl SchemaState {
    /// Applies `op` to the state, or says why it does not fit.
    pub fn apply(&mut self, op: &Operation) -> Result<(), StateError> {
        for (what, name) in new_names(op) {
            check_name(what, name)?;
        }
        match op {
            Operation::CreateTable(t) => self.create_table(t),
            Operation::DropTable(o) => self.drop_table(&o.name),
            Operation::RenameTable(o) => self.rename_table(&o.from, &o.to),
            Operation::AddColumn(o) => self.add_column(&o.table, &o.column),
            Operation::DropColumn(o) => self.drop_column(&o.table, &o.column),
            Operation::RenameColumn(o) => self.rename_column(&o.table, &o.from, &o.to),
            Operation::AlterColumn(o) => self.alter_column(o),
            Operation::CreateIndex(o) => self.create_index(&o.table, &o.index),
            Operation::DropIndex(o) => self.drop_index(&o.table, &o.name),
            Operation::RenameIndex(o) => self.rename_index(&o.table, &o.from, &o.to),
            Operation::AddForeignKey(o) => self.add_foreign_key(&o.table, &o.foreign_key),
            Operation::DropForeignKey(o) => self.drop_foreign_key(&o.table, &o.name),
            Operation::AddConstraint(o) => self.add_constraint(&o.table, &o.constraint),
            Operation::DropConstraint(o) => self.drop_constraint(&o.table, &o.name),
            Operation::RunSql(_) | Operation::RunCode(_) => Ok(()),
            Operation::Backfill(o) => self.check_backfill(o),
            Operation::AlterTable(o) => self.alter_table(o),
        }
    }

    fn alter_table(&mut self, o: &AlterTable) -> Result<(), StateError> {
        if o.comment.is_some() && o.drop_comment {
            return Err(StateError::Invalid(format!(
                "alter_table `{}` both sets and drops the comment",
                o.table
            )));
        }
        let t = self.table_mut(&o.table)?;
        if o.drop_comment {
            t.comment = None;
        }
        if let Some(comment) = &o.comment {
            t.comment = Some(comment.clone());
        }
        Ok(())
    }

    /// A backfill changes no schema, but what it names must exist: its table, with a
    /// one-column primary key to walk, the columns it sets, and expressions over them.
    fn check_backfill(&self, o: &Backfill) -> Result<(), StateError> {
        if let Some(problem) = o.problem() {
            return Err(StateError::Invalid(format!(
                "table `{}`: {problem}",
                o.table
            )));
        }
        let t = self.table(&o.table)?;
        if t.primary_key.len() != 1 {
            return Err(StateError::Invalid(format!(
                "backfill: table `{}` has {}, but a backfill walks the table by a one-column primary key",
                o.table,
                match t.primary_key.len() {
                    0 => "no primary key".to_string(),
                    n => format!("a primary key of {n} columns"),
                }
            )));
        }
        for (column, value) in o.set.iter().flatten() {
            if t.primary_key.contains(column) {
                // The walk's cursor is a key value: a row whose key moves ahead of it
                // is met, and updated, again.
                return Err(StateError::Invalid(format!(
                    "backfill: table `{}`: `set` changes `{column}`, the primary key the backfill walks (a row moved ahead of the batch would be updated again)",
                    o.table
                )));
            }
            if t.column(column).is_none() {
                return Err(StateError::NoSuchColumn {
                    table: o.table.clone(),
                    column: column.clone(),
                });
            }
            require_expression(t, value, &format!("backfill: the value set in `{column}`"))?;
        }
        if let Some(predicate) = &o.predicate {
            require_expression(t, predicate, "backfill: the `where`")?;
        }
        Ok(())
    }

    fn create_table(&mut self, t: &TableDef) -> Result<(), StateError> {
        if self.tables.contains_key(&t.name) {
            return Err(StateError::TableExists {
                table: t.name.clone(),
            });
        }
        if t.columns.is_empty() {
            return Err(StateError::Invalid(format!(
                "table `{}` has no columns",
                t.name
            )));
        }
        let mut seen = HashSet::new();
        for c in &t.columns {
            if !seen.insert(c.name.as_str()) {
                return Err(StateError::ColumnExists {
                    table: t.name.clone(),
                    column: c.name.clone(),
                });
            }
            check_column(&t.name, c)?;
        }
        require_columns(t, &t.primary_key)?;
        let autos: Vec<_> = t.columns.iter().filter(|c| c.auto).collect();
        if let Some(auto) = autos.first() {
            if autos.len() > 1 || t.primary_key != [auto.name.clone()] {
                return Err(StateError::Invalid(format!(
                    "auto column `{}.{}` must be the table's whole primary key",
                    t.name, auto.name
                )));
            }
        }
        for pk in &t.primary_key {
            if t.column(pk).is_some_and(|c| c.null) {
                return Err(StateError::Invalid(format!(
                    "primary key column `{}.{pk}` cannot be nullable",
                    t.name
                )));
            }
        }
        let mut names = HashSet::new();
        for name in t.object_names() {
            if !names.insert(name) || self.owner_of(name).is_some() {
                return Err(StateError::NameTaken {
                    table: t.name.clone(),
                    name: name.to_string(),
                });
            }
        }
        for i in &t.indexes {
            require_index(t, i)?;
        }
        for c in &t.checks {
            require_expression(t, &c.expr, &format!("check constraint `{}`", c.name))?;
        }
        for c in &t.columns {
            require_generation(t, c)?;
        }
        for u in &t.uniques {
            require_some_columns(&t.name, &u.name, &u.columns)?;
            require_columns(t, &u.columns)?;
            require_not_primary_key(t, &u.name, &u.columns)?;
        }
        for fk in &t.foreign_keys {
            require_columns(t, &fk.columns)?;
            // A table may reference itself, so look in the new table first.
            let target = if fk.references == t.name {
                t
            } else {
                self.table(&fk.references)?
            };
            check_fk_target(t, fk, target)?;
        }
        self.tables.insert(t.name.clone(), Arc::new(t.clone()));
        Ok(())
    }

    fn drop_table(&mut self, name: &str) -> Result<(), StateError> {
        self.table(name)?;
        if let Some((other, fk)) = self.foreign_keys_into(name).find(|(t, _)| *t != name) {
            return Err(StateError::InUse {
                what: format!("table `{name}`"),
                object: format!("foreign key {other}.{}", fk.name),
            });
        }
        self.tables.remove(name);
        Ok(())
    }

    fn rename_table(&mut self, from: &str, to: &str) -> Result<(), StateError> {
        self.table(from)?;
        if self.tables.contains_key(to) {
            return Err(StateError::TableExists {
                table: to.to_string(),
            });
        }
        let mut table = self.tables.remove(from).expect("checked above");
        Arc::make_mut(&mut table).name = to.to_string();
        self.tables.insert(to.to_string(), table);
        for t in self.tables_referencing(from) {
            for fk in &mut t.foreign_keys {
                if fk.references == from {
                    fk.references = to.to_string();
                }
            }
        }
        Ok(())
    }

    fn add_column(&mut self, table: &str, column: &ColumnDef) -> Result<(), StateError> {
        let t = self.table(table)?;
        if t.column(&column.name).is_some() {
            return Err(StateError::ColumnExists {
                table: table.to_string(),
                column: column.name.clone(),
            });
        }
        check_column(table, column)?;
        require_generation(t, column)?;
        if column.auto {
            return Err(StateError::Invalid(format!(
                "cannot add auto column `{table}.{}` to an existing table",
                column.name
            )));
        }
        self.table_mut(table)?.columns.push(column.clone());
        Ok(())
    }

    fn drop_column(&mut self, table: &str, column: &str) -> Result<(), StateError> {
        let t = self.table(table)?;
        require_columns(t, &[column.to_string()])?;
        if t.columns.len() == 1 {
            return Err(StateError::Invalid(format!(
                "cannot drop `{table}.{column}`, the table's last column; drop the table"
            )));
        }
        let in_use = |object: String| StateError::InUse {
            what: format!("column `{table}.{column}`"),
            object,
        };
        let uses = |cols: &[String]| cols.iter().any(|c| c == column);
        // Incoming foreign keys first: they are the dependency the user must act on.
        if let Some((other, fk)) = self
            .foreign_keys_into(table)
            .find(|(_, fk)| uses(&fk.referenced_columns))
        {
            return Err(in_use(format!("foreign key {other}.{}", fk.name)));
        }
        if uses(&t.primary_key) {
            return Err(in_use(format!("primary key of {table}")));
        }
        if let Some(i) = t
            .indexes
            .iter()
            .find(|i| uses(&i.columns) || uses(&i.include))
        {
            return Err(in_use(format!("index {}", i.name)));
        }
        if let Some(u) = t.uniques.iter().find(|u| uses(&u.columns)) {
            return Err(in_use(format!("unique constraint {}", u.name)));
        }
        if let Some(f) = t.foreign_keys.iter().find(|f| uses(&f.columns)) {
            return Err(in_use(format!("foreign key {}", f.name)));
        }
        if let Some(object) = sql_mentioning(t, column) {
            return Err(in_use(object));
        }
        self.table_mut(table)?.columns.retain(|c| c.name != column);
        Ok(())
    }

    fn rename_column(&mut self, table: &str, from: &str, to: &str) -> Result<(), StateError> {
        let t = self.table(table)?;
        require_columns(t, &[from.to_string()])?;
        if t.column(to).is_some() {
            return Err(StateError::ColumnExists {
                table: table.to_string(),
                column: to.to_string(),
            });
        }
        // Check expressions and index predicates are SQL text the state cannot rewrite
        // the same way every database does, so such a column is renamed only once they
        // are dropped (and added back after, spelled with the new name).
        if let Some(object) = sql_mentioning(t, from) {
            return Err(StateError::InUse {
                what: format!("column `{table}.{from}`"),
                object,
            });
        }
        let rename = |cols: &mut Vec<String>| {
            for c in cols.iter_mut().filter(|c| *c == from) {
                *c = to.to_string();
            }
        };
        let t = self.table_mut(table)?;
        for c in t.columns.iter_mut().filter(|c| c.name == from) {
            c.name = to.to_string();
        }
        rename(&mut t.primary_key);
        t.indexes.iter_mut().for_each(|i| {
            rename(&mut i.columns);
            rename(&mut i.include);
            rename_keys(&mut i.opclasses, from, to);
            rename_keys(&mut i.lengths, from, to);
        });
        t.uniques.iter_mut().for_each(|u| rename(&mut u.columns));
        t.foreign_keys
            .iter_mut()
            .for_each(|f| rename(&mut f.columns));
        for other in self.tables_referencing(table) {
            for fk in other
                .foreign_keys
                .iter_mut()
                .filter(|f| f.references == table)
            {
                rename(&mut fk.referenced_columns);
            }
        }
        Ok(())
    }

    fn alter_column(&mut self, o: &AlterColumn) -> Result<(), StateError> {
        let t = self.table(&o.table)?;
        let old = t
            .column(&o.column)
            .ok_or_else(|| StateError::NoSuchColumn {
                table: o.table.clone(),
                column: o.column.clone(),
            })?;
        if o.default.is_some() && o.drop_default {
            return Err(StateError::Invalid(format!(
                "alter_column `{}.{}` both sets and drops the default",
                o.table, o.column
            )));
        }
        if o.comment.is_some() && o.drop_comment {
            return Err(StateError::Invalid(format!(
                "alter_column `{}.{}` both sets and drops the comment",
                o.table, o.column
            )));
        }
        let mut new = old.clone();
        if let Some(comment) = &o.comment {
            new.comment = Some(comment.clone());
        }
        if o.drop_comment {
            new.comment = None;
        }
        if o.ty.is_some_and(|ty| ty != old.ty) {
            // Servers refuse both (PostgreSQL: "cannot alter type of a column used by
            // a generated column"); the derived value is recomputed by a drop and add.
            if old.generated.is_some() {
                return Err(StateError::Invalid(format!(
                    "cannot change the type of generated column `{}.{}`; drop it and add it again",
                    o.table, o.column
                )));
            }
            if let Some(user) = generated_mentioning(t, &o.column) {
                return Err(StateError::InUse {
                    what: format!("column `{}.{}`", o.table, o.column),
                    object: format!("generated column {user} (type change)"),
                });
            }
        }
        if let Some(ty) = o.ty {
            new.ty = ty;
        }
        if let Some(null) = o.null {
            new.null = null;
        }
        if let Some(default) = &o.default {
            new.default = Some(default.clone());
        }
        if o.drop_default {
            new.default = None;
        }
        if let Some(values) = &o.values {
            new.values.clone_from(values);
        }
        if let Some(collation) = &o.collation {
            new.collation.clone_from(collation);
        }
        if new.ty != ColumnType::Enum {
            new.values.clear();
        }
        check_column(&o.table, &new)?;
        self.check_foreign_keys_allow(t, old, &new)?;
        if new.null && t.primary_key.contains(&o.column) {
            return Err(StateError::Invalid(format!(
                "primary key column `{}.{}` cannot be nullable",
                o.table, o.column
            )));
        }
        let t = self.table_mut(&o.table)?;
        let slot = t
            .columns
            .iter_mut()
            .find(|c| c.name == o.column)
            .expect("checked above");
        *slot = new;
        Ok(())
    }

    fn create_index(&mut self, table: &str, index: &IndexDef) -> Result<(), StateError> {
        let t = self.table(table)?;
        require_index(t, index)?;
        self.require_free_name(table, &index.name)?;
        self.table_mut(table)?.indexes.push(index.clone());
        Ok(())
    }

    fn drop_index(&mut self, table: &str, name: &str) -> Result<(), StateError> {
        let t = self.table(table)?;
        t.index(name)
            .ok_or_else(|| no_such(table, name, "an index"))?;
        let mut without = t.clone();
        without.indexes.retain(|i| i.name != name);
        self.require_keys_for_foreign_keys(&without, name)?;
        *self.table_mut(table)? = without;
        Ok(())
    }

    fn rename_index(&mut self, table: &str, from: &str, to: &str) -> Result<(), StateError> {
        let t = self.table(table)?;
        t.index(from)
            .ok_or_else(|| no_such(table, from, "an index"))?;
        self.require_free_name(table, to)?;
        let t = self.table_mut(table)?;
        for i in t.indexes.iter_mut().filter(|i| i.name == from) {
            i.name = to.to_string();
        }
        Ok(())
    }

    fn add_foreign_key(&mut self, table: &str, fk: &ForeignKeyDef) -> Result<(), StateError> {
        let t = self.table(table)?;
        check_fk_target(t, fk, self.table(&fk.references)?)?;
        self.require_free_name(table, &fk.name)?;
        self.table_mut(table)?.foreign_keys.push(fk.clone());
        Ok(())
    }

    fn drop_foreign_key(&mut self, table: &str, name: &str) -> Result<(), StateError> {
        let t = self.table(table)?;
        t.foreign_key(name)
            .ok_or_else(|| no_such(table, name, "a foreign key"))?;
        self.table_mut(table)?
            .foreign_keys
            .retain(|f| f.name != name);
        Ok(())
    }

    fn add_constraint(&mut self, table: &str, c: &Constraint) -> Result<(), StateError> {
        let t = self.table(table)?;
        if let Constraint::Unique { columns, name } = c {
            require_some_columns(table, name, columns)?;
            require_columns(t, columns)?;
            require_not_primary_key(t, name, columns)?;
        }
        if let Constraint::Check { name, expr } = c {
            require_expression(t, expr, &format!("check constraint `{name}`"))?;
        }
        self.require_free_name(table, c.name())?;
        let t = self.table_mut(table)?;
        match c {
            Constraint::Unique { name, columns } => t.uniques.push(UniqueDef {
                name: name.clone(),
                columns: columns.clone(),
            }),
            Constraint::Check { name, expr } => t.checks.push(CheckDef {
                name: name.clone(),
                expr: expr.clone(),
            }),
        }
        Ok(())
    }

    fn drop_constraint(&mut self, table: &str, name: &str) -> Result<(), StateError> {
        let t = self.table(table)?;
        t.constraint(name)
            .ok_or_else(|| no_such(table, name, "a unique or check constraint"))?;
        let mut without = t.clone();
        without.uniques.retain(|u| u.name != name);
        without.checks.retain(|c| c.name != name);
        self.require_keys_for_foreign_keys(&without, name)?;
        *self.table_mut(table)? = without;
        Ok(())
    }

    /// Refuses removing `removed` if a foreign key into the table relies on it.
    fn require_keys_for_foreign_keys(
        &self,
        without: &TableDef,
        removed: &str,
    ) -> Result<(), StateError> {
        match self
            .foreign_keys_into(&without.name)
            .find(|(_, fk)| !is_unique_key(without, &fk.referenced_columns))
        {
            Some((other, fk)) => Err(StateError::InUse {
                what: format!("`{removed}` of table `{}`", without.name),
                object: format!("foreign key {other}.{}", fk.name),
            }),
            None => Ok(()),
        }
    }

    /// A column in a foreign key (either end) keeps its type, and keeps accepting
    /// NULL while a `set null` action may write one.
    fn check_foreign_keys_allow(
        &self,
        t: &TableDef,
        old: &ColumnDef,
        new: &ColumnDef,
    ) -> Result<(), StateError> {
        let column = &old.name;
        let in_use = |fk: &ForeignKeyDef, owner: &str| StateError::InUse {
            what: format!("column `{}.{column}`", t.name),
            object: format!("foreign key {owner}.{}", fk.name),
        };
        let own = t.foreign_keys.iter().filter(|f| f.columns.contains(column));
        for fk in own {
            let set_null = [fk.on_delete, fk.on_update].contains(&Some(FkAction::SetNull));
            if old.ty != new.ty || (set_null && !new.null) {
                return Err(in_use(fk, &t.name));
            }
        }
        if old.ty != new.ty {
            if let Some((owner, fk)) = self
                .foreign_keys_into(&t.name)
                .find(|(_, f)| f.referenced_columns.contains(column))
            {
                return Err(in_use(fk, owner));
            }
        }
        Ok(())
    }

    fn require_free_name(&self, table: &str, name: &str) -> Result<(), StateError> {
        match self.owner_of(name) {
            Some(_) => Err(StateError::NameTaken {
                table: table.to_string(),
                name: name.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Foreign keys of any table that point at `table`, with the owning table's name.
    pub fn foreign_keys_into<'a>(
        &'a self,
        table: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a ForeignKeyDef)> + 'a {
        self.tables.values().flat_map(move |t| {
            t.foreign_keys
                .iter()
                .filter(move |f| f.references == table)
                .map(move |f| (t.name.as_str(), f))
        })
    }

    /// The tables with a foreign key to `table`, to change: only those are copied
    /// from a state they share their tables with.
    fn tables_referencing<'a>(
        &'a mut self,
        table: &'a str,
    ) -> impl Iterator<Item = &'a mut TableDef> + 'a {
        self.tables
            .values_mut()
            .filter(move |t| t.foreign_keys.iter().any(|f| f.references == table))
            .map(Arc::make_mut)
    }
}

fn no_such(table: &str, name: &str, what: &'static str) -> StateError {
    StateError::NoSuchObject {
        table: table.to_string(),
        name: name.to_string(),
        what,
    }
}

/// An index's `where`, if any, is one expression over the table's columns.
fn require_predicate(t: &TableDef, index: &IndexDef) -> Result<(), StateError> {
    match &index.predicate {
        Some(p) => require_expression(t, p, &format!("the `where` of index `{}`", index.name)),
        None => Ok(()),
    }
}

/// `text` is one accepted expression over the columns `t` has now (see `crate::expr`).
fn require_expression(t: &TableDef, text: &str, what: &str) -> Result<(), StateError> {
    let columns: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    let scope = Scope {
        table: &t.name,
        columns: &columns,
    };
    expr::parse(text, Some(&scope))
        .map(|_| ())
        .map_err(|e| StateError::Expression {
            table: t.name.clone(),
            what: what.to_string(),
            message: e.message,
        })
}

/// A generated column's expression names only the table's other, non-generated
/// columns (no server lets one generated column read another portably).
fn require_generation(t: &TableDef, c: &ColumnDef) -> Result<(), StateError> {
    let Some(g) = &c.generated else {
        return Ok(());
    };
    let columns: Vec<&str> = t
        .columns
        .iter()
        .filter(|o| o.generated.is_none() && o.name != c.name)
        .map(|o| o.name.as_str())
        .collect();
    let scope = Scope {
        table: &t.name,
        columns: &columns,
    };
    expr::parse(&g.expr, Some(&scope))
        .map(|_| ())
        .map_err(|e| StateError::Expression {
            table: t.name.clone(),
            what: format!("generated column `{}`", c.name),
            message: e.message,
        })
}

/// The generated column whose expression names `column`, if any.
fn generated_mentioning(t: &TableDef, column: &str) -> Option<String> {
    t.columns
        .iter()
        .find(|c| {
            c.generated
                .as_ref()
                .is_some_and(|g| names_column(&g.expr, column))
        })
        .map(|c| c.name.clone())
}

/// The check constraint, partial index or generated column whose expression names
/// `column`, if any.
fn sql_mentioning(t: &TableDef, column: &str) -> Option<String> {
    if let Some(c) = generated_mentioning(t, column) {
        return Some(format!("generated column {c}"));
    }
    if let Some(c) = t.checks.iter().find(|c| names_column(&c.expr, column)) {
        return Some(format!("check constraint {}", c.name));
    }
    t.indexes
        .iter()
        .find(|i| {
            i.predicate
                .as_deref()
                .is_some_and(|p| names_column(p, column))
        })
        .map(|i| format!("the predicate of index {}", i.name))
        .or_else(|| {
            t.indexes
                .iter()
                .find(|i| i.expressions.iter().any(|e| names_column(e, column)))
                .map(|i| format!("an expression of index {}", i.name))
        })
}

fn rename_keys<V>(map: &mut std::collections::BTreeMap<String, V>, from: &str, to: &str) {
    if let Some(v) = map.remove(from) {
        map.insert(to.to_string(), v);
    }
}

/// PostgreSQL's default btree operator classes of the types strata writes.
const DEFAULT_BTREE_OPCLASSES: &[&str] = &[
    "bool_ops",
    "int2_ops",
    "int4_ops",
    "int8_ops",
    "float4_ops",
    "float8_ops",
    "numeric_ops",
    "bpchar_ops",
    "text_ops",
    "bytea_ops",
    "date_ops",
    "time_ops",
    "timestamp_ops",
    "timestamptz_ops",
    "interval_ops",
    "uuid_ops",
];

/// Everything an index names exists, and its options fit together: what any
/// database would refuse, refused before any SQL is written.
fn require_index(t: &TableDef, index: &IndexDef) -> Result<(), StateError> {
    let invalid = |why: String| {
        Err(StateError::Invalid(format!(
            "index `{}.{}`: {why}",
            t.name, index.name
        )))
    };
    if index.columns.is_empty() && index.expressions.is_empty() {
        require_some_columns(&t.name, &index.name, &index.columns)?;
    }
    require_columns(t, &index.columns)?;
    require_columns(t, &index.include)?;
    require_predicate(t, index)?;
    for (n, e) in index.expressions.iter().enumerate() {
        require_expression(
            t,
            e,
            &format!("expression {} of index `{}`", n + 1, index.name),
        )?;
    }
    for key in index.opclasses.keys().chain(index.lengths.keys()) {
        if !index.columns.contains(key) {
            return invalid(format!(
                "`{key}` has an operator class or length but is not one of the index's columns"
            ));
        }
    }
    if let Some((c, _)) = index.lengths.iter().find(|(_, n)| **n == 0) {
        return invalid(format!("the prefix length of `{c}` must be at least 1"));
    }
    // MariaDB ignores a prefix it cannot use (an integer, or one as long as the
    // column) and MySQL refuses it at run time: refused here, before any SQL.
    for (c, n) in &index.lengths {
        match t.column(c).map(|col| col.ty) {
            Some(ColumnType::Char(m) | ColumnType::Varchar(m)) if *n >= m => {
                return invalid(format!(
                    "the prefix length {n} of `{c}` is not shorter than the column ({m} \
                     characters): leave `length` out to index the whole value"
                ));
            }
            Some(
                ColumnType::Char(_)
                | ColumnType::Varchar(_)
                | ColumnType::Text
                | ColumnType::Bytes
                | ColumnType::Json,
            )
            | None => {}
            Some(ty) => {
                return invalid(format!(
                    "`{c}` is {ty}: a prefix length is for text and bytes columns"
                ));
            }
        }
    }
    if let Some((c, o)) = index
        .opclasses
        .iter()
        .find(|(_, o)| o.chars().any(|ch| ch.is_ascii_uppercase()))
    {
        return invalid(format!(
            "operator class `{o}` of `{c}`: write it in lower case, as PostgreSQL stores it"
        ));
    }
    if let Some((c, o)) = index.opclasses.iter().find(|(_, o)| {
        index.method.is_none_or(|m| m == IndexMethod::Btree)
            && DEFAULT_BTREE_OPCLASSES.contains(&o.as_str())
    }) {
        return invalid(format!(
            "operator class `{o}` of `{c}` is the default one: leave it out (PostgreSQL \
             does not record a default class, so it could not be read back)"
        ));
    }
    if let Some((c, o)) = index
        .opclasses
        .iter()
        .find(|(_, o)| !crate::naming::is_plain_name(o))
    {
        return invalid(format!(
            "operator class `{o}` of `{c}` is not a plain name (letters, digits, `_`, optionally `schema.`)"
        ));
    }
    if let Some(c) = index.include.iter().find(|c| index.columns.contains(c)) {
        return invalid(format!("`{c}` is both a key column and in `include`"));
    }
    if index.nulls_not_distinct && !index.unique {
        return invalid("`nulls_distinct = false` is for unique indexes".into());
    }
    if let Some(m) = index.method.filter(|m| *m != IndexMethod::Btree) {
        if index.unique {
            return invalid(format!(
                "a unique index uses the btree method, not {}",
                m.name()
            ));
        }
    }
    if index.on_unsupported_where == UnsupportedWhere::Plain && index.predicate.is_none() {
        return invalid("`on_unsupported_where` is for partial indexes (with `where`)".into());
    }
    Ok(())
}

/// Whether an expression names `column`: by its parsed column references, so a
/// string literal `'qty'` does not count; by the words of text that does not parse.
fn names_column(text: &str, column: &str) -> bool {
    match expr::parse(text, None) {
        Ok(e) => expr::columns(&e).contains(&column),
        Err(_) => mentions(text, column),
    }
}

/// Whether `sql` contains `word` as a whole identifier (case-insensitive), quoted or not.
pub fn mentions(sql: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let lower = sql.to_lowercase();
    let word = word.to_lowercase();
    if word.is_empty() {
        return false;
    }
    lower.match_indices(&word).any(|(i, _)| {
        let before = lower[..i].chars().next_back();
        let after = lower[i + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// A unique constraint on exactly the primary key adds nothing, and databases treat
/// it differently (PostgreSQL folds it into the key, so dropping it would drop the key).
fn require_not_primary_key(t: &TableDef, name: &str, columns: &[String]) -> Result<(), StateError> {
    let mut pk: Vec<&String> = t.primary_key.iter().collect();
    let mut cols: Vec<&String> = columns.iter().collect();
    pk.sort();
    cols.sort();
    if !pk.is_empty() && pk == cols {
        return Err(StateError::Invalid(format!(
            "unique constraint `{}.{name}` repeats the primary key ({}), which is unique already",
            t.name,
            columns.join(", ")
        )));
    }
    Ok(())
}

fn require_some_columns(table: &str, name: &str, columns: &[String]) -> Result<(), StateError> {
    if columns.is_empty() {
        return Err(StateError::Invalid(format!(
            "`{table}.{name}` names no columns"
        )));
    }
    Ok(())
}

fn require_columns(t: &TableDef, columns: &[String]) -> Result<(), StateError> {
    for c in columns {
        if t.column(c).is_none() {
            return Err(StateError::NoSuchColumn {
                table: t.name.clone(),
                column: c.clone(),
            });
        }
    }
    Ok(())
}

/// What every database demands of a foreign key: as many columns as it references,
/// the same types on both sides, a primary key or unique key as its target, and
/// nullable columns for `set null`.
fn check_fk_target(
    source: &TableDef,
    fk: &ForeignKeyDef,
    target: &TableDef,
) -> Result<(), StateError> {
    let invalid = |why: String| {
        Err(StateError::Invalid(format!(
            "foreign key `{}.{}`: {why}",
            source.name, fk.name
        )))
    };
    if fk.columns.is_empty() || fk.columns.len() != fk.referenced_columns.len() {
        return invalid("must name as many referenced columns as columns".into());
    }
    require_columns(source, &fk.columns)?;
    require_columns(target, &fk.referenced_columns)?;
    if !is_unique_key(target, &fk.referenced_columns) {
        return invalid(format!(
            "({}) of `{}` is not its primary key or a unique key",
            fk.referenced_columns.join(", "),
            target.name
        ));
    }
    for (c, r) in fk.columns.iter().zip(&fk.referenced_columns) {
        let (c, r) = (
            source.column(c).expect("checked"),
            target.column(r).expect("checked"),
        );
        if c.ty != r.ty {
            return invalid(format!(
                "column `{}` is {} but `{}.{}` is {}; they must have the same type",
                c.name, c.ty, target.name, r.name, r.ty
            ));
        }
    }
    let set_null = [fk.on_delete, fk.on_update].contains(&Some(FkAction::SetNull));
    if let Some(c) = fk
        .columns
        .iter()
        .find(|c| set_null && !source.column(c).expect("checked").null)
    {
        return invalid(format!("`set null` needs column `{c}` to be nullable"));
    }
    Ok(())
}

/// Whether `columns` (in any order) are the primary key, a unique constraint or a
/// full (non-partial) unique index of `t`.
pub fn is_unique_key(t: &TableDef, columns: &[String]) -> bool {
    let wanted: std::collections::BTreeSet<&String> = columns.iter().collect();
    let same =
        |cols: &[String]| cols.len() == columns.len() && cols.iter().all(|c| wanted.contains(c));
    same(&t.primary_key)
        || t.uniques.iter().any(|u| same(&u.columns))
        || t.indexes
            .iter()
            .any(|i| i.unique && i.predicate.is_none() && i.is_plain_key() && same(&i.columns))
}

/// Rules every column obeys wherever it appears.
fn check_column(table: &str, c: &ColumnDef) -> Result<(), StateError> {
    let invalid = |why: String| {
        Err(StateError::Invalid(format!(
            "column `{table}.{}`: {why}",
            c.name
        )))
    };
    if c.auto && !c.ty.is_integer() {
        return invalid(format!("auto needs an integer type, not {}", c.ty));
    }
    if c.auto && (c.null || c.default.is_some()) {
        return invalid("an auto column is neither nullable nor defaulted".into());
    }
    if c.generated.is_some() && (c.auto || c.default.is_some() || !c.null) {
        return invalid(
            "a generated column is nullable, without a default and not auto: its value is its expression's (MariaDB allows no NOT NULL on one)"
                .into(),
        );
    }
    if let Some(d) = &c.default {
        if !default_fits(d, c.ty) {
            return invalid(format!("default {d} does not fit type {}", c.ty));
        }
    }
    if c.ty == ColumnType::Enum {
        if let Some(problem) = crate::types::enum_values_problem(&c.values) {
            return invalid(problem);
        }
        if let Some(DefaultValue::Text(d)) = &c.default {
            if !c.values.contains(d) {
                return invalid(format!("default {d:?} is not one of the enum's values"));
            }
        }
    } else if !c.values.is_empty() {
        return invalid(format!("`values` belongs to an enum, not to {}", c.ty));
    }
    if !c.collation.is_empty() {
        if !matches!(
            c.ty,
            ColumnType::Char(_) | ColumnType::Varchar(_) | ColumnType::Text | ColumnType::Enum
        ) {
            return invalid(format!(
                "a collation belongs to a text type, not to {}",
                c.ty
            ));
        }
        if let Some(problem) = crate::types::collation_problem(&c.collation) {
            return invalid(problem);
        }
    }
    Ok(())
}

/// Whether a default literal or expression makes sense for a column type.
pub fn default_fits(d: &DefaultValue, ty: ColumnType) -> bool {
    match d {
        DefaultValue::Bool(_) => ty == ColumnType::Bool,
        DefaultValue::Int(_) => ty.is_numeric() || ty == ColumnType::Duration,
        DefaultValue::Float(f) => f.is_finite() && ty.is_numeric() && !ty.is_integer(),
        DefaultValue::Text(_) => ty.is_textual() || ty.is_temporal(),
        DefaultValue::Expr { expr } => match expr {
            DefaultExpr::Now => ty.is_temporal(),
            DefaultExpr::Uuid => ty == ColumnType::Uuid,
        },
    }
}

/// The names an operation brings into the schema, with what each names.
fn new_names(op: &Operation) -> Vec<(&'static str, &str)> {
    match op {
        Operation::CreateTable(t) => std::iter::once(("table", t.name.as_str()))
            .chain(t.columns.iter().map(|c| ("column", c.name.as_str())))
            .chain(t.indexes.iter().map(|i| ("index", i.name.as_str())))
            .chain(t.uniques.iter().map(|u| ("constraint", u.name.as_str())))
            .chain(t.checks.iter().map(|c| ("constraint", c.name.as_str())))
            .chain(
                t.foreign_keys
                    .iter()
                    .map(|f| ("foreign key", f.name.as_str())),
            )
            .collect(),
        Operation::RenameTable(o) => vec![("table", o.to.as_str())],
        Operation::AddColumn(o) => vec![("column", o.column.name.as_str())],
        Operation::RenameColumn(o) => vec![("column", o.to.as_str())],
        Operation::CreateIndex(o) => vec![("index", o.index.name.as_str())],
        Operation::RenameIndex(o) => vec![("index", o.to.as_str())],
        Operation::AddForeignKey(o) => vec![("foreign key", o.foreign_key.name.as_str())],
        Operation::AddConstraint(o) => vec![("constraint", o.constraint.name())],
        _ => Vec::new(),
    }
}

/// Any name is quoted when rendered, but an empty one, or one holding control
/// characters (a NUL ends a C string in some drivers), is never what was meant.
fn check_name(what: &str, name: &str) -> Result<(), StateError> {
    if name.trim().is_empty() {
        return Err(StateError::Invalid(format!("a {what} name is empty")));
    }
    if name.chars().any(char::is_control) {
        return Err(StateError::Invalid(format!(
            "{what} name {name:?} holds a control character"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod expression_tests {
    use super::names_column;

    #[test]
    fn a_column_is_named_by_references_not_by_strings() {
        assert!(names_column("qty > 0", "qty"));
        assert!(names_column("t.qty > 0", "qty"));
        assert!(!names_column("status = 'qty'", "qty"));
        assert!(!names_column("qty_max > 0", "qty"));
        // Text that does not parse falls back to whole words.
        assert!(names_column("qty > 0 ;", "qty"));
    }
}

//! The operations of a set of [`Changes`], in an order every backend can apply:
//!
//! 1. drop foreign keys, 2. drop indexes and constraints (what goes away, changes, or
//!    blocks a change), 3. rename tables, 4. rename columns, 5. create tables (by
//!    their foreign keys), 6. add columns, 7. alter columns (a column that becomes
//!    NOT NULL first gets its NULL rows filled by a `backfill`), 8. drop columns,
//!    9. drop tables, 10. rename indexes, 11. create indexes, add constraints, add
//!    foreign keys.
//!
//! Each operation is applied to a working state as it is emitted: a new table's
//! index, constraint or foreign key that does not fit yet (its name is still taken,
//! its target table or key does not exist yet) is left out of `create_table` and
//! added in step 11, and an operation the state refuses is reported instead of
//! written to a migration.

use std::collections::{BTreeMap, BTreeSet};

use super::compare::Changes;
use super::order::dependency_order;
use super::rules::foreign_key_fits;
use super::AutodetectError;
use crate::ast::*;
use crate::expr;
use crate::state::{default_fits, SchemaState};

/// A literal default in the neutral expression language (`0`, `true`, `'it''s'`);
/// `None` for an expression default or a number no literal writes.
fn literal_sql(value: &DefaultValue) -> Option<String> {
    let text = match value {
        DefaultValue::Bool(b) => b.to_string(),
        DefaultValue::Int(i) => i.to_string(),
        DefaultValue::Float(x) if x.is_finite() => format!("{x:?}"),
        DefaultValue::Text(t) => format!("'{}'", t.replace('\'', "''")),
        DefaultValue::Float(_) | DefaultValue::Expr { .. } => return None,
    };
    expr::parse(&text, None).ok().map(|_| text)
}

/// A column name as the expression language reads it: as it is when it parses as
/// that column, else in double quotes (an SQL keyword, capitals, other characters).
fn neutral_ident(column: &str) -> String {
    let bare = format!("{column} IS NULL");
    match expr::parse(&bare, None) {
        Ok(expr::Expr::IsNull { expr, .. }) if *expr == expr::Expr::Column(column.into()) => {
            column.to_string()
        }
        _ => format!("\"{}\"", column.replace('"', "\"\"")),
    }
}

/// The operations, and the state they reach from `old`.
pub(super) fn operations(
    old: &SchemaState,
    changes: &Changes,
) -> Result<(Vec<Operation>, SchemaState), AutodetectError> {
    let mut out = Emitter {
        state: old.clone(),
        ops: Vec::new(),
    };
    let mut later = Deferred {
        indexes: changes.create_indexes.clone(),
        constraints: changes.add_constraints.clone(),
        foreign_keys: changes.add_foreign_keys.clone(),
    };
    for (table, name) in &changes.drop_foreign_keys {
        out.push(Operation::DropForeignKey(DropForeignKey {
            table: table.clone(),
            name: name.clone(),
        }))?;
    }
    for (table, name) in &changes.drop_indexes {
        out.push(Operation::DropIndex(DropIndex {
            table: table.clone(),
            name: name.clone(),
        }))?;
    }
    for (table, name) in &changes.drop_constraints {
        out.push(Operation::DropConstraint(DropConstraint {
            table: table.clone(),
            name: name.clone(),
        }))?;
    }
    for (table, column) in &changes.regenerate_columns {
        out.push(Operation::DropColumn(DropColumn {
            table: table.clone(),
            column: column.clone(),
        }))?;
    }
    for rename in &changes.rename_tables {
        out.push(Operation::RenameTable(rename.clone()))?;
    }
    for rename in &changes.rename_columns {
        out.push(Operation::RenameColumn(rename.clone()))?;
    }
    out.create_tables(&changes.create_tables, &mut later)?;
    for (table, column, one_off) in &changes.add_columns {
        out.add_column(table, column, one_off.as_ref())?;
    }
    for alter in &changes.alter_columns {
        let fill = changes
            .backfills
            .iter()
            .find(|(t, c, _)| *t == alter.table && *c == alter.column);
        match fill {
            Some((table, column, value)) => {
                out.fill_then_forbid_nulls(alter, table, column, value)?;
            }
            None => out.push(Operation::AlterColumn(alter.clone()))?,
        }
    }
    for (table, column) in &changes.drop_columns {
        out.push(Operation::DropColumn(DropColumn {
            table: table.clone(),
            column: column.clone(),
        }))?;
    }
    for (table, column) in &changes.add_generated_columns {
        out.add_column(table, column, None)?;
    }
    for alter in &changes.alter_tables {
        out.push(Operation::AlterTable(alter.clone()))?;
    }
    for name in &changes.drop_tables {
        out.push(Operation::DropTable(DropTable { name: name.clone() }))?;
    }
    for rename in &changes.rename_indexes {
        out.push(Operation::RenameIndex(rename.clone()))?;
    }
    out.create_objects(later)?;
    Ok((out.ops, out.state))
}

/// Indexes, constraints and foreign keys for step 11, by table.
struct Deferred {
    indexes: Vec<(String, IndexDef)>,
    constraints: Vec<(String, Constraint)>,
    foreign_keys: Vec<(String, ForeignKeyDef)>,
}

struct Emitter {
    state: SchemaState,
    ops: Vec<Operation>,
}

impl Emitter {
    fn push(&mut self, op: Operation) -> Result<(), AutodetectError> {
        self.state
            .apply(&op)
            .map_err(|e| super::internal(&op, &e))?;
        self.ops.push(op);
        Ok(())
    }

    /// New tables, each after the new tables it references; what does not fit yet
    /// (a cycle, a key or column an existing table gets later, a name still in use)
    /// waits for step 11. A self-reference stays inline when the key is there.
    fn create_tables(
        &mut self,
        tables: &[TableDef],
        later: &mut Deferred,
    ) -> Result<(), AutodetectError> {
        let names: BTreeSet<String> = tables.iter().map(|t| t.name.clone()).collect();
        let references: BTreeMap<String, BTreeSet<String>> = tables
            .iter()
            .map(|t| {
                let targets = t.foreign_keys.iter().map(|f| f.references.clone());
                (t.name.clone(), targets.collect())
            })
            .collect();
        for name in dependency_order(&names, &references) {
            if let Some(wanted) = tables.iter().find(|t| t.name == name) {
                let table = self.fitting_part(wanted, later);
                self.push(Operation::CreateTable(table))?;
            }
        }
        Ok(())
    }

    /// `wanted` without what cannot be created with it now; that goes to `later`.
    fn fitting_part(&self, wanted: &TableDef, later: &mut Deferred) -> TableDef {
        let free = |name: &str| self.state.owner_of(name).is_none();
        let name = &wanted.name;
        let mut table = TableDef {
            foreign_keys: Vec::new(),
            ..wanted.clone()
        };
        let (indexes, waiting): (Vec<_>, Vec<_>) =
            table.indexes.drain(..).partition(|i| free(&i.name));
        table.indexes = indexes;
        later
            .indexes
            .extend(waiting.into_iter().map(|i| (name.clone(), i)));
        let (uniques, waiting): (Vec<_>, Vec<_>) =
            table.uniques.drain(..).partition(|u| free(&u.name));
        table.uniques = uniques;
        later.constraints.extend(waiting.into_iter().map(|u| {
            let unique = Constraint::Unique {
                name: u.name,
                columns: u.columns,
            };
            (name.clone(), unique)
        }));
        let (checks, waiting): (Vec<_>, Vec<_>) =
            table.checks.drain(..).partition(|c| free(&c.name));
        table.checks = checks;
        later.constraints.extend(waiting.into_iter().map(|c| {
            let check = Constraint::Check {
                name: c.name,
                expr: c.expr,
            };
            (name.clone(), check)
        }));
        let mut foreign_keys = Vec::new();
        for fk in &wanted.foreign_keys {
            let target = if fk.references == *name {
                Some(&table)
            } else {
                self.state.tables.get(&fk.references).map(|t| &**t)
            };
            let fits = free(&fk.name) && target.is_some_and(|t| foreign_key_fits(&table, fk, t));
            if fits {
                foreign_keys.push(fk.clone());
            } else {
                later.foreign_keys.push((name.clone(), fk.clone()));
            }
        }
        table.foreign_keys = foreign_keys;
        table
    }

    /// A column for a table that exists. With a one-off default, existing rows get
    /// that value and the column then drops the default (Django's
    /// `preserve_default=False`): the models did not ask for one.
    fn add_column(
        &mut self,
        table: &str,
        column: &ColumnDef,
        one_off: Option<&DefaultValue>,
    ) -> Result<(), AutodetectError> {
        let Some(value) = one_off else {
            return self.push(Operation::AddColumn(AddColumn {
                table: table.to_string(),
                column: column.clone(),
            }));
        };
        let op = Operation::AddColumn(AddColumn {
            table: table.to_string(),
            column: ColumnDef {
                default: Some(value.clone()),
                ..column.clone()
            },
        });
        self.state
            .apply(&op)
            .map_err(|error| AutodetectError::BadOneOffDefault {
                table: table.to_string(),
                column: column.name.clone(),
                error,
            })?;
        self.ops.push(op);
        self.push(Operation::AlterColumn(AlterColumn {
            table: table.to_string(),
            column: column.name.clone(),
            ty: None,
            null: None,
            default: None,
            drop_default: true,
            ..Default::default()
        }))
    }

    /// `alter` makes `column` NOT NULL: the rows where it is NULL get `value` first.
    /// A new type comes before the backfill (the value is one of the new type), and
    /// NOT NULL after it.
    fn fill_then_forbid_nulls(
        &mut self,
        alter: &AlterColumn,
        table: &str,
        column: &str,
        value: &DefaultValue,
    ) -> Result<(), AutodetectError> {
        if alter.ty.is_some() {
            self.push(Operation::AlterColumn(AlterColumn {
                null: None,
                ..alter.clone()
            }))?;
            self.backfill(table, column, value)?;
            return self.push(Operation::AlterColumn(AlterColumn {
                table: table.to_string(),
                column: column.to_string(),
                ty: None,
                null: Some(false),
                ..Default::default()
            }));
        }
        self.backfill(table, column, value)?;
        self.push(Operation::AlterColumn(alter.clone()))
    }

    /// `UPDATE table SET column = value WHERE column IS NULL`, as a `backfill`: in
    /// batches along the table's one-column primary key.
    fn backfill(
        &mut self,
        table: &str,
        column: &str,
        value: &DefaultValue,
    ) -> Result<(), AutodetectError> {
        let refuse = |reason: String| AutodetectError::CannotBackfill {
            table: table.to_string(),
            column: column.to_string(),
            reason,
        };
        let t = self
            .state
            .tables
            .get(table)
            .ok_or_else(|| refuse(format!("no table `{table}`")))?;
        if t.primary_key.len() != 1 {
            return Err(refuse(format!(
                "a backfill walks the table by a one-column primary key, and `{table}` has {}",
                match t.primary_key.len() {
                    0 => "none".to_string(),
                    n => format!("one of {n} columns"),
                }
            )));
        }
        let ty = t.column(column).map(|c| c.ty);
        if !ty.is_some_and(|ty| default_fits(value, ty)) {
            return Err(refuse(format!(
                "{value} is no value of its type{}",
                ty.map(|t| format!(" {t}")).unwrap_or_default()
            )));
        }
        let literal = literal_sql(value).ok_or_else(|| {
            refuse(format!(
                "{value} is no literal a backfill can write (an expression default is evaluated by the database only for new rows)"
            ))
        })?;
        let op = Operation::Backfill(Backfill {
            table: table.to_string(),
            set: Some(BTreeMap::from([(column.to_string(), literal)])),
            set_sql: None,
            predicate: Some(format!("{} IS NULL", neutral_ident(column))),
            batch_size: Backfill::DEFAULT_BATCH_SIZE,
            pause: None,
            undo: false,
        });
        self.state.apply(&op).map_err(|e| refuse(e.to_string()))?;
        self.ops.push(op);
        Ok(())
    }

    /// Step 11: indexes and constraints by table and name, then foreign keys, which
    /// may reference the keys just created.
    fn create_objects(&mut self, mut later: Deferred) -> Result<(), AutodetectError> {
        later
            .indexes
            .sort_by(|a, b| (&a.0, &a.1.name).cmp(&(&b.0, &b.1.name)));
        later
            .constraints
            .sort_by(|a, b| (&a.0, a.1.name()).cmp(&(&b.0, b.1.name())));
        later
            .foreign_keys
            .sort_by(|a, b| (&a.0, &a.1.name).cmp(&(&b.0, &b.1.name)));
        for (table, index) in later.indexes {
            self.push(Operation::CreateIndex(CreateIndex { table, index }))?;
        }
        for (table, constraint) in later.constraints {
            self.push(Operation::AddConstraint(AddConstraint {
                table,
                constraint,
            }))?;
        }
        for (table, foreign_key) in later.foreign_keys {
            self.push(Operation::AddForeignKey(AddForeignKey {
                table,
                foreign_key,
            }))?;
        }
        Ok(())
    }
}

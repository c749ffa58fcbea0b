//! What changes between two schemas once the accepted renames are done: the
//! columns and objects to add, drop, alter and rename — and the objects that must be
//! dropped first and re-added after because they would block another change.
//!
//! Objects are matched by table and name, comparing the old schema *as renamed*
//! with the new one. Names on the drop side (`drop_*`) are old names, because those
//! operations run before the renames; everything else uses new names.

use std::collections::{BTreeMap, BTreeSet};

use super::order::dependency_order;
use super::renames::Renames;
use super::rules::{is_unique_key, mentions};
use super::{AutodetectError, Decisions};
use crate::ast::*;
use crate::state::SchemaState;
use crate::types::ColumnType;

/// (table, name) of an index, constraint or foreign key.
type Object = (String, String);
/// (table, column).
type Column = (String, String);

/// Every change, grouped by the operation that makes it.
#[derive(Debug, Default)]
pub(super) struct Changes {
    /// By old table name: foreign keys that go away, change, or block a change.
    pub drop_foreign_keys: BTreeSet<Object>,
    /// By old table name.
    pub drop_indexes: BTreeSet<Object>,
    /// By old table name: unique and check constraints.
    pub drop_constraints: BTreeSet<Object>,
    /// Sorted by old name.
    pub rename_tables: Vec<RenameTable>,
    /// By new table name, sorted.
    pub rename_columns: Vec<RenameColumn>,
    /// New tables, whole, sorted by name (emit orders them by their foreign keys).
    pub create_tables: Vec<TableDef>,
    /// (table, column as the model has it, one-off default for existing rows).
    pub add_columns: Vec<(String, ColumnDef, Option<DefaultValue>)>,
    pub alter_columns: Vec<AlterColumn>,
    /// (table, column, value) by new names: the value the rows where a column that
    /// becomes NOT NULL is NULL get, before its `alter_column`.
    pub backfills: Vec<(String, String, DefaultValue)>,
    /// (table by new name, column), sorted.
    pub drop_columns: Vec<Column>,
    /// By old name, each before the tables it references.
    pub drop_tables: Vec<String>,
    /// Sorted by table, then old name.
    pub rename_indexes: Vec<RenameIndex>,
    pub create_indexes: Vec<(String, IndexDef)>,
    pub add_constraints: Vec<(String, Constraint)>,
    pub add_foreign_keys: Vec<(String, ForeignKeyDef)>,
    /// Generated columns dropped (or dropped to be added again: no server alters a
    /// generation, and the data is derived), by old table and column name: before
    /// any rename, type change or drop of a column their expression names.
    pub regenerate_columns: Vec<Column>,
    /// Generated columns added (new, or again), by new table name: after every
    /// other column change, so the columns they name exist as the models say.
    pub add_generated_columns: Vec<(String, ColumnDef)>,
    /// Comment changes of tables that stay, by new table name.
    pub alter_tables: Vec<AlterTable>,
}

/// A table on both sides: as the old schema has it, as renamed, as the models want it.
struct Staying<'a> {
    original: &'a TableDef,
    before: &'a TableDef,
    after: &'a TableDef,
}

/// What happens to the old columns of the tables that stay, by old table and old
/// column name: the facts the blocking rules look at.
#[derive(Default)]
struct ColumnFates {
    renamed: BTreeSet<Column>,
    dropped: BTreeSet<Column>,
    retyped: BTreeSet<Column>,
    /// Generated columns dropped and added again, by old table and new column name:
    /// their indexes go first and come back after.
    regenerated: BTreeSet<Column>,
}

impl ColumnFates {
    /// Renamed or dropped: a check or predicate naming it must go first.
    fn moves(&self, table: &str, column: &str) -> bool {
        let key = (table.to_string(), column.to_string());
        self.renamed.contains(&key) || self.dropped.contains(&key)
    }
}

impl Changes {
    pub(super) fn between(
        old: &SchemaState,
        new: &SchemaState,
        renames: &Renames,
        decisions: &Decisions,
    ) -> Result<Self, AutodetectError> {
        let old_renamed = renames.apply_to(old);
        let mut changes = Changes::default();
        let staying: Vec<Staying> = old
            .tables
            .values()
            .filter_map(|original| {
                let name = renames.table(&original.name);
                Some(Staying {
                    original,
                    before: old_renamed.tables.get(name)?,
                    after: new.tables.get(name)?,
                })
            })
            .collect();
        let dropped_tables: BTreeSet<String> = old
            .tables
            .keys()
            .filter(|t| !new.tables.contains_key(renames.table(t)))
            .cloned()
            .collect();
        changes.create_tables = new
            .tables
            .values()
            .filter(|t| !old_renamed.tables.contains_key(&t.name))
            .map(|t| TableDef::clone(t))
            .collect();
        changes.rename_tables = renames
            .tables
            .iter()
            .map(|(from, to)| RenameTable {
                from: from.clone(),
                to: to.clone(),
            })
            .collect();
        changes.rename_columns = renames
            .columns
            .iter()
            .map(|((table, from), to)| RenameColumn {
                table: table.clone(),
                from: from.clone(),
                to: to.clone(),
            })
            .collect();

        let mut fates = ColumnFates::default();
        for table in &staying {
            refuse_inexpressible(table.before, table.after)?;
            changes.compare_columns(table, renames, decisions, &mut fates);
            if table.before.comment != table.after.comment {
                changes.alter_tables.push(AlterTable {
                    table: table.after.name.clone(),
                    comment: table.after.comment.clone(),
                    drop_comment: table.after.comment.is_none(),
                });
            }
        }
        for table in &staying {
            changes.compare_checks(table, &fates);
            changes.compare_uniques(table, &fates);
            changes.compare_indexes(table, &fates, old);
        }
        changes.drop_changed_and_blocking_foreign_keys(old, &staying, &fates);
        changes.order_table_drops(old, &dropped_tables);
        changes.drop_foreign_keys_without_keys(old, &dropped_tables);
        for table in &staying {
            changes.add_foreign_keys_of(table);
        }
        changes
            .alter_columns
            .sort_by(|a, b| (&a.table, &a.column).cmp(&(&b.table, &b.column)));
        changes.add_columns.sort_by(|a, b| a.0.cmp(&b.0)); // stable: the models' column order stays
        changes.drop_columns.sort();
        changes
            .rename_indexes
            .sort_by(|a, b| (&a.table, &a.from, &a.to).cmp(&(&b.table, &b.from, &b.to)));
        Ok(changes)
    }

    fn compare_columns(
        &mut self,
        &Staying {
            original,
            before,
            after,
        }: &Staying,
        renames: &Renames,
        decisions: &Decisions,
        fates: &mut ColumnFates,
    ) {
        let one_off_defaults = &decisions.one_off_defaults;
        let table = &after.name;
        for c in &original.columns {
            let key = (original.name.clone(), c.name.clone());
            let now = renames.column(table, &c.name);
            if now != c.name {
                fates.renamed.insert(key.clone());
            }
            match after.column(now) {
                None if c.generated.is_some() => {
                    fates.dropped.insert(key);
                    self.regenerate_columns
                        .push((original.name.clone(), c.name.clone()));
                }
                None => {
                    fates.dropped.insert(key);
                    self.drop_columns.push((table.clone(), c.name.clone()));
                }
                Some(wanted) if generation_changes(c, wanted) => {
                    fates.dropped.insert(key);
                    fates
                        .regenerated
                        .insert((original.name.clone(), now.to_string()));
                    self.regenerate_columns
                        .push((original.name.clone(), c.name.clone()));
                    self.add_generated_columns
                        .push((table.clone(), wanted.clone()));
                }
                Some(wanted) => {
                    if wanted.ty != c.ty {
                        fates.retyped.insert(key);
                    }
                    let mut was = c.clone();
                    was.name = now.to_string();
                    self.alter_columns.extend(alteration(table, &was, wanted));
                    let key = (table.clone(), wanted.name.clone());
                    if c.null && !wanted.null && !decisions.no_nulls.contains(&key) {
                        let value = one_off_defaults
                            .get(&key)
                            .or_else(|| literal_default(wanted));
                        if let Some(value) = value {
                            self.backfills.push((key.0, key.1, value.clone()));
                        }
                    }
                }
            }
        }
        self.regenerate_over_retyped(original, after, renames, fates);
        for c in after
            .columns
            .iter()
            .filter(|c| before.column(&c.name).is_none())
        {
            if c.generated.is_some() {
                self.add_generated_columns.push((table.clone(), c.clone()));
                continue;
            }
            let one_off = one_off_defaults
                .get(&(table.clone(), c.name.clone()))
                .filter(|_| c.default.is_none())
                .cloned();
            self.add_columns.push((table.clone(), c.clone(), one_off));
        }
    }

    /// A generated column that stays as it is but names a column whose type changes:
    /// servers refuse that type change while it exists, so it is dropped and added.
    fn regenerate_over_retyped(
        &mut self,
        original: &TableDef,
        after: &TableDef,
        renames: &Renames,
        fates: &mut ColumnFates,
    ) {
        for c in &original.columns {
            let key = (original.name.clone(), c.name.clone());
            let Some(g) = &c.generated else { continue };
            if fates.dropped.contains(&key) {
                continue;
            }
            let names_retyped = original.columns.iter().any(|o| {
                fates
                    .retyped
                    .contains(&(original.name.clone(), o.name.clone()))
                    && mentions(&g.expr, &o.name)
            });
            let now = renames.column(&after.name, &c.name);
            if let (true, Some(wanted)) = (names_retyped, after.column(now)) {
                fates.dropped.insert(key);
                fates
                    .regenerated
                    .insert((original.name.clone(), now.to_string()));
                self.regenerate_columns
                    .push((original.name.clone(), c.name.clone()));
                self.add_generated_columns
                    .push((after.name.clone(), wanted.clone()));
                self.alter_columns
                    .retain(|a| !(a.table == after.name && a.column == now));
            }
        }
    }

    /// A check stays only if it reads the same and names no column that is renamed or
    /// dropped: the state will not rename or drop a column a check names.
    fn compare_checks(
        &mut self,
        &Staying {
            original, after, ..
        }: &Staying,
        fates: &ColumnFates,
    ) {
        let mut kept = BTreeSet::new();
        for check in &original.checks {
            let blocking = original
                .columns
                .iter()
                .any(|c| fates.moves(&original.name, &c.name) && mentions(&check.expr, &c.name));
            let same = after
                .checks
                .iter()
                .any(|c| c.name == check.name && c.expr == check.expr);
            if same && !blocking {
                kept.insert(check.name.clone());
            } else {
                self.drop_constraints
                    .insert((original.name.clone(), check.name.clone()));
            }
        }
        for check in after.checks.iter().filter(|c| !kept.contains(&c.name)) {
            self.add_constraints.push((
                after.name.clone(),
                Constraint::Check {
                    name: check.name.clone(),
                    expr: check.expr.clone(),
                },
            ));
        }
    }

    fn compare_uniques(
        &mut self,
        &Staying {
            original,
            before,
            after,
        }: &Staying,
        fates: &ColumnFates,
    ) {
        let mut kept = BTreeSet::new();
        for unique in &before.uniques {
            // A unique over a generated column that is dropped and added goes too.
            let regenerated = unique.columns.iter().any(|c| {
                fates
                    .regenerated
                    .contains(&(original.name.clone(), c.clone()))
            });
            if after.uniques.contains(unique) && !regenerated {
                kept.insert(unique.name.clone());
            } else {
                self.drop_constraints
                    .insert((original.name.clone(), unique.name.clone()));
            }
        }
        for unique in after.uniques.iter().filter(|u| !kept.contains(&u.name)) {
            self.add_constraints.push((
                after.name.clone(),
                Constraint::Unique {
                    name: unique.name.clone(),
                    columns: unique.columns.clone(),
                },
            ));
        }
    }

    /// Indexes stay when identical; an index identical but for its name is renamed
    /// (when its new name is no old object's: that one may still be in place when the
    /// rename runs); the rest are dropped and created. An index whose predicate names
    /// a renamed or dropped column is always dropped and created.
    fn compare_indexes(
        &mut self,
        &Staying {
            original,
            before,
            after,
        }: &Staying,
        fates: &ColumnFates,
        old: &SchemaState,
    ) {
        let blocking = |i: &IndexDef| {
            let regenerated = i.columns.iter().any(|c| {
                fates
                    .regenerated
                    .contains(&(original.name.clone(), c.clone()))
            });
            regenerated
                || original.columns.iter().any(|c| {
                    fates.moves(&original.name, &c.name)
                        && i.predicate
                            .iter()
                            .chain(&i.expressions)
                            .any(|p| mentions(p, &c.name))
                })
        };
        let mut kept = BTreeSet::new();
        let mut leaving = Vec::new();
        for index in &before.indexes {
            if blocking(index) {
                self.drop_indexes
                    .insert((original.name.clone(), index.name.clone()));
            } else if after.indexes.contains(index) {
                kept.insert(index.name.clone());
            } else {
                leaving.push(index);
            }
        }
        let mut arriving: Vec<&IndexDef> = after
            .indexes
            .iter()
            .filter(|i| !kept.contains(&i.name))
            .collect();
        // By name, so the pairing does not depend on the order the models list them.
        leaving.sort_by(|a, b| a.name.cmp(&b.name));
        arriving.sort_by(|a, b| a.name.cmp(&b.name));
        for index in leaving {
            let renamed_to = arriving
                .iter()
                .position(|i| same_index_but_name(i, index) && old.owner_of(&i.name).is_none());
            match renamed_to {
                Some(pos) => {
                    let to = arriving.remove(pos);
                    self.rename_indexes.push(RenameIndex {
                        table: after.name.clone(),
                        from: index.name.clone(),
                        to: to.name.clone(),
                    });
                }
                None => {
                    self.drop_indexes
                        .insert((original.name.clone(), index.name.clone()));
                }
            }
        }
        for index in arriving {
            self.create_indexes
                .push((after.name.clone(), index.clone()));
        }
    }

    /// Foreign keys of the tables that stay which go away or change, and foreign keys
    /// (of any table) that would block a column's new type or its drop.
    fn drop_changed_and_blocking_foreign_keys(
        &mut self,
        old: &SchemaState,
        staying: &[Staying],
        fates: &ColumnFates,
    ) {
        let blocks = |columns: &[String], table: &str| {
            columns.iter().any(|c| {
                let key = (table.to_string(), c.clone());
                fates.retyped.contains(&key) || fates.dropped.contains(&key)
            })
        };
        for t in old.tables.values() {
            let this = staying.iter().find(|s| s.original.name == t.name);
            for fk in &t.foreign_keys {
                let into_staying = staying.iter().any(|s| s.original.name == fk.references);
                let blocking = blocks(&fk.columns, &t.name)
                    || (into_staying && blocks(&fk.referenced_columns, &fk.references));
                // A staying table keeps a foreign key only if it is identical; a
                // dropped table's foreign keys go with it, unless they block.
                let goes = this.is_some_and(|s| {
                    s.after.foreign_key(&fk.name) != s.before.foreign_key(&fk.name)
                });
                if goes || blocking {
                    self.drop_foreign_keys
                        .insert((t.name.clone(), fk.name.clone()));
                }
            }
        }
    }

    /// Drops tables that reference others first; a cycle among them is broken by
    /// dropping the foreign keys into the table that goes first.
    fn order_table_drops(&mut self, old: &SchemaState, dropped: &BTreeSet<String>) {
        let mut referenced_by: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for name in dropped {
            for (source, _) in old.foreign_keys_into(name) {
                if dropped.contains(source) && source != name {
                    referenced_by
                        .entry(name.clone())
                        .or_default()
                        .insert(source.to_string());
                }
            }
        }
        let order = dependency_order(dropped, &referenced_by);
        let mut gone = BTreeSet::new();
        for name in &order {
            for (source, fk) in old.foreign_keys_into(name) {
                if source != name && !gone.contains(source) {
                    self.drop_foreign_keys
                        .insert((source.to_string(), fk.name.clone()));
                }
            }
            gone.insert(name.as_str());
        }
        self.drop_tables = order;
    }

    /// A foreign key whose referenced key is dropped would be left without one (the
    /// state refuses that drop): it is dropped first, and re-added if the models keep it.
    fn drop_foreign_keys_without_keys(&mut self, old: &SchemaState, dropped: &BTreeSet<String>) {
        for t in old.tables.values().filter(|t| !dropped.contains(&t.name)) {
            let mut without = TableDef::clone(t);
            let gone = |name: &String, set: &BTreeSet<Object>| {
                set.contains(&(t.name.clone(), name.clone()))
            };
            without
                .indexes
                .retain(|i| !gone(&i.name, &self.drop_indexes));
            without
                .uniques
                .retain(|u| !gone(&u.name, &self.drop_constraints));
            let orphaned: Vec<Object> = old
                .foreign_keys_into(&t.name)
                .filter(|(_, fk)| !is_unique_key(&without, &fk.referenced_columns))
                .map(|(source, fk)| (source.to_string(), fk.name.clone()))
                .collect();
            self.drop_foreign_keys.extend(orphaned);
        }
    }

    /// The foreign keys a staying table has in the models but not (any more, or not
    /// intact) once the drops are done.
    fn add_foreign_keys_of(
        &mut self,
        &Staying {
            original,
            before,
            after,
        }: &Staying,
    ) {
        for fk in &after.foreign_keys {
            let survives = before.foreign_key(&fk.name) == Some(fk)
                && !self
                    .drop_foreign_keys
                    .contains(&(original.name.clone(), fk.name.clone()));
            if !survives {
                self.add_foreign_keys.push((after.name.clone(), fk.clone()));
            }
        }
    }
}

/// Any other difference (key, method, operator classes, options) rebuilds the index.
fn same_index_but_name(a: &IndexDef, b: &IndexDef) -> bool {
    IndexDef {
        name: b.name.clone(),
        ..a.clone()
    } == *b
}

/// Whether a column is generated differently (or becomes or stops being generated):
/// no `ALTER` changes that, the column is dropped and added; so is a generated
/// column whose type changes (servers refuse that too). The text is compared as
/// written (the migration state keeps it so); drift, which compares with what a
/// server shows, compares the neutral spelling.
fn generation_changes(was: &ColumnDef, wanted: &ColumnDef) -> bool {
    let retyped = was.ty != wanted.ty && wanted.generated.is_some();
    was.generated != wanted.generated || retyped
}

/// The `alter_column` that turns `was` into `wanted` (same name), naming only the
/// parts that change; `None` when nothing does.
fn alteration(table: &str, was: &ColumnDef, wanted: &ColumnDef) -> Option<AlterColumn> {
    let op = AlterColumn {
        table: table.to_string(),
        column: wanted.name.clone(),
        ty: (was.ty != wanted.ty).then_some(wanted.ty),
        null: (was.null != wanted.null).then_some(wanted.null),
        default: if was.default == wanted.default {
            None
        } else {
            wanted.default.clone()
        },
        drop_default: was.default.is_some() && wanted.default.is_none(),
        comment: wanted
            .comment
            .clone()
            .filter(|_| was.comment != wanted.comment),
        drop_comment: was.comment.is_some() && wanted.comment.is_none(),
        values: (wanted.ty == ColumnType::Enum
            && (was.values != wanted.values || was.ty != wanted.ty))
            .then(|| wanted.values.clone()),
        collation: (was.collation != wanted.collation).then(|| wanted.collation.clone()),
    };
    let changes = op.ty.is_some()
        || op.null.is_some()
        || op.default.is_some()
        || op.drop_default
        || op.comment.is_some()
        || op.drop_comment
        || op.values.is_some()
        || op.collation.is_some();
    changes.then_some(op)
}

/// Changes no operation can make: the primary key and auto-increment flags.
fn refuse_inexpressible(before: &TableDef, after: &TableDef) -> Result<(), AutodetectError> {
    let unsupported = |what: String| AutodetectError::Unsupported {
        table: after.name.clone(),
        what,
    };
    if before.primary_key != after.primary_key {
        return Err(unsupported(format!(
            "its primary key ({} → {})",
            before.primary_key.join(", "),
            after.primary_key.join(", ")
        )));
    }
    for c in &after.columns {
        let was_auto = before.column(&c.name).is_some_and(|b| b.auto);
        if c.auto != was_auto {
            return Err(unsupported(format!(
                "the auto-increment flag of column `{}`",
                c.name
            )));
        }
    }
    Ok(())
}

/// The model's default of `column` when it is a literal (an expression such as
/// `now` has no value a backfill could write).
pub(super) fn literal_default(column: &ColumnDef) -> Option<&DefaultValue> {
    column
        .default
        .as_ref()
        .filter(|d| !matches!(d, DefaultValue::Expr { .. }))
}

/// Columns of tables that stay, nullable in the old schema (as renamed) and NOT NULL
/// in `new`, by new table name, as the models have them.
pub(super) fn nulls_forbidden(
    old: &SchemaState,
    new: &SchemaState,
    renames: &Renames,
) -> Vec<(String, ColumnDef)> {
    let old_renamed = renames.apply_to(old);
    new.tables
        .values()
        .filter_map(|after| Some((after, old_renamed.tables.get(&after.name)?)))
        .flat_map(|(after, before)| {
            after
                .columns
                .iter()
                .filter(|c| !c.null && before.column(&c.name).is_some_and(|b| b.null))
                .map(|c| (after.name.clone(), c.clone()))
        })
        .collect()
}

/// Columns of tables that stay which the old schema lacks, by new table name, in the
/// models' order.
pub(super) fn added_columns(
    old: &SchemaState,
    new: &SchemaState,
    renames: &Renames,
) -> Vec<(String, ColumnDef)> {
    let old_renamed = renames.apply_to(old);
    new.tables
        .values()
        .filter_map(|after| Some((after, old_renamed.tables.get(&after.name)?)))
        .flat_map(|(after, before)| {
            after
                .columns
                .iter()
                .filter(|c| before.column(&c.name).is_none())
                .map(|c| (after.name.clone(), c.clone()))
        })
        .collect()
}

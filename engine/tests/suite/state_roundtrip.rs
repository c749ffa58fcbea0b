//! The schema state without any SQL: every operation is undone by its inverse, a
//! whole history unwinds to the empty schema, refused operations change nothing, and
//! the state's specific refusals (`InUse`, `NameTaken`, `Irreversible`) hold.
//!
//! The property tests draw a plan of (operation kind, seed) pairs; `build` turns each
//! into an operation that fits the state reached so far, or skips it when its
//! preconditions cannot hold (no table to drop yet, …). Proptest shrinks the plan, so
//! a failure is reported as a short history.

use std::collections::{BTreeMap, HashSet};

use proptest::prelude::*;
use strata_engine::ast::*;
use strata_engine::state::{InverseError, StateError};
use strata_engine::{ColumnType, SchemaState};

use crate::rng::Rng;

// ---- names ----------------------------------------------------------------------------

const TABLE_NAMES: usize = 8;
const COLUMN_NAMES: usize = 10;
const OBJECT_NAMES: usize = 40;

fn free_table_name(rng: &mut Rng, state: &SchemaState) -> Option<String> {
    let start = rng.below(TABLE_NAMES);
    (0..TABLE_NAMES)
        .map(|i| format!("t{}", (start + i) % TABLE_NAMES))
        .find(|name| !state.tables.contains_key(name))
}

fn free_column_name(rng: &mut Rng, table: &TableDef) -> Option<String> {
    let start = rng.below(COLUMN_NAMES);
    (0..COLUMN_NAMES)
        .map(|i| format!("c{}", (start + i) % COLUMN_NAMES))
        .find(|name| table.column(name).is_none())
}

/// An index or constraint name free schema-wide and not in `also_taken`.
fn free_object_name(
    rng: &mut Rng,
    state: &SchemaState,
    also_taken: &HashSet<String>,
) -> Option<String> {
    let start = rng.below(OBJECT_NAMES);
    (0..OBJECT_NAMES)
        .map(|i| format!("o{}", (start + i) % OBJECT_NAMES))
        .find(|name| state.owner_of(name).is_none() && !also_taken.contains(name))
}

// ---- columns, types, defaults ---------------------------------------------------------

fn any_type(rng: &mut Rng) -> ColumnType {
    match rng.below(18) {
        0 => ColumnType::Bool,
        1 => ColumnType::SmallInt,
        2 => ColumnType::Int,
        3 => ColumnType::BigInt,
        4 => ColumnType::Real,
        5 => ColumnType::Double,
        6 => {
            let precision = 1 + rng.below_as::<u8>(30);
            let scale = rng.below_as(usize::from(precision) + 1);
            ColumnType::Decimal { precision, scale }
        }
        7 => ColumnType::Char(1 + rng.below_as::<u32>(10)),
        8 => ColumnType::Varchar(1 + rng.below_as::<u32>(300)),
        9 => ColumnType::Text,
        10 => ColumnType::Bytes,
        11 => ColumnType::Date,
        12 => ColumnType::Time,
        13 => ColumnType::DateTime,
        14 => ColumnType::TimestampTz,
        15 => ColumnType::Uuid,
        16 => *rng
            .pick(&[
                ColumnType::Duration,
                ColumnType::USmallInt,
                ColumnType::UInt,
                ColumnType::UBigInt,
            ])
            .expect("not empty"),
        _ => ColumnType::Json,
    }
}

fn integer_type(rng: &mut Rng) -> ColumnType {
    *rng.pick(&[ColumnType::SmallInt, ColumnType::Int, ColumnType::BigInt])
        .expect("not empty")
}

/// The rule the state enforces, restated so the generator only proposes defaults
/// that fit: a mismatch between the two shows up as a refused operation.
fn default_fits(default: &DefaultValue, ty: ColumnType) -> bool {
    match default {
        DefaultValue::Bool(_) => ty == ColumnType::Bool,
        DefaultValue::Int(_) => ty.is_numeric(),
        DefaultValue::Float(_) => ty.is_numeric() && !ty.is_integer(),
        DefaultValue::Text(_) => ty.is_textual() || ty.is_temporal(),
        DefaultValue::Expr {
            expr: DefaultExpr::Now,
        } => ty.is_temporal(),
        DefaultValue::Expr {
            expr: DefaultExpr::Uuid,
        } => ty == ColumnType::Uuid,
    }
}

/// A default that fits `ty`, when the type has any.
fn default_for(rng: &mut Rng, ty: ColumnType) -> Option<DefaultValue> {
    let mut options = Vec::new();
    if ty == ColumnType::Bool {
        options.push(DefaultValue::Bool(rng.chance(50)));
    }
    if ty.is_numeric() {
        options.push(DefaultValue::Int(rng.below_as::<i64>(2001) - 1000));
    }
    if ty.is_numeric() && !ty.is_integer() {
        options.push(DefaultValue::Float(
            *rng.pick(&[0.5, 2.25, -1.75]).expect("not empty"),
        ));
    }
    if ty.is_textual() || ty.is_temporal() {
        let text = rng
            .pick(&["", "x", "it's", "2000-01-01"])
            .expect("not empty");
        options.push(DefaultValue::Text(text.to_string()));
    }
    if ty.is_temporal() {
        options.push(DefaultValue::Expr {
            expr: DefaultExpr::Now,
        });
    }
    if ty == ColumnType::Uuid {
        options.push(DefaultValue::Expr {
            expr: DefaultExpr::Uuid,
        });
    }
    rng.pick(&options).cloned()
}

/// A column of any type, or now and then of a type some key of the schema has
/// (`key_types`), so that later foreign keys find columns of the type they reference.
fn plain_column(rng: &mut Rng, name: String, key_types: &[ColumnType]) -> ColumnDef {
    let ty = match rng.pick(key_types) {
        Some(ty) if rng.chance(40) => *ty,
        _ => any_type(rng),
    };
    ColumnDef {
        name,
        ty,
        null: rng.chance(30),
        default: if rng.chance(40) {
            default_for(rng, ty)
        } else {
            None
        },
        auto: false,
        ..Default::default()
    }
}

fn column_names(t: &TableDef) -> Vec<String> {
    t.columns.iter().map(|c| c.name.clone()).collect()
}

// ---- what the state forbids -----------------------------------------------------------

/// Another table's foreign key points at `table` (a self-reference does not count).
fn referenced_by_other(state: &SchemaState, table: &str) -> bool {
    state
        .tables
        .values()
        .any(|t| t.name != table && t.foreign_keys.iter().any(|f| f.references == table))
}

/// Whether `sql` names `word` as a whole identifier: the state's own test for checks
/// and predicates, restated (the generator's expressions are `<column> IS NOT NULL`).
fn mentions(sql: &str, word: &str) -> bool {
    sql.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|token| token.eq_ignore_ascii_case(word))
}

/// A check expression or index predicate of `t` names the column; such a column can
/// be neither dropped nor renamed.
fn column_in_sql(t: &TableDef, column: &str) -> bool {
    t.checks.iter().any(|c| mentions(&c.expr, column))
        || t.indexes
            .iter()
            .any(|i| i.predicate.as_deref().is_some_and(|p| mentions(p, column)))
}

/// The column is part of the primary key, an index, a constraint or a foreign key
/// (either side), or named by a check or predicate.
fn column_in_use(state: &SchemaState, t: &TableDef, column: &str) -> bool {
    let uses = |cols: &[String]| cols.iter().any(|c| c == column);
    uses(&t.primary_key)
        || t.indexes.iter().any(|i| uses(&i.columns))
        || t.uniques.iter().any(|u| uses(&u.columns))
        || t.foreign_keys.iter().any(|f| uses(&f.columns))
        || column_in_sql(t, column)
        || state.tables.values().any(|other| {
            other
                .foreign_keys
                .iter()
                .any(|f| f.references == t.name && uses(&f.referenced_columns))
        })
}

/// Whether `columns` (in any order) are the primary key, a unique constraint or a
/// full (non-partial) unique index of `t`: what a foreign key may reference (the
/// state's rule, restated).
/// The same columns in any order (and not none).
fn same_columns(a: &[String], b: &[String]) -> bool {
    !a.is_empty() && a.len() == b.len() && a.iter().all(|c| b.contains(c))
}

fn is_unique_key(t: &TableDef, columns: &[String]) -> bool {
    let same =
        |cols: &[String]| cols.len() == columns.len() && cols.iter().all(|c| columns.contains(c));
    same(&t.primary_key)
        || t.uniques.iter().any(|u| same(&u.columns))
        || t.indexes
            .iter()
            .any(|i| i.unique && i.predicate.is_none() && same(&i.columns))
}

/// Every column set of `t` a foreign key may reference.
fn unique_keys(t: &TableDef) -> Vec<Vec<String>> {
    let pk = (!t.primary_key.is_empty()).then(|| t.primary_key.clone());
    let uniques = t.uniques.iter().map(|u| u.columns.clone());
    let unique_indexes = t
        .indexes
        .iter()
        .filter(|i| i.unique && i.predicate.is_none())
        .map(|i| i.columns.clone());
    pk.into_iter()
        .chain(uniques)
        .chain(unique_indexes)
        .collect()
}

/// The types of the columns a foreign key could reference, schema-wide.
fn key_types(state: &SchemaState) -> Vec<ColumnType> {
    let mut types = Vec::new();
    for t in state.tables.values() {
        for column in unique_keys(t).concat() {
            types.extend(t.column(&column).map(|c| c.ty));
        }
    }
    types
}

/// The column is in a foreign key, at either end (a self-reference counts twice).
fn column_in_foreign_key(state: &SchemaState, t: &TableDef, column: &str) -> bool {
    let uses = |cols: &[String]| cols.iter().any(|c| c == column);
    t.foreign_keys.iter().any(|f| uses(&f.columns))
        || state
            .foreign_keys_into(&t.name)
            .any(|(_, f)| uses(&f.referenced_columns))
}

fn sets_null(fk: &ForeignKeyDef) -> bool {
    [fk.on_delete, fk.on_update].contains(&Some(FkAction::SetNull))
}

/// The column belongs to a foreign key of `t` that may write NULL into it.
fn column_in_set_null_foreign_key(t: &TableDef, column: &str) -> bool {
    t.foreign_keys
        .iter()
        .any(|f| sets_null(f) && f.columns.iter().any(|c| c == column))
}

/// An incoming foreign key references exactly the columns of index or unique `name`
/// of `t`, and no other key of `t` has them: dropping it would leave the foreign key
/// without a target.
fn key_relied_on(state: &SchemaState, t: &TableDef, name: &str) -> bool {
    let mut without = t.clone();
    without.indexes.retain(|i| i.name != name);
    without.uniques.retain(|u| u.name != name);
    state
        .foreign_keys_into(&t.name)
        .any(|(_, f)| !is_unique_key(&without, &f.referenced_columns))
}

/// A referential action; `set null` only when every column of the key is nullable.
fn fk_action(rng: &mut Rng, nullable: bool) -> Option<FkAction> {
    let mut actions = vec![
        None,
        Some(FkAction::Cascade),
        Some(FkAction::Restrict),
        Some(FkAction::SetDefault),
        Some(FkAction::NoAction),
    ];
    if nullable {
        actions.push(Some(FkAction::SetNull));
    }
    *rng.pick(&actions).expect("not empty")
}

/// A foreign key from `source` to one of `target`'s keys, or `None` when the target
/// has no key or the source lacks distinct columns of the referenced types.
fn foreign_key_between(
    rng: &mut Rng,
    name: String,
    source: &TableDef,
    target: &TableDef,
) -> Option<ForeignKeyDef> {
    let key = rng.pick(&unique_keys(target))?.clone();
    foreign_key_to(rng, name, source, target, key)
}

/// A foreign key from `source` to the key `referenced_columns` of `target`, over
/// distinct source columns each of its referenced column's type.
fn foreign_key_to(
    rng: &mut Rng,
    name: String,
    source: &TableDef,
    target: &TableDef,
    referenced_columns: Vec<String>,
) -> Option<ForeignKeyDef> {
    let mut pool: Vec<&ColumnDef> = source.columns.iter().collect();
    let mut columns = Vec::new();
    for referenced in &referenced_columns {
        let ty = target.column(referenced)?.ty;
        let fitting: Vec<usize> = (0..pool.len()).filter(|&i| pool[i].ty == ty).collect();
        let chosen = pool.swap_remove(*rng.pick(&fitting)?);
        columns.push(chosen.name.clone());
    }
    let nullable = columns
        .iter()
        .all(|c| source.column(c).is_some_and(|c| c.null));
    Some(ForeignKeyDef {
        name,
        columns,
        references: target.name.clone(),
        referenced_columns,
        on_delete: fk_action(rng, nullable),
        on_update: fk_action(rng, nullable),
        ..Default::default()
    })
}

/// A table comment with a quote, or none: both ways of `alter_table`.
fn alter_table(rng: &mut Rng, state: &SchemaState) -> Option<Operation> {
    let t = random_table(rng, state)?;
    let comment = rng.chance(60).then(|| format!("{}'s table", t.name));
    Some(Operation::AlterTable(AlterTable {
        table: t.name.clone(),
        drop_comment: comment.is_none(),
        comment,
    }))
}

fn random_table<'a>(rng: &mut Rng, state: &'a SchemaState) -> Option<&'a TableDef> {
    let tables: Vec<&TableDef> = state.tables.values().map(|t| &**t).collect();
    rng.pick(&tables).copied()
}

// ---- one builder per operation kind ---------------------------------------------------

const KINDS: u8 = 18;
const _: () = assert!(
    KINDS as usize == Operation::KINDS.len(),
    "a new kind of operation needs a weight in WEIGHTS and a builder in `build`"
);

/// How often each kind (by number, as in `build`) is drawn. Tables are created more
/// often than dropped so that histories grow schemas worth altering.
const WEIGHTS: [u32; KINDS as usize] = [6, 1, 2, 3, 2, 2, 4, 3, 1, 2, 3, 1, 3, 1, 1, 1, 1, 1];

/// The kind number for `n` in `0..WEIGHTS.sum()`.
fn weighted_kind(mut n: u32) -> u8 {
    for (kind, weight) in (0..KINDS).zip(WEIGHTS) {
        if n < weight {
            return kind;
        }
        n -= weight;
    }
    unreachable!("n is below the sum of the weights")
}

/// An operation of kind number `kind` that fits `state`, or `None` when none can.
pub(crate) fn build(kind: u8, rng: &mut Rng, state: &SchemaState) -> Option<Operation> {
    match kind % KINDS {
        0 => create_table(rng, state),
        1 => drop_table(rng, state),
        2 => {
            let from = random_table(rng, state)?.name.clone();
            let to = free_table_name(rng, state)?;
            Some(Operation::RenameTable(RenameTable { from, to }))
        }
        3 => {
            let t = random_table(rng, state)?;
            let name = free_column_name(rng, t)?;
            Some(Operation::AddColumn(AddColumn {
                table: t.name.clone(),
                column: plain_column(rng, name, &key_types(state)),
            }))
        }
        4 => {
            let t = random_table(rng, state)?;
            let droppable: Vec<_> = column_names(t)
                .into_iter()
                .filter(|c| !column_in_use(state, t, c))
                .collect();
            if t.columns.len() < 2 {
                return None;
            }
            Some(Operation::DropColumn(DropColumn {
                table: t.name.clone(),
                column: rng.pick(&droppable)?.clone(),
            }))
        }
        5 => {
            let t = random_table(rng, state)?;
            let renamable: Vec<_> = column_names(t)
                .into_iter()
                .filter(|c| !column_in_sql(t, c))
                .collect();
            let from = rng.pick(&renamable)?.clone();
            let to = free_column_name(rng, t)?;
            Some(Operation::RenameColumn(RenameColumn {
                table: t.name.clone(),
                from,
                to,
            }))
        }
        6 => alter_column(rng, state),
        7 => {
            let t = random_table(rng, state)?;
            let name = free_object_name(rng, state, &HashSet::new())?;
            Some(Operation::CreateIndex(CreateIndex {
                table: t.name.clone(),
                index: random_index(rng, name, t),
            }))
        }
        8 => {
            let (table, name) = pick_object(rng, state, |t| {
                t.indexes
                    .iter()
                    .filter(|i| !key_relied_on(state, t, &i.name))
                    .map(|i| i.name.clone())
                    .collect()
            })?;
            Some(Operation::DropIndex(DropIndex { table, name }))
        }
        9 => {
            let (table, from) = pick_object(rng, state, |t| {
                t.indexes.iter().map(|i| i.name.clone()).collect()
            })?;
            let to = free_object_name(rng, state, &HashSet::new())?;
            Some(Operation::RenameIndex(RenameIndex { table, from, to }))
        }
        10 => {
            let source = random_table(rng, state)?;
            let target = random_table(rng, state)?;
            let name = free_object_name(rng, state, &HashSet::new())?;
            Some(Operation::AddForeignKey(AddForeignKey {
                table: source.name.clone(),
                foreign_key: foreign_key_between(rng, name, source, target)?,
            }))
        }
        11 => {
            let (table, name) = pick_object(rng, state, |t| {
                t.foreign_keys.iter().map(|f| f.name.clone()).collect()
            })?;
            Some(Operation::DropForeignKey(DropForeignKey { table, name }))
        }
        12 => add_constraint(rng, state),
        13 => drop_constraint(rng, state),
        14 => Some(Operation::RunSql(run_sql(rng))),
        15 => Some(Operation::RunCode(RunCode {
            name: format!("fill_{}", rng.below_as::<usize>(5)),
            reverse: Some(format!("clear_{}", rng.below_as::<usize>(5))),
        })),
        16 => backfill(rng, state),
        _ => alter_table(rng, state),
    }
}

/// A backfill of a table with a one-column key: one of its columns other than the key
/// set to itself (any type), or the SET list as raw SQL; sometimes a filter, a batch size, a pause.
fn backfill(rng: &mut Rng, state: &SchemaState) -> Option<Operation> {
    let tables: Vec<_> = state
        .tables
        .values()
        .filter(|t| t.primary_key.len() == 1)
        .collect();
    let t = *rng.pick(&tables)?;
    let column = rng.pick(&t.columns)?.name.clone();
    // `set` may not change the key the backfill walks; the raw SET list is not read.
    let (set, set_sql) = if rng.chance(70) && !t.primary_key.contains(&column) {
        (
            Some(BTreeMap::from([(column.clone(), column.clone())])),
            None,
        )
    } else {
        (None, Some(SqlText::All(format!("{column} = {column}"))))
    };
    Some(Operation::Backfill(Backfill {
        table: t.name.clone(),
        set,
        set_sql,
        predicate: rng.chance(50).then(|| format!("{column} IS NOT NULL")),
        batch_size: if rng.chance(50) {
            Backfill::DEFAULT_BATCH_SIZE
        } else {
            1 + rng.below_as::<u64>(5000)
        },
        pause: rng
            .chance(30)
            .then(|| std::time::Duration::from_millis(1 + rng.below_as::<u64>(500))),
        undo: false,
    }))
}

/// A table no other table references.
fn drop_table(rng: &mut Rng, state: &SchemaState) -> Option<Operation> {
    let candidates: Vec<_> = state
        .tables
        .keys()
        .filter(|t| !referenced_by_other(state, t))
        .cloned()
        .collect();
    let name = rng.pick(&candidates)?.clone();
    Some(Operation::DropTable(DropTable { name }))
}

/// A unique constraint, or a check.
fn add_constraint(rng: &mut Rng, state: &SchemaState) -> Option<Operation> {
    let t = random_table(rng, state)?;
    let name = free_object_name(rng, state, &HashSet::new())?;
    let unique_columns = rng.subset(&column_names(t), 3);
    // The state refuses a unique constraint on exactly the primary key.
    let constraint = if rng.chance(50) && !same_columns(&unique_columns, &t.primary_key) {
        Constraint::Unique {
            name,
            columns: unique_columns,
        }
    } else {
        Constraint::Check {
            name,
            expr: check_expr(rng, t),
        }
    };
    Some(Operation::AddConstraint(AddConstraint {
        table: t.name.clone(),
        constraint,
    }))
}

/// A unique constraint no foreign key relies on, or a check.
fn drop_constraint(rng: &mut Rng, state: &SchemaState) -> Option<Operation> {
    let (table, name) = pick_object(rng, state, |t| {
        t.uniques
            .iter()
            .filter(|u| !key_relied_on(state, t, &u.name))
            .map(|u| u.name.clone())
            .chain(t.checks.iter().map(|c| c.name.clone()))
            .collect()
    })?;
    Some(Operation::DropConstraint(DropConstraint { table, name }))
}

fn create_table(rng: &mut Rng, state: &SchemaState) -> Option<Operation> {
    let mut t = TableDef {
        name: free_table_name(rng, state)?,
        columns: Vec::new(),
        primary_key: Vec::new(),
        uniques: Vec::new(),
        checks: Vec::new(),
        foreign_keys: Vec::new(),
        indexes: Vec::new(),
        ..Default::default()
    };
    if rng.chance(50) {
        t.columns.push(ColumnDef {
            name: "id".into(),
            ty: integer_type(rng),
            null: false,
            default: None,
            auto: true,
            ..Default::default()
        });
        t.primary_key = vec!["id".into()];
    }
    let key_types = key_types(state);
    for i in 0..=rng.below(5) {
        t.columns
            .push(plain_column(rng, format!("c{i}"), &key_types));
    }
    if t.primary_key.is_empty() && rng.chance(50) {
        let not_null: Vec<_> = t
            .columns
            .iter()
            .filter(|c| !c.null)
            .map(|c| c.name.clone())
            .collect();
        if !not_null.is_empty() {
            t.primary_key = rng.subset(&not_null, 2);
        }
    }
    let mut taken = HashSet::new();
    let mut fresh_name = |rng: &mut Rng| {
        let name = free_object_name(rng, state, &taken)?;
        taken.insert(name.clone());
        Some(name)
    };
    for _ in 0..rng.below(3) {
        let name = fresh_name(rng)?;
        let index = random_index(rng, name, &t);
        t.indexes.push(index);
    }
    for _ in 0..rng.below(3) {
        let columns = rng.subset(&column_names(&t), 2);
        if same_columns(&columns, &t.primary_key) {
            continue; // refused by the state: the key is unique already
        }
        t.uniques.push(UniqueDef {
            name: fresh_name(rng)?,
            columns,
        });
    }
    for _ in 0..rng.below(3) {
        let expr = check_expr(rng, &t);
        t.checks.push(CheckDef {
            name: fresh_name(rng)?,
            expr,
        });
    }
    for _ in 0..rng.below(3) {
        let name = fresh_name(rng)?;
        // The new table itself is a possible target: a self-reference.
        let target = match random_table(rng, state) {
            Some(other) if rng.chance(70) => other.clone(),
            _ => t.clone(),
        };
        let Some(key) = rng.pick(&unique_keys(&target)).cloned() else {
            continue;
        };
        // Mostly give the table columns of the referenced types, as a model's foreign
        // key field does; otherwise the key reuses columns that happen to fit.
        if rng.chance(70) {
            for referenced in &key {
                let ty = target.column(referenced)?.ty;
                let Some(column) = free_column_name(rng, &t) else {
                    break;
                };
                t.columns.push(ColumnDef {
                    name: column,
                    ty,
                    null: rng.chance(50),
                    default: None,
                    auto: false,
                    ..Default::default()
                });
            }
        }
        if let Some(fk) = foreign_key_to(rng, name, &t, &target, key) {
            t.foreign_keys.push(fk);
        }
    }
    Some(Operation::CreateTable(t))
}

fn alter_column(rng: &mut Rng, state: &SchemaState) -> Option<Operation> {
    let t = random_table(rng, state)?;
    let old = rng.pick(&t.columns)?;
    let in_primary_key = t.primary_key.contains(&old.name);
    let in_foreign_key = column_in_foreign_key(state, t, &old.name);
    let must_stay_nullable = column_in_set_null_foreign_key(t, &old.name);
    let mut op = AlterColumn {
        table: t.name.clone(),
        column: old.name.clone(),
        ty: None,
        null: None,
        default: None,
        drop_default: false,
        ..Default::default()
    };
    if rng.chance(50) {
        // A foreign key column keeps its type; naming the same type again is allowed.
        op.ty = Some(if in_foreign_key {
            old.ty
        } else if old.auto {
            integer_type(rng)
        } else {
            any_type(rng)
        });
    }
    if rng.chance(40) {
        // A key or auto column stays NOT NULL, a `set null` foreign key column stays
        // nullable; saying so again is allowed.
        op.null = Some(must_stay_nullable || (!(old.auto || in_primary_key) && rng.chance(50)));
    }
    let new_ty = op.ty.unwrap_or(old.ty);
    if !old.auto {
        match rng.below(3) {
            0 => op.default = default_for(rng, new_ty),
            1 => op.drop_default = true,
            _ => {}
        }
        let kept_default_breaks = op.default.is_none()
            && !op.drop_default
            && old
                .default
                .as_ref()
                .is_some_and(|d| !default_fits(d, new_ty));
        if kept_default_breaks {
            op.drop_default = true;
        }
    }
    Some(Operation::AlterColumn(op))
}

fn random_index(rng: &mut Rng, name: String, t: &TableDef) -> IndexDef {
    let columns = rng.subset(&column_names(t), 3);
    let predicate = rng
        .chance(20)
        .then(|| format!("{} IS NOT NULL", columns[0]));
    IndexDef {
        name,
        columns,
        unique: rng.chance(40),
        predicate,
        ..Default::default()
    }
}

fn check_expr(rng: &mut Rng, t: &TableDef) -> String {
    let column = rng.pick(&t.columns).map_or("1", |c| c.name.as_str());
    format!("{column} IS NOT NULL")
}

fn run_sql(rng: &mut Rng) -> RunSql {
    if rng.chance(50) {
        RunSql {
            split: true,
            sql: SqlText::All("SELECT 1".into()),
            reverse_sql: Some(SqlText::All("SELECT 2".into())),
        }
    } else {
        let map = |verb: &str| {
            SqlText::PerDialect(BTreeMap::from([
                ("postgres".to_string(), format!("{verb} pg")),
                ("default".to_string(), format!("{verb} other")),
            ]))
        };
        RunSql {
            split: true,
            sql: map("do"),
            reverse_sql: Some(map("undo")),
        }
    }
}

/// Some table and the name of one of its objects listed by `names`.
fn pick_object(
    rng: &mut Rng,
    state: &SchemaState,
    names: impl Fn(&TableDef) -> Vec<String>,
) -> Option<(String, String)> {
    let all: Vec<(String, String)> = state
        .tables
        .values()
        .flat_map(|t| names(t).into_iter().map(|n| (t.name.clone(), n)))
        .collect();
    rng.pick(&all).cloned()
}

// ---- the properties -------------------------------------------------------------------

pub(crate) fn plan() -> impl Strategy<Value = Vec<(u8, u64)>> {
    let total: u32 = WEIGHTS.iter().sum();
    prop::collection::vec(((0..total).prop_map(weighted_kind), any::<u64>()), 1..80)
}

/// Applies `op` to a copy of `state`; a refusal must leave the copy untouched.
fn try_apply(state: &SchemaState, op: &Operation) -> Result<SchemaState, StateError> {
    let mut copy = state.clone();
    match copy.apply(op) {
        Ok(()) => Ok(copy),
        Err(e) => {
            assert_eq!(&copy, state, "refused {op:?} ({e}) but changed the state");
            Err(e)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// For every operation: its inverse (from the state before) restores that state,
    /// the inverse of the inverse redoes it, applying it a second time either works or
    /// changes nothing, and it survives the migration file format. The whole history,
    /// undone last first, leaves the empty schema.
    #[test]
    fn every_operation_is_undone_by_its_inverse(plan in plan()) {
        let mut state = SchemaState::new();
        let mut undo = Vec::new();
        for (kind, seed) in plan {
            let Some(op) = build(kind, &mut Rng(seed), &state) else { continue };
            let before = state.clone();
            state = try_apply(&before, &op)
                .map_err(|e| TestCaseError::fail(format!("valid {op:?} refused: {e}")))?;

            let inverse = op
                .inverse(&before)
                .map_err(|e| TestCaseError::fail(format!("no inverse for {op:?}: {e}")))?;
            let undone = try_apply(&state, &inverse)
                .map_err(|e| TestCaseError::fail(format!("inverse {inverse:?} of {op:?} refused: {e}")))?;
            prop_assert_eq!(undone.canonical(), before.canonical(), "{:?} then {:?}", op, inverse);

            let redo = inverse
                .inverse(&state)
                .map_err(|e| TestCaseError::fail(format!("no inverse for {inverse:?}: {e}")))?;
            let redone = try_apply(&undone, &redo)
                .map_err(|e| TestCaseError::fail(format!("{redo:?} (redo of {op:?}) refused: {e}")))?;
            prop_assert_eq!(redone.canonical(), state.canonical(), "redo {:?} of {:?}", redo, op);

            // Mostly refused (exists already / no longer exists); `try_apply` checks
            // that a refusal changes nothing.
            let _ = try_apply(&state, &op);

            let text = toml::to_string(&op)
                .map_err(|e| TestCaseError::fail(format!("{op:?} does not serialize: {e}")))?;
            let parsed: Operation = toml::from_str(&text)
                .map_err(|e| TestCaseError::fail(format!("{text} does not parse back: {e}")))?;
            prop_assert_eq!(&parsed, &op, "TOML round trip of\n{}", text);

            undo.push(inverse);
        }
        for inverse in undo.iter().rev() {
            state = try_apply(&state, inverse)
                .map_err(|e| TestCaseError::fail(format!("undoing the history: {inverse:?} refused: {e}")))?;
        }
        prop_assert_eq!(state, SchemaState::new());
    }
}

/// The shapes of foreign key the state treats differently, for the coverage test.
fn foreign_key_shapes(fk: &ForeignKeyDef, state: &SchemaState) -> Vec<&'static str> {
    let mut shapes = Vec::new();
    let target = state.tables.get(&fk.references);
    if target.is_some_and(|t| t.primary_key != fk.referenced_columns) {
        shapes.push("onto a unique key");
    }
    if fk.columns.len() > 1 {
        shapes.push("composite");
    }
    if sets_null(fk) {
        shapes.push("set null");
    }
    shapes
}

/// The generator must reach every kind, and foreign keys of every shape, or the
/// property silently tests less.
#[test]
fn the_generator_builds_every_operation_kind() {
    let mut state = SchemaState::new();
    let mut built = HashSet::new();
    let mut fk_shapes = HashSet::new();
    let mut seeds = Rng(7);
    let total: u32 = WEIGHTS.iter().sum();
    for step in 0..5_000u64 {
        let kind = weighted_kind(seeds.below_as(total as usize));
        if let Some(op) = build(kind, &mut Rng(seeds.next()), &state) {
            state
                .apply(&op)
                .unwrap_or_else(|e| panic!("valid {op:?} refused: {e}"));
            built.insert(op.kind());
            let new_fks = match &op {
                Operation::CreateTable(t) => t.foreign_keys.iter().collect(),
                Operation::AddForeignKey(o) => vec![&o.foreign_key],
                _ => Vec::new(),
            };
            for fk in new_fks {
                fk_shapes.extend(foreign_key_shapes(fk, &state));
                if Some(fk.references.as_str()) == op.table() {
                    fk_shapes.insert("self-reference");
                }
            }
        }
        if step % 500 == 499 {
            state = SchemaState::new();
        }
    }
    let missing: Vec<_> = Operation::KINDS
        .iter()
        .filter(|k| !built.contains(*k))
        .collect();
    assert!(missing.is_empty(), "never built {missing:?}");
    assert_eq!(fk_shapes.len(), 4, "built only foreign keys {fk_shapes:?}");
}

// ---- specific refusals ----------------------------------------------------------------

fn col(name: &str, ty: &str) -> ColumnDef {
    ColumnDef {
        name: name.into(),
        ty: ty.parse().expect("a neutral type"),
        null: false,
        default: None,
        auto: false,
        ..Default::default()
    }
}

fn table(name: &str, columns: Vec<ColumnDef>) -> TableDef {
    TableDef {
        name: name.into(),
        columns,
        primary_key: vec!["id".into()],
        uniques: Vec::new(),
        checks: Vec::new(),
        foreign_keys: Vec::new(),
        indexes: Vec::new(),
        ..Default::default()
    }
}

fn fk(name: &str, column: &str, references: &str) -> ForeignKeyDef {
    ForeignKeyDef {
        name: name.into(),
        columns: vec![column.into()],
        references: references.into(),
        referenced_columns: vec!["id".into()],
        on_delete: Some(FkAction::Cascade),
        on_update: None,
        ..Default::default()
    }
}

/// `author(id, name)` with index `author_name_idx`, and `book(id, title, author_id)`
/// with unique `book_title_uniq` and foreign key `book_author_fk` to author.
fn library() -> SchemaState {
    let mut author = table(
        "author",
        vec![col("id", "bigint"), col("name", "varchar(100)")],
    );
    author.indexes.push(IndexDef {
        name: "author_name_idx".into(),
        columns: vec!["name".into()],
        unique: false,
        predicate: None,
        ..Default::default()
    });
    let mut book = table(
        "book",
        vec![
            col("id", "bigint"),
            col("title", "varchar(200)"),
            col("author_id", "bigint"),
        ],
    );
    book.uniques.push(UniqueDef {
        name: "book_title_uniq".into(),
        columns: vec!["title".into()],
    });
    book.foreign_keys
        .push(fk("book_author_fk", "author_id", "author"));
    let mut state = SchemaState::new();
    state
        .apply(&Operation::CreateTable(author))
        .expect("author fits");
    state
        .apply(&Operation::CreateTable(book))
        .expect("book fits");
    state
}

/// Applies `op`, expects a refusal, and checks the state did not change.
fn refused(state: &SchemaState, op: &Operation) -> StateError {
    let mut copy = state.clone();
    let err = copy.apply(op).expect_err("the operation must be refused");
    assert_eq!(&copy, state, "a refused operation changed the state");
    err
}

fn drop_column(table: &str, column: &str) -> Operation {
    Operation::DropColumn(DropColumn {
        table: table.into(),
        column: column.into(),
    })
}

#[test]
fn dropping_a_column_an_object_uses_is_refused() {
    let state = library();
    for (table, column, object) in [
        ("author", "name", "author_name_idx"),
        ("author", "id", "author"), // the primary key, and book's foreign key
        ("book", "title", "book_title_uniq"),
        ("book", "author_id", "book_author_fk"),
    ] {
        match refused(&state, &drop_column(table, column)) {
            StateError::InUse { object: by, .. } => {
                assert!(by.contains(object), "{table}.{column}: blamed `{by}`");
            }
            other => panic!("{table}.{column}: expected InUse, got {other:?}"),
        }
    }
}

/// `library()` plus `author.code varchar(10)` with unique constraint
/// `author_code_uniq`, and a nullable `book.author_code varchar(10)`: a second key
/// of author and a column that can reference it, with no foreign key yet.
fn library_with_author_codes() -> SchemaState {
    let mut state = library();
    for op in [
        Operation::AddColumn(AddColumn {
            table: "author".into(),
            column: col("code", "varchar(10)"),
        }),
        Operation::AddConstraint(AddConstraint {
            table: "author".into(),
            constraint: Constraint::Unique {
                name: "author_code_uniq".into(),
                columns: vec!["code".into()],
            },
        }),
        Operation::AddColumn(AddColumn {
            table: "book".into(),
            column: ColumnDef {
                null: true,
                ..col("author_code", "varchar(10)")
            },
        }),
    ] {
        state.apply(&op).unwrap_or_else(|e| panic!("{op:?}: {e}"));
    }
    state
}

/// A foreign key `book(columns) -> author(referenced)` without actions.
fn book_to_author(name: &str, columns: &[&str], referenced: &[&str]) -> Operation {
    Operation::AddForeignKey(AddForeignKey {
        table: "book".into(),
        foreign_key: ForeignKeyDef {
            name: name.into(),
            columns: columns.iter().map(ToString::to_string).collect(),
            references: "author".into(),
            referenced_columns: referenced.iter().map(ToString::to_string).collect(),
            on_delete: None,
            on_update: None,
            ..Default::default()
        },
    })
}

#[test]
fn dropping_a_column_used_by_another_tables_foreign_key_is_refused() {
    let mut state = library_with_author_codes();
    state
        .apply(&book_to_author(
            "book_author_code_fk",
            &["author_code"],
            &["code"],
        ))
        .unwrap();
    // A referenced column is always in a key of its own table as well (here
    // `author_code_uniq`), which blocks the drop too; either one is the right blame.
    assert!(matches!(
        refused(&state, &drop_column("author", "code")),
        StateError::InUse { object, .. }
            if object.contains("book_author_code_fk") || object.contains("author_code_uniq")
    ));
}

#[test]
fn dropping_a_table_another_table_references_is_refused() {
    let state = library();
    let err = refused(
        &state,
        &Operation::DropTable(DropTable {
            name: "author".into(),
        }),
    );
    assert!(
        matches!(&err, StateError::InUse { object, .. } if object.contains("book_author_fk")),
        "{err:?}"
    );
}

#[test]
fn a_table_referencing_only_itself_can_be_dropped_and_restored() {
    let mut category = table(
        "category",
        vec![
            col("id", "bigint"),
            ColumnDef {
                null: true,
                ..col("parent_id", "bigint")
            },
        ],
    );
    category
        .foreign_keys
        .push(fk("category_parent_fk", "parent_id", "category"));
    let mut state = SchemaState::new();
    state.apply(&Operation::CreateTable(category)).unwrap();
    let before = state.clone();
    let drop = Operation::DropTable(DropTable {
        name: "category".into(),
    });
    state.apply(&drop).unwrap();
    state.apply(&drop.inverse(&before).unwrap()).unwrap();
    assert_eq!(state, before);
}

#[test]
fn run_sql_without_reverse_sql_is_irreversible() {
    let op = Operation::RunSql(RunSql {
        split: true,
        sql: SqlText::All("UPDATE book SET title = upper(title)".into()),
        reverse_sql: None,
    });
    assert!(matches!(
        op.inverse(&library()),
        Err(InverseError::Irreversible { .. })
    ));
}

#[test]
fn run_sql_with_reverse_sql_swaps_the_two() {
    let forward = SqlText::All("INSERT INTO t VALUES (1)".into());
    let backward = SqlText::PerDialect(BTreeMap::from([(
        "default".to_string(),
        "DELETE FROM t".to_string(),
    )]));
    let op = Operation::RunSql(RunSql {
        split: true,
        sql: forward.clone(),
        reverse_sql: Some(backward.clone()),
    });
    assert_eq!(
        op.inverse(&SchemaState::new()).unwrap(),
        Operation::RunSql(RunSql {
            split: true,
            sql: backward,
            reverse_sql: Some(forward),
        })
    );
}

fn assert_name_taken(state: &SchemaState, op: &Operation, name: &str) {
    match refused(state, op) {
        StateError::NameTaken { name: taken, .. } => assert_eq!(taken, name),
        other => panic!("expected NameTaken for `{name}`, got {other:?}"),
    }
}

#[test]
fn index_and_constraint_names_are_unique_schema_wide() {
    let state = library();
    let index = |name: &str| IndexDef {
        name: name.into(),
        columns: vec!["title".into()],
        unique: false,
        predicate: None,
        ..Default::default()
    };
    // An index named like an index, a unique or a foreign key of any table.
    for name in ["author_name_idx", "book_title_uniq", "book_author_fk"] {
        assert_name_taken(
            &state,
            &Operation::CreateIndex(CreateIndex {
                table: "book".into(),
                index: index(name),
            }),
            name,
        );
    }
    // A constraint or foreign key named like another table's index.
    assert_name_taken(
        &state,
        &Operation::AddConstraint(AddConstraint {
            table: "book".into(),
            constraint: Constraint::Check {
                name: "author_name_idx".into(),
                expr: "id > 0".into(),
            },
        }),
        "author_name_idx",
    );
    assert_name_taken(
        &state,
        &Operation::AddForeignKey(AddForeignKey {
            table: "book".into(),
            foreign_key: fk("author_name_idx", "author_id", "author"),
        }),
        "author_name_idx",
    );
    // Renaming onto a taken name, including the index's own.
    for to in ["book_title_uniq", "author_name_idx"] {
        assert_name_taken(
            &state,
            &Operation::RenameIndex(RenameIndex {
                table: "author".into(),
                from: "author_name_idx".into(),
                to: to.into(),
            }),
            to,
        );
    }
    // A new table whose objects clash with another table's or with each other.
    let mut clash = table(
        "shelf",
        vec![col("id", "bigint"), col("label", "varchar(20)")],
    );
    clash.checks.push(CheckDef {
        name: "book_author_fk".into(),
        expr: "id > 0".into(),
    });
    assert_name_taken(&state, &Operation::CreateTable(clash), "book_author_fk");
    let mut twice = table(
        "shelf",
        vec![col("id", "bigint"), col("label", "varchar(20)")],
    );
    twice.uniques.push(UniqueDef {
        name: "shelf_label".into(),
        columns: vec!["label".into()],
    });
    twice.indexes.push(IndexDef {
        name: "shelf_label".into(),
        ..index("")
    });
    twice.indexes[0].columns = vec!["label".into()];
    assert_name_taken(&state, &Operation::CreateTable(twice), "shelf_label");
}

#[test]
fn a_name_freed_by_a_drop_can_be_reused() {
    let mut state = library();
    state
        .apply(&Operation::DropIndex(DropIndex {
            table: "author".into(),
            name: "author_name_idx".into(),
        }))
        .unwrap();
    state
        .apply(&Operation::AddConstraint(AddConstraint {
            table: "book".into(),
            constraint: Constraint::Unique {
                name: "author_name_idx".into(),
                columns: vec!["title".into(), "author_id".into()],
            },
        }))
        .expect("the name is free again");
}

// ---- checks and partial-index predicates are opaque SQL to the state -----------------

/// `event(id, qty, deleted_at)` with check `event_qty_nonneg` (`qty >= 0`) and
/// partial index `event_live_idx` on `id` where `deleted_at IS NULL`.
fn event_with_check_and_predicate() -> SchemaState {
    let mut event = table(
        "event",
        vec![
            col("id", "bigint"),
            col("qty", "int"),
            ColumnDef {
                null: true,
                ..col("deleted_at", "datetime")
            },
        ],
    );
    event.checks.push(CheckDef {
        name: "event_qty_nonneg".into(),
        expr: "qty >= 0".into(),
    });
    event.indexes.push(IndexDef {
        name: "event_live_idx".into(),
        columns: vec!["id".into()],
        unique: false,
        predicate: Some("deleted_at IS NULL".into()),
        ..Default::default()
    });
    let mut state = SchemaState::new();
    state.apply(&Operation::CreateTable(event)).unwrap();
    state
}

/// SQLite and MariaDB refuse to drop a column a check or an index predicate mentions
/// ("no such column", "Unknown column 'qty' in 'CHECK'"); PostgreSQL silently drops
/// the check. The state refuses, so no database is left with a dangling expression.
#[test]
fn dropping_a_column_a_check_or_predicate_mentions_is_refused() {
    let state = event_with_check_and_predicate();
    for (column, object) in [
        ("qty", "event_qty_nonneg"),
        ("deleted_at", "event_live_idx"),
    ] {
        match refused(&state, &drop_column("event", column)) {
            StateError::InUse { object: by, .. } => assert!(by.contains(object), "{column}: {by}"),
            other => panic!("{column}: expected InUse, got {other:?}"),
        }
    }
}

/// Every database rewrites such an expression on rename, the state cannot do it the
/// same way, so it refuses rather than drift (and break a later SQLite rebuild, which
/// recreates the table from the state's expression).
#[test]
fn renaming_a_column_a_check_or_predicate_mentions_is_refused() {
    let state = event_with_check_and_predicate();
    for (from, to) in [("qty", "amount"), ("deleted_at", "removed_at")] {
        let op = Operation::RenameColumn(RenameColumn {
            table: "event".into(),
            from: from.into(),
            to: to.into(),
        });
        assert!(
            matches!(refused(&state, &op), StateError::InUse { .. }),
            "{from}"
        );
    }
}

/// Whole identifiers only: `qty_max` is not `qty`.
#[test]
fn a_column_whose_name_only_prefixes_a_mentioned_one_stays_free() {
    let mut state = event_with_check_and_predicate();
    for column in ["qt", "deleted"] {
        state
            .apply(&Operation::AddColumn(AddColumn {
                table: "event".into(),
                column: ColumnDef {
                    null: true,
                    ..col(column, "int")
                },
            }))
            .unwrap();
        state
            .apply(&drop_column("event", column))
            .unwrap_or_else(|e| panic!("{column}: {e}"));
    }
}

// ---- foreign keys: a key as target, the same types, nullable for `set null` -------------

fn assert_invalid(state: &SchemaState, op: &Operation, why: &str) {
    match refused(state, op) {
        StateError::Invalid(message) => assert!(message.contains(why), "{message}"),
        other => panic!("expected Invalid ({why}), got {other:?}"),
    }
}

fn assert_in_use_by(state: &SchemaState, op: &Operation, object: &str) {
    match refused(state, op) {
        StateError::InUse { object: by, .. } => assert!(by.contains(object), "blamed `{by}`"),
        other => panic!("expected InUse by {object}, got {other:?}"),
    }
}

const NOT_A_KEY: &str = "is not its primary key or a unique key";

/// MariaDB ("Failed to add the foreign key constraint. Missing index") and PostgreSQL
/// ("there is no unique constraint matching given keys") both refuse these.
#[test]
fn a_foreign_key_must_reference_exactly_a_primary_or_unique_key() {
    let mut state = library_with_author_codes();
    state
        .apply(&Operation::DropConstraint(DropConstraint {
            table: "author".into(),
            name: "author_code_uniq".into(),
        }))
        .unwrap();
    let onto_code = || book_to_author("book_author_code_fk", &["author_code"], &["code"]);
    // A plain column, then one with only a non-unique and a partial unique index.
    assert_invalid(&state, &onto_code(), NOT_A_KEY);
    for (name, unique, predicate) in [
        ("author_code_idx", false, None),
        (
            "author_code_live",
            true,
            Some("code IS NOT NULL".to_string()),
        ),
    ] {
        state
            .apply(&Operation::CreateIndex(CreateIndex {
                table: "author".into(),
                index: IndexDef {
                    name: name.into(),
                    columns: vec!["code".into()],
                    unique,
                    predicate,
                    ..Default::default()
                },
            }))
            .unwrap();
        assert_invalid(&state, &onto_code(), NOT_A_KEY);
    }
    // A superset of the primary key, and a part of a composite unique key.
    assert_invalid(
        &state,
        &book_to_author(
            "book_author_fk2",
            &["author_id", "author_code"],
            &["id", "code"],
        ),
        NOT_A_KEY,
    );
    state
        .apply(&Operation::AddConstraint(AddConstraint {
            table: "author".into(),
            constraint: Constraint::Unique {
                name: "author_code_name_uniq".into(),
                columns: vec!["code".into(), "name".into()],
            },
        }))
        .unwrap();
    assert_invalid(&state, &onto_code(), NOT_A_KEY);
    // A new table referencing a non-key column of itself.
    let mut shelf = table(
        "shelf",
        vec![
            col("id", "bigint"),
            col("code", "int"),
            col("parent_code", "int"),
        ],
    );
    shelf.foreign_keys.push(ForeignKeyDef {
        referenced_columns: vec!["code".into()],
        ..fk("shelf_parent_fk", "parent_code", "shelf")
    });
    assert_invalid(&state, &Operation::CreateTable(shelf), NOT_A_KEY);
    // The same targets become fine once they are a key: a full unique index, or a
    // unique constraint named in another column order.
    state
        .apply(&Operation::CreateIndex(CreateIndex {
            table: "author".into(),
            index: IndexDef {
                name: "author_code_key".into(),
                columns: vec!["code".into()],
                unique: true,
                predicate: None,
                ..Default::default()
            },
        }))
        .unwrap();
    state
        .apply(&onto_code())
        .expect("a full unique index is a key");
    state
        .apply(&Operation::AddColumn(AddColumn {
            table: "book".into(),
            column: col("author_name", "varchar(100)"),
        }))
        .unwrap();
    state
        .apply(&book_to_author(
            "book_author_code_name_fk",
            &["author_name", "author_code"],
            &["name", "code"],
        ))
        .expect("a unique key, in any column order");
}

/// PostgreSQL refuses `int` referencing `bigint` only for some pairs, MariaDB for
/// others; the state demands the same neutral type so that every database agrees.
#[test]
fn foreign_key_columns_must_have_the_referenced_type() {
    let mut state = library_with_author_codes();
    for (column, ty) in [("author_ref", "int"), ("author_code_long", "varchar(20)")] {
        state
            .apply(&Operation::AddColumn(AddColumn {
                table: "book".into(),
                column: col(column, ty),
            }))
            .unwrap();
    }
    for (column, referenced) in [("author_ref", "id"), ("author_code_long", "code")] {
        assert_invalid(
            &state,
            &book_to_author("book_ref_fk", &[column], &[referenced]),
            "they must have the same type",
        );
    }
    // The table's own columns are checked the same way when it is created.
    let mut shelf = table("shelf", vec![col("id", "bigint"), col("author_id", "int")]);
    shelf
        .foreign_keys
        .push(fk("shelf_author_fk", "author_id", "author"));
    assert_invalid(
        &state,
        &Operation::CreateTable(shelf),
        "they must have the same type",
    );
}

#[test]
fn set_null_needs_nullable_foreign_key_columns() {
    let mut state = library();
    state
        .apply(&Operation::DropForeignKey(DropForeignKey {
            table: "book".into(),
            name: "book_author_fk".into(),
        }))
        .unwrap();
    let set_null = |on_delete, on_update| {
        Operation::AddForeignKey(AddForeignKey {
            table: "book".into(),
            foreign_key: ForeignKeyDef {
                on_delete,
                on_update,
                ..fk("book_author_fk", "author_id", "author")
            },
        })
    };
    let null = Some(FkAction::SetNull);
    for (on_delete, on_update) in [(null, None), (None, null)] {
        assert_invalid(
            &state,
            &set_null(on_delete, on_update),
            "`set null` needs column `author_id` to be nullable",
        );
    }
    // Also when a new table says so.
    let mut shelf = table(
        "shelf",
        vec![col("id", "bigint"), col("author_id", "bigint")],
    );
    shelf.foreign_keys.push(ForeignKeyDef {
        on_delete: null,
        ..fk("shelf_author_fk", "author_id", "author")
    });
    assert_invalid(&state, &Operation::CreateTable(shelf), "`set null` needs");
    state.apply(&alter_null("book", "author_id", true)).unwrap();
    state
        .apply(&set_null(null, null))
        .expect("a nullable column may be set to NULL");
}

fn alter_null(table: &str, column: &str, null: bool) -> Operation {
    Operation::AlterColumn(AlterColumn {
        table: table.into(),
        column: column.into(),
        ty: None,
        null: Some(null),
        default: None,
        drop_default: false,
        ..Default::default()
    })
}

fn alter_type(table: &str, column: &str, ty: &str) -> Operation {
    Operation::AlterColumn(AlterColumn {
        table: table.into(),
        column: column.into(),
        ty: Some(ty.parse().expect("a neutral type")),
        null: None,
        default: None,
        drop_default: false,
        ..Default::default()
    })
}

/// The new type would break the same-type rule at the other end; MariaDB refuses
/// such an ALTER ("Cannot change column used in a foreign key constraint").
#[test]
fn altering_the_type_of_a_foreign_key_column_is_refused() {
    let mut state = library();
    // The referencing column, then the referenced one.
    for (table, column) in [("book", "author_id"), ("author", "id")] {
        assert_in_use_by(&state, &alter_type(table, column, "int"), "book_author_fk");
        state
            .apply(&alter_type(table, column, "bigint"))
            .expect("naming the same type changes nothing");
    }
    // A referenced column that is a unique key rather than the primary key.
    let mut state = library_with_author_codes();
    state
        .apply(&book_to_author(
            "book_author_code_fk",
            &["author_code"],
            &["code"],
        ))
        .unwrap();
    assert_in_use_by(
        &state,
        &alter_type("author", "code", "varchar(20)"),
        "book_author_code_fk",
    );
    // Other changes to a foreign key column stay allowed.
    state
        .apply(&alter_null("book", "author_id", true))
        .expect("a foreign key column may become nullable");
}

#[test]
fn making_a_set_null_foreign_key_column_not_null_is_refused() {
    let mut state = library_with_author_codes();
    for (name, on_delete, on_update) in [
        ("book_code_del_fk", Some(FkAction::SetNull), None),
        (
            "book_code_upd_fk",
            Some(FkAction::Cascade),
            Some(FkAction::SetNull),
        ),
    ] {
        let mut state = state.clone();
        state
            .apply(&Operation::AddForeignKey(AddForeignKey {
                table: "book".into(),
                foreign_key: ForeignKeyDef {
                    name: name.into(),
                    columns: vec!["author_code".into()],
                    references: "author".into(),
                    referenced_columns: vec!["code".into()],
                    on_delete,
                    on_update,
                    ..Default::default()
                },
            }))
            .unwrap();
        assert_in_use_by(&state, &alter_null("book", "author_code", false), name);
    }
    // Without `set null`, the column may become NOT NULL.
    state
        .apply(&book_to_author(
            "book_author_code_fk",
            &["author_code"],
            &["code"],
        ))
        .unwrap();
    state
        .apply(&alter_null("book", "author_code", false))
        .expect("no action writes NULL into it");
}

fn unique_index(name: &str, columns: &[&str]) -> IndexDef {
    IndexDef {
        name: name.into(),
        columns: columns.iter().map(ToString::to_string).collect(),
        unique: true,
        predicate: None,
        ..Default::default()
    }
}

/// PostgreSQL ("cannot drop constraint … because other objects depend on it") and
/// MariaDB ("needed in a foreign key constraint") refuse to drop the key a foreign
/// key references.
#[test]
fn dropping_a_key_a_foreign_key_relies_on_is_refused() {
    let mut state = library_with_author_codes();
    state
        .apply(&book_to_author(
            "book_author_code_fk",
            &["author_code"],
            &["code"],
        ))
        .unwrap();
    let drop_unique = || {
        Operation::DropConstraint(DropConstraint {
            table: "author".into(),
            name: "author_code_uniq".into(),
        })
    };
    let drop_index = || {
        Operation::DropIndex(DropIndex {
            table: "author".into(),
            name: "author_code_key".into(),
        })
    };
    assert_in_use_by(&state, &drop_unique(), "book_author_code_fk");
    // With a second key on the same columns either one may go, but not both.
    state
        .apply(&Operation::CreateIndex(CreateIndex {
            table: "author".into(),
            index: unique_index("author_code_key", &["code"]),
        }))
        .unwrap();
    state
        .apply(&drop_unique())
        .expect("the index still is a key");
    assert_in_use_by(&state, &drop_index(), "book_author_code_fk");
    // Once the foreign key is gone, so is the reliance.
    state
        .apply(&Operation::DropForeignKey(DropForeignKey {
            table: "book".into(),
            name: "book_author_code_fk".into(),
        }))
        .unwrap();
    state
        .apply(&drop_index())
        .expect("nothing relies on it any more");
}

#[test]
fn indexes_and_unique_constraints_need_columns() {
    let state = library();
    let no_columns = "names no columns";
    assert_invalid(
        &state,
        &Operation::CreateIndex(CreateIndex {
            table: "book".into(),
            index: unique_index("book_nothing_idx", &[]),
        }),
        no_columns,
    );
    assert_invalid(
        &state,
        &Operation::AddConstraint(AddConstraint {
            table: "book".into(),
            constraint: Constraint::Unique {
                name: "book_nothing_uniq".into(),
                columns: Vec::new(),
            },
        }),
        no_columns,
    );
    let mut with_index = table("shelf", vec![col("id", "bigint")]);
    with_index.indexes.push(IndexDef {
        unique: false,
        ..unique_index("shelf_nothing_idx", &[])
    });
    assert_invalid(&state, &Operation::CreateTable(with_index), no_columns);
    let mut with_unique = table("shelf", vec![col("id", "bigint")]);
    with_unique.uniques.push(UniqueDef {
        name: "shelf_nothing_uniq".into(),
        columns: Vec::new(),
    });
    assert_invalid(&state, &Operation::CreateTable(with_unique), no_columns);
}

fn backfill_of(table: &str, set: &[(&str, &str)]) -> Backfill {
    Backfill {
        table: table.into(),
        set: Some(
            set.iter()
                .map(|(c, e)| ((*c).to_string(), (*e).to_string()))
                .collect(),
        ),
        set_sql: None,
        predicate: None,
        batch_size: Backfill::DEFAULT_BATCH_SIZE,
        pause: None,
        undo: false,
    }
}

/// A backfill names a table with a one-column key, columns it has and expressions
/// over them; anything else is refused naming the table (and column).
#[test]
fn a_backfill_is_checked_against_the_schema() {
    let state = library();
    let ok = Operation::Backfill(backfill_of("book", &[("title", "upper(title)")]));
    assert!(try_apply(&state, &ok).is_ok());
    assert!(matches!(
        refused(&state, &Operation::Backfill(backfill_of("nope", &[("a", "1")]))),
        StateError::NoSuchTable { table } if table == "nope"
    ));
    assert!(matches!(
        refused(&state, &Operation::Backfill(backfill_of("book", &[("slug", "title")]))),
        StateError::NoSuchColumn { table, column } if table == "book" && column == "slug"
    ));
    let err = refused(
        &state,
        &Operation::Backfill(backfill_of("book", &[("title", "subtitle || 'x'")])),
    );
    assert!(err.to_string().contains("book"), "{err}");
    let err = refused(
        &state,
        &Operation::Backfill(backfill_of("book", &[("id", "id + 1")])),
    );
    assert!(
        err.to_string()
            .contains("table `book`: `set` changes `id`, the primary key"),
        "{err}"
    );
    let mut filtered = backfill_of("book", &[("title", "title")]);
    filtered.predicate = Some("missing IS NULL".into());
    let err = refused(&state, &Operation::Backfill(filtered));
    assert!(err.to_string().contains("the `where`"), "{err}");

    let mut pairs = table("pair", vec![col("a", "int"), col("b", "int")]);
    pairs.primary_key = vec!["a".into(), "b".into()];
    let mut state = SchemaState::new();
    state.apply(&Operation::CreateTable(pairs)).unwrap();
    let err = refused(
        &state,
        &Operation::Backfill(backfill_of("pair", &[("a", "a")])),
    );
    assert!(
        err.to_string()
            .contains("table `pair` has a primary key of 2 columns"),
        "{err}"
    );
}

/// Rolling back a backfill runs nothing and says so; rolling back a `run_code`
/// calls its `reverse`, and without one is refused naming the function.
#[test]
fn the_inverses_of_data_operations() {
    let state = library();
    let forward = Operation::Backfill(backfill_of("book", &[("title", "title")]));
    let back = forward.inverse(&state).unwrap();
    assert_eq!(back.to_string(), "Backfill book (not undone: values stay)");
    assert_eq!(back.inverse(&state).unwrap(), forward);
    let code = Operation::RunCode(RunCode {
        name: "fill".into(),
        reverse: Some("clear".into()),
    });
    assert_eq!(
        code.inverse(&state).unwrap(),
        Operation::RunCode(RunCode {
            name: "clear".into(),
            reverse: Some("fill".into()),
        })
    );
    let one_way = Operation::RunCode(RunCode {
        name: "fill".into(),
        reverse: None,
    });
    assert!(matches!(
        one_way.inverse(&state),
        Err(InverseError::IrreversibleCode { function }) if function == "fill"
    ));
}

/// Index options that contradict the table or each other are refused by the state,
/// whatever wrote the migration.
#[test]
fn index_options_are_checked() {
    let mut state = SchemaState::new();
    let doc = table(
        "doc",
        vec![
            col("id", "bigint"),
            col("slug", "varchar(50)"),
            col("body", "text"),
        ],
    );
    state.apply(&Operation::CreateTable(doc)).unwrap();
    let create = |index: IndexDef| {
        Operation::CreateIndex(CreateIndex {
            table: "doc".into(),
            index,
        })
    };
    let base = || IndexDef {
        name: "doc_i".into(),
        columns: vec!["slug".into()],
        ..Default::default()
    };
    let cases: Vec<(IndexDef, &str)> = vec![
        (
            IndexDef {
                columns: Vec::new(),
                ..base()
            },
            "names no columns",
        ),
        (
            IndexDef {
                expressions: vec!["lower(nothing)".into()],
                ..base()
            },
            "nothing",
        ),
        (
            IndexDef {
                opclasses: [("body".to_string(), "text_pattern_ops".to_string())].into(),
                ..base()
            },
            "not one of the index's columns",
        ),
        (
            IndexDef {
                opclasses: [("slug".to_string(), "x; drop".to_string())].into(),
                ..base()
            },
            "not a plain name",
        ),
        (
            IndexDef {
                lengths: [("slug".to_string(), 0)].into(),
                ..base()
            },
            "at least 1",
        ),
        (
            IndexDef {
                include: vec!["slug".into()],
                ..base()
            },
            "both a key column and in `include`",
        ),
        (
            IndexDef {
                nulls_not_distinct: true,
                ..base()
            },
            "unique indexes",
        ),
        (
            IndexDef {
                unique: true,
                method: Some(IndexMethod::Hash),
                ..base()
            },
            "btree",
        ),
        (
            IndexDef {
                on_unsupported_where: UnsupportedWhere::Plain,
                ..base()
            },
            "partial indexes",
        ),
    ];
    for (index, expected) in cases {
        let err = refused(&state, &create(index.clone()));
        assert!(err.to_string().contains(expected), "{index:?}: {err}");
    }
}

/// Index options a server would silently drop or refuse while migrating, or could
/// not give back to introspection, are refused by the state.
#[test]
fn index_options_no_server_keeps_are_refused() {
    let mut state = SchemaState::new();
    let doc = table(
        "doc",
        vec![
            col("id", "bigint"),
            col("slug", "varchar(50)"),
            col("body", "text"),
        ],
    );
    state.apply(&Operation::CreateTable(doc)).unwrap();
    let base = || IndexDef {
        name: "doc_i".into(),
        columns: vec!["slug".into()],
        ..Default::default()
    };
    let cases: Vec<(IndexDef, &str)> = vec![
        (
            IndexDef {
                lengths: [("slug".to_string(), 50)].into(),
                ..base()
            },
            "not shorter than the column",
        ),
        (
            IndexDef {
                columns: vec!["id".into()],
                lengths: [("id".to_string(), 4)].into(),
                ..base()
            },
            "for text and bytes columns",
        ),
        (
            IndexDef {
                opclasses: [("slug".to_string(), "Text_Pattern_Ops".to_string())].into(),
                ..base()
            },
            "lower case",
        ),
        (
            IndexDef {
                opclasses: [("slug".to_string(), "text_ops".to_string())].into(),
                ..base()
            },
            "the default one",
        ),
    ];
    for (index, expected) in cases {
        let op = Operation::CreateIndex(CreateIndex {
            table: "doc".into(),
            index: index.clone(),
        });
        let err = refused(&state, &op);
        assert!(err.to_string().contains(expected), "{index:?}: {err}");
    }
}

#[test]
fn index_options_follow_renames_and_expressions_block_them() {
    let mut state = SchemaState::new();
    let doc = table(
        "doc",
        vec![
            col("id", "bigint"),
            col("slug", "varchar(50)"),
            col("body", "text"),
        ],
    );
    state.apply(&Operation::CreateTable(doc)).unwrap();
    let create = |index: IndexDef| {
        Operation::CreateIndex(CreateIndex {
            table: "doc".into(),
            index,
        })
    };
    let covering = IndexDef {
        name: "doc_i".into(),
        columns: vec!["slug".into(), "body".into()],
        opclasses: [("slug".to_string(), "varchar_pattern_ops".to_string())].into(),
        lengths: [("body".to_string(), 10)].into(),
        include: vec!["id".into()],
        ..Default::default()
    };
    state.apply(&create(covering)).unwrap();
    for (from, to) in [("slug", "handle"), ("body", "text"), ("id", "key")] {
        state
            .apply(&Operation::RenameColumn(RenameColumn {
                table: "doc".into(),
                from: from.into(),
                to: to.into(),
            }))
            .unwrap();
    }
    let i = state.tables["doc"].index("doc_i").unwrap();
    assert_eq!(i.columns, ["handle", "text"]);
    assert_eq!(i.opclasses.keys().collect::<Vec<_>>(), ["handle"]);
    assert_eq!(i.lengths.keys().collect::<Vec<_>>(), ["text"]);
    assert_eq!(i.include, ["key"]);

    let lower = IndexDef {
        name: "doc_lower".into(),
        columns: Vec::new(),
        expressions: vec!["lower(handle)".into()],
        ..Default::default()
    };
    state.apply(&create(lower)).unwrap();
    let err = refused(
        &state,
        &Operation::RenameColumn(RenameColumn {
            table: "doc".into(),
            from: "handle".into(),
            to: "h".into(),
        }),
    );
    assert!(err.to_string().contains("doc_lower"), "{err}");
}

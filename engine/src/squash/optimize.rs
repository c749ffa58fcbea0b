//! The operations of several migrations reduced to an equivalent shorter list, as
//! Django's `MigrationOptimizer`: pairs of operations on one table merged or
//! cancelled (a table created then altered becomes one create; created then dropped,
//! nothing; rename chains collapse; an index created then dropped vanishes), across
//! the operations between them only when none of those changes the same tables and the
//! merged list, tried on the schema, leaves exactly the same schema.
//! Operations that are not pure schema changes are barriers: kept in place, nothing
//! merged across them.

use std::collections::BTreeSet;

use crate::ast::{
    AddColumn, AlterColumn, ColumnDef, CreateIndex, DropColumn, Operation, RenameColumn,
    RenameIndex, RenameTable, TableDef,
};
use crate::state::{SchemaState, StateError};

/// What the optimizer may do with an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A schema change the optimizer understands through the tables it touches.
    Schema,
    /// Anything else: kept in order, nothing moved or merged across it.
    Barrier,
}

// Listed by name, the rest by default: an operation kind added later (application
// code, data backfills…) is a barrier until someone teaches the optimizer about it.
#[allow(clippy::match_wildcard_for_single_variants)]
fn role(op: &Operation) -> Role {
    match op {
        Operation::CreateTable(_)
        | Operation::DropTable(_)
        | Operation::RenameTable(_)
        | Operation::AddColumn(_)
        | Operation::DropColumn(_)
        | Operation::RenameColumn(_)
        | Operation::AlterColumn(_)
        | Operation::CreateIndex(_)
        | Operation::DropIndex(_)
        | Operation::RenameIndex(_)
        | Operation::AddForeignKey(_)
        | Operation::DropForeignKey(_)
        | Operation::AddConstraint(_)
        | Operation::DropConstraint(_) => Role::Schema,
        _ => Role::Barrier,
    }
}

/// Whether the optimizer keeps `op` in place without looking inside it.
pub(super) fn is_barrier(op: &Operation) -> bool {
    role(op) == Role::Barrier
}

/// The tables a schema operation changes: its own, and a rename's new name. A pair
/// merges across operations that change other tables; one that refers to the pair's
/// table (a foreign key to it) or shares a schema-wide name is left to the trial
/// (`same_effect`), which refuses the merge when the schema would differ.
fn own_tables(op: &Operation) -> BTreeSet<&str> {
    let mut tables: BTreeSet<&str> = op.table().into_iter().collect();
    if let Operation::RenameTable(r) = op {
        tables.insert(&r.to);
    }
    tables
}

/// `operations` reduced, applied to `before`, leave the same schema as they do; the
/// caller checks it again ([`super::equivalent`]). An operation that does not fit the
/// schema is left as it is (the originals' replay reports it).
pub fn optimize(before: &SchemaState, operations: &[Operation]) -> Vec<Operation> {
    let mut ops = operations.to_vec();
    while let Some((i, j, replacement)) = next_reduction(before, &ops) {
        ops.splice(i..=j, replacement);
    }
    ops
}

/// The first pair `(i, j)` that reduces, with what replaces `ops[i..=j]`: the merged
/// operations in place of `ops[i]`, then those between as they were.
fn next_reduction(
    before: &SchemaState,
    ops: &[Operation],
) -> Option<(usize, usize, Vec<Operation>)> {
    for i in 0..ops.len() {
        if is_barrier(&ops[i]) {
            continue;
        }
        let mut between: BTreeSet<&str> = BTreeSet::new();
        for j in i + 1..ops.len() {
            if is_barrier(&ops[j]) {
                break;
            }
            let pair: Vec<&str> = own_tables(&ops[i])
                .into_iter()
                .chain(own_tables(&ops[j]))
                .collect();
            let crosses = pair.into_iter().all(|t| !between.contains(t));
            if crosses && shares_table(&ops[i], &ops[j]) {
                if let Some(merged) = reduce(before, ops, i, j) {
                    let replacement: Vec<Operation> = merged
                        .into_iter()
                        .chain(ops[i + 1..j].iter().cloned())
                        .collect();
                    if same_effect(before, ops, i, j, &replacement) {
                        return Some((i, j, replacement));
                    }
                }
            }
            between.extend(own_tables(&ops[j]));
        }
    }
    None
}

/// Whether `replacement` leaves the schema `ops[i..=j]` leave, from where they start:
/// the tables the rule looks at are not the whole story (index and constraint names
/// are schema-wide), so every reduction is tried before it is taken.
fn same_effect(
    before: &SchemaState,
    ops: &[Operation],
    i: usize,
    j: usize,
    replacement: &[Operation],
) -> bool {
    let Ok(start) = state_before(before, &ops[..i]) else {
        return false;
    };
    match (
        state_before(&start, &ops[i..=j]),
        state_before(&start, replacement),
    ) {
        (Ok(old), Ok(new)) => old == new,
        _ => false,
    }
}

/// Whether the second operation works on the table the first leaves.
fn shares_table(a: &Operation, b: &Operation) -> bool {
    let left = match a {
        Operation::CreateTable(t) => t.name.as_str(),
        Operation::RenameTable(r) => r.to.as_str(),
        other => other.table().unwrap_or_default(),
    };
    b.table() == Some(left)
}

/// What `ops[i]` followed directly by `ops[j]` reduces to, if anything.
fn reduce(before: &SchemaState, ops: &[Operation], i: usize, j: usize) -> Option<Vec<Operation>> {
    let (first, second) = (&ops[i], &ops[j]);
    match (first, second) {
        (Operation::CreateTable(_), Operation::DropTable(_)) => Some(Vec::new()),
        // Anything done to a table just created is part of how it is created.
        (Operation::CreateTable(_), _) => {
            let after = pair_state(before, ops, i, j).ok()?;
            let name = match second {
                Operation::RenameTable(rename) => &rename.to,
                _ => second.table()?,
            };
            Some(vec![Operation::CreateTable(TableDef::clone(
                after.tables.get(name)?,
            ))])
        }
        (Operation::RenameTable(one), Operation::RenameTable(two)) => {
            Some(collapse(&one.from, &two.to, |from, to| {
                Operation::RenameTable(RenameTable { from, to })
            }))
        }
        (
            Operation::AddColumn(add),
            Operation::AlterColumn(AlterColumn { column, .. })
            | Operation::RenameColumn(RenameColumn { from: column, .. }),
        ) if *column == add.column.name => {
            let after = pair_state(before, ops, i, j).ok()?;
            let name = match second {
                Operation::RenameColumn(rename) => &rename.to,
                _ => column,
            };
            let column: ColumnDef = after.tables.get(&add.table)?.column(name)?.clone();
            Some(vec![Operation::AddColumn(AddColumn {
                table: add.table.clone(),
                column,
            })])
        }
        (Operation::AlterColumn(one), Operation::AlterColumn(two)) if two.column == one.column => {
            merged_alter(before, ops, i, j, one)
        }
        _ => cancel_or_chain(first, second),
    }
}

/// Pairs that reduce on their names alone: an addition undone, a rename of a rename.
fn cancel_or_chain(first: &Operation, second: &Operation) -> Option<Vec<Operation>> {
    match (first, second) {
        (Operation::AddColumn(add), Operation::DropColumn(drop))
            if drop.column == add.column.name =>
        {
            Some(Vec::new())
        }
        (Operation::CreateIndex(create), Operation::DropIndex(drop))
            if drop.name == create.index.name =>
        {
            Some(Vec::new())
        }
        (Operation::AddForeignKey(add), Operation::DropForeignKey(drop))
            if drop.name == add.foreign_key.name =>
        {
            Some(Vec::new())
        }
        (Operation::AddConstraint(add), Operation::DropConstraint(drop))
            if drop.name == add.constraint.name() =>
        {
            Some(Vec::new())
        }
        (Operation::RenameColumn(one), Operation::RenameColumn(two)) if two.from == one.to => {
            Some(collapse(&one.from, &two.to, |from, to| {
                Operation::RenameColumn(RenameColumn {
                    table: one.table.clone(),
                    from,
                    to,
                })
            }))
        }
        (Operation::RenameColumn(rename), Operation::DropColumn(drop))
            if drop.column == rename.to =>
        {
            Some(vec![Operation::DropColumn(DropColumn {
                table: rename.table.clone(),
                column: rename.from.clone(),
            })])
        }
        (Operation::AlterColumn(alter), Operation::DropColumn(drop))
            if drop.column == alter.column =>
        {
            Some(vec![second.clone()])
        }
        (Operation::CreateIndex(create), Operation::RenameIndex(rename))
            if rename.from == create.index.name =>
        {
            let mut index = create.index.clone();
            index.name.clone_from(&rename.to);
            Some(vec![Operation::CreateIndex(CreateIndex {
                table: create.table.clone(),
                index,
            })])
        }
        (Operation::RenameIndex(one), Operation::RenameIndex(two)) if two.from == one.to => {
            Some(collapse(&one.from, &two.to, |from, to| {
                Operation::RenameIndex(RenameIndex {
                    table: one.table.clone(),
                    from,
                    to,
                })
            }))
        }
        _ => None,
    }
}

/// A rename chain `from` → … → `to` as one rename, or nothing when it comes back.
fn collapse(
    from: &str,
    to: &str,
    rename: impl FnOnce(String, String) -> Operation,
) -> Vec<Operation> {
    if from == to {
        Vec::new()
    } else {
        vec![rename(from.to_string(), to.to_string())]
    }
}

/// Two changes of one column as one: only the parts that differ in the end, nothing
/// when it ends as it began.
fn merged_alter(
    before: &SchemaState,
    ops: &[Operation],
    i: usize,
    j: usize,
    first: &AlterColumn,
) -> Option<Vec<Operation>> {
    let start = state_before(before, &ops[..i]).ok()?;
    let end = pair_state(before, ops, i, j).ok()?;
    let old = start.tables.get(&first.table)?.column(&first.column)?;
    let new = end.tables.get(&first.table)?.column(&first.column)?;
    if old == new {
        return Some(Vec::new());
    }
    Some(vec![Operation::AlterColumn(AlterColumn {
        table: first.table.clone(),
        column: first.column.clone(),
        ty: (old.ty != new.ty).then_some(new.ty),
        null: (old.null != new.null).then_some(new.null),
        default: new.default.clone().filter(|_| old.default != new.default),
        drop_default: old.default.is_some() && new.default.is_none(),
        comment: new.comment.clone().filter(|_| old.comment != new.comment),
        drop_comment: old.comment.is_some() && new.comment.is_none(),
        values: (new.ty == crate::types::ColumnType::Enum
            && (old.values != new.values || old.ty != new.ty))
            .then(|| new.values.clone()),
        collation: (old.collation != new.collation).then(|| new.collation.clone()),
    })])
}

/// The schema `ops[..i]` leave, then `ops[i]` and `ops[j]`, the operations between them
/// left out: what the pair builds when merged at `i`.
fn pair_state(
    before: &SchemaState,
    ops: &[Operation],
    i: usize,
    j: usize,
) -> Result<SchemaState, StateError> {
    let mut state = state_before(before, &ops[..i])?;
    state.apply(&ops[i])?;
    state.apply(&ops[j])?;
    Ok(state)
}

/// `before` with `ops` applied.
pub(super) fn state_before(
    before: &SchemaState,
    ops: &[Operation],
) -> Result<SchemaState, StateError> {
    let mut state = before.clone();
    for op in ops {
        state.apply(op)?;
    }
    Ok(state)
}

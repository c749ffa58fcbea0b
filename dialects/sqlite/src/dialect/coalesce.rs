//! One table rebuild for consecutive changes to one table.
//!
//! Each change SQLite's `ALTER TABLE` cannot make is a rebuild that copies every row;
//! three such changes in a row copied the table three times. Here, the operation
//! being rendered looks ahead at the ones after it: while they change the same table
//! in ways a rebuild can carry (column changes, foreign keys, checks, uniques,
//! indexes, added and dropped columns), they are made by one rebuild from the table
//! as it is to the table after the last of them, in the statements of the last one;
//! each keeps its own guards, which all run before that copy.
//!
//! Only in a transaction: nothing records progress between the operations then, so
//! the one rebuild is all of them or none. A second change to a column ends the run
//! when it has guards (they must read the first change's result, which the single
//! copy never writes apart), and so does any change to a column added earlier in the
//! run (the rows get an added column's value from the default it was added with, which
//! a copy to the final table no longer knows), and any other operation (a rename, a
//! change to another table, a `run_sql`).

use strata_engine::ast::{AlterColumn, Constraint, Operation};
use strata_engine::dialect::{Ahead, RenderResultOf};
use strata_engine::{Dialect, RenderContext, SchemaState, Statement};

use super::{rebuild, SqliteDialect};

/// What an operation is to a run of changes to `table`.
struct Member<'a> {
    /// It needs a copy of the rows on its own (a rebuild, or a native `DROP COLUMN`,
    /// which rewrites the table too).
    copies: bool,
    /// The column it changes, if any.
    column: Option<&'a str>,
}

/// `op` as a change the rebuild of `table` can carry, given the state before it.
fn member<'a>(op: &'a Operation, table: &str, state: &SchemaState) -> Option<Member<'a>> {
    if op.table() != Some(table) {
        return None;
    }
    let (copies, column) = match op {
        Operation::AddColumn(o) => (
            !SqliteDialect::can_add_column_natively(&o.column),
            Some(o.column.name.as_str()),
        ),
        Operation::DropColumn(o) => (true, Some(o.column.as_str())),
        Operation::AlterColumn(o) => (changes(o), Some(o.column.as_str())),
        Operation::AddForeignKey(_) | Operation::DropForeignKey(_) => (true, None),
        Operation::AddConstraint(o) => (matches!(o.constraint, Constraint::Check { .. }), None),
        Operation::DropConstraint(o) => {
            let unique = matches!(
                state.table(table).ok()?.constraint(&o.name),
                Some(Constraint::Unique { .. })
            );
            (!unique, None)
        }
        Operation::CreateIndex(_) | Operation::DropIndex(_) => (false, None),
        _ => return None,
    };
    Some(Member { copies, column })
}

/// Whether `op`, a change to a column an earlier operation of the run changed, reads
/// no rows: a column change without guards. One with guards must read the values the
/// earlier change writes, which the single copy never writes apart.
fn rereads_nothing(
    d: SqliteDialect,
    op: &Operation,
    state: &SchemaState,
    ctx: &RenderContext,
) -> bool {
    let Operation::AlterColumn(o) = op else {
        return false;
    };
    let at = RenderContext { state, ..*ctx };
    alter_guards(d, o, &at).is_ok_and(|guards| guards.is_empty())
}

/// Whether at least two operations of the run that `op` starts may need a copy of the
/// rows: an upper bound of what `render_ahead` counts, read from the state before the
/// run. The run changes only `table`'s columns and constraints, so an operation is a
/// member here exactly when it is one there, except that a dropped constraint may be
/// a unique one only later (counted as a copy).
fn two_may_copy(op: &Operation, following: &[Operation], table: &str, state: &SchemaState) -> bool {
    std::iter::once(op)
        .chain(following)
        .map_while(|next| member(next, table, state).map(|m| (next, m)))
        .filter(|(next, m)| m.copies || matches!(next, Operation::DropConstraint(_)))
        .nth(1)
        .is_some()
}

fn changes(o: &AlterColumn) -> bool {
    o.ty.is_some() || o.null.is_some() || o.default.is_some() || o.drop_default
}

/// `op` and as many of `following` as one rebuild can carry with it; `None` when
/// fewer than two of them need a copy of the rows (each renders as it would alone).
pub(super) fn render_ahead(
    d: SqliteDialect,
    op: &Operation,
    following: &[Operation],
    ctx: &RenderContext,
) -> RenderResultOf<Option<Ahead>> {
    let Some(table) = op.table().filter(|_| ctx.in_transaction) else {
        return Ok(None);
    };
    if !two_may_copy(op, following, table, ctx.state) {
        // The usual case: nothing to coalesce, known without a copy of the schema.
        return Ok(None);
    }
    let mut state = ctx.state.clone();
    let mut touched: Vec<&str> = Vec::new();
    let mut added: Vec<&str> = Vec::new();
    // The states before each operation of the run, to render its guards against.
    let mut befores: Vec<SchemaState> = Vec::new();
    let mut copies = 0;
    let mut last_copy = 0;
    for (i, next) in std::iter::once(op).chain(following).enumerate() {
        let Some(m) = member(next, table, &state) else {
            break;
        };
        if m.column.is_some_and(|c| touched.contains(&c)) && !rereads_nothing(d, next, &state, ctx)
        {
            break;
        }
        if matches!(next, Operation::AlterColumn(o) if added.contains(&o.column.as_str())) {
            break;
        }
        let before = state.clone();
        if state.apply(next).is_err() {
            // Rendered on its own, the operation reports why.
            break;
        }
        touched.extend(m.column);
        if let Operation::AddColumn(o) = next {
            added.push(&o.column.name);
        }
        befores.push(before);
        if m.copies {
            copies += 1;
            last_copy = i;
        }
    }
    if copies < 2 {
        return Ok(None);
    }
    let run = std::iter::once(op).chain(following).take(last_copy + 1);
    // Each operation keeps its guards, so a failure names it; the last one rebuilds.
    let mut operations = Vec::new();
    for (next, before) in run.clone().zip(&befores) {
        let guards = match next {
            Operation::AlterColumn(o) => {
                let at = RenderContext {
                    state: before,
                    ..*ctx
                };
                alter_guards(d, o, &at)?
            }
            _ => Vec::new(),
        };
        operations.push(guards);
    }
    let mut after = ctx.state.clone();
    for next in run {
        after.apply(next)?;
    }
    let rebuild = rebuild::rebuild_table(d, ctx.state.table(table)?, after.table(table)?, ctx)?;
    if let Some(last) = operations.last_mut() {
        last.extend(rebuild);
    }
    Ok(Some(Ahead {
        operations,
        made_by: last_copy,
    }))
}

/// The guards of a column change ([`Dialect::column_change_guards`]), which read the
/// rows before anything is written.
fn alter_guards(
    d: SqliteDialect,
    o: &AlterColumn,
    ctx: &RenderContext,
) -> RenderResultOf<Vec<Statement>> {
    let old = ctx
        .state
        .table(&o.table)?
        .column(&o.column)
        .ok_or_else(|| strata_engine::state::StateError::NoSuchColumn {
            table: o.table.clone(),
            column: o.column.clone(),
        })?;
    let mut new = old.clone();
    new.ty = o.ty.unwrap_or(old.ty);
    new.null = o.null.unwrap_or(old.null);
    d.column_change_guards(&o.table, old, &new, ctx)
}

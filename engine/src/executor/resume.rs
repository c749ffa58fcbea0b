//! Where a migration that stopped part-way really is. A run killed between an
//! operation and its record leaves the live schema one operation past the record, in
//! the direction that run was going — at most one: a record held back (the one after
//! a concurrent index build, see `script::run`) is written before the next statement
//! that could not be rolled back. The run that finds it may go either way.

use std::collections::BTreeSet;

use tracing::{info, warn};

use super::{ExecError, Options};
use crate::ast::Operation;
use crate::dialect::driver::{run_statement, Driver};
use crate::dialect::Dialect;
use crate::drift;
use crate::migration::Migration;
use crate::script::{self, Direction, Mode};
use crate::state::SchemaState;

/// How many of `m`'s operations the live schema really has: `recorded`, or its
/// neighbour in `direction`, or the other one (a rollback of a forward run killed
/// one operation past its record, and the reverse). Only the tables the migration
/// touches are compared, so objects strata does not manage elsewhere in the database
/// do not get in the way.
pub(super) async fn locate_checkpoint(
    driver: &mut dyn Driver,
    dialect: &dyn Dialect,
    options: &Options,
    m: &Migration,
    before: &SchemaState,
    recorded: usize,
    direction: Direction,
) -> Result<usize, ExecError> {
    clean_partial_operation(driver, dialect, m, before, recorded, options.mode(m)).await;
    let history_table = options.history_table.as_str();
    let live = driver.introspect().await?;
    let collations = drift::table_collations(driver).await?;
    let touched = touched_tables(&m.operations);
    let live = restrict(&live, &touched);
    let version = driver.version();
    let (ahead, behind) = (recorded.checked_add(1), recorded.checked_sub(1));
    // Where two candidates match (an index added, then dropped), the way this run
    // goes decides, as it did before a run could meet the other way's leftover.
    let neighbours = match direction {
        Direction::Forward => [ahead, behind],
        Direction::Backward => [behind, ahead],
    };
    let mut first_differences = None;
    for candidate in std::iter::once(recorded).chain(neighbours.into_iter().flatten()) {
        if candidate > m.operations.len() {
            continue;
        }
        let mut expected = before.clone();
        if m.replay(&mut expected, candidate).is_err() {
            continue;
        }
        let differences = drift::Drift::between_with(
            dialect,
            version,
            &restrict(&expected, &touched),
            &live,
            &[history_table],
            &collations,
        )
        .lines();
        if differences.is_empty() {
            if candidate == recorded {
                info!(done = candidate, "checkpoint matches the live schema");
            } else {
                warn!(
                    recorded,
                    actual = candidate,
                    "the schema is one operation from the checkpoint; using it"
                );
            }
            return Ok(candidate);
        }
        first_differences.get_or_insert(differences);
    }
    Err(ExecError::Drift {
        key: m.key.clone(),
        path: m.path.clone(),
        done: recorded,
        differences: first_differences.unwrap_or_default(),
    })
}

/// Undoes what operation `recorded` (0-based, the first not recorded as done) left
/// between statements that its safe plan commits apart — a `NOT VALID` constraint
/// whose `VALIDATE` never ran, an index built concurrently but not yet attached — so
/// that the live schema holds whole operations and the operation runs again from its
/// first statement. A part the cleanup cannot remove (an operation that completed
/// without its checkpoint) stays, and the comparison that follows finds it.
async fn clean_partial_operation(
    driver: &mut dyn Driver,
    dialect: &dyn Dialect,
    m: &Migration,
    before: &SchemaState,
    recorded: usize,
    mode: Mode,
) {
    if recorded >= m.operations.len() {
        return;
    }
    let version = driver.version();
    let Ok((script, _)) = script::render(
        dialect,
        version,
        before,
        &m.operations,
        mode,
        Direction::Forward,
    ) else {
        return; // the run renders it again and reports why it cannot
    };
    for statement in &script.operations[recorded].cleanup {
        info!(sql = %statement.sql, "removing what a stopped operation left");
        // Each cleanup statement succeeds when there is nothing to remove; one that
        // fails leaves the comparison to find what remains.
        let _ = run_statement(driver, statement).await;
    }
}

/// The tables that operations create, change, rename or drop (by every name).
fn touched_tables(operations: &[Operation]) -> BTreeSet<String> {
    let mut tables = BTreeSet::new();
    for op in operations {
        if let Operation::RenameTable(r) = op {
            tables.insert(r.to.clone());
        }
        if let Some(t) = op.table() {
            tables.insert(t.to_string());
        }
    }
    tables
}

/// Only the tables named in `keep`.
fn restrict(state: &SchemaState, keep: &BTreeSet<String>) -> SchemaState {
    SchemaState {
        tables: state
            .tables
            .iter()
            .filter(|(name, _)| keep.contains(*name))
            .map(|(name, t)| (name.clone(), t.clone()))
            .collect(),
    }
}

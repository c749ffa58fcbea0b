//! Squashed migrations and the history: the graph a database's rows call for
//! ([`Graph::for_history`]), those rows seen through it, and the rows that record a
//! squash whose replaced migrations are all applied.
//!
//! The history keeps the rows it has: a database that applied the replaced
//! migrations one by one keeps their rows, and gets the squash's row too on its next
//! `migrate` (as Django's `check_replacements`), so that the replaced files and the
//! `replaces` list can be deleted later. A squash that runs records its own row
//! only; rolling it back deletes its row and those of every migration it replaces.

use std::borrow::Cow;
use std::collections::BTreeSet;

use super::{ExecError, Status};
use crate::graph::Graph;
use crate::history::{HistoryRow, RowState, FORMAT};
use crate::migration::{Migration, MigrationKey};

/// The graph and the history as this database sees them: a squash in use counts as
/// applied once everything it replaces is, and the rows of the migrations it replaces
/// are its own business (left out). Choosing again from the result gives the same.
pub fn in_use<'g, 's>(
    graph: &'g Graph,
    status: &'s Status,
) -> Result<(Cow<'g, Graph>, Cow<'s, Status>), ExecError> {
    if !graph.has_squashes() {
        // Nothing to choose (most projects): the graph and the history as they are.
        let graph = graph.for_history(&BTreeSet::new(), &BTreeSet::new())?;
        return Ok((graph, Cow::Borrowed(status)));
    }
    let applied = status.applied();
    let recorded: BTreeSet<MigrationKey> = status.rows.keys().cloned().collect();
    let graph = graph.for_history(&applied, &recorded)?;
    let pending = pending_records(&graph, status);
    let hides = |key: &MigrationKey| graph.stand_ins(key).is_some();
    let mut seen = status.clone();
    // A hidden migration has no row of its own in effect: a replaced one's rows (its
    // file present or deleted) are the squash's business, a squash not in use has none.
    seen.rows.retain(|key, _| !hides(key));
    for squash in pending {
        seen.rows.insert(
            squash.key.clone(),
            HistoryRow {
                key: squash.key.clone(),
                checksum: squash.checksum.clone(),
                state: RowState::Applied,
                operations_done: squash.operations.len(),
                statements_done: 0,
                applied_at: None,
                format: FORMAT,
                cursor: None,
            },
        );
    }
    Ok((graph, Cow::Owned(seen)))
}

/// Squashes in use without a row of their own whose replaced migrations all have an
/// applied row in `status`.
pub(super) fn pending_records<'g>(graph: &'g Graph, status: &Status) -> Vec<&'g Migration> {
    let applied = status.applied();
    graph
        .ordered()
        .filter(|m| !m.replaces.is_empty() && !status.rows.contains_key(&m.key))
        .filter(|m| m.replaces.iter().all(|r| applied.contains(r)))
        .collect()
}

//! The schema the migrations recorded in a database's history build: what `strata
//! drift` expects to find.

use std::collections::BTreeMap;

use crate::executor::{squashed, ExecError, Status};
use crate::graph::Graph;
use crate::state::SchemaState;

/// The schema of every migration `status` records as applied, and of the operations
/// done of one that stopped part-way, replayed in graph order. Squashed migrations
/// count as the database uses them ([`squashed::in_use`]); a row whose file is gone
/// adds nothing (`strata drift` refuses such a history first, as `migrate` does).
pub fn applied_state(graph: &Graph, status: &Status) -> Result<SchemaState, ExecError> {
    let (graph, status) = squashed::in_use(graph, status)?;
    let applied = status.applied();
    let partial: BTreeMap<_, usize> = status
        .partial()
        .map(|r| (r.key.clone(), r.operations_done))
        .collect();
    let steps: Vec<_> = graph
        .ordered()
        .filter_map(|m| match partial.get(&m.key) {
            Some(done) => Some((m, *done)),
            None if applied.contains(&m.key) => Some((m, m.operations.len())),
            None => None,
        })
        .collect();
    Ok(graph.replay(&steps)?)
}

//! What the database holds, migration by migration.

use serde::Serialize;
use strata_engine::executor;
use strata_engine::graph::Graph;
use strata_engine::history::RowState;

/// Every migration of the project, in the order they apply, with its state on the
/// database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Status {
    /// One entry per migration, in plan order.
    pub migrations: Vec<MigrationStatus>,
}

impl Status {
    /// The migrations not (completely) applied.
    pub fn pending(&self) -> impl Iterator<Item = &MigrationStatus> {
        self.migrations
            .iter()
            .filter(|m| m.state != MigrationState::Applied)
    }

    /// Whether every migration is applied.
    pub fn is_up_to_date(&self) -> bool {
        self.pending().next().is_none()
    }
}

/// One migration and its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationStatus {
    /// Its app.
    pub app: String,
    /// Its name (`0002_note`).
    pub name: String,
    /// Applied, pending, or stopped part-way (in JSON: `"state": "partial"`, with
    /// the counts beside it).
    #[serde(flatten)]
    pub state: MigrationState,
}

/// Where a migration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum MigrationState {
    /// Recorded as applied.
    Applied,
    /// Not applied.
    Pending,
    /// A run stopped part-way through it (a non-atomic migration); the next run
    /// resumes it.
    Partial {
        /// Operations completed.
        operations_done: usize,
        /// Operations in the migration.
        operations: usize,
    },
}

impl Status {
    pub(crate) fn new(graph: &Graph, status: &executor::Status) -> Self {
        let migrations = graph
            .ordered()
            .map(|m| {
                let state = match status.rows.get(&m.key) {
                    Some(row) if row.state == RowState::Applied => MigrationState::Applied,
                    Some(row) => MigrationState::Partial {
                        operations_done: row.operations_done,
                        operations: m.operations.len(),
                    },
                    None => MigrationState::Pending,
                };
                MigrationStatus {
                    app: m.key.app.clone(),
                    name: m.key.name.clone(),
                    state,
                }
            })
            .collect();
        Self { migrations }
    }
}

//! What a plan would run, operation by operation, without running anything: what
//! `migrate --plan` and `--check` list. A rollback's operations come from the scripts
//! `prepare` renders for the run itself (the inverses, in the order they run; of a
//! migration stopped part-way, only its completed operations), so the listing cannot
//! disagree with what `migrate` does.

use super::plan::{prepare, InEffect, PlannedStep, Status, Work};
use super::{ExecError, Options};
use crate::dialect::{Dialect, ServerVersion};
use crate::graph::Graph;

/// One step of a plan, with the operations it would run in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepPreview {
    pub step: PlannedStep,
    /// Recorded without running SQL (`--fake`): nothing in `operations` runs.
    pub fake: bool,
    pub operations: Vec<OperationPreview>,
}

/// One operation as it would run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationPreview {
    /// The 1-based number, in the migration file, of the operation this runs or (for
    /// a rollback) undoes: how lint findings and data loss name it.
    pub index: usize,
    /// What runs: the operation, or for a rollback its inverse ("Drop table …").
    pub description: String,
}

/// The operations each of `steps` would run, checked as `migrate` checks them
/// before its first statement (every step renders, every rollback exists, and with
/// `--single-transaction` every step can join the plan's one transaction).
pub fn preview(
    graph: &Graph,
    status: &Status,
    steps: &[PlannedStep],
    options: &Options,
    dialect: &dyn Dialect,
    version: ServerVersion,
) -> Result<Vec<StepPreview>, ExecError> {
    let (graph, status) = super::squashed::in_use(graph, status)?;
    let graph = &graph;
    let in_effect = InEffect::new(&status);
    let prepared = prepare(graph, steps.to_vec(), &in_effect, options, dialect, version)?;
    // Refused here as the run refuses it, before its first statement.
    if options.single_transaction {
        super::single::check(&prepared, dialect, version)?;
    }
    Ok(prepared
        .into_iter()
        .map(|p| {
            let operations = match p.work {
                _ if options.fake => Vec::new(),
                Work::Apply { .. } => p
                    .migration
                    .operations
                    .iter()
                    .enumerate()
                    .skip(p.step.done)
                    .map(|(i, op)| OperationPreview {
                        index: i + 1,
                        description: op.to_string(),
                    })
                    .collect(),
                // The rollback script holds one inverse per operation in effect, the
                // last operation's first.
                Work::Unapply { script, .. } => {
                    let rendered = script.map(|s| s.operations).unwrap_or_default();
                    let count = rendered.len();
                    rendered
                        .into_iter()
                        .enumerate()
                        .map(|(j, op)| OperationPreview {
                            index: count - j,
                            description: op.description,
                        })
                        .collect()
                }
            };
            StepPreview {
                step: p.step,
                fake: options.fake,
                operations,
            }
        })
        .collect())
}

//! What a run would do, operation by operation, without running it.

use serde::Serialize;
use strata_engine::executor::StepPreview;

use crate::Direction;

/// One migration a run would apply or roll back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanStep {
    /// Its app.
    pub app: String,
    /// Its name (`0002_note`).
    pub name: String,
    /// Applied or rolled back.
    pub direction: Direction,
    /// A migration that stopped part-way, resumed: the operations already done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resume_after: Option<usize>,
    /// Recorded without running anything: `operations` is empty.
    pub fake: bool,
    /// What would run, in order.
    pub operations: Vec<PlanOperation>,
}

/// One operation a plan would run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanOperation {
    /// Its number in the migration file, from 1 (for a rollback: the one undone).
    pub index: usize,
    /// What runs: the operation, or for a rollback its inverse.
    pub description: String,
}

impl From<StepPreview> for PlanStep {
    fn from(preview: StepPreview) -> Self {
        let step = preview.step;
        let resume_after = step.resumes_after();
        Self {
            app: step.key.app,
            name: step.key.name,
            direction: step.step.into(),
            resume_after,
            fake: preview.fake,
            operations: preview
                .operations
                .into_iter()
                .map(|op| PlanOperation {
                    index: op.index,
                    description: op.description,
                })
                .collect(),
        }
    }
}

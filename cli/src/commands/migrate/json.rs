//! The documents of `migrate --format json`: one on stdout per command, also when it
//! fails (then with the error; the report still goes to stderr and the exit code is
//! unchanged). Shapes: docs/json.md, `schemas/output/migrate.schema.json` and
//! `migrate-plan.schema.json`; change them together.

use std::time::{Duration, Instant};

use serde::Serialize;
use strata_engine::executor::StepPreview;
use strata_engine::graph::{Graph, Step};
use strata_engine::lint::Finding;

use super::backfill::BackfillTotals;
use super::plan::{loss_at, step_findings, Losses};
use crate::error::CliError;
use crate::signals;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Direction {
    Apply,
    Unapply,
}

impl From<Step> for Direction {
    fn from(step: Step) -> Self {
        match step {
            Step::Apply => Direction::Apply,
            Step::Unapply => Direction::Unapply,
        }
    }
}

/// `--plan` / `--check`: the steps, each with the operations it runs, in run order.
#[derive(Serialize)]
pub(super) struct Plan<'a> {
    plan: Vec<PlanStep<'a>>,
    /// `--single-transaction`: every step in one transaction, committed at the end.
    single_transaction: bool,
}

#[derive(Serialize)]
struct PlanStep<'a> {
    migration: String,
    direction: Direction,
    /// A partial migration resumed: the operations an earlier run completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    resume_after: Option<usize>,
    /// Recorded without running anything (`--fake`).
    fake: bool,
    operations: Vec<PlanOperation<'a>>,
    /// Findings about the migration as a whole.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    lint: Vec<&'a Finding>,
}

#[derive(Serialize)]
struct PlanOperation<'a> {
    /// The operation's number in the migration file (for a rollback: the one undone).
    index: usize,
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_loss: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    lint: Vec<&'a Finding>,
}

impl<'a> Plan<'a> {
    pub(super) fn new(
        graph: &Graph,
        steps: &[StepPreview],
        findings: &'a [Finding],
        single_transaction: bool,
    ) -> Self {
        let losses = Losses::of_plan(graph, steps.iter().map(|p| &p.step));
        let plan = steps
            .iter()
            .map(|preview| {
                let step = &preview.step;
                let losses = losses.of(step);
                PlanStep {
                    migration: step.key.to_string(),
                    direction: step.step.into(),
                    resume_after: step.resumes_after(),
                    fake: preview.fake,
                    operations: preview
                        .operations
                        .iter()
                        .map(|op| PlanOperation {
                            index: op.index,
                            description: op.description.clone(),
                            data_loss: loss_at(losses, op.index).map(ToString::to_string),
                            lint: step_findings(findings, step, op.index).collect(),
                        })
                        .collect(),
                    lint: step_findings(findings, step, 0).collect(),
                }
            })
            .collect();
        Plan {
            plan,
            single_transaction,
        }
    }
}

/// `--plan` / `--check` that could not plan.
#[derive(Serialize)]
pub(super) struct PlanFailed {
    error: ErrorReport,
}

impl PlanFailed {
    pub(super) fn new(e: &CliError) -> Self {
        Self {
            error: ErrorReport {
                exit_code: e.exit_code(),
                message: e.to_string(),
            },
        }
    }
}

#[derive(Serialize)]
struct ErrorReport {
    exit_code: u8,
    message: String,
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum StepStatus {
    Ok,
    /// It changed nothing: rolled back, or stopped before its first change.
    Failed,
    /// `--single-transaction`: it ran, but the plan's one transaction rolled back (a
    /// later step or the final commit failed), taking it along.
    RolledBack,
    /// It stopped part-way; its checkpoint is recorded and `migrate` resumes it.
    Partial,
}

/// One step of a run, as it went.
#[derive(Debug, Clone, Serialize)]
pub(super) struct StepRecord {
    pub(super) migration: String,
    pub(super) direction: Direction,
    pub(super) fake: bool,
    pub(super) elapsed_ms: u64,
    /// The operations it ran (or was to run).
    pub(super) operations: usize,
    pub(super) status: StepStatus,
    /// What each `backfill` of the step did in this run (also when it stopped).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) backfills: Vec<BackfillTotals>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Outcome {
    Ok,
    Failed,
    /// Stopped on SIGINT or SIGTERM.
    Interrupted,
}

/// A run: its steps in order, how it ended and, if it failed, why.
#[derive(Serialize)]
pub(super) struct RunReport<'a> {
    outcome: Outcome,
    steps: &'a [StepRecord],
    elapsed_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorReport>,
}

impl<'a> RunReport<'a> {
    pub(super) fn new(steps: &'a [StepRecord], started: Instant, error: Option<&CliError>) -> Self {
        // A signal turns any ending into an interruption (as `main` reports it).
        let (outcome, error) = match (signals::received(), error) {
            (Some(signal), cause) => (
                Outcome::Interrupted,
                Some(ErrorReport {
                    exit_code: signal.exit_code(),
                    message: match cause {
                        Some(e) => format!("interrupted by {}: {e}", signal.name()),
                        None => format!("interrupted by {}", signal.name()),
                    },
                }),
            ),
            (None, Some(e)) => (
                Outcome::Failed,
                Some(ErrorReport {
                    exit_code: e.exit_code(),
                    message: e.to_string(),
                }),
            ),
            (None, None) => (Outcome::Ok, None),
        };
        Self {
            outcome,
            steps,
            elapsed_ms: millis(started.elapsed()),
            error,
        }
    }
}

/// Milliseconds, saturating (after half a billion years).
pub(crate) fn millis(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}

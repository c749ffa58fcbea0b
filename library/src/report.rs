//! What a run did: the steps, as the executor's observer hears them.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;
use strata_engine::executor::{BackfillProgress, Observer, OperationObserver, PlannedStep};
use strata_engine::graph::Step;

/// The migrations a run applied or unapplied, in the order they ran.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// One entry per migration that completed.
    pub steps: Vec<StepReport>,
}

impl Report {
    /// Nothing ran: the database was already where it was asked to be.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// One migration applied or unapplied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepReport {
    /// Its app.
    pub app: String,
    /// Its name (`0002_note`).
    pub name: String,
    /// Applied or rolled back.
    pub direction: Direction,
    /// Recorded in the history without running anything ([`Migrator::fake`](crate::Migrator::fake)).
    pub fake: bool,
    /// The operations it ran (of a migration resumed after a failure, those left).
    pub operations: usize,
    /// How long it took; in JSON, whole milliseconds (`duration_ms`), as the CLI's
    /// `migrate --format json` writes it.
    #[serde(rename = "duration_ms", serialize_with = "millis")]
    pub duration: Duration,
    /// Each `backfill` of the migration, as its last committed batch left it.
    pub backfills: Vec<BackfillProgress>,
}

fn millis<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}

/// Which way a migration went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Applied.
    Apply,
    /// Rolled back.
    Rollback,
}

impl From<Step> for Direction {
    fn from(step: Step) -> Self {
        match step {
            Step::Apply => Direction::Apply,
            Step::Unapply => Direction::Rollback,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Apply => "apply",
            Direction::Rollback => "rollback",
        })
    }
}

/// Builds the report as the executor runs: a step is recorded when it finishes.
#[derive(Default)]
pub(crate) struct Recorder {
    pub(crate) report: Report,
    running: Option<(usize, bool)>,
    /// The running step's backfills by operation index: the runner reports them
    /// through a shared reference, hence the lock.
    backfills: Backfills,
}

#[derive(Default)]
struct Backfills(Mutex<Vec<(usize, BackfillProgress)>>);

impl OperationObserver for Backfills {
    fn operation(&self, _index: usize, _total: usize, _description: &str) {}

    fn backfill_progress(&self, index: usize, progress: &BackfillProgress) {
        let mut seen = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match seen.iter_mut().find(|(i, _)| *i == index) {
            Some((_, last)) => *last = progress.clone(),
            None => seen.push((index, progress.clone())),
        }
    }
}

impl Backfills {
    fn take(&self) -> Vec<BackfillProgress> {
        let mut seen = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::mem::take(&mut *seen)
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    }
}

impl Observer for Recorder {
    fn started(&mut self, _step: &PlannedStep, operations: usize, fake: bool) {
        self.running = Some((operations, fake));
        self.backfills.take();
    }

    fn operations(&self) -> Option<&dyn OperationObserver> {
        Some(&self.backfills)
    }

    fn finished(&mut self, step: &PlannedStep, elapsed: Duration) {
        let (operations, fake) = self.running.take().unwrap_or_default();
        self.report.steps.push(StepReport {
            app: step.key.app.clone(),
            name: step.key.name.clone(),
            direction: step.step.into(),
            fake,
            operations,
            duration: elapsed,
            backfills: self.backfills.take(),
        });
    }
}

//! What a person sees while `migrate` runs: Django-style lines ("  Applying x... OK
//! (12 ms)"), then a summary. On a terminal (stderr), a spinner names the migration,
//! its running operation and how long that has taken; a long plan gets a bar instead.
//! Neither is ever drawn into a pipe or a file: indicatif's stderr target is hidden
//! there, and JSON mode draws nothing. A running backfill adds its rows, rate and ETA
//! to the spinner, or is reported on stderr every few seconds (`backfill`). What each
//! step did is kept for the JSON report. With `--single-transaction` nothing is
//! applied before the plan's one commit: a step ends "done", the summary says
//! "committed", and a failure says that the steps done were rolled back too.

use std::io::Write;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use strata_engine::dialect::driver::Driver;
use strata_engine::executor::{ExecError, Observer, OperationObserver, PlannedStep, Status};
use strata_engine::graph::{Graph, Step, Target};

use super::backfill::{self, Notices, Reports};
use super::json::{millis, StepRecord, StepStatus};
use super::plan::Losses;
use super::Gate;
use crate::error::CliError;

/// From this many steps on, a bar counts them (and only lossy steps get a line).
const BAR_THRESHOLD: usize = 20;

/// How often the spinner turns and its elapsed time moves.
const TICK: Duration = Duration::from_millis(100);

pub(super) struct Printer<'a> {
    /// Where the lines go: stdout, or stderr when stdout holds a JSON document.
    out: &'a mut (dyn Write + Send),
    graph: &'a Graph,
    quiet: bool,
    /// Whether a spinner or bar may be drawn at all (not in JSON mode).
    may_draw: bool,
    watch: Watch,
    /// Without a spinner: "Applying x..." is printed and waits for its " OK".
    open_line: bool,
    /// With a spinner: the step's line, written whole when the step ends.
    pending: Option<String>,
    steps: Vec<StepRecord>,
    /// The last step started and did not finish (yet).
    running: Option<Instant>,
    run_started: Option<Instant>,
    commits: Commits,
    /// What each step of the plan destroys, said before it runs; not worked out when
    /// nothing is said.
    losses: Losses,
    /// What vets the plan under the lock, then has it described; none for a printer
    /// that only reports.
    gate: Option<Gate<'a>>,
}

/// When a finished step is applied: its line says "OK" only once it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Commits {
    /// Each step commits as it finishes.
    PerStep,
    /// `--single-transaction`: with the plan's one transaction, at the end.
    WithPlan,
    /// `--single-transaction`, and the plan's transaction has committed.
    PlanCommitted,
}

/// What hears the running step's operations: the spinner line when one is drawn, and
/// the backfills' reports.
struct Watch {
    live: Option<OperationLine>,
    backfills: Reports,
}

impl OperationObserver for Watch {
    fn operation(&self, index: usize, total: usize, description: &str) {
        if let Some(live) = &self.live {
            live.operation(index, total, description);
        }
    }

    /// The spinner names the running operation and times it.
    fn follows_operations(&self) -> bool {
        self.live.is_some()
    }

    fn backfill_progress(
        &self,
        index: usize,
        progress: &strata_engine::executor::BackfillProgress,
    ) {
        self.backfills.report(index, progress);
        if let Some(live) = &self.live {
            live.backfill(&backfill::counts(progress));
        }
    }
}

/// The spinner (or bar) line: the step, then its running operation. The bar is
/// shared with its ticking thread, so this is `Sync` as the script runner needs.
struct OperationLine {
    bar: ProgressBar,
    /// It counts steps on a bar; otherwise it is a spinner.
    counts: bool,
    /// "Applying app.name", for the operations' messages.
    step: Mutex<String>,
    /// The running operation's message, which a backfill's progress follows.
    operation: Mutex<String>,
}

impl OperationLine {
    /// A new step: its name alone until its first operation starts.
    fn step(&self, label: String) {
        self.bar.set_message(label.clone());
        self.bar.reset_elapsed();
        *self.step.lock().unwrap_or_else(PoisonError::into_inner) = label;
    }

    fn operation(&self, index: usize, total: usize, description: &str) {
        let step = self.step.lock().unwrap_or_else(PoisonError::into_inner);
        // One message, so that no frame shows a step with another's operation.
        let message = format!("{step}: {description} ({}/{total})", index + 1);
        self.bar.set_message(message.clone());
        self.bar.reset_elapsed();
        *self
            .operation
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = message;
    }

    /// The running operation's message, followed by how far its backfill is.
    fn backfill(&self, progress: &str) {
        let operation = self
            .operation
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.bar.set_message(format!("{operation}: {progress}"));
    }
}

impl<'a> Printer<'a> {
    pub(super) fn new(
        out: &'a mut (dyn Write + Send),
        graph: &'a Graph,
        quiet: bool,
        may_draw: bool,
        single_transaction: bool,
    ) -> Self {
        Self {
            out,
            graph,
            quiet,
            may_draw,
            watch: Watch {
                live: None,
                // JSON mode (the only one that draws nothing) reports in JSON lines.
                backfills: Reports::new(match (quiet, may_draw) {
                    (true, _) => Notices::Off,
                    (false, true) => Notices::Text,
                    (false, false) => Notices::Json,
                }),
            },
            open_line: false,
            pending: None,
            steps: Vec::new(),
            running: None,
            run_started: None,
            commits: if single_transaction {
                Commits::WithPlan
            } else {
                Commits::PerStep
            },
            losses: Losses::default(),
            gate: None,
        }
    }

    /// Has `gate` vet the plan under the lock; once it passes, the targets are
    /// described ("Operations to perform").
    pub(super) fn gate(&mut self, gate: Gate<'a>) {
        self.gate = Some(gate);
    }

    fn describe_targets(&mut self, targets: &[Target]) -> std::io::Result<()> {
        let what = match targets {
            [Target::Latest(app)] => format!("  Apply all migrations: {app}"),
            [Target::Migration(key)] => format!(
                "  Target specific migration: {}, from {}",
                key.name, key.app
            ),
            [Target::Zero(app)] => format!("  Unapply all migrations: {app}"),
            all => {
                let apps: Vec<_> = all
                    .iter()
                    .filter_map(|t| match t {
                        Target::Latest(app) => Some(app.as_str()),
                        _ => None,
                    })
                    .collect();
                format!("  Apply all migrations: {}", apps.join(", "))
            }
        };
        writeln!(
            self.out,
            "Operations to perform:\n{what}\nRunning migrations:"
        )
    }

    /// A whole line, above the spinner or bar if one is drawn.
    pub(super) fn line(&mut self, text: &str) {
        if self.quiet {
            return;
        }
        match &self.watch.live {
            Some(live) => live.bar.suspend(|| {
                let _ = writeln!(self.out, "{text}");
                let _ = self.out.flush();
            }),
            None => {
                let _ = writeln!(self.out, "{text}");
            }
        }
    }

    /// Ends the output — a step still running failed, `error` says how — and returns
    /// what each step did. A run that finished gets its summary line.
    pub(super) fn finish(mut self, error: Option<&CliError>) -> Vec<StepRecord> {
        if let Some(live) = self.watch.live.take() {
            live.bar.finish_and_clear();
        }
        if let Some(started) = self.running.take() {
            if let Some(step) = self.steps.last_mut() {
                step.elapsed_ms = millis(started.elapsed());
                step.backfills = self.watch.backfills.take();
                step.status = match error {
                    Some(CliError::Exec(e)) if e.left_partial() => StepStatus::Partial,
                    _ => StepStatus::Failed,
                };
            }
        }
        if self.open_line {
            let _ = writeln!(self.out, " FAILED");
        }
        if let Some(line) = self.pending.take() {
            let _ = writeln!(self.out, "{line}... FAILED");
        }
        if error.is_some() && self.commits == Commits::WithPlan {
            self.roll_back();
        }
        if error.is_none() && !self.quiet {
            let elapsed = self.run_started.map(|at| at.elapsed()).unwrap_or_default();
            if let Some(summary) = summary(&self.steps, elapsed) {
                let how = if self.commits == Commits::PlanCommitted {
                    ", in one transaction: committed"
                } else {
                    ""
                };
                let _ = writeln!(self.out, "{summary}{how}.");
            }
        }
        self.steps
    }

    /// `--single-transaction` failed: the steps that finished were rolled back with
    /// the plan's transaction; say so, on their records and in a line.
    fn roll_back(&mut self) {
        let mut undone = 0;
        for step in &mut self.steps {
            if step.status == StepStatus::Ok {
                step.status = StepStatus::RolledBack;
                undone += 1;
            }
        }
        if undone > 0 && !self.quiet {
            let steps = match undone {
                1 => "the step done above".to_string(),
                n => format!("the {n} steps done above"),
            };
            let _ = writeln!(
                self.out,
                "  Rolled back: nothing of the plan was applied, {steps} included (--single-transaction)."
            );
        }
    }
}

/// "  Applied 25 migrations in 3.2 s" — or unapplied, or both.
fn summary(steps: &[StepRecord], elapsed: Duration) -> Option<String> {
    let count = |direction: Step| {
        steps
            .iter()
            .filter(|s| s.status == StepStatus::Ok && s.direction == direction.into())
            .count()
    };
    let migrations = |n: usize| match n {
        1 => "1 migration".to_string(),
        n => format!("{n} migrations"),
    };
    let done = match (count(Step::Apply), count(Step::Unapply)) {
        (0, 0) => return None,
        (applied, 0) => format!("Applied {}", migrations(applied)),
        (0, unapplied) => format!("Unapplied {}", migrations(unapplied)),
        (applied, unapplied) => {
            format!("Unapplied {} and applied {applied}", migrations(unapplied))
        }
    };
    let took = if elapsed < Duration::from_secs(1) {
        format!("{} ms", elapsed.as_millis())
    } else {
        format!("{:.1} s", elapsed.as_secs_f64())
    };
    Some(format!("  {done} in {took}"))
}

#[async_trait::async_trait]
impl Observer for Printer<'_> {
    async fn vet(
        &mut self,
        driver: &mut dyn Driver,
        history: &Status,
        plan: &[PlannedStep],
    ) -> Result<(), ExecError> {
        let Some(gate) = self.gate.take() else {
            return Ok(());
        };
        let refused = |e: CliError| ExecError::Refused(Box::new(e));
        gate.check(driver, history, plan).await.map_err(refused)?;
        if !self.quiet {
            self.describe_targets(&gate.targets)
                .map_err(|e| refused(e.into()))?;
        }
        Ok(())
    }

    /// Said once, on stderr (a notice, not the command's output); the engine then
    /// logs nothing more about the wait.
    fn waiting_for_lock(&mut self, holder: Option<&str>) -> bool {
        if self.quiet {
            return false;
        }
        let holder = holder.unwrap_or("another process");
        let _ = writeln!(
            std::io::stderr(),
            "  Paused: waiting for the migration lock, held by {holder}..."
        );
        true
    }

    fn planned(&mut self, plan: &[PlannedStep]) {
        self.run_started = Some(Instant::now());
        if !self.quiet {
            self.losses = Losses::of_plan(self.graph, plan);
        }
        let target = ProgressDrawTarget::stderr();
        if self.quiet || !self.may_draw || plan.is_empty() || target.is_hidden() {
            return;
        }
        let counts = plan.len() >= BAR_THRESHOLD;
        let (bar, template) = if counts {
            (
                ProgressBar::with_draw_target(Some(plan.len() as u64), target),
                "  {bar:30} {pos}/{len} {msg} {elapsed}",
            )
        } else {
            (
                ProgressBar::with_draw_target(None, target),
                "  {spinner} {msg} {elapsed}",
            )
        };
        bar.set_style(
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(TICK);
        self.watch.live = Some(OperationLine {
            bar,
            counts,
            step: Mutex::new(String::new()),
            operation: Mutex::new(String::new()),
        });
        // The spinner shows the backfills' progress: no notices besides.
        self.watch.backfills.silence();
    }

    fn started(&mut self, step: &PlannedStep, operations: usize, fake: bool) {
        self.running = Some(Instant::now());
        self.steps.push(StepRecord {
            migration: step.key.to_string(),
            direction: step.step.into(),
            fake,
            elapsed_ms: 0,
            operations,
            status: StepStatus::Failed,
            backfills: Vec::new(),
        });
        self.watch.backfills.step(step.key.to_string());
        let verb = match (step.step, step.done > 0) {
            (Step::Apply, true) => "Resuming",
            (Step::Apply, false) => "Applying",
            (Step::Unapply, _) => "Unapplying",
        };
        let fake = if fake { " (fake)" } else { "" };
        // What the step destroys, said before it runs ("drops data").
        let mut losses: Vec<String> = if fake.is_empty() && !self.quiet {
            self.losses
                .of(step)
                .iter()
                // A rollback undoes the `operations` that ran (all, or a partial
                // migration's first ones); a resumed run does what remains.
                .filter(|(i, _)| match step.step {
                    Step::Unapply => *i < operations,
                    Step::Apply => *i >= step.done,
                })
                .map(|(_, loss)| loss.to_string())
                .collect()
        } else {
            Vec::new()
        };
        // In the order they happen, as `--plan` lists them: a rollback undoes the last
        // operation first.
        if step.step == Step::Unapply {
            losses.reverse();
        }
        let losses = if losses.is_empty() {
            String::new()
        } else {
            format!(" ({})", losses.join("; "))
        };
        let line = format!("  {verb} {}{fake}{losses}", step.key);
        if let Some(live) = &self.watch.live {
            live.step(format!("{verb} {}{fake}", step.key));
            if !live.counts {
                self.pending = Some(line);
            } else if !losses.is_empty() {
                self.line(&line);
            }
        } else if !self.quiet {
            let _ = write!(self.out, "{line}...");
            let _ = self.out.flush();
            self.open_line = true;
        }
    }

    fn operations(&self) -> Option<&dyn OperationObserver> {
        Some(&self.watch)
    }

    fn committed(&mut self) {
        self.commits = Commits::PlanCommitted;
    }

    fn finished(&mut self, _step: &PlannedStep, elapsed: Duration) {
        self.running = None;
        if let Some(step) = self.steps.last_mut() {
            step.elapsed_ms = millis(elapsed);
            step.status = StepStatus::Ok;
            step.backfills = self.watch.backfills.take();
        }
        let ok = if self.commits == Commits::WithPlan {
            format!(" done ({} ms; commits with the plan)", elapsed.as_millis())
        } else {
            format!(" OK ({} ms)", elapsed.as_millis())
        };
        match &self.watch.live {
            Some(live) if live.counts => live.bar.inc(1),
            Some(_) => {
                if let Some(line) = self.pending.take() {
                    self.line(&format!("{line}...{ok}"));
                }
            }
            None if !self.quiet => {
                let _ = writeln!(self.out, "{ok}");
                self.open_line = false;
            }
            None => {}
        }
    }
}

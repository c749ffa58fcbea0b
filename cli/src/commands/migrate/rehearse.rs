//! `strata migrate --rehearse`: the plan run on a throwaway copy of the database
//! (made and dropped by the backend: `Backend::rehearsal_copy`), reporting each
//! operation's duration, rows, whether it rewrote its table and the locks it takes;
//! exit 1 when one fails or takes longer than `--max-duration`. The database itself
//! is never changed: the copy gets the history table and the migration lock.
//!
//! - `rehearse_probe`: the copy's connection, timing and measuring each operation;
//! - `rehearse_report`: what was measured, as lines or one JSON document.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use strata_engine::dialect::driver::{redact_url, Driver};
use strata_engine::dialect::rehearsal::RehearsalCopy;
use strata_engine::dialect::{Backend, LockNote};
use strata_engine::executor::{self, BackfillProgress, Observer, OperationObserver, PlannedStep};
use strata_engine::graph::{Step, Target};
use strata_engine::script::{self, Direction, RenderedOperation};
use strata_engine::{Dialect, ServerVersion};

use super::rehearse_probe::Probe;
use super::rehearse_report::{lock, Limit, OpLog, Outcome, Report, Run, SharedLog, StepLog};
use crate::args::{Format, MigrateArgs};
use crate::context::Context;
use crate::database;
use crate::error::{exit, CliError};
use crate::signals;

pub(super) async fn run(
    ctx: &Context,
    args: &MigrateArgs,
    quiet: bool,
    format: Format,
    out: &mut (dyn Write + Send),
) -> Result<u8, CliError> {
    let started = Instant::now();
    let targets = super::targets(ctx, args)?;
    let options = super::options(ctx, args);
    let json = format == Format::Json;
    let limit = limit(ctx, args);
    // A signal while the database is read stops it: then there is nothing to copy.
    let pending = match planned(ctx, &targets, &options).await {
        Err(_) if signals::received().is_some() => 0,
        pending => pending?,
    };
    if let Some(signal) = signals::received() {
        return Err(CliError::RehearsalInterrupted {
            signal,
            copy: None,
            dropped: false,
        });
    }
    if pending == 0 {
        // Nothing to run: a copy would only cost time (and, on a big database, space).
        if json {
            crate::commands::write_json(out, &Report::nothing(limit, started.elapsed()))?;
        } else if !quiet {
            writeln!(out, "No migrations to rehearse.")?;
        }
        return Ok(exit::OK);
    }
    // A signal while the copy is made stops the run once it is made, so that it
    // is dropped, not left behind.
    signals::hold();
    let (backend, copy) = database::rehearsal_copy(ctx, args.rehearse_sample).await?;
    let report = {
        // In JSON mode stdout holds the one document: the lines go to stderr.
        let mut stderr = std::io::stderr();
        let human: &mut (dyn Write + Send) = if json { &mut stderr } else { &mut *out };
        if !quiet {
            let _ = writeln!(
                human,
                "Rehearsing on a copy of {} ({}: {})",
                redact_url(&ctx.project.settings.database.url),
                copy.method,
                redact_url(&copy.name)
            );
        }
        let log: SharedLog = Arc::default();
        let error = on_copy(
            ctx,
            backend.as_ref(),
            &copy,
            &targets,
            &options,
            &log,
            human,
            quiet,
        )
        .await
        .err()
        .map(|e| e.to_string());
        let dropped = backend
            .drop_rehearsal_copy(&ctx.project.settings.database.url, &copy)
            .await
            .map_err(|e| e.to_string());
        let log = std::mem::take(&mut *lock(&log));
        let run = Run {
            error,
            interrupted: signals::received().is_some(),
        };
        let report = Report::new(log, &copy, &dropped, run, limit, started.elapsed());
        if !json {
            report.write_text(human)?;
        }
        report
    };
    if json {
        crate::commands::write_json(out, &report)?;
    }
    if let Some(signal) = signals::received() {
        return Err(CliError::RehearsalInterrupted {
            signal,
            copy: report.copy.as_ref().map(|c| c.name.clone()),
            dropped: report.copy.as_ref().is_some_and(|c| c.dropped),
        });
    }
    Ok(match report.outcome {
        Outcome::Ok => exit::OK,
        Outcome::Failed | Outcome::Interrupted => exit::CHECK_FAILED,
    })
}

/// How many steps the rehearsal would run, planned from the database's history as
/// `--plan` plans them, read-only: the database is not changed (not even a SQLite
/// file made) and no copy exists yet. The run on the copy plans again, under its lock.
async fn planned(
    ctx: &Context,
    targets: &[Target],
    options: &executor::Options,
) -> Result<usize, CliError> {
    let mut driver = database::connect_existing(ctx).await?;
    let planned = async {
        let status = executor::status(driver.as_mut(), options).await?;
        executor::plan(&ctx.graph, &status, targets, options)
    }
    .await;
    let closed = driver.close().await;
    // No connection is open while the copy is made: a signal then ends strata at
    // once, as before any connection.
    signals::forget_connection();
    let steps = planned?;
    closed?;
    Ok(steps.len())
}

/// The time limit of an operation: `--max-duration`, else `[rehearsal] max_duration`
/// (file, `[env.NAME]` or `STRATA_REHEARSAL_MAX_DURATION`), named as it was set so
/// that a failure says what to change.
fn limit(ctx: &Context, args: &MigrateArgs) -> Option<Limit> {
    if let Some(duration) = args.max_duration {
        return Some(Limit {
            duration,
            setting: None,
        });
    }
    // "0s" switches a limit set in a lower layer off (as for `statement_timeout`).
    let duration = ctx
        .project
        .settings
        .rehearsal
        .max_duration
        .filter(|d| !d.is_zero())?;
    Some(Limit {
        duration,
        setting: Some(ctx.project.origins.of("rehearsal.max_duration").to_string()),
    })
}

/// The plan, run on the copy through a [`Probe`].
#[allow(clippy::too_many_arguments)]
async fn on_copy(
    ctx: &Context,
    backend: &dyn Backend,
    copy: &RehearsalCopy,
    targets: &[Target],
    options: &executor::Options,
    log: &SharedLog,
    out: &mut (dyn Write + Send),
    quiet: bool,
) -> Result<(), CliError> {
    let driver = database::connect_copy(ctx, backend, copy).await?;
    let mut recorder = Recorder {
        ctx,
        dialect: driver.dialect(),
        version: driver.version(),
        operations: Operations { log: log.clone() },
        out,
        quiet,
    };
    let mut probe = Probe::new(driver, log.clone());
    let result = executor::migrate(&ctx.graph, &mut probe, targets, options, &mut recorder).await;
    let closed = Box::new(probe).close().await;
    result?;
    Ok(closed?)
}

/// Hears the steps (and through [`Operations`] their operations) as they start.
struct Recorder<'a> {
    ctx: &'a Context,
    dialect: Arc<dyn Dialect>,
    version: ServerVersion,
    operations: Operations,
    out: &'a mut (dyn Write + Send),
    quiet: bool,
}

/// The running operation, for the probe to charge statements to.
struct Operations {
    log: SharedLog,
}

impl Observer for Recorder<'_> {
    fn started(&mut self, step: &PlannedStep, _operations: usize, _fake: bool) {
        let operations = explained(self.ctx, self.dialect.as_ref(), self.version, step)
            .into_iter()
            .enumerate()
            .map(|(i, rendered)| {
                let mut op = OpLog::new(i + 1, rendered.description.clone());
                op.tables.clone_from(&rendered.tables);
                op.locks = locks(&rendered.locks);
                op.carried_by = rendered.carried_by;
                op
            })
            .collect();
        let mut log = lock(&self.operations.log);
        log.current = None;
        log.steps.push(StepLog {
            migration: step.key.to_string(),
            direction: step.step.into(),
            operations,
        });
        if !self.quiet {
            let _ = writeln!(self.out, "  Rehearsing {}...", step.key);
        }
    }

    fn operations(&self) -> Option<&dyn OperationObserver> {
        Some(&self.operations)
    }

    fn finished(&mut self, _step: &PlannedStep, _elapsed: Duration) {
        lock(&self.operations.log).current = None;
    }
}

impl OperationObserver for Operations {
    /// Each operation's time, locks and rows are measured between its notices.
    fn follows_operations(&self) -> bool {
        true
    }

    fn operation(&self, index: usize, _total: usize, description: &str) {
        let mut log = lock(&self.log);
        log.current = Some(index);
        if let Some(op) = log.op_mut(index) {
            if op.description.is_empty() {
                op.description = description.to_string();
            }
        }
    }

    fn backfill_progress(&self, index: usize, progress: &BackfillProgress) {
        if let Some(op) = lock(&self.log).op_mut(index) {
            op.backfill_rows = Some(progress.rows_done);
        }
    }
}

/// The step's operations as `sqlmigrate --explain` renders them: their tables and
/// the locks their statements take. Empty when the step cannot be rendered here
/// (the executor then fails on it and says why).
fn explained(
    ctx: &Context,
    dialect: &dyn Dialect,
    version: ServerVersion,
    step: &PlannedStep,
) -> Vec<RenderedOperation> {
    let (Some(migration), Ok(before)) =
        (ctx.graph.get(&step.key), ctx.graph.state_before(&step.key))
    else {
        return Vec::new();
    };
    let direction = match step.step {
        Step::Apply => Direction::Forward,
        Step::Unapply => Direction::Backward,
    };
    let mode = database::mode(ctx, migration);
    script::render_explained(
        dialect,
        version,
        &before,
        &migration.operations,
        mode,
        direction,
    )
    .map(|(script, _)| script.operations)
    .unwrap_or_default()
}

/// `ACCESS EXCLUSIVE on items`, once each, in statement order.
fn locks(notes: &[LockNote]) -> Vec<String> {
    let mut locks: Vec<String> = Vec::new();
    // A statement that takes no lock (SQLite's `PRAGMA`) adds nothing to say.
    for note in notes
        .iter()
        .filter(|n| !n.lock.eq_ignore_ascii_case("none"))
    {
        let lock = match &note.table {
            Some(table) => format!("{} on {table}", note.lock),
            None => note.lock.clone(),
        };
        if !locks.contains(&lock) {
            locks.push(lock);
        }
    }
    locks
}

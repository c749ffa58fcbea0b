//! `strata migrate [APP [NAME|zero]]`: apply or unapply, under the migration lock.
//!
//! - `plan`: `--plan` and `--check`, the operations a run would run, as text or JSON;
//! - `progress`: the lines, spinner and bar while it runs, and what each step did;
//! - `losses`: what each step of a run destroys, for its line;
//! - `backfill`: a running backfill's rows, rate and ETA, throttled, as text or JSON;
//! - `json`: the documents of `--format json` (docs/json.md);
//! - `rehearse`: `--rehearse`, the plan run on a throwaway copy (docs/rehearsal.md).

mod backfill;
pub(crate) mod json;
mod plan;
mod progress;
mod rehearse;
mod rehearse_probe;
mod rehearse_report;

use std::io::Write;
use std::time::Instant;

use strata_engine::dialect::driver::Driver;
use strata_engine::executor::{self, PlannedStep};
use strata_engine::graph::{Step, Target};
use strata_engine::lint::{Finding, Severity};

use crate::args::{Format, MigrateArgs};
use crate::commands::lint;
use crate::context::Context;
use crate::database;
use crate::error::{exit, CliError};

use progress::Printer;

pub(crate) async fn run(
    ctx: &Context,
    args: &MigrateArgs,
    quiet: bool,
    format: Format,
    out: &mut (dyn Write + Send),
) -> Result<u8, CliError> {
    if args.tenants.is_some() {
        return crate::commands::fleet::migrate(ctx, args, quiet, format, out).await;
    }
    let started = Instant::now();
    if args.plan || args.check {
        let result = plan::run(ctx, args, quiet, format, out).await;
        if let (Format::Json, Err(e)) = (format, &result) {
            crate::commands::write_json(out, &json::PlanFailed::new(e))?;
        }
        return result;
    }
    if args.rehearse {
        return rehearse::run(ctx, args, quiet, format, out).await;
    }
    let json = format == Format::Json;
    // In JSON mode stdout holds the one document: the lines a person reads go to stderr.
    let mut stderr = std::io::stderr();
    let human: &mut (dyn Write + Send) = if json { &mut stderr } else { &mut *out };
    let mut printer = Printer::new(human, &ctx.graph, quiet, !json, args.single_transaction);
    let result = migrate(ctx, args, quiet, &mut printer).await;
    let steps = printer.finish(result.as_ref().err());
    if json {
        crate::commands::write_json(
            out,
            &json::RunReport::new(&steps, started, result.as_ref().err()),
        )?;
    }
    result
}

/// A run: lock, plan, lint (the gate), steps; what the printer heard is what it did.
async fn migrate<'a>(
    ctx: &'a Context,
    args: &'a MigrateArgs,
    quiet: bool,
    printer: &mut Printer<'a>,
) -> Result<u8, CliError> {
    let targets = targets(ctx, args)?;
    let options = options(ctx, args);
    let mut driver = database::connect(ctx).await?;
    printer.gate(Gate {
        ctx,
        args,
        targets: targets.clone(),
    });
    let result = executor::migrate(&ctx.graph, driver.as_mut(), &targets, &options, printer).await;
    let closed = driver.close().await;
    let steps = result?;
    closed?;
    if steps.is_empty() && !quiet {
        printer.line("  No migrations to apply.");
    }
    Ok(exit::OK)
}

/// The targets of the command line, checked against the migrations they reach before
/// anything connects: a broken file is bad input, found with the database untouched
/// (not even a SQLite file made).
pub(crate) fn targets(ctx: &Context, args: &MigrateArgs) -> Result<Vec<Target>, CliError> {
    let targets = match &args.app {
        Some(app) => vec![ctx.graph.target(app, args.name.as_deref())?],
        None => ctx.graph.latest_targets(),
    };
    let reached = ctx.graph.target_state(&targets)?;
    let history_table = &ctx.project.settings.database.history_table;
    if reached.tables.contains_key(history_table) {
        return Err(ctx
            .project
            .setting_error(
                "database.history_table",
                format!(
                    "`{history_table}` is also a table the migrations create; choose another name for strata's history table"
                ),
            )
            .into());
    }
    Ok(targets)
}

pub(crate) fn options(ctx: &Context, args: &MigrateArgs) -> executor::Options {
    let mut options = database::options(ctx);
    options.fake = args.fake;
    options.fake_initial = args.fake_initial;
    options.accept_edited = args.accept_edited;
    options.single_transaction = args.single_transaction;
    options
}

/// What `migrate` checks under the lock, on the history the plan was made from,
/// before anything runs: the plan's lint against the live tables (not for a fake run,
/// which changes no table). Error-level findings stop the run.
pub(super) struct Gate<'a> {
    pub(super) ctx: &'a Context,
    pub(super) args: &'a MigrateArgs,
    pub(super) targets: Vec<Target>,
}

impl Gate<'_> {
    pub(super) async fn check(
        &self,
        driver: &mut dyn Driver,
        status: &executor::Status,
        plan: &[PlannedStep],
    ) -> Result<(), CliError> {
        if self.args.fake {
            return Ok(());
        }
        refuse_plan_lint_errors(self.ctx, driver, status, plan, self.args).await
    }
}

/// Stops before anything runs when the lint of `plan`, made from `status` (the
/// history just read), has error-level findings, unless `--ignore-lint-errors` (then
/// they are logged as warnings).
pub(crate) async fn refuse_plan_lint_errors(
    ctx: &Context,
    driver: &mut dyn Driver,
    status: &executor::Status,
    plan: &[PlannedStep],
    args: &MigrateArgs,
) -> Result<(), CliError> {
    let findings = lint_plan(ctx, driver, status, plan).await?;
    let errors: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("  {}", lint::headline(&ctx.graph, f)))
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    if !args.ignore_lint_errors {
        return Err(CliError::LintFailed {
            count: errors.len(),
            findings: errors.join("\n"),
        });
    }
    tracing::warn!(
        "running despite {} error-level lint finding(s) (--ignore-lint-errors):\n{}",
        errors.len(),
        errors.join("\n")
    );
    Ok(())
}

/// The lint findings of the plan's forward steps, against the live database whose
/// history is `status`.
async fn lint_plan(
    ctx: &Context,
    driver: &mut dyn Driver,
    status: &executor::Status,
    plan: &[PlannedStep],
) -> Result<Vec<Finding>, CliError> {
    strata_engine::lint::check_settings_rules(&ctx.project)?;
    let keys: Vec<_> = plan
        .iter()
        .filter(|s| s.step == Step::Apply)
        .map(|s| s.key.clone())
        .collect();
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    // The plan names the migrations this database uses (squashed ones: see
    // `executor::squashed`), and each is linted against the schema they leave.
    let (graph, _) = executor::squashed::in_use(&ctx.graph, status)?;
    let rows = lint::row_counts(ctx, &graph, driver, &keys).await?;
    let dialect = driver.dialect();
    lint::lint_keys(
        ctx,
        &graph,
        &keys,
        dialect.as_ref(),
        driver.version(),
        Some(&rows),
    )
}

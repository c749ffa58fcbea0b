//! `strata migrate [APP [NAME|zero]]`: apply or unapply, under the migration lock.

use std::io::Write;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use strata_engine::data_loss::DataLoss;
use strata_engine::dialect::driver::Driver;
use strata_engine::executor::{self, Observer, PlannedStep};
use strata_engine::graph::{Graph, Step, Target};
use strata_engine::lint::{Finding, Severity};

use crate::args::MigrateArgs;
use crate::commands::lint;
use crate::context::Context;
use crate::database;
use crate::error::{exit, CliError};

pub(crate) async fn run(
    ctx: &Context,
    args: &MigrateArgs,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<u8, CliError> {
    let targets = match &args.app {
        Some(app) => vec![ctx.graph.target(app, args.name.as_deref())?],
        None => ctx.graph.latest_targets(),
    };
    let mut options = database::options(ctx);
    options.fake = args.fake;
    options.fake_initial = args.fake_initial;
    options.accept_edited = args.accept_edited;
    // The migrations the targets reach replay from an empty schema before anything
    // connects: a broken file is bad input, found with the database untouched (not even
    // a SQLite file made).
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
    // --plan and --check only read: a wrong SQLite path is reported, not created.
    let mut driver = if args.plan || args.check {
        database::connect_existing(ctx).await?
    } else {
        database::connect(ctx).await?
    };

    if args.plan || args.check {
        let status = executor::status(driver.as_mut(), &options).await?;
        let plan = executor::plan(&ctx.graph, &status, &targets, &options)?;
        // What `migrate` checks before its first statement: every step renders.
        let dialect = driver.dialect();
        executor::validate(
            &ctx.graph,
            &status,
            &plan,
            &options,
            &*dialect,
            driver.version(),
        )?;
        let findings = if args.plan && !args.fake {
            lint_plan(ctx, driver.as_mut(), &plan).await?
        } else {
            Vec::new()
        };
        driver.close().await?;
        if args.check {
            if !plan.is_empty() && !quiet {
                writeln!(out, "{} migration(s) to run:", plan.len())?;
                write_plan(ctx, &plan, &[], out)?;
            }
            return Ok(if plan.is_empty() {
                exit::OK
            } else {
                exit::CHECK_FAILED
            });
        }
        if plan.is_empty() {
            writeln!(out, "No planned migration operations.")?;
        } else {
            writeln!(out, "Planned operations:")?;
            write_plan(ctx, &plan, &findings, out)?;
        }
        return Ok(exit::OK);
    }

    // What the planned migrations would do to the live tables: error-level findings
    // stop the run before anything is locked or changed. A fake run changes no table.
    if !args.fake {
        if let Err(e) = refuse_lint_errors(ctx, driver.as_mut(), &targets, &options, args).await {
            let _ = driver.close().await;
            return Err(e);
        }
    }
    if !quiet {
        describe_targets(&targets, out)?;
    }
    let mut observer = Printer::new(out, &ctx.graph, quiet);
    let result = executor::migrate(
        &ctx.graph,
        driver.as_mut(),
        &targets,
        &options,
        &mut observer,
    )
    .await;
    observer.done();
    let closed = driver.close().await;
    let steps = result?;
    closed?;
    if steps.is_empty() && !quiet {
        writeln!(out, "  No migrations to apply.")?;
    }
    Ok(exit::OK)
}

fn describe_targets(targets: &[Target], out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "Operations to perform:")?;
    match targets {
        [Target::Latest(app)] => writeln!(out, "  Apply all migrations: {app}")?,
        [Target::Migration(key)] => writeln!(
            out,
            "  Target specific migration: {}, from {}",
            key.name, key.app
        )?,
        [Target::Zero(app)] => writeln!(out, "  Unapply all migrations: {app}")?,
        all => {
            let apps: Vec<_> = all
                .iter()
                .filter_map(|t| match t {
                    Target::Latest(app) => Some(app.as_str()),
                    _ => None,
                })
                .collect();
            writeln!(out, "  Apply all migrations: {}", apps.join(", "))?;
        }
    }
    writeln!(out, "Running migrations:")
}

/// Stops before anything runs when the plan's lint has error-level findings, unless
/// `--ignore-lint-errors` (then they are logged as warnings).
async fn refuse_lint_errors(
    ctx: &Context,
    driver: &mut dyn Driver,
    targets: &[Target],
    options: &executor::Options,
    args: &MigrateArgs,
) -> Result<(), CliError> {
    let status = executor::status(driver, options).await?;
    let plan = executor::plan(&ctx.graph, &status, targets, options)?;
    let findings = lint_plan(ctx, driver, &plan).await?;
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

/// The lint findings of the plan's forward steps, against the live database.
async fn lint_plan(
    ctx: &Context,
    driver: &mut dyn Driver,
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
    let rows = lint::row_counts(ctx, &ctx.graph, driver, &keys).await?;
    let dialect = driver.dialect();
    lint::lint_keys(
        ctx,
        &ctx.graph,
        &keys,
        dialect.as_ref(),
        driver.version(),
        Some(&rows),
    )
}

fn write_plan(
    ctx: &Context,
    plan: &[PlannedStep],
    findings: &[Finding],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for step in plan {
        let m = ctx.graph.get(&step.key).expect("planned keys exist");
        let verb = match step.step {
            Step::Apply => "Apply",
            Step::Unapply => "Unapply",
        };
        let resume = if step.done > 0 {
            format!(" (resuming after operation {})", step.done)
        } else {
            String::new()
        };
        writeln!(out, "  {verb} {}{resume}", step.key)?;
        let key = step.key.to_string();
        let lint_at = |operation: usize, indent: &str, out: &mut dyn Write| {
            for f in findings
                .iter()
                .filter(|f| f.migration == key && f.operation == operation)
            {
                writeln!(
                    out,
                    "{indent}lint {}[{}]: {}",
                    f.severity, f.rule, f.message
                )?;
            }
            Ok::<(), std::io::Error>(())
        };
        lint_at(0, "    ", out)?;
        let losses = step_losses(&ctx.graph, step);
        for (i, op) in m.operations.iter().enumerate().skip(step.done) {
            writeln!(out, "    {op}")?;
            lint_at(i + 1, "      ", out)?;
            for (_, loss) in losses.iter().filter(|(at, _)| *at == i) {
                let undoing = match step.step {
                    Step::Apply => "",
                    Step::Unapply => "unapplying it ",
                };
                writeln!(out, "      ! {undoing}{loss}")?;
            }
        }
    }
    Ok(())
}

/// The operations of `step` that destroy data (by index in the migration): applied,
/// those that drop or narrow; unapplied, those whose undoing does (a `create_table`,
/// an `add_column`). From the schema the migration's dependencies build.
fn step_losses(graph: &Graph, step: &PlannedStep) -> Vec<(usize, DataLoss)> {
    let (Some(m), Ok(mut state)) = (graph.get(&step.key), graph.state_before(&step.key)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, op) in m.operations.iter().enumerate() {
        let loss = match step.step {
            Step::Apply => op.destroys_data(&state),
            Step::Unapply => op.undo_destroys_data(&state),
        };
        out.extend(loss.map(|l| (i, l)));
        if state.apply(op).is_err() {
            break;
        }
    }
    out
}

/// Django-style lines, plus a progress bar on a terminal for long runs.
struct Printer<'a> {
    out: &'a mut dyn Write,
    graph: &'a Graph,
    quiet: bool,
    bar: Option<ProgressBar>,
    /// "Applying x..." is printed and waits for its " OK".
    open_line: bool,
}

impl<'a> Printer<'a> {
    fn new(out: &'a mut dyn Write, graph: &'a Graph, quiet: bool) -> Self {
        Self {
            out,
            graph,
            quiet,
            bar: None,
            open_line: false,
        }
    }

    /// Ends the output; a line still open means its migration failed.
    fn done(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.open_line {
            let _ = writeln!(self.out, " FAILED");
            self.open_line = false;
        }
    }

    fn line(&mut self, text: &str) {
        if self.quiet {
            return;
        }
        match &self.bar {
            Some(bar) => bar.println(text),
            None => {
                let _ = writeln!(self.out, "{text}");
            }
        }
    }
}

// The progress bar appears only for long runs, on a terminal.
const BAR_THRESHOLD: usize = 20;

impl Observer for Printer<'_> {
    fn waiting_for_lock(&mut self, holder: Option<&str>) {
        let holder = holder.map(|h| format!(" held by {h}")).unwrap_or_default();
        self.line(&format!("  Waiting for the migration lock{holder}..."));
    }

    fn planned(&mut self, plan: &[PlannedStep]) {
        let target = ProgressDrawTarget::stderr();
        if !self.quiet && plan.len() >= BAR_THRESHOLD && !target.is_hidden() {
            let bar = ProgressBar::with_draw_target(Some(plan.len() as u64), target);
            bar.set_style(
                ProgressStyle::with_template("  {bar:40} {pos}/{len} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            self.bar = Some(bar);
        }
    }

    fn started(&mut self, step: &PlannedStep, _operations: usize, fake: bool) {
        if let Some(bar) = &self.bar {
            bar.set_message(step.key.to_string());
        }
        let verb = match (step.step, step.done > 0) {
            (Step::Apply, true) => "Resuming",
            (Step::Apply, false) => "Applying",
            (Step::Unapply, _) => "Unapplying",
        };
        let fake = if fake { " (fake)" } else { "" };
        // What the step destroys, said before it runs ("drops data").
        let losses: Vec<String> = if fake.is_empty() {
            step_losses(self.graph, step)
                .into_iter()
                .filter(|(i, _)| step.step == Step::Unapply || *i >= step.done)
                .map(|(_, loss)| loss.to_string())
                .collect()
        } else {
            Vec::new()
        };
        let losses = if losses.is_empty() {
            String::new()
        } else {
            format!(" ({})", losses.join("; "))
        };
        if let Some(bar) = self.bar.as_ref().filter(|_| !losses.is_empty()) {
            bar.println(format!("  {verb} {}{losses}", step.key));
        }
        if self.bar.is_none() && !self.quiet {
            let _ = write!(self.out, "  {verb} {}{fake}{losses}...", step.key);
            let _ = self.out.flush();
            self.open_line = true;
        }
    }

    fn finished(&mut self, step: &PlannedStep, elapsed: Duration) {
        match &self.bar {
            Some(bar) => bar.inc(1),
            None if !self.quiet => {
                let _ = writeln!(self.out, " OK ({} ms)", elapsed.as_millis());
                self.open_line = false;
            }
            None => {}
        }
        let _ = step;
    }
}

//! `migrate --plan` and `--check`: what a run would run, read-only. Each step lists
//! the operations in the order they run — for a rollback the inverses the executor
//! renders (`executor::preview`), of a partial migration only its completed ones —
//! with the data each destroys and, for `--plan`, the lint findings.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;

use strata_engine::data_loss::DataLoss;
use strata_engine::executor::{self, PlannedStep, StepPreview};
use strata_engine::graph::{Graph, Step};
use strata_engine::lint::Finding;
use strata_engine::migration::{Migration, MigrationKey};
use strata_engine::state::SchemaState;

use super::{json, lint_plan, options, targets};
use crate::args::{Format, MigrateArgs};
use crate::context::Context;
use crate::database;
use crate::error::{exit, CliError};

pub(super) async fn run(
    ctx: &Context,
    args: &MigrateArgs,
    quiet: bool,
    format: Format,
    out: &mut dyn Write,
) -> Result<u8, CliError> {
    let targets = targets(ctx, args)?;
    let options = options(ctx, args);
    // Read-only: a wrong SQLite path is reported, not created.
    let mut driver = database::connect_existing(ctx).await?;
    let status = executor::status(driver.as_mut(), &options).await?;
    // The migrations this database uses, squashed ones chosen by its history.
    let (graph, status) = executor::squashed::in_use(&ctx.graph, &status)?;
    let plan = executor::plan(&graph, &status, &targets, &options)?;
    // Checked as `migrate` checks it before its first statement: every step renders.
    let dialect = driver.dialect();
    let steps = executor::preview(
        &graph,
        &status,
        &plan,
        &options,
        &*dialect,
        driver.version(),
    )?;
    let findings = if args.plan && !args.fake {
        lint_plan(ctx, driver.as_mut(), &status, &plan).await?
    } else {
        Vec::new()
    };
    driver.close().await?;
    let code = if args.check && !steps.is_empty() {
        exit::CHECK_FAILED
    } else {
        exit::OK
    };
    if format == Format::Json {
        let plan = json::Plan::new(&graph, &steps, &findings, args.single_transaction);
        crate::commands::write_json(out, &plan)?;
        return Ok(code);
    }
    if args.check {
        if !steps.is_empty() && !quiet {
            writeln!(out, "{} migration(s) to run:", steps.len())?;
            write_plan(&graph, &steps, &findings, out)?;
        }
    } else if steps.is_empty() {
        writeln!(out, "No planned migration operations.")?;
    } else {
        writeln!(out, "Planned operations:")?;
        write_plan(&graph, &steps, &findings, out)?;
    }
    if args.single_transaction && !steps.is_empty() && !(args.check && quiet) {
        writeln!(out, "{}", one_transaction(steps.len()))?;
    }
    Ok(code)
}

/// `--single-transaction`: how the plan's steps commit.
fn one_transaction(steps: usize) -> String {
    let all = match steps {
        1 => "The step runs".to_string(),
        n => format!("All {n} steps run"),
    };
    format!("{all} in one transaction (--single-transaction): committed together at the end, or not at all.")
}

fn write_plan(
    graph: &Graph,
    steps: &[StepPreview],
    findings: &[Finding],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let losses = Losses::of_plan(graph, steps.iter().map(|p| &p.step));
    for preview in steps {
        let step = &preview.step;
        let verb = match step.step {
            Step::Apply => "Apply",
            Step::Unapply => "Unapply",
        };
        writeln!(out, "  {verb} {}{}", step.key, step_note(graph, preview))?;
        let lint_at = |operation: usize, indent: &str, out: &mut dyn Write| {
            for f in step_findings(findings, step, operation) {
                writeln!(
                    out,
                    "{indent}lint {}[{}]: {}",
                    f.severity, f.rule, f.message
                )?;
            }
            Ok::<(), std::io::Error>(())
        };
        lint_at(0, "    ", out)?;
        let losses = losses.of(step);
        let undoing = match step.step {
            Step::Apply => "",
            Step::Unapply => "unapplying it ",
        };
        for op in &preview.operations {
            writeln!(out, "    {}", op.description)?;
            lint_at(op.index, "      ", out)?;
            if let Some(loss) = loss_at(losses, op.index) {
                writeln!(out, "      ! {undoing}{loss}")?;
            }
        }
    }
    Ok(())
}

/// What the step's line adds: how far a partial migration got, or that it is faked.
/// A rollback's `done` is not set: what it undoes is the operations it lists.
fn step_note(graph: &Graph, preview: &StepPreview) -> String {
    let step = &preview.step;
    if preview.fake {
        return " (fake: recorded, nothing runs)".into();
    }
    let total = graph.get(&step.key).map_or(0, |m| m.operations.len());
    let undone = preview.operations.len();
    match step.step {
        Step::Apply if step.done > 0 => format!(" (resuming after operation {})", step.done),
        Step::Unapply if undone < total => {
            format!(" (partially applied: undoing its {undone} completed operation(s))")
        }
        _ => String::new(),
    }
}

/// The lint findings of `step`'s operation `operation` (0: the migration as a whole);
/// lint judges forward steps only.
pub(super) fn step_findings<'f>(
    findings: &'f [Finding],
    step: &PlannedStep,
    operation: usize,
) -> impl Iterator<Item = &'f Finding> {
    let key = step.key.to_string();
    let forward = step.step == Step::Apply;
    findings
        .iter()
        .filter(move |f| forward && f.migration == key && f.operation == operation)
}

/// The data lost by the operation numbered `index` (from 1) of the migration.
pub(super) fn loss_at(losses: &[(usize, DataLoss)], index: usize) -> Option<&DataLoss> {
    losses
        .iter()
        .find(|(at, _)| *at + 1 == index)
        .map(|(_, loss)| loss)
}

/// What each step of a plan destroys: the operations (by index in the migration)
/// that, applied, drop or narrow, or whose undoing, unapplied, does (a `create_table`,
/// an `add_column`). From the schema each migration's dependencies build, in one pass
/// over the history.
#[derive(Default)]
pub(super) struct Losses(HashMap<(Step, MigrationKey), Vec<(usize, DataLoss)>>);

impl Losses {
    pub(super) fn of_plan<'s>(
        graph: &Graph,
        steps: impl IntoIterator<Item = &'s PlannedStep>,
    ) -> Self {
        let mut wanted: HashMap<MigrationKey, Vec<Step>> = HashMap::new();
        for step in steps {
            wanted.entry(step.key.clone()).or_default().push(step.step);
        }
        let keys: BTreeSet<MigrationKey> = wanted.keys().cloned().collect();
        let mut losses = HashMap::new();
        // A history that does not replay loses nothing here: the run reports it.
        let _ = graph.each_state_before(&keys, |m, before| {
            for step in &wanted[&m.key] {
                losses.insert(
                    (*step, m.key.clone()),
                    of_migration(m, before.clone(), *step),
                );
            }
        });
        Self(losses)
    }

    pub(super) fn of(&self, step: &PlannedStep) -> &[(usize, DataLoss)] {
        self.0
            .get(&(step.step, step.key.clone()))
            .map_or(&[], Vec::as_slice)
    }
}

fn of_migration(m: &Migration, mut state: SchemaState, step: Step) -> Vec<(usize, DataLoss)> {
    let mut out = Vec::new();
    for (i, op) in m.operations.iter().enumerate() {
        let applied = match step {
            Step::Apply => {
                out.extend(op.destroys_data(&state).map(|l| (i, l)));
                state.apply(op)
            }
            Step::Unapply => op
                .apply_noting_undo_loss(&mut state)
                .map(|loss| out.extend(loss.map(|l| (i, l)))),
        };
        if applied.is_err() {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_engine::project::{Overrides, Project};

    const MIGRATIONS: &[(&str, &str)] = &[
        (
            "0001_initial",
            r#"[[operations]]
kind = "create_table"
name = "t"
primary_key = ["id"]
columns = [{ name = "id", type = "int" }, { name = "a", type = "varchar(50)" }]
"#,
        ),
        (
            "0002_change",
            r#"dependencies = ["app.0001_initial"]

[[operations]]
kind = "add_column"
table = "t"
column = { name = "c", type = "int", null = true }

[[operations]]
kind = "alter_column"
table = "t"
column = "a"
type = "varchar(10)"
"#,
        ),
        (
            "0003_drop",
            r#"dependencies = ["app.0002_change"]

[[operations]]
kind = "alter_column"
table = "t"
column = "a"
type = "text"

[[operations]]
kind = "drop_column"
table = "t"
column = "c"
"#,
        ),
    ];

    /// The one walk finds, for every step in either direction, what a replay of the
    /// migrations before each step finds.
    #[test]
    fn the_walk_agrees_with_a_replay_per_step() {
        let dir = tempfile::tempdir().unwrap();
        let migrations = dir.path().join("apps/app/migrations");
        std::fs::create_dir_all(&migrations).unwrap();
        std::fs::write(
            dir.path().join("strata.toml"),
            "[project]\napps = [\"app\"]\n",
        )
        .unwrap();
        for (name, text) in MIGRATIONS {
            std::fs::write(migrations.join(format!("{name}.toml")), text).unwrap();
        }
        let project = Project::load(dir.path(), &Overrides::default()).unwrap();
        let graph = Graph::from_project(&project).unwrap();
        for step in [Step::Apply, Step::Unapply] {
            let plan: Vec<PlannedStep> = graph
                .ordered()
                .map(|m| PlannedStep {
                    step,
                    key: m.key.clone(),
                    done: 0,
                    done_statements: 0,
                })
                .collect();
            let losses = Losses::of_plan(&graph, &plan);
            assert_eq!(losses.0.len(), plan.len());
            for s in &plan {
                let m = graph.get(&s.key).unwrap();
                let replayed = of_migration(m, graph.state_before(&s.key).unwrap(), s.step);
                assert_eq!(losses.of(s), replayed.as_slice());
            }
            // Each direction has some: a narrowing and a drop forward, a drop of the
            // table and of the added column backward.
            assert!(
                plan.iter().filter(|s| !losses.of(s).is_empty()).count() >= 2,
                "{step:?}"
            );
        }
    }
}

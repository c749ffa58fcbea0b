//! What each step of a run destroys, for the lines `migrate` prints as it goes: worked
//! out for the whole plan in one walk of the history when the plan is known, instead
//! of a replay of everything before each step as it starts (a per-step cost that grew
//! with the length of the history).

use std::collections::BTreeMap;

use strata_engine::data_loss::DataLoss;
use strata_engine::executor::PlannedStep;
use strata_engine::graph::{Graph, Step};
use strata_engine::migration::MigrationKey;
use strata_engine::SchemaState;

/// By migration of `plan`: its operations (0-based, in file order) that destroy data
/// in the step's direction, each judged against the schema of the migrations before it
/// in the graph's order (the schema the run applies it to, or unapplies it from).
pub(super) fn of_plan(
    graph: &Graph,
    plan: &[PlannedStep],
) -> BTreeMap<MigrationKey, Vec<(usize, DataLoss)>> {
    let mut wanted: BTreeMap<&MigrationKey, Step> = plan.iter().map(|s| (&s.key, s.step)).collect();
    let mut losses = BTreeMap::new();
    let mut state = SchemaState::new();
    for m in graph.ordered() {
        if wanted.is_empty() {
            break;
        }
        let mut found = Vec::new();
        let mut broken = false;
        let step = wanted.remove(&m.key);
        for (i, op) in m.operations.iter().enumerate() {
            let applied = match step {
                Some(Step::Apply) => {
                    found.extend(op.destroys_data(&state).map(|l| (i, l)));
                    state.apply(op)
                }
                Some(Step::Unapply) => op
                    .apply_noting_undo_loss(&mut state)
                    .map(|loss| found.extend(loss.map(|l| (i, l)))),
                None => state.apply(op),
            };
            if applied.is_err() {
                broken = true;
                break;
            }
        }
        if step.is_some() {
            losses.insert(m.key.clone(), found);
        }
        if broken {
            // The schema of every later migration is unknown: nothing is said of them.
            break;
        }
    }
    losses
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
    /// migrations before it finds (`plan::step_losses`, which `--plan` shows).
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
            let losses = of_plan(&graph, &plan);
            assert_eq!(losses.len(), plan.len());
            for s in &plan {
                assert_eq!(losses[&s.key], super::super::plan::step_losses(&graph, s));
            }
            // Each direction has some: a narrowing and a drop forward, a drop of the
            // table and of the added column backward.
            assert!(
                losses.values().filter(|l| !l.is_empty()).count() >= 2,
                "{losses:?}"
            );
        }
    }
}

//! The dependency graph across apps: validation (missing dependencies, cycles, two
//! leaves in one app), target resolution and deterministic plans. Pure functions over
//! data — no database here.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

mod nodes;
mod replacements;

use nodes::{Mask, Nodes};

use crate::cache::{self, Cache};
pub use crate::migration::StateAtError;
use crate::migration::{Migration, MigrationKey};
use crate::project::Project;
use crate::state::SchemaState;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    #[error("{path}: dependency `{dependency}` of {migration} does not exist")]
    MissingDependency {
        migration: MigrationKey,
        path: PathBuf,
        dependency: MigrationKey,
    },
    #[error("dependency cycle: {}", .cycle.iter().map(ToString::to_string).collect::<Vec<_>>().join(" -> "))]
    Cycle { cycle: Vec<MigrationKey> },
    #[error(
        "conflicting migrations in app `{app}`: {} are both leaves; run `strata makemigrations --merge`",
        .paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" and ")
    )]
    Conflict { app: String, paths: Vec<PathBuf> },
    #[error("unknown app `{app}` (apps: {known})")]
    UnknownApp { app: String, known: String },
    #[error("app `{app}` has no migration `{name}`{}", suggestion(.candidates))]
    UnknownMigration {
        app: String,
        name: String,
        candidates: Vec<String>,
    },
    #[error(
        "{path}: this database applied only some of the migrations {squash} replaces, and the file of {missing}, one of them, is gone: restore it, finish the replaced migrations (strata migrate), then delete it again (docs/squashing.md)",
        path = .path.display()
    )]
    ReplacedMissing {
        squash: MigrationKey,
        path: PathBuf,
        missing: MigrationKey,
    },
    #[error("{key} is not in use on this database: {}", not_in_use(.stand_ins))]
    NotInUse {
        key: MigrationKey,
        /// What stands for it: the squash replacing it, or the last migrations a
        /// squash not in use replaces.
        stand_ins: Vec<MigrationKey>,
    },
    #[error("`{prefix}` matches several migrations of app `{app}`: {}", .matches.join(", "))]
    Ambiguous {
        app: String,
        prefix: String,
        matches: Vec<String>,
    },
}

fn not_in_use(stand_ins: &[MigrationKey]) -> String {
    let names: Vec<String> = stand_ins.iter().map(ToString::to_string).collect();
    format!(
        "{} runs in its place (squashed migrations: docs/squashing.md); name that instead",
        names.join(", ")
    )
}

fn suggestion(candidates: &[String]) -> String {
    if candidates.is_empty() {
        String::new()
    } else {
        format!(" (it has: {})", candidates.join(", "))
    }
}

/// Where `migrate` should take an app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every migration of the app applied (its leaf).
    Latest(String),
    /// Exactly this migration applied, nothing after it in its app.
    Migration(MigrationKey),
    /// None of the app's migrations applied.
    Zero(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    Apply,
    Unapply,
}

/// A validated graph over a project's migrations.
#[derive(Debug, Clone)]
pub struct Graph {
    /// The migrations in use: a squashed migration or those it replaces, never both
    /// (see [`Graph::for_history`]); their dependencies point at migrations in use.
    ///
    /// Shared (`Arc`): [`Graph::for_history`] and clones of the graph copy pointers,
    /// not the operations of thousands of migrations.
    migrations: Nodes,
    /// Migrations on disk that are not in use, as loaded.
    hidden: BTreeMap<MigrationKey, Arc<Migration>>,
    /// What stands for each hidden migration.
    stand_ins: BTreeMap<MigrationKey, Vec<MigrationKey>>,
    /// Every migration as loaded, to choose again for a database's history.
    all: Vec<Arc<Migration>>,
    apps: Vec<String>,
    /// Where replayed states are kept between runs (the project's cache).
    cache: Option<Cache>,
}

impl Graph {
    pub fn from_project(project: &Project) -> Result<Self, GraphError> {
        Self::from_project_with_conflicts(project)?.without_conflicts()
    }

    /// [`Graph::from_project`] accepting an app with several leaves, like
    /// [`Graph::new_with_conflicts`]. Shares the project's migrations, not copies.
    pub fn from_project_with_conflicts(project: &Project) -> Result<Self, GraphError> {
        let graph = Self::build(
            project.apps.iter().map(|a| a.name.clone()).collect(),
            project
                .apps
                .iter()
                .flat_map(|a| a.migrations.iter().cloned())
                .collect(),
            &BTreeSet::new(),
            &BTreeSet::new(),
        )?;
        Ok(Self {
            cache: project.cache.clone(),
            ..graph
        })
    }

    /// Builds and validates the graph of `migrations` belonging to `apps`, for a
    /// fresh database: every squashed migration in use (see [`Graph::for_history`]).
    pub fn new(apps: Vec<String>, migrations: Vec<Migration>) -> Result<Self, GraphError> {
        let graph = Self::new_with_conflicts(apps, migrations)?;
        graph.without_conflicts()
    }

    /// The graph for a database that applied `applied` and has a row (applied or
    /// partial) for every key of `recorded`, as Django's loader builds it: a squashed
    /// migration is in use unless the database is part-way through the migrations it
    /// replaces, and then those run instead; dependencies on the hidden ones are
    /// rewritten to what stands for them.
    pub fn for_history(
        &self,
        applied: &BTreeSet<MigrationKey>,
        recorded: &BTreeSet<MigrationKey>,
    ) -> Result<Cow<'_, Self>, GraphError> {
        if !self.has_squashes() {
            // No squash: nothing to choose, the graph is this one (rebuilding or even
            // copying it costs more than all else a read-only command does with it).
            self.check_conflicts()?;
            return Ok(Cow::Borrowed(self));
        }
        let graph = Self::build(self.apps.clone(), self.all.clone(), applied, recorded)?;
        let graph = Self {
            cache: self.cache.clone(),
            ..graph
        };
        graph.check_conflicts()?;
        Ok(Cow::Owned(graph))
    }

    /// Whether any migration on disk is a squash (replaces others).
    pub fn has_squashes(&self) -> bool {
        self.all.iter().any(|m| !m.replaces.is_empty())
    }

    fn without_conflicts(self) -> Result<Self, GraphError> {
        self.check_conflicts()?;
        Ok(self)
    }

    fn check_conflicts(&self) -> Result<(), GraphError> {
        if let Some((app, leaves)) = self.conflicts().into_iter().next() {
            return Err(GraphError::Conflict {
                paths: leaves
                    .iter()
                    .filter_map(|k| self.get(k))
                    .map(|m| m.path.clone())
                    .collect(),
                app,
            });
        }
        Ok(())
    }

    /// Like `new`, but an app with several leaves is accepted (see `conflicts`):
    /// what `makemigrations --merge` needs to see.
    pub fn new_with_conflicts(
        apps: Vec<String>,
        migrations: Vec<Migration>,
    ) -> Result<Self, GraphError> {
        let all = migrations.into_iter().map(Arc::new).collect();
        Self::build(apps, all, &BTreeSet::new(), &BTreeSet::new())
    }

    fn build(
        apps: Vec<String>,
        all: Vec<Arc<Migration>>,
        applied: &BTreeSet<MigrationKey>,
        recorded: &BTreeSet<MigrationKey>,
    ) -> Result<Self, GraphError> {
        let choice = replacements::choose(all.clone(), applied, recorded)?;
        Ok(Self {
            migrations: Nodes::build(choice.in_use)?,
            hidden: choice.hidden,
            stand_ins: choice.stand_ins,
            all,
            apps,
            cache: None,
        })
    }

    /// Apps with more than one leaf, with their leaves.
    pub fn conflicts(&self) -> Vec<(String, Vec<MigrationKey>)> {
        self.apps
            .iter()
            .map(|app| (app.clone(), self.leaves(app)))
            .filter(|(_, leaves)| leaves.len() > 1)
            .collect()
    }

    /// The migration `key`, in use or not (see [`Graph::in_use`]).
    pub fn get(&self, key: &MigrationKey) -> Option<&Migration> {
        self.migrations
            .get(key)
            .or_else(|| self.hidden.get(key))
            .map(AsRef::as_ref)
    }

    /// Whether `key` is in use: not a replaced migration whose squash runs instead,
    /// nor a squash whose replaced migrations run instead.
    pub fn in_use(&self, key: &MigrationKey) -> bool {
        self.migrations.position(key).is_some()
    }

    /// What stands for `key` when it is not in use.
    pub fn stand_ins(&self, key: &MigrationKey) -> Option<&[MigrationKey]> {
        self.stand_ins.get(key).map(Vec::as_slice)
    }

    /// Migrations on disk that are not in use, by key.
    pub fn hidden(&self) -> impl Iterator<Item = &Migration> {
        self.hidden.values().map(AsRef::as_ref)
    }

    pub fn apps(&self) -> &[String] {
        &self.apps
    }

    /// Every migration in the graph's one deterministic topological order.
    pub fn ordered(&self) -> impl Iterator<Item = &Migration> {
        self.migrations.list.iter().map(AsRef::as_ref)
    }

    /// Migrations of `app` in topological order.
    pub fn app_migrations<'a>(&'a self, app: &'a str) -> impl Iterator<Item = &'a Migration> {
        self.ordered().filter(move |m| m.key.app == app)
    }

    /// Migrations of `app` that no other migration of the same app depends on.
    pub fn leaves(&self, app: &str) -> Vec<MigrationKey> {
        self.leaf_positions(app)
            .map(|at| self.migrations.list[at].key.clone())
            .collect()
    }

    /// [`Graph::leaves`], as positions, in key order.
    fn leaf_positions<'a>(&'a self, app: &'a str) -> impl Iterator<Item = usize> + 'a {
        let nodes = &self.migrations;
        nodes
            .by_key
            .iter()
            .copied()
            .filter(move |&at| nodes.list[at].key.app == app)
            .filter(move |&at| {
                nodes.children[at]
                    .iter()
                    .all(|&child| nodes.list[child].key.app != app)
            })
    }

    fn require_app(&self, app: &str) -> Result<(), GraphError> {
        if self.apps.iter().any(|a| a == app) {
            Ok(())
        } else {
            Err(GraphError::UnknownApp {
                app: app.to_string(),
                known: self.apps.join(", "),
            })
        }
    }

    /// Resolves a migration of `app` by full name or unique prefix (`0001`).
    pub fn resolve(&self, app: &str, name: &str) -> Result<MigrationKey, GraphError> {
        self.require_app(app)?;
        let nodes = &self.migrations;
        let names: Vec<&str> = nodes
            .by_key
            .iter()
            .map(|&at| &nodes.list[at].key)
            .filter(|k| k.app == app)
            .map(|k| k.name.as_str())
            .collect();
        if names.contains(&name) {
            return Ok(MigrationKey::new(app, name));
        }
        let matches: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| n.starts_with(name))
            .collect();
        if matches.is_empty() {
            if let Some(key) = self.hidden_match(app, name) {
                return Err(GraphError::NotInUse {
                    stand_ins: self.stand_ins.get(&key).cloned().unwrap_or_default(),
                    key,
                });
            }
        }
        match matches.as_slice() {
            [one] => Ok(MigrationKey::new(app, *one)),
            [] => Err(GraphError::UnknownMigration {
                app: app.to_string(),
                name: name.to_string(),
                candidates: names.iter().map(ToString::to_string).collect(),
            }),
            _ => Err(GraphError::Ambiguous {
                app: app.to_string(),
                prefix: name.to_string(),
                matches: matches.iter().map(ToString::to_string).collect(),
            }),
        }
    }

    /// The one hidden migration of `app` called `name` (or by that prefix).
    fn hidden_match(&self, app: &str, name: &str) -> Option<MigrationKey> {
        let mut matches = self
            .hidden
            .keys()
            .filter(|k| k.app == app && (k.name == name || k.name.starts_with(name)));
        let first = matches.next()?;
        matches.next().is_none().then(|| first.clone())
    }

    /// Resolves the command-line form: `app`, `app NAME` or `app zero`. `NAME` may be
    /// a migration this graph hides: whether it is in use depends on the database
    /// (a replaced migration runs on one part-way through its squash), so the
    /// executor checks that against the history ([`Graph::require_in_use`]).
    pub fn target(&self, app: &str, name: Option<&str>) -> Result<Target, GraphError> {
        self.require_app(app)?;
        Ok(match name {
            None => Target::Latest(app.to_string()),
            Some("zero") => Target::Zero(app.to_string()),
            Some(name) => Target::Migration(match self.resolve(app, name) {
                Err(GraphError::NotInUse { key, .. }) => key,
                resolved => resolved?,
            }),
        })
    }

    /// Refuses a target naming a migration not in use here, naming what stands for it.
    pub fn require_in_use(&self, targets: &[Target]) -> Result<(), GraphError> {
        for target in targets {
            if let Target::Migration(key) = target {
                if let Some(stand_ins) = self.stand_ins(key) {
                    return Err(GraphError::NotInUse {
                        key: key.clone(),
                        stand_ins: stand_ins.to_vec(),
                    });
                }
            }
        }
        Ok(())
    }

    /// `key` and everything it depends on, transitively.
    pub fn ancestors(&self, key: &MigrationKey) -> BTreeSet<MigrationKey> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![key.clone()];
        while let Some(k) = stack.pop() {
            if seen.insert(k.clone()) {
                // A hidden migration (asked for by name) keeps the dependencies of its file.
                if let Some(m) = self.get(&k) {
                    stack.extend(m.dependencies.iter().cloned());
                }
            }
        }
        seen
    }

    /// Adds to `mask` the migrations in use among `key` and its ancestors: those
    /// of a hidden migration (asked for by name) are its file's dependencies'.
    fn add_ancestors(&self, key: &MigrationKey, mask: &mut Mask) {
        if let Some(at) = self.migrations.position(key) {
            self.migrations.add_ancestors(at, mask);
        } else if let Some(hidden) = self.hidden.get(key) {
            for dependency in &hidden.dependencies {
                self.add_ancestors(dependency, mask);
            }
        }
    }

    /// The steps that bring the database from `applied` to `targets`, in order.
    /// Forward steps come in topological order, backward steps in reverse; as in
    /// Django, a target that is already applied moves its app *back* to it.
    pub fn plan(
        &self,
        targets: &[Target],
        applied: &BTreeSet<MigrationKey>,
    ) -> Vec<(Step, MigrationKey)> {
        let nodes = &self.migrations;
        let mut apply = nodes.none();
        let mut unapply = nodes.none();
        for target in targets {
            match target {
                Target::Latest(app) => {
                    for leaf in self.leaf_positions(app) {
                        nodes.add_ancestors(leaf, &mut apply);
                    }
                }
                Target::Migration(key) if applied.contains(key) => {
                    // Unapply what follows `key` in its app, and everything built on that.
                    let children = nodes
                        .position(key)
                        .map_or(&[][..], |at| &nodes.children[at]);
                    for &child in children {
                        if nodes.list[child].key.app == key.app {
                            nodes.add_descendants(child, &mut unapply);
                        }
                    }
                }
                Target::Migration(key) => self.add_ancestors(key, &mut apply),
                Target::Zero(app) => {
                    // Every migration of the app and what depends on it.
                    for at in 0..nodes.len() {
                        if nodes.list[at].key.app == *app {
                            nodes.add_descendants(at, &mut unapply);
                        }
                    }
                }
            }
        }
        let applied = nodes.mask_of(applied);
        let key = |at: usize| nodes.list[at].key.clone();
        let mut plan: Vec<_> = (0..nodes.len())
            .rev()
            .filter(|&at| unapply[at] && applied[at])
            .map(|at| (Step::Unapply, key(at)))
            .collect();
        plan.extend(
            (0..nodes.len())
                .filter(|&at| apply[at] && !applied[at] && !unapply[at])
                .map(|at| (Step::Apply, key(at))),
        );
        plan
    }

    /// Every app to its latest migration.
    pub fn latest_targets(&self) -> Vec<Target> {
        self.apps
            .iter()
            .map(|a| Target::Latest(a.clone()))
            .collect()
    }

    /// The schema the migrations in `keys` produce, applied in graph order.
    pub fn state_of(&self, keys: &BTreeSet<MigrationKey>) -> Result<SchemaState, StateAtError> {
        self.state_of_mask(&self.migrations.mask_of(keys))
    }

    /// The schema every migration in use produces.
    pub fn full_state(&self) -> Result<SchemaState, StateAtError> {
        self.state_of_mask(&vec![true; self.migrations.len()])
    }

    /// The schema the migrations of `mask` produce, applied in graph order.
    fn state_of_mask(&self, mask: &Mask) -> Result<SchemaState, StateAtError> {
        let steps: Vec<(&Migration, usize)> = self
            .ordered()
            .zip(mask)
            .filter(|(_, member)| **member)
            .map(|(m, _)| (m, m.operations.len()))
            .collect();
        self.replay(&steps)
    }

    /// The schema `steps` leave (each migration's first `count` operations, in the
    /// order given), from the project's cache when an earlier run replayed them.
    pub fn replay(&self, steps: &[(&Migration, usize)]) -> Result<SchemaState, StateAtError> {
        cache::states::replay(self.cache.as_ref(), steps)
    }

    /// The schema `targets` ask for, from the files alone (no history): replaying it
    /// before connecting finds a broken migration the plan would reach, while a broken
    /// file beyond every target does not stop a move to an earlier one.
    pub fn target_state(&self, targets: &[Target]) -> Result<SchemaState, StateAtError> {
        let mut mask = self.migrations.none();
        for target in targets {
            match target {
                Target::Latest(app) => {
                    for leaf in self.leaf_positions(app) {
                        self.migrations.add_ancestors(leaf, &mut mask);
                    }
                }
                Target::Migration(key) => self.add_ancestors(key, &mut mask),
                Target::Zero(_) => {}
            }
        }
        self.state_of_mask(&mask)
    }

    /// The schema just before `key` runs: everything it depends on, applied.
    pub fn state_before(&self, key: &MigrationKey) -> Result<SchemaState, StateAtError> {
        let mut ancestors = self.migrations.none();
        self.add_ancestors(key, &mut ancestors);
        if let Some(at) = self.migrations.position(key) {
            ancestors[at] = false;
        }
        self.state_of_mask(&ancestors)
    }

    /// Calls `visit` with each migration of `keys` in use, in graph order, and the
    /// schema just before it (as [`Graph::state_before`] builds it), in one pass: a
    /// migration whose dependencies are exactly what has been replayed so far (one
    /// app's chain) takes the running schema; any other is built on its own, and the
    /// pass goes on from there. A per-key `state_before` would replay the history
    /// once per key.
    pub fn each_state_before(
        &self,
        keys: &BTreeSet<MigrationKey>,
        mut visit: impl FnMut(&Migration, &SchemaState),
    ) -> Result<(), StateAtError> {
        let nodes = &self.migrations;
        let wanted = nodes.mask_of(keys);
        let mut left = wanted.iter().filter(|w| **w).count();
        let mut running = SchemaState::new();
        // The migrations in `running`; always closed under dependencies.
        let mut replayed = nodes.none();
        let mut previous: Option<usize> = None;
        for (at, m) in nodes.list.iter().enumerate() {
            if left == 0 {
                break;
            }
            // `replayed` is `previous` and everything before it: all of `m`'s
            // ancestors, and nothing else, when `m` depends on `previous` and on
            // nothing outside it.
            let parents = &nodes.parents[at];
            let chained = previous.is_none_or(|p| parents.contains(&p))
                && parents.iter().all(|&p| replayed[p]);
            if !chained {
                replayed = nodes.none();
                nodes.add_ancestors(at, &mut replayed);
                replayed[at] = false;
                running = SchemaState::new();
                for (a, member) in nodes.list.iter().zip(&replayed) {
                    if *member {
                        a.replay(&mut running, a.operations.len())?;
                    }
                }
            }
            if wanted[at] {
                visit(m, &running);
                left -= 1;
            }
            m.replay(&mut running, m.operations.len())?;
            replayed[at] = true;
            previous = Some(at);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mig(app: &str, name: &str, deps: &[&str]) -> Migration {
        Migration {
            key: MigrationKey::new(app, name),
            path: PathBuf::from(format!("apps/{app}/migrations/{name}.toml")),
            checksum: String::new(),
            dependencies: deps
                .iter()
                .map(|d| MigrationKey::parse(d).unwrap())
                .collect(),
            replaces: Vec::new(),
            atomic: true,
            safe: true,
            operations: Vec::new().into(),
            lint: crate::migration::LintSection::default(),
        }
    }

    fn key(s: &str) -> MigrationKey {
        MigrationKey::parse(s).unwrap()
    }

    /// `mig`, creating a table named after the migration.
    fn creating(app: &str, name: &str, deps: &[&str]) -> Migration {
        let table = format!("{app}_{name}");
        let op = serde_json::json!({
            "kind": "create_table",
            "name": table,
            "columns": [{ "name": "id", "type": "int" }],
        });
        Migration {
            operations: vec![serde_json::from_value(op).unwrap()].into(),
            ..mig(app, name, deps)
        }
    }

    #[test]
    fn each_state_before_is_state_before_in_one_pass() {
        // Two apps interleaved: chains, a cross-app dependency, a root in each app.
        let graph = Graph::new(
            vec!["a".into(), "b".into()],
            vec![
                creating("a", "0001", &[]),
                creating("a", "0002", &["a.0001"]),
                creating("b", "0001", &[]),
                creating("b", "0002", &["b.0001", "a.0001"]),
                creating("a", "0003", &["a.0002", "b.0002"]),
                creating("a", "0004", &["a.0003"]),
                creating("b", "0003", &["b.0002"]),
            ],
        )
        .unwrap();
        let all: BTreeSet<MigrationKey> = graph.ordered().map(|m| m.key.clone()).collect();
        let some: BTreeSet<MigrationKey> = [key("a.0004"), key("b.0002")].into();
        for keys in [&all, &some] {
            let mut seen = Vec::new();
            graph
                .each_state_before(keys, |m, state| seen.push((m.key.clone(), state.clone())))
                .unwrap();
            let expected: Vec<_> = graph
                .ordered()
                .filter(|m| keys.contains(&m.key))
                .map(|m| (m.key.clone(), graph.state_before(&m.key).unwrap()))
                .collect();
            assert_eq!(seen, expected);
        }
    }

    /// auth: 0001 <- 0002 ; tracker: 0001 (needs auth.0001) <- 0002 (needs auth.0002) <- 0003
    fn sample() -> Graph {
        Graph::new(
            vec!["tracker".into(), "auth".into()],
            vec![
                mig("auth", "0001_initial", &[]),
                mig("auth", "0002_email", &["auth.0001_initial"]),
                mig("tracker", "0001_initial", &["auth.0001_initial"]),
                mig(
                    "tracker",
                    "0002_owner",
                    &["tracker.0001_initial", "auth.0002_email"],
                ),
                mig("tracker", "0003_note", &["tracker.0002_owner"]),
            ],
        )
        .unwrap()
    }

    fn keys(plan: &[(Step, MigrationKey)]) -> Vec<String> {
        plan.iter()
            .map(|(s, k)| format!("{}{k}", if *s == Step::Apply { "+" } else { "-" }))
            .collect()
    }

    #[test]
    fn full_plan_respects_dependencies_and_is_deterministic() {
        let g = sample();
        let plan = g.plan(&g.latest_targets(), &BTreeSet::new());
        assert_eq!(
            keys(&plan),
            [
                "+auth.0001_initial",
                "+auth.0002_email",
                "+tracker.0001_initial",
                "+tracker.0002_owner",
                "+tracker.0003_note"
            ]
        );
        assert_eq!(plan, g.plan(&g.latest_targets(), &BTreeSet::new()));
    }

    #[test]
    fn rolling_back_to_a_migration_unapplies_what_follows() {
        let g = sample();
        let all: BTreeSet<_> = g.ordered().map(|m| m.key.clone()).collect();
        let t = g.target("tracker", Some("0001")).unwrap();
        assert_eq!(
            keys(&g.plan(&[t], &all)),
            ["-tracker.0003_note", "-tracker.0002_owner"]
        );
    }

    #[test]
    fn rolling_back_an_app_also_unapplies_its_dependents_in_other_apps() {
        let g = sample();
        let all: BTreeSet<_> = g.ordered().map(|m| m.key.clone()).collect();
        let t = g.target("auth", Some("0001_initial")).unwrap();
        assert_eq!(
            keys(&g.plan(&[t], &all)),
            [
                "-tracker.0003_note",
                "-tracker.0002_owner",
                "-auth.0002_email"
            ]
        );
        let zero = g.target("auth", Some("zero")).unwrap();
        assert_eq!(
            keys(&g.plan(&[zero], &all)),
            [
                "-tracker.0003_note",
                "-tracker.0002_owner",
                "-tracker.0001_initial",
                "-auth.0002_email",
                "-auth.0001_initial"
            ]
        );
    }

    #[test]
    fn migrating_forward_to_a_target_applies_only_its_ancestors() {
        let g = sample();
        let applied: BTreeSet<_> = [key("auth.0001_initial")].into();
        let t = g.target("tracker", Some("0001")).unwrap();
        assert_eq!(keys(&g.plan(&[t], &applied)), ["+tracker.0001_initial"]);
    }

    #[test]
    fn targets_resolve_by_prefix_or_full_name() {
        let g = sample();
        assert_eq!(
            g.resolve("tracker", "0002").unwrap(),
            key("tracker.0002_owner")
        );
        assert_eq!(
            g.resolve("tracker", "0002_owner").unwrap(),
            key("tracker.0002_owner")
        );
        assert!(matches!(
            g.resolve("tracker", "000"),
            Err(GraphError::Ambiguous { .. })
        ));
        let err = g.resolve("tracker", "0009").unwrap_err();
        assert!(err.to_string().contains("0001_initial"), "{err}");
        assert!(matches!(
            g.target("nope", None),
            Err(GraphError::UnknownApp { .. })
        ));
        assert_eq!(
            g.target("auth", Some("zero")).unwrap(),
            Target::Zero("auth".into())
        );
    }

    #[test]
    fn missing_dependency_names_the_file() {
        let err =
            Graph::new(vec!["a".into()], vec![mig("a", "0001_x", &["b.0001_y"])]).unwrap_err();
        assert!(
            err.to_string().contains("apps/a/migrations/0001_x.toml"),
            "{err}"
        );
        assert!(err.to_string().contains("b.0001_y"), "{err}");
    }

    #[test]
    fn cycles_are_reported_with_their_path() {
        let err = Graph::new(
            vec!["a".into(), "b".into()],
            vec![
                mig("a", "0001_x", &["b.0001_y"]),
                mig("b", "0001_y", &["a.0001_x"]),
            ],
        )
        .unwrap_err();
        let GraphError::Cycle { cycle } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(cycle.first(), cycle.last());
        assert_eq!(cycle.len(), 3);
    }

    #[test]
    fn two_leaves_in_one_app_name_both_files_and_suggest_merge() {
        let err = Graph::new(
            vec!["a".into()],
            vec![
                mig("a", "0001_x", &[]),
                mig("a", "0002_y", &["a.0001_x"]),
                mig("a", "0002_z", &["a.0001_x"]),
            ],
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("0002_y.toml") && msg.contains("0002_z.toml"),
            "{msg}"
        );
        assert!(msg.contains("makemigrations --merge"), "{msg}");
    }

    /// app: 0001 <- 0002 <- 0003, squashed by 0001_squashed_0003 (deps: none);
    /// other: 0001 needs app.0002 (a replaced migration in the middle).
    fn squashed(with_originals: bool) -> Vec<Migration> {
        let mut squash = mig("app", "0001_squashed_0003_c", &[]);
        squash.replaces = vec![key("app.0001_a"), key("app.0002_b"), key("app.0003_c")];
        let mut all = vec![
            squash,
            mig("app", "0004_d", &["app.0003_c"]),
            mig("other", "0001_x", &["app.0002_b"]),
        ];
        if with_originals {
            all.extend([
                mig("app", "0001_a", &[]),
                mig("app", "0002_b", &["app.0001_a"]),
                mig("app", "0003_c", &["app.0002_b"]),
            ]);
        }
        all
    }

    fn apps() -> Vec<String> {
        vec!["app".into(), "other".into()]
    }

    #[test]
    fn a_fresh_database_runs_the_squash_alone_and_dependencies_follow_it() {
        let g = Graph::new(apps(), squashed(true)).unwrap();
        assert_eq!(
            keys(&g.plan(&g.latest_targets(), &BTreeSet::new())),
            ["+app.0001_squashed_0003_c", "+app.0004_d", "+other.0001_x"]
        );
        assert_eq!(
            g.get(&key("other.0001_x")).unwrap().dependencies,
            [key("app.0001_squashed_0003_c")]
        );
        assert!(!g.in_use(&key("app.0002_b")) && g.get(&key("app.0002_b")).is_some());
        let err = g.resolve("app", "0002").unwrap_err();
        assert!(matches!(err, GraphError::NotInUse { .. }), "{err}");
        assert!(err.to_string().contains("0001_squashed_0003_c"), "{err}");
    }

    #[test]
    fn a_database_part_way_through_runs_the_remaining_originals() {
        let g = Graph::new(apps(), squashed(true)).unwrap();
        let applied: BTreeSet<_> = [key("app.0001_a")].into();
        let g = g.for_history(&applied, &applied).unwrap();
        assert!(!g.in_use(&key("app.0001_squashed_0003_c")));
        assert_eq!(
            keys(&g.plan(&g.latest_targets(), &applied)),
            ["+app.0002_b", "+app.0003_c", "+app.0004_d", "+other.0001_x"]
        );
        // A migration written after the squash depends on it: it waits for the last
        // of the originals instead.
        assert_eq!(
            g.get(&key("app.0004_d")).unwrap().dependencies,
            [key("app.0003_c")]
        );
    }

    #[test]
    fn a_database_with_every_original_applied_uses_the_squash() {
        let g = Graph::new(apps(), squashed(true)).unwrap();
        let applied: BTreeSet<_> = [key("app.0001_a"), key("app.0002_b"), key("app.0003_c")].into();
        let g = g.for_history(&applied, &applied).unwrap();
        assert!(g.in_use(&key("app.0001_squashed_0003_c")));
        assert!(!g.in_use(&key("app.0003_c")));
    }

    #[test]
    fn the_originals_may_be_deleted_unless_a_database_is_part_way() {
        let g = Graph::new(apps(), squashed(false)).unwrap();
        assert_eq!(g.leaves("app"), [key("app.0004_d")]);
        let applied: BTreeSet<_> = [key("app.0001_a")].into();
        let err = g.for_history(&applied, &applied).unwrap_err();
        assert!(matches!(err, GraphError::ReplacedMissing { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("applied only some of the migrations app.0001_squashed_0003_c replaces"),
            "{err}"
        );
    }
}

//! The shared executor on SQLite files, with this crate's lock and introspection:
//! concurrent runs apply each migration exactly once, and the live schema matches
//! the migrations at every stop.

use std::collections::BTreeSet;
use std::time::Duration;

use strata_engine::dialect::driver::{Driver, LockAttempt};
use strata_engine::drift;
use strata_engine::executor::{self, Options, Quiet};
use strata_engine::graph::{Graph, Target};
use strata_engine::project::{Overrides, Project};
use strata_sqlite::SqliteDriver;

const HISTORY: &str = "strata_migrations";

/// The `evolving` example: two apps whose history exercises every kind of change.
fn evolving() -> Graph {
    let root = strata_testkit::testdata_dir().join("evolving");
    let project = Project::load(&root, &Overrides::default()).expect("load the project");
    Graph::from_project(&project).expect("graph")
}

fn options() -> Options {
    Options::new(HISTORY, Duration::from_secs(60))
}

/// Drift between the live schema and what `graph`'s applied migrations say.
async fn drift_from_history(driver: &mut SqliteDriver, graph: &Graph) -> Vec<String> {
    let status = executor::status(driver, &options()).await.expect("status");
    let expected = graph.state_of(&status.applied()).expect("state");
    let live = driver.introspect().await.expect("introspect");
    drift::differences(
        driver.dialect().as_ref(),
        driver.version(),
        &expected,
        &live,
        &[HISTORY],
    )
}

#[test]
fn concurrent_runs_apply_each_migration_exactly_once() {
    let graph = evolving();
    let total = graph.ordered().count();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("db.sqlite3").display());
    let runs: Vec<usize> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime");
                    runtime.block_on(async {
                        let mut driver = SqliteDriver::connect(&url).expect("connect");
                        let targets = graph.latest_targets();
                        let steps = executor::migrate(
                            &graph,
                            &mut driver,
                            &targets,
                            &options(),
                            &mut Quiet,
                        )
                        .await
                        .expect("migrate");
                        steps.len()
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_eq!(runs.iter().sum::<usize>(), total, "runs: {runs:?}");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut driver = SqliteDriver::connect(&url).expect("connect");
        let status = executor::status(&mut driver, &options()).await.unwrap();
        assert_eq!(status.applied().len(), total);
        let differences = drift_from_history(&mut driver, &graph).await;
        assert!(differences.is_empty(), "{differences:#?}");
    });
}

#[tokio::test]
async fn every_stop_of_the_history_matches_the_live_schema() {
    let graph = evolving();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("db.sqlite3").display());
    let mut driver = SqliteDriver::connect(&url).expect("connect");

    let latest = graph.latest_targets();
    executor::migrate(&graph, &mut driver, &latest, &options(), &mut Quiet)
        .await
        .expect("forward");
    let differences = drift_from_history(&mut driver, &graph).await;
    assert!(differences.is_empty(), "at the latest: {differences:#?}");

    // Back through every migration of each app, then to zero.
    for app in graph.apps().to_vec() {
        let names: Vec<String> = graph
            .app_migrations(&app)
            .map(|m| m.key.name.clone())
            .collect();
        for name in names.iter().rev() {
            let target = graph.target(&app, Some(name)).unwrap();
            executor::migrate(&graph, &mut driver, &[target], &options(), &mut Quiet)
                .await
                .unwrap_or_else(|e| panic!("back to {app}.{name}: {e}"));
            let differences = drift_from_history(&mut driver, &graph).await;
            assert!(differences.is_empty(), "at {app}.{name}: {differences:#?}");
        }
    }
    let zero: Vec<Target> = graph
        .apps()
        .iter()
        .map(|app| graph.target(app, Some("zero")).unwrap())
        .collect();
    executor::migrate(&graph, &mut driver, &zero, &options(), &mut Quiet)
        .await
        .expect("zero");
    let left: BTreeSet<String> = driver.table_names().await.unwrap().into_iter().collect();
    assert_eq!(left, BTreeSet::from([HISTORY.to_string()]));

    // The lock was released every time: another connection takes it at once.
    let mut other = SqliteDriver::connect(&url).expect("connect");
    assert_eq!(
        other.try_lock("strata:strata_migrations").await.unwrap(),
        strata_engine::dialect::driver::LockAttempt::Acquired
    );
}

/// A one-app project in `dir`: `0001` makes a table holding a row with a NULL name;
/// `0002` is not atomic, and its third operation (name NOT NULL) fails on that row.
fn partial_project(dir: &std::path::Path) -> Graph {
    let migrations = dir.join("apps/shop/migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    std::fs::write(dir.join("strata.toml"), "[project]\napps = [\"shop\"]\n").unwrap();
    std::fs::write(
        migrations.join("0001_initial.toml"),
        r#"
[[operations]]
kind = "create_table"
name = "shop_item"
primary_key = ["id"]
columns = [
  { name = "id", type = "bigint", auto = true },
  { name = "name", type = "varchar(50)", null = true },
]

[[operations]]
kind = "run_sql"
sql = "INSERT INTO shop_item (name) VALUES (NULL)"
reverse_sql = "DELETE FROM shop_item"
"#,
    )
    .unwrap();
    std::fs::write(
        migrations.join("0002_tighten.toml"),
        r#"
dependencies = ["shop.0001_initial"]
atomic = false

[[operations]]
kind = "add_column"
table = "shop_item"
column = { name = "code", type = "varchar(10)", null = true }

[[operations]]
kind = "create_index"
table = "shop_item"
index = { name = "shop_item_code_idx", columns = ["code"], where = "code IS NOT NULL" }

[[operations]]
kind = "alter_column"
table = "shop_item"
column = "name"
null = false

[[operations]]
kind = "add_constraint"
table = "shop_item"
constraint = { type = "check", name = "shop_item_name_not_blank", expr = "name <> ''" }
"#,
    )
    .unwrap();
    let project = Project::load(dir, &Overrides::default()).expect("load the project");
    Graph::from_project(&project).expect("graph")
}

/// Runs `partial_project` until its non-atomic migration fails at operation 3.
async fn fail_mid_migration(dir: &std::path::Path) -> (Graph, SqliteDriver) {
    let graph = partial_project(dir);
    let url = format!("sqlite://{}", dir.join("db.sqlite3").display());
    let mut driver = SqliteDriver::connect(&url).expect("connect");
    let err = executor::migrate(
        &graph,
        &mut driver,
        &graph.latest_targets(),
        &options(),
        &mut Quiet,
    )
    .await
    .unwrap_err();
    assert!(err.left_partial(), "{err}");
    assert!(
        err.to_string()
            .contains("becomes NOT NULL, but rows hold NULL"),
        "{err}"
    );
    (graph, driver)
}

/// A non-atomic migration that fails mid-way stops with a checkpoint, its failed
/// rebuild rolled back, foreign keys back on, and the live schema exactly at the
/// checkpoint (which is what the executor verifies, by introspection, to resume).
#[tokio::test]
async fn a_failed_non_atomic_migration_stops_at_a_checkpoint_the_schema_matches() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (graph, mut driver) = fail_mid_migration(dir.path()).await;
    assert!(driver.connection().is_autocommit());
    let fk = driver.query("PRAGMA foreign_keys").await.unwrap();
    assert_eq!(fk, vec![vec![Some("1".to_string())]]);
    let status = executor::status(&mut driver, &options()).await.unwrap();
    let partial: Vec<_> = status
        .partial()
        .map(|r| (r.key.name.clone(), r.operations_done))
        .collect();
    assert_eq!(partial, [("0002_tighten".to_string(), 2)]);

    let mut expected = graph.state_of(&status.applied()).unwrap();
    let tighten = graph.app_migrations("shop").nth(1).expect("0002");
    for op in &tighten.operations[..2] {
        expected.apply(op).unwrap();
    }
    let live = driver.introspect().await.unwrap();
    let differences = drift::differences(
        driver.dialect().as_ref(),
        driver.version(),
        &expected,
        &live,
        &[HISTORY],
    );
    assert!(differences.is_empty(), "{differences:#?}");
}

/// Once the data is fixed, the next run resumes where the failed one stopped.
#[tokio::test]
async fn a_failed_non_atomic_migration_resumes_from_its_checkpoint() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (graph, mut driver) = fail_mid_migration(dir.path()).await;
    driver
        .execute("UPDATE shop_item SET name = 'fixed' WHERE name IS NULL")
        .await
        .unwrap();
    executor::migrate(
        &graph,
        &mut driver,
        &graph.latest_targets(),
        &options(),
        &mut Quiet,
    )
    .await
    .expect("resume");
    let status = executor::status(&mut driver, &options()).await.unwrap();
    assert_eq!(status.applied().len(), 2);
    let differences = drift_from_history(&mut driver, &graph).await;
    assert!(differences.is_empty(), "{differences:#?}");
}

/// Refuses every plan, remembering what it was shown and whether another connection
/// found the migration lock taken meanwhile.
struct Refusing {
    url: String,
    shown: Option<(usize, usize)>,
    locked: bool,
}

/// Whether another connection to `url` finds the migration lock taken.
async fn lock_taken(url: &str) -> bool {
    let mut other = SqliteDriver::connect(url).expect("connect");
    match other.try_lock(LOCK).await.expect("try the lock") {
        LockAttempt::Busy { .. } => true,
        LockAttempt::Acquired => {
            other.unlock(LOCK).await.expect("unlock");
            false
        }
    }
}

const LOCK: &str = "strata:strata_migrations";

#[async_trait::async_trait]
impl executor::Observer for Refusing {
    async fn vet(
        &mut self,
        _driver: &mut dyn Driver,
        history: &executor::Status,
        plan: &[executor::PlannedStep],
    ) -> Result<(), executor::ExecError> {
        self.locked = lock_taken(&self.url).await;
        self.shown = Some((history.rows.len(), plan.len()));
        Err(executor::ExecError::Refused("not today".into()))
    }
}

#[tokio::test]
async fn a_vetting_observer_refuses_the_plan_under_the_lock_before_anything_runs() {
    let graph = evolving();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("db.sqlite3").display());
    let mut driver = SqliteDriver::connect(&url).expect("connect");
    let first = graph.ordered().next().expect("a migration").key.clone();
    let one = [Target::Migration(first)];
    executor::migrate(&graph, &mut driver, &one, &options(), &mut Quiet)
        .await
        .expect("the first migration");
    let tables_before = driver.table_names().await.expect("tables");

    let mut refusing = Refusing {
        url: url.clone(),
        shown: None,
        locked: false,
    };
    let latest = graph.latest_targets();
    let e = executor::migrate(&graph, &mut driver, &latest, &options(), &mut refusing)
        .await
        .expect_err("refused");
    assert!(matches!(e, executor::ExecError::Refused(_)), "{e}");
    assert_eq!(e.to_string(), "not today");
    assert!(refusing.locked, "vetted without the lock");
    // Shown the history as read (one row) and the whole rest of the plan.
    let total = graph.ordered().count();
    assert_eq!(refusing.shown, Some((1, total - 1)));
    // Nothing ran, and the lock is free again.
    assert_eq!(driver.table_names().await.expect("tables"), tables_before);
    let status = executor::status(&mut driver, &options())
        .await
        .expect("status");
    assert_eq!(status.applied().len(), 1);
    assert!(!lock_taken(&url).await, "the lock outlived the refusal");
    let steps = executor::migrate(&graph, &mut driver, &latest, &options(), &mut Quiet)
        .await
        .expect("a run after the refusal");
    assert_eq!(steps.len(), total - 1);
}

//! The behaviour suite, on every backend: apply all; roll back to each migration in
//! turn and forward again; zero. After every step the introspected schema must equal
//! the state the engine computes for the applied migrations.

use std::path::Path;

use crate::common::db::{block_on, Kind, TestDb};
use crate::common::{copy_dir, run, strata};
use strata_engine::executor::{self, Options};
use strata_engine::graph::Graph;
use strata_engine::project::{Overrides, Project};
use strata_engine::{drift, Dialect};
use strata_testkit::for_each_backend;

/// The `evolving` example, pointed at `db`.
fn project_for(db: &TestDb) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/evolving"),
        dir.path(),
    );
    let config = format!(
        "[project]\napps = [\"tracker\", \"auth\"]\n\n[database]\nurl = {:?}\n",
        db.url
    );
    std::fs::write(dir.path().join("strata.toml"), config).unwrap();
    dir
}

/// The live schema equals the state of the applied migrations; returns how many are applied.
pub(crate) fn assert_schema_matches_history(db: &TestDb, dir: &Path) -> usize {
    let project = Project::load(dir, &Overrides::default()).unwrap();
    let graph = Graph::from_project(&project).unwrap();
    let options = Options::new("strata_migrations", std::time::Duration::from_secs(5));
    block_on(async {
        let mut driver = db.connect().await;
        let status = executor::status(driver.as_mut(), &options).await.unwrap();
        let applied = status.applied();
        let expected = graph.state_of(&applied).unwrap();
        let live = driver.introspect().await.unwrap();
        let dialect: std::sync::Arc<dyn Dialect> = driver.dialect();
        let differences = drift::differences(
            dialect.as_ref(),
            driver.version(),
            &expected,
            &live,
            &["strata_migrations"],
        );
        assert!(
            differences.is_empty(),
            "{:?}: live schema differs from the state of {applied:?}:\n  {}",
            db.kind,
            differences.join("\n  ")
        );
        driver.close().await.unwrap();
        applied.len()
    })
}

fn behaviour(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = project_for(&db);
    let dir = dir.path();

    let out = run(dir, &["migrate"]);
    assert!(
        out.contains(
            "Applying tracker.0005_rename_category (drops data: column tracker_transaction.note and its values)... OK"
        ),
        "{out}"
    );
    assert_eq!(assert_schema_matches_history(&db, dir), 7);
    let shown = run(dir, &["showmigrations"]);
    assert_eq!(shown.matches("[X]").count(), 7, "{shown}");

    // Back to each tracker migration in turn, checking every step, then forward again.
    for (target, applied) in [("0004", 6), ("0003", 5), ("0002", 4), ("0001", 3)] {
        run(dir, &["migrate", "tracker", target]);
        assert_eq!(
            assert_schema_matches_history(&db, dir),
            applied,
            "after migrate tracker {target}"
        );
    }
    run(dir, &["migrate"]);
    assert_eq!(assert_schema_matches_history(&db, dir), 7);

    // Rolling auth back unapplies the tracker migrations built on it.
    run(dir, &["migrate", "auth", "0001"]);
    assert_eq!(
        assert_schema_matches_history(&db, dir),
        2,
        "auth.0001 and tracker.0001 remain"
    );
    run(dir, &["migrate", "tracker", "zero"]);
    run(dir, &["migrate", "auth", "zero"]);
    assert_eq!(assert_schema_matches_history(&db, dir), 0);
    assert_eq!(db.table_names(), ["strata_migrations"]);
    let shown = run(dir, &["showmigrations"]);
    assert_eq!(shown.matches("[ ]").count(), 7, "{shown}");

    // And the whole way forward once more, then a no-op.
    run(dir, &["migrate"]);
    assert_eq!(assert_schema_matches_history(&db, dir), 7);
    assert!(run(dir, &["migrate"]).contains("No migrations to apply"));
    let check = strata(dir, &["migrate", "--check"]);
    assert_eq!(check.code, 0, "{}", check.stderr);
}

for_each_backend!(apply_rollback_each_and_zero, behaviour);

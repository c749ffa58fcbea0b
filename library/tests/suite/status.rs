//! Status, plans, targets and the blocking twin, on SQLite.

use strata::{Direction, MigrationState, Migrator};

use crate::MIGRATIONS;

fn url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("app.sqlite3").display())
}

#[tokio::test(flavor = "current_thread")]
async fn status_plan_and_targets_follow_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = url(&dir);
    let migrator = Migrator::from_embedded(&MIGRATIONS).unwrap();

    let status = migrator.status(&url).await.unwrap();
    assert_eq!(status.migrations.len(), 2);
    assert!(status
        .migrations
        .iter()
        .all(|m| m.app == "shop" && m.state == MigrationState::Pending));
    assert!(
        !dir.path().join("app.sqlite3").exists(),
        "reading the status creates no database"
    );

    let latest = migrator.graph().latest_targets();
    let plan = migrator.plan(&url, &latest).await.unwrap();
    let names: Vec<&str> = plan.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["0001_initial", "0002_product_slug"]);
    assert!(plan.iter().all(|s| s.direction == Direction::Apply));
    assert_eq!(plan[0].operations.len(), 2);
    assert!(plan[0].operations[0].description.contains("shop_product"));

    let report = migrator.run(&url).await.unwrap();
    assert_eq!(report.steps.len(), 2);
    assert!(migrator.status(&url).await.unwrap().is_up_to_date());
    assert!(migrator.plan(&url, &latest).await.unwrap().is_empty());

    // Back to 0001: 0002 is rolled back, and the report says so.
    let back = migrator.target("shop", "0001").unwrap();
    let report = migrator.migrate_to(&url, &[back]).await.unwrap();
    assert_eq!(report.steps.len(), 1);
    assert_eq!(report.steps[0].name, "0002_product_slug");
    assert_eq!(report.steps[0].direction, Direction::Rollback);
    let zero = migrator.zero("shop").unwrap();
    let report = migrator.migrate_to(&url, &[zero]).await.unwrap();
    assert_eq!(report.steps.len(), 1);
    let status = migrator.status(&url).await.unwrap();
    assert_eq!(status.pending().count(), 2);
    let json = serde_json::to_value(&status).unwrap();
    assert_eq!(json["migrations"][0]["state"], "pending");
    assert_eq!(json["migrations"][0]["name"], "0001_initial");

    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["steps"][0]["direction"], "rollback");
    assert_eq!(json["steps"][0]["name"], "0001_initial");
}

#[test]
fn an_unknown_target_names_the_app_and_migration() {
    let migrator = Migrator::from_embedded(&MIGRATIONS).unwrap();
    let error = migrator.target("shop", "0009").unwrap_err();
    assert!(error.to_string().contains("0009"), "{error}");
    assert!(migrator.target("billing", "0001").is_err());
}

#[test]
fn the_blocking_twin_runs_without_a_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let url = url(&dir);
    let migrator = strata::blocking::Migrator::from_embedded(&MIGRATIONS).unwrap();
    let report = migrator.run(&url).unwrap();
    assert_eq!(report.steps.len(), 2);
    assert!(migrator.run(&url).unwrap().is_empty());
    assert!(migrator.status(&url).unwrap().is_up_to_date());
}

#[test]
fn from_project_reads_the_folder_at_run_time() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/project");
    let from_disk = Migrator::from_project(&root).unwrap();
    let embedded = Migrator::from_embedded(&MIGRATIONS).unwrap();
    let keys = |m: &Migrator| -> Vec<(String, String)> {
        m.graph()
            .ordered()
            .map(|m| (m.key.to_string(), m.checksum.clone()))
            .collect()
    };
    assert_eq!(keys(&from_disk), keys(&embedded));
    let error = Migrator::from_project(root.join("apps")).unwrap_err();
    assert!(error.to_string().contains("strata.toml"), "{error}");
}

/// An application shares one migrator between tasks and spawns its runs.
#[test]
fn the_migrator_and_its_futures_are_send() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let migrator = Migrator::from_embedded(&MIGRATIONS).unwrap();
    send_sync(&migrator);
    send(&migrator.run("sqlite::memory:"));
    send(&migrator.status("sqlite::memory:"));
    send(&migrator.plan("sqlite::memory:", &[]));
    send_sync(&strata::blocking::Migrator::from(migrator));
}

/// `single_transaction(true)`: a plan whose second migration fails leaves nothing,
/// not even the first migration or the history table; without it the first stays.
#[tokio::test(flavor = "current_thread")]
async fn a_single_transaction_run_is_all_or_nothing() {
    let root = tempfile::tempdir().unwrap();
    let migrations = root.path().join("apps/shop/migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    std::fs::write(
        root.path().join("strata.toml"),
        "[project]\napps = [\"shop\"]\n",
    )
    .unwrap();
    std::fs::write(
        migrations.join("0001_initial.toml"),
        "[[operations]]\nkind = \"create_table\"\nname = \"shop_item\"\nprimary_key = [\"id\"]\ncolumns = [{ name = \"id\", type = \"bigint\" }]\n",
    )
    .unwrap();
    std::fs::write(
        migrations.join("0002_broken.toml"),
        "dependencies = [\"shop.0001_initial\"]\n\n[[operations]]\nkind = \"run_sql\"\nsql = \"UPDATE shop_missing SET x = 1\"\nreverse_sql = \"\"\n",
    )
    .unwrap();
    let tables = |url: &str| {
        let path = url.trim_start_matches("sqlite://");
        let db = rusqlite::Connection::open(path).unwrap();
        let mut names = db
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .unwrap();
        names
            .query_map([], |row| row.get::<_, String>(0))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
    };

    let all = tempfile::tempdir().unwrap();
    let url_all = url(&all);
    let migrator = Migrator::from_project(root.path())
        .unwrap()
        .single_transaction(true);
    assert!(migrator.options().single_transaction);
    assert!(migrator.run(&url_all).await.is_err());
    assert!(tables(&url_all).is_empty(), "{:?}", tables(&url_all));

    let each = tempfile::tempdir().unwrap();
    let url_each = url(&each);
    let migrator = Migrator::from_project(root.path()).unwrap();
    assert!(migrator.run(&url_each).await.is_err());
    assert_eq!(tables(&url_each), ["shop_item", "strata_migrations"]);
}

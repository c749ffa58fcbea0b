//! The example application, built and run on each backend: from empty, again (it
//! does nothing), and after a partial run.

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use strata_testkit::db::{Kind, TestDb};
use strata_testkit::for_each_backend;

/// Runs the example's binary with `args`; its report (stdout, JSON) on success.
fn run(args: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_strata-example-embedded"))
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args:?} failed:\n{stderr}");
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not a JSON report ({e}):\n{stderr}"))
}

/// `app.name` of each step of a report, with its direction.
fn steps(report: &Value) -> Vec<String> {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {}.{}",
                s["direction"].as_str().unwrap(),
                s["app"].as_str().unwrap(),
                s["name"].as_str().unwrap()
            )
        })
        .collect()
}

/// Every migration of the example's project in the order they apply, as `steps`
/// names them: read from the folder, so a migration added to it is expected too.
fn every_migration() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("project");
    let migrator = strata::Migrator::from_project(root).unwrap();
    let all: Vec<String> = migrator
        .graph()
        .ordered()
        .map(|m| format!("apply {}", m.key))
        .collect();
    assert!(all.len() >= 2, "{all:?}");
    all
}

/// One column of every product, by id.
fn column(db: &TestDb, name: &str) -> Vec<Option<String>> {
    db.query(&format!("SELECT {name} FROM shop_product ORDER BY id"))
        .into_iter()
        .map(|row| row.into_iter().next().flatten())
        .collect()
}

fn slugs(db: &TestDb) -> Vec<Option<String>> {
    column(db, "slug")
}

fn from_empty_then_again(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let all = every_migration();
    let first = run(&[&db.url]);
    assert_eq!(steps(&first), all);
    assert_eq!(
        slugs(&db),
        [
            Some("blue-mug".into()),
            Some("green-teapot".into()),
            Some("red-kettle".into())
        ]
    );
    // The backfill of 0003, batch by batch: the report says how far it went.
    let backfill = &first["steps"][2]["backfills"][0];
    assert_eq!(backfill["table"], "shop_product", "{first}");
    assert_eq!(backfill["rows_done"], 3, "{first}");
    assert_eq!(backfill["batches"], 2, "{first}");
    assert_eq!(
        column(&db, "search_title"),
        [
            Some("blue mug".into()),
            Some("green teapot".into()),
            Some("red kettle".into())
        ]
    );
    let second = run(&[&db.url]);
    assert_eq!(steps(&second), Vec::<String>::new(), "{second}");
    let history = db.query("SELECT COUNT(*) FROM strata_migrations");
    assert_eq!(history[0][0], Some(all.len().to_string()));
}

fn after_a_partial_run(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let all = every_migration();
    let partial = run(&[&db.url, "shop", "0001"]);
    assert_eq!(steps(&partial), all[..1]);
    assert_eq!(
        db.query("SELECT COUNT(*) FROM shop_product")[0][0].as_deref(),
        Some("3")
    );
    let rest = run(&[&db.url]);
    assert_eq!(steps(&rest), all[1..]);
    assert!(slugs(&db).iter().all(Option::is_some));
    assert_eq!(steps(&run(&[&db.url])), Vec::<String>::new());
    // Back to 0001: 0002's run_code is undone by its registered reverse (without
    // one, the rollback would be refused before anything ran).
    let back = run(&[&db.url, "shop", "0001"]);
    let undone: Vec<String> = all[1..]
        .iter()
        .rev()
        .map(|step| step.replacen("apply", "rollback", 1))
        .collect();
    assert_eq!(steps(&back), undone, "{back}");
    assert_eq!(
        db.query("SELECT COUNT(*) FROM shop_product")[0][0].as_deref(),
        Some("3")
    );
}

for_each_backend!(from_empty, from_empty_then_again);
for_each_backend!(partial, after_a_partial_run);

#[test]
fn a_bad_url_fails_with_a_message() {
    let output = Command::new(env!("CARGO_BIN_EXE_strata-example-embedded"))
        .arg("nosuchdb://x")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nosuchdb"), "{stderr}");
}

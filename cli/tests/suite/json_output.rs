//! `--format json` of every command but `migrate`: one JSON document on stdout that
//! matches its schema in `schemas/output/` (docs/json.md), the messages for people
//! on stderr, and no question asked.

use std::path::Path;

use serde_json::Value;

use crate::common::db::{Kind, TestDb};
use crate::common::json_shape::assert_shape;
use crate::common::{strata, tracker, tracker_copy, tracker_edited};
use strata_testkit::for_each_backend;

/// A new nullable field, a new model and a dropped field: three operations, one of
/// which loses data.
fn three_changes(text: &str) -> String {
    let text = text.replace(
        "created_at = \"datetime\"",
        "created_at = \"datetime\"\nnote = \"text?\"",
    );
    let text = text.replace("fields.description = \"text\"\n", "");
    format!("{text}\n[Tag]\nfields.label = \"varchar(30)\"\n")
}

/// The operations of a migration file, as JSON values.
fn file_operations(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let file: toml::Value = toml::from_str(&text).unwrap();
    serde_json::to_value(&file["operations"]).unwrap()
}

#[test]
fn makemigrations_dry_run_lists_exactly_what_is_then_written() {
    let dir = tracker_edited(three_changes);
    let path = dir.path();
    let out = strata(path, &["--format", "json", "makemigrations", "--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let planned = assert_shape("makemigrations", &out.stdout);
    assert!(
        out.stderr.contains("Migrations for 'tracker':"),
        "the listing is on stderr: {}",
        out.stderr
    );
    assert_eq!(planned["mode"], "dry_run");
    assert_eq!(planned["written"], false);
    let migrations = planned["migrations"].as_array().unwrap();
    assert_eq!(migrations.len(), 1, "{planned:#}");
    let m = &migrations[0];
    assert_eq!(m["app"], "tracker");
    assert_eq!(
        m["dependencies"],
        serde_json::json!(["tracker.0001_initial"])
    );
    let kinds: Vec<&str> = m["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|op| op["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    for kind in ["add_column", "create_table", "drop_column"] {
        assert!(kinds.contains(&kind), "{kind}: {kinds:?}");
    }
    let losses = m["data_loss"].as_array().unwrap();
    assert_eq!(losses.len(), 1, "{losses:?}");
    assert_eq!(losses[0]["kind"], "column");
    assert_eq!(losses[0]["table"], "tracker_category");
    assert_eq!(losses[0]["column"], "description");
    let dropped = usize::try_from(losses[0]["operation"].as_u64().unwrap()).unwrap();
    assert_eq!(kinds[dropped - 1], "drop_column");
    let rules: Vec<&str> = m["lint"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"drop-column"), "{rules:?}");
    assert!(
        !path.join(m["path"].as_str().unwrap()).exists(),
        "--dry-run writes nothing"
    );

    // Writing the same changes (never asked: JSON implies --noinput, so the data
    // loss needs its flag).
    let out = strata(path, &["--format", "json", "makemigrations"]);
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "", "an error prints no JSON");
    let out = strata(
        path,
        &["--format", "json", "makemigrations", "--allow-destructive"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let written = assert_shape("makemigrations", &out.stdout);
    assert_eq!(written["mode"], "write");
    assert_eq!(written["written"], true);
    let w = &written["migrations"][0];
    assert_eq!(w["path"], m["path"]);
    assert_eq!(w["operations"], m["operations"]);
    assert_eq!(
        file_operations(&path.join(w["path"].as_str().unwrap())),
        m["operations"],
        "the file holds exactly the operations --dry-run listed"
    );

    let out = strata(path, &["--format", "json", "makemigrations", "--check"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let none = assert_shape("makemigrations", &out.stdout);
    assert_eq!(none["migrations"], serde_json::json!([]));
    assert!(out.stderr.contains("No changes detected"), "{}", out.stderr);
}

#[test]
fn makemigrations_check_lists_the_questions_and_their_answers() {
    let dir = tracker_edited(|text| {
        text.replace(
            "description = \"text\"\ncreated_at",
            "details = \"text\"\ncreated_at",
        )
    });
    let out = strata(
        dir.path(),
        &["--format", "json", "makemigrations", "--check"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = assert_shape("makemigrations", &out.stdout);
    assert_eq!(report["mode"], "check");
    assert_eq!(
        report["unanswered"],
        serde_json::json!([{
            "question": "rename",
            "subject": "tracker.Transaction.description",
            "to": "details",
            "answer": "--rename tracker.Transaction.description=details",
        }])
    );

    let out = strata(
        dir.path(),
        &[
            "--format",
            "json",
            "makemigrations",
            "--check",
            "--rename",
            "tracker.Transaction.description=details",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = assert_shape("makemigrations", &out.stdout);
    assert_eq!(
        report["migrations"][0]["operations"][0]["kind"],
        "rename_column"
    );
}

/// On a terminal, JSON output still never asks: the question is an exit 3.
#[test]
fn makemigrations_in_json_never_asks_on_a_terminal() {
    let dir = tracker_edited(|text| {
        text.replace(
            "description = \"text\"\ncreated_at",
            "details = \"text\"\ncreated_at",
        )
    });
    // `script` gives strata a terminal.
    let out = std::process::Command::new("script")
        .args([
            "-qec",
            &format!(
                "{} --format json makemigrations",
                env!("CARGO_BIN_EXE_strata")
            ),
            "/dev/null",
        ])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script(1) from util-linux");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(!shown.contains("[y/N]"), "{shown}");
    assert!(shown.contains("these look like renames"), "{shown}");
    assert_eq!(out.status.code(), Some(3), "{shown}");
}

#[test]
fn inspectdb_gives_the_tables_and_the_models_text() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let dir = tracker_copy(&db.url);
    assert_eq!(strata(dir.path(), &["migrate", "-q"]).code, 0);
    let out = strata(dir.path(), &["--format", "json", "inspectdb", "tracker"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let inspected = assert_shape("inspectdb", &out.stdout);
    let names: Vec<&str> = inspected["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"tracker_transaction"), "{names:?}");
    assert!(!names.contains(&"strata_migrations"), "{names:?}");
    assert!(inspected.get("written").is_none());
    let text = strata(dir.path(), &["inspectdb", "tracker"]).stdout;
    assert_eq!(
        inspected["models_toml"],
        text.as_str(),
        "the text it prints"
    );

    // Written, with the editor directive when the project holds the schema.
    let schemas = dir.path().join(".strata/schemas");
    std::fs::create_dir_all(&schemas).unwrap();
    std::fs::write(schemas.join("models.schema.json"), "{}").unwrap();
    let out = strata(
        dir.path(),
        &[
            "--format",
            "json",
            "inspectdb",
            "tracker",
            "--write",
            "--force",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let inspected = assert_shape("inspectdb", &out.stdout);
    assert_eq!(inspected["written"], "apps/tracker/models.toml");
    assert!(out.stderr.contains("Wrote "), "{}", out.stderr);
    let written = std::fs::read_to_string(dir.path().join("apps/tracker/models.toml")).unwrap();
    assert!(
        written.starts_with("#:schema ../../.strata/schemas/models.schema.json\n"),
        "{written}"
    );
    assert_eq!(inspected["models_toml"], written.as_str());
    let parsed: Result<toml::Value, _> = toml::from_str(&written);
    assert!(parsed.is_ok(), "the directive is a comment: {parsed:?}");
}

fn server_listings(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = tracker_copy(&db.url);
    let out = strata(dir.path(), &["--format", "json", "showmigrations"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let pending = assert_shape("showmigrations", &out.stdout);
    assert!(pending
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["applied"] == false));
    assert_eq!(strata(dir.path(), &["migrate", "-q"]).code, 0);
    let out = strata(
        dir.path(),
        &["--format", "json", "showmigrations", "--plan"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let applied = assert_shape("showmigrations", &out.stdout);
    let entries = applied.as_array().unwrap();
    assert!(!entries.is_empty());
    assert!(entries.iter().all(|e| e["applied"] == true), "{applied:#}");

    let out = strata(dir.path(), &["--format", "json", "inspectdb", "tracker"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let inspected = assert_shape("inspectdb", &out.stdout);
    let transaction = inspected["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "tracker_transaction")
        .expect("tracker_transaction is inspected");
    assert!(!transaction["foreign_keys"].as_array().unwrap().is_empty());

    let out = strata(
        dir.path(),
        &["--format", "json", "sqlmigrate", "tracker", "0001"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_shape("sqlmigrate", &out.stdout);
    let out = strata(dir.path(), &["--format", "json", "lint", "tracker", "0001"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_shape("lint", &out.stdout);
}
for_each_backend!(server_listings_match_their_schemas, server_listings);

#[test]
fn sqlmigrate_and_lint_offline_match_their_schemas() {
    for dialect in ["sqlite", "postgres", "mysql", "mariadb"] {
        for backwards in [false, true] {
            let mut args = vec![
                "--format",
                "json",
                "sqlmigrate",
                "tracker",
                "0001",
                "--dialect",
                dialect,
            ];
            if backwards {
                args.push("--backwards");
            }
            let out = strata(&tracker(), &args);
            assert_eq!(out.code, 0, "{dialect}: {}", out.stderr);
            let shown = assert_shape("sqlmigrate", &out.stdout);
            assert_eq!(
                shown["direction"],
                if backwards { "backward" } else { "forward" }
            );
            assert!(!shown["operations"].as_array().unwrap().is_empty());
        }
        let out = strata(
            &tracker(),
            &["--format", "json", "lint", "--dialect", dialect],
        );
        assert!(out.code == 0 || out.code == 1, "{dialect}: {}", out.stderr);
        assert_shape("lint", &out.stdout);
    }
}

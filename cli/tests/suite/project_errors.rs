//! Broken projects give a located message and exit code 2, and change nothing.

use crate::common;
use crate::common::{project, strata};

const CONFIG: &str = "[project]\napps = [\"a\"]\n";

#[test]
fn broken_migration_file_is_located_by_line_and_column() {
    let dir = project(&[
        ("strata.toml", CONFIG),
        (
            "apps/a/migrations/0001_initial.toml",
            "dependencies = []\n\n[[operations]]\nkind = \"create_tabel\"\nname = \"t\"\n",
        ),
    ]);
    let out = strata(dir.path(), &["showmigrations", "--plan"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("0001_initial.toml:4:8"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("create_tabel"), "{}", out.stderr);
}

#[test]
fn two_leaves_name_both_files_and_suggest_merge() {
    let initial = "dependencies = []\n";
    let child = "dependencies = [\"a.0001_initial\"]\n";
    let dir = project(&[
        ("strata.toml", CONFIG),
        ("apps/a/migrations/0001_initial.toml", initial),
        ("apps/a/migrations/0002_left.toml", child),
        ("apps/a/migrations/0002_right.toml", child),
    ]);
    let out = strata(dir.path(), &["showmigrations"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("0002_left.toml"), "{}", out.stderr);
    assert!(out.stderr.contains("0002_right.toml"), "{}", out.stderr);
    assert!(
        out.stderr.contains("makemigrations --merge"),
        "{}",
        out.stderr
    );
}

#[test]
fn missing_dependency_and_cycles_are_reported() {
    let dir = project(&[
        ("strata.toml", CONFIG),
        (
            "apps/a/migrations/0001_initial.toml",
            "dependencies = [\"b.0001_x\"]\n",
        ),
    ]);
    let out = strata(dir.path(), &["showmigrations"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("`b.0001_x` of a.0001_initial does not exist"),
        "{}",
        out.stderr
    );

    let dir = project(&[
        ("strata.toml", "[project]\napps = [\"a\", \"b\"]\n"),
        (
            "apps/a/migrations/0001_x.toml",
            "dependencies = [\"b.0001_y\"]\n",
        ),
        (
            "apps/b/migrations/0001_y.toml",
            "dependencies = [\"a.0001_x\"]\n",
        ),
    ]);
    let out = strata(dir.path(), &["showmigrations"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("dependency cycle"), "{}", out.stderr);
}

#[test]
fn an_operation_that_does_not_fit_names_file_and_operation() {
    let dir = project(&[
        ("strata.toml", CONFIG),
        (
            "apps/a/migrations/0001_initial.toml",
            "[[operations]]\nkind = \"drop_table\"\nname = \"ghost\"\n",
        ),
    ]);
    let out = strata(
        dir.path(),
        &["sqlmigrate", "a", "0001", "--dialect", "sqlite"],
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("0001_initial"), "{}", out.stderr);
    assert!(out.stderr.contains("operation 1"), "{}", out.stderr);
    assert!(
        out.stderr.contains("`ghost` does not exist"),
        "{}",
        out.stderr
    );
}

#[test]
fn irreversible_migration_backwards_names_the_migration() {
    let dir = project(&[
        ("strata.toml", CONFIG),
        (
            "apps/a/migrations/0001_initial.toml",
            "[[operations]]\nkind = \"run_sql\"\nsql = \"SELECT 1\"\n",
        ),
    ]);
    let out = strata(
        dir.path(),
        &[
            "sqlmigrate",
            "a",
            "0001",
            "--backwards",
            "--dialect",
            "postgres",
        ],
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("a.0001_initial"), "{}", out.stderr);
    assert!(out.stderr.contains("irreversible"), "{}", out.stderr);
}

#[test]
fn missing_project_and_app_folder_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let out = strata(dir.path(), &["showmigrations"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no strata.toml"), "{}", out.stderr);

    let dir = project(&[("strata.toml", "[project]\napps = [\"ghost\"]\n")]);
    let out = strata(dir.path(), &["showmigrations"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("app `ghost`"), "{}", out.stderr);
}

#[test]
fn plan_is_ordered_across_apps() {
    // A copy: the bundled example's own database is the README's to migrate.
    let dir = common::tracker_copy("sqlite://db.sqlite3");
    // An empty database: read-only commands do not create a missing SQLite file.
    std::fs::File::create(dir.path().join("db.sqlite3")).unwrap();
    let out = strata(dir.path(), &["showmigrations", "--plan"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "[ ]  auth.0001_initial\n[ ]  tracker.0001_initial\n"
    );
    let json = strata(
        dir.path(),
        &["showmigrations", "--plan", "--format", "json"],
    );
    let parsed: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(parsed[1]["app"], "tracker");
    assert_eq!(parsed[1]["applied"], false);
}

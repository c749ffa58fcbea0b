//! Recovery after a migration stopped part-way (exit 6): the message says exactly how
//! to go on; the operations that did not run may be edited before resuming, the ones
//! that ran may not (named in the refusal); the suggested rollback works; and
//! `showmigrations` marks a file edited after it was applied.

use strata_engine::migration::checksum;

use crate::common::db::{Kind, TestDb};
use crate::common::{project, strata};
use crate::executor::TABLE;
use strata_testkit::for_each_backend;

fn config(db: &TestDb) -> String {
    format!(
        "[project]\napps = [\"jobs\"]\n\n[database]\nurl = {:?}\nlock_timeout = \"10s\"\n",
        db.url
    )
}

/// Step by step on every backend (`atomic = false`; MariaDB commits DDL anyway). `{1}`,
/// `{2}` stand for the first table's column type and the second operation's SQL.
const STEPS: &str = r#"dependencies = ["jobs.0001_table"]
atomic = false

[[operations]]
kind = "create_table"
name = "jobs_first"
primary_key = ["id"]
columns = [{ name = "id", type = "{1}" }]

[[operations]]
kind = "run_sql"
sql = "{2}"
reverse_sql = "DROP TABLE jobs_second"

[[operations]]
kind = "create_table"
name = "jobs_third"
primary_key = ["id"]
columns = [{ name = "id", type = "int" }]
"#;

/// Operation 2 is a syntax error on every backend; `fixed` is what the user writes.
const BROKEN_SQL: &str = "CREATE TABLE jobs_second (id int,)";
const FIXED_SQL: &str = "CREATE TABLE jobs_second (id int)";

fn steps(first_type: &str, sql: &str) -> String {
    STEPS.replace("{1}", first_type).replace("{2}", sql)
}

const STEPS_FILE: &str = "apps/jobs/migrations/0002_steps.toml";

fn history(db: &TestDb) -> Vec<Vec<Option<String>>> {
    db.query("SELECT name, state, operations_done, checksum FROM strata_migrations ORDER BY name")
}

/// Projects whose 0002 stops after its operation 1, on `kind`: the database, the
/// project and the output of the failed run.
fn stopped_after_operation_1(kind: Kind) -> Option<(TestDb, tempfile::TempDir, String)> {
    let db = TestDb::create(kind)?;
    let config = config(&db);
    let dir = project(&[
        ("strata.toml", &config),
        ("apps/jobs/migrations/0001_table.toml", TABLE),
        (STEPS_FILE, &steps("int", BROKEN_SQL)),
    ]);
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 6, "{}\n{}", out.stdout, out.stderr);
    let rows = history(&db);
    assert_eq!(
        rows[1][..3],
        [
            Some("0002_steps".into()),
            Some("partial".into()),
            Some("1".into())
        ]
    );
    Some((db, dir, out.stderr))
}

/// Exit 6 says how to resume; an edit of the operation that ran is refused, naming
/// it; the fix of the failed one is taken and the run completes, recording the file's
/// checksum.
fn fix_the_failed_operation_and_resume(kind: Kind) {
    let Some((db, dir, stderr)) = stopped_after_operation_1(kind) else {
        return;
    };
    let path = dir.path();
    for expected in [
        "jobs.0002_steps stopped after operation 1 of 3.",
        "you may edit operations 2–3 of ",
        "0002_steps.toml, not operation 1",
        "then run `strata migrate` to resume at operation 2",
        "(or `strata migrate jobs 0001_table` to roll back what was applied)",
    ] {
        assert!(stderr.contains(expected), "{expected:?} in:\n{stderr}");
    }
    let before = (history(&db), db.table_names());

    // Operation 1 ran: editing it is refused, naming it, and nothing changes.
    std::fs::write(path.join(STEPS_FILE), steps("bigint", FIXED_SQL)).unwrap();
    let out = strata(path, &["migrate"]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    for expected in [
        "0002_steps.toml: jobs.0002_steps stopped after 1 of 3 operations",
        "operation 1 changed since it ran",
        "only operations 2–3 (not yet run) may be edited",
        "--accept-edited",
    ] {
        assert!(
            out.stderr.contains(expected),
            "{expected:?} in:\n{}",
            out.stderr
        );
    }
    assert_eq!(
        (history(&db), db.table_names()),
        before,
        "nothing may change"
    );
    let shown = strata(path, &["showmigrations"]);
    assert!(shown.stdout.contains(" [!] 0002_steps"), "{}", shown.stdout);

    // Operation 2 did not run: fixing it is allowed (showmigrations agrees), and the
    // run resumes at it.
    let fixed = steps("int", FIXED_SQL);
    std::fs::write(path.join(STEPS_FILE), &fixed).unwrap();
    let shown = strata(path, &["showmigrations"]);
    assert!(
        shown
            .stdout
            .contains(" [~] 0002_steps  (partially applied: 1 operations done)"),
        "{}",
        shown.stdout
    );
    let out = strata(path, &["migrate"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let rows = history(&db);
    assert_eq!(
        rows[1],
        [
            Some("0002_steps".into()),
            Some("applied".into()),
            Some("3".into()),
            Some(checksum(&fixed)),
        ]
    );
    let tables = db.table_names();
    for table in ["jobs_first", "jobs_second", "jobs_third"] {
        assert!(tables.contains(&table.to_string()), "{tables:?}");
    }
    let shown = strata(path, &["showmigrations"]);
    assert!(
        shown.stdout.contains(" [X] 0002_steps\n"),
        "{}",
        shown.stdout
    );
}

for_each_backend!(
    a_partial_migration_resumes_after_its_remainder_is_fixed,
    fix_the_failed_operation_and_resume
);

/// The rollback that exit 6 suggests undoes what was applied.
#[test]
fn the_suggested_rollback_undoes_what_was_applied() {
    let Some((db, dir, stderr)) = stopped_after_operation_1(Kind::Mariadb) else {
        return;
    };
    let command = stderr
        .split("(or `strata ")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("no rollback command in:\n{stderr}"));
    let args: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(args, ["migrate", "jobs", "0001_table"]);
    let out = strata(dir.path(), &args);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(history(&db).len(), 1);
    assert!(!db.table_names().contains(&"jobs_first".to_string()));
}

/// An applied file edited afterwards: `[!]` with what to do, `"edited": true` in JSON,
/// and `migrate` refuses until the file is restored or the edit accepted.
#[test]
fn showmigrations_marks_an_edited_applied_migration() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let config = config(&db);
    let fixed = steps("int", FIXED_SQL);
    let dir = project(&[
        ("strata.toml", &config),
        ("apps/jobs/migrations/0001_table.toml", TABLE),
        (STEPS_FILE, &fixed),
    ]);
    let path = dir.path();
    assert_eq!(strata(path, &["migrate"]).code, 0);
    std::fs::write(path.join(STEPS_FILE), steps("bigint", FIXED_SQL)).unwrap();

    let shown = strata(path, &["showmigrations"]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert!(
        shown
            .stdout
            .contains(" [X] 0001_table\n [!] 0002_steps  (applied; edited)\n"),
        "{}",
        shown.stdout
    );
    assert!(
        shown.stdout.contains("0002_steps.toml: applied migration jobs.0002_steps was edited after it was applied; restore the file, or run `strata migrate --accept-edited`"),
        "{}",
        shown.stdout
    );
    let json = strata(path, &["showmigrations", "--format", "json"]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let entries: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let edited: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["edited"] == serde_json::Value::Bool(true))
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(edited, ["0002_steps"], "{}", json.stdout);
    assert!(
        !json.stdout.contains("\"edited\": false"),
        "left out when false: {}",
        json.stdout
    );

    let out = strata(path, &["migrate"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("was edited after it was applied"),
        "{}",
        out.stderr
    );
    let out = strata(path, &["migrate", "--accept-edited"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let shown = strata(path, &["showmigrations"]);
    assert!(
        shown.stdout.contains(" [X] 0002_steps\n"),
        "{}",
        shown.stdout
    );
    assert!(!shown.stdout.contains("[!]"), "{}", shown.stdout);
}

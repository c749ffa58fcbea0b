//! `run_code` through the CLI, which cannot run the application's functions: a pending
//! one is refused before anything runs (naming the migration, the operation, the
//! function and the two ways out), `--fake` records it, and `sqlmigrate` shows where it
//! would run on every dialect.

use crate::backfill_kill::{config, state};
use crate::common::db::{Kind, TestDb};
use crate::common::json_shape::assert_shape;
use crate::common::{project, strata};
use strata_testkit::for_each_backend;

const TICKETS: &str = r#"[[operations]]
kind = "create_table"
name = "tickets"
primary_key = ["id"]
columns = [
  { name = "id", type = "bigint", auto = true },
  { name = "title", type = "varchar(100)" },
  { name = "slug", type = "varchar(100)", null = true },
]
"#;

const CODE: &str = r#"dependencies = ["jobs.0001_tickets"]

[[operations]]
kind = "run_sql"
sql = "INSERT INTO tickets (title) VALUES ('First')"
reverse_sql = "DELETE FROM tickets"

[[operations]]
kind = "run_code"
name = "fill_slugs"
reverse = "clear_slugs"
"#;

fn files(config: &str) -> tempfile::TempDir {
    project(&[
        ("strata.toml", config),
        ("apps/jobs/migrations/0001_tickets.toml", TICKETS),
        ("apps/jobs/migrations/0002_code.toml", CODE),
    ])
}

/// The refusal names what to run and how, and nothing of the plan ran: not even the
/// migration before it, nor the history table.
fn refused_before_anything_runs(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = files(&config(&db));
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 2, "{kind:?}: {}\n{}", out.stdout, out.stderr);
    for part in [
        "jobs.0002_code",
        "operation 2",
        "fill_slugs",
        "strata::Migrator",
        "--fake",
    ] {
        assert!(
            out.stderr.contains(part),
            "{kind:?}: the message lacks {part:?}: {}",
            out.stderr
        );
    }
    assert_eq!(
        db.table_names(),
        Vec::<String>::new(),
        "{kind:?}: something ran"
    );

    let out = strata(dir.path(), &["migrate", "--format", "json"]);
    assert_eq!(out.code, 2, "{kind:?}: {}", out.stderr);
    let report = assert_shape("migrate", &out.stdout);
    assert_eq!(report["outcome"], "failed");
    assert_eq!(report["error"]["exit_code"], 2);
    assert!(
        report["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("fill_slugs")),
        "{report}"
    );
    assert_eq!(db.table_names(), Vec::<String>::new());
}

for_each_backend!(run_code_refused_by_the_cli, refused_before_anything_runs);

/// `--fake` records the migration without calling anything; the next run has nothing
/// to do, and a rollback (which would call `clear_slugs`) is refused in turn.
fn fake_records_it(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = files(&config(&db));
    let out = strata(dir.path(), &["migrate", "jobs", "0001"]);
    assert_eq!(out.code, 0, "{kind:?}: {}", out.stderr);
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 2, "{kind:?}: {}", out.stderr);
    assert_eq!(
        state(&db, "0002_code"),
        None,
        "{kind:?}: recorded when refused"
    );

    let out = strata(dir.path(), &["migrate", "--fake"]);
    assert_eq!(out.code, 0, "{kind:?}: {}", out.stderr);
    assert_eq!(state(&db, "0002_code").as_deref(), Some("applied"));
    // Faked: not even the run_sql before the function ran.
    assert!(db.query("SELECT id FROM tickets").is_empty());
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{kind:?}: {}", out.stderr);
    assert!(
        out.stdout.contains("No migrations to apply"),
        "{}",
        out.stdout
    );

    let out = strata(dir.path(), &["migrate", "jobs", "0001"]);
    assert_eq!(out.code, 2, "{kind:?}: {}", out.stderr);
    assert!(
        out.stderr.contains("clear_slugs"),
        "{kind:?}: {}",
        out.stderr
    );
    assert_eq!(state(&db, "0002_code").as_deref(), Some("applied"));
}

for_each_backend!(run_code_faked_by_the_cli, fake_records_it);

/// Offline, for every dialect: the script shows the call where it runs, as a comment,
/// after the statement before it.
#[test]
fn sqlmigrate_shows_the_call_on_every_dialect() {
    let dir = files("[project]\napps = [\"jobs\"]\n");
    for dialect in ["sqlite", "postgres", "mysql"] {
        let out = strata(
            dir.path(),
            &["sqlmigrate", "jobs", "0002", "--dialect", dialect],
        );
        assert_eq!(out.code, 0, "{dialect}: {}", out.stderr);
        let call = out
            .stdout
            .lines()
            .position(|l| l.starts_with("--") && l.contains("run_code") && l.contains("fill_slugs"))
            .unwrap_or_else(|| panic!("{dialect}: no placeholder for fill_slugs:\n{}", out.stdout));
        let insert = out
            .stdout
            .lines()
            .position(|l| l.contains("INSERT INTO"))
            .expect("the run_sql");
        assert!(insert < call, "{dialect}: out of order:\n{}", out.stdout);

        let out = strata(
            dir.path(),
            &[
                "sqlmigrate",
                "jobs",
                "0002",
                "--dialect",
                dialect,
                "--backwards",
            ],
        );
        assert_eq!(out.code, 0, "{dialect}: {}", out.stderr);
        assert!(
            out.stdout
                .lines()
                .any(|l| l.starts_with("--") && l.contains("clear_slugs")),
            "{dialect}: no placeholder for the reverse:\n{}",
            out.stdout
        );

        // --explain prints the same placeholder: a comment, with no `;` the
        // database would be sent.
        let out = strata(
            dir.path(),
            &[
                "sqlmigrate",
                "jobs",
                "0002",
                "--dialect",
                dialect,
                "--explain",
            ],
        );
        assert_eq!(out.code, 0, "{dialect}: {}", out.stderr);
        let placeholder = out
            .stdout
            .lines()
            .find(|l| l.contains("run_code") && l.contains("fill_slugs"))
            .unwrap_or_else(|| panic!("{dialect}: no placeholder:\n{}", out.stdout));
        assert!(
            placeholder.starts_with("--") && !placeholder.ends_with(';'),
            "{dialect}: {placeholder}"
        );
    }
}

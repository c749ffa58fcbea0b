//! `migrate --rehearse` on each backend, on a table of a million rows: the pending
//! plan runs on a throwaway copy, each operation is reported with its duration, rows,
//! rewrite and locks, and the original database is left exactly as it was (schema,
//! rows, history); the copy is gone afterwards. A failing operation and one slower
//! than `--max-duration` make it exit 1, naming them. One test per backend, the
//! million rows built once. Every JSON document is held to
//! schemas/output/migrate-rehearse.schema.json.
//!
//! Also: nothing pending makes no copy; `[rehearsal] max_duration` (file, variable)
//! under the flag; Ctrl-C says the database was untouched; the flags a rehearsal
//! refuses.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use strata_engine::SchemaState;
use strata_testkit::rows::COUNTER_TABLE_MIGRATION;

use crate::backfill_kill::{config, count, fill, state};
use crate::common::db::{block_on, Kind, TestDb};
use crate::common::json_shape::assert_shape;
use crate::common::{command, project, strata, Output};
use strata_testkit::for_each_backend;

const ROWS: u64 = 1_000_000;

/// The schema of the rehearsal's JSON document, in schemas/output/.
const SCHEMA: &str = "migrate-rehearse";

/// A nullable column (no rewrite anywhere), an index, a type change (a rewrite on
/// every backend: PostgreSQL's `ALTER TYPE`, MySQL's `ALGORITHM=COPY`, SQLite's
/// rebuild).
const CHANGE: &str = r#"dependencies = ["jobs.0001_items"]

[[operations]]
kind = "add_column"
table = "items"
column = { name = "note", type = "text", null = true }

[[operations]]
kind = "create_index"
table = "items"
index = { name = "items_n_idx", columns = ["n"] }

[[operations]]
kind = "alter_column"
table = "items"
column = "n"
type = "bigint"
"#;

/// Fails on the copy: every `n` is 0.
const UNIQUE: &str = r#"dependencies = ["jobs.0002_change"]

[[operations]]
kind = "create_index"
table = "items"
index = { name = "items_n_uniq", columns = ["n"], unique = true }
"#;

/// What must not change: the live schema, the rows, the history.
#[derive(Debug, PartialEq)]
struct Snapshot {
    schema: SchemaState,
    items: u64,
    history: Vec<Vec<Option<String>>>,
}

fn snapshot(db: &TestDb) -> Snapshot {
    let schema = block_on(async {
        let mut driver = db.connect().await;
        let schema = driver.introspect().await.unwrap();
        driver.close().await.unwrap();
        schema
    });
    Snapshot {
        schema,
        items: count(db, "SELECT count(*) FROM items"),
        history: db
            .query("SELECT app, name, state, checksum FROM strata_migrations ORDER BY app, name"),
    }
}

/// Whether the copy the report names still exists.
fn copy_exists(db: &TestDb, report: &Value) -> bool {
    let name = report["copy"]["name"].as_str().expect("the copy's name");
    assert!(name.contains("_strata_rehearsal_"), "{report}");
    copies_ending(db, name.rsplit('_').next().unwrap()) > 0
}

/// How many rehearsal copies of process `pid` exist beside `db` (a SQLite file:
/// in its folder).
fn copies_ending(db: &TestDb, pid: &str) -> usize {
    let marker = format!("_strata_rehearsal_{pid}");
    let sql = match db.kind {
        Kind::Sqlite => {
            let file = db.url.strip_prefix("sqlite://").unwrap();
            let folder = Path::new(file).parent().unwrap();
            return std::fs::read_dir(folder)
                .unwrap()
                .filter(|e| {
                    let name = e.as_ref().unwrap().file_name();
                    let name = name.to_string_lossy();
                    name.contains(&format!("{marker}.")) || name.ends_with(&marker)
                })
                .count();
        }
        Kind::Postgres => format!("SELECT 1 FROM pg_database WHERE datname LIKE '%{marker}'"),
        Kind::Mariadb => {
            format!("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '%{marker}'")
        }
    };
    db.query(&sql).len()
}

fn operations(report: &Value) -> &Vec<Value> {
    report["migrations"][0]["operations"]
        .as_array()
        .unwrap_or_else(|| panic!("no operations: {report}"))
}

fn rehearse_a_million_rows(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = project(&[
        ("strata.toml", &config(&db)),
        (
            "apps/jobs/migrations/0001_items.toml",
            COUNTER_TABLE_MIGRATION,
        ),
        ("apps/jobs/migrations/0002_change.toml", CHANGE),
    ]);
    let out = strata(dir.path(), &["migrate", "jobs", "0001"]);
    assert_eq!(out.code, 0, "{kind:?}: {}", out.stderr);
    fill(&db, ROWS);
    let before = snapshot(&db);

    // A rehearsal that passes.
    let out = strata(dir.path(), &["migrate", "--rehearse", "--format", "json"]);
    assert_eq!(out.code, 0, "{kind:?}: {}\n{}", out.stdout, out.stderr);
    let report = assert_shape(SCHEMA, &out.stdout);
    assert_eq!(report["outcome"], "ok", "{report}");
    assert_eq!(
        report["migrations"].as_array().unwrap().len(),
        1,
        "{report}"
    );
    assert_eq!(report["migrations"][0]["migration"], "jobs.0002_change");
    let ops = operations(&report);
    assert_eq!(ops.len(), 3, "one entry per operation: {report}");
    for (i, op) in ops.iter().enumerate() {
        assert_eq!(op["index"], i + 1, "{report}");
        assert!(op["duration_ms"].as_f64().unwrap() > 0.0, "{kind:?} {op}");
        assert_eq!(op["rows"], ROWS, "{kind:?} {op}");
        assert_eq!(op["table"], "items", "{op}");
        assert!(op["error"].is_null(), "{op}");
        assert!(!op["locks"].as_array().unwrap().is_empty(), "{op}");
    }
    assert_eq!(
        ops[0]["rewrote"], false,
        "{kind:?}: a nullable column: {report}"
    );
    assert_eq!(ops[1]["rewrote"], false, "{kind:?}: an index: {report}");
    assert_eq!(ops[2]["rewrote"], true, "{kind:?}: a type change: {report}");
    if kind == Kind::Postgres {
        assert_eq!(ops[2]["locks"][0], "ACCESS EXCLUSIVE on items", "{report}");
    }
    assert!(!copy_exists(&db, &report), "{kind:?}: copy left: {report}");
    assert_eq!(snapshot(&db), before, "{kind:?}: the original changed");
    assert_eq!(state(&db, "0002_change"), None, "still pending");

    // A failing operation and a time limit: exit 1, both named; nothing changed.
    std::fs::write(
        dir.path().join("apps/jobs/migrations/0003_unique.toml"),
        UNIQUE,
    )
    .unwrap();
    let out = strata(
        dir.path(),
        &[
            "migrate",
            "--rehearse",
            "--format",
            "json",
            "--max-duration",
            "1ms",
        ],
    );
    assert_eq!(out.code, 1, "{kind:?}: {}\n{}", out.stdout, out.stderr);
    let report = assert_shape(SCHEMA, &out.stdout);
    assert_eq!(report["outcome"], "failed", "{report}");
    let steps = report["migrations"].as_array().unwrap();
    assert_eq!(steps.len(), 2, "{report}");
    let failed = &steps[1]["operations"][0];
    assert_eq!(steps[1]["migration"], "jobs.0003_unique", "{report}");
    assert!(
        failed["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{kind:?}: the failure is in the report: {report}"
    );
    let errors: Vec<&str> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        errors.iter().any(
            |e| e.contains("jobs.0002_change operation 3 (Alter column items.n)")
                && e.contains("over --max-duration 1ms")
        ),
        "{kind:?}: the slow operation is named: {errors:?}"
    );
    assert_eq!(operations(&report)[2]["exceeded"], true, "{report}");
    assert!(!copy_exists(&db, &report), "{kind:?}: copy left: {report}");
    assert_eq!(snapshot(&db), before, "{kind:?}: the original changed");
    assert_eq!(state(&db, "0003_unique"), None);
}

for_each_backend!(a_million_rows, rehearse_a_million_rows);

/// A backfill of 200 batches 50 ms apart: ten seconds, unless interrupted.
const SLOW_BACKFILL: &str = r#"dependencies = ["jobs.0001_items"]

[[operations]]
kind = "backfill"
table = "items"
set = { n = "n + 1" }
batch_size = 100
pause = "50ms"
"#;

/// Ctrl-C while the plan runs on the copy: the run stops (exit 130), the copy is
/// dropped, the original is untouched.
fn ctrl_c_drops_the_copy(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = project(&[
        ("strata.toml", &config(&db)),
        (
            "apps/jobs/migrations/0001_items.toml",
            COUNTER_TABLE_MIGRATION,
        ),
        ("apps/jobs/migrations/0002_count.toml", SLOW_BACKFILL),
    ]);
    assert_eq!(strata(dir.path(), &["migrate", "jobs", "0001"]).code, 0);
    fill(&db, 20_000);
    let before = snapshot(&db);
    let mut child = command(dir.path(), &["migrate", "--rehearse", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    // The copy exists, then the run on it starts: a signal before that (while the
    // copy is made) would end strata at once.
    let started = Instant::now();
    while copies_ending(&db, &pid) == 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "no copy made");
        assert!(child.try_wait().unwrap().is_none(), "strata ended early");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{kind:?}: {stdout}\n{stderr}");
    let report = assert_shape(SCHEMA, &stdout);
    assert_eq!(report["outcome"], "interrupted", "{report}");
    assert_eq!(report["copy"]["dropped"], true, "{report}");
    assert_eq!(operations(&report)[0]["error"], "interrupted", "{report}");
    // What a real run says when interrupted does not apply: nothing reached the
    // database.
    assert!(
        !stderr.contains("applied every planned migration"),
        "{kind:?}: {stderr}"
    );
    assert!(
        stderr.contains("The database was not changed") && stderr.contains("was dropped"),
        "{kind:?}: {stderr}"
    );
    assert_eq!(copies_ending(&db, &pid), 0, "{kind:?}: the copy is left");
    assert_eq!(snapshot(&db), before, "{kind:?}: the original changed");
}

for_each_backend!(ctrl_c, ctrl_c_drops_the_copy);

/// Everything applied: nothing to rehearse, said so; no copy is made (none is
/// named, none is left), exit 0; JSON: outcome ok, no copy, no migrations.
fn nothing_pending_makes_no_copy(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = project(&[
        ("strata.toml", &config(&db)),
        (
            "apps/jobs/migrations/0001_items.toml",
            COUNTER_TABLE_MIGRATION,
        ),
    ]);
    assert_eq!(strata(dir.path(), &["migrate"]).code, 0);
    let before = snapshot(&db);

    let out = strata(dir.path(), &["migrate", "--rehearse"]);
    assert_eq!(out.code, 0, "{kind:?}: {}\n{}", out.stdout, out.stderr);
    assert_eq!(out.stdout.trim(), "No migrations to rehearse.", "{kind:?}");
    assert!(!out.stderr.contains("_strata_rehearsal_"), "{}", out.stderr);

    let out = strata(dir.path(), &["migrate", "--rehearse", "--format", "json"]);
    assert_eq!(out.code, 0, "{kind:?}: {}\n{}", out.stdout, out.stderr);
    let report = assert_shape(SCHEMA, &out.stdout);
    assert_eq!(report["outcome"], "ok", "{report}");
    assert!(
        report["copy"].is_null(),
        "{kind:?}: a copy was made: {report}"
    );
    assert_eq!(report["migrations"], serde_json::json!([]), "{report}");
    assert_eq!(snapshot(&db), before, "{kind:?}: the database changed");
}

for_each_backend!(nothing_pending, nothing_pending_makes_no_copy);

/// `strata` with extra environment variables.
fn strata_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let out = command(dir, args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `[rehearsal] max_duration` fails a slow operation like `--max-duration`, naming
/// the line that set it; `STRATA_REHEARSAL_MAX_DURATION` beats the file and the
/// flag beats both; a bad value is refused at its line (SQLite: the settings are
/// the same on every backend).
#[test]
fn the_time_limit_comes_from_strata_toml_the_environment_or_the_flag() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let limited = format!("{}\n[rehearsal]\nmax_duration = \"1ms\"\n", config(&db));
    let dir = project(&[
        ("strata.toml", &limited),
        (
            "apps/jobs/migrations/0001_items.toml",
            COUNTER_TABLE_MIGRATION,
        ),
        ("apps/jobs/migrations/0002_change.toml", CHANGE),
    ]);
    assert_eq!(strata(dir.path(), &["migrate", "jobs", "0001"]).code, 0);
    fill(&db, 20_000);
    let line = limited.lines().count();
    let rehearse = ["migrate", "--rehearse", "--format", "json"];

    let out = strata(dir.path(), &rehearse);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    let report = assert_shape(SCHEMA, &out.stdout);
    assert_eq!(report["max_duration_ms"], 1.0, "{report}");
    let errors = report["errors"].to_string();
    assert!(
        errors.contains("over max_duration 1ms ([rehearsal] in ")
            && errors.contains(&format!("strata.toml:{line}:")),
        "the setting and its line are named: {errors}"
    );

    let out = strata_with(
        dir.path(),
        &rehearse,
        &[("STRATA_REHEARSAL_MAX_DURATION", "1h")],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report = assert_shape(SCHEMA, &out.stdout);
    assert_eq!(report["max_duration_ms"], 3_600_000.0, "{report}");

    let mut flag = rehearse.to_vec();
    flag.extend(["--max-duration", "1h"]);
    let out = strata_with(
        dir.path(),
        &flag,
        &[("STRATA_REHEARSAL_MAX_DURATION", "1ms")],
    );
    assert_eq!(out.code, 0, "the flag wins: {}\n{}", out.stdout, out.stderr);

    let out = strata_with(
        dir.path(),
        &rehearse,
        &[("STRATA_REHEARSAL_MAX_DURATION", "soon")],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("STRATA_REHEARSAL_MAX_DURATION"),
        "{}",
        out.stderr
    );
    std::fs::write(
        dir.path().join("strata.toml"),
        limited.replace("\"1ms\"", "\"soon\""),
    )
    .unwrap();
    let out = strata(dir.path(), &rehearse);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("`max_duration` in [rehearsal]")
            && out.stderr.contains(&format!("strata.toml:{line}:")),
        "{}",
        out.stderr
    );
    assert_eq!(state(&db, "0002_change"), None, "still pending");
}

/// The flags that make no sense with a rehearsal are refused before anything runs.
#[test]
fn a_rehearsal_refuses_flags_that_make_no_sense_with_it() {
    let dir = project(&[(
        "strata.toml",
        "[project]\napps = []\n[database]\nurl = \"sqlite://db.sqlite3\"\n",
    )]);
    for flag in ["--fake", "--fake-initial", "--plan", "--check"] {
        let out = strata(dir.path(), &["migrate", "--rehearse", flag]);
        assert_eq!(out.code, 2, "{flag}: {}\n{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains("cannot be used with") && out.stderr.contains(flag),
            "{flag}: {}",
            out.stderr
        );
    }
    assert!(!dir.path().join("db.sqlite3").exists());
}

/// Passes on the copy only if its keys are the original's (0, 1 and 5, not 6).
const KEYS_KEPT: &str = r#"dependencies = ["jobs.0001_items"]

[[operations]]
kind = "run_sql"
sql = "INSERT INTO legacy (id, d) VALUES (6, '2021-01-01')"
reverse_sql = "DELETE FROM legacy WHERE id = 6"
"#;

/// MariaDB's copy takes the rows as they are stored: strata's strict session would
/// refuse the zero date and renumber the key 0, and the check constraint the row
/// with `k = 1`, failing a rehearsal the real run passes.
#[test]
fn mariadb_copies_rows_a_lax_mode_let_in() {
    let Some(db) = TestDb::create(Kind::Mariadb) else {
        return;
    };
    let dir = project(&[
        ("strata.toml", &config(&db)),
        (
            "apps/jobs/migrations/0001_items.toml",
            COUNTER_TABLE_MIGRATION,
        ),
        ("apps/jobs/migrations/0002_keys.toml", KEYS_KEPT),
    ]);
    let out = strata(dir.path(), &["migrate", "jobs", "0001"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Rows an older, laxer `sql_mode` let in: a zero date (also as the default), an
    // `AUTO_INCREMENT` key of 0.
    db.execute(
        "SET STATEMENT sql_mode = '' FOR CREATE TABLE legacy \
         (id int AUTO_INCREMENT PRIMARY KEY, d date NOT NULL DEFAULT '0000-00-00', \
         k int, CONSTRAINT legacy_k CHECK (k <> 1))",
    );
    db.execute(
        "SET STATEMENT sql_mode = 'NO_AUTO_VALUE_ON_ZERO' FOR \
         INSERT INTO legacy VALUES (0, '0000-00-00', 0), (5, '2020-01-01', 0)",
    );
    // And one a check constraint refuses, written with the checks off.
    db.execute(
        "SET STATEMENT check_constraint_checks = 0 FOR \
         INSERT INTO legacy VALUES (1, '2019-01-01', 1)",
    );
    let before = snapshot(&db);
    let out = strata(dir.path(), &["migrate", "--rehearse", "--format", "json"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(report["outcome"], "ok", "{report}");
    assert!(!copy_exists(&db, &report), "copy left: {report}");
    assert_eq!(snapshot(&db), before, "the original changed");
}

/// `--rehearse-sample 0`: no rows of the tables, but the whole history, so that the
/// plan on the copy is the real one (only `0002_change` pending, not `0001` again).
fn a_sample_keeps_the_history(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = project(&[
        ("strata.toml", &config(&db)),
        (
            "apps/jobs/migrations/0001_items.toml",
            COUNTER_TABLE_MIGRATION,
        ),
        ("apps/jobs/migrations/0002_change.toml", CHANGE),
    ]);
    assert_eq!(strata(dir.path(), &["migrate", "jobs", "0001"]).code, 0);
    fill(&db, 10);
    let before = snapshot(&db);
    let out = strata(
        dir.path(),
        &[
            "migrate",
            "--rehearse",
            "--rehearse-sample",
            "0",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{kind:?}: {}\n{}", out.stdout, out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    let steps = report["migrations"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{kind:?}: {report}");
    assert_eq!(steps[0]["migration"], "jobs.0002_change", "{report}");
    if kind != Kind::Sqlite {
        assert_eq!(report["copy"]["sample"], 0, "{report}");
        assert_eq!(operations(&report)[0]["rows"], 0, "{kind:?}: {report}");
    }
    assert!(!copy_exists(&db, &report), "{kind:?}: copy left: {report}");
    assert_eq!(snapshot(&db), before, "{kind:?}: the original changed");
}

for_each_backend!(sample_keeps_history, a_sample_keeps_the_history);

/// A nullable column: passes wherever the copy could be made.
const ADD_NOTE: &str = r#"dependencies = ["jobs.0001_items"]

[[operations]]
kind = "add_column"
table = "items"
column = { name = "note", type = "text", null = true }
"#;

/// PostgreSQL's row copy (here forced by a sample): a check constraint added `NOT
/// VALID` over rows it refuses is added to the copy after its rows, `NOT VALID`
/// again, not before them, where it refused the copy.
#[test]
fn postgres_row_copy_keeps_a_not_valid_check() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let dir = project(&[
        ("strata.toml", &config(&db)),
        (
            "apps/jobs/migrations/0001_items.toml",
            COUNTER_TABLE_MIGRATION,
        ),
        ("apps/jobs/migrations/0002_note.toml", ADD_NOTE),
    ]);
    assert_eq!(strata(dir.path(), &["migrate", "jobs", "0001"]).code, 0);
    fill(&db, 10);
    db.execute("ALTER TABLE items ADD CONSTRAINT items_n_positive CHECK (n > 0) NOT VALID");
    let before = snapshot(&db);
    let out = strata(
        dir.path(),
        &[
            "migrate",
            "--rehearse",
            "--rehearse-sample",
            "5",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(report["copy"]["method"], "rows", "{report}");
    assert_eq!(operations(&report)[0]["rows"], 5, "{report}");
    assert!(!copy_exists(&db, &report), "copy left: {report}");
    assert_eq!(snapshot(&db), before, "the original changed");
}

/// PostgreSQL's row copy (the template refused: another session is connected) reads
/// the source in one snapshot: a change committed while it runs (here, the history
/// emptied while the copy waits for `items`) is not half in the copy. Read table by
/// table, the copy had `items` but no history, and rehearsed `0001` again.
#[test]
fn postgres_row_copy_is_one_snapshot() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let dir = project(&[
        ("strata.toml", &config(&db)),
        (
            "apps/jobs/migrations/0001_items.toml",
            COUNTER_TABLE_MIGRATION,
        ),
        ("apps/jobs/migrations/0002_note.toml", ADD_NOTE),
    ]);
    assert_eq!(strata(dir.path(), &["migrate", "jobs", "0001"]).code, 0);
    fill(&db, 10);
    let out = block_on(async {
        let mut other = db.connect().await;
        other.execute("BEGIN").await.unwrap();
        other
            .execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
            .await
            .unwrap();
        let mut child = command(dir.path(), &["migrate", "--rehearse", "--format", "json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let waiting = "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
                       AND query LIKE 'COPY (SELECT%items%'";
        let started = Instant::now();
        // Another session: `other`'s transaction would see one snapshot of the view.
        let mut watcher = db.connect().await;
        while watcher.query(waiting).await.unwrap().is_empty() {
            assert!(started.elapsed() < Duration::from_secs(30), "no copy waits");
            assert!(child.try_wait().unwrap().is_none(), "strata ended early");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        other
            .execute("DELETE FROM strata_migrations")
            .await
            .unwrap();
        other.execute("COMMIT").await.unwrap();
        other.close().await.unwrap();
        watcher.close().await.unwrap();
        child.wait_with_output().unwrap()
    });
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(report["copy"]["method"], "rows", "{report}");
    let steps = report["migrations"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{report}");
    assert_eq!(steps[0]["migration"], "jobs.0002_note", "{report}");
    assert!(!copy_exists(&db, &report), "copy left: {report}");
}

/// MariaDB's copy reads the source without locking its rows: an application's open
/// write on the real database neither holds the copy up nor is held up by it (under
/// REPEATABLE READ, `INSERT … SELECT` share-locks each row it reads, and waited here
/// for `innodb_lock_wait_timeout`).
#[test]
fn mariadb_copy_takes_no_row_locks() {
    let Some(db) = TestDb::create(Kind::Mariadb) else {
        return;
    };
    let dir = project(&[
        ("strata.toml", &config(&db)),
        (
            "apps/jobs/migrations/0001_items.toml",
            COUNTER_TABLE_MIGRATION,
        ),
        ("apps/jobs/migrations/0002_note.toml", ADD_NOTE),
    ]);
    assert_eq!(strata(dir.path(), &["migrate", "jobs", "0001"]).code, 0);
    fill(&db, 10);
    let before = snapshot(&db);
    let finished = block_on(async {
        let mut app = db.connect().await;
        app.execute("START TRANSACTION").await.unwrap();
        app.execute("UPDATE items SET n = 1 WHERE id = 1")
            .await
            .unwrap();
        let mut child = command(dir.path(), &["migrate", "--rehearse", "--format", "json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() && started.elapsed() < Duration::from_secs(20) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let finished = child.try_wait().unwrap().is_some();
        if !finished {
            let _ = child.kill();
        }
        app.execute("ROLLBACK").await.unwrap();
        app.close().await.unwrap();
        finished.then(|| child.wait_with_output().unwrap())
    });
    let Some(out) = finished else {
        // The killed run's copy: `<database>_strata_rehearsal_<pid>`.
        let name = db.url.rsplit('/').next().unwrap().to_string();
        for row in db.query(&format!(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA \
             WHERE SCHEMA_NAME LIKE '{name}\\_strata\\_rehearsal\\_%'"
        )) {
            db.execute(&format!("DROP DATABASE `{}`", row[0].as_deref().unwrap()));
        }
        panic!("the copy waited for the application's open write");
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert!(!copy_exists(&db, &report), "copy left: {report}");
    assert_eq!(snapshot(&db), before, "the original changed");
}

/// Ctrl-C while the copy is being made (a million rows, copied row by row): the run
/// stops once the copy is made, and drops it, instead of exiting at once and leaving
/// it behind.
#[test]
fn ctrl_c_while_copying_drops_the_copy() {
    let Some(db) = TestDb::create(Kind::Mariadb) else {
        return;
    };
    let dir = project(&[
        ("strata.toml", &config(&db)),
        (
            "apps/jobs/migrations/0001_items.toml",
            COUNTER_TABLE_MIGRATION,
        ),
        ("apps/jobs/migrations/0002_note.toml", ADD_NOTE),
    ]);
    assert_eq!(strata(dir.path(), &["migrate", "jobs", "0001"]).code, 0);
    fill(&db, ROWS);
    let before = snapshot(&db);
    let child = command(dir.path(), &["migrate", "--rehearse", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let started = Instant::now();
    while copies_ending(&db, &pid) == 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "no copy made");
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    let left = copies_ending(&db, &pid);
    if left > 0 {
        let name = db.url.rsplit('/').next().unwrap();
        db.execute(&format!("DROP DATABASE `{name}_strata_rehearsal_{pid}`"));
    }
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(left, 0, "the copy is left");
    assert_eq!(snapshot(&db), before, "the original changed");
}

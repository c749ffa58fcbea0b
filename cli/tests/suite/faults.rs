//! Faults: a process killed inside a long migration, and a migration whose second of
//! three operations fails. PostgreSQL and SQLite keep nothing of the migration;
//! MariaDB keeps a checkpoint that matches the live schema; the next run completes.

use std::time::{Duration, Instant};

use crate::common::db::{Kind, TestDb};
use crate::common::spawn_migrate;
use crate::common::{project, strata};
use strata_testkit::for_each_backend;

pub(crate) fn config(db: &TestDb) -> String {
    format!(
        "[project]\napps = [\"jobs\"]\n\n[database]\nurl = {:?}\nlock_timeout = \"5s\"\n",
        db.url
    )
}

pub(crate) const CONTROL: &str = r#"[[operations]]
kind = "create_table"
name = "control"
primary_key = ["id"]
columns = [{ name = "id", type = "int" }, { name = "secs", type = "int" }]

[[operations]]
kind = "run_sql"
sql = "INSERT INTO control (id, secs) VALUES (1, 0)"
reverse_sql = "DELETE FROM control"
"#;

/// Operation 2 waits `control.secs` seconds (SQLite: counts, for about as long).
pub(crate) const SLOW: &str = r#"dependencies = ["jobs.0001_control"]

[[operations]]
kind = "create_table"
name = "first"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }]

[[operations]]
kind = "run_sql"
reverse_sql = "SELECT 1"
[operations.sql]
postgres = "SELECT pg_sleep((SELECT secs FROM control))"
mysql = "SELECT SLEEP((SELECT secs FROM control))"
sqlite = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < (SELECT secs FROM control) * 3000000) SELECT count(*) FROM c"

[[operations]]
kind = "create_table"
name = "third"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }]
"#;

pub(crate) fn history(db: &TestDb) -> Vec<Vec<Option<String>>> {
    db.query("SELECT name, state, operations_done FROM strata_migrations ORDER BY name")
}

pub(crate) fn row(name: &str, state: &str, done: &str) -> Vec<Option<String>> {
    vec![Some(name.into()), Some(state.into()), Some(done.into())]
}

/// Waits until the server shows the sleeping statement (or, for SQLite, a moment).
pub(crate) fn wait_until_sleeping(db: &TestDb) {
    let probe = match db.kind {
        // This test's database only: other tests sleep on the same server meanwhile.
        Kind::Postgres => "SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND state = 'active' AND datname = current_database()",
        Kind::Mariadb => "SELECT 1 FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP%' AND db = DATABASE()",
        Kind::Sqlite => {
            std::thread::sleep(Duration::from_secs(3));
            return;
        }
    };
    let started = Instant::now();
    while db.query(probe).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the migration never reached its slow operation"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn killed_mid_migration(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let config = config(&db);
    let dir = project(&[
        ("strata.toml", &config),
        ("apps/jobs/migrations/0001_control.toml", CONTROL),
        ("apps/jobs/migrations/0002_slow.toml", SLOW),
    ]);
    assert_eq!(strata(dir.path(), &["migrate", "jobs", "0001"]).code, 0);
    db.execute("UPDATE control SET secs = 60");

    let mut child = spawn_migrate(dir.path());
    wait_until_sleeping(&db);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(300)); // let the server notice the dead session

    let tables = db.table_names();
    if kind == Kind::Mariadb {
        assert!(tables.contains(&"first".to_string()), "{tables:?}");
        assert!(!tables.contains(&"third".to_string()), "{tables:?}");
        assert_eq!(history(&db)[1], row("0002_slow", "partial", "1"));
        let shown = strata(dir.path(), &["showmigrations"]);
        assert!(shown.stdout.contains("[~] 0002_slow"), "{}", shown.stdout);
    } else {
        assert!(
            !tables.contains(&"first".to_string()),
            "no trace of 0002: {tables:?}"
        );
        assert_eq!(
            history(&db).len(),
            1,
            "only 0001 recorded: {:?}",
            history(&db)
        );
    }

    // No stale lock (lock_timeout is 5 s): the next run completes.
    db.execute("UPDATE control SET secs = 0");
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    if kind == Kind::Mariadb {
        assert!(
            out.stdout.contains("Resuming jobs.0002_slow"),
            "{}",
            out.stdout
        );
    }
    assert_eq!(history(&db)[1], row("0002_slow", "applied", "3"));
    assert!(db.table_names().contains(&"third".to_string()));
}

for_each_backend!(
    a_process_killed_mid_migration_leaves_a_clean_state,
    killed_mid_migration
);

const FAILING: &str = r#"dependencies = ["jobs.0001_things"]

[[operations]]
kind = "create_table"
name = "first"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }]

[[operations]]
kind = "add_constraint"
table = "things"
constraint = { type = "unique", name = "things_code_uniq", columns = ["code"] }

[[operations]]
kind = "create_table"
name = "third"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }]
"#;

const THINGS: &str = r#"[[operations]]
kind = "create_table"
name = "things"
primary_key = ["id"]
columns = [{ name = "id", type = "int" }, { name = "code", type = "varchar(10)" }]

[[operations]]
kind = "run_sql"
sql = "INSERT INTO things (id, code) VALUES (1, 'a'), (2, 'a')"
reverse_sql = "DELETE FROM things"
"#;

fn second_of_three_fails(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let config = config(&db);
    let dir = project(&[
        ("strata.toml", &config),
        ("apps/jobs/migrations/0001_things.toml", THINGS),
        ("apps/jobs/migrations/0002_unique.toml", FAILING),
    ]);
    let out = strata(dir.path(), &["migrate"]);
    assert!(out.stderr.contains("jobs.0002_unique"), "{}", out.stderr);
    assert!(out.stderr.contains("operation 2 of 3"), "{}", out.stderr);
    assert!(
        out.stderr.contains("things_code_uniq"),
        "names the statement: {}",
        out.stderr
    );
    // MariaDB commits each DDL statement; PostgreSQL's safe plan builds the unique
    // index concurrently, outside the transaction, so the table created before it
    // commits in a group of its own. Only SQLite keeps the one transaction.
    if kind == Kind::Sqlite {
        assert_eq!(out.code, 4, "{}", out.stderr);
        assert!(out.stderr.contains("rolled back"), "{}", out.stderr);
        assert_eq!(history(&db).len(), 1);
        assert!(!db.table_names().contains(&"first".to_string()));
    } else {
        assert_eq!(out.code, 6, "{}", out.stderr);
        let duplicate = match kind {
            Kind::Mariadb => "Duplicate entry",
            _ => "is duplicated",
        };
        assert!(
            out.stderr.contains(duplicate),
            "server message: {}",
            out.stderr
        );
        assert!(out.stderr.contains("1 of 3 operations"), "{}", out.stderr);
        assert!(
            out.stderr.contains("resume at operation 2"),
            "{}",
            out.stderr
        );
        assert_eq!(history(&db)[1], row("0002_unique", "partial", "1"));
        assert!(db.table_names().contains(&"first".to_string()));
    }

    db.execute("DELETE FROM things WHERE id = 2");
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(history(&db)[1], row("0002_unique", "applied", "3"));
    let tables = db.table_names();
    assert!(
        tables.contains(&"first".to_string()) && tables.contains(&"third".to_string()),
        "{tables:?}"
    );
}

for_each_backend!(
    a_failing_second_operation_is_reported_and_resumed,
    second_of_three_fails
);

/// A checkpoint that lags the schema by one operation — a run killed between an
/// operation and its checkpoint — is recognised, in both directions.
fn checkpoint_one_behind(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let config = config(&db);
    let dir = project(&[
        ("strata.toml", &config),
        ("apps/jobs/migrations/0001_control.toml", CONTROL),
        ("apps/jobs/migrations/0002_slow.toml", SLOW),
    ]);
    assert_eq!(strata(dir.path(), &["migrate"]).code, 0);

    // Rolling back: `third` is already gone but the row still says 3 done.
    db.execute("DROP TABLE third");
    db.execute("UPDATE strata_migrations SET state = 'partial', operations_done = 3 WHERE name = '0002_slow'");
    let out = strata(dir.path(), &["migrate", "jobs", "0001"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(!db.table_names().contains(&"first".to_string()));
    assert_eq!(history(&db).len(), 1);

    // Applying: `first` exists but the row says 0 done.
    assert_eq!(strata(dir.path(), &["migrate"]).code, 0);
    db.execute("DROP TABLE third");
    db.execute("UPDATE strata_migrations SET state = 'partial', operations_done = 0 WHERE name = '0002_slow'");
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(history(&db)[1], row("0002_slow", "applied", "3"));
    assert!(db.table_names().contains(&"third".to_string()));
}

for_each_backend!(
    a_checkpoint_one_operation_behind_is_recognised,
    checkpoint_one_behind
);

/// A resumed migration after a fresh one in the same run starts from the right state.
fn resume_after_another_step(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let config = format!(
        "[project]\napps = [\"jobs\", \"extra\"]\n\n[database]\nurl = {:?}\n",
        db.url
    );
    let dir = project(&[
        ("strata.toml", &config),
        ("apps/jobs/migrations/0001_control.toml", CONTROL),
        ("apps/jobs/migrations/0002_slow.toml", SLOW),
        ("apps/extra/migrations/.keep", ""),
    ]);
    assert_eq!(strata(dir.path(), &["migrate"]).code, 0);
    db.execute("DROP TABLE third");
    db.execute("UPDATE strata_migrations SET state = 'partial', operations_done = 2 WHERE name = '0002_slow'");
    std::fs::write(
        dir.path().join("apps/extra/migrations/0001_initial.toml"),
        "[[operations]]\nkind = \"create_table\"\nname = \"aaa_extra\"\nprimary_key = [\"id\"]\ncolumns = [{ name = \"id\", type = \"int\" }]\n",
    )
    .unwrap();
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("Applying extra.0001_initial"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Resuming jobs.0002_slow"),
        "{}",
        out.stdout
    );
    assert!(db.table_names().contains(&"third".to_string()));
}

for_each_backend!(
    a_resume_after_another_migration_in_the_same_run,
    resume_after_another_step
);

//! The executor's promises on every backend: one statement per call (nothing can
//! chain a second), a multi-statement `run_sql` recorded and resumed statement by
//! statement, a MariaDB data statement committed with its checkpoint (a SIGKILL never
//! makes the rerun insert its rows again), PostgreSQL's invalid index rebuilt on
//! resume, and a user who may only read failing with nothing changed.

use std::time::{Duration, Instant};

use crate::common::db::{block_on, Kind, TestDb};
use crate::common::spawn_migrate;
use crate::common::{project, strata};
use strata_testkit::for_each_backend;

fn config(url: &str) -> String {
    format!("[project]\napps = [\"jobs\"]\n\n[database]\nurl = {url:?}\nlock_timeout = \"60s\"\n")
}

fn count(db: &TestDb, sql: &str) -> i64 {
    db.query(sql)[0][0].as_deref().unwrap().parse().unwrap()
}

/// A driver handed two statements refuses them before running either.
fn one_statement_per_call(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    db.execute("CREATE TABLE victim (id int)");
    block_on(async {
        let mut driver = db.connect().await;
        for sql in [
            "SELECT 1; DROP TABLE victim",
            "INSERT INTO victim VALUES (1);DROP TABLE victim;",
            "DROP TABLE victim; SELECT 1",
        ] {
            let err = driver.execute(sql).await.expect_err(sql);
            assert!(err.to_string().contains("DROP TABLE victim"), "{err}");
            let err = driver.query(sql).await.expect_err(sql);
            assert!(err.to_string().contains(sql), "{err}");
        }
        // One statement with a `;` inside a literal or comment is one statement.
        driver
            .execute("INSERT INTO victim VALUES (2) -- ; DROP TABLE victim")
            .await
            .unwrap();
        let rows = driver.query("SELECT ';', id FROM victim").await.unwrap();
        assert_eq!(rows, vec![vec![Some(";".into()), Some("2".into())]]);
        let _ = driver.close().await;
    });
    assert_eq!(db.table_names(), ["victim"]);
    assert_eq!(count(&db, "SELECT count(*) FROM victim"), 1);
}

for_each_backend!(a_driver_runs_exactly_one_statement, one_statement_per_call);

/// The first migration of the `jobs` app: one table.
pub(crate) const TABLE: &str = r#"[[operations]]
kind = "create_table"
name = "jobs_job"
primary_key = ["id"]
columns = [{ name = "id", type = "int" }]
"#;

/// Three statements; the second fails until `jobs_job` has no row with id 1.
const THREE: &str = r#"dependencies = ["jobs.0001_table"]
atomic = false

[[operations]]
kind = "run_sql"
sql = """
CREATE TABLE side (id int);
INSERT INTO jobs_job (id) VALUES (1);
INSERT INTO side (id) VALUES (7)
"""
reverse_sql = "DROP TABLE side"
"#;

fn history(db: &TestDb) -> Vec<Vec<Option<String>>> {
    db.query("SELECT name, state, operations_done FROM strata_migrations ORDER BY name")
}

/// Statement 2 of a `run_sql` fails: statement 1 (a table) stays and is recorded;
/// the rerun resumes at statement 2 instead of failing on statement 1 forever.
fn run_sql_resumes_at_the_failed_statement(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let config = config(&db.url);
    let dir = project(&[
        ("strata.toml", &config),
        ("apps/jobs/migrations/0001_table.toml", TABLE),
        ("apps/jobs/migrations/0002_three.toml", THREE),
    ]);
    assert_eq!(strata(dir.path(), &["migrate", "jobs", "0001"]).code, 0);
    // A primary key violation for statement 2.
    db.execute("INSERT INTO jobs_job (id) VALUES (1)");
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 6, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("statement 1 of operation 1"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("resume at statement 2 of operation 1"),
        "{}",
        out.stderr
    );
    assert!(db.table_names().contains(&"side".to_string()));
    assert_eq!(
        history(&db)[1],
        vec![
            Some("0002_three".into()),
            Some("partial:1".into()),
            Some("0".into())
        ]
    );
    let shown = strata(dir.path(), &["showmigrations"]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);

    // Rolling back cannot undo part of a run_sql: refused, nothing changed.
    let out = strata(dir.path(), &["migrate", "jobs", "0001"]);
    assert_eq!(out.code, 6, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("stopped inside operation 1"),
        "{}",
        out.stderr
    );
    assert!(db.table_names().contains(&"side".to_string()));
    assert_eq!(history(&db)[1][1].as_deref(), Some("partial:1"));
    // A checkpoint past the run_sql's statements is damage, not "all done".
    db.execute("UPDATE strata_migrations SET state = 'partial:3' WHERE name = '0002_three'");
    db.execute("DELETE FROM jobs_job");
    for args in [&["migrate", "--plan"][..], &["migrate"]] {
        let out = strata(dir.path(), args);
        assert_eq!(out.code, 2, "{args:?}: {}\n{}", out.stdout, out.stderr);
        assert!(out.stderr.contains("the row is damaged"), "{}", out.stderr);
    }
    assert_eq!(history(&db)[1][1].as_deref(), Some("partial:3"));
    db.execute("UPDATE strata_migrations SET state = 'partial:1' WHERE name = '0002_three'");

    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(count(&db, "SELECT count(*) FROM jobs_job"), 1);
    assert_eq!(count(&db, "SELECT count(*) FROM side"), 1);
    assert_eq!(
        history(&db)[1],
        vec![
            Some("0002_three".into()),
            Some("applied".into()),
            Some("1".into())
        ]
    );
}

for_each_backend!(
    a_multi_statement_run_sql_resumes_where_it_failed,
    run_sql_resumes_at_the_failed_statement
);

const ROWS: i64 = 200_000;

/// MariaDB: SIGKILL while a large `INSERT … SELECT` of a `run_sql` runs (it pauses
/// half-way, so the kill lands inside it). The insert and its checkpoint commit
/// together or not at all, so the rerun leaves exactly `ROWS` rows.
#[test]
fn mariadb_data_statement_commits_with_its_checkpoint() {
    let Some(db) = TestDb::create(Kind::Mariadb) else {
        return;
    };
    let config = config(&db.url);
    let big = r#"[[operations]]
kind = "create_table"
name = "big"
primary_key = ["n"]
columns = [{ name = "n", type = "bigint" }]
"#;
    let fill = format!(
        r#"dependencies = ["jobs.0001_big"]

[[operations]]
kind = "run_sql"
sql = "INSERT INTO big (n) SELECT seq FROM seq_1_to_{ROWS} WHERE seq <> {half} OR SLEEP(3) = 0"
reverse_sql = "DELETE FROM big"

[[operations]]
kind = "create_table"
name = "after_fill"
primary_key = ["id"]
columns = [{{ name = "id", type = "int" }}]
"#,
        half = ROWS / 2
    );
    let dir = project(&[
        ("strata.toml", &config),
        ("apps/jobs/migrations/0001_big.toml", big),
        ("apps/jobs/migrations/0002_fill.toml", &fill),
    ]);
    assert_eq!(strata(dir.path(), &["migrate", "jobs", "0001"]).code, 0);
    let mut child = spawn_migrate(dir.path());
    let started = Instant::now();
    while db
        .query("SELECT 1 FROM information_schema.processlist WHERE info LIKE 'INSERT INTO big%'")
        .is_empty()
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the insert never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL, mid-insert
    child.wait().unwrap();

    // The server finishes the insert on its own; the migration lock (60 s) waits for
    // that session to end, then the rerun resumes.
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(count(&db, "SELECT count(*) FROM big"), ROWS);
    assert_eq!(count(&db, "SELECT count(DISTINCT n) FROM big"), ROWS);
    assert!(db.table_names().contains(&"after_fill".to_string()));
}

/// PostgreSQL: a unique `CREATE INDEX CONCURRENTLY` fails on duplicate rows and
/// leaves an INVALID index, which the failed operation's cleanup drops; one left by a
/// build that was killed (no cleanup ran) is dropped and rebuilt by the rerun once the
/// data is fixed, instead of failing with "already exists" forever.
#[test]
fn postgres_invalid_index_is_rebuilt_on_resume() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let config = config(&db.url);
    let table = r#"[[operations]]
kind = "create_table"
name = "jobs_job"
primary_key = ["id"]
columns = [{ name = "id", type = "int" }, { name = "code", type = "int" }]
"#;
    let index = r#"dependencies = ["jobs.0001_table"]
atomic = false

[[operations]]
kind = "create_index"
table = "jobs_job"
index = { name = "jobs_job_code_uniq", columns = ["code"], unique = true }
"#;
    let dir = project(&[
        ("strata.toml", &config),
        ("apps/jobs/migrations/0001_table.toml", table),
        ("apps/jobs/migrations/0002_index.toml", index),
    ]);
    assert_eq!(strata(dir.path(), &["migrate", "jobs", "0001"]).code, 0);
    db.execute("INSERT INTO jobs_job (id, code) VALUES (1, 5), (2, 5)");
    let out = strata(dir.path(), &["migrate"]);
    assert_ne!(out.code, 0, "{}", out.stdout);
    let invalid = "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
                   WHERE NOT i.indisvalid";
    assert!(
        db.query(invalid).is_empty(),
        "the failed operation's cleanup drops the INVALID index its build left"
    );
    // A build killed part-way leaves one that no cleanup ran for.
    let killed = std::panic::catch_unwind(|| {
        db.execute("CREATE UNIQUE INDEX CONCURRENTLY jobs_job_code_uniq ON jobs_job (code)");
    });
    assert!(killed.is_err(), "the duplicates make the build fail");
    assert_eq!(
        db.query(invalid),
        vec![vec![Some("jobs_job_code_uniq".into())]],
        "a failed concurrent build leaves an invalid index"
    );

    db.execute("UPDATE jobs_job SET code = 6 WHERE id = 2");
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(db.query(invalid).is_empty());
    let valid = "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
                 WHERE i.indisvalid AND i.indisunique AND c.relname = 'jobs_job_code_uniq'";
    assert_eq!(count(&db, valid), 1);
    let err = std::panic::catch_unwind(|| {
        db.execute("INSERT INTO jobs_job (id, code) VALUES (3, 6)");
    });
    assert!(err.is_err(), "the rebuilt index enforces uniqueness");
}

/// A user who may only read: the first history write fails, nothing was applied,
/// so the exit is 4 (database), not 6 (partial), and the database is unchanged.
fn read_only_user(kind: Kind) {
    if kind == Kind::Sqlite {
        return; // SQLite has no users
    }
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let admin_config = config(&db.url);
    let second = r#"dependencies = ["jobs.0001_table"]

[[operations]]
kind = "create_table"
name = "jobs_more"
primary_key = ["id"]
columns = [{ name = "id", type = "int" }]
"#;
    let dir = project(&[
        ("strata.toml", &admin_config),
        ("apps/jobs/migrations/0001_table.toml", TABLE),
        ("apps/jobs/migrations/0002_more.toml", second),
    ]);
    assert_eq!(strata(dir.path(), &["migrate", "jobs", "0001"]).code, 0);
    let user = format!("ro_{}", std::process::id());
    let database = db.url.rsplit('/').next().unwrap().to_string();
    let reader_url = if kind == Kind::Postgres {
        db.execute(&format!("DROP ROLE IF EXISTS {user}"));
        db.execute(&format!("CREATE ROLE {user} LOGIN"));
        db.execute(&format!(
            "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {user}"
        ));
        db.url.replacen("postgres@", &format!("{user}@"), 1)
    } else {
        db.execute(&format!("DROP USER IF EXISTS '{user}'@'%'"));
        db.execute(&format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'"));
        db.execute(&format!("GRANT SELECT ON `{database}`.* TO '{user}'@'%'"));
        db.url.replacen("root@", &format!("{user}:pw@"), 1)
    };
    assert_ne!(reader_url, db.url, "the test URL names its user");
    std::fs::write(dir.path().join("strata.toml"), config(&reader_url)).unwrap();
    let before = history(&db);
    let out = strata(dir.path(), &["migrate"]);
    let cleanup = if kind == Kind::Postgres {
        vec![
            format!("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {user}"),
            format!("DROP ROLE {user}"),
        ]
    } else {
        vec![format!("DROP USER '{user}'@'%'")]
    };
    for sql in cleanup {
        db.execute(&sql);
    }
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("nothing of it was applied"),
        "{}",
        out.stderr
    );
    assert_eq!(history(&db), before);
    assert!(!db.table_names().contains(&"jobs_more".to_string()));
}

for_each_backend!(a_read_only_user_changes_nothing, read_only_user);

/// A compound statement whose body holds `;` (a trigger, a `BEGIN ATOMIC` procedure)
/// runs whole with `split = false`, forward and back.
const COMPOUND: &str = r#"[[operations]]
kind = "create_table"
name = "t"
primary_key = ["n"]
columns = [{ name = "n", type = "int" }]

[[operations]]
kind = "create_table"
name = "audit"
primary_key = ["n"]
columns = [{ name = "n", type = "int" }]

[[operations]]
kind = "run_sql"
split = false
[operations.sql]
sqlite = "CREATE TRIGGER t_audit AFTER INSERT ON t BEGIN INSERT INTO audit (n) VALUES (NEW.n); INSERT INTO audit (n) VALUES (NEW.n + 1); END;"
mysql = "CREATE TRIGGER t_audit AFTER INSERT ON t FOR EACH ROW BEGIN INSERT INTO audit (n) VALUES (NEW.n); INSERT INTO audit (n) VALUES (NEW.n + 1); END"
postgres = "CREATE PROCEDURE t_audit(x int) LANGUAGE SQL BEGIN ATOMIC INSERT INTO audit (n) VALUES (x); INSERT INTO audit (n) VALUES (x + 1); END"
[operations.reverse_sql]
sqlite = "DROP TRIGGER t_audit"
mysql = "DROP TRIGGER t_audit"
postgres = "DROP PROCEDURE t_audit"

[[operations]]
kind = "run_sql"
reverse_sql = "DELETE FROM t"
[operations.sql]
postgres = "INSERT INTO t (n) VALUES (10); CALL t_audit(10)"
default = "INSERT INTO t (n) VALUES (10)"
"#;

fn compound_statement(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = project(&[
        ("strata.toml", &config(&db.url)),
        ("apps/jobs/migrations/0001_compound.toml", COMPOUND),
    ]);
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        count(&db, "SELECT count(*) FROM audit"),
        2,
        "both inner statements ran"
    );
    let out = strata(dir.path(), &["migrate", "jobs", "zero"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(db.table_names().is_empty() || db.table_names() == ["strata_migrations"]);
}

for_each_backend!(a_compound_run_sql_runs_whole, compound_statement);

//! `strata sqlmigrate` on the bundled example, offline, for every dialect.

use crate::common::db::{Kind, TestDb};
use crate::common::{strata, tracker, tracker_copy};

#[test]
fn tracker_initial_on_sqlite_matches_django() {
    let out = strata(
        &tracker(),
        &["sqlmigrate", "tracker", "0001", "--dialect", "sqlite"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let sql = out.stdout;
    let begin = sql.find("BEGIN;").expect("a transaction");
    let commit = sql.find("COMMIT;").expect("a commit");
    let category = sql
        .find("CREATE TABLE \"tracker_category\"")
        .expect("category table");
    let transaction = sql
        .find("CREATE TABLE \"tracker_transaction\"")
        .expect("transaction table");
    assert!(
        begin < category && category < transaction && transaction < commit,
        "{sql}"
    );
    for line in [
        "\"id\" integer NOT NULL PRIMARY KEY AUTOINCREMENT",
        "\"name\" varchar(50) NOT NULL",
        "\"description\" text NOT NULL",
    ] {
        assert!(
            sql[category..transaction].contains(line),
            "missing {line}:\n{sql}"
        );
    }
    let transaction_sql = &sql[transaction..commit];
    let category_fk = transaction_sql
        .lines()
        .find(|l| l.trim_start().starts_with("\"category_id\""))
        .expect("category_id column");
    assert!(
        category_fk.contains(" NULL REFERENCES \"tracker_category\" (\"id\")"),
        "{category_fk}"
    );
    assert!(!category_fk.contains("NOT NULL"), "{category_fk}");
    let user_fk = transaction_sql
        .lines()
        .find(|l| l.trim_start().starts_with("\"user_id\""))
        .expect("user_id column");
    assert!(
        user_fk.contains(" NOT NULL REFERENCES \"auth_user\" (\"id\")"),
        "{user_fk}"
    );
}

#[test]
fn every_dialect_renders_both_directions_of_every_example_migration() {
    for dialect in ["sqlite", "postgres", "mysql", "mariadb"] {
        for (app, name) in [("auth", "0001"), ("tracker", "0001_initial")] {
            for backwards in [false, true] {
                let mut args = vec!["sqlmigrate", app, name, "--dialect", dialect];
                if backwards {
                    args.push("--backwards");
                }
                let out = strata(&tracker(), &args);
                assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
                let keyword = if backwards {
                    "DROP TABLE"
                } else {
                    "CREATE TABLE"
                };
                assert!(out.stdout.contains(keyword), "{args:?}:\n{}", out.stdout);
            }
        }
    }
}

#[test]
fn transaction_boundaries_follow_the_dialect() {
    let pg = strata(
        &tracker(),
        &["sqlmigrate", "auth", "0001", "--dialect", "postgres"],
    )
    .stdout;
    assert!(pg.lines().nth(1) == Some("BEGIN;"), "{pg}");
    assert!(pg.trim_end().ends_with("COMMIT;"), "{pg}");
    let mysql = strata(
        &tracker(),
        &["sqlmigrate", "auth", "0001", "--dialect", "mysql"],
    )
    .stdout;
    assert!(
        !mysql.contains("BEGIN;"),
        "MySQL DDL is not transactional:\n{mysql}"
    );
    assert!(mysql.contains("CREATE TABLE `auth_user`"), "{mysql}");
}

#[test]
fn backwards_undoes_in_reverse_order() {
    let out = strata(
        &tracker(),
        &[
            "sqlmigrate",
            "tracker",
            "0001",
            "--backwards",
            "--dialect",
            "postgres",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let t = out
        .stdout
        .find("DROP TABLE \"tracker_transaction\"")
        .expect("drop transaction");
    let c = out
        .stdout
        .find("DROP TABLE \"tracker_category\"")
        .expect("drop category");
    assert!(t < c, "{}", out.stdout);
}

#[test]
fn without_dialect_the_configured_database_decides_with_its_version() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let dir = tracker_copy(&db.url);
    // An empty database: read-only commands do not create a missing SQLite file.
    std::fs::File::create(db.url.trim_start_matches("sqlite://")).unwrap();
    let out = strata(dir.path(), &["sqlmigrate", "auth", "0001"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("AUTOINCREMENT"),
        "configured for SQLite:\n{}",
        out.stdout
    );

    let Some(pg) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let out = strata(
        dir.path(),
        &["--database", &pg.url, "sqlmigrate", "auth", "0001"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let version = pg.query("SHOW server_version")[0][0].clone().unwrap();
    let major = version.split('.').next().unwrap();
    assert!(
        out.stdout
            .starts_with(&format!("-- auth.0001_initial for postgres {major}.")),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("IDENTITY"), "{}", out.stdout);
}

#[test]
fn unknown_names_are_bad_input() {
    let out = strata(
        &tracker(),
        &["sqlmigrate", "nope", "0001", "--dialect", "sqlite"],
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("unknown app `nope`"), "{}", out.stderr);
    assert!(out.stderr.contains("auth, tracker"), "{}", out.stderr);

    let out = strata(
        &tracker(),
        &["sqlmigrate", "tracker", "0009", "--dialect", "sqlite"],
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no migration `0009`"), "{}", out.stderr);

    let out = strata(
        &tracker(),
        &["sqlmigrate", "tracker", "0001", "--dialect", "oracle"],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("unknown database `oracle`"),
        "{}",
        out.stderr
    );
}

//! Issue 12: the wide schema (testdata/wide, every construct of models.toml) created by
//! `strata makemigrations` + `strata migrate` on each backend, then read back from the
//! server's own catalog — not through strata's introspection, which could share a
//! mistake with the rendering — and compared, object by object, with the checked-in
//! dump of that backend (testdata/wide/expected/<dialect>.txt: sqlite, postgres,
//! mariadb; mysql when `STRATA_TEST_MYSQL_URL` names a MySQL). `STRATA_BLESS=1`
//! rewrites the expected dumps; read the change before committing it: they say what a
//! DBA finds in the database. Last, every app is migrated back to zero, where the
//! catalog must be empty, and forward again, where it must be the same as the first time.

mod dump;
mod mariadb;
mod postgres;
mod sql_text;
mod sqlite;

use std::path::{Path, PathBuf};

use strata_engine::dialect::driver::{Driver, Row};
use strata_testkit::for_each_backend;

use crate::common::db::{block_on, Kind, TestDb};
use crate::common::{copy_dir, run};

const BLESS: &str = "STRATA_BLESS=1 cargo test -p strata-cli --test suite catalog::";

/// strata's history table: its machinery, not the schema; left out of the dumps.
const HISTORY: &str = "strata_migrations";

/// Apps of testdata/wide left out on a backend: `nomysql` holds what MySQL/MariaDB
/// do not have (partial indexes, `SET DEFAULT`). Every other app of its `strata.toml`
/// is made everywhere.
const NOT_ON: &[(&str, Kind)] = &[
    ("nomysql", Kind::Mariadb),
    ("pgonly", Kind::Mariadb),
    ("pgonly", Kind::Sqlite),
];

fn wide() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/wide")
}

/// A copy of testdata/wide on `db`, with the apps `kind` can hold (in the order of
/// its `strata.toml`: dependencies first), no migrations.
fn project(kind: Kind, db: &TestDb) -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&wide(), dir.path());
    std::fs::remove_dir_all(dir.path().join("expected")).unwrap();
    let config = std::fs::read_to_string(dir.path().join("strata.toml")).unwrap();
    let listed = config
        .lines()
        .find_map(|l| l.strip_prefix("apps = "))
        .expect("testdata/wide/strata.toml lists its apps on one `apps = [...]` line");
    let mut apps = Vec::new();
    for app in listed.split('"').skip(1).step_by(2) {
        let folder = dir.path().join("apps").join(app);
        if NOT_ON.contains(&(app, kind)) {
            std::fs::remove_dir_all(folder).unwrap();
        } else {
            let _ = std::fs::remove_dir_all(folder.join("migrations"));
            apps.push(app.to_string());
        }
    }
    let listed = format!("apps = {apps:?}");
    let text = config
        .lines()
        .map(|l| {
            if l.starts_with("apps = ") {
                listed.clone()
            } else if l.starts_with("url = ") {
                format!("url = {:?}", db.url)
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.path().join("strata.toml"), text).unwrap();
    (dir, apps)
}

/// Runs one query; a failure names the query.
async fn query(d: &mut dyn Driver, sql: &str) -> Vec<Row> {
    d.query(sql).await.unwrap_or_else(|e| panic!("{sql}\n{e}"))
}

/// The text of a row's cell, empty for NULL.
fn cell(row: &Row, i: usize) -> String {
    row.get(i).cloned().flatten().unwrap_or_default()
}

/// A SQL string literal (names go into catalog queries as values, never as SQL).
fn lit(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The live catalog of `db`, and the server's dialect (`mysql` or `mariadb` for
/// `Kind::Mariadb`, which is whichever `STRATA_TEST_MYSQL_URL` names).
fn catalog(kind: Kind, db: &TestDb) -> (&'static str, dump::Catalog) {
    block_on(async {
        let mut d = db.connect().await;
        let dialect = d.dialect().name();
        let catalog = match kind {
            Kind::Sqlite => sqlite::dump(d.as_mut()).await,
            Kind::Postgres => postgres::dump(d.as_mut()).await,
            Kind::Mariadb => mariadb::dump(d.as_mut(), dialect == "mysql").await,
        };
        d.close().await.unwrap();
        (dialect, catalog)
    })
}

fn header(dialect: &str) -> String {
    format!(
        "# The {dialect} catalog of testdata/wide after `strata migrate`, read from the server's\n\
         # own catalog by cli/tests/suite/catalog.rs. Rewrite: {BLESS}\n"
    )
}

fn wide_schema(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let (dir, apps) = project(kind, &db);
    run(dir.path(), &["makemigrations", "--noinput"]);
    run(dir.path(), &["migrate"]);

    let (dialect, live) = catalog(kind, &db);
    let text = live.render();
    // The test's database has a made-up name; a dump that held it could never match.
    if let Some((_, name)) = db.url.rsplit_once('/').filter(|_| kind != Kind::Sqlite) {
        let name = name.split('?').next().unwrap();
        assert!(
            !text.contains(name),
            "the dump names the database {name}:\n{text}"
        );
    }
    let actual = format!("{}{text}", header(dialect));
    // One file per dialect: MySQL's catalog is not MariaDB's.
    let path = wide().join(format!("expected/{dialect}.txt"));
    if std::env::var_os("STRATA_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &actual).unwrap();
    } else {
        let expected = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; write it with {BLESS}", path.display()));
        if let Some(report) = dump::compare(&expected, &actual) {
            panic!(
                "the {dialect} catalog differs from {} (object by object; {BLESS} rewrites it):\n{report}",
                path.display()
            );
        }
    }

    // Back to zero, last app first: nothing of the schema may remain.
    for app in apps.iter().rev() {
        run(dir.path(), &["migrate", app, "zero"]);
    }
    let (_, left) = catalog(kind, &db);
    assert!(
        left.is_empty(),
        "after `migrate … zero` the {dialect} catalog still holds:\n{}",
        left.render()
    );
    assert_eq!(
        db.table_names(),
        [HISTORY],
        "only the history table remains"
    );

    // And forward again from zero: the same catalog, object for object.
    run(dir.path(), &["migrate"]);
    let (_, again) = catalog(kind, &db);
    if let Some(report) = dump::compare(&text, &again.render()) {
        panic!(
            "migrated again after zero, the {dialect} catalog differs from the first:\n{report}"
        );
    }
}

for_each_backend!(wide_schema_matches_the_expected_catalog, wide_schema);

/// The dump reads every field the new vocabulary needs (method, operator class,
/// INCLUDE, prefix, order, deferrability, generated expressions, collations,
/// unsigned, enums, comments, views, triggers): objects made by hand in SQL.
fn every_field(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let fixture = match kind {
        Kind::Sqlite => sqlite::FIXTURE,
        Kind::Postgres => postgres::FIXTURE,
        Kind::Mariadb => mariadb::FIXTURE,
    };
    block_on(async {
        let mut d = db.connect().await;
        for sql in fixture {
            // A trigger's body holds `;`.
            d.execute_compound(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}\n{e}"));
        }
        d.close().await.unwrap();
    });
    let (dialect, live) = catalog(kind, &db);
    let actual = live.render();
    let expected = match dialect {
        "sqlite" => sqlite::FIXTURE_DUMP,
        "postgres" => postgres::FIXTURE_DUMP,
        "mariadb" => mariadb::FIXTURE_DUMP,
        // Not written yet: it must be read against the statements first.
        _ => panic!("no expected dump of the fixture for {dialect}; this is it:\n{actual}"),
    };
    assert_eq!(actual, expected, "actual:\n{actual}");
}

for_each_backend!(the_dump_reads_every_catalog_field, every_field);

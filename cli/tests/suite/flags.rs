//! `migrate` flags: --plan, --check, --fake, --fake-initial; and a history table
//! written by a newer strata.

use crate::common::db::{Kind, TestDb};
use crate::common::{project, strata, tracker_copy};
use strata_testkit::for_each_backend;

fn history_len(db: &TestDb) -> usize {
    db.query("SELECT name FROM strata_migrations").len()
}

#[test]
fn plan_and_check_change_nothing() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let dir = tracker_copy(&db.url);
    // Read-only: a missing SQLite file reads as an empty database, and is not created.
    let file = std::path::PathBuf::from(db.url.trim_start_matches("sqlite://"));
    let out = strata(dir.path(), &["migrate", "--plan"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("no database file at"), "{}", out.stderr);
    assert!(!file.exists(), "--plan created {}", file.display());
    // An empty file is an empty database too.
    std::fs::File::create(&file).unwrap();
    let out = strata(dir.path(), &["migrate", "--plan"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("Apply auth.0001_initial"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Create table tracker_transaction"),
        "{}",
        out.stdout
    );
    assert!(
        db.table_names().is_empty(),
        "--plan created {:?}",
        db.table_names()
    );

    let out = strata(dir.path(), &["migrate", "--check"]);
    assert_eq!(out.code, 1, "pending work: {}", out.stdout);
    assert!(db.table_names().is_empty());

    assert_eq!(strata(dir.path(), &["migrate"]).code, 0);
    let out = strata(dir.path(), &["migrate", "--check"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    let out = strata(dir.path(), &["migrate", "tracker", "zero", "--plan"]);
    assert!(
        out.stdout.contains("Unapply tracker.0001_initial"),
        "{}",
        out.stdout
    );
    assert_eq!(history_len(&db), 2, "--plan unapplied nothing");
}

#[test]
fn fake_records_without_running_sql() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let dir = tracker_copy(&db.url);
    let out = strata(dir.path(), &["migrate", "--fake"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("Applying auth.0001_initial (fake)... OK"),
        "{}",
        out.stdout
    );
    assert_eq!(db.table_names(), ["strata_migrations"]);
    assert_eq!(history_len(&db), 2);
    assert_eq!(
        strata(dir.path(), &["migrate", "tracker", "zero", "--fake"]).code,
        0
    );
    assert_eq!(history_len(&db), 1);
}

fn fake_initial(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = tracker_copy(&db.url);
    assert_eq!(strata(dir.path(), &["migrate"]).code, 0);
    // An existing database that strata has never recorded: the tables are there.
    db.execute("DELETE FROM strata_migrations");
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 4, "the tables already exist: {}", out.stderr);
    assert_eq!(history_len(&db), 0, "nothing recorded");
    let out = strata(dir.path(), &["migrate", "--fake-initial"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("Applying tracker.0001_initial (fake)... OK"),
        "{}",
        out.stdout
    );
    assert_eq!(history_len(&db), 2);

    // Only some of an initial migration's tables: refused, nothing recorded.
    db.execute("DROP TABLE tracker_transaction");
    db.execute("DELETE FROM strata_migrations WHERE app = 'tracker'");
    let out = strata(dir.path(), &["migrate", "--fake-initial"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("only some exist (tracker_category)"),
        "{}",
        out.stderr
    );
    assert_eq!(history_len(&db), 1);
}

for_each_backend!(fake_initial_adopts_existing_tables, fake_initial);

/// An initial migration that renames and drops tables it created: `--fake-initial`
/// looks for the tables it leaves, under their final names.
const RENAMING_INITIAL: &str = r#"
[[operations]]
kind = "create_table"
name = "shop_item"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }, { name = "name", type = "text" }]

[[operations]]
kind = "create_table"
name = "shop_scratch"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }]

[[operations]]
kind = "rename_table"
from = "shop_item"
to = "shop_product"

[[operations]]
kind = "drop_table"
name = "shop_scratch"
"#;

fn renaming_initial_project(url: &str) -> tempfile::TempDir {
    project(&[
        (
            "strata.toml",
            &format!("[project]\napps = [\"shop\"]\n[database]\nurl = {url:?}\n"),
        ),
        ("apps/shop/migrations/0001_initial.toml", RENAMING_INITIAL),
    ])
}

#[test]
fn fake_initial_follows_the_renames_and_drops_of_the_initial_migration() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let dir = renaming_initial_project(&db.url);
    db.execute("CREATE TABLE shop_product (id integer PRIMARY KEY AUTOINCREMENT, name text)");
    let out = strata(dir.path(), &["migrate", "--fake-initial"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("Applying shop.0001_initial (fake)... OK"),
        "{}",
        out.stdout
    );
    assert_eq!(history_len(&db), 1);
}

#[test]
fn fake_initial_with_a_table_under_its_first_name_applies_and_fails_cleanly() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let dir = renaming_initial_project(&db.url);
    // The table the migration creates first, then renames: not what it leaves, so
    // the migration is not faked; applying it finds the name taken.
    db.execute("CREATE TABLE shop_item (id integer PRIMARY KEY AUTOINCREMENT, name text)");
    let out = strata(dir.path(), &["migrate", "--fake-initial"]);
    assert_eq!(out.code, 4, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("shop_item"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("nothing of it was applied (rolled back)"),
        "{}",
        out.stderr
    );
    assert_eq!(history_len(&db), 0);
    assert_eq!(db.table_names(), ["shop_item", "strata_migrations"]);
}

#[test]
fn a_history_written_by_a_newer_strata_is_refused() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let dir = tracker_copy(&db.url);
    assert_eq!(strata(dir.path(), &["migrate", "auth"]).code, 0);
    db.execute("UPDATE strata_migrations SET format = 99");
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("written by a newer strata"),
        "{}",
        out.stderr
    );
    assert!(!db.table_names().contains(&"tracker_category".to_string()));
}

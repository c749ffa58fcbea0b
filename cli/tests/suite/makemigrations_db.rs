//! `strata makemigrations` then `strata migrate` on every backend, for what needs a
//! real database to prove: a column that becomes NOT NULL gets its NULL rows filled
//! (and migrates back), and foreign-key cycles across apps split into migrations
//! that apply and roll back to zero.

use std::path::Path;

use crate::common::db::{Kind, TestDb};
use crate::common::json_shape::assert_shape;
use crate::common::{project, strata};
use crate::makemigrations::on_terminal;
use strata_testkit::for_each_backend;

fn config(db: &TestDb, apps: &[&str]) -> String {
    let apps: Vec<String> = apps.iter().map(|a| format!("{a:?}")).collect();
    format!(
        "[project]\napps = [{}]\n\n[database]\nurl = {:?}\n",
        apps.join(", "),
        db.url
    )
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = strata(dir, args);
    assert_eq!(out.code, 0, "{args:?}:\n{}\n{}", out.stdout, out.stderr);
    out.stdout
}

fn write_models(dir: &Path, app: &str, text: &str) {
    std::fs::write(dir.join(format!("apps/{app}/models.toml")), text).unwrap();
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

const NULLABLE: &str = "[Item]\nfields.name = \"varchar(50)\"\nfields.code = \"varchar(10)?\"\n";
const NOT_NULL: &str = "[Item]\nfields.name = \"varchar(50)\"\nfields.code = \"varchar(10)\"\n";

fn codes(db: &TestDb) -> Vec<(Option<String>, Option<String>)> {
    db.query("SELECT name, code FROM shop_item ORDER BY name")
        .into_iter()
        .map(|row| (row[0].clone(), row[1].clone()))
        .collect()
}

fn null_rows_get_the_one_off_value(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let config = config(&db, &["shop"]);
    let dir = project(&[
        ("strata.toml", config.as_str()),
        ("apps/shop/models.toml", NULLABLE),
    ]);
    let path = dir.path();
    ok(path, &["makemigrations"]);
    ok(path, &["migrate", "-q"]);
    db.execute("INSERT INTO shop_item (name, code) VALUES ('a', NULL), ('b', 'kept'), ('c', NULL)");
    write_models(path, "shop", NOT_NULL);

    // Never guessed: without a terminal, the field and both answers are named.
    let out = strata(path, &["makemigrations", "--noinput"]);
    assert_eq!(out.code, 3, "{}\n{}", out.stdout, out.stderr);
    for needed in [
        "impossible to change a nullable field to NOT NULL",
        "shop.Item.code",
        "--default shop.Item.code=VALUE",
        "--no-nulls shop.Item.code",
    ] {
        assert!(out.stderr.contains(needed), "{needed}: {}", out.stderr);
    }
    // --check reports the open question to a tool.
    let out = strata(path, &["--format", "json", "makemigrations", "--check"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = assert_shape("makemigrations", &out.stdout);
    assert_eq!(report["unanswered"][0]["question"], "not_null", "{report}");
    assert_eq!(
        report["unanswered"][0]["subject"], "shop.Item.code",
        "{report}"
    );
    assert_eq!(
        report["unanswered"][0]["answer"],
        "--default shop.Item.code=VALUE or --no-nulls shop.Item.code",
        "{report}"
    );
    assert!(!path
        .join("apps/shop/migrations/0002_backfill_item_alter_item_code.toml")
        .exists());

    ok(path, &["makemigrations", "--default", "shop.Item.code=n/a"]);
    let file = read(
        path,
        "apps/shop/migrations/0002_backfill_item_alter_item_code.toml",
    );
    assert_eq!(
        file,
        "dependencies = [\"shop.0001_initial\"]\natomic = false\n\n[[operations]]\nkind = \"backfill\"\ntable = \"shop_item\"\nset = { code = \"'n/a'\" }\nwhere = \"code IS NULL\"\n\n[[operations]]\nkind = \"alter_column\"\ntable = \"shop_item\"\ncolumn = \"code\"\nnull = false\n"
    );
    ok(path, &["migrate", "-q"]);
    let some = |s: &str| Some(s.to_string());
    assert_eq!(
        codes(&db),
        [
            (some("a"), some("n/a")),
            (some("b"), some("kept")),
            (some("c"), some("n/a"))
        ]
    );
    assert_eq!(strata(path, &["makemigrations", "--check"]).code, 0);

    // Back: the column is nullable again (the values stay, as a backfill's do).
    ok(path, &["migrate", "shop", "0001", "-q"]);
    db.execute("INSERT INTO shop_item (name, code) VALUES ('d', NULL)");
    assert_eq!(codes(&db)[3], (some("d"), None));
    ok(path, &["migrate", "shop", "zero", "-q"]);
    assert!(
        !db.table_names().iter().any(|t| t == "shop_item"),
        "{:?}",
        db.table_names()
    );
}

for_each_backend!(
    a_column_becoming_not_null_fills_its_null_rows,
    null_rows_get_the_one_off_value
);

/// `--no-nulls`: only the alter; the database itself refuses it while NULL rows remain.
#[test]
fn no_nulls_writes_only_the_alter() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let config = config(&db, &["shop"]);
    let dir = project(&[
        ("strata.toml", config.as_str()),
        ("apps/shop/models.toml", NULLABLE),
    ]);
    let path = dir.path();
    ok(path, &["makemigrations"]);
    write_models(path, "shop", NOT_NULL);
    ok(path, &["makemigrations", "--no-nulls", "shop.Item.code"]);
    let file = read(path, "apps/shop/migrations/0002_alter_item_code.toml");
    assert_eq!(
        file,
        "dependencies = [\"shop.0001_initial\"]\n\n[[operations]]\nkind = \"alter_column\"\ntable = \"shop_item\"\ncolumn = \"code\"\nnull = false\n"
    );
    let out = strata(path, &["makemigrations", "--no-nulls", "shop.Item.nope"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("--no-nulls `shop.Item.nope`"),
        "{}",
        out.stderr
    );
}

const AUTHORS: &str = "[Author]\nfields.name = \"varchar(50)\"\nfields.best = { references = \"b.Book\", null = true, on_delete = \"set null\" }\n";
const BOOKS: &str = "[Book]\nfields.title = \"varchar(50)\"\nfields.author = { references = \"a.Author\", null = true, on_delete = \"cascade\" }\n";

fn dependencies(dir: &Path, file: &str) -> Vec<String> {
    let parsed: toml::Value = toml::from_str(&read(dir, file)).unwrap();
    parsed
        .get("dependencies")
        .and_then(|d| d.as_array())
        .map(|d| d.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn app_tables(db: &TestDb) -> Vec<String> {
    let mut names: Vec<String> = db
        .table_names()
        .into_iter()
        .filter(|t| ["a_", "b_", "c_"].iter().any(|p| t.starts_with(p)))
        .collect();
    names.sort();
    names
}

/// Two apps whose models reference each other: Django's split, `a.0001_initial`
/// (the table), `b.0001_initial` (its table, with its foreign key), `a.0002_initial`
/// (a's foreign key). Then a new pair of models referencing each other, in later
/// migrations. Everything applies, and rolls back to zero.
fn two_apps_in_a_cycle(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let config = config(&db, &["a", "b"]);
    let dir = project(&[
        ("strata.toml", config.as_str()),
        ("apps/a/models.toml", AUTHORS),
        ("apps/b/models.toml", BOOKS),
    ]);
    let path = dir.path();
    ok(path, &["makemigrations"]);
    assert_eq!(
        dependencies(path, "apps/a/migrations/0001_initial.toml"),
        Vec::<String>::new()
    );
    assert_eq!(
        dependencies(path, "apps/b/migrations/0001_initial.toml"),
        ["a.0001_initial"]
    );
    assert_eq!(
        dependencies(path, "apps/a/migrations/0002_initial.toml"),
        ["a.0001_initial", "b.0001_initial"]
    );
    let second = read(path, "apps/a/migrations/0002_initial.toml");
    assert!(second.contains("kind = \"add_foreign_key\""), "{second}");
    assert!(second.contains("references = \"b_book\""), "{second}");
    ok(path, &["migrate", "-q"]);
    assert_eq!(app_tables(&db), ["a_author", "b_book"]);
    assert_eq!(strata(path, &["makemigrations", "--check"]).code, 0);

    // Later migrations: a new model in each app, referencing each other.
    write_models(
        path,
        "a",
        &format!("{AUTHORS}\n[Shelf]\nfields.label = \"varchar(20)\"\nfields.top = {{ references = \"b.Tag\", null = true, on_delete = \"set null\" }}\n"),
    );
    write_models(
        path,
        "b",
        &format!("{BOOKS}\n[Tag]\nfields.word = \"varchar(20)\"\nfields.shelf = {{ references = \"a.Shelf\", null = true, on_delete = \"set null\" }}\n"),
    );
    ok(path, &["makemigrations"]);
    assert_eq!(
        dependencies(path, "apps/a/migrations/0003_shelf.toml"),
        ["a.0002_initial"]
    );
    assert_eq!(
        dependencies(path, "apps/b/migrations/0002_tag.toml"),
        ["a.0003_shelf", "b.0001_initial"]
    );
    let last = std::fs::read_dir(path.join("apps/a/migrations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .find(|n| n.starts_with("0004_"))
        .expect("a.0004 adds the foreign key");
    assert_eq!(
        dependencies(path, &format!("apps/a/migrations/{last}")),
        ["a.0003_shelf", "b.0002_tag"]
    );
    ok(path, &["migrate", "-q"]);
    assert_eq!(app_tables(&db), ["a_author", "a_shelf", "b_book", "b_tag"]);
    assert_eq!(strata(path, &["makemigrations", "--check"]).code, 0);

    ok(path, &["migrate", "a", "zero", "-q"]);
    ok(path, &["migrate", "b", "zero", "-q"]);
    assert_eq!(app_tables(&db), Vec::<String>::new());
}

for_each_backend!(two_apps_referencing_each_other, two_apps_in_a_cycle);

/// a → b → c → a: one foreign key waits for a second migration of `a`.
fn three_apps_in_a_cycle(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let config = config(&db, &["a", "b", "c"]);
    let dir = project(&[
        ("strata.toml", config.as_str()),
        (
            "apps/a/models.toml",
            "[X]\nfields.y = { references = \"b.Y\", null = true, on_delete = \"set null\" }\n",
        ),
        (
            "apps/b/models.toml",
            "[Y]\nfields.z = { references = \"c.Z\", null = true, on_delete = \"set null\" }\n",
        ),
        (
            "apps/c/models.toml",
            "[Z]\nfields.x = { references = \"a.X\", null = true, on_delete = \"set null\" }\n",
        ),
    ]);
    let path = dir.path();
    ok(path, &["makemigrations"]);
    assert_eq!(
        dependencies(path, "apps/c/migrations/0001_initial.toml"),
        ["a.0001_initial"]
    );
    assert_eq!(
        dependencies(path, "apps/b/migrations/0001_initial.toml"),
        ["c.0001_initial"]
    );
    assert_eq!(
        dependencies(path, "apps/a/migrations/0002_initial.toml"),
        ["a.0001_initial", "b.0001_initial"]
    );
    ok(path, &["migrate", "-q"]);
    assert_eq!(app_tables(&db), ["a_x", "b_y", "c_z"]);
    db.execute("INSERT INTO a_x (id, y_id) VALUES (1, NULL)");
    db.execute("INSERT INTO c_z (id, x_id) VALUES (1, 1)");
    db.execute("INSERT INTO b_y (id, z_id) VALUES (1, 1)");
    db.execute("UPDATE a_x SET y_id = 1 WHERE id = 1");
    assert_eq!(strata(path, &["makemigrations", "--check"]).code, 0);
    ok(path, &["migrate", "a", "zero", "-q"]);
    for app in ["b", "c"] {
        ok(path, &["migrate", app, "zero", "-q"]);
    }
    assert_eq!(app_tables(&db), Vec::<String>::new());
}

for_each_backend!(three_apps_referencing_in_a_ring, three_apps_in_a_cycle);

/// On a terminal the question is Django's: a one-off value now, or "there are none".
#[test]
fn the_not_null_question_is_asked_on_a_terminal() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let config = config(&db, &["shop"]);
    let dir = project(&[
        ("strata.toml", config.as_str()),
        ("apps/shop/models.toml", NULLABLE),
    ]);
    let path = dir.path();
    ok(path, &["makemigrations"]);
    write_models(path, "shop", NOT_NULL);

    let (done, shown) = on_terminal(path, "--dry-run -v", "1\n\"n/a\"\n");
    assert!(done, "{shown}");
    assert!(
        shown.contains("shop.Item.code becomes NOT NULL without a default"),
        "{shown}"
    );
    assert!(shown.contains("1) Give a one-off value"), "{shown}");
    assert!(shown.contains("kind = \"backfill\""), "{shown}");
    assert!(shown.contains("where = \"code IS NULL\""), "{shown}");

    let (done, shown) = on_terminal(path, "--dry-run -v", "2\n");
    assert!(done, "{shown}");
    assert!(!shown.contains("kind = \"backfill\""), "{shown}");
    assert!(shown.contains("kind = \"alter_column\""), "{shown}");

    let (done, shown) = on_terminal(path, "", "\n");
    assert!(!done, "no answer stops: {shown}");
    assert!(!path
        .join("apps/shop/migrations/0002_alter_item_code.toml")
        .exists());
}

/// A new NOT NULL field and a field that becomes NOT NULL: one run lists both
/// questions, for a tool (--check) and for a person (--noinput).
#[test]
fn every_open_question_about_nulls_is_listed_at_once() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let config = config(&db, &["shop"]);
    let dir = project(&[
        ("strata.toml", config.as_str()),
        ("apps/shop/models.toml", NULLABLE),
    ]);
    let path = dir.path();
    ok(path, &["makemigrations"]);
    write_models(path, "shop", &format!("{NOT_NULL}fields.stock = \"int\"\n"));

    let out = strata(path, &["--format", "json", "makemigrations", "--check"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = assert_shape("makemigrations", &out.stdout);
    let asked: Vec<(&str, &str)> = report["unanswered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            (
                q["question"].as_str().unwrap(),
                q["subject"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        asked,
        [
            ("default", "shop.Item.stock"),
            ("not_null", "shop.Item.code")
        ]
    );
    let out = strata(path, &["makemigrations", "--noinput"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    for needed in [
        "--default shop.Item.stock=VALUE",
        "--default shop.Item.code=VALUE",
        "--no-nulls shop.Item.code",
    ] {
        assert!(out.stderr.contains(needed), "{needed}: {}", out.stderr);
    }
    ok(
        path,
        &[
            "makemigrations",
            "--default",
            "shop.Item.stock=0",
            "--no-nulls",
            "shop.Item.code",
        ],
    );
}

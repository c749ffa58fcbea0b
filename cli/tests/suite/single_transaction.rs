//! `migrate --single-transaction` on live servers: the whole plan in one
//! transaction — a failing third migration leaves nothing (no tables, no history),
//! the fixed plan applies with its history rows, a rollback to zero is one
//! transaction too — and refused (exit 2, database untouched) when a step cannot run
//! in a transaction: MariaDB DDL, `atomic = false`, a backfill, a safe plan's
//! `CREATE INDEX CONCURRENTLY` — and `--plan`/`--check` refuse it alike. What it
//! prints is honest: `--plan` says the steps commit together, a finished step is
//! "done" (not "OK") until the commit, and a failure says the steps done were
//! rolled back too (in JSON: `rolled_back`).

use crate::common::db::{Kind, TestDb};
use crate::common::json_shape::assert_shape;
use crate::common::{project, run, strata};

/// One test per backend with transactional DDL (MariaDB refuses the flag:
/// `refused_without_transactional_ddl`).
macro_rules! on_transactional_ddl {
    ($name:ident) => {
        mod $name {
            use super::*;
            #[test]
            fn sqlite() {
                $name(Kind::Sqlite)
            }
            #[test]
            fn postgres() {
                $name(Kind::Postgres)
            }
        }
    };
}

fn config(db: &TestDb) -> String {
    format!(
        "[project]\napps = [\"shop\"]\n\n[database]\nurl = {:?}\n",
        db.url
    )
}

const FIRST: &str = r#"[[operations]]
kind = "create_table"
name = "shop_a"
primary_key = ["id"]
columns = [{ name = "id", type = "int" }]
"#;

const SECOND: &str = r#"dependencies = ["shop.0001_a"]

[[operations]]
kind = "create_table"
name = "shop_b"
primary_key = ["id"]
columns = [{ name = "id", type = "int" }]
"#;

/// Creates `shop_c`, then inserts `rows` into `shop_a`: a duplicate key fails.
fn third(rows: &str) -> String {
    format!(
        r#"dependencies = ["shop.0002_b"]

[[operations]]
kind = "create_table"
name = "shop_c"
primary_key = ["id"]
columns = [{{ name = "id", type = "int" }}]

[[operations]]
kind = "run_sql"
sql = "INSERT INTO shop_a (id) VALUES {rows}"
reverse_sql = "DELETE FROM shop_a"
"#
    )
}

const TABLES: [&str; 3] = ["shop_a", "shop_b", "shop_c"];

/// The project's tables (and strata's history table) that exist.
fn present(db: &TestDb) -> Vec<String> {
    db.table_names()
        .into_iter()
        .filter(|t| TABLES.contains(&t.as_str()) || t == "strata_migrations")
        .collect()
}

fn history(db: &TestDb) -> Vec<Vec<Option<String>>> {
    db.query("SELECT name, state FROM strata_migrations ORDER BY name")
}

/// Three migrations whose third fails (a duplicate key), run with the flag: exit 4.
fn failing_plan(db: &TestDb) -> (tempfile::TempDir, crate::common::Output) {
    let dir = project(&[
        ("strata.toml", &config(db)),
        ("apps/shop/migrations/0001_a.toml", FIRST),
        ("apps/shop/migrations/0002_b.toml", SECOND),
        ("apps/shop/migrations/0003_c.toml", &third("(1), (1)")),
    ]);
    let out = strata(dir.path(), &["migrate", "--single-transaction"]);
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    (dir, out)
}

fn all_or_nothing(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let (dir, out) = failing_plan(&db);
    assert!(
        out.stderr.contains("nothing of the plan was applied"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("shop.0003_c"), "{}", out.stderr);
    assert_eq!(present(&db), Vec::<String>::new(), "{}", out.stderr);

    std::fs::write(
        dir.path().join("apps/shop/migrations/0003_c.toml"),
        third("(1), (2)"),
    )
    .unwrap();
    run(dir.path(), &["migrate", "--single-transaction"]);
    let mut tables = present(&db);
    tables.sort();
    assert_eq!(tables, ["shop_a", "shop_b", "shop_c", "strata_migrations"]);
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        history(&db),
        [
            [s("0001_a"), s("applied")],
            [s("0002_b"), s("applied")],
            [s("0003_c"), s("applied")]
        ]
    );
    assert_eq!(db.query("SELECT count(*) FROM shop_a"), [[s("2")]]);

    // Back to zero, in one transaction too.
    run(
        dir.path(),
        &["migrate", "shop", "zero", "--single-transaction"],
    );
    assert_eq!(present(&db), ["strata_migrations"]);
    assert!(history(&db).is_empty(), "{:?}", history(&db));
}
on_transactional_ddl!(all_or_nothing);

/// `strata migrate --single-transaction` in a project of `files` on `db`: refused
/// with exit 2 and a message holding `expect`, nothing created — and refused alike
/// by `--plan` and `--check` (as text and as JSON).
fn assert_refused(db: &TestDb, files: &[(&str, &str)], expect: &str) {
    let config = config(db);
    let mut all = vec![("strata.toml", config.as_str())];
    all.extend_from_slice(files);
    let dir = project(&all);
    // `--plan` reads an existing database (SQLite: the file must be there).
    run(dir.path(), &["database", "create"]);
    let before = present(db);
    for args in [
        &["migrate", "--single-transaction"][..],
        &["migrate", "--plan", "--single-transaction"],
        &["migrate", "--check", "--single-transaction"],
    ] {
        let out = strata(dir.path(), args);
        assert_eq!(out.code, 2, "{args:?}\n{}\n{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains("--single-transaction"),
            "{args:?}\n{}",
            out.stderr
        );
        assert!(out.stderr.contains(expect), "{args:?}\n{}", out.stderr);
        assert_eq!(present(db), before, "{args:?}\n{}", out.stderr);
    }
    let out = strata(
        dir.path(),
        &[
            "--format",
            "json",
            "migrate",
            "--plan",
            "--single-transaction",
        ],
    );
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    let failed = assert_shape("migrate-plan", &out.stdout);
    let message = failed["error"]["message"].as_str().unwrap();
    assert!(message.contains(expect), "{message}");
}

#[test]
fn refused_without_transactional_ddl() {
    let Some(db) = TestDb::create(Kind::Mariadb) else {
        return;
    };
    assert_refused(
        &db,
        &[
            ("apps/shop/migrations/0001_a.toml", FIRST),
            ("apps/shop/migrations/0002_b.toml", SECOND),
        ],
        "no transactional DDL",
    );
}

fn refused_non_atomic(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let second = format!("atomic = false\n{SECOND}");
    assert_refused(
        &db,
        &[
            ("apps/shop/migrations/0001_a.toml", FIRST),
            ("apps/shop/migrations/0002_b.toml", &second),
        ],
        "shop.0002_b",
    );
}
on_transactional_ddl!(refused_non_atomic);

const BACKFILL: &str = r#"dependencies = ["shop.0001_a"]

[[operations]]
kind = "add_column"
table = "shop_a"
column = { name = "n", type = "int", null = true }

[[operations]]
kind = "backfill"
table = "shop_a"
set = { n = "0" }
batch_size = 10
"#;

fn refused_backfill(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    assert_refused(
        &db,
        &[
            ("apps/shop/migrations/0001_a.toml", FIRST),
            ("apps/shop/migrations/0002_fill.toml", BACKFILL),
        ],
        "a backfill commits each batch",
    );
}
on_transactional_ddl!(refused_backfill);

const INDEX: &str = r#"dependencies = ["shop.0001_a"]

[[operations]]
kind = "create_index"
table = "shop_a"
index = { name = "shop_a_id_idx", columns = ["id"] }
"#;

/// A safe plan builds an index on an existing table concurrently: outside any
/// transaction.
#[test]
fn refused_concurrent_index() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let dir = project(&[
        ("strata.toml", &config(&db)),
        ("apps/shop/migrations/0001_a.toml", FIRST),
    ]);
    run(dir.path(), &["migrate"]);
    assert_refused(
        &db,
        &[
            ("apps/shop/migrations/0001_a.toml", FIRST),
            ("apps/shop/migrations/0002_index.toml", INDEX),
        ],
        "CONCURRENTLY",
    );
    assert_eq!(history(&db).len(), 1);
}

const PARENT_CHILD: &str = r#"[[operations]]
kind = "create_table"
name = "shop_a"
primary_key = ["id"]
columns = [{ name = "id", type = "int" }]

[[operations]]
kind = "create_table"
name = "shop_b"
primary_key = ["id"]
columns = [
    { name = "id", type = "int" },
    { name = "a_id", type = "int" },
    { name = "note", type = "varchar(10)", null = true },
]
foreign_keys = [{ name = "shop_b_a_fk", columns = ["a_id"], references = "shop_a", referenced_columns = ["id"] }]
"#;

const ORPHAN: &str = r#"dependencies = ["shop.0001_a"]

[[operations]]
kind = "run_sql"
sql = "INSERT INTO shop_b (id, a_id) VALUES (1, 42)"
reverse_sql = "DELETE FROM shop_b"
"#;

/// SQLite runs the plan with foreign keys off (as its table rebuilds need), so its
/// foreign key check runs before the plan's one COMMIT: an orphan row fails it and
/// the whole plan rolls back.
#[test]
fn sqlite_foreign_key_check_before_commit() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let dir = project(&[
        ("strata.toml", &config(&db)),
        ("apps/shop/migrations/0001_a.toml", PARENT_CHILD),
        ("apps/shop/migrations/0002_orphan.toml", ORPHAN),
    ]);
    let out = strata(dir.path(), &["migrate", "--single-transaction"]);
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("nothing of the plan was applied"),
        "{}",
        out.stderr
    );
    assert_eq!(present(&db), Vec::<String>::new(), "{}", out.stderr);
}

const REBUILD: &str = r#"dependencies = ["shop.0001_a"]

[[operations]]
kind = "alter_column"
table = "shop_b"
column = "note"
type = "varchar(80)"
null = true
"#;

/// A SQLite table rebuild (its copy, drop and rename need foreign keys off) joins
/// the plan's transaction, its rows kept and its foreign key still enforced.
#[test]
fn sqlite_rebuild_in_the_plan() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let dir = project(&[
        ("strata.toml", &config(&db)),
        ("apps/shop/migrations/0001_a.toml", PARENT_CHILD),
    ]);
    run(dir.path(), &["migrate"]);
    db.execute("INSERT INTO shop_a (id) VALUES (7)");
    db.execute("INSERT INTO shop_b (id, a_id) VALUES (1, 7)");
    std::fs::write(
        dir.path().join("apps/shop/migrations/0002_wide.toml"),
        REBUILD,
    )
    .unwrap();
    run(dir.path(), &["migrate", "--single-transaction"]);
    let s = |v: &str| Some(v.to_string());
    assert_eq!(db.query("SELECT id, a_id FROM shop_b"), [[s("1"), s("7")]]);
    let fks = db.query("SELECT \"table\" FROM pragma_foreign_key_list('shop_b')");
    assert_eq!(fks, [[s("shop_a")]]);
    assert_eq!(history(&db).len(), 2);
}

/// A rollback plan follows the same rule: undoing an `atomic = false` migration
/// cannot join the plan's transaction, so nothing is undone.
fn refused_rollback(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let second = format!("atomic = false\n{SECOND}");
    let dir = project(&[
        ("strata.toml", &config(&db)),
        ("apps/shop/migrations/0001_a.toml", FIRST),
        ("apps/shop/migrations/0002_b.toml", &second),
    ]);
    run(dir.path(), &["migrate"]);
    let out = strata(
        dir.path(),
        &["migrate", "shop", "zero", "--single-transaction"],
    );
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("--single-transaction: shop.0002_b"),
        "{}",
        out.stderr
    );
    let mut tables = present(&db);
    tables.sort();
    assert_eq!(tables, ["shop_a", "shop_b", "strata_migrations"]);
    assert_eq!(history(&db).len(), 2);
}
on_transactional_ddl!(refused_rollback);

/// `--plan` and `--check` say that the steps commit together, as text (a line after
/// the steps) and as JSON (`single_transaction`); without the flag they do not.
fn plan_says_one_transaction(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = project(&[
        ("strata.toml", &config(&db)),
        ("apps/shop/migrations/0001_a.toml", FIRST),
        ("apps/shop/migrations/0002_b.toml", SECOND),
    ]);
    run(dir.path(), &["database", "create"]);
    let line = "All 2 steps run in one transaction (--single-transaction)";
    let plan = run(dir.path(), &["migrate", "--plan", "--single-transaction"]);
    let last = plan.lines().last().unwrap_or_default();
    assert!(last.starts_with(line), "{plan}");
    assert!(plan.contains("Apply shop.0002_b"), "{plan}");
    let step_by_step = run(dir.path(), &["migrate", "--plan"]);
    assert!(!step_by_step.contains("one transaction"), "{step_by_step}");

    let out = strata(dir.path(), &["migrate", "--check", "--single-transaction"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains(line), "{}", out.stdout);

    for (flag, expect) in [(true, true), (false, false)] {
        let mut args = vec!["--format", "json", "migrate", "--plan"];
        if flag {
            args.push("--single-transaction");
        }
        let out = strata(dir.path(), &args);
        assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
        let plan = assert_shape("migrate-plan", &out.stdout);
        assert_eq!(plan["single_transaction"], expect, "{plan:#}");
        assert_eq!(plan["plan"].as_array().unwrap().len(), 2, "{plan:#}");
    }
    assert_eq!(present(&db), Vec::<String>::new());
}
on_transactional_ddl!(plan_says_one_transaction);

/// A step that finished is "done", not "OK", until the plan commits; a failure says
/// that the steps done were rolled back with it, and the JSON report marks them
/// `rolled_back`; a run that commits says so.
fn progress_says_what_commits(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let (dir, out) = failing_plan(&db);
    assert!(
        out.stdout.contains("Applying shop.0001_a... done ("),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains(" OK ("), "{}", out.stdout);
    assert!(
        out.stdout.contains("Applying shop.0003_c... FAILED"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(
            "Rolled back: nothing of the plan was applied, the 2 steps done above included"
        ),
        "{}",
        out.stdout
    );

    let out = strata(
        dir.path(),
        &["--format", "json", "migrate", "--single-transaction"],
    );
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    let report = assert_shape("migrate", &out.stdout);
    let statuses: Vec<_> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["rolled_back", "rolled_back", "failed"],
        "{report:#}"
    );
    assert_eq!(present(&db), Vec::<String>::new());

    std::fs::write(
        dir.path().join("apps/shop/migrations/0003_c.toml"),
        third("(1), (2)"),
    )
    .unwrap();
    let done = run(dir.path(), &["migrate", "--single-transaction"]);
    assert!(
        done.contains("Applied 3 migrations in ")
            && done.contains(", in one transaction: committed."),
        "{done}"
    );
    assert!(!done.contains("Rolled back"), "{done}");
    let plain = run(dir.path(), &["migrate", "shop", "0002"]);
    assert!(plain.contains("... OK ("), "{plain}");
    assert!(!plain.contains("committed"), "{plain}");
}
on_transactional_ddl!(progress_says_what_commits);

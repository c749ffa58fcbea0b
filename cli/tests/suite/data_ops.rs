//! `run_code` and `backfill` on every backend, through the executor an application
//! embeds (the CLI registers no function): the application's function runs in the
//! migration's transaction, an unregistered one is refused before anything runs, and a
//! backfill stopped by a failure keeps its committed batches and resumes after them.

use std::path::Path;
use std::sync::Mutex;

use crate::common::db::{block_on, Kind, TestDb};
use crate::common::{project, strata};
use strata_engine::code::{Functions, Session};
use strata_engine::executor::{
    self, AfterFailure, BackfillProgress, ExecError, Observer, OperationObserver, Options,
    PlannedStep, Quiet,
};
use strata_engine::graph::{Graph, Target};
use strata_engine::migration::MigrationKey;
use strata_engine::project::{Overrides, Project};
use strata_testkit::for_each_backend;

fn config(url: &str) -> String {
    format!("[project]\napps = [\"shop\"]\n\n[database]\nurl = {url:?}\n")
}

const TICKETS: &str = r#"[[operations]]
kind = "create_table"
name = "ticket"
primary_key = ["id"]
columns = [
  { name = "id", type = "int" },
  { name = "title", type = "varchar(100)" },
  { name = "slug", type = "varchar(100)", null = true },
]
"#;

/// A table, then the application's function: one transaction where DDL has one.
const FILL: &str = r#"dependencies = ["shop.0001_tickets"]

[[operations]]
kind = "create_table"
name = "audit"
primary_key = ["id"]
columns = [{ name = "id", type = "int" }]

[[operations]]
kind = "run_code"
name = "fill_slugs"
reverse = "clear_slugs"
"#;

/// A project of the one app `shop` on `db`, with `migrations` (name, text).
fn shop(db: &TestDb, migrations: &[(&str, &str)]) -> tempfile::TempDir {
    let config = config(&db.url);
    let paths: Vec<String> = migrations
        .iter()
        .map(|(name, _)| format!("apps/shop/migrations/{name}.toml"))
        .collect();
    let mut files = vec![("strata.toml", config.as_str())];
    files.extend(
        paths
            .iter()
            .map(String::as_str)
            .zip(migrations.iter().map(|m| m.1)),
    );
    project(&files)
}

fn graph(dir: &Path) -> Graph {
    let project = Project::load(dir, &Overrides::default()).unwrap();
    Graph::from_project(&project).unwrap()
}

fn options(functions: Functions) -> Options {
    let mut options = Options::new("strata_migrations", std::time::Duration::from_secs(30));
    options.functions = functions;
    options
}

// The executor's own error, as an application receives it.
#[allow(clippy::result_large_err)]
fn migrate(
    db: &TestDb,
    dir: &Path,
    targets: &[Target],
    options: &Options,
    observer: &mut dyn Observer,
) -> Result<Vec<PlannedStep>, ExecError> {
    let graph = graph(dir);
    block_on(async {
        let mut driver = db.connect().await;
        let result = executor::migrate(&graph, driver.as_mut(), targets, options, observer).await;
        driver.close().await.unwrap();
        result
    })
}

/// `migrate` with the application's [`functions`].
// The executor's own error, as an application receives it.
#[allow(clippy::result_large_err)]
fn migrate_with(
    db: &TestDb,
    dir: &Path,
    targets: &[Target],
    fill_fails: bool,
    with_reverse: bool,
) -> Result<Vec<PlannedStep>, ExecError> {
    let options = options(functions(fill_fails, with_reverse));
    migrate(db, dir, targets, &options, &mut Quiet)
}

fn key(name: &str) -> MigrationKey {
    MigrationKey::new("shop", name)
}

fn to(name: &str) -> Vec<Target> {
    vec![Target::Migration(key(name))]
}

fn all() -> Vec<Target> {
    vec![Target::Latest("shop".into())]
}

/// `fill_slugs` as the application writes it (failing after its UPDATE when asked
/// to), and `clear_slugs`, its reverse, when asked for.
fn functions(fill_fails: bool, with_reverse: bool) -> Functions {
    let mut functions = Functions::new();
    if fill_fails {
        functions.register("fill_slugs", |mut db: Session<'_>| {
            Box::pin(async move {
                db.execute("UPDATE ticket SET slug = lower(title)").await?;
                Err("the slug service is down".into())
            })
        });
    } else {
        functions.register("fill_slugs", |mut db: Session<'_>| {
            Box::pin(async move {
                db.execute("UPDATE ticket SET slug = lower(title)").await?;
                Ok(())
            })
        });
    }
    if with_reverse {
        functions.register("clear_slugs", |mut db: Session<'_>| {
            Box::pin(async move {
                db.execute("UPDATE ticket SET slug = NULL").await?;
                Ok(())
            })
        });
    }
    functions
}

fn slugs(db: &TestDb) -> Vec<Option<String>> {
    db.query("SELECT slug FROM ticket ORDER BY id")
        .into_iter()
        .map(|row| row[0].clone())
        .collect()
}

fn history(db: &TestDb, name: &str) -> Vec<Vec<Option<String>>> {
    db.query(&format!(
        "SELECT state, operations_done, backfill_cursor FROM strata_migrations WHERE name = '{name}'"
    ))
}

/// The function runs on strata's connection in the migration's transaction: its
/// failure rolls back the operations before it (PostgreSQL, SQLite) and its own
/// writes; registered, it runs; its reverse runs on rollback, and an unregistered
/// reverse refuses the rollback before anything runs.
fn run_code_runs_in_the_migration(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = shop(&db, &[("0001_tickets", TICKETS), ("0002_fill", FILL)]);
    let dir = dir.path();
    migrate(
        &db,
        dir,
        &to("0001_tickets"),
        &options(Functions::new()),
        &mut Quiet,
    )
    .unwrap();
    db.execute("INSERT INTO ticket (id, title) VALUES (1, 'Alpha'), (2, 'Beta')");

    let err = migrate_with(&db, dir, &all(), true, true).unwrap_err();
    let message = err.to_string();
    for part in [
        "shop.0002_fill",
        "operation 2 of 2",
        "fill_slugs",
        "the slug service is down",
    ] {
        assert!(message.contains(part), "{part}: {message}");
    }
    // The function's own UPDATE went with the failure.
    assert_eq!(slugs(&db), [None, None]);
    if kind == Kind::Mariadb {
        // DDL commits on its own there: the table stays, recorded as done.
        assert!(db.table_names().contains(&"audit".to_string()));
        assert_eq!(
            history(&db, "0002_fill")[0][..2],
            [Some("partial".into()), Some("1".into())]
        );
    } else {
        assert!(matches!(
            err,
            ExecError::Failed {
                after: AfterFailure::RolledBack,
                ..
            }
        ));
        assert!(!db.table_names().contains(&"audit".to_string()));
        assert!(history(&db, "0002_fill").is_empty());
    }

    migrate_with(&db, dir, &all(), false, true).unwrap();
    assert_eq!(slugs(&db), [Some("alpha".into()), Some("beta".into())]);
    assert_eq!(history(&db, "0002_fill")[0][0].as_deref(), Some("applied"));

    // Rolling back needs the reverse: refused before anything runs without it.
    let err = migrate_with(&db, dir, &to("0001_tickets"), false, false).unwrap_err();
    assert!(
        matches!(&err, ExecError::MissingFunction { operation: 2, function, .. } if function == "clear_slugs"),
        "{err}"
    );
    assert!(
        err.to_string().contains("mark it unapplied with --fake"),
        "{err}"
    );
    assert_eq!(slugs(&db), [Some("alpha".into()), Some("beta".into())]);
    assert_eq!(history(&db, "0002_fill")[0][0].as_deref(), Some("applied"));

    migrate_with(&db, dir, &to("0001_tickets"), false, true).unwrap();
    assert_eq!(slugs(&db), [None, None]);
    assert!(!db.table_names().contains(&"audit".to_string()));
    assert!(history(&db, "0002_fill").is_empty());
}

for_each_backend!(
    run_code_runs_in_the_migrations_transaction,
    run_code_runs_in_the_migration
);

/// Without the function (the CLI never has one), nothing runs, not even the
/// history table's creation; `--fake` records it all the same.
fn an_unregistered_function_is_refused(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = shop(&db, &[("0001_tickets", TICKETS), ("0002_fill", FILL)]);
    let dir = dir.path();
    let err = migrate(&db, dir, &all(), &options(Functions::new()), &mut Quiet).unwrap_err();
    assert_eq!(
        err.to_string(),
        "migration shop.0002_fill operation 2 calls the application's function fill_slugs, \
         which is not registered: run this migration through the application that registers \
         it (strata::Migrator::register), or mark it applied with --fake"
    );
    assert!(db.table_names().is_empty(), "{:?}", db.table_names());

    // The CLI says the same, with the exit code of bad input.
    let out = strata(dir, &["migrate"]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("calls the application's function fill_slugs"),
        "{}",
        out.stderr
    );
    assert!(db.table_names().is_empty(), "{:?}", db.table_names());

    let out = strata(dir, &["migrate", "--fake"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(history(&db, "0002_fill")[0][0].as_deref(), Some("applied"));
    assert!(!db.table_names().contains(&"ticket".to_string()));
}

for_each_backend!(
    an_unregistered_function_is_refused_before_anything_runs,
    an_unregistered_function_is_refused
);

/// Without `reverse`, rolling back is refused before anything runs, naming the
/// function.
fn run_code_without_reverse(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = shop(
        &db,
        &[
            ("0001_tickets", TICKETS),
            (
                "0002_fill",
                &FILL.replace("reverse = \"clear_slugs\"\n", ""),
            ),
        ],
    );
    let dir = dir.path();
    migrate_with(&db, dir, &all(), false, true).unwrap();
    let err = migrate_with(&db, dir, &to("0001_tickets"), false, true).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("run_code of the application's function fill_slugs is irreversible"),
        "{message}"
    );
    assert_eq!(history(&db, "0002_fill")[0][0].as_deref(), Some("applied"));
    assert!(db.table_names().contains(&"audit".to_string()));
}

for_each_backend!(
    run_code_without_reverse_is_irreversible,
    run_code_without_reverse
);

const ROWS: i64 = 10_000;

/// A counter table whose check refuses `n = 1` where `bad = 1`: one row, set bad,
/// fails the batch that holds it.
const COUNTERS: &str = r#"[[operations]]
kind = "create_table"
name = "item"
primary_key = ["id"]
columns = [
  { name = "id", type = "bigint" },
  { name = "n", type = "int", default = 0 },
  { name = "bad", type = "int", default = 0 },
]
checks = [{ name = "item_not_bad", expr = "n = 0 OR bad = 0" }]
"#;

const BACKFILL: &str = r#"dependencies = ["shop.0001_items"]

[[operations]]
kind = "backfill"
table = "item"
set = { n = "n + 1" }
batch_size = 1000
"#;

/// Hears the batches of a backfill.
#[derive(Default)]
struct Batches(Mutex<Vec<BackfillProgress>>);

impl OperationObserver for Batches {
    fn operation(&self, _index: usize, _total: usize, _description: &str) {}

    fn backfill_progress(&self, _index: usize, progress: &BackfillProgress) {
        self.0.lock().unwrap().push(progress.clone());
    }
}

impl Observer for Batches {
    fn operations(&self) -> Option<&dyn OperationObserver> {
        Some(self)
    }
}

impl Batches {
    fn rows_done(&self) -> Vec<u64> {
        self.0.lock().unwrap().iter().map(|p| p.rows_done).collect()
    }
}

/// A database of `kind` with the counter table (`0001_items` applied) and
/// `backfill` as `0002_fill`, pending.
fn items(kind: Kind, backfill: &str) -> Option<(TestDb, tempfile::TempDir)> {
    let db = TestDb::create(kind)?;
    let dir = shop(&db, &[("0001_items", COUNTERS), ("0002_fill", backfill)]);
    let no_code = options(Functions::new());
    migrate(&db, dir.path(), &to("0001_items"), &no_code, &mut Quiet).unwrap();
    Some((db, dir))
}

fn fill_items(db: &TestDb, rows: i64) {
    for start in (1..=rows).step_by(1000) {
        let values: Vec<String> = (start..(start + 1000).min(rows + 1))
            .map(|id| format!("({id})"))
            .collect();
        db.execute(&format!(
            "INSERT INTO item (id) VALUES {}",
            values.join(", ")
        ));
    }
}

fn count(db: &TestDb, sql: &str) -> i64 {
    db.query(sql)[0][0].as_deref().unwrap().parse().unwrap()
}

/// 10,000 rows in batches of 1,000; row 5,500 fails its batch: the five batches
/// before it stay committed (n = 1), the rest untouched, the history row partial
/// with the last committed key. Fixed, the next run resumes after it: every row
/// ends with n = 1 exactly.
fn backfill_resumes(kind: Kind) {
    let Some((db, dir)) = items(kind, BACKFILL) else {
        return;
    };
    let dir = dir.path();
    let no_code = options(Functions::new());
    fill_items(&db, ROWS);
    db.execute("UPDATE item SET bad = 1 WHERE id = 5500");

    let mut batches = Batches::default();
    let err = migrate(&db, dir, &all(), &no_code, &mut batches).unwrap_err();
    assert!(err.left_partial(), "{err}");
    assert!(err.to_string().contains("Backfill item"), "{err}");
    assert_eq!(
        count(&db, "SELECT count(*) FROM item WHERE n = 1 AND id <= 5000"),
        5000
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM item WHERE n = 0 AND id > 5000"),
        5000
    );
    assert_eq!(batches.rows_done(), [1000, 2000, 3000, 4000, 5000]);
    let row = &history(&db, "0002_fill")[0];
    assert_eq!(row[..2], [Some("partial".into()), Some("0".into())]);
    let cursor: serde_json::Value = serde_json::from_str(row[2].as_deref().unwrap()).unwrap();
    assert_eq!(cursor, serde_json::json!({ "key": "5000", "rows": 5000 }));
    // A row an older strata (format 3) must refuse rather than start the backfill over.
    assert_eq!(
        count(
            &db,
            "SELECT format FROM strata_migrations WHERE name = '0002_fill'"
        ),
        4
    );

    db.execute("UPDATE item SET bad = 0 WHERE id = 5500");
    let mut batches = Batches::default();
    migrate(&db, dir, &all(), &no_code, &mut batches).unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM item WHERE n = 1"), ROWS);
    assert_eq!(count(&db, "SELECT count(*) FROM item WHERE n <> 1"), 0);
    // Resumed after the committed batches, counting them.
    assert_eq!(
        batches.rows_done(),
        [6000, 7000, 8000, 9000, 10_000],
        "the resumed run redid or skipped a batch"
    );
    assert!(batches
        .0
        .lock()
        .unwrap()
        .iter()
        .all(|p| p.rows_this_run <= 5000));
    assert_eq!(
        history(&db, "0002_fill")[0],
        [Some("applied".into()), Some("1".into()), None]
    );

    // Rolling back leaves the values.
    migrate(&db, dir, &to("0001_items"), &no_code, &mut Quiet).unwrap();
    assert!(history(&db, "0002_fill").is_empty());
    assert_eq!(count(&db, "SELECT count(*) FROM item WHERE n = 1"), ROWS);
}

for_each_backend!(
    a_failed_backfill_resumes_after_its_committed_batches,
    backfill_resumes
);

/// A backfill stopped part-way rolls back (its inverse runs nothing, the values
/// stay); a `where` limits the rows it updates.
fn partial_backfill_rolls_back(kind: Kind) {
    let backfill = BACKFILL.replace("batch_size = 1000", "batch_size = 300\nwhere = \"id <> 7\"");
    let Some((db, dir)) = items(kind, &backfill) else {
        return;
    };
    let dir = dir.path();
    let no_code = options(Functions::new());
    fill_items(&db, 1000);
    db.execute("UPDATE item SET bad = 1 WHERE id = 800");
    let err = migrate(&db, dir, &all(), &no_code, &mut Quiet).unwrap_err();
    assert!(err.left_partial(), "{err}");
    assert_eq!(count(&db, "SELECT count(*) FROM item WHERE n = 1"), 599);
    assert_eq!(count(&db, "SELECT n FROM item WHERE id = 7"), 0);

    migrate(&db, dir, &to("0001_items"), &no_code, &mut Quiet).unwrap();
    assert!(history(&db, "0002_fill").is_empty());
    assert_eq!(count(&db, "SELECT count(*) FROM item WHERE n = 1"), 599);
}

for_each_backend!(a_partial_backfill_rolls_back, partial_backfill_rolls_back);

/// A history table an older strata created has no cursor column: it is read as it
/// is, and the column is added (under the lock) before a backfill needs it.
fn older_history_table(kind: Kind) {
    let Some((db, dir)) = items(kind, BACKFILL) else {
        return;
    };
    let dir = dir.path();
    let no_code = options(Functions::new());
    db.execute("ALTER TABLE strata_migrations DROP COLUMN backfill_cursor");
    let out = strata(dir, &["showmigrations"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("[X] 0001_items"), "{}", out.stdout);
    fill_items(&db, 1500);
    db.execute("UPDATE item SET bad = 1 WHERE id = 1200");
    let err = migrate(&db, dir, &all(), &no_code, &mut Quiet).unwrap_err();
    assert!(err.left_partial(), "{err}");
    assert_eq!(
        history(&db, "0002_fill")[0][2].as_deref(),
        Some(r#"{"key":"1000","rows":1000}"#)
    );
    db.execute("UPDATE item SET bad = 0");
    migrate(&db, dir, &all(), &no_code, &mut Quiet).unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM item WHERE n = 1"), 1500);
}

for_each_backend!(
    an_older_history_table_gains_the_cursor_column,
    older_history_table
);

/// A database of `kind` with a table `word` keyed by text (`0001_words` applied) and
/// `fill` as `0002_fill`, pending.
fn words(kind: Kind, fill: &str) -> Option<(TestDb, tempfile::TempDir)> {
    let db = TestDb::create(kind)?;
    let words = r#"[[operations]]
kind = "create_table"
name = "word"
primary_key = ["w"]
columns = [{ name = "w", type = "varchar(300)" }, { name = "n", type = "int", default = 0 }]
"#;
    let dir = shop(&db, &[("0001_words", words), ("0002_fill", fill)]);
    let no_code = options(Functions::new());
    migrate(&db, dir.path(), &to("0001_words"), &no_code, &mut Quiet).unwrap();
    Some((db, dir))
}

/// A text key is walked with its values quoted by the dialect, quotes included; the
/// SET list given as raw SQL per dialect is used as written.
fn text_keys(kind: Kind) {
    let fill = r#"dependencies = ["shop.0001_words"]

[[operations]]
kind = "backfill"
table = "word"
set_sql = { default = "n = n + 1" }
batch_size = 2
"#;
    let Some((db, dir)) = words(kind, fill) else {
        return;
    };
    let dir = dir.path();
    let no_code = options(Functions::new());
    db.execute("INSERT INTO word (w) VALUES ('a'), ('it''s'), ('o''clock'), ('z'), ('zz')");
    let mut batches = Batches::default();
    migrate(&db, dir, &all(), &no_code, &mut batches).unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM word WHERE n = 1"), 5);
    assert_eq!(batches.rows_done(), [2, 4, 5]);
}

for_each_backend!(a_text_key_is_walked_quoted, text_keys);

/// Interrupted (Ctrl-C) between batches: the next statement fails as interrupted,
/// the committed batches stay with their cursor, and the next run finishes the rest.
fn interrupted_backfill(kind: Kind) {
    struct StopAfter {
        interrupt: executor::Interrupt,
        rows: u64,
    }
    impl OperationObserver for StopAfter {
        fn operation(&self, _index: usize, _total: usize, _description: &str) {}
        fn backfill_progress(&self, _index: usize, progress: &BackfillProgress) {
            if progress.rows_done >= self.rows {
                self.interrupt.raise();
            }
        }
    }
    impl Observer for StopAfter {
        fn operations(&self) -> Option<&dyn OperationObserver> {
            Some(self)
        }
    }

    let Some((db, dir)) = items(kind, BACKFILL) else {
        return;
    };
    let dir = dir.path();
    let no_code = options(Functions::new());
    fill_items(&db, 4500);
    let interrupt = executor::Interrupt::new();
    let mut observer = StopAfter {
        interrupt: interrupt.clone(),
        rows: 2000,
    };
    let graph = graph(dir);
    let err = block_on(async {
        let mut driver =
            executor::Interruptible::new(db.connect().await, interrupt, "strata_migrations");
        executor::migrate(&graph, &mut driver, &all(), &no_code, &mut observer)
            .await
            .unwrap_err()
    });
    assert!(err.left_partial(), "{err}");
    assert!(err.to_string().contains("interrupted"), "{err}");
    assert_eq!(count(&db, "SELECT count(*) FROM item WHERE n = 1"), 2000);
    assert_eq!(
        history(&db, "0002_fill")[0][2].as_deref(),
        Some(r#"{"key":"2000","rows":2000}"#)
    );
    migrate(&db, dir, &all(), &no_code, &mut Quiet).unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM item WHERE n = 1"), 4500);
}

for_each_backend!(an_interrupted_backfill_resumes, interrupted_backfill);

/// The backfill of `item` in batches of `batch_size` (and `where`, if any), over rows
/// of ids `ids`: the database and the batches heard.
fn fill_ids(
    kind: Kind,
    ids: &[i64],
    batch_size: u64,
    predicate: Option<&str>,
) -> Option<(TestDb, Batches)> {
    let mut backfill = BACKFILL.replace("batch_size = 1000", &format!("batch_size = {batch_size}"));
    if let Some(predicate) = predicate {
        backfill = format!("{backfill}where = {predicate:?}\n");
    }
    let (db, dir) = items(kind, &backfill)?;
    if !ids.is_empty() {
        let values: Vec<String> = ids.iter().map(|id| format!("({id})")).collect();
        db.execute(&format!(
            "INSERT INTO item (id) VALUES {}",
            values.join(", ")
        ));
    }
    let mut batches = Batches::default();
    migrate(
        &db,
        dir.path(),
        &all(),
        &options(Functions::new()),
        &mut batches,
    )
    .unwrap();
    assert_eq!(history(&db, "0002_fill")[0][0].as_deref(), Some("applied"));
    Some((db, batches))
}

/// Edges of the walk: an empty table (no batch), one row in batches of one, keys far
/// apart from the smallest to the largest bigint in batches of two, a batch larger
/// than the table, a `where` no row matches.
fn backfill_edges(kind: Kind) {
    let Some((db, batches)) = fill_ids(kind, &[], 1, None) else {
        return;
    };
    assert!(batches.rows_done().is_empty());
    assert_eq!(count(&db, "SELECT count(*) FROM item"), 0);

    let (db, batches) = fill_ids(kind, &[42], 1, None).unwrap();
    assert_eq!(batches.rows_done(), [1]);
    assert_eq!(count(&db, "SELECT n FROM item WHERE id = 42"), 1);

    let ids = [i64::MIN, -5, 0, 7, 1_000_000, i64::MAX];
    let (db, batches) = fill_ids(kind, &ids, 2, None).unwrap();
    assert_eq!(batches.rows_done(), [2, 4, 6]);
    assert_eq!(count(&db, "SELECT count(*) FROM item WHERE n = 1"), 6);

    let (db, batches) = fill_ids(kind, &ids, 1_000_000, None).unwrap();
    assert_eq!(batches.rows_done(), [6]);
    assert_eq!(count(&db, "SELECT count(*) FROM item WHERE n = 1"), 6);

    let (db, batches) = fill_ids(kind, &ids, 1, Some("n > 5")).unwrap();
    assert_eq!(batches.rows_done().len(), 6, "every key is walked");
    assert_eq!(count(&db, "SELECT count(*) FROM item WHERE n = 0"), 6);
}

for_each_backend!(backfill_edges_empty_one_row_extreme_keys, backfill_edges);

/// Text keys the dialect must quote with care, each one the cursor of a batch of
/// one: backslashes (MySQL reads them as escapes), quotes, unicode, a long key.
fn awkward_text_keys(kind: Kind) {
    let fill = r#"dependencies = ["shop.0001_words"]

[[operations]]
kind = "backfill"
table = "word"
set = { n = "n + 1" }
batch_size = 1
"#;
    let Some((db, dir)) = words(kind, fill) else {
        return;
    };
    let dir = dir.path();
    let no_code = options(Functions::new());
    let long = "k".repeat(290) + "\\'";
    let keys = [
        "a\\",
        "b\\\\'c",
        "\\'",
        "\\n",
        "%_",
        "caf\u{e9}",
        "\u{65e5}\u{672c}",
        long.as_str(),
    ];
    let dialect = block_on(async {
        let driver = db.connect().await;
        let dialect = driver.dialect();
        driver.close().await.unwrap();
        dialect
    });
    for key in keys {
        db.execute(&format!(
            "INSERT INTO word (w) VALUES ({})",
            dialect.quote_string(key)
        ));
    }
    // A NUL character (not in PostgreSQL's text): SQLite reads SQL text only up to one.
    let nul = match kind {
        Kind::Sqlite => Some("'nul' || char(0) || 'x'"),
        Kind::Mariadb => Some("CONCAT('nul', CHAR(0), 'x')"),
        Kind::Postgres => None,
    };
    if let Some(nul) = nul {
        db.execute(&format!("INSERT INTO word (w) VALUES ({nul})"));
    }
    let rows = count(&db, "SELECT count(*) FROM word");
    assert_eq!(rows, if nul.is_some() { 9 } else { 8 });
    let mut batches = Batches::default();
    migrate(&db, dir, &all(), &no_code, &mut batches).unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM word WHERE n = 1"), rows);
    let walked: Vec<u64> = (1..=rows.unsigned_abs()).collect();
    assert_eq!(batches.rows_done(), walked);
}

for_each_backend!(awkward_text_keys_are_walked_quoted, awkward_text_keys);

/// A backfill stopped at key 1000 resumes after it even once that row is gone; an
/// edit of the backfill in between is refused (the partial row's checksum covers the
/// operation it stopped in). What is guaranteed: every row that existed when the backfill
/// started and still exists is updated exactly once; a row inserted behind the cursor
/// meanwhile is not visited (its key was passed), one inserted ahead of it is.
fn resume_after_changes(kind: Kind) {
    let Some((db, dir)) = items(kind, BACKFILL) else {
        return;
    };
    let dir = dir.path();
    let no_code = options(Functions::new());
    fill_items(&db, 3000);
    db.execute("UPDATE item SET bad = 1 WHERE id = 1500");
    migrate(&db, dir, &all(), &no_code, &mut Quiet).unwrap_err();
    assert_eq!(
        history(&db, "0002_fill")[0][2].as_deref(),
        Some(r#"{"key":"1000","rows":1000}"#)
    );
    db.execute("DELETE FROM item WHERE id = 1000");
    db.execute("INSERT INTO item (id) VALUES (-1), (3001)");
    db.execute("UPDATE item SET bad = 0");
    let path = dir.join("apps/shop/migrations/0002_fill.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("batch_size = 1000", "batch_size = 700")).unwrap();
    // The running backfill is part of what the partial row's checksum covers: an
    // edit of it (here its batch size) is refused, nothing runs.
    let err = migrate(&db, dir, &all(), &no_code, &mut Quiet).unwrap_err();
    assert!(matches!(err, ExecError::Edited { .. }), "{err}");
    assert_eq!(count(&db, "SELECT count(*) FROM item WHERE n = 1"), 999);
    std::fs::write(&path, text).unwrap();

    let mut batches = Batches::default();
    migrate(&db, dir, &all(), &no_code, &mut batches).unwrap();
    assert_eq!(batches.rows_done(), [2000, 3000, 3001]);
    assert_eq!(count(&db, "SELECT count(*) FROM item WHERE n = 1"), 3000);
    assert_eq!(count(&db, "SELECT count(*) FROM item WHERE n > 1"), 0);
    assert_eq!(count(&db, "SELECT n FROM item WHERE id = -1"), 0);
    assert_eq!(count(&db, "SELECT n FROM item WHERE id = 3001"), 1);
}

for_each_backend!(
    a_backfill_resumes_past_a_deleted_cursor_and_refuses_an_edit,
    resume_after_changes
);

/// A database of `kind` with `0001_tickets` applied and its one ticket, `Alpha`, and
/// `FILL` (a table, then `fill_slugs`) pending.
fn one_ticket(kind: Kind) -> Option<(TestDb, tempfile::TempDir)> {
    let db = TestDb::create(kind)?;
    let dir = shop(&db, &[("0001_tickets", TICKETS), ("0002_fill", FILL)]);
    let no_code = options(Functions::new());
    migrate(&db, dir.path(), &to("0001_tickets"), &no_code, &mut Quiet).unwrap();
    db.execute("INSERT INTO ticket (id, title) VALUES (1, 'Alpha')");
    Some((db, dir))
}

/// A function cannot commit, roll back or open a transaction through its session:
/// each is refused, savepoints are not, and the function's error still rolls back
/// its own writes with the migration.
fn transaction_control_refused(kind: Kind) {
    let Some((db, dir)) = one_ticket(kind) else {
        return;
    };
    let dir = dir.path();
    let mut functions = Functions::new();
    functions.register("fill_slugs", |mut db: Session<'_>| {
        Box::pin(async move {
            db.execute("UPDATE ticket SET slug = lower(title)").await?;
            for sql in [
                "COMMIT",
                "commit work",
                "ROLLBACK",
                "BEGIN",
                "START TRANSACTION",
                "END",
                "SELECT 1; COMMIT",
                "/*!40101 COMMIT */",
                "SET autocommit = 1",
            ] {
                match db.execute(sql).await {
                    Err(e) if e.to_string().contains("transaction control") => {}
                    other => return Err(format!("{sql} was not refused: {other:?}").into()),
                }
            }
            if let Err(e) = db.query("rollback").await {
                assert!(
                    e.to_string().contains("transaction control (`ROLLBACK`)"),
                    "{e}"
                );
            } else {
                return Err("a ROLLBACK query was not refused".into());
            }
            Err("stopped after the checks".into())
        })
    });
    let err = migrate(&db, dir, &all(), &options(functions), &mut Quiet).unwrap_err();
    assert!(
        err.to_string().contains("stopped after the checks"),
        "{err}"
    );
    assert_eq!(slugs(&db), [None]);

    if kind != Kind::Mariadb {
        // Savepoints stay inside strata's transaction.
        let mut functions = Functions::new();
        functions.register("fill_slugs", |mut db: Session<'_>| {
            Box::pin(async move {
                db.execute("UPDATE ticket SET slug = 'kept'").await?;
                db.execute("SAVEPOINT s").await?;
                db.execute("UPDATE ticket SET slug = 'undone'").await?;
                db.execute("ROLLBACK TO SAVEPOINT s").await?;
                db.execute("RELEASE SAVEPOINT s").await?;
                Ok(())
            })
        });
        migrate(&db, dir, &all(), &options(functions), &mut Quiet).unwrap();
        assert_eq!(slugs(&db), [Some("kept".into())]);
    }
}

for_each_backend!(
    a_function_cannot_control_the_transaction,
    transaction_control_refused
);

/// A function that panics: the panic reaches the application, nothing of the
/// migration is recorded as applied, and the next run takes the lock and finishes.
fn panicking_function(kind: Kind) {
    let Some((db, dir)) = one_ticket(kind) else {
        return;
    };
    let dir = dir.path();
    let mut functions = Functions::new();
    functions.register("fill_slugs", |mut db: Session<'_>| {
        Box::pin(async move {
            db.execute("UPDATE ticket SET slug = 'half'").await?;
            panic!("the application's bug");
        })
    });
    let options_panicking = options(functions);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        migrate(&db, dir, &all(), &options_panicking, &mut Quiet).is_ok()
    }));
    assert!(outcome.is_err(), "the panic did not reach the caller");
    assert_ne!(
        history(&db, "0002_fill")
            .first()
            .and_then(|row| row[0].clone())
            .as_deref(),
        Some("applied")
    );
    if kind != Kind::Mariadb {
        assert_eq!(slugs(&db), [None]);
    }
    migrate_with(&db, dir, &all(), false, true).unwrap();
    assert_eq!(slugs(&db), [Some("alpha".into())]);
}

for_each_backend!(a_panicking_function_reports_no_success, panicking_function);

/// Whether the history table has the cursor column.
fn has_cursor_column(db: &TestDb) -> bool {
    block_on(async {
        let mut driver = db.connect().await;
        let probe = driver
            .query("SELECT strata_migrations.backfill_cursor FROM strata_migrations WHERE 1 = 0")
            .await;
        driver.close().await.unwrap();
        probe.is_ok()
    })
}

/// A history table an older strata created is altered only for a plan that runs a
/// backfill: a database user that may write it but not alter it (not its owner, on
/// PostgreSQL) keeps running every other migration after the upgrade.
fn older_history_table_left_alone(kind: Kind) {
    let more = r#"dependencies = ["shop.0001_items"]

[[operations]]
kind = "add_column"
table = "item"
column = { name = "note", type = "text", null = true }
"#;
    let fill = BACKFILL.replace("shop.0001_items", "shop.0002_more");
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = shop(
        &db,
        &[
            ("0001_items", COUNTERS),
            ("0002_more", more),
            ("0003_fill", &fill),
        ],
    );
    let dir = dir.path();
    let no_code = options(Functions::new());
    migrate(&db, dir, &to("0001_items"), &no_code, &mut Quiet).unwrap();
    db.execute("ALTER TABLE strata_migrations DROP COLUMN backfill_cursor");
    fill_items(&db, 10);

    migrate(&db, dir, &to("0002_more"), &no_code, &mut Quiet).unwrap();
    assert!(!has_cursor_column(&db), "altered without a backfill to run");
    assert_eq!(
        db.query("SELECT state FROM strata_migrations WHERE name = '0002_more'"),
        [[Some("applied".to_string())]]
    );
    migrate(&db, dir, &to("0001_items"), &no_code, &mut Quiet).unwrap();
    assert!(!has_cursor_column(&db));

    migrate(&db, dir, &all(), &no_code, &mut Quiet).unwrap();
    assert!(has_cursor_column(&db));
    assert_eq!(count(&db, "SELECT count(*) FROM item WHERE n = 1"), 10);
    assert_eq!(history(&db, "0003_fill")[0][0].as_deref(), Some("applied"));
}

for_each_backend!(
    an_older_history_table_is_altered_only_for_a_backfill,
    older_history_table_left_alone
);

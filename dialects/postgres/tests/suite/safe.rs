//! Safe plans on a live server (`STRATA_TEST_POSTGRES_URL`): a lock timeout that
//! names who holds the lock, what a failed concurrent build or validation leaves and
//! how the cleanup removes it, row estimates, and every lock note checked against
//! `pg_locks` (the lock), `pg_stat_xact_user_tables` (whether it read the rows) and
//! `relfilenode` (the rewrite).
//!
//! The statements of a plan are run here one by one in their order: an `Outside`
//! one in autocommit, any other in a transaction of its own, whose locks are read
//! before it commits.

use std::time::{Duration, Instant};

use strata_engine::dialect::driver::{run_statement, Driver};
use strata_engine::dialect::{Runs, TableWork};
use strata_engine::script::{self, Direction, Mode};
use strata_engine::{Dialect, Operation, RenderContext, SchemaState, Statement};
use strata_postgres::{PostgresDialect, PostgresDriver};

use crate::common::{server_url, with_fresh_database};

async fn connect(url: &str) -> PostgresDriver {
    PostgresDriver::connect(url).await.expect("connect")
}

fn operations(toml_text: &str) -> Vec<Operation> {
    #[derive(serde::Deserialize)]
    struct File {
        operations: Vec<Operation>,
    }
    toml::from_str::<File>(toml_text).unwrap().operations
}

async fn value(driver: &mut PostgresDriver, sql: &str) -> Option<String> {
    driver.query(sql).await.unwrap()[0][0].clone()
}

/// Runs `ops` as the plain, atomic script against `state`; returns the state after.
async fn apply(driver: &mut PostgresDriver, state: &SchemaState, ops: &[Operation]) -> SchemaState {
    let dialect = PostgresDialect;
    let (script, after) = script::render(
        &dialect,
        driver.version(),
        state,
        ops,
        true,
        Direction::Forward,
    )
    .unwrap();
    script.execute(driver).await.unwrap();
    after
}

/// The safe plan of `op` on `state` and its cleanup.
fn safe_plan(
    driver: &PostgresDriver,
    state: &SchemaState,
    op: &Operation,
) -> (Vec<Statement>, Vec<Statement>) {
    let mode = Mode {
        atomic: true,
        safe: true,
    };
    let ops = std::slice::from_ref(op);
    let (script, _) = script::render(
        &PostgresDialect,
        driver.version(),
        state,
        ops,
        mode,
        Direction::Forward,
    )
    .unwrap();
    let rendered = script.operations.into_iter().next().unwrap();
    (rendered.statements, rendered.cleanup)
}

async fn pid(driver: &mut PostgresDriver) -> String {
    value(driver, "SELECT pg_backend_pid()").await.unwrap()
}

#[tokio::test]
async fn a_lock_timeout_is_recognised_and_names_the_session_holding_the_lock() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let mut holder = connect(&url).await;
        holder.execute("CREATE TABLE t (id int)").await.unwrap();
        // Read first: the holder's last query must be the one that took the lock.
        let holder_pid = pid(&mut holder).await;
        holder.execute("BEGIN").await.unwrap();
        holder.query("SELECT * FROM t").await.unwrap();

        let mut ddl = connect(&url).await;
        ddl.set_ddl_lock_timeout(Duration::from_secs(1))
            .await
            .unwrap();
        let started = Instant::now();
        let error = ddl
            .execute("ALTER TABLE t ADD COLUMN x int")
            .await
            .unwrap_err();
        let timed_out_after = started.elapsed();
        assert!(ddl.is_lock_timeout(&error), "{error}");
        assert!(
            timed_out_after >= Duration::from_millis(900)
                && timed_out_after < Duration::from_secs(10),
            "{timed_out_after:?}"
        );
        let other = ddl
            .execute("SELECT * FROM no_such_table")
            .await
            .unwrap_err();
        assert!(!ddl.is_lock_timeout(&other), "{other}");

        let blockers = ddl.lock_holders(&["t".to_string()]).await.unwrap();
        assert_eq!(blockers.len(), 1, "{blockers:?}");
        let blocker = &blockers[0];
        assert_eq!(blocker.pid, holder_pid);
        assert_eq!(blocker.user.as_deref(), Some("postgres"));
        assert_eq!(blocker.application.as_deref(), Some("strata"));
        assert_eq!(blocker.state.as_deref(), Some("idle in transaction"));
        assert_eq!(blocker.lock.as_deref(), Some("ACCESS SHARE on t"));
        assert_eq!(blocker.query.as_deref(), Some("SELECT * FROM t"));
        assert!(blocker.client.is_some(), "{blocker:?}");
        assert!(
            blocker
                .transaction_age
                .is_some_and(|age| age >= Duration::from_secs(1)),
            "{blocker:?}"
        );
        let shown = blocker.to_string();
        assert!(
            shown.starts_with(&format!("pid {holder_pid}, user: postgres")),
            "{shown}"
        );
        // Tables nobody touches have no holders; an unknown one is no error.
        assert!(ddl
            .lock_holders(&["nothing_here".to_string()])
            .await
            .unwrap()
            .is_empty());

        // A session queued behind the holder shows up too, as waiting.
        let waiter_url = url.clone();
        let waiter = tokio::spawn(async move {
            let mut waiter = connect(&waiter_url).await;
            let waiter_pid = pid(&mut waiter).await;
            let outcome = waiter.execute("ALTER TABLE t ADD COLUMN y int").await;
            (waiter_pid, outcome)
        });
        let mut queued = Vec::new();
        for _ in 0..100 {
            queued = ddl.lock_holders(&["t".to_string()]).await.unwrap();
            if queued.len() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let locks: Vec<_> = queued.iter().filter_map(|b| b.lock.clone()).collect();
        assert_eq!(
            locks,
            ["ACCESS SHARE on t", "ACCESS EXCLUSIVE (waiting) on t"],
            "{queued:?}"
        );

        holder.execute("ROLLBACK").await.unwrap();
        let (waiter_pid, outcome) = waiter.await.unwrap();
        outcome.unwrap();
        assert_eq!(queued[1].pid, waiter_pid);
        ddl.execute("ALTER TABLE t ADD COLUMN x int").await.unwrap();
    })
    .await;
}

/// A new session and its pid, after running `statements` one by one.
async fn session(url: &str, statements: &[&str]) -> (PostgresDriver, String) {
    let mut driver = connect(url).await;
    let pid = pid(&mut driver).await;
    for sql in statements {
        driver.query(sql).await.unwrap();
    }
    (driver, pid)
}

/// Waits (at most two seconds) until session `pid` runs a query.
async fn wait_until_active(driver: &mut PostgresDriver, pid: &str) {
    let sql = format!("SELECT state FROM pg_stat_activity WHERE pid = {pid}");
    let mut state = None;
    for _ in 0..100 {
        state = value(driver, &sql).await;
        if state.as_deref() == Some("active") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("session {pid} never became active: {state:?}");
}

#[tokio::test]
async fn a_concurrent_build_that_times_out_names_the_old_snapshot_it_waited_for() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let mut setup = connect(&url).await;
        for sql in [
            "CREATE TABLE a (x int)",
            "CREATE TABLE other_table (y int)",
            "INSERT INTO a VALUES (1)",
        ] {
            setup.execute(sql).await.unwrap();
        }

        // A reader of `a` at READ COMMITTED, idle in its transaction: ACCESS SHARE
        // does not stop a concurrent build, and it holds no snapshot between queries.
        let (mut reader, reader_pid) = session(&url, &["BEGIN", "SELECT count(*) FROM a"]).await;
        // Connected, idle, no transaction: blocks nothing.
        let (_idle, idle_pid) = session(&url, &[]).await;

        // The reviewer's repro: a transaction that read another table, now in a
        // long query, so its snapshot is older than the build.
        let (mut sleeper, sleeper_pid) =
            session(&url, &["BEGIN", "SELECT count(*) FROM other_table"]).await;
        let sleeping = tokio::spawn(async move {
            let outcome = sleeper.query("SELECT pg_sleep(30)").await;
            (sleeper, outcome)
        });
        let mut ddl = connect(&url).await;
        wait_until_active(&mut ddl, &sleeper_pid).await;

        ddl.set_ddl_lock_timeout(Duration::from_secs(1))
            .await
            .unwrap();
        let error = ddl
            .execute("CREATE INDEX CONCURRENTLY a_x ON a (x)")
            .await
            .unwrap_err();
        assert!(ddl.is_lock_timeout(&error), "{error}");
        // A transaction younger than the wait (lock_timeout) cannot have stopped it.
        let (mut young, young_pid) = session(
            &url,
            &[
                "BEGIN ISOLATION LEVEL REPEATABLE READ",
                "SELECT count(*) FROM other_table",
            ],
        )
        .await;

        let blockers = ddl.lock_holders(&["a".to_string()]).await.unwrap();
        let listed: Vec<(&str, Option<&str>)> = blockers
            .iter()
            .map(|b| (b.pid.as_str(), b.lock.as_deref()))
            .collect();
        let old_snapshot =
            "a snapshot older than this lock wait (concurrent index builds wait for it)";
        assert_eq!(
            listed,
            [
                (reader_pid.as_str(), Some("ACCESS SHARE on a")),
                (sleeper_pid.as_str(), Some(old_snapshot)),
            ],
            "{blockers:?}"
        );
        for pid in [&idle_pid, &young_pid] {
            assert!(
                blockers.iter().all(|b| &b.pid != pid),
                "{pid}: {blockers:?}"
            );
        }
        let sleeper_row = &blockers[1];
        assert_eq!(sleeper_row.state.as_deref(), Some("active"));
        assert_eq!(sleeper_row.query.as_deref(), Some("SELECT pg_sleep(30)"));
        assert!(
            sleeper_row
                .transaction_age
                .is_some_and(|age| age >= Duration::from_secs(1)),
            "{sleeper_row:?}"
        );
        assert!(
            sleeper_row
                .to_string()
                .contains(&format!("pid {sleeper_pid}, user: postgres"))
                && sleeper_row.to_string().contains(old_snapshot),
            "{sleeper_row}"
        );

        // Once it ends, the build goes through.
        value(
            &mut ddl,
            &format!("SELECT pg_cancel_backend({sleeper_pid})::text"),
        )
        .await;
        let (mut sleeper, outcome) = sleeping.await.unwrap();
        assert!(outcome.is_err(), "the sleep was cancelled");
        sleeper.execute("ROLLBACK").await.unwrap();
        reader.execute("ROLLBACK").await.unwrap();
        young.execute("ROLLBACK").await.unwrap();
        ddl.execute("DROP INDEX a_x").await.unwrap();
        ddl.execute("CREATE INDEX CONCURRENTLY a_x ON a (x)")
            .await
            .unwrap();
        assert!(ddl
            .lock_holders(&["a".to_string()])
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}

/// An index of that name, and whether it is valid.
async fn index_validity(driver: &mut PostgresDriver, name: &str) -> Option<String> {
    let rows = driver
        .query(&format!(
            "SELECT i.indisvalid::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             WHERE c.relname = '{name}'"
        ))
        .await
        .unwrap();
    rows.first().and_then(|r| r[0].clone())
}

/// The constraint of that name, and whether it is validated.
async fn constraint_validity(driver: &mut PostgresDriver, name: &str) -> Option<String> {
    let rows = driver
        .query(&format!(
            "SELECT convalidated::text FROM pg_constraint WHERE conname = '{name}'"
        ))
        .await
        .unwrap();
    rows.first().and_then(|r| r[0].clone())
}

const DUPLICATES: &str = r#"
[[operations]]
kind = "create_table"
name = "product"
primary_key = ["id"]
columns = [
  { name = "id", type = "int" },
  { name = "sku", type = "varchar(20)" },
  { name = "qty", type = "int" },
]
"#;

#[tokio::test]
async fn a_unique_build_over_duplicates_fails_and_its_cleanup_leaves_no_index() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let mut driver = connect(&url).await;
        let state = apply(&mut driver, &SchemaState::new(), &operations(DUPLICATES)).await;
        driver
            .execute("INSERT INTO product VALUES (1, 'a', 1), (2, 'a', 2)")
            .await
            .unwrap();
        for op in operations(
            r#"
            [[operations]]
            kind = "add_constraint"
            table = "product"
            constraint = { type = "unique", name = "product_sku_uniq", columns = ["sku"] }

            [[operations]]
            kind = "create_index"
            table = "product"
            index = { name = "product_sku_idx", columns = ["sku"], unique = true }
            "#,
        ) {
            let (plan, cleanup) = safe_plan(&driver, &state, &op);
            assert_eq!(plan[0].runs, Runs::Outside, "{plan:?}");
            let error = run_statement(&mut driver, &plan[0]).await.unwrap_err();
            assert!(error.to_string().contains("23505"), "{error}");
            let name = match &op {
                Operation::CreateIndex(o) => o.index.name.clone(),
                _ => "product_sku_uniq".to_string(),
            };
            // What PostgreSQL leaves behind: an INVALID index under that name.
            assert_eq!(
                index_validity(&mut driver, &name).await.as_deref(),
                Some("false")
            );
            // What the executor runs after a failed build: the driver drops the
            // INVALID index (and only an invalid one), then the operation's cleanup.
            driver.clear_leftovers(&plan[0].sql).await.unwrap();
            for statement in &cleanup {
                run_statement(&mut driver, statement).await.unwrap();
            }
            assert_eq!(index_validity(&mut driver, &name).await, None, "{op}");
            // With nothing to undo, the cleanup succeeds again.
            for statement in &cleanup {
                run_statement(&mut driver, statement).await.unwrap();
            }
        }
    })
    .await;
}

#[tokio::test]
async fn a_failed_validation_leaves_the_not_valid_constraint_and_cleanup_removes_it() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let mut driver = connect(&url).await;
        let state = apply(&mut driver, &SchemaState::new(), &operations(DUPLICATES)).await;
        driver
            .execute("INSERT INTO product VALUES (1, 'a', -1)")
            .await
            .unwrap();
        let op = &operations(
            r#"
            [[operations]]
            kind = "add_constraint"
            table = "product"
            constraint = { type = "check", name = "product_qty_nonneg", expr = "qty >= 0" }
            "#,
        )[0];
        let (plan, cleanup) = safe_plan(&driver, &state, op);
        assert_eq!(
            plan.iter().map(|s| s.runs).collect::<Vec<_>>(),
            [Runs::OwnTransaction, Runs::OwnTransaction]
        );
        run_statement(&mut driver, &plan[0]).await.unwrap();
        // NOT VALID: new rows are checked at once, old ones are not.
        let refused = driver
            .execute("INSERT INTO product VALUES (2, 'b', -5)")
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("23514"), "{refused}");
        let error = run_statement(&mut driver, &plan[1]).await.unwrap_err();
        assert!(error.to_string().contains("23514"), "{error}");
        assert_eq!(
            constraint_validity(&mut driver, "product_qty_nonneg")
                .await
                .as_deref(),
            Some("false")
        );
        for statement in &cleanup {
            run_statement(&mut driver, statement).await.unwrap();
        }
        assert_eq!(
            constraint_validity(&mut driver, "product_qty_nonneg").await,
            None
        );

        // Fixed, the whole plan runs again from its first statement.
        driver.execute("UPDATE product SET qty = 0").await.unwrap();
        for statement in &plan {
            run_statement(&mut driver, statement).await.unwrap();
        }
        assert_eq!(
            constraint_validity(&mut driver, "product_qty_nonneg")
                .await
                .as_deref(),
            Some("true")
        );
    })
    .await;
}

#[tokio::test]
async fn table_rows_counts_a_table_never_analyzed_then_reads_the_estimate() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let mut driver = connect(&url).await;
        let odd = "Row \"count\"".to_string();
        driver
            .execute("CREATE TABLE \"Row \"\"count\"\"\" (id int)")
            .await
            .unwrap();
        driver
            .execute("INSERT INTO \"Row \"\"count\"\"\" SELECT generate_series(1, 1234)")
            .await
            .unwrap();
        driver.execute("CREATE TABLE empty (id int)").await.unwrap();
        let tables = [odd.clone(), "empty".to_string(), "missing".to_string()];
        let before = driver.table_rows(&tables).await.unwrap();
        assert_eq!(before.get(&odd), Some(&1234), "{before:?}");
        assert_eq!(before.get("empty"), Some(&0), "{before:?}");
        assert!(!before.contains_key("missing"), "{before:?}");

        driver.execute("ANALYZE").await.unwrap();
        driver
            .execute("INSERT INTO \"Row \"\"count\"\"\" SELECT generate_series(1, 100)")
            .await
            .unwrap();
        // The estimate, as ANALYZE left it: the 100 new rows are not in it yet.
        let after = driver.table_rows(&tables).await.unwrap();
        let estimate = after[&odd];
        assert!((1200..=1270).contains(&estimate), "{after:?}");
        assert!(driver.table_rows(&[]).await.unwrap().is_empty());
    })
    .await;
}

/// `ACCESS EXCLUSIVE` as `pg_locks` spells it: `AccessExclusiveLock`.
fn pg_locks_mode(lock: &str) -> String {
    let mut out: String = lock
        .split(' ')
        .map(|word| {
            let lower = word.to_lowercase();
            let mut chars = lower.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect();
    out.push_str("Lock");
    out
}

/// The strongest lock this session holds on relation `name`, by conflict order.
async fn strongest_lock(driver: &mut PostgresDriver, name: &str) -> Option<String> {
    const ORDER: [&str; 8] = [
        "AccessShareLock",
        "RowShareLock",
        "RowExclusiveLock",
        "ShareUpdateExclusiveLock",
        "ShareLock",
        "ShareRowExclusiveLock",
        "ExclusiveLock",
        "AccessExclusiveLock",
    ];
    let rows = driver
        .query(&format!(
            "SELECT l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
             WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND c.relname = '{name}'"
        ))
        .await
        .unwrap();
    rows.into_iter()
        .filter_map(|r| r[0].clone())
        .max_by_key(|mode| ORDER.iter().position(|m| m == mode))
}

/// The sequential scans of `table` this session has not reported yet. A session
/// reports only between transactions, so the difference across one statement inside
/// a transaction says whether it read the rows or only the catalog.
async fn sequential_scans(driver: &mut PostgresDriver, table: &str) -> u64 {
    value(
        driver,
        &format!("SELECT seq_scan::text FROM pg_stat_xact_user_tables WHERE relname = '{table}'"),
    )
    .await
    .unwrap()
    .parse()
    .unwrap()
}

async fn relfilenode(driver: &mut PostgresDriver, table: &str) -> String {
    value(
        driver,
        &format!("SELECT relfilenode::text FROM pg_class WHERE relname = '{table}'"),
    )
    .await
    .unwrap()
}

const BOOKS: &str = r#"
[[operations]]
kind = "create_table"
name = "author"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint" }]

[[operations]]
kind = "create_table"
name = "book"
primary_key = ["id"]
columns = [
  { name = "id", type = "bigint" },
  { name = "title", type = "varchar(20)" },
  { name = "note", type = "text", null = true },
  { name = "price", type = "decimal(10,2)" },
  { name = "qty", type = "int" },
  { name = "code", type = "char(2)" },
  { name = "author_id", type = "bigint" },
]
indexes = [{ name = "book_title_idx", columns = ["title"] }]
"#;

/// Operations on `book`, each run plain and safe, then undone.
const CHANGES: &str = r#"
[[operations]]
kind = "add_column"
table = "book"
column = { name = "extra", type = "int", null = true }

[[operations]]
kind = "add_column"
table = "book"
column = { name = "extra", type = "int", default = 7 }

[[operations]]
kind = "add_column"
table = "book"
column = { name = "extra", type = "uuid", default = { expr = "uuid" } }

[[operations]]
kind = "add_column"
table = "book"
column = { name = "extra", type = "timestamptz", default = { expr = "now" } }

[[operations]]
kind = "alter_column"
table = "book"
column = "title"
type = "varchar(40)"

[[operations]]
kind = "alter_column"
table = "book"
column = "title"
type = "text"

[[operations]]
kind = "alter_column"
table = "book"
column = "title"
type = "varchar(10)"

[[operations]]
kind = "alter_column"
table = "book"
column = "price"
type = "decimal(12,2)"

[[operations]]
kind = "alter_column"
table = "book"
column = "price"
type = "decimal(12,3)"

[[operations]]
kind = "alter_column"
table = "book"
column = "qty"
type = "bigint"

[[operations]]
kind = "alter_column"
table = "book"
column = "code"
type = "char(4)"

[[operations]]
kind = "alter_column"
table = "book"
column = "note"
null = false

[[operations]]
kind = "create_index"
table = "book"
index = { name = "book_qty_idx", columns = ["qty"] }

[[operations]]
kind = "drop_index"
table = "book"
name = "book_title_idx"

[[operations]]
kind = "add_foreign_key"
table = "book"
foreign_key = { name = "book_author_fk", columns = ["author_id"], references = "author", referenced_columns = ["id"] }

[[operations]]
kind = "add_constraint"
table = "book"
constraint = { type = "check", name = "book_qty_nonneg", expr = "qty >= 0" }

[[operations]]
kind = "add_constraint"
table = "book"
constraint = { type = "unique", name = "book_code_uniq", columns = ["code"] }

[[operations]]
kind = "drop_column"
table = "book"
column = "note"
"#;

#[tokio::test]
async fn every_lock_note_matches_pg_locks_and_every_rewrite_relfilenode() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let mut driver = connect(&url).await;
        let dialect = PostgresDialect;
        let version = driver.version();
        let capabilities = dialect.capabilities(version);
        let state = apply(&mut driver, &SchemaState::new(), &operations(BOOKS)).await;
        driver
            .execute("INSERT INTO author VALUES (1)")
            .await
            .unwrap();
        driver
            .execute(
                "INSERT INTO book SELECT i, 'title ' || i, 'note', i, i, lpad(i::text, 2, '0'), 1 \
                 FROM generate_series(1, 50) AS i",
            )
            .await
            .unwrap();
        let mut checked = 0;
        for op in operations(CHANGES) {
            for safe in [false, true] {
                let ctx = RenderContext {
                    state: &state,
                    version,
                    capabilities: &capabilities,
                    in_transaction: true,
                    safe,
                };
                for statement in dialect.render(&op, &ctx).unwrap() {
                    let note = dialect.explain(&op, &statement, &ctx);
                    let table = note.table.clone().unwrap();
                    let what = format!("{op} (safe: {safe}): {}\n{note:?}", statement.sql);
                    let before = relfilenode(&mut driver, &table).await;
                    if statement.runs == Runs::Outside {
                        run_statement(&mut driver, &statement).await.unwrap();
                    } else {
                        driver.execute("BEGIN").await.unwrap();
                        let scans_before = sequential_scans(&mut driver, &table).await;
                        run_statement(&mut driver, &statement)
                            .await
                            .unwrap_or_else(|e| panic!("{what}: {e}"));
                        let lock = strongest_lock(&mut driver, &table).await;
                        assert_eq!(lock, Some(pg_locks_mode(&note.lock)), "{what}");
                        let scans = sequential_scans(&mut driver, &table).await - scans_before;
                        assert_eq!(
                            scans > 0,
                            note.work != TableWork::Catalog,
                            "{scans} sequential scans: {what}"
                        );
                        driver.execute("COMMIT").await.unwrap();
                        checked += 1;
                    }
                    let after = relfilenode(&mut driver, &table).await;
                    assert_eq!(
                        before != after,
                        note.work == TableWork::Rewrite,
                        "relfilenode {before} -> {after}: {what}"
                    );
                }
                let (undo, _) = script::render(
                    &dialect,
                    version,
                    &state,
                    std::slice::from_ref(&op),
                    true,
                    Direction::Backward,
                )
                .unwrap();
                undo.execute(&mut driver).await.unwrap();
            }
        }
        assert!(checked > 40, "{checked}");
    })
    .await;
}

//! Safe plans on live servers, as `strata migrate` runs them: a session holding a
//! conflicting lock makes migrate give up after its DDL lock timeout and retries
//! (exit 5) naming that session, then succeed once it ends; a constraint whose
//! validation fails, or a unique index built over duplicates, leaves nothing behind
//! and runs again once the data is fixed.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::common::db::{block_on, Kind, TestDb};
use crate::common::{project, spawn_migrate, strata};

fn config(url: &str) -> String {
    format!(
        "[project]\napps = [\"shop\"]\n\n[database]\nurl = {url:?}\nddl_lock_timeout = \"1s\"\nddl_retries = 2\n"
    )
}

const TABLES: &str = r#"[[operations]]
kind = "create_table"
name = "shop_customer"
primary_key = ["id"]
columns = [{ name = "id", type = "int" }]

[[operations]]
kind = "create_table"
name = "shop_order"
primary_key = ["id"]
columns = [
    { name = "id", type = "int" },
    { name = "customer_id", type = "int", null = true },
    { name = "code", type = "varchar(20)", null = true },
]
"#;

const ADD_FOREIGN_KEY: &str = r#"dependencies = ["shop.0001_tables"]

[[operations]]
kind = "add_foreign_key"
table = "shop_order"
foreign_key = { name = "shop_order_customer_fk", columns = ["customer_id"], references = "shop_customer", referenced_columns = ["id"] }
"#;

const ADD_UNIQUE: &str = r#"dependencies = ["shop.0001_tables"]

[[operations]]
kind = "add_constraint"
table = "shop_order"
constraint = { type = "unique", name = "shop_order_code_uniq", columns = ["code"] }
"#;

const ADD_COLUMN: &str = r#"dependencies = ["shop.0001_tables"]

[[operations]]
kind = "add_column"
table = "shop_order"
column = { name = "note", type = "text", null = true }
"#;

fn history(db: &TestDb) -> Vec<Vec<Option<String>>> {
    db.query("SELECT name, state FROM strata_migrations ORDER BY name")
}

/// A second session holding `BEGIN; SELECT … FROM shop_order` open until told to
/// end: its process id, and the sender that ends it.
fn hold_table(db: &TestDb) -> (String, mpsc::Sender<()>, thread::JoinHandle<()>) {
    let (pid_tx, pid_rx) = mpsc::channel();
    let (end_tx, end_rx) = mpsc::channel::<()>();
    let url = db.url.clone();
    let kind = db.kind;
    let holder = thread::spawn(move || {
        block_on(async move {
            let registry = strata::backends();
            let (backend, _) = registry.for_url(&url).unwrap();
            let mut session = backend.connect(&url).await.unwrap();
            let pid_sql = match kind {
                Kind::Postgres => "SELECT pg_backend_pid()",
                _ => "SELECT CONNECTION_ID()",
            };
            let pid = session.query(pid_sql).await.unwrap()[0][0].clone().unwrap();
            session.execute("BEGIN").await.unwrap();
            session.query("SELECT * FROM shop_order").await.unwrap();
            pid_tx.send(pid).unwrap();
            let _ = end_rx.recv();
            session.execute("ROLLBACK").await.unwrap();
            session.close().await.unwrap();
        });
    });
    let pid = pid_rx.recv_timeout(Duration::from_secs(30)).unwrap();
    (pid, end_tx, holder)
}

/// `migrate` gives up in a few seconds with exit 5, names the session in the way,
/// leaves nothing half-done, and succeeds once that session ends.
fn a_lock_holder_is_named_and_waited_out(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = project(&[
        ("strata.toml", &config(&db.url)),
        ("apps/shop/migrations/0001_tables.toml", TABLES),
        ("apps/shop/migrations/0002_note.toml", ADD_COLUMN),
    ]);
    let out = strata(dir.path(), &["migrate", "shop", "0001"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (pid, end, holder) = hold_table(&db);

    let started = Instant::now();
    let out = strata(dir.path(), &["migrate"]);
    let took = started.elapsed();
    assert_eq!(out.code, 5, "{}\n{}", out.stdout, out.stderr);
    // Three attempts of 1 s plus two pauses of at most 0.5 s and 1 s.
    assert!(took < Duration::from_secs(20), "gave up after {took:?}");
    assert!(
        out.stderr.contains("gave up after 3 attempt(s)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!("pid {pid}")),
        "the holder {pid} is not named:\n{}",
        out.stderr
    );
    assert_eq!(
        history(&db),
        [[Some("0001_tables".into()), Some("applied".into())]],
        "nothing of 0002 may be recorded"
    );

    end.send(()).unwrap();
    holder.join().unwrap();
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(history(&db)[1][1].as_deref(), Some("applied"));
}

#[test]
fn a_lock_holder_is_named_and_waited_out_postgres() {
    a_lock_holder_is_named_and_waited_out(Kind::Postgres);
}

#[test]
fn a_lock_holder_is_named_and_waited_out_mariadb() {
    a_lock_holder_is_named_and_waited_out(Kind::Mariadb);
}

/// The foreign key is added without checking the rows (PostgreSQL `NOT VALID`,
/// MariaDB in place with the checks off for that statement) and they are checked
/// apart; a check that fails (an order of a customer that does not exist) leaves no
/// constraint, no supporting index and an unchanged history, and the same migration
/// succeeds once the data is fixed.
fn a_failed_validation_leaves_nothing_and_runs_again(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = project(&[
        ("strata.toml", &config(&db.url)),
        ("apps/shop/migrations/0001_tables.toml", TABLES),
        ("apps/shop/migrations/0002_fk.toml", ADD_FOREIGN_KEY),
    ]);
    let out = strata(dir.path(), &["migrate", "shop", "0001"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    db.execute("INSERT INTO shop_order (id, customer_id) VALUES (1, 99)");

    let sql = strata(dir.path(), &["sqlmigrate", "shop", "0002"]);
    let (unchecked, check) = match kind {
        Kind::Postgres => ("NOT VALID", "VALIDATE CONSTRAINT"),
        _ => ("foreign_key_checks=0 FOR", "NOT EXISTS"),
    };
    assert!(sql.stdout.contains(unchecked), "{}", sql.stdout);
    assert!(sql.stdout.contains(check), "{}", sql.stdout);

    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("shop_order_customer_fk"),
        "{}",
        out.stderr
    );
    // The key, whether validated, and (MariaDB) the index named after it.
    let constraints = |db: &TestDb| match kind {
        Kind::Postgres => db.query(
            "SELECT conname, convalidated::text FROM pg_constraint \
             WHERE conname = 'shop_order_customer_fk'",
        ),
        _ => db.query(
            "SELECT CONSTRAINT_NAME, 'true' FROM information_schema.TABLE_CONSTRAINTS \
             WHERE TABLE_SCHEMA = DATABASE() AND CONSTRAINT_NAME = 'shop_order_customer_fk' \
             UNION ALL SELECT INDEX_NAME, 'index' FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = 'shop_order_customer_fk'",
        ),
    };
    assert!(constraints(&db).is_empty(), "{:?}", constraints(&db));
    assert_eq!(history(&db).len(), 1, "{:?}", history(&db));

    db.execute("INSERT INTO shop_customer (id) VALUES (99)");
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        constraints(&db)[0],
        [Some("shop_order_customer_fk".into()), Some("true".into())]
    );
    // Enforced for new rows.
    let refused = std::panic::catch_unwind(|| {
        db.execute("INSERT INTO shop_order (id, customer_id) VALUES (2, 12345)");
    });
    assert!(refused.is_err(), "an order of no customer is refused");
}

#[test]
fn a_failed_validation_leaves_nothing_and_runs_again_postgres() {
    a_failed_validation_leaves_nothing_and_runs_again(Kind::Postgres);
}

#[test]
fn a_failed_validation_leaves_nothing_and_runs_again_mariadb() {
    a_failed_validation_leaves_nothing_and_runs_again(Kind::Mariadb);
}

/// A unique constraint is built as a concurrent unique index, then attached: over
/// duplicate rows the build fails and leaves no index (not even an INVALID one).
#[test]
fn a_unique_index_over_duplicates_leaves_no_index() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let dir = project(&[
        ("strata.toml", &config(&db.url)),
        ("apps/shop/migrations/0001_tables.toml", TABLES),
        ("apps/shop/migrations/0002_unique.toml", ADD_UNIQUE),
    ]);
    let out = strata(dir.path(), &["migrate", "shop", "0001"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    db.execute("INSERT INTO shop_order (id, code) VALUES (1, 'A'), (2, 'A')");

    let out = strata(dir.path(), &["migrate"]);
    assert_ne!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let indexes = |db: &TestDb| {
        db.query("SELECT indexname FROM pg_indexes WHERE indexname = 'shop_order_code_uniq'")
    };
    assert!(indexes(&db).is_empty(), "{:?}", indexes(&db));

    db.execute("UPDATE shop_order SET code = 'B' WHERE id = 2");
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let attached =
        db.query("SELECT contype::text FROM pg_constraint WHERE conname = 'shop_order_code_uniq'");
    assert_eq!(attached, [[Some("u".into())]]);
}

/// A safe plan's cleanup removes only what its own operation left: a constraint of
/// the temporary check's name keeps the plain `SET NOT NULL`, and an index build that
/// fails because an index of that name exists (made by raw SQL) leaves that index.
#[test]
fn a_failure_never_drops_what_the_operation_did_not_make() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let taken_name = r#"dependencies = ["shop.0001_tables"]

[[operations]]
kind = "add_column"
table = "shop_order"
column = { name = "x", type = "int", null = true }

[[operations]]
kind = "add_constraint"
table = "shop_order"
constraint = { type = "check", name = "shop_order_x_not_null_check", expr = "x IS NULL OR x > 0" }

[[operations]]
kind = "run_sql"
sql = "CREATE INDEX shop_order_code_idx ON shop_order (code)"
reverse_sql = "DROP INDEX shop_order_code_idx"
"#;
    let not_null = r#"dependencies = ["shop.0002_taken"]

[[operations]]
kind = "alter_column"
table = "shop_order"
column = "x"
null = false
"#;
    let same_index = r#"dependencies = ["shop.0003_not_null"]

[[operations]]
kind = "create_index"
table = "shop_order"
index = { name = "shop_order_code_idx", columns = ["id", "code"] }
"#;
    let dir = project(&[
        ("strata.toml", &config(&db.url)),
        ("apps/shop/migrations/0001_tables.toml", TABLES),
        ("apps/shop/migrations/0002_taken.toml", taken_name),
        ("apps/shop/migrations/0003_not_null.toml", not_null),
        ("apps/shop/migrations/0004_same_index.toml", same_index),
    ]);
    let out = strata(dir.path(), &["migrate", "shop", "0003"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let check = "SELECT count(*) FROM pg_constraint WHERE conname = 'shop_order_x_not_null_check'";
    assert_eq!(db.query(check), [[Some("1".into())]], "0002's check stays");

    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
    let index = "SELECT indisvalid::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
                 WHERE c.relname = 'shop_order_code_idx'";
    assert_eq!(
        db.query(index),
        [[Some("true".into())]],
        "0002's index stays"
    );

    // Everything rolls back, 0002's objects included.
    let out = strata(dir.path(), &["migrate", "shop", "0001"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(db.query(check), [[Some("0".into())]]);
    assert!(db.query(index).is_empty());
}

/// Objects made by raw SQL, which strata's state does not know, under the names a
/// safe plan uses: a failed first run and every rerun (which cleans up before it
/// resumes) leave them as they are.
fn raw_sql_objects_survive_reruns(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let (raw, later, object) = match kind {
        Kind::Postgres => (
            "ALTER TABLE shop_order ADD CONSTRAINT shop_order_code_not_null_check CHECK (length(code) < 15)",
            r#"[[operations]]
kind = "alter_column"
table = "shop_order"
column = "code"
null = false
"#,
            "SELECT conname FROM pg_constraint WHERE conname = 'shop_order_code_not_null_check'",
        ),
        _ => (
            "CREATE INDEX shop_order_customer_fk ON shop_order (customer_id, code)",
            r#"[[operations]]
kind = "add_column"
table = "shop_order"
column = { name = "note", type = "text", null = true }

[[operations]]
kind = "add_foreign_key"
table = "shop_order"
foreign_key = { name = "shop_order_customer_fk", columns = ["customer_id"], references = "shop_customer", referenced_columns = ["id"] }
"#,
            "SELECT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
             AND INDEX_NAME = 'shop_order_customer_fk' AND COLUMN_NAME = 'code'",
        ),
    };
    let raw = format!(
        "dependencies = [\"shop.0001_tables\"]\n\n[[operations]]\nkind = \"run_sql\"\nsql = {raw:?}\nreverse_sql = \"SELECT 1\"\n"
    );
    let later = format!("dependencies = [\"shop.0002_raw\"]\n\n{later}");
    let dir = project(&[
        ("strata.toml", &config(&db.url)),
        ("apps/shop/migrations/0001_tables.toml", TABLES),
        ("apps/shop/migrations/0002_raw.toml", &raw),
        ("apps/shop/migrations/0003_later.toml", &later),
    ]);
    let out = strata(dir.path(), &["migrate", "shop", "0002"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    for run in 1..=2 {
        let out = strata(dir.path(), &["migrate"]);
        assert_ne!(out.code, 0, "run {run}: {}\n{}", out.stdout, out.stderr);
        assert_eq!(
            db.query(object).len(),
            1,
            "run {run} dropped 0002's object:\n{}",
            out.stderr
        );
    }
}

#[test]
fn raw_sql_objects_survive_reruns_postgres() {
    raw_sql_objects_survive_reruns(Kind::Postgres);
}

#[test]
fn raw_sql_objects_survive_reruns_mariadb() {
    raw_sql_objects_survive_reruns(Kind::Mariadb);
}

const TWO_COLUMNS_THEN_UNIQUE: &str = r#"dependencies = ["shop.0001_tables"]

[[operations]]
kind = "add_column"
table = "shop_order"
column = { name = "note", type = "text", null = true }

[[operations]]
kind = "add_column"
table = "shop_order"
column = { name = "memo", type = "text", null = true }

[[operations]]
kind = "add_constraint"
table = "shop_order"
constraint = { type = "unique", name = "shop_order_code_uniq", columns = ["code"] }
"#;

/// A project with `TWO_COLUMNS_THEN_UNIQUE` pending on `db`, its tables applied.
fn columns_pending(db: &TestDb) -> tempfile::TempDir {
    let dir = project(&[
        ("strata.toml", &config(&db.url)),
        ("apps/shop/migrations/0001_tables.toml", TABLES),
        (
            "apps/shop/migrations/0002_columns.toml",
            TWO_COLUMNS_THEN_UNIQUE,
        ),
    ]);
    let out = strata(dir.path(), &["migrate", "shop", "0001"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    dir
}

/// A run that opens with a transactional group writes its start row in that group's
/// transaction, already saying what the group did: one history write for the group,
/// not a commit of its own for the start row and a second write for the checkpoint.
#[test]
fn the_start_row_commits_with_the_first_group() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let dir = columns_pending(&db);
    log_history_writes(&db, "0002_columns");

    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    // The start row at the group's checkpoint (both columns), then the unique index's
    // record in the transaction that attaches it, and no more.
    assert_eq!(
        history_writes(&db),
        [("INSERT".to_string(), 2), ("UPDATE".to_string(), 3)]
    );
    // Like every commit of the run, neither waits for the disk: the run's end does.
    assert_eq!(unflushed_writes(&db), ["2", "3"]);
    let row = db.query("SELECT state FROM strata_migrations WHERE name = '0002_columns'");
    assert_eq!(row, [[Some("applied".into())]]);
}

/// A group's records and its `COMMIT` go to PostgreSQL together: when a record fails,
/// the commit must still undo the group, not keep its columns without their record.
#[test]
fn a_record_that_fails_takes_its_group_back() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let dir = columns_pending(&db);
    refuse_history_writes(&db);

    let out = strata(dir.path(), &["migrate"]);
    assert_ne!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("no record today"), "{}", out.stderr);
    assert_eq!(notes_and_memos(&db), Vec::<Vec<Option<String>>>::new());
    let row = db.query("SELECT state FROM strata_migrations WHERE name = '0002_columns'");
    assert_eq!(row, Vec::<Vec<Option<String>>>::new());

    db.execute("DROP TRIGGER refused ON strata_migrations");
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        notes_and_memos(&db),
        [[Some("memo".into())], [Some("note".into())]]
    );
}

/// The run's commits do not wait for the disk; before the lock goes, one commit
/// waits for all of them, whether the run succeeded or failed. A run with nothing
/// to do writes nothing.
#[test]
fn a_run_waits_for_the_disk_once_before_it_lets_the_lock_go() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let dir = columns_pending(&db);
    refuse_history_writes(&db);
    let failed = strata(dir.path(), &["-vvv", "migrate"]);
    assert_ne!(failed.code, 0, "{}", failed.stderr);
    assert!(
        failed.stderr.contains("no record today"),
        "{}",
        failed.stderr
    );
    made_durable_last(&failed.stderr);

    db.execute("DROP TRIGGER refused ON strata_migrations");
    let out = strata(dir.path(), &["-vvv", "migrate"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    made_durable_last(&out.stderr);

    // Nothing to do: nothing deferred, and no write to flush.
    let idle = strata(dir.path(), &["-vvv", "migrate"]);
    assert_eq!(idle.code, 0, "{}", idle.stderr);
    assert!(
        idle.stdout.contains("No migrations to apply"),
        "{}",
        idle.stdout
    );
    assert!(
        !idle.stderr.contains("synchronous_commit"),
        "{}",
        idle.stderr
    );
    assert!(
        !idle.stderr.contains("pg_logical_emit_message(true"),
        "{}",
        idle.stderr
    );
}

/// A trigger (`refused`) that fails every write to the history row of
/// `0002_columns` with "no record today".
fn refuse_history_writes(db: &TestDb) {
    db.execute(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN IF NEW.name = '0002_columns' THEN \
         RAISE EXCEPTION 'no record today'; END IF; RETURN NEW; END $$",
    );
    db.execute(
        "CREATE TRIGGER refused BEFORE INSERT OR UPDATE ON strata_migrations \
         FOR EACH ROW EXECUTE FUNCTION refuse()",
    );
}

/// Checks the order in a `-vvv` log of `migrate`: `synchronous_commit` off before
/// the first history write, and after the last one (and the last `COMMIT`) the
/// session's setting back and the commit that flushes, then the lock released.
fn made_durable_last(stderr: &str) {
    // The log's lines only: the error report quotes the failed write again.
    let log: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(" TRACE ") || l.contains(" DEBUG "))
        .collect();
    let lines = |needle: &dyn Fn(&str) -> bool| -> Vec<usize> {
        (0..log.len()).filter(|&i| needle(log[i])).collect()
    };
    let writes = lines(&|l| {
        l.contains("strata_migrations") && (l.contains("INSERT INTO") || l.contains("UPDATE "))
    });
    let commits = lines(&|l| l.contains("COMMIT"));
    let off = lines(&|l| l.contains("SET synchronous_commit = off"));
    let restored = lines(&|l| l.contains("RESET synchronous_commit"));
    let flushed = lines(&|l| l.contains("pg_logical_emit_message(true"));
    let unlocked = lines(&|l| l.contains("pg_advisory_unlock"));
    let all = log.join("\n");
    for found in [&writes, &commits, &off, &restored, &flushed, &unlocked] {
        assert!(!found.is_empty(), "{all}");
    }
    assert!(off[0] < writes[0], "{all}");
    let last = writes[writes.len() - 1].max(commits[commits.len() - 1]);
    assert!(last < restored[0] && restored[0] < flushed[0], "{all}");
    assert!(flushed[0] < unlocked[0], "{all}");
}

/// Logs every write to the history row of migration `name`: the kind of write, the
/// operations it records, its transaction, and the `synchronous_commit` its commit
/// runs with (the trigger is deferred to the commit).
fn log_history_writes(db: &TestDb, name: &str) {
    db.execute(
        "CREATE TABLE history_writes (seq serial, op text NOT NULL, done int NOT NULL, \
         txid bigint NOT NULL, synchronous_commit text NOT NULL)",
    );
    db.execute(&format!(
        "CREATE FUNCTION log_write() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN IF NEW.name = '{name}' THEN \
         INSERT INTO history_writes (op, done, txid, synchronous_commit) \
         VALUES (TG_OP, NEW.operations_done, txid_current(), \
         current_setting('synchronous_commit')); \
         END IF; RETURN NEW; END $$"
    ));
    db.execute(
        "CREATE CONSTRAINT TRIGGER logged AFTER INSERT OR UPDATE ON strata_migrations \
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION log_write()",
    );
}

/// The operations recorded by the writes [`log_history_writes`] logged whose commit
/// did not wait for the disk.
fn unflushed_writes(db: &TestDb) -> Vec<String> {
    db.query("SELECT done::text FROM history_writes WHERE synchronous_commit = 'off' ORDER BY seq")
        .into_iter()
        .map(|r| r[0].clone().unwrap_or_default())
        .collect()
}

/// The writes [`log_history_writes`] logged, in order, each in a transaction of its
/// own (checked here): the kind of write and the operations it records.
fn history_writes(db: &TestDb) -> Vec<(String, usize)> {
    let rows = db.query("SELECT op, done::text, txid::text FROM history_writes ORDER BY seq");
    let mut transactions: Vec<_> = rows.iter().map(|r| r[2].clone()).collect();
    transactions.dedup();
    assert_eq!(
        transactions.len(),
        rows.len(),
        "two writes in one transaction: {rows:?}"
    );
    rows.iter()
        .map(|r| {
            let done = r[1].as_deref().unwrap_or_default().parse().unwrap();
            (r[0].clone().unwrap_or_default(), done)
        })
        .collect()
}

/// Indexes built concurrently between transactional groups: the first and the third
/// are each followed by a group, the second by another build.
const INDEXES_BETWEEN_GROUPS: &str = r#"dependencies = ["shop.0001_tables"]

[[operations]]
kind = "create_index"
table = "shop_customer"
index = { name = "shop_customer_id_idx", columns = ["id"] }

[[operations]]
kind = "add_column"
table = "shop_order"
column = { name = "note", type = "text", null = true }

[[operations]]
kind = "create_index"
table = "shop_order"
index = { name = "shop_order_note_idx", columns = ["note"] }

[[operations]]
kind = "create_index"
table = "shop_order"
index = { name = "shop_order_code_idx", columns = ["code"] }

[[operations]]
kind = "add_column"
table = "shop_order"
column = { name = "memo", type = "text", null = true }
"#;

/// The record after a concurrent build waits for the next group's commit, whose own
/// record replaces it; before another build, it is written on its own, so that never
/// more than one operation is in effect unrecorded.
#[test]
fn a_concurrent_build_is_recorded_by_the_group_after_it() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let dir = project(&[
        ("strata.toml", &config(&db.url)),
        ("apps/shop/migrations/0001_tables.toml", TABLES),
        (
            "apps/shop/migrations/0002_indexes.toml",
            INDEXES_BETWEEN_GROUPS,
        ),
    ]);
    let out = strata(dir.path(), &["migrate", "shop", "0001"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    log_history_writes(&db, "0002_indexes");

    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        history_writes(&db),
        [
            ("INSERT".to_string(), 0),
            ("UPDATE".to_string(), 2),
            ("UPDATE".to_string(), 3),
            ("UPDATE".to_string(), 5),
        ]
    );
    // The record between the two builds too: the run's end flushes them all.
    assert_eq!(unflushed_writes(&db), ["0", "2", "3", "5"]);
}

/// `migrate` killed while the group after a concurrent build waits for a lock: the
/// build is in effect but not recorded (checked here). Returns the project.
fn killed_before_the_group_that_records_a_build(db: &TestDb) -> tempfile::TempDir {
    // A lock wait long enough to be killed in, not given up on.
    let config = format!(
        "[project]\napps = [\"shop\"]\n\n[database]\nurl = {:?}\nddl_lock_timeout = \"60s\"\n",
        db.url
    );
    let dir = project(&[
        ("strata.toml", &config),
        ("apps/shop/migrations/0001_tables.toml", TABLES),
        (
            "apps/shop/migrations/0002_indexes.toml",
            INDEXES_BETWEEN_GROUPS,
        ),
    ]);
    let out = strata(dir.path(), &["migrate", "shop", "0001"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (_, end, holder) = hold_table(db);

    let mut child = spawn_migrate(dir.path());
    // This database only: other tests wait for locks of their own at the same time.
    let waiting = "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
                   AND query LIKE 'ALTER TABLE%' AND datname = current_database() \
                   AND pid <> pg_backend_pid()";
    let started = Instant::now();
    while db.query(waiting).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the group never waited"
        );
        thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    child.wait().unwrap();
    end.send(()).unwrap();
    holder.join().unwrap();
    assert_eq!(
        indexes_row(db),
        [[Some("partial".into()), Some("0".into())]]
    );
    assert!(index_exists(db), "the first build did not finish");
    dir
}

fn indexes_row(db: &TestDb) -> Vec<Vec<Option<String>>> {
    db.query("SELECT state, operations_done FROM strata_migrations WHERE name = '0002_indexes'")
}

/// The first build of `INDEXES_BETWEEN_GROUPS`, valid.
fn index_exists(db: &TestDb) -> bool {
    !db.query(
        "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE c.relname = 'shop_customer_id_idx' AND i.indisvalid",
    )
    .is_empty()
}

/// After that kill, the next `migrate` finds the build done and goes on after it.
#[test]
fn killed_before_the_group_that_records_a_build_resumes_after_it() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let dir = killed_before_the_group_that_records_a_build(&db);
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        indexes_row(&db),
        [[Some("applied".into()), Some("5".into())]]
    );
    let columns = db.query(
        "SELECT column_name FROM information_schema.columns \
         WHERE table_name = 'shop_order' AND column_name IN ('note', 'memo') ORDER BY 1",
    );
    assert_eq!(columns, [[Some("memo".into())], [Some("note".into())]]);
}

/// After that kill, a rollback of the partial migration finds the build done too, and
/// undoes it: the record being behind the schema is not drift, whichever way the next
/// run goes.
#[test]
fn killed_before_the_group_that_records_a_build_rolls_back() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let dir = killed_before_the_group_that_records_a_build(&db);
    let out = strata(dir.path(), &["migrate", "shop", "0001"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(indexes_row(&db), Vec::<Vec<Option<String>>>::new());
    assert!(!index_exists(&db), "the build was not undone");
}

/// Operations that share a transactional group commit together, so the history row
/// is written once for them, with the group's last checkpoint, before its commit: a
/// failure after the group finds that checkpoint, and the run resumes from it.
#[test]
fn a_group_writes_only_its_last_checkpoint() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let dir = columns_pending(&db);
    db.execute("INSERT INTO shop_order (id, code) VALUES (1, 'A'), (2, 'A')");
    log_history_writes(&db, "0002_columns");

    // Both columns in one group, then the unique index, built outside it, fails.
    let out = strata(dir.path(), &["migrate"]);
    assert_ne!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let row = db
        .query("SELECT state, operations_done FROM strata_migrations WHERE name = '0002_columns'");
    assert_eq!(row, [[Some("partial".into()), Some("2".into())]]);
    assert_eq!(
        history_writes(&db),
        [("INSERT".to_string(), 2)],
        "one write for the group"
    );

    db.execute("UPDATE shop_order SET code = 'B' WHERE id = 2");
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("Resuming shop.0002_columns"),
        "{}",
        out.stdout
    );
}

/// The columns of `shop_order` named `note` or `memo`.
fn notes_and_memos(db: &TestDb) -> Vec<Vec<Option<String>>> {
    db.query(
        "SELECT column_name FROM information_schema.columns \
         WHERE table_name = 'shop_order' AND column_name IN ('note', 'memo') ORDER BY 1",
    )
}

/// A group's statements go to PostgreSQL together with its commit: the one that fails
/// is still the one named, and the statements sent with it change nothing.
#[test]
fn a_failure_in_a_group_sent_together_names_its_operation_and_keeps_nothing() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    // Two columns and a failing statement in one group, then a concurrent build: a
    // safe plan, run step by step.
    let failing = ADD_COLUMN.to_string()
        + r#"
[[operations]]
kind = "run_sql"
sql = "SELECT 1 / (SELECT count(*) FROM shop_order)::int"
reverse_sql = "SELECT 1"

[[operations]]
kind = "add_column"
table = "shop_order"
column = { name = "memo", type = "text", null = true }

[[operations]]
kind = "create_index"
table = "shop_order"
index = { name = "shop_order_code_idx", columns = ["code"] }
"#;
    let dir = project(&[
        ("strata.toml", &config(&db.url)),
        ("apps/shop/migrations/0001_tables.toml", TABLES),
        ("apps/shop/migrations/0002_failing.toml", &failing),
    ]);
    let out = strata(dir.path(), &["migrate", "shop", "0001"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let plan = strata(dir.path(), &["sqlmigrate", "shop", "0002"]);
    assert!(
        plan.stdout.contains("CREATE INDEX CONCURRENTLY"),
        "{}",
        plan.stdout
    );

    let out = strata(dir.path(), &["migrate"]);
    assert_ne!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("operation 2 of 4"), "{}", out.stderr);
    assert!(out.stderr.contains("division by zero"), "{}", out.stderr);
    assert_eq!(notes_and_memos(&db), Vec::<Vec<Option<String>>>::new());
    assert_eq!(history(&db).len(), 1, "{:?}", history(&db));

    db.execute("INSERT INTO shop_order (id) VALUES (1)");
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        notes_and_memos(&db),
        [[Some("memo".into())], [Some("note".into())]]
    );
}

/// The finish record says how long the migration took, so it is built once the
/// statements sent before it have run, or timed by the server: in a transaction of
/// its own, in the last group of a safe plan, and after a group that ends before a
/// concurrent build.
#[test]
fn the_finish_record_counts_the_statements_sent_before_it() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let sleep = r#"[[operations]]
kind = "run_sql"
sql = "SELECT pg_sleep(0.3)"
reverse_sql = "SELECT 1"
"#;
    let in_transaction = format!("dependencies = [\"shop.0001_tables\"]\n\n{sleep}");
    let after_a_build = format!(
        "dependencies = [\"shop.0002_sleep\"]\n\n[[operations]]\nkind = \"create_index\"\n\
         table = \"shop_order\"\nindex = {{ name = \"shop_order_code_idx\", columns = [\"code\"] }}\n\n{sleep}"
    );
    let before_a_build = format!(
        "dependencies = [\"shop.0003_built\"]\n\n{sleep}\n[[operations]]\nkind = \"create_index\"\n\
         table = \"shop_order\"\nindex = {{ name = \"shop_order_id_code_idx\", columns = [\"id\", \"code\"] }}\n"
    );
    let dir = project(&[
        ("strata.toml", &config(&db.url)),
        ("apps/shop/migrations/0001_tables.toml", TABLES),
        ("apps/shop/migrations/0002_sleep.toml", &in_transaction),
        ("apps/shop/migrations/0003_built.toml", &after_a_build),
        ("apps/shop/migrations/0004_slept.toml", &before_a_build),
    ]);
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let durations = db.query(
        "SELECT name, (duration_ms >= 300)::text FROM strata_migrations \
         WHERE name <> '0001_tables' ORDER BY name",
    );
    assert_eq!(
        durations,
        [
            [Some("0002_sleep".into()), Some("true".into())],
            [Some("0003_built".into()), Some("true".into())],
            [Some("0004_slept".into()), Some("true".into())],
        ]
    );
}

/// Under `--single-transaction` the history rows go with each step's statements too,
/// and the plan's one transaction began before every step: each step's duration is
/// its own, not the time since the plan began.
#[test]
fn the_plans_transaction_times_each_step_alone() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let sleep = |after: &str| {
        format!(
            "dependencies = [\"shop.{after}\"]\n\n[[operations]]\nkind = \"run_sql\"\n\
             sql = \"SELECT pg_sleep(0.3)\"\nreverse_sql = \"SELECT 1\"\n"
        )
    };
    let dir = project(&[
        ("strata.toml", &config(&db.url)),
        ("apps/shop/migrations/0001_tables.toml", TABLES),
        (
            "apps/shop/migrations/0002_first.toml",
            &sleep("0001_tables"),
        ),
        (
            "apps/shop/migrations/0003_second.toml",
            &sleep("0002_first"),
        ),
    ]);
    let out = strata(dir.path(), &["migrate", "--single-transaction"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let durations: Vec<u64> = db
        .query(
            "SELECT duration_ms::text FROM strata_migrations \
             WHERE name <> '0001_tables' ORDER BY name",
        )
        .into_iter()
        .map(|r| r[0].as_deref().unwrap_or_default().parse().unwrap())
        .collect();
    assert_eq!(durations.len(), 2, "{durations:?}");
    for d in &durations {
        // Its own sleep, not the first step's as well.
        assert!((300..600).contains(d), "{durations:?}");
    }
}

/// A statement the PostgreSQL client cannot even send (a NUL character) fails without
/// aborting the transaction on the server: nothing may be pipelined behind it, or
/// the `COMMIT` after it would keep what came before.
#[test]
fn a_statement_that_cannot_be_sent_keeps_nothing_of_its_transaction() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let unsendable = ADD_COLUMN.to_string()
        + r#"
[[operations]]
kind = "run_sql"
sql = "SELECT 'a\u0000b'"
reverse_sql = "SELECT 1"
"#;
    let dir = project(&[
        ("strata.toml", &config(&db.url)),
        ("apps/shop/migrations/0001_tables.toml", TABLES),
        ("apps/shop/migrations/0002_unsendable.toml", &unsendable),
    ]);
    let out = strata(dir.path(), &["migrate"]);
    assert_ne!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("operation 2 of 2"), "{}", out.stderr);
    assert_eq!(notes_and_memos(&db), Vec::<Vec<Option<String>>>::new());
    assert_eq!(history(&db).len(), 1, "{:?}", history(&db));
}

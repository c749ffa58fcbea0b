//! The table rebuild on real SQLite files: rows survive, children keep theirs,
//! triggers and views survive, and a rebuild that drops a column they use refuses
//! to run.

use strata_engine::dialect::driver::{Driver, DriverError};
use strata_engine::script::{self, Direction};
use strata_engine::{Dialect, Operation, SchemaState};
use strata_sqlite::{SqliteDialect, SqliteDriver};

/// Operations written as in a migration file.
fn ops(toml_text: &str) -> Vec<Operation> {
    #[derive(serde::Deserialize)]
    struct File {
        operations: Vec<Operation>,
    }
    toml::from_str::<File>(toml_text)
        .expect("valid operations")
        .operations
}

/// Renders and runs `operations` forward; returns the state after them.
async fn migrate(
    driver: &mut SqliteDriver,
    state: &SchemaState,
    operations: &[Operation],
    atomic: bool,
) -> Result<SchemaState, DriverError> {
    let dialect = SqliteDialect;
    let (script, after) = script::render(
        &dialect,
        dialect.minimum_version(),
        state,
        operations,
        atomic,
        Direction::Forward,
    )
    .expect("renders");
    script.execute(driver).await.map_err(|e| e.source)?;
    Ok(after)
}

async fn scalar(driver: &mut SqliteDriver, sql: &str) -> String {
    let rows = driver.query(sql).await.expect(sql);
    rows[0][0].clone().unwrap_or_else(|| "NULL".into())
}

fn temp_db() -> (tempfile::TempDir, SqliteDriver) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("test.sqlite3").display());
    let driver = SqliteDriver::connect(&url).expect("connect");
    (dir, driver)
}

const SCHEMA: &str = r#"
[[operations]]
kind = "create_table"
name = "owner"
primary_key = ["id"]
columns = [
  { name = "id", type = "bigint", auto = true },
  { name = "name", type = "varchar(50)" },
]

[[operations]]
kind = "create_table"
name = "item"
primary_key = ["id"]
columns = [
  { name = "id", type = "bigint", auto = true },
  { name = "qty", type = "int", null = true },
  { name = "price", type = "double", null = true },
  { name = "name", type = "varchar(50)", null = true },
  { name = "data", type = "bytes", null = true },
  { name = "flag", type = "bool", default = false },
  { name = "owner_id", type = "bigint", null = true },
]
indexes = [{ name = "item_owner_idx", columns = ["owner_id"] }]
uniques = [{ name = "item_name_uniq", columns = ["name"] }]

[[operations]]
kind = "create_table"
name = "line"
primary_key = ["id"]
columns = [
  { name = "id", type = "bigint", auto = true },
  { name = "item_id", type = "bigint" },
  { name = "note", type = "text" },
]
foreign_keys = [
  { name = "line_item_fk", columns = ["item_id"], references = "item", referenced_columns = ["id"], on_delete = "cascade" },
]
"#;

/// 1,000 items with NULLs, reals, quotes, non-ASCII text and blobs; one line each.
/// Item 1,001 is inserted and deleted so AUTOINCREMENT's sequence is ahead of max(id).
const DATA: &str = r"
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)
INSERT INTO owner (name) SELECT 'owner ' || i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1001)
INSERT INTO item (qty, price, name, data, flag, owner_id)
SELECT CASE WHEN i % 7 = 0 THEN NULL ELSE i * 3 END,
       CASE WHEN i % 11 = 0 THEN NULL ELSE i / 7.0 END,
       'item ' || i || ' ''quoted'' ü',
       CASE WHEN i % 5 = 0 THEN NULL ELSE CAST(hex(i * 12345) AS BLOB) END,
       i % 2,
       CASE WHEN i % 13 = 0 THEN NULL ELSE i % 10 + 1 END
FROM n;
DELETE FROM item WHERE id = 1001;
INSERT INTO line (item_id, note) SELECT id, 'line of ' || id FROM item;
";

const CHECKSUM: &str = "SELECT count(*) || ':' || group_concat(id || '|' || quote(qty) || '|' || quote(price) \
     || '|' || quote(name) || '|' || quote(data) || '|' || quote(flag) || '|' || quote(owner_id), ';') \
     FROM (SELECT * FROM item ORDER BY id)";

#[tokio::test]
async fn rows_survive_rebuilds_and_children_keep_theirs() {
    let (_dir, mut driver) = temp_db();
    let state = migrate(&mut driver, &SchemaState::new(), &ops(SCHEMA), true)
        .await
        .expect("schema");
    driver.connection().execute_batch(DATA).expect("data");
    let before = scalar(&mut driver, CHECKSUM).await;
    assert!(before.starts_with("1000:"), "{}", &before[..20]);

    // Atomic: the migration's own envelope turns foreign keys off.
    let altered = ops(r#"
[[operations]]
kind = "alter_column"
table = "item"
column = "name"
type = "text"
null = false

[[operations]]
kind = "alter_column"
table = "item"
column = "qty"
type = "bigint"
"#);
    let state = migrate(&mut driver, &state, &altered, true)
        .await
        .expect("alter_column");
    assert_eq!(
        scalar(&mut driver, CHECKSUM).await,
        before,
        "alter_column changed the rows"
    );
    assert_eq!(
        scalar(&mut driver, "SELECT count(*) FROM line").await,
        "1000"
    );

    // Not atomic: the rebuild carries its own envelope.
    let fk = ops(r#"
[[operations]]
kind = "add_foreign_key"
table = "item"
foreign_key = { name = "item_owner_fk", columns = ["owner_id"], references = "owner", referenced_columns = ["id"], on_delete = "set null" }
"#);
    migrate(&mut driver, &state, &fk, false)
        .await
        .expect("add_foreign_key");
    assert_eq!(
        scalar(&mut driver, CHECKSUM).await,
        before,
        "add_foreign_key changed the rows"
    );
    assert_eq!(
        scalar(&mut driver, "SELECT count(*) FROM line").await,
        "1000"
    );

    // Foreign keys are enforced again, through the rebuilt table, both ways.
    assert_eq!(scalar(&mut driver, "PRAGMA foreign_keys").await, "1");
    assert_eq!(
        scalar(
            &mut driver,
            "SELECT \"table\" FROM pragma_foreign_key_list('item')"
        )
        .await,
        "owner"
    );
    driver
        .execute("DELETE FROM item WHERE id = 1")
        .await
        .unwrap();
    assert_eq!(
        scalar(&mut driver, "SELECT count(*) FROM line").await,
        "999"
    );
    let orphan = driver
        .execute("INSERT INTO item (name, owner_id) VALUES ('x', 99)")
        .await;
    assert!(orphan.is_err(), "a missing owner must be refused");
    // The indexes came back, and AUTOINCREMENT did not forget id 1001.
    let indexes = scalar(
        &mut driver,
        "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master \
         WHERE type = 'index' AND tbl_name = 'item' AND sql IS NOT NULL ORDER BY name)",
    )
    .await;
    assert_eq!(indexes, "item_name_uniq,item_owner_idx");
    driver
        .execute("INSERT INTO item (name) VALUES ('new')")
        .await
        .unwrap();
    assert_eq!(
        scalar(&mut driver, "SELECT max(id) FROM item").await,
        "1002"
    );
}

#[tokio::test]
async fn a_failed_rebuild_leaves_table_and_rows_as_they_were() {
    // A check the rows break fails the copy, mid-rebuild. (A NULL made NOT NULL
    // no longer gets that far: the column-change guard refuses it first.)
    let not_null = ops(r#"
[[operations]]
kind = "add_constraint"
table = "item"
constraint = { type = "check", name = "item_name_set", expr = "name IS NOT NULL" }
"#);
    for atomic in [true, false] {
        let (_dir, mut driver) = temp_db();
        let state = migrate(&mut driver, &SchemaState::new(), &ops(SCHEMA), true)
            .await
            .expect("schema");
        driver
            .execute("INSERT INTO item (name) VALUES ('a'), (NULL)")
            .await
            .unwrap();
        driver
            .execute("INSERT INTO line (item_id, note) VALUES (1, 'x')")
            .await
            .unwrap();
        let err = migrate(&mut driver, &state, &not_null, atomic)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("CHECK constraint failed"),
            "atomic={atomic}: {err}"
        );
        assert!(
            driver.connection().is_autocommit(),
            "atomic={atomic}: a transaction was left open"
        );
        assert_eq!(scalar(&mut driver, "SELECT count(*) FROM item").await, "2");
        assert_eq!(scalar(&mut driver, "SELECT count(*) FROM line").await, "1");
        assert_eq!(
            scalar(&mut driver, "PRAGMA foreign_keys").await,
            "1",
            "atomic={atomic}: foreign keys must be back on"
        );
        assert_eq!(
            driver.table_names().await.unwrap(),
            ["item", "line", "owner"]
        );
    }
}

/// Triggers and views that use the table: on it, naming it in their body, or on
/// other tables. Each leaves a mark that shows it ran.
const DEPENDENTS: &str = r#"
CREATE TABLE audit (what text);
CREATE TRIGGER item_audit AFTER UPDATE OF qty ON "Item" BEGIN INSERT INTO audit VALUES ('qty ' || new.qty); END;
CREATE TRIGGER item_named BEFORE INSERT ON item WHEN new.name = 'poison' BEGIN SELECT RAISE(ABORT, 'no poison'); END;
CREATE TRIGGER owner_touch AFTER UPDATE ON owner BEGIN UPDATE item SET flag = 1 WHERE owner_id = new.id; END;
CREATE VIEW cheap AS SELECT id, qty, price FROM "Item" WHERE price < 1;
CREATE VIEW per_owner AS SELECT o.name, count(i.id) AS items FROM owner o JOIN item i ON i.owner_id = o.id GROUP BY o.name;
"#;

const DEPENDENTS_SQL: &str =
    "SELECT group_concat(type || ' ' || name || ': ' || sql, ' | ') FROM (SELECT * FROM sqlite_master WHERE type IN ('trigger', 'view') ORDER BY name)";

/// Several rebuilds of `item`, made with one copy.
const SEVERAL_CHANGES: &str = r#"
[[operations]]
kind = "alter_column"
table = "item"
column = "qty"
type = "bigint"

[[operations]]
kind = "add_constraint"
table = "item"
constraint = { type = "check", name = "item_qty_nonneg", expr = "qty >= 0" }

[[operations]]
kind = "alter_column"
table = "item"
column = "name"
type = "varchar(80)"
"#;

#[tokio::test]
async fn triggers_and_views_survive_a_rebuild_in_both_envelopes() {
    for atomic in [true, false] {
        let (_dir, mut driver) = temp_db();
        let state = migrate(&mut driver, &SchemaState::new(), &ops(SCHEMA), true)
            .await
            .expect("schema");
        driver.connection().execute_batch(DATA).expect("data");
        driver
            .connection()
            .execute_batch(DEPENDENTS)
            .expect("dependents");
        let dependents = scalar(&mut driver, DEPENDENTS_SQL).await;
        let before = scalar(&mut driver, CHECKSUM).await;
        let views =
            "SELECT (SELECT count(*) FROM cheap) || '/' || (SELECT sum(items) FROM per_owner)";
        let counted = scalar(&mut driver, views).await;
        migrate(&mut driver, &state, &ops(SEVERAL_CHANGES), atomic)
            .await
            .unwrap_or_else(|e| panic!("atomic = {atomic}: {e}"));
        assert_eq!(
            scalar(&mut driver, CHECKSUM).await,
            before,
            "atomic = {atomic}"
        );
        assert_eq!(
            scalar(&mut driver, DEPENDENTS_SQL).await,
            dependents,
            "atomic = {atomic}: every trigger and view, with its SQL as written"
        );
        assert_eq!(
            scalar(&mut driver, views).await,
            counted,
            "atomic = {atomic}"
        );
        // The recreated triggers fire; the one on another table still reaches `item`.
        driver
            .execute("UPDATE item SET qty = 5 WHERE id = 3")
            .await
            .unwrap();
        assert_eq!(
            scalar(&mut driver, "SELECT group_concat(what) FROM audit").await,
            "qty 5"
        );
        let err = driver
            .execute("INSERT INTO item (name) VALUES ('poison')")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no poison"), "{err}");
        driver.execute("UPDATE item SET flag = 0").await.unwrap();
        driver
            .execute("UPDATE owner SET name = 'x' WHERE id = 2")
            .await
            .unwrap();
        assert_ne!(
            scalar(&mut driver, "SELECT count(*) FROM item WHERE flag = 1").await,
            "0"
        );
        // The new check is in force, and no helper table is left behind.
        assert!(driver
            .execute("UPDATE item SET qty = -1 WHERE id = 3")
            .await
            .is_err());
        assert_eq!(
            scalar(&mut driver, "SELECT count(*) FROM sqlite_temp_master").await,
            "0"
        );
        assert_eq!(
            scalar(&mut driver, "PRAGMA legacy_alter_table").await,
            "0",
            "atomic = {atomic}"
        );
    }
}

#[tokio::test]
async fn a_rebuild_refuses_triggers_and_views_that_use_a_dropped_column() {
    // Two rebuilds of one table: the second drops `price`, with the first's copy.
    let changes = ops(r#"
[[operations]]
kind = "alter_column"
table = "item"
column = "qty"
type = "bigint"

[[operations]]
kind = "drop_column"
table = "item"
column = "price"
"#);
    let users = [
        ("cheap", "CREATE VIEW cheap AS SELECT * FROM \"Item\" WHERE \"PRICE\" < 1"),
        (
            "item_price",
            "CREATE TRIGGER item_price AFTER UPDATE ON item BEGIN UPDATE item SET flag = 1 WHERE price > 10; END",
        ),
    ];
    for (name, user) in users {
        let (_dir, mut driver) = temp_db();
        let state = migrate(&mut driver, &SchemaState::new(), &ops(SCHEMA), true)
            .await
            .expect("schema");
        driver.execute(user).await.unwrap();
        // Uses the table but not the dropped column: no reason to refuse.
        driver
            .execute("CREATE VIEW named AS SELECT name FROM item")
            .await
            .unwrap();
        driver
            .execute("INSERT INTO item (name, price) VALUES ('kept', 2.5)")
            .await
            .unwrap();
        let err = migrate(&mut driver, &state, &changes, true)
            .await
            .unwrap_err();
        match &err {
            DriverError::Guard { message, rows, .. } => {
                assert!(message.contains("without column(s) `price`"), "{message}");
                assert!(rows.contains(name), "{rows}");
                assert!(!rows.contains("named"), "{rows}");
            }
            other => panic!("{user}: expected the guard, got {other}"),
        }
        // Rolled back: the dependents, the column and the row are still there.
        assert_eq!(
            scalar(
                &mut driver,
                "SELECT count(*) FROM sqlite_master WHERE type IN ('trigger', 'view')"
            )
            .await,
            "2"
        );
        assert_eq!(scalar(&mut driver, "SELECT price FROM item").await, "2.5");
    }
}

#[tokio::test]
async fn views_of_other_tables_do_not_block_a_rebuild() {
    let (_dir, mut driver) = temp_db();
    let state = migrate(&mut driver, &SchemaState::new(), &ops(SCHEMA), true)
        .await
        .expect("schema");
    // Mentions `item_id` and `line`, never the table `item` itself.
    driver
        .execute("CREATE VIEW line_items AS SELECT item_id, note FROM line")
        .await
        .unwrap();
    let alter = ops(r#"
[[operations]]
kind = "alter_column"
table = "item"
column = "qty"
type = "bigint"
"#);
    migrate(&mut driver, &state, &alter, true)
        .await
        .expect("rebuild");
}

#[tokio::test]
async fn awkward_names_survive_a_rebuild() {
    let (_dir, mut driver) = temp_db();
    let schema = ops(r#"
[[operations]]
kind = "create_table"
name = "order"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }, { name = "select", type = "int", null = true }]
indexes = [{ name = "order'; DROP TABLE x; --", columns = ["select"] }]

[[operations]]
kind = "create_table"
name = "a\"b`c'd"
primary_key = ["id"]
columns = [
  { name = "id", type = "bigint", auto = true },
  { name = "x\"y", type = "int", null = true },
  { name = "order_id", type = "bigint", null = true },
]
"#);
    let state = migrate(&mut driver, &SchemaState::new(), &schema, true)
        .await
        .expect("schema");
    driver
        .connection()
        .execute_batch("INSERT INTO \"order\" (\"select\") VALUES (1); INSERT INTO \"a\"\"b`c'd\" (\"x\"\"y\", order_id) VALUES (2, 1)")
        .unwrap();
    let changes = ops(r#"
[[operations]]
kind = "alter_column"
table = "order"
column = "select"
type = "bigint"
null = false
default = 0

[[operations]]
kind = "add_foreign_key"
table = "a\"b`c'd"
foreign_key = { name = "ab_order_fk", columns = ["order_id"], references = "order", referenced_columns = ["id"] }

[[operations]]
kind = "add_constraint"
table = "a\"b`c'd"
constraint = { type = "check", name = "x\"y_positive", expr = "\"x\"\"y\" > 0" }
"#);
    let state = migrate(&mut driver, &state, &changes, true)
        .await
        .expect("rebuilds");
    // A view and a trigger on the quote-bearing table survive its next rebuild.
    driver
        .connection()
        .execute_batch(
            "CREATE VIEW v AS SELECT * FROM \"A\"\"B`c'D\"; \
             CREATE TRIGGER \"t'\"\"x\" AFTER DELETE ON \"a\"\"b`c'd\" BEGIN DELETE FROM \"order\"; END",
        )
        .unwrap();
    let drop_check = ops(r#"
[[operations]]
kind = "drop_constraint"
table = "a\"b`c'd"
name = "x\"y_positive"
"#);
    migrate(&mut driver, &state, &drop_check, true)
        .await
        .expect("rebuild with a view and a trigger");
    assert_eq!(scalar(&mut driver, "SELECT count(*) FROM v").await, "1");
    assert_eq!(
        scalar(
            &mut driver,
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        )
        .await,
        "t'\"x"
    );
    assert_eq!(
        scalar(&mut driver, "SELECT \"select\" FROM \"order\"").await,
        "1"
    );
    assert_eq!(
        scalar(&mut driver, "SELECT \"x\"\"y\" FROM \"a\"\"b`c'd\"").await,
        "2"
    );
    assert_eq!(driver.table_names().await.unwrap(), ["a\"b`c'd", "order"]);
}

#[tokio::test]
async fn a_uuid_default_fills_existing_rows_with_distinct_v4_uuids() {
    let (_dir, mut driver) = temp_db();
    let state = migrate(&mut driver, &SchemaState::new(), &ops(SCHEMA), true)
        .await
        .expect("schema");
    driver
        .execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) \
             INSERT INTO owner (name) SELECT 'o' || i FROM n",
        )
        .await
        .unwrap();
    let add = ops(r#"
[[operations]]
kind = "add_column"
table = "owner"
column = { name = "token", type = "uuid", default = { expr = "uuid" } }
"#);
    migrate(&mut driver, &state, &add, true)
        .await
        .expect("add_column");
    assert_eq!(
        scalar(&mut driver, "SELECT count(DISTINCT token) FROM owner").await,
        "500"
    );
    let v4 = "'[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-4[0-9a-f][0-9a-f][0-9a-f]-[89ab][0-9a-f][0-9a-f][0-9a-f]-*'";
    let malformed =
        format!("SELECT count(*) FROM owner WHERE NOT (token GLOB {v4} AND length(token) = 36)");
    assert_eq!(scalar(&mut driver, &malformed).await, "0");
    driver
        .execute("INSERT INTO owner (name) VALUES ('new')")
        .await
        .unwrap();
    assert_eq!(
        scalar(
            &mut driver,
            "SELECT length(token) FROM owner WHERE name = 'new'"
        )
        .await,
        "36"
    );
}

#[tokio::test]
async fn orphans_stop_a_new_foreign_key_at_commit_in_both_envelopes() {
    let fk = ops(r#"
[[operations]]
kind = "add_foreign_key"
table = "item"
foreign_key = { name = "item_owner_fk", columns = ["owner_id"], references = "owner", referenced_columns = ["id"] }
"#);
    for atomic in [true, false] {
        let (_dir, mut driver) = temp_db();
        let state = migrate(&mut driver, &SchemaState::new(), &ops(SCHEMA), true)
            .await
            .expect("schema");
        driver
            .execute("INSERT INTO item (name, owner_id) VALUES ('orphan', 42)")
            .await
            .unwrap();
        let err = migrate(&mut driver, &state, &fk, atomic).await.unwrap_err();
        match &err {
            DriverError::Guard { message, rows, .. } => {
                assert!(message.starts_with("foreign key violations"), "{message}");
                assert!(rows.contains("item"), "{rows}");
            }
            other => panic!("atomic={atomic}: expected the guard, got {other}"),
        }
        // Both envelopes end closed: the transactional script rolls back; the
        // step-by-step one runs the script's recovery (ROLLBACK, foreign keys on).
        assert!(
            driver.connection().is_autocommit(),
            "atomic={atomic}: a transaction was left open"
        );
        assert_eq!(
            scalar(
                &mut driver,
                "SELECT count(*) FROM pragma_foreign_key_list('item')"
            )
            .await,
            "0",
            "atomic={atomic}: the foreign key must not exist"
        );
        assert_eq!(scalar(&mut driver, "SELECT count(*) FROM item").await, "1");
        assert_eq!(scalar(&mut driver, "PRAGMA foreign_keys").await, "1");
    }
}

/// Consecutive rebuilds of one table copy its rows once in a transaction, and once
/// per operation step by step, where each operation is recorded apart.
#[test]
fn consecutive_rebuilds_copy_once_in_a_transaction() {
    let dialect = SqliteDialect;
    let mut state = SchemaState::new();
    for op in ops(SCHEMA) {
        state.apply(&op).unwrap();
    }
    let copies = |atomic: bool, direction: Direction| {
        let (script, _) = script::render(
            &dialect,
            dialect.minimum_version(),
            &state,
            &ops(SEVERAL_CHANGES),
            atomic,
            direction,
        )
        .expect("renders");
        let carried: Vec<_> = script.operations.iter().map(|o| o.carried_by).collect();
        let copies = script
            .statements()
            .filter(|s| s.sql.starts_with("INSERT INTO \"new__item\""))
            .count();
        (copies, carried)
    };
    assert_eq!(
        copies(true, Direction::Forward),
        (1, vec![Some(3), Some(3), None])
    );
    assert_eq!(
        copies(true, Direction::Backward),
        (1, vec![Some(3), Some(3), None])
    );
    assert_eq!(
        copies(false, Direction::Forward),
        (3, vec![None, None, None])
    );
}

/// A migration with a backfill runs in transactional groups, not in one transaction:
/// the rebuild of a parent table in a group must still run with foreign keys off,
/// or its `DROP TABLE` deletes the children that cascade from it.
#[tokio::test]
async fn a_rebuild_in_a_migration_with_a_backfill_keeps_the_children() {
    let (_dir, mut driver) = temp_db();
    let state = migrate(&mut driver, &SchemaState::new(), &ops(SCHEMA), true)
        .await
        .expect("schema");
    driver.connection().execute_batch(DATA).expect("data");
    let changes = ops(r#"
[[operations]]
kind = "alter_column"
table = "item"
column = "qty"
type = "bigint"

[[operations]]
kind = "backfill"
table = "owner"
set = { name = "upper(name)" }
"#);
    let dialect = SqliteDialect;
    let (script, _) = script::render(
        &dialect,
        dialect.minimum_version(),
        &state,
        &changes,
        true,
        Direction::Forward,
    )
    .expect("renders");
    assert!(script.groups, "a backfill splits the migration into groups");
    script.execute(&mut driver).await.expect("runs");
    assert_eq!(
        scalar(&mut driver, "SELECT count(*) FROM line").await,
        "1000"
    );
    assert_eq!(scalar(&mut driver, "PRAGMA foreign_keys").await, "1");
}

/// makemigrations writes a new NOT NULL field with a one-off value as `add_column`
/// with that default, then `alter_column` dropping it. Both copy the rows when the
/// column cannot be added in place (`int unsigned` carries a check): the existing rows
/// must get the one-off value, and a later default must not replace it.
#[tokio::test]
async fn columns_added_with_a_one_off_default_keep_it_in_existing_rows() {
    let (_dir, mut driver) = temp_db();
    let state = migrate(&mut driver, &SchemaState::new(), &ops(SCHEMA), true)
        .await
        .expect("schema");
    driver
        .execute("INSERT INTO owner (name) VALUES ('a'), ('b')")
        .await
        .unwrap();
    let add = ops(r#"
[[operations]]
kind = "add_column"
table = "owner"
column = { name = "rank", type = "int unsigned", default = 7 }

[[operations]]
kind = "alter_column"
table = "owner"
column = "rank"
drop_default = true

[[operations]]
kind = "add_column"
table = "owner"
column = { name = "grade", type = "int unsigned", default = 1 }

[[operations]]
kind = "alter_column"
table = "owner"
column = "grade"
default = 2
"#);
    migrate(&mut driver, &state, &add, true)
        .await
        .expect("add and alter");
    assert_eq!(
        scalar(
            &mut driver,
            "SELECT group_concat(name || rank || grade, ' ') FROM owner ORDER BY id"
        )
        .await,
        "a71 b71"
    );
}

/// A backfill in an atomic migration that also rebuilds a table runs between groups
/// whose envelope turns foreign keys off: its own batches must still be checked, so a
/// value pointing at no parent fails instead of committing orphans.
#[tokio::test]
async fn a_backfill_beside_a_rebuild_is_checked_for_foreign_keys() {
    let (_dir, mut driver) = temp_db();
    let state = migrate(&mut driver, &SchemaState::new(), &ops(SCHEMA), true)
        .await
        .expect("schema");
    driver.connection().execute_batch(DATA).expect("data");
    let changes = ops(r#"
[[operations]]
kind = "alter_column"
table = "item"
column = "qty"
type = "bigint"

[[operations]]
kind = "backfill"
table = "line"
set = { item_id = "999999" }
"#);
    let failed = migrate(&mut driver, &state, &changes, true).await;
    assert!(
        failed
            .as_ref()
            .is_err_and(|e| e.to_string().contains("FOREIGN KEY")),
        "{failed:?}"
    );
    assert_eq!(
        scalar(
            &mut driver,
            "SELECT count(*) FROM line WHERE item_id = 999999"
        )
        .await,
        "0"
    );
    assert_eq!(scalar(&mut driver, "PRAGMA foreign_keys").await, "1");
}

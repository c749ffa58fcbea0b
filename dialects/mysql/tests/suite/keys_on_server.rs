//! The keys on the server are exactly those the schema state describes — plus the
//! foreign keys' supporting indexes and nothing else — after every step of every
//! corpus case, forward and back. This is what catches an index InnoDB made or
//! dropped on its own.

use std::collections::BTreeMap;

use strata_engine::ast::{Operation, TableDef};
use strata_engine::dialect::driver::Driver;
use strata_engine::naming::fit_identifier;
use strata_engine::script::{self, Direction};
use strata_engine::SchemaState;
use strata_mysql::dialect::foreign_keys_with_own_index;
use strata_mysql::MysqlDriver;
use strata_testkit as testkit;

use crate::common;

/// Index name → its columns, and the foreign key names, of one table.
#[derive(Debug, PartialEq, Eq)]
struct Keys {
    indexes: BTreeMap<String, Vec<String>>,
    foreign_keys: Vec<String>,
}

fn fit(name: &str) -> String {
    fit_identifier(name, 64)
}

fn expected_keys(t: &TableDef) -> Keys {
    let mut indexes = BTreeMap::new();
    if !t.primary_key.is_empty() {
        indexes.insert("PRIMARY".to_string(), t.primary_key.clone());
    }
    for i in &t.indexes {
        indexes.insert(fit(&i.name), i.columns.clone());
    }
    for u in &t.uniques {
        indexes.insert(fit(&u.name), u.columns.clone());
    }
    for fk in foreign_keys_with_own_index(t) {
        indexes.insert(fit(&fk.name), fk.columns.clone());
    }
    let mut foreign_keys: Vec<String> = t.foreign_keys.iter().map(|f| fit(&f.name)).collect();
    foreign_keys.sort();
    Keys {
        indexes,
        foreign_keys,
    }
}

async fn server_keys(driver: &mut MysqlDriver, table: &str) -> Keys {
    let name = driver.dialect().quote_string(table);
    let rows = driver
        .query(&format!(
            "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = {name} \
             ORDER BY INDEX_NAME, SEQ_IN_INDEX"
        ))
        .await
        .unwrap();
    let mut indexes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in rows {
        let (index, column) = (row[0].clone().unwrap(), row[1].clone().unwrap());
        indexes.entry(index).or_default().push(column);
    }
    let rows = driver
        .query(&format!(
            "SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS \
             WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = {name} ORDER BY CONSTRAINT_NAME"
        ))
        .await
        .unwrap();
    let mut foreign_keys: Vec<String> = rows.into_iter().map(|r| r[0].clone().unwrap()).collect();
    foreign_keys.sort();
    Keys {
        indexes,
        foreign_keys,
    }
}

async fn assert_keys_match(driver: &mut MysqlDriver, state: &SchemaState, when: &str) {
    let mut tables = driver.table_names().await.unwrap();
    tables.sort();
    let expected_tables: Vec<String> = state.tables.keys().cloned().collect();
    assert_eq!(tables, expected_tables, "{when}: tables");
    // Foreign keys without a database constraint are the state's alone.
    for (name, table) in &state.in_database().tables {
        assert_eq!(
            server_keys(driver, name).await,
            expected_keys(table),
            "{when}: keys of `{name}`"
        );
    }
}

/// Runs `ops` from `state` in `direction`, then checks the server against the state
/// after them — unless they hold `run_sql`, whose effects the state does not know.
/// Returns that state.
async fn step(
    driver: &mut MysqlDriver,
    state: &SchemaState,
    ops: &[Operation],
    direction: Direction,
    when: &str,
) -> SchemaState {
    let dialect = driver.dialect();
    let (script, after) = script::render(
        dialect.as_ref(),
        driver.version(),
        state,
        ops,
        true,
        direction,
    )
    .unwrap_or_else(|e| panic!("{when}: {e}"));
    if let Err(e) = strata_testkit::run_case_script(&script, driver).await {
        panic!("{when}: {e}\n\nscript:\n{script}");
    }
    if !ops.iter().any(|op| matches!(op, Operation::RunSql(_))) {
        assert_keys_match(driver, &after, when).await;
    }
    after
}

async fn run_checked(url: String, name: String, setup: Vec<Operation>, operations: Vec<Operation>) {
    let mut driver = MysqlDriver::connect(&url).await.expect("connect");
    let empty = SchemaState::new();
    let ready = step(
        &mut driver,
        &empty,
        &setup,
        Direction::Forward,
        &format!("{name}: setup"),
    )
    .await;
    step(
        &mut driver,
        &ready,
        &operations,
        Direction::Forward,
        &format!("{name}: operations"),
    )
    .await;
    step(
        &mut driver,
        &ready,
        &operations,
        Direction::Backward,
        &format!("{name}: inverse of operations"),
    )
    .await;
    step(
        &mut driver,
        &empty,
        &setup,
        Direction::Backward,
        &format!("{name}: inverse of setup"),
    )
    .await;
    Box::new(driver).close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_corpus_case_leaves_exactly_the_keys_of_its_state() {
    let Some(server) = common::server_url() else {
        return;
    };
    // The server's own flavour and version decide which cases it can run.
    let (dialect, version) = common::server_dialect(&server).await;
    for case in testkit::corpus() {
        if testkit::expects_unsupported(dialect.as_ref(), version, &case) {
            continue;
        }
        common::in_fresh_database(&server, "strata_mysql_keys", |url| {
            run_checked(
                url,
                case.name.clone(),
                case.setup.clone(),
                case.operations.clone(),
            )
        })
        .await;
    }
}

#[derive(serde::Deserialize)]
struct Scenario {
    setup: Vec<Operation>,
    operations: Vec<Operation>,
}

/// A foreign key's cover changing hands: its own index, a user index, a unique
/// constraint, a composite primary key's prefix — every hand-over in both
/// directions, with no index left behind and every index droppable.
const COVER_CHANGES: &str = r#"
[[setup]]
kind = "create_table"
name = "parent"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }]

[[setup]]
kind = "create_table"
name = "child"
primary_key = ["parent_id", "n"]
columns = [
  { name = "parent_id", type = "bigint" },
  { name = "n", type = "int" },
  { name = "other_id", type = "bigint" },
  { name = "label", type = "varchar(20)" },
]
foreign_keys = [{ name = "child_parent_fk", columns = ["parent_id"], references = "parent", referenced_columns = ["id"] }]

[[operations]]
kind = "add_foreign_key"
table = "child"
foreign_key = { name = "child_other_fk", columns = ["other_id"], references = "parent", referenced_columns = ["id"], on_delete = "cascade" }

[[operations]]
kind = "create_index"
table = "child"
index = { name = "child_other_label_idx", columns = ["other_id", "label"] }

[[operations]]
kind = "add_constraint"
table = "child"
constraint = { type = "unique", name = "child_other_uniq", columns = ["other_id"] }

[[operations]]
kind = "drop_index"
table = "child"
name = "child_other_label_idx"

[[operations]]
kind = "drop_constraint"
table = "child"
name = "child_other_uniq"

[[operations]]
kind = "create_index"
table = "child"
index = { name = "child_other_idx", columns = ["other_id"] }

[[operations]]
kind = "rename_index"
table = "child"
from = "child_other_idx"
to = "child_other_renamed_idx"

[[operations]]
kind = "drop_foreign_key"
table = "child"
name = "child_other_fk"

[[operations]]
kind = "drop_index"
table = "child"
name = "child_other_renamed_idx"

[[operations]]
kind = "rename_column"
table = "child"
from = "parent_id"
to = "parent_key"

[[operations]]
kind = "drop_foreign_key"
table = "child"
name = "child_parent_fk"
"#;

#[tokio::test]
async fn a_foreign_keys_cover_can_change_hands_both_ways() {
    let Some(server) = common::server_url() else {
        return;
    };
    let scenario: Scenario = toml::from_str(COVER_CHANGES).unwrap();
    common::in_fresh_database(&server, "strata_mysql_cover", |url| {
        run_checked(
            url,
            "cover changes".into(),
            scenario.setup,
            scenario.operations,
        )
    })
    .await;
}

//! Introspection agrees with rendering: for every corpus case, the live schema read
//! back after the setup, after each operation and after the inverse of all of them
//! is the schema state the migrations describe — as `drift::differences`, the
//! comparison `strata migrate` makes, judges it.

use strata_engine::ast::{FkAction, Operation};
use strata_engine::dialect::driver::Driver;
use strata_engine::naming::fit_identifier;
use strata_engine::script::{self, Direction};
use strata_engine::{drift, ColumnType, SchemaState};
use strata_mysql::MysqlDriver;
use strata_testkit as testkit;

use crate::common;

/// Runs `ops` from `state` in `direction`, then compares the live schema with the
/// state after them — except after a `run_sql` run forward, which may change the
/// schema in ways the state does not know (case 091 adds a prefix index); its
/// `reverse_sql` must undo them, so the comparison after the inverse still holds.
/// Returns the state after `ops`.
async fn step(
    driver: &mut MysqlDriver,
    state: &SchemaState,
    ops: &[Operation],
    direction: Direction,
    when: &str,
) -> SchemaState {
    let dialect = driver.dialect();
    let version = driver.version();
    let (script, after) = script::render(dialect.as_ref(), version, state, ops, true, direction)
        .unwrap_or_else(|e| panic!("{when}: {e}"));
    if let Err(e) = strata_testkit::run_case_script(&script, driver).await {
        panic!("{when}: {e}\n\nscript:\n{script}");
    }
    let raw_sql = ops.iter().any(|op| matches!(op, Operation::RunSql(_)));
    if raw_sql && direction == Direction::Forward {
        return after;
    }
    let live = driver
        .introspect()
        .await
        .unwrap_or_else(|e| panic!("{when}: introspection failed: {e}"));
    let differences = drift::differences(dialect.as_ref(), version, &after, &live, &[]);
    assert!(
        differences.is_empty(),
        "{when}: the live schema differs from the state:\n  {}\n\nscript:\n{script}\n\nlive:\n{live:#?}",
        differences.join("\n  ")
    );
    assert_eq!(
        foreign_key_names(&live),
        // Foreign keys without a database constraint are the state's alone.
        foreign_key_names(&after.in_database()),
        "{when}: foreign key names differ"
    );
    after
}

/// What drift leaves out: the foreign keys' names (as the server shortens them),
/// which MySQL has and `drop_foreign_key` relies on.
fn foreign_key_names(state: &SchemaState) -> Vec<(String, Vec<String>)> {
    state
        .tables
        .values()
        .map(|t| {
            let mut names: Vec<String> = t
                .foreign_keys
                .iter()
                .map(|f| fit_identifier(&f.name, 64))
                .collect();
            names.sort();
            (t.name.clone(), names)
        })
        .collect()
}

async fn run_case(url: String, case: testkit::CorpusCase) {
    let mut driver = MysqlDriver::connect(&url).await.expect("connect");
    let name = &case.name;
    let empty = SchemaState::new();
    let ready = step(
        &mut driver,
        &empty,
        &case.setup,
        Direction::Forward,
        &format!("{name}: setup"),
    )
    .await;
    let mut state = ready.clone();
    for (i, op) in case.operations.iter().enumerate() {
        let when = format!("{name}: operation {} ({op})", i + 1);
        state = step(
            &mut driver,
            &state,
            std::slice::from_ref(op),
            Direction::Forward,
            &when,
        )
        .await;
    }
    let back = step(
        &mut driver,
        &ready,
        &case.operations,
        Direction::Backward,
        &format!("{name}: inverse of the operations"),
    )
    .await;
    assert_eq!(
        back.canonical(),
        ready.canonical(),
        "{name}: the inverse is not the setup"
    );
    Box::new(driver).close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_corpus_case_reads_back_as_its_state() {
    let Some(server) = common::server_url() else {
        return;
    };
    let (flavour, version) = common::server_dialect(&server).await;
    let cases = testkit::corpus();
    assert!(!cases.is_empty(), "the corpus is empty");
    // Every case runs, each in a database of its own, so one failure does not hide
    // the others; all of them are reported at the end.
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in cases {
        if testkit::expects_unsupported(flavour.as_ref(), version, &case) {
            continue;
        }
        checked += 1;
        let name = case.name.clone();
        let run = tokio::spawn({
            let server = server.clone();
            async move {
                common::in_fresh_database(&server, "strata_mysql_introspect", |url| {
                    run_case(url, case)
                })
                .await;
            }
        })
        .await;
        if let Err(e) = run {
            failures.push(format!(
                "{name}: {}",
                common::panic_message(&*e.into_panic())
            ));
        }
    }
    assert!(checked > 0, "every corpus case was skipped");
    assert!(
        failures.is_empty(),
        "{} of {checked} case(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Defaults the corpus does not reach: control characters, a backslash before a
/// `LIKE` wildcard, and literals on `text` and `json` columns, which the dialect
/// writes as expressions (`DEFAULT ('…')`) and the servers show differently again.
const AWKWARD_DEFAULTS: &str = r#"
[[operations]]
kind = "create_table"
name = "awkward"
primary_key = ["id"]
columns = [
  { name = "id", type = "int", auto = true },
  { name = "newline", type = "varchar(20)", default = "a\nb\tc\r" },
  { name = "wildcard", type = "varchar(20)", default = 'a\%b\_c' },
  { name = "quotes", type = "varchar(20)", default = "'\"'\\" },
  { name = "note", type = "text", default = "it's \\ \"long\"\n" },
  { name = "doc", type = "json", default = "{\"k\": \"v'w\"}" },
  { name = "flag", type = "bool", null = true, default = false },
  { name = "moment", type = "datetime", default = "2000-01-02 03:04:05.25" },
  { name = "born", type = "date", default = { expr = "now" } },
  { name = "alarm", type = "time", default = { expr = "now" } },
  { name = "token", type = "uuid", default = { expr = "uuid" } },
  { name = "big", type = "decimal(30,10)", default = -12345678901234.5 },
]
checks = [{ name = "awkward_doc_object", expr = "length(doc) > 1" }]
"#;

#[derive(serde::Deserialize)]
struct Scenario {
    operations: Vec<Operation>,
}

#[tokio::test]
async fn awkward_defaults_read_back() {
    let Some(server) = common::server_url() else {
        return;
    };
    let scenario: Scenario = toml::from_str(AWKWARD_DEFAULTS).unwrap();
    common::in_fresh_database(&server, "strata_mysql_awkward", |url| async move {
        let mut driver = MysqlDriver::connect(&url).await.expect("connect");
        let empty = SchemaState::new();
        let state = step(
            &mut driver,
            &empty,
            &scenario.operations,
            Direction::Forward,
            "awkward defaults",
        )
        .await;
        // Stricter than drift, which compares the defaults as rendered SQL: the very
        // values come back.
        let live = driver.introspect().await.unwrap();
        let (want, got) = (&state.tables["awkward"], &live.tables["awkward"]);
        for column in &want.columns {
            let read = got.column(&column.name).expect("the column is there");
            assert_eq!(read.default, column.default, "default of `{}`", column.name);
        }
        Box::new(driver).close().await.unwrap();
    })
    .await;
}

/// Tables made by hand, not by the dialect: InnoDB's own index for a foreign key is
/// hidden like the dialect's, an unnamed action reads as the server reports it, and
/// what strata cannot express is an error that names it.
#[tokio::test]
async fn hand_made_tables_read_back_or_are_refused_by_name() {
    let Some(server) = common::server_url() else {
        return;
    };
    common::in_fresh_database(&server, "strata_mysql_by_hand", |url| async move {
        let mut driver = MysqlDriver::connect(&url).await.expect("connect");
        assert!(driver.introspect().await.unwrap().tables.is_empty());
        for sql in [
            "CREATE TABLE parent (id int NOT NULL PRIMARY KEY) ENGINE=InnoDB",
            "CREATE TABLE child (id int NOT NULL PRIMARY KEY, parent_id int NOT NULL, \
             CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE) ENGINE=InnoDB",
            "CREATE VIEW child_view AS SELECT id FROM child",
        ] {
            driver.execute(sql).await.unwrap();
        }
        let live = driver.introspect().await.unwrap();
        assert_eq!(live.tables.keys().collect::<Vec<_>>(), ["child", "parent"]);
        let child = &live.tables["child"];
        assert!(child.indexes.is_empty(), "InnoDB's index is shown: {:?}", child.indexes);
        let fk = &child.foreign_keys[0];
        assert_eq!(fk.on_delete, Some(FkAction::Cascade));
        // MySQL 8 reports an unnamed action as NO ACTION, MariaDB as RESTRICT; the
        // dialect always names both, so this is only ever met in tables made by hand.
        assert!(matches!(fk.on_update, None | Some(FkAction::Restrict)), "{:?}", fk.on_update);

        // A hand-made ENUM reads back as strata's enum; a SET has no neutral type.
        driver.execute("ALTER TABLE child ADD COLUMN mood enum('calm', 'cross') NULL").await.unwrap();
        let live = driver.introspect().await.unwrap();
        let mood = live.tables["child"].column("mood").unwrap().clone();
        assert_eq!((mood.ty, mood.values), (ColumnType::Enum, vec!["calm".to_string(), "cross".into()]));
        driver.execute("ALTER TABLE child DROP COLUMN mood").await.unwrap();
        driver.execute("ALTER TABLE child ADD COLUMN mood set('calm', 'cross') NULL").await.unwrap();
        let err = driver.introspect().await.unwrap_err().to_string();
        assert!(err.contains("`child`.`mood`") && err.contains("set"), "{err}");
        driver.execute("ALTER TABLE child DROP COLUMN mood").await.unwrap();

        // A prefix index reads back with its length (`SUB_PART`).
        driver.execute("ALTER TABLE parent ADD COLUMN name varchar(50) NULL, ADD INDEX parent_name_idx (name(10))").await.unwrap();
        let live = driver.introspect().await.unwrap();
        let index = live.tables["parent"].index("parent_name_idx").expect("the prefix index");
        assert_eq!(index.columns, ["name"]);
        assert_eq!(index.lengths.get("name"), Some(&10));
        driver.execute("ALTER TABLE parent ADD INDEX parent_name_desc (name DESC)").await.unwrap();
        let err = driver.introspect().await.unwrap_err().to_string();
        assert!(err.contains("parent_name_desc") && err.contains("descending"), "{err}");
        Box::new(driver).close().await.unwrap();
    })
    .await;
}

/// The executor reads the schema with its history table in it, and filters that
/// table out by name: it must read back like any other.
#[tokio::test]
async fn the_history_table_reads_back_as_its_definition() {
    let Some(server) = common::server_url() else {
        return;
    };
    common::in_fresh_database(&server, "strata_mysql_history", |url| async move {
        let mut driver = MysqlDriver::connect(&url).await.expect("connect");
        let history = strata_engine::history::History::new("strata_migrations");
        history
            .ensure(&mut driver)
            .await
            .expect("create the history table");
        let mut expected = SchemaState::new();
        expected
            .tables
            .insert(history.table.clone(), history.table_def().into());
        let live = driver.introspect().await.expect("introspect");
        let dialect = driver.dialect();
        let differences =
            drift::differences(dialect.as_ref(), driver.version(), &expected, &live, &[]);
        assert!(differences.is_empty(), "{differences:#?}");
        let applied_at = live.tables[&history.table].column("applied_at").unwrap();
        assert_eq!(applied_at.ty, strata_engine::ColumnType::TimestampTz);
        Box::new(driver).close().await.unwrap();
    })
    .await;
}

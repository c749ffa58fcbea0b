//! Introspection agrees with rendering: for every corpus case, the schema SQLite
//! reports after each step is the schema the migrations say it should be.

use strata_engine::ast::{
    CheckDef, ColumnDef, DefaultExpr, DefaultValue, FkAction, ForeignKeyDef, IndexDef, TableDef,
    UniqueDef,
};

use strata_engine::dialect::driver::Driver;
use strata_engine::script::{self, Direction};
use strata_engine::{drift, ColumnType, Operation, SchemaState};
use strata_sqlite::SqliteDriver;
use strata_testkit::{self as testkit, CorpusCase};

/// Differences a case must show after its operations, because a `run_sql` changes the
/// schema behind the state's back (the state cannot know what raw SQL does). Listing
/// them exactly also proves introspection sees what the raw SQL made.
const EXPECTED_AFTER_OPERATIONS: &[(&str, &[&str])] = &[(
    "091_run_sql_per_dialect",
    &["table `tag`: indexes: found tag_lower_name_idx ((lower(\"name\"))), not expected"],
)];

fn temp_db(name: &str) -> (tempfile::TempDir, SqliteDriver) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}",
        dir.path().join(format!("{name}.sqlite3")).display()
    );
    (dir, SqliteDriver::connect(&url).expect("connect"))
}

/// Renders `operations` from `state` (atomic, as `execute_case` does) and runs them.
async fn run(
    driver: &mut SqliteDriver,
    state: &SchemaState,
    operations: &[Operation],
    direction: Direction,
) -> Result<SchemaState, String> {
    let dialect = driver.dialect();
    let (script, after) = script::render(
        dialect.as_ref(),
        driver.version(),
        state,
        operations,
        true,
        direction,
    )
    .map_err(|e| format!("render: {e}"))?;
    strata_testkit::run_case_script(&script, driver)
        .await
        .map_err(|e| format!("execute: {e}\nscript:\n{script}"))?;
    Ok(after)
}

/// The differences between `expected` and the live schema, as drift reports them.
async fn live_differences(driver: &mut SqliteDriver, expected: &SchemaState) -> Vec<String> {
    let live = driver.introspect().await.expect("introspect");
    let dialect = driver.dialect();
    let found = drift::differences(dialect.as_ref(), driver.version(), expected, &live, &[]);
    found
}

/// Runs one case and returns what went wrong (empty when it agrees everywhere).
async fn check_case(case: &CorpusCase) -> Vec<String> {
    let (_dir, mut driver) = temp_db(&case.name);
    let mut problems = Vec::new();
    let empty = SchemaState::new();
    let setup = match run(&mut driver, &empty, &case.setup, Direction::Forward).await {
        Ok(state) => state,
        Err(e) => return vec![format!("setup: {e}")],
    };
    let mut compare = |what: &str, found: Vec<String>, allowed: &[&str]| {
        if found != allowed {
            problems.push(format!(
                "after {what}: introspection differs from the state:\n    {}",
                found.join("\n    ")
            ));
        }
    };
    compare("setup", live_differences(&mut driver, &setup).await, &[]);

    let after = match run(&mut driver, &setup, &case.operations, Direction::Forward).await {
        Ok(state) => state,
        Err(e) => return vec![format!("operations: {e}")],
    };
    let allowed = EXPECTED_AFTER_OPERATIONS
        .iter()
        .find(|(name, _)| *name == case.name)
        .map_or(&[][..], |(_, lines)| lines);
    compare(
        "operations",
        live_differences(&mut driver, &after).await,
        allowed,
    );

    if let Err(e) = run(&mut driver, &setup, &case.operations, Direction::Backward).await {
        problems.push(format!("inverse of operations: {e}"));
        return problems;
    }
    compare(
        "inverse of operations",
        live_differences(&mut driver, &setup).await,
        &[],
    );
    problems
}

#[tokio::test]
async fn every_corpus_case_introspects_as_its_state() {
    let cases = testkit::corpus();
    assert!(!cases.is_empty(), "the corpus is empty");
    let dialect = strata_sqlite::SqliteDialect;
    // The bundled SQLite's version decides which cases it can run.
    let version = SqliteDriver::connect("sqlite::memory:")
        .expect("connect")
        .version();
    for (name, _) in EXPECTED_AFTER_OPERATIONS {
        assert!(
            cases.iter().any(|c| c.name == *name),
            "{name} is no longer in the corpus: update EXPECTED_AFTER_OPERATIONS"
        );
    }
    let mut failures = Vec::new();
    for case in &cases {
        if testkit::expects_unsupported(&dialect, version, case) {
            continue;
        }
        for problem in check_case(case).await {
            failures.push(format!("{}: {problem}", case.name));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

fn column(name: &str, ty: ColumnType, null: bool, default: Option<DefaultValue>) -> ColumnDef {
    ColumnDef {
        name: name.into(),
        ty,
        null,
        default,
        auto: false,
        ..Default::default()
    }
}

/// A schema as a person (or Django) writes it, with everything SQLite allows that
/// strata does not write itself.
const HAND_WRITTEN: &str = r#"
CREATE TABLE parent (
    a int NOT NULL,
    "b""q" text NOT NULL,
    PRIMARY KEY (a, "b""q")
);
CREATE TABLE solo (id integer PRIMARY KEY);
CREATE TABLE [odd child] (
    id integer PRIMARY KEY AUTOINCREMENT,  -- a comment, with (parens) and 'quotes
    a int CONSTRAINT a_pos CHECK (a > 0) REFERENCES solo ON DELETE CASCADE,
    "b""q" text DEFAULT 'it''s, (odd)',
    num decimal,
    flag bool NOT NULL DEFAULT 1,
    day date DEFAULT CURRENT_DATE,
    calc int DEFAULT (1 + 2),
    mystery,
    UNIQUE (num),
    CHECK (a <> 2 OR "b""q" = ')'),
    CONSTRAINT child_parent_fk FOREIGN KEY (a, "b""q") REFERENCES parent (a, "b""q") ON UPDATE SET NULL
);
CREATE INDEX "child idx" ON [odd child] (lower("b""q"), a DESC) WHERE a IS NOT NULL;
CREATE UNIQUE INDEX child_flag_uniq ON [odd child] (flag);
"#;

/// What `[odd child]` of [`HAND_WRITTEN`] reads back as.
fn odd_child() -> TableDef {
    TableDef {
        name: "odd child".into(),
        columns: vec![
            // No foreign key says otherwise: the rowid's range.
            ColumnDef {
                auto: true,
                ..column("id", ColumnType::BigInt, true, None)
            },
            column("a", ColumnType::Int, true, None),
            column(
                "b\"q",
                ColumnType::Text,
                true,
                Some(DefaultValue::Text("it's, (odd)".into())),
            ),
            column(
                "num",
                ColumnType::Decimal {
                    precision: 65,
                    scale: 30,
                },
                true,
                None,
            ),
            column(
                "flag",
                ColumnType::Bool,
                false,
                Some(DefaultValue::Bool(true)),
            ),
            column(
                "day",
                ColumnType::Date,
                true,
                Some(DefaultValue::Expr {
                    expr: DefaultExpr::Now,
                }),
            ),
            column(
                "calc",
                ColumnType::Int,
                true,
                Some(DefaultValue::Text("1 + 2".into())),
            ),
            column("mystery", ColumnType::Bytes, true, None),
        ],
        primary_key: vec!["id".into()],
        uniques: vec![UniqueDef {
            name: "sqlite_autoindex_odd child_1".into(),
            columns: vec!["num".into()],
        }],
        checks: vec![
            CheckDef {
                name: "a_pos".into(),
                expr: "a > 0".into(),
            },
            CheckDef {
                name: "odd child_check1".into(),
                expr: "a <> 2 OR \"b\"\"q\" = ')'".into(),
            },
        ],
        foreign_keys: vec![
            ForeignKeyDef {
                name: "odd child_a_fk".into(),
                columns: vec!["a".into()],
                references: "solo".into(),
                referenced_columns: vec!["id".into()],
                on_delete: Some(FkAction::Cascade),
                on_update: None,
                ..Default::default()
            },
            ForeignKeyDef {
                name: "child_parent_fk".into(),
                columns: vec!["a".into(), "b\"q".into()],
                references: "parent".into(),
                referenced_columns: vec!["a".into(), "b\"q".into()],
                on_delete: None,
                on_update: Some(FkAction::SetNull),
                ..Default::default()
            },
        ],
        indexes: vec![
            IndexDef {
                name: "child idx".into(),
                columns: vec!["a".into()],
                unique: false,
                predicate: Some("a IS NOT NULL".into()),
                expressions: vec!["lower(\"b\"\"q\")".into()],
                ..Default::default()
            },
            IndexDef {
                name: "child_flag_uniq".into(),
                columns: vec!["flag".into()],
                unique: true,
                predicate: None,
                ..Default::default()
            },
        ],
        ..Default::default()
    }
}

/// SQL a person (or Django) wrote, with everything SQLite allows that strata does not
/// write itself, reads back field by field.
#[tokio::test]
async fn hand_written_schemas_read_back_field_by_field() {
    let (_dir, mut driver) = temp_db("hand_written");
    // A script of statements: rusqlite's batch (the driver runs one per call).
    driver
        .connection()
        .execute_batch(HAND_WRITTEN)
        .expect("schema");
    let live = driver.introspect().await.expect("introspect");
    let child: &TableDef = &live.tables["odd child"];
    assert_eq!(child, &odd_child());
    let parent = &live.tables["parent"];
    assert_eq!(parent.primary_key, ["a", "b\"q"]);
    assert!(parent.uniques.is_empty() && parent.indexes.is_empty());
}

/// Views, triggers, SQLite's own tables and the primary key's index are not tables
/// or indexes of the schema.
#[tokio::test]
async fn only_user_tables_and_their_indexes_are_reported() {
    let (_dir, mut driver) = temp_db("only_user_tables");
    driver
        .connection()
        .execute_batch(
            "CREATE TABLE t (id integer PRIMARY KEY AUTOINCREMENT, k text NOT NULL); \
             CREATE TABLE w (k text PRIMARY KEY, v int) WITHOUT ROWID; \
             INSERT INTO t (k) VALUES ('x'); ANALYZE; \
             CREATE VIEW v AS SELECT * FROM t; \
             CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END;",
        )
        .unwrap();
    let live = driver.introspect().await.unwrap();
    assert_eq!(live.tables.keys().collect::<Vec<_>>(), ["t", "w"]);
    assert!(live.tables["w"].uniques.is_empty() && live.tables["w"].indexes.is_empty());
    assert_eq!(live.tables["w"].primary_key, ["k"]);
}

#[tokio::test]
async fn an_empty_database_has_no_tables() {
    let mut driver = SqliteDriver::connect("sqlite::memory:").unwrap();
    assert_eq!(driver.introspect().await.unwrap(), SchemaState::new());
}

/// An `AUTOINCREMENT` key is declared `integer` whatever its model said (as Django
/// does for `AutoField` and `BigAutoField`); it reads back with the type of the
/// foreign keys that reference it, so a key and its references agree, and as `bigint`
/// when nothing references it or the references disagree.
#[tokio::test]
async fn an_auto_key_reads_back_with_the_type_of_its_references() {
    let (_dir, mut driver) = temp_db("auto_keys");
    driver
        .connection()
        .execute_batch(
            "CREATE TABLE small (id integer NOT NULL PRIMARY KEY AUTOINCREMENT); \
             CREATE TABLE big (id integer NOT NULL PRIMARY KEY AUTOINCREMENT); \
             CREATE TABLE lone (id integer NOT NULL PRIMARY KEY AUTOINCREMENT); \
             CREATE TABLE mixed (id integer NOT NULL PRIMARY KEY AUTOINCREMENT); \
             CREATE TABLE refs ( \
               id integer NOT NULL PRIMARY KEY AUTOINCREMENT, \
               small_id int NULL REFERENCES small (id), \
               small2_id int NULL REFERENCES small (id), \
               big_id bigint NULL REFERENCES big (id), \
               mixed_a int NULL REFERENCES mixed (id), \
               mixed_b bigint NULL REFERENCES mixed (id));",
        )
        .unwrap();
    let live = driver.introspect().await.unwrap();
    let key = |t: &str| {
        let c = live.tables[t].auto_column().expect("auto key");
        c.ty
    };
    assert_eq!(key("small"), ColumnType::Int);
    assert_eq!(key("big"), ColumnType::BigInt);
    assert_eq!(key("lone"), ColumnType::BigInt);
    assert_eq!(key("mixed"), ColumnType::BigInt);
    assert_eq!(key("refs"), ColumnType::BigInt);
}

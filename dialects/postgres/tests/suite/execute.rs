//! Against a live server (`STRATA_TEST_POSTGRES_URL`): the whole corpus runs forward
//! and back, connection errors are clear and password-free, and a failing
//! transactional script leaves nothing behind.

use serde::Deserialize;
use strata_engine::ast::{Operation, RunSql, SqlText, TableDef};
use strata_engine::dialect::driver::{Driver, DriverError, ErrorCode};
use strata_engine::script::{self, Direction};
use strata_engine::{Dialect, SchemaState};
use strata_postgres::{PostgresDialect, PostgresDriver};
use strata_testkit as testkit;

use crate::common::{server_url, with_database, with_fresh_database};

#[tokio::test]
async fn every_corpus_case_runs_forward_and_back() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let cases = testkit::corpus();
        assert!(!cases.is_empty(), "the corpus is empty");
        let mut failures = Vec::new();
        for case in cases {
            let name = case.name.clone();
            let case_url = url.clone();
            // Each case on its own connection and task: a failing case is reported
            // with the others instead of hiding them.
            let outcome = tokio::spawn(async move {
                let mut driver = PostgresDriver::connect(&case_url).await.expect("connect");
                testkit::execute_case(&mut driver, &case).await;
            })
            .await;
            if let Err(error) = outcome {
                failures.push(format!("{name}: {error}"));
                reset_schema(&url).await;
            }
        }
        assert!(
            failures.is_empty(),
            "failing cases:\n{}",
            failures.join("\n")
        );
    })
    .await;
}

/// Empties the public schema after a failed case, so the next case starts clean.
async fn reset_schema(url: &str) {
    let mut driver = PostgresDriver::connect(url).await.expect("connect");
    for sql in ["DROP SCHEMA public CASCADE", "CREATE SCHEMA public"] {
        driver.execute(sql).await.expect("reset the schema");
    }
}

#[tokio::test]
async fn a_missing_database_is_named_and_the_password_is_not() {
    let Some(server) = server_url() else { return };
    let missing = testkit::unique_db_name("strata_pg_missing");
    // The test server trusts local users, so a fake password gets as far as the
    // database lookup, and its error is what the user would see.
    let with_password = server.replacen("://postgres@", "://postgres:NotTheRealPassword@", 1);
    let url = with_database(&with_password, &missing);
    assert!(
        url.contains("NotTheRealPassword"),
        "test URL {url} has no password to hide"
    );

    let Err(error) = PostgresDriver::connect(&url).await else {
        panic!("connected to a database that does not exist");
    };
    let DriverError::Connect {
        target, message, ..
    } = &error
    else {
        panic!("expected DriverError::Connect, got {error:?}");
    };
    assert!(message.contains(&missing), "{message}");
    assert!(message.contains("does not exist"), "{message}");
    let text = format!("{error} {target} {message}");
    assert!(
        !text.contains("NotTheRealPassword"),
        "password leaked: {text}"
    );
    assert!(target.contains("***"), "{target}");
    // invalid_catalog_name; and the library's error behind the message, with all its
    // causes, keeps the password out too.
    assert_eq!(error.code(), Some(&ErrorCode::SqlState("3D000".into())));
    testkit::assert_no_secret_in_chain(&error, "NotTheRealPassword");
}

#[tokio::test]
async fn statement_errors_keep_the_sqlstate_and_the_library_error() {
    let Some(server) = server_url() else { return };
    let mut driver = PostgresDriver::connect(&server).await.expect("connect");
    let error = driver
        .execute("SELECT * FROM strata_no_such_table")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("SQLSTATE 42P01"), "{error}");
    assert_eq!(error.code(), Some(&ErrorCode::SqlState("42P01".into())));
    testkit::source_as::<tokio_postgres::Error>(&error);
    Box::new(driver).close().await.unwrap();
}

#[tokio::test]
async fn a_failing_statement_rolls_back_the_whole_script() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let table: TableDef = toml::from_str(
            r#"
            name = "order"
            primary_key = ["id"]
            columns = [{ name = "id", type = "bigint", auto = true }]
            "#,
        )
        .unwrap();
        let operations = [
            Operation::CreateTable(table),
            Operation::RunSql(RunSql {
                split: true,
                sql: SqlText::All("SELECT no_such_column FROM \"order\"".into()),
                reverse_sql: None,
            }),
        ];
        let dialect = PostgresDialect;
        let (script, _) = script::render(
            &dialect,
            dialect.minimum_version(),
            &SchemaState::new(),
            &operations,
            true,
            Direction::Forward,
        )
        .unwrap();
        assert!(
            script.transaction.is_some(),
            "PostgreSQL runs atomic migrations in a transaction"
        );

        let mut driver = PostgresDriver::connect(&url).await.expect("connect");
        let error = script.execute(&mut driver).await.unwrap_err();
        assert_eq!(error.completed, 0);
        let text = error.to_string();
        assert!(text.contains("no_such_column"), "{text}");
        assert!(text.contains("42703"), "SQLSTATE missing: {text}");
        assert_eq!(driver.table_names().await.unwrap(), Vec::<String>::new());
    })
    .await;
}

#[tokio::test]
async fn the_version_is_read_from_the_server() {
    let Some(server) = server_url() else { return };
    let driver = PostgresDriver::connect(&server).await.expect("connect");
    assert!(
        driver.version() >= PostgresDialect.minimum_version(),
        "{}",
        driver.version()
    );
    assert_eq!(driver.dialect().name(), "postgres");
}

/// Operations written as a migration file's `[[operations]]`.
fn operations(toml_text: &str) -> Vec<Operation> {
    #[derive(Deserialize)]
    struct File {
        operations: Vec<Operation>,
    }
    toml::from_str::<File>(toml_text).unwrap().operations
}

/// Renders and runs `ops` from `state`, returning the state after them.
async fn run(
    driver: &mut PostgresDriver,
    state: &SchemaState,
    ops: &[Operation],
    atomic: bool,
    direction: Direction,
) -> (String, SchemaState) {
    let dialect = PostgresDialect;
    let (script, after) =
        script::render(&dialect, driver.version(), state, ops, atomic, direction).unwrap();
    if let Err(e) = strata_testkit::run_case_script(&script, driver).await {
        panic!("{e}\n\nscript:\n{script}");
    }
    (script.to_string(), after)
}

async fn single_value(driver: &mut PostgresDriver, sql: &str) -> Option<String> {
    let rows = driver.query(sql).await.unwrap();
    rows.into_iter()
        .next()
        .and_then(|row| row.into_iter().next().flatten())
}

#[tokio::test]
async fn a_type_change_keeps_rows_and_replaces_a_default_postgres_cannot_cast() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let mut driver = PostgresDriver::connect(&url).await.expect("connect");
        let setup = operations(
            r#"
            [[operations]]
            kind = "create_table"
            name = "user"
            primary_key = ["id"]
            columns = [
              { name = "id", type = "bigint", auto = true },
              { name = "code", type = "text", default = "5" },
            ]
            "#,
        );
        let (_, state) = run(&mut driver, &SchemaState::new(), &setup, true, Direction::Forward).await;
        driver.execute(r#"INSERT INTO "user" ("code") VALUES ('42')"#).await.unwrap();

        let change = operations(
            r#"
            [[operations]]
            kind = "alter_column"
            table = "user"
            column = "code"
            type = "int"
            default = 5
            "#,
        );
        run(&mut driver, &state, &change, true, Direction::Forward).await;
        driver.execute(r#"INSERT INTO "user" DEFAULT VALUES"#).await.unwrap();
        let sum = single_value(&mut driver, r#"SELECT sum("code") FROM "user""#).await;
        assert_eq!(sum.as_deref(), Some("47"), "the row kept its value and the default still applies");

        run(&mut driver, &state, &change, true, Direction::Backward).await;
        let ty = single_value(
            &mut driver,
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'user' AND column_name = 'code'",
        )
        .await;
        assert_eq!(ty.as_deref(), Some("text"));
        run(&mut driver, &SchemaState::new(), &setup, true, Direction::Backward).await;
        assert!(driver.table_names().await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn non_atomic_index_changes_run_concurrently() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let mut driver = PostgresDriver::connect(&url).await.expect("connect");
        let setup = operations(
            r#"
            [[operations]]
            kind = "create_table"
            name = "order"
            primary_key = ["id"]
            columns = [
              { name = "id", type = "bigint", auto = true },
              { name = "placed", type = "datetime", default = { expr = "now" } },
            ]
            "#,
        );
        let (_, state) = run(
            &mut driver,
            &SchemaState::new(),
            &setup,
            true,
            Direction::Forward,
        )
        .await;
        let index = operations(
            r#"
            [[operations]]
            kind = "create_index"
            table = "order"
            index = { name = "order_placed_idx", columns = ["placed"] }
            "#,
        );
        let (forward, _) = run(&mut driver, &state, &index, false, Direction::Forward).await;
        assert!(forward.contains("CREATE INDEX CONCURRENTLY"), "{forward}");
        assert!(!forward.contains("BEGIN"), "{forward}");
        let count = "SELECT count(*) FROM pg_indexes WHERE indexname = 'order_placed_idx'";
        assert_eq!(single_value(&mut driver, count).await.as_deref(), Some("1"));

        let (backward, _) = run(&mut driver, &state, &index, false, Direction::Backward).await;
        assert!(backward.contains("DROP INDEX CONCURRENTLY"), "{backward}");
        assert_eq!(single_value(&mut driver, count).await.as_deref(), Some("0"));
        run(
            &mut driver,
            &SchemaState::new(),
            &setup,
            true,
            Direction::Backward,
        )
        .await;
    })
    .await;
}

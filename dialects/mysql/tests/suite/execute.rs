//! The corpus on a live server (MariaDB here; MySQL 8 through STRATA_TEST_MYSQL_URL
//! as well): each case forward, back, and the schema left empty; plus connection
//! behaviour.

use strata_engine::dialect::driver::{Driver, DriverError, ErrorCode};
use strata_engine::ServerVersion;
use strata_mysql::{Flavour, MysqlDriver};
use strata_testkit as testkit;

use crate::common;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_corpus_case_runs_forward_and_back() {
    let Some(server) = common::server_url() else {
        return;
    };
    let cases = testkit::corpus();
    assert!(!cases.is_empty(), "the corpus is empty");
    // Every case runs, each in a database of its own, so one failure does not hide
    // the others; all of them are reported at the end.
    let mut failures = Vec::new();
    for case in cases {
        let name = case.name.clone();
        let run = tokio::spawn({
            let server = server.clone();
            async move {
                common::in_fresh_database(&server, "strata_mysql_case", |url| async move {
                    let mut driver = MysqlDriver::connect(&url).await.expect("connect");
                    testkit::execute_case(&mut driver, &case).await;
                    Box::new(driver).close().await.expect("close");
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
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[tokio::test]
async fn an_unreachable_server_is_a_connect_error_without_the_password() {
    // Port 1 on the loopback: nothing listens there, so the refusal is immediate.
    let err = MysqlDriver::connect("mysql://app:hunter2@127.0.0.1:1/shop")
        .await
        .expect_err("nothing listens on port 1");
    let DriverError::Connect {
        target, message, ..
    } = &err
    else {
        panic!("expected a connect error, got {err:?}");
    };
    assert_eq!(target, "mysql://app:***@127.0.0.1:1/shop");
    assert!(!message.is_empty());
    let shown = err.to_string();
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(
        shown.contains("cannot connect to mysql://app:***@127.0.0.1:1/shop"),
        "{shown}"
    );
}

#[tokio::test]
async fn a_url_of_another_scheme_is_refused_without_the_password() {
    let err = MysqlDriver::connect("postgres://app:hunter2@127.0.0.1/shop")
        .await
        .expect_err("not a MySQL URL");
    assert!(matches!(err, DriverError::Url { .. }), "{err:?}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[tokio::test]
async fn a_wrong_password_is_reported_in_the_servers_words() {
    let Some(server) = common::server_url() else {
        return;
    };
    let url = common::with_user(&server, "strata_no_such_user:hunter2");
    let err = MysqlDriver::connect(&url).await.expect_err("no such user");
    let shown = err.to_string();
    assert!(matches!(err, DriverError::Connect { .. }), "{err:?}");
    assert!(
        shown.contains("1045") || shown.contains("Access denied"),
        "{shown}"
    );
    assert!(!shown.contains("hunter2"), "{shown}");
    // ER_ACCESS_DENIED_ERROR, or MariaDB's ER_ACCESS_DENIED_NO_PASSWORD_ERROR for a
    // user it does not know; the library's error behind the message hides the
    // password too.
    assert!(
        matches!(
            err.code(),
            Some(ErrorCode::ServerError { number: 1045 | 1698, sqlstate }) if sqlstate == "28000"
        ),
        "{err:?}"
    );
    testkit::assert_no_secret_in_chain(&err, "hunter2");
}

#[tokio::test]
async fn statement_errors_keep_the_server_error_and_the_library_error() {
    let Some(server) = common::server_url() else {
        return;
    };
    let mut driver = MysqlDriver::connect(&server).await.expect("connect");
    let err = driver
        .execute("SELECT * FROM strata_no_such_table")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("ERROR 1146 (42S02)"), "{err}");
    assert_eq!(
        err.code(),
        Some(&ErrorCode::ServerError {
            number: 1146,
            sqlstate: "42S02".into()
        })
    );
    assert_eq!(err.code().and_then(ErrorCode::sqlstate), Some("42S02"));
    testkit::source_as::<mysql_async::Error>(&err);
    Box::new(driver).close().await.unwrap();
}

#[tokio::test]
async fn the_live_server_is_detected_with_its_flavour_and_version() {
    let Some(server) = common::server_url() else {
        return;
    };
    let driver = MysqlDriver::connect(&server).await.expect("connect");
    let mut driver: Box<dyn Driver> = Box::new(driver);
    // Independent evidence of the flavour: the Aria engine exists only in MariaDB,
    // which needs it for its own system tables.
    let aria = driver
        .query("SELECT COUNT(*) FROM information_schema.ENGINES WHERE ENGINE = 'Aria'")
        .await
        .unwrap();
    let is_mariadb = aria[0][0].as_deref() == Some("1");
    let version_text = driver.query("SELECT VERSION()").await.unwrap()[0][0]
        .clone()
        .unwrap();
    let leading: ServerVersion = version_text.parse().unwrap();
    let expected = if is_mariadb { "mariadb" } else { "mysql" };
    assert_eq!(
        driver.dialect().name(),
        expected,
        "server says {version_text}"
    );
    assert_eq!(driver.version(), leading, "server says {version_text}");
    assert!(driver.version() >= driver.dialect().minimum_version());
    // This machine's test server is MariaDB (see .ci/run); docker-compose's MySQL
    // 8.4 on port 3307 takes the other branch.
    if server.contains(":3306/") {
        assert!(
            is_mariadb,
            "the test server on 3306 is MariaDB, but it says {version_text}"
        );
        assert_eq!(Flavour::detect(&version_text).unwrap().0, Flavour::Mariadb);
    }
    driver.close().await.unwrap();
}

#[tokio::test]
async fn several_statements_in_one_execute_are_refused_before_any_runs() {
    let Some(server) = common::server_url() else {
        return;
    };
    common::in_fresh_database(&server, "strata_mysql_multi", |url| async move {
        let mut driver = MysqlDriver::connect(&url).await.unwrap();
        driver.execute("CREATE TABLE a (x int);").await.unwrap();
        for sql in [
            "INSERT INTO a VALUES (2); INSERT INTO no_such_table VALUES (3)",
            "INSERT INTO a VALUES (2) /*!; DROP TABLE a */",
            "INSERT INTO a VALUES ('unterminated); DROP TABLE a",
        ] {
            let err = driver.execute(sql).await.expect_err(sql);
            assert!(err.to_string().contains("refused"), "{err}");
        }
        // `;` in strings, quoted names and comments is not a separator.
        driver
            .execute("INSERT INTO a VALUES (LENGTH('a;b')) # ; DROP TABLE a")
            .await
            .unwrap();
        assert_eq!(driver.table_names().await.unwrap(), ["a"]);
        let rows = driver
            .query("SELECT COUNT(*), MAX(x) FROM a")
            .await
            .unwrap();
        assert_eq!(rows, [[Some("1".to_string()), Some("3".to_string())]]);
        Box::new(driver).close().await.unwrap();
    })
    .await;
}

/// Literal defaults come back from the server exactly as written in the migration:
/// quotes, backslashes, comment markers, non-ASCII, on plain and on `longtext`
/// columns (whose defaults are expressions).
#[tokio::test]
async fn text_defaults_read_back_exactly() {
    use strata_engine::ast::{ColumnDef, DefaultValue, Operation, TableDef};
    use strata_engine::script::{self, Direction};
    use strata_engine::SchemaState;

    let Some(server) = common::server_url() else {
        return;
    };
    let values = [
        "it's",
        r"C:\temp\new",
        r"\'; DROP TABLE t; --",
        r"ends with \",
        "x -- y /* z */ #",
        "héllo ✓ 日本 \u{1F600}",
        "%_?$1",
    ];
    let mut columns = vec![ColumnDef {
        name: "id".into(),
        ty: "bigint".parse().unwrap(),
        null: false,
        default: None,
        auto: true,
        ..Default::default()
    }];
    for (i, value) in values.iter().enumerate() {
        for ty in ["varchar(40)", "text"] {
            columns.push(ColumnDef {
                name: format!("c{i}_{}", &ty[..4]),
                ty: ty.parse().unwrap(),
                null: false,
                default: Some(DefaultValue::Text(value.to_string())),
                auto: false,
                ..Default::default()
            });
        }
    }
    let table = TableDef {
        name: "d`q\"s'".into(),
        columns: columns.clone(),
        primary_key: vec!["id".into()],
        uniques: vec![],
        checks: vec![],
        foreign_keys: vec![],
        indexes: vec![],
        ..Default::default()
    };
    common::in_fresh_database(&server, "strata_mysql_defaults", |url| async move {
        let mut driver = MysqlDriver::connect(&url).await.unwrap();
        let dialect = driver.dialect();
        let op = Operation::CreateTable(table);
        let (script, _) = script::render(
            dialect.as_ref(),
            driver.version(),
            &SchemaState::new(),
            &[op],
            true,
            Direction::Forward,
        )
        .unwrap();
        script.execute(&mut driver).await.unwrap();
        let quoted = dialect.quote_ident("d`q\"s'");
        driver
            .execute(&format!("INSERT INTO {quoted} () VALUES ()"))
            .await
            .unwrap();
        let rows = driver
            .query(&format!("SELECT * FROM {quoted}"))
            .await
            .unwrap();
        assert_eq!(driver.table_names().await.unwrap(), ["d`q\"s'"]);
        for (column, cell) in columns.iter().zip(&rows[0]).skip(1) {
            let Some(DefaultValue::Text(expected)) = &column.default else {
                unreachable!()
            };
            assert_eq!(
                cell.as_deref(),
                Some(expected.as_str()),
                "column {}",
                column.name
            );
        }
        Box::new(driver).close().await.unwrap();
    })
    .await;
}

/// The clean-up promise of every server test here: a failing test still drops its
/// database.
#[tokio::test]
async fn a_failing_test_still_drops_its_database() {
    let Some(server) = common::server_url() else {
        return;
    };
    let prefix = format!("strata_mysql_fail_{}", std::process::id());
    let failed = tokio::spawn({
        let (server, prefix) = (server.clone(), prefix.clone());
        async move {
            common::in_fresh_database(&server, &prefix, |url| async move {
                let mut driver = MysqlDriver::connect(&url).await.unwrap();
                driver.execute("CREATE TABLE t (x int)").await.unwrap();
                panic!("deliberate failure");
            })
            .await;
        }
    })
    .await;
    assert!(
        failed.is_err_and(|e| e.is_panic()),
        "the body's panic is passed on"
    );
    let mut admin = MysqlDriver::connect(&server).await.unwrap();
    let left = admin
        .query(&format!("SHOW DATABASES LIKE '{prefix}%'"))
        .await
        .unwrap();
    assert!(left.is_empty(), "left behind: {left:?}");
    Box::new(admin).close().await.unwrap();
}

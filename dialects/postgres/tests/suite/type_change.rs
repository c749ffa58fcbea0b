//! Against a live server: every type change between neutral types renders a `USING`
//! cast only where PostgreSQL needs one. Without `USING`, the server converts by
//! assignment cast, which errors on a value that does not fit instead of cutting it;
//! so each change rendered without `USING` must be accepted as it is, and the
//! narrowing ones must refuse a value that does not fit even with the guards skipped.

use strata_engine::ast::{AlterColumn, ColumnDef, Operation, TableDef};
use strata_engine::dialect::driver::Driver;
use strata_engine::{ColumnType, Dialect, RenderContext, SchemaState};
use strata_postgres::{PostgresDialect, PostgresDriver};

use crate::common::{server_url, with_fresh_database};

const TYPES: &[&str] = &[
    "bool",
    "smallint",
    "int",
    "bigint",
    "real",
    "double",
    "decimal(10,2)",
    "char(5)",
    "varchar(20)",
    "text",
    "bytes",
    "date",
    "time",
    "datetime",
    "timestamptz",
    "uuid",
    "json",
];

fn table(ty: ColumnType) -> SchemaState {
    let mut state = SchemaState::new();
    state
        .apply(&Operation::CreateTable(TableDef {
            name: "t".into(),
            columns: vec![ColumnDef {
                name: "c".into(),
                ty,
                null: true,
                default: None,
                auto: false,
                ..Default::default()
            }],
            primary_key: Vec::new(),
            uniques: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
            ..Default::default()
        }))
        .unwrap();
    state
}

/// The statements of `from` → `to` on table `t`, guards left out.
fn change(from: ColumnType, to: ColumnType) -> Vec<String> {
    let d = PostgresDialect;
    let state = table(from);
    let capabilities = d.capabilities(d.minimum_version());
    let ctx = RenderContext {
        state: &state,
        version: d.minimum_version(),
        capabilities: &capabilities,
        in_transaction: true,
        safe: false,
    };
    let op = Operation::AlterColumn(AlterColumn {
        table: "t".into(),
        column: "c".into(),
        ty: Some(to),
        null: None,
        default: None,
        drop_default: false,
        ..Default::default()
    });
    d.render(&op, &ctx)
        .unwrap()
        .into_iter()
        .filter(|s| s.fails_with_rows.is_none())
        .map(|s| s.sql)
        .collect()
}

#[tokio::test]
async fn using_is_written_only_where_postgres_needs_it() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let mut driver = PostgresDriver::connect(&url).await.expect("connect");
        let mut wrong = Vec::new();
        for from in TYPES {
            for to in TYPES {
                let (from, to): (ColumnType, ColumnType) =
                    (from.parse().unwrap(), to.parse().unwrap());
                if from == to {
                    continue;
                }
                let sql = change(from, to);
                let using = sql.iter().any(|s| s.contains(" USING "));
                let create = format!("CREATE TABLE t (c {})", strata_postgres::sql_type(from));
                driver.execute("DROP TABLE IF EXISTS t").await.unwrap();
                driver.execute(&create).await.unwrap();
                for s in &sql {
                    if let Err(e) = driver.execute(s).await {
                        if !using {
                            wrong.push(format!("{from} → {to}: no USING, and refused: {e}"));
                        }
                    }
                }
                if using {
                    // Without USING the server must refuse it: else USING was not needed.
                    driver.execute("DROP TABLE IF EXISTS t").await.unwrap();
                    driver.execute(&create).await.unwrap();
                    let bare = sql[0].split(" USING ").next().unwrap().to_string();
                    if driver.execute(&bare).await.is_ok() {
                        wrong.push(format!("{from} → {to}: USING written but not needed"));
                    }
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));

        // The server's own check backs the guards: varchar(20) → varchar(2) by
        // assignment refuses 'abcdefghij' instead of cutting it to 'ab'.
        driver.execute("DROP TABLE IF EXISTS t").await.unwrap();
        driver
            .execute("CREATE TABLE t (c varchar(20))")
            .await
            .unwrap();
        driver
            .execute("INSERT INTO t VALUES ('abcdefghij')")
            .await
            .unwrap();
        for s in change(ColumnType::Varchar(20), ColumnType::Varchar(2)) {
            let e = driver.execute(&s).await.unwrap_err().to_string();
            assert!(e.contains("too long"), "{e}");
        }
        let rows = driver.query("SELECT c FROM t").await.unwrap();
        assert_eq!(rows, vec![vec![Some("abcdefghij".to_string())]]);
        Box::new(driver).close().await.unwrap();
    })
    .await;
}

//! Online DDL on the live server: every safe rendering runs and carries its
//! algorithm, a refused algorithm explains itself, a DDL lock wait gives up at the
//! timeout and names who holds the table, and row counts.

use std::time::{Duration, Instant};

use strata_engine::ast::Operation;
use strata_engine::dialect::driver::{run_statement, Driver};
use strata_engine::{RenderContext, SchemaState};
use strata_mysql::{Flavour, MysqlDriver};

use crate::common::{in_fresh_database, server_url};

fn ops(text: &str) -> Vec<Operation> {
    #[derive(serde::Deserialize)]
    struct Ops {
        operations: Vec<Operation>,
    }
    toml::from_str::<Ops>(text).expect("operations").operations
}

const TABLES: &str = r#"
[[operations]]
kind = "create_table"
name = "p"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }]
[[operations]]
kind = "create_table"
name = "t"
primary_key = ["id"]
columns = [
  { name = "id", type = "bigint", auto = true },
  { name = "a", type = "int", null = true },
  { name = "b", type = "varchar(20)", default = "x" },
  { name = "c", type = "int" },
  { name = "p_id", type = "bigint", null = true },
]
"#;

/// One of each change the online tables know, in an order that applies.
const CHANGES: &str = r#"
[[operations]]
kind = "add_column"
table = "t"
column = { name = "d", type = "int", null = true }
[[operations]]
kind = "add_column"
table = "t"
column = { name = "e", type = "int", default = 5 }
[[operations]]
kind = "add_column"
table = "t"
column = { name = "f", type = "datetime", default = { expr = "now" } }
[[operations]]
kind = "add_column"
table = "t"
column = { name = "g", type = "text", null = true, default = "x" }
[[operations]]
kind = "add_column"
table = "t"
column = { name = "u", type = "uuid", null = true, default = { expr = "uuid" } }
[[operations]]
kind = "rename_column"
table = "t"
from = "e"
to = "e2"
[[operations]]
kind = "drop_column"
table = "t"
column = "d"
[[operations]]
kind = "create_index"
table = "t"
index = { name = "t_c", columns = ["c"] }
[[operations]]
kind = "rename_index"
table = "t"
from = "t_c"
to = "t_c2"
[[operations]]
kind = "drop_index"
table = "t"
name = "t_c2"
[[operations]]
kind = "add_constraint"
table = "t"
constraint = { type = "unique", name = "t_c_uniq", columns = ["c"] }
[[operations]]
kind = "drop_constraint"
table = "t"
name = "t_c_uniq"
[[operations]]
kind = "add_constraint"
table = "t"
constraint = { type = "check", name = "t_c_pos", expr = "c > 0" }
[[operations]]
kind = "drop_constraint"
table = "t"
name = "t_c_pos"
[[operations]]
kind = "add_foreign_key"
table = "t"
foreign_key = { name = "t_p_fk", columns = ["p_id"], references = "p", referenced_columns = ["id"] }
[[operations]]
kind = "drop_foreign_key"
table = "t"
name = "t_p_fk"
[[operations]]
kind = "alter_column"
table = "t"
column = "a"
null = false
[[operations]]
kind = "alter_column"
table = "t"
column = "a"
null = true
[[operations]]
kind = "alter_column"
table = "t"
column = "b"
type = "varchar(40)"
[[operations]]
kind = "alter_column"
table = "t"
column = "b"
type = "varchar(300)"
[[operations]]
kind = "alter_column"
table = "t"
column = "c"
default = 3
[[operations]]
kind = "alter_column"
table = "t"
column = "c"
type = "bigint"
[[operations]]
kind = "rename_table"
from = "t"
to = "t2"
"#;

/// The clause each of `CHANGES` carries on MariaDB, which the server then accepts.
const MARIADB_ALGORITHMS: [&str; 23] = [
    "INSTANT",            // add a nullable column
    "INSTANT",            // … with a constant default
    "INSTANT",            // … with CURRENT_TIMESTAMP
    "INSTANT",            // … a text column with an expression default
    "COPY, LOCK=SHARED",  // … with uuid(): refused by INSTANT and INPLACE
    "INSTANT",            // rename a column
    "INSTANT",            // drop a column
    "INPLACE, LOCK=NONE", // add an index
    "INSTANT",            // rename it
    "INPLACE, LOCK=NONE", // drop it
    "INPLACE, LOCK=NONE", // add a unique constraint
    "INPLACE, LOCK=NONE", // drop it
    "COPY, LOCK=SHARED",  // add a check
    "INSTANT",            // drop it
    "INPLACE, LOCK=NONE", // add a foreign key (and its supporting index), unchecked
    "INPLACE, LOCK=NONE", // drop it and its supporting index
    "INPLACE, LOCK=NONE", // NOT NULL
    "INPLACE, LOCK=NONE", // NULL
    "INSTANT",            // varchar(20) -> varchar(40)
    "COPY, LOCK=SHARED",  // varchar(40) -> varchar(300): the length prefix grows
    "INSTANT",            // a new default
    "COPY, LOCK=SHARED",  // int -> bigint
    "INSTANT",            // rename the table
];

/// Renders `op` against `state` (safe or not), runs it, and applies it to the state.
async fn apply(
    driver: &mut MysqlDriver,
    state: &mut SchemaState,
    op: &Operation,
    safe: bool,
) -> Vec<String> {
    let dialect = driver.dialect();
    let capabilities = dialect.capabilities(driver.version());
    let ctx = RenderContext {
        state,
        version: driver.version(),
        capabilities: &capabilities,
        in_transaction: false,
        safe,
    };
    let statements = dialect.render(op, &ctx).expect("renders");
    let mut sql = Vec::new();
    // A guard (the check after an unchecked foreign key) only reads.
    for statement in &statements {
        let note = dialect.explain(op, statement, &ctx);
        if let Err(e) = run_statement(driver, statement).await {
            panic!("{} failed ({note:?}): {e}", statement.sql);
        }
        if statement.fails_with_rows.is_none() {
            sql.push(statement.sql.clone());
        }
    }
    state.apply(op).expect("applies");
    sql
}

#[tokio::test]
async fn every_safe_change_runs_with_its_algorithm() {
    let Some(server) = server_url() else { return };
    in_fresh_database(&server, "online_all", |url| async move {
        let mut driver = MysqlDriver::connect(&url).await.expect("connect");
        let mut state = SchemaState::new();
        for op in ops(TABLES) {
            apply(&mut driver, &mut state, &op, false).await;
        }
        driver
            .execute("INSERT INTO `p` () VALUES ()")
            .await
            .unwrap();
        driver
            .execute("INSERT INTO `t` (`a`, `c`, `p_id`) VALUES (1, 1, 1), (2, 2, NULL)")
            .await
            .unwrap();
        let changes = ops(CHANGES);
        assert_eq!(changes.len(), MARIADB_ALGORITHMS.len());
        let mariadb = driver.flavour() == Flavour::Mariadb;
        for (op, expected) in changes.iter().zip(MARIADB_ALGORITHMS) {
            let sql = apply(&mut driver, &mut state, op, true).await;
            let alter = sql.last().expect("a statement");
            assert!(alter.contains(", ALGORITHM="), "{alter}");
            if mariadb {
                assert!(
                    alter.ends_with(&format!(", ALGORITHM={expected}")),
                    "{alter}"
                );
            }
        }
        let rows = driver
            .table_rows(&["t2".to_string(), "nope".to_string()])
            .await
            .unwrap();
        assert_eq!(rows.get("t2"), Some(&2), "{rows:?}");
        assert_eq!(rows.len(), 1, "a missing table is left out: {rows:?}");
        Box::new(driver).close().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_refused_algorithm_says_the_change_needs_a_copy() {
    let Some(server) = server_url() else { return };
    in_fresh_database(&server, "online_refused", |url| async move {
        let mut driver = MysqlDriver::connect(&url).await.expect("connect");
        driver
            .execute("CREATE TABLE `t` (`id` int PRIMARY KEY, `c` int NOT NULL) ENGINE=InnoDB")
            .await
            .unwrap();
        // A type change needs a copy on both flavours: ask for INSTANT all the same.
        let error = driver
            .execute("ALTER TABLE `t` MODIFY COLUMN `c` bigint NOT NULL, ALGORITHM=INSTANT")
            .await
            .unwrap_err();
        let text = error.to_string();
        let server = format!("{} {}", driver.flavour(), driver.version());
        assert!(
            text.starts_with(&format!(
                "this change needs a table copy of `t` on {server} (blocking writes for the \
                 copy); run it with `safe = false` on this migration to accept the copy, or \
                 with an online schema change tool (gh-ost, pt-online-schema-change)"
            )),
            "{text}"
        );
        assert!(
            text.contains("ALGORITHM=INSTANT is not supported"),
            "{text}"
        );
        assert!(error.code().is_some());
        Box::new(driver).close().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_ddl_lock_wait_gives_up_and_names_the_holder() {
    let Some(server) = server_url() else { return };
    in_fresh_database(&server, "online_lock", |url| async move {
        let mut holder = MysqlDriver::connect(&url).await.expect("connect");
        let mut migrator = MysqlDriver::connect(&url).await.expect("connect");
        migrator
            .execute("CREATE TABLE `t` (`id` int PRIMARY KEY) ENGINE=InnoDB")
            .await
            .unwrap();
        holder.execute("BEGIN").await.unwrap();
        holder.query("SELECT * FROM `t`").await.unwrap();
        let holder_id = holder.query("SELECT CONNECTION_ID()").await.unwrap()[0][0]
            .clone()
            .unwrap();

        migrator
            .set_ddl_lock_timeout(Duration::from_millis(300))
            .await
            .unwrap();
        let timeout = migrator
            .query("SELECT @@SESSION.lock_wait_timeout")
            .await
            .unwrap();
        assert_eq!(
            timeout[0][0].as_deref(),
            Some("1"),
            "rounded up to a second"
        );
        let started = Instant::now();
        let error = migrator
            .execute("ALTER TABLE `t` ADD COLUMN `z` int NULL, ALGORITHM=INSTANT")
            .await
            .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(migrator.is_lock_timeout(&error), "{error}");
        let other = migrator.query("SELECT nope").await.unwrap_err();
        assert!(!migrator.is_lock_timeout(&other), "{other}");

        let blockers = migrator.lock_holders(&["t".to_string()]).await.unwrap();
        let blocker = blockers
            .iter()
            .find(|b| b.pid == holder_id)
            .unwrap_or_else(|| panic!("holder {holder_id} not in {blockers:?}"));
        assert!(
            blocker.user.is_some() && blocker.client.is_some(),
            "{blocker:?}"
        );
        assert!(blocker.lock.is_some(), "{blocker:?}");
        assert!(blocker.transaction_age.is_some(), "{blocker:?}");
        holder.execute("ROLLBACK").await.unwrap();
        Box::new(holder).close().await.unwrap();
        Box::new(migrator).close().await.unwrap();
    })
    .await;
}

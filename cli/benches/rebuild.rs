//! `cargo bench -p strata-cli --bench rebuild`: what a SQLite table rebuild costs against
//! the copy at its heart, a bare `INSERT … SELECT` of every row into a new table.
//!
//! A table of STRATA_REBUILD_ROWS rows (default 1,000,000) in a temporary SQLite file,
//! without and with secondary indexes (a unique and a plain one). The bare copy:
//! `BEGIN`, `CREATE TABLE` with the same definition, `INSERT … SELECT`, the same indexes
//! built, `COMMIT`. The rebuild: a migration of two changes that each need a rebuild
//! (a column widened, a check added), made with one copy, run through the engine's
//! script runner in the migration's transaction — guards, trigger bookkeeping,
//! rename, indexes, the foreign key check and all. Each is measured on a freshly
//! filled table, STRATA_REBUILD_REPEATS times (default 3); the table shows the
//! fastest of each and their ratio (the target is at most 1.2×). Prints Markdown.

use std::time::{Duration, Instant};

use strata_engine::ast::{Operation, TableDef};
use strata_engine::dialect::driver::Driver;
use strata_engine::script::{self, Direction};
use strata_engine::{RenderContext, SchemaState};

async fn connect(url: &str) -> Box<dyn Driver> {
    let registry = strata::backends();
    let (backend, _) = registry.for_url(url).unwrap();
    backend.connect(url).await.unwrap()
}

fn env_number(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const TABLE: &str = r#"
kind = "create_table"
name = "item"
primary_key = ["id"]
columns = [
  { name = "id", type = "bigint", auto = true },
  { name = "name", type = "varchar(50)" },
  { name = "qty", type = "int" },
  { name = "price", type = "double", null = true },
  { name = "note", type = "text", null = true },
  { name = "owner_id", type = "bigint", null = true },
]
"#;

const INDEXES: &str = r#"
uniques = [{ name = "item_name_uniq", columns = ["name"] }]
indexes = [{ name = "item_owner_idx", columns = ["owner_id", "qty"] }]
"#;

const CHANGES: &str = r#"
[[operations]]
kind = "alter_column"
table = "item"
column = "qty"
type = "bigint"

[[operations]]
kind = "add_constraint"
table = "item"
constraint = { type = "check", name = "item_qty_nonneg", expr = "qty >= 0" }
"#;

fn fill(rows: u64) -> String {
    format!(
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {rows}) \
         INSERT INTO item (id, name, qty, price, note, owner_id) \
         SELECT i, 'item number ' || i, i % 1000, i / 7.0, \
         CASE WHEN i % 3 = 0 THEN NULL ELSE 'a note about item ' || i END, i % 5000 FROM s"
    )
}

fn operations(text: &str) -> Vec<Operation> {
    #[derive(serde::Deserialize)]
    struct File {
        operations: Vec<Operation>,
    }
    toml::from_str::<File>(text).unwrap().operations
}

fn main() {
    let rows = env_number("STRATA_REBUILD_ROWS", 1_000_000);
    let repeats = env_number("STRATA_REBUILD_REPEATS", 3).max(1);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    println!("\nSQLite table of {rows} rows; fastest of {repeats}:\n");
    println!("| table | bare INSERT … SELECT copy | rebuild (2 changes, 1 copy) | ratio |");
    println!("|---|---|---|---|");
    for (label, extra) in [("no secondary index", ""), ("a unique + an index", INDEXES)] {
        let create = operations(&format!("[[operations]]\n{TABLE}{extra}"));
        let (mut bare, mut rebuild) = (Duration::MAX, Duration::MAX);
        for _ in 0..repeats {
            let (b, r) = runtime.block_on(measure(&create, rows));
            bare = bare.min(b);
            rebuild = rebuild.min(r);
        }
        println!(
            "| {label} | {:.2} s | {:.2} s | {:.2}× |",
            bare.as_secs_f64(),
            rebuild.as_secs_f64(),
            rebuild.as_secs_f64() / bare.as_secs_f64()
        );
    }
}

/// One bare copy and one rebuild, each of a freshly filled table.
async fn measure(create: &[Operation], rows: u64) -> (Duration, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.sqlite3").display());
    let mut driver = connect(&url).await;
    let dialect = driver.dialect();
    let version = driver.version();
    let (script, state) = script::render(
        dialect.as_ref(),
        version,
        &SchemaState::new(),
        create,
        true,
        Direction::Forward,
    )
    .unwrap();
    script.execute(driver.as_mut()).await.unwrap();

    driver.execute(&fill(rows)).await.unwrap();
    let bare = bare_copy(driver.as_mut(), &state).await;

    driver.execute("DELETE FROM item").await.unwrap();
    driver.execute(&fill(rows)).await.unwrap();
    let (script, _) = script::render(
        dialect.as_ref(),
        version,
        &state,
        &operations(CHANGES),
        true,
        Direction::Forward,
    )
    .unwrap();
    let copies = script
        .statements()
        .filter(|s| s.sql.starts_with("INSERT INTO \"new__item\""))
        .count();
    assert_eq!(copies, 1, "the two changes are one copy");
    let started = Instant::now();
    script.execute(driver.as_mut()).await.unwrap();
    let rebuild = started.elapsed();
    let count = driver.query("SELECT count(*) FROM item").await.unwrap();
    assert_eq!(count[0][0].as_deref(), Some(rows.to_string().as_str()));
    driver.close().await.unwrap();
    (bare, rebuild)
}

/// `item` copied into `bare`, defined as strata defines it, with its indexes.
async fn bare_copy(driver: &mut dyn Driver, state: &SchemaState) -> Duration {
    let dialect = driver.dialect();
    let capabilities = dialect.capabilities(driver.version());
    let ctx = RenderContext {
        state,
        version: driver.version(),
        capabilities: &capabilities,
        in_transaction: true,
        safe: false,
    };
    let mut table: TableDef = state.table("item").unwrap().clone();
    table.name = "bare".into();
    for u in &mut table.uniques {
        u.name = format!("bare_{}", u.name);
    }
    for i in &mut table.indexes {
        i.name = format!("bare_{}", i.name);
    }
    let create = dialect.create_table(&table, &ctx).unwrap();
    let columns = dialect.ident_list(
        &table
            .columns
            .iter()
            .map(|c| c.name.clone())
            .collect::<Vec<_>>(),
    );
    let started = Instant::now();
    driver.execute("BEGIN").await.unwrap();
    driver.execute(&create[0].sql).await.unwrap();
    driver
        .execute(&format!(
            "INSERT INTO bare ({columns}) SELECT {columns} FROM item"
        ))
        .await
        .unwrap();
    for index in &create[1..] {
        driver.execute(&index.sql).await.unwrap();
    }
    driver.execute("COMMIT").await.unwrap();
    let elapsed = started.elapsed();
    driver.execute("DROP TABLE bare").await.unwrap();
    elapsed
}

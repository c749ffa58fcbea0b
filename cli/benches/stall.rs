//! `cargo bench -p strata-cli --bench stall`: how long the application's writes stall
//! while strata changes a big table that is being written to, with the safe plan and
//! with the plain one.
//!
//! On each server (STRATA_TEST_POSTGRES_URL, STRATA_TEST_MYSQL_URL; skipped if unset):
//! a table of STRATA_STALL_ROWS rows (default 1,000,000), a writer on its own
//! connection inserting one row every few milliseconds and timing each insert, and
//! four changes: an index, a foreign key, a NOT NULL, a unique constraint. For each,
//! plan by plan, the longest single insert while the change ran (the writer's stall)
//! and how long the change took. Each change is undone before the next plan runs.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use strata_engine::dialect::driver::Driver;
use strata_engine::script::{self, Direction, Mode};
use strata_engine::{Operation, SchemaState};

mod support;
use support::{connect, env_url, fresh_database};

const TABLES: &str = r#"
[[operations]]
kind = "create_table"
name = "stall_parent"
primary_key = ["id"]
columns = [{ name = "id", type = "int" }]

[[operations]]
kind = "create_table"
name = "stall_item"
primary_key = ["id"]
columns = [
    { name = "id", type = "bigint" },
    { name = "parent_id", type = "int", null = true },
    { name = "code", type = "varchar(40)", null = true },
    { name = "qty", type = "int", null = true },
]
"#;

/// The changes measured: a name and the operation, as a migration file spells it.
const CHANGES: [(&str, &str); 4] = [
    (
        "add index",
        r#"kind = "create_index"
table = "stall_item"
index = { name = "stall_item_code_idx", columns = ["code"] }"#,
    ),
    (
        "add foreign key",
        r#"kind = "add_foreign_key"
table = "stall_item"
foreign_key = { name = "stall_item_parent_fk", columns = ["parent_id"], references = "stall_parent", referenced_columns = ["id"] }"#,
    ),
    (
        "set NOT NULL",
        r#"kind = "alter_column"
table = "stall_item"
column = "qty"
null = false"#,
    ),
    (
        "add unique constraint",
        r#"kind = "add_constraint"
table = "stall_item"
constraint = { type = "unique", name = "stall_item_code_uniq", columns = ["code"] }"#,
    ),
];

/// Rows the writers inserted so far: their ids and codes follow the loaded rows and
/// are never used twice across rounds.
static WRITTEN: AtomicU64 = AtomicU64::new(0);

/// How long the writer pauses between two inserts.
const WRITE_EVERY: Duration = Duration::from_millis(5);

fn main() {
    let rows: u64 = std::env::var("STRATA_STALL_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for (name, var) in [
        ("postgres", "STRATA_TEST_POSTGRES_URL"),
        ("mariadb/mysql", "STRATA_TEST_MYSQL_URL"),
    ] {
        let Some(url) = env_url(var) else {
            println!("{name}: skipped ({var} is not set)");
            continue;
        };
        runtime.block_on(measure(name, &url, rows));
    }
}

async fn measure(name: &str, url: &str, rows: u64) {
    let (db_url, cleanup) = fresh_database(url).await;
    let mut driver = connect(&db_url).await;
    let tables: Vec<Operation> = operations(TABLES);
    let state = run(
        driver.as_mut(),
        &SchemaState::new(),
        &tables,
        false,
        Direction::Forward,
    )
    .await;
    load(driver.as_mut(), rows).await;
    println!(
        "\n{name} {}, {rows} rows, one insert every {} ms:\n",
        driver.version(),
        WRITE_EVERY.as_millis()
    );
    println!(
        "| change | plain: took | plain: longest insert | safe: took | safe: longest insert |"
    );
    println!("|---|---|---|---|---|");
    for (change, text) in CHANGES {
        let op: Operation = toml::from_str(text).unwrap();
        let mut cells = Vec::new();
        for safe in [false, true] {
            let writer = Writer::start(&db_url, rows);
            tokio::time::sleep(Duration::from_millis(300)).await;
            let started = Instant::now();
            run(
                driver.as_mut(),
                &state,
                std::slice::from_ref(&op),
                safe,
                Direction::Forward,
            )
            .await;
            let window = (started, Instant::now());
            tokio::time::sleep(Duration::from_millis(300)).await;
            let stall = writer.stop(window);
            cells.push(format!(
                "{:.0} ms | {:.0} ms",
                ms(window.1 - window.0),
                ms(stall)
            ));
            run(
                driver.as_mut(),
                &state,
                std::slice::from_ref(&op),
                false,
                Direction::Backward,
            )
            .await;
        }
        println!("| {change} | {} |", cells.join(" | "));
    }
    driver.close().await.unwrap();
    if let Some((admin, drop)) = cleanup {
        let mut admin = connect(&admin).await;
        admin.execute(&drop).await.unwrap();
        admin.close().await.unwrap();
    }
}

fn operations(text: &str) -> Vec<Operation> {
    #[derive(serde::Deserialize)]
    struct File {
        operations: Vec<Operation>,
    }
    toml::from_str::<File>(text).unwrap().operations
}

/// Renders and runs `ops` from `state` as `migrate` would (safe or plain); the state after.
async fn run(
    driver: &mut dyn Driver,
    state: &SchemaState,
    ops: &[Operation],
    safe: bool,
    direction: Direction,
) -> SchemaState {
    let dialect = driver.dialect();
    let mode = Mode { atomic: true, safe };
    let (script, after) = script::render(
        dialect.as_ref(),
        driver.version(),
        state,
        ops,
        mode,
        direction,
    )
    .unwrap();
    script
        .execute(driver)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{script}"));
    after
}

/// `rows` rows, every one with a parent, a distinct code and a quantity.
async fn load(driver: &mut dyn Driver, rows: u64) {
    driver
        .execute("INSERT INTO stall_parent (id) VALUES (1)")
        .await
        .unwrap();
    let (source, analyze) = if driver.dialect().name() == "postgres" {
        (
            format!("generate_series(1, {rows}) AS s(n)"),
            "ANALYZE stall_item",
        )
    } else {
        (
            format!("(SELECT seq AS n FROM seq_1_to_{rows}) AS s"),
            "ANALYZE TABLE stall_item",
        )
    };
    driver
        .execute(&format!(
            "INSERT INTO stall_item (id, parent_id, code, qty) \
             SELECT n, 1, CONCAT('c', n), n FROM {source}"
        ))
        .await
        .unwrap();
    let _ = driver.query(analyze).await;
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The application: inserts on its own connection, each one timed.
struct Writer {
    stop: Arc<AtomicBool>,
    /// When each insert started and how long it took.
    timings: Arc<Mutex<Vec<(Instant, Duration)>>>,
    thread: thread::JoinHandle<()>,
}

impl Writer {
    fn start(url: &str, rows: u64) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let timings = Arc::new(Mutex::new(Vec::new()));
        let url = url.to_string();
        let (stop_flag, log) = (stop.clone(), timings.clone());
        let thread = thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let mut driver = connect(&url).await;
                while !stop_flag.load(Ordering::Relaxed) {
                    let next = rows + 1 + WRITTEN.fetch_add(1, Ordering::Relaxed);
                    let started = Instant::now();
                    driver
                        .execute(&format!(
                            "INSERT INTO stall_item (id, parent_id, code, qty) \
                             VALUES ({next}, 1, 'w{next}', 1)"
                        ))
                        .await
                        .unwrap();
                    log.lock().unwrap().push((started, started.elapsed()));
                    tokio::time::sleep(WRITE_EVERY).await;
                }
                driver.close().await.unwrap();
            });
        });
        Self {
            stop,
            timings,
            thread,
        }
    }

    /// Stops; the longest insert that overlapped `window` (the change running).
    fn stop(self, window: (Instant, Instant)) -> Duration {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap();
        let timings = self.timings.lock().unwrap();
        timings
            .iter()
            .filter(|(start, took)| *start <= window.1 && *start + *took >= window.0)
            .map(|(_, took)| *took)
            .max()
            .unwrap_or_default()
    }
}

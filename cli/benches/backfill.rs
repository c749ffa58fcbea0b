//! `cargo bench -p strata-cli --bench backfill`: how fast a `backfill` updates a big table,
//! against one `UPDATE` of the whole table (which holds every row's lock and one huge
//! transaction until it ends — what a backfill exists to avoid).
//!
//! On SQLite (a temporary file) and each server (STRATA_TEST_POSTGRES_URL,
//! STRATA_TEST_MYSQL_URL; skipped if unset): a table of STRATA_BACKFILL_ROWS rows
//! (default 1,000,000), `set = { n = "n + 1" }` through the `strata` binary
//! (`migrate --format json`, whose report gives the backfill's rows per second), for
//! batches of 1,000 and 10,000 rows without pause, then `UPDATE items SET n = n + 1`
//! on one connection. Prints a Markdown table.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

mod support;
use support::{connect, env_url, fresh_database};

const BATCH_SIZES: [u64; 2] = [1_000, 10_000];

fn main() {
    let rows: u64 = std::env::var("STRATA_BACKFILL_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let sqlite_dir = tempfile::tempdir().unwrap();
    let sqlite = format!(
        "sqlite://{}",
        sqlite_dir.path().join("bench.sqlite3").display()
    );
    println!("\n{rows} rows, `set = {{ n = \"n + 1\" }}`, no pause; rows per second:\n");
    println!(
        "| backend | backfill, batches of 1,000 | backfill, batches of 10,000 | one UPDATE of the table |"
    );
    println!("|---|---|---|---|");
    for (name, url) in [
        ("SQLite", Some(sqlite)),
        ("PostgreSQL", env_url("STRATA_TEST_POSTGRES_URL")),
        ("MariaDB/MySQL", env_url("STRATA_TEST_MYSQL_URL")),
    ] {
        match url {
            Some(url) => runtime.block_on(measure(name, &url, rows)),
            None => println!("| {name} | skipped (no server URL) | | |"),
        }
    }
}

async fn measure(name: &str, url: &str, rows: u64) {
    let (db_url, cleanup) = fresh_database(url).await;
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    write(
        dir,
        "strata.toml",
        &format!("[project]\napps = [\"jobs\"]\n\n[database]\nurl = {db_url:?}\n"),
    );
    write(
        dir,
        "apps/jobs/migrations/0001_items.toml",
        strata_testkit::rows::COUNTER_TABLE_MIGRATION,
    );
    strata(dir, &["migrate", "jobs", "0001"]);
    let mut driver = connect(&db_url).await;
    let dialect = driver.dialect();
    let fill = strata_testkit::rows::counter_rows(dialect.name(), "items", rows);
    driver.execute(&fill.insert).await.unwrap();
    if let Some(analyze) = &fill.analyze {
        driver.query(analyze).await.unwrap();
    }
    let name = format!("{name} {}", driver.version());

    let mut cells = Vec::new();
    for batch_size in BATCH_SIZES {
        write(
            dir,
            "apps/jobs/migrations/0002_count.toml",
            &format!(
                "dependencies = [\"jobs.0001_items\"]\n\n[[operations]]\nkind = \"backfill\"\ntable = \"items\"\nset = {{ n = \"n + 1\" }}\nbatch_size = {batch_size}\n"
            ),
        );
        let report: serde_json::Value =
            serde_json::from_str(&strata(dir, &["migrate", "--format", "json"])).unwrap();
        let totals = &report["steps"][0]["backfills"][0];
        assert_eq!(totals["rows"], rows, "{report}");
        cells.push(format!(
            "{:.0} ({:.1} s)",
            totals["rate"].as_f64().unwrap(),
            totals["seconds"].as_f64().unwrap()
        ));
        // Unapplied, the values stay: the next run adds one again.
        strata(dir, &["migrate", "jobs", "0001"]);
    }
    let started = Instant::now();
    driver.execute("UPDATE items SET n = n + 1").await.unwrap();
    let took = started.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let rate = rows as f64 / took;
    cells.push(format!("{rate:.0} ({took:.1} s)"));
    // Every row counted once per run: the two backfills and the UPDATE.
    let wrong = driver
        .query("SELECT count(*) FROM items WHERE n <> 3")
        .await
        .unwrap();
    assert_eq!(
        wrong[0][0].as_deref(),
        Some("0"),
        "{name}: rows missed or counted twice"
    );
    println!("| {name} | {} |", cells.join(" | "));
    driver.close().await.unwrap();
    if let Some((admin, drop)) = cleanup {
        let mut admin = connect(&admin).await;
        admin.execute(&drop).await.unwrap();
        admin.close().await.unwrap();
    }
}

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The `strata` binary of this build; its stdout. A failure stops the benchmark.
fn strata(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("STRATA_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "strata {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

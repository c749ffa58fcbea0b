//! A running backfill as `migrate` reports it without a terminal: with `--format json`,
//! JSON lines on stderr (at most one a second) and the totals in the step's record;
//! as text, a line on stderr every few seconds at most; nothing with `-q`.

use std::time::Instant;

use serde_json::Value;

use strata_testkit::rows::COUNTER_TABLE_MIGRATION;

use crate::backfill_kill::{config, count, fill};
use crate::common::db::{Kind, TestDb};
use crate::common::json_shape::assert_shape;
use crate::common::{project, strata};
use strata_testkit::for_each_backend;

const ROWS: u64 = 20_000;
const BATCH: u64 = 100;

/// 200 batches with 5 ms between them: a run of a second or more.
const COUNT: &str = r#"dependencies = ["jobs.0001_items"]

[[operations]]
kind = "backfill"
table = "items"
set = { n = "n + 1" }
batch_size = 100
pause = "5ms"
"#;

/// A database holding `items` with ROWS rows, the backfill pending.
fn ready(kind: Kind) -> Option<(TestDb, tempfile::TempDir)> {
    let db = TestDb::create(kind)?;
    let dir = project(&[
        ("strata.toml", &config(&db)),
        (
            "apps/jobs/migrations/0001_items.toml",
            COUNTER_TABLE_MIGRATION,
        ),
        ("apps/jobs/migrations/0002_count.toml", COUNT),
    ]);
    let out = strata(dir.path(), &["migrate", "jobs", "0001"]);
    assert_eq!(out.code, 0, "{kind:?}: {}", out.stderr);
    fill(&db, ROWS);
    Some((db, dir))
}

fn progress_lines(stderr: &str) -> Vec<Value> {
    stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == "backfill_progress")
        .collect()
}

fn json_progress_and_totals(kind: Kind) {
    let Some((db, dir)) = ready(kind) else {
        return;
    };
    let started = Instant::now();
    let out = strata(dir.path(), &["migrate", "--format", "json"]);
    let took = started.elapsed();
    assert_eq!(out.code, 0, "{kind:?}: {}", out.stderr);
    assert_eq!(count(&db, "SELECT count(*) FROM items WHERE n <> 1"), 0);

    let report = assert_shape("migrate", &out.stdout);
    let step = &report["steps"][0];
    assert_eq!(step["migration"], "jobs.0002_count", "{report}");
    let totals = &step["backfills"][0];
    assert_eq!(totals["operation"], 1, "{report}");
    assert_eq!(totals["table"], "items");
    assert_eq!(totals["rows"], ROWS, "{report}");
    assert_eq!(totals["rows_done"], ROWS);
    assert_eq!(totals["batches"], ROWS / BATCH, "{report}");
    let seconds = totals["seconds"].as_f64().unwrap();
    let rate = totals["rate"].as_f64().unwrap();
    assert!(seconds > 0.0 && seconds <= took.as_secs_f64(), "{report}");
    #[allow(clippy::cast_precision_loss)]
    let expected_rate = ROWS as f64 / seconds;
    assert!(
        (rate - expected_rate).abs() / expected_rate < 0.01,
        "{report}"
    );

    let lines = progress_lines(&out.stderr);
    assert!(
        !lines.is_empty(),
        "{kind:?}: no progress line: {}",
        out.stderr
    );
    // Throttled: at most one a second, never one per batch.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let at_most = took.as_secs_f64().ceil() as usize + 1;
    assert!(
        lines.len() <= at_most,
        "{kind:?}: {} lines in {took:?}: {}",
        lines.len(),
        out.stderr
    );
    let done: Vec<u64> = lines
        .iter()
        .map(|l| l["rows_done"].as_u64().unwrap())
        .collect();
    assert!(done.windows(2).all(|w| w[0] < w[1]), "{done:?}");
    assert!(done.iter().all(|&d| d > 0 && d <= ROWS), "{done:?}");
    for line in &lines {
        assert_eq!(line["migration"], "jobs.0002_count");
        assert_eq!(line["operation"], 1);
        assert_eq!(line["table"], "items");
        assert!(line["batches"].as_u64().unwrap() >= 1, "{line}");
    }
    // stdout holds the one document, nothing else.
    assert!(!out.stdout.contains("backfill_progress"));
}

for_each_backend!(backfill_progress_in_json, json_progress_and_totals);

#[test]
fn backfill_progress_as_text_without_a_terminal() {
    let Some((db, dir)) = ready(Kind::Sqlite) else {
        return;
    };
    let started = Instant::now();
    let out = strata(dir.path(), &["migrate"]);
    let took = started.elapsed();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(count(&db, "SELECT count(*) FROM items WHERE n <> 1"), 0);
    let lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("  jobs.0002_count: backfill items: "))
        .collect();
    assert!(!lines.is_empty(), "no progress line: {}", out.stderr);
    assert!(
        lines
            .iter()
            .all(|l| l.contains(" rows") && l.contains("rows/s")),
        "{lines:?}"
    );
    // One every 5 s at most.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let at_most = (took.as_secs_f64() / 5.0).ceil() as usize + 1;
    assert!(lines.len() <= at_most, "{} lines in {took:?}", lines.len());
    assert!(
        out.stdout.contains("Applying jobs.0002_count... OK"),
        "{}",
        out.stdout
    );
}

#[test]
fn backfill_progress_silenced_by_quiet() {
    let Some((db, dir)) = ready(Kind::Sqlite) else {
        return;
    };
    let out = strata(dir.path(), &["-q", "migrate", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(progress_lines(&out.stderr).is_empty(), "{}", out.stderr);
    // The document still says what the backfill did.
    let report = assert_shape("migrate", &out.stdout);
    assert_eq!(report["steps"][0]["backfills"][0]["rows"], ROWS, "{report}");
    // Rolled back (the values stay) and run again: nothing on stderr either.
    let out = strata(dir.path(), &["migrate", "jobs", "0001"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(count(&db, "SELECT count(*) FROM items WHERE n <> 1"), 0);
    let out = strata(dir.path(), &["-q", "migrate"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "", "quiet");
    assert_eq!(count(&db, "SELECT count(*) FROM items WHERE n <> 2"), 0);
}

/// The counter table, refusing `n = 1` past id 15,000: the batch that reaches it fails.
const CAPPED_ITEMS: &str = r#"[[operations]]
kind = "create_table"
name = "items"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint" }, { name = "n", type = "int" }]
checks = [{ name = "items_capped", expr = "n = 0 OR id <= 15000" }]
"#;

/// A backfill that stops part-way: the step is `partial`, and its record says what
/// the committed batches did.
fn stopped_backfill_totals(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = project(&[
        ("strata.toml", &config(&db)),
        ("apps/jobs/migrations/0001_items.toml", CAPPED_ITEMS),
        ("apps/jobs/migrations/0002_count.toml", COUNT),
    ]);
    let out = strata(dir.path(), &["migrate", "jobs", "0001"]);
    assert_eq!(out.code, 0, "{kind:?}: {}", out.stderr);
    fill(&db, ROWS);
    let out = strata(dir.path(), &["migrate", "--format", "json"]);
    assert_eq!(out.code, 6, "{kind:?}: {}", out.stderr);
    let report = assert_shape("migrate", &out.stdout);
    assert_eq!(report["outcome"], "failed", "{report}");
    let step = &report["steps"][0];
    assert_eq!(step["status"], "partial", "{report}");
    assert_eq!(step["backfills"][0]["rows"], 15_000, "{report}");
    assert_eq!(step["backfills"][0]["batches"], 15_000 / BATCH, "{report}");
    assert_eq!(count(&db, "SELECT count(*) FROM items WHERE n = 1"), 15_000);
}

for_each_backend!(backfill_stopped_in_json, stopped_backfill_totals);

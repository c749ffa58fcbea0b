//! The SIGKILL proof of `backfill`: a table of a million rows with a counter column
//! `n = 0`, a backfill `set = { n = "n + 1" }`, and `strata migrate` killed at random
//! moments while it walks the table, then run to the end. After every kill the rows
//! updated are exactly a prefix of the key order, each updated once, and the history's
//! cursor names the last of them (a batch commits with its checkpoint or not at all);
//! at the end every row has `n = 1` — no committed batch ran twice, none was skipped —
//! and the history says applied.
//!
//! The pace is set by the migration, not by the machine: 1,000 batches with a 20 ms
//! pause between them make a run from the start last 20 s or more, and each kill comes
//! 0.3 to 1.5 s after its run started, so every kill lands before the end.
//!
//! ```text
//! STRATA_BACKFILL_ROWS=1000000 STRATA_BACKFILL_KILLS=10 STRATA_KILL_SEED=8 \
//!     cargo test -p strata-cli --test suite backfill_kill -- --nocapture
//! ```

use std::time::{Duration, Instant};

use strata_engine::history::BackfillCursor;

use strata_testkit::rows::COUNTER_TABLE_MIGRATION;

use crate::common::db::{Kind, TestDb};
use crate::common::{project, spawn_migrate, strata};
use crate::kill::{env_number, Moments};
use strata_testkit::for_each_backend;

/// Batches per full run: the row count sets the batch size.
const BATCHES: u64 = 1000;

fn backfill(batch_size: u64) -> String {
    format!(
        r#"dependencies = ["jobs.0001_items"]

[[operations]]
kind = "backfill"
table = "items"
set = {{ n = "n + 1" }}
batch_size = {batch_size}
pause = "20ms"
"#
    )
}

pub(crate) fn config(db: &TestDb) -> String {
    format!(
        "[project]\napps = [\"jobs\"]\n\n[database]\nurl = {:?}\nlock_timeout = \"60s\"\n",
        db.url
    )
}

/// `rows` rows (ids 1..=rows) with `n = 0` in `items`, in one statement, and the
/// statistics the backfill's estimate reads.
pub(crate) fn fill(db: &TestDb, rows: u64) {
    let dialect = match db.kind {
        Kind::Sqlite => "sqlite",
        Kind::Postgres => "postgres",
        Kind::Mariadb => "mysql",
    };
    let fill = strata_testkit::rows::counter_rows(dialect, "items", rows);
    db.execute(&fill.insert);
    if let Some(analyze) = fill.analyze {
        db.query(&analyze);
    }
}

pub(crate) fn count(db: &TestDb, sql: &str) -> u64 {
    db.query(sql)[0][0]
        .as_deref()
        .unwrap_or("0")
        .parse()
        .unwrap()
}

/// The history's state of `jobs.<name>` (`None`: no row).
pub(crate) fn state(db: &TestDb, name: &str) -> Option<String> {
    if !db.table_names().contains(&"strata_migrations".to_string()) {
        return None;
    }
    db.query(&format!(
        "SELECT state FROM strata_migrations WHERE app = 'jobs' AND name = '{name}'"
    ))
    .into_iter()
    .next()
    .and_then(|row| row[0].clone())
}

/// What must hold whenever no strata runs: each row updated at most once, and the
/// updated rows a prefix of the key order (whole batches, in order).
fn broken_promises(db: &TestDb) -> Vec<String> {
    let mut broken = Vec::new();
    let twice = count(db, "SELECT count(*) FROM items WHERE n NOT IN (0, 1)");
    if twice > 0 {
        broken.push(format!("{twice} rows updated more than once"));
    }
    let gaps = count(
        db,
        "SELECT count(*) FROM items WHERE n = 1 AND id > (SELECT min(id) FROM items WHERE n = 0)",
    );
    if gaps > 0 {
        broken.push(format!(
            "{gaps} updated rows lie after a row not updated: not whole batches in key order"
        ));
    }
    // The checkpoint commits with its batch: it names the last key updated, and counts
    // the rows updated.
    let updated = count(db, "SELECT count(*) FROM items WHERE n = 1");
    let last = db.query("SELECT max(id) FROM items WHERE n = 1")[0][0].clone();
    let recorded = cursor(db);
    let expected = last.map(|key| BackfillCursor { key, rows: updated });
    if recorded != expected {
        broken.push(format!(
            "the history's cursor {recorded:?} does not match the rows updated ({expected:?})"
        ));
    }
    broken
}

/// The backfill's cursor in the history, when it recorded one (a partial row).
fn cursor(db: &TestDb) -> Option<BackfillCursor> {
    if !db.table_names().contains(&"strata_migrations".to_string()) {
        return None;
    }
    db.query(
        "SELECT backfill_cursor FROM strata_migrations WHERE app = 'jobs' AND name = '0002_count'",
    )
    .into_iter()
    .next()
    .and_then(|row| row[0].clone())
    .map(|text| {
        BackfillCursor::from_json(&text).unwrap_or_else(|| panic!("an unreadable cursor: {text}"))
    })
}

fn killed_at_random_moments(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let rows = env_number("STRATA_BACKFILL_ROWS", 1_000_000);
    let kills = env_number("STRATA_BACKFILL_KILLS", 10);
    let config = config(&db);
    let backfill = backfill((rows / BATCHES).max(1));
    let dir = project(&[
        ("strata.toml", &config),
        (
            "apps/jobs/migrations/0001_items.toml",
            COUNTER_TABLE_MIGRATION,
        ),
        ("apps/jobs/migrations/0002_count.toml", &backfill),
    ]);
    let started = Instant::now();
    let out = strata(dir.path(), &["migrate", "jobs", "0001"]);
    assert_eq!(out.code, 0, "{kind:?}: {}", out.stderr);
    fill(&db, rows);
    eprintln!("{kind:?}: {rows} rows in {:?}", started.elapsed());

    let mut moments = Moments(env_number("STRATA_KILL_SEED", 8) ^ kind as u64);
    let mut landed = 0;
    let mut updated = 0;
    let mut failures = Vec::new();
    for attempt in 1.. {
        if landed >= kills {
            break;
        }
        // A kill before the first batch committed does not count: give up only when
        // many did not land (the binary starting far slower than expected).
        assert!(
            attempt <= kills * 3,
            "{kind:?}: only {landed} of {attempt} kills came while the backfill ran"
        );
        let delay = Duration::from_millis(300)
            + Duration::from_millis(1200).mul_f64(moments.next_fraction());
        let mut child = spawn_migrate(dir.path());
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        // Let the server see the session end (and roll back its open batch).
        std::thread::sleep(Duration::from_millis(500));
        let at = format!("{kind:?} kill {attempt} after {delay:?}");
        assert_ne!(
            state(&db, "0002_count").as_deref(),
            Some("applied"),
            "{at}: the backfill finished before the kill: nothing was tested"
        );
        failures.extend(
            broken_promises(&db)
                .into_iter()
                .map(|b| format!("{at}: {b}")),
        );
        let now = count(&db, "SELECT count(*) FROM items WHERE n = 1");
        eprintln!("{at}: {now} of {rows} rows updated");
        if now > updated {
            landed += 1;
        }
        updated = now;
    }
    assert!(
        updated < rows,
        "{kind:?}: every row was updated before the last kill"
    );

    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(
        out.code, 0,
        "{kind:?}: the run after the kills: {}",
        out.stderr
    );
    let not_once = count(&db, "SELECT count(*) FROM items WHERE n <> 1");
    if not_once > 0 {
        failures.push(format!("{not_once} rows do not have n = 1 at the end"));
    }
    assert_eq!(count(&db, "SELECT count(*) FROM items"), rows);
    assert_eq!(
        state(&db, "0002_count").as_deref(),
        Some("applied"),
        "{kind:?}: the history after the last run"
    );
    eprintln!(
        "{kind:?}: {landed} kills during the backfill, {:?} in all",
        started.elapsed()
    );
    assert!(failures.is_empty(), "{kind:?}:\n{}", failures.join("\n"));
}

for_each_backend!(backfill_killed_at_random_moments, killed_at_random_moments);

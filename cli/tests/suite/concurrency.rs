//! Sixteen `strata migrate` processes at once on one database: all succeed, each
//! migration is applied exactly once (history rows, and the rows its `run_sql`
//! inserts), and no lock is left behind.
//!
//! `lock_timeout` stays at its default (60 s): the processes that lose the race wait
//! for the winner and then find nothing to do, so every one exits 0. A short timeout
//! would make the losers exit 5 instead, which says nothing about exactly-once.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::db::{Kind, TestDb};
use crate::common::spawn_migrate;
use crate::common::{copy_dir, strata};
use strata_testkit::for_each_backend;

const PROCESSES: usize = 16;

/// A third app whose migrations insert rows: a second application of any of them
/// shows as a duplicated `step`.
const TALLY: &str = r#"[[operations]]
kind = "create_table"
name = "tally"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }, { name = "step", type = "int" }]

[[operations]]
kind = "run_sql"
sql = "INSERT INTO tally (step) VALUES (1)"
reverse_sql = "DELETE FROM tally WHERE step = 1"
"#;

fn step(n: usize, atomic: bool) -> String {
    format!(
        "dependencies = [\"jobs.{:04}_step\"]\natomic = {atomic}\n\n[[operations]]\nkind = \"run_sql\"\nsql = \"INSERT INTO tally (step) VALUES ({n})\"\nreverse_sql = \"DELETE FROM tally WHERE step = {n}\"\n",
        n - 1
    )
}

fn sixteen_at_once(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/evolving"),
        dir.path(),
    );
    let migrations = dir.path().join("apps/jobs/migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    std::fs::write(migrations.join("0001_step.toml"), TALLY).unwrap();
    for n in 2..=4 {
        // One step-by-step migration among them.
        std::fs::write(
            migrations.join(format!("{n:04}_step.toml")),
            step(n, n != 3),
        )
        .unwrap();
    }
    let config = format!(
        "[project]\napps = [\"tracker\", \"auth\", \"jobs\"]\n\n[database]\nurl = {:?}\n",
        db.url
    );
    std::fs::write(dir.path().join("strata.toml"), config).unwrap();
    let total = 7 + 4;

    let children: Vec<_> = (0..PROCESSES).map(|_| spawn_migrate(dir.path())).collect();
    let mut applied_lines = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{kind:?}: a process failed:\n{stdout}\n{stderr}"
        );
        assert!(
            !stderr.to_lowercase().contains("error"),
            "{kind:?}: {stderr}"
        );
        applied_lines += stdout.matches("... OK").count();
    }
    assert_eq!(
        applied_lines, total,
        "{kind:?}: each migration applied by exactly one process"
    );
    let rows = db.query("SELECT app, name, state FROM strata_migrations");
    assert_eq!(rows.len(), total, "{kind:?}: {rows:?}");
    let distinct: std::collections::BTreeSet<_> = rows.iter().collect();
    assert_eq!(
        distinct.len(),
        total,
        "{kind:?}: duplicated history rows {rows:?}"
    );
    assert!(
        rows.iter().all(|r| r[2].as_deref() == Some("applied")),
        "{rows:?}"
    );
    let tally = db.query("SELECT step, count(*) FROM tally GROUP BY step ORDER BY step");
    let expected: Vec<Vec<Option<String>>> = (1..=4)
        .map(|n| vec![Some(n.to_string()), Some("1".into())])
        .collect();
    assert_eq!(tally, expected, "{kind:?}: each data statement ran once");

    // No lock left: one more run does not wait, and has nothing to do.
    let started = Instant::now();
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("No migrations to apply"),
        "{}",
        out.stdout
    );
    assert!(
        !out.stderr.contains("waiting for the migration lock"),
        "{}",
        out.stderr
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

for_each_backend!(sixteen_processes_apply_each_migration_once, sixteen_at_once);

//! Ctrl-C and SIGTERM during `migrate`, and the timeouts: the server stops the running
//! statement, the executor's failure path runs (rollback or checkpoint, lock
//! released), the exit code says which signal, and the next run finishes.

use std::net::TcpListener;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use crate::common::db::{block_on, Kind, TestDb};
use crate::common::{project, spawn_migrate, strata};
use crate::faults::{config, history, row, wait_until_sleeping, CONTROL, SLOW};
use strata_testkit::for_each_backend;

fn send(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal}");
}

/// Waits for `child`, killing it (and failing) after `limit`.
fn finish(mut child: Child, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running after {limit:?}:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (child.wait_with_output().unwrap(), started.elapsed())
}

/// Whether the server still runs the slow statement of `SLOW` (SQLite: no server).
fn server_runs_sleep(db: &TestDb) -> bool {
    let probe = match db.kind {
        Kind::Postgres => "SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND state = 'active' AND datname = current_database()",
        Kind::Mariadb => "SELECT 1 FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP%' AND db = DATABASE()",
        Kind::Sqlite => return false,
    };
    !db.query(probe).is_empty()
}

/// The server's own words for a statement cancelled on request.
fn cancelled_message(kind: Kind) -> &'static str {
    match kind {
        Kind::Postgres => "canceling statement due to user request",
        Kind::Mariadb => "Query execution was interrupted",
        Kind::Sqlite => "interrupted",
    }
}

fn interrupted_in_long_statement(kind: Kind, signal: &str, code: i32, name: &str) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let config = config(&db);
    let dir = project(&[
        ("strata.toml", &config),
        ("apps/jobs/migrations/0001_control.toml", CONTROL),
        ("apps/jobs/migrations/0002_slow.toml", SLOW),
    ]);
    assert_eq!(strata(dir.path(), &["migrate", "jobs", "0001"]).code, 0);
    db.execute("UPDATE control SET secs = 120");

    let child = spawn_migrate(dir.path());
    wait_until_sleeping(&db);
    send(&child, signal);
    let (out, took) = finish(child, Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Checked at once: the statement stopped because strata cancelled it, not because
    // the server later noticed a dead client.
    assert!(
        !server_runs_sleep(&db),
        "{kind:?}: the server still runs the statement"
    );
    assert_eq!(
        out.status.code(),
        Some(code),
        "{kind:?}: {stdout}\n{stderr}"
    );
    assert!(took < Duration::from_secs(20), "{kind:?}: took {took:?}");
    for expected in [
        &format!("interrupted by {name}") as &str,
        "the migration lock is released",
        "jobs.0002_slow",
        "operation 2 of 3",
        cancelled_message(kind),
    ] {
        assert!(
            stderr.contains(expected),
            "{kind:?}: no {expected:?} in\n{stderr}"
        );
    }
    assert!(
        stdout.contains("Applying jobs.0002_slow... FAILED"),
        "{stdout}"
    );
    let tables = db.table_names();
    if kind == Kind::Mariadb {
        // DDL commits by itself there: the first operation stays, checkpointed.
        assert!(
            stderr.contains("applied and checkpointed: 1 of 3"),
            "{stderr}"
        );
        assert_eq!(history(&db)[1], row("0002_slow", "partial", "1"));
        assert!(tables.contains(&"first".to_string()), "{tables:?}");
    } else {
        assert!(
            stderr.contains("nothing of it was applied (rolled back)"),
            "{stderr}"
        );
        assert_eq!(history(&db).len(), 1, "{:?}", history(&db));
        assert!(!tables.contains(&"first".to_string()), "{tables:?}");
    }

    // The lock is free (lock_timeout is 5 s) and the run completes.
    db.execute("UPDATE control SET secs = 0");
    let again = strata(dir.path(), &["migrate"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert_eq!(history(&db)[1], row("0002_slow", "applied", "3"));
    assert!(db.table_names().contains(&"third".to_string()));
}

fn sigint_in_long_statement(kind: Kind) {
    interrupted_in_long_statement(kind, "INT", 130, "SIGINT");
}

fn sigterm_in_long_statement(kind: Kind) {
    interrupted_in_long_statement(kind, "TERM", 143, "SIGTERM");
}

for_each_backend!(
    ctrl_c_cancels_the_running_statement_on_the_server,
    sigint_in_long_statement
);
for_each_backend!(
    sigterm_cancels_the_running_statement_on_the_server,
    sigterm_in_long_statement
);

/// A run waiting for the lock says so on stderr, names the holder, and on Ctrl-C
/// stops without running anything; the holder is not disturbed.
fn interrupted_while_waiting(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let config = config(&db).replace("lock_timeout = \"5s\"", "lock_timeout = \"60s\"");
    let dir = project(&[
        ("strata.toml", &config),
        ("apps/jobs/migrations/0001_control.toml", CONTROL),
        ("apps/jobs/migrations/0002_slow.toml", SLOW),
    ]);
    assert_eq!(strata(dir.path(), &["migrate", "jobs", "0001"]).code, 0);
    db.execute("UPDATE control SET secs = 60");
    let holder = spawn_migrate(dir.path());
    wait_until_sleeping(&db);
    let waiter = spawn_migrate(dir.path());
    std::thread::sleep(Duration::from_secs(2));
    assert!(holder_running(&holder), "{kind:?}: the holder ended early");
    send(&waiter, "INT");
    let (out, took) = finish(waiter, Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{kind:?}: {stderr}");
    assert!(took < Duration::from_secs(3), "{kind:?}: {took:?}");
    for expected in [
        "waiting for the migration lock",
        "interrupted by SIGINT",
        "waiting for the migration lock: nothing was applied",
    ] {
        assert!(
            stderr.contains(expected),
            "{kind:?}: no {expected:?} in\n{stderr}"
        );
    }
    // The holder was not disturbed: still in its statement, and stopped only when
    // asked itself.
    assert!(holder_running(&holder), "{kind:?}: the holder stopped too");
    send(&holder, "INT");
    let (out, _) = finish(holder, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(130), "{kind:?}");
    db.execute("UPDATE control SET secs = 0");
    let again = strata(dir.path(), &["migrate"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert_eq!(history(&db)[1], row("0002_slow", "applied", "3"));
}

fn holder_running(child: &Child) -> bool {
    // Not yet reaped, so an ended process shows as a zombie (`Z`) in its stat line.
    std::fs::read_to_string(format!("/proc/{}/stat", child.id())).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

for_each_backend!(
    ctrl_c_while_waiting_for_the_lock_applies_nothing,
    interrupted_while_waiting
);

/// `statement_timeout` stops a statement that runs too long; the usual failure path
/// follows, and nothing waits forever. SQLite has no server to stop a statement: its
/// limit bounds the wait for another writer's lock.
fn statement_timeout(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let config = format!("{}statement_timeout = \"1s\"\n", config(&db));
    let dir = project(&[
        ("strata.toml", &config),
        ("apps/jobs/migrations/0001_control.toml", CONTROL),
        ("apps/jobs/migrations/0002_slow.toml", SLOW),
    ]);
    assert_eq!(strata(dir.path(), &["migrate", "jobs", "0001"]).code, 0);
    db.execute("UPDATE control SET secs = 30");
    // SQLite: another connection holds the write lock for the whole run.
    let blocker = (kind == Kind::Sqlite).then(|| {
        let mut driver = block_on(db.connect());
        block_on(driver.execute("BEGIN IMMEDIATE")).unwrap();
        driver
    });
    let started = Instant::now();
    let out = strata(dir.path(), &["migrate"]);
    let took = started.elapsed();
    drop(blocker);
    assert!(took < Duration::from_secs(15), "{kind:?}: took {took:?}");
    let (code, words) = match kind {
        Kind::Postgres => (4, "canceling statement due to statement timeout"),
        Kind::Mariadb => (6, "max_statement_time"),
        Kind::Sqlite => (4, "database is locked"),
    };
    assert_eq!(out.code, code, "{kind:?}: {}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains(words), "{kind:?}: {}", out.stderr);
    assert!(out.stderr.contains("jobs.0002_slow"), "{}", out.stderr);
}

for_each_backend!(
    a_statement_timeout_stops_a_long_statement,
    statement_timeout
);

/// A server that accepts the TCP connection but never answers: strata says it is
/// still waiting, then gives up after `connect_timeout` with exit 4.
fn connect_timeout(scheme: &str) {
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let config = format!(
        "[project]\napps = [\"jobs\"]\n\n[database]\nurl = \"{scheme}://someone:s3cret@127.0.0.1:{port}/db\"\nconnect_timeout = \"4s\"\n"
    );
    let dir = project(&[("strata.toml", &config), ("apps/jobs/migrations/.keep", "")]);
    let started = Instant::now();
    let out = strata(dir.path(), &["migrate"]);
    let took = started.elapsed();
    assert_eq!(out.code, 4, "{scheme}: {}\n{}", out.stdout, out.stderr);
    assert!(
        took >= Duration::from_secs(4) && took < Duration::from_secs(9),
        "{took:?}"
    );
    for expected in [
        "still connecting to",
        "no answer within 4.0s",
        "connect_timeout",
        &format!("127.0.0.1:{port}"),
    ] {
        assert!(
            out.stderr.contains(expected),
            "{scheme}: no {expected:?} in {}",
            out.stderr
        );
    }
    assert!(!out.stderr.contains("s3cret"), "{}", out.stderr);
    drop(silent);
}

#[test]
fn a_silent_postgres_server_times_out() {
    connect_timeout("postgres");
}

#[test]
fn a_silent_mysql_server_times_out() {
    connect_timeout("mysql");
}

//! The migration lock on real SQLite files: two connections exclude each other, the
//! waiting one learns who holds it, and the lock dies with its holder.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use strata_engine::dialect::driver::{Driver, LockAttempt};
use strata_sqlite::SqliteDriver;

const LOCK: &str = "strata:strata_migrations";

/// The child process of `a_killed_holder_leaves_no_stale_lock` reads its database
/// from this variable.
const CHILD_URL: &str = "STRATA_SQLITE_LOCK_CHILD_URL";

/// What the child prints once it holds the lock (libtest may print its own text
/// before it on the same line).
const CHILD_LOCKED: &str = "strata-lock-child: locked";

fn temp_url() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("db.sqlite3").display());
    (dir, url)
}

fn holder(attempt: LockAttempt) -> String {
    match attempt {
        LockAttempt::Busy { holder } => holder.expect("the holder describes itself"),
        LockAttempt::Acquired => panic!("the lock is held elsewhere; expected Busy"),
    }
}

#[tokio::test]
async fn two_connections_exclude_each_other_until_unlock() {
    let (dir, url) = temp_url();
    let mut first = SqliteDriver::connect(&url).unwrap();
    let mut second = SqliteDriver::connect(&url).unwrap();
    assert_eq!(first.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
    let busy = holder(second.try_lock(LOCK).await.unwrap());
    assert!(
        busy.contains(&format!("(pid {})", std::process::id())) && busy.contains(LOCK),
        "{busy}"
    );
    assert!(
        busy.contains(" since 20") && busy.ends_with(" UTC"),
        "{busy}"
    );

    first.unlock(LOCK).await.unwrap();
    assert_eq!(second.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
    assert!(matches!(
        first.try_lock(LOCK).await.unwrap(),
        LockAttempt::Busy { .. }
    ));
    second.unlock(LOCK).await.unwrap();
    // The file stays: deleting it while locked would let two processes lock two files.
    assert!(dir.path().join("db.sqlite3.strata-lock").exists());
}

#[tokio::test]
async fn closing_or_dropping_the_holder_releases_the_lock() {
    let (_dir, url) = temp_url();
    let mut waiting = SqliteDriver::connect(&url).unwrap();

    let mut closed = SqliteDriver::connect(&url).unwrap();
    assert_eq!(closed.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
    assert!(matches!(
        waiting.try_lock(LOCK).await.unwrap(),
        LockAttempt::Busy { .. }
    ));
    Box::new(closed).close().await.unwrap();
    assert_eq!(waiting.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
    waiting.unlock(LOCK).await.unwrap();

    let mut dropped = SqliteDriver::connect(&url).unwrap();
    assert_eq!(dropped.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
    assert!(matches!(
        waiting.try_lock(LOCK).await.unwrap(),
        LockAttempt::Busy { .. }
    ));
    drop(dropped);
    assert_eq!(waiting.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
}

#[tokio::test]
async fn the_holder_may_take_it_again_and_releases_it_with_the_last_name() {
    let (_dir, url) = temp_url();
    let mut holder = SqliteDriver::connect(&url).unwrap();
    let mut other = SqliteDriver::connect(&url).unwrap();
    assert_eq!(holder.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
    assert_eq!(holder.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
    assert_eq!(
        holder.try_lock("strata:other").await.unwrap(),
        LockAttempt::Acquired
    );
    holder.unlock(LOCK).await.unwrap();
    assert!(matches!(
        other.try_lock(LOCK).await.unwrap(),
        LockAttempt::Busy { .. }
    ));
    holder.unlock("strata:other").await.unwrap();
    assert_eq!(other.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
    // Releasing what is not held is harmless.
    holder.unlock(LOCK).await.unwrap();
}

#[tokio::test]
async fn an_in_memory_database_is_always_acquired() {
    let mut a = SqliteDriver::connect("sqlite::memory:").unwrap();
    let mut b = SqliteDriver::connect("sqlite::memory:").unwrap();
    assert_eq!(a.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
    assert_eq!(b.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
    a.unlock(LOCK).await.unwrap();
}

#[tokio::test]
async fn other_writers_are_waited_for() {
    let (_dir, url) = temp_url();
    let mut driver = SqliteDriver::connect(&url).unwrap();
    let rows = driver.query("PRAGMA busy_timeout").await.unwrap();
    let millis = strata_sqlite::BUSY_TIMEOUT.as_millis().to_string();
    assert_eq!(rows, vec![vec![Some(millis)]]);
}

/// Kills the child when the test ends, also when it fails.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_killed_holder_leaves_no_stale_lock() {
    let (_dir, url) = temp_url();
    // This test binary again, running only `lock_holder_child_process` (named by its
    // path in the binary: the module path without the crate's name).
    let module = module_path!().split_once("::").map_or("", |(_, m)| m);
    let child_test = format!("{module}::lock_holder_child_process");
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            child_test.as_str(),
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_URL, &url)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the child");
    let mut child = KillOnDrop(child);
    let stdout = child.0.stdout.take().expect("piped stdout");
    let locked = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line.contains(CHILD_LOCKED));
    assert!(locked, "the child exited without taking the lock");

    let mut waiting = SqliteDriver::connect(&url).unwrap();
    let busy = holder(waiting.try_lock(LOCK).await.unwrap());
    assert!(busy.contains(&format!("(pid {})", child.0.id())), "{busy}");

    // SIGKILL: no destructor, no unlock; only the operating system cleans up.
    child.0.kill().expect("kill the child");
    child.0.wait().expect("reap the child");
    assert_eq!(waiting.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
}

/// Not a test on its own: the lock holder that `a_killed_holder_leaves_no_stale_lock`
/// starts in a child process (without the variable, it does nothing).
#[tokio::test]
async fn lock_holder_child_process() {
    let Ok(url) = std::env::var(CHILD_URL) else {
        return;
    };
    let mut driver = SqliteDriver::connect(&url).unwrap();
    assert_eq!(driver.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
    println!("{CHILD_LOCKED}");
    // Held until killed; the sleep only bounds a child whose parent died first.
    std::thread::sleep(std::time::Duration::from_secs(120));
}

//! The migration lock on a live server (`STRATA_TEST_POSTGRES_URL`): one holder at a
//! time, a description of the holder for whoever waits, and release on `unlock` or
//! when the holding connection ends.

use std::time::Duration;

use strata_engine::dialect::driver::{Driver, LockAttempt};
use strata_postgres::PostgresDriver;

use crate::common::{server_url, with_database, with_fresh_database};

const LOCK: &str = "strata:x";

async fn connect(url: &str) -> PostgresDriver {
    PostgresDriver::connect(url).await.expect("connect")
}

fn holder_of(attempt: LockAttempt) -> String {
    match attempt {
        LockAttempt::Busy {
            holder: Some(holder),
        } => holder,
        other => panic!("expected Busy with a holder, got {other:?}"),
    }
}

/// The backend pid of a connection, to recognise it in the holder description.
async fn pid(driver: &mut PostgresDriver) -> String {
    let rows = driver.query("SELECT pg_backend_pid()").await.unwrap();
    rows[0][0].clone().unwrap()
}

#[tokio::test]
async fn a_second_session_is_busy_until_unlock() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let mut first = connect(&url).await;
        let mut second = connect(&url).await;
        assert_eq!(first.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);

        let holder = holder_of(second.try_lock(LOCK).await.unwrap());
        let first_pid = pid(&mut first).await;
        assert!(
            holder.starts_with(&format!("pid {first_pid} (")),
            "{holder}"
        );
        // No application_name in the URL: the driver names its sessions `strata`.
        assert!(holder.contains("(strata, postgres@"), "{holder}");
        assert!(holder.contains("running since "), "{holder}");

        first.unlock(LOCK).await.unwrap();
        assert_eq!(second.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
        assert!(matches!(
            first.try_lock(LOCK).await.unwrap(),
            LockAttempt::Busy { .. }
        ));
        second.unlock(LOCK).await.unwrap();
    })
    .await;
}

/// Tries until the lock is acquired; the server frees a dead session's locks
/// asynchronously, a moment after its socket closes.
async fn acquire_within_a_second(driver: &mut PostgresDriver) -> LockAttempt {
    let mut attempt = driver.try_lock(LOCK).await.unwrap();
    for _ in 0..50 {
        if attempt == LockAttempt::Acquired {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        attempt = driver.try_lock(LOCK).await.unwrap();
    }
    attempt
}

#[tokio::test]
async fn the_lock_dies_with_the_connection_that_held_it() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let mut first = connect(&url).await;
        let mut second = connect(&url).await;
        assert_eq!(first.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
        assert!(matches!(
            second.try_lock(LOCK).await.unwrap(),
            LockAttempt::Busy { .. }
        ));
        // Closed without unlocking, as an exiting process would leave it.
        Box::new(first).close().await.unwrap();
        assert_eq!(
            acquire_within_a_second(&mut second).await,
            LockAttempt::Acquired
        );

        // Dropped without closing, and then a session killed on the server (a lost
        // network, a crashed host): neither leaves the lock behind.
        let mut third = connect(&url).await;
        drop(second);
        assert_eq!(
            acquire_within_a_second(&mut third).await,
            LockAttempt::Acquired
        );
        let third_pid = pid(&mut third).await;
        let mut fourth = connect(&url).await;
        fourth
            .execute(&format!("SELECT pg_terminate_backend({third_pid})"))
            .await
            .unwrap();
        assert_eq!(
            acquire_within_a_second(&mut fourth).await,
            LockAttempt::Acquired
        );
    })
    .await;
}

#[tokio::test]
async fn the_holder_keeps_the_application_name_of_its_url() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let separator = if url.contains('?') { '&' } else { '?' };
        let named = format!("{url}{separator}application_name=deployer");
        let mut first = connect(&named).await;
        let mut second = connect(&url).await;
        assert_eq!(first.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
        let holder = holder_of(second.try_lock(LOCK).await.unwrap());
        assert!(holder.contains("(deployer, "), "{holder}");
    })
    .await;
}

#[tokio::test]
async fn locks_of_different_names_or_databases_are_independent() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let mut first = connect(&url).await;
        let mut second = connect(&url).await;
        assert_eq!(first.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
        assert_eq!(
            second.try_lock("strata:other").await.unwrap(),
            LockAttempt::Acquired
        );
        // Advisory locks are per database: the same name elsewhere is free.
        let mut elsewhere = connect(&with_database(&url, "postgres")).await;
        assert_eq!(
            elsewhere.try_lock(LOCK).await.unwrap(),
            LockAttempt::Acquired
        );
        elsewhere.unlock(LOCK).await.unwrap();
    })
    .await;
}

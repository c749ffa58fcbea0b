//! The migration lock on a live server: exclusive between sessions, describing its
//! holder, and gone with the holder's session however that session ends.

use std::time::Duration;

use strata_engine::dialect::driver::{Driver, LockAttempt};
use strata_mysql::MysqlDriver;

use crate::common;

const LOCK: &str = "strata:strata_migrations";

/// `try_lock` until acquired, for at most a second: the server releases a dead
/// session's locks when it notices the session is gone, which takes a moment.
async fn acquires_soon(driver: &mut MysqlDriver) -> bool {
    for _ in 0..50 {
        if driver.try_lock(LOCK).await.unwrap() == LockAttempt::Acquired {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

async fn connection_id(driver: &mut MysqlDriver) -> String {
    driver.query("SELECT CONNECTION_ID()").await.unwrap()[0][0]
        .clone()
        .unwrap()
}

#[tokio::test]
async fn the_lock_is_exclusive_names_its_holder_and_frees_on_unlock() {
    let Some(server) = common::server_url() else {
        return;
    };
    common::in_fresh_database(&server, "strata_mysql_lock", |url| async move {
        let mut first = MysqlDriver::connect(&url).await.expect("connect");
        let mut second = MysqlDriver::connect(&url).await.expect("connect");
        assert_eq!(first.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
        let id = connection_id(&mut first).await;
        match second.try_lock(LOCK).await.unwrap() {
            LockAttempt::Busy { holder } => {
                let holder = holder.expect("the server names the holder");
                // The test user sees the process list: id, user, host, what the
                // holder is doing (nothing) and for how long.
                assert!(
                    holder.starts_with(&format!("connection {id} (")),
                    "{holder}"
                );
                assert!(
                    holder.contains('@') && holder.contains("Sleep for "),
                    "{holder}"
                );
            }
            LockAttempt::Acquired => panic!("two sessions hold the lock"),
        }
        assert!(
            second.unlock(LOCK).await.is_err(),
            "only the holder unlocks"
        );
        first.unlock(LOCK).await.unwrap();
        assert_eq!(second.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
        assert!(matches!(
            first.try_lock(LOCK).await.unwrap(),
            LockAttempt::Busy { .. }
        ));
        second.unlock(LOCK).await.unwrap();
        Box::new(first).close().await.unwrap();
        Box::new(second).close().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn the_lock_goes_with_a_closed_or_dropped_session() {
    let Some(server) = common::server_url() else {
        return;
    };
    common::in_fresh_database(&server, "strata_mysql_lock", |url| async move {
        let mut waiting = MysqlDriver::connect(&url).await.expect("connect");
        let mut holder = MysqlDriver::connect(&url).await.expect("connect");
        assert_eq!(holder.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
        Box::new(holder).close().await.unwrap();
        assert!(
            acquires_soon(&mut waiting).await,
            "free after the holder closed"
        );
        waiting.unlock(LOCK).await.unwrap();

        let mut holder = MysqlDriver::connect(&url).await.expect("connect");
        assert_eq!(holder.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
        drop(holder);
        assert!(
            acquires_soon(&mut waiting).await,
            "free after the holder was dropped"
        );
        Box::new(waiting).close().await.unwrap();
    })
    .await;
}

/// What a SIGKILLed `strata migrate` leaves: a session that ends without a word.
/// The server kills it here, which is how it ends a session whose client vanished.
#[tokio::test]
async fn the_lock_goes_with_a_killed_session() {
    let Some(server) = common::server_url() else {
        return;
    };
    common::in_fresh_database(&server, "strata_mysql_lock", |url| async move {
        let mut waiting = MysqlDriver::connect(&url).await.expect("connect");
        let mut holder = MysqlDriver::connect(&url).await.expect("connect");
        assert_eq!(holder.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
        let id = connection_id(&mut holder).await;
        waiting
            .execute(&format!("KILL CONNECTION {id}"))
            .await
            .unwrap();
        assert!(
            acquires_soon(&mut waiting).await,
            "free after the holder was killed"
        );
        drop(holder);
        Box::new(waiting).close().await.unwrap();
    })
    .await;
}

/// Locks are server-wide in MySQL; the driver scopes them to the database, so two
/// projects sharing a server never wait for each other.
#[tokio::test]
async fn locks_in_different_databases_do_not_meet() {
    let Some(server) = common::server_url() else {
        return;
    };
    common::in_fresh_database(&server, "strata_mysql_lock_a", |a| async move {
        let Some(server) = common::server_url() else {
            return;
        };
        common::in_fresh_database(&server, "strata_mysql_lock_b", |b| async move {
            let mut in_a = MysqlDriver::connect(&a).await.expect("connect");
            let mut in_b = MysqlDriver::connect(&b).await.expect("connect");
            assert_eq!(in_a.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
            assert_eq!(in_b.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
            in_a.unlock(LOCK).await.unwrap();
            in_b.unlock(LOCK).await.unwrap();
            Box::new(in_a).close().await.unwrap();
            Box::new(in_b).close().await.unwrap();
        })
        .await;
    })
    .await;
}

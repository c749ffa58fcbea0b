//! The rehearsal copy on a live server (`STRATA_TEST_MYSQL_URL`): each table made by
//! its `SHOW CREATE TABLE` (foreign keys in any order), the rows (or a sample) copied,
//! generated columns left to compute themselves; dropped afterwards. And the storage
//! id (InnoDB's `TABLE_ID`) a rebuild changes.

use strata_engine::dialect::driver::Driver;
use strata_engine::dialect::rehearsal::{copy_name, CopyMethod, Sample};
use strata_engine::dialect::Backend;
use strata_mysql::{MysqlBackend, MysqlDriver};

use crate::common::{in_fresh_database, server_url};

async fn scalar(driver: &mut MysqlDriver, sql: &str) -> Option<String> {
    let rows = driver
        .query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.into_iter()
        .next()
        .and_then(|r| r.into_iter().next().flatten())
}

async fn copy_and_check(url: &str, sample: Option<u64>, rows: &str) {
    let backend = MysqlBackend;
    let sample = sample.map(|rows| Sample {
        rows,
        history_table: "strata_migrations",
    });
    let copy = backend.rehearsal_copy(url, sample).await.expect("a copy");
    assert_eq!(copy.method, CopyMethod::Rows);
    assert!(copy.name.contains("_strata_rehearsal_"), "{}", copy.name);
    let mut on_copy = MysqlDriver::connect(&copy.url).await.unwrap();
    assert_eq!(
        scalar(&mut on_copy, "SELECT count(*) FROM parent")
            .await
            .as_deref(),
        Some(rows)
    );
    assert_eq!(
        scalar(&mut on_copy, "SELECT count(*) FROM child")
            .await
            .as_deref(),
        Some(rows)
    );
    assert_eq!(
        scalar(&mut on_copy, "SELECT twice FROM parent WHERE n = 2")
            .await
            .as_deref(),
        Some("4")
    );
    let found = format!(
        "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{}'",
        copy.name
    );
    backend
        .drop_rehearsal_copy(url, &copy)
        .await
        .expect("dropped");
    assert_eq!(
        scalar(&mut on_copy, &found).await,
        None,
        "{} left",
        copy.name
    );
    Box::new(on_copy).close().await.unwrap();
}

#[tokio::test]
async fn copies_tables_and_rows_and_drops_them() {
    let Some(server) = server_url() else { return };
    in_fresh_database(&server, "strata_my_rh", |url| async move {
        let mut source = MysqlDriver::connect(&url).await.unwrap();
        for sql in [
            "CREATE TABLE child (id int PRIMARY KEY, FOREIGN KEY (id) REFERENCES parent (id))",
            "CREATE TABLE parent (id int AUTO_INCREMENT PRIMARY KEY, n int, \
             twice int AS (n * 2) STORED)",
            "INSERT INTO parent (n) VALUES (1), (2), (3), (4), (5)",
            "INSERT INTO child (id) VALUES (1), (2), (3), (4), (5)",
        ] {
            if sql.starts_with("CREATE TABLE child") {
                source.execute("SET FOREIGN_KEY_CHECKS = 0").await.unwrap();
            }
            source
                .execute(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        source.execute("SET FOREIGN_KEY_CHECKS = 1").await.unwrap();
        Box::new(source).close().await.unwrap();
        copy_and_check(&url, None, "5").await;
        copy_and_check(&url, Some(2), "2").await;
    })
    .await;
}

#[tokio::test]
async fn the_storage_id_changes_with_a_rebuild_only() {
    let Some(server) = server_url() else { return };
    in_fresh_database(&server, "strata_my_rh", |url| async move {
        let mut driver = MysqlDriver::connect(&url).await.unwrap();
        driver.execute("CREATE TABLE t (a int)").await.unwrap();
        let first = driver.storage_id("t").await.unwrap().expect("an id");
        driver.execute("CREATE INDEX t_a ON t (a)").await.unwrap();
        assert_eq!(driver.storage_id("t").await.unwrap().as_ref(), Some(&first));
        driver
            .execute("ALTER TABLE t MODIFY a bigint, ALGORITHM=COPY")
            .await
            .unwrap();
        assert_ne!(driver.storage_id("t").await.unwrap().as_ref(), Some(&first));
        assert_eq!(driver.storage_id("missing").await.unwrap(), None);
        Box::new(driver).close().await.unwrap();
    })
    .await;
}

/// A database of the copy's name that a session uses is another strata's live copy
/// (the same process id on another host): refused, and left as it is, not dropped
/// as a stale one.
#[tokio::test]
async fn a_copy_name_in_use_is_not_dropped() {
    let Some(server) = server_url() else { return };
    in_fresh_database(&server, "strata_my_rh", |url| async move {
        let database = url.rsplit('/').next().unwrap().to_string();
        let name = copy_name(&database, 64);
        let mut other = MysqlDriver::connect(&url).await.unwrap();
        other
            .execute(&format!("CREATE DATABASE `{name}`"))
            .await
            .unwrap();
        other.execute(&format!("USE `{name}`")).await.unwrap();
        other.execute("CREATE TABLE live (a int)").await.unwrap();
        let made = MysqlBackend.rehearsal_copy(&url, None).await;
        let kept = scalar(
            &mut other,
            &format!(
                "SELECT count(*) FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = '{name}' AND TABLE_NAME = 'live'"
            ),
        )
        .await;
        other
            .execute(&format!("DROP DATABASE `{name}`"))
            .await
            .unwrap();
        Box::new(other).close().await.unwrap();
        assert!(made.is_err(), "{made:?}");
        assert_eq!(kept.as_deref(), Some("1"), "the live copy was dropped");
    })
    .await;
}

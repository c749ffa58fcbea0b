//! The rehearsal copy of a SQLite file: `VACUUM INTO` beside the original (also of a
//! live WAL database, whose last commit is still in the `-wal` file), the original
//! untouched; removed afterwards. And the storage id (`rootpage`) a rebuild changes.

use strata_engine::dialect::driver::Driver;
use strata_engine::dialect::rehearsal::CopyMethod;
use strata_engine::dialect::Backend;
use strata_sqlite::{SqliteBackend, SqliteDriver};

async fn scalar(driver: &mut SqliteDriver, sql: &str) -> Option<String> {
    let rows = driver
        .query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.into_iter()
        .next()
        .and_then(|r| r.into_iter().next().flatten())
}

#[tokio::test]
async fn a_wal_database_is_copied_beside_it_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("app.sqlite3").display());
    // Kept open: its last commit stays in the WAL file, not yet in the database.
    let mut live = SqliteDriver::connect(&url).unwrap();
    for sql in [
        "PRAGMA journal_mode = WAL",
        "PRAGMA wal_autocheckpoint = 0",
        "CREATE TABLE t (id integer PRIMARY KEY, v text)",
        "INSERT INTO t (v) VALUES ('a'), ('b'), ('c')",
    ] {
        let _ = live
            .query(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let backend = SqliteBackend;
    let copy = backend.rehearsal_copy(&url, None).await.expect("a copy");
    assert_eq!(copy.method, CopyMethod::File);
    let file = std::path::Path::new(&copy.name);
    assert_eq!(file.parent(), Some(dir.path()));
    assert!(copy.name.contains("app_strata_rehearsal_"), "{}", copy.name);
    let mut on_copy = SqliteDriver::connect(&copy.url).unwrap();
    assert_eq!(
        scalar(&mut on_copy, "SELECT count(*) FROM t")
            .await
            .as_deref(),
        Some("3")
    );
    on_copy.execute("DELETE FROM t").await.unwrap();
    Box::new(on_copy).close().await.unwrap();
    assert_eq!(
        scalar(&mut live, "SELECT count(*) FROM t").await.as_deref(),
        Some("3")
    );
    backend
        .drop_rehearsal_copy(&url, &copy)
        .await
        .expect("removed");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("_strata_rehearsal_"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    Box::new(live).close().await.unwrap();
}

#[tokio::test]
async fn the_storage_id_changes_with_a_rebuild_only() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("db.sqlite3").display());
    let mut driver = SqliteDriver::connect(&url).unwrap();
    driver.execute("CREATE TABLE t (a int)").await.unwrap();
    let first = driver.storage_id("t").await.unwrap().expect("an id");
    driver
        .execute("ALTER TABLE t ADD COLUMN b text")
        .await
        .unwrap();
    assert_eq!(driver.storage_id("t").await.unwrap().as_ref(), Some(&first));
    driver
        .execute("CREATE TABLE t_new (a bigint, b text)")
        .await
        .unwrap();
    driver
        .execute("INSERT INTO t_new SELECT a, b FROM t")
        .await
        .unwrap();
    driver.execute("DROP TABLE t").await.unwrap();
    driver
        .execute("ALTER TABLE t_new RENAME TO t")
        .await
        .unwrap();
    assert_ne!(driver.storage_id("t").await.unwrap().as_ref(), Some(&first));
    assert_eq!(driver.storage_id("missing").await.unwrap(), None);
    Box::new(driver).close().await.unwrap();
}

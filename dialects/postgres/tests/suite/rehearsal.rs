//! The rehearsal copy on a live server (`STRATA_TEST_POSTGRES_URL`): a template copy
//! when nobody else uses the source, else (and for a sample) the structure rebuilt and
//! the rows streamed, with the sequences resumed; dropped afterwards. And the storage
//! id a rewrite changes.

use strata_engine::dialect::driver::Driver;
use strata_engine::dialect::rehearsal::{CopyMethod, Sample};
use strata_engine::dialect::Backend;
use strata_postgres::{PostgresBackend, PostgresDriver};

use crate::common::{server_url, with_fresh_database};

async fn scalar(driver: &mut PostgresDriver, sql: &str) -> Option<String> {
    let rows = driver
        .query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.into_iter()
        .next()
        .and_then(|r| r.into_iter().next().flatten())
}

async fn exists(server: &str, name: &str) -> bool {
    let mut admin = PostgresDriver::connect(server).await.unwrap();
    let found = scalar(
        &mut admin,
        &format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
    )
    .await;
    Box::new(admin).close().await.unwrap();
    found.is_some()
}

/// Copies `url` (`sample` rows per table), checks the copy, drops it.
async fn copy_and_check(
    server: &str,
    url: &str,
    sample: Option<u64>,
    method: CopyMethod,
    rows: &str,
) {
    let backend = PostgresBackend;
    let sample = sample.map(|rows| Sample {
        rows,
        history_table: "strata_migrations",
    });
    let copy = backend.rehearsal_copy(url, sample).await.expect("a copy");
    assert_eq!(copy.method, method);
    assert!(copy.name.contains("_strata_rehearsal_"), "{}", copy.name);
    let mut on_copy = PostgresDriver::connect(&copy.url).await.unwrap();
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
    // The generated column computes itself; the sequence goes on after the rows.
    assert_eq!(
        scalar(&mut on_copy, "SELECT double FROM parent WHERE id = 2")
            .await
            .as_deref(),
        Some("4")
    );
    on_copy
        .execute("INSERT INTO parent (name) VALUES ('new')")
        .await
        .expect("the sequence resumed");
    Box::new(on_copy).close().await.unwrap();
    backend
        .drop_rehearsal_copy(url, &copy)
        .await
        .expect("dropped");
    assert!(!exists(server, &copy.name).await, "{} left", copy.name);
}

#[tokio::test]
async fn copies_by_template_else_by_rows_and_drops_them() {
    let Some(server) = server_url() else { return };
    let server_for_body = server.clone();
    with_fresh_database(&server, |url| async move {
        let server = server_for_body;
        let mut source = PostgresDriver::connect(&url).await.unwrap();
        for sql in [
            "CREATE TABLE parent (id serial PRIMARY KEY, name text NOT NULL, \
             double int GENERATED ALWAYS AS (id * 2) STORED)",
            "CREATE TABLE child (id int PRIMARY KEY REFERENCES parent (id))",
            "INSERT INTO parent (name) SELECT 'p' || g FROM generate_series(1, 10) AS g",
            "INSERT INTO child (id) SELECT g FROM generate_series(1, 10) AS g",
        ] {
            source
                .execute(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        Box::new(source).close().await.unwrap();
        copy_and_check(&server, &url, None, CopyMethod::Template, "10").await;
        copy_and_check(&server, &url, Some(3), CopyMethod::Rows, "3").await;
        // Another session on the source: no template copy, the rows instead.
        let busy = PostgresDriver::connect(&url).await.unwrap();
        copy_and_check(&server, &url, None, CopyMethod::Rows, "10").await;
        Box::new(busy).close().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn the_storage_id_changes_with_a_rewrite_only() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let mut driver = PostgresDriver::connect(&url).await.unwrap();
        driver.execute("CREATE TABLE t (a int)").await.unwrap();
        let first = driver.storage_id("t").await.unwrap().expect("an id");
        driver
            .execute("ALTER TABLE t ADD COLUMN b text")
            .await
            .unwrap();
        assert_eq!(driver.storage_id("t").await.unwrap().as_ref(), Some(&first));
        driver
            .execute("ALTER TABLE t ALTER COLUMN a TYPE bigint")
            .await
            .unwrap();
        assert_ne!(driver.storage_id("t").await.unwrap().as_ref(), Some(&first));
        assert_eq!(driver.storage_id("missing").await.unwrap(), None);
        Box::new(driver).close().await.unwrap();
    })
    .await;
}

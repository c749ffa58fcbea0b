//! Every corpus case, run on a fresh SQLite file: setup, operations, their inverses.

use strata_sqlite::SqliteDriver;
use strata_testkit as testkit;

#[tokio::test]
async fn every_corpus_case_runs_forward_and_back() {
    let cases = testkit::corpus();
    assert!(!cases.is_empty(), "the corpus is empty");
    for case in &cases {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(format!("{}.sqlite3", case.name));
        let mut driver =
            SqliteDriver::connect(&format!("sqlite://{}", path.display())).expect("connect");
        testkit::execute_case(&mut driver, case).await;
    }
}

/// `table_rows` counts exactly, quotes any name, and leaves out a missing table.
#[tokio::test]
async fn table_rows_counts_every_table_asked_for() {
    use strata_engine::dialect::driver::Driver;
    let mut driver = SqliteDriver::connect("sqlite::memory:").unwrap();
    driver
        .execute("CREATE TABLE \"or\"\"der\" (id integer)")
        .await
        .unwrap();
    driver
        .execute("CREATE TABLE empty (id integer)")
        .await
        .unwrap();
    driver
        .execute("INSERT INTO \"or\"\"der\" VALUES (1), (2), (3)")
        .await
        .unwrap();
    let tables = ["or\"der", "empty", "missing"].map(String::from);
    let rows = driver.table_rows(&tables).await.unwrap();
    assert_eq!(
        rows.into_iter().collect::<Vec<_>>(),
        vec![("empty".to_string(), 0), ("or\"der".to_string(), 3)]
    );
}

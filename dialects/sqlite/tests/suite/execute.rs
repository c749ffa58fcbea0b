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

//! Golden SQL of every corpus case on SQLite (snapshots in `tests/snapshots`).

use strata_engine::Dialect;
use strata_sqlite::SqliteDialect;
use strata_testkit as testkit;

#[test]
fn corpus_renders_as_in_the_snapshots() {
    let dialect = SqliteDialect;
    let cases = testkit::corpus();
    assert!(!cases.is_empty(), "the corpus is empty");
    for case in &cases {
        insta::assert_snapshot!(
            format!("sqlite__{}", case.name),
            testkit::golden(&dialect, dialect.minimum_version(), case)
        );
    }
}

//! Golden SQL of every corpus case on SQLite (snapshots in `tests/snapshots`).

use strata_engine::{testkit, Dialect};
use strata_sqlite::SqliteDialect;

#[test]
fn corpus_renders_as_in_the_snapshots() {
    let dialect = SqliteDialect;
    let cases = testkit::load_corpus(&testkit::corpus_dir(env!("CARGO_MANIFEST_DIR")));
    assert!(!cases.is_empty(), "the corpus is empty");
    for case in &cases {
        insta::assert_snapshot!(
            format!("sqlite__{}", case.name),
            testkit::golden(&dialect, dialect.minimum_version(), case)
        );
    }
}

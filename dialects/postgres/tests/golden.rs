//! Golden SQL: every corpus case rendered for PostgreSQL at its minimum version.

use strata_engine::testkit;
use strata_engine::Dialect;
use strata_postgres::PostgresDialect;

#[test]
fn corpus_renders_as_the_snapshots_say() {
    let dialect = PostgresDialect;
    let cases = testkit::load_corpus(&testkit::corpus_dir(env!("CARGO_MANIFEST_DIR")));
    assert!(!cases.is_empty(), "the corpus is empty");
    for case in &cases {
        let golden = testkit::golden(&dialect, dialect.minimum_version(), case);
        if testkit::expects_unsupported(&dialect, case) {
            assert!(
                golden.contains("-- error:"),
                "{}: expected an error:\n{golden}",
                case.name
            );
        }
        insta::assert_snapshot!(format!("postgres__{}", case.name), golden);
    }
}

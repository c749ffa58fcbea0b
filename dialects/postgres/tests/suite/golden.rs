//! Golden SQL: every corpus case rendered for PostgreSQL at its minimum version.

use strata_engine::Dialect;
use strata_postgres::PostgresDialect;
use strata_testkit as testkit;

#[test]
fn corpus_renders_as_the_snapshots_say() {
    let dialect = PostgresDialect;
    let cases = testkit::corpus();
    assert!(!cases.is_empty(), "the corpus is empty");
    for case in &cases {
        // A case this dialect must refuse (it lacks a capability the case requires)
        // shows the refusal, not SQL: `golden` asserts it.
        let golden = testkit::golden(&dialect, dialect.minimum_version(), case);
        insta::assert_snapshot!(format!("postgres__{}", case.name), golden);
    }
}

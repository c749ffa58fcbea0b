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

/// What needs a newer server than the minimum (`NULLS NOT DISTINCT`: PostgreSQL 15)
/// is also rendered for the first version that has it.
#[test]
fn newer_server_cases_render_on_the_version_that_has_them() {
    let dialect = PostgresDialect;
    let v15 = strata_engine::dialect::ServerVersion::new(15, 0, 0);
    let cases = testkit::corpus();
    let newer: Vec<_> = cases
        .iter()
        .filter(|c| c.requires.iter().any(|r| r == "nulls_not_distinct"))
        .collect();
    assert!(!newer.is_empty(), "no case needs PostgreSQL 15");
    for case in newer {
        let golden = testkit::golden(&dialect, v15, case);
        assert!(!golden.contains("Unsupported"), "{golden}");
        insta::assert_snapshot!(format!("postgres15__{}", case.name), golden);
    }
}

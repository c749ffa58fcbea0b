//! Golden SQL: every corpus case, rendered for both flavours at their minimum
//! versions (what `sqlmigrate --dialect mysql|mariadb` prints offline).

use strata_engine::Dialect;
use strata_mysql::MysqlDialect;
use strata_testkit as testkit;

#[test]
fn corpus_renders_as_the_snapshots_say() {
    let cases = testkit::corpus();
    assert!(!cases.is_empty(), "the corpus is empty");
    for dialect in [MysqlDialect::mysql(), MysqlDialect::mariadb()] {
        for case in &cases {
            // A case this dialect must refuse (it lacks a capability the case
            // requires) shows the refusal, not SQL: `golden` asserts it.
            let golden = testkit::golden(&dialect, dialect.minimum_version(), case);
            insta::assert_snapshot!(format!("{}__{}", dialect.name(), case.name), golden);
        }
    }
}

//! Golden SQL: every corpus case, rendered for both flavours at their minimum
//! versions (what `sqlmigrate --dialect mysql|mariadb` prints offline).

use strata_engine::testkit;
use strata_engine::Dialect;
use strata_mysql::MysqlDialect;

#[test]
fn corpus_renders_as_the_snapshots_say() {
    let cases = testkit::load_corpus(&testkit::corpus_dir(env!("CARGO_MANIFEST_DIR")));
    assert!(!cases.is_empty(), "the corpus is empty");
    for dialect in [MysqlDialect::mysql(), MysqlDialect::mariadb()] {
        for case in &cases {
            let golden = testkit::golden(&dialect, dialect.minimum_version(), case);
            // A case this dialect must refuse shows the refusal, not SQL.
            if testkit::expects_unsupported(&dialect, case) {
                assert!(
                    golden.contains("is not supported by"),
                    "{}: expected {} to refuse it:\n{golden}",
                    case.name,
                    dialect.name()
                );
            }
            insta::assert_snapshot!(format!("{}__{}", dialect.name(), case.name), golden);
        }
    }
}

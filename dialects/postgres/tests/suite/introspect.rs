//! Introspection agrees with rendering: for every corpus case, the schema the
//! rendered SQL leaves on a live server (`STRATA_TEST_POSTGRES_URL`) introspects to
//! the state the migrations say — after the setup, after the operations, and after
//! their inverse — as `drift::differences` compares them.

use strata_engine::ast::{DefaultValue, FkAction, Operation, TableDef};
use strata_engine::dialect::driver::Driver;
use strata_engine::script::{self, Direction};
use strata_engine::{drift, ColumnType, SchemaState};
use strata_postgres::PostgresDriver;
use strata_testkit::{self as testkit, CorpusCase};

use crate::common::{server_url, with_fresh_database};

#[tokio::test]
async fn every_corpus_case_introspects_as_its_state() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let cases = testkit::corpus();
        assert!(!cases.is_empty(), "the corpus is empty");
        let mut failures = Vec::new();
        for (i, case) in cases.iter().enumerate() {
            let mut driver = PostgresDriver::connect(&url).await.expect("connect");
            if testkit::expects_unsupported(driver.dialect().as_ref(), driver.version(), case) {
                continue;
            }
            // Each case in a schema of its own: introspection must read
            // `current_schema()`, not `public`.
            let schema = format!("case_{i:03}");
            for sql in [
                format!("CREATE SCHEMA {schema}"),
                format!("SET search_path TO {schema}"),
            ] {
                driver
                    .execute(&sql)
                    .await
                    .expect("create the case's schema");
            }
            if let Err(problem) = check_case(&mut driver, case).await {
                failures.push(format!(
                    "{}:\n  {}",
                    case.name,
                    problem.replace('\n', "\n  ")
                ));
            }
            driver
                .execute(&format!("DROP SCHEMA {schema} CASCADE"))
                .await
                .expect("drop the case's schema");
        }
        assert!(
            failures.is_empty(),
            "{} case(s) introspect differently from their state:\n\n{}",
            failures.len(),
            failures.join("\n\n")
        );
    })
    .await;
}

/// Setup, operations and their inverse, each followed by a comparison.
async fn check_case(driver: &mut PostgresDriver, case: &CorpusCase) -> Result<(), String> {
    let empty = SchemaState::new();
    let setup = run(driver, &empty, &case.setup, Direction::Forward, "setup").await?;
    compare(driver, &setup, "after the setup", false).await?;

    let after = run(
        driver,
        &setup,
        &case.operations,
        Direction::Forward,
        "operations",
    )
    .await?;
    // `run_sql` may add what no state knows of (case 091 creates an expression
    // index); everything the state has must still be there, exactly.
    let runs_sql = case
        .operations
        .iter()
        .any(|op| matches!(op, Operation::RunSql(_)));
    compare(driver, &after, "after the operations", runs_sql).await?;

    run(
        driver,
        &setup,
        &case.operations,
        Direction::Backward,
        "inverse",
    )
    .await?;
    compare(driver, &setup, "after the inverse of the operations", false).await
}

/// Renders `ops` from `state` and executes them; the state after them.
async fn run(
    driver: &mut PostgresDriver,
    state: &SchemaState,
    ops: &[Operation],
    direction: Direction,
    what: &str,
) -> Result<SchemaState, String> {
    let dialect = driver.dialect();
    let (script, after) = script::render(
        dialect.as_ref(),
        driver.version(),
        state,
        ops,
        true,
        direction,
    )
    .map_err(|e| format!("{what}: cannot render: {e}"))?;
    strata_testkit::run_case_script(&script, driver)
        .await
        .map_err(|e| format!("{what} failed: {e}\nscript:\n{script}"))?;
    Ok(match direction {
        Direction::Forward => after,
        Direction::Backward => state.clone(),
    })
}

/// Introspects and compares with `expected`. With `extras_allowed`, indexes the state
/// does not know of are tolerated, never missing or different ones.
async fn compare(
    driver: &mut PostgresDriver,
    expected: &SchemaState,
    when: &str,
    extras_allowed: bool,
) -> Result<(), String> {
    let live = driver
        .introspect()
        .await
        .map_err(|e| format!("{when}: introspection failed: {e}"))?;
    let dialect = driver.dialect();
    let mut differences =
        drift::differences(dialect.as_ref(), driver.version(), expected, &live, &[]);
    if extras_allowed {
        differences.retain(|d| !is_extra_index(d));
    }
    if differences.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{when}:\n{}\nlive schema: {live:#?}",
        differences.join("\n")
    ))
}

/// A difference that only says the live schema has one more index (a changed index
/// would also show as "expected …, not found", which is never tolerated).
fn is_extra_index(difference: &str) -> bool {
    difference.contains(": indexes: found ") && difference.ends_with(", not expected")
}

/// Tables strata did not write, as `hand_written_tables_introspect_as_documented`
/// creates them.
const HAND_WRITTEN: &str = r#"
CREATE SCHEMA other;
CREATE TABLE other.ref (id int PRIMARY KEY);
CREATE TABLE legacy (
  id serial PRIMARY KEY,
  code varchar NOT NULL,
  tags text[],
  total numeric(10,2) NOT NULL DEFAULT 0,
  doubled integer GENERATED ALWAYS AS (id * 2) STORED,
  note text DEFAULT E'line\nbreak',
  path text DEFAULT 'C:\temp',
  lowered text DEFAULT lower('ABC'),
  ident bigint GENERATED ALWAYS AS IDENTITY,
  ref_id int REFERENCES other.ref ON DELETE SET DEFAULT ON UPDATE RESTRICT,
  CONSTRAINT "legacy ""total"" positive" CHECK (total >= 0)
);
CREATE UNIQUE INDEX legacy_code_lower ON legacy (lower(code));
CREATE INDEX legacy_total_idx ON legacy (total DESC) INCLUDE (code) WHERE total > 0;
CREATE INDEX legacy_code_like ON legacy USING btree (code varchar_pattern_ops, total);
CREATE INDEX legacy_code_hash ON legacy USING hash (code);
CREATE UNIQUE INDEX legacy_total_nnd ON legacy (total) NULLS NOT DISTINCT;
CREATE TABLE measurement (at date NOT NULL, value real) PARTITION BY RANGE (at);
CREATE TABLE measurement_2024 PARTITION OF measurement
  FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE dup (x int);
INSERT INTO dup VALUES (1), (1);
"#;

/// The checks on `legacy` of [`HAND_WRITTEN`]: what each column, key and index reads
/// back as.
fn assert_legacy_reads_back(legacy: &TableDef) {
    assert_eq!(legacy.primary_key, ["id"]);
    let column = |name: &str| legacy.column(name).expect(name).clone();
    let id = column("id");
    assert!(
        id.auto && id.default.is_none() && id.ty == ColumnType::Int,
        "{id:?}"
    );
    assert!(column("ident").auto);
    assert_eq!(
        column("code").ty,
        ColumnType::Text,
        "varchar without a length"
    );
    assert_eq!(column("tags").ty, ColumnType::Text, "an array");
    assert!(column("tags").null);
    assert_eq!(column("total").default, Some(DefaultValue::Int(0)));
    assert_eq!(column("doubled").default, None, "a generation expression");
    let text = |s: &str| Some(DefaultValue::Text(s.into()));
    assert_eq!(column("note").default, text("line\nbreak"));
    assert_eq!(column("path").default, text(r"C:\temp"));
    assert_eq!(column("lowered").default, text("lower('ABC'::text)"));

    assert_eq!(legacy.checks.len(), 1);
    assert_eq!(legacy.checks[0].name, r#"legacy "total" positive"#);
    assert_eq!(legacy.checks[0].expr, "total >= 0");
    let fk = &legacy.foreign_keys[0];
    assert_eq!(fk.name, "legacy_ref_id_fkey");
    assert_eq!(fk.columns, ["ref_id"]);
    assert_eq!(
        fk.references, "other.ref",
        "qualified: it is not in this schema"
    );
    assert_eq!(fk.referenced_columns, ["id"]);
    assert_eq!(fk.on_delete, Some(FkAction::SetDefault));
    assert_eq!(fk.on_update, Some(FkAction::Restrict));

    let index = |name: &str| legacy.index(name).expect(name).clone();
    let lower = index("legacy_code_lower");
    assert!(lower.unique);
    assert!(lower.columns.is_empty());
    assert_eq!(
        lower.expressions,
        ["lower(code)"],
        "in the expression language"
    );
    let partial = index("legacy_total_idx");
    assert_eq!(
        partial.columns,
        ["total"],
        "INCLUDE columns are not key columns"
    );
    assert_eq!(partial.include, ["code"]);
    assert_eq!(partial.predicate.as_deref(), Some("total > 0"));
    let like = index("legacy_code_like");
    assert_eq!(like.columns, ["code", "total"]);
    assert_eq!(like.method, None, "btree is the default");
    assert_eq!(
        like.opclasses.into_iter().collect::<Vec<_>>(),
        [("code".to_string(), "varchar_pattern_ops".to_string())],
        "only the non-default operator class"
    );
    assert_eq!(
        index("legacy_code_hash").method,
        Some(strata_engine::ast::IndexMethod::Hash)
    );
    assert!(index("legacy_total_nnd").nulls_not_distinct);
    assert!(!index("legacy_code_lower").nulls_not_distinct);
    assert_eq!(
        legacy.indexes.len(),
        5,
        "the primary key's index is the key"
    );
}

/// Tables strata did not write: `serial`, types and defaults with no neutral
/// counterpart, expression and covering indexes, a foreign key into another schema,
/// partitions, and the invalid index a failed `CREATE INDEX CONCURRENTLY` leaves.
#[tokio::test]
async fn hand_written_tables_introspect_as_documented() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let mut driver = PostgresDriver::connect(&url).await.expect("connect");
        // The driver runs one statement per call.
        let statements = {
            let lexer = Driver::dialect(&driver).sql_lexer();
            script::split_statements(&*lexer, HAND_WRITTEN).expect("split")
        };
        for sql in statements {
            driver.execute(sql).await.expect("create the tables");
        }
        let failed = driver
            .execute("CREATE UNIQUE INDEX CONCURRENTLY dup_x_uniq ON dup (x)")
            .await;
        assert!(failed.is_err(), "duplicates must make the index fail");

        let live = driver.introspect().await.expect("introspect");
        let names: Vec<&str> = live.tables.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            ["dup", "legacy", "measurement"],
            "no partitions, no other schema"
        );
        assert!(
            live.tables["dup"].indexes.is_empty(),
            "the invalid index is left out"
        );
        assert_eq!(live.tables["measurement"].columns.len(), 2);

        assert_legacy_reads_back(&live.tables["legacy"]);

        // The same backslash, read with standard_conforming_strings off, where the
        // server doubles it inside plain literals.
        driver
            .execute("SET standard_conforming_strings = off")
            .await
            .unwrap();
        let again = driver.introspect().await.expect("introspect");
        assert_eq!(again, live);
    })
    .await;
}

//! The engine's side of lint with the conservative dialect (standard SQL, no
//! knowledge of a server): which operations are judged, and how settings and
//! `[[lint.allow]]` change the verdict. The per-dialect reports are the CLI's golden
//! tests.

use std::collections::BTreeMap;
use std::path::Path;

use super::*;
use crate::ast::ColumnDef;
use crate::dialect::{Capabilities, RenderContext, RenderError};

/// Standard SQL with transactional DDL: every `explain` is the conservative one.
struct Standard;

impl Dialect for Standard {
    fn name(&self) -> &'static str {
        "standard"
    }
    fn minimum_version(&self) -> ServerVersion {
        ServerVersion::new(1, 0, 0)
    }
    fn capabilities(&self, _: ServerVersion) -> Capabilities {
        Capabilities {
            transactional_ddl: true,
            ..Capabilities::BASELINE
        }
    }
    fn column_type(&self, column: &ColumnDef, _: &RenderContext) -> Result<String, RenderError> {
        Ok(column.ty.to_string())
    }
}

const TABLE: &str = r#"
[[operations]]
kind = "create_table"
name = "item"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint" }, { name = "qty", type = "int" }]
"#;

const CHANGES: &str = r#"
[[operations]]
kind = "create_index"
table = "item"
index = { name = "item_qty_idx", columns = ["qty"] }

[[operations]]
kind = "rename_column"
table = "item"
from = "qty"
to = "quantity"

[[operations]]
kind = "drop_table"
name = "item"
"#;

fn migration(text: &str) -> Migration {
    Migration::parse("app", Path::new("0002_x.toml"), text).unwrap()
}

fn lint(
    text: &str,
    before: &SchemaState,
    settings: &LintSettings,
    rows: Option<u64>,
) -> Vec<(String, usize, Severity)> {
    let counts: BTreeMap<String, u64> = rows.map(|n| ("item".to_string(), n)).into_iter().collect();
    let target = Target {
        dialect: &Standard,
        version: ServerVersion::new(1, 0, 0),
        rows: rows.map(|_| &counts),
    };
    let mode = Mode {
        atomic: true,
        safe: true,
    };
    lint_migration(&migration(text), before, mode, &target, settings)
        .unwrap()
        .into_iter()
        .map(|f| (f.rule.to_string(), f.operation, f.severity))
        .collect()
}

fn existing() -> SchemaState {
    let mut state = SchemaState::default();
    for op in &migration(TABLE).operations {
        state.apply(op).unwrap();
    }
    state
}

fn found(findings: &[(String, usize, Severity)]) -> Vec<&str> {
    findings.iter().map(|(rule, _, _)| rule.as_str()).collect()
}

#[test]
fn operations_on_a_table_the_migration_creates_find_nothing() {
    let text = format!("{TABLE}{CHANGES}");
    let findings = lint(
        &text,
        &SchemaState::default(),
        &LintSettings::default(),
        None,
    );
    assert_eq!(findings, Vec::new());
}

#[test]
fn the_same_operations_on_an_existing_table_are_findings() {
    let findings = lint(CHANGES, &existing(), &LintSettings::default(), None);
    assert_eq!(
        found(&findings),
        ["create-index-blocking", "rename-column", "drop-table"]
    );
}

#[test]
fn row_counts_and_settings_set_the_severity() {
    let defaults = LintSettings {
        small_table_rows: 10,
        large_table_rows: 100,
        ..LintSettings::default()
    };
    let index = |findings: Vec<(String, usize, Severity)>| {
        findings
            .into_iter()
            .find(|(rule, _, _)| rule == "create-index-blocking")
            .map(|(_, _, severity)| severity)
    };
    assert_eq!(
        index(lint(CHANGES, &existing(), &defaults, Some(9))),
        Some(Severity::Info)
    );
    assert_eq!(
        index(lint(CHANGES, &existing(), &defaults, Some(10))),
        Some(Severity::Warning)
    );
    assert_eq!(
        index(lint(CHANGES, &existing(), &defaults, Some(100))),
        Some(Severity::Error)
    );
    let warn = LintSettings {
        warn: vec!["create-index-blocking".into()],
        ..defaults.clone()
    };
    assert_eq!(
        index(lint(CHANGES, &existing(), &warn, Some(100))),
        Some(Severity::Warning)
    );
    let error = LintSettings {
        error: vec!["create-index-blocking".into()],
        ..defaults.clone()
    };
    assert_eq!(
        index(lint(CHANGES, &existing(), &error, Some(1))),
        Some(Severity::Error)
    );
    let allow = LintSettings {
        allow: vec!["create-index-blocking".into()],
        ..defaults
    };
    assert_eq!(index(lint(CHANGES, &existing(), &allow, Some(100))), None);
}

#[test]
fn a_migration_accepts_a_rule_for_one_operation_only() {
    let text = format!(
        "{CHANGES}\n[[lint.allow]]\noperation = 2\nrules = [\"rename-column\", \"drop-table\"]\nreason = \"two phases\"\n"
    );
    let findings = lint(&text, &existing(), &LintSettings::default(), None);
    // drop-table is operation 3: accepted for operation 2 only, it stays.
    assert_eq!(found(&findings), ["create-index-blocking", "drop-table"]);
}

#[test]
fn a_backfill_beside_other_operations_splits_an_atomic_migration() {
    let backfill = r#"
[[operations]]
kind = "backfill"
table = "item"
set = { qty = "qty + 1" }
"#;
    let alone = lint(backfill, &existing(), &LintSettings::default(), None);
    assert!(
        !found(&alone).contains(&"backfill-splits-migration"),
        "{alone:?}"
    );
    let add = r#"
[[operations]]
kind = "add_column"
table = "item"
column = { name = "note", type = "text", null = true }
"#;
    let mixed = lint(
        &format!("{add}{backfill}"),
        &existing(),
        &LintSettings::default(),
        None,
    );
    let finding = mixed
        .iter()
        .find(|(rule, _, _)| rule == "backfill-splits-migration")
        .unwrap_or_else(|| panic!("{mixed:?}"));
    assert_eq!((finding.1, finding.2), (2, Severity::Warning));
}

/// The two checks that read the schema as the migration changes it: a type change
/// judged against the column as an earlier operation of the same migration left it,
/// and a foreign key judged against the indexes of the final schema.
#[test]
fn checks_read_the_schema_each_operation_leaves() {
    // Back to the type it had before the migration: a narrowing only to a check that
    // sees the first change.
    let narrowed_after_widening = r#"
[[operations]]
kind = "alter_column"
table = "item"
column = "qty"
type = "bigint"

[[operations]]
kind = "alter_column"
table = "item"
column = "qty"
type = "int"
"#;
    let findings = lint(
        narrowed_after_widening,
        &existing(),
        &LintSettings::default(),
        None,
    );
    let narrowing: Vec<usize> = findings
        .iter()
        .filter(|(rule, _, _)| rule == "narrowing-type")
        .map(|(_, op, _)| *op)
        .collect();
    // int → bigint widens; bigint → int narrows.
    assert_eq!(narrowing, [2], "{findings:?}");

    let foreign_key = r#"
[[operations]]
kind = "add_column"
table = "item"
column = { name = "parent_id", type = "bigint", null = true }

[[operations]]
kind = "add_foreign_key"
table = "item"
foreign_key = { name = "item_parent_fk", columns = ["parent_id"], references = "item", referenced_columns = ["id"] }
"#;
    let unindexed = lint(foreign_key, &existing(), &LintSettings::default(), None);
    assert!(
        found(&unindexed).contains(&"foreign-key-without-index"),
        "{unindexed:?}"
    );
    let indexed_later = format!(
        "{foreign_key}\n[[operations]]\nkind = \"create_index\"\ntable = \"item\"\nindex = {{ name = \"item_parent_idx\", columns = [\"parent_id\"] }}\n"
    );
    let indexed = lint(&indexed_later, &existing(), &LintSettings::default(), None);
    assert!(
        !found(&indexed).contains(&"foreign-key-without-index"),
        "{indexed:?}"
    );
}

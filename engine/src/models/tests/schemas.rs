use std::collections::BTreeSet;

use super::workspace;
use crate::ast::*;
use crate::models::*;
use crate::types::ColumnType;

fn read_schema(name: &str) -> serde_json::Value {
    let path = workspace().join("schemas").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The keys under `properties` of a JSON Schema object.
fn keys(v: &serde_json::Value) -> BTreeSet<String> {
    v["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("no properties in {v}"))
        .keys()
        .cloned()
        .collect()
}

fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(ToString::to_string).collect()
}

/// A table with one of each part, every optional field set.
fn full_table() -> TableDef {
    TableDef {
        name: "t".into(),
        columns: vec![ColumnDef {
            name: "c".into(),
            ty: ColumnType::Int,
            null: true,
            default: Some(DefaultValue::Int(1)),
            auto: true,
        }],
        primary_key: vec!["c".into()],
        uniques: vec![UniqueDef {
            name: "u".into(),
            columns: vec!["c".into()],
        }],
        checks: vec![CheckDef {
            name: "k".into(),
            expr: "c > 0".into(),
        }],
        foreign_keys: vec![ForeignKeyDef {
            name: "f".into(),
            columns: vec!["c".into()],
            references: "t".into(),
            referenced_columns: vec!["c".into()],
            on_delete: Some(FkAction::Cascade),
            on_update: Some(FkAction::Cascade),
        }],
        indexes: vec![IndexDef {
            name: "i".into(),
            columns: vec!["c".into()],
            unique: true,
            predicate: Some("c > 0".into()),
        }],
    }
}

/// One operation of each kind, every field set, so serialization shows every key.
fn every_operation(table: &TableDef) -> Vec<Operation> {
    let (t, c, n) = ("t".to_string(), "c".to_string(), "n".to_string());
    vec![
        Operation::CreateTable(table.clone()),
        Operation::DropTable(DropTable { name: t.clone() }),
        Operation::RenameTable(RenameTable {
            from: t.clone(),
            to: n.clone(),
        }),
        Operation::AddColumn(AddColumn {
            table: t.clone(),
            column: table.columns[0].clone(),
        }),
        Operation::DropColumn(DropColumn {
            table: t.clone(),
            column: c.clone(),
        }),
        Operation::RenameColumn(RenameColumn {
            table: t.clone(),
            from: c.clone(),
            to: n.clone(),
        }),
        Operation::AlterColumn(AlterColumn {
            table: t.clone(),
            column: c.clone(),
            ty: Some(ColumnType::Int),
            null: Some(true),
            default: Some(DefaultValue::Int(1)),
            drop_default: true,
        }),
        Operation::CreateIndex(CreateIndex {
            table: t.clone(),
            index: table.indexes[0].clone(),
        }),
        Operation::DropIndex(DropIndex {
            table: t.clone(),
            name: n.clone(),
        }),
        Operation::RenameIndex(RenameIndex {
            table: t.clone(),
            from: c,
            to: n.clone(),
        }),
        Operation::AddForeignKey(AddForeignKey {
            table: t.clone(),
            foreign_key: table.foreign_keys[0].clone(),
        }),
        Operation::DropForeignKey(DropForeignKey {
            table: t.clone(),
            name: n.clone(),
        }),
        Operation::AddConstraint(AddConstraint {
            table: t.clone(),
            constraint: Constraint::Check {
                name: n.clone(),
                expr: "1 = 1".into(),
            },
        }),
        Operation::DropConstraint(DropConstraint { table: t, name: n }),
        Operation::RunSql(RunSql {
            sql: SqlText::All("SELECT 1".into()),
            reverse_sql: Some(SqlText::All("SELECT 1".into())),
        }),
    ]
}

/// No JSON Schema validator is available offline, so this checks the schemas'
/// structure against the code: every operation kind with exactly its fields, and
/// every models.toml key.
#[test]
fn json_schemas_cover_every_key_and_operation() {
    let models = read_schema("models.schema.json");
    assert_eq!(
        models["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let defs = &models["$defs"];
    assert_eq!(keys(&defs["model"]), set(MODEL_KEYS));
    assert_eq!(keys(&defs["field_table"]), set(FIELD_KEYS));
    assert_eq!(keys(&defs["index_table"]), set(INDEX_KEYS));
    assert_eq!(keys(&defs["unique_table"]), set(UNIQUE_KEYS));

    let migration = read_schema("migration.schema.json");
    assert_eq!(
        migration["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(
        keys(&migration),
        set(&["dependencies", "atomic", "operations"])
    );
    let table = full_table();
    let every_operation = every_operation(&table);
    let operation_defs = &migration["$defs"];
    let branches = migration["$defs"]["operation"]["oneOf"].as_array().unwrap();
    assert_eq!(branches.len(), every_operation.len());
    for op in &every_operation {
        let json = serde_json::to_value(op).unwrap();
        let written: BTreeSet<String> = json.as_object().unwrap().keys().cloned().collect();
        let branch = branches
            .iter()
            .map(|b| {
                let name = b["$ref"].as_str().unwrap().trim_start_matches("#/$defs/");
                &operation_defs[name]
            })
            .find(|d| d["properties"]["kind"]["const"] == op.kind())
            .unwrap_or_else(|| panic!("no schema for kind {}", op.kind()));
        assert_eq!(keys(branch), written, "{}", op.kind());
    }
    // The parts operations share: every key the AST writes is described.
    let described = |def: &str, value: serde_json::Value| {
        let written: BTreeSet<String> = value.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys(&operation_defs[def]), written, "{def}");
    };
    described("column", serde_json::to_value(&table.columns[0]).unwrap());
    described(
        "foreign_key",
        serde_json::to_value(&table.foreign_keys[0]).unwrap(),
    );
    described("index", serde_json::to_value(&table.indexes[0]).unwrap());
    described("unique", serde_json::to_value(&table.uniques[0]).unwrap());
    described("check", serde_json::to_value(&table.checks[0]).unwrap());
}

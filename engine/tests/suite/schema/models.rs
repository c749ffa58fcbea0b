//! `schemas/models.schema.json`: written by hand (models.toml is parsed by hand, to
//! keep positions), checked against the parser's own lists in both directions.

use std::collections::BTreeSet;

use serde_json::Value;
use strata_engine::migration;
use strata_engine::models::{CHECK_KEYS, FIELD_KEYS, INDEX_KEYS, MODEL_KEYS, UNIQUE_KEYS};
use strata_engine::ColumnType;

use super::{read_schema, refusals, toml_as_json, toml_files, validator};

fn property_names(def: &Value) -> BTreeSet<&str> {
    def["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("no properties in {def}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn strings(list: &Value) -> BTreeSet<&str> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|v| v.as_str().unwrap_or_else(|| panic!("not a string: {v}")))
        .collect()
}

#[test]
fn models_schema_keys_are_the_parsers_keys() {
    let schema = read_schema("models.schema.json");
    let defs = &schema["$defs"];
    for (def, parser) in [
        ("model", MODEL_KEYS),
        ("field_table", FIELD_KEYS),
        ("index_table", INDEX_KEYS),
        ("unique_table", UNIQUE_KEYS),
        ("check_table", CHECK_KEYS),
    ] {
        let parser: BTreeSet<&str> = parser.iter().copied().collect();
        assert_eq!(
            property_names(&defs[def]),
            parser,
            "models.schema.json `$defs/{def}` must name exactly the keys the parser reads"
        );
    }
}

/// The types an editor offers are the neutral types (with `?` where that reads well),
/// and the pattern is the one the migration schema derives from the parser, plus the
/// trailing `?` of models.toml.
#[test]
fn models_schema_types_are_the_neutral_types() {
    let schema = read_schema("models.schema.json");
    let type_name = &schema["$defs"]["type_name"]["anyOf"];
    let migration = migration::json_schema();
    let neutral = &migration["$defs"]["ColumnType"]["anyOf"];

    let offered = strings(&type_name[0]["enum"]);
    let mut expected = strings(&neutral[0]["enum"]);
    let nullable: Vec<String> = ColumnType::NAMES
        .iter()
        .filter(|n| !n.contains('('))
        .map(|n| format!("{n}?"))
        .collect();
    expected.extend(nullable.iter().map(String::as_str));
    assert_eq!(
        offered, expected,
        "models.schema.json `$defs/type_name` must offer exactly the neutral types"
    );

    let spelling = neutral[1]["pattern"].as_str().unwrap();
    let wanted = format!(
        r"{}\s*\??\s*$",
        spelling
            .strip_suffix(r"\s*$")
            .expect("the type pattern ends in whitespace")
    );
    assert_eq!(
        type_name[1]["pattern"].as_str(),
        Some(wanted.as_str()),
        "models.schema.json `$defs/type_name` must spell types as the parser does; its \
         pattern should be\n{}",
        Value::String(wanted.clone())
    );
}

/// `on_delete`/`on_update` and the neutral defaults mean the same in both files.
#[test]
fn models_schema_actions_and_expressions_are_the_migrations() {
    let models = read_schema("models.schema.json");
    let migration = migration::json_schema();
    assert_eq!(
        strings(&models["$defs"]["action"]["enum"]),
        strings(&migration["$defs"]["FkAction"]["enum"]),
        "models.schema.json `$defs/action`"
    );
    let expressions: BTreeSet<&str> = migration["$defs"]["DefaultExpr"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["const"].as_str().unwrap())
        .collect();
    let models_default = models["$defs"]["default"]["anyOf"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|choice| choice.get("enum"))
        .expect("models.schema.json `$defs/default` lists the neutral expressions");
    assert_eq!(
        strings(models_default),
        expressions,
        "models.schema.json `$defs/default`"
    );
}

/// Every models.toml in `testdata/` validates; the broken files whose mistake is one
/// of shape (a key, a type, an action) do not.
#[test]
fn models_schema_accepts_the_examples_and_refuses_misshapen_models() {
    let validator = validator(&read_schema("models.schema.json"));
    let testdata = strata_testkit::testdata_dir();
    let examples: Vec<_> = toml_files(&testdata)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "models.toml"))
        .collect();
    assert!(examples.len() >= 2, "{examples:?}");
    for path in examples {
        let text = std::fs::read_to_string(&path).unwrap();
        let why = refusals(&validator, &toml_as_json(&path, &text));
        assert!(why.is_empty(), "{}: {why:#?}", path.display());
    }
    for name in [
        "unknown_model_key",
        "unknown_field_key",
        "unknown_type",
        "type_arguments",
        "field_not_a_type",
        "model_not_a_table",
        "type_on_foreign_key",
        "action_without_references",
        "bad_action",
        "unique_flat_list",
    ] {
        let path = testdata.join("bad_models").join(format!("{name}.toml"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !validator.is_valid(&toml_as_json(&path, &text)),
            "{}: the schema accepts it",
            path.display()
        );
    }
}

//! The JSON Schemas in `schemas/` that editors use (through `.taplo.toml`) against the
//! code: `migration.schema.json` is derived from the AST and must be the committed
//! file; `models.schema.json` is written by hand and must name exactly the parser's
//! keys and types; `strata.schema.json`, by hand too, exactly the settings' keys.
//! Each is checked with a real validator on the files in `testdata/`.

mod migration;
mod models;
mod strata;

use std::path::{Path, PathBuf};

use serde_json::Value;

fn schemas_dir() -> PathBuf {
    strata_testkit::testdata_dir()
        .parent()
        .expect("testdata is in the workspace")
        .join("schemas")
}

fn read_schema(name: &str) -> Value {
    let path = schemas_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A compiled schema, which must itself be a valid draft 2020-12 schema.
struct Validator {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Validator {
    fn is_valid(&self, value: &Value) -> bool {
        self.schemas.validate(value, self.index).is_ok()
    }
}

fn validator(schema: &Value) -> Validator {
    assert_eq!(
        schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
        "the schemas are draft 2020-12, which Taplo and VS Code read"
    );
    // boon checks the schema against its draft's meta-schema as it compiles it.
    let url = "file:///strata/schema.json";
    let mut compiler = boon::Compiler::new();
    let mut schemas = boon::Schemas::new();
    compiler.add_resource(url, schema.clone()).unwrap();
    let index = compiler
        .compile(url, &mut schemas)
        .unwrap_or_else(|e| panic!("not a valid JSON Schema: {e:#}"));
    Validator { schemas, index }
}

/// Why `validator` refuses `value` (every nested reason); empty when it is valid.
fn refusals(validator: &Validator, value: &Value) -> Vec<String> {
    match validator.schemas.validate(value, validator.index) {
        Ok(()) => Vec::new(),
        Err(e) => vec![e.to_string()],
    }
}

/// A TOML document as the JSON an editor's schema check sees.
fn toml_as_json(path: &Path, text: &str) -> Value {
    let value: toml::Value =
        toml::from_str(text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    datetimes_as_strings(serde_json::to_value(value).unwrap())
}

/// A TOML date or time (`default = 2024-01-01`) as the string editors validate it as
/// (Taplo gives dates and times to JSON Schema as strings), not serde's private
/// `{"$__toml_private_datetime": …}` wrapper.
fn datetimes_as_strings(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            if let (1, Some(Value::String(text))) = (map.len(), map.get("$__toml_private_datetime"))
            {
                return Value::String(text.clone());
            }
            Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, datetimes_as_strings(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(datetimes_as_strings).collect()),
        other => other,
    }
}

/// Every `.toml` file under `dir`, recursively, sorted.
fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|x| x == "toml") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

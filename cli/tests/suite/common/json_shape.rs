//! The documented shapes of `--format json`: each command's output is checked against
//! its JSON Schema in `schemas/output/`, the file the documentation points users to.

use std::path::PathBuf;

use serde_json::Value;

fn output_schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the cli crate is in the workspace")
        .join("schemas/output")
}

/// Parses `stdout` as JSON and asserts that it matches `schemas/output/<name>.schema.json`
/// (a draft 2020-12 schema, itself checked against the meta-schema); returns the value
/// for further assertions.
pub(crate) fn assert_shape(name: &str, text: &str) -> Value {
    let value: Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{text}"));
    let path = output_schemas_dir().join(format!("{name}.schema.json"));
    let schema_text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: Value =
        serde_json::from_str(&schema_text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let url = format!("file://{}", path.display());
    let mut compiler = boon::Compiler::new();
    let mut schemas = boon::Schemas::new();
    compiler.add_resource(&url, schema).unwrap();
    let index = compiler
        .compile(&url, &mut schemas)
        .unwrap_or_else(|e| panic!("{}: not a valid JSON Schema: {e:#}", path.display()));
    if let Err(e) = schemas.validate(&value, index) {
        panic!("output does not match {}: {e:#}\n{text}", path.display());
    }
    value
}

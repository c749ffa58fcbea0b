//! Tests of models.toml: reading (`read`), mistakes (`bad_input`) and writing
//! (`write`). The published JSON Schema is checked against the parser in the
//! integration tests (`tests/suite/schema/models.rs`), which have a validator.

mod bad_input;
mod read;
mod write;

use std::path::{Path, PathBuf};

use super::*;
use crate::ast::TableDef;

pub(super) fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Resolves `(app, text)` pairs as one project.
pub(super) fn models(apps: &[(&str, &str)]) -> Result<Models, ModelsError> {
    let parsed: Vec<AppModels> = apps
        .iter()
        .map(|(app, text)| parse_app(app, Path::new(&format!("apps/{app}/models.toml")), text))
        .collect::<Result<_, _>>()?;
    resolve(&parsed)
}

pub(super) fn table<'a>(m: &'a Models, name: &str) -> &'a TableDef {
    m.state
        .tables
        .get(name)
        .unwrap_or_else(|| panic!("no table {name} in {:?}", m.state.tables.keys()))
}

pub(super) const AUTH: &str = r#"
[User]
fields.username = { type = "varchar(150)", unique = true }
"#;

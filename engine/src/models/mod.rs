//! `models.toml` → the desired [`SchemaState`] (what `makemigrations` diffs against),
//! and back (what `inspectdb` writes).
//!
//! Three steps, one module each:
//! - `parse`: one app's text → declarations that keep their source positions;
//! - [`resolve`]: every app's declarations → tables, once all apps are known (a
//!   foreign key may point into another app and takes its type from there), then
//!   validated by applying them to an empty state;
//! - [`write`]: tables → a readable `models.toml`, the inverse of the two above.
//!
//! Every mistake is a [`ModelsError`] placed at a line and column of the file.

mod parse;
mod resolve;
pub(crate) mod source;
pub(crate) mod suggest;
mod write;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::migration::FileError;
use crate::project::Project;
use crate::state::SchemaState;

pub use parse::CHECK_KEYS;
pub use parse::{FIELD_KEYS, INDEX_KEYS, MODEL_KEYS, UNIQUE_KEYS};
pub use write::{model_name, write_app, write_app_naming};

/// A `models.toml` that could not be read or understood. The same type as a broken
/// migration file's error, so the CLI reports both alike: `FileError::Syntax` carries
/// path, line, column, message and the offending source line.
pub type ModelsError = FileError;

/// The schema every app's `models.toml` describes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Models {
    pub state: SchemaState,
    /// The app that declares each table.
    pub owners: BTreeMap<String, String>,
    /// For every app, the other apps its foreign keys point into (empty when none):
    /// a migration of the app must depend on those apps' latest migrations.
    pub app_dependencies: BTreeMap<String, BTreeSet<String>>,
    /// The model behind each table, for messages and for command-line arguments
    /// that name models and fields (`app.Model.field`).
    pub declared: BTreeMap<String, ModelInfo>,
}

/// How a table is declared: its model and the field of each column.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModelInfo {
    pub app: String,
    pub model: String,
    /// `(field, column)` in column order, the implicit `id` included.
    pub fields: Vec<(String, String)>,
}

impl Models {
    /// The table of model `app.model`.
    pub fn table_of(&self, app: &str, model: &str) -> Option<String> {
        self.declared
            .iter()
            .find(|(_, m)| m.app == app && m.model == model)
            .map(|(table, _)| table.clone())
    }

    /// The column of `field` in `table`'s model.
    pub fn column_of(&self, table: &str, field: &str) -> Option<String> {
        let info = self.declared.get(table)?;
        info.fields
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, c)| c.clone())
    }

    /// `app.Model` for a declared table, else the table's name.
    pub fn table_label(&self, table: &str) -> String {
        match self.declared.get(table) {
            Some(m) => format!("{}.{}", m.app, m.model),
            None => table.to_string(),
        }
    }

    /// `app.Model.field` for a declared column; a column the model no longer has
    /// keeps its column name (`app.Model.column`); an unknown table, `table.column`.
    pub fn column_label(&self, table: &str, column: &str) -> String {
        let Some(m) = self.declared.get(table) else {
            return format!("{table}.{column}");
        };
        let field = m
            .fields
            .iter()
            .find(|(_, c)| c == column)
            .map_or(column, |(f, _)| f.as_str());
        format!("{}.{}.{field}", m.app, m.model)
    }
}

/// One app's `models.toml`, parsed but not yet resolved against the other apps.
#[derive(Debug, Clone)]
pub struct AppModels {
    pub app: String,
    pub path: PathBuf,
    text: String,
    models: Vec<parse::ModelDecl>,
}

impl AppModels {
    /// The model names, in file order.
    pub fn model_names(&self) -> impl Iterator<Item = &str> {
        self.models.iter().map(|m| m.name.as_str())
    }
}

/// Parses one app's `models.toml` (`path` is only used in error messages).
pub fn parse_app(app: &str, path: &Path, text: &str) -> Result<AppModels, ModelsError> {
    let source = source::Source::new(path, text);
    let models = parse::parse(&source)?;
    Ok(AppModels {
        app: app.to_string(),
        path: path.to_path_buf(),
        text: text.to_string(),
        models,
    })
}

/// Builds the schema of `apps`, parsed with [`parse_app`]. Every app a `references`
/// may name must be among them (an app without models is an empty [`AppModels`]).
pub fn resolve(apps: &[AppModels]) -> Result<Models, ModelsError> {
    resolve::resolve(apps)
}

/// Reads every app's `models.toml`; an app without one has no models.
pub fn load(project: &Project) -> Result<Models, ModelsError> {
    let mut apps = Vec::with_capacity(project.apps.len());
    for app in &project.apps {
        let path = app.models_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(FileError::io(path, &e)),
        };
        apps.push(parse_app(&app.name, &path, &text)?);
    }
    resolve(&apps)
}

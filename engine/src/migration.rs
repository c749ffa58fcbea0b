//! Migration files: `apps/<app>/migrations/NNNN_name.toml`. Parse with positions,
//! checksum independent of line endings, write back deterministically.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ast::Operation;
use crate::state::{SchemaState, StateError};

/// `app.name`, e.g. `tracker.0001_initial`: how migrations refer to each other.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MigrationKey {
    pub app: String,
    pub name: String,
}

impl MigrationKey {
    pub fn new(app: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            app: app.into(),
            name: name.into(),
        }
    }

    /// Parses `app.name`.
    pub fn parse(text: &str) -> Option<Self> {
        let (app, name) = text.split_once('.')?;
        (!app.is_empty() && !name.is_empty()).then(|| Self::new(app, name))
    }
}

impl fmt::Display for MigrationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.app, self.name)
    }
}

/// The file format, exactly as written on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "strata migration file",
    description = "A migration (apps/<app>/migrations/NNNN_name.toml): dialect-neutral \
                   operations, applied in order."
)]
pub struct MigrationFile {
    /// Migrations that must run first, as `app.NNNN_name`.
    #[serde(default)]
    #[schemars(inner(regex(pattern = r"^[^.]+\..+$")))]
    pub dependencies: Vec<String>,
    /// Run in one transaction where the database can (default true); `false` for
    /// statements that cannot run in one, such as PostgreSQL's `CREATE INDEX
    /// CONCURRENTLY`.
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    #[schemars(extend("default" = true))]
    pub atomic: bool,
    #[serde(default)]
    pub operations: Vec<Operation>,
}

/// The JSON Schema of migration files (`schemas/migration.schema.json`), derived from
/// [`MigrationFile`] and the AST, so it accepts what the parser accepts.
pub fn json_schema() -> serde_json::Value {
    schemars::generate::SchemaSettings::draft2020_12()
        // What the parser reads, which is more than strata writes (defaults left out).
        .with(|s| s.contract = schemars::generate::Contract::Deserialize)
        .with_transform(for_toml_editors)
        .into_generator()
        .into_root_schema_for::<MigrationFile>()
        .to_value()
}

/// Fits the derived schema to TOML files shown in an editor.
fn for_toml_editors(schema: &mut schemars::Schema) {
    use serde_json::Value;

    schemars::transform::transform_subschemas(&mut for_toml_editors, schema);
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    // schemars lets every `Option` be null; TOML has no null, a file leaves the key out.
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|t| t != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            object.insert("type".into(), only);
        }
    }
    if let Some(Value::Array(choices)) = object.get_mut("anyOf") {
        choices.retain(|c| c != &serde_json::json!({ "type": "null" }));
        if let [Value::Object(only)] = choices.as_slice() {
            let only = only.clone();
            object.remove("anyOf");
            object.extend(only);
        }
    }
    // Doc comments are wrapped for rustdoc; an editor shows a description as written.
    if let Some(Value::String(text)) = object.get_mut("description") {
        *text = text
            .split("\n\n")
            .map(|paragraph| paragraph.replace('\n', " "))
            .collect::<Vec<_>>()
            .join("\n\n");
    }
}

fn default_true() -> bool {
    true
}

// serde's `skip_serializing_if` hands the field by reference.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_true(b: &bool) -> bool {
    *b
}

/// A migration loaded from disk.
#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    pub key: MigrationKey,
    pub path: PathBuf,
    /// SHA-256 (hex) of the file with line endings normalized.
    pub checksum: String,
    pub dependencies: Vec<MigrationKey>,
    pub atomic: bool,
    pub operations: Vec<Operation>,
}

/// A file that could not be read or understood; positions are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error("{path}:{line}:{column}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
        /// The offending line's text, for a report that shows it.
        source_line: String,
    },
}

impl FileError {
    /// A TOML parse error placed at its line and column in `text`.
    pub fn from_toml(path: &Path, text: &str, error: &toml::de::Error) -> Self {
        let offset = error.span().map_or(0, |s| s.start);
        let (line, column) = line_column(text, offset);
        FileError::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            message: error.message().trim().to_string(),
            source_line: text.lines().nth(line - 1).unwrap_or("").to_string(),
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Checksum of a migration file's text: CRLF and CR count as LF, so a checkout
/// with other line endings does not look like an edited file.
pub fn checksum(text: &str) -> String {
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut hex = String::with_capacity(64);
    for byte in Sha256::digest(normalized.as_bytes()) {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// Whether a file name looks like a migration (`0001_initial.toml`).
pub fn is_migration_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    path.extension().is_some_and(|e| e == "toml")
        && name.chars().next().is_some_and(|c| c.is_ascii_digit())
}

/// An operation of a migration file that does not fit the schema before it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: operation {index} of {migration}: {source}", path = .path.display())]
pub struct StateAtError {
    pub migration: MigrationKey,
    pub path: PathBuf,
    /// 1-based, as the file counts them.
    pub index: usize,
    pub source: StateError,
}

impl Migration {
    /// Applies the first `count` operations of this migration to `state`: the one way
    /// every part of strata replays migrations onto a schema. On an error, `state`
    /// holds the operations before the failing one.
    pub fn replay(&self, state: &mut SchemaState, count: usize) -> Result<(), StateAtError> {
        for (i, op) in self.operations.iter().take(count).enumerate() {
            state.apply(op).map_err(|source| StateAtError {
                migration: self.key.clone(),
                path: self.path.clone(),
                index: i + 1,
                source,
            })?;
        }
        Ok(())
    }

    /// Reads and parses one migration file of `app`.
    pub fn load(app: &str, path: &Path) -> Result<Self, FileError> {
        let text = std::fs::read_to_string(path).map_err(|e| FileError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        // An empty file (a failed write, a `touch`) parses as a migration without
        // dependencies: a second root that the graph reports as a conflict. It is
        // a broken file, named as such.
        if text.trim().is_empty() {
            return Err(FileError::Syntax {
                path: path.to_path_buf(),
                line: 1,
                column: 1,
                message: "the migration file is empty: write its operations (and dependencies), or delete it".into(),
                source_line: String::new(),
            });
        }
        Self::parse(app, path, &text)
    }

    pub fn parse(app: &str, path: &Path, text: &str) -> Result<Self, FileError> {
        let file: MigrationFile =
            toml::from_str(text).map_err(|e| FileError::from_toml(path, text, &e))?;
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let mut dependencies = Vec::with_capacity(file.dependencies.len());
        for dep in &file.dependencies {
            let key = MigrationKey::parse(dep).ok_or_else(|| {
                let offset = text.find(&format!("\"{dep}\"")).map_or(0, |i| i + 1);
                let (line, column) = line_column(text, offset);
                FileError::Syntax {
                    path: path.to_path_buf(),
                    line,
                    column,
                    message: format!("dependency `{dep}` must be written `app.NNNN_name`"),
                    source_line: text.lines().nth(line - 1).unwrap_or("").to_string(),
                }
            })?;
            dependencies.push(key);
        }
        Ok(Self {
            key: MigrationKey::new(app, name),
            path: path.to_path_buf(),
            checksum: checksum(text),
            dependencies,
            atomic: file.atomic,
            operations: file.operations,
        })
    }
}

impl MigrationFile {
    /// The file's text, in the style people write by hand: one `[[operations]]`
    /// table per operation, lists of columns or keys one inline table per line.
    /// Deterministic, so identical input gives identical bytes.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        let mut out = String::new();
        let deps = toml::Value::Array(
            self.dependencies
                .iter()
                .map(|d| toml::Value::String(d.clone()))
                .collect(),
        );
        // Writing to a String cannot fail.
        let _ = writeln!(out, "dependencies = {}", inline(&deps));
        if !self.atomic {
            out.push_str("atomic = false\n");
        }
        for op in &self.operations {
            out.push_str("\n[[operations]]\n");
            let toml::Value::Table(table) = toml::Value::try_from(op)? else {
                unreachable!("an operation serializes to a table")
            };
            for (k, v) in &table {
                match v {
                    toml::Value::Array(items)
                        if !items.is_empty() && items.iter().all(toml::Value::is_table) =>
                    {
                        let _ = writeln!(out, "{} = [", key(k));
                        for item in items {
                            let _ = writeln!(out, "    {},", inline(item));
                        }
                        out.push_str("]\n");
                    }
                    _ => {
                        let _ = writeln!(out, "{} = {}", key(k), inline(v));
                    }
                }
            }
        }
        Ok(out)
    }
}

/// A value on one line: inline tables and arrays.
fn inline(value: &toml::Value) -> String {
    match value {
        toml::Value::Table(t) if t.is_empty() => "{}".into(),
        toml::Value::Table(t) => {
            let fields: Vec<String> = t
                .iter()
                .map(|(k, v)| format!("{} = {}", key(k), inline(v)))
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
        toml::Value::Array(items) => {
            let items: Vec<String> = items.iter().map(inline).collect();
            format!("[{}]", items.join(", "))
        }
        scalar => scalar.to_string(),
    }
}

/// A key, quoted only when it is not a bare key.
fn key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        k.to_string()
    } else {
        toml::Value::String(k.to_string()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_ignores_line_endings() {
        let unix = "dependencies = []\n\n[[operations]]\nkind = \"run_sql\"\nsql = \"SELECT 1\"\n";
        let windows = unix.replace('\n', "\r\n");
        assert_eq!(checksum(unix), checksum(&windows));
        assert_ne!(
            checksum(unix),
            checksum(&unix.replace("SELECT 1", "SELECT 2"))
        );
        assert_eq!(checksum(unix).len(), 64);
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let text = "dependencies = []\n\n[[operations]]\nkind = \"create_tabel\"\nname = \"x\"\n";
        let err = Migration::parse("app", Path::new("0001_x.toml"), text).unwrap_err();
        match err {
            FileError::Syntax {
                line,
                message,
                source_line,
                ..
            } => {
                assert_eq!(line, 4, "{message}");
                assert!(message.contains("create_tabel"), "{message}");
                assert_eq!(source_line, "kind = \"create_tabel\"");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_dependency_is_located() {
        let text = "dependencies = [\"auth\"]\n";
        let err = Migration::parse("app", Path::new("0002_x.toml"), text).unwrap_err();
        assert!(
            matches!(
                err,
                FileError::Syntax {
                    line: 1,
                    column: 18,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn files_round_trip_through_toml() {
        let text = r#"dependencies = ["auth.0001_initial"]

[[operations]]
kind = "create_table"
name = "t"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }, { name = "n", type = "varchar(5)", null = true }]
"#;
        let m = Migration::parse("app", Path::new("0001_initial.toml"), text).unwrap();
        assert_eq!(m.key, MigrationKey::new("app", "0001_initial"));
        assert_eq!(
            m.dependencies,
            vec![MigrationKey::new("auth", "0001_initial")]
        );
        assert!(m.atomic);
        let file = MigrationFile {
            dependencies: vec!["auth.0001_initial".into()],
            atomic: true,
            operations: m.operations.clone(),
        };
        let written = file.to_toml().unwrap();
        let again = Migration::parse("app", Path::new("0001_initial.toml"), &written).unwrap();
        assert_eq!(again.operations, m.operations);
        assert!(written.starts_with("dependencies = [\"auth.0001_initial\"]\n\n[[operations]]\nkind = \"create_table\"\nname = \"t\"\n"), "{written}");
        assert!(
            written
                .contains("columns = [\n    { name = \"id\", type = \"bigint\", auto = true },\n"),
            "{written}"
        );
    }
}

//! Migration files: `apps/<app>/migrations/NNNN_name.toml`. Parse with positions,
//! checksum independent of line endings, write back deterministically.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

mod operations;

use crate::ast::Operation;
use crate::models::source::Source;
use crate::state::{SchemaState, StateError};

pub use operations::Operations;

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
    /// A squashed migration: the migrations it stands for, as `app.NNNN_name`
    /// (`strata squashmigrations`). A database that applied all of them counts this
    /// one applied; one that applied some runs the rest of them instead; a fresh one
    /// runs this one alone. The files named may be deleted (docs/squashing.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = r"^[^.]+\..+$")))]
    pub replaces: Vec<String>,
    /// Run in one transaction where the database can (default true); `false` for
    /// statements that cannot run in one, such as PostgreSQL's `CREATE INDEX
    /// CONCURRENTLY`.
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    #[schemars(extend("default" = true))]
    pub atomic: bool,
    /// Run the safe plan on tables that existed before this migration (default true):
    /// indexes built concurrently, constraints validated without blocking writes,
    /// online `ALTER` algorithms; `false` runs the plain statements.
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    #[schemars(extend("default" = true))]
    pub safe: bool,
    #[serde(default)]
    pub operations: Vec<Operation>,
    /// Lint findings accepted for this migration, by operation.
    #[serde(default, skip_serializing_if = "LintSection::is_empty")]
    pub lint: LintSection,
}

/// The `[lint]` table of a migration file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LintSection {
    /// `[[lint.allow]]`: rules accepted for one operation.
    #[serde(default)]
    pub allow: Vec<LintAllow>,
}

impl LintSection {
    pub fn is_empty(&self) -> bool {
        self.allow.is_empty()
    }
}

/// Rules whose findings are accepted for one operation of the migration, e.g.
/// `{ operation = 2, rules = ["rename-column"], reason = "deployed in two phases" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LintAllow {
    /// The operation's number in the file, from 1.
    #[schemars(range(min = 1))]
    pub operation: usize,
    /// Rule ids, as `strata lint` prints them.
    pub rules: Vec<String>,
    /// Why the finding is accepted, for the reviewer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
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
    /// The migrations this squashed migration stands for (empty for most).
    pub replaces: Vec<MigrationKey>,
    pub atomic: bool,
    /// `safe` of the file: run the safe plan (see [`MigrationFile::safe`]).
    pub safe: bool,
    pub operations: Operations,
    /// Lint findings accepted per operation.
    pub lint: LintSection,
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
    /// `path` could not be read (or listed).
    pub fn io(path: impl Into<PathBuf>, error: &std::io::Error) -> Self {
        FileError::Io {
            path: path.into(),
            message: error.to_string(),
        }
    }

    /// A TOML parse error placed at its line and column in `text`.
    pub fn from_toml(path: &Path, text: &str, error: &toml::de::Error) -> Self {
        let offset = error.span().map_or(0, |s| s.start);
        Source::new(path, text).error_at(offset, error.message().trim())
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

/// A TOML error in a migration file, placed at the offending key or value.
///
/// An operation is an internally tagged enum, so serde reports every error inside it
/// at the operation's `[[operations]]` header. The message names the culprit (an
/// unknown field, or the bad value), so it is looked up in that operation's table.
fn migration_toml_error(path: &Path, text: &str, error: &toml::de::Error) -> FileError {
    // Only an error placed at an operation's header needs placing better.
    let located = error
        .span()
        .filter(|span| text.get(span.start..).is_some_and(|t| t.starts_with("[[")))
        .and_then(|span| culprit(text, span.start, error.message()));
    match located {
        // At a string's first character rather than its quote, as elsewhere.
        Some(offset) => Source::new(path, text).error(&(offset..offset), error.message().trim()),
        None => FileError::from_toml(path, text, error),
    }
}

/// The offset of the key or value that `message` is about, inside the operation table
/// that starts at `start`.
fn culprit(text: &str, start: usize, message: &str) -> Option<usize> {
    let doc = toml_edit::ImDocument::parse(text).ok()?;
    let ops = doc.get("operations")?.as_array_of_tables()?;
    let op = ops
        .iter()
        .filter(|t| t.span().is_some_and(|s| s.start <= start))
        .last()?;
    if let Some(field) = between(message, "unknown field `", "`") {
        return find_key(op, field);
    }
    let mut wanted: Vec<&str> = Vec::new();
    wanted.extend(between(message, "string \"", "\""));
    wanted.extend(between(message, "`", "`"));
    wanted
        .into_iter()
        .find_map(|w| find_value(&mut op.iter().map(|(_, item)| item), w))
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let rest = &text[text.find(open)? + open.len()..];
    Some(&rest[..rest.find(close)?])
}

/// The span start of key `name` in `table` or any table inside it.
fn find_key(table: &toml_edit::Table, name: &str) -> Option<usize> {
    fn in_value(v: &toml_edit::Value, name: &str) -> Option<usize> {
        match v {
            toml_edit::Value::InlineTable(t) => t
                .get_key_value(name)
                .and_then(|(k, _)| k.span().map(|s| s.start))
                .or_else(|| t.iter().find_map(|(_, v)| in_value(v, name))),
            toml_edit::Value::Array(a) => a.iter().find_map(|v| in_value(v, name)),
            _ => None,
        }
    }
    if let Some((k, _)) = table.get_key_value(name) {
        if let Some(s) = k.span() {
            return Some(s.start);
        }
    }
    table.iter().find_map(|(_, item)| match item {
        toml_edit::Item::Value(v) => in_value(v, name),
        toml_edit::Item::Table(t) => find_key(t, name),
        _ => None,
    })
}

/// The span start of the first value written as `wanted` (a string's value, or any
/// other value's text), at any depth.
fn find_value(items: &mut dyn Iterator<Item = &toml_edit::Item>, wanted: &str) -> Option<usize> {
    fn in_value(v: &toml_edit::Value, wanted: &str) -> Option<usize> {
        match v {
            toml_edit::Value::Array(a) => a.iter().find_map(|v| in_value(v, wanted)),
            toml_edit::Value::InlineTable(t) => t.iter().find_map(|(_, v)| in_value(v, wanted)),
            toml_edit::Value::String(s) if s.value() == wanted => s.span().map(|r| r.start),
            toml_edit::Value::String(_) => None,
            other if other.to_string().trim() == wanted => other.span().map(|r| r.start),
            _ => None,
        }
    }
    for item in items {
        let found = match item {
            toml_edit::Item::Value(v) => in_value(v, wanted),
            toml_edit::Item::Table(t) => find_value(&mut t.iter().map(|(_, i)| i), wanted),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// The check and index expressions of an operation, each with what holds it.
fn expressions(op: &Operation) -> Vec<(&str, String)> {
    use crate::ast::{Constraint, CreateIndex};
    fn index(i: &crate::ast::IndexDef) -> Vec<(&str, String)> {
        i.predicate
            .as_deref()
            .map(|p| (p, format!("the `where` of index `{}`", i.name)))
            .into_iter()
            .chain(i.expressions.iter().enumerate().map(|(n, e)| {
                (
                    e.as_str(),
                    format!("expression {} of index `{}`", n + 1, i.name),
                )
            }))
            .collect()
    }
    match op {
        Operation::CreateTable(t) => t
            .checks
            .iter()
            .map(|c| (c.expr.as_str(), format!("check `{}`", c.name)))
            .chain(t.indexes.iter().flat_map(index))
            .collect(),
        Operation::CreateIndex(CreateIndex { index: i, .. }) => index(i),
        Operation::AddConstraint(o) => match &o.constraint {
            Constraint::Check { name, expr } => vec![(expr.as_str(), format!("check `{name}`"))],
            Constraint::Unique { .. } => Vec::new(),
        },
        Operation::Backfill(b) => b
            .set
            .iter()
            .flatten()
            .map(|(column, value)| (value.as_str(), format!("the value set in `{column}`")))
            .chain(
                b.predicate
                    .as_deref()
                    .map(|p| (p, "the `where`".to_string())),
            )
            .collect(),
        _ => Vec::new(),
    }
}

/// Refuses an operation whose fields contradict each other (a backfill with both
/// `set` and `set_sql`, or neither) or a `run_code` name no function can have, at its
/// `kind` line.
fn check_fields(path: &Path, text: &str, operations: &[Operation]) -> Result<(), FileError> {
    for (i, op) in operations.iter().enumerate() {
        let problem = match op {
            Operation::Backfill(b) => b.problem(),
            Operation::RunCode(r) => r.problem(),
            _ => None,
        };
        if let Some(problem) = problem {
            let start = toml_edit::ImDocument::parse(text)
                .ok()
                .and_then(|doc| {
                    let op = doc.get("operations")?.as_array_of_tables()?.get(i)?;
                    find_key(op, "kind").or_else(|| op.span().map(|s| s.start))
                })
                .unwrap_or(0);
            let message = format!("operation {} ({}): {problem}", i + 1, op.kind());
            return Err(Source::new(path, text).error_at(start, message));
        }
    }
    Ok(())
}

/// Refuses an expression that is not one accepted expression (`crate::expr`), at the
/// offending part of its string in the file. Columns are checked later, against the
/// state the migration applies to.
fn check_expressions(path: &Path, text: &str, operations: &[Operation]) -> Result<(), FileError> {
    for (i, op) in operations.iter().enumerate() {
        for (expr, what) in expressions(op) {
            if let Err(e) = crate::expr::parse(expr, None) {
                let message = format!("operation {} ({}): {what}: {}", i + 1, op.kind(), e.message);
                return Err(locate_string(path, text, i, expr, e.offset, message));
            }
        }
    }
    Ok(())
}

/// An error placed in the string `value` of operation `index` (0-based): at `offset`
/// inside it when the file holds it verbatim, else at its start, else at the file's
/// first line.
fn locate_string(
    path: &Path,
    text: &str,
    index: usize,
    value: &str,
    offset: Option<usize>,
    message: String,
) -> FileError {
    let start = toml_edit::ImDocument::parse(text)
        .ok()
        .and_then(|doc| {
            let op = doc.get("operations")?.as_array_of_tables()?.get(index)?;
            find_string(&mut op.iter().map(|(_, item)| item), value)
        })
        .unwrap_or(0);
    Source::new(path, text).error_in_string(&(start..start), value, offset, message)
}

/// The byte offset of the first string equal to `value` among `items`, at any depth.
fn find_string(items: &mut dyn Iterator<Item = &toml_edit::Item>, value: &str) -> Option<usize> {
    fn in_value(v: &toml_edit::Value, value: &str) -> Option<usize> {
        match v {
            toml_edit::Value::String(s) if s.value() == value => s.span().map(|r| r.start),
            toml_edit::Value::Array(a) => a.iter().find_map(|v| in_value(v, value)),
            toml_edit::Value::InlineTable(t) => t.iter().find_map(|(_, v)| in_value(v, value)),
            _ => None,
        }
    }
    for item in items {
        let found = match item {
            toml_edit::Item::Value(v) => in_value(v, value),
            toml_edit::Item::Table(t) => find_string(&mut t.iter().map(|(_, i)| i), value),
            toml_edit::Item::ArrayOfTables(a) => a
                .iter()
                .find_map(|t| find_string(&mut t.iter().map(|(_, i)| i), value)),
            toml_edit::Item::None => None,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// Checksum of a migration file's text: CRLF and CR count as LF, so a checkout
/// with other line endings does not look like an edited file.
pub fn checksum(text: &str) -> String {
    // Most files have no CR: hash them as they are, without copying.
    if !text.contains('\r') {
        return sha256_hex(text);
    }
    let normalized = text.replace("\r\n", "\n").replace('\r', "\n");
    sha256_hex(&normalized)
}

/// Hex digits of an [`applied_part_checksum`] that detect any change of the part.
const DETECTING_DIGITS: usize = 32;
/// Hex digits of an [`applied_part_checksum`] that say which operations changed.
const LOCATING_DIGITS: usize = 32;

/// The checksum of what a partially applied migration has applied: its first
/// `covered` operations and the header lines that decided how they ran
/// (`dependencies`, `atomic`, `safe`), each in canonical form (as parsed, then
/// serialized), so reformatting, comments, `[[lint.allow]]` and the operations not yet
/// run may change without changing it. `None` when the file has fewer operations.
///
/// It fills the history's `checksum` column (64 hex digits) of a partial row, so no
/// new column is needed to name the operation that changed: the first
/// `DETECTING_DIGITS` are a hash of the whole part (128 bits: an edit is never
/// missed), the other `LOCATING_DIGITS` a short fingerprint of each operation (of
/// each group of operations, past 32), which [`applied_part_change`] compares.
pub fn applied_part_checksum(m: &Migration, covered: usize) -> Option<String> {
    let operations = m.operations.get(..covered)?;
    let canonical: Vec<String> = operations.iter().map(canonical_operation).collect();
    let mut whole = applied_part_header(m);
    for op in &canonical {
        whole.push_str(op);
        whole.push('\n');
    }
    let mut sum = sha256_hex(&whole);
    sum.truncate(DETECTING_DIGITS);
    let groups = operation_groups(covered);
    let width = LOCATING_DIGITS.checked_div(groups.len()).unwrap_or(0);
    for group in &groups {
        let text: String = canonical[group.clone()].concat();
        sum.push_str(&sha256_hex(&text)[..width]);
    }
    while sum.len() < DETECTING_DIGITS + LOCATING_DIGITS {
        sum.push('0');
    }
    Some(sum)
}

/// What changed in the applied part of a partially applied migration, against the
/// [`applied_part_checksum`] recorded for its first `covered` operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppliedPartChange {
    /// Operations `first..=last` (1-based) changed, at least one of them: one
    /// operation, unless the migration had more than 32 applied.
    Operations { first: usize, last: usize },
    /// No operation's fingerprint differs: the header lines (`dependencies`,
    /// `atomic`, `safe`) changed, or an operation in a way its short fingerprint
    /// missed.
    Unlocated,
    /// The file has fewer operations than were applied: some were deleted.
    Removed { total: usize },
}

/// How the applied part of `m` differs from the one `recorded` (an
/// [`applied_part_checksum`] of `covered` operations) describes; `None` if it does not.
pub fn applied_part_change(
    recorded: &str,
    m: &Migration,
    covered: usize,
) -> Option<AppliedPartChange> {
    let Some(current) = applied_part_checksum(m, covered) else {
        return Some(AppliedPartChange::Removed {
            total: m.operations.len(),
        });
    };
    if current == recorded {
        return None;
    }
    let groups = operation_groups(covered);
    let width = LOCATING_DIGITS.checked_div(groups.len()).unwrap_or(0);
    let fingerprint = |sum: &str, i: usize| {
        let start = DETECTING_DIGITS + i * width;
        sum.get(start..start + width).map(str::to_string)
    };
    let changed = groups
        .iter()
        .enumerate()
        .find(|(i, _)| fingerprint(recorded, *i) != fingerprint(&current, *i));
    Some(match changed {
        Some((_, group)) => AppliedPartChange::Operations {
            first: group.start + 1,
            last: group.end,
        },
        None => AppliedPartChange::Unlocated,
    })
}

/// The header lines that decide how the operations ran: what they were applied on top
/// of, in one transaction or not, and with the safe plan or not.
fn applied_part_header(m: &Migration) -> String {
    let mut dependencies: Vec<String> = m.dependencies.iter().map(ToString::to_string).collect();
    dependencies.sort();
    format!(
        "strata applied part 1\ndependencies = {dependencies:?}\natomic = {}\nsafe = {}\n",
        m.atomic, m.safe
    )
}

/// An operation as parsed, serialized: the same for any spelling of it in the file.
fn canonical_operation(op: &Operation) -> String {
    // Every operation serializes (files are written from them); the derived `Debug`
    // is as deterministic, should one ever not.
    serde_json::to_string(op).unwrap_or_else(|_| format!("{op:?}"))
}

/// `count` operations split into at most [`LOCATING_DIGITS`] consecutive groups of
/// nearly equal size (each one operation when there are few enough).
fn operation_groups(count: usize) -> Vec<std::ops::Range<usize>> {
    let groups = count.min(LOCATING_DIGITS);
    (0..groups)
        .map(|i| i * count / groups..(i + 1) * count / groups)
        .collect()
}

pub(crate) fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// Lowercase hex digits of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    // A table, not `write!` per byte: thousands of files are hashed at every start.
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 0xf)]));
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
        let text = std::fs::read_to_string(path).map_err(|e| FileError::io(path, &e))?;
        Self::from_text(app, path, &text)
    }

    /// Parses the text of migration file `path` of `app`.
    pub fn from_text(app: &str, path: &Path, text: &str) -> Result<Self, FileError> {
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
        Self::parse(app, path, text)
    }

    pub fn parse(app: &str, path: &Path, text: &str) -> Result<Self, FileError> {
        let file: MigrationFile =
            toml::from_str(text).map_err(|e| migration_toml_error(path, text, &e))?;
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let dependencies = parse_keys(path, text, &file.dependencies, "dependency")?;
        let replaces = parse_keys(path, text, &file.replaces, "replaced migration")?;
        check_fields(path, text, &file.operations)?;
        check_expressions(path, text, &file.operations)?;
        if let Some(allow) = file
            .lint
            .allow
            .iter()
            .find(|a| a.operation == 0 || a.operation > file.operations.len())
        {
            let offset = text.find("[[lint.allow]]").unwrap_or(0);
            return Err(Source::new(path, text).error_at(
                offset,
                format!(
                    "[[lint.allow]] names operation {}, but the file has {} operation(s), numbered from 1",
                    allow.operation,
                    file.operations.len()
                ),
            ));
        }
        Ok(Self {
            key: MigrationKey::new(app, name),
            path: path.to_path_buf(),
            checksum: checksum(text),
            dependencies,
            replaces,
            atomic: file.atomic,
            safe: file.safe,
            operations: file.operations.into(),
            lint: file.lint,
        })
    }
}

/// `app.NNNN_name` references of a file (`dependencies`, `replaces`), each placed at
/// its line when it is not written that way.
fn parse_keys(
    path: &Path,
    text: &str,
    references: &[String],
    what: &str,
) -> Result<Vec<MigrationKey>, FileError> {
    references
        .iter()
        .map(|reference| {
            MigrationKey::parse(reference).ok_or_else(|| {
                let offset = text.find(&format!("\"{reference}\"")).map_or(0, |i| i + 1);
                Source::new(path, text).error_at(
                    offset,
                    format!("{what} `{reference}` must be written `app.NNNN_name`"),
                )
            })
        })
        .collect()
}

impl MigrationFile {
    /// The file's text, in the style people write by hand: one `[[operations]]`
    /// table per operation, lists of columns or keys one inline table per line.
    /// Deterministic, so identical input gives identical bytes.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        let mut out = String::new();
        let keys = |keys: &[String]| {
            inline(&toml::Value::Array(
                keys.iter()
                    .map(|k| toml::Value::String(k.clone()))
                    .collect(),
            ))
        };
        // Writing to a String cannot fail.
        let _ = writeln!(out, "dependencies = {}", keys(&self.dependencies));
        if !self.replaces.is_empty() {
            let _ = writeln!(out, "replaces = {}", keys(&self.replaces));
        }
        if !self.atomic {
            out.push_str("atomic = false\n");
        }
        if !self.safe {
            out.push_str("safe = false\n");
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
        for allow in &self.lint.allow {
            out.push_str("\n[[lint.allow]]\n");
            let _ = writeln!(out, "operation = {}", allow.operation);
            let rules = toml::Value::try_from(&allow.rules)?;
            let _ = writeln!(out, "rules = {}", inline(&rules));
            if let Some(reason) = &allow.reason {
                let _ = writeln!(out, "reason = {}", toml::Value::String(reason.clone()));
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

    /// Three `run_sql` operations, with `extra` lines before them.
    fn three(extra: &str, second: &str, third: &str) -> Migration {
        let text = format!(
            "dependencies = [\"app.0001_a\"]\natomic = false\n{extra}\n[[operations]]\nkind = \"run_sql\"\nsql = \"SELECT 1\"\n\n[[operations]]\nkind = \"run_sql\"\nsql = {second:?}\n\n[[operations]]\nkind = \"run_sql\"\nsql = {third:?}\n"
        );
        Migration::parse("app", Path::new("0002_x.toml"), &text).unwrap()
    }

    #[test]
    fn the_applied_part_checksum_ignores_spelling_and_what_did_not_run() {
        let m = three("", "SELECT 2", "SELECT 3");
        let sum = applied_part_checksum(&m, 2).unwrap();
        assert_eq!(sum.len(), 64);
        assert!(sum
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        // Comments, layout, line endings and the file's name are not the operations.
        let respelled = Migration::parse(
            "app",
            Path::new("0002_renamed.toml"),
            "# a comment\ndependencies = [ \"app.0001_a\" ]\r\natomic = false\n[[operations]]\nsql = 'SELECT 1'\nkind = 'run_sql'\n[[operations]]\nkind = \"run_sql\"\nsql = \"SELECT 2\"  # checked\n[[operations]]\nkind = \"run_sql\"\nsql = \"SELECT 3\"\n",
        )
        .unwrap();
        assert_ne!(respelled.checksum, m.checksum);
        assert_eq!(applied_part_checksum(&respelled, 2).unwrap(), sum);
        // The operation that did not run, and lint allowances, may change.
        let fixed = three("", "SELECT 2", "SELECT 'fixed'");
        assert_eq!(applied_part_checksum(&fixed, 2).unwrap(), sum);
        assert_eq!(applied_part_change(&sum, &fixed, 2), None);
        let allowed = three(
            "[[lint.allow]]\noperation = 3\nrules = [\"x\"]\n",
            "SELECT 2",
            "SELECT 3",
        );
        assert_eq!(applied_part_change(&sum, &allowed, 2), None);
        // Nothing ran: every operation may change.
        assert_eq!(
            applied_part_change(&applied_part_checksum(&m, 0).unwrap(), &fixed, 0),
            None
        );
    }

    #[test]
    fn an_edited_applied_operation_is_named() {
        let m = three("", "SELECT 2", "SELECT 3");
        let sum = applied_part_checksum(&m, 2).unwrap();
        let edited = three("", "SELECT 'two'", "SELECT 3");
        assert_ne!(applied_part_checksum(&edited, 2).unwrap(), sum);
        assert_eq!(
            applied_part_change(&sum, &edited, 2),
            Some(AppliedPartChange::Operations { first: 2, last: 2 })
        );
        // The header decides how the operations ran.
        let atomic = Migration {
            atomic: true,
            ..m.clone()
        };
        assert_eq!(
            applied_part_change(&sum, &atomic, 2),
            Some(AppliedPartChange::Unlocated)
        );
        let unsafe_plan = Migration {
            safe: false,
            ..m.clone()
        };
        assert_eq!(
            applied_part_change(&sum, &unsafe_plan, 2),
            Some(AppliedPartChange::Unlocated)
        );
        let no_dependency = Migration {
            dependencies: Vec::new(),
            ..m.clone()
        };
        assert_ne!(applied_part_change(&sum, &no_dependency, 2), None);
        // Operations that ran, deleted.
        let shorter = Migration {
            operations: m.operations[..1].to_vec().into(),
            ..m.clone()
        };
        assert_eq!(
            applied_part_change(&sum, &shorter, 2),
            Some(AppliedPartChange::Removed { total: 1 })
        );
        // Two swapped: the first of them is named.
        let mut operations = m.operations.to_vec();
        operations.swap(0, 1);
        let swapped = Migration {
            operations: operations.into(),
            ..m.clone()
        };
        assert_eq!(
            applied_part_change(&sum, &swapped, 2),
            Some(AppliedPartChange::Operations { first: 1, last: 1 })
        );
    }

    #[test]
    fn past_32_applied_operations_a_group_is_named() {
        use std::fmt::Write as _;
        let ops = |changed: Option<usize>| {
            let mut text = String::new();
            for i in 0..70 {
                let sql = if Some(i) == changed {
                    "SELECT 0".to_string()
                } else {
                    format!("SELECT {i}")
                };
                let _ = writeln!(text, "[[operations]]\nkind = \"run_sql\"\nsql = {sql:?}");
            }
            Migration::parse("app", Path::new("0002_x.toml"), &text).unwrap()
        };
        let sum = applied_part_checksum(&ops(None), 70).unwrap();
        match applied_part_change(&sum, &ops(Some(50)), 70) {
            Some(AppliedPartChange::Operations { first, last }) => {
                assert!(
                    first <= 51 && 51 <= last && last - first < 3,
                    "{first}–{last}"
                );
            }
            other => panic!("{other:?}"),
        }
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

    /// A backfill needs exactly one of `set` and `set_sql`, and a batch of at least one
    /// row: refused at the operation's `kind` line, naming the file.
    #[test]
    fn a_backfill_with_both_or_neither_set_is_located() {
        let head = "dependencies = []\n\n[[operations]]\nkind = \"run_sql\"\nsql = \"SELECT 1\"\n\n[[operations]]\nkind = \"backfill\"\ntable = \"t\"\n";
        let cases = [
            (
                "set = { n = \"n + 1\" }\nset_sql = \"n = n + 1\"\n",
                "not both",
            ),
            ("where = \"n > 0\"\n", "needs `set`"),
            ("set = { n = \"n + 1\" }\nbatch_size = 0\n", "at least 1"),
        ];
        for (body, word) in cases {
            let text = format!("{head}{body}");
            let err = Migration::parse("app", Path::new("0002_fill.toml"), &text).unwrap_err();
            let FileError::Syntax {
                path,
                line,
                message,
                ..
            } = &err
            else {
                panic!("{err:?}");
            };
            assert_eq!(path, Path::new("0002_fill.toml"));
            assert_eq!(*line, 8, "{err}");
            assert!(message.contains("operation 2 (backfill)"), "{message}");
            assert!(message.contains(word), "{message}");
        }
        // A bad expression is located in its string, as a check's is.
        let text = format!("{head}set = {{ n = \"n +\" }}\n");
        let err = Migration::parse("app", Path::new("0002_fill.toml"), &text).unwrap_err();
        assert!(err.to_string().contains(":10:"), "{err}");
        let text = format!("{head}set = {{ n = \"n + 1\" }}\npause = \"50ms\"\n");
        let m = Migration::parse("app", Path::new("0002_fill.toml"), &text).unwrap();
        let Operation::Backfill(b) = &m.operations[1] else {
            panic!("{:?}", m.operations[1]);
        };
        assert_eq!(b.batch_size, 1000);
        assert_eq!(b.pause, Some(std::time::Duration::from_millis(50)));
    }

    /// A `run_code` name with a line break would print, in `sqlmigrate`'s comment for
    /// the call, a line of SQL; an empty one names nothing: both refused, located.
    #[test]
    fn a_run_code_name_with_a_control_character_is_located() {
        let head = "dependencies = []\n\n[[operations]]\nkind = \"run_code\"\n";
        let cases = [
            (
                "name = \"fill\\nDROP TABLE ticket;\"\n",
                "`name` \"fill\\nDROP TABLE ticket;\" holds a control character",
            ),
            ("name = \"fill\"\nreverse = \"a\\tb\"\n", "`reverse`"),
            ("name = \" \"\n", "`name` is empty"),
        ];
        for (body, words) in cases {
            let text = format!("{head}{body}");
            let err = Migration::parse("app", Path::new("0002_fill.toml"), &text).unwrap_err();
            let FileError::Syntax { line, message, .. } = &err else {
                panic!("{err:?}");
            };
            assert_eq!(*line, 4, "{err}");
            assert!(message.contains("operation 1 (run_code)"), "{message}");
            assert!(message.contains(words), "{message}");
        }
        let text = format!("{head}name = \"fill_slugs\"\nreverse = \"fill_slugs\"\n");
        assert!(Migration::parse("app", Path::new("0002_fill.toml"), &text).is_ok());
    }

    /// Errors inside an operation point at the key or value, not at `[[operations]]`.
    #[test]
    fn errors_inside_an_operation_point_at_the_culprit() {
        let op = "dependencies = []\n\n[[operations]]\nkind = \"create_table\"\n";
        let cases = [
            (
                "nmae = \"t\"\ncolumns = [{ name = \"id\", type = \"int\" }]\n",
                (5, 1),
                "unknown field `nmae`",
            ),
            (
                "name = \"t\"\ncolumns = [{ name = \"id\", type = \"bigintt\" }]\n",
                (6, 35),
                "bigintt",
            ),
            (
                "name = \"t\"\ncolumns = [{ name = \"id\", type = \"int\", null = \"yes\" }]\n",
                (6, 49),
                "expected a boolean",
            ),
            (
                "name = \"t\"\ncolumns = [{ name = \"id\", type = \"int\", colour = 1 }]\n",
                (6, 41),
                "unknown field `colour`",
            ),
        ];
        for (body, (want_line, want_column), word) in cases {
            let text = format!("{op}{body}");
            match Migration::parse("app", Path::new("0001_x.toml"), &text) {
                Err(FileError::Syntax {
                    line,
                    column,
                    message,
                    ..
                }) => {
                    assert!(message.contains(word), "{message}");
                    assert_eq!(
                        (line, column),
                        (want_line, want_column),
                        "{message}\n{text}"
                    );
                }
                other => panic!("{other:?}"),
            }
        }
    }

    /// A bad expression is refused when the file is read, at the offending character.
    #[test]
    fn a_bad_expression_is_located_in_its_string() {
        let text = "[[operations]]\nkind = \"create_table\"\nname = \"t\"\ncolumns = [{ name = \"a\", type = \"int\" }]\nchecks = [{ name = \"c\", expr = \"a > 0; DROP TABLE x\" }]\n";
        match Migration::parse("app", Path::new("0001_x.toml"), text) {
            Err(FileError::Syntax {
                line,
                column,
                message,
                ..
            }) => {
                assert_eq!((line, column), (5, 38), "{message}");
                assert!(message.contains("operation 1 (create_table)"), "{message}");
                assert!(message.contains("`;` is not allowed"), "{message}");
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

    /// The `#:schema` line strata puts atop the files it writes is a comment: the file
    /// parses the same with it.
    #[test]
    fn a_schema_line_is_a_comment() {
        let text = "#:schema ../../../.strata/schemas/migration.schema.json\ndependencies = []\n";
        let m = Migration::parse("app", Path::new("0002_x.toml"), text).unwrap();
        assert!(m.operations.is_empty());
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
            replaces: Vec::new(),
            atomic: true,
            safe: true,
            operations: m.operations.to_vec(),
            lint: LintSection::default(),
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

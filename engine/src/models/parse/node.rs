//! Reading typed values out of the document, each error placed at its value.

use toml_edit::{Item, Table, TableLike, Value};

use crate::migration::FileError;
use crate::models::source::{Source, Span, Spanned};
use crate::models::suggest::did_you_mean;

pub(super) fn known_keys_hint(key: &str, known: &[&str]) -> String {
    match did_you_mean(key, known.iter().copied()) {
        hint if !hint.is_empty() => hint,
        _ => format!(" (known keys: {})", known.join(", ")),
    }
}

pub(super) fn str_value(
    src: &Source,
    node: &dyn Node,
    at: &Span,
    what: &str,
) -> Result<String, FileError> {
    node.as_str().map(str::to_string).ok_or_else(|| {
        src.error(
            at,
            format!("`{what}` must be a string, not {}", node.type_name()),
        )
    })
}

pub(super) fn non_empty_str(
    src: &Source,
    node: &dyn Node,
    at: &Span,
    what: &str,
) -> Result<Spanned<String>, FileError> {
    let text = str_value(src, node, at, what)?;
    if text.trim().is_empty() {
        return Err(src.error(at, format!("`{what}` must not be empty")));
    }
    Ok(Spanned::new(text, at.clone()))
}

pub(super) fn bool_value(
    src: &Source,
    node: &dyn Node,
    at: &Span,
    what: &str,
) -> Result<bool, FileError> {
    node.as_bool().ok_or_else(|| {
        src.error(
            at,
            format!("`{what}` must be true or false, not {}", node.type_name()),
        )
    })
}

/// A list of names (`["user", "created_at"]`), each with its position.
pub(super) fn str_list(
    src: &Source,
    node: &dyn Node,
    at: &Span,
    what: &str,
    allow_empty: bool,
) -> Result<Vec<Spanned<String>>, FileError> {
    let Some(array) = node.as_array() else {
        return Err(src.error(
            at,
            format!(
                "{} must be a list of field names, e.g. [\"name\"]",
                quoted(what)
            ),
        ));
    };
    if array.is_empty() && !allow_empty {
        return Err(src.error(at, format!("{} names no fields", quoted(what))));
    }
    array
        .iter()
        .map(|v| {
            let span = node_span(v, at);
            non_empty_str(src, v, &span, "a field name")
        })
        .collect()
}

/// `key` as `` `key` ``, but a description ("an index") as it is.
fn quoted(what: &str) -> String {
    if what.contains(' ') {
        what.to_string()
    } else {
        format!("`{what}`")
    }
}

pub(super) fn key_span(table: &dyn TableLike, key: &str) -> Span {
    table
        .key(key)
        .and_then(toml_edit::Key::span)
        .unwrap_or(0..0)
}

/// A node's own span, or (for tables implied by dotted keys) its key's.
pub(super) fn node_span(node: &dyn Node, fallback: &Span) -> Span {
    node.span().unwrap_or_else(|| fallback.clone())
}

/// The entries of an array (`indexes = [...]`) or array of tables (`[[M.indexes]]`).
pub(super) fn elements(node: &dyn Node) -> Option<Vec<&dyn Node>> {
    if let Some(array) = node.as_array() {
        return Some(array.iter().map(|v| v as &dyn Node).collect());
    }
    node.as_array_of_tables()
        .map(|tables| tables.iter().map(|t| t as &dyn Node).collect())
}

/// What a position in the document may hold: a top-level item, an array element
/// (a `Value`) or a table of an array of tables, read through one interface.
pub(super) trait Node {
    fn span(&self) -> Option<Span>;
    fn type_name(&self) -> &'static str;
    fn as_value(&self) -> Option<&Value>;
    fn as_table_like(&self) -> Option<&dyn TableLike>;
    fn as_array_of_tables(&self) -> Option<&toml_edit::ArrayOfTables> {
        None
    }
    fn as_str(&self) -> Option<&str> {
        self.as_value().and_then(Value::as_str)
    }
    fn as_bool(&self) -> Option<bool> {
        self.as_value().and_then(Value::as_bool)
    }
    fn as_array(&self) -> Option<&toml_edit::Array> {
        self.as_value().and_then(Value::as_array)
    }
}

impl Node for Item {
    fn span(&self) -> Option<Span> {
        Item::span(self)
    }
    fn type_name(&self) -> &'static str {
        Item::type_name(self)
    }
    fn as_value(&self) -> Option<&Value> {
        Item::as_value(self)
    }
    fn as_table_like(&self) -> Option<&dyn TableLike> {
        Item::as_table_like(self)
    }
    fn as_array_of_tables(&self) -> Option<&toml_edit::ArrayOfTables> {
        Item::as_array_of_tables(self)
    }
}

impl Node for Value {
    fn span(&self) -> Option<Span> {
        Value::span(self)
    }
    fn type_name(&self) -> &'static str {
        Value::type_name(self)
    }
    fn as_value(&self) -> Option<&Value> {
        Some(self)
    }
    fn as_table_like(&self) -> Option<&dyn TableLike> {
        self.as_inline_table().map(|t| t as &dyn TableLike)
    }
}

impl Node for Table {
    fn span(&self) -> Option<Span> {
        Table::span(self)
    }
    fn type_name(&self) -> &'static str {
        "table"
    }
    fn as_value(&self) -> Option<&Value> {
        None
    }
    fn as_table_like(&self) -> Option<&dyn TableLike> {
        Some(self)
    }
}

//! TOML spelling of keys, strings, lists, inline tables and defaults.

use crate::ast::{DefaultExpr, DefaultValue};
use crate::types::ColumnType;

/// A TOML string literal, escaped as needed.
pub(super) fn string(s: &str) -> String {
    toml_edit::Value::from(s).to_string()
}

/// A TOML key: bare when it can be, quoted otherwise.
pub(super) fn key(k: &str) -> String {
    toml_edit::Key::new(k).to_string()
}

pub(super) fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| string(s)).collect();
    format!("[{}]", quoted.join(", "))
}

pub(super) fn inline(parts: &[String]) -> String {
    if parts.is_empty() {
        "{}".into()
    } else {
        format!("{{ {} }}", parts.join(", "))
    }
}

/// A default as `models.toml` writes it.
pub(super) fn default_literal(
    d: &DefaultValue,
    ty: ColumnType,
    column: &str,
    notes: &mut Vec<String>,
) -> String {
    match d {
        DefaultValue::Bool(b) => b.to_string(),
        DefaultValue::Int(i) => i.to_string(),
        DefaultValue::Float(f) => toml_edit::Value::from(*f).to_string(),
        DefaultValue::Text(s) => {
            // The words `now` and `uuid` mean the expressions on these types.
            if (s == "now" && ty.is_temporal()) || (s == "uuid" && ty == ColumnType::Uuid) {
                notes.push(format!(
                    "the literal default '{s}' of column `{column}` reads as the expression {s}"
                ));
            }
            string(s)
        }
        DefaultValue::Expr { expr } => string(match expr {
            DefaultExpr::Now => "now",
            DefaultExpr::Uuid => "uuid",
        }),
    }
}

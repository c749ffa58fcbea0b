//! A `default` as the column's type reads it.

use crate::ast::{DefaultExpr, DefaultValue};
use crate::migration::FileError;
use crate::models::parse::Literal;
use crate::models::source::{Source, Spanned};
use crate::types::ColumnType;

/// A `default` as the column's type reads it: `"now"` on a date/time column and
/// `"uuid"` on a uuid column are the neutral expressions, anything else a literal.
pub(super) fn default_value(
    src: &Source,
    d: &Spanned<Literal>,
    ty: ColumnType,
    field: &str,
) -> Result<DefaultValue, FileError> {
    let written = &src.text[d.span.clone()];
    let misfit = |hint: &str| {
        src.error(
            &d.span,
            format!("default {written} of field `{field}` does not fit type {ty}{hint}"),
        )
    };
    match &d.value {
        Literal::Bool(b) if ty == ColumnType::Bool => Ok(DefaultValue::Bool(*b)),
        // A duration's default is its microseconds, as it is stored outside PostgreSQL.
        Literal::Int(i) if ty.is_numeric() || ty == ColumnType::Duration => {
            Ok(DefaultValue::Int(*i))
        }
        Literal::Float(f) if ty.is_numeric() && !ty.is_integer() && f.is_finite() => {
            Ok(DefaultValue::Float(*f))
        }
        Literal::Float(_) if ty.is_integer() => {
            Err(misfit("; an integer column needs a whole number"))
        }
        Literal::Text(s) if s == "now" && ty.is_temporal() => Ok(DefaultValue::Expr {
            expr: DefaultExpr::Now,
        }),
        Literal::Text(s) if s == "uuid" && ty == ColumnType::Uuid => Ok(DefaultValue::Expr {
            expr: DefaultExpr::Uuid,
        }),
        Literal::Text(s) if ty.is_textual() || ty.is_temporal() => {
            let limit = match ty {
                ColumnType::Char(n) | ColumnType::Varchar(n) => Some(n as usize),
                _ => None,
            };
            match limit {
                Some(n) if s.chars().count() > n => {
                    Err(misfit(&format!("; it is longer than {n} characters")))
                }
                _ => Ok(DefaultValue::Text(s.clone())),
            }
        }
        Literal::Text(s)
            if (ty.is_numeric() && s.trim().parse::<f64>().is_ok())
                || (ty == ColumnType::Bool && matches!(s.trim(), "true" | "false")) =>
        {
            Err(misfit("; write numbers and true/false without quotes"))
        }
        Literal::Temporal(s) if ty.is_temporal() => Ok(DefaultValue::Text(s.clone())),
        _ => Err(misfit("")),
    }
}

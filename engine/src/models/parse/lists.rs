//! A model's `indexes`, `unique` and `checks`.

use super::node::*;
use super::{CheckDecl, IndexDecl, UniqueDecl, CHECK_KEYS, INDEX_KEYS, UNIQUE_KEYS};
use crate::migration::FileError;
use crate::models::source::{Source, Span, Spanned};
use toml_edit::TableLike;

pub(super) fn parse_indexes(
    src: &Source,
    node: &dyn Node,
    at: &Span,
) -> Result<Vec<IndexDecl>, FileError> {
    let example = "e.g. indexes = [[\"created_at\"], { columns = [\"user\", \"created_at\"], unique = true }]";
    let entries = elements(node).ok_or_else(|| {
        src.error(
            at,
            format!("`indexes` must be a list of indexes, {example}"),
        )
    })?;
    let mut indexes = Vec::new();
    for entry in entries {
        let span = node_span(entry, at);
        let mut index = IndexDecl {
            span: span.clone(),
            columns: Vec::new(),
            unique: false,
            name: None,
            predicate: None,
        };
        if let Some(table) = entry.as_table_like() {
            let mut columns = None;
            for (key, value) in table.iter() {
                let key_span = key_span(table, key);
                let at = node_span(value, &key_span);
                match key {
                    "columns" => columns = Some(str_list(src, value, &at, key, false)?),
                    "unique" => index.unique = bool_value(src, value, &at, key)?,
                    "name" => index.name = Some(non_empty_str(src, value, &at, key)?),
                    "where" => index.predicate = Some(non_empty_str(src, value, &at, key)?),
                    _ => {
                        return Err(src.error(
                            &key_span,
                            format!(
                                "unknown key `{key}` in an index{}",
                                known_keys_hint(key, INDEX_KEYS)
                            ),
                        ))
                    }
                }
            }
            index.columns = columns
                .ok_or_else(|| src.error(&span, "an index needs `columns = [\"field\", …]`"))?;
        } else if entry.as_array().is_some() {
            index.columns = str_list(src, entry, &span, "an index", false)?;
        } else {
            return Err(src.error(
                &span,
                format!("an index is a list of fields or a table, {example}"),
            ));
        }
        indexes.push(index);
    }
    Ok(indexes)
}

pub(super) fn parse_uniques(
    src: &Source,
    node: &dyn Node,
    at: &Span,
) -> Result<Vec<UniqueDecl>, FileError> {
    let example = "e.g. unique = [[\"vendor\", \"sku\"]]";
    let entries = elements(node).ok_or_else(|| {
        src.error(
            at,
            format!("`unique` must be a list of field lists, {example}"),
        )
    })?;
    let mut uniques = Vec::new();
    for entry in entries {
        let span = node_span(entry, at);
        let mut unique = UniqueDecl {
            span: span.clone(),
            columns: Vec::new(),
            name: None,
        };
        if let Some(table) = entry.as_table_like() {
            let mut columns = None;
            for (key, value) in table.iter() {
                let key_span = key_span(table, key);
                let at = node_span(value, &key_span);
                match key {
                    "columns" => columns = Some(str_list(src, value, &at, key, false)?),
                    "name" => unique.name = Some(non_empty_str(src, value, &at, key)?),
                    _ => {
                        return Err(src.error(
                            &key_span,
                            format!(
                                "unknown key `{key}` in a unique constraint{}",
                                known_keys_hint(key, UNIQUE_KEYS)
                            ),
                        ))
                    }
                }
            }
            unique.columns = columns.ok_or_else(|| {
                src.error(
                    &span,
                    "a unique constraint needs `columns = [\"field\", …]`",
                )
            })?;
        } else if entry.as_array().is_some() {
            unique.columns = str_list(src, entry, &span, "a unique constraint", false)?;
        } else {
            // `unique = ["a", "b"]` could mean one constraint or two: make it explicit.
            return Err(src.error(
                &span,
                format!("each entry of `unique` is a list of fields, {example}"),
            ));
        }
        uniques.push(unique);
    }
    Ok(uniques)
}

pub(super) fn parse_checks(
    src: &Source,
    node: &dyn Node,
    at: &Span,
) -> Result<Vec<CheckDecl>, FileError> {
    let Some(table) = node.as_table_like() else {
        return Err(src.error(
            at,
            "`checks` must be a table of name = SQL expression, e.g. checks = { amount_positive = \"amount > 0\" }",
        ));
    };
    let mut checks = Vec::new();
    for (key, value) in table.iter() {
        let span = key_span(table, key);
        let at = node_span(value, &span);
        let what = format!("check `{key}`");
        let (expr, name) = match value.as_table_like() {
            Some(entry) => check_table(src, entry, &at, &what)?,
            None => (non_empty_str(src, value, &at, &what)?, None),
        };
        checks.push(CheckDecl {
            key: key.to_string(),
            span,
            expr,
            name,
        });
    }
    Ok(checks)
}

/// `{ expr = "…", name = "…" }`: a check whose database name the user chooses.
fn check_table(
    src: &Source,
    entry: &dyn TableLike,
    at: &Span,
    what: &str,
) -> Result<(Spanned<String>, Option<Spanned<String>>), FileError> {
    let (mut expr, mut name) = (None, None);
    for (key, value) in entry.iter() {
        let key_span = key_span(entry, key);
        let value_at = node_span(value, &key_span);
        match key {
            "expr" => expr = Some(non_empty_str(src, value, &value_at, key)?),
            "name" => name = Some(non_empty_str(src, value, &value_at, key)?),
            _ => {
                return Err(src.error(
                    &key_span,
                    format!(
                        "unknown key `{key}` in {what}{}",
                        known_keys_hint(key, CHECK_KEYS)
                    ),
                ))
            }
        }
    }
    let expr = expr.ok_or_else(|| {
        src.error(
            at,
            format!("{what} needs `expr = \"SQL expression\"`, e.g. {{ expr = \"amount > 0\", name = \"amount_positive\" }}"),
        )
    })?;
    Ok((expr, name))
}

//! A model's `indexes`, `unique` and `checks`.

use super::node::*;
use toml_edit::TableLike;

use super::{
    CheckDecl, IndexDecl, KeyOptions, UniqueDecl, CHECK_KEYS, INDEX_KEYS, KEY_COLUMN_KEYS,
    UNIQUE_KEYS,
};
use crate::ast::{IndexMethod, UnsupportedWhere};
use crate::migration::FileError;
use crate::models::source::{Source, Span, Spanned};

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
            column_options: Vec::new(),
            expressions: Vec::new(),
            method: None,
            include: Vec::new(),
            nulls_not_distinct: false,
            on_unsupported_where: UnsupportedWhere::Refuse,
        };
        if let Some(table) = entry.as_table_like() {
            parse_index_table(src, table, &span, &mut index)?;
        } else if entry.as_array().is_some() {
            index.columns = str_list(src, entry, &span, "an index", false)?;
            index.column_options = vec![KeyOptions::default(); index.columns.len()];
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

fn parse_index_table(
    src: &Source,
    table: &dyn TableLike,
    span: &Span,
    index: &mut IndexDecl,
) -> Result<(), FileError> {
    let mut columns = None;
    let mut spans: Vec<(&str, Span)> = Vec::new();
    for (key, value) in table.iter() {
        let key_span = key_span(table, key);
        let at = node_span(value, &key_span);
        spans.push((key, at.clone()));
        match key {
            "columns" => columns = Some(key_columns(src, value, &at)?),
            "unique" => index.unique = bool_value(src, value, &at, key)?,
            "name" => index.name = Some(non_empty_str(src, value, &at, key)?),
            "where" => index.predicate = Some(non_empty_str(src, value, &at, key)?),
            "expressions" => index.expressions = expressions(src, value, &at)?,
            "method" => {
                let name = non_empty_str(src, value, &at, key)?;
                index.method = Some(IndexMethod::by_name(&name.value).ok_or_else(|| {
                    let known: Vec<&str> = IndexMethod::ALL.iter().map(|m| m.name()).collect();
                    src.error(
                        &at,
                        format!(
                            "unknown index method `{}` (known: {})",
                            name.value,
                            known.join(", ")
                        ),
                    )
                })?);
            }
            "include" => index.include = str_list(src, value, &at, key, false)?,
            "nulls_distinct" => index.nulls_not_distinct = !bool_value(src, value, &at, key)?,
            "on_unsupported_where" => {
                index.on_unsupported_where = match str_value(src, value, &at, key)?.as_str() {
                    "refuse" => UnsupportedWhere::Refuse,
                    "plain" => UnsupportedWhere::Plain,
                    other => {
                        return Err(src.error(
                            &at,
                            format!(
                                "`on_unsupported_where` is \"refuse\" or \"plain\", not `{other}`"
                            ),
                        ))
                    }
                }
            }
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
    let at = |key: &str| {
        spans
            .iter()
            .find(|(k, _)| *k == key)
            .map_or_else(|| span.clone(), |(_, s)| s.clone())
    };
    match columns {
        Some((names, options)) => {
            index.columns = names;
            index.column_options = options;
        }
        None if index.expressions.is_empty() => {
            return Err(src.error(
                span,
                "an index needs `columns = [\"field\", …]` or `expressions = [\"lower(field)\"]`",
            ))
        }
        None => {}
    }
    if index.nulls_not_distinct && !index.unique {
        return Err(src.error(
            &at("nulls_distinct"),
            "`nulls_distinct = false` is for unique indexes: add `unique = true`",
        ));
    }
    if let Some(m) = index
        .method
        .filter(|m| *m != IndexMethod::Btree && index.unique)
    {
        return Err(src.error(
            &at("method"),
            format!("a unique index uses the btree method, not {}", m.name()),
        ));
    }
    if index.on_unsupported_where == UnsupportedWhere::Plain && index.predicate.is_none() {
        return Err(src.error(
            &at("on_unsupported_where"),
            "`on_unsupported_where` is for partial indexes: the index has no `where`",
        ));
    }
    Ok(())
}

/// An index's `columns`: field names, or `{ column = "body", length = 100,
/// opclass = "text_pattern_ops" }` for a column with options.
fn key_columns(
    src: &Source,
    node: &dyn Node,
    at: &Span,
) -> Result<(Vec<Spanned<String>>, Vec<KeyOptions>), FileError> {
    let Some(array) = node.as_array() else {
        return Err(src.error(
            at,
            "`columns` must be a list of field names, e.g. [\"name\"] or [{ column = \"body\", length = 100 }]",
        ));
    };
    if array.is_empty() {
        return Err(src.error(at, "`columns` names no fields"));
    }
    let mut names = Vec::new();
    let mut options = Vec::new();
    for value in array {
        let span = node_span(value, at);
        let Some(table) = value.as_inline_table() else {
            names.push(non_empty_str(src, value, &span, "a field name")?);
            options.push(KeyOptions::default());
            continue;
        };
        let mut name = None;
        let mut option = KeyOptions::default();
        for (key, v) in table {
            let key_span = key_span(table, key);
            let at = node_span(v, &key_span);
            match key {
                "column" => name = Some(non_empty_str(src, v, &at, key)?),
                "length" => {
                    let n = v
                        .as_integer()
                        .and_then(|n| u32::try_from(n).ok())
                        .filter(|n| *n > 0)
                        .ok_or_else(|| {
                            src.error(
                                &at,
                                "`length` must be a positive whole number of characters",
                            )
                        })?;
                    option.length = Some(n);
                }
                "opclass" => {
                    let name = non_empty_str(src, v, &at, key)?.value;
                    if !crate::naming::is_plain_name(&name) {
                        return Err(src.error(
                            &at,
                            format!("operator class `{name}` is not a plain name (letters, digits, `_`, optionally `schema.`)"),
                        ));
                    }
                    option.opclass = Some(name);
                }
                _ => {
                    return Err(src.error(
                        &key_span,
                        format!(
                            "unknown key `{key}` in an index column{}",
                            known_keys_hint(key, KEY_COLUMN_KEYS)
                        ),
                    ))
                }
            }
        }
        names.push(name.ok_or_else(|| {
            src.error(
                &span,
                "an index column written as a table needs `column = \"field\"`",
            )
        })?);
        options.push(option);
    }
    Ok((names, options))
}

/// `expressions = ["lower(email)"]`: each a non-empty string, checked later against
/// the table's columns.
fn expressions(
    src: &Source,
    node: &dyn Node,
    at: &Span,
) -> Result<Vec<Spanned<String>>, FileError> {
    let Some(array) = node.as_array() else {
        return Err(src.error(
            at,
            "`expressions` must be a list of expressions, e.g. [\"lower(email)\"]",
        ));
    };
    if array.is_empty() {
        return Err(src.error(at, "`expressions` is empty"));
    }
    array
        .iter()
        .map(|v| {
            let span = node_span(v, at);
            non_empty_str(src, v, &span, "an index expression")
        })
        .collect()
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

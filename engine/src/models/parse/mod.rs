//! One app's `models.toml` text → declarations with their source positions.
//!
//! This step knows nothing of other models: names in `references`, `indexes`,
//! `unique` and `primary_key` are checked by `resolve`, which sees every app.
//! The document is read with `toml_edit`, which keeps the order of keys (a model's
//! fields are its columns, in order) and the span of every key and value.

mod decl;
mod lists;
mod node;

use toml_edit::{ImDocument, Item, TableLike, Value};

use super::source::{Source, Span, Spanned};
use super::suggest::closest;
use crate::ast::{Deferrable, FkAction};
use crate::migration::FileError;
use crate::types::{ColumnType, TypeError};

pub(crate) use decl::*;
use lists::{parse_checks, parse_indexes, parse_uniques};
use node::*;

/// Keys of a model table.
pub const MODEL_KEYS: &[&str] = &[
    "table",
    "fields",
    "primary_key",
    "indexes",
    "unique",
    "checks",
    "comment",
];

/// Keys of a field written as a table.
pub const FIELD_KEYS: &[&str] = &[
    "type",
    "null",
    "default",
    "unique",
    "column",
    "primary_key",
    "auto",
    "index",
    "references",
    "on_delete",
    "on_update",
    "to_field",
    "deferrable",
    "db_constraint",
    "comment",
    "values",
    "collation",
    "generated",
    "stored",
];

/// The keys only a foreign key (a field with `references`) may have.
const FOREIGN_KEY_ONLY: &[&str] = &[
    "on_delete",
    "on_update",
    "to_field",
    "deferrable",
    "db_constraint",
];

/// The spellings of `deferrable`.
const DEFERRALS: &[(&str, Deferrable)] = &[
    ("deferred", Deferrable::Deferred),
    ("immediate", Deferrable::Immediate),
];

/// Keys of an entry of `indexes` written as a table.
pub const INDEX_KEYS: &[&str] = &[
    "columns",
    "unique",
    "name",
    "where",
    "expressions",
    "method",
    "include",
    "nulls_distinct",
    "on_unsupported_where",
];

/// Keys of an entry of an index's `columns` written as a table.
pub(super) const KEY_COLUMN_KEYS: &[&str] = &["column", "length", "opclass"];

/// Keys of an entry of `unique` written as a table.
pub const UNIQUE_KEYS: &[&str] = &["columns", "name"];

/// Keys of an entry of `checks` written as a table.
pub const CHECK_KEYS: &[&str] = &["expr", "name"];

/// The spellings of `on_delete` / `on_update`.
const ACTIONS: &[(&str, FkAction)] = &[
    ("cascade", FkAction::Cascade),
    ("restrict", FkAction::Restrict),
    ("set null", FkAction::SetNull),
    ("set default", FkAction::SetDefault),
    ("no action", FkAction::NoAction),
];

/// Parses the whole file.
pub(crate) fn parse(src: &Source) -> Result<Vec<ModelDecl>, FileError> {
    let doc = ImDocument::parse(src.text).map_err(|e| {
        // One line, so it reads well after `path:line:column:`.
        let message: Vec<&str> = e
            .message()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        src.error_at(e.span().map_or(0, |s| s.start), message.join("; "))
    })?;
    let root = doc.as_table();
    let mut models = Vec::new();
    for (name, item) in root {
        let span = key_span(root, name);
        models.push(parse_model(src, name, span, item)?);
    }
    Ok(models)
}

fn parse_model(src: &Source, name: &str, span: Span, item: &Item) -> Result<ModelDecl, FileError> {
    let Some(table) = item.as_table_like() else {
        return Err(src.error(
            &span,
            format!(
                "`{name}` must be a model, e.g. `[{name}]` followed by `fields.name = \"text\"`"
            ),
        ));
    };
    if name.is_empty() || name.contains('.') {
        return Err(src.error(
            &span,
            format!("model name `{name}` must be non-empty and without `.` (`references` uses `.` between app and model)"),
        ));
    }
    let mut model = ModelDecl {
        name: name.to_string(),
        span,
        table: None,
        primary_key: None,
        fields: Vec::new(),
        indexes: Vec::new(),
        uniques: Vec::new(),
        checks: Vec::new(),
        comment: None,
    };
    for (key, value) in table.iter() {
        let key_span = key_span(table, key);
        let at = node_span(value, &key_span);
        match key {
            "table" => model.table = Some(non_empty_str(src, value, &at, "table")?),
            "fields" => model.fields = parse_fields(src, name, value, &at)?,
            "primary_key" => {
                model.primary_key = Some(Spanned::new(
                    str_list(src, value, &at, "primary_key", true)?,
                    at,
                ));
            }
            "indexes" => model.indexes = parse_indexes(src, value, &at)?,
            "unique" => model.uniques = parse_uniques(src, value, &at)?,
            "checks" => model.checks = parse_checks(src, value, &at)?,
            "comment" => model.comment = Some(str_value(src, value, &at, key)?),
            _ => {
                let hint = match closest(key, MODEL_KEYS.iter().copied()) {
                    Some(k) => format!("did you mean `{k}`?"),
                    // The usual slip: a field written straight under the model.
                    None => format!(
                        "model keys are {}; fields go under `fields` (`fields.{key} = …` or `[{name}.fields]`)",
                        MODEL_KEYS.join(", ")
                    ),
                };
                return Err(src.error(
                    &key_span,
                    format!("unknown key `{key}` in model `{name}`; {hint}"),
                ));
            }
        }
    }
    Ok(model)
}

fn parse_fields(
    src: &Source,
    model: &str,
    item: &dyn Node,
    at: &Span,
) -> Result<Vec<FieldDecl>, FileError> {
    let Some(table) = item.as_table_like() else {
        return Err(src.error(
            at,
            format!("`fields` of model `{model}` must be a table of field = type, e.g. `fields.name = \"varchar(50)\"`"),
        ));
    };
    table
        .iter()
        .map(|(name, value)| parse_field(src, name, key_span(table, name), value))
        .collect()
}

fn parse_field(
    src: &Source,
    name: &str,
    span: Span,
    node: &dyn Node,
) -> Result<FieldDecl, FileError> {
    let at = node_span(node, &span);
    let mut field = FieldDecl {
        name: name.to_string(),
        span: span.clone(),
        kind: FieldKind::Column {
            ty: ColumnType::Text,
        },
        null: false,
        default: None,
        unique: false,
        index: None,
        column: None,
        primary_key: None,
        auto: None,
        comment: None,
        values: None,
        collation: None,
        generated: None,
        stored: false,
    };
    if let Some(text) = node.as_str() {
        let (ty, null) = parse_type(src, text, &at)?;
        field.kind = FieldKind::Column { ty };
        field.null = null;
        return Ok(field);
    }
    let Some(table) = node.as_table_like() else {
        return Err(src.error(
            &at,
            format!("field `{name}` must be a type like \"varchar(50)\" or a table like {{ type = \"text\", null = true }}"),
        ));
    };

    let keys = read_field_keys(src, name, table, &mut field)?;
    field.kind = field_kind(src, name, &span, &keys, &mut field)?;
    generated_field(src, name, &keys, &mut field)?;
    if let Some((span, null)) = keys.null {
        if field.null && !null {
            return Err(src.error(
                &span,
                format!("field `{name}`: the type's `?` says nullable but `null = false`"),
            ));
        }
        field.null = null;
    }
    Ok(field)
}

/// A generated field is nullable (MariaDB allows no `NOT NULL` on one), has no
/// default and is no key: its value is its expression's.
fn generated_field(
    src: &Source,
    name: &str,
    keys: &FieldKeys,
    field: &mut FieldDecl,
) -> Result<(), FileError> {
    let Some(generated) = &field.generated else {
        if let Some(span) = &keys.stored {
            return Err(src.error(
                span,
                format!("field `{name}`: `stored` needs `generated = \"<expression>\"`"),
            ));
        }
        return Ok(());
    };
    let refusal = if matches!(field.kind, FieldKind::ForeignKey { .. }) {
        Some((&generated.span, "a foreign key cannot be generated"))
    } else if let Some(d) = &field.default {
        Some((
            &d.span,
            "a generated field has no default: its value is its expression's",
        ))
    } else if let Some(span) = field.auto.as_ref().or(field.primary_key.as_ref()) {
        Some((
            span,
            "a generated field cannot be `auto` or the primary key",
        ))
    } else if let Some((span, false)) = &keys.null {
        Some((
            span,
            "a generated field is nullable (MariaDB allows no NOT NULL on one); remove `null = false`",
        ))
    } else {
        None
    };
    if let Some((span, why)) = refusal {
        return Err(src.error(span, format!("field `{name}`: {why}")));
    }
    field.null = true;
    Ok(())
}

/// The keys of a field table whose meaning depends on the others (which ones are
/// allowed depends on `references`); the rest go straight into the field.
#[derive(Default)]
struct FieldKeys {
    ty: Option<(Span, ColumnType, bool)>,
    null: Option<(Span, bool)>,
    references: Option<Spanned<String>>,
    on_delete: Option<(Span, Spanned<FkAction>)>,
    on_update: Option<(Span, Spanned<FkAction>)>,
    to_field: Option<(Span, Spanned<String>)>,
    deferrable: Option<(Span, Spanned<Deferrable>)>,
    db_constraint: Option<(Span, bool)>,
    stored: Option<Span>,
}

/// Reads every key of a field table, each checked for its own type.
fn read_field_keys(
    src: &Source,
    name: &str,
    table: &dyn TableLike,
    field: &mut FieldDecl,
) -> Result<FieldKeys, FileError> {
    let mut keys = FieldKeys::default();
    for (key, value) in table.iter() {
        let key_span = key_span(table, key);
        let at = node_span(value, &key_span);
        match key {
            "type" => {
                let text = str_value(src, value, &at, "type")?;
                let (t, nullable) = parse_type(src, &text, &at)?;
                keys.ty = Some((key_span, t, nullable));
            }
            "null" => keys.null = Some((at.clone(), bool_value(src, value, &at, key)?)),
            "default" => field.default = Some(Spanned::new(literal(src, value, &at)?, at)),
            "unique" => field.unique = bool_value(src, value, &at, key)?,
            "index" => field.index = Some(bool_value(src, value, &at, key)?),
            "column" => field.column = Some(non_empty_str(src, value, &at, key)?),
            "primary_key" => {
                field.primary_key = bool_value(src, value, &at, key)?.then_some(key_span);
            }
            "auto" => field.auto = bool_value(src, value, &at, key)?.then_some(key_span),
            // PostgreSQL's `COMMENT … IS ''` removes a comment and MySQL reads an empty
            // one back as none: an empty comment could never round-trip.
            "comment" => field.comment = Some(non_empty_str(src, value, &at, key)?.value),
            "values" => field.values = Some(Spanned::new(text_list(src, value, &at)?, at)),
            "collation" => {
                field.collation = Some(Spanned::new(collation(src, value, &at, name)?, at));
            }
            "generated" => field.generated = Some(non_empty_str(src, value, &at, key)?),
            "stored" => {
                field.stored = bool_value(src, value, &at, key)?;
                keys.stored = Some(key_span);
            }
            "references" => keys.references = Some(non_empty_str(src, value, &at, key)?),
            "on_delete" => keys.on_delete = Some((key_span, action(src, value, &at, key)?)),
            "on_update" => keys.on_update = Some((key_span, action(src, value, &at, key)?)),
            "to_field" => keys.to_field = Some((key_span, non_empty_str(src, value, &at, key)?)),
            "deferrable" => {
                keys.deferrable = Some((key_span, deferral(src, value, &at)?));
            }
            "db_constraint" => {
                keys.db_constraint = Some((key_span, bool_value(src, value, &at, key)?));
            }
            _ => {
                return Err(src.error(
                    &key_span,
                    format!(
                        "unknown key `{key}` in field `{name}`{}",
                        known_keys_hint(key, FIELD_KEYS)
                    ),
                ))
            }
        }
    }
    Ok(keys)
}

/// A foreign key (with `references`, and no `type` or `auto` of its own) or a column
/// (with a `type`, and no foreign key actions).
fn field_kind(
    src: &Source,
    name: &str,
    span: &Span,
    keys: &FieldKeys,
    field: &mut FieldDecl,
) -> Result<FieldKind, FileError> {
    if let Some(target) = &keys.references {
        if let Some((span, ..)) = &keys.ty {
            return Err(src.error(
                span,
                format!("foreign key `{name}` takes its type from the referenced model's primary key; remove `type`"),
            ));
        }
        if let Some(span) = &field.auto {
            return Err(src.error(span, format!("foreign key `{name}` cannot be `auto`")));
        }
        return Ok(FieldKind::ForeignKey {
            target: target.clone(),
            on_delete: keys.on_delete.as_ref().map(|(_, a)| a.clone()),
            on_update: keys.on_update.as_ref().map(|(_, a)| a.clone()),
            to_field: keys.to_field.as_ref().map(|(_, f)| f.clone()),
            deferrable: keys.deferrable.as_ref().map(|(_, d)| d.clone()),
            db_constraint: keys.db_constraint.as_ref().is_none_or(|(_, on)| *on),
        });
    }
    let written = [
        keys.on_delete.as_ref().map(|(s, _)| s),
        keys.on_update.as_ref().map(|(s, _)| s),
        keys.to_field.as_ref().map(|(s, _)| s),
        keys.deferrable.as_ref().map(|(s, _)| s),
        keys.db_constraint.as_ref().map(|(s, _)| s),
    ];
    let action_key = FOREIGN_KEY_ONLY
        .iter()
        .zip(written)
        .find_map(|(key, span)| span.map(|s| (*key, s)));
    if let Some((key, span)) = action_key {
        return Err(src.error(
            span,
            format!("`{key}` applies only to a foreign key (a field with `references`)"),
        ));
    }
    let Some((_, ty, nullable)) = &keys.ty else {
        return Err(src.error(
            span,
            format!("field `{name}` needs a `type` (or `references` for a foreign key)"),
        ));
    };
    field.null = *nullable;
    Ok(FieldKind::Column { ty: *ty })
}

/// `values = ["draft", "published"]`: any strings; whether they make an enum is
/// decided with the type.
fn text_list(src: &Source, node: &dyn Node, at: &Span) -> Result<Vec<String>, FileError> {
    let array = node.as_array().ok_or_else(|| {
        src.error(
            at,
            "`values` must be a list of strings, e.g. values = [\"draft\", \"published\"]",
        )
    })?;
    array
        .iter()
        .map(|v| {
            v.as_str().map(str::to_string).ok_or_else(|| {
                src.error(
                    &node_span(v, at),
                    format!("`values` holds strings, not {}", v.type_name()),
                )
            })
        })
        .collect()
}

/// `collation = "name"` (the same name on every backend) or a table of names per
/// backend, `{ postgres = "C", mysql = "utf8mb4_bin", sqlite = "NOCASE" }`.
fn collation(
    src: &Source,
    node: &dyn Node,
    at: &Span,
    field: &str,
) -> Result<std::collections::BTreeMap<String, String>, FileError> {
    use crate::types::COLLATION_BACKENDS;
    let map = if let Some(name) = node.as_str() {
        COLLATION_BACKENDS
            .iter()
            .map(|b| ((*b).to_string(), name.to_string()))
            .collect()
    } else if let Some(table) = node.as_table_like() {
        let mut map = std::collections::BTreeMap::new();
        for (key, value) in table.iter() {
            let key_at = key_span(table, key);
            map.insert(
                key.to_string(),
                str_value(src, value, &node_span(value, &key_at), key)?,
            );
        }
        map
    } else {
        return Err(src.error(
            at,
            "`collation` is a name or a table of names per backend, e.g. { postgres = \"C\", mysql = \"utf8mb4_bin\", sqlite = \"NOCASE\" }",
        ));
    };
    if let Some(problem) = crate::types::collation_problem(&map) {
        return Err(src.error(at, format!("field `{field}`: {problem}")));
    }
    Ok(map)
}

/// A type string; a trailing `?` makes the column nullable.
fn parse_type(src: &Source, text: &str, at: &Span) -> Result<(ColumnType, bool), FileError> {
    let trimmed = text.trim();
    let (name, nullable) = match trimmed.strip_suffix('?') {
        Some(name) => (name.trim_end(), true),
        None => (trimmed, false),
    };
    match name.parse::<ColumnType>() {
        Ok(ty) => Ok((ty, nullable)),
        Err(TypeError::Unknown { .. }) => Err(src.error(at, unknown_type(name))),
        Err(e) => Err(src.error(at, e.to_string())),
    }
}

/// "unknown type" with the nearest known type, keeping the user's arguments
/// (`varchr(5)` → `varchar(5)`).
fn unknown_type(name: &str) -> String {
    let (base, args) = match name.split_once('(') {
        Some((base, rest)) => (base.trim(), Some(rest.trim_end_matches(')'))),
        None => (name, None),
    };
    let bases = ColumnType::NAMES
        .iter()
        .map(|n| n.split_once('(').map_or(*n, |(b, _)| b));
    let Some(found) = closest(base, bases) else {
        return format!(
            "unknown type `{name}`; known types: {}",
            ColumnType::NAMES.join(", ")
        );
    };
    let known = ColumnType::NAMES
        .iter()
        .find(|n| n.split_once('(').map_or(**n, |(b, _)| b) == found)
        .copied()
        .unwrap_or(found);
    let suggestion = match (known.contains('('), args) {
        (true, Some(args)) => format!("{found}({args})"),
        _ => known.to_string(),
    };
    format!("unknown type `{name}`; did you mean `{suggestion}`?")
}

fn action(
    src: &Source,
    node: &dyn Node,
    at: &Span,
    key: &str,
) -> Result<Spanned<FkAction>, FileError> {
    let text = str_value(src, node, at, key)?;
    ACTIONS
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, a)| Spanned::new(*a, at.clone()))
        .ok_or_else(|| {
            let names = ACTIONS.iter().map(|(n, _)| *n);
            let hint = match closest(&text, names.clone()) {
                Some(n) => format!("did you mean `{n}`?"),
                None => format!("one of: {}", names.collect::<Vec<_>>().join(", ")),
            };
            src.error(at, format!("unknown `{key}` action `{text}`; {hint}"))
        })
}

fn deferral(src: &Source, node: &dyn Node, at: &Span) -> Result<Spanned<Deferrable>, FileError> {
    let text = str_value(src, node, at, "deferrable")?;
    DEFERRALS
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, d)| Spanned::new(*d, at.clone()))
        .ok_or_else(|| {
            let names = DEFERRALS.iter().map(|(n, _)| *n);
            let hint = match closest(&text, names.clone()) {
                Some(n) => format!("did you mean `{n}`?"),
                None => "one of: deferred, immediate".to_string(),
            };
            src.error(at, format!("unknown `deferrable` value `{text}`; {hint}"))
        })
}

fn literal(src: &Source, node: &dyn Node, at: &Span) -> Result<Literal, FileError> {
    let value = node.as_value().ok_or_else(|| bad_default(src, at))?;
    Ok(match value {
        Value::String(s) => Literal::Text(s.value().clone()),
        Value::Integer(i) => Literal::Int(*i.value()),
        Value::Float(f) => Literal::Float(*f.value()),
        Value::Boolean(b) => Literal::Bool(*b.value()),
        // SQL spells a timestamp with a space where TOML writes `T`.
        Value::Datetime(d) => Literal::Temporal(d.value().to_string().replacen('T', " ", 1)),
        Value::Array(_) | Value::InlineTable(_) => return Err(bad_default(src, at)),
    })
}

fn bad_default(src: &Source, at: &Span) -> FileError {
    src.error(
        at,
        "`default` must be a literal (a number, a string, true or false) or \"now\" / \"uuid\"",
    )
}

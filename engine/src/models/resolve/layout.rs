//! What one model says about its own columns, needing no other model: the column
//! of each field, the primary key, and which column a listed name stands for.

use super::{ModelRef, PrimaryKey, IMPLICIT_ID};
use crate::migration::FileError;
use crate::models::parse::{FieldDecl, FieldKind, ModelDecl};
use crate::models::source::{Span, Spanned};
use crate::models::suggest::closest;

impl ModelRef<'_> {
    /// Field names (or column names) → column names.
    pub(super) fn columns_of(
        &self,
        names: &[Spanned<String>],
        what: &str,
    ) -> Result<Vec<String>, FileError> {
        names.iter().map(|n| column_of(self, n, what)).collect()
    }
}

/// The column of each field, refusing two fields on one column.
pub(super) fn columns(model: &ModelRef) -> Result<Vec<String>, FileError> {
    let src = model.src();
    let implicit = !has_declared_key(model.decl);
    let mut columns: Vec<String> = Vec::new();
    for field in &model.decl.fields {
        let column = field_column(field);
        let at = field.column.as_ref().map_or(&field.span, |c| &c.span);
        if implicit && column == IMPLICIT_ID {
            return Err(src.error(
                at,
                format!(
                    "field `{}` clashes with the implicit primary key column `id`; mark it `primary_key = true` or rename it",
                    field.name
                ),
            ));
        }
        if let Some(other) = columns.iter().position(|c| *c == column) {
            return Err(src.error(
                at,
                format!(
                    "field `{}` uses column `{column}`, which is already the column of field `{}`",
                    field.name, model.decl.fields[other].name
                ),
            ));
        }
        columns.push(column);
    }
    Ok(columns)
}

/// `column`, else the field's name (`<field>_id` for a foreign key, as in Django).
fn field_column(field: &FieldDecl) -> String {
    match (&field.column, &field.kind) {
        (Some(c), _) => c.value.clone(),
        (None, FieldKind::ForeignKey { .. }) => format!("{}_id", field.name),
        (None, FieldKind::Column { .. }) => field.name.clone(),
    }
}

fn has_declared_key(decl: &ModelDecl) -> bool {
    decl.primary_key.is_some() || decl.fields.iter().any(|f| f.primary_key.is_some())
}

/// The primary key, declared on the model or on one field, never both.
pub(super) fn primary_key(model: &ModelRef) -> Result<PrimaryKey, FileError> {
    let decl = model.decl;
    let src = model.src();
    let flagged: Vec<(usize, &Span)> = decl
        .fields
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.primary_key.as_ref().map(|s| (i, s)))
        .collect();
    if let Some(list) = &decl.primary_key {
        if let Some((_, span)) = flagged.first() {
            return Err(src.error(
                span,
                format!(
                    "model `{}` already lists its `primary_key`; say it once",
                    decl.name
                ),
            ));
        }
        let mut fields = Vec::new();
        for name in &list.value {
            let column = column_of(model, name, "`primary_key`")?;
            let f = model
                .columns
                .iter()
                .position(|c| *c == column)
                .expect("column_of found it");
            if fields.contains(&f) {
                return Err(src.error(&name.span, format!("`{}` is listed twice", name.value)));
            }
            fields.push(f);
        }
        return Ok(PrimaryKey::Fields(fields));
    }
    match flagged.as_slice() {
        [] => Ok(PrimaryKey::Implicit),
        [(f, _)] => Ok(PrimaryKey::Fields(vec![*f])),
        [_, (_, span), ..] => Err(src.error(
            span,
            format!(
                "model `{}` has `primary_key = true` on several fields; write a composite key as the model's `primary_key = [\"a\", \"b\"]`",
                decl.name
            ),
        )),
    }
}

/// The column a name in `indexes`, `unique` or `primary_key` stands for: a field's
/// name, a field's column name, or the implicit `id`.
fn column_of(model: &ModelRef, name: &Spanned<String>, what: &str) -> Result<String, FileError> {
    let decl = model.decl;
    let fields = &decl.fields;
    if let Some(f) = fields.iter().position(|f| f.name == name.value) {
        return Ok(model.columns[f].clone());
    }
    if model.columns.contains(&name.value) || (name.value == IMPLICIT_ID && !has_declared_key(decl))
    {
        return Ok(name.value.clone());
    }
    let mut candidates: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    if !has_declared_key(decl) {
        candidates.push(IMPLICIT_ID);
    }
    let hint = match closest(&name.value, candidates.iter().copied()) {
        Some(c) => format!("; did you mean `{c}`?"),
        None => format!("; its fields are {}", candidates.join(", ")),
    };
    Err(model.src().error(
        &name.span,
        format!(
            "{what} of model `{}` names unknown field `{}`{hint}",
            decl.name, name.value
        ),
    ))
}

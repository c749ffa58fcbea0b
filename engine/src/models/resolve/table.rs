//! One model → its `TableDef`: columns, keys, constraints and indexes, with the
//! generated names migrations use (`<table>_<columns>_uniq` / `_idx` / `_fk`).

use std::collections::{BTreeMap, BTreeSet};

use super::default::default_value;
use super::{ModelRef, PrimaryKey, Resolver, IMPLICIT_ID};
use crate::ast::*;
use crate::expr::{self, Scope};
use crate::migration::FileError;
use crate::models::parse::{FieldDecl, FieldKind};
use crate::models::source::{Source, Span, Spanned};
use crate::naming::{generated_name, index_name};
use crate::types::ColumnType;

impl Resolver<'_> {
    /// The table of model `m`, with its foreign keys.
    pub(super) fn table(&self, m: usize) -> Result<TableDef, FileError> {
        let model = &self.models[m];
        let mut t = TableDef {
            name: model.table.clone(),
            columns: Vec::new(),
            primary_key: Vec::new(),
            uniques: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            indexes: Vec::new(),
            comment: model.decl.comment.clone(),
            ..Default::default()
        };
        match &model.primary_key {
            PrimaryKey::Implicit => {
                t.columns.push(ColumnDef {
                    name: IMPLICIT_ID.into(),
                    ty: ColumnType::BigInt,
                    null: false,
                    default: None,
                    auto: true,
                    ..Default::default()
                });
                t.primary_key.push(IMPLICIT_ID.into());
            }
            PrimaryKey::Fields(fields) => {
                t.primary_key = fields.iter().map(|&f| model.columns[f].clone()).collect();
            }
        }
        let mut names = ObjectNames::default();
        for f in 0..model.decl.fields.len() {
            let column = self.column(m, f, &t.primary_key)?;
            t.columns.push(column);
            self.field_objects(m, f, &mut t, &mut names)?;
        }
        generated_expressions(model, &t)?;
        model_objects(model, &mut t, &mut names)?;
        Ok(t)
    }

    /// The column of field `f`, checked against the key it may be part of.
    fn column(&self, m: usize, f: usize, primary_key: &[String]) -> Result<ColumnDef, FileError> {
        let model = &self.models[m];
        let field = &model.decl.fields[f];
        let src = model.src();
        let name = model.columns[f].clone();
        let ty = self.field_type(m, f, &mut Vec::new())?;
        let default = match &field.default {
            Some(d) => Some(default_value(&src, d, ty, &field.name)?),
            None => None,
        };
        if let Some(span) = &field.auto {
            let problem = if !ty.is_integer() {
                Some(format!("`auto` needs an integer type, not {ty}"))
            } else if primary_key != [name.clone()] {
                Some(format!(
                    "`auto` field `{}` must be the model's whole primary key (`primary_key = true`)",
                    field.name
                ))
            } else if default.is_some() {
                Some(format!(
                    "`auto` field `{}` cannot have a default",
                    field.name
                ))
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(src.error(span, problem));
            }
        }
        if field.null && primary_key.contains(&name) {
            return Err(src.error(
                &field.span,
                format!("primary key field `{}` cannot be nullable", field.name),
            ));
        }
        let values = enum_values(&src, field, ty, default.as_ref())?;
        let collation = match &field.collation {
            Some(c) if !ty.is_textual() || matches!(ty, ColumnType::Uuid | ColumnType::Json) => {
                return Err(src.error(
                    &c.span,
                    format!(
                        "field `{}`: a collation belongs to char, varchar, text or enum, not {ty}",
                        field.name
                    ),
                ))
            }
            Some(c) => c.value.clone(),
            None => std::collections::BTreeMap::new(),
        };
        Ok(ColumnDef {
            name,
            ty,
            null: field.null,
            default,
            auto: field.auto.is_some(),
            comment: field.comment.clone(),
            values,
            collation,
            generated: field.generated.as_ref().map(|g| Generated {
                expr: g.value.clone(),
                stored: field.stored,
            }),
            ..Default::default()
        })
    }

    /// What field `f` adds besides its column: its unique constraint, foreign key
    /// and index.
    fn field_objects(
        &self,
        m: usize,
        f: usize,
        t: &mut TableDef,
        names: &mut ObjectNames,
    ) -> Result<(), FileError> {
        let model = &self.models[m];
        let field = &model.decl.fields[f];
        let src = model.src();
        let columns = vec![model.columns[f].clone()];
        let in_key = t.primary_key.contains(&columns[0]);
        if field.unique {
            let name = names.claim(&src, generated_name(&t.name, &columns, "uniq"), &field.span)?;
            t.uniques.push(UniqueDef {
                name,
                columns: columns.clone(),
            });
        }
        if let FieldKind::ForeignKey {
            target,
            on_delete,
            on_update,
            to_field,
            deferrable,
            db_constraint,
        } = &field.kind
        {
            let target_model = self.target(m, target)?;
            let (referenced, _) = match to_field {
                Some(to_field) => self.to_field(m, target_model, to_field)?,
                None => self.single_key(m, &target.span, target_model)?,
            };
            require_nullable_for_set_null(&src, field)?;
            let name = names.claim(&src, generated_name(&t.name, &columns, "fk"), &field.span)?;
            t.foreign_keys.push(ForeignKeyDef {
                name,
                columns: columns.clone(),
                references: self.models[target_model].table.clone(),
                referenced_columns: vec![referenced],
                on_delete: on_delete.as_ref().map(|a| a.value),
                on_update: on_update.as_ref().map(|a| a.value),
                deferrable: deferrable.as_ref().map(|d| d.value),
                db_constraint: *db_constraint,
            });
        }
        // A foreign key gets an index, as in Django, unless a unique constraint or
        // the primary key already indexes its column.
        let is_fk = matches!(field.kind, FieldKind::ForeignKey { .. });
        if field.index.unwrap_or(is_fk && !field.unique && !in_key) {
            let name = names.claim(&src, generated_name(&t.name, &columns, "idx"), &field.span)?;
            t.indexes.push(IndexDef {
                name,
                columns,
                unique: false,
                predicate: None,
                ..Default::default()
            });
        }
        Ok(())
    }
}

/// The model's own `indexes`, `unique` and `checks`, after the fields' objects.
fn model_objects(
    model: &ModelRef,
    t: &mut TableDef,
    names: &mut ObjectNames,
) -> Result<(), FileError> {
    let src = model.src();
    let decl = model.decl;
    for index in &decl.indexes {
        let columns = model.columns_of(&index.columns, "an index")?;
        let mut opclasses = BTreeMap::new();
        let mut lengths = BTreeMap::new();
        for (column, option) in columns.iter().zip(&index.column_options) {
            if let Some(o) = &option.opclass {
                opclasses.insert(column.clone(), o.clone());
            }
            if let Some(n) = option.length {
                lengths.insert(column.clone(), n);
            }
        }
        let expressions = index
            .expressions
            .iter()
            .map(|e| checked_expr(&src, t, e, "the index expression"))
            .collect::<Result<Vec<_>, _>>()?;
        let mut def = IndexDef {
            columns,
            unique: index.unique,
            predicate: index
                .predicate
                .as_ref()
                .map(|p| checked_expr(&src, t, p, "the index `where`"))
                .transpose()?,
            expressions,
            method: index.method,
            opclasses,
            include: model.columns_of(&index.include, "an index's `include`")?,
            lengths,
            nulls_not_distinct: index.nulls_not_distinct,
            on_unsupported_where: index.on_unsupported_where,
            ..Default::default()
        };
        let (name, at) = match &index.name {
            Some(n) => (n.value.clone(), &n.span),
            None => (index_name(&t.name, &def), &index.span),
        };
        def.name = names.claim(&src, name, at)?;
        t.indexes.push(def);
    }
    for unique in &decl.uniques {
        let columns = model.columns_of(&unique.columns, "a unique constraint")?;
        let (name, at) = match &unique.name {
            Some(n) => (n.value.clone(), &n.span),
            None => (generated_name(&t.name, &columns, "uniq"), &unique.span),
        };
        t.uniques.push(UniqueDef {
            name: names.claim(&src, name, at)?,
            columns,
        });
    }
    for check in &decl.checks {
        let (name, at) = match &check.name {
            Some(n) => (n.value.clone(), &n.span),
            None => (generated_name(&t.name, &[], &check.key), &check.span),
        };
        t.checks.push(CheckDef {
            name: names.claim(&src, name, at)?,
            expr: checked_expr(&src, t, &check.expr, &format!("check `{}`", check.key))?,
        });
    }
    Ok(())
}

/// Each generated field's expression, over the table's other, non-generated columns.
fn generated_expressions(model: &ModelRef, t: &TableDef) -> Result<(), FileError> {
    let src = model.src();
    for (f, field) in model.decl.fields.iter().enumerate() {
        let Some(text) = &field.generated else {
            continue;
        };
        let own = &model.columns[f];
        let columns: Vec<&str> = t
            .columns
            .iter()
            .filter(|c| c.generated.is_none() && c.name != *own)
            .map(|c| c.name.as_str())
            .collect();
        let scope = Scope {
            table: &t.name,
            columns: &columns,
        };
        if let Err(e) = expr::parse(&text.value, Some(&scope)) {
            return Err(src.error_in_string(
                &text.span,
                &text.value,
                e.offset,
                format!(
                    "generated field `{}`: {} (it may name only the model's other, non-generated fields)",
                    field.name, e.message
                ),
            ));
        }
    }
    Ok(())
}

/// An expression of the model's table, refused at the offending part of its string:
/// one expression over the table's own columns (see `crate::expr`).
fn checked_expr(
    src: &Source,
    t: &TableDef,
    text: &Spanned<String>,
    what: &str,
) -> Result<String, FileError> {
    let columns: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    let scope = Scope {
        table: &t.name,
        columns: &columns,
    };
    match expr::parse(&text.value, Some(&scope)) {
        Ok(_) => Ok(text.value.clone()),
        Err(e) => Err(src.error_in_string(
            &text.span,
            &text.value,
            e.offset,
            format!("{what}: {}", e.message),
        )),
    }
}

/// `set null` writes NULL into the column, so the column must accept it.
fn require_nullable_for_set_null(src: &Source, field: &FieldDecl) -> Result<(), FileError> {
    let FieldKind::ForeignKey {
        on_delete,
        on_update,
        ..
    } = &field.kind
    else {
        return Ok(());
    };
    match [on_delete, on_update]
        .into_iter()
        .flatten()
        .find(|a| a.value == FkAction::SetNull && !field.null)
    {
        Some(action) => Err(src.error(
            &action.span,
            format!(
                "`set null` needs a nullable field; add `null = true` to `{}`",
                field.name
            ),
        )),
        None => Ok(()),
    }
}

/// The index and constraint names of one model, to place a clash at the second
/// declaration (a clash between models is found when the tables are validated).
#[derive(Default)]
pub(super) struct ObjectNames {
    taken: BTreeSet<String>,
}

impl ObjectNames {
    fn claim(&mut self, src: &Source, name: String, at: &Span) -> Result<String, FileError> {
        if !self.taken.insert(name.clone()) {
            return Err(src.error(
                at,
                format!("the index or constraint name `{name}` is used twice in this model"),
            ));
        }
        Ok(name)
    }
}

/// The `values` of an `enum` field, checked: every other type has none.
fn enum_values(
    src: &Source,
    field: &FieldDecl,
    ty: ColumnType,
    default: Option<&DefaultValue>,
) -> Result<Vec<String>, FileError> {
    let Some(values) = &field.values else {
        if ty == ColumnType::Enum {
            return Err(src.error(
                &field.span,
                format!(
                    "enum field `{}` needs its `values`, e.g. {{ type = \"enum\", values = [\"draft\", \"published\"] }}",
                    field.name
                ),
            ));
        }
        return Ok(Vec::new());
    };
    if ty != ColumnType::Enum {
        return Err(src.error(
            &values.span,
            format!(
                "`values` belongs to an enum field; `{}` is {ty} (write type = \"enum\")",
                field.name
            ),
        ));
    }
    if let Some(problem) = crate::types::enum_values_problem(&values.value) {
        return Err(src.error(&values.span, format!("field `{}`: {problem}", field.name)));
    }
    if let (Some(DefaultValue::Text(d)), Some(at)) = (default, &field.default) {
        if !values.value.contains(d) {
            return Err(src.error(
                &at.span,
                format!(
                    "field `{}`: default {d:?} is not one of its values",
                    field.name
                ),
            ));
        }
    }
    Ok(values.value.clone())
}

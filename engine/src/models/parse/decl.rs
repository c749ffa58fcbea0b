//! What a `models.toml` declares, as written, with where it was written.

use crate::ast::{Deferrable, FkAction, IndexMethod, UnsupportedWhere};
use crate::models::source::{Span, Spanned};
use crate::types::ColumnType;

/// A model as written: one table of the schema.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ModelDecl {
    pub name: String,
    /// The model's key (`[Category]`): where model-wide errors point.
    pub span: Span,
    pub table: Option<Spanned<String>>,
    /// `primary_key = [...]`; an empty list means "no primary key".
    pub primary_key: Option<Spanned<Vec<Spanned<String>>>>,
    pub fields: Vec<FieldDecl>,
    pub indexes: Vec<IndexDecl>,
    pub uniques: Vec<UniqueDecl>,
    pub checks: Vec<CheckDecl>,
    /// `comment = "…"`: the table's database comment.
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldDecl {
    pub name: String,
    /// The field's key.
    pub span: Span,
    pub kind: FieldKind,
    pub null: bool,
    pub default: Option<Spanned<Literal>>,
    pub unique: bool,
    /// `index = …` as written; foreign keys default to an index, other fields not.
    pub index: Option<bool>,
    pub column: Option<Spanned<String>>,
    /// The span of `primary_key = true`, when written.
    pub primary_key: Option<Span>,
    /// The span of `auto = true`, when written.
    pub auto: Option<Span>,
    /// `comment = "…"`: the column's database comment.
    pub comment: Option<String>,
    /// `values = [...]`: an `enum` field's strings, checked once the type is known.
    pub values: Option<Spanned<Vec<String>>>,
    /// `collation = "C"` (every backend) or `{ postgres = "C", … }`, as written.
    pub collation: Option<Spanned<std::collections::BTreeMap<String, String>>>,
    /// `generated = "…"`: the expression of a generated column.
    pub generated: Option<Spanned<String>>,
    /// `stored = true`: the generated column is stored, not virtual.
    pub stored: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FieldKind {
    Column {
        ty: ColumnType,
    },
    /// Typed later, as the referenced model's primary key.
    ForeignKey {
        /// `"Model"` or `"app.Model"`.
        target: Spanned<String>,
        on_delete: Option<Spanned<FkAction>>,
        on_update: Option<Spanned<FkAction>>,
        /// `to_field = "…"`: a unique field of the target instead of its primary key.
        to_field: Option<Spanned<String>>,
        deferrable: Option<Spanned<Deferrable>>,
        /// `db_constraint = false`: no `FOREIGN KEY` in the database.
        db_constraint: bool,
    },
}

/// A `default` as written; whether it fits is known once the column's type is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    /// A TOML date, time or datetime (`default = 2024-01-01`).
    Temporal(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IndexDecl {
    pub span: Span,
    /// Field names (a column name is accepted too).
    pub columns: Vec<Spanned<String>>,
    pub unique: bool,
    pub name: Option<Spanned<String>>,
    /// The `where` string, placed for errors in the expression.
    pub predicate: Option<Spanned<String>>,
    /// Per entry of `columns`: its `length` and `opclass`, when written as a table.
    pub column_options: Vec<KeyOptions>,
    /// `expressions = ["lower(email)"]`, each placed for errors in it.
    pub expressions: Vec<Spanned<String>>,
    pub method: Option<IndexMethod>,
    /// `include = [...]`: field names.
    pub include: Vec<Spanned<String>>,
    /// `nulls_distinct = false`.
    pub nulls_not_distinct: bool,
    pub on_unsupported_where: UnsupportedWhere,
}

/// What `{ column = "body", length = 100, opclass = "…" }` adds to a key column.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct KeyOptions {
    pub length: Option<u32>,
    pub opclass: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UniqueDecl {
    pub span: Span,
    pub columns: Vec<Spanned<String>>,
    pub name: Option<Spanned<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CheckDecl {
    /// The key; the constraint is named `<table>_<key>` unless `name` says otherwise.
    pub key: String,
    pub span: Span,
    /// The expression string, placed for errors in it.
    pub expr: Spanned<String>,
    /// The database name the user chose (`{ expr = …, name = … }`).
    pub name: Option<Spanned<String>>,
}

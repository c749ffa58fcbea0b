//! One table → one model: its fields first (each taking the objects a field flag
//! can say), then the model keys for whatever is left.

use std::collections::BTreeSet;
// `writeln!` into a `String`, which cannot fail.
use std::fmt::Write as _;

use super::syntax::{default_literal, inline, key, list, string};
use super::ModelNames;
use crate::ast::*;
use crate::naming::{generated_name, index_name};
use crate::state::{is_unique_key, SchemaState};
use crate::types::ColumnType;

pub(super) struct ModelWriter<'a> {
    app: &'a str,
    t: &'a TableDef,
    schema: &'a SchemaState,
    names: &'a ModelNames,
    /// What models.toml cannot say exactly, for `# NOTE:` lines.
    notes: Vec<String>,
    /// The objects no field flag has taken yet.
    uniques: Vec<&'a UniqueDef>,
    indexes: Vec<&'a IndexDef>,
    foreign_keys: Vec<&'a ForeignKeyDef>,
    fields: Vec<Field<'a>>,
}

/// How one column is written.
struct Field<'a> {
    name: String,
    column: &'a ColumnDef,
    foreign_key: Option<&'a ForeignKeyDef>,
    /// The generated-name unique constraint on just this column exists.
    unique: bool,
    /// The generated-name plain index on just this column exists.
    index: bool,
}

impl<'a> ModelWriter<'a> {
    pub(super) fn new(
        app: &'a str,
        t: &'a TableDef,
        schema: &'a SchemaState,
        names: &'a ModelNames,
    ) -> Self {
        Self {
            app,
            t,
            schema,
            names,
            notes: Vec::new(),
            uniques: t.uniques.iter().collect(),
            indexes: t.indexes.iter().collect(),
            foreign_keys: t.foreign_keys.iter().collect(),
            fields: Vec::new(),
        }
    }

    pub(super) fn write(mut self) -> String {
        let model = self.names.model(&self.t.name);
        self.collect_fields();
        let head = self.model_keys(&model);
        let body: Vec<String> = (0..self.fields.len()).map(|f| self.field_line(f)).collect();

        let mut out = String::new();
        for note in &self.notes {
            let _ = writeln!(out, "# NOTE: {note}");
        }
        if !head.is_empty() || body.is_empty() {
            let _ = writeln!(out, "[{}]", key(&model));
            for line in &head {
                let _ = writeln!(out, "{line}");
            }
        }
        if !body.is_empty() {
            if !head.is_empty() {
                out.push('\n');
            }
            let _ = writeln!(out, "[{}.fields]", key(&model));
            for line in &body {
                let _ = writeln!(out, "{line}");
            }
        }
        out
    }

    /// One field per column (but the implicit `id`), taking the foreign key,
    /// unique constraint and index a field can declare itself.
    fn collect_fields(&mut self) {
        let t = self.t;
        let implicit_id = is_implicit_id(t);
        let column_names: BTreeSet<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        let mut field_names: BTreeSet<String> = BTreeSet::new();
        if implicit_id {
            field_names.insert("id".into());
        }
        for c in &t.columns {
            if implicit_id && c.name == "id" {
                continue;
            }
            let cols = vec![c.name.clone()];
            let expressible = self
                .foreign_keys
                .iter()
                .position(|fk| self.expressible(fk, c));
            let foreign_key = expressible.map(|i| self.foreign_keys.remove(i));
            let name = match foreign_key {
                Some(fk) => {
                    let generated = generated_name(&t.name, &cols, "fk");
                    if fk.name != generated {
                        self.notes.push(format!(
                            "foreign key `{}` will be named `{generated}`",
                            fk.name
                        ));
                    }
                    // `author_id` → field `author`, unless that name is taken.
                    c.name
                        .strip_suffix("_id")
                        .filter(|n| {
                            !n.is_empty() && !column_names.contains(n) && !field_names.contains(*n)
                        })
                        .unwrap_or(&c.name)
                        .to_string()
                }
                None => c.name.clone(),
            };
            field_names.insert(name.clone());
            let unique_name = generated_name(&t.name, &cols, "uniq");
            // A unique on exactly the primary key is written as a unique index (see
            // `keys`): models.toml refuses it as a constraint.
            let unique = take(&mut self.uniques, |u| {
                u.columns == cols && u.name == unique_name && !is_primary_key(t, &u.columns)
            });
            let index_name = generated_name(&t.name, &cols, "idx");
            let index = take(&mut self.indexes, |i| {
                i.columns == cols
                    && !i.unique
                    && i.predicate.is_none()
                    && i.is_plain_key()
                    && i.name == index_name
            });
            self.fields.push(Field {
                name,
                column: c,
                foreign_key,
                unique: unique.is_some(),
                index: index.is_some(),
            });
        }
        for fk in std::mem::take(&mut self.foreign_keys) {
            self.notes.push(format!(
                "foreign key `{}` ({}) → {} ({}) cannot be written in models.toml, which declares only single-column foreign keys to a primary key",
                fk.name,
                fk.columns.join(", "),
                fk.references,
                fk.referenced_columns.join(", ")
            ));
        }
    }

    /// Whether `fk` can be the field of column `c`: a single-column foreign key to
    /// a known table's single-column primary key, or to another unique column of it
    /// (`to_field`).
    fn expressible(&self, fk: &ForeignKeyDef, c: &ColumnDef) -> bool {
        let Some(target) = self.schema.tables.get(&fk.references) else {
            return false;
        };
        let [referenced] = fk.referenced_columns.as_slice() else {
            return false;
        };
        fk.columns == [c.name.clone()]
            && !c.auto
            && is_unique_key(target, &fk.referenced_columns)
            && target.column(referenced).is_some_and(|k| k.ty == c.ty)
    }

    /// `to_field` of a foreign key that does not reference its target's single-column
    /// primary key: the referenced column (models read a column name there too).
    fn to_field(&self, fk: &ForeignKeyDef) -> Option<String> {
        let target = self.schema.tables.get(&fk.references)?;
        let [referenced] = fk.referenced_columns.as_slice() else {
            return None;
        };
        (target.primary_key != fk.referenced_columns).then(|| referenced.clone())
    }

    /// The field names of `columns`.
    fn field_list(&self, columns: &[String]) -> String {
        let names: Vec<String> = columns.iter().map(|c| self.field_name(c)).collect();
        list(&names)
    }

    /// The field of column `c`, by name.
    fn field_name(&self, c: &str) -> String {
        self.fields
            .iter()
            .find(|f| f.column.name == *c)
            .map_or_else(|| c.to_string(), |f| f.name.clone())
    }

    /// `table`, `primary_key`, `indexes`, `unique` and `checks`, when the defaults
    /// and the field flags do not already say them.
    fn model_keys(&mut self, model: &str) -> Vec<String> {
        let t = self.t;
        let mut keys = Vec::new();
        if t.name != format!("{}_{}", self.app, model.to_lowercase()) {
            keys.push(format!("table = {}", string(&t.name)));
        }
        if let Some(comment) = &t.comment {
            keys.push(format!("comment = {}", string(comment)));
        }
        if !is_implicit_id(t) && t.primary_key.len() != 1 {
            keys.push(format!("primary_key = {}", self.field_list(&t.primary_key)));
        }
        // Introspection cannot tell a unique index on the primary key from a unique
        // constraint on it (MySQL and SQLite have only indexes); models.toml accepts
        // only the index, so that is how it is written.
        let (on_key, uniques): (Vec<&UniqueDef>, Vec<&UniqueDef>) = self
            .uniques
            .iter()
            .partition(|u| is_primary_key(t, &u.columns));
        let as_indexes: Vec<IndexDef> = on_key
            .iter()
            .map(|u| IndexDef {
                name: u.name.clone(),
                columns: u.columns.clone(),
                unique: true,
                predicate: None,
                ..Default::default()
            })
            .collect();
        let entries: Vec<String> = self
            .indexes
            .iter()
            .copied()
            .chain(as_indexes.iter())
            .map(|i| self.index(i))
            .collect();
        if !entries.is_empty() {
            keys.push(format!("indexes = [{}]", entries.join(", ")));
        }
        if !uniques.is_empty() {
            let entries: Vec<String> = uniques.iter().map(|u| self.unique(u)).collect();
            keys.push(format!("unique = [{}]", entries.join(", ")));
        }
        if !t.checks.is_empty() {
            let mut used = BTreeSet::new();
            let entries: Vec<String> = t.checks.iter().map(|c| check(t, c, &mut used)).collect();
            keys.push(format!("checks = {}", inline(&entries)));
        }
        keys
    }

    /// An entry of `indexes`: a plain list when the defaults say the rest.
    fn index(&self, i: &IndexDef) -> String {
        let generated = index_name(&self.t.name, i);
        let has_options = !i.opclasses.is_empty() || !i.lengths.is_empty();
        let columns = if has_options {
            let entries: Vec<String> = i
                .columns
                .iter()
                .map(|c| {
                    let (opclass, length) = (i.opclasses.get(c), i.lengths.get(c));
                    let field = string(&self.field_name(c));
                    if opclass.is_none() && length.is_none() {
                        return field;
                    }
                    let mut parts = vec![format!("column = {field}")];
                    if let Some(n) = length {
                        parts.push(format!("length = {n}"));
                    }
                    if let Some(o) = opclass {
                        parts.push(format!("opclass = {}", string(o)));
                    }
                    inline(&parts)
                })
                .collect();
            format!("[{}]", entries.join(", "))
        } else {
            self.field_list(&i.columns)
        };
        let plain = !i.unique && i.predicate.is_none() && i.is_plain_key();
        if plain && i.name == generated {
            return columns;
        }
        let mut parts = Vec::new();
        if !i.columns.is_empty() {
            parts.push(format!("columns = {columns}"));
        }
        if !i.expressions.is_empty() {
            let list: Vec<String> = i.expressions.iter().map(|e| string(e)).collect();
            parts.push(format!("expressions = [{}]", list.join(", ")));
        }
        if i.unique {
            parts.push("unique = true".into());
        }
        if let Some(m) = i.method {
            parts.push(format!("method = {}", string(m.name())));
        }
        if !i.include.is_empty() {
            parts.push(format!("include = {}", self.field_list(&i.include)));
        }
        if i.nulls_not_distinct {
            parts.push("nulls_distinct = false".into());
        }
        if let Some(p) = &i.predicate {
            parts.push(format!("where = {}", string(p)));
        }
        if i.on_unsupported_where == UnsupportedWhere::Plain {
            parts.push("on_unsupported_where = \"plain\"".into());
        }
        if i.name != generated {
            parts.push(format!("name = {}", string(&i.name)));
        }
        inline(&parts)
    }

    /// An entry of `unique`: a plain list unless the name is not the generated one.
    fn unique(&self, u: &UniqueDef) -> String {
        let columns = self.field_list(&u.columns);
        if u.name == generated_name(&self.t.name, &u.columns, "uniq") {
            return columns;
        }
        inline(&[
            format!("columns = {columns}"),
            format!("name = {}", string(&u.name)),
        ])
    }

    /// `name = "type"`, or `name = { … }` with what the type string cannot say.
    fn field_line(&mut self, f: usize) -> String {
        let field = &self.fields[f];
        let (name, c, foreign_key) = (field.name.clone(), field.column, field.foreign_key);
        let (unique, index) = (field.unique, field.index);
        let in_key = self.t.primary_key.contains(&c.name);
        let primary_key = in_key && self.t.primary_key.len() == 1;
        let default = c
            .default
            .as_ref()
            .map(|d| default_literal(d, c.ty, &c.name, &mut self.notes));
        let mut parts = Vec::new();
        let value = if let Some(fk) = foreign_key {
            parts.push(format!(
                "references = {}",
                string(&self.names.reference(&fk.references))
            ));
            if c.name != format!("{name}_id") {
                parts.push(format!("column = {}", string(&c.name)));
            }
            if c.null {
                parts.push("null = true".into());
            }
            if let Some(d) = default {
                parts.push(format!("default = {d}"));
            }
            for (k, action) in [("on_delete", fk.on_delete), ("on_update", fk.on_update)] {
                if let Some(a) = action {
                    parts.push(format!("{k} = {}", string(&a.sql().to_lowercase())));
                }
            }
            if let Some(to_field) = self.to_field(fk) {
                parts.push(format!("to_field = {}", string(&to_field)));
            }
            if let Some(d) = fk.deferrable {
                parts.push(format!("deferrable = {}", string(d.name())));
            }
            if !fk.db_constraint {
                parts.push("db_constraint = false".into());
            }
            if primary_key {
                parts.push("primary_key = true".into());
            }
            if unique {
                parts.push("unique = true".into());
            }
            // Reading gives a foreign key an index unless unique or in the key.
            if index != (!unique && !in_key) {
                parts.push(format!("index = {index}"));
            }
            parts.extend(
                c.comment
                    .as_ref()
                    .map(|t| format!("comment = {}", string(t))),
            );
            inline(&parts)
        } else {
            // A generated field is nullable without saying so.
            let nullable = c.null && c.generated.is_none();
            let ty = format!("{}{}", c.ty, if nullable { "?" } else { "" });
            if default.is_none()
                && !primary_key
                && !c.auto
                && !unique
                && !index
                && c.values.is_empty()
                && c.collation.is_empty()
                && c.comment.is_none()
                && c.generated.is_none()
            {
                string(&ty)
            } else {
                parts.push(format!("type = {}", string(&ty)));
                parts.extend(column_options(c));
                if let Some(d) = default {
                    parts.push(format!("default = {d}"));
                }
                for (flag, set) in [
                    ("primary_key", primary_key),
                    ("auto", c.auto),
                    ("unique", unique),
                    ("index", index),
                ] {
                    if set {
                        parts.push(format!("{flag} = true"));
                    }
                }
                parts.extend(
                    c.comment
                        .as_ref()
                        .map(|t| format!("comment = {}", string(t))),
                );
                inline(&parts)
            }
        };
        format!("{} = {value}", key(&name))
    }
}

/// What a column is besides its type: generated, enum values, collations.
fn column_options(c: &ColumnDef) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(g) = &c.generated {
        parts.push(format!("generated = {}", string(&g.expr)));
        if g.stored {
            parts.push("stored = true".into());
        }
    }
    if !c.values.is_empty() {
        parts.push(format!("values = {}", list(&c.values)));
    }
    if !c.collation.is_empty() {
        let names: Vec<String> = c
            .collation
            .iter()
            .map(|(backend, name)| format!("{backend} = {}", string(name)))
            .collect();
        parts.push(format!("collation = {}", inline(&names)));
    }
    parts
}

/// `id bigint` auto and the whole primary key: what a model gets by default.
fn is_implicit_id(t: &TableDef) -> bool {
    t.primary_key == ["id"]
        && t.column("id").is_some_and(|c| {
            c.ty == ColumnType::BigInt
                && c.auto
                && !c.null
                && c.default.is_none()
                && c.comment.is_none()
        })
}

/// Removes and returns the first item that `matches`.
fn take<'a, T: ?Sized>(items: &mut Vec<&'a T>, matches: impl Fn(&T) -> bool) -> Option<&'a T> {
    let i = items.iter().position(|x| matches(x))?;
    Some(items.remove(i))
}

/// Whether `columns` are exactly the table's primary key (in any order).
fn is_primary_key(t: &TableDef, columns: &[String]) -> bool {
    !t.primary_key.is_empty()
        && columns.len() == t.primary_key.len()
        && columns.iter().all(|c| t.primary_key.contains(c))
}

/// An entry of `checks`: `key = "expr"` when the name is the one the key generates
/// (`<table>_<key>`), else `key = { expr = "…", name = "…" }` keeping the name exactly.
/// Keys are unique within the model (`used`).
fn check(t: &TableDef, c: &CheckDef, used: &mut BTreeSet<String>) -> String {
    let table = &t.name;
    let key_of_name = c
        .name
        .strip_prefix(table.as_str())
        .and_then(|rest| rest.strip_prefix('_'))
        .filter(|k| generated_name(table, &[], k) == c.name && !used.contains(*k));
    if let Some(k) = key_of_name {
        used.insert(k.to_string());
        return format!("{} = {}", key(k), string(&c.expr));
    }
    let base = key_of_name_or(&c.name, table);
    let mut k = base.clone();
    let mut n = 1;
    while used.contains(&k) {
        n += 1;
        k = format!("{base}_{n}");
    }
    used.insert(k.clone());
    format!(
        "{} = {}",
        key(&k),
        inline(&[
            format!("expr = {}", string(&c.expr)),
            format!("name = {}", string(&c.name)),
        ])
    )
}

/// A readable key for a check named `name`: without a `<table>_` prefix when it has one.
fn key_of_name_or(name: &str, table: &str) -> String {
    name.strip_prefix(table)
        .and_then(|rest| rest.strip_prefix('_'))
        .filter(|rest| !rest.is_empty())
        .unwrap_or(name)
        .to_string()
}

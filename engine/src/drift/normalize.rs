//! A table as the database holds it, reduced to comparable strings keyed by what
//! identifies each part: columns by name, indexes and constraints by their name as
//! the dialect shortens it, foreign keys by what they connect.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::ast::{
    ColumnDef, FkAction, ForeignKeyDef, IndexDef, IndexMethod, TableDef, UnsupportedWhere,
};
use crate::dialect::{Dialect, RenderContext};
use crate::expr;
use crate::naming::fit_identifier;

use super::Attribute;

/// A column's attributes as the server renders them; `None` where it has none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Column {
    pub(super) attributes: BTreeMap<Attribute, Option<String>>,
}

impl Column {
    /// The whole column on one line, as the old string list showed it.
    pub(super) fn line(&self, name: &str) -> String {
        let mut out = name.to_string();
        for (attribute, value) in &self.attributes {
            let Some(value) = value else { continue };
            let label = match attribute {
                Attribute::Default => "default ",
                Attribute::Comment => "comment ",
                Attribute::Generated => "generated as ",
                Attribute::Type | Attribute::Collation | Attribute::Null => "",
            };
            let _ = write!(out, " {label}{value}");
        }
        out
    }
}

/// A table reduced to comparable strings.
pub(super) struct Shape {
    pub(super) columns: BTreeMap<String, Column>,
    /// The primary key's columns, `None` without one.
    pub(super) primary_key: Option<String>,
    /// Unique constraints and plain unique indexes: name → `name (columns)`.
    pub(super) uniques: BTreeMap<String, String>,
    /// The other indexes: name → the index in full.
    pub(super) indexes: BTreeMap<String, String>,
    /// What they connect → actions and deferrability, in full.
    pub(super) foreign_keys: BTreeMap<String, String>,
    /// Check constraints by name.
    pub(super) checks: BTreeMap<String, String>,
    /// The table's comment, where the server keeps one.
    pub(super) comment: Option<String>,
}

pub(super) struct Normalizer<'a> {
    pub(super) dialect: &'a dyn Dialect,
    pub(super) ctx: &'a RenderContext<'a>,
    /// Each table's default collation, where introspection leaves out a column
    /// collation equal to it ([`Dialect::table_collations_sql`]): such a collation
    /// compares equal to none.
    pub(super) table_collations: &'a BTreeMap<String, String>,
}

impl Normalizer<'_> {
    pub(super) fn name(&self, name: &str) -> String {
        fit_identifier(name, self.ctx.capabilities.max_identifier_len)
    }

    /// The index as this server holds it: btree is no method at all, prefix lengths
    /// exist only where the server has them, and a partial index built plain (by
    /// `on_unsupported_where`) has no `where`.
    fn as_built(&self, i: &IndexDef) -> IndexDef {
        let caps = self.ctx.capabilities;
        let mut i = i.clone();
        if i.method == Some(IndexMethod::Btree) {
            i.method = None;
        }
        if !caps.index_prefix_lengths {
            i.lengths.clear();
        }
        if !caps.partial_indexes && i.on_unsupported_where == UnsupportedWhere::Plain {
            i.predicate = None;
        }
        i.on_unsupported_where = UnsupportedWhere::Refuse;
        i
    }

    fn column(&self, table: &TableDef, c: &ColumnDef) -> Column {
        let ty = self
            .dialect
            .column_type(c, self.ctx)
            .unwrap_or_else(|e| format!("<{e}>"));
        let ty = if c.auto { format!("{ty} auto") } else { ty };
        let default = c.default.as_ref().map(|d| {
            self.dialect
                .default_sql(d, c, self.ctx)
                .unwrap_or_else(|e| format!("<{e}>"))
        });
        let comment = c
            .comment
            .as_ref()
            .filter(|_| self.ctx.capabilities.column_comments)
            .map(|text| format!("{text:?}"));
        // Servers rewrite the expression (PostgreSQL adds casts and parentheses,
        // MySQL backquotes): both sides are compared in the neutral spelling.
        let generated = c.generated.as_ref().map(|g| {
            format!(
                "({}) {}",
                expr::canonical(&g.expr).unwrap_or_else(|| g.expr.clone()),
                if g.stored { "stored" } else { "virtual" }
            )
        });
        let inherited = self
            .dialect
            .collation_key()
            .and_then(|key| c.collation.get(key))
            .is_some_and(|name| self.table_collations.get(&table.name) == Some(name));
        let collation = Some(self.dialect.collate_sql(c))
            .filter(|_| !inherited)
            .filter(|sql| !sql.is_empty())
            .map(|sql| sql.trim().to_string());
        // A primary key column holds no NULL whatever its declaration says (SQLite
        // reads `id integer PRIMARY KEY` back as nullable; strata declares it NOT NULL).
        let null = c.null && !table.primary_key.contains(&c.name);
        let null = Some(if null { "null" } else { "not null" }.to_string());
        Column {
            attributes: BTreeMap::from([
                (Attribute::Type, Some(ty)),
                (Attribute::Collation, collation),
                (Attribute::Null, null),
                (Attribute::Default, default),
                (Attribute::Comment, comment),
                (Attribute::Generated, generated),
            ]),
        }
    }

    pub(super) fn table(&self, t: &TableDef) -> Shape {
        let mut uniques: BTreeMap<String, String> = t
            .uniques
            .iter()
            .map(|u| {
                let name = self.name(&u.name);
                let entry = format!("{name} ({})", u.columns.join(", "));
                (name, entry)
            })
            .collect();
        let mut indexes = BTreeMap::new();
        for i in &t.indexes {
            let i = &self.as_built(i);
            let name = self.name(&i.name);
            let entry = if i.is_plain_key() {
                format!("{name} ({})", i.columns.join(", "))
            } else {
                format!("{name} {}", index_details(i))
            };
            // The predicate in the neutral spelling, as a generated column's: an
            // index made partial on other rows is another index (a unique one
            // another constraint), not the same one.
            let predicate = i
                .predicate
                .as_ref()
                .map(|p| expr::canonical(p).unwrap_or_else(|| p.clone()));
            let (map, entry) = match (predicate, i.unique && i.is_plain_key()) {
                (None, false) if i.unique => (&mut indexes, format!("unique {entry}")),
                (None, true) => (&mut uniques, entry),
                (Some(p), true) => (&mut indexes, format!("unique {entry} where {p}")),
                (Some(p), false) => (&mut indexes, format!("{entry} where {p}")),
                (None, false) => (&mut indexes, entry),
            };
            map.insert(name, entry);
        }
        let action = |a: Option<FkAction>| a.unwrap_or(FkAction::NoAction).sql();
        Shape {
            columns: t
                .columns
                .iter()
                .map(|c| (c.name.clone(), self.column(t, c)))
                .collect(),
            primary_key: Some(t.primary_key.join(", ")).filter(|s| !s.is_empty()),
            uniques,
            indexes,
            // A foreign key without its database constraint is strata's alone: the
            // live catalog cannot hold it.
            foreign_keys: t
                .foreign_keys
                .iter()
                .filter(|f| f.db_constraint)
                .map(|f| {
                    let connects = connects(f);
                    let full = format!(
                        "{connects} on delete {} on update {}{}",
                        action(f.on_delete),
                        action(f.on_update),
                        f.deferrable
                            .map(|d| format!(" {}", d.sql().to_lowercase()))
                            .unwrap_or_default()
                    );
                    (connects, full)
                })
                .collect(),
            checks: t
                .checks
                .iter()
                .map(|c| (self.name(&c.name), self.name(&c.name)))
                .collect(),
            comment: t
                .comment
                .clone()
                .filter(|_| self.ctx.capabilities.table_comments)
                .map(|c| format!("{c:?}")),
        }
    }
}

/// What a foreign key connects: how drift identifies one (SQLite cannot name them).
pub(super) fn connects(f: &ForeignKeyDef) -> String {
    format!(
        "({}) -> {} ({})",
        f.columns.join(", "),
        f.references,
        f.referenced_columns.join(", "),
    )
}

/// An index's key and options as one comparable string.
fn index_details(i: &IndexDef) -> String {
    let mut keys: Vec<String> = i
        .columns
        .iter()
        .map(|c| {
            let mut k = c.clone();
            if let Some(n) = i.lengths.get(c) {
                let _ = write!(k, "({n})");
            }
            if let Some(o) = i.opclasses.get(c) {
                let _ = write!(k, " {o}");
            }
            k
        })
        .collect();
    keys.extend(
        i.expressions
            .iter()
            .map(|e| format!("({})", expr::neutral(e))),
    );
    let mut out = format!("({})", keys.join(", "));
    if let Some(m) = i.method {
        let _ = write!(out, " using {}", m.name());
    }
    if !i.include.is_empty() {
        let _ = write!(out, " include ({})", i.include.join(", "));
    }
    if i.nulls_not_distinct {
        out.push_str(" nulls not distinct");
    }
    out
}

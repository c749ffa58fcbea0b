//! Drift: how a live schema (introspected) differs from the schema the migrations say
//! it should have. Used to verify checkpoints before resuming, by `--fake-initial`,
//! and by tests that compare every step of a history with the database.
//!
//! Both sides are compared as the database sees them: types as the dialect renders
//! them (MySQL stores `timestamptz` and `datetime` alike), index and constraint names
//! as the dialect shortens them, unique constraints and unique indexes as one kind
//! (SQLite and MySQL implement one as the other), foreign keys by what they connect
//! (SQLite cannot name them).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::ast::{ColumnDef, FkAction, IndexDef, IndexMethod, TableDef, UnsupportedWhere};
use crate::dialect::{Dialect, RenderContext, ServerVersion};
use crate::expr;
use crate::naming::fit_identifier;
use crate::state::SchemaState;

/// The differences between `expected` and `live`, one readable line each; empty
/// when they match. Tables named in `ignore` (the history table) are skipped.
pub fn differences(
    dialect: &dyn Dialect,
    version: ServerVersion,
    expected: &SchemaState,
    live: &SchemaState,
    ignore: &[&str],
) -> Vec<String> {
    let capabilities = dialect.capabilities(version);
    let ctx = RenderContext {
        state: expected,
        version,
        capabilities: &capabilities,
        in_transaction: false,
        safe: false,
    };
    let norm = Normalizer { dialect, ctx: &ctx };
    let mut out = Vec::new();
    let names = |s: &SchemaState| -> BTreeSet<String> {
        s.tables
            .keys()
            .filter(|t| !ignore.contains(&t.as_str()))
            .cloned()
            .collect()
    };
    let (want, have) = (names(expected), names(live));
    for missing in want.difference(&have) {
        out.push(format!("table `{missing}` is missing"));
    }
    for extra in have.difference(&want) {
        out.push(format!("table `{extra}` is not in the migrations"));
    }
    for name in want.intersection(&have) {
        let a = norm.table(&expected.tables[name]);
        let b = norm.table(&live.tables[name]);
        for (what, x, y) in [
            ("columns", &a.columns, &b.columns),
            ("primary key", &a.primary_key, &b.primary_key),
            ("unique constraints/indexes", &a.uniques, &b.uniques),
            ("indexes", &a.indexes, &b.indexes),
            ("foreign keys", &a.foreign_keys, &b.foreign_keys),
            ("check constraints", &a.checks, &b.checks),
            ("comment", &a.comment, &b.comment),
        ] {
            for item in x.difference(y) {
                out.push(format!(
                    "table `{name}`: {what}: expected {item}, not found"
                ));
            }
            for item in y.difference(x) {
                out.push(format!(
                    "table `{name}`: {what}: found {item}, not expected"
                ));
            }
        }
    }
    out
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

/// A table reduced to comparable strings.
struct Shape {
    columns: BTreeSet<String>,
    primary_key: BTreeSet<String>,
    uniques: BTreeSet<String>,
    indexes: BTreeSet<String>,
    foreign_keys: BTreeSet<String>,
    checks: BTreeSet<String>,
    /// The table's comment, where the server keeps one.
    comment: BTreeSet<String>,
}

struct Normalizer<'a> {
    dialect: &'a dyn Dialect,
    ctx: &'a RenderContext<'a>,
}

impl Normalizer<'_> {
    fn name(&self, name: &str) -> String {
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

    fn column(&self, c: &ColumnDef) -> String {
        let ty = self
            .dialect
            .column_type(c, self.ctx)
            .unwrap_or_else(|e| format!("<{e}>"));
        let default = c
            .default
            .as_ref()
            .map(|d| {
                self.dialect
                    .default_sql(d, c, self.ctx)
                    .unwrap_or_else(|e| format!("<{e}>"))
            })
            .map(|d| format!(" default {d}"))
            .unwrap_or_default();
        let comment = c
            .comment
            .as_ref()
            .filter(|_| self.ctx.capabilities.column_comments)
            .map(|text| format!(" comment {text:?}"))
            .unwrap_or_default();
        // Servers rewrite the expression (PostgreSQL adds casts and parentheses,
        // MySQL backquotes): both sides are compared in the neutral spelling.
        let generated = c
            .generated
            .as_ref()
            .map(|g| {
                format!(
                    " generated as ({}) {}",
                    crate::expr::canonical(&g.expr).unwrap_or_else(|| g.expr.clone()),
                    if g.stored { "stored" } else { "virtual" }
                )
            })
            .unwrap_or_default();
        format!(
            "{} {ty}{} {}{default}{}{comment}{generated}",
            c.name,
            self.dialect.collate_sql(c),
            if c.null { "null" } else { "not null" },
            if c.auto { " auto" } else { "" }
        )
    }

    fn table(&self, t: &TableDef) -> Shape {
        let mut uniques: BTreeSet<String> = t
            .uniques
            .iter()
            .map(|u| format!("{} ({})", self.name(&u.name), u.columns.join(", ")))
            .collect();
        let mut indexes = BTreeSet::new();
        for i in &t.indexes {
            let i = &self.as_built(i);
            let entry = if i.is_plain_key() {
                format!("{} ({})", self.name(&i.name), i.columns.join(", "))
            } else {
                format!("{} {}", self.name(&i.name), index_details(i))
            };
            match (&i.predicate, i.unique && i.is_plain_key()) {
                (None, false) if i.unique => indexes.insert(format!("unique {entry}")),
                (None, true) => uniques.insert(entry),
                (Some(_), true) => indexes.insert(format!("unique {entry} partial")),
                (Some(_), false) => indexes.insert(format!("{entry} partial")),
                (None, false) => indexes.insert(entry),
            };
        }
        let action = |a: Option<FkAction>| a.unwrap_or(FkAction::NoAction).sql();
        let pk: Vec<_> = t.primary_key.clone();
        let mut columns: BTreeMap<&str, String> = BTreeMap::new();
        for c in &t.columns {
            columns.insert(&c.name, self.column(c));
        }
        Shape {
            columns: columns.into_values().collect(),
            primary_key: [pk.join(", ")]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect(),
            uniques,
            indexes,
            // A foreign key without its database constraint is strata's alone: the
            // live catalog cannot hold it.
            foreign_keys: t
                .foreign_keys
                .iter()
                .filter(|f| f.db_constraint)
                .map(|f| {
                    format!(
                        "({}) -> {} ({}) on delete {} on update {}{}",
                        f.columns.join(", "),
                        f.references,
                        f.referenced_columns.join(", "),
                        action(f.on_delete),
                        action(f.on_update),
                        f.deferrable
                            .map(|d| format!(" {}", d.sql().to_lowercase()))
                            .unwrap_or_default()
                    )
                })
                .collect(),
            checks: t.checks.iter().map(|c| self.name(&c.name)).collect(),
            comment: t
                .comment
                .iter()
                .filter(|_| self.ctx.capabilities.table_comments)
                .map(|c| format!("{c:?}"))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::{Capabilities, RenderError};
    use crate::types::ColumnType;

    /// A dialect that keeps column comments or not.
    struct Comments(bool);

    impl Dialect for Comments {
        fn name(&self) -> &'static str {
            "comments"
        }
        fn minimum_version(&self) -> ServerVersion {
            ServerVersion::new(1, 0, 0)
        }
        fn capabilities(&self, _: ServerVersion) -> Capabilities {
            Capabilities {
                column_comments: self.0,
                ..Capabilities::BASELINE
            }
        }
        fn column_type(&self, c: &ColumnDef, _: &RenderContext) -> Result<String, RenderError> {
            Ok(c.ty.to_string())
        }
    }

    fn schema(comment: Option<&str>) -> SchemaState {
        let mut state = SchemaState::new();
        let table = TableDef {
            name: "t".into(),
            columns: vec![ColumnDef {
                name: "c".into(),
                ty: ColumnType::Int,
                comment: comment.map(Into::into),
                ..Default::default()
            }],
            ..Default::default()
        };
        state.tables.insert("t".into(), table);
        state
    }

    #[test]
    fn comments_are_compared_only_where_the_server_keeps_them() {
        let v = ServerVersion::new(1, 0, 0);
        let (with, without, other) = (schema(Some("a")), schema(None), schema(Some("b")));
        assert!(!differences(&Comments(true), v, &with, &without, &[]).is_empty());
        assert!(!differences(&Comments(true), v, &with, &other, &[]).is_empty());
        assert!(differences(&Comments(true), v, &with, &with, &[]).is_empty());
        assert!(differences(&Comments(false), v, &with, &without, &[]).is_empty());
    }
}

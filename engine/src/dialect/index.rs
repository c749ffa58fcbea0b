//! The parts of an index every dialect writes the same way, given its capabilities:
//! the key list (columns with operator class or prefix length, expressions), and the
//! refusal of what the server cannot build.

use std::fmt::Write as _;

use super::{Dialect, RenderContext, RenderResultOf};
use crate::ast::{IndexDef, IndexMethod, UnsupportedWhere};

/// Whether an index's `where` is written: `false` when the server has no partial
/// indexes and the index asks to be built plain there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Predicate {
    Written,
    Dropped,
}

/// Refuses, naming the index and the server, what `ctx`'s server cannot build of
/// `index`; says whether its `where` is written.
pub fn check_support<D: Dialect + ?Sized>(
    d: &D,
    operation: &'static str,
    table: &str,
    index: &IndexDef,
    ctx: &RenderContext,
) -> RenderResultOf<Predicate> {
    let caps = ctx.capabilities;
    let refuse = |what: String| Err(d.unsupported(operation, table, &what));
    let name = &index.name;
    let server = d.name();
    if !index.expressions.is_empty() && !caps.expression_indexes {
        return refuse(format!(
            "index `{name}` has expression key parts ({}); {server} cannot index an expression: \
             index a generated column instead, or remove `expressions`",
            index.expressions.join(", ")
        ));
    }
    if let Some(m) = index.method.filter(|m| *m != IndexMethod::Btree) {
        if !caps.index_methods {
            return refuse(format!(
                "index `{name}` uses method `{}`; index methods are PostgreSQL's and \
                 {server} builds btree indexes only: remove `method` or set it to btree",
                m.name()
            ));
        }
    }
    if !index.opclasses.is_empty() && !caps.index_methods {
        return refuse(format!(
            "index `{name}` gives operator classes, which only PostgreSQL has; \
             {server} has none: remove `opclass` from its columns"
        ));
    }
    if !index.include.is_empty() && !caps.index_include {
        return refuse(format!(
            "index `{name}` has `include` columns; {server} has no INCLUDE \
             (PostgreSQL 11+ has): add them to `columns` or remove `include`"
        ));
    }
    if index.nulls_not_distinct && !caps.nulls_not_distinct {
        return refuse(format!(
            "unique index `{name}` has `nulls_distinct = false`; {server} has no \
             NULLS NOT DISTINCT (PostgreSQL 15+ has): make the columns NOT NULL instead"
        ));
    }
    if index.predicate.is_none() || caps.partial_indexes {
        return Ok(Predicate::Written);
    }
    match index.on_unsupported_where {
        UnsupportedWhere::Plain => Ok(Predicate::Dropped),
        UnsupportedWhere::Refuse => refuse(format!(
            "index `{name}` is partial (`where`); {server} has no partial indexes: \
             set `on_unsupported_where = \"plain\"` on it to build a plain index there, or drop the `where`"
        )),
    }
}

/// `a varchar_pattern_ops, (lower(b)), c(10)`: the key list, without parentheses.
/// Operator classes are written where the server has them, prefix lengths where it
/// has those (elsewhere the whole value is indexed); an expression is parenthesised,
/// as PostgreSQL and MySQL require.
pub fn keys_sql<D: Dialect + ?Sized>(
    d: &D,
    index: &IndexDef,
    ctx: &RenderContext,
) -> RenderResultOf<String> {
    let caps = ctx.capabilities;
    let mut parts = Vec::new();
    for c in &index.columns {
        let mut part = d.quote_ident(c);
        if let Some(n) = index.lengths.get(c).filter(|_| caps.index_prefix_lengths) {
            let _ = write!(part, "({n})");
        }
        if let Some(o) = index.opclasses.get(c).filter(|_| caps.index_methods) {
            // Checked to be a plain (optionally schema-qualified) name by the state.
            part.push(' ');
            part.push_str(o);
        }
        parts.push(part);
    }
    for (n, e) in index.expressions.iter().enumerate() {
        let what = format!("expression {} of index `{}`", n + 1, index.name);
        parts.push(format!("({})", d.expr_sql(e, &what)?));
    }
    Ok(parts.join(", "))
}

/// The comment that marks a partial index built plain: it says the `where` is not
/// applied (without repeating it, so nothing of the user's text lands in the SQL).
pub fn plain_note<D: Dialect + ?Sized>(d: &D, index: &IndexDef) -> String {
    format!(
        "/* strata: {} has no partial indexes; index {} indexes every row (on_unsupported_where = plain) */",
        d.name(),
        index.name.replace("*/", "* /").replace("/*", "/ *")
    )
}

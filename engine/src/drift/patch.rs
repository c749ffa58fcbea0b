//! One side of a drift made like the other, part by part: what `strata drift
//! --write-migration` (the applied schema taking the live parts) and `--revert` (the
//! live schema taking the applied parts) hand to the autodetector. Only the parts the
//! drift names change, so the operations between the two touch nothing else: no
//! spelling the comparison treats as equal (a type alias, a unique index for a
//! unique constraint) turns into an operation.

use std::sync::Arc;

use crate::ast::TableDef;
use crate::dialect::{Dialect, RenderContext, ServerVersion};
use crate::state::SchemaState;

use super::normalize::{connects, Normalizer};
use super::{Drift, Kind};

/// `base` with every part `drift` names (found comparing `base` and `other`, either
/// way round) as it is in `other`: present, changed or absent.
pub fn patched(
    dialect: &dyn Dialect,
    version: ServerVersion,
    base: &SchemaState,
    other: &SchemaState,
    drift: &Drift,
) -> SchemaState {
    let capabilities = dialect.capabilities(version);
    let ctx = RenderContext {
        state: base,
        version,
        capabilities: &capabilities,
        in_transaction: false,
        safe: false,
    };
    let none = std::collections::BTreeMap::new();
    let norm = Normalizer {
        dialect,
        ctx: &ctx,
        table_collations: &none,
    };
    let mut out = base.clone();
    for t in &drift.tables {
        let Some(theirs) = other.tables.get(&t.table) else {
            out.tables.remove(&t.table);
            continue;
        };
        let Some(ours) = out.tables.get_mut(&t.table).map(Arc::make_mut) else {
            out.tables
                .insert(t.table.clone(), with_key_not_null(theirs).into());
            continue;
        };
        for d in &t.differences {
            let name = d.name.as_deref().unwrap_or_default();
            take(&norm, ours, &with_key_not_null(theirs), d.kind, name);
        }
    }
    out
}

/// The table with its primary key columns NOT NULL, as a migration must declare them
/// (SQLite reads `id integer PRIMARY KEY` back as nullable; the comparison treats
/// both alike).
fn with_key_not_null(table: &TableDef) -> TableDef {
    let mut table = table.clone();
    for c in &mut table.columns {
        if table.primary_key.contains(&c.name) {
            c.null = false;
        }
    }
    table
}

/// Makes the part `kind` called `name` of `ours` as it is in `theirs`.
fn take(norm: &Normalizer, ours: &mut TableDef, theirs: &TableDef, kind: Kind, name: &str) {
    match kind {
        Kind::TableMissing | Kind::TableExtra => {}
        Kind::ColumnMissing | Kind::ColumnExtra | Kind::ColumnChanged => {
            match (
                ours.columns.iter().position(|c| c.name == name),
                theirs.column(name),
            ) {
                (Some(i), Some(c)) => ours.columns[i] = c.clone(),
                (Some(i), None) => {
                    ours.columns.remove(i);
                }
                (None, Some(c)) => ours.columns.push(c.clone()),
                (None, None) => {}
            }
        }
        Kind::PrimaryKeyChanged => ours.primary_key.clone_from(&theirs.primary_key),
        Kind::TableCommentChanged => ours.comment.clone_from(&theirs.comment),
        // One kind on one server is the other kind on another: both are taken.
        Kind::UniqueMissing
        | Kind::UniqueExtra
        | Kind::UniqueChanged
        | Kind::IndexMissing
        | Kind::IndexExtra
        | Kind::IndexChanged => {
            let named = |n: &str| norm.name(n) == name;
            ours.uniques.retain(|u| !named(&u.name));
            ours.indexes.retain(|i| !named(&i.name));
            ours.uniques
                .extend(theirs.uniques.iter().filter(|u| named(&u.name)).cloned());
            ours.indexes
                .extend(theirs.indexes.iter().filter(|i| named(&i.name)).cloned());
        }
        Kind::ForeignKeyMissing | Kind::ForeignKeyExtra | Kind::ForeignKeyChanged => {
            ours.foreign_keys.retain(|f| connects(f) != name);
            ours.foreign_keys.extend(
                theirs
                    .foreign_keys
                    .iter()
                    .filter(|f| connects(f) == name)
                    .cloned(),
            );
        }
        Kind::CheckMissing | Kind::CheckExtra => {
            let named = |n: &str| norm.name(n) == name;
            ours.checks.retain(|c| !named(&c.name));
            ours.checks
                .extend(theirs.checks.iter().filter(|c| named(&c.name)).cloned());
        }
    }
}

//! The state's rules the autodetector plans around: which SQL text names a column
//! and what a foreign key may reference come from the state itself.

use crate::ast::{ForeignKeyDef, TableDef};
pub(crate) use crate::state::{is_unique_key, mentions};

/// Whether `fk` of `source` can be created against `target` as it is now: the
/// referenced columns exist, are a key, and have the source columns' types.
pub(crate) fn foreign_key_fits(source: &TableDef, fk: &ForeignKeyDef, target: &TableDef) -> bool {
    fk.columns.len() == fk.referenced_columns.len()
        && is_unique_key(target, &fk.referenced_columns)
        && fk.columns.iter().zip(&fk.referenced_columns).all(|(c, r)| {
            match (source.column(c), target.column(r)) {
                (Some(c), Some(r)) => c.ty == r.ty,
                _ => false,
            }
        })
}

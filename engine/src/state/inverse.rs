//! The inverse of each operation, derived from the state *before* it: what rollback runs.

use super::{SchemaState, StateError};
use crate::ast::*;
use crate::types::ColumnType;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InverseError {
    #[error("{operation} is irreversible: it has no reverse_sql")]
    Irreversible { operation: String },
    #[error("run_code of the application's function {function} is irreversible: it names no `reverse` function")]
    IrreversibleCode { function: String },
    #[error(transparent)]
    State(#[from] StateError),
}

impl Operation {
    /// The operation that undoes `self`, given the state it was applied to.
    // One short arm per operation: the table of inverses reads best whole.
    #[allow(clippy::too_many_lines)]
    pub fn inverse(&self, before: &SchemaState) -> Result<Operation, InverseError> {
        let table = |name: &str| before.table(name).map_err(InverseError::from);
        Ok(match self {
            Operation::CreateTable(t) => Operation::DropTable(DropTable {
                name: t.name.clone(),
            }),
            Operation::DropTable(o) => Operation::CreateTable(table(&o.name)?.clone()),
            Operation::RenameTable(o) => Operation::RenameTable(RenameTable {
                from: o.to.clone(),
                to: o.from.clone(),
            }),
            Operation::AddColumn(o) => Operation::DropColumn(DropColumn {
                table: o.table.clone(),
                column: o.column.name.clone(),
            }),
            Operation::DropColumn(o) => Operation::AddColumn(AddColumn {
                table: o.table.clone(),
                column: column(table(&o.table)?, &o.column)?.clone(),
            }),
            Operation::RenameColumn(o) => Operation::RenameColumn(RenameColumn {
                table: o.table.clone(),
                from: o.to.clone(),
                to: o.from.clone(),
            }),
            Operation::AlterColumn(o) => {
                let old = column(table(&o.table)?, &o.column)?;
                let default_changes = o.default.is_some() || o.drop_default;
                let comment_changes = o.comment.is_some() || o.drop_comment;
                Operation::AlterColumn(AlterColumn {
                    table: o.table.clone(),
                    column: o.column.clone(),
                    ty: o.ty.map(|_| old.ty),
                    null: o.null.map(|_| old.null),
                    default: if default_changes {
                        old.default.clone()
                    } else {
                        None
                    },
                    drop_default: default_changes && old.default.is_none(),
                    comment: old.comment.clone().filter(|_| comment_changes),
                    drop_comment: comment_changes && old.comment.is_none(),
                    values: (old.ty == ColumnType::Enum && (o.values.is_some() || o.ty.is_some()))
                        .then(|| old.values.clone()),
                    collation: o.collation.as_ref().map(|_| old.collation.clone()),
                })
            }
            Operation::CreateIndex(o) => Operation::DropIndex(DropIndex {
                table: o.table.clone(),
                name: o.index.name.clone(),
            }),
            Operation::DropIndex(o) => {
                let t = table(&o.table)?;
                let index = t
                    .index(&o.name)
                    .ok_or_else(|| missing(&o.table, &o.name, "an index"))?;
                Operation::CreateIndex(CreateIndex {
                    table: o.table.clone(),
                    index: index.clone(),
                })
            }
            Operation::RenameIndex(o) => Operation::RenameIndex(RenameIndex {
                table: o.table.clone(),
                from: o.to.clone(),
                to: o.from.clone(),
            }),
            Operation::AddForeignKey(o) => Operation::DropForeignKey(DropForeignKey {
                table: o.table.clone(),
                name: o.foreign_key.name.clone(),
            }),
            Operation::DropForeignKey(o) => {
                let t = table(&o.table)?;
                let fk = t
                    .foreign_key(&o.name)
                    .ok_or_else(|| missing(&o.table, &o.name, "a foreign key"))?;
                Operation::AddForeignKey(AddForeignKey {
                    table: o.table.clone(),
                    foreign_key: fk.clone(),
                })
            }
            Operation::AddConstraint(o) => Operation::DropConstraint(DropConstraint {
                table: o.table.clone(),
                name: o.constraint.name().to_string(),
            }),
            Operation::DropConstraint(o) => {
                let t = table(&o.table)?;
                let constraint = t
                    .constraint(&o.name)
                    .ok_or_else(|| missing(&o.table, &o.name, "a unique or check constraint"))?;
                Operation::AddConstraint(AddConstraint {
                    table: o.table.clone(),
                    constraint,
                })
            }
            Operation::RunSql(o) => match &o.reverse_sql {
                Some(reverse) => Operation::RunSql(RunSql {
                    sql: reverse.clone(),
                    reverse_sql: Some(o.sql.clone()),
                    split: o.split,
                }),
                None => {
                    return Err(InverseError::Irreversible {
                        operation: "run_sql".into(),
                    })
                }
            },
            Operation::RunCode(o) => match &o.reverse {
                Some(reverse) => Operation::RunCode(RunCode {
                    name: reverse.clone(),
                    reverse: Some(o.name.clone()),
                }),
                None => {
                    return Err(InverseError::IrreversibleCode {
                        function: o.name.clone(),
                    })
                }
            },
            // The values it wrote stay: its rollback runs nothing, and says so.
            Operation::Backfill(o) => Operation::Backfill(Backfill {
                undo: !o.undo,
                ..o.clone()
            }),
            Operation::AlterTable(o) => {
                let old = table(&o.table)?;
                Operation::AlterTable(AlterTable {
                    table: o.table.clone(),
                    comment: old.comment.clone(),
                    drop_comment: old.comment.is_none(),
                })
            }
        })
    }
}

fn column<'a>(t: &'a TableDef, name: &str) -> Result<&'a ColumnDef, InverseError> {
    t.column(name).ok_or_else(|| {
        InverseError::State(StateError::NoSuchColumn {
            table: t.name.clone(),
            column: name.to_string(),
        })
    })
}

fn missing(table: &str, name: &str, what: &'static str) -> InverseError {
    InverseError::State(StateError::NoSuchObject {
        table: table.to_string(),
        name: name.to_string(),
        what,
    })
}

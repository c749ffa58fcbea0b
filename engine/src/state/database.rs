//! The schema as the database holds it: a foreign key declared without its database
//! constraint (`db_constraint = false`, Django's `db_constraint=False`) is part of
//! the state (dependencies, models, the column and its index) but not of the
//! database, so renderers and drift see the schema without it.

use std::borrow::Cow;
use std::sync::Arc;

use super::SchemaState;
use crate::ast::{Operation, TableDef};

impl SchemaState {
    /// The state without the foreign keys that have no database constraint; borrowed
    /// when there are none.
    pub fn in_database(&self) -> Cow<'_, SchemaState> {
        let any = self
            .tables
            .values()
            .any(|t| t.foreign_keys.iter().any(|f| !f.db_constraint));
        if !any {
            return Cow::Borrowed(self);
        }
        let mut state = self.clone();
        for t in state.tables.values_mut() {
            if t.foreign_keys.iter().any(|f| !f.db_constraint) {
                Arc::make_mut(t).foreign_keys.retain(|f| f.db_constraint);
            }
        }
        Cow::Owned(state)
    }
}

/// `t` without the foreign keys that have no database constraint.
pub fn table_in_database(t: &TableDef) -> Cow<'_, TableDef> {
    if t.foreign_keys.iter().all(|f| f.db_constraint) {
        return Cow::Borrowed(t);
    }
    let mut t = t.clone();
    t.foreign_keys.retain(|f| f.db_constraint);
    Cow::Owned(t)
}

/// What `op`, applied to `before`, does to the database: `None` when nothing (adding
/// or dropping a foreign key that has no database constraint), the operation without
/// such foreign keys otherwise.
pub fn operation_in_database<'a>(
    op: &'a Operation,
    before: &SchemaState,
) -> Option<Cow<'a, Operation>> {
    match op {
        Operation::CreateTable(t) => Some(match table_in_database(t) {
            Cow::Borrowed(_) => Cow::Borrowed(op),
            Cow::Owned(t) => Cow::Owned(Operation::CreateTable(t)),
        }),
        Operation::AddForeignKey(o) if !o.foreign_key.db_constraint => None,
        Operation::DropForeignKey(o) => {
            let unenforced = before
                .tables
                .get(&o.table)
                .and_then(|t| t.foreign_key(&o.name))
                .is_some_and(|f| !f.db_constraint);
            (!unenforced).then_some(Cow::Borrowed(op))
        }
        _ => Some(Cow::Borrowed(op)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::*;
    use crate::types::ColumnType;

    fn tables(db_constraint: bool) -> (TableDef, TableDef) {
        let id = |name: &str| ColumnDef {
            name: name.into(),
            ty: ColumnType::BigInt,
            ..Default::default()
        };
        let parent = TableDef {
            name: "p".into(),
            columns: vec![id("id")],
            primary_key: vec!["id".into()],
            ..Default::default()
        };
        let child = TableDef {
            name: "c".into(),
            columns: vec![id("id"), id("p_id")],
            primary_key: vec!["id".into()],
            foreign_keys: vec![ForeignKeyDef {
                name: "c_p_fk".into(),
                columns: vec!["p_id".into()],
                references: "p".into(),
                referenced_columns: vec!["id".into()],
                db_constraint,
                ..Default::default()
            }],
            ..Default::default()
        };
        (parent, child)
    }

    #[test]
    fn a_foreign_key_without_constraint_is_absent_from_the_database_only() {
        let (parent, child) = tables(false);
        let mut state = SchemaState::new();
        state.apply(&Operation::CreateTable(parent)).unwrap();
        let create = Operation::CreateTable(child);
        let Some(Cow::Owned(Operation::CreateTable(in_db))) =
            operation_in_database(&create, &state)
        else {
            panic!("the table is created without its foreign key");
        };
        assert!(in_db.foreign_keys.is_empty());
        state.apply(&create).unwrap();
        assert_eq!(state.tables["c"].foreign_keys.len(), 1);
        assert!(state.in_database().tables["c"].foreign_keys.is_empty());
        let drop = Operation::DropForeignKey(DropForeignKey {
            table: "c".into(),
            name: "c_p_fk".into(),
        });
        assert!(operation_in_database(&drop, &state).is_none());
    }

    #[test]
    fn a_foreign_key_with_its_constraint_is_left_alone() {
        let (parent, child) = tables(true);
        let mut state = SchemaState::new();
        state.apply(&Operation::CreateTable(parent)).unwrap();
        let create = Operation::CreateTable(child);
        assert!(matches!(
            operation_in_database(&create, &state),
            Some(Cow::Borrowed(_))
        ));
        state.apply(&create).unwrap();
        assert!(matches!(state.in_database(), Cow::Borrowed(_)));
        let drop = Operation::DropForeignKey(DropForeignKey {
            table: "c".into(),
            name: "c_p_fk".into(),
        });
        assert!(operation_in_database(&drop, &state).is_some());
    }
}

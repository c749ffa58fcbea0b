//! The indexes that keep foreign keys droppable.
//!
//! InnoDB needs an index on a foreign key's columns. When none exists it creates one
//! silently, named after the constraint; that index outlives `DROP FOREIGN KEY`, and
//! it is silently *dropped* again as soon as another index can serve the key — after
//! which that other index can no longer be dropped (error 1553, "needed in a foreign
//! key constraint"). Either way, running a migration forward and then back would not
//! leave the schema it started from.
//!
//! So InnoDB never gets to choose. The rendered SQL keeps one invariant, a pure
//! function of the schema state: **a foreign key that no key of its table covers
//! (primary key, unique constraint or index whose leading columns are the foreign
//! key's columns, in order) has an explicit index of its own, named like the foreign
//! key.** Every operation that can change coverage — adding or dropping a foreign
//! key, an index or a unique constraint — adds or drops those supporting indexes in
//! the same `ALTER TABLE` statement (one statement, so the change is atomic even
//! without transactional DDL). A foreign key covered by a user index thus costs no
//! second index, and every user index stays droppable: dropping the last cover
//! brings the supporting index back in the same statement.
//!
//! Only the referencing table is concerned: the referenced columns are a primary key
//! or unique constraint, which the user manages.

use std::collections::BTreeMap;

use strata_engine::ast::{ForeignKeyDef, TableDef};

/// Whether a key of `table` starts with `columns`, in order: what InnoDB accepts as
/// the index behind a foreign key. The supporting indexes themselves are not in the
/// state, so they never count.
pub fn covered(table: &TableDef, columns: &[String]) -> bool {
    let starts_with = |key: &[String]| key.starts_with(columns);
    starts_with(&table.primary_key)
        || table.uniques.iter().any(|u| starts_with(&u.columns))
        || table
            .indexes
            .iter()
            .any(|i| i.predicate.is_none() && starts_with(&i.columns))
}

/// The foreign keys of `table` that have a supporting index of their own.
pub fn needing_own_index(table: &TableDef) -> impl Iterator<Item = &ForeignKeyDef> {
    table
        .foreign_keys
        .iter()
        .filter(move |fk| !covered(table, &fk.columns))
}

/// The supporting indexes to create and to drop when a table changes from `before`
/// to `after`, so the invariant holds again afterwards.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Upkeep<'a> {
    pub create: Vec<&'a ForeignKeyDef>,
    /// Names of the foreign keys whose supporting index goes.
    pub drop: Vec<&'a str>,
}

pub(super) fn upkeep<'a>(before: &'a TableDef, after: &'a TableDef) -> Upkeep<'a> {
    let by_name = |t: &'a TableDef| -> BTreeMap<&'a str, &'a ForeignKeyDef> {
        needing_own_index(t)
            .map(|fk| (fk.name.as_str(), fk))
            .collect()
    };
    let (had, has) = (by_name(before), by_name(after));
    Upkeep {
        create: has
            .iter()
            .filter(|(name, _)| !had.contains_key(*name))
            .map(|(_, fk)| *fk)
            .collect(),
        drop: had
            .keys()
            .filter(|name| !has.contains_key(*name))
            .copied()
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_engine::ast::{IndexDef, UniqueDef};

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(ToString::to_string).collect()
    }

    fn child(primary_key: &[&str]) -> TableDef {
        let col = |name: &str| strata_engine::ast::ColumnDef {
            name: name.into(),
            ty: strata_engine::ColumnType::BigInt,
            null: false,
            default: None,
            auto: false,
            ..Default::default()
        };
        TableDef {
            name: "child".into(),
            columns: vec![col("id"), col("a"), col("b")],
            primary_key: strings(primary_key),
            uniques: vec![],
            checks: vec![],
            foreign_keys: vec![ForeignKeyDef {
                name: "child_a_fk".into(),
                columns: strings(&["a"]),
                references: "parent".into(),
                referenced_columns: strings(&["id"]),
                on_delete: None,
                on_update: None,
                ..Default::default()
            }],
            indexes: vec![],
            ..Default::default()
        }
    }

    fn index(name: &str, columns: &[&str]) -> IndexDef {
        IndexDef {
            name: name.into(),
            columns: strings(columns),
            unique: false,
            predicate: None,
            ..Default::default()
        }
    }

    #[test]
    fn an_uncovered_foreign_key_needs_its_own_index() {
        let t = child(&["id"]);
        let names: Vec<_> = needing_own_index(&t).map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["child_a_fk"]);
    }

    #[test]
    fn a_key_starting_with_the_columns_covers_them() {
        let mut t = child(&["a", "b"]);
        assert!(covered(&t, &strings(&["a"])));
        t.primary_key = strings(&["id"]);
        t.indexes.push(index("ab", &["a", "b"]));
        assert!(covered(&t, &strings(&["a"])));
        t.indexes = vec![index("ba", &["b", "a"])];
        assert!(!covered(&t, &strings(&["a"])));
        t.uniques.push(UniqueDef {
            name: "u".into(),
            columns: strings(&["a"]),
        });
        assert!(covered(&t, &strings(&["a"])));
    }

    #[test]
    fn dropping_the_last_cover_brings_the_own_index_back() {
        let mut covered_table = child(&["id"]);
        covered_table.indexes.push(index("child_a_idx", &["a"]));
        let bare = child(&["id"]);
        let up = upkeep(&covered_table, &bare);
        assert_eq!(up.create.len(), 1);
        assert!(up.drop.is_empty());
        let down = upkeep(&bare, &covered_table);
        assert!(down.create.is_empty());
        assert_eq!(down.drop, ["child_a_fk"]);
    }

    #[test]
    fn adding_and_dropping_a_foreign_key_adds_and_drops_its_index() {
        let with = child(&["id"]);
        let mut without = with.clone();
        without.foreign_keys.clear();
        assert_eq!(upkeep(&without, &with).create.len(), 1);
        assert_eq!(upkeep(&with, &without).drop, ["child_a_fk"]);
        assert_eq!(upkeep(&with, &with), Upkeep::default());
    }
}

//! Catalog rows → `SchemaState`: the neutral reading of what the servers show,
//! undoing the dialect's own implementation details on the way — MariaDB's
//! `json_valid` checks behind `json` columns, and the foreign keys' supporting
//! indexes (`dialect::fk_index`).

use std::collections::{BTreeMap, BTreeSet};

use strata_engine::ast::{
    CheckDef, ColumnDef, DefaultExpr, DefaultValue, FkAction, ForeignKeyDef, Generated, IndexDef,
    TableDef, UniqueDef,
};
use strata_engine::{ColumnType, SchemaState, ServerVersion};

use super::catalog::{Catalog, CheckRow, ColumnRow, ForeignKeyRow, IndexRow, TableRows};
use super::defaults::{neutral_default, ShownDefault};
use super::types::neutral_type;
use super::Inexpressible;
use crate::dialect::{foreign_keys_with_own_index, quote_ident};
use crate::flavour::Flavour;

/// The index MySQL makes for a primary key, whatever the key's name.
const PRIMARY: &str = "PRIMARY";

pub(super) fn schema(
    flavour: Flavour,
    version: ServerVersion,
    catalog: &Catalog,
) -> Result<SchemaState, Inexpressible> {
    let reader = Reader { flavour, version };
    let mut state = SchemaState::new();
    for name in &catalog.tables {
        let mut table = reader.table(name, catalog.rows_of(name))?;
        table.comment = catalog.table_comments.get(name).cloned();
        state.tables.insert(name.clone(), table.into());
    }
    Ok(state)
}

struct Reader {
    flavour: Flavour,
    version: ServerVersion,
}

impl Reader {
    fn table(&self, name: &str, rows: TableRows<'_>) -> Result<TableDef, Inexpressible> {
        let TableRows {
            mut columns,
            indexes,
            foreign_keys,
            checks,
        } = rows;
        columns.sort_by_key(|c| c.position);
        // (column, check) pairs; the check is identified by name and clause, since
        // after a rename two checks of one table can share a name.
        let json_checks: Vec<(&str, &CheckRow)> = match self.flavour {
            Flavour::Mariadb => columns
                .iter()
                .filter_map(|c| mariadb_json_check(c, &checks).map(|k| (c.name.as_str(), k)))
                .collect(),
            Flavour::Mysql => Vec::new(),
        };
        let is_json = |column: &str| json_checks.iter().any(|(c, _)| *c == column);
        let mut table = TableDef {
            name: name.to_string(),
            columns: columns
                .iter()
                .map(|c| self.column(c, is_json(&c.name)))
                .collect::<Result<_, _>>()?,
            primary_key: Vec::new(),
            uniques: Vec::new(),
            checks: checks
                .iter()
                .filter(|c| !json_checks.iter().any(|(_, k)| std::ptr::eq(*k, **c)))
                .map(|c| CheckDef {
                    name: c.name.clone(),
                    // In the neutral language when it is one, else as the server shows it.
                    expr: strata_engine::expr::from_mysql(&c.clause)
                        .unwrap_or_else(|| c.clause.clone()),
                })
                .collect(),
            foreign_keys: foreign_keys_of(name, &foreign_keys)?,
            indexes: Vec::new(),
            ..Default::default()
        };
        for (index_name, parts) in group(indexes.iter().map(|i| (&i.name, i.seq, *i))) {
            let keys = index_columns(name, &index_name, &parts)?;
            let unique = parts.first().is_some_and(|p| p.unique);
            let plain = keys.expressions.is_empty() && keys.lengths.is_empty();
            if index_name == PRIMARY {
                table.primary_key = keys.columns;
            } else if unique && plain {
                table.uniques.push(UniqueDef {
                    name: index_name,
                    columns: keys.columns,
                });
            } else {
                table.indexes.push(IndexDef {
                    name: index_name,
                    columns: keys.columns,
                    unique,
                    predicate: None,
                    expressions: keys.expressions,
                    lengths: keys.lengths,
                    ..Default::default()
                });
            }
        }
        hide_supporting_indexes(&mut table);
        table.checks.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(table)
    }

    fn column(&self, row: &ColumnRow, is_json: bool) -> Result<ColumnDef, Inexpressible> {
        let unexpressed = |reason: String| Inexpressible::Column {
            table: row.table.clone(),
            column: row.name.clone(),
            reason,
        };
        let values = enum_values(&row.column_type);
        let mut ty = if is_json {
            ColumnType::Json
        } else if values.is_some() {
            ColumnType::Enum
        } else {
            neutral_type(self.flavour, self.version, &row.column_type).ok_or_else(|| {
                unexpressed(format!(
                    "its type `{}` has no neutral equivalent",
                    row.column_type
                ))
            })?
        };
        let (extra, computed) = generation(row);
        let (auto, generated) = read_extra(&extra).map_err(unexpressed)?;
        let shown = ShownDefault {
            text: row.default.as_deref(),
            generated,
        };
        // `timestamptz` is stored as `datetime(6)`; its `now` (UTC_TIMESTAMP) is
        // what tells it apart.
        let now = Some(DefaultValue::Expr {
            expr: DefaultExpr::Now,
        });
        if ty == ColumnType::DateTime
            && neutral_default(self.flavour, ColumnType::TimestampTz, shown) == Ok(now)
        {
            ty = ColumnType::TimestampTz;
        }
        let default = neutral_default(self.flavour, ty, shown).map_err(unexpressed)?;
        Ok(ColumnDef {
            name: row.name.clone(),
            ty,
            null: row.nullable,
            default,
            auto,
            // MySQL has no "no comment": an empty one is none.
            comment: Some(row.comment.clone()).filter(|c| !c.is_empty()),
            values: values.unwrap_or_default(),
            // MariaDB's `json` is `longtext` with its own `utf8mb4_bin`: part of the type.
            collation: row
                .collation
                .clone()
                .filter(|_| !is_json)
                .map(|name| ("mysql".to_string(), name))
                .into_iter()
                .collect(),
            generated: computed,
            ..Default::default()
        })
    }
}

/// The values of a `COLUMN_TYPE` `enum('a','it''s','x\\y')`, quotes undoubled and
/// backslashes unescaped; `None` for any other type.
fn enum_values(column_type: &str) -> Option<Vec<String>> {
    let lower = column_type.get(..5)?;
    if !lower.eq_ignore_ascii_case("enum(") {
        return None;
    }
    let inner = column_type[5..].strip_suffix(')')?;
    let mut values = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        if chars.next()? != '\'' {
            return None;
        }
        let mut value = String::new();
        loop {
            match chars.next()? {
                '\'' if chars.peek() == Some(&'\'') => {
                    chars.next();
                    value.push('\'');
                }
                '\'' => break,
                '\\' => value.push(chars.next()?),
                c => value.push(c),
            }
        }
        values.push(value);
        match chars.next() {
            None => return Some(values),
            Some(',') => {}
            Some(_) => return None,
        }
    }
}

/// A generated column's expression (backquoted, as the server rewrote it: read back
/// in the neutral language) and `EXTRA` without its `VIRTUAL GENERATED` / `STORED
/// GENERATED` (MariaDB's `PERSISTENT` is shown as `STORED`).
fn generation(row: &ColumnRow) -> (String, Option<Generated>) {
    let upper = row.extra.to_ascii_uppercase();
    for (marker, stored) in [("VIRTUAL GENERATED", false), ("STORED GENERATED", true)] {
        if let Some(at) = upper.find(marker) {
            let mut extra = row.extra.clone();
            extra.replace_range(at..at + marker.len(), "");
            let expr = strata_engine::expr::from_mysql(&row.generation)
                .unwrap_or_else(|| row.generation.clone());
            return (extra, Some(Generated { expr, stored }));
        }
    }
    (row.extra.clone(), None)
}

/// MariaDB's `json` is `longtext` with a column check `json_valid(`col`)`, named
/// after the column when it was created: the column is read as `json` and the check
/// hidden. Renaming the column rewrites the clause but keeps the check's old name, so
/// the clause is what identifies it (the one named after the column first).
fn mariadb_json_check<'a>(column: &ColumnRow, checks: &[&'a CheckRow]) -> Option<&'a CheckRow> {
    let clause = format!("json_valid({})", quote_ident(&column.name));
    if !column.column_type.eq_ignore_ascii_case("longtext") {
        return None;
    }
    let matching = || {
        checks
            .iter()
            .filter(|c| c.clause.eq_ignore_ascii_case(&clause))
    };
    matching()
        .find(|c| c.name == column.name)
        .or_else(|| matching().next())
        .copied()
}

/// `(auto_increment, default_generated)` from `EXTRA`; anything else there (`on
/// update …`, generated columns, `INVISIBLE`) has no neutral equivalent.
fn read_extra(extra: &str) -> Result<(bool, bool), String> {
    let (mut auto, mut generated) = (false, false);
    for word in extra.split_whitespace() {
        if word.eq_ignore_ascii_case("auto_increment") {
            auto = true;
        } else if word.eq_ignore_ascii_case("DEFAULT_GENERATED") {
            generated = true;
        } else {
            return Err(format!("`{extra}` has no neutral equivalent"));
        }
    }
    Ok((auto, generated))
}

/// An index's key as an IndexDef has it: columns (with prefix lengths), then
/// expressions.
struct Keys {
    columns: Vec<String>,
    expressions: Vec<String>,
    lengths: BTreeMap<String, u32>,
}

fn index_columns(table: &str, index: &str, parts: &[&IndexRow]) -> Result<Keys, Inexpressible> {
    let refuse = |reason: &str| Inexpressible::Index {
        table: table.to_string(),
        index: index.to_string(),
        reason: reason.to_string(),
    };
    if let Some(part) = parts.first() {
        if !matches!(
            part.index_type.to_ascii_uppercase().as_str(),
            "BTREE" | "HASH"
        ) {
            return Err(refuse(&format!("it is a {} index", part.index_type)));
        }
    }
    let mut keys = Keys {
        columns: Vec::new(),
        expressions: Vec::new(),
        lengths: BTreeMap::new(),
    };
    for p in parts {
        match (&p.column, &p.sub_part, p.descending) {
            (None, _, _) => match &p.expression {
                Some(e) => keys.expressions.push(
                    strata_engine::expr::from_mysql(e)
                        .map_or_else(|| e.clone(), |n| strata_engine::expr::neutral(&n)),
                ),
                None => return Err(refuse("it indexes an expression")),
            },
            (Some(c), _, true) => return Err(refuse(&format!("it sorts `{c}` descending"))),
            (Some(c), Some(len), false) => {
                let n = len.parse::<u32>().map_err(|_| {
                    refuse(&format!("prefix length `{len}` of `{c}` is not a number"))
                })?;
                keys.lengths.insert(c.clone(), n);
                keys.columns.push(c.clone());
            }
            (Some(c), None, false) => keys.columns.push(c.clone()),
        }
    }
    Ok(keys)
}

fn foreign_keys_of(
    table: &str,
    rows: &[&ForeignKeyRow],
) -> Result<Vec<ForeignKeyDef>, Inexpressible> {
    let mut out = Vec::new();
    for (name, parts) in group(rows.iter().map(|r| (&r.name, r.position, *r))) {
        let first = parts[0];
        let refuse = |reason: String| Inexpressible::ForeignKey {
            table: table.to_string(),
            name: name.clone(),
            reason,
        };
        if !first.same_database {
            return Err(refuse(format!(
                "`{}` is in another database",
                first.referenced_table
            )));
        }
        out.push(ForeignKeyDef {
            name: name.clone(),
            columns: parts.iter().map(|p| p.column.clone()).collect(),
            references: first.referenced_table.clone(),
            referenced_columns: parts.iter().map(|p| p.referenced_column.clone()).collect(),
            on_delete: action(&first.delete_rule).map_err(refuse)?,
            on_update: action(&first.update_rule).map_err(refuse)?,
            ..Default::default()
        });
    }
    Ok(out)
}

/// `NO ACTION` is the neutral default, `None`.
fn action(rule: &str) -> Result<Option<FkAction>, String> {
    match rule.to_ascii_uppercase().as_str() {
        "NO ACTION" => Ok(None),
        "RESTRICT" => Ok(Some(FkAction::Restrict)),
        "CASCADE" => Ok(Some(FkAction::Cascade)),
        "SET NULL" => Ok(Some(FkAction::SetNull)),
        "SET DEFAULT" => Ok(Some(FkAction::SetDefault)),
        other => Err(format!("unknown referential action `{other}`")),
    }
}

/// Rows grouped by object name (sorted), each group in key order.
fn group<'a, T>(
    rows: impl Iterator<Item = (&'a String, u32, &'a T)>,
) -> BTreeMap<String, Vec<&'a T>> {
    let mut groups: BTreeMap<String, Vec<(u32, &T)>> = BTreeMap::new();
    for (name, order, row) in rows {
        groups.entry(name.clone()).or_default().push((order, row));
    }
    groups
        .into_iter()
        .map(|(name, mut parts)| {
            parts.sort_by_key(|(order, _)| *order);
            (name, parts.into_iter().map(|(_, row)| row).collect())
        })
        .collect()
}

/// Removes the indexes the dialect created for foreign keys, which the schema
/// state does not have: an index is one when it is named like a foreign key, has
/// exactly its columns, and the dialect's rule (`foreign_keys_with_own_index`) says
/// that foreign key needs one — judged, as the dialect judges, without counting
/// those indexes themselves as covers. Any other index is the user's.
fn hide_supporting_indexes(table: &mut TableDef) {
    let is_candidate = |i: &IndexDef, t: &TableDef| {
        t.foreign_keys
            .iter()
            .any(|fk| fk.name == i.name && fk.columns == i.columns)
    };
    let indexes = std::mem::take(&mut table.indexes);
    let (candidates, others): (Vec<IndexDef>, Vec<IndexDef>) =
        indexes.into_iter().partition(|i| is_candidate(i, table));
    table.indexes = others;
    let supporting: BTreeSet<String> = foreign_keys_with_own_index(table)
        .map(|fk| fk.name.clone())
        .collect();
    table.indexes.extend(
        candidates
            .into_iter()
            .filter(|i| !supporting.contains(&i.name)),
    );
    table.indexes.sort_by(|a, b| a.name.cmp(&b.name));
}

#[cfg(test)]
mod tests {
    #[test]
    fn enum_values_are_read_from_the_column_type() {
        assert_eq!(
            enum_values(r"enum('a','it''s','x,y','x\\y')"),
            Some(vec![
                "a".to_string(),
                "it's".into(),
                "x,y".into(),
                r"x\y".into()
            ])
        );
        assert_eq!(enum_values("varchar(5)"), None);
        assert_eq!(enum_values("enum('a'"), None);
    }

    use super::*;

    const MARIADB: (Flavour, ServerVersion) = (Flavour::Mariadb, ServerVersion::new(10, 11, 19));

    fn column(table: &str, position: u32, name: &str, column_type: &str) -> ColumnRow {
        ColumnRow {
            table: table.into(),
            name: name.into(),
            position,
            column_type: column_type.into(),
            nullable: false,
            default: None,
            extra: String::new(),
            comment: String::new(),
            collation: None,
            generation: String::new(),
        }
    }

    fn index(table: &str, name: &str, unique: bool, columns: &[&str]) -> Vec<IndexRow> {
        columns
            .iter()
            .enumerate()
            .map(|(i, c)| IndexRow {
                table: table.into(),
                name: name.into(),
                unique,
                seq: u32::try_from(i + 1).expect("a test index has few columns"),
                column: Some(c.to_string()),
                sub_part: None,
                index_type: "BTREE".into(),
                descending: false,
                expression: None,
            })
            .collect()
    }

    fn foreign_key(table: &str, name: &str, column: &str) -> ForeignKeyRow {
        ForeignKeyRow {
            table: table.into(),
            name: name.into(),
            column: column.into(),
            position: 1,
            same_database: true,
            referenced_table: "parent".into(),
            referenced_column: "id".into(),
            delete_rule: "NO ACTION".into(),
            update_rule: "NO ACTION".into(),
        }
    }

    /// `child (id, a, b)` with foreign keys on `a` and `b`, each with an index named
    /// after it, plus `extra` indexes.
    fn child(extra: Vec<Vec<IndexRow>>) -> Catalog {
        let mut indexes = index("child", "PRIMARY", true, &["id"]);
        indexes.extend(index("child", "child_a_fk", false, &["a"]));
        indexes.extend(index("child", "child_b_fk", false, &["b"]));
        indexes.extend(extra.into_iter().flatten());
        Catalog {
            tables: vec!["child".into()],
            table_comments: BTreeMap::new(),
            columns: vec![
                column("child", 1, "id", "bigint(20)"),
                column("child", 2, "a", "bigint(20)"),
                column("child", 3, "b", "bigint(20)"),
            ],
            indexes,
            foreign_keys: vec![
                foreign_key("child", "child_a_fk", "a"),
                foreign_key("child", "child_b_fk", "b"),
            ],
            checks: vec![],
        }
    }

    fn read(catalog: &Catalog) -> TableDef {
        TableDef::clone(&schema(MARIADB.0, MARIADB.1, catalog).unwrap().tables["child"])
    }

    fn index_names(t: &TableDef) -> Vec<&str> {
        t.indexes.iter().map(|i| i.name.as_str()).collect()
    }

    #[test]
    fn the_dialects_supporting_indexes_are_hidden() {
        let t = read(&child(vec![]));
        assert!(t.indexes.is_empty(), "{:?}", t.indexes);
        assert_eq!(t.primary_key, ["id"]);
        assert_eq!(t.foreign_keys.len(), 2);
    }

    /// With a user index covering `a`, the dialect drops `child_a_fk`'s own index; one
    /// still there is not the dialect's, so it is reported.
    #[test]
    fn an_index_the_rule_does_not_call_for_is_the_users() {
        let t = read(&child(vec![index(
            "child",
            "child_a_idx",
            false,
            &["a", "b"],
        )]));
        assert_eq!(index_names(&t), ["child_a_fk", "child_a_idx"]);
        let t = read(&child(vec![index("child", "child_a_uniq", true, &["a"])]));
        assert_eq!(index_names(&t), ["child_a_fk"]);
        assert_eq!(t.uniques[0].name, "child_a_uniq");
    }

    #[test]
    fn an_index_named_like_a_foreign_key_over_other_columns_is_the_users() {
        let mut catalog = child(vec![]);
        catalog.indexes.retain(|i| i.name != "child_b_fk");
        catalog
            .indexes
            .extend(index("child", "child_b_fk", false, &["b", "a"]));
        assert_eq!(index_names(&read(&catalog)), ["child_b_fk"]);
    }

    #[test]
    fn unique_indexes_are_unique_constraints_in_key_order() {
        let mut catalog = child(vec![]);
        let mut parts = index("child", "child_ba_uniq", true, &["b", "a"]);
        parts.reverse();
        catalog.indexes.extend(parts);
        let t = read(&catalog);
        assert_eq!(
            t.uniques,
            [UniqueDef {
                name: "child_ba_uniq".into(),
                columns: vec!["b".into(), "a".into()]
            }]
        );
    }

    #[test]
    fn mariadbs_json_check_is_hidden_and_its_column_is_json() {
        let mut catalog = child(vec![]);
        catalog.columns.push(column("child", 4, "doc", "longtext"));
        catalog
            .columns
            .push(column("child", 5, "plain", "longtext"));
        let check = |name: &str, clause: &str| CheckRow {
            table: "child".into(),
            name: name.into(),
            clause: clause.into(),
        };
        catalog.checks = vec![
            check("doc", "json_valid(`doc`)"),
            check("plain_short", "char_length(`plain`) < 10"),
        ];
        let t = read(&catalog);
        assert_eq!(t.column("doc").unwrap().ty, ColumnType::Json);
        assert_eq!(t.column("plain").unwrap().ty, ColumnType::Text);
        assert_eq!(t.checks.len(), 1);
        assert_eq!(t.checks[0].name, "plain_short");
    }

    #[test]
    fn a_renamed_json_column_is_json_though_its_check_keeps_the_old_name() {
        let mut catalog = child(vec![]);
        catalog.columns.push(column("child", 4, "body", "longtext"));
        catalog.columns.push(column("child", 5, "doc", "longtext"));
        catalog.columns.push(column("child", 6, "note", "longtext"));
        let check = |name: &str, clause: &str| CheckRow {
            table: "child".into(),
            name: name.into(),
            clause: clause.into(),
        };
        // `doc` renamed to `body`, then a new `doc`: MariaDB has two checks `doc`.
        catalog.checks = vec![
            check("doc", "json_valid(`body`)"),
            check("doc", "json_valid(`doc`)"),
            check("note", "json_valid(`doc`) or `note` is null"),
        ];
        let t = read(&catalog);
        assert_eq!(t.column("body").unwrap().ty, ColumnType::Json);
        assert_eq!(t.column("doc").unwrap().ty, ColumnType::Json);
        assert_eq!(t.column("note").unwrap().ty, ColumnType::Text);
        assert_eq!(t.checks.len(), 1, "{:?}", t.checks);
        assert_eq!(t.checks[0].name, "note");
    }

    #[test]
    fn timestamptz_is_told_apart_by_its_utc_default() {
        let mut catalog = child(vec![]);
        let mut stamped = column("child", 4, "stamped", "datetime(6)");
        stamped.default = Some("utc_timestamp(6)".into());
        let mut created = column("child", 5, "created", "datetime(6)");
        created.default = Some("current_timestamp(6)".into());
        catalog.columns.extend([stamped, created]);
        let t = read(&catalog);
        assert_eq!(t.column("stamped").unwrap().ty, ColumnType::TimestampTz);
        assert_eq!(t.column("created").unwrap().ty, ColumnType::DateTime);
    }

    #[test]
    fn referential_actions_read_back() {
        assert_eq!(action("NO ACTION"), Ok(None));
        assert_eq!(action("RESTRICT"), Ok(Some(FkAction::Restrict)));
        assert_eq!(action("SET NULL"), Ok(Some(FkAction::SetNull)));
        assert!(action("WHATEVER").is_err());
    }

    #[test]
    fn prefix_lengths_and_expressions_are_read_into_the_index() {
        let mut catalog = child(vec![]);
        let mut parts = index("child", "child_prefix_uniq", true, &["a"]);
        parts[0].sub_part = Some("10".into());
        let mut expression = index("child", "child_prefix_uniq", true, &["x"]);
        expression[0].seq = 2;
        expression[0].column = None;
        expression[0].expression = Some("lower(`a`)".into());
        parts.extend(expression);
        catalog.indexes.extend(parts);
        let table = &schema(MARIADB.0, MARIADB.1, &catalog).unwrap().tables["child"];
        let i = table.index("child_prefix_uniq").expect("read as an index");
        assert!(i.unique);
        assert_eq!(i.columns, ["a"]);
        assert_eq!(i.lengths.get("a"), Some(&10));
        assert_eq!(i.expressions, ["lower(a)"]);
        assert!(table.uniques.is_empty());
    }

    #[test]
    fn what_strata_cannot_express_is_an_error_naming_it() {
        let mut catalog = child(vec![]);
        catalog
            .columns
            .push(column("child", 4, "mood", "set('a','b')"));
        let err = schema(MARIADB.0, MARIADB.1, &catalog).unwrap_err();
        assert!(err.to_string().contains("`child`.`mood`"), "{err}");

        let mut catalog = child(vec![]);
        catalog.columns[1].extra = "on update current_timestamp()".into();
        assert!(schema(MARIADB.0, MARIADB.1, &catalog).is_err());

        let mut catalog = child(vec![]);
        let mut descending = index("child", "child_desc_idx", false, &["a"]);
        descending[0].descending = true;
        catalog.indexes.extend(descending);
        let err = schema(MARIADB.0, MARIADB.1, &catalog).unwrap_err();
        assert!(err.to_string().contains("child_desc_idx"), "{err}");

        let mut catalog = child(vec![]);
        catalog.foreign_keys[0].same_database = false;
        assert!(schema(MARIADB.0, MARIADB.1, &catalog).is_err());
    }
}

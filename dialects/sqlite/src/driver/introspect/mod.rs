//! The live schema of a SQLite database, in neutral terms.
//!
//! Columns, keys, indexes and foreign keys come from SQLite's pragmas; what only the
//! SQL text knows (checks, `AUTOINCREMENT`, constraint names, index predicates) is
//! read from `sqlite_master` by a small tokenizer that never fails on odd SQL. Names
//! are always bound as parameters of the pragma table functions, never spliced into
//! SQL.
//!
//! Mapping, where SQLite and strata differ:
//! - types: [`crate::neutral_type`] (a type strata cannot express is read by affinity);
//! - defaults: see [`defaults::parse`] (an expression without a neutral form is kept
//!   as its text);
//! - an index made by `CREATE INDEX` is an index (unique or not, partial or not); a
//!   `UNIQUE` written in `CREATE TABLE` is a unique constraint (named
//!   `sqlite_autoindex_…` by SQLite); the primary key's own index is not reported;
//! - an indexed expression is reported as a column named by its SQL text;
//! - foreign keys have the name their SQL gives them (`CONSTRAINT name …`), otherwise
//!   a generated `<table>_<columns>_fk`; `NO ACTION` is reported as no action (`None`);
//! - an unnamed check is named `<table>_check<n>` (n counts from 1, in text order);
//! - a virtual table whose module is not available is reported without columns;
//! - an `AUTOINCREMENT` key (always declared `integer`) has the integer type of the
//!   foreign keys that reference it, `bigint` when none or they disagree
//!   (`auto_key_types`).

mod create_index;
mod create_table;
mod defaults;
mod tokens;

use rusqlite::{Connection, OptionalExtension};
use strata_engine::ast::{
    CheckDef, ColumnDef, FkAction, ForeignKeyDef, Generated, IndexDef, TableDef, UniqueDef,
};
use strata_engine::naming::generated_name;
use strata_engine::{ColumnType, SchemaState};

use crate::dialect::types::neutral_type;
use create_table::{NamedForeignKey, TableText};

/// The user tables of the main database, with their SQL (SQLite's own are left out).
pub(crate) const TABLES_SQL: &str = "SELECT name, sql FROM main.sqlite_master \
     WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name";

/// Every user table of the connected database.
pub(crate) fn schema(conn: &Connection) -> rusqlite::Result<SchemaState> {
    let mut state = SchemaState::new();
    let tables: Vec<(String, Option<String>)> = conn
        .prepare(TABLES_SQL)?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (name, sql) in tables {
        let table = table(conn, &name, sql.as_deref().unwrap_or(""))?;
        state.tables.insert(name, table.into());
    }
    auto_key_types(&mut state);
    Ok(state)
}

/// The neutral type of each auto-increment key. SQLite declares every one `integer`
/// (only that spelling makes the rowid alias `AUTOINCREMENT` needs, and Django writes
/// it for `AutoField` and `BigAutoField` alike), and the rowid holds 64 bits whatever
/// the model said. What the schema still tells is the type of the columns that
/// reference the key: when every single-column foreign key to it is declared with
/// one integer type (`int`, `bigint`, …), that is the key's type, so key and
/// references read back alike; otherwise it is `bigint`, the rowid's range and the
/// type of a model's implicit `id`.
fn auto_key_types(state: &mut SchemaState) {
    let mut found: Vec<(String, String, strata_engine::ColumnType)> = Vec::new();
    for table in state.tables.values() {
        let Some(key) = table.auto_column() else {
            continue;
        };
        let mut types = state.tables.values().flat_map(|t| {
            t.foreign_keys
                .iter()
                .filter(|fk| {
                    fk.references == table.name
                        && fk.columns.len() == 1
                        && fk.referenced_columns == [key.name.clone()]
                })
                .filter_map(|fk| t.column(&fk.columns[0]).map(|c| c.ty))
        });
        let first = types.next().filter(|ty| ty.is_integer());
        let ty = match first {
            Some(ty) if types.all(|other| other == ty) => ty,
            _ => strata_engine::ColumnType::BigInt,
        };
        found.push((table.name.clone(), key.name.clone(), ty));
    }
    for (table, column, ty) in found {
        if let Some(c) = state
            .table_mut(&table)
            .ok()
            .and_then(|t| t.columns.iter_mut().find(|c| c.name == column))
        {
            c.ty = ty;
        }
    }
}

fn table(conn: &Connection, name: &str, sql: &str) -> rusqlite::Result<TableDef> {
    let mut text = create_table::parse(sql);
    let is_virtual = sql
        .split_whitespace()
        .nth(1)
        .is_some_and(|w| w.eq_ignore_ascii_case("VIRTUAL"));
    let (columns, primary_key) = match columns(conn, name, &text) {
        Ok(found) => found,
        // `no such module`: the table exists, its columns cannot be read here.
        Err(_) if is_virtual => (Vec::new(), Vec::new()),
        Err(e) => return Err(e),
    };
    let (uniques, indexes) = indexes(conn, name)?;
    // The `json_valid` check is part of what a `json` column is; on another column
    // it is a user's check like any other.
    for column in std::mem::take(&mut text.json_checked) {
        let json = columns
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(&column) && c.ty == ColumnType::Json);
        if !json {
            let expr = format!("json_valid({})", quote_name(&column));
            text.checks.push((None, expr));
        }
    }
    let mut table = TableDef {
        name: name.to_string(),
        columns,
        primary_key,
        uniques,
        checks: checks(name, &text),
        foreign_keys: foreign_keys(conn, name, &text)?,
        indexes,
        ..Default::default()
    };
    let capabilities = strata_engine::Dialect::capabilities(
        &crate::SqliteDialect,
        strata_engine::ServerVersion::new(3, 35, 0),
    );
    strata_engine::dialect::type_checks::fold_type_checks(&mut table, &capabilities);
    Ok(table)
}

/// The columns in order, and the primary key in key order.
fn columns(
    conn: &Connection,
    table: &str,
    text: &TableText,
) -> rusqlite::Result<(Vec<ColumnDef>, Vec<String>)> {
    // `hidden` = 1: a virtual table's hidden column, not part of its rows.
    // `hidden` = 2 / 3: a virtual / stored generated column.
    let sql = "SELECT name, type, \"notnull\", dflt_value, pk, hidden \
               FROM pragma_table_xinfo(?1, 'main') WHERE hidden <> 1 ORDER BY cid";
    let mut statement = conn.prepare(sql)?;
    let rows = statement.query_map([table], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, Option<String>>(1)?.unwrap_or_default(),
            row.get::<_, bool>(2)?,
            row.get::<_, Option<String>>(3)?,
            row.get::<_, i64>(4)?,
            row.get::<_, i64>(5)?,
        ))
    })?;
    let mut columns = Vec::new();
    let mut key = Vec::new();
    for row in rows {
        let (name, declared, not_null, default, pk, hidden) = row?;
        let auto = pk > 0
            && text
                .autoincrement
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&name));
        let collation = text
            .collations
            .iter()
            .filter(|(c, _)| c.eq_ignore_ascii_case(&name))
            .map(|(_, collation)| ("sqlite".to_string(), collation.clone()))
            .collect();
        let mut column = ColumnDef {
            name: name.clone(),
            ty: neutral_type(&declared),
            null: !not_null,
            default: None,
            auto,
            collation,
            ..Default::default()
        };
        column.default = default.and_then(|raw| defaults::parse(&raw, &column));
        column.generated = text
            .generated
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(&name))
            .filter(|_| hidden >= 2)
            .map(|(_, expr)| Generated {
                expr: strata_engine::expr::canonical(expr).unwrap_or_else(|| expr.clone()),
                stored: hidden == 3,
            });
        if pk > 0 {
            key.push((pk, name));
        }
        columns.push(column);
    }
    key.sort();
    Ok((columns, key.into_iter().map(|(_, name)| name).collect()))
}

/// Unique constraints (from `UNIQUE` in `CREATE TABLE`) and indexes (from `CREATE
/// INDEX`), each sorted by name.
fn indexes(conn: &Connection, table: &str) -> rusqlite::Result<(Vec<UniqueDef>, Vec<IndexDef>)> {
    let sql = "SELECT name, \"unique\", origin FROM pragma_index_list(?1, 'main') ORDER BY name";
    let list: Vec<(String, bool, String)> = conn
        .prepare(sql)?
        .query_map([table], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut uniques = Vec::new();
    let mut indexes = Vec::new();
    for (name, unique, origin) in list {
        match origin.as_str() {
            "pk" => {}
            "u" => uniques.push(UniqueDef {
                columns: index_columns(conn, &name, &[])?,
                name,
            }),
            _ => {
                let sql: Option<String> = conn
                    .query_row(
                        "SELECT sql FROM main.sqlite_master WHERE type = 'index' AND name = ?1",
                        [&name],
                        |row| row.get(0),
                    )
                    .optional()?
                    .flatten();
                let text = create_index::parse(sql.as_deref().unwrap_or(""));
                let (columns, expressions) = index_keys(conn, &name, &text.items)?;
                indexes.push(IndexDef {
                    columns,
                    name,
                    unique,
                    predicate: text.predicate,
                    expressions,
                    ..Default::default()
                });
            }
        }
    }
    Ok((uniques, indexes))
}

/// An index's key columns, then its expressions (their text in `items`, the items
/// of its `CREATE INDEX`, in strata's spelling): an IndexDef lists columns first.
fn index_keys(
    conn: &Connection,
    index: &str,
    items: &[String],
) -> rusqlite::Result<(Vec<String>, Vec<String>)> {
    let sql = "SELECT seqno, cid FROM pragma_index_xinfo(?1, 'main') \
               WHERE key = 1 ORDER BY seqno";
    let mut statement = conn.prepare(sql)?;
    let expression_at: Vec<usize> = statement
        .query_map([index], |row| {
            Ok((row.get::<_, usize>(0)?, row.get::<_, i64>(1)?))
        })?
        .filter_map(|r| match r {
            // `cid` -2 marks an expression (https://www.sqlite.org/pragma.html#pragma_index_xinfo).
            Ok((seqno, -2)) => Some(Ok(seqno)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
        .collect::<rusqlite::Result<_>>()?;
    let all = index_columns(conn, index, items)?;
    let mut columns = Vec::new();
    let mut expressions = Vec::new();
    for (seqno, key) in all.into_iter().enumerate() {
        if expression_at.contains(&seqno) {
            expressions.push(strata_engine::expr::neutral(&key));
        } else {
            columns.push(key);
        }
    }
    Ok((columns, expressions))
}

/// The indexed columns in order; an expression is named by its text in `items` (the
/// items of its `CREATE INDEX`), the rowid by `rowid`.
fn index_columns(
    conn: &Connection,
    index: &str,
    items: &[String],
) -> rusqlite::Result<Vec<String>> {
    let sql = "SELECT seqno, cid, name FROM pragma_index_xinfo(?1, 'main') \
               WHERE key = 1 ORDER BY seqno";
    let mut statement = conn.prepare(sql)?;
    let rows = statement.query_map([index], |row| {
        Ok((
            row.get::<_, usize>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, Option<String>>(2)?,
        ))
    })?;
    let mut columns = Vec::new();
    for row in rows {
        let (seqno, cid, name) = row?;
        columns.push(match (name, cid) {
            (Some(name), _) => name,
            (None, -1) => "rowid".to_string(),
            (None, _) => items
                .get(seqno)
                .cloned()
                .unwrap_or_else(|| "(expression)".to_string()),
        });
    }
    Ok(columns)
}

fn checks(table: &str, text: &TableText) -> Vec<CheckDef> {
    let mut unnamed = 0;
    text.checks
        .iter()
        .map(|(name, expr)| CheckDef {
            name: name.clone().unwrap_or_else(|| {
                unnamed += 1;
                generated_name(table, &[], &format!("check{unnamed}"))
            }),
            expr: expr.clone(),
        })
        .collect()
}

/// The foreign keys in the order they are written (SQLite numbers them backwards).
fn foreign_keys(
    conn: &Connection,
    table: &str,
    text: &TableText,
) -> rusqlite::Result<Vec<ForeignKeyDef>> {
    let sql = "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete \
               FROM pragma_foreign_key_list(?1, 'main') ORDER BY id DESC, seq";
    let mut statement = conn.prepare(sql)?;
    let rows = statement.query_map([table], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, Option<String>>(3)?,
            row.get::<_, String>(4)?,
            row.get::<_, String>(5)?,
        ))
    })?;
    let mut groups: Vec<(i64, ForeignKeyDef, bool)> = Vec::new();
    for row in rows {
        let (id, parent, from, to, on_update, on_delete) = row?;
        if groups.last().is_none_or(|(last, _, _)| *last != id) {
            let fk = ForeignKeyDef {
                name: String::new(),
                columns: Vec::new(),
                references: parent,
                referenced_columns: Vec::new(),
                on_delete: action(&on_delete),
                on_update: action(&on_update),
                ..Default::default()
            };
            groups.push((id, fk, false));
        }
        if let Some((_, fk, implicit)) = groups.last_mut() {
            fk.columns.push(from);
            match to {
                Some(to) => fk.referenced_columns.push(to),
                // `REFERENCES parent` without columns: the parent's primary key.
                None => *implicit = true,
            }
        }
    }
    let mut named: Vec<_> = text.named_foreign_keys.iter().collect();
    let mut out = Vec::with_capacity(groups.len());
    for (_, mut fk, implicit) in groups {
        if implicit {
            fk.referenced_columns = primary_key(conn, &fk.references)?;
        }
        let same = |n: &&NamedForeignKey| {
            n.references.eq_ignore_ascii_case(&fk.references)
                && n.columns.len() == fk.columns.len()
                && n.columns
                    .iter()
                    .zip(&fk.columns)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b))
        };
        fk.name = match named.iter().position(same) {
            Some(i) => named.remove(i).name.clone(),
            None => generated_name(table, &fk.columns, "fk"),
        };
        fk.deferrable = text
            .deferrable_foreign_keys
            .iter()
            .find(|(n, _)| same(&n))
            .map(|(_, d)| *d);
        out.push(fk);
    }
    Ok(out)
}

/// `name` as a quoted identifier.
fn quote_name(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The primary key columns of `table`, in key order (empty when it has none).
fn primary_key(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    conn.prepare("SELECT name FROM pragma_table_info(?1, 'main') WHERE pk > 0 ORDER BY pk")?
        .query_map([table], |row| row.get(0))?
        .collect()
}

/// SQLite's action keywords; `NO ACTION` (its default) is no action.
fn action(keyword: &str) -> Option<FkAction> {
    match keyword.to_ascii_uppercase().as_str() {
        "CASCADE" => Some(FkAction::Cascade),
        "RESTRICT" => Some(FkAction::Restrict),
        "SET NULL" => Some(FkAction::SetNull),
        "SET DEFAULT" => Some(FkAction::SetDefault),
        _ => None,
    }
}

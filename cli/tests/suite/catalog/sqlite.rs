//! SQLite's catalog: `sqlite_master`, and `pragma_table_xinfo`, `pragma_index_list`,
//! `pragma_index_xinfo`, `pragma_foreign_key_list` (the pragmas as table-valued
//! functions). What no pragma reports — checks, deferrability, collations, generated
//! expressions, constraint names, index predicates and expressions — is read from the
//! statement text SQLite stores (see `sql_text`). SQLite has no comments.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use strata_engine::dialect::driver::Driver;

use super::dump::{Catalog, Entry, TableDump};
use super::sql_text::{self, Token};
use super::{cell, lit, query, HISTORY};

/// What the statement text says about one column.
#[derive(Default)]
struct ColumnText {
    collate: Option<String>,
    generated: Option<String>,
    autoincrement: bool,
}

/// A foreign key as written: its name and deferral, found by its columns.
struct FkText {
    name: Option<String>,
    deferral: String,
}

pub(super) async fn dump(d: &mut dyn Driver) -> Catalog {
    let mut catalog = Catalog::default();
    let objects = query(
        d,
        "SELECT type, name, tbl_name, sql FROM sqlite_master \
         WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
    .await;
    for row in &objects {
        let (kind, name, table, sql) = (cell(row, 0), cell(row, 1), cell(row, 2), cell(row, 3));
        if table == HISTORY {
            continue;
        }
        match kind.as_str() {
            "table" => table_dump(d, &mut catalog, &name, &sql).await,
            "view" => catalog
                .top
                .push(Entry::new(format!("view {name}"), one_line(&sql))),
            "trigger" => catalog
                .table(&table)
                .triggers
                .push(Entry::new(format!("trigger {name}"), one_line(&sql))),
            // Indexes are read through their table.
            _ => {}
        }
    }
    catalog
}

fn one_line(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What only the `CREATE TABLE` text says.
#[derive(Default)]
struct Written {
    columns: BTreeMap<String, ColumnText>,
    fks: BTreeMap<Vec<String>, FkText>,
    pk_name: Option<String>,
}

/// Reads the table's statement: its options and checks go
/// straight into `table`; the rest is returned for the pragmas' rows.
fn written(sql: &str, table: &mut TableDump) -> Written {
    let (items, options) = sql_text::table_items(sql);
    let mut columns_text: BTreeMap<String, ColumnText> = BTreeMap::new();
    let mut fks_text: BTreeMap<Vec<String>, FkText> = BTreeMap::new();
    let mut pk_name = None;
    if !options.is_empty() {
        table.attrs.push(options);
    }
    let mut unnamed_checks = 0;
    for item in &items {
        let (constraint_name, rest) = match item.first() {
            Some(t) if t.is("constraint") => (item.get(1).map(|t| t.text.clone()), &item[2..]),
            _ => (None, &item[..]),
        };
        let Some(first) = rest.first() else { continue };
        if first.is("check") {
            let key = constraint_name.unwrap_or_else(|| {
                unnamed_checks += 1;
                format!("(unnamed {unnamed_checks})")
            });
            table.constraints.push(Entry::new(
                format!("check {key}"),
                sql_text::text(sql, rest),
            ));
        } else if first.is("foreign") {
            let open = rest.iter().position(|t| t.is("(")).unwrap_or(0);
            let (cols, after) = sql_text::group(rest, open).unwrap_or((&[], 0));
            fks_text.insert(
                names(cols),
                FkText {
                    name: constraint_name,
                    deferral: sql_text::deferrability(&rest[after..]),
                },
            );
        } else if first.is("primary") {
            pk_name = constraint_name;
        } else if first.is("unique") {
            // Read from the index SQLite makes for it (`pragma_index_list` origin `u`),
            // which covers a column's inline UNIQUE too; SQLite keeps no name for it.
        } else {
            column_text(
                sql,
                first.text.clone(),
                rest,
                table,
                &mut columns_text,
                &mut fks_text,
            );
        }
    }
    Written {
        columns: columns_text,
        fks: fks_text,
        pk_name,
    }
}

async fn table_dump(d: &mut dyn Driver, catalog: &mut Catalog, name: &str, sql: &str) {
    let table = catalog.table(name);
    let Written {
        columns: mut columns_text,
        fks: fks_text,
        pk_name,
    } = written(sql, table);
    let quoted = lit(name);
    let rows = query(
        d,
        &format!(
            "SELECT cid, name, type, \"notnull\", dflt_value, pk, hidden \
             FROM pragma_table_xinfo({quoted}) ORDER BY cid"
        ),
    )
    .await;
    let mut pk: Vec<(i64, String)> = Vec::new();
    for row in &rows {
        let column = cell(row, 1);
        let hidden = cell(row, 6);
        if hidden == "1" {
            continue;
        }
        // Recent SQLite reports the five standard type names in capitals (`INTEGER`)
        // and others as declared: one case, as strata writes them.
        let mut value = vec![cell(row, 2).to_lowercase()];
        value.push(
            if cell(row, 3) == "1" {
                "not null"
            } else {
                "null"
            }
            .into(),
        );
        if let Some(default) = row.get(4).cloned().flatten() {
            value.push(format!("default {default}"));
        }
        let text = columns_text.remove(&column).unwrap_or_default();
        if let Some(collate) = text.collate {
            value.push(format!("collate {collate}"));
        }
        if let Some(expr) = text.generated {
            let how = if hidden == "3" { "stored" } else { "virtual" };
            value.push(format!("generated always as {expr} {how}"));
        }
        if text.autoincrement {
            value.push("autoincrement".into());
        }
        if let Ok(position) = cell(row, 5).parse::<i64>() {
            if position > 0 {
                pk.push((position, column.clone()));
            }
        }
        table
            .columns
            .push(Entry::new(format!("column {column}"), value.join(" ")));
    }
    if !pk.is_empty() {
        pk.sort();
        let cols: Vec<String> = pk.into_iter().map(|(_, c)| c).collect();
        let key = match pk_name {
            Some(n) => format!("primary key {n}"),
            None => "primary key".into(),
        };
        table
            .constraints
            .push(Entry::new(key, format!("({})", cols.join(", "))));
    }

    indexes(d, table, &quoted).await;
    foreign_keys(d, table, &quoted, &fks_text).await;
}

/// A column definition's collation, generated expression, inline checks and
/// inline `REFERENCES` deferral.
fn column_text(
    sql: &str,
    column: String,
    item: &[Token],
    table: &mut TableDump,
    columns: &mut BTreeMap<String, ColumnText>,
    fks: &mut BTreeMap<Vec<String>, FkText>,
) {
    let mut found = ColumnText::default();
    let mut i = 1;
    while i < item.len() {
        let t = &item[i];
        let named = (i >= 2 && item[i - 2].is("constraint")).then(|| item[i - 1].text.clone());
        if t.is("collate") {
            found.collate = item.get(i + 1).map(|c| c.text.clone());
        } else if t.is("autoincrement") {
            found.autoincrement = true;
        } else if (t.is("as") || t.is("check")) && item.get(i + 1).is_some_and(|n| n.is("(")) {
            if let Some((_, after)) = sql_text::group(item, i + 1) {
                let expr = sql_text::text(sql, &item[i + 1..after]);
                if t.is("as") {
                    found.generated = Some(expr);
                } else {
                    let key = named.unwrap_or_else(|| format!("({column})"));
                    table
                        .constraints
                        .push(Entry::new(format!("check {key}"), format!("CHECK {expr}")));
                }
                i = after;
                continue;
            }
        } else if t.is("references") {
            fks.insert(
                vec![column.clone()],
                FkText {
                    name: named,
                    deferral: sql_text::deferrability(&item[i..]),
                },
            );
        }
        i += 1;
    }
    columns.insert(column, found);
}

fn names(tokens: &[Token]) -> Vec<String> {
    tokens
        .iter()
        .filter(|t| !t.is(","))
        .map(|t| t.text.clone())
        .collect()
}

async fn indexes(d: &mut dyn Driver, table: &mut TableDump, quoted: &str) {
    let list = query(
        d,
        &format!("SELECT name, \"unique\", origin, partial FROM pragma_index_list({quoted})"),
    )
    .await;
    for index in &list {
        let (name, unique, origin) = (cell(index, 0), cell(index, 1) == "1", cell(index, 2));
        let sql = query(
            d,
            &format!(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = {}",
                lit(&name)
            ),
        )
        .await
        .first()
        .map(|r| cell(r, 0))
        .unwrap_or_default();
        let (written, predicate) = sql_text::index_parts(&sql);
        let columns = query(
            d,
            &format!(
                "SELECT seqno, cid, name, \"desc\", coll FROM pragma_index_xinfo({}) \
                 WHERE key = 1 ORDER BY seqno",
                lit(&name)
            ),
        )
        .await;
        let parts: Vec<String> = columns
            .iter()
            .map(|c| {
                let seqno: usize = cell(c, 0).parse().unwrap_or(0);
                // An expression: as written, with its own COLLATE / DESC.
                if cell(c, 1) == "-2" {
                    return written.get(seqno).cloned().unwrap_or_default();
                }
                let mut part = cell(c, 2);
                if cell(c, 4) != "BINARY" {
                    let _ = write!(part, " collate {}", cell(c, 4));
                }
                if cell(c, 3) == "1" {
                    part.push_str(" desc");
                }
                part
            })
            .collect();
        let columns = format!("({})", parts.join(", "));
        // `pk`: the primary key of a WITHOUT ROWID table or of a non-integer key, which
        // its constraint line says; `u`: a UNIQUE constraint, written as one (its
        // index's name, `sqlite_autoindex_<table>_<n>`, is SQLite's counter).
        match origin.as_str() {
            "pk" => {}
            "u" => table
                .constraints
                .push(Entry::new(format!("unique {columns}"), "")),
            _ => {
                let mut value = Vec::new();
                if unique {
                    value.push("unique".to_string());
                }
                value.push(columns);
                if let Some(p) = predicate {
                    value.push(format!("where {p}"));
                }
                table
                    .indexes
                    .push(Entry::new(format!("index {name}"), value.join(" ")));
            }
        }
    }
}

async fn foreign_keys(
    d: &mut dyn Driver,
    table: &mut TableDump,
    quoted: &str,
    written: &BTreeMap<Vec<String>, FkText>,
) {
    let rows = query(
        d,
        &format!(
            "SELECT id, seq, \"table\", \"from\", \"to\", on_update, on_delete, \"match\" \
             FROM pragma_foreign_key_list({quoted}) ORDER BY id, seq"
        ),
    )
    .await;
    let mut by_id: BTreeMap<String, Vec<&Vec<Option<String>>>> = BTreeMap::new();
    for row in &rows {
        by_id.entry(cell(row, 0)).or_default().push(row);
    }
    for parts in by_id.values() {
        let from: Vec<String> = parts.iter().map(|r| cell(r, 3)).collect();
        // `to` is NULL when the key names only the table: its primary key.
        let to: Vec<String> = parts
            .iter()
            .filter_map(|r| r.get(4).cloned().flatten())
            .collect();
        let to = if to.is_empty() {
            String::new()
        } else {
            format!(" ({})", to.join(", "))
        };
        let first = parts[0];
        let text = written.get(&from);
        let mut value = format!(
            "references {}{to} on delete {} on update {}",
            cell(first, 2),
            cell(first, 6).to_lowercase(),
            cell(first, 5).to_lowercase(),
        );
        if cell(first, 7) != "NONE" {
            let _ = write!(value, " match {}", cell(first, 7).to_lowercase());
        }
        value.push(' ');
        value.push_str(text.map_or("not deferrable", |t| t.deferral.as_str()));
        // Unnamed (an inline REFERENCES): known by its columns.
        let key = match text.and_then(|t| t.name.clone()) {
            Some(name) => {
                value = format!("({}) {value}", from.join(", "));
                format!("foreign key {name}")
            }
            None => format!("foreign key ({})", from.join(", ")),
        };
        table.constraints.push(Entry::new(key, value));
    }
}

/// Statements making every object and field the dump reads, for the test that it
/// reads them (the wide schema uses today's vocabulary only).
pub(super) const FIXTURE: &[&str] = &[
    "CREATE TABLE parent (id integer PRIMARY KEY AUTOINCREMENT, \
     code text COLLATE NOCASE NOT NULL UNIQUE)",
    "CREATE TABLE child (id integer NOT NULL, \
     parent_code text CONSTRAINT child_parent_fk REFERENCES parent (code) \
       ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED, \
     other text REFERENCES parent, \
     body text CHECK (length(body) < 100), \
     doubled integer GENERATED ALWAYS AS (id * 2) STORED, halved integer AS (id / 2), \
     PRIMARY KEY (id), CONSTRAINT child_body_json CHECK (json_valid(body)), \
     UNIQUE (body, id)) WITHOUT ROWID",
    "CREATE INDEX child_lower ON child (lower(body) DESC)",
    "CREATE INDEX child_code ON child (parent_code COLLATE NOCASE DESC) \
     WHERE body IS NOT NULL",
    "CREATE VIEW grown AS SELECT id FROM child",
    "CREATE TRIGGER child_ai AFTER INSERT ON child BEGIN SELECT 1; END",
];

/// What the dump must say of [`FIXTURE`], checked by hand against the statements.
pub(super) const FIXTURE_DUMP: &str = r"view grown: CREATE VIEW grown AS SELECT id FROM child
table child: without rowid
  column id: integer not null
  column parent_code: text null
  column other: text null
  column body: text null
  column doubled: integer null generated always as (id * 2) stored
  column halved: integer null generated always as (id / 2) virtual
  primary key: (id)
  unique (body, id)
  check (body): CHECK (length(body) < 100)
  check child_body_json: CHECK (json_valid(body))
  foreign key (other): references parent on delete no action on update no action not deferrable
  foreign key child_parent_fk: (parent_code) references parent (code) on delete cascade on update no action deferrable initially deferred
  index child_code: (parent_code collate NOCASE desc) where body IS NOT NULL
  index child_lower: (lower(body) DESC)
  trigger child_ai: CREATE TRIGGER child_ai AFTER INSERT ON child BEGIN SELECT 1; END
table parent
  column id: integer null autoincrement
  column code: text not null collate NOCASE
  primary key: (id)
  unique (code collate NOCASE)
";

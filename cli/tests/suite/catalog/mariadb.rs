//! MariaDB's and MySQL's catalog: `information_schema` (`TABLES`, `COLUMNS`,
//! `STATISTICS`, `TABLE_CONSTRAINTS`, `KEY_COLUMN_USAGE`, `REFERENTIAL_CONSTRAINTS`,
//! `CHECK_CONSTRAINTS`, `TRIGGERS`, `VIEWS`) of `DATABASE()`. The two differ where
//! it matters here: MariaDB's `CHECK_CONSTRAINTS` has a `TABLE_NAME` (its column-level
//! checks are named after their column, so names repeat across tables), MySQL's has
//! not and is joined to `TABLE_CONSTRAINTS` (its check names are unique per schema);
//! MySQL's `STATISTICS` has the `EXPRESSION` of a functional key part, MariaDB indexes
//! no expression (it indexes generated columns). Where the schema's name could
//! appear (a view's text) it is cut out, so the dump does not depend on it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use strata_engine::dialect::driver::Driver;

use super::dump::{Catalog, Entry};
use super::{cell, lit, query, HISTORY};

/// `mysql`: the server is MySQL, not MariaDB.
pub(super) async fn dump(d: &mut dyn Driver, mysql: bool) -> Catalog {
    let mut catalog = Catalog::default();
    let history = lit(HISTORY);
    let database = query(
        d,
        "SELECT DATABASE(), DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA \
         WHERE SCHEMA_NAME = DATABASE()",
    )
    .await;
    let (schema, default_collation) = (cell(&database[0], 0), cell(&database[0], 1));

    let tables = query(
        d,
        &format!(
            "SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COLLATION, TABLE_COMMENT \
             FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_NAME <> {history}"
        ),
    )
    .await;
    let mut collations = BTreeMap::new();
    for row in &tables {
        let name = cell(row, 0);
        if cell(row, 1) != "BASE TABLE" {
            continue;
        }
        let table = catalog.table(&name);
        table.attrs.push(format!("engine {}", cell(row, 2)));
        if cell(row, 3) != default_collation {
            table.attrs.push(format!("collate {}", cell(row, 3)));
        }
        if !cell(row, 4).is_empty() {
            table
                .attrs
                .push(format!("comment {}", quote(&cell(row, 4))));
        }
        collations.insert(name, cell(row, 3));
    }

    columns(d, &mut catalog, &collations).await;
    indexes(d, &mut catalog, mysql).await;
    foreign_keys(d, &mut catalog).await;
    checks_triggers_views(d, &mut catalog, &schema, mysql).await;
    catalog
}

async fn checks_triggers_views(
    d: &mut dyn Driver,
    catalog: &mut Catalog,
    schema: &str,
    mysql: bool,
) {
    let history = lit(HISTORY);
    let sql = if mysql {
        format!(
            "SELECT t.TABLE_NAME, c.CONSTRAINT_NAME, c.CHECK_CLAUSE \
             FROM information_schema.CHECK_CONSTRAINTS c \
             JOIN information_schema.TABLE_CONSTRAINTS t \
               ON t.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA AND t.CONSTRAINT_NAME = c.CONSTRAINT_NAME \
              AND t.CONSTRAINT_TYPE = 'CHECK' \
             WHERE c.CONSTRAINT_SCHEMA = DATABASE() AND t.TABLE_NAME <> {history}"
        )
    } else {
        format!(
            "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS \
             WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME <> {history}"
        )
    };
    let checks = query(d, &sql).await;
    for row in &checks {
        catalog.table(&cell(row, 0)).constraints.push(Entry::new(
            format!("check {}", cell(row, 1)),
            format!("CHECK ({})", cell(row, 2)),
        ));
    }

    let triggers = query(
        d,
        "SELECT EVENT_OBJECT_TABLE, TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION, ACTION_STATEMENT \
         FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()",
    )
    .await;
    for row in &triggers {
        catalog.table(&cell(row, 0)).triggers.push(Entry::new(
            format!("trigger {}", cell(row, 1)),
            format!(
                "{} {} for each row {}",
                cell(row, 2).to_lowercase(),
                cell(row, 3).to_lowercase(),
                one_line(&cell(row, 4))
            ),
        ));
    }
    let views = query(
        d,
        "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS \
         WHERE TABLE_SCHEMA = DATABASE()",
    )
    .await;
    for row in &views {
        let text = one_line(&cell(row, 1)).replace(&format!("`{schema}`."), "");
        catalog
            .top
            .push(Entry::new(format!("view {}", cell(row, 0)), text));
    }
}

fn one_line(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Columns, each collation compared with its table's (`collations`).
async fn columns(d: &mut dyn Driver, catalog: &mut Catalog, collations: &BTreeMap<String, String>) {
    let history = lit(HISTORY);
    let columns = query(
        d,
        &format!(
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, \
                    GENERATION_EXPRESSION, COLLATION_NAME, COLUMN_COMMENT \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_NAME <> {history} ORDER BY TABLE_NAME, ORDINAL_POSITION"
        ),
    )
    .await;
    for row in &columns {
        let table_name = cell(row, 0);
        if !collations.contains_key(&table_name) {
            continue;
        }
        let extra = cell(row, 5).to_lowercase();
        let mut value = vec![cell(row, 2)];
        value.push(
            if cell(row, 3) == "YES" {
                "null"
            } else {
                "not null"
            }
            .into(),
        );
        match row.get(4).cloned().flatten() {
            // MariaDB says `NULL` for a nullable column without a default (a string
            // default of that text is quoted: `'NULL'`).
            Some(default) if default != "NULL" => value.push(format!("default {default}")),
            _ => {}
        }
        if extra.contains("generated") {
            let how = if extra.contains("stored") {
                "stored"
            } else {
                "virtual"
            };
            value.push(format!("generated always as ({}) {how}", cell(row, 6)));
        } else if !extra.is_empty() {
            value.push(extra);
        }
        if let Some(collation) = row.get(7).cloned().flatten() {
            if Some(&collation) != collations.get(&table_name) {
                value.push(format!("collate {collation}"));
            }
        }
        if !cell(row, 8).is_empty() {
            value.push(format!("comment {}", quote(&cell(row, 8))));
        }
        catalog.table(&table_name).columns.push(Entry::new(
            format!("column {}", cell(row, 1)),
            value.join(" "),
        ));
    }
}

/// Every index, the primary key's included (on InnoDB a key, a unique constraint and
/// a unique index are one object): unique, method, each column with its prefix length
/// and order, comment.
async fn indexes(d: &mut dyn Driver, catalog: &mut Catalog, mysql: bool) {
    let expression = if mysql { "EXPRESSION" } else { "NULL" };
    let rows = query(
        d,
        &format!(
            "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, COLLATION, \
                    INDEX_TYPE, INDEX_COMMENT, {expression} \
             FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_NAME <> {} ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
            lit(HISTORY)
        ),
    )
    .await;
    let mut grouped: BTreeMap<(String, String), Vec<&Vec<Option<String>>>> = BTreeMap::new();
    for row in &rows {
        grouped
            .entry((cell(row, 0), cell(row, 1)))
            .or_default()
            .push(row);
    }
    for ((table, name), parts) in grouped {
        let first = parts[0];
        let columns: Vec<String> = parts
            .iter()
            .map(|p| {
                // A functional key part (MySQL) has no column but its expression.
                let mut part = p.get(3).cloned().flatten().unwrap_or_else(|| cell(p, 8));
                if let Some(prefix) = p.get(4).cloned().flatten() {
                    let _ = write!(part, "({prefix})");
                }
                if cell(p, 5) == "D" {
                    part.push_str(" desc");
                }
                part
            })
            .collect();
        let mut value = Vec::new();
        if cell(first, 2) == "0" && name != "PRIMARY" {
            value.push("unique".to_string());
        }
        value.push(format!("using {}", cell(first, 6).to_lowercase()));
        value.push(format!("({})", columns.join(", ")));
        if !cell(first, 7).is_empty() {
            value.push(format!("comment {}", quote(&cell(first, 7))));
        }
        let key = if name == "PRIMARY" {
            "primary key PRIMARY".to_string()
        } else {
            format!("index {name}")
        };
        let entry = Entry::new(key, value.join(" "));
        let table = catalog.table(&table);
        if name == "PRIMARY" {
            table.constraints.push(entry);
        } else {
            table.indexes.push(entry);
        }
    }
}

/// InnoDB has no deferrable constraint: every key says `not deferrable`.
async fn foreign_keys(d: &mut dyn Driver, catalog: &mut Catalog) {
    let rows = query(
        d,
        &format!(
            "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, \
                    k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE, r.MATCH_OPTION, \
                    k.REFERENCED_TABLE_SCHEMA = DATABASE() \
             FROM information_schema.KEY_COLUMN_USAGE k \
             JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
               ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME \
              AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
             WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
               AND k.TABLE_NAME <> {} \
             ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
            lit(HISTORY)
        ),
    )
    .await;
    let mut grouped: BTreeMap<(String, String), Vec<&Vec<Option<String>>>> = BTreeMap::new();
    for row in &rows {
        grouped
            .entry((cell(row, 0), cell(row, 1)))
            .or_default()
            .push(row);
    }
    for ((table, name), parts) in grouped {
        let first = parts[0];
        let from: Vec<String> = parts.iter().map(|p| cell(p, 2)).collect();
        let to: Vec<String> = parts.iter().map(|p| cell(p, 4)).collect();
        // Another schema's table is named as such, without the (test-made) name.
        let target = if cell(first, 8) == "1" {
            cell(first, 3)
        } else {
            format!("<another schema>.{}", cell(first, 3))
        };
        let matching = match cell(first, 7).as_str() {
            "NONE" | "SIMPLE" | "" => String::new(),
            other => format!(" match {}", other.to_lowercase()),
        };
        catalog.table(&table).constraints.push(Entry::new(
            format!("foreign key {name}"),
            format!(
                "({}) references {target} ({}) on delete {} on update {}{matching} not deferrable",
                from.join(", "),
                to.join(", "),
                cell(first, 6).to_lowercase(),
                cell(first, 5).to_lowercase(),
            ),
        ));
    }
}

/// A comment as a SQL string literal.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Statements making every object and field the dump reads, for the test that it
/// reads them (the wide schema uses today's vocabulary only).
pub(super) const FIXTURE: &[&str] = &[
    "CREATE TABLE parent (id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, \
     code varchar(10) COLLATE utf8mb4_bin NOT NULL COMMENT 'a code''s text', \
     UNIQUE KEY parent_code_uniq (code)) COMMENT 'the parents'",
    "CREATE TABLE child (id bigint NOT NULL PRIMARY KEY, \
     parent_code varchar(10) COLLATE utf8mb4_bin, body text, \
     doubled bigint AS (id * 2) VIRTUAL, tripled bigint AS (id * 3) STORED, \
     feeling enum('sad','ok') DEFAULT 'ok', note varchar(10) DEFAULT 'NULL', \
     KEY child_body (body(20)) COMMENT 'prefix', KEY child_desc (id DESC, feeling), \
     CONSTRAINT child_parent_fk FOREIGN KEY (parent_code) REFERENCES parent (code) \
       ON DELETE CASCADE, \
     CONSTRAINT child_id_positive CHECK (id > 0)) COLLATE utf8mb4_unicode_ci",
    "CREATE VIEW grown AS SELECT id FROM child",
    "CREATE TRIGGER child_feel BEFORE INSERT ON child FOR EACH ROW SET NEW.feeling = 'ok'",
];

/// What the dump must say of [`FIXTURE`], checked by hand against the statements.
pub(super) const FIXTURE_DUMP: &str = r"view grown: select `child`.`id` AS `id` from `child`
table child: engine InnoDB collate utf8mb4_unicode_ci
  column id: bigint(20) not null
  column parent_code: varchar(10) null collate utf8mb4_bin
  column body: text null
  column doubled: bigint(20) null generated always as (`id` * 2) virtual
  column tripled: bigint(20) null generated always as (`id` * 3) stored
  column feeling: enum('sad','ok') null default 'ok'
  column note: varchar(10) null default 'NULL'
  primary key PRIMARY: using btree (id)
  check child_id_positive: CHECK (`id` > 0)
  foreign key child_parent_fk: (parent_code) references parent (code) on delete cascade on update restrict not deferrable
  index child_body: using btree (body(20)) comment 'prefix'
  index child_desc: using btree (id desc, feeling)
  index child_parent_fk: using btree (parent_code)
  trigger child_feel: before insert for each row SET NEW.feeling = 'ok'
table parent: engine InnoDB comment 'the parents'
  column id: int(10) unsigned not null auto_increment
  column code: varchar(10) not null collate utf8mb4_bin comment 'a code''s text'
  primary key PRIMARY: using btree (id)
  index parent_code_uniq: unique using btree (code)
";

//! PostgreSQL's catalog: `pg_class`, `pg_attribute`, `pg_attrdef`, `pg_constraint`,
//! `pg_index` (with `pg_am`, `pg_opclass`, `pg_collation`), `pg_type`/`pg_enum`,
//! `pg_trigger`, the comments of `pg_description`; expressions as the server prints
//! them back (`pg_get_expr`, `pg_get_indexdef`). Everything in `current_schema()`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use strata_engine::dialect::driver::Driver;

use super::dump::{Catalog, Entry};
use super::{cell, lit, query, HISTORY};

const SCHEMA: &str = "current_schema()::regnamespace";

pub(super) async fn dump(d: &mut dyn Driver) -> Catalog {
    let mut catalog = Catalog::default();
    top_level(d, &mut catalog).await;
    let history = lit(HISTORY);

    let tables = query(
        d,
        &format!(
            "SELECT c.relname, c.relkind, c.relpersistence, obj_description(c.oid, 'pg_class') \
             FROM pg_class c WHERE c.relnamespace = {SCHEMA} AND c.relkind IN ('r', 'p') \
             AND c.relname <> {history}"
        ),
    )
    .await;
    for row in &tables {
        let table = catalog.table(&cell(row, 0));
        if cell(row, 1) == "p" {
            table.attrs.push("partitioned".into());
        }
        if cell(row, 2) == "u" {
            table.attrs.push("unlogged".into());
        }
        if let Some(comment) = row.get(3).cloned().flatten() {
            table.attrs.push(format!("comment {}", quote(&comment)));
        }
    }

    let columns = query(
        d,
        &format!(
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, \
                    pg_get_expr(ad.adbin, ad.adrelid, true), a.attidentity, a.attgenerated, \
                    CASE WHEN a.attcollation <> t.typcollation THEN co.collname END, \
                    col_description(c.oid, a.attnum) \
             FROM pg_attribute a \
             JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_type t ON t.oid = a.atttypid \
             LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum \
             LEFT JOIN pg_collation co ON co.oid = a.attcollation \
             WHERE c.relnamespace = {SCHEMA} AND c.relkind IN ('r', 'p') \
               AND c.relname <> {history} AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY c.relname, a.attnum"
        ),
    )
    .await;
    for row in &columns {
        let mut value = vec![cell(row, 2)];
        value.push(
            if cell(row, 3) == "t" {
                "not null"
            } else {
                "null"
            }
            .into(),
        );
        let expr = row.get(4).cloned().flatten();
        match (cell(row, 6).as_str(), expr) {
            ("s", Some(e)) => value.push(format!("generated always as ({e}) stored")),
            (_, Some(e)) => value.push(format!("default {e}")),
            _ => {}
        }
        match cell(row, 5).as_str() {
            "a" => value.push("identity always".into()),
            "d" => value.push("identity by default".into()),
            _ => {}
        }
        if let Some(collation) = row.get(7).cloned().flatten() {
            value.push(format!("collate \"{collation}\""));
        }
        if let Some(comment) = row.get(8).cloned().flatten() {
            value.push(format!("comment {}", quote(&comment)));
        }
        catalog.table(&cell(row, 0)).columns.push(Entry::new(
            format!("column {}", cell(row, 1)),
            value.join(" "),
        ));
    }

    constraints(d, &mut catalog).await;
    indexes(d, &mut catalog).await;

    let triggers = query(
        d,
        &format!(
            "SELECT c.relname, g.tgname, pg_get_triggerdef(g.oid, true) FROM pg_trigger g \
             JOIN pg_class c ON c.oid = g.tgrelid \
             WHERE c.relnamespace = {SCHEMA} AND NOT g.tgisinternal AND c.relname <> {history}"
        ),
    )
    .await;
    for row in &triggers {
        catalog.table(&cell(row, 0)).triggers.push(Entry::new(
            format!("trigger {}", cell(row, 1)),
            cell(row, 2),
        ));
    }
    catalog
}

/// Enum types, sequences no identity column owns, views.
async fn top_level(d: &mut dyn Driver, catalog: &mut Catalog) {
    let enums = query(
        d,
        &format!(
            "SELECT t.typname, string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) \
             FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid \
             WHERE t.typnamespace = {SCHEMA} GROUP BY t.typname"
        ),
    )
    .await;
    for row in &enums {
        catalog.top.push(Entry::new(
            format!("type {}", cell(row, 0)),
            format!("enum ({})", cell(row, 1)),
        ));
    }
    let sequences = query(
        d,
        &format!(
            "SELECT c.relname FROM pg_class c WHERE c.relnamespace = {SCHEMA} AND c.relkind = 'S' \
             AND NOT EXISTS (SELECT FROM pg_depend p WHERE p.objid = c.oid AND p.deptype = 'i')"
        ),
    )
    .await;
    for row in &sequences {
        catalog
            .top
            .push(Entry::new(format!("sequence {}", cell(row, 0)), ""));
    }
    let views = query(
        d,
        &format!(
            "SELECT c.relname, c.relkind, pg_get_viewdef(c.oid, true) FROM pg_class c \
             WHERE c.relnamespace = {SCHEMA} AND c.relkind IN ('v', 'm')"
        ),
    )
    .await;
    for row in &views {
        let kind = if cell(row, 1) == "m" {
            "materialized view"
        } else {
            "view"
        };
        let text = cell(row, 2)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        catalog
            .top
            .push(Entry::new(format!("{kind} {}", cell(row, 0)), text));
    }
}

/// The column names of an attribute-number array (`conkey`, `confkey`) of `rel`.
fn names_of(array: &str, rel: &str) -> String {
    format!(
        "(SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY u.ord) \
          FROM unnest({array}) WITH ORDINALITY AS u(num, ord) \
          JOIN pg_attribute a ON a.attrelid = {rel} AND a.attnum = u.num)"
    )
}

fn action(code: &str) -> &'static str {
    match code {
        "a" => "no action",
        "r" => "restrict",
        "c" => "cascade",
        "n" => "set null",
        "d" => "set default",
        _ => "?",
    }
}

async fn constraints(d: &mut dyn Driver, catalog: &mut Catalog) {
    let history = lit(HISTORY);
    let rows = query(
        d,
        &format!(
            "SELECT c.relname, k.conname, k.contype, {}, f.relname, {}, \
                    k.confupdtype, k.confdeltype, k.confmatchtype, k.condeferrable, k.condeferred, \
                    NULL, pg_get_constraintdef(k.oid, true), \
                    k.convalidated, obj_description(k.oid, 'pg_constraint'), \
                    ( SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY n.n) \
                      FROM pg_index x CROSS JOIN LATERAL generate_series(x.indnkeyatts + 1, x.indnatts) AS n(n) \
                      JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[n.n - 1] \
                      WHERE x.indexrelid = k.conindid ), \
                    ( SELECT x.indnullsnotdistinct FROM pg_index x WHERE x.indexrelid = k.conindid ) \
             FROM pg_constraint k \
             JOIN pg_class c ON c.oid = k.conrelid \
             LEFT JOIN pg_class f ON f.oid = k.confrelid \
             WHERE c.relnamespace = {SCHEMA} AND c.relname <> {history} AND k.contype <> 't'",
            names_of("k.conkey", "k.conrelid"),
            names_of("k.confkey", "k.confrelid"),
        ),
    )
    .await;
    for row in &rows {
        let (name, kind) = (cell(row, 1), cell(row, 2));
        let deferral = match (cell(row, 9).as_str(), cell(row, 10).as_str()) {
            ("t", "t") => "deferrable initially deferred",
            ("t", _) => "deferrable initially immediate",
            _ => "not deferrable",
        };
        let (key, mut value) = match kind.as_str() {
            "p" | "u" => {
                let mut value = format!("({})", cell(row, 3));
                if let Some(include) = row.get(15).cloned().flatten() {
                    let _ = write!(value, " include ({include})");
                }
                if cell(row, 16) == "t" {
                    value.push_str(" nulls not distinct");
                }
                if deferral != "not deferrable" {
                    let _ = write!(value, " {deferral}");
                }
                let what = if kind == "p" { "primary key" } else { "unique" };
                (format!("{what} {name}"), value)
            }
            // As psql shows it: pg_get_constraintdef's pretty form has fewer parentheses.
            "c" => (format!("check {name}"), cell(row, 12)),
            "f" => {
                let matching = match cell(row, 8).as_str() {
                    "f" => " match full",
                    "p" => " match partial",
                    _ => "",
                };
                (
                    format!("foreign key {name}"),
                    format!(
                        "({}) references {} ({}) on delete {} on update {}{matching} {deferral}",
                        cell(row, 3),
                        cell(row, 4),
                        cell(row, 5),
                        action(&cell(row, 7)),
                        action(&cell(row, 6)),
                    ),
                )
            }
            // Exclusion constraints and any later kind: as the server writes it.
            _ => (format!("constraint {name}"), cell(row, 12)),
        };
        if cell(row, 13) == "f" {
            value.push_str(" not valid");
        }
        if let Some(comment) = row.get(14).cloned().flatten() {
            let _ = write!(value, " comment {}", quote(&comment));
        }
        catalog
            .table(&cell(row, 0))
            .constraints
            .push(Entry::new(key, value));
    }
}

/// Indexes that no constraint owns (a primary key's or unique constraint's index is
/// its constraint's line): method, each key part with its operator class (unless the
/// type's default), collation (unless the default) and order, `INCLUDE` columns,
/// `NULLS NOT DISTINCT`, the predicate.
async fn indexes(d: &mut dyn Driver, catalog: &mut Catalog) {
    let history = lit(HISTORY);
    let owned = "EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = x.indexrelid \
                 AND k.conrelid = x.indrelid AND k.contype IN ('p', 'u', 'x'))";
    let heads = query(
        d,
        &format!(
            "SELECT t.relname, i.relname, x.indisunique, am.amname, \
                    pg_get_expr(x.indpred, x.indrelid, true), x.indnullsnotdistinct, x.indisvalid, \
                    obj_description(i.oid, 'pg_class') \
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
             JOIN pg_class t ON t.oid = x.indrelid JOIN pg_am am ON am.oid = i.relam \
             WHERE t.relnamespace = {SCHEMA} AND t.relname <> {history} AND NOT {owned}"
        ),
    )
    .await;
    let parts = query(
        d,
        &format!(
            "SELECT i.relname, n.n <= x.indnkeyatts, pg_get_indexdef(x.indexrelid, n.n, true), \
                    CASE WHEN NOT opc.opcdefault THEN opc.opcname END, \
                    CASE WHEN co.collname <> 'default' THEN co.collname END, \
                    x.indoption[n.n - 1] \
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
             JOIN pg_class t ON t.oid = x.indrelid \
             CROSS JOIN LATERAL generate_series(1, x.indnatts) AS n(n) \
             LEFT JOIN pg_opclass opc ON n.n <= x.indnkeyatts AND opc.oid = x.indclass[n.n - 1] \
             LEFT JOIN pg_collation co ON n.n <= x.indnkeyatts AND co.oid = x.indcollation[n.n - 1] \
             WHERE t.relnamespace = {SCHEMA} AND t.relname <> {history} AND NOT {owned} \
             ORDER BY i.relname, n.n"
        ),
    )
    .await;
    let mut keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut includes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in &parts {
        let index = cell(row, 0);
        let column = cell(row, 2);
        if cell(row, 1) != "t" {
            includes.entry(index).or_default().push(column);
            continue;
        }
        // pg_get_indexdef gives the column, or the expression in parentheses.
        let mut part = column;
        if let Some(collation) = row.get(4).cloned().flatten() {
            let _ = write!(part, " collate \"{collation}\"");
        }
        if let Some(opclass) = row.get(3).cloned().flatten() {
            let _ = write!(part, " {opclass}");
        }
        let option: i32 = cell(row, 5).parse().unwrap_or(0);
        let (desc, nulls_first) = (option & 1 != 0, option & 2 != 0);
        match (desc, nulls_first) {
            (true, true) => part.push_str(" desc"),
            (true, false) => part.push_str(" desc nulls last"),
            (false, true) => part.push_str(" nulls first"),
            (false, false) => {}
        }
        keys.entry(index).or_default().push(part);
    }
    for row in &heads {
        let name = cell(row, 1);
        let mut value = Vec::new();
        if cell(row, 2) == "t" {
            value.push("unique".to_string());
        }
        value.push(format!("using {}", cell(row, 3)));
        value.push(format!(
            "({})",
            keys.remove(&name).unwrap_or_default().join(", ")
        ));
        if let Some(include) = includes.remove(&name) {
            value.push(format!("include ({})", include.join(", ")));
        }
        if cell(row, 5) == "t" {
            value.push("nulls not distinct".into());
        }
        if let Some(predicate) = row.get(4).cloned().flatten() {
            value.push(format!("where {predicate}"));
        }
        if cell(row, 6) != "t" {
            value.push("invalid".into());
        }
        if let Some(comment) = row.get(7).cloned().flatten() {
            value.push(format!("comment {}", quote(&comment)));
        }
        catalog
            .table(&cell(row, 0))
            .indexes
            .push(Entry::new(format!("index {name}"), value.join(" ")));
    }
}

/// A comment as a SQL string literal.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Statements making every object and field the dump reads, for the test that it
/// reads them (the wide schema uses today's vocabulary only).
pub(super) const FIXTURE: &[&str] = &[
    "CREATE TYPE mood AS ENUM ('sad', 'ok')",
    "CREATE TABLE parent (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
     code varchar(10) COLLATE \"C\" NOT NULL CONSTRAINT parent_code_uniq UNIQUE)",
    "COMMENT ON TABLE parent IS 'the parents'",
    "COMMENT ON COLUMN parent.code IS 'a code''s text'",
    "CREATE TABLE child (id bigint PRIMARY KEY, \
     parent_code varchar(10) CONSTRAINT child_parent_fk REFERENCES parent (code) \
       ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED, \
     email text, feeling mood DEFAULT 'ok', tags jsonb, \
     doubled bigint GENERATED ALWAYS AS (id * 2) STORED, \
     CONSTRAINT child_email_uniq UNIQUE NULLS NOT DISTINCT (email) INCLUDE (id), \
     CONSTRAINT child_id_positive CHECK (id > 0) NOT VALID)",
    "CREATE INDEX child_email_like ON child (email text_pattern_ops)",
    "CREATE INDEX child_lower_email ON child (lower(email) DESC NULLS LAST, id NULLS FIRST)",
    "CREATE INDEX child_tags ON child USING gin (tags)",
    "CREATE INDEX child_cover ON child USING btree (parent_code COLLATE \"C\") INCLUDE (email) \
     WHERE email IS NOT NULL",
    "COMMENT ON INDEX child_tags IS 'search'",
    "CREATE SEQUENCE loose",
    "CREATE VIEW grown AS SELECT id FROM child",
    "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'",
    "CREATE TRIGGER child_touch BEFORE UPDATE ON child FOR EACH ROW EXECUTE FUNCTION touch()",
];

/// What the dump must say of [`FIXTURE`], checked by hand against the statements.
pub(super) const FIXTURE_DUMP: &str = r#"sequence loose
type mood: enum ('sad', 'ok')
view grown: SELECT child.id FROM child;
table child
  column id: bigint not null
  column parent_code: character varying(10) null
  column email: text null
  column feeling: mood null default 'ok'::mood
  column tags: jsonb null
  column doubled: bigint null generated always as (id * 2) stored
  primary key child_pkey: (id)
  unique child_email_uniq: (email) include (id) nulls not distinct
  check child_id_positive: CHECK (id > 0)
  foreign key child_parent_fk: (parent_code) references parent (code) on delete cascade on update no action deferrable initially deferred
  index child_cover: using btree (parent_code collate "C") include (email) where email IS NOT NULL
  index child_email_like: using btree (email text_pattern_ops)
  index child_lower_email: using btree (lower(email) desc nulls last, id nulls first)
  index child_tags: using gin (tags) comment 'search'
  trigger child_touch: CREATE TRIGGER child_touch BEFORE UPDATE ON child FOR EACH ROW EXECUTE FUNCTION touch()
table parent: comment 'the parents'
  column id: bigint not null identity always
  column code: character varying(10) not null collate "C" comment 'a code''s text'
  primary key parent_pkey: (id)
  unique parent_code_uniq: (code)
"#;

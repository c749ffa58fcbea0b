//! Introspection: the live tables of `current_schema()` as a neutral `SchemaState`.
//!
//! What the neutral model cannot say is reported as close to the truth as it can be,
//! never by failing (a database may hold tables no migration made) and never by
//! panicking; each such case is logged as a warning naming the table and column:
//!
//! - a type with no exact neutral type (`json`, `integer[]`, an enum, `timestamp(3)`)
//!   becomes `text`;
//! - a default expression with no neutral value (`lower('X')`) becomes a text
//!   default holding the expression's SQL: a comparison then still sees that the
//!   column has a default, and which one;
//! - a generated column (`GENERATED ALWAYS AS (…) STORED`) is reported without its
//!   generation expression;
//! - a `serial` column (a `nextval(…)` default) is `auto`, like an identity column;
//! - an invalid index (left by a failed `CREATE INDEX CONCURRENTLY`) is left out:
//!   it enforces nothing, so the schema does not really have it yet;
//! - an expression key of an index is reported as its SQL text, in place of a column;
//! - exclusion constraints, `INCLUDE` columns, sort orders, operator classes and
//!   index methods are not reported.

mod catalog;
mod defaults;

use std::collections::BTreeMap;

use strata_engine::ast::{
    CheckDef, ColumnDef, DefaultValue, Deferrable, FkAction, ForeignKeyDef, Generated, IndexDef,
    IndexMethod, TableDef, UniqueDef,
};
use strata_engine::dialect::driver::DriverError;
use strata_engine::{ColumnType, SchemaState};
use tokio_postgres::Client;

use crate::dialect::types::neutral_type;
use catalog::{ColumnRow, ConstraintRow, IndexRow};
use defaults::ParsedDefault;

pub(crate) use catalog::TABLE_NAMES_SQL;

/// Reads the schema the connection works in.
pub(super) async fn schema(client: &Client) -> Result<SchemaState, DriverError> {
    let standard_strings = catalog::standard_conforming_strings(client).await?;
    let mut tables: BTreeMap<String, TableDef> = catalog::tables(client)
        .await?
        .into_iter()
        .map(|t| {
            let table = TableDef {
                comment: t.comment,
                ..empty_table(t.name.clone())
            };
            (t.name, table)
        })
        .collect();
    for row in catalog::columns(client).await? {
        if let Some(table) = tables.get_mut(&row.table) {
            table.columns.push(column(row, standard_strings));
        }
    }
    for row in catalog::constraints(client).await? {
        if let Some(table) = tables.get_mut(&row.table) {
            add_constraint(table, row);
        }
    }
    for row in catalog::indexes(client).await? {
        if let Some(table) = tables.get_mut(&row.table) {
            add_index(table, row);
        }
    }
    let capabilities = strata_engine::Dialect::capabilities(
        &crate::PostgresDialect,
        strata_engine::ServerVersion::new(12, 0, 0),
    );
    for table in tables.values_mut() {
        strata_engine::dialect::type_checks::fold_type_checks(table, &capabilities);
        // Catalog order is creation order; name order is what a state is compared in.
        table.uniques.sort_by(|a, b| a.name.cmp(&b.name));
        table.checks.sort_by(|a, b| a.name.cmp(&b.name));
        table.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
        table.indexes.sort_by(|a, b| a.name.cmp(&b.name));
    }
    let tables = tables
        .into_iter()
        .map(|(name, t)| (name, t.into()))
        .collect();
    Ok(SchemaState { tables })
}

fn empty_table(name: String) -> TableDef {
    TableDef {
        name,
        columns: Vec::new(),
        primary_key: Vec::new(),
        uniques: Vec::new(),
        checks: Vec::new(),
        foreign_keys: Vec::new(),
        indexes: Vec::new(),
        ..Default::default()
    }
}

fn column(row: ColumnRow, standard_strings: bool) -> ColumnDef {
    let ty = neutral_type(&row.sql_type).unwrap_or_else(|| {
        tracing::warn!(
            table = %row.table,
            column = %row.name,
            sql_type = %row.sql_type,
            "no neutral type matches this column's type; introspected as text"
        );
        ColumnType::Text
    });
    let mut auto = row.identity;
    // PostgreSQL 15 has stored generated columns only; the expression is deparsed
    // with its casts (`(p * (q)::numeric)`), which the neutral form drops.
    let generated = row
        .default
        .clone()
        .filter(|_| row.generated)
        .map(|expr| Generated {
            expr: neutral(expr),
            stored: true,
        });
    let default = match (&row.default, row.generated) {
        (None, _) | (Some(_), true) => None,
        (Some(expr), false) => match defaults::parse(expr, ty, standard_strings) {
            ParsedDefault::Value(value) => Some(value),
            ParsedDefault::Sequence => {
                auto = true;
                None
            }
            ParsedDefault::Expression(sql) => {
                tracing::warn!(
                    table = %row.table,
                    column = %row.name,
                    expression = %sql,
                    "no neutral default matches this expression; introspected as its text"
                );
                Some(DefaultValue::Text(sql))
            }
        },
    };
    ColumnDef {
        name: row.name,
        ty,
        null: !row.not_null,
        default,
        auto,
        comment: row.comment,
        collation: row
            .collation
            .map(|name| ("postgres".to_string(), name))
            .into_iter()
            .collect(),
        generated,
        ..Default::default()
    }
}

fn add_constraint(table: &mut TableDef, row: ConstraintRow) {
    match row.kind.as_str() {
        "p" => table.primary_key = row.columns,
        "u" => table.uniques.push(UniqueDef {
            name: row.name,
            columns: row.columns,
        }),
        "c" => table.checks.push(CheckDef {
            name: row.name,
            expr: neutral(row.check.unwrap_or_default()),
        }),
        "f" => table.foreign_keys.push(ForeignKeyDef {
            name: row.name,
            columns: row.columns,
            references: row.references.unwrap_or_default(),
            referenced_columns: row.referenced_columns,
            on_delete: action(&row.on_delete),
            on_update: action(&row.on_update),
            deferrable: match (row.deferrable, row.deferred) {
                (false, _) => None,
                (true, true) => Some(Deferrable::Deferred),
                (true, false) => Some(Deferrable::Immediate),
            },
            ..Default::default()
        }),
        // The query asks for these four kinds only.
        _ => {}
    }
}

/// `pg_constraint.confdeltype` / `confupdtype`. NO ACTION, the default, is `None`:
/// what a migration that names no action says.
fn action(code: &str) -> Option<FkAction> {
    match code {
        "r" => Some(FkAction::Restrict),
        "c" => Some(FkAction::Cascade),
        "n" => Some(FkAction::SetNull),
        "d" => Some(FkAction::SetDefault),
        _ => None,
    }
}

fn add_index(table: &mut TableDef, row: IndexRow) {
    if !row.valid {
        tracing::warn!(
            table = %row.table,
            index = %row.name,
            "invalid index (a failed CREATE INDEX CONCURRENTLY?) left out; drop it and migrate again"
        );
        return;
    }
    let mut index = IndexDef {
        name: row.name,
        unique: row.unique,
        predicate: row.predicate.map(neutral),
        include: row.include,
        // btree is what an index without `method` is.
        method: IndexMethod::by_name(&row.method).filter(|m| *m != IndexMethod::Btree),
        nulls_not_distinct: row.nulls_not_distinct,
        ..Default::default()
    };
    // An IndexDef lists its columns before its expressions: an index written with an
    // expression first reads back in that order (see docs/expressions.md).
    for (n, part) in row.columns.into_iter().enumerate() {
        let opclass = row.opclasses.get(n).filter(|o| !o.is_empty());
        if row.expression.get(n).copied().unwrap_or(false) {
            index.expressions.push(neutral(part));
        } else {
            if let Some(o) = opclass {
                index.opclasses.insert(part.clone(), o.clone());
            }
            index.columns.push(part);
        }
    }
    table.indexes.push(index);
}

/// A check or predicate in the neutral language when it is one (PostgreSQL shows
/// `name::text ~~ 'a%'::text` for `name LIKE 'a%'`), else as the server shows it.
fn neutral(server: String) -> String {
    strata_engine::expr::from_postgres(&server).unwrap_or(server)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(sql_type: &str, default: Option<&str>) -> ColumnRow {
        ColumnRow {
            table: "t".into(),
            name: "c".into(),
            sql_type: sql_type.into(),
            not_null: true,
            identity: false,
            generated: false,
            default: default.map(Into::into),
            comment: None,
            collation: None,
        }
    }

    #[test]
    fn a_serial_column_is_auto_without_a_default() {
        let c = column(row("integer", Some("nextval('t_c_seq'::regclass)")), true);
        assert!(c.auto);
        assert_eq!(c.default, None);
        assert_eq!(c.ty, ColumnType::Int);
    }

    #[test]
    fn what_strata_cannot_express_is_approximated_not_refused() {
        let c = column(row("integer[]", Some("'{}'::integer[]")), true);
        assert_eq!(c.ty, ColumnType::Text);
        assert_eq!(c.default, Some(DefaultValue::Text("{}".into())));
        let c = column(row("text", Some("lower('X'::text)")), true);
        assert_eq!(
            c.default,
            Some(DefaultValue::Text("lower('X'::text)".into()))
        );
        let mut generated = row("integer", Some("(a + 1)"));
        generated.generated = true;
        assert_eq!(column(generated, true).default, None);
    }

    #[test]
    fn referential_actions() {
        assert_eq!(action("a"), None);
        assert_eq!(action("r"), Some(FkAction::Restrict));
        assert_eq!(action("c"), Some(FkAction::Cascade));
        assert_eq!(action("n"), Some(FkAction::SetNull));
        assert_eq!(action("d"), Some(FkAction::SetDefault));
    }
}

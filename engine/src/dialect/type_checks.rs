//! Checks that belong to a column's type, not to the user: an unsigned integer on a
//! backend without unsigned storage is the signed type plus `CHECK (col >= 0)`, as
//! Django writes its `Positive…IntegerField`s. The renderers create, rename and drop
//! these with the column; introspection recognises them and reads the column back as
//! the unsigned type instead of reporting a user check. An `enum` column without a
//! native enumeration type is `text` plus `CHECK (col IN ('a', 'b'))`, read back the
//! same way.

use crate::ast::{AlterColumn, ColumnDef, TableDef};
use crate::expr::{self, Expr};
use crate::naming::fit_identifier;
use crate::types::ColumnType;

use super::Capabilities;

/// A check a column's type implies on this backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeCheck {
    /// `<table>_<column>_check`, fitted to the identifier limit: PostgreSQL's own
    /// name for an unnamed column check, so a schema Django made reads back alike.
    pub name: String,
    /// The condition in the neutral expression language.
    pub expr: String,
}

/// The checks `column` of `table` needs on a backend with `capabilities`.
pub fn type_checks(table: &str, column: &ColumnDef, capabilities: &Capabilities) -> Vec<TypeCheck> {
    if column.ty.is_unsigned() && !capabilities.unsigned_integers {
        vec![TypeCheck {
            name: check_name(table, &column.name, capabilities),
            expr: format!("{} >= 0", neutral_ident(&column.name)),
        }]
    } else if column.ty == ColumnType::Enum && !capabilities.native_enums {
        let list: Vec<String> = column.values.iter().map(|v| neutral_text(v)).collect();
        vec![TypeCheck {
            name: check_name(table, &column.name, capabilities),
            expr: format!("{} IN ({})", neutral_ident(&column.name), list.join(", ")),
        }]
    } else {
        Vec::new()
    }
}

/// `old` with the type and value list `o` gives it: what decides its type checks and
/// its SQL type after the change.
pub fn retyped(old: &ColumnDef, o: &AlterColumn) -> ColumnDef {
    let mut new = old.clone();
    if let Some(ty) = o.ty {
        new.ty = ty;
    }
    if let Some(values) = &o.values {
        new.values.clone_from(values);
    }
    if let Some(collation) = &o.collation {
        new.collation.clone_from(collation);
    }
    if new.ty != ColumnType::Enum {
        new.values.clear();
    }
    new
}

/// The name of the type check of `column`.
pub fn check_name(table: &str, column: &str, capabilities: &Capabilities) -> String {
    fit_identifier(
        &format!("{table}_{column}_check"),
        capabilities.max_identifier_len,
    )
}

/// Whether `expr` (neutral text, as introspection reads a check back) is the check
/// that makes `column` unsigned: `column >= 0`, parentheses aside.
pub fn is_unsigned_check(expr: &str, column: &str) -> bool {
    let wanted = expr::parse(&format!("{} >= 0", neutral_ident(column)), None);
    match (expr::parse(expr, None), wanted) {
        (Ok(found), Ok(wanted)) => bare(&found) == bare(&wanted),
        _ => false,
    }
}

/// Reads the type checks of an introspected table back into its column types: a
/// check `col >= 0` on an integer column that either bears the type check's name or
/// whose declared type already says `unsigned` (SQLite keeps Django's `integer
/// unsigned`, whatever the check is called) makes the column unsigned and is no user
/// check. Any other check, `col >= 0` under a user's name included, stays one.
pub fn fold_type_checks(table: &mut TableDef, capabilities: &Capabilities) {
    let name = table.name.clone();
    table.checks.retain(|check| {
        // Without `RENAME CONSTRAINT` (SQLite) a renamed table or column keeps the
        // check's first name: any `…_check` of the enum's form is one.
        let enum_named = |column: &str| {
            check.name == check_name(&name, column, capabilities)
                || (!capabilities.rename_constraint && check.name.ends_with("_check"))
        };
        if let Some(column) = table.columns.iter_mut().find(|c| {
            c.ty == ColumnType::Text
                && enum_named(&c.name)
                && enum_values(&check.expr, &c.name).is_some()
        }) {
            column.values = enum_values(&check.expr, &column.name).unwrap_or_default();
            column.ty = ColumnType::Enum;
            return false;
        }
        let Some(column) = table
            .columns
            .iter_mut()
            .find(|c| c.ty.is_integer() && is_unsigned_check(&check.expr, &c.name))
        else {
            return true;
        };
        let named = check.name == check_name(&name, &column.name, capabilities);
        if !named && !column.ty.is_unsigned() {
            return true;
        }
        column.ty = column.ty.unsigned().unwrap_or(column.ty);
        false
    });
}

/// The value list of an enum's check `column IN ('a', …)`, or `None` when `expr` is
/// anything else.
pub fn enum_values(expr: &str, column: &str) -> Option<Vec<String>> {
    let Expr::InList {
        expr,
        negated: false,
        list,
    } = bare(&expr::parse(expr, None).ok()?).clone()
    else {
        return None;
    };
    if !matches!(bare(&expr), Expr::Column(c) if c == column) {
        return None;
    }
    list.iter()
        .map(|e| match bare(e) {
            Expr::Text(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

fn bare(e: &Expr) -> &Expr {
    match e {
        Expr::Nested(inner) => bare(inner),
        other => other,
    }
}

/// A string literal as the neutral expression language quotes it.
fn neutral_text(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// A column name as the neutral expression language quotes it.
fn neutral_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_enum_without_native_type_is_text_with_a_check_read_back_as_enum() {
        let caps = Capabilities::BASELINE;
        let status = ColumnDef {
            name: "status".into(),
            ty: ColumnType::Enum,
            values: vec!["draft".into(), "it's".into()],
            ..Default::default()
        };
        let checks = type_checks("post", &status, &caps);
        assert_eq!(checks[0].expr, "\"status\" IN ('draft', 'it''s')");
        let native = Capabilities {
            native_enums: true,
            ..Capabilities::BASELINE
        };
        assert!(type_checks("post", &status, &native).is_empty());
        let mut table = TableDef {
            name: "post".into(),
            columns: vec![ColumnDef {
                ty: ColumnType::Text,
                values: vec![],
                ..status.clone()
            }],
            checks: vec![
                crate::ast::CheckDef {
                    name: "post_status_check".into(),
                    expr: "(status IN ('draft', 'it''s'))".into(),
                },
                crate::ast::CheckDef {
                    name: "user_in".into(),
                    expr: "status IN ('a')".into(),
                },
            ],
            ..Default::default()
        };
        fold_type_checks(&mut table, &caps);
        assert_eq!(table.columns[0], status);
        assert_eq!(table.checks.len(), 1);
        assert_eq!(table.checks[0].name, "user_in");
    }

    #[test]
    fn only_unsigned_columns_without_native_storage_get_a_check() {
        let column = |ty| ColumnDef {
            name: "qty".into(),
            ty,
            ..Default::default()
        };
        let caps = Capabilities::BASELINE;
        let checks = type_checks("stock", &column(ColumnType::UInt), &caps);
        assert_eq!(
            checks,
            [TypeCheck {
                name: "stock_qty_check".into(),
                expr: "\"qty\" >= 0".into()
            }]
        );
        assert!(type_checks("stock", &column(ColumnType::Int), &caps).is_empty());
        let native = Capabilities {
            unsigned_integers: true,
            ..Capabilities::BASELINE
        };
        assert!(type_checks("stock", &column(ColumnType::UInt), &native).is_empty());
    }

    #[test]
    fn the_check_is_recognised_however_the_server_spells_it() {
        assert!(is_unsigned_check("(qty >= 0)", "qty"));
        assert!(is_unsigned_check("\"qty\" >= 0", "qty"));
        assert!(!is_unsigned_check("qty > 0", "qty"));
        assert!(!is_unsigned_check("qty >= 0 AND qty < 10", "qty"));
        assert!(!is_unsigned_check("other >= 0", "qty"));
    }

    #[test]
    fn folding_makes_the_named_check_a_type_and_leaves_user_checks() {
        let caps = Capabilities::BASELINE;
        let mut table = TableDef {
            name: "stock".into(),
            columns: vec![
                ColumnDef {
                    name: "qty".into(),
                    ty: ColumnType::Int,
                    ..Default::default()
                },
                ColumnDef {
                    name: "held".into(),
                    ty: ColumnType::BigInt,
                    ..Default::default()
                },
            ],
            checks: vec![
                crate::ast::CheckDef {
                    name: "stock_qty_check".into(),
                    expr: "(qty >= 0)".into(),
                },
                crate::ast::CheckDef {
                    name: "held_nonneg".into(),
                    expr: "held >= 0".into(),
                },
            ],
            ..Default::default()
        };
        fold_type_checks(&mut table, &caps);
        assert_eq!(table.columns[0].ty, ColumnType::UInt);
        assert_eq!(table.columns[1].ty, ColumnType::BigInt);
        assert_eq!(table.checks.len(), 1);
        assert_eq!(table.checks[0].name, "held_nonneg");
    }
}

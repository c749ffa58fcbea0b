//! A column default as SQLite reports it (`pragma table_xinfo`'s `dflt_value`: the
//! expression's text as written), read back as a neutral `DefaultValue`.

use strata_engine::ast::{ColumnDef, DefaultExpr, DefaultValue};
use strata_engine::{ColumnType, Dialect};

use super::tokens::{tokenize, Kind};
use crate::dialect::SqliteDialect;

/// The neutral default of `column` whose SQL text is `raw`.
///
/// Literals lose their quotes and escapes (`'it''s'` → `it's`); `1`/`0` on a `bool`
/// column are booleans; `CURRENT_TIMESTAMP` (or the date/time keyword its type takes)
/// and strata's UUID expression are `now` and `uuid`. `NULL` is no default. Any other
/// expression has no neutral form: it is kept as its SQL text in a `Text` default, so
/// a drift check shows it (quoted) instead of silently losing it.
pub(crate) fn parse(raw: &str, column: &ColumnDef) -> Option<DefaultValue> {
    let text = raw.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("NULL") {
        return None;
    }
    if let Some(value) = literal(unparenthesize(text), column.ty) {
        return Some(value);
    }
    for expr in [DefaultExpr::Now, DefaultExpr::Uuid] {
        let written = SqliteDialect.default_expr_sql(expr, column);
        // SQLite reports a parenthesized default without its parentheses.
        if written.is_ok_and(|sql| same_expression(unparenthesize(&sql), unparenthesize(text))) {
            return Some(DefaultValue::Expr { expr });
        }
    }
    Some(DefaultValue::Text(text.to_string()))
}

/// A literal: a string, a number, `TRUE`/`FALSE`.
fn literal(text: &str, ty: ColumnType) -> Option<DefaultValue> {
    if let [token] = tokenize(text).as_slice() {
        if token.kind == Kind::String && token.text.len() >= 2 && token.text.ends_with('\'') {
            return Some(DefaultValue::Text(token.name()));
        }
    }
    if text.eq_ignore_ascii_case("TRUE") {
        return Some(DefaultValue::Bool(true));
    }
    if text.eq_ignore_ascii_case("FALSE") {
        return Some(DefaultValue::Bool(false));
    }
    if let Ok(i) = text.parse::<i64>() {
        return Some(match (ty, i) {
            (ColumnType::Bool, 0 | 1) => DefaultValue::Bool(i == 1),
            _ => DefaultValue::Int(i),
        });
    }
    let numeric = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    match text.parse::<f64>() {
        Ok(f) if numeric && f.is_finite() => Some(DefaultValue::Float(f)),
        _ => None,
    }
}

/// `text` without parentheses that wrap all of it: `((5))` → `5`.
fn unparenthesize(mut text: &str) -> &str {
    loop {
        let tokens = tokenize(text);
        let wraps = tokens.len() >= 2
            && tokens[0].kind == Kind::Open
            && super::tokens::closing(&tokens, 0) == Some(tokens.len() - 1);
        if !wraps {
            return text;
        }
        text = text[tokens[0].end..tokens[tokens.len() - 1].start].trim();
    }
}

/// Whether two expressions are the same text up to case and whitespace.
fn same_expression(a: &str, b: &str) -> bool {
    let normal = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect()
    };
    normal(a) == normal(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_engine::{ast::DefaultValue as D, Dialect, RenderContext, SchemaState};

    fn column(ty: ColumnType) -> ColumnDef {
        ColumnDef {
            name: "c".into(),
            ty,
            null: false,
            default: None,
            auto: false,
            ..Default::default()
        }
    }

    /// What the dialect writes for a default reads back as that default.
    #[test]
    fn every_default_strata_writes_reads_back() {
        let d = SqliteDialect;
        let state = SchemaState::new();
        let caps = d.capabilities(d.minimum_version());
        let ctx = RenderContext {
            state: &state,
            version: d.minimum_version(),
            capabilities: &caps,
            in_transaction: false,
            safe: false,
        };
        let cases = [
            (ColumnType::Bool, D::Bool(true)),
            (ColumnType::Bool, D::Bool(false)),
            (ColumnType::Int, D::Int(0)),
            (ColumnType::SmallInt, D::Int(-5)),
            (ColumnType::BigInt, D::Int(9_000_000_000)),
            (ColumnType::Real, D::Float(0.5)),
            (ColumnType::Double, D::Float(-2.25)),
            (ColumnType::Double, D::Float(1e300)),
            (ColumnType::Text, D::Text("it's (a) 'test'".into())),
            (ColumnType::Text, D::Text(String::new())),
            (ColumnType::Text, D::Text("NULL".into())),
            (ColumnType::Text, D::Text("x -- y /* z".into())),
            (ColumnType::Varchar(9), D::Text("12".into())),
            (
                ColumnType::Date,
                D::Expr {
                    expr: DefaultExpr::Now,
                },
            ),
            (
                ColumnType::Time,
                D::Expr {
                    expr: DefaultExpr::Now,
                },
            ),
            (
                ColumnType::DateTime,
                D::Expr {
                    expr: DefaultExpr::Now,
                },
            ),
            (
                ColumnType::TimestampTz,
                D::Expr {
                    expr: DefaultExpr::Now,
                },
            ),
            (
                ColumnType::Uuid,
                D::Expr {
                    expr: DefaultExpr::Uuid,
                },
            ),
        ];
        for (ty, default) in cases {
            let c = column(ty);
            let sql = d.default_sql(&default, &c, &ctx).unwrap();
            assert_eq!(parse(&sql, &c), Some(default.clone()), "{ty} {sql}");
            // As `pragma table_xinfo` reports it: without the outer parentheses.
            let bare = unparenthesize(&sql);
            assert_eq!(parse(bare, &c), Some(default), "{ty} {bare}");
        }
    }

    #[test]
    fn other_spellings() {
        let int = column(ColumnType::Int);
        assert_eq!(parse(" NULL ", &int), None);
        assert_eq!(parse("(5)", &int), Some(D::Int(5)));
        assert_eq!(parse("(('x'))", &int), Some(D::Text("x".into())));
        assert_eq!(parse("TRUE", &int), Some(D::Bool(true)));
        assert_eq!(parse("+7", &int), Some(D::Int(7)));
        assert_eq!(parse("1.50", &int), Some(D::Float(1.5)));
        assert_eq!(
            parse("current_timestamp", &column(ColumnType::DateTime)),
            Some(D::Expr {
                expr: DefaultExpr::Now
            })
        );
    }

    #[test]
    fn expressions_without_a_neutral_form_keep_their_text() {
        let date = column(ColumnType::Date);
        // A date column's `now` is CURRENT_DATE; CURRENT_TIMESTAMP there is something else.
        assert_eq!(
            parse("CURRENT_TIMESTAMP", &date),
            Some(D::Text("CURRENT_TIMESTAMP".into()))
        );
        let text = column(ColumnType::Text);
        for raw in [
            "(datetime('now'))",
            "x'00ff'",
            "'unterminated",
            "inf",
            "1e999",
            "(1) + (2)",
        ] {
            assert_eq!(parse(raw, &text), Some(D::Text(raw.into())), "{raw}");
        }
    }
}

//! `COLUMN_DEFAULT` → neutral defaults. The flavours show defaults differently:
//!
//! - MariaDB (10.2.7+) shows a string literal quoted and escaped (`'it''s'`), a
//!   number bare, an expression as its text (`current_timestamp(6)`, `uuid()`), and
//!   an explicit `DEFAULT NULL` as the bare word `NULL`.
//! - MySQL 8 shows a literal as its raw value, unquoted, and an expression as its
//!   text with `DEFAULT_GENERATED` in `EXTRA`; a string literal inside an expression
//!   (`DEFAULT ('x')`, the form the dialect uses for `text`, `bytes` and `json`) is
//!   shown as `_utf8mb4\'x\'`, escaped a second time.

use strata_engine::ast::{DefaultExpr, DefaultValue};
use strata_engine::ColumnType;

use super::literal;
use crate::flavour::Flavour;

/// A column's default as the server shows it.
#[derive(Debug, Clone, Copy)]
pub(super) struct ShownDefault<'a> {
    /// `COLUMN_DEFAULT`; SQL `NULL` is `None`.
    pub text: Option<&'a str>,
    /// MySQL's `DEFAULT_GENERATED`: the text is an expression.
    pub generated: bool,
}

/// The neutral default of a `ty` column, or why there is none (an expression strata
/// cannot express).
pub(super) fn neutral_default(
    flavour: Flavour,
    ty: ColumnType,
    shown: ShownDefault<'_>,
) -> Result<Option<DefaultValue>, String> {
    let Some(text) = shown.text else {
        return Ok(None);
    };
    match flavour {
        Flavour::Mariadb => mariadb_default(ty, text),
        Flavour::Mysql if shown.generated => mysql_expression_default(ty, text).map(Some),
        Flavour::Mysql => Ok(Some(literal_default(ty, text))),
    }
}

fn mariadb_default(ty: ColumnType, text: &str) -> Result<Option<DefaultValue>, String> {
    if text == "NULL" {
        return Ok(None);
    }
    if text.starts_with('\'') {
        return match literal::unquote(text) {
            Some(value) => Ok(Some(literal_default(ty, &value))),
            None => Err(format!("unreadable default literal {text}")),
        };
    }
    expression_default(ty, text).map(Some)
}

fn mysql_expression_default(ty: ColumnType, text: &str) -> Result<DefaultValue, String> {
    if let Some(value) = literal::unquote_introduced(&literal::unescape_once(text)) {
        return Ok(literal_default(ty, &value));
    }
    expression_default(ty, text)
}

/// A function default: the neutral `now` is what the dialect writes for the
/// column's type, `uuid` is `uuid()`; numbers stand for themselves.
fn expression_default(ty: ColumnType, text: &str) -> Result<DefaultValue, String> {
    let expr = strip_parentheses(text.trim()).to_ascii_lowercase();
    let now = match ty {
        ColumnType::Date => "curdate()",
        ColumnType::Time => "curtime(6)",
        ColumnType::DateTime => "current_timestamp(6)",
        ColumnType::TimestampTz => "utc_timestamp(6)",
        _ => "",
    };
    if expr == "uuid()" {
        Ok(DefaultValue::Expr {
            expr: DefaultExpr::Uuid,
        })
    } else if !now.is_empty() && expr == now {
        Ok(DefaultValue::Expr {
            expr: DefaultExpr::Now,
        })
    } else if let Some(number) = number_default(ty, &expr) {
        Ok(number)
    } else {
        Err(format!(
            "the default expression `{text}` has no neutral equivalent"
        ))
    }
}

/// A literal's value as the neutral default of a `ty` column.
fn literal_default(ty: ColumnType, value: &str) -> DefaultValue {
    if ty.is_numeric() || ty == ColumnType::Bool {
        if let Some(number) = number_default(ty, value) {
            return number;
        }
    }
    if matches!(
        ty,
        ColumnType::Time | ColumnType::DateTime | ColumnType::TimestampTz
    ) {
        return DefaultValue::Text(without_zero_fraction(value).to_string());
    }
    DefaultValue::Text(value.to_string())
}

/// `1`/`0` on a `bool` column; an integer where the value is whole (a `decimal`
/// shows `10` as `10.00`); a float otherwise.
fn number_default(ty: ColumnType, text: &str) -> Option<DefaultValue> {
    if ty == ColumnType::Bool {
        match text {
            "1" => return Some(DefaultValue::Bool(true)),
            "0" => return Some(DefaultValue::Bool(false)),
            _ => {}
        }
    }
    if let Ok(i) = text.parse::<i64>() {
        return Some(DefaultValue::Int(i));
    }
    if let Some((whole, fraction)) = text.split_once('.') {
        if !fraction.is_empty() && fraction.bytes().all(|b| b == b'0') {
            if let Ok(i) = whole.parse::<i64>() {
                return Some(DefaultValue::Int(i));
            }
        }
    }
    let f = text.parse::<f64>().ok().filter(|f| f.is_finite())?;
    Some(DefaultValue::Float(f))
}

/// `12:30:00` for `12:30:00.000000` and `…00.5` for `…00.500000`: the servers show
/// a `(6)` temporal default with all six digits, migrations write it shortest.
fn without_zero_fraction(value: &str) -> &str {
    match value.rsplit_once('.') {
        Some((head, fraction)) if fraction.bytes().all(|b| b.is_ascii_digit()) => {
            let kept = fraction.trim_end_matches('0');
            if kept.is_empty() {
                head
            } else {
                &value[..head.len() + 1 + kept.len()]
            }
        }
        _ => value,
    }
}

/// `x` for `(x)`, `((x))`, when the parentheses enclose the whole text.
fn strip_parentheses(mut text: &str) -> &str {
    while let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        let mut depth = 0i32;
        let balanced = inner.chars().all(|c| {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            depth >= 0
        });
        if !balanced || depth != 0 {
            break;
        }
        text = inner.trim();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use DefaultValue::{Bool, Float, Int, Text};

    fn mariadb(ty: &str, text: Option<&str>) -> Result<Option<DefaultValue>, String> {
        let shown = ShownDefault {
            text,
            generated: false,
        };
        neutral_default(Flavour::Mariadb, ty.parse().unwrap(), shown)
    }

    fn mysql(
        ty: &str,
        text: Option<&str>,
        generated: bool,
    ) -> Result<Option<DefaultValue>, String> {
        let shown = ShownDefault { text, generated };
        neutral_default(Flavour::Mysql, ty.parse().unwrap(), shown)
    }

    fn now() -> DefaultValue {
        DefaultValue::Expr {
            expr: DefaultExpr::Now,
        }
    }

    fn uuid() -> DefaultValue {
        DefaultValue::Expr {
            expr: DefaultExpr::Uuid,
        }
    }

    fn text(s: &str) -> DefaultValue {
        Text(s.into())
    }

    /// As MariaDB 10.11 shows them (checked on a live server).
    #[test]
    fn mariadb_literals() {
        assert_eq!(mariadb("varchar(5)", None), Ok(None));
        assert_eq!(mariadb("varchar(5)", Some("NULL")), Ok(None));
        assert_eq!(
            mariadb("varchar(5)", Some("'NULL'")),
            Ok(Some(text("NULL")))
        );
        assert_eq!(
            mariadb("varchar(20)", Some("'it''s'")),
            Ok(Some(text("it's")))
        );
        assert_eq!(
            mariadb("text", Some(r"'it\'s \\ x'")),
            Ok(Some(text(r"it's \ x")))
        );
        assert_eq!(
            mariadb("varchar(20)", Some(r"'C:\\temp\\new'")),
            Ok(Some(text(r"C:\temp\new")))
        );
        assert_eq!(
            mariadb("varchar(20)", Some(r"'line1\nline2'")),
            Ok(Some(text("line1\nline2")))
        );
        assert_eq!(mariadb("bool", Some("1")), Ok(Some(Bool(true))));
        assert_eq!(mariadb("bool", Some("0")), Ok(Some(Bool(false))));
        assert_eq!(mariadb("smallint", Some("-5")), Ok(Some(Int(-5))));
        assert_eq!(
            mariadb("bigint", Some("9000000000")),
            Ok(Some(Int(9_000_000_000)))
        );
        assert_eq!(mariadb("decimal(12,2)", Some("10.00")), Ok(Some(Int(10))));
        assert_eq!(
            mariadb("decimal(12,2)", Some("9.99")),
            Ok(Some(Float(9.99)))
        );
        assert_eq!(
            mariadb("decimal(5,2)", Some("-0.50")),
            Ok(Some(Float(-0.5)))
        );
        assert_eq!(mariadb("real", Some("1e20")), Ok(Some(Float(1e20))));
        assert_eq!(
            mariadb("date", Some("'2000-01-01'")),
            Ok(Some(text("2000-01-01")))
        );
        assert_eq!(
            mariadb("time", Some("'12:30:00.000000'")),
            Ok(Some(text("12:30:00")))
        );
        assert_eq!(
            mariadb("datetime", Some("'2000-01-01 10:00:00.500000'")),
            Ok(Some(text("2000-01-01 10:00:00.5")))
        );
    }

    #[test]
    fn mariadb_expressions() {
        assert_eq!(
            mariadb("datetime", Some("current_timestamp(6)")),
            Ok(Some(now()))
        );
        assert_eq!(
            mariadb("timestamptz", Some("utc_timestamp(6)")),
            Ok(Some(now()))
        );
        assert_eq!(mariadb("date", Some("curdate()")), Ok(Some(now())));
        assert_eq!(mariadb("time", Some("curtime(6)")), Ok(Some(now())));
        assert_eq!(mariadb("char(36)", Some("uuid()")), Ok(Some(uuid())));
        assert_eq!(mariadb("uuid", Some("uuid()")), Ok(Some(uuid())));
        // Not what the dialect writes for `now` on that type.
        assert!(mariadb("datetime", Some("current_timestamp()")).is_err());
        assert!(mariadb("date", Some("current_timestamp(6)")).is_err());
        assert!(mariadb("int", Some("rand()")).is_err());
    }

    /// As MySQL 8 shows them (from its documentation and published measurements; no
    /// MySQL 8 server is available to these tests).
    #[test]
    fn mysql_literals_are_raw() {
        assert_eq!(mysql("varchar(20)", None, false), Ok(None));
        assert_eq!(
            mysql("varchar(20)", Some("it's"), false),
            Ok(Some(text("it's")))
        );
        assert_eq!(
            mysql("varchar(20)", Some("NULL"), false),
            Ok(Some(text("NULL")))
        );
        assert_eq!(
            mysql("varchar(20)", Some(r"C:\temp"), false),
            Ok(Some(text(r"C:\temp")))
        );
        assert_eq!(
            mysql("varchar(20)", Some("uuid()"), false),
            Ok(Some(text("uuid()")))
        );
        assert_eq!(mysql("varchar(20)", Some("5"), false), Ok(Some(text("5"))));
        assert_eq!(mysql("bool", Some("1"), false), Ok(Some(Bool(true))));
        assert_eq!(mysql("int", Some("0"), false), Ok(Some(Int(0))));
        assert_eq!(
            mysql("decimal(12,2)", Some("10.00"), false),
            Ok(Some(Int(10)))
        );
        assert_eq!(mysql("double", Some("2.25"), false), Ok(Some(Float(2.25))));
        assert_eq!(
            mysql("time", Some("12:30:00.000000"), false),
            Ok(Some(text("12:30:00")))
        );
    }

    #[test]
    fn mysql_expressions() {
        assert_eq!(
            mysql("datetime", Some("CURRENT_TIMESTAMP(6)"), true),
            Ok(Some(now()))
        );
        assert_eq!(
            mysql("timestamptz", Some("utc_timestamp(6)"), true),
            Ok(Some(now()))
        );
        assert_eq!(mysql("date", Some("curdate()"), true), Ok(Some(now())));
        assert_eq!(mysql("time", Some("curtime(6)"), true), Ok(Some(now())));
        assert_eq!(mysql("uuid", Some("uuid()"), true), Ok(Some(uuid())));
        assert_eq!(
            mysql("text", Some(r"_utf8mb4\'plain\'"), true),
            Ok(Some(text("plain")))
        );
        assert_eq!(
            mysql("text", Some(r"_utf8mb4\'it\\\'s\'"), true),
            Ok(Some(text("it's")))
        );
        assert_eq!(
            mysql("text", Some(r"_utf8mb4\'a\\\\b\'"), true),
            Ok(Some(text(r"a\b")))
        );
        assert_eq!(
            mysql("json", Some(r#"_utf8mb4\'{"k": "v\\\'w"}\'"#), true),
            Ok(Some(text(r#"{"k": "v'w"}"#)))
        );
        assert!(mysql("datetime", Some("(now() + interval 1 day)"), true).is_err());
    }

    #[test]
    fn parentheses_come_off_only_when_they_enclose_everything() {
        assert_eq!(strip_parentheses("((uuid()))"), "uuid()");
        assert_eq!(strip_parentheses("(a) + (b)"), "(a) + (b)");
        assert_eq!(strip_parentheses("uuid()"), "uuid()");
    }
}

//! Column defaults, from the deparsed expression (`pg_get_expr`) back to neutral
//! values: `'abc'::character varying` → `"abc"`, `'-5'::integer` → `-5`,
//! `CURRENT_TIMESTAMP` → now, `gen_random_uuid()` → uuid.

use strata_engine::ast::{DefaultExpr, DefaultValue};
use strata_engine::ColumnType;

/// What a column's default expression means in neutral terms.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum ParsedDefault {
    Value(DefaultValue),
    /// `nextval('…'::regclass)`: a `serial` column, which strata calls `auto`.
    Sequence,
    /// An expression with no neutral counterpart (`lower('X')`, `random()`).
    Expression(String),
}

/// Expressions that mean "the current date/time". `clock_timestamp()` is not among
/// them: it changes within a statement, which `now` never does.
const NOW: &[&str] = &[
    "current_timestamp",
    "current_date",
    "current_time",
    "localtimestamp",
    "localtime",
    "now()",
    "transaction_timestamp()",
    "statement_timestamp()",
];

/// Functions that generate a random (v4) UUID: built in from PostgreSQL 13, or from
/// the pgcrypto and uuid-ossp extensions.
const UUID: &[&str] = &["gen_random_uuid()", "uuid_generate_v4()"];

/// Reads a default back. `standard_strings` is the session's
/// `standard_conforming_strings`: when it is off, the server writes backslashes in
/// plain `'…'` literals doubled.
pub(super) fn parse(expr: &str, ty: ColumnType, standard_strings: bool) -> ParsedDefault {
    let value = strip_casts_and_parens(expr.trim(), standard_strings);
    let lower = value.to_ascii_lowercase();
    if lower.starts_with("nextval(") {
        return ParsedDefault::Sequence;
    }
    if let Some(known) = expression(&lower) {
        return ParsedDefault::Value(DefaultValue::Expr { expr: known });
    }
    match lower.as_str() {
        "true" => return ParsedDefault::Value(DefaultValue::Bool(true)),
        "false" => return ParsedDefault::Value(DefaultValue::Bool(false)),
        _ => {}
    }
    if let Some(text) = string_literal(value, standard_strings) {
        return ParsedDefault::Value(typed_literal(text, ty));
    }
    if let Some(number) = number(value) {
        return ParsedDefault::Value(number);
    }
    ParsedDefault::Expression(expr.trim().to_string())
}

/// `now` or `uuid`, also when the function is schema-qualified
/// (`public.uuid_generate_v4()`, when the extension lives outside the search path).
fn expression(lower: &str) -> Option<DefaultExpr> {
    let unqualified = match lower.split_once('.') {
        Some((schema, function)) if is_plain_identifier(schema) => function,
        _ => lower,
    };
    if NOW.contains(&lower) {
        Some(DefaultExpr::Now)
    } else if UUID.contains(&unqualified) {
        Some(DefaultExpr::Uuid)
    } else {
        None
    }
}

fn is_plain_identifier(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The value of a quoted literal for a column of type `ty`: the server quotes
/// numbers it stores with a cast (`'-5'::integer`, `'-1.5'::numeric`), so on a
/// numeric column a number inside quotes is still a number.
fn typed_literal(text: String, ty: ColumnType) -> DefaultValue {
    if ty == ColumnType::Duration {
        if let Some(micros) = interval_micros(&text) {
            return DefaultValue::Int(micros);
        }
    }
    if ty.is_numeric() {
        if let Some(number) = number(&text) {
            return number;
        }
    }
    if ty == ColumnType::Bool {
        match text.to_ascii_lowercase().as_str() {
            "t" | "true" | "y" | "yes" | "on" | "1" => return DefaultValue::Bool(true),
            "f" | "false" | "n" | "no" | "off" | "0" => return DefaultValue::Bool(false),
            _ => {}
        }
    }
    DefaultValue::Text(text)
}

/// The microseconds of an interval as PostgreSQL shows one made of microseconds
/// (`'26:00:00'`, `'-00:00:01.5'`, `'00:00:00'`, with the default `IntervalStyle`):
/// `[-]H:MM:SS[.ffffff]`. `None` for one with days, months or years, which a
/// duration's default never has; it then stays text, and drift shows it.
fn interval_micros(text: &str) -> Option<i64> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let mut parts = rest.split(':');
    let (hours, minutes, seconds) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(hours) || !digits(minutes) || !digits(whole) || fraction.len() > 6 {
        return None;
    }
    if !fraction.is_empty() && !digits(fraction) {
        return None;
    }
    let micros_part: i64 = format!("{fraction:0<6}").parse().ok()?;
    let total = hours
        .parse::<i64>()
        .ok()?
        .checked_mul(3600)?
        .checked_add(minutes.parse::<i64>().ok()? * 60)?
        .checked_add(whole.parse::<i64>().ok()?)?
        .checked_mul(1_000_000)?
        .checked_add(micros_part)?;
    Some(if negative { -total } else { total })
}

/// An integer when it is one (`10`, `-5`), a float when it has a fraction or an
/// exponent (`10.0`, `2.25`, `1e-7`): the server keeps a numeric literal as it was
/// written, and the distinction is what the renderer writes back.
fn number(text: &str) -> Option<DefaultValue> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let looks_numeric = digits.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if !looks_numeric {
        return None;
    }
    if let Ok(int) = text.parse::<i64>() {
        return Some(DefaultValue::Int(int));
    }
    text.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .map(DefaultValue::Float)
}

/// `value` without the casts (`::character varying`, `::time without time zone`)
/// and enclosing parentheses the server adds around a constant.
fn strip_casts_and_parens(mut value: &str, standard_strings: bool) -> &str {
    loop {
        let uncast = strip_cast_chain(value, standard_strings);
        let stripped = strip_enclosing_parens(uncast, standard_strings).trim();
        if stripped == value {
            return value;
        }
        value = stripped;
    }
}

/// `x` from `x::type1::type2`, when everything after the first top-level `::` is
/// type names; otherwise `value` unchanged (`'a'::text || 'b'` is not a cast).
fn strip_cast_chain(value: &str, standard_strings: bool) -> &str {
    let Some(at) = top_level_find(value, "::", standard_strings) else {
        return value;
    };
    let casts = &value[at..];
    let is_type_chain = casts.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(c, ':' | '_' | ' ' | '.' | '"' | '[' | ']' | '(' | ')' | ',')
    });
    if is_type_chain {
        &value[..at]
    } else {
        value
    }
}

/// `x` from `(x)` when the first parenthesis closes at the very end.
fn strip_enclosing_parens(value: &str, standard_strings: bool) -> &str {
    if !value.starts_with('(') {
        return value;
    }
    match top_level_find(value, ")", standard_strings) {
        // The first `)` outside quotes at depth 0 is the one matching the opening `(`
        // (depth counts from the `(` itself, so `)` at depth 0 closes it).
        Some(close) if close == value.len() - 1 => &value[1..close],
        _ => value,
    }
}

/// The byte offset of the first `needle` outside quotes and, for `::`, outside
/// parentheses. For `)` it is the parenthesis that brings the depth back to zero.
/// Works on bytes: every token it looks for is ASCII, which UTF-8 never reuses.
fn top_level_find(value: &str, needle: &str, standard_strings: bool) -> Option<usize> {
    let bytes = value.as_bytes();
    let mut depth = 0i32;
    let mut in_string = false;
    // Whether the current literal is an escape string (`E'…'`, or any literal when
    // standard_conforming_strings is off), where `\'` does not end it.
    let mut escapes = false;
    let mut in_ident = false;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            if c == b'\\' && escapes {
                i += 2;
                continue;
            }
            if c == b'\'' {
                if bytes.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                in_string = false;
            }
        } else if in_ident {
            in_ident = c != b'"';
        } else {
            match c {
                b'\'' => {
                    in_string = true;
                    escapes = !standard_strings || is_escape_prefix(&bytes[..i]);
                }
                b'"' => in_ident = true,
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if needle == ")" && depth == 0 {
                        return Some(i);
                    }
                }
                _ if needle == "::" && depth == 0 && bytes[i..].starts_with(b"::") => {
                    return Some(i)
                }
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// Whether the bytes before a quote end in a lone `E` (the escape-string prefix),
/// not in an identifier that happens to end in `e`.
fn is_escape_prefix(before: &[u8]) -> bool {
    match before {
        [.., prev, e] if e.eq_ignore_ascii_case(&b'e') => {
            !(prev.is_ascii_alphanumeric() || *prev == b'_')
        }
        [e] => e.eq_ignore_ascii_case(&b'e'),
        _ => false,
    }
}

/// The text of a whole `'…'` or `E'…'` literal; `None` if `value` is anything else.
fn string_literal(value: &str, standard_strings: bool) -> Option<String> {
    let (body, escapes) = match value.strip_prefix(['E', 'e']) {
        Some(rest) => (rest, true),
        None => (value, !standard_strings),
    };
    let inner = body.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // A lone quote would have ended the literal: this is not one literal.
            '\'' if chars.next_if_eq(&'\'').is_none() => return None,
            '\'' => out.push('\''),
            '\\' if escapes => out.push(backslash_escape(&mut chars)?),
            other => out.push(other),
        }
    }
    Some(out)
}

/// The character after a backslash in an escape string (`\n`, `\\`, `\x41`, `\101`,
/// `\u00e9`), consuming what it uses.
fn backslash_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<char> {
    let c = chars.next()?;
    let mut code = |radix: u32, max_digits: usize| {
        let mut digits = String::new();
        while digits.len() < max_digits {
            match chars.peek() {
                Some(d) if d.is_digit(radix) => digits.push(chars.next()?),
                _ => break,
            }
        }
        u32::from_str_radix(&digits, radix)
            .ok()
            .and_then(char::from_u32)
    };
    Some(match c {
        'b' => '\u{8}',
        'f' => '\u{c}',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'x' => code(16, 2)?,
        'u' => code(16, 4)?,
        'U' => code(16, 8)?,
        '0'..='7' => {
            let mut digits = c.to_string();
            while digits.len() < 3 {
                match chars.next_if(|d| ('0'..='7').contains(d)) {
                    Some(d) => digits.push(d),
                    None => break,
                }
            }
            u32::from_str_radix(&digits, 8)
                .ok()
                .and_then(char::from_u32)?
        }
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(expr: &str, ty: &str) -> ParsedDefault {
        parse(expr, ty.parse().unwrap(), true)
    }

    fn text(s: &str) -> ParsedDefault {
        ParsedDefault::Value(DefaultValue::Text(s.into()))
    }

    #[test]
    fn literals_lose_their_quotes_and_casts() {
        assert_eq!(
            value("'draft'::character varying", "varchar(20)"),
            text("draft")
        );
        assert_eq!(value("'USD'::bpchar", "char(3)"), text("USD"));
        assert_eq!(value("''::text", "text"), text(""));
        assert_eq!(value("'it''s'::text", "text"), text("it's"));
        assert_eq!(value("'5'::text", "text"), text("5"));
        assert_eq!(
            value("'12:30:00'::time without time zone", "time"),
            text("12:30:00")
        );
        assert_eq!(value("'2000-01-01'::date", "date"), text("2000-01-01"));
        assert_eq!(value("'{}'::jsonb", "json"), text("{}"));
        assert_eq!(
            value("('x -- y /* z'::character varying)::text", "text"),
            text("x -- y /* z")
        );
    }

    #[test]
    fn numbers_keep_their_kind() {
        use DefaultValue::{Float, Int};
        let num = |expr, ty| match value(expr, ty) {
            ParsedDefault::Value(v) => v,
            other => panic!("{expr}: {other:?}"),
        };
        assert_eq!(num("0", "int"), Int(0));
        assert_eq!(num("'-5'::integer", "smallint"), Int(-5));
        assert_eq!(num("'9000000000'::bigint", "bigint"), Int(9_000_000_000));
        assert_eq!(num("(-5)", "int"), Int(-5));
        assert_eq!(num("9.99", "decimal(12,2)"), Float(9.99));
        assert_eq!(num("10", "decimal(12,2)"), Int(10));
        assert_eq!(num("10.0", "decimal(12,2)"), Float(10.0));
        assert_eq!(num("'-1.5'::numeric", "decimal(8,2)"), Float(-1.5));
        assert_eq!(num("0.5", "real"), Float(0.5));
        assert_eq!(num("'1e-07'::double precision", "double"), Float(1e-7));
    }

    #[test]
    fn a_duration_default_reads_back_as_its_microseconds() {
        let micros = |shown: &str| match value(shown, "duration") {
            ParsedDefault::Value(DefaultValue::Int(n)) => Some(n),
            _ => None,
        };
        assert_eq!(micros("'26:00:00'::interval"), Some(93_600_000_000));
        assert_eq!(micros("'-00:00:01.5'::interval"), Some(-1_500_000));
        assert_eq!(micros("'00:00:00'::interval"), Some(0));
        assert_eq!(micros("'1 day'::interval"), None);
    }

    #[test]
    fn booleans_and_neutral_expressions() {
        use DefaultValue::{Bool, Expr};
        assert_eq!(value("true", "bool"), ParsedDefault::Value(Bool(true)));
        assert_eq!(value("false", "bool"), ParsedDefault::Value(Bool(false)));
        let now = ParsedDefault::Value(Expr {
            expr: DefaultExpr::Now,
        });
        for expr in [
            "CURRENT_TIMESTAMP",
            "now()",
            "CURRENT_DATE",
            "CURRENT_TIME",
            "LOCALTIMESTAMP",
        ] {
            assert_eq!(value(expr, "datetime"), now, "{expr}");
        }
        let uuid = ParsedDefault::Value(Expr {
            expr: DefaultExpr::Uuid,
        });
        assert_eq!(value("gen_random_uuid()", "uuid"), uuid);
        assert_eq!(value("public.uuid_generate_v4()", "uuid"), uuid);
    }

    #[test]
    fn escape_strings_and_backslashes() {
        // standard_conforming_strings on: a backslash is itself.
        assert_eq!(
            value(r"'C:\temp\new'::character varying", "varchar(20)"),
            text(r"C:\temp\new")
        );
        // An E'' literal, or a plain one with the setting off, escapes it.
        assert_eq!(
            value(r"E'C:\\temp\\new'", "varchar(20)"),
            text(r"C:\temp\new")
        );
        assert_eq!(
            parse(r"'C:\\temp'::text", ColumnType::Text, false),
            text(r"C:\temp")
        );
        assert_eq!(
            value(r"E'it\'s \x41\101\u00e9\n'", "text"),
            text("it's AAé\n")
        );
    }

    #[test]
    fn sequences_and_other_expressions() {
        assert_eq!(
            value("nextval('t_id_seq'::regclass)", "int"),
            ParsedDefault::Sequence
        );
        assert_eq!(
            value("lower('X'::text)", "text"),
            ParsedDefault::Expression("lower('X'::text)".into())
        );
        assert_eq!(
            value("('a'::text || 'b'::text)", "text"),
            ParsedDefault::Expression("('a'::text || 'b'::text)".into())
        );
        assert_eq!(
            value("'a' 'b'", "text"),
            ParsedDefault::Expression("'a' 'b'".into())
        );
        // A trailing backslash in a standard string does not escape the quote.
        assert_eq!(value(r"'a\'::text", "text"), text(r"a\"));
        assert_eq!(
            value("random()", "double"),
            ParsedDefault::Expression("random()".into())
        );
    }
}

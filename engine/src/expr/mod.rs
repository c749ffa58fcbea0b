//! Check and partial-index expressions: parsed, checked against the table's columns
//! and rendered per dialect, never pasted into DDL as written.
//!
//! The accepted language (docs/expressions.md) is one scalar or boolean expression:
//! column references, literals, comparison, arithmetic and boolean operators, `IS
//! [NOT] NULL`, `[NOT] BETWEEN`, `[NOT] IN (literals)`, `[NOT] LIKE`, `CASE`, and the
//! functions of [`Function`]. Everything else (`;`, comments, subqueries, other
//! tables, placeholders, unknown functions) is refused with an [`ExprError`] that
//! says what and where. `sqlparser` tokenizes and parses; `convert` keeps only the
//! allowed forms, in strata's own small tree ([`Expr`]), which [`render`] writes.

mod convert;
mod render;
#[cfg(test)]
mod tests;

use sqlparser::dialect::GenericDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};

pub use render::{render, ExprStyle};

/// Longer input is refused before it is parsed: no check needs it, and it bounds the
/// parser's work and the depth of the tree.
pub const MAX_LEN: usize = 2000;
/// Deepest nesting accepted (parentheses, operators, CASE), below the parser's own
/// recursion limit, so rendering and dropping the tree stay shallow.
pub const MAX_DEPTH: usize = 40;

/// A parsed expression: only the forms strata accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Column(String),
    Null,
    Bool(bool),
    /// Digits, an optional fraction and exponent, as written (`12`, `0.5`, `1e3`).
    Number(String),
    /// The string's value (quotes and doubled quotes already removed).
    Text(String),
    Not(Box<Expr>),
    Negate(Box<Expr>),
    Binary(Box<Expr>, BinaryOp, Box<Expr>),
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    Between {
        expr: Box<Expr>,
        negated: bool,
        low: Box<Expr>,
        high: Box<Expr>,
    },
    InList {
        expr: Box<Expr>,
        negated: bool,
        list: Vec<Expr>,
    },
    Like {
        expr: Box<Expr>,
        negated: bool,
        pattern: Box<Expr>,
    },
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    Call(Function, Vec<Expr>),
    Nested(Box<Expr>),
}

/// The operators between two operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    And,
    Or,
}

impl BinaryOp {
    pub fn sql(self) -> &'static str {
        match self {
            Self::Add => "+",
            Self::Sub => "-",
            Self::Mul => "*",
            Self::Div => "/",
            Self::Mod => "%",
            Self::Eq => "=",
            Self::NotEq => "<>",
            Self::Lt => "<",
            Self::LtEq => "<=",
            Self::Gt => ">",
            Self::GtEq => ">=",
            Self::And => "AND",
            Self::Or => "OR",
        }
    }
}

/// The functions every supported database has with the same meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Lower,
    Upper,
    /// Length in characters (MySQL spells it `CHAR_LENGTH`).
    Length,
    Abs,
    Coalesce,
    Nullif,
    Trim,
}

impl Function {
    pub const ALL: &'static [Function] = &[
        Self::Lower,
        Self::Upper,
        Self::Length,
        Self::Abs,
        Self::Coalesce,
        Self::Nullif,
        Self::Trim,
    ];

    /// The neutral (and default SQL) name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Lower => "lower",
            Self::Upper => "upper",
            Self::Length => "length",
            Self::Abs => "abs",
            Self::Coalesce => "coalesce",
            Self::Nullif => "nullif",
            Self::Trim => "trim",
        }
    }

    /// Accepted argument counts: (least, most).
    fn arity(self) -> (usize, usize) {
        match self {
            Self::Coalesce => (1, 32),
            Self::Nullif => (2, 2),
            _ => (1, 1),
        }
    }

    fn by_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }
}

/// The table an expression belongs to: its columns may be named, unqualified or
/// qualified by the table's own name.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub table: &'a str,
    pub columns: &'a [&'a str],
}

/// Why an expression was refused; `offset` is a byte offset into the expression text
/// when the place is known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    pub offset: Option<usize>,
    pub message: String,
}

impl ExprError {
    fn new(offset: Option<usize>, message: impl Into<String>) -> Self {
        Self {
            offset,
            message: message.into(),
        }
    }
}

/// Parses and validates one expression. With a scope, every column must be one of
/// its columns; without one (rendering an expression validated when it was loaded),
/// only the form is checked.
pub fn parse(text: &str, scope: Option<&Scope>) -> Result<Expr, ExprError> {
    parse_with(&GenericDialect {}, text, scope, false)
}

/// A check or index predicate as PostgreSQL shows it (`pg_get_constraintdef`), in
/// the neutral language: its casts (`name::text`), `~~` and `= ANY (ARRAY[…])` are
/// read back as the expression they came from. `None` when it is not one.
pub fn from_postgres(text: &str) -> Option<String> {
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    parse_with(&dialect, text, None, true)
        .ok()
        .map(|e| render(&e, &Neutral))
}

/// A check as MySQL or MariaDB shows it (`CHECK_CLAUSE`), in the neutral language:
/// backquoted names, charset introducers (`_utf8mb4'x'`) and MariaDB's `lcase`/`ucase`
/// are read back as what they came from. `None` when it is not one expression.
pub fn from_mysql(text: &str) -> Option<String> {
    let dialect = sqlparser::dialect::MySqlDialect {};
    parse_with(&dialect, text, None, true)
        .ok()
        .map(|e| render(&e, &Neutral))
}

/// An expression as strata writes it back (bare lower-case names, its own spacing and
/// parentheses), so two spellings of one expression compare equal; the text as it is
/// when it does not parse.
pub fn neutral(text: &str) -> String {
    let Ok(mut e) = parse_with(&GenericDialect {}, text, None, true) else {
        return text.to_string();
    };
    // Parentheses around the whole expression are how an index key part is written.
    while let Expr::Nested(inner) = e {
        e = *inner;
    }
    render(&e, &Neutral)
}

/// Any expression strata rendered (double-quoted names, standard strings) or a user
/// wrote, in its one neutral spelling: what two texts of the same expression are
/// compared by (a generated column's, as written and as a server shows it). `None`
/// when it is not one expression.
pub fn canonical(text: &str) -> Option<String> {
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    let mut parsed = parse_with(&dialect, text, None, true).ok()?;
    unnest(&mut parsed);
    Some(render(&parsed, &Neutral))
}

/// Drops every parenthesis written around a subexpression: the tree already holds
/// the grouping, and the renderer parenthesises every compound operand, so only the
/// redundant ones (which servers add or remove at will) go.
fn unnest(e: &mut Expr) {
    while let Expr::Nested(inner) = e {
        *e = std::mem::replace(inner.as_mut(), Expr::Null);
    }
    match e {
        Expr::Column(_)
        | Expr::Null
        | Expr::Bool(_)
        | Expr::Number(_)
        | Expr::Text(_)
        | Expr::Nested(_) => {}
        Expr::Not(x) | Expr::Negate(x) | Expr::IsNull { expr: x, .. } => unnest(x),
        Expr::Binary(a, _, b)
        | Expr::Like {
            expr: a,
            pattern: b,
            ..
        } => {
            unnest(a);
            unnest(b);
        }
        Expr::Between {
            expr, low, high, ..
        } => {
            unnest(expr);
            unnest(low);
            unnest(high);
        }
        Expr::InList { expr, list, .. } => {
            unnest(expr);
            list.iter_mut().for_each(unnest);
        }
        Expr::Case {
            operand,
            whens,
            otherwise,
        } => {
            if let Some(o) = operand {
                unnest(o);
            }
            for (w, t) in whens {
                unnest(w);
                unnest(t);
            }
            if let Some(o) = otherwise {
                unnest(o);
            }
        }
        Expr::Call(_, args) => args.iter_mut().for_each(unnest),
    }
}

/// The neutral spelling: bare lower-case names where SQL allows them.
struct Neutral;

impl ExprStyle for Neutral {
    fn ident(&self, name: &str) -> String {
        let plain = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && sqlparser::keywords::ALL_KEYWORDS
                .binary_search(&name.to_ascii_uppercase().as_str())
                .is_err();
        if plain {
            name.to_string()
        } else {
            format!("\"{}\"", name.replace('"', "\"\""))
        }
    }
    fn string(&self, value: &str) -> String {
        format!("'{}'", value.replace('\'', "''"))
    }
    fn boolean(&self, value: bool) -> String {
        value.to_string()
    }
    fn function(&self, f: Function) -> String {
        f.name().to_string()
    }
}

fn parse_with(
    dialect: &dyn sqlparser::dialect::Dialect,
    text: &str,
    scope: Option<&Scope>,
    lenient: bool,
) -> Result<Expr, ExprError> {
    if text.trim().is_empty() {
        return Err(ExprError::new(None, "the expression is empty"));
    }
    if text.len() > MAX_LEN {
        return Err(ExprError::new(
            None,
            format!(
                "the expression is {} bytes long; at most {MAX_LEN} are accepted",
                text.len()
            ),
        ));
    }
    let tokens = Tokenizer::new(dialect, text)
        .with_unescape(true)
        .tokenize_with_location()
        .map_err(|e| {
            ExprError::new(
                offset_of(text, e.location.line, e.location.column),
                format!("cannot read the expression: {}", e.message),
            )
        })?;
    for t in &tokens {
        let at = offset_of(text, t.span.start.line, t.span.start.column);
        let refused = match &t.token {
            Token::SemiColon => {
                "`;` is not allowed: a check or index `where` is one expression, not statements"
            }
            Token::Whitespace(
                Whitespace::SingleLineComment { .. } | Whitespace::MultiLineComment(_),
            ) => "comments (`--`, `#`, `/* */`) are not allowed in an expression",
            Token::Placeholder(_) => {
                "placeholders (`?`, `$1`, `:name`) are not allowed in an expression"
            }
            Token::StringConcat if !lenient => {
                "`||` is not allowed: it means OR on MySQL; write two checks or use AND/OR"
            }
            _ => continue,
        };
        return Err(ExprError::new(at, refused));
    }
    let mut parser = Parser::new(dialect)
        .with_recursion_limit(MAX_DEPTH + 10)
        .with_tokens_with_locations(tokens);
    let parsed = parser.parse_expr().map_err(|e| parser_error(text, &e))?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        return Err(ExprError::new(
            offset_of(text, next.span.start.line, next.span.start.column),
            format!(
                "unexpected `{}` after the end of the expression: write exactly one expression",
                snippet(&next.token.to_string())
            ),
        ));
    }
    convert::Converter::new(text, scope, lenient).expr(&parsed, 0)
}

/// The columns an expression names, each once, in order of appearance.
pub fn columns(expr: &Expr) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    visit(expr, &mut |e| {
        if let Expr::Column(c) = e {
            if !out.contains(&c.as_str()) {
                out.push(c);
            }
        }
    });
    out
}

fn visit<'a>(expr: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
    f(expr);
    match expr {
        Expr::Column(_) | Expr::Null | Expr::Bool(_) | Expr::Number(_) | Expr::Text(_) => {}
        Expr::Not(e) | Expr::Negate(e) | Expr::Nested(e) | Expr::IsNull { expr: e, .. } => {
            visit(e, f);
        }
        Expr::Binary(a, _, b)
        | Expr::Like {
            expr: a,
            pattern: b,
            ..
        } => {
            visit(a, f);
            visit(b, f);
        }
        Expr::Between {
            expr, low, high, ..
        } => {
            for e in [expr, low, high] {
                visit(e, f);
            }
        }
        Expr::InList { expr, list, .. } => {
            visit(expr, f);
            for e in list {
                visit(e, f);
            }
        }
        Expr::Case {
            operand,
            whens,
            otherwise,
        } => {
            if let Some(o) = operand {
                visit(o, f);
            }
            for (w, t) in whens {
                visit(w, f);
                visit(t, f);
            }
            if let Some(o) = otherwise {
                visit(o, f);
            }
        }
        Expr::Call(_, args) => {
            for e in args {
                visit(e, f);
            }
        }
    }
}

/// A parser error without sqlparser's ` at Line: L, Column: C` suffix, placed there.
fn parser_error(text: &str, e: &ParserError) -> ExprError {
    match e {
        ParserError::RecursionLimitExceeded => ExprError::new(
            None,
            format!("the expression is nested too deeply (at most {MAX_DEPTH} levels)"),
        ),
        ParserError::TokenizerError(m) | ParserError::ParserError(m) => {
            let (message, offset) = match m.rsplit_once(" at Line: ") {
                Some((message, place)) => {
                    let mut numbers = place
                        .split(", Column: ")
                        .map(|n| n.trim().parse::<u64>().unwrap_or(0));
                    let line = numbers.next().unwrap_or(0);
                    let column = numbers.next().unwrap_or(0);
                    (message, offset_of(text, line, column))
                }
                None => (m.as_str(), None),
            };
            ExprError::new(
                offset,
                format!("not a valid expression: {}", snippet(message)),
            )
        }
    }
}

/// The byte offset of a 1-based line and character column, if inside `text`.
fn offset_of(text: &str, line: u64, column: u64) -> Option<usize> {
    if line == 0 || column == 0 {
        return None;
    }
    let line = usize::try_from(line).ok()?;
    let column = usize::try_from(column).ok()?;
    let start: usize = text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    let rest = text.get(start..)?;
    let within = rest
        .char_indices()
        .nth(column - 1)
        .map_or(rest.len(), |(i, _)| i);
    Some(start + within)
}

/// At most 60 characters of user text, for a message.
pub(crate) fn snippet(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    }
}

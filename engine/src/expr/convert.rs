//! From sqlparser's tree to strata's: every form not in the accepted language is
//! refused here, named and placed.

use sqlparser::ast::{
    self as sql, BinaryOperator, FunctionArg, FunctionArgExpr, FunctionArguments, Ident,
    ObjectNamePart, Spanned as _, UnaryOperator, Value,
};

use super::{offset_of, snippet, BinaryOp, Expr, ExprError, Function, Scope, MAX_DEPTH};
use crate::models::suggest::did_you_mean;

pub(super) struct Converter<'a> {
    text: &'a str,
    scope: Option<&'a Scope<'a>>,
    /// Reading a server's own spelling back: its casts, `~~` and `= ANY (ARRAY[…])`
    /// stand for the neutral forms they were made from.
    lenient: bool,
}

type Result<T> = std::result::Result<T, ExprError>;

impl<'a> Converter<'a> {
    pub(super) fn new(text: &'a str, scope: Option<&'a Scope<'a>>, lenient: bool) -> Self {
        Self {
            text,
            scope,
            lenient,
        }
    }

    /// The server spellings `lenient` accepts, as neutral forms.
    fn server_form(&self, e: &sql::Expr, d: usize) -> Option<Result<Expr>> {
        if !self.lenient {
            return None;
        }
        Some(match e {
            sql::Expr::Cast {
                kind: sql::CastKind::DoubleColon,
                expr,
                ..
            }
            | sql::Expr::Prefixed { value: expr, .. } => self.expr(expr, d),
            sql::Expr::BinaryOp {
                left,
                op: op @ (BinaryOperator::PGLikeMatch | BinaryOperator::PGNotLikeMatch),
                right,
            } => (|| {
                Ok(Expr::Like {
                    expr: self.boxed(left, d)?,
                    negated: *op == BinaryOperator::PGNotLikeMatch,
                    pattern: self.boxed(right, d)?,
                })
            })(),
            sql::Expr::AnyOp {
                left,
                compare_op: BinaryOperator::Eq,
                right,
                is_some: false,
            } => self.array_in(left, right, false, d)?,
            sql::Expr::AllOp {
                left,
                compare_op: BinaryOperator::NotEq,
                right,
            } => self.array_in(left, right, true, d)?,
            _ => return None,
        })
    }

    /// `x = ANY (ARRAY[…])` as `x IN (…)`; `x <> ALL (…)` as `x NOT IN (…)`.
    fn array_in(
        &self,
        left: &sql::Expr,
        right: &sql::Expr,
        negated: bool,
        d: usize,
    ) -> Option<Result<Expr>> {
        let mut right = right;
        while let sql::Expr::Cast { expr, .. } | sql::Expr::Nested(expr) = right {
            right = expr;
        }
        let sql::Expr::Array(array) = right else {
            return None;
        };
        Some((|| {
            Ok(Expr::InList {
                expr: self.boxed(left, d)?,
                negated,
                list: array
                    .elem
                    .iter()
                    .map(|item| self.literal(strip_casts(item), d))
                    .collect::<Result<_>>()?,
            })
        })())
    }

    fn at(&self, e: &sql::Expr) -> Option<usize> {
        let start = e.span().start;
        offset_of(self.text, start.line, start.column)
    }

    fn refuse(&self, e: &sql::Expr, message: impl Into<String>) -> ExprError {
        ExprError::new(self.at(e), message)
    }

    fn boxed(&self, e: &sql::Expr, depth: usize) -> Result<Box<Expr>> {
        Ok(Box::new(self.expr(e, depth)?))
    }

    pub(super) fn expr(&self, e: &sql::Expr, depth: usize) -> Result<Expr> {
        if depth > MAX_DEPTH {
            return Err(self.refuse(
                e,
                format!("the expression is nested too deeply (at most {MAX_DEPTH} levels)"),
            ));
        }
        let d = depth + 1;
        if let Some(neutral) = self.server_form(e, d) {
            return neutral;
        }
        Ok(match e {
            sql::Expr::Identifier(ident) => Expr::Column(self.column(e, None, ident)?),
            sql::Expr::CompoundIdentifier(parts) => Expr::Column(self.qualified(e, parts)?),
            sql::Expr::Value(v) => self.value(e, &v.value)?,
            sql::Expr::Nested(inner) => Expr::Nested(self.boxed(inner, d)?),
            sql::Expr::UnaryOp { op, expr } => match op {
                UnaryOperator::Not => Expr::Not(self.boxed(expr, d)?),
                UnaryOperator::Minus => Expr::Negate(self.boxed(expr, d)?),
                UnaryOperator::Plus => self.expr(expr, d)?,
                other => {
                    return Err(self.refuse(e, format!("the operator `{other}` is not allowed")))
                }
            },
            sql::Expr::BinaryOp { left, op, right } => {
                let op = self.binary_op(e, op)?;
                Expr::Binary(self.boxed(left, d)?, op, self.boxed(right, d)?)
            }
            sql::Expr::IsNull(inner) => Expr::IsNull {
                expr: self.boxed(inner, d)?,
                negated: false,
            },
            sql::Expr::IsNotNull(inner) => Expr::IsNull {
                expr: self.boxed(inner, d)?,
                negated: true,
            },
            sql::Expr::Between {
                expr,
                negated,
                low,
                high,
            } => Expr::Between {
                expr: self.boxed(expr, d)?,
                negated: *negated,
                low: self.boxed(low, d)?,
                high: self.boxed(high, d)?,
            },
            sql::Expr::InList {
                expr,
                list,
                negated,
            } => Expr::InList {
                expr: self.boxed(expr, d)?,
                negated: *negated,
                list: list
                    .iter()
                    .map(|item| self.literal(item, d))
                    .collect::<Result<_>>()?,
            },
            sql::Expr::Like {
                negated,
                any: false,
                expr,
                pattern,
                escape_char: None,
            } => Expr::Like {
                expr: self.boxed(expr, d)?,
                negated: *negated,
                pattern: self.boxed(pattern, d)?,
            },
            sql::Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => Expr::Case {
                operand: operand.as_deref().map(|o| self.boxed(o, d)).transpose()?,
                whens: conditions
                    .iter()
                    .map(|w| Ok((self.expr(&w.condition, d)?, self.expr(&w.result, d)?)))
                    .collect::<Result<_>>()?,
                otherwise: else_result
                    .as_deref()
                    .map(|o| self.boxed(o, d))
                    .transpose()?,
            },
            sql::Expr::Trim {
                expr,
                trim_where: None,
                trim_what: None,
                trim_characters: None,
            } => Expr::Call(Function::Trim, vec![self.expr(expr, d)?]),
            sql::Expr::Function(f) => self.function(e, f, d)?,
            _ => return Err(self.refuse(e, refused_form(e))),
        })
    }

    /// `table.column`; more parts name a schema or a field of a value, never a column.
    fn qualified(&self, e: &sql::Expr, parts: &[Ident]) -> Result<String> {
        match parts {
            [table, column] => self.column(e, Some(table), column),
            _ => Err(self.refuse(
                e,
                format!(
                    "`{}` names another schema or table; an expression may name only its own table's columns",
                    snippet(&e.to_string())
                ),
            )),
        }
    }

    /// A column of the scope's table, qualified at most by that table's name.
    fn column(&self, e: &sql::Expr, table: Option<&Ident>, column: &Ident) -> Result<String> {
        if column.quote_style.is_some_and(|q| q != '"' && q != '`') {
            return Err(self.refuse(
                e,
                format!(
                    "`{}`: quote names with double quotes",
                    snippet(&e.to_string())
                ),
            ));
        }
        let Some(scope) = self.scope else {
            return Ok(column.value.clone());
        };
        if let Some(t) = table {
            if t.value != scope.table {
                return Err(self.refuse(
                    e,
                    format!(
                        "`{}` names table `{}`; an expression on `{}` may name only its own columns",
                        snippet(&e.to_string()),
                        snippet(&t.value),
                        scope.table
                    ),
                ));
            }
        }
        if scope.columns.contains(&column.value.as_str()) {
            return Ok(column.value.clone());
        }
        let hint = did_you_mean(&column.value, scope.columns.iter().copied());
        let hint = if hint.is_empty() {
            format!(" (its columns: {})", scope.columns.join(", "))
        } else {
            hint
        };
        Err(self.refuse(
            e,
            format!(
                "unknown column `{}` of table `{}`{hint}",
                snippet(&column.value),
                scope.table
            ),
        ))
    }

    fn value(&self, e: &sql::Expr, v: &Value) -> Result<Expr> {
        Ok(match v {
            Value::Null => Expr::Null,
            Value::Boolean(b) => Expr::Bool(*b),
            Value::SingleQuotedString(s) => Expr::Text(s.clone()),
            Value::Number(n, false) if is_number(n) => Expr::Number(n.clone()),
            _ => {
                return Err(self.refuse(
                    e,
                    format!(
                        "the literal `{}` is not allowed; write numbers, 'strings' (quotes doubled inside), true, false or NULL",
                        snippet(&v.to_string())
                    ),
                ))
            }
        })
    }

    /// An item of `IN (…)`: a literal, or a negative number.
    fn literal(&self, e: &sql::Expr, depth: usize) -> Result<Expr> {
        match e {
            sql::Expr::Value(v) => self.value(e, &v.value),
            sql::Expr::Prefixed { value, .. } if self.lenient => self.literal(value, depth),
            sql::Expr::UnaryOp {
                op: UnaryOperator::Minus,
                expr,
            } if matches!(**expr, sql::Expr::Value(_)) => {
                Ok(Expr::Negate(self.boxed(expr, depth + 1)?))
            }
            _ => Err(self.refuse(
                e,
                format!(
                    "`IN (…)` takes a list of literals, not `{}`",
                    snippet(&e.to_string())
                ),
            )),
        }
    }

    fn binary_op(&self, e: &sql::Expr, op: &BinaryOperator) -> Result<BinaryOp> {
        Ok(match op {
            BinaryOperator::Plus => BinaryOp::Add,
            BinaryOperator::Minus => BinaryOp::Sub,
            BinaryOperator::Multiply => BinaryOp::Mul,
            BinaryOperator::Divide => BinaryOp::Div,
            BinaryOperator::Modulo => BinaryOp::Mod,
            BinaryOperator::Eq => BinaryOp::Eq,
            BinaryOperator::NotEq => BinaryOp::NotEq,
            BinaryOperator::Lt => BinaryOp::Lt,
            BinaryOperator::LtEq => BinaryOp::LtEq,
            BinaryOperator::Gt => BinaryOp::Gt,
            BinaryOperator::GtEq => BinaryOp::GtEq,
            BinaryOperator::And => BinaryOp::And,
            BinaryOperator::Or => BinaryOp::Or,
            other => {
                return Err(self.refuse(
                    e,
                    format!(
                        "the operator `{other}` is not allowed (allowed: + - * / % = <> != < <= > >= AND OR NOT)"
                    ),
                ))
            }
        })
    }

    fn function(&self, e: &sql::Expr, f: &sql::Function, depth: usize) -> Result<Expr> {
        let name = match f.name.0.as_slice() {
            [ObjectNamePart::Identifier(i)] if i.quote_style.is_none() => i.value.as_str(),
            _ => "",
        };
        if matches!(f.args, FunctionArguments::None) {
            // `user`, `current_date`: SQL reads these bare words as functions.
            return Err(self.refuse(
                e,
                format!(
                    "`{}` is an SQL keyword here, not a column; a column of that name is written in double quotes (\"{}\")",
                    snippet(&f.name.to_string()),
                    snippet(&f.name.to_string()),
                ),
            ));
        }
        let allowed = Function::ALL
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", ");
        let alias = || {
            let neutral = match name.to_ascii_lowercase().as_str() {
                "lcase" => "lower",
                "ucase" => "upper",
                "char_length" | "character_length" => "length",
                _ => return None,
            };
            Function::by_name(neutral)
        };
        let function = Function::by_name(name).or_else(|| alias().filter(|_| self.lenient));
        let Some(function) = function else {
            return Err(self.refuse(
                e,
                format!(
                    "the function `{}` is not allowed (allowed: {allowed})",
                    snippet(&f.name.to_string())
                ),
            ));
        };
        let plain = !f.uses_odbc_syntax
            && matches!(f.parameters, FunctionArguments::None)
            && f.filter.is_none()
            && f.null_treatment.is_none()
            && f.over.is_none()
            && f.within_group.is_empty();
        let args = match &f.args {
            FunctionArguments::List(list)
                if plain && list.duplicate_treatment.is_none() && list.clauses.is_empty() =>
            {
                &list.args
            }
            _ => {
                return Err(self.refuse(
                    e,
                    format!(
                        "`{}` must be called as {name}(argument, …)",
                        snippet(&e.to_string())
                    ),
                ))
            }
        };
        let args = args
            .iter()
            .map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => self.expr(x, depth + 1),
                _ => Err(self.refuse(
                    e,
                    format!(
                        "`{name}` takes plain arguments, not `{}`",
                        snippet(&a.to_string())
                    ),
                )),
            })
            .collect::<Result<Vec<_>>>()?;
        let (least, most) = function.arity();
        if args.len() < least || args.len() > most {
            let wanted = if least == most {
                least.to_string()
            } else {
                format!("{least} to {most}")
            };
            return Err(self.refuse(
                e,
                format!("`{name}` takes {wanted} argument(s), not {}", args.len()),
            ));
        }
        Ok(Expr::Call(function, args))
    }
}

fn strip_casts(mut e: &sql::Expr) -> &sql::Expr {
    while let sql::Expr::Cast { expr, .. } = e {
        e = expr;
    }
    e
}

/// `12`, `1.5`, `.5`, `1e10`, `2.5E-3`: what every database reads as a number.
pub(super) fn is_number(n: &str) -> bool {
    let (mantissa, exponent) = match n.find(['e', 'E']) {
        Some(i) => (&n[..i], Some(&n[i + 1..])),
        None => (n, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((a, b)) => {
            (digits(a) || a.is_empty())
                && (digits(b) || b.is_empty())
                && !(a.is_empty() && b.is_empty())
        }
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|x| digits(x.strip_prefix(['+', '-']).unwrap_or(x)));
    mantissa_ok && exponent_ok
}

/// What a refused form is, in words a user recognises.
fn refused_form(e: &sql::Expr) -> String {
    let what = match e {
        sql::Expr::Subquery(_) | sql::Expr::InSubquery { .. } => {
            "a subquery (SELECT …)".to_string()
        }
        sql::Expr::Exists { .. } => "EXISTS (…)".to_string(),
        sql::Expr::Cast { .. } => "a cast".to_string(),
        sql::Expr::Collate { .. } => "COLLATE".to_string(),
        sql::Expr::ILike { .. } | sql::Expr::SimilarTo { .. } | sql::Expr::RLike { .. } => {
            "this pattern match (use LIKE)".to_string()
        }
        sql::Expr::Like { .. } => "LIKE with ESCAPE or ANY".to_string(),
        sql::Expr::Wildcard(_) | sql::Expr::QualifiedWildcard(..) => "`*`".to_string(),
        _ => format!("`{}`", snippet(&e.to_string())),
    };
    format!(
        "{what} is not allowed in a check or index `where`: write one expression over the table's columns (see docs/expressions.md)"
    )
}

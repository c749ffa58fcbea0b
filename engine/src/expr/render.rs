//! Writes a parsed expression as SQL for one dialect.

use super::{Expr, Function};

/// How a dialect spells the parts of an expression that differ between databases.
pub trait ExprStyle {
    fn ident(&self, name: &str) -> String;
    fn string(&self, value: &str) -> String;
    fn boolean(&self, value: bool) -> String;
    fn function(&self, f: Function) -> String;
}

/// The expression as SQL. Every operand is fully parenthesised where the tree nests
/// (`Nested` keeps the user's own parentheses), so precedence cannot differ between
/// databases.
pub fn render(expr: &Expr, style: &dyn ExprStyle) -> String {
    let r = |e: &Expr| render(e, style);
    let not = |negated: bool| if negated { "NOT " } else { "" };
    match expr {
        Expr::Column(c) => style.ident(c),
        Expr::Null => "NULL".into(),
        Expr::Bool(b) => style.boolean(*b),
        Expr::Number(n) => n.clone(),
        Expr::Text(s) => style.string(s),
        Expr::Not(e) => format!("NOT {}", operand(e, style)),
        Expr::Negate(e) => format!("-{}", operand(e, style)),
        Expr::Binary(a, op, b) => {
            format!("{} {} {}", operand(a, style), op.sql(), operand(b, style))
        }
        Expr::IsNull { expr, negated } => {
            format!("{} IS {}NULL", operand(expr, style), not(*negated))
        }
        Expr::Between {
            expr,
            negated,
            low,
            high,
        } => format!(
            "{} {}BETWEEN {} AND {}",
            operand(expr, style),
            not(*negated),
            operand(low, style),
            operand(high, style)
        ),
        Expr::InList {
            expr,
            negated,
            list,
        } => format!(
            "{} {}IN ({})",
            operand(expr, style),
            not(*negated),
            list.iter().map(r).collect::<Vec<_>>().join(", ")
        ),
        Expr::Like {
            expr,
            negated,
            pattern,
        } => format!(
            "{} {}LIKE {}",
            operand(expr, style),
            not(*negated),
            operand(pattern, style)
        ),
        Expr::Case {
            operand: subject,
            whens,
            otherwise,
        } => {
            let mut sql = String::from("CASE");
            if let Some(s) = subject {
                sql.push(' ');
                sql.push_str(&r(s));
            }
            for (when, then) in whens {
                sql.push_str(" WHEN ");
                sql.push_str(&r(when));
                sql.push_str(" THEN ");
                sql.push_str(&r(then));
            }
            if let Some(o) = otherwise {
                sql.push_str(" ELSE ");
                sql.push_str(&r(o));
            }
            sql.push_str(" END");
            sql
        }
        Expr::Call(f, args) => format!(
            "{}({})",
            style.function(*f),
            args.iter().map(r).collect::<Vec<_>>().join(", ")
        ),
        Expr::Nested(e) => format!("({})", r(e)),
    }
}

/// An operand of an operator: atoms as they are, anything compound in parentheses.
fn operand(e: &Expr, style: &dyn ExprStyle) -> String {
    let sql = render(e, style);
    match e {
        Expr::Column(_)
        | Expr::Null
        | Expr::Bool(_)
        | Expr::Number(_)
        | Expr::Text(_)
        | Expr::Call(..)
        | Expr::Nested(_)
        | Expr::Case { .. } => sql,
        _ => format!("({sql})"),
    }
}

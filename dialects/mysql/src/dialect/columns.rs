//! Column definitions and defaults: what `CREATE TABLE`, `ADD COLUMN` and
//! `MODIFY COLUMN` share.

use strata_engine::ast::{ColumnDef, DefaultExpr, DefaultValue};
use strata_engine::dialect::RenderResultOf;
use strata_engine::{ColumnType, Dialect, RenderContext};

use super::{types, MysqlDialect};

/// The longest column comment MySQL and MariaDB accept (characters).
const MAX_COLUMN_COMMENT: usize = 1024;
impl MysqlDialect {
    /// The SQL type of a column of `table`, or `Unsupported` naming `operation`.
    pub(crate) fn sql_type_in(
        self,
        operation: &'static str,
        table: &str,
        column: &ColumnDef,
        ctx: &RenderContext,
    ) -> RenderResultOf<String> {
        if column.ty == ColumnType::Enum {
            let values: Vec<String> = column.values.iter().map(|v| self.quote_string(v)).collect();
            return Ok(format!("enum({})", values.join(", ")));
        }
        types::sql_type(self.flavour, ctx.version, column.ty).map_err(|reason| {
            self.unsupported(
                operation,
                table,
                &format!("column `{}`: {reason}", column.name),
            )
        })
    }

    /// `` `name` type [NOT] NULL [DEFAULT …] [AUTO_INCREMENT] [PRIMARY KEY] ``.
    ///
    /// `MODIFY COLUMN` passes `inline_pk = false` but keeps `AUTO_INCREMENT`: the
    /// primary key survives a `MODIFY`, while an omitted `AUTO_INCREMENT` would be
    /// silently removed.
    pub(crate) fn column_definition(
        self,
        operation: &'static str,
        table: &str,
        column: &ColumnDef,
        inline_pk: bool,
        ctx: &RenderContext,
    ) -> RenderResultOf<String> {
        let mut sql = format!(
            "{} {}{}",
            self.table_ident(&column.name, ctx)?,
            self.sql_type_in(operation, table, column, ctx)?,
            self.collate_sql(column),
        );
        if let Some(generated) = &column.generated {
            // MariaDB refuses NULL / NOT NULL and DEFAULT on a generated column.
            sql.push_str(&self.generated_sql(&column.name, generated)?);
            if inline_pk {
                sql.push_str(" PRIMARY KEY");
            }
            if let Some(comment) = &column.comment {
                sql.push_str(" COMMENT ");
                sql.push_str(&self.quote_string(comment));
            }
            return Ok(sql);
        }
        sql.push_str(if column.null { " NULL" } else { " NOT NULL" });
        if let Some(default) = &column.default {
            sql.push_str(" DEFAULT ");
            sql.push_str(&self.default_sql(default, column, ctx)?);
        }
        if column.auto {
            sql.push_str(" AUTO_INCREMENT");
        }
        if inline_pk {
            sql.push_str(" PRIMARY KEY");
        }
        // Part of the definition: every `MODIFY COLUMN` must repeat it, or it is lost.
        if let Some(comment) = &column.comment {
            // ER_TOO_LONG_FIELD_COMMENT at run time otherwise, after earlier
            // statements of a non-atomic migration have run.
            if comment.chars().count() > MAX_COLUMN_COMMENT {
                return Err(self.unsupported(
                    operation,
                    table,
                    &format!(
                        "the comment of column `{}` is {} characters long; MySQL and MariaDB \
                         keep at most {MAX_COLUMN_COMMENT}",
                        column.name,
                        comment.chars().count()
                    ),
                ));
            }
            sql.push_str(" COMMENT ");
            sql.push_str(&self.quote_string(comment));
        }
        Ok(sql)
    }

    /// A literal default. MySQL refuses plain literal defaults on `TEXT`, `BLOB` and
    /// `JSON` columns but accepts them as expressions (8.0.13+), `DEFAULT ('x')`;
    /// MariaDB accepts both, so the expression form serves the two flavours.
    pub(crate) fn literal_default(self, default: &DefaultValue, column: &ColumnDef) -> String {
        let literal = match default {
            DefaultValue::Bool(b) => self.bool_literal(*b).to_string(),
            DefaultValue::Int(i) => i.to_string(),
            DefaultValue::Float(f) => format!("{f:?}"),
            DefaultValue::Text(s) => self.quote_string(s),
            DefaultValue::Expr { expr } => return Self::now_or_uuid(*expr, column.ty),
        };
        if types::literal_default_needs_parentheses(column.ty) {
            format!("({literal})")
        } else {
            literal
        }
    }

    /// The neutral default expressions, matched to the column type.
    ///
    /// Only `CURRENT_TIMESTAMP` may stand bare (and its precision must equal the
    /// column's, hence `(6)`); every other function default is an expression in
    /// parentheses, which MySQL 8.0.13+ and MariaDB 10.2+ accept. `timestamptz`
    /// columns hold UTC, so their `now` is `UTC_TIMESTAMP`. `uuid()` gives a
    /// version-1 UUID: neither server has a built-in v4 generator usable here.
    pub(crate) fn now_or_uuid(expr: DefaultExpr, ty: ColumnType) -> String {
        match (expr, ty) {
            (DefaultExpr::Now, ColumnType::Date) => "(CURRENT_DATE)",
            (DefaultExpr::Now, ColumnType::Time) => "(CURRENT_TIME(6))",
            (DefaultExpr::Now, ColumnType::TimestampTz) => "(UTC_TIMESTAMP(6))",
            (DefaultExpr::Now, _) => "CURRENT_TIMESTAMP(6)",
            (DefaultExpr::Uuid, _) => "(uuid())",
        }
        .to_string()
    }
}

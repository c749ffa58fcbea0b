//! `ALTER TABLE … ALTER COLUMN` for PostgreSQL.
//!
//! The engine's default would fail on a type change of a column with a default
//! that PostgreSQL cannot cast by itself (text `'5'` → integer): the server converts
//! the old default expression before any `SET DEFAULT` in the same statement, and
//! refuses ("default for column cannot be cast automatically"). Dropping the default
//! first, in the same statement, works: PostgreSQL runs `DROP DEFAULT` subcommands
//! before type changes and `SET DEFAULT` after them. The kept default is rendered
//! again from its neutral value for the new type, as Django does.

use strata_engine::ast::{AlterColumn, DefaultValue};
use strata_engine::dialect::RenderResult;
use strata_engine::state::StateError;
use strata_engine::{Dialect, RenderContext, Statement};

pub(super) fn render(dialect: &dyn Dialect, o: &AlterColumn, ctx: &RenderContext) -> RenderResult {
    let table = ctx.state.table(&o.table)?;
    let old = table
        .column(&o.column)
        .ok_or_else(|| StateError::NoSuchColumn {
            table: o.table.clone(),
            column: o.column.clone(),
        })?;
    let col = dialect.quote_ident(&o.column);
    let mut new = old.clone();
    // A default that must be taken off before the type changes (and, unless the
    // operation drops it, put back afterwards).
    let recast_default = o.ty.is_some_and(|ty| ty != old.ty) && old.default.is_some();
    let mut clauses = Vec::new();
    if recast_default {
        clauses.push(format!("ALTER COLUMN {col} DROP DEFAULT"));
    }
    if let Some(ty) = o.ty {
        new.ty = ty;
        let sql_type = dialect.column_type(&new, ctx)?;
        clauses.push(format!(
            "ALTER COLUMN {col} TYPE {sql_type}{}",
            dialect.type_change_using(&o.column, old.ty, ty, &sql_type)
        ));
    }
    if let Some(null) = o.null {
        clauses.push(format!(
            "ALTER COLUMN {col} {} NOT NULL",
            if null { "DROP" } else { "SET" }
        ));
    }
    let kept_default = recast_default && !o.drop_default;
    let default: Option<&DefaultValue> = o
        .default
        .as_ref()
        .or_else(|| old.default.as_ref().filter(|_| kept_default));
    if let Some(default) = default {
        clauses.push(format!(
            "ALTER COLUMN {col} SET DEFAULT {}",
            dialect.default_sql(default, &new, ctx)?
        ));
    }
    if o.drop_default && !recast_default {
        clauses.push(format!("ALTER COLUMN {col} DROP DEFAULT"));
    }
    if clauses.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![Statement::new(format!(
        "ALTER TABLE {} {}",
        dialect.table_ident(&o.table, ctx)?,
        clauses.join(", ")
    ))])
}

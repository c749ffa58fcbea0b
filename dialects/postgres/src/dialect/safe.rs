//! Safe plans: how an operation on a table the application may be using runs
//! without holding a lock that blocks it for as long as the table takes to read.
//!
//! - an index is built (and dropped) `CONCURRENTLY`, outside any transaction;
//! - a foreign key or check is added `NOT VALID` (a brief lock, no scan), committed,
//!   then `VALIDATE`d under a lock that blocks neither reads nor writes;
//! - a unique constraint is an index built concurrently, then attached
//!   (`ADD CONSTRAINT … UNIQUE USING INDEX`, catalog only);
//! - `SET NOT NULL` follows a validated `CHECK (col IS NOT NULL)`, which lets
//!   PostgreSQL 12+ skip its scan; the check is dropped right after.
//!
//! Every other operation has no safe plan and renders as usual. Each step is named
//! ([`Step`]) so that [`super::locks`] can say what it locks without reading SQL.

use strata_engine::ast::{
    AddConstraint, AddForeignKey, AlterColumn, Constraint, CreateIndex, DropIndex, IndexDef,
    Operation,
};
use strata_engine::dialect::Runs;
use strata_engine::{Dialect, RenderContext, RenderError, Statement};

use super::PostgresDialect;

/// What one statement of a safe plan does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// strata's guard: counts rows that would make the change fail.
    Guard,
    /// `CREATE [UNIQUE] INDEX CONCURRENTLY`.
    BuildIndexConcurrently,
    /// `DROP INDEX CONCURRENTLY`.
    DropIndexConcurrently,
    /// `ADD CONSTRAINT … NOT VALID`: the constraint holds for new rows only.
    AddNotValid,
    /// `VALIDATE CONSTRAINT`: checks the existing rows.
    Validate,
    /// `ADD CONSTRAINT … UNIQUE USING INDEX`: a built index becomes the constraint.
    AttachUnique,
    /// `ALTER COLUMN … SET NOT NULL` (and any default change of the same operation),
    /// proven by the validated check before it.
    SetNotNull,
    /// `DROP CONSTRAINT` of the temporary `IS NOT NULL` check.
    DropTemporaryCheck,
}

/// One statement of a safe plan, with what it does.
pub(crate) type PlannedStatement = (Step, Statement);

/// The safe plan of `op`, or `None` when it has none (it renders as usual).
pub(crate) fn plan(
    d: PostgresDialect,
    op: &Operation,
    ctx: &RenderContext,
) -> Option<Result<Vec<PlannedStatement>, RenderError>> {
    Some(match op {
        Operation::CreateIndex(o) => create_index(d, o, ctx),
        Operation::DropIndex(o) => drop_index(d, o, ctx),
        Operation::AddForeignKey(o) => add_foreign_key(d, o, ctx),
        Operation::AddConstraint(o) => add_constraint(d, o, ctx),
        Operation::AlterColumn(o) if safe_not_null(o, ctx) => set_not_null(d, o, ctx),
        _ => return None,
    })
}

/// What undoes a part-way run of `op`'s safe plan, so that it can run again from its
/// first statement. Each statement succeeds when there is nothing to undo, and
/// removes only what has the shape the plan leaves between its steps — a constraint
/// still `NOT VALID`, a unique index on exactly the constraint's columns that no
/// constraint uses, a check that says exactly `column IS NOT NULL` — so that an object
/// of the same name made otherwise (by raw SQL, which strata's state does not know)
/// stays. An index whose concurrent build failed is INVALID, which the driver's
/// `clear_leftovers` drops (and introspection ignores), so a plain index build needs
/// nothing here.
pub(crate) fn cleanup(
    d: PostgresDialect,
    op: &Operation,
    ctx: &RenderContext,
) -> Result<Vec<Statement>, RenderError> {
    Ok(match op {
        Operation::AddForeignKey(o) => vec![drop_not_valid(d, &o.table, &o.foreign_key.name, ctx)?],
        Operation::AddConstraint(o) => match &o.constraint {
            Constraint::Check { name, .. } => vec![drop_not_valid(d, &o.table, name, ctx)?],
            Constraint::Unique { name, columns } => {
                vec![drop_unattached_index(d, &o.table, name, columns, ctx)?]
            }
        },
        Operation::AlterColumn(o) if safe_not_null(o, ctx) => {
            vec![drop_not_null_check(d, o, ctx)?]
        }
        _ => Vec::new(),
    })
}

/// `DO` block dropping constraint `name` of `table` only while it is `NOT VALID`.
fn drop_not_valid(
    d: PostgresDialect,
    table: &str,
    name: &str,
    ctx: &RenderContext,
) -> Result<Statement, RenderError> {
    let quoted = d.table_ident(table, ctx)?;
    Ok(only_if(
        &constraint_named(d, &quoted, name, "NOT convalidated", ctx),
        &format!(
            "ALTER TABLE {quoted} DROP CONSTRAINT {}",
            d.object_ident(name, ctx)
        ),
    ))
}

/// `DO` block dropping index `name` of `table` only while it is what the plan builds
/// before attaching it — unique, on exactly `columns`, used by no constraint.
fn drop_unattached_index(
    d: PostgresDialect,
    table: &str,
    name: &str,
    columns: &[String],
    ctx: &RenderContext,
) -> Result<Statement, RenderError> {
    let quoted = d.table_ident(table, ctx)?;
    let condition = format!(
        "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE i.indrelid = to_regclass({}) AND c.relname = {} AND i.indisunique \
         AND (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(i.indkey::int2[]) \
         WITH ORDINALITY k(attnum, ord) JOIN pg_attribute a ON a.attrelid = i.indrelid \
         AND a.attnum = k.attnum) = {}::text[] \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
        d.quote_string(&quoted),
        d.quote_string(&fit(name, ctx)),
        text_array(d, columns),
    );
    let action = format!("DROP INDEX {}", d.object_ident(name, ctx));
    Ok(only_if(&condition, &action))
}

/// `DO` block dropping the temporary check of the NOT NULL plan only while it says
/// exactly `column IS NOT NULL` (validated or not).
fn drop_not_null_check(
    d: PostgresDialect,
    o: &AlterColumn,
    ctx: &RenderContext,
) -> Result<Statement, RenderError> {
    let quoted = d.table_ident(&o.table, ctx)?;
    let name = not_null_check_name(o);
    let says_not_null = format!(
        "contype = 'c' AND pg_get_expr(conbin, conrelid) = '(' || quote_ident({}) || ' IS NOT NULL)'",
        d.quote_string(&o.column)
    );
    Ok(only_if(
        &constraint_named(d, &quoted, &name, &says_not_null, ctx),
        &format!(
            "ALTER TABLE {quoted} DROP CONSTRAINT {}",
            d.object_ident(&name, ctx)
        ),
    ))
}

/// The query finding constraint `name` of the table `quoted` that also meets `also`.
fn constraint_named(
    d: PostgresDialect,
    quoted: &str,
    name: &str,
    also: &str,
    ctx: &RenderContext,
) -> String {
    format!(
        "SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass({}) AND conname = {} AND {also}",
        d.quote_string(quoted),
        d.quote_string(&fit(name, ctx)),
    )
}

/// One statement running `action` only when `condition` (a query) returns a row: a
/// `DO` block, since PostgreSQL has no `IF` outside one.
fn only_if(condition: &str, action: &str) -> Statement {
    Statement::new(format!(
        "DO $strata$ BEGIN IF EXISTS ({condition}) THEN {action}; END IF; END $strata$"
    ))
}

/// `ARRAY['a', 'b']` of quoted strings.
fn text_array(d: PostgresDialect, items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|i| d.quote_string(i)).collect();
    format!("ARRAY[{}]", items.join(", "))
}

/// The name as the server stores it: shortened like `object_ident` does.
fn fit(name: &str, ctx: &RenderContext) -> String {
    strata_engine::naming::fit_identifier(name, ctx.capabilities.max_identifier_len)
}

/// Whether `o` gets the safe NOT NULL plan: it sets only NOT NULL, and the name of
/// its temporary check is free on the table (else the plain `SET NOT NULL` runs, so
/// that no cleanup can ever drop a constraint of that name that is not strata's).
pub(crate) fn safe_not_null(o: &AlterColumn, ctx: &RenderContext) -> bool {
    sets_only_not_null(o, ctx)
        && ctx.state.table(&o.table).is_ok_and(|t| {
            let name = not_null_check_name(o);
            t.checks.iter().all(|c| c.name != name)
                && t.uniques.iter().all(|u| u.name != name)
                && t.foreign_keys.iter().all(|f| f.name != name)
                && t.indexes.iter().all(|i| i.name != name)
        })
}

/// Whether `o` makes a nullable column NOT NULL and changes nothing but that (and
/// its default): a type change rewrites the table anyway, and its scan with it.
pub(crate) fn sets_only_not_null(o: &AlterColumn, ctx: &RenderContext) -> bool {
    let Some(old) = ctx
        .state
        .table(&o.table)
        .ok()
        .and_then(|t| t.column(&o.column))
    else {
        return false;
    };
    o.null == Some(false) && old.null && o.ty.is_none_or(|ty| ty == old.ty)
}

/// The temporary check that proves the column holds no NULL. Not PostgreSQL 18's
/// own `<table>_<column>_not_null`, the name `SET NOT NULL` gives its constraint.
pub(crate) fn not_null_check_name(o: &AlterColumn) -> String {
    format!("{}_{}_not_null_check", o.table, o.column)
}

/// The context of a statement run outside a transaction: the engine's rendering then
/// builds and drops indexes `CONCURRENTLY`.
fn outside<'a>(ctx: &RenderContext<'a>) -> RenderContext<'a> {
    RenderContext {
        in_transaction: false,
        ..*ctx
    }
}

fn with_runs(statements: Vec<Statement>, step: Step, runs: Runs) -> Vec<PlannedStatement> {
    statements
        .into_iter()
        .map(|s| (step, Statement { runs, ..s }))
        .collect()
}

fn create_index(
    d: PostgresDialect,
    o: &CreateIndex,
    ctx: &RenderContext,
) -> Result<Vec<PlannedStatement>, RenderError> {
    build_index(d, &o.table, &o.index, ctx)
}

fn build_index(
    d: PostgresDialect,
    table: &str,
    index: &IndexDef,
    ctx: &RenderContext,
) -> Result<Vec<PlannedStatement>, RenderError> {
    let statements = d.create_index(table, index, &outside(ctx))?;
    Ok(with_runs(
        statements,
        Step::BuildIndexConcurrently,
        Runs::Outside,
    ))
}

fn drop_index(
    d: PostgresDialect,
    o: &DropIndex,
    ctx: &RenderContext,
) -> Result<Vec<PlannedStatement>, RenderError> {
    let statements = d.drop_index(o, &outside(ctx))?;
    Ok(with_runs(
        statements,
        Step::DropIndexConcurrently,
        Runs::Outside,
    ))
}

/// `ADD … NOT VALID` then `VALIDATE CONSTRAINT`, each committed on its own.
fn not_valid_then_validate(
    d: PostgresDialect,
    table: &str,
    name: &str,
    definition: &str,
    ctx: &RenderContext,
) -> Result<Vec<PlannedStatement>, RenderError> {
    let table = d.table_ident(table, ctx)?;
    Ok(vec![
        (
            Step::AddNotValid,
            Statement::own_transaction(format!("ALTER TABLE {table} ADD {definition} NOT VALID")),
        ),
        (
            Step::Validate,
            Statement::own_transaction(format!(
                "ALTER TABLE {table} VALIDATE CONSTRAINT {}",
                d.object_ident(name, ctx)
            )),
        ),
    ])
}

fn add_foreign_key(
    d: PostgresDialect,
    o: &AddForeignKey,
    ctx: &RenderContext,
) -> Result<Vec<PlannedStatement>, RenderError> {
    let definition = d.foreign_key_sql(&o.foreign_key, ctx)?;
    not_valid_then_validate(d, &o.table, &o.foreign_key.name, &definition, ctx)
}

fn add_constraint(
    d: PostgresDialect,
    o: &AddConstraint,
    ctx: &RenderContext,
) -> Result<Vec<PlannedStatement>, RenderError> {
    match &o.constraint {
        Constraint::Check { name, .. } => {
            let definition = d.constraint_sql(&o.constraint, ctx)?;
            not_valid_then_validate(d, &o.table, name, &definition, ctx)
        }
        Constraint::Unique { name, columns } => {
            let index = IndexDef {
                name: name.clone(),
                columns: columns.clone(),
                unique: true,
                predicate: None,
                ..Default::default()
            };
            let mut out = build_index(d, &o.table, &index, ctx)?;
            let name = d.object_ident(name, ctx);
            out.push((
                Step::AttachUnique,
                Statement::own_transaction(format!(
                    "ALTER TABLE {} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}",
                    d.table_ident(&o.table, ctx)?
                )),
            ));
            Ok(out)
        }
    }
}

/// The guards, `CHECK (col IS NOT NULL) NOT VALID`, its `VALIDATE`, then the usual
/// `ALTER COLUMN … SET NOT NULL` (which finds the check and skips its scan) and the
/// check's `DROP`, those two in the group.
fn set_not_null(
    d: PostgresDialect,
    o: &AlterColumn,
    ctx: &RenderContext,
) -> Result<Vec<PlannedStatement>, RenderError> {
    let mut plain = d.alter_column(o, ctx)?;
    // The plain rendering is the guards followed by the one ALTER TABLE.
    let Some(alter) = plain.pop() else {
        return Ok(Vec::new());
    };
    let mut out: Vec<PlannedStatement> = plain.into_iter().map(|s| (Step::Guard, s)).collect();
    let name = not_null_check_name(o);
    let definition = format!(
        "CONSTRAINT {} CHECK ({} IS NOT NULL)",
        d.object_ident(&name, ctx),
        d.quote_ident(&o.column)
    );
    out.extend(not_valid_then_validate(
        d,
        &o.table,
        &name,
        &definition,
        ctx,
    )?);
    out.push((Step::SetNotNull, alter));
    out.push((
        Step::DropTemporaryCheck,
        Statement::new(format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            d.table_ident(&o.table, ctx)?,
            d.object_ident(&name, ctx)
        )),
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use strata_engine::ast::{ColumnDef, TableDef};
    use strata_engine::{SchemaState, ServerVersion};

    use super::*;

    fn state() -> SchemaState {
        let column = |name: &str, null| ColumnDef {
            name: name.into(),
            ty: "varchar(20)".parse().unwrap(),
            null,
            default: None,
            auto: false,
            ..Default::default()
        };
        let mut state = SchemaState::new();
        state
            .apply(&Operation::CreateTable(TableDef {
                name: "t".into(),
                columns: vec![column("id", false), column("c", true)],
                primary_key: vec!["id".into()],
                uniques: Vec::new(),
                checks: Vec::new(),
                foreign_keys: Vec::new(),
                indexes: Vec::new(),
                ..Default::default()
            }))
            .unwrap();
        state
    }

    /// How each statement runs, and its SQL.
    type Plan = Vec<(Runs, String)>;

    /// The safe plan of `op` and its cleanup, on PostgreSQL 16.
    fn plan_of(op: &Operation) -> (Plan, Plan) {
        let d = PostgresDialect;
        let state = state();
        let version = ServerVersion::new(16, 0, 0);
        let capabilities = d.capabilities(version);
        let ctx = RenderContext {
            state: &state,
            version,
            capabilities: &capabilities,
            in_transaction: true,
            safe: true,
        };
        let pairs = |statements: Vec<Statement>| {
            statements
                .into_iter()
                .map(|s| (s.runs, s.sql))
                .collect::<Vec<_>>()
        };
        (
            pairs(d.render(op, &ctx).unwrap()),
            pairs(d.cleanup(op, &ctx).unwrap()),
        )
    }

    fn op(toml: &str) -> Operation {
        toml::from_str(toml).unwrap()
    }

    #[test]
    fn a_unique_constraint_is_built_outside_then_attached_in_its_own_transaction() {
        let (plan, cleanup) = plan_of(&op(r#"
            kind = "add_constraint"
            table = "t"
            constraint = { type = "unique", name = "t_c_uniq", columns = ["c"] }
        "#));
        assert_eq!(
            plan,
            [
                (
                    Runs::Outside,
                    r#"CREATE UNIQUE INDEX CONCURRENTLY "t_c_uniq" ON "t" ("c")"#.into()
                ),
                (
                    Runs::OwnTransaction,
                    r#"ALTER TABLE "t" ADD CONSTRAINT "t_c_uniq" UNIQUE USING INDEX "t_c_uniq""#
                        .into()
                ),
            ]
        );
        // Only an index no constraint uses yet: never the finished constraint's.
        assert_eq!(cleanup.len(), 1, "{cleanup:?}");
        assert!(cleanup[0].1.starts_with("DO $strata$"), "{cleanup:?}");
        assert!(cleanup[0]
            .1
            .contains("NOT EXISTS (SELECT 1 FROM pg_constraint"));
        assert!(cleanup[0].1.contains(r#"DROP INDEX "t_c_uniq""#));
    }

    #[test]
    fn set_not_null_validates_its_check_alone_and_drops_it_in_the_group() {
        let (plan, cleanup) = plan_of(&op(r#"
            kind = "alter_column"
            table = "t"
            column = "c"
            null = false
        "#));
        let runs: Vec<Runs> = plan.iter().map(|(runs, _)| *runs).collect();
        assert_eq!(
            runs,
            [
                Runs::InGroup,
                Runs::OwnTransaction,
                Runs::OwnTransaction,
                Runs::InGroup,
                Runs::InGroup
            ]
        );
        assert!(plan[0].1.starts_with("SELECT misfits"), "{plan:?}");
        // Only a check that says exactly `c IS NOT NULL`: never another of that name.
        assert_eq!(cleanup.len(), 1, "{cleanup:?}");
        assert!(cleanup[0].1.contains("' IS NOT NULL)'"), "{cleanup:?}");
        assert!(cleanup[0]
            .1
            .contains(r#"DROP CONSTRAINT "t_c_not_null_check""#));
    }

    #[test]
    fn a_type_change_or_dropping_not_null_has_no_safe_plan() {
        for toml in [
            r#"kind = "alter_column"
               table = "t"
               column = "c"
               null = false
               type = "text""#,
            r#"kind = "alter_column"
               table = "t"
               column = "c"
               null = true"#,
        ] {
            let operation = op(toml);
            let Operation::AlterColumn(o) = &operation else {
                panic!()
            };
            let state = state();
            let d = PostgresDialect;
            let version = d.minimum_version();
            let capabilities = d.capabilities(version);
            let ctx = RenderContext {
                state: &state,
                version,
                capabilities: &capabilities,
                in_transaction: true,
                safe: true,
            };
            assert!(!sets_only_not_null(o, &ctx), "{toml}");
            assert!(plan(d, &operation, &ctx).is_none(), "{toml}");
        }
    }

    #[test]
    fn the_temporary_check_name_fits_63_bytes() {
        let long = "a".repeat(60);
        let plan = {
            let mut state = SchemaState::new();
            state
                .apply(&op(&format!(
                    r#"kind = "create_table"
                       name = "{long}"
                       primary_key = ["id"]
                       columns = [{{ name = "id", type = "bigint" }}, {{ name = "c", type = "int", null = true }}]"#
                )))
                .unwrap();
            let d = PostgresDialect;
            let version = d.minimum_version();
            let capabilities = d.capabilities(version);
            let ctx = RenderContext {
                state: &state,
                version,
                capabilities: &capabilities,
                in_transaction: true,
                safe: true,
            };
            let alter = op(&format!(
                "kind = \"alter_column\"\ntable = \"{long}\"\ncolumn = \"c\"\nnull = false"
            ));
            d.render(&alter, &ctx).unwrap()
        };
        let add = &plan[1].sql;
        let name = add
            .split("ADD CONSTRAINT \"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        assert!(name.len() <= 63, "{name}");
        assert!(plan[2].sql.contains(name) && plan[4].sql.contains(name));
    }
}

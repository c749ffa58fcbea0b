//! What each statement strata renders does to a live PostgreSQL table: the lock it
//! takes (named as in "Explicit Locking" of PostgreSQL's docs), what that lock
//! blocks, and the work done under it, for the server version at hand.
//!
//! Statements of a safe plan are recognised by their [`Step`], never by their text;
//! the live tests take each lock in a transaction and compare it with `pg_locks`,
//! and compare the table's `relfilenode` before and after to check every "rewrite".

use strata_engine::ast::{
    AddColumn, AlterColumn, Constraint, DefaultExpr, DefaultValue, Operation,
};
use strata_engine::dialect::{Blocks, LockNote, TableWork};
use strata_engine::{ColumnType, RenderContext, ServerVersion, Statement};

use super::safe::{self, Step};
use super::types::changes_catalog_only;
use super::PostgresDialect;

/// Blocks every query on the table, reads included.
pub(crate) const ACCESS_EXCLUSIVE: &str = "ACCESS EXCLUSIVE";
/// Blocks writes (and other DDL); reads go on.
pub(crate) const SHARE: &str = "SHARE";
/// Blocks writes and other DDL, and itself.
pub(crate) const SHARE_ROW_EXCLUSIVE: &str = "SHARE ROW EXCLUSIVE";
/// Blocks only DDL and `VACUUM`: reads and writes go on.
pub(crate) const SHARE_UPDATE_EXCLUSIVE: &str = "SHARE UPDATE EXCLUSIVE";
/// What a `SELECT` takes: blocks only `ACCESS EXCLUSIVE`.
pub(crate) const ACCESS_SHARE: &str = "ACCESS SHARE";

const CONCURRENT_BUILD: &str = "waits for transactions that started before it; a failure \
     leaves an INVALID index, dropped before the next attempt";

/// The lock note of `statement`, one of `op`'s statements rendered in `ctx`.
pub(crate) fn explain(
    d: PostgresDialect,
    op: &Operation,
    statement: &Statement,
    ctx: &RenderContext,
) -> LockNote {
    if statement.fails_with_rows.is_some() {
        return guard(op);
    }
    if ctx.safe {
        if let Some(Ok(plan)) = safe::plan(d, op, ctx) {
            if let Some((step, _)) = plan.iter().find(|(_, s)| s == statement) {
                return safe_step(*step, op, ctx.version);
            }
        }
    }
    plain(op, ctx)
}

fn guard(op: &Operation) -> LockNote {
    LockNote::new(op.table(), ACCESS_SHARE, Blocks::Nothing, TableWork::Scan)
        .with_note("strata's guard: counts the rows that would not fit")
}

fn safe_step(step: Step, op: &Operation, version: ServerVersion) -> LockNote {
    let table = op.table();
    match step {
        Step::Guard => guard(op),
        Step::BuildIndexConcurrently => LockNote::new(
            table,
            SHARE_UPDATE_EXCLUSIVE,
            Blocks::Nothing,
            TableWork::BuildIndex,
        )
        .with_note(CONCURRENT_BUILD),
        Step::DropIndexConcurrently => drop_index_concurrently(table),
        Step::AddNotValid => match op {
            Operation::AddForeignKey(o) => LockNote::new(
                table,
                SHARE_ROW_EXCLUSIVE,
                Blocks::Writes,
                TableWork::Catalog,
            )
            .with_note(format!(
                "brief: existing rows are not checked; also {SHARE_ROW_EXCLUSIVE} on `{}`",
                o.foreign_key.references
            )),
            _ => LockNote::new(
                table,
                ACCESS_EXCLUSIVE,
                Blocks::ReadsAndWrites,
                TableWork::Catalog,
            )
            .with_note("brief: existing rows are not checked"),
        },
        Step::Validate => {
            let note = LockNote::new(
                table,
                SHARE_UPDATE_EXCLUSIVE,
                Blocks::Nothing,
                TableWork::Scan,
            );
            match op {
                Operation::AddForeignKey(o) => note.with_note(format!(
                    "reads every row; ROW SHARE on `{}`",
                    o.foreign_key.references
                )),
                _ => note.with_note("reads every row; reads and writes go on"),
            }
        }
        Step::AttachUnique => LockNote::new(
            table,
            ACCESS_EXCLUSIVE,
            Blocks::ReadsAndWrites,
            TableWork::Catalog,
        )
        .with_note("brief: the index is already built"),
        Step::SetNotNull => {
            let note = LockNote::new(
                table,
                ACCESS_EXCLUSIVE,
                Blocks::ReadsAndWrites,
                TableWork::Scan,
            );
            if version.at_least(12, 0, 0) {
                LockNote {
                    work: TableWork::Catalog,
                    ..note
                }
                .with_note("brief: the validated IS NOT NULL check spares the scan")
            } else {
                note.with_note("before PostgreSQL 12 the validated check does not spare the scan")
            }
        }
        Step::DropTemporaryCheck => LockNote::new(
            table,
            ACCESS_EXCLUSIVE,
            Blocks::ReadsAndWrites,
            TableWork::Catalog,
        ),
    }
}

fn drop_index_concurrently(table: Option<&str>) -> LockNote {
    LockNote::new(
        table,
        SHARE_UPDATE_EXCLUSIVE,
        Blocks::Nothing,
        TableWork::Catalog,
    )
    .with_note("waits for transactions using the table to end")
}

/// An operation rendered as usual (no safe plan, or a new table).
fn plain(op: &Operation, ctx: &RenderContext) -> LockNote {
    let table = op.table();
    let exclusive = |work| LockNote::new(table, ACCESS_EXCLUSIVE, Blocks::ReadsAndWrites, work);
    let concurrent = !ctx.in_transaction && ctx.capabilities.concurrent_index;
    match op {
        Operation::CreateTable(t) => {
            let note = LockNote::new(table, ACCESS_EXCLUSIVE, Blocks::Nothing, TableWork::Catalog);
            if t.foreign_keys.is_empty() {
                note.with_note("a new table: nobody uses it yet")
            } else {
                note.with_note(format!(
                    "a new table; brief {SHARE_ROW_EXCLUSIVE} on the tables it references"
                ))
            }
        }
        Operation::AddColumn(o) => add_column(o, ctx.version),
        Operation::AlterColumn(o) => alter_column(o, ctx),
        Operation::DropColumn(_) => exclusive(TableWork::Catalog)
            .with_note("brief: the column is only marked dropped; no rewrite"),
        Operation::CreateIndex(_) if concurrent => LockNote::new(
            table,
            SHARE_UPDATE_EXCLUSIVE,
            Blocks::Nothing,
            TableWork::BuildIndex,
        )
        .with_note(CONCURRENT_BUILD),
        Operation::CreateIndex(_) => {
            LockNote::new(table, SHARE, Blocks::Writes, TableWork::BuildIndex)
        }
        Operation::DropIndex(_) if concurrent => drop_index_concurrently(table),
        Operation::RenameIndex(_) if ctx.version.at_least(12, 0, 0) => LockNote::new(
            table,
            SHARE_UPDATE_EXCLUSIVE,
            Blocks::Nothing,
            TableWork::Catalog,
        )
        .with_note("on the index only"),
        Operation::AddForeignKey(o) => {
            LockNote::new(table, SHARE_ROW_EXCLUSIVE, Blocks::Writes, TableWork::Scan).with_note(
                format!(
                    "reads every row under the lock; also {SHARE_ROW_EXCLUSIVE} on `{}`",
                    o.foreign_key.references
                ),
            )
        }
        Operation::AddConstraint(o) => match o.constraint {
            Constraint::Check { .. } => exclusive(TableWork::Scan),
            Constraint::Unique { .. } => exclusive(TableWork::BuildIndex),
        },
        Operation::RunSql(_) | Operation::RunCode(_) | Operation::Backfill(_) => {
            LockNote::conservative(op, &Statement::new(""))
        }
        // `COMMENT ON TABLE` locks the table against other DDL only.
        Operation::AlterTable(_) => LockNote::new(
            table,
            SHARE_UPDATE_EXCLUSIVE,
            Blocks::Nothing,
            TableWork::Catalog,
        ),
        Operation::DropTable(_)
        | Operation::RenameTable(_)
        | Operation::RenameColumn(_)
        | Operation::DropIndex(_)
        | Operation::RenameIndex(_)
        | Operation::DropForeignKey(_)
        | Operation::DropConstraint(_) => exclusive(TableWork::Catalog),
    }
}

/// A default is stored in the catalog from PostgreSQL 11 (the "fast default"), unless
/// it is volatile (`gen_random_uuid()`, an identity), which gives each row its own
/// value. `now()` is stable: one value for every existing row, no rewrite.
fn add_column(o: &AddColumn, version: ServerVersion) -> LockNote {
    let exclusive = |work| {
        LockNote::new(
            Some(&o.table),
            ACCESS_EXCLUSIVE,
            Blocks::ReadsAndWrites,
            work,
        )
    };
    let volatile = o.column.auto
        || matches!(
            o.column.default,
            Some(DefaultValue::Expr {
                expr: DefaultExpr::Uuid
            })
        );
    if volatile {
        return exclusive(TableWork::Rewrite)
            .with_note("a volatile default: every row is written with its own value");
    }
    if o.column.generated.as_ref().is_some_and(|g| g.stored) {
        return exclusive(TableWork::Rewrite)
            .with_note("a stored generated column: every row is computed and written");
    }
    if o.column.default.is_none() {
        return exclusive(TableWork::Catalog).with_note("brief");
    }
    if version.at_least(11, 0, 0) {
        exclusive(TableWork::Catalog).with_note("brief: the default is kept in the catalog")
    } else {
        exclusive(TableWork::Rewrite)
            .with_note("before PostgreSQL 11 a default is written into every row")
    }
}

fn alter_column(o: &AlterColumn, ctx: &RenderContext) -> LockNote {
    let exclusive = |work| {
        LockNote::new(
            Some(&o.table),
            ACCESS_EXCLUSIVE,
            Blocks::ReadsAndWrites,
            work,
        )
    };
    let Some(old) = ctx
        .state
        .table(&o.table)
        .ok()
        .and_then(|t| t.column(&o.column))
    else {
        return exclusive(TableWork::Rewrite);
    };
    let sets_not_null = old.null && o.null == Some(false);
    let comment_only = o.ty.is_none()
        && o.null.is_none()
        && o.default.is_none()
        && !o.drop_default
        && (o.comment.is_some() || o.drop_comment);
    if comment_only {
        // `COMMENT ON` locks the table against other DDL only.
        return LockNote::new(
            Some(&o.table),
            SHARE_UPDATE_EXCLUSIVE,
            Blocks::Nothing,
            TableWork::Catalog,
        );
    }
    // An enum is `text` with a check: a new value list (or text becoming an enum)
    // validates the new check; dropping back to text only drops it.
    let new = strata_engine::dialect::type_checks::retyped(old, o);
    let text_like = |ty| matches!(ty, ColumnType::Text | ColumnType::Enum);
    if text_like(old.ty) && text_like(new.ty) && new.collation == old.collation {
        if new.ty == ColumnType::Enum && new.values != old.values {
            return exclusive(TableWork::Scan).with_note(format!(
                "the check `{} IN (…)` is validated: reads every row under the lock",
                o.column
            ));
        }
        if old.ty == ColumnType::Enum && new.ty == ColumnType::Text && !sets_not_null {
            return exclusive(TableWork::Catalog).with_note("brief: drops the enum's check only");
        }
    }
    if o.ty.is_none() && new.collation != old.collation {
        return exclusive(TableWork::BuildIndex)
            .with_note("a new collation: the column's indexes are rebuilt under the lock");
    }
    match o.ty.filter(|ty| *ty != old.ty) {
        // The same storage: only the type check `col >= 0` comes or goes.
        Some(ty) if ty.signed() == old.ty.signed() && ty.is_unsigned() => {
            exclusive(TableWork::Scan).with_note(format!(
                "`{}` to `{ty}` adds the check `{} >= 0`, which reads every row under the lock",
                old.ty, o.column
            ))
        }
        Some(ty) if ty.signed() == old.ty.signed() && !sets_not_null => {
            exclusive(TableWork::Catalog).with_note(format!(
                "brief: `{}` to `{ty}` drops the check `{} >= 0` only",
                old.ty, o.column
            ))
        }
        Some(ty) if !changes_catalog_only(old.ty, ty) => {
            exclusive(TableWork::Rewrite).with_note(format!(
                "`{}` to `{ty}` converts every value: the table and its indexes are rewritten",
                old.ty
            ))
        }
        _ if sets_not_null => {
            exclusive(TableWork::Scan).with_note("SET NOT NULL reads every row under the lock")
        }
        Some(ty) => exclusive(TableWork::Catalog).with_note(format!(
            "brief: `{}` to `{ty}` keeps every stored value as it is",
            old.ty
        )),
        None => exclusive(TableWork::Catalog).with_note("brief"),
    }
}

#[cfg(test)]
mod tests;

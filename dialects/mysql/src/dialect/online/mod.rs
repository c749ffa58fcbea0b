//! Online DDL: which `ALGORITHM` and `LOCK` an `ALTER TABLE` asks for in a safe plan,
//! and what a statement does to a live table (`Dialect::explain`).
//!
//! A safe plan names the least blocking algorithm the server documents for the
//! change, so the server *refuses* (error 1845/1846) rather than silently falling back
//! to a blocking table copy; a change that needs the copy says so, `ALGORITHM=COPY,
//! LOCK=SHARED`. The knowledge is per flavour, one table each (`mysql`, `mariadb`);
//! this module turns an operation into the changes those tables know.

mod mariadb;
mod mysql;
pub(crate) mod unchecked_fk;

use strata_engine::ast::{ColumnDef, Constraint, DefaultExpr, DefaultValue, Operation};
use strata_engine::dialect::{Blocks, LockNote, TableWork};
use strata_engine::{ColumnType, RenderContext, SchemaState, ServerVersion, Statement};

use super::{fk_index, types};
use crate::flavour::Flavour;

/// The algorithm and lock of an `ALTER TABLE`, least blocking first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Online {
    /// Metadata only; MySQL refuses any `LOCK` clause with it.
    Instant,
    /// In place, concurrent reads and writes permitted.
    InplaceNoLock,
    /// A copy of the table, reads permitted, writes wait.
    Copy,
}

impl Online {
    /// The clause appended to the `ALTER TABLE`.
    pub(crate) fn clause(self) -> &'static str {
        match self {
            Online::Instant => "ALGORITHM=INSTANT",
            Online::InplaceNoLock => "ALGORITHM=INPLACE, LOCK=NONE",
            Online::Copy => "ALGORITHM=COPY, LOCK=SHARED",
        }
    }

    fn blocks(self) -> Blocks {
        match self {
            Online::Instant | Online::InplaceNoLock => Blocks::Nothing,
            Online::Copy => Blocks::Writes,
        }
    }
}

/// What a flavour's table answers for one change: the algorithm, and the work done
/// on the rows under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Support {
    pub online: Online,
    pub work: TableWork,
}

impl Support {
    const fn new(online: Online, work: TableWork) -> Self {
        Self { online, work }
    }

    /// The support of a statement making both changes: the more blocking of each.
    fn and(self, other: Support) -> Support {
        Support::new(self.online.max(other.online), self.work.max(other.work))
    }
}

/// How a new default is written, which decides whether it can be added instantly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DefaultKind {
    None,
    /// A plain literal (`DEFAULT 5`).
    Constant,
    /// A literal the flavour writes as an expression (`DEFAULT ('x')` on a TEXT
    /// column).
    Expression,
    /// `CURRENT_TIMESTAMP` and its kin.
    Now,
    /// `(UTC_TIMESTAMP(6))`, a `timestamptz` column's `now`: an expression, not one of
    /// `CURRENT_TIMESTAMP`'s spellings, which servers treat apart.
    UtcNow,
    /// `(uuid())`, different on every row.
    Uuid,
}

impl DefaultKind {
    fn of(column: &ColumnDef) -> Self {
        match &column.default {
            None => DefaultKind::None,
            Some(DefaultValue::Expr {
                expr: DefaultExpr::Now,
            }) if column.ty == ColumnType::TimestampTz => DefaultKind::UtcNow,
            Some(DefaultValue::Expr {
                expr: DefaultExpr::Now,
            }) => DefaultKind::Now,
            Some(DefaultValue::Expr {
                expr: DefaultExpr::Uuid,
            }) => DefaultKind::Uuid,
            Some(_) if types::literal_default_needs_parentheses(column.ty) => {
                DefaultKind::Expression
            }
            Some(_) => DefaultKind::Constant,
        }
    }
}

/// A type change, as far as online DDL tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeChange {
    /// A longer `varchar` whose length prefix keeps its size: 1 byte up to 255 bytes,
    /// 2 above. The bytes per character depend on the column's character set, which
    /// the plan does not know, so only lengths that agree under every set up to 4
    /// bytes a character count: both at most 63 characters, or both at least 256.
    VarcharSamePrefix,
    Other,
}

impl TypeChange {
    fn of(from: ColumnType, to: ColumnType) -> Self {
        match (from, to) {
            (ColumnType::Varchar(a), ColumnType::Varchar(b)) if a <= b && (b <= 63 || a >= 256) => {
                TypeChange::VarcharSamePrefix
            }
            _ => TypeChange::Other,
        }
    }
}

/// One change an `ALTER TABLE` makes, as the vendors' online DDL tables list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    AddColumn {
        auto: bool,
        default: DefaultKind,
    },
    /// `ADD COLUMN … AS (…) STORED`: every row computed and written.
    AddStoredGenerated,
    /// `COMMENT = '…'`: a table option, metadata only.
    TableComment,
    DropColumn,
    RenameColumn,
    RenameTable,
    AddIndex,
    DropIndex,
    RenameIndex,
    AddForeignKey,
    DropForeignKey,
    AddCheck,
    DropCheck,
    ColumnType(TypeChange),
    /// `NULL` to `NOT NULL` or back.
    ColumnNull,
    /// A rebuild of a table that holds a stored generated column: InnoDB makes it
    /// only by copying (MariaDB 10.11 answers `ALGORITHM=INPLACE` for a NOT NULL
    /// change there with error 1845, "Try ALGORITHM=COPY").
    RebuildWithStoredGenerated,
    ColumnDefault(DefaultKind),
}

/// The changes the `ALTER TABLE` of `op` makes, against the state before it; empty
/// for an operation rendered without `ALTER TABLE`. Includes the foreign keys'
/// supporting indexes the same statement adds or drops (`fk_index`).
pub(crate) fn changes(
    flavour: Flavour,
    version: ServerVersion,
    op: &Operation,
    state: &SchemaState,
) -> Vec<Change> {
    let mut out = match op {
        Operation::AddColumn(o) if o.column.generated.as_ref().is_some_and(|g| g.stored) => {
            vec![Change::AddStoredGenerated]
        }
        Operation::AddColumn(o) => vec![Change::AddColumn {
            auto: o.column.auto,
            default: DefaultKind::of(&o.column),
        }],
        Operation::DropColumn(_) => vec![Change::DropColumn],
        Operation::AlterTable(_) => vec![Change::TableComment],
        Operation::RenameColumn(_) => vec![Change::RenameColumn],
        Operation::RenameTable(_) => vec![Change::RenameTable],
        Operation::AlterColumn(o) => {
            let mut out = column_changes(flavour, version, op, state);
            let stored_generated = state.table(&o.table).is_ok_and(|t| {
                t.columns
                    .iter()
                    .any(|c| c.generated.as_ref().is_some_and(|g| g.stored))
            });
            if stored_generated && out.iter().any(|c| matches!(c, Change::ColumnNull)) {
                out.push(Change::RebuildWithStoredGenerated);
            }
            return out;
        }
        Operation::CreateIndex(_) => vec![Change::AddIndex],
        Operation::DropIndex(_) => vec![Change::DropIndex],
        Operation::RenameIndex(_) => vec![Change::RenameIndex],
        Operation::AddForeignKey(_) => vec![Change::AddForeignKey],
        Operation::DropForeignKey(_) => vec![Change::DropForeignKey],
        Operation::AddConstraint(o) => match o.constraint {
            Constraint::Unique { .. } => vec![Change::AddIndex],
            Constraint::Check { .. } => vec![Change::AddCheck],
        },
        Operation::DropConstraint(o) => {
            let check = state
                .table(&o.table)
                .ok()
                .and_then(|t| t.constraint(&o.name))
                .is_some_and(|c| matches!(c, Constraint::Check { .. }));
            vec![if check {
                Change::DropCheck
            } else {
                Change::DropIndex
            }]
        }
        Operation::CreateTable(_)
        | Operation::DropTable(_)
        | Operation::RunSql(_)
        | Operation::RunCode(_)
        | Operation::Backfill(_) => return Vec::new(),
    };
    if let Some(table) = op.table() {
        out.extend(supporting_index_changes(table, op, state));
    }
    out
}

/// The supporting indexes the statement of `op` adds or drops besides its own change.
fn supporting_index_changes(table: &str, op: &Operation, state: &SchemaState) -> Vec<Change> {
    let mut after = state.clone();
    let (Ok(before), Ok(())) = (state.table(table), after.apply(op)) else {
        return Vec::new();
    };
    let Ok(after) = after.table(table) else {
        return Vec::new();
    };
    let upkeep = fk_index::upkeep(before, after);
    upkeep
        .create
        .iter()
        .map(|_| Change::AddIndex)
        .chain(upkeep.drop.iter().map(|_| Change::DropIndex))
        .collect()
}

/// The changes of an `alter_column`: its `MODIFY COLUMN` compares the whole
/// definition before and after, as the server does.
fn column_changes(
    flavour: Flavour,
    version: ServerVersion,
    op: &Operation,
    state: &SchemaState,
) -> Vec<Change> {
    let Operation::AlterColumn(o) = op else {
        return Vec::new();
    };
    let Some(old) = state.table(&o.table).ok().and_then(|t| t.column(&o.column)) else {
        return Vec::new();
    };
    let mut new = strata_engine::dialect::type_checks::retyped(old, o);
    new.null = o.null.unwrap_or(old.null);
    if let Some(default) = &o.default {
        new.default = Some(default.clone());
    }
    if o.drop_default {
        new.default = None;
    }
    // An enum's type is its value list; a collation changes how values compare: both
    // are a type change to online DDL (classed `Other`, i.e. not assumed in place).
    let sql = |c: &ColumnDef| {
        let ty = if c.ty == ColumnType::Enum {
            Some(format!("enum{:?}", c.values))
        } else {
            types::sql_type(flavour, version, c.ty).ok()
        };
        ty.map(|t| format!("{t} {:?}", c.collation))
    };
    let mut out = Vec::new();
    if sql(old) != sql(&new) {
        // The same neutral type spelled differently: a new value list or collation.
        let change = if old.ty == new.ty {
            TypeChange::Other
        } else {
            TypeChange::of(old.ty, new.ty)
        };
        out.push(Change::ColumnType(change));
    }
    if old.null != new.null {
        out.push(Change::ColumnNull);
    }
    if old.default != new.default {
        out.push(Change::ColumnDefault(DefaultKind::of(&new)));
    }
    out
}

/// What `flavour` `version` does for all of `changes` in one statement; `None` for
/// no change at all.
pub(crate) fn support(
    flavour: Flavour,
    version: ServerVersion,
    changes: &[Change],
) -> Option<Support> {
    changes
        .iter()
        .map(|change| match flavour {
            Flavour::Mysql => mysql::support(version, *change),
            Flavour::Mariadb => mariadb::support(version, *change),
        })
        .reduce(Support::and)
}

/// Whether `statement` is the `ALTER TABLE` an `ALGORITHM` clause belongs on (not a
/// guard, not the user's raw SQL).
fn is_alter(op: &Operation, statement: &Statement) -> bool {
    !matches!(
        op,
        Operation::RunSql(_) | Operation::RunCode(_) | Operation::Backfill(_)
    ) && statement.fails_with_rows.is_none()
        && statement
            .sql
            .strip_prefix(unchecked_fk::UNCHECKED)
            .unwrap_or(&statement.sql)
            .starts_with("ALTER TABLE ")
}

/// `statements`, the rendering of `op`, with the `ALGORITHM` (and `LOCK`) clause of
/// the safe plan on each `ALTER TABLE`.
pub(crate) fn with_algorithm(
    flavour: Flavour,
    ctx: &RenderContext,
    op: &Operation,
    mut statements: Vec<Statement>,
) -> Vec<Statement> {
    let changes = changes(flavour, ctx.version, op, ctx.state);
    let Some(support) = support(flavour, ctx.version, &changes) else {
        return statements;
    };
    for statement in statements.iter_mut().filter(|s| is_alter(op, s)) {
        statement.sql = format!("{}, {}", statement.sql, support.online.clause());
    }
    statements
}

/// What `statement` (of `op`, rendered in `ctx`) does to the live table. A safe plan
/// asks for the algorithm; a plain statement gets the server's default, which is the
/// same choice: the least blocking algorithm and lock the change allows.
pub(crate) fn explain(
    flavour: Flavour,
    op: &Operation,
    statement: &Statement,
    ctx: &RenderContext,
) -> LockNote {
    let table = op.table();
    if let Operation::DropTable(_) = op {
        return LockNote::new(
            table,
            "metadata lock (exclusive)",
            Blocks::ReadsAndWrites,
            TableWork::Catalog,
        )
        .with_note("waits for every open transaction that used the table");
    }
    if let Operation::CreateTable(_) = op {
        return LockNote::new(
            table,
            "none (a new table)",
            Blocks::Nothing,
            TableWork::Catalog,
        );
    }
    if !is_alter(op, statement) {
        return LockNote::conservative(op, statement);
    }
    if statement.sql.starts_with(unchecked_fk::UNCHECKED) {
        return LockNote::new(
            table,
            format!(
                "metadata lock (exclusive briefly at start and end), {}",
                Online::InplaceNoLock.clause()
            ),
            Blocks::Nothing,
            TableWork::Catalog,
        )
        .with_note(
            "added without checking the rows already there (foreign_key_checks=0 for \
             this statement only); the check after it reads them, blocking nothing",
        );
    }
    let changes = changes(flavour, ctx.version, op, ctx.state);
    let Some(support) = support(flavour, ctx.version, &changes) else {
        return LockNote::new(
            table,
            "metadata lock (exclusive, brief)",
            Blocks::Nothing,
            TableWork::Catalog,
        );
    };
    let chosen = if ctx.safe {
        support.online.clause().to_string()
    } else {
        format!("{} (the server's default choice)", support.online.clause())
    };
    let (lock, note) = match support.online {
        Online::Copy => (
            "metadata lock (shared no-write, exclusive at the end)",
            format!(
                "copies the table on {flavour} {}: writes wait until the copy is done",
                ctx.version
            ),
        ),
        _ => (
            "metadata lock (exclusive briefly at start and end)",
            "the brief exclusive metadata lock waits for open transactions on the table, \
             and queries queue behind it"
                .to_string(),
        ),
    };
    LockNote::new(
        table,
        format!("{lock}, {chosen}"),
        support.online.blocks(),
        support.work,
    )
    .with_note(note)
}

#[cfg(test)]
mod tests;

//! The checks behind the rules: per operation (what it does to its table), then over
//! the whole migration (transactions, modes, indexes the migration leaves).

use std::collections::BTreeSet;

use sqlparser::dialect::Dialect as Lexer;

use super::{Raw, Target};
use crate::ast::{AlterColumn, Constraint, Operation, TableDef};
use crate::data_loss::DataLoss;
use crate::dialect::{Blocks, Capabilities, LockNote, Runs, Statement, TableWork};
use crate::script::{is_data_statement, Mode, NewTables, Script};
use crate::state::SchemaState;

/// One operation as the checks see it.
struct Op<'a> {
    index: usize,
    operation: &'a Operation,
    /// The schema before it, when a check of the migration reads it (see `State`).
    before: Option<&'a SchemaState>,
    /// Its table existed before the migration (someone may be using it).
    existing: bool,
    statements: &'a [Statement],
    notes: &'a [LockNote],
    target: &'a Target<'a>,
}

/// One statement of the migration, in run order, with what it does.
struct Timed {
    op: usize,
    description: String,
    existing: bool,
    runs: Runs,
    note: LockNote,
}

pub(super) fn run(
    operations: &[Operation],
    before: &SchemaState,
    script: &Script,
    mode: Mode,
    target: &Target,
) -> Vec<Raw> {
    let dialect = target.dialect;
    let capabilities = dialect.capabilities(target.version);
    let lexer = dialect.sql_lexer();
    let mut state = State::for_checks_of(operations, before);
    let mut created = NewTables::default();
    let mut out = Vec::new();
    let mut timeline = Vec::new();
    let mut foreign_keys = Vec::new();
    for (i, (op, rendered)) in operations.iter().zip(&script.operations).enumerate() {
        let existing = created.is_existing(op);
        let notes = &rendered.locks;
        let cx = Op {
            index: i + 1,
            operation: op,
            before: state.current(),
            existing,
            statements: &rendered.statements,
            notes,
            target,
        };
        out.extend(operation(&cx, &capabilities, &*lexer));
        for (statement, note) in rendered.statements.iter().zip(notes.iter().cloned()) {
            timeline.push(Timed {
                op: i + 1,
                description: rendered.description.clone(),
                existing: existing || matches!(op, Operation::RunSql(_)),
                runs: statement.runs,
                note,
            });
        }
        foreign_keys.extend(added_foreign_keys(op).into_iter().map(|fk| (i + 1, fk)));
        created.follow(op);
        // The script rendered, so every operation applies.
        if state.apply(op).is_err() {
            break;
        }
    }
    out.extend(held_locks(script, &timeline));
    out.extend(unsafe_plan(operations, mode));
    out.extend(mixed(operations, script, mode, &*lexer));
    out.extend(backfill_splits(operations, mode));
    if let Some(after) = state.current() {
        out.extend(unindexed_foreign_keys(&foreign_keys, after));
    }
    out
}

/// The schema as the migration's operations change it, followed only when a check
/// reads it — a type change (what it narrows or rewrites) or an added foreign key
/// (whether the final schema indexes it): a copy of the whole schema per migration
/// linted is most of `migrate`'s lint before a long plan.
enum State {
    Followed(SchemaState),
    Unread,
}

impl State {
    fn for_checks_of(operations: &[Operation], before: &SchemaState) -> Self {
        let read = operations.iter().any(|op| {
            matches!(op, Operation::AlterColumn(_)) || !added_foreign_keys(op).is_empty()
        });
        if read {
            Self::Followed(before.clone())
        } else {
            Self::Unread
        }
    }

    fn current(&self) -> Option<&SchemaState> {
        match self {
            Self::Followed(state) => Some(state),
            Self::Unread => None,
        }
    }

    fn apply(&mut self, op: &Operation) -> Result<(), crate::state::StateError> {
        match self {
            Self::Followed(state) => state.apply(op),
            Self::Unread => Ok(()),
        }
    }
}

fn raw(cx: &Op, rule: &'static str, message: String) -> Raw {
    Raw {
        rule,
        operation: cx.index,
        table: cx.operation.table().map(str::to_string),
        message,
    }
}

/// Partial indexes the operation builds without their `where`, by their own choice.
fn partial_built_plain(cx: &Op, capabilities: &Capabilities) -> Vec<Raw> {
    if capabilities.partial_indexes {
        return Vec::new();
    }
    let indexes: Vec<&crate::ast::IndexDef> = match cx.operation {
        Operation::CreateIndex(o) => vec![&o.index],
        Operation::CreateTable(t) => t.indexes.iter().collect(),
        _ => Vec::new(),
    };
    indexes
        .into_iter()
        .filter(|i| {
            i.predicate.is_some() && i.on_unsupported_where == crate::ast::UnsupportedWhere::Plain
        })
        .map(|i| {
            raw(
                cx,
                "partial-index-built-plain",
                format!(
                    "index `{}` is built without its `where` on {}: it indexes every row{}",
                    i.name,
                    cx.target.dialect.name(),
                    if i.unique {
                        ", and its uniqueness holds for every row"
                    } else {
                        ""
                    }
                ),
            )
        })
        .collect()
}

/// The findings of one operation.
fn operation(cx: &Op, capabilities: &Capabilities, lexer: &dyn Lexer) -> Vec<Raw> {
    let mut out = Vec::new();
    out.extend(identifiers(cx, capabilities));
    if let Operation::RunSql(_) = cx.operation {
        let keywords: Vec<String> = cx
            .statements
            .iter()
            .filter_map(|s| crate::script::first_keyword(lexer, &s.sql))
            .collect();
        out.push(raw(
            cx,
            "run-sql-opaque",
            format!(
                "{} raw statement(s) ({}): their locks and cost are unknown to strata",
                cx.statements.len(),
                keywords.join(", ")
            ),
        ));
    }
    out.extend(partial_built_plain(cx, capabilities));
    if !cx.existing {
        return out;
    }
    let table = cx.operation.table().unwrap_or_default();
    out.extend(semantic(cx, table));
    // A rebuild is one finding, whatever the operation that needs it.
    if cx.statements.iter().any(creates_a_table) {
        let rows = cx
            .target
            .rows
            .and_then(|rows| rows.get(table))
            .map(|n| format!(" ({n} rows)"))
            .unwrap_or_default();
        out.push(raw(
            cx,
            "table-rebuild",
            format!(
                "rebuilds table `{table}`{rows}: a new copy is created, every row copied, the old table dropped"
            ),
        ));
        return out;
    }
    out.extend(locking(cx, table));
    out
}

/// A `CREATE TABLE` among an operation's statements that does not create a table
/// itself: the copy of a rebuild.
fn creates_a_table(statement: &Statement) -> bool {
    let words: Vec<String> = statement
        .sql
        .split_whitespace()
        .take(2)
        .map(str::to_ascii_uppercase)
        .collect();
    words == ["CREATE", "TABLE"]
}

/// Renames, drops, narrowing, a NOT NULL column without a value.
fn semantic(cx: &Op, table: &str) -> Vec<Raw> {
    let mut out = Vec::new();
    match cx.operation {
        Operation::AddColumn(o)
            if !o.column.null && o.column.default.is_none() && !o.column.auto =>
        {
            out.push(raw(
                cx,
                "add-not-null-column-without-default",
                format!(
                    "column `{table}.{}` is NOT NULL without a default: rows already in `{table}` have no value for it",
                    o.column.name
                ),
            ));
        }
        Operation::RenameColumn(o) => out.push(raw(
            cx,
            "rename-column",
            format!(
                "renames `{table}.{}` to `{}`: code still using `{}` fails until it is deployed",
                o.from, o.to, o.from
            ),
        )),
        Operation::RenameTable(o) => out.push(raw(
            cx,
            "rename-table",
            format!(
                "renames table `{}` to `{}`: code still using `{}` fails until it is deployed",
                o.from, o.to, o.from
            ),
        )),
        Operation::DropColumn(o) => out.push(raw(
            cx,
            "drop-column",
            format!("drops column `{table}.{}` and its values", o.column),
        )),
        Operation::DropTable(o) => out.push(raw(
            cx,
            "drop-table",
            format!("drops table `{}` and its rows", o.name),
        )),
        _ => {}
    }
    let loss = cx
        .before
        .and_then(|before| cx.operation.destroys_data(before));
    if let Some(loss @ DataLoss::Narrowing { .. }) = loss {
        out.push(raw(cx, "narrowing-type", loss.to_string()));
    }
    out
}

/// What the dialect says the statements lock, and the work they do under it.
fn locking(cx: &Op, table: &str) -> Vec<Raw> {
    lock_findings(cx, table)
        .into_iter()
        .map(|(rule, what, note)| raw(cx, rule, format!("{what}: {}", describe(note))))
        .collect()
}

/// The rule, what the operation does, and the statement's lock that makes it a finding.
type LockFinding<'n> = (&'static str, String, &'n LockNote);

fn lock_findings<'n>(cx: &Op<'n>, table: &str) -> Vec<LockFinding<'n>> {
    let notes = cx.notes;
    let found = match cx.operation {
        Operation::AddColumn(o) => worst(notes, rewrites).map(|n| {
            let what = format!("adding `{table}.{}` rewrites the table", o.column.name);
            ("add-column-rewrite", what, n)
        }),
        Operation::AlterColumn(o) => return column_change(cx, o, table),
        Operation::CreateIndex(o) => worst(notes, LockNote::blocks_for_long).map(|n| {
            let (rule, kind) = if o.index.unique {
                ("add-unique-blocking", "unique index")
            } else {
                ("create-index-blocking", "index")
            };
            (
                rule,
                format!("building {kind} `{}` on `{table}`", o.index.name),
                n,
            )
        }),
        Operation::DropIndex(o) => worst(notes, |n| n.blocks != Blocks::Nothing).map(|n| {
            let what = format!("dropping index `{}` of `{table}`", o.name);
            ("drop-index-blocking", what, n)
        }),
        Operation::AddForeignKey(o) => worst(notes, LockNote::blocks_for_long).map(|n| {
            let what = format!(
                "foreign key `{}` of `{table}` is checked against `{}`",
                o.foreign_key.name, o.foreign_key.references
            );
            ("add-foreign-key-validating", what, n)
        }),
        Operation::AddConstraint(o) => match &o.constraint {
            Constraint::Check { name, .. } => worst(notes, LockNote::blocks_for_long).map(|n| {
                let what = format!("check `{name}` on `{table}` is validated");
                ("add-check-validating", what, n)
            }),
            Constraint::Unique { name, .. } => worst(notes, LockNote::blocks_for_long).map(|n| {
                let what = format!("unique constraint `{name}` on `{table}` builds its index");
                ("add-unique-blocking", what, n)
            }),
        },
        _ => None,
    };
    found.into_iter().collect()
}

/// A type change that rewrites, a column that becomes NOT NULL by a blocking scan.
fn column_change<'n>(cx: &Op<'n>, o: &AlterColumn, table: &str) -> Vec<LockFinding<'n>> {
    let old = cx
        .before
        .and_then(|before| before.table(table).ok())
        .and_then(|t| t.column(&o.column));
    let mut out = Vec::new();
    let retyped = o.ty.is_some_and(|ty| old.is_some_and(|c| c.ty != ty));
    if let Some(n) = worst(cx.notes, rewrites).filter(|_| retyped) {
        let what = format!(
            "changing the type of `{table}.{}` rewrites the table",
            o.column
        );
        out.push(("alter-column-type-rewrite", what, n));
    }
    let becomes_not_null = o.null == Some(false) && old.is_some_and(|c| c.null);
    if let Some(n) = worst(cx.notes, LockNote::blocks_for_long).filter(|_| becomes_not_null) {
        let what = format!("SET NOT NULL on `{table}.{}` checks every row", o.column);
        out.push(("set-not-null", what, n));
    }
    out
}

/// The most blocking of the notes `pick` accepts.
fn worst(notes: &[LockNote], pick: impl Fn(&LockNote) -> bool) -> Option<&LockNote> {
    notes
        .iter()
        .filter(|n| pick(n))
        .max_by_key(|n| (n.blocks, n.work))
}

fn rewrites(n: &LockNote) -> bool {
    n.work == TableWork::Rewrite && n.blocks != Blocks::Nothing
}

/// `exclusive lock, blocks reads and writes, rewrites the table (note)`.
fn describe(n: &LockNote) -> String {
    // `ACCESS EXCLUSIVE lock`, but `database write lock` as the dialect names it.
    let lock = if n.lock.to_ascii_lowercase().contains("lock") {
        n.lock.clone()
    } else {
        format!("{} lock", n.lock)
    };
    let mut text = format!("{lock}, {}, {}", n.blocks, n.work);
    if let Some(note) = &n.note {
        text.push_str(" (");
        text.push_str(note);
        text.push(')');
    }
    text
}

/// Names the operation gives that are close to the server's limit.
fn identifiers(cx: &Op, capabilities: &Capabilities) -> Vec<Raw> {
    let limit = capabilities.max_identifier_len;
    // Within 10% or 8 bytes of the limit, whichever is more room.
    let margin = (limit / 10).max(8);
    let mut names: Vec<(&str, &str)> = Vec::new();
    match cx.operation {
        Operation::CreateTable(t) => names.extend(table_names(t)),
        Operation::RenameTable(o) => names.push(("table", &o.to)),
        Operation::AddColumn(o) => names.push(("column", &o.column.name)),
        Operation::RenameColumn(o) => names.push(("column", &o.to)),
        Operation::CreateIndex(o) => names.push(("index", &o.index.name)),
        Operation::RenameIndex(o) => names.push(("index", &o.to)),
        Operation::AddForeignKey(o) => names.push(("foreign key", &o.foreign_key.name)),
        Operation::AddConstraint(o) => names.push(("constraint", o.constraint.name())),
        _ => {}
    }
    names
        .into_iter()
        .filter(|(_, name)| name.len() + margin >= limit)
        .map(|(kind, name)| {
            raw(
                cx,
                "identifier-near-limit",
                format!(
                    "{kind} name `{name}` is {} bytes; {} allows {limit}",
                    name.len(),
                    cx.target.dialect.name()
                ),
            )
        })
        .collect()
}

fn table_names(t: &TableDef) -> Vec<(&'static str, &str)> {
    let mut names = vec![("table", t.name.as_str())];
    names.extend(t.columns.iter().map(|c| ("column", c.name.as_str())));
    names.extend(t.indexes.iter().map(|i| ("index", i.name.as_str())));
    names.extend(t.uniques.iter().map(|u| ("constraint", u.name.as_str())));
    names.extend(t.checks.iter().map(|c| ("constraint", c.name.as_str())));
    names.extend(
        t.foreign_keys
            .iter()
            .map(|f| ("foreign key", f.name.as_str())),
    );
    names
}

/// A blocking lock taken in a transaction stays until its commit: a later slow
/// statement of the same transaction (group) keeps the table blocked.
fn held_locks(script: &Script, timeline: &[Timed]) -> Vec<Raw> {
    if script.transaction.is_none() && !script.groups {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut reported = BTreeSet::new();
    let mut held: Option<(usize, String, &LockNote)> = None;
    for step in timeline {
        // A statement run alone ends the group before it; the next group starts after.
        if script.groups && step.runs != Runs::InGroup {
            held = None;
            continue;
        }
        if let Some((op, table, lock)) = &held {
            // Slow work on the locked table itself is that statement's own finding.
            let slow = step.op != *op
                && step.existing
                && step.note.work != TableWork::Catalog
                && step.note.table.as_ref() != Some(table);
            if slow && reported.insert(*op) {
                let on = step
                    .note
                    .table
                    .as_ref()
                    .map(|t| format!(" on `{t}`"))
                    .unwrap_or_default();
                out.push(Raw {
                    rule: "lock-held-across-migration",
                    operation: *op,
                    // Sized by the slow statement's table; by the locked one when it
                    // has none (raw SQL), whose rows the readers wait behind.
                    table: step.note.table.clone().or_else(|| Some(table.clone())),
                    message: format!(
                        "the {} lock on `{table}` ({}) is held until commit while operation {} ({}) {}{on}",
                        lock.lock, lock.blocks, step.op, step.description, step.note.work
                    ),
                });
            }
        }
        if held.is_none() && step.existing && step.note.blocks != Blocks::Nothing {
            if let Some(table) = &step.note.table {
                held = Some((step.op, table.clone(), &step.note));
            }
        }
    }
    out
}

/// `safe = false` (the migration's or the project's) with existing tables touched.
fn unsafe_plan(operations: &[Operation], mode: Mode) -> Option<Raw> {
    if mode.safe {
        return None;
    }
    let mut created = NewTables::default();
    let mut tables = BTreeSet::new();
    for op in operations {
        if created.is_existing(op) {
            tables.extend(op.table().map(str::to_string));
        }
        created.follow(op);
    }
    (!tables.is_empty()).then(|| Raw {
        rule: "unsafe-plan",
        operation: 0,
        table: None,
        message: format!(
            "plain (blocking) plans for existing tables: {}",
            tables
                .into_iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

/// `atomic = false` with `run_sql` data statements next to schema changes.
fn mixed(operations: &[Operation], script: &Script, mode: Mode, lexer: &dyn Lexer) -> Option<Raw> {
    if mode.atomic {
        return None;
    }
    let (mut data, mut ddl) = (0, 0);
    for (op, rendered) in operations.iter().zip(&script.operations) {
        for statement in &rendered.statements {
            let is_data =
                matches!(op, Operation::RunSql(_)) && is_data_statement(lexer, &statement.sql);
            if is_data {
                data += 1;
            } else {
                ddl += 1;
            }
        }
    }
    (data > 0 && ddl > 0).then(|| Raw {
        rule: "non-atomic-mixed",
        operation: 0,
        table: None,
        message: format!(
            "{data} data statement(s) and {ddl} schema statement(s), each committed on its own"
        ),
    })
}

/// `atomic = true` with a backfill beside other operations: the batches commit, so
/// the migration cannot be the one transaction its file asks for.
fn backfill_splits(operations: &[Operation], mode: Mode) -> Option<Raw> {
    if !mode.atomic || operations.len() < 2 {
        return None;
    }
    let index = operations
        .iter()
        .position(|op| matches!(op, Operation::Backfill(_)))?;
    Some(Raw {
        rule: "backfill-splits-migration",
        operation: index + 1,
        table: operations[index].table().map(str::to_string),
        message: format!(
            "operation {} is a backfill: its batches commit one by one, and the migration's {} other operation(s) run in transactions of their own",
            index + 1,
            operations.len() - 1
        ),
    })
}

/// The foreign keys an operation adds, with their table.
fn added_foreign_keys(op: &Operation) -> Vec<(String, crate::ast::ForeignKeyDef)> {
    match op {
        Operation::AddForeignKey(o) => vec![(o.table.clone(), o.foreign_key.clone())],
        Operation::CreateTable(t) => t
            .foreign_keys
            .iter()
            .map(|fk| (t.name.clone(), fk.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

/// Foreign keys the migration adds that no index of the final schema starts with.
fn unindexed_foreign_keys(
    added: &[(usize, (String, crate::ast::ForeignKeyDef))],
    after: &SchemaState,
) -> Vec<Raw> {
    added
        .iter()
        .filter_map(|(index, (table, fk))| {
            // Renamed or dropped later in the migration: nothing to say.
            let t = after.table(table).ok()?;
            t.foreign_key(&fk.name)?;
            let leads = |columns: &[String]| columns.starts_with(&fk.columns);
            let indexed = leads(&t.primary_key)
                || t.uniques.iter().any(|u| leads(&u.columns))
                || t.indexes
                    .iter()
                    .any(|i| i.predicate.is_none() && leads(&i.columns));
            (!indexed).then(|| Raw {
                rule: "foreign-key-without-index",
                operation: *index,
                table: Some(table.clone()),
                message: format!(
                    "foreign key `{}` on `{table}` ({}) has no index starting with its columns",
                    fk.name,
                    fk.columns.join(", ")
                ),
            })
        })
        .collect()
}

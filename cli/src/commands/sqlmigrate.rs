//! `strata sqlmigrate APP NAME`: the SQL a migration runs, exactly as `migrate` runs it.
//! With `--dialect` it renders offline; without, for the configured database's
//! dialect and server version. `--explain` adds, after each statement, the lock it
//! takes and the work it does, and each operation's lint findings; `--format json`
//! gives all of it as data.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write;

use serde::Serialize;
use strata_engine::dialect::LockNote;
use strata_engine::graph::{Graph, GraphError};
use strata_engine::lint::{self, Finding, Target};
use strata_engine::script::{self, Direction, Script, Unit};

use crate::args::{Format, SqlmigrateArgs};
use crate::context::Context;
use crate::database;
use crate::error::CliError;

pub(crate) async fn run(
    ctx: &Context,
    args: &SqlmigrateArgs,
    format: Format,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let graph = showing(&ctx.graph, &args.app, &args.name)?;
    let key = graph.resolve(&args.app, &args.name)?;
    let migration = graph.get(&key).expect("resolved keys exist");
    let (dialect, version) =
        database::render_target(ctx, args.dialect.as_deref(), args.server_version.as_deref())
            .await?;
    let before = graph.state_before(&key)?;
    let direction = if args.backwards {
        Direction::Backward
    } else {
        Direction::Forward
    };
    let mode = database::mode(ctx, migration);
    // The locks are shown (and linted) only with --explain or as JSON.
    let shows_locks = args.explain || format == Format::Json;
    let (d, ops) = (dialect.as_ref(), &migration.operations);
    let rendered = if shows_locks {
        script::render_explained(d, version, &before, ops, mode, direction)
    } else {
        script::render(d, version, &before, ops, mode, direction)
    };
    let (script, _) = rendered.map_err(|source| CliError::Script {
        migration: key.clone(),
        path: migration.path.clone(),
        source,
    })?;
    let title = format!("{} for {} {version}", key, dialect.name());
    // Lint judges a migration forward, offline (no row counts here).
    let findings = if args.backwards || !shows_locks {
        Vec::new()
    } else {
        let target = Target {
            dialect: dialect.as_ref(),
            version,
            rows: None,
        };
        let settings = &ctx.project.settings.lint;
        lint::lint_rendered(migration, &before, &script, mode, &target, settings)
    };
    match format {
        Format::Json => {
            let shown = Shown {
                migration: key.to_string(),
                dialect: dialect.name(),
                server_version: version.to_string(),
                direction: if args.backwards {
                    "backward"
                } else {
                    "forward"
                },
                transaction: if script.transaction.is_some() {
                    "one"
                } else if script.groups {
                    "groups"
                } else {
                    "none"
                },
                operations: operations(&script, &findings),
                findings: findings
                    .iter()
                    .filter(|f| f.operation == 0)
                    .cloned()
                    .collect(),
            };
            super::write_json(out, &shown)?;
        }
        Format::Text if args.explain => {
            writeln!(out, "-- {title}, explained")?;
            write!(out, "{}", explained(&script, &findings))?;
        }
        Format::Text => {
            writeln!(out, "-- {title}")?;
            write!(out, "{script}")?;
        }
    }
    Ok(())
}

/// `sqlmigrate --format json`.
#[derive(Serialize)]
struct Shown {
    migration: String,
    dialect: &'static str,
    server_version: String,
    direction: &'static str,
    /// `one` transaction, transactional `groups` and steps, or `none` (step by step).
    transaction: &'static str,
    operations: Vec<ShownOperation>,
    /// Lint findings about the migration as a whole (forward only).
    findings: Vec<Finding>,
}

#[derive(Serialize)]
struct ShownOperation {
    /// 1-based, in run order.
    number: usize,
    description: String,
    statements: Vec<ShownStatement>,
    /// Lint findings for this operation (forward only; `strata lint` for the rules).
    findings: Vec<Finding>,
}

#[derive(Serialize)]
struct ShownStatement {
    sql: String,
    /// The guard's message when the statement is a check that fails on rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    guard: Option<String>,
    runs: Unit,
    lock: LockNote,
}

fn operations(script: &Script, findings: &[Finding]) -> Vec<ShownOperation> {
    script
        .operations
        .iter()
        .zip(script.units())
        .enumerate()
        .map(|(i, (op, units))| ShownOperation {
            number: i + 1,
            description: op.description.clone(),
            statements: op
                .statements
                .iter()
                .zip(units)
                .zip(&op.locks)
                .map(|((s, runs), lock)| ShownStatement {
                    sql: s.sql.clone(),
                    guard: s.fails_with_rows.clone(),
                    runs,
                    lock: lock.clone(),
                })
                .collect(),
            findings: of_operation(findings, i + 1).cloned().collect(),
        })
        .collect()
}

fn of_operation(findings: &[Finding], number: usize) -> impl Iterator<Item = &Finding> {
    findings.iter().filter(move |f| f.operation == number)
}

/// The script with, after each statement, a comment saying what it locks and how it
/// runs.
fn explained(script: &Script, findings: &[Finding]) -> String {
    let mut out = String::new();
    for finding in of_operation(findings, 0) {
        let _ = writeln!(out, "-- {}", lint_line(finding));
    }
    for (i, (op, units)) in script.operations.iter().zip(script.units()).enumerate() {
        let _ = writeln!(out, "--\n-- {}\n--", op.description);
        out.push_str(&op.no_sql_note());
        for ((statement, unit), lock) in op.statements.iter().zip(units).zip(&op.locks) {
            script::write_statement(&mut out, statement);
            let _ = writeln!(out, "--   {}", describe(lock, unit));
        }
        for finding in of_operation(findings, i + 1) {
            let _ = writeln!(out, "--   {}", lint_line(finding));
        }
    }
    out
}

/// `lint warning[rename-column]: … (fix: …)`.
fn lint_line(finding: &Finding) -> String {
    format!(
        "lint {}[{}]: {} (fix: {})",
        finding.severity, finding.rule, finding.message, finding.fix
    )
}

/// `ACCESS EXCLUSIVE on t: blocks reads and writes, rewrites the table; in transaction group 1`.
fn describe(lock: &LockNote, unit: Unit) -> String {
    let on = lock
        .table
        .as_ref()
        .map(|t| format!(" on {t}"))
        .unwrap_or_default();
    let mut text = format!(
        "lock: {}{on}: {}, {}; {unit}",
        lock.lock, lock.blocks, lock.work
    );
    if let Some(note) = &lock.note {
        let _ = write!(text, " ({note})");
    }
    text
}

/// The graph in which `app NAME` is in use: the project's, or for a migration a squash
/// replaces, the one of a database part-way through the replaced migrations, where
/// they run as written (and the schema before each is what they built).
fn showing<'g>(graph: &'g Graph, app: &str, name: &str) -> Result<Cow<'g, Graph>, GraphError> {
    match graph.resolve(app, name) {
        Err(GraphError::NotInUse { key, .. }) => {
            let started = BTreeSet::from([key]);
            graph.for_history(&BTreeSet::new(), &started)
        }
        _ => Ok(Cow::Borrowed(graph)),
    }
}

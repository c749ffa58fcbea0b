//! `strata showmigrations`: migrations per app with [X] applied / [ ] pending /
//! [~] partially applied, or the whole plan in order with --plan. A history that
//! cannot be trusted is shown, not refused: [!] marks a migration whose rows have a
//! problem (rows whose file is gone are listed too), or whose file was edited after
//! it was applied, and a footnote says what it is and what to do.

use std::collections::BTreeSet;
use std::io::Write;

use serde::Serialize;
use strata_engine::executor::{self, Status};
use strata_engine::graph::Step;
use strata_engine::history::{consistency, edits, Edit, Problem, RowState};
use strata_engine::migration::MigrationKey;

use crate::args::{Format, ShowmigrationsArgs};
use crate::context::Context;
use crate::database;
use crate::error::CliError;

#[derive(Serialize)]
struct Entry<'a> {
    /// `None` only for a history row whose `app` (or `name`) is unreadable.
    app: Option<&'a str>,
    name: Option<&'a str>,
    applied: bool,
    /// Operations completed by a migration that stopped part-way.
    #[serde(skip_serializing_if = "Option::is_none")]
    partial_operations_done: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    applied_at: Option<&'a str>,
    /// A history row whose migration file is gone.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    file_missing: bool,
    /// The file no longer says what its history row recorded (`migrate` refuses it):
    /// edited after it was applied, or, partially applied, an operation that ran
    /// edited. Editing the operations not yet run is not an edit.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    edited: bool,
    /// A squashed migration in use: the migrations it stands for, `app.NNNN_name`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    replaces: Vec<String>,
    /// What is wrong with its history rows, in full.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    problems: Vec<String>,
    /// The same, in a few words, for the text listing.
    #[serde(skip)]
    notes: Vec<String>,
}

pub(crate) async fn run(
    ctx: &Context,
    args: &ShowmigrationsArgs,
    format: Format,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    if args.tenants.is_some() {
        // Every tenant listed (or the fleet error, exit 6): `-q` keeps its lines too.
        return crate::commands::fleet::showmigrations(ctx, args, false, format, out)
            .await
            .map(|_| ());
    }
    // Written at once, not a write per line: thousands of migrations list quickly.
    let mut out = std::io::BufWriter::new(out);
    list(ctx, args, format, &mut out).await?;
    out.flush()?;
    Ok(())
}

/// The configured database's migrations.
async fn list(
    ctx: &Context,
    args: &ShowmigrationsArgs,
    format: Format,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    for app in &args.apps {
        ctx.graph.target(app, None)?;
    }
    let mut driver = database::connect_existing(ctx).await?;
    let status = executor::status(driver.as_mut(), &database::options(ctx)).await?;
    let live_tables = driver.table_names().await?;
    driver.close().await?;
    drift_hint(ctx, &status, &live_tables)?;
    // Squashed migrations as this database uses them: the squash, or what it replaces.
    let (graph, status) = executor::squashed::in_use(&ctx.graph, &status)?;
    let graph = &graph;

    let wanted = |app: &str| args.apps.is_empty() || args.apps.iter().any(|a| a == app);
    let keys: Vec<&MigrationKey> = if args.plan {
        // Everything, in the order a migrate from scratch would apply it.
        let everything = graph.plan(&graph.latest_targets(), &BTreeSet::new());
        let keys: Vec<&MigrationKey> = everything
            .iter()
            .filter(|(step, key)| *step == Step::Apply && wanted(&key.app))
            .map(|(_, key)| &graph.get(key).expect("planned keys exist").key)
            .collect();
        keys
    } else {
        graph
            .apps()
            .iter()
            .filter(|a| wanted(a))
            .flat_map(|a| graph.app_migrations(a))
            .map(|m| &m.key)
            .collect()
    };
    let problems = consistency::check(graph, &status.rows, &status.damage);
    let edited: Vec<(&MigrationKey, Edit)> = edits::edited(graph, status.rows.values())
        .into_iter()
        .filter(|(key, _, _)| wanted(&key.app))
        .map(|(key, _, edit)| (key, edit))
        .collect();
    let mut entries: Vec<Entry> = keys
        .iter()
        .map(|key| {
            let mut e = entry(key, &status, &problems);
            if let Some(replaced) = graph
                .get(key)
                .map(|m| &m.replaces)
                .filter(|r| !r.is_empty())
            {
                e.notes.push(replaces_note(replaced));
                e.replaces = replaced.iter().map(ToString::to_string).collect();
            }
            if edited.iter().any(|(k, _)| k == key) {
                e.edited = true;
                e.notes.push("edited".to_string());
            }
            e
        })
        .collect();
    let listed = |key: &MigrationKey| graph.get(key).is_some();
    entries.extend(unlisted(&status, &problems, &wanted, &listed));
    match format {
        Format::Json => {
            super::write_json(out, &entries)?;
            return Ok(());
        }
        Format::Text if args.plan => {
            for e in entries
                .iter()
                .filter(|e| e.app.is_some_and(|a| graph.apps().iter().any(|p| p == a)))
            {
                writeln!(
                    out,
                    "[{}]  {}.{}{}",
                    mark(e),
                    e.app.unwrap_or_default(),
                    e.name.unwrap_or_default(),
                    note(e)
                )?;
            }
        }
        Format::Text => {
            for app in graph.apps().iter().filter(|a| wanted(a)) {
                writeln!(out, "{app}")?;
                let mut any = false;
                for e in entries.iter().filter(|e| e.app == Some(app.as_str())) {
                    writeln!(
                        out,
                        " [{}] {}{}",
                        mark(e),
                        e.name.unwrap_or_default(),
                        note(e)
                    )?;
                    any = true;
                }
                if !any {
                    writeln!(out, " (no migrations)")?;
                }
            }
        }
    }
    footnote(&database::options(ctx).history_table, &problems, out)?;
    edited_footnote(ctx, &edited, out)?;
    Ok(())
}

/// One line on stderr when the database has another number of tables than the
/// applied migrations create: a cheap sign of drift (a count, not a comparison),
/// pointing to `strata drift`, which compares.
fn drift_hint(ctx: &Context, status: &Status, live_tables: &[String]) -> std::io::Result<()> {
    let history = &database::options(ctx).history_table;
    // A history that cannot be replayed is reported by the listing itself.
    let Ok(applied) = strata_engine::drift::applied_state(&ctx.graph, status) else {
        return Ok(());
    };
    // Nor is one `migrate` (and so `strata drift`) refuses: a row whose file is gone
    // adds no table, and the count would send the user to a command that refuses.
    let Ok((graph, in_use)) = executor::squashed::in_use(&ctx.graph, status) else {
        return Ok(());
    };
    if consistency::check(&graph, &in_use.rows, &in_use.damage)
        .iter()
        .any(consistency::Problem::blocks)
    {
        return Ok(());
    }
    let expected = applied.tables.keys().filter(|t| *t != history).count();
    let found = live_tables.iter().filter(|t| *t != history).count();
    if expected != found {
        writeln!(
            std::io::stderr(),
            "hint: the database has {found} table{}, the applied migrations create {expected}: run `strata drift`",
            if found == 1 { "" } else { "s" }
        )?;
    }
    Ok(())
}

/// "replaces app.0001_a … app.0004_d (4)": what a squashed migration stands for.
fn replaces_note(replaced: &[MigrationKey]) -> String {
    match replaced {
        [only] => format!("replaces {only}"),
        [first, .., last] => format!("replaces {first} … {last} ({})", replaced.len()),
        [] => String::new(),
    }
}

fn entry<'a>(key: &'a MigrationKey, status: &'a Status, problems: &[Problem]) -> Entry<'a> {
    let row = status.rows.get(key);
    let own: Vec<&Problem> = problems
        .iter()
        .filter(|p| p.key().as_ref() == Some(key))
        .collect();
    Entry {
        app: Some(&key.app),
        name: Some(&key.name),
        applied: row.is_some_and(|r| r.state == RowState::Applied),
        partial_operations_done: row
            .filter(|r| r.state == RowState::Partial)
            .map(|r| r.operations_done),
        applied_at: row.and_then(|r| r.applied_at.as_deref()),
        file_missing: own.iter().any(|p| matches!(p, Problem::MissingFile { .. })),
        edited: false,
        replaces: Vec::new(),
        problems: own.iter().map(ToString::to_string).collect(),
        notes: own.iter().map(|p| p.short()).collect(),
    }
}

/// Rows the project's migrations do not account for: files gone (listed under their
/// app), rows of apps outside the project and rows without a readable name (in JSON,
/// and in the footnote).
fn unlisted<'a>(
    status: &'a Status,
    problems: &'a [Problem],
    wanted: &dyn Fn(&str) -> bool,
    listed: &dyn Fn(&MigrationKey) -> bool,
) -> Vec<Entry<'a>> {
    let mut extra = Vec::new();
    for problem in problems {
        match problem {
            Problem::MissingFile { key, .. } if wanted(&key.app) => {
                if let Some((key, _)) = status.rows.get_key_value(key) {
                    extra.push(entry(key, status, problems));
                }
            }
            Problem::OtherApp { app, .. } if wanted(app) => {
                for (key, _) in status.rows.iter().filter(|(k, _)| k.app == *app) {
                    let mut e = entry(key, status, problems);
                    e.problems = vec![problem.to_string()];
                    e.notes = vec![problem.short()];
                    extra.push(e);
                }
            }
            Problem::Corrupt(row) if !row.key().is_some_and(|k| listed(&k)) => extra.push(Entry {
                app: row.app.as_deref(),
                name: row.name.as_deref(),
                applied: false,
                partial_operations_done: None,
                applied_at: None,
                file_missing: false,
                edited: false,
                replaces: Vec::new(),
                problems: vec![problem.to_string()],
                notes: vec![problem.short()],
            }),
            _ => {}
        }
    }
    extra
}

fn note(e: &Entry) -> String {
    if e.notes.is_empty() {
        return e
            .partial_operations_done
            .map(|n| format!("  (partially applied: {n} operations done)"))
            .unwrap_or_default();
    }
    let state = match (e.applied, e.partial_operations_done) {
        (true, _) => "applied".to_string(),
        (false, Some(n)) => format!("partially applied: {n} operations done"),
        (false, None) => "not applied".to_string(),
    };
    format!("  ({state}; {})", e.notes.join("; "))
}

/// What is wrong with the history, in full, after the listing.
fn footnote(table: &str, problems: &[Problem], out: &mut dyn Write) -> std::io::Result<()> {
    if problems.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    if problems.iter().any(Problem::blocks) {
        writeln!(
            out,
            "[!] The history table `{table}` cannot be trusted; `strata migrate` refuses to run until it is repaired (docs/history.md):"
        )?;
    } else {
        writeln!(out, "Notes on the history table `{table}`:")?;
    }
    for problem in problems {
        writeln!(out, "  - {problem}")?;
    }
    Ok(())
}

/// The files edited after they were applied, with what to do, after the listing.
fn edited_footnote(
    ctx: &Context,
    edited: &[(&MigrationKey, Edit)],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if edited.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "[!] Edited after they were applied; `strata migrate` refuses to run until each is resolved:"
    )?;
    for (key, edit) in edited {
        let path = ctx
            .graph
            .get(key)
            .map(|m| format!("{}: ", m.path.display()))
            .unwrap_or_default();
        writeln!(out, "  - {path}{}", edit.about(key))?;
    }
    Ok(())
}

fn mark(e: &Entry) -> char {
    if !e.problems.is_empty() || e.edited {
        return '!';
    }
    match (e.applied, e.partial_operations_done) {
        (true, _) => 'X',
        (false, Some(_)) => '~',
        (false, None) => ' ',
    }
}

//! `strata drift --write-migration`: adopts the live schema. The migrations that take
//! the applied schema to it are written (as `makemigrations` writes them, one file per
//! app owning drifted tables; a table no migration created goes to `--app`), recorded
//! as applied without running (the database already has them: `migrate --fake`), and
//! the models.toml of those apps rewritten to describe their tables as they now are,
//! so that `makemigrations --check` stays clean.
//!
//! models.toml is rewritten only from a clean start: when an app's models.toml has
//! changes no migration holds yet, the command refuses before writing anything (run
//! `makemigrations` first). Then the new models are exactly the app's tables in the
//! migrations' schema, written as `inspectdb` writes them; the result is checked with
//! the autodetector and, should it not be clean, the old files are put back.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use serde::Serialize;
use strata_engine::ast::{Operation, TableDef};
use strata_engine::autodetect::Decisions;
use strata_engine::data_loss::DataLoss;
use strata_engine::drift::{self, Kind};
use strata_engine::executor::{self, Quiet};
use strata_engine::graph::{Graph, Target};
use strata_engine::makemigrations::{self, Planned, Request};
use strata_engine::models::{self, Models};
use strata_engine::project::{schema_directive, Project, MODELS_SCHEMA};
use strata_engine::state::SchemaState;

use super::drift::{examine, write_text, Report};
use crate::args::{DriftArgs, Format, GlobalArgs};
use crate::context::Context;
use crate::database;
use crate::error::{exit, CliError};

/// A migration `--write-migration` wrote and recorded.
#[derive(Serialize)]
pub(crate) struct Written {
    migration: String,
    path: String,
    operations: Vec<Operation>,
}

pub(crate) async fn run(
    ctx: &Context,
    global: &GlobalArgs,
    args: &DriftArgs,
    format: Format,
    out: &mut dyn Write,
) -> Result<u8, CliError> {
    if let Some(app) = &args.app {
        known_app(&ctx.project, app)?;
    }
    let found = examine(ctx).await?;
    let mut driver = found.driver;
    let drift = &found.drift;
    if drift.is_empty() {
        driver.close().await?;
        return nothing_to_do(drift, format, out);
    }
    let (graph, status) = executor::squashed::in_use(&ctx.graph, &found.status)?;
    refuse_pending(&graph, &status)?;
    let project = &ctx.project;
    let mut owners = makemigrations::migration_owners(&graph);
    for t in &drift.tables {
        if t.differences.iter().any(|d| d.kind == Kind::TableExtra) {
            owners.insert(t.table.clone(), new_table_app(project, args, &t.table)?);
        }
    }
    let apps: BTreeSet<String> = drift
        .tables
        .iter()
        .filter_map(|t| owners.get(&t.table).cloned())
        .collect();
    let models = models::load(project)?;
    refuse_unmigrated_models(project, &graph, &models, &apps)?;

    let adopted = drift::patched(
        driver.dialect().as_ref(),
        driver.version(),
        &found.applied,
        &found.live,
        drift,
    );
    let wanted = Models {
        state: adopted,
        owners: owners.clone(),
        ..Models::default()
    };
    let request = Request {
        name: args.name.clone(),
        decisions: Decisions {
            no_rename: true,
            ..Decisions::default()
        },
        ..Request::default()
    };
    let planned = makemigrations::plan(project, &graph, &wanted, &request)?;
    for p in &planned {
        project.writable(&p.path)?;
        super::write_new_file(&p.path, &p.text()?)?;
    }

    // The graph with the new files, to record them as applied.
    let reloaded = match Context::load(global) {
        Ok(reloaded) => reloaded,
        Err(e) => {
            remove_written(&planned);
            return Err(e);
        }
    };
    let mut options = database::options(ctx);
    options.fake = true;
    let targets: Vec<Target> = planned
        .iter()
        .map(|p| Target::Migration(p.key.clone()))
        .collect();
    let faked = executor::migrate(
        &reloaded.graph,
        driver.as_mut(),
        &targets,
        &options,
        &mut Quiet,
    )
    .await;
    driver.close().await?;
    if let Err(e) = faked {
        remove_written(&planned);
        return Err(e.into());
    }

    warn_losses(&found.applied, &planned)?;
    // The model names the apps declare now (table → model), for references into
    // apps whose models.toml is not rewritten.
    let declared: BTreeMap<String, String> = models
        .declared
        .iter()
        .map(|(table, info)| (table.clone(), info.model.clone()))
        .collect();
    let updated = update_models(&reloaded, &planned, &declared)?;
    let written: Vec<Written> = planned
        .iter()
        .map(|p| Written {
            migration: p.key.to_string(),
            path: super::display_path(&p.path),
            operations: p.file.operations.clone(),
        })
        .collect();
    finish(drift, written, updated, format, out)
}

/// Warns of the data the written migrations destroy where they will run: on every
/// database without this drift. Renames are not guessed, so a column renamed by hand
/// is a drop and an add; said now, before the file is committed and `migrate` drops
/// the column's values elsewhere.
fn warn_losses(applied: &SchemaState, planned: &[Planned]) -> std::io::Result<()> {
    let operations: Vec<_> = planned
        .iter()
        .flat_map(|p| p.file.operations.iter().cloned())
        .collect();
    let losses = super::drift_revert::losses(applied, &operations);
    if losses.is_empty() {
        return Ok(());
    }
    let mut err = std::io::stderr();
    writeln!(
        err,
        "warning: on the other databases, `strata migrate` runs what was written here, and it destroys data:"
    )?;
    for loss in &losses {
        writeln!(err, "  {loss}")?;
    }
    if losses
        .iter()
        .any(|l| !matches!(l, DataLoss::Narrowing { .. }))
    {
        writeln!(
            err,
            "  a column or table renamed by hand is written as a drop and an add: edit it into rename_column / rename_table before committing"
        )?;
    }
    Ok(())
}

/// Removes the files of migrations that could not be recorded: one left behind would
/// make `migrate` run what the database already has.
fn remove_written(planned: &[Planned]) {
    for p in planned {
        let _ = std::fs::remove_file(&p.path);
    }
}

/// What was done: the report (text or JSON), then the models.toml files updated, or
/// why they could not be (exit 1).
fn finish(
    drift: &drift::Drift,
    written: Vec<Written>,
    updated: Result<Vec<String>, String>,
    format: Format,
    out: &mut dyn Write,
) -> Result<u8, CliError> {
    match format {
        Format::Json => {
            let mut report = Report::new(drift);
            report.models_updated = Some(updated.clone().unwrap_or_default());
            report.migrations = Some(written);
            super::write_json(out, &report)?;
        }
        Format::Text => {
            write_text_summary(drift, &written, out)?;
        }
    }
    match updated {
        Ok(paths) => {
            // For people: on stdout in text, beside the JSON document on stderr.
            let mut stderr = std::io::stderr();
            let people: &mut dyn Write = match format {
                Format::Text => out,
                Format::Json => &mut stderr,
            };
            for path in paths {
                writeln!(people, "Updated {path}")?;
            }
            Ok(exit::OK)
        }
        Err(why) => {
            writeln!(std::io::stderr(), "warning: {why}")?;
            Ok(exit::CHECK_FAILED)
        }
    }
}

fn nothing_to_do(
    drift: &drift::Drift,
    format: Format,
    out: &mut dyn Write,
) -> Result<u8, CliError> {
    match format {
        Format::Json => super::write_json(out, &Report::new(drift))?,
        Format::Text => write_text(drift, out)?,
    }
    Ok(exit::OK)
}

fn write_text_summary(
    drift: &drift::Drift,
    written: &[Written],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(out, "Adopting the database's schema:")?;
    write!(out, "{}", drift.text())?;
    for w in written {
        writeln!(
            out,
            "Wrote {} (recorded as applied: the database has it)",
            w.path
        )?;
        for op in &w.operations {
            writeln!(out, "  - {op}")?;
        }
    }
    Ok(())
}

/// A migration is written after the last applied one, and recorded without running:
/// with migrations still to apply, the new one would be recorded before them.
fn refuse_pending(graph: &Graph, status: &executor::Status) -> Result<(), CliError> {
    if let Some(row) = status.partial().next() {
        return Err(CliError::Usage(format!(
            "{} is partially applied; resume or roll it back (`strata migrate`) before adopting the database's schema",
            row.key
        )));
    }
    let pending: Vec<String> = graph
        .plan(&graph.latest_targets(), &status.applied())
        .into_iter()
        .map(|(_, key)| key.to_string())
        .collect();
    if pending.is_empty() {
        return Ok(());
    }
    Err(CliError::Usage(format!(
        "migrations are not applied yet ({}); run `strata migrate` first, then `strata drift --write-migration`",
        pending.join(", ")
    )))
}

/// The app a table that no migration created goes to: `--app`, which must exist.
fn new_table_app(project: &Project, args: &DriftArgs, table: &str) -> Result<String, CliError> {
    let Some(app) = &args.app else {
        return Err(CliError::Usage(format!(
            "table `{table}` was created outside the migrations; say which app adopts it: `strata drift --write-migration --app APP`"
        )));
    };
    known_app(project, app)?;
    Ok(app.clone())
}

/// `--app` names an app of the project: checked first, so that a misspelt one is an
/// error even when no new table needs it.
fn known_app(project: &Project, app: &str) -> Result<(), CliError> {
    if project.app(app).is_some() {
        return Ok(());
    }
    Err(CliError::Usage(format!(
        "--app: unknown app `{app}` (apps: {})",
        project
            .apps
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// models.toml is rewritten from the migrations' schema only for apps whose models
/// the migrations already describe: other edits would be lost.
fn refuse_unmigrated_models(
    project: &Project,
    graph: &Graph,
    models: &Models,
    apps: &BTreeSet<String>,
) -> Result<(), CliError> {
    for app in apps {
        let request = Request {
            apps: vec![app.clone()],
            ..Request::default()
        };
        let clean = makemigrations::plan(project, graph, models, &request)
            .is_ok_and(|planned| planned.is_empty());
        if !clean {
            return Err(CliError::Usage(format!(
                "apps/{app}/models.toml has changes no migration holds yet; run `strata makemigrations` (or undo them) first, then `strata drift --write-migration`: nothing was written"
            )));
        }
    }
    Ok(())
}

/// Rewrites the models.toml of every app with a new migration from the migrations'
/// schema, and checks that `makemigrations` then finds nothing to do. `Err` (the old
/// files put back) says why not.
fn update_models(
    ctx: &Context,
    planned: &[Planned],
    declared: &BTreeMap<String, String>,
) -> Result<Result<Vec<String>, String>, CliError> {
    let project = &ctx.project;
    let state = makemigrations::migrations_state(&ctx.graph)?;
    let owners = makemigrations::migration_owners(&ctx.graph);
    let apps: BTreeSet<&str> = planned.iter().map(|p| p.key.app.as_str()).collect();
    // A model of an app rewritten here gets its name anew: only the others keep theirs.
    let declared: BTreeMap<String, String> = declared
        .iter()
        .filter(|(table, _)| {
            owners
                .get(*table)
                .is_some_and(|o| !apps.contains(o.as_str()))
        })
        .map(|(t, m)| (t.clone(), m.clone()))
        .collect();
    let mut previous: BTreeMap<std::path::PathBuf, Option<String>> = BTreeMap::new();
    let mut written = Vec::new();
    for app in apps {
        let Some(found) = project.app(app) else {
            continue;
        };
        let path = found.models_path();
        project.writable(&path)?;
        let tables: Vec<TableDef> = state
            .tables
            .values()
            .filter(|t| owners.get(&t.name).map(String::as_str) == Some(app))
            .map(|t| TableDef::clone(t))
            .collect();
        let others: BTreeMap<String, String> = owners
            .iter()
            .filter(|(_, owner)| owner.as_str() != app)
            .map(|(t, o)| (t.clone(), o.clone()))
            .collect();
        let mut text = models::write_app_naming(app, &tables, &state, &others, &declared);
        if let Some(directive) = path
            .parent()
            .and_then(|dir| schema_directive(&project.root, dir, MODELS_SCHEMA))
        {
            text.insert_str(0, &directive);
        }
        previous.insert(path.clone(), std::fs::read_to_string(&path).ok());
        std::fs::write(&path, text)?;
        written.push(super::display_path(&path));
    }
    let clean = models::load(project)
        .map_err(|e| e.to_string())
        .and_then(|models| {
            makemigrations::plan(project, &ctx.graph, &models, &Request::default())
                .map_err(|e| e.to_string())
        })
        .and_then(|planned| {
            if planned.is_empty() {
                Ok(())
            } else {
                Err("the models written would need migrations".to_string())
            }
        });
    if let Err(why) = clean {
        for (path, text) in previous {
            match text {
                Some(text) => std::fs::write(&path, text)?,
                None => std::fs::remove_file(&path)?,
            }
        }
        return Ok(Err(format!(
            "the migration is written and recorded, but models.toml could not be brought in line ({why}); it is left as it was: edit it to match, until `strata makemigrations --check` is clean"
        )));
    }
    Ok(Ok(written))
}

//! `strata showmigrations`: migrations per app with [X] applied / [ ] pending /
//! [~] partially applied, or the whole plan in order with --plan.

use std::collections::BTreeSet;
use std::io::Write;

use serde::Serialize;
use strata_engine::executor::{self, Status};
use strata_engine::graph::Step;
use strata_engine::history::RowState;
use strata_engine::migration::MigrationKey;

use crate::args::{Format, ShowmigrationsArgs};
use crate::context::Context;
use crate::database;
use crate::error::CliError;

#[derive(Serialize)]
struct Entry<'a> {
    app: &'a str,
    name: &'a str,
    applied: bool,
    /// Operations completed by a migration that stopped part-way.
    #[serde(skip_serializing_if = "Option::is_none")]
    partial_operations_done: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    applied_at: Option<&'a str>,
}

pub(crate) async fn run(
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
    driver.close().await?;

    let wanted = |app: &str| args.apps.is_empty() || args.apps.iter().any(|a| a == app);
    let keys: Vec<&MigrationKey> = if args.plan {
        // Everything, in the order a migrate from scratch would apply it.
        let everything = ctx
            .graph
            .plan(&ctx.graph.latest_targets(), &BTreeSet::new());
        let keys: Vec<&MigrationKey> = everything
            .iter()
            .filter(|(step, key)| *step == Step::Apply && wanted(&key.app))
            .map(|(_, key)| &ctx.graph.get(key).expect("planned keys exist").key)
            .collect();
        keys
    } else {
        ctx.graph
            .apps()
            .iter()
            .filter(|a| wanted(a))
            .flat_map(|a| ctx.graph.app_migrations(a))
            .map(|m| &m.key)
            .collect()
    };
    let entries: Vec<Entry> = keys.iter().map(|key| entry(key, &status)).collect();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &entries).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        Format::Text if args.plan => {
            for e in &entries {
                writeln!(out, "[{}]  {}.{}", mark(e), e.app, e.name)?;
            }
        }
        Format::Text => {
            for app in ctx.graph.apps().iter().filter(|a| wanted(a)) {
                writeln!(out, "{app}")?;
                let mut any = false;
                for e in entries.iter().filter(|e| e.app == app) {
                    let note = e
                        .partial_operations_done
                        .map(|n| format!("  (partially applied: {n} operations done)"))
                        .unwrap_or_default();
                    writeln!(out, " [{}] {}{note}", mark(e), e.name)?;
                    any = true;
                }
                if !any {
                    writeln!(out, " (no migrations)")?;
                }
            }
        }
    }
    Ok(())
}

fn entry<'a>(key: &'a MigrationKey, status: &'a Status) -> Entry<'a> {
    let row = status.rows.get(key);
    Entry {
        app: &key.app,
        name: &key.name,
        applied: row.is_some_and(|r| r.state == RowState::Applied),
        partial_operations_done: row
            .filter(|r| r.state == RowState::Partial)
            .map(|r| r.operations_done),
        applied_at: row.and_then(|r| r.applied_at.as_deref()),
    }
}

fn mark(e: &Entry) -> char {
    match (e.applied, e.partial_operations_done) {
        (true, _) => 'X',
        (false, Some(_)) => '~',
        (false, None) => ' ',
    }
}

//! `strata inspectdb APP`: models.toml for the tables of an existing database — with
//! `makemigrations` and `migrate --fake-initial`, the way to adopt strata.

use std::collections::BTreeMap;
use std::io::Write;

use strata_engine::models;

use crate::args::InspectdbArgs;
use crate::context::Context;
use crate::database;
use crate::error::CliError;

pub(crate) async fn run(
    ctx: &Context,
    args: &InspectdbArgs,
    out: &mut dyn Write,
) -> Result<u8, CliError> {
    let app = ctx.project.app(&args.app).ok_or_else(|| {
        CliError::Usage(format!(
            "unknown app `{}`; add it to [project] apps in strata.toml first",
            args.app
        ))
    })?;
    let mut driver = database::connect_existing(ctx).await?;
    let live = driver.introspect().await;
    driver.close().await?;
    let mut live = live?;
    live.tables
        .remove(&ctx.project.settings.database.history_table);
    let tables: Vec<_> = live.tables.values().cloned().collect();
    let text = models::write_app(&args.app, &tables, &live, &BTreeMap::new());
    if !args.write {
        write!(out, "{text}")?;
        return Ok(crate::error::exit::OK);
    }
    // Most likely a wrong database (or SQLite path): never write an empty models.toml.
    if tables.is_empty() {
        return Err(CliError::Usage(format!(
            "the database has no tables to inspect; {} was not written",
            app.models_path().display()
        )));
    }
    let path = app.models_path();
    ctx.project.writable(&path)?;
    if path.exists() && !args.force {
        return Err(CliError::Usage(format!(
            "{} exists; use --force to overwrite it",
            path.display()
        )));
    }
    std::fs::write(
        &path,
        models::with_schema_header(&ctx.project.root, &path, &text),
    )?;
    writeln!(out, "Wrote {} ({} models)", path.display(), tables.len())?;
    Ok(crate::error::exit::OK)
}

//! `strata inspectdb APP`: models.toml for the tables of an existing database — with
//! `makemigrations` and `migrate --fake-initial`, the way to adopt strata.
//! `--format json` gives the tables as data too, for tools.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;
use strata_engine::ast::TableDef;
use strata_engine::models;
use strata_engine::project::{schema_directive, MODELS_SCHEMA};

use crate::args::{Format, InspectdbArgs};
use crate::context::Context;
use crate::database;
use crate::error::CliError;

/// `inspectdb --format json` (schemas/output/inspectdb.schema.json).
#[derive(Serialize)]
struct Inspected<'a> {
    app: &'a str,
    /// The live tables, as a migration's `create_table` describes them.
    tables: &'a [TableDef],
    /// The models.toml text describing them (as written, with --write).
    models_toml: &'a str,
    /// With --write: the file written, relative to the project folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    written: Option<String>,
}

pub(crate) async fn run(
    ctx: &Context,
    args: &InspectdbArgs,
    format: Format,
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
    let tables: Vec<_> = live.tables.values().map(|t| TableDef::clone(t)).collect();
    let mut text = models::write_app(&args.app, &tables, &live, &BTreeMap::new());
    let json = |text: &str, written: Option<String>, out: &mut dyn Write| {
        let shown = Inspected {
            app: &args.app,
            tables: &tables,
            models_toml: text,
            written,
        };
        super::write_json(out, &shown)
    };
    if !args.write {
        match format {
            Format::Json => json(&text, None, out)?,
            Format::Text => write!(out, "{text}")?,
        }
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
    // Editors find the project's schema from the file itself, when `strata init`
    // put one in the project.
    if let Some(dir) = path.parent() {
        if let Some(directive) = schema_directive(&ctx.project.root, dir, MODELS_SCHEMA) {
            text.insert_str(0, &directive);
        }
    }
    std::fs::write(&path, &text)?;
    let shown = path.strip_prefix(&ctx.project.root).unwrap_or(&path);
    let message = format!("Wrote {} ({} models)", path.display(), tables.len());
    match format {
        Format::Json => {
            writeln!(std::io::stderr(), "{message}")?;
            json(&text, Some(shown.display().to_string()), out)?;
        }
        Format::Text => writeln!(out, "{message}")?,
    }
    Ok(crate::error::exit::OK)
}

//! `strata drift`: how the live schema differs from what the applied migrations
//! build (docs/drift.md). Exit 0 when it matches, 1 when it drifted. With
//! `--write-migration` the difference is adopted (`drift_write`), with `--revert`
//! undone (`drift_revert`).

use std::io::Write;

use serde::Serialize;
use strata_engine::dialect::driver::Driver;
use strata_engine::drift::{self, Drift, TableDrift};
use strata_engine::executor::{self, ExecError, Status};
use strata_engine::history::consistency;
use strata_engine::state::SchemaState;

use crate::args::{DriftArgs, Format, GlobalArgs};
use crate::context::Context;
use crate::database;
use crate::error::{exit, CliError};

/// `strata drift --format json` (schemas/output/drift.schema.json); `--write-migration`
/// and `--revert` add what they did.
#[derive(Serialize)]
pub(crate) struct Report<'a> {
    /// Whether the database differed from the applied migrations (before any
    /// `--write-migration` or `--revert`).
    pub drift: bool,
    /// The differences, by table.
    pub tables: &'a [TableDrift],
    /// `--write-migration`: the migrations written and recorded as applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migrations: Option<Vec<super::drift_write::Written>>,
    /// `--write-migration`: the models.toml files rewritten.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub models_updated: Option<Vec<String>>,
    /// `--revert`: the operations that put the database back, as migration files
    /// write them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revert: Option<Vec<strata_engine::ast::Operation>>,
    /// `--revert --sql`: the SQL, not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
}

impl<'a> Report<'a> {
    pub(crate) fn new(drift: &'a Drift) -> Self {
        Self {
            drift: !drift.is_empty(),
            tables: &drift.tables,
            migrations: None,
            models_updated: None,
            revert: None,
            sql: None,
        }
    }
}

/// What a drift command starts from: the connection, the history, the schema the
/// applied migrations build and the live one (the history table left out).
pub(crate) struct Found {
    pub driver: Box<dyn Driver>,
    pub status: Status,
    pub applied: SchemaState,
    pub live: SchemaState,
    pub drift: Drift,
}

/// Connects, reads the history and the live schema, and compares them.
pub(crate) async fn examine(ctx: &Context) -> Result<Found, CliError> {
    let mut driver = database::connect_existing(ctx).await?;
    let options = database::options(ctx);
    let status = executor::status(driver.as_mut(), &options).await?;
    // A history `migrate` refuses (a row whose file is gone, a duplicate, ...) leaves
    // the applied schema unknown: what such a row created would read as made by hand,
    // and `--revert` would drop it.
    // Checked as `migrate` checks it: after a squash in use takes the rows of the
    // migrations it replaces (whose files may be gone by then).
    let (graph, in_use) = executor::squashed::in_use(&ctx.graph, &status)?;
    consistency::verify(&options.history_table, &graph, &in_use.rows, &in_use.damage)
        .map_err(ExecError::from)?;
    let applied = drift::applied_state(&ctx.graph, &status)?;
    let mut live = driver.introspect().await?;
    live.tables.remove(&options.history_table);
    let collations = drift::table_collations(driver.as_mut()).await?;
    let drift = Drift::between_with(
        driver.dialect().as_ref(),
        driver.version(),
        &applied,
        &live,
        &[&options.history_table],
        &collations,
    );
    Ok(Found {
        driver,
        status,
        applied,
        live,
        drift,
    })
}

pub(crate) async fn run(
    ctx: &Context,
    global: &GlobalArgs,
    args: &DriftArgs,
    format: Format,
    out: &mut dyn Write,
) -> Result<u8, CliError> {
    if args.write_migration {
        return super::drift_write::run(ctx, global, args, format, out).await;
    }
    if args.revert {
        return super::drift_revert::run(ctx, args, format, out).await;
    }
    let found = examine(ctx).await?;
    found.driver.close().await?;
    let drift = &found.drift;
    match format {
        Format::Json => super::write_json(out, &Report::new(drift))?,
        Format::Text => write_text(drift, out)?,
    }
    Ok(if drift.is_empty() {
        exit::OK
    } else {
        exit::CHECK_FAILED
    })
}

/// The differences grouped by table, and what to do about them.
pub(crate) fn write_text(drift: &Drift, out: &mut dyn Write) -> std::io::Result<()> {
    if drift.is_empty() {
        return writeln!(
            out,
            "No drift: the database matches the applied migrations."
        );
    }
    writeln!(
        out,
        "The database differs from what the applied migrations build ({} table{}):",
        drift.tables.len(),
        if drift.tables.len() == 1 { "" } else { "s" }
    )?;
    write!(out, "{}", drift.text())?;
    writeln!(
        out,
        "\nadopt the database's schema: strata drift --write-migration\nput the database back:       strata drift --revert"
    )
}

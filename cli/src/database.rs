//! Connecting to the configured database, and the executor options from settings.

use std::sync::Arc;

use strata_engine::dialect::driver::{redact_url, Driver};
use strata_engine::dialect::Backend;
use strata_engine::error::Category;
use strata_engine::executor::Options;
use strata_engine::Dialect;

use crate::context::Context;
use crate::error::CliError;

/// Connects to the configured database, creating it if the backend can (a SQLite
/// file): for `migrate`. Relative SQLite paths are relative to the project folder,
/// because `main` runs every command from there.
pub(crate) async fn connect(ctx: &Context) -> Result<Box<dyn Driver>, CliError> {
    let (backend, url) = backend_for(ctx)?;
    with_source(ctx, backend.connect(url).await)
}

/// Connects to the configured database, which must exist: for commands that only
/// read, so that a wrong path is reported (exit 4) rather than created empty.
pub(crate) async fn connect_existing(ctx: &Context) -> Result<Box<dyn Driver>, CliError> {
    let (backend, url) = backend_for(ctx)?;
    with_source(ctx, backend.connect_existing(url).await)
}

/// A URL the backend refuses is the fault of whoever set it: say who.
fn with_source(
    ctx: &Context,
    connected: Result<Box<dyn Driver>, strata_engine::dialect::driver::DriverError>,
) -> Result<Box<dyn Driver>, CliError> {
    match connected {
        Err(e) if e.category() == Category::BadInput => Err(ctx
            .project
            .setting_error("database.url", e.to_string())
            .into()),
        other => Ok(other?),
    }
}

fn backend_for(ctx: &Context) -> Result<(&Arc<dyn Backend>, &str), CliError> {
    let project = &ctx.project;
    let url = &project.settings.database.url;
    let (backend, scheme) = ctx
        .registry
        .for_url(url)
        .map_err(|e| project.setting_error("database.url", e.to_string()))?;
    check_history_table(ctx, backend.dialect(&scheme).as_ref())?;
    tracing::info!(url = %redact_url(url), "{}", project.origins.database_source());
    Ok((backend, url))
}

/// A history table name the server would refuse is bad input, found before connecting.
fn check_history_table(ctx: &Context, dialect: &dyn Dialect) -> Result<(), CliError> {
    let table = &ctx.project.settings.database.history_table;
    let limit = dialect
        .capabilities(dialect.minimum_version())
        .max_identifier_len;
    if table.len() > limit {
        return Err(ctx
            .project
            .setting_error(
                "database.history_table",
                format!(
                    "`{table}` is {} bytes long; {} allows at most {limit}",
                    table.len(),
                    dialect.name()
                ),
            )
            .into());
    }
    Ok(())
}

pub(crate) fn options(ctx: &Context) -> Options {
    let db = &ctx.project.settings.database;
    Options::new(db.history_table.clone(), db.lock_timeout)
}

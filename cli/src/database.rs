//! Connecting to the configured database, and the executor options from settings.

use strata_engine::dialect::driver::{redact_url, Driver};
use strata_engine::executor::Options;

use crate::context::Context;
use crate::error::CliError;

/// Connects to the configured database. Relative SQLite paths are relative to the
/// project folder, because `main` runs every command from there.
pub(crate) async fn connect(ctx: &Context) -> Result<Box<dyn Driver>, CliError> {
    let url = &ctx.project.settings.database.url;
    let (backend, _scheme) = ctx.registry.for_url(url)?;
    tracing::info!(url = %redact_url(url), "connecting");
    Ok(backend.connect(url).await?)
}

pub(crate) fn options(ctx: &Context) -> Options {
    let db = &ctx.project.settings.database;
    Options::new(db.history_table.clone(), db.lock_timeout)
}

//! Connecting to the configured database, and the executor options from settings.

use std::sync::Arc;

use strata_engine::dialect::driver::{redact_url, Driver};
use strata_engine::dialect::Backend;
use strata_engine::executor::Options;

use crate::context::Context;
use crate::error::CliError;

/// Connects to the configured database, creating it if the backend can (a SQLite
/// file): for `migrate`. Relative SQLite paths are relative to the project folder,
/// because `main` runs every command from there.
pub(crate) async fn connect(ctx: &Context) -> Result<Box<dyn Driver>, CliError> {
    let (backend, url) = backend_for(ctx)?;
    Ok(backend.connect(url).await?)
}

/// Connects to the configured database, which must exist: for commands that only
/// read, so that a wrong path is reported (exit 4) rather than created empty.
pub(crate) async fn connect_existing(ctx: &Context) -> Result<Box<dyn Driver>, CliError> {
    let (backend, url) = backend_for(ctx)?;
    Ok(backend.connect_existing(url).await?)
}

fn backend_for(ctx: &Context) -> Result<(&Arc<dyn Backend>, &str), CliError> {
    let url = &ctx.project.settings.database.url;
    let (backend, _scheme) = ctx.registry.for_url(url)?;
    tracing::info!(url = %redact_url(url), "connecting");
    Ok((backend, url))
}

pub(crate) fn options(ctx: &Context) -> Options {
    let db = &ctx.project.settings.database;
    Options::new(db.history_table.clone(), db.lock_timeout)
}

//! Connecting to the configured database, and the executor options from settings.

use strata_engine::dialect::driver::{redact_url, Driver};
use strata_engine::error::Category;
use strata_engine::executor::Options;
use strata_engine::Dialect;

use crate::context::Context;
use crate::error::CliError;

/// Connects to the configured database. Relative SQLite paths are relative to the
/// project folder, because `main` runs every command from there.
pub(crate) async fn connect(ctx: &Context) -> Result<Box<dyn Driver>, CliError> {
    let project = &ctx.project;
    let url = &project.settings.database.url;
    // A URL strata cannot use is the fault of whoever set it: say who.
    let (backend, scheme) = ctx
        .registry
        .for_url(url)
        .map_err(|e| project.setting_error("database.url", e.to_string()))?;
    check_history_table(ctx, backend.dialect(&scheme).as_ref())?;
    tracing::info!(url = %redact_url(url), "{}", project.origins.database_source());
    match backend.connect(url).await {
        Err(e) if e.category() == Category::BadInput => {
            Err(project.setting_error("database.url", e.to_string()).into())
        }
        other => Ok(other?),
    }
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

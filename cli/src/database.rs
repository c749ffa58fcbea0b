//! Connecting to the configured database, and the executor options from settings.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use strata_engine::dialect::driver::{redact_url, Driver, DriverError};
use strata_engine::dialect::registry::DatabaseCreation;
use strata_engine::dialect::rehearsal::{RehearsalCopy, Sample};
use strata_engine::dialect::Backend;
use strata_engine::error::Category;
use strata_engine::executor::Options;
use strata_engine::migration::Migration;
use strata_engine::script::Mode;
use strata_engine::{Dialect, ServerVersion};

use crate::context::Context;
use crate::error::CliError;
use crate::signals;

/// How often a slow connect says that it is still waiting.
const NOTICE_EVERY: Duration = Duration::from_secs(3);

/// Connects to the configured database, creating it if the backend can (a SQLite
/// file): for `migrate`. Relative SQLite paths are relative to the project folder,
/// because `main` runs every command from there. During `migrate`, the connection
/// stops on Ctrl-C (see `signals`).
pub(crate) async fn connect(ctx: &Context) -> Result<Box<dyn Driver>, CliError> {
    let (backend, url) = backend_for(ctx)?;
    let connected = within(ctx, url, backend.connect(url)).await?;
    prepare(ctx, with_source(ctx, connected)?).await
}

/// As [`connect`], to `url` instead of the configured database: one tenant of a
/// fleet (`migrate --tenants`). A URL the backend refuses is the tenant's fault, not
/// the configuration's, so the error is the driver's own (it names the redacted URL).
pub(crate) async fn connect_to(ctx: &Context, url: &str) -> Result<Box<dyn Driver>, CliError> {
    let backend = backend_of(ctx, url)?;
    let connected = within(ctx, url, backend.connect(url)).await??;
    prepare(ctx, connected).await
}

/// As [`connect_existing`], to `url` (see [`connect_to`]).
pub(crate) async fn connect_existing_to(
    ctx: &Context,
    url: &str,
) -> Result<Box<dyn Driver>, CliError> {
    let backend = backend_of(ctx, url)?;
    let connected = within(ctx, url, backend.connect_existing(url)).await??;
    prepare(ctx, connected).await
}

/// Connects to the configured database, which must exist: for commands that only
/// read, so that a wrong path is reported (exit 4) rather than created empty.
pub(crate) async fn connect_existing(ctx: &Context) -> Result<Box<dyn Driver>, CliError> {
    let (backend, url) = backend_for(ctx)?;
    let connected = within(ctx, url, backend.connect_existing(url)).await?;
    prepare(ctx, with_source(ctx, connected)?).await
}

/// Makes the rehearsal copy of the configured database (`migrate --rehearse`),
/// within `connect_timeout` for its first connection as every connect; returns the
/// backend, which also connects to and drops the copy.
pub(crate) async fn rehearsal_copy(
    ctx: &Context,
    sample: Option<u64>,
) -> Result<(Arc<dyn Backend>, RehearsalCopy), CliError> {
    let (backend, url) = backend_for(ctx)?;
    let history_table = &ctx.project.settings.database.history_table;
    let sample = sample.map(|rows| Sample {
        rows,
        history_table,
    });
    let copy = with_source(ctx, backend.rehearsal_copy(url, sample).await)?;
    Ok((backend.clone(), copy))
}

/// Connects to a rehearsal copy as `connect` connects to the configured database.
pub(crate) async fn connect_copy(
    ctx: &Context,
    backend: &dyn Backend,
    copy: &RehearsalCopy,
) -> Result<Box<dyn Driver>, CliError> {
    let connected = within(ctx, &copy.url, backend.connect(&copy.url)).await?;
    prepare(ctx, connected?).await
}

/// Creates the configured database unless it exists: `database create`. Within
/// `connect_timeout`, as every connect.
pub(crate) async fn create(ctx: &Context) -> Result<DatabaseCreation, CliError> {
    let (backend, url) = backend_for(ctx)?;
    let created = within(ctx, url, backend.create_database(url)).await?;
    with_source(ctx, created)
}

/// The connection as strata runs it: stopping on a signal, with `statement_timeout`.
async fn prepare(ctx: &Context, driver: Box<dyn Driver>) -> Result<Box<dyn Driver>, CliError> {
    let db = &ctx.project.settings.database;
    let mut driver = signals::watch(driver, &db.history_table);
    db.session_limits().apply(driver.as_mut()).await?;
    Ok(driver)
}

/// `connecting`, given up after `connect_timeout` (zero: never, as libpq's
/// `connect_timeout=0`), with a notice every few seconds meanwhile: a server that
/// does not answer is never a silent endless wait.
async fn within<F>(ctx: &Context, url: &str, connecting: F) -> Result<F::Output, DriverError>
where
    F: Future,
{
    let db = &ctx.project.settings.database;
    let (target, timeout) = (redact_url(url), db.connect_timeout);
    let started = tokio::time::Instant::now();
    // A zero timeout waits for as long as the operating system lets a connect hang.
    let deadline = tokio::time::sleep(if timeout.is_zero() {
        Duration::from_secs(365 * 24 * 3600)
    } else {
        timeout
    });
    let mut notices = tokio::time::interval_at(started + NOTICE_EVERY, NOTICE_EVERY);
    tokio::pin!(connecting, deadline);
    loop {
        tokio::select! {
            connected = &mut connecting => return Ok(connected),
            () = &mut deadline => {
                return Err(DriverError::connect(
                    target,
                    format!(
                        "no answer within {} (connect_timeout; set it in [database] of strata.toml or with STRATA_CONNECT_TIMEOUT)",
                        seconds(timeout)
                    ),
                ));
            }
            _ = notices.tick() => tracing::warn!(
                "still connecting to {target} ({} of connect_timeout {})",
                seconds(started.elapsed()),
                seconds(timeout)
            ),
        }
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// A URL the backend refuses is the fault of whoever set it: say who.
fn with_source<T>(ctx: &Context, connected: Result<T, DriverError>) -> Result<T, CliError> {
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

/// The backend of a tenant's `url` (checked when the tenants file was read).
fn backend_of<'a>(ctx: &'a Context, url: &str) -> Result<&'a Arc<dyn Backend>, CliError> {
    let (backend, scheme) = ctx.registry.for_url(url)?;
    check_history_table(ctx, backend.dialect(&scheme).as_ref())?;
    Ok(backend)
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

/// The dialect and server version to render for: `--dialect` (offline, at
/// `--server-version` or the dialect's oldest supported version), or else the
/// configured database's, with `--server-version` overriding what the server reports.
pub(crate) async fn render_target(
    ctx: &Context,
    dialect: Option<&str>,
    server_version: Option<&str>,
) -> Result<(Arc<dyn Dialect>, ServerVersion), CliError> {
    let requested = server_version
        .map(|v| {
            v.parse::<ServerVersion>()
                .map_err(|e| CliError::Usage(format!("--server-version: {e}")))
        })
        .transpose()?;
    if let Some(name) = dialect {
        let dialect = ctx.registry.dialect(name)?;
        let version = requested.unwrap_or_else(|| dialect.minimum_version());
        return Ok((dialect, version));
    }
    let driver = connect_existing(ctx).await?;
    let found = (
        driver.dialect(),
        requested.unwrap_or_else(|| driver.version()),
    );
    driver.close().await?;
    Ok(found)
}

/// How `migration` is rendered in this project ([`Mode::of`]).
pub(crate) fn mode(ctx: &Context, migration: &Migration) -> Mode {
    Mode::of(migration, ctx.project.settings.database.safe)
}

pub(crate) fn options(ctx: &Context) -> Options {
    let db = &ctx.project.settings.database;
    Options {
        safe: db.safe,
        ddl_retries: db.ddl_retries,
        ..Options::new(db.history_table.clone(), db.lock_timeout)
    }
}

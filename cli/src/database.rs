//! Connecting to the configured database, and the executor options from settings.

use std::future::Future;
use std::time::Duration;

use strata_engine::dialect::driver::{redact_url, Driver, DriverError};
use strata_engine::executor::Options;

use crate::context::Context;
use crate::error::CliError;
use crate::signals;

/// How often a slow connect says that it is still waiting.
const NOTICE_EVERY: Duration = Duration::from_secs(3);

/// Connects to the configured database, within `connect_timeout`, and applies
/// `statement_timeout`. Relative SQLite paths are relative to the project folder,
/// because `main` runs every command from there. During `migrate`, the connection
/// stops on Ctrl-C (see `signals`).
pub(crate) async fn connect(ctx: &Context) -> Result<Box<dyn Driver>, CliError> {
    let db = &ctx.project.settings.database;
    let (backend, _scheme) = ctx.registry.for_url(&db.url)?;
    let target = redact_url(&db.url);
    tracing::info!(url = %target, "connecting");
    let driver = within(backend.connect(&db.url), &target, db.connect_timeout).await??;
    let mut driver = signals::watch(driver, &db.history_table);
    // Zero is "no limit", as PostgreSQL reads `statement_timeout = 0`.
    if let Some(timeout) = db.statement_timeout.filter(|t| !t.is_zero()) {
        driver.set_statement_timeout(timeout).await?;
    }
    Ok(driver)
}

/// `connecting`, given up after `timeout` (zero: never, as libpq's
/// `connect_timeout=0`), with a notice every few seconds meanwhile: a server that
/// does not answer is never a silent endless wait.
async fn within<F>(connecting: F, target: &str, timeout: Duration) -> Result<F::Output, DriverError>
where
    F: Future,
{
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

pub(crate) fn options(ctx: &Context) -> Options {
    let db = &ctx.project.settings.database;
    Options::new(db.history_table.clone(), db.lock_timeout)
}

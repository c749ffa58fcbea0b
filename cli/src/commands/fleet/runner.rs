//! Runs one piece of work per tenant, at most `jobs` at once, on the command's
//! runtime: the work is I/O-bound (each tenant its own connection), so futures
//! polled together are enough, with no thread per tenant.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt as _};

use super::tenants::Tenant;
use crate::error::CliError;
use crate::signals;

/// How one tenant's turn ended.
// Errors carry their full context by value (as everywhere in the CLI); one per tenant.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Turn<T> {
    Ran(Result<T, CliError>),
    /// Failed once SIGINT or SIGTERM had arrived: its running statement was cancelled
    /// (or the next one refused), and it took its normal failure path.
    Interrupted(CliError),
    /// Never started: an earlier tenant failed (without `--continue-on-error`), or a
    /// signal arrived.
    NotStarted,
}

/// Runs `work` for every tenant, `jobs` at a time, and hands each result to `done`
/// as it comes (in the order they finish). With `stop_after_failure`, once a tenant
/// has failed no new one starts; the running ones finish. Nor does one start after
/// SIGINT or SIGTERM, and a tenant that fails after one is [`Turn::Interrupted`]. An error from `done` (the report cannot be written) ends the
/// run: the running tenants are dropped, which closes their connections and so
/// releases their locks.
pub(crate) async fn run_all<'a, T, W, F>(
    tenants: &'a [Tenant],
    jobs: usize,
    stop_after_failure: bool,
    work: W,
    mut done: impl FnMut(&'a Tenant, Turn<T>, Duration) -> Result<(), CliError>,
) -> Result<(), CliError>
where
    W: Fn(&'a Tenant) -> F,
    F: Future<Output = Result<T, CliError>>,
{
    // A first signal stops the fleet gracefully even between two tenants' connects.
    let _fleet = signals::fleet();
    let stop = AtomicBool::new(false);
    let (stop, work) = (&stop, &work);
    let mut finished = stream::iter(tenants)
        .map(|tenant| async move {
            // Decided when the tenant's turn comes, not when it was queued.
            if stop.load(Ordering::SeqCst) || signals::received().is_some() {
                return (tenant, Turn::NotStarted, Duration::ZERO);
            }
            let started = Instant::now();
            // Its own session: a signal cancels every running tenant's statement.
            let turn = match signals::session(work(tenant)).await {
                Err(e) if signals::received().is_some() => Turn::Interrupted(e),
                result => Turn::Ran(result),
            };
            (tenant, turn, started.elapsed())
        })
        .buffer_unordered(jobs);
    while let Some((tenant, turn, elapsed)) = finished.next().await {
        if stop_after_failure && matches!(turn, Turn::Ran(Err(_))) {
            stop.store(true, Ordering::SeqCst);
        }
        done(tenant, turn, elapsed)?;
    }
    Ok(())
}

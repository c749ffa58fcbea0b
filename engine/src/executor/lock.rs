//! The lock policy, once for every database: the driver only tries once
//! (`Driver::try_lock`); here it is retried with backoff until the timeout, and the
//! observer hears who holds it.

use std::time::{Duration, Instant};

use tracing::warn;

use super::{ExecError, Observer};
use crate::dialect::driver::{Driver, LockAttempt};

/// The longest pause between two attempts: a freed lock is taken within this.
const MAX_BACKOFF: Duration = Duration::from_millis(500);

/// How often a waiting run says again that it waits, and for whom: a wait is never
/// silent, even when the observer prints nothing (`-q`, or an embedding application).
const NOTICE_EVERY: Duration = Duration::from_secs(5);

pub(super) async fn acquire(
    driver: &mut dyn Driver,
    name: &str,
    timeout: Duration,
    observer: &mut dyn Observer,
) -> Result<(), ExecError> {
    let started = Instant::now();
    let mut delay = Duration::from_millis(20);
    let mut last_notice: Option<Instant> = None;
    loop {
        let LockAttempt::Busy { holder } = driver.try_lock(name).await? else {
            return Ok(());
        };
        if started.elapsed() >= timeout {
            return Err(ExecError::LockTimeout {
                name: name.to_string(),
                waited: started.elapsed(),
                holder,
            });
        }
        if last_notice.is_none() {
            observer.waiting_for_lock(holder.as_deref());
        }
        if last_notice.is_none_or(|at| at.elapsed() >= NOTICE_EVERY) {
            warn!(
                "waiting for the migration lock `{name}` held by {} ({}s of lock_timeout {}s)",
                holder.as_deref().unwrap_or("another process"),
                started.elapsed().as_secs(),
                timeout.as_secs()
            );
            last_notice = Some(Instant::now());
        }
        let remaining = timeout.saturating_sub(started.elapsed());
        tokio::time::sleep(delay.min(remaining)).await;
        delay = (delay * 2).min(MAX_BACKOFF);
    }
}

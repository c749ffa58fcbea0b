//! The lock policy, once for every database: the driver only tries once
//! (`Driver::try_lock`); here it is retried with backoff until the timeout, and the
//! observer hears who holds it. The user hears of a wait once: from the observer when
//! it tells them, otherwise from the log, which reminds them every few seconds.

use std::time::{Duration, Instant};

use tracing::warn;

use super::{ExecError, Observer};
use crate::dialect::driver::{Driver, LockAttempt};

/// The longest pause between two attempts: a freed lock is taken within this.
const MAX_BACKOFF: Duration = Duration::from_millis(500);

/// How often a waiting run logs again that it waits, and for whom, when the observer
/// told no one (`-q`, or an embedding application): a wait is never silent.
const NOTICE_EVERY: Duration = Duration::from_secs(5);

pub(super) async fn acquire(
    driver: &mut dyn Driver,
    name: &str,
    timeout: Duration,
    observer: &mut dyn Observer,
) -> Result<(), ExecError> {
    let started = Instant::now();
    let mut delay = Duration::from_millis(20);
    // `None` until the first busy attempt; then whether the observer told the user.
    let mut told: Option<bool> = None;
    let mut last_reminder: Option<Instant> = None;
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
        let user_told = *told.get_or_insert_with(|| observer.waiting_for_lock(holder.as_deref()));
        if !user_told && last_reminder.is_none_or(|at| at.elapsed() >= NOTICE_EVERY) {
            warn!(
                "waiting for the migration lock `{name}` held by {} ({}s of lock_timeout {}s)",
                holder.as_deref().unwrap_or("another process"),
                started.elapsed().as_secs(),
                timeout.as_secs()
            );
            last_reminder = Some(Instant::now());
        }
        let remaining = timeout.saturating_sub(started.elapsed());
        tokio::time::sleep(delay.min(remaining)).await;
        delay = (delay * 2).min(MAX_BACKOFF);
    }
}

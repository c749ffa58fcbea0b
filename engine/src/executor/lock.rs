//! The lock policy, once for every database: the driver only tries once
//! (`Driver::try_lock`); here it is retried with backoff until the timeout, and the
//! observer hears who holds it.

use std::time::{Duration, Instant};

use tracing::warn;

use super::{ExecError, Observer};
use crate::dialect::driver::{Driver, LockAttempt};

/// The longest pause between two attempts: a freed lock is taken within this.
const MAX_BACKOFF: Duration = Duration::from_millis(500);

pub(super) async fn acquire(
    driver: &mut dyn Driver,
    name: &str,
    timeout: Duration,
    observer: &mut dyn Observer,
) -> Result<(), ExecError> {
    let started = Instant::now();
    let mut delay = Duration::from_millis(20);
    let mut reported = false;
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
        if !reported {
            warn!(
                lock = name,
                holder = holder.as_deref().unwrap_or("unknown"),
                "waiting for the migration lock"
            );
            observer.waiting_for_lock(holder.as_deref());
            reported = true;
        }
        let remaining = timeout.saturating_sub(started.elapsed());
        tokio::time::sleep(delay.min(remaining)).await;
        delay = (delay * 2).min(MAX_BACKOFF);
    }
}

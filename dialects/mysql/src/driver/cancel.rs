//! Cancelling the running statement: `KILL QUERY <connection id>` from a second
//! connection, as the `mysql` client does on Ctrl-C. The statement fails with error
//! 1317 ("Query execution was interrupted"); the session itself lives on, so strata
//! can record its checkpoint and release the lock.

use async_trait::async_trait;
use mysql_async::prelude::Queryable;
use strata_engine::dialect::driver::{redact_url, Canceller, DriverError};

use super::{caused_by, connect, error_message};

pub(super) struct MysqlCanceller {
    /// The URL of the session, to open the second connection the same way (TLS too).
    url: String,
    /// The session's connection id.
    id: u32,
}

impl MysqlCanceller {
    pub(super) fn new(url: &str, id: u32) -> Self {
        Self {
            url: url.to_string(),
            id,
        }
    }

    /// `KILL QUERY` stops whatever the session runs when it arrives; with nothing
    /// running it does nothing.
    pub(super) fn sql(&self) -> String {
        format!("KILL QUERY {}", self.id)
    }
}

#[async_trait]
impl Canceller for MysqlCanceller {
    async fn cancel(&self) -> Result<(), DriverError> {
        let mut conn = connect::open(&self.url).await?;
        let sql = self.sql();
        let killed = conn.query_drop(&sql).await.map_err(|e| {
            let target = redact_url(&self.url);
            caused_by(DriverError::connect(target, error_message(&e)), e)
        });
        // The answer to KILL is what matters; a failed goodbye changes nothing.
        let _ = conn.disconnect().await;
        killed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kills_the_query_not_the_session() {
        let canceller = MysqlCanceller::new("mysql://u:p@h/db", 42);
        assert_eq!(canceller.sql(), "KILL QUERY 42");
    }
}

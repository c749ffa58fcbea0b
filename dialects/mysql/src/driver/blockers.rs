//! Who holds the tables a DDL statement waits for (`Driver::lock_holders`), and how
//! big those tables are (`Driver::table_rows`).
//!
//! Metadata locks are visible per table only where the server exposes them: MariaDB's
//! `METADATA_LOCK_INFO` plugin (not loaded by default), MySQL 8's
//! `performance_schema.metadata_locks` (on when the performance schema is). Without
//! either, the sessions with an open InnoDB transaction are the candidates: any of
//! them may hold a metadata lock on the table until it commits.

use std::collections::BTreeMap;
use std::time::Duration;

use strata_engine::dialect::driver::{Blocker, Driver, DriverError, ErrorCode, Row};
use strata_engine::Dialect;

use super::MysqlDriver;

/// Where the blockers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    /// MariaDB's `information_schema.METADATA_LOCK_INFO`.
    MetadataLockInfo,
    /// MySQL's `performance_schema.metadata_locks`.
    PerformanceSchema,
    /// `information_schema.INNODB_TRX` joined with `PROCESSLIST`.
    OpenTransactions,
}

/// The most rows `table_rows` counts when the server's estimate is 0.
pub(super) const COUNT_CAP: u64 = 100_000;

/// The columns every query below returns, in this order: id, user, host, command
/// and state, transaction age in seconds, the lock, the query's start.
fn holders_sql(source: Source, tables: &str) -> String {
    let age = "TIMESTAMPDIFF(SECOND, trx.trx_started, NOW())";
    let common = format!("p.USER, p.HOST, CONCAT_WS(': ', p.COMMAND, NULLIF(p.STATE, '')), {age}");
    let query = "LEFT(p.INFO, 200)";
    match source {
        Source::MetadataLockInfo => format!(
            "SELECT m.THREAD_ID, {common}, \
             CONCAT(m.LOCK_MODE, ' on ', m.TABLE_SCHEMA, '.', m.TABLE_NAME), {query} \
             FROM information_schema.METADATA_LOCK_INFO m \
             JOIN information_schema.PROCESSLIST p ON p.ID = m.THREAD_ID \
             LEFT JOIN information_schema.INNODB_TRX trx ON trx.trx_mysql_thread_id = p.ID \
             WHERE m.TABLE_SCHEMA = DATABASE() AND m.TABLE_NAME IN ({tables}) \
             AND m.THREAD_ID <> CONNECTION_ID() ORDER BY m.THREAD_ID"
        ),
        Source::PerformanceSchema => format!(
            "SELECT th.PROCESSLIST_ID, {common}, \
             CONCAT(ml.LOCK_TYPE, ' metadata lock on ', ml.OBJECT_SCHEMA, '.', ml.OBJECT_NAME), \
             {query} \
             FROM performance_schema.metadata_locks ml \
             JOIN performance_schema.threads th ON th.THREAD_ID = ml.OWNER_THREAD_ID \
             JOIN information_schema.PROCESSLIST p ON p.ID = th.PROCESSLIST_ID \
             LEFT JOIN information_schema.INNODB_TRX trx ON trx.trx_mysql_thread_id = p.ID \
             WHERE ml.OBJECT_TYPE = 'TABLE' AND ml.LOCK_STATUS = 'GRANTED' \
             AND ml.OBJECT_SCHEMA = DATABASE() AND ml.OBJECT_NAME IN ({tables}) \
             AND th.PROCESSLIST_ID <> CONNECTION_ID() ORDER BY th.PROCESSLIST_ID"
        ),
        Source::OpenTransactions => format!(
            "SELECT p.ID, {common}, \
             'an open InnoDB transaction (which tables it holds is not visible: \
             no METADATA_LOCK_INFO or performance_schema.metadata_locks)', {query} \
             FROM information_schema.INNODB_TRX trx \
             JOIN information_schema.PROCESSLIST p ON p.ID = trx.trx_mysql_thread_id \
             WHERE p.ID <> CONNECTION_ID() ORDER BY trx.trx_started"
        ),
    }
}

fn blocker(row: Row) -> Option<Blocker> {
    let mut cells = row.into_iter();
    let mut next = || cells.next().flatten().filter(|s| !s.is_empty());
    let pid = next()?;
    Some(Blocker {
        pid,
        user: next(),
        application: None,
        client: next(),
        state: next(),
        transaction_age: next()
            .and_then(|s| s.parse::<u64>().ok())
            .map(Duration::from_secs),
        lock: next(),
        query: next(),
    })
}

impl MysqlDriver {
    /// The best source this server offers.
    async fn blocker_source(&mut self) -> Result<Source, DriverError> {
        let plugin = self
            .scalar(
                "SELECT count(*) FROM information_schema.PLUGINS \
                 WHERE PLUGIN_NAME = 'METADATA_LOCK_INFO' AND PLUGIN_STATUS = 'ACTIVE'",
            )
            .await?;
        if plugin.as_deref() == Some("1") {
            return Ok(Source::MetadataLockInfo);
        }
        let schema = self.scalar("SELECT @@performance_schema").await?;
        if schema.as_deref() == Some("1") {
            let instrument = self
                .scalar(
                    "SELECT ENABLED FROM performance_schema.setup_instruments \
                     WHERE NAME = 'wait/lock/metadata/sql/mdl'",
                )
                .await?;
            if instrument.as_deref() == Some("YES") {
                return Ok(Source::PerformanceSchema);
            }
        }
        Ok(Source::OpenTransactions)
    }

    fn string_list(&self, values: &[String]) -> String {
        values
            .iter()
            .map(|v| self.dialect.quote_string(v))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub(super) async fn holders(&mut self, tables: &[String]) -> Result<Vec<Blocker>, DriverError> {
        if tables.is_empty() {
            return Ok(Vec::new());
        }
        let source = self.blocker_source().await?;
        let sql = holders_sql(source, &self.string_list(tables));
        Ok(self
            .query(&sql)
            .await?
            .into_iter()
            .filter_map(blocker)
            .collect())
    }

    /// `TABLE_ROWS`, InnoDB's estimate; a 0 may only mean that statistics were not
    /// gathered yet (a fresh table), so it is replaced by a count capped at
    /// [`COUNT_CAP`].
    pub(super) async fn row_estimates(
        &mut self,
        tables: &[String],
    ) -> Result<BTreeMap<String, u64>, DriverError> {
        if tables.is_empty() {
            return Ok(BTreeMap::new());
        }
        let sql = format!(
            "SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ({})",
            self.string_list(tables)
        );
        let mut rows = BTreeMap::new();
        for row in self.query(&sql).await? {
            let mut cells = row.into_iter();
            let (Some(Some(name)), estimate) = (cells.next(), cells.next().flatten()) else {
                continue;
            };
            let estimate = estimate.and_then(|e| e.parse::<u64>().ok()).unwrap_or(0);
            let rows_now = if estimate > 0 {
                estimate
            } else {
                let count = format!(
                    "SELECT count(*) FROM (SELECT 1 FROM {} LIMIT {COUNT_CAP}) AS capped",
                    self.dialect.quote_ident(&name)
                );
                match self.scalar(&count).await {
                    Ok(cell) => cell.and_then(|c| c.parse().ok()).unwrap_or(0),
                    // Renamed or dropped by another session since: left out.
                    Err(e) if is_no_such_table(&e) => continue,
                    Err(e) => return Err(e),
                }
            };
            rows.insert(name, rows_now);
        }
        Ok(rows)
    }
}

/// ER_NO_SUCH_TABLE.
fn is_no_such_table(e: &DriverError) -> bool {
    matches!(e.code(), Some(ErrorCode::ServerError { number: 1146, .. }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_becomes_a_blocker() {
        let row: Row = [
            "12",
            "app",
            "10.0.0.5:51234",
            "Sleep",
            "42",
            "an open InnoDB transaction",
            "",
        ]
        .iter()
        .map(|s| Some(s.to_string()))
        .collect();
        let b = blocker(row).expect("a blocker");
        assert_eq!(b.pid, "12");
        assert_eq!(b.client.as_deref(), Some("10.0.0.5:51234"));
        assert_eq!(b.transaction_age, Some(Duration::from_secs(42)));
        assert_eq!(b.query, None, "an empty query is none");
        assert!(blocker(vec![None]).is_none(), "no id, no blocker");
    }

    #[test]
    fn every_source_returns_the_same_columns() {
        for source in [
            Source::MetadataLockInfo,
            Source::PerformanceSchema,
            Source::OpenTransactions,
        ] {
            let sql = holders_sql(source, "'t'");
            assert!(sql.contains("CONNECTION_ID()"), "{sql}");
            assert!(sql.contains("LEFT(p.INFO, 200)"), "{sql}");
        }
    }
}

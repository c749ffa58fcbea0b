//! How big a table is, cheaply: the planner's estimate `pg_class.reltuples`, kept up
//! to date by `ANALYZE` and autovacuum. A table never analyzed has no estimate
//! (`-1` from PostgreSQL 14; `0` with no pages before), so its rows are counted, up to
//! a cap: the count only has to say whether a table is small or large.

use std::collections::BTreeMap;

use strata_engine::dialect::driver::DriverError;
use strata_engine::Dialect;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use super::statement_error;
use crate::PostgresDialect;

/// The tables (`$1`) of `current_schema()` with their estimate, or NULL without one.
const ESTIMATES_SQL: &str = "\
SELECT c.relname::text,
       CASE WHEN c.reltuples < 0 OR (c.reltuples = 0 AND c.relpages = 0) THEN NULL
            ELSE round(c.reltuples)::bigint END
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relname = ANY($1::text[])
  AND c.relkind IN ('r', 'p')";

/// The most rows a table without an estimate is counted up to.
pub(crate) const COUNT_CAP: u64 = 1_000_000;

pub(super) async fn table_rows(
    client: &Client,
    tables: &[String],
) -> Result<BTreeMap<String, u64>, DriverError> {
    let mut out = BTreeMap::new();
    if tables.is_empty() {
        return Ok(out);
    }
    let rows = client
        .query(ESTIMATES_SQL, &[&tables])
        .await
        .map_err(|e| statement_error(ESTIMATES_SQL, e))?;
    for row in rows {
        let name: String = row.get(0);
        let estimate: Option<i64> = row.get(1);
        let count = match estimate {
            // Never negative here: the query turns a negative estimate into NULL.
            Some(estimate) => Some(u64::try_from(estimate).unwrap_or(0)),
            None => capped_count(client, &name).await?,
        };
        // A table another session renamed or dropped since is left out.
        if let Some(count) = count {
            out.insert(name, count);
        }
    }
    Ok(out)
}

/// The exact row count of `table`, or [`COUNT_CAP`] if it has at least that many;
/// `None` when the table is gone (another session's migration renamed or dropped it
/// since the estimates were read).
async fn capped_count(client: &Client, table: &str) -> Result<Option<u64>, DriverError> {
    let sql = format!(
        "SELECT count(*) FROM (SELECT FROM {} LIMIT {COUNT_CAP}) AS capped",
        PostgresDialect.quote_ident(table)
    );
    let row = match client.query_one(&sql, &[]).await {
        Ok(row) => row,
        Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => return Ok(None),
        Err(e) => return Err(statement_error(&sql, e)),
    };
    let count: i64 = row.get(0);
    Ok(Some(u64::try_from(count).unwrap_or(0)))
}

//! Running a `backfill` statement: the table's primary key walked in batches, each
//! batch's UPDATE committed in one transaction with the checkpoint that records its
//! last key, so a stopped backfill resumes after the last committed batch and never
//! holds a long transaction.

use std::time::Instant;

use tracing::Instrument;

use super::run::{run_with_record, Bookkeeping};
use crate::dialect::driver::{Driver, DriverError};
use crate::dialect::{BackfillSql, Statement};
use crate::executor::BackfillProgress;
use crate::history::BackfillCursor;

/// A failed backfill: the error, whether batches of it committed before (the
/// database changed even though the operation did not complete), and the last batch
/// committed, where a retry starts.
pub(super) struct BackfillFailed {
    pub(super) source: DriverError,
    pub(super) committed: bool,
    pub(super) cursor: Option<BackfillCursor>,
}

/// Walks the table of `sql`, operation `index` of the script, after `from` (the last
/// batch committed, by an earlier run or an earlier attempt of this one).
pub(super) async fn run_backfill(
    driver: &mut dyn Driver,
    index: usize,
    sql: &BackfillSql,
    bookkeeping: &dyn Bookkeeping,
    from: Option<BackfillCursor>,
) -> Result<(), BackfillFailed> {
    let span = tracing::info_span!("backfill", table = %sql.table, batch_size = sql.batch_size);
    let mut walk = Walk {
        sql,
        index,
        bookkeeping,
        cursor: from,
        started: Instant::now(),
        batches: 0,
        rows_this_run: 0,
        rows_total: None,
    };
    let result = walk.run(driver).instrument(span).await;
    result.map_err(|source| BackfillFailed {
        source,
        committed: walk.batches > 0,
        cursor: walk.cursor,
    })
}

struct Walk<'a> {
    sql: &'a BackfillSql,
    index: usize,
    bookkeeping: &'a dyn Bookkeeping,
    /// The last committed batch, of this run or an earlier one.
    cursor: Option<BackfillCursor>,
    started: Instant,
    batches: u64,
    rows_this_run: u64,
    rows_total: Option<u64>,
}

impl Walk<'_> {
    async fn run(&mut self, driver: &mut dyn Driver) -> Result<(), DriverError> {
        let done_before = self.cursor.as_ref().map_or(0, |c| c.rows);
        if let Some(cursor) = &self.cursor {
            tracing::info!(after = %cursor.key, rows_done = cursor.rows, "resuming the backfill");
        }
        // The server's cheap estimate of the table, once: a progress display's total.
        self.rows_total = driver
            .table_rows(std::slice::from_ref(&self.sql.table))
            .await
            .ok()
            .and_then(|rows| rows.get(&self.sql.table).copied())
            .map(|rows| rows.max(done_before));
        loop {
            let after = self.after_literal(driver)?;
            let Some((end, full)) = self.batch_end(driver, after.as_deref()).await? else {
                return Ok(());
            };
            let end_literal = self.literal(driver, &end)?;
            let rows = if full {
                self.sql.batch_size
            } else {
                self.count(driver, after.as_deref(), &end_literal).await?
            };
            let cursor = BackfillCursor {
                key: end,
                rows: self.cursor.as_ref().map_or(0, |c| c.rows) + rows,
            };
            let update = Statement::new(self.sql.update(after.as_deref(), &end_literal));
            tracing::debug!(sql = %update.sql, "executing");
            match self.bookkeeping.backfill_checkpoint(self.index, &cursor) {
                Some(record) => run_with_record(driver, &update, &record, self.bookkeeping)
                    .await
                    .map_err(|(_, e)| e)?,
                None => driver.execute(&update.sql).await?,
            }
            self.batches += 1;
            self.rows_this_run += rows;
            self.cursor = Some(cursor);
            self.report();
            if !full {
                return Ok(());
            }
            if let Some(pause) = self.sql.pause {
                tokio::time::sleep(pause).await;
            }
        }
    }

    /// The last committed key as SQL, if any.
    fn after_literal(&self, driver: &dyn Driver) -> Result<Option<String>, DriverError> {
        self.cursor
            .as_ref()
            .map(|c| self.literal(driver, &c.key))
            .transpose()
    }

    fn literal(&self, driver: &dyn Driver, key: &str) -> Result<String, DriverError> {
        let dialect = driver.dialect();
        self.sql.literal(dialect.as_ref(), key).ok_or_else(|| {
            DriverError::statement(
                self.sql.next_end(None),
                format!(
                    "backfill of `{}`: key value `{key}` of integer column `{}` is not an integer",
                    self.sql.table, self.sql.key_name
                ),
            )
        })
    }

    /// The last key of the next batch, and whether the batch is full (more may
    /// follow); `None` when no key is left.
    async fn batch_end(
        &self,
        driver: &mut dyn Driver,
        after: Option<&str>,
    ) -> Result<Option<(String, bool)>, DriverError> {
        let first = |rows: Vec<Vec<Option<String>>>| {
            rows.into_iter()
                .next()
                .and_then(|row| row.into_iter().next().flatten())
        };
        if let Some(end) = first(driver.query(&self.sql.next_end(after)).await?) {
            return Ok(Some((end, true)));
        }
        Ok(first(driver.query(&self.sql.last_key(after)).await?).map(|end| (end, false)))
    }

    /// The keys of the last, short batch.
    async fn count(
        &self,
        driver: &mut dyn Driver,
        after: Option<&str>,
        end: &str,
    ) -> Result<u64, DriverError> {
        let sql = self.sql.count(after, end);
        let rows = driver.query(&sql).await?;
        rows.first()
            .and_then(|row| row.first().cloned().flatten())
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| DriverError::statement(sql, "the count returned no number"))
    }

    fn report(&self) {
        let rows_done = self.cursor.as_ref().map_or(0, |c| c.rows);
        let progress = BackfillProgress {
            table: self.sql.table.clone(),
            rows_done,
            rows_total: self.rows_total.map(|t| t.max(rows_done)),
            batches: self.batches,
            elapsed: self.started.elapsed(),
            rows_this_run: self.rows_this_run,
        };
        tracing::info!(
            batch = self.batches,
            rows_done = progress.rows_done,
            last_key = self.cursor.as_ref().map_or("", |c| c.key.as_str()),
            "backfill batch committed"
        );
        self.bookkeeping.backfill_progress(self.index, &progress);
    }
}

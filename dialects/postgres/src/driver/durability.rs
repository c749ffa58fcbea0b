//! A run's commits wait for the disk once, at its end, instead of once each.
//!
//! While `migrate` holds the lock, the session runs with `synchronous_commit = off`:
//! a commit returns once its WAL is written to the server's buffers, and the WAL
//! writer flushes it within a few hundred milliseconds. PostgreSQL writes and
//! replays the WAL in order, so a server crash can lose only the run's last commits,
//! all of them after any it keeps: each migration goes with its history row, and the
//! history says exactly what the schema holds, as after a crash a moment earlier. A
//! crash of strata itself loses nothing (the server flushes what it was given).
//!
//! Before the lock is released, the session's own setting comes back and one small
//! WAL record of strata's (a transactional `pg_logical_emit_message`, which gives
//! its transaction an id and WAL to flush) commits with it: that commit waits for
//! the WAL up to it, every commit of the run included, as the server's setting says
//! (the disk; with synchronous replication, the standbys too). So when `migrate`
//! returns, or the next one gets the lock, everything is where each commit would
//! have put it. A commit that writes no WAL of its own (`SELECT pg_current_xact_id()`)
//! would not wait: PostgreSQL flushes only for a transaction that wrote some.
//!
//! Where the session may not call `pg_logical_emit_message` (a server that revokes
//! it, or lacks it), nothing is deferred: every commit waits, as before.

use strata_engine::dialect::driver::DriverError;
use tokio_postgres::Client;

use super::statement_error;

const PROBE_SQL: &str = "\
SELECT current_setting('synchronous_commit'),
       has_function_privilege('pg_catalog.pg_logical_emit_message(boolean, text, text)', 'EXECUTE')";
const DEFER_SQL: &str = "SET synchronous_commit = off";
const RESTORE_SQL: &str = "SELECT set_config('synchronous_commit', $1, false)";
const FLUSH_SQL: &str = "SELECT pg_logical_emit_message(true, 'strata', 'migrate')";

/// What the session's `synchronous_commit` was before the run deferred it.
#[derive(Debug)]
pub(super) struct Deferred {
    setting: String,
}

/// `synchronous_commit = off` for the session, when its end can be made durable:
/// `None` where it cannot (nothing changed then).
pub(super) async fn defer(client: &Client) -> Result<Option<Deferred>, DriverError> {
    let row = match client.query_one(PROBE_SQL, &[]).await {
        Ok(row) => row,
        // No such function (a PostgreSQL look-alike): commits keep waiting.
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_FUNCTION) => {
            return Ok(None);
        }
        Err(e) => return Err(statement_error(PROBE_SQL, e)),
    };
    let setting: String = row.get(0);
    let may_flush: bool = row.get(1);
    if !may_flush {
        tracing::debug!("pg_logical_emit_message not allowed: every commit waits for the disk");
        return Ok(None);
    }
    tracing::trace!(sql = DEFER_SQL, "execute");
    client
        .batch_execute(DEFER_SQL)
        .await
        .map_err(|e| statement_error(DEFER_SQL, e))?;
    Ok(Some(Deferred { setting }))
}

/// The session's setting back, and a commit that waits for every earlier one.
pub(super) async fn end(client: &Client, deferred: Deferred) -> Result<(), DriverError> {
    tracing::trace!(sql = RESTORE_SQL, setting = %deferred.setting, "query");
    client
        .query_one(RESTORE_SQL, &[&deferred.setting])
        .await
        .map_err(|e| statement_error(RESTORE_SQL, e))?;
    tracing::trace!(sql = FLUSH_SQL, "query");
    client
        .query_one(FLUSH_SQL, &[])
        .await
        .map_err(|e| statement_error(FLUSH_SQL, e))?;
    Ok(())
}

//! A run's commits wait for the disk once, at its end, instead of once each.
//!
//! While `migrate` runs its steps, strata's own session has `synchronous_commit =
//! off`: a commit returns once its WAL is in the server's buffers, and the WAL writer
//! flushes it within a few hundred milliseconds. PostgreSQL writes and replays the
//! WAL in order, so a server crash can lose only the run's last commits, all of them
//! after any it keeps: each migration goes with its history row, and the history says
//! exactly what the schema holds, as after a crash a moment earlier. A crash of strata
//! itself loses nothing (the server flushes what it was given).
//!
//! Before the lock is released, `RESET` brings back the session's own setting (the
//! server's, the role's, the URL's) and one small WAL record of strata's (a
//! transactional `pg_logical_emit_message`, which gives its transaction an id and WAL
//! to flush) commits with it: that commit waits for the WAL up to it, every commit of
//! the run included, as that setting says (the disk; with synchronous replication,
//! the standbys too). A commit that writes no WAL of its own (`SELECT
//! pg_current_xact_id()`) would not wait: PostgreSQL flushes only for a transaction
//! that wrote some.
//!
//! Where the session may not call `pg_logical_emit_message` (revoked, a server
//! without it) or cannot write at all (a standby), nothing is deferred.

use tokio_postgres::Client;

/// Any signature (PostgreSQL 17 added a fourth argument with a default).
const PROBE_SQL: &str = "\
SELECT NOT pg_catalog.pg_is_in_recovery() AND EXISTS (
  SELECT FROM pg_catalog.pg_proc
  WHERE proname = 'pg_logical_emit_message'
    AND pronamespace = 'pg_catalog'::regnamespace
    AND pg_catalog.has_function_privilege(oid, 'EXECUTE'))";
pub(super) const DEFER_SQL: &str = "SET synchronous_commit = off";
pub(super) const RESTORE_SQL: &str = "RESET synchronous_commit";
pub(super) const FLUSH_SQL: &str =
    "SELECT pg_catalog.pg_logical_emit_message(true, 'strata', 'migrate')";

/// Whether this session can defer its commits and make them durable at the end. An
/// error reads as no: deferring only saves time.
pub(super) async fn can_defer(client: &Client) -> bool {
    let answer = client
        .query_one(PROBE_SQL, &[])
        .await
        .and_then(|row| row.try_get::<_, bool>(0));
    match answer {
        Ok(can) => can,
        Err(e) => {
            tracing::debug!(error = %e, "commits will wait for the disk one by one");
            false
        }
    }
}

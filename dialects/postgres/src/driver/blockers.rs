//! Blocker blame: the sessions that hold (or queue for) locks on the tables a DDL
//! statement waits for, so that a lock timeout names whom to ask, or what to kill.
//!
//! A relation lock is not all a statement can wait for: `CREATE INDEX CONCURRENTLY`
//! (and `DROP`/`REINDEX … CONCURRENTLY`) also waits, through their virtual
//! transaction ids, for every session of the database whose snapshot is older than
//! the build, whatever table it reads. Those sessions hold no lock on the table, so
//! they are listed too, after the lock holders: always, not only when no session
//! holds a lock, because a harmless reader of the table (`ACCESS SHARE` does not
//! stop a concurrent build) would otherwise hide the session that does.
//!
//! The table names are bound as a `text[]` parameter and matched against
//! `pg_class.relname` in `current_schema()`: a name from a migration file never
//! becomes SQL text.

use std::time::Duration;

use strata_engine::dialect::driver::{Blocker, DriverError};
use tokio_postgres::Client;

use super::statement_error;

/// What a session listed only for its old snapshot "holds".
const OLD_SNAPSHOT: &str =
    "a snapshot older than this lock wait (concurrent index builds wait for it)";

/// Sessions of this database, other than ours, with a relation lock on one of the
/// tables (`$1`), granted or awaited; plus, when a session waits on one of them, the
/// sessions `pg_blocking_pids` says it waits for; then the client sessions holding a
/// snapshot (`backend_xmin`: idle sessions, and idle-in-transaction ones at READ
/// COMMITTED, hold none) in a transaction open for at least this session's
/// `lock_timeout`: a concurrent build that waited that long before giving up can
/// only have waited for one of those. One row per session: lock holders and those
/// they block first, oldest transaction first; then the snapshots, oldest first.
const HOLDERS_SQL: &str = "\
WITH target AS (
    SELECT c.oid, c.relname
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relname = ANY($1::text[])
), relation_locks AS (
    SELECT l.pid, l.granted, t.relname,
           -- AccessShareLock as the docs (and strata's lock notes) name it: ACCESS SHARE.
           upper(regexp_replace(regexp_replace(l.mode, 'Lock$', ''),
                                '([a-z])([A-Z])', '\\1 \\2', 'g')) AS mode
    FROM pg_locks l
    JOIN target t ON t.oid = l.relation
    WHERE l.locktype = 'relation'
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
), holders AS (
    SELECT pid,
           string_agg(DISTINCT mode || CASE WHEN granted THEN '' ELSE ' (waiting)' END
                      || ' on ' || relname, ', ') AS locks
    FROM relation_locks
    GROUP BY pid
), blocking AS (
    SELECT DISTINCT unnest(pg_blocking_pids(pid)) AS pid
    FROM relation_locks
    WHERE NOT granted
), old_snapshots AS (
    SELECT pid
    FROM pg_stat_activity
    WHERE datid = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND backend_type = 'client backend'
      AND backend_xmin IS NOT NULL
      AND xact_start <= statement_timestamp() - current_setting('lock_timeout')::interval
), sessions AS (
    -- The first reason a session is listed: 0 holds a lock, 1 blocks a waiter, 2 an
    -- old snapshot.
    SELECT pid, min(reason) AS reason
    FROM (SELECT pid, 0 AS reason FROM holders
          UNION ALL SELECT pid, 1 FROM blocking
          UNION ALL SELECT pid, 2 FROM old_snapshots) listed
    GROUP BY pid
)
SELECT a.pid::text,
       a.usename::text,
       nullif(a.application_name, ''),
       CASE WHEN a.client_addr IS NULL THEN 'local'
            WHEN family(a.client_addr) = 6 THEN '[' || host(a.client_addr) || ']:' || a.client_port
            ELSE host(a.client_addr) || ':' || a.client_port END,
       a.state,
       extract(epoch FROM now() - a.xact_start)::float8,
       coalesce(h.locks, CASE s.reason WHEN 1 THEN 'blocks a session waiting on these tables'
                                       ELSE $2 END),
       left(a.query, 200)
FROM sessions s
JOIN pg_stat_activity a ON a.pid = s.pid
LEFT JOIN holders h ON h.pid = s.pid
WHERE s.pid <> pg_backend_pid()
ORDER BY s.reason = 2, a.xact_start NULLS LAST, a.pid";

pub(super) async fn lock_holders(
    client: &Client,
    tables: &[String],
) -> Result<Vec<Blocker>, DriverError> {
    if tables.is_empty() {
        return Ok(Vec::new());
    }
    let rows = client
        .query(HOLDERS_SQL, &[&tables, &OLD_SNAPSHOT])
        .await
        .map_err(|e| statement_error(HOLDERS_SQL, e))?;
    rows.iter()
        .map(|row| {
            let text = |i: usize| {
                row.try_get::<_, Option<String>>(i)
                    .map_err(|e| statement_error(HOLDERS_SQL, e))
            };
            let age: Option<f64> = row
                .try_get(5)
                .map_err(|e| statement_error(HOLDERS_SQL, e))?;
            Ok(Blocker {
                pid: text(0)?.unwrap_or_default(),
                user: text(1)?,
                application: text(2)?,
                client: text(3)?,
                state: text(4)?,
                // A clock step can make it negative for an instant.
                transaction_age: age.map(|seconds| Duration::from_secs_f64(seconds.max(0.0))),
                lock: text(6)?,
                query: text(7)?,
            })
        })
        .collect()
}

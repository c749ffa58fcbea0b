//! The migration lock: a session-level advisory lock.
//!
//! Session level (not transaction level) because the executor holds the lock across
//! many transactions; and a session lock dies with its connection, so a process
//! killed mid-migration never leaves a stale lock behind. Advisory locks are scoped
//! to the current database, so two databases on one server never block each other;
//! two schemas of one database (`?schema=`, one per tenant) would, so the schema the
//! history is in is part of the key there (see [`Scope`]).

use sha2::{Digest, Sha256};
use strata_engine::dialect::driver::{DriverError, LockAttempt};
use tokio_postgres::Client;

use super::statement_error;

const TRY_LOCK_SQL: &str = "SELECT pg_try_advisory_lock($1)";
const UNLOCK_SQL: &str = "SELECT pg_advisory_unlock($1)";

/// Who holds the advisory lock with a given key in this database. A `bigint` key is
/// stored as `classid` (high half), `objid` (low half) and `objsubid = 1`.
const HOLDER_SQL: &str = "\
SELECT a.pid::text,
       coalesce(nullif(a.application_name, ''), 'no application_name'),
       coalesce(a.usename::text, '?') || '@' || coalesce(host(a.client_addr), 'local socket'),
       coalesce(to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ'), '?')
FROM pg_locks l
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 1";

/// The 64-bit advisory key of a lock name in a schema (`None`: no `?schema=`): the
/// first 8 bytes of a SHA-256. Deterministic across processes and versions, so every
/// strata agrees on it; without a schema, the key strata has always used. With one,
/// the schema and a NUL come first: no schema name holds a NUL, so no two (schema,
/// name) pairs, nor a schema-less name, hash the same text.
pub(super) fn key(schema: Option<&str>, name: &str) -> i64 {
    let mut hasher = Sha256::new();
    if let Some(schema) = schema {
        hasher.update(schema.as_bytes());
        hasher.update([0]);
    }
    hasher.update(name.as_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// The two `oid` halves under which `pg_locks` shows a `bigint` key.
fn halves(key: i64) -> (u32, u32) {
    let [h0, h1, h2, h3, l0, l1, l2, l3] = key.to_be_bytes();
    (
        u32::from_be_bytes([h0, h1, h2, h3]),
        u32::from_be_bytes([l0, l1, l2, l3]),
    )
}

/// Which advisory keys a session takes for one lock name. The history table lives
/// in one schema, and every session whose history is there must exclude the others,
/// however it got there: `?schema=`, or a `search_path` from `options=-csearch_path=…`
/// or `ALTER ROLE … SET search_path`. So each takes the key of that schema; and a
/// session in the schema a session without `?schema=` uses also takes the key strata
/// has always taken (older stratas take only that one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Scope {
    /// Take the schema-less key: no `?schema=`, or the schema named is that default.
    pub shared: bool,
    /// The schema the session's history lives in (`current_schema()`), if any.
    pub schema: Option<String>,
}

impl Scope {
    /// The keys of `name`, always in the same order (so two sessions never each hold
    /// one of the other's keys while waiting).
    fn keys(&self, name: &str) -> Vec<i64> {
        let shared = self.shared.then(|| key(None, name));
        let own = self.schema.as_deref().map(|schema| key(Some(schema), name));
        shared.into_iter().chain(own).collect()
    }
}

/// Takes every key of `scope`, or none: a busy one gives back those taken before it.
pub(super) async fn try_lock(
    client: &Client,
    scope: &Scope,
    name: &str,
) -> Result<LockAttempt, DriverError> {
    let keys = scope.keys(name);
    for (taken, &key) in keys.iter().enumerate() {
        if !ask(client, TRY_LOCK_SQL, key).await? {
            for &held in keys[..taken].iter().rev() {
                ask(client, UNLOCK_SQL, held).await?;
            }
            return Ok(LockAttempt::Busy {
                holder: holder(client, key).await?,
            });
        }
    }
    Ok(LockAttempt::Acquired)
}

/// Releases the lock. Releasing a lock this session does not hold is harmless (there
/// is nothing to release), so the server's `false` is only logged.
pub(super) async fn unlock(client: &Client, scope: &Scope, name: &str) -> Result<(), DriverError> {
    for key in scope.keys(name).into_iter().rev() {
        tracing::trace!(sql = UNLOCK_SQL, key, "query");
        if !ask(client, UNLOCK_SQL, key).await? {
            tracing::warn!(
                lock = name,
                "the migration lock was not held by this session"
            );
        }
    }
    Ok(())
}

/// Runs a one-parameter, one-boolean query.
async fn ask(client: &Client, sql: &str, key: i64) -> Result<bool, DriverError> {
    client
        .query_one(sql, &[&key])
        .await
        .and_then(|row| row.try_get(0))
        .map_err(|e| statement_error(sql, e))
}

/// "pid 1234 (strata, app@10.0.0.7, running since 2025-01-31 09:15:02 UTC)", or
/// `None` when the holder let go between the attempt and this query.
async fn holder(client: &Client, key: i64) -> Result<Option<String>, DriverError> {
    let (classid, objid) = halves(key);
    let rows = client
        .query(HOLDER_SQL, &[&classid, &objid])
        .await
        .map_err(|e| statement_error(HOLDER_SQL, e))?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let text = |i: usize| {
        row.try_get::<_, String>(i)
            .map_err(|e| statement_error(HOLDER_SQL, e))
    };
    Ok(Some(format!(
        "pid {} ({}, {}, running since {})",
        text(0)?,
        text(1)?,
        text(2)?,
        text(3)?
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_stable_and_depends_on_the_name() {
        // Pinned: a different key would let an old and a new strata migrate at once.
        assert_eq!(
            key(None, "strata:strata_migrations"),
            -8_397_786_590_616_460_299
        );
        assert_ne!(key(None, "strata:a"), key(None, "strata:b"));
        let digest = Sha256::digest(b"strata:x");
        assert_eq!(key(None, "strata:x").to_be_bytes(), digest[..8]);
    }

    #[test]
    fn a_scope_takes_the_shared_key_first_then_its_schema() {
        let name = "strata:strata_migrations";
        let scope = |shared, schema: Option<&str>| Scope {
            shared,
            schema: schema.map(str::to_string),
        };
        assert_eq!(
            scope(true, Some("public")).keys(name),
            [key(None, name), key(Some("public"), name)]
        );
        assert_eq!(scope(false, Some("t")).keys(name), [key(Some("t"), name)]);
        assert_eq!(scope(true, None).keys(name), [key(None, name)]);
    }

    #[test]
    fn the_schema_is_part_of_the_key() {
        let name = "strata:strata_migrations";
        assert_ne!(key(Some("tenant_1"), name), key(Some("tenant_2"), name));
        assert_ne!(key(Some("tenant_1"), name), key(None, name));
        // Not a plain concatenation: (`a`, `bc`) and (`ab`, `c`) differ.
        assert_ne!(key(Some("a"), "bc"), key(Some("ab"), "c"));
        let digest = Sha256::digest(b"tenant_1\0strata:x");
        assert_eq!(key(Some("tenant_1"), "strata:x").to_be_bytes(), digest[..8]);
    }

    #[test]
    fn halves_are_how_pg_locks_shows_a_bigint_key() {
        assert_eq!(halves(0x0000_0001_0000_0002), (1, 2));
        assert_eq!(halves(-1), (u32::MAX, u32::MAX));
        assert_eq!(halves(i64::MIN), (0x8000_0000, 0));
    }
}

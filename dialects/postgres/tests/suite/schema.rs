//! `?schema=NAME` on a live server (`STRATA_TEST_POSTGRES_URL`): the session lives in
//! that schema (introspection, row counts and blockers see only it, nothing lands in
//! `public`), the migration lock is per schema, a missing schema is created for
//! writing and refused for reading, and any name is quoted.

use std::time::Duration;

use strata_engine::dialect::driver::{Driver, LockAttempt};
use strata_engine::dialect::Backend;
use strata_postgres::{PostgresBackend, PostgresDriver};

use crate::common::{server_url, with_fresh_database};

const LOCK: &str = "strata:strata_migrations";

/// `url` with `?schema=` (or `&schema=`) and `schema` percent-encoded.
fn in_schema(url: &str, schema: &str) -> String {
    let encoded: String = schema
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'_' {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}schema={encoded}")
}

/// `url` with `user` (no password) as its user.
fn as_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let host = rest.split_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{user}@{host}")
}

async fn connect(url: &str) -> PostgresDriver {
    PostgresDriver::connect(url).await.expect("connect")
}

/// The first column of the first row of `sql`.
async fn value(driver: &mut PostgresDriver, sql: &str) -> Option<String> {
    let rows = driver.query(sql).await.expect(sql);
    rows.first().and_then(|row| row.first().cloned().flatten())
}

#[tokio::test]
async fn each_schema_sees_only_its_own_tables() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let mut a = connect(&in_schema(&url, "tenant_a")).await;
        let mut b = connect(&in_schema(&url, "tenant_b")).await;
        // One table name in both schemas, with different columns and rows.
        a.execute("CREATE TABLE items (id int PRIMARY KEY, only_in_a text)")
            .await
            .unwrap();
        a.execute("INSERT INTO items VALUES (1, 'x'), (2, 'y'), (3, 'z')")
            .await
            .unwrap();
        a.execute("CREATE TABLE a_only (id int)").await.unwrap();
        b.execute("CREATE TABLE items (id int PRIMARY KEY, only_in_b int)")
            .await
            .unwrap();
        b.execute("INSERT INTO items VALUES (1, 1)").await.unwrap();

        assert_eq!(a.table_names().await.unwrap(), ["a_only", "items"]);
        assert_eq!(b.table_names().await.unwrap(), ["items"]);
        let state = a.introspect().await.unwrap();
        let columns: Vec<&str> = state.tables["items"]
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(columns, ["id", "only_in_a"]);
        let state = b.introspect().await.unwrap();
        assert_eq!(state.tables.keys().collect::<Vec<_>>(), ["items"]);
        assert_eq!(state.tables["items"].columns[1].name, "only_in_b");

        let items = vec!["items".to_string()];
        assert_eq!(a.table_rows(&items).await.unwrap()["items"], 3);
        assert_eq!(b.table_rows(&items).await.unwrap()["items"], 1);

        // Nothing landed in public: a session without `schema=` sees no table.
        let mut plain = connect(&url).await;
        assert_eq!(plain.table_names().await.unwrap(), Vec::<String>::new());
        assert_eq!(
            value(
                &mut plain,
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            )
            .await
            .as_deref(),
            Some("0")
        );
        for driver in [a, b, plain] {
            Box::new(driver).close().await.unwrap();
        }
    })
    .await;
}

#[tokio::test]
async fn the_lock_of_one_schema_does_not_block_another() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let url_a = in_schema(&url, "tenant_a");
        let mut a1 = connect(&url_a).await;
        let mut a2 = connect(&url_a).await;
        let mut b = connect(&in_schema(&url, "tenant_b")).await;
        let mut plain = connect(&url).await;

        assert_eq!(a1.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
        assert_eq!(b.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
        assert_eq!(plain.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
        // On A it blocks A, and names A's holder.
        let a1_pid = value(&mut a1, "SELECT pg_backend_pid()").await.unwrap();
        match a2.try_lock(LOCK).await.unwrap() {
            LockAttempt::Busy {
                holder: Some(holder),
            } => assert!(holder.starts_with(&format!("pid {a1_pid} (")), "{holder}"),
            other => panic!("expected A's lock to be busy, got {other:?}"),
        }
        a1.unlock(LOCK).await.unwrap();
        assert_eq!(a2.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
        a2.unlock(LOCK).await.unwrap();
        b.unlock(LOCK).await.unwrap();
        plain.unlock(LOCK).await.unwrap();
        for driver in [a1, a2, b, plain] {
            Box::new(driver).close().await.unwrap();
        }
    })
    .await;
}

/// A session holding a lock on one schema's `items` is a blocker there, not for the
/// `items` of another schema.
#[tokio::test]
async fn blockers_are_those_of_the_schema() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let url_a = in_schema(&url, "tenant_a");
        let url_b = in_schema(&url, "tenant_b");
        let mut a = connect(&url_a).await;
        let mut b = connect(&url_b).await;
        for driver in [&mut a, &mut b] {
            driver.execute("CREATE TABLE items (id int)").await.unwrap();
            // Old snapshots count only past the lock timeout: none here.
            driver
                .set_ddl_lock_timeout(Duration::from_secs(3600))
                .await
                .unwrap();
        }
        let mut holder = connect(&url_b).await;
        holder.execute("BEGIN").await.unwrap();
        holder
            .execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
            .await
            .unwrap();
        let holder_pid = value(&mut holder, "SELECT pg_backend_pid()").await.unwrap();

        let items = vec!["items".to_string()];
        let in_b = b.lock_holders(&items).await.unwrap();
        assert!(
            in_b.iter().any(|blocker| blocker.pid == holder_pid
                && blocker.lock.as_deref() == Some("ACCESS EXCLUSIVE on items")),
            "{in_b:?}"
        );
        let in_a = a.lock_holders(&items).await.unwrap();
        assert!(in_a.is_empty(), "B's lock listed for A: {in_a:?}");

        holder.execute("ROLLBACK").await.unwrap();
        for driver in [a, b, holder] {
            Box::new(driver).close().await.unwrap();
        }
    })
    .await;
}

#[tokio::test]
async fn a_missing_schema_is_refused_for_reading_and_created_for_writing() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let absent = in_schema(&url, "absent_tenant");
        let backend = PostgresBackend;
        let error = match backend.connect_existing(&absent).await {
            Err(error) => error.to_string(),
            Ok(_) => panic!("connected to a missing schema"),
        };
        let database = url.rsplit('/').next().unwrap();
        assert!(error.contains("schema `absent_tenant`"), "{error}");
        assert!(error.contains(&format!("database `{database}`")), "{error}");

        let mut plain = connect(&url).await;
        let count = "SELECT count(*) FROM pg_namespace WHERE nspname = 'absent_tenant'";
        assert_eq!(value(&mut plain, count).await.as_deref(), Some("0"));

        let created = backend.connect(&absent).await.expect("connect creates it");
        created.close().await.unwrap();
        assert_eq!(value(&mut plain, count).await.as_deref(), Some("1"));
        let mut existing = backend.connect_existing(&absent).await.expect("it exists");
        assert_eq!(
            existing.query("SELECT current_schema()").await.unwrap()[0][0].as_deref(),
            Some("absent_tenant")
        );
        existing.close().await.unwrap();
        Box::new(plain).close().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_name_needing_quotes_works_and_injects_nothing() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let name = "Tenant \"7\"; x";
        let mut tenant = connect(&in_schema(&url, name)).await;
        assert_eq!(
            value(&mut tenant, "SELECT current_schema()").await.as_deref(),
            Some(name)
        );
        tenant.execute("CREATE TABLE t (id int)").await.unwrap();
        assert_eq!(tenant.table_names().await.unwrap(), ["t"]);
        assert_eq!(tenant.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
        tenant.unlock(LOCK).await.unwrap();

        let mut plain = connect(&url).await;
        let schemas = plain
            .query(
                "SELECT nspname::text FROM pg_namespace \
                 WHERE nspname NOT LIKE 'pg\\_%' AND nspname NOT IN ('public', 'information_schema') \
                 ORDER BY 1",
            )
            .await
            .unwrap();
        assert_eq!(schemas, [[Some(name.to_string())]]);
        assert_eq!(
            value(
                &mut plain,
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'"
            )
            .await
            .as_deref(),
            Some("1"),
            "only the table t"
        );
        for driver in [tenant, plain] {
            Box::new(driver).close().await.unwrap();
        }
    })
    .await;
}

#[tokio::test]
async fn database_create_creates_the_schema_too() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let tenant = in_schema(&url, "tenant_new");
        let backend = PostgresBackend;
        let first = backend.create_database(&tenant).await.unwrap();
        // The database existed; only the schema was missing.
        assert!(!first.created, "{first:?}");
        let schema = first.schema.expect("the URL names a schema");
        assert_eq!(schema.name, "tenant_new");
        assert!(schema.created, "the schema was missing: {schema:?}");
        let again = backend.create_database(&tenant).await.unwrap();
        assert!(!again.created, "{again:?}");
        assert!(!again.schema.unwrap().created);
        let existing = backend.connect_existing(&tenant).await.expect("created");
        existing.close().await.unwrap();
    })
    .await;
}

/// Tenants' runs starting together on a new schema all race `CREATE SCHEMA IF NOT
/// EXISTS` before any holds the migration lock: the losers find it made, not an error.
#[tokio::test]
async fn sessions_creating_one_schema_at_once_all_enter_it() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let tenant = in_schema(&url, "tenant_race");
        let connects: Vec<_> = (0..6)
            .map(|_| {
                let tenant = tenant.clone();
                tokio::spawn(async move { PostgresDriver::connect(&tenant).await })
            })
            .collect();
        for connect in connects {
            let mut driver = connect
                .await
                .unwrap()
                .expect("every session enters the schema");
            assert_eq!(
                value(&mut driver, "SELECT current_schema()")
                    .await
                    .as_deref(),
                Some("tenant_race")
            );
            Box::new(driver).close().await.unwrap();
        }
    })
    .await;
}

/// `?schema=public` on a server whose sessions default to `public` reaches the same
/// history table as the URL without `?schema=`: the two must exclude each other, or
/// a tenant-style URL and a plain one migrate one schema at once.
#[tokio::test]
async fn the_default_schema_named_shares_the_lock_of_no_schema() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let mut plain = connect(&url).await;
        let mut named = connect(&in_schema(&url, "public")).await;
        assert_eq!(plain.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
        assert!(
            matches!(
                named.try_lock(LOCK).await.unwrap(),
                LockAttempt::Busy { .. }
            ),
            "`?schema=public` ran beside a run without `?schema=`"
        );
        plain.unlock(LOCK).await.unwrap();
        assert_eq!(named.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
        named.unlock(LOCK).await.unwrap();
        for driver in [plain, named] {
            Box::new(driver).close().await.unwrap();
        }
    })
    .await;
}

/// A schema the role has no `USAGE` on drops out of its `search_path` silently; a
/// read must not then report the tenant as empty (nor `migrate` write elsewhere).
#[tokio::test]
async fn a_schema_the_role_may_not_use_is_refused() {
    let Some(server) = server_url() else { return };
    let role = strata_testkit::unique_db_name("strata_pg_role");
    let mut admin = connect(&server).await;
    admin
        .execute(&format!("CREATE ROLE \"{role}\" LOGIN"))
        .await
        .unwrap();
    let body_role = role.clone();
    let server_in_task = server.clone();
    let outcome = tokio::spawn(async move {
        with_fresh_database(&server_in_task, move |url| async move {
            let mut owner = connect(&in_schema(&url, "tenant_closed")).await;
            owner.execute("CREATE TABLE t (id int)").await.unwrap();
            Box::new(owner).close().await.unwrap();
            let as_role = as_user(&url, &body_role);
            for result in [
                PostgresBackend
                    .connect_existing(&in_schema(&as_role, "tenant_closed"))
                    .await,
                PostgresBackend
                    .connect(&in_schema(&as_role, "tenant_closed"))
                    .await,
            ] {
                let error = match result {
                    Err(error) => error.to_string(),
                    Ok(_) => panic!("entered a schema without USAGE"),
                };
                assert!(
                    error.contains("may not use the schema `tenant_closed`"),
                    "{error}"
                );
            }
        })
        .await;
    })
    .await;
    admin
        .execute(&format!("DROP ROLE \"{role}\""))
        .await
        .unwrap();
    Box::new(admin).close().await.unwrap();
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

/// A session put in a schema without `?schema=` (here `options=-csearch_path=…`, as
/// a role's or database's `search_path` would) writes the same history as one with
/// `?schema=` naming it: they exclude each other, and neither blocks another schema.
#[tokio::test]
async fn a_search_path_from_elsewhere_shares_the_lock_of_its_schema() {
    let Some(server) = server_url() else { return };
    with_fresh_database(&server, |url| async move {
        let mut named = connect(&in_schema(&url, "tenant_x")).await;
        let separator = if url.contains('?') { '&' } else { '?' };
        let mut routed =
            connect(&format!("{url}{separator}options=-csearch_path%3Dtenant_x")).await;
        assert_eq!(
            value(&mut routed, "SELECT current_schema()")
                .await
                .as_deref(),
            Some("tenant_x")
        );
        let mut other = connect(&in_schema(&url, "tenant_y")).await;

        assert_eq!(routed.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
        assert!(
            matches!(
                named.try_lock(LOCK).await.unwrap(),
                LockAttempt::Busy { .. }
            ),
            "`?schema=tenant_x` ran beside a session routed to tenant_x"
        );
        assert_eq!(other.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
        other.unlock(LOCK).await.unwrap();
        routed.unlock(LOCK).await.unwrap();

        assert_eq!(named.try_lock(LOCK).await.unwrap(), LockAttempt::Acquired);
        assert!(
            matches!(
                routed.try_lock(LOCK).await.unwrap(),
                LockAttempt::Busy { .. }
            ),
            "a session routed to tenant_x ran beside `?schema=tenant_x`"
        );
        // The busy attempt gave back the key it took first: nothing is left held.
        let held = value(
            &mut routed,
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
             AND pid = pg_backend_pid()",
        )
        .await;
        assert_eq!(held.as_deref(), Some("0"));
        named.unlock(LOCK).await.unwrap();
        for driver in [named, routed, other] {
            Box::new(driver).close().await.unwrap();
        }
    })
    .await;
}

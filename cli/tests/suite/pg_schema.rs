//! PostgreSQL's `?schema=NAME` through the binary: a schema per tenant in one
//! database, each with the tracker's tables and its own history; the migration lock
//! per schema; a missing schema refused by a reading command and created by
//! `migrate`; a name needing quotes, migrated forward and back to zero.

use std::path::Path;

use crate::common::db::{Kind, TestDb};
use crate::common::json_shape::assert_shape;
use crate::common::{command, run, strata, tracker_copy};

/// The tracker's migrations: `auth.0001_initial` and `tracker.0001_initial`.
const MIGRATIONS: usize = 2;

/// `url` with `schema` (percent-encoded) as its `?schema=`.
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

/// `sql` quoted as a string literal.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The tables of `schema`, sorted.
fn tables_of(db: &TestDb, schema: &str) -> Vec<String> {
    db.query(&format!(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = {} ORDER BY 1",
        literal(schema)
    ))
    .into_iter()
    .map(|row| row[0].clone().unwrap())
    .collect()
}

/// The rows of `schema`'s history table.
fn history_rows(db: &TestDb, schema: &str) -> usize {
    let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
    let rows = db.query(&format!("SELECT count(*) FROM {quoted}.strata_migrations"));
    rows[0][0].as_deref().unwrap().parse().unwrap()
}

#[test]
fn each_tenant_schema_gets_the_tracker_and_its_own_history() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let tenant_a = tracker_copy(&in_schema(&db.url, "tenant_a"));
    let tenant_b = tracker_copy(&in_schema(&db.url, "tenant_b"));
    run(tenant_a.path(), &["migrate"]);
    run(tenant_b.path(), &["migrate"]);

    let tables = tables_of(&db, "tenant_a");
    assert!(
        tables.contains(&"strata_migrations".to_string()),
        "{tables:?}"
    );
    assert!(tables.len() > 2, "the tracker's tables: {tables:?}");
    assert_eq!(tables_of(&db, "tenant_b"), tables);
    assert_eq!(tables_of(&db, "public"), Vec::<String>::new());
    assert_eq!(history_rows(&db, "tenant_a"), MIGRATIONS);
    assert_eq!(history_rows(&db, "tenant_b"), MIGRATIONS);

    // Rolling one tenant back leaves the other as it was.
    run(tenant_a.path(), &["migrate", "tracker", "zero"]);
    assert_eq!(history_rows(&db, "tenant_a"), MIGRATIONS - 1);
    assert_eq!(history_rows(&db, "tenant_b"), MIGRATIONS);
    let shown = run(tenant_b.path(), &["showmigrations"]);
    assert_eq!(shown.matches("[X]").count(), MIGRATIONS, "{shown}");
    let shown = run(tenant_a.path(), &["showmigrations"]);
    assert_eq!(shown.matches("[X]").count(), MIGRATIONS - 1, "{shown}");
}

#[test]
fn a_missing_schema_is_an_error_for_showmigrations_and_created_by_migrate() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let dir = tracker_copy(&in_schema(&db.url, "tenant_missing"));
    let out = strata(dir.path(), &["showmigrations"]);
    assert_ne!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("tenant_missing"), "{}", out.stderr);
    assert!(out.stderr.contains("does not exist"), "{}", out.stderr);
    let exists = "SELECT 1 FROM pg_namespace WHERE nspname = 'tenant_missing'";
    assert!(db.query(exists).is_empty(), "a read created the schema");

    run(dir.path(), &["migrate"]);
    assert_eq!(db.query(exists).len(), 1);
    assert_eq!(history_rows(&db, "tenant_missing"), MIGRATIONS);
    let shown = run(dir.path(), &["showmigrations"]);
    assert_eq!(shown.matches("[X]").count(), MIGRATIONS, "{shown}");
}

#[test]
fn a_schema_name_needing_quotes_migrates_there_and_back_to_zero() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let name = "Tenant \"7\"; x";
    let dir = tracker_copy(&in_schema(&db.url, name));
    run(dir.path(), &["migrate"]);
    assert_eq!(history_rows(&db, name), MIGRATIONS);
    assert_eq!(tables_of(&db, "public"), Vec::<String>::new());
    // Only that schema was made: nothing named `Tenant` or `x`, nothing elsewhere.
    let schemas = db.query(
        "SELECT nspname::text FROM pg_namespace \
         WHERE nspname NOT LIKE 'pg\\_%' AND nspname NOT IN ('public', 'information_schema')",
    );
    assert_eq!(schemas, [[Some(name.to_string())]]);

    run(dir.path(), &["migrate", "tracker", "zero"]);
    run(dir.path(), &["migrate", "auth", "zero"]);
    assert_eq!(history_rows(&db, name), 0);
    assert_eq!(tables_of(&db, name), ["strata_migrations"]);
    let shown = run(dir.path(), &["showmigrations"]);
    assert_eq!(shown.matches("[ ]").count(), MIGRATIONS, "{shown}");
}

/// `strata migrate` in `dir`, giving up on the migration lock after two seconds.
fn migrate_waiting_briefly(dir: &Path) -> std::process::Output {
    command(dir, &["migrate"])
        .env("STRATA_LOCK_TIMEOUT", "2s")
        .output()
        .expect("run strata")
}

#[test]
fn the_migration_lock_of_one_tenant_does_not_block_another() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let url_a = in_schema(&db.url, "tenant_a");
    let tenant_a = tracker_copy(&url_a);
    let tenant_b = tracker_copy(&in_schema(&db.url, "tenant_b"));
    // A's lock held, as a run of A would hold it (the engine's name for it), on a
    // runtime that outlives the calls: the connection runs on it.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut holder = runtime.block_on(async {
        let backends = strata::backends();
        let (backend, _) = backends.for_url(&url_a).unwrap();
        backend.connect(&url_a).await.unwrap()
    });
    let lock = "strata:strata_migrations";
    let acquired = runtime.block_on(holder.try_lock(lock)).unwrap();
    assert_eq!(
        acquired,
        strata_engine::dialect::driver::LockAttempt::Acquired
    );

    let b = migrate_waiting_briefly(tenant_b.path());
    let stderr = String::from_utf8_lossy(&b.stderr);
    assert!(b.status.success(), "B waited for A's lock: {stderr}");
    assert_eq!(history_rows(&db, "tenant_b"), MIGRATIONS);

    let a = migrate_waiting_briefly(tenant_a.path());
    let stderr = String::from_utf8_lossy(&a.stderr);
    assert!(
        !a.status.success(),
        "A ran while its lock was held: {stderr}"
    );
    assert!(stderr.contains("migration lock"), "{stderr}");
    assert!(
        tables_of(&db, "tenant_a").is_empty(),
        "A changed nothing: {:?}",
        tables_of(&db, "tenant_a")
    );

    runtime.block_on(async {
        holder.unlock(lock).await.unwrap();
        holder.close().await.unwrap();
    });
    run(tenant_a.path(), &["migrate"]);
    assert_eq!(history_rows(&db, "tenant_a"), MIGRATIONS);
}

/// In a database that exists, `database create` with a new `?schema=` creates only
/// the schema, and says so: not "Created database".
#[test]
fn database_create_names_the_schema_it_created() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let tenant = tracker_copy(&in_schema(&db.url, "tenant_new"));
    let said = run(tenant.path(), &["database", "create"]);
    let path = db.url.rsplit('/').next().unwrap();
    let database = path.split('?').next().unwrap();
    assert_eq!(
        said.trim(),
        format!("Created schema `tenant_new` in database `{database}`"),
        "{said}"
    );
    assert_eq!(tables_of(&db, "tenant_new"), Vec::<String>::new());
    assert_eq!(
        db.query("SELECT 1 FROM pg_namespace WHERE nspname = 'tenant_new'")
            .len(),
        1
    );

    let again = run(tenant.path(), &["--format", "json", "database", "create"]);
    let value = assert_shape("database-create", &again);
    assert_eq!(value["created"], false, "{again}");
    assert_eq!(value["schema"], "tenant_new", "{again}");
    assert_eq!(value["schema_created"], false, "{again}");
    let said = run(tenant.path(), &["database", "create"]);
    assert!(
        said.contains("its schema `tenant_new` exist already"),
        "{said}"
    );
}

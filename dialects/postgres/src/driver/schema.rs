//! `?schema=NAME`: a session that lives in one schema of its database, as a
//! schema-per-tenant fleet has it (many schemas, one database).
//!
//! The session's `search_path` is that schema alone, so every unqualified name strata
//! renders (its tables, its history table) resolves there and nothing lands in
//! `public`; and every catalog query of this driver reads `current_schema()`, which is
//! then that schema. The name is always quoted as an identifier, never pasted as is.

use strata_engine::dialect::driver::{redact_url, DriverError, ErrorCode};
use strata_engine::Dialect;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use super::statement_error;
use crate::PostgresDialect;

/// What to do when the URL's schema does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Missing {
    /// Create it: a connection that may write (`migrate`, `database create`).
    Create,
    /// Refuse: a command that only reads must not report a missing schema as an
    /// empty one (nor create it).
    Refuse,
}

const EXISTS_SQL: &str = "SELECT 1 FROM pg_namespace WHERE nspname = $1";

/// The schema unqualified names resolve to, `NULL` when none of the `search_path`
/// exists or may be used.
const CURRENT_SQL: &str = "SELECT current_schema()::text";

/// What entering the URL's schema found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entered {
    /// Whether this session created the schema.
    pub created: bool,
    /// Whether it is the schema the same session would use without `?schema=`
    /// (`schema=public` on a default server): then a URL without `?schema=` reaches
    /// the same history table, so both must take the same migration lock.
    pub is_default: bool,
}

/// Makes `schema` the only schema of the session's `search_path`, creating it first
/// (or refusing when it is missing) as `missing` says; `url` names the target in the
/// error. A schema the role may not use (no `USAGE`) is refused too: the server
/// would silently leave it out of the path, and the tenant would read as empty.
pub(super) async fn enter(
    client: &Client,
    url: &str,
    schema: &str,
    missing: Missing,
) -> Result<Entered, DriverError> {
    let quoted = PostgresDialect.quote_ident(schema);
    let created = if exists(client, schema).await? {
        false
    } else if missing == Missing::Refuse {
        let database = current_database(client).await?;
        return Err(DriverError::connect(
            redact_url(url),
            format!(
                "the schema `{schema}` does not exist in the database `{database}`; \
                 `strata migrate` creates it"
            ),
        )
        .with_code(ErrorCode::SqlState(
            SqlState::INVALID_SCHEMA_NAME.code().to_string(),
        )));
    } else {
        create(client, &quoted).await?
    };
    // Read once the schema exists: a `$user` schema just created is the default now.
    let default = current_schema(client).await?;
    let set = format!("SET search_path TO {quoted}");
    client
        .execute(&set, &[])
        .await
        .map_err(|e| statement_error(&set, e))?;
    if current_schema(client).await?.as_deref() != Some(schema) {
        return Err(DriverError::connect(
            redact_url(url),
            format!(
                "the role may not use the schema `{schema}` (no USAGE privilege); \
                 GRANT USAGE ON SCHEMA {quoted} TO the role, or connect as its owner"
            ),
        )
        .with_code(ErrorCode::SqlState(
            SqlState::INSUFFICIENT_PRIVILEGE.code().to_string(),
        )));
    }
    Ok(Entered {
        created,
        is_default: default.as_deref() == Some(schema),
    })
}

/// `current_schema()`: where the session's unqualified names (its history) go.
pub(super) async fn current_schema(client: &Client) -> Result<Option<String>, DriverError> {
    client
        .query_one(CURRENT_SQL, &[])
        .await
        .and_then(|row| row.try_get(0))
        .map_err(|e| statement_error(CURRENT_SQL, e))
}

async fn exists(client: &Client, schema: &str) -> Result<bool, DriverError> {
    let rows = client
        .query(EXISTS_SQL, &[&schema])
        .await
        .map_err(|e| statement_error(EXISTS_SQL, e))?;
    Ok(!rows.is_empty())
}

/// `CREATE SCHEMA IF NOT EXISTS`; whether this session created it. Two sessions
/// creating one schema at once (two tenants' runs starting together, before either
/// holds the migration lock) can both pass `IF NOT EXISTS`, and the loser then fails
/// on the catalog's unique index: that schema exists, which is all that was asked.
async fn create(client: &Client, quoted: &str) -> Result<bool, DriverError> {
    let sql = format!("CREATE SCHEMA IF NOT EXISTS {quoted}");
    match client.execute(&sql, &[]).await {
        Ok(_) => Ok(true),
        Err(e)
            if matches!(
                e.code(),
                Some(&(SqlState::UNIQUE_VIOLATION | SqlState::DUPLICATE_SCHEMA))
            ) =>
        {
            Ok(false)
        }
        Err(e) => Err(statement_error(&sql, e)),
    }
}

async fn current_database(client: &Client) -> Result<String, DriverError> {
    const SQL: &str = "SELECT current_database()::text";
    client
        .query_one(SQL, &[])
        .await
        .and_then(|row| row.try_get(0))
        .map_err(|e| statement_error(SQL, e))
}

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

/// Makes `schema` the only schema of the session's `search_path`, creating it first
/// (or refusing when it is missing) as `missing` says; `url` names the target in the
/// error. Whether the schema was created.
pub(super) async fn enter(
    client: &Client,
    url: &str,
    schema: &str,
    missing: Missing,
) -> Result<bool, DriverError> {
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
    let set = format!("SET search_path TO {quoted}");
    client
        .execute(&set, &[])
        .await
        .map_err(|e| statement_error(&set, e))?;
    Ok(created)
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

//! `strata database create`: `CREATE DATABASE` run from the server's maintenance
//! database, since a session cannot connect to a database that does not exist yet;
//! then, for a URL with `?schema=`, the schema in it.

use strata_engine::dialect::driver::{Driver, DriverError};
use strata_engine::dialect::registry::{DatabaseCreation, SchemaCreation};
use strata_engine::Dialect;
use tokio_postgres::Config;

use super::tls::TlsSettings;
use super::{connect, schema, url, PostgresDriver};
use crate::PostgresDialect;

/// The database a new PostgreSQL cluster always has, and the one tried when it was
/// dropped (`template1` cannot be), as `createdb` does.
const MAINTENANCE_DATABASE: &str = "postgres";
const FALLBACK_DATABASE: &str = "template1";

/// SQLSTATE 3D000: the database named by the connection does not exist.
const INVALID_CATALOG_NAME: &str = "3D000";
/// SQLSTATE 42P04: `CREATE DATABASE` of a name that exists (another process won).
const DUPLICATE_DATABASE: &str = "42P04";

impl PostgresDriver {
    /// Creates the database `url` names (libpq's default: the user's name) unless it
    /// exists, connecting with the same user, host and TLS settings to a maintenance
    /// database of the server; then the URL's `?schema=` in it unless it exists.
    pub async fn create_database(url: &str) -> Result<DatabaseCreation, DriverError> {
        let url::Settings {
            config,
            tls,
            schema,
        } = url::parse(url)?;
        let name = config
            .get_dbname()
            .or(config.get_user())
            .unwrap_or_default()
            .to_string();
        let mut driver = Box::new(connect_to_server(url, &config, &tls).await?);
        let dialect = PostgresDialect;
        let exists = format!(
            "SELECT 1 FROM pg_database WHERE datname = {}",
            dialect.quote_string(&name)
        );
        let create = format!("CREATE DATABASE {}", dialect.quote_ident(&name));
        let created =
            DatabaseCreation::unless_exists(driver.as_mut(), name, &exists, &create, |e| {
                sqlstate(e) == Some(DUPLICATE_DATABASE)
            })
            .await;
        driver.close().await?;
        let mut creation = created?;
        if let Some(name) = schema {
            let (driver, created) =
                PostgresDriver::connect_in_schema(url, schema::Missing::Create).await?;
            Box::new(driver).close().await?;
            creation.schema = Some(SchemaCreation { name, created });
        }
        Ok(creation)
    }
}

/// A session on the server of `config`, in its maintenance database.
pub(super) async fn connect_to_server(
    url: &str,
    config: &Config,
    tls: &TlsSettings,
) -> Result<PostgresDriver, DriverError> {
    let open = |database: &str| {
        let mut settings = config.clone();
        settings.dbname(database);
        connect::open_config(url, settings, tls.clone())
    };
    let opened = match open(MAINTENANCE_DATABASE).await {
        Err(e) if sqlstate(&e) == Some(INVALID_CATALOG_NAME) => open(FALLBACK_DATABASE).await,
        other => other,
    }?;
    PostgresDriver::start(opened).await
}

fn sqlstate(error: &DriverError) -> Option<&str> {
    error.code().and_then(|code| code.sqlstate())
}

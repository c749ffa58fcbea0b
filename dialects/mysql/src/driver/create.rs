//! `strata database create`: `CREATE DATABASE` from a session without a default
//! database, since a session cannot select one that does not exist yet.

use mysql_async::OptsBuilder;
use strata_engine::dialect::driver::{Driver, DriverError, ErrorCode};
use strata_engine::dialect::registry::DatabaseCreation;
use strata_engine::Dialect;

use super::url::ConnectionUrl;
use super::{connect, MysqlDriver};

/// ER_DB_CREATE_EXISTS: `CREATE DATABASE` of a name that exists (another process won,
/// or the server folds the name's case).
const DATABASE_EXISTS: u16 = 1007;

impl MysqlDriver {
    /// Creates the database `url` names unless it exists, connecting with the same
    /// user, host and TLS settings but no database.
    pub async fn create_database(url: &str) -> Result<DatabaseCreation, DriverError> {
        let ConnectionUrl { opts, tls } = connect::parse(url)?;
        // The URL parser refuses a URL without a database.
        let name = opts.db_name().unwrap_or_default().to_string();
        let server = ConnectionUrl {
            opts: OptsBuilder::from_opts(opts).db_name(None::<String>).into(),
            tls,
        };
        let conn = connect::open_parsed(url, server).await?;
        let mut driver = Box::new(Self::start(url, conn).await?);
        let dialect = driver.dialect.clone();
        let exists = format!(
            "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = {}",
            dialect.quote_string(&name)
        );
        let create = format!("CREATE DATABASE {}", dialect.quote_ident(&name));
        let created =
            DatabaseCreation::unless_exists(driver.as_mut(), name, &exists, &create, |e| {
                matches!(
                    e.code(),
                    Some(ErrorCode::ServerError { number, .. }) if *number == DATABASE_EXISTS
                )
            })
            .await;
        driver.close().await?;
        created
    }
}

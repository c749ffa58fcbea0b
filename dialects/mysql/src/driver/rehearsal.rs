//! `migrate --rehearse` on MySQL and MariaDB: the copy is a new database on the same
//! server, with the source's default character set and collation, each base table
//! made by its own `SHOW CREATE TABLE` (foreign key checks off, so in any order) and
//! filled by `INSERT … SELECT` (all rows, or `LIMIT sample`). Views, triggers and
//! routines are not copied. InnoDB's `TABLE_ID`, which a table rebuild changes, is
//! the table's storage id.

use mysql_async::OptsBuilder;
use strata_engine::dialect::driver::{redact_url, Driver, DriverError};
use strata_engine::dialect::rehearsal::{
    copy_name, url_with_database, CopyMethod, RehearsalCopy, Sample,
};
use strata_engine::Dialect;

use super::url::ConnectionUrl;
use super::{connect, MysqlDriver};
use crate::Flavour;

/// The server's identifier limit for a database name.
const MAX_NAME: usize = 64;

/// The `sql_mode` the copy is made in: not strict, and a key of 0 kept as 0.
const COPY_SQL_MODE: &str = "NO_AUTO_VALUE_ON_ZERO";

impl MysqlDriver {
    /// Makes the rehearsal copy of the database `url` names.
    pub async fn rehearsal_copy(
        url: &str,
        sample: Option<Sample<'_>>,
    ) -> Result<RehearsalCopy, DriverError> {
        let mut admin = Self::on_server(url).await?;
        let source = admin.database.clone().unwrap_or_default();
        let name = copy_name(&source, MAX_NAME);
        let copy_url = url_with_database(url, &name).ok_or_else(|| DriverError::Url {
            url: redact_url(url),
            reason: "a rehearsal needs a `mysql://…/database` URL, to name its copy".to_string(),
        })?;
        // A database of the copy's name that sessions use is another strata's live
        // copy (one of the same process id on another host), not a stale one: it is
        // left alone, as the server would drop it from under them.
        let users = admin.sessions_in(&name).await;
        if !matches!(users.as_deref(), Ok([])) {
            let _ = Box::new(admin).close().await;
            return Err(users.err().unwrap_or_else(|| {
                DriverError::connect(
                    name.clone(),
                    "a database of the rehearsal copy's name is in use (another strata's \
                     rehearsal with the same process id?); try again",
                )
            }));
        }
        let copied = admin.copy_database(&source, &name, sample).await;
        if copied.is_err() {
            let _ = admin.drop_database(&name).await;
        }
        Box::new(admin).close().await?;
        copied?;
        Ok(RehearsalCopy {
            url: copy_url,
            name,
            method: CopyMethod::Rows,
            sample: sample.map(|s| s.rows),
        })
    }

    /// Drops a rehearsal copy.
    pub async fn drop_rehearsal_copy(url: &str, copy: &RehearsalCopy) -> Result<(), DriverError> {
        let mut admin = Self::on_server(url).await?;
        let dropped = admin.drop_database(&copy.name).await;
        Box::new(admin).close().await?;
        dropped
    }

    /// A session without a default database; `database` keeps the one `url` names.
    async fn on_server(url: &str) -> Result<Self, DriverError> {
        let ConnectionUrl { opts, tls } = connect::parse(url)?;
        let database = opts.db_name().map(str::to_string);
        let server = ConnectionUrl {
            opts: OptsBuilder::from_opts(opts).db_name(None::<String>).into(),
            tls,
        };
        let conn = connect::open_parsed(url, server).await?;
        let mut driver = Self::start(url, conn).await?;
        driver.database = database;
        Ok(driver)
    }

    /// The ids of the sessions whose default database is `name`.
    async fn sessions_in(&mut self, name: &str) -> Result<Vec<String>, DriverError> {
        let sql = format!(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = {}",
            self.dialect.quote_string(name)
        );
        Ok(self
            .query(&sql)
            .await?
            .into_iter()
            .filter_map(|row| row.into_iter().next().flatten())
            .collect())
    }

    async fn drop_database(&mut self, name: &str) -> Result<(), DriverError> {
        let sql = format!("DROP DATABASE IF EXISTS {}", self.dialect.quote_ident(name));
        self.execute(&sql).await
    }

    async fn copy_database(
        &mut self,
        source: &str,
        copy: &str,
        sample: Option<Sample<'_>>,
    ) -> Result<(), DriverError> {
        let d = self.dialect.clone();
        let (src, dst) = (d.quote_ident(source), d.quote_ident(copy));
        let src_name = d.quote_string(source);
        // A copy of this name is one an earlier process of the same id left behind
        // (dropped only if there, so that no "doesn't exist" note is logged).
        let stale = self
            .query(&format!(
                "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = {}",
                d.quote_string(copy)
            ))
            .await?;
        if !stale.is_empty() {
            self.drop_database(copy).await?;
        }
        let charset = self
            .query(&format!(
                "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME \
                 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = {src_name}"
            ))
            .await?;
        let create = match charset.first().map(Vec::as_slice) {
            Some([Some(set), Some(collation)]) => {
                format!("CREATE DATABASE {dst} CHARACTER SET {set} COLLATE {collation}")
            }
            _ => format!("CREATE DATABASE {dst}"),
        };
        self.execute(&create).await?;
        self.execute("SET FOREIGN_KEY_CHECKS = 0").await?;
        // The rows are copied as they are stored, not checked again: strata's strict
        // mode would refuse a zero date an older, laxer mode let in (and a default of
        // one in `SHOW CREATE TABLE`), and would number an `AUTO_INCREMENT` key of 0
        // anew. The plan itself then runs strict on the copy, as it will for real.
        self.execute(&format!(
            "SET SESSION sql_mode = {}",
            d.quote_string(COPY_SQL_MODE)
        ))
        .await?;
        // `INSERT … SELECT` under REPEATABLE READ share-locks every source row it
        // reads: it would wait for the application's open writes, and hold off its
        // new ones, on the real database. READ COMMITTED reads without locking.
        self.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
            .await?;
        // MariaDB keeps rows a check constraint refuses when they were written with
        // `check_constraint_checks` off; the copy takes them as they are. (MySQL has
        // no such setting: its unenforced checks are `NOT ENFORCED` in the table.)
        if self.flavour() == Flavour::Mariadb {
            self.execute("SET SESSION check_constraint_checks = 0")
                .await?;
        }
        self.execute(&format!("USE {dst}")).await?;
        let tables = self
            .query(&format!(
                "SELECT TABLE_NAME FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = {src_name} AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME"
            ))
            .await?;
        for table in tables
            .into_iter()
            .filter_map(|row| row.into_iter().next().flatten())
        {
            let quoted = d.quote_ident(&table);
            let shown = self
                .query(&format!("SHOW CREATE TABLE {src}.{quoted}"))
                .await?;
            let Some(Some(ddl)) = shown.into_iter().next().and_then(|r| r.into_iter().nth(1))
            else {
                continue;
            };
            self.execute(&ddl).await?;
            // Generated columns compute themselves.
            let columns: Vec<String> = self
                .query(&format!(
                    "SELECT COLUMN_NAME FROM information_schema.COLUMNS \
                     WHERE TABLE_SCHEMA = {src_name} AND TABLE_NAME = {} \
                     AND COALESCE(GENERATION_EXPRESSION, '') = '' ORDER BY ORDINAL_POSITION",
                    d.quote_string(&table)
                ))
                .await?
                .into_iter()
                .filter_map(|row| row.into_iter().next().flatten())
                .map(|c| d.quote_ident(&c))
                .collect();
            let columns = columns.join(", ");
            let limit = sample
                .and_then(|s| s.limit(&table))
                .map(|n| format!(" LIMIT {n}"))
                .unwrap_or_default();
            self.execute(&format!(
                "INSERT INTO {dst}.{quoted} ({columns}) SELECT {columns} FROM {src}.{quoted}{limit}"
            ))
            .await?;
        }
        self.execute("SET FOREIGN_KEY_CHECKS = 1").await
    }

    /// InnoDB's `TABLE_ID` of `table` in this session's database: MariaDB names the
    /// view `INNODB_SYS_TABLES`, MySQL 8 `INNODB_TABLES`.
    pub(super) fn storage_id_sql(&self, table: &str) -> String {
        let view = match self.flavour() {
            Flavour::Mariadb => "INNODB_SYS_TABLES",
            Flavour::Mysql => "INNODB_TABLES",
        };
        format!(
            "SELECT TABLE_ID FROM information_schema.{view} WHERE NAME = CONCAT(DATABASE(), '/', {})",
            self.dialect.quote_string(table)
        )
    }
}

//! `PostgresDriver`: a tokio-postgres connection behind the engine's `Driver` trait.
//!
//! Every statement runs through the extended query protocol, whose Parse message
//! takes exactly one statement: `SELECT 1; DROP TABLE x` is refused by the server
//! before anything runs ("cannot insert multiple commands into a prepared
//! statement"), so nothing pasted into rendered SQL can chain a second statement.
//! `execute` sends Parse/Bind/Execute/Sync in one round trip (an unnamed statement,
//! no parameters); one Execute before Sync is not a transaction block, so
//! `CREATE INDEX CONCURRENTLY` runs. `query` needs its rows as text, which only the
//! simple protocol gives: the server parses (prepares) the SQL first, which refuses
//! several statements, and only then runs it.
//!
//! TLS follows the URL's `sslmode` as libpq does (see the `tls` module).

mod blockers;
mod cancel;
mod connect;
mod create;
mod durability;
mod introspect;
mod leftovers;
mod lock;
mod messages;
mod rehearsal;
mod rows;
mod schema;
mod tls;
mod url;
mod version;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use strata_engine::dialect::driver::{
    run_in_order, Blocker, Canceller, Driver, DriverError, LockAttempt, Row,
};
use strata_engine::{Dialect, SchemaState, ServerVersion};
use tokio::task::JoinHandle;
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::PostgresDialect;
use messages::{caused_by, describe};

/// A live connection to a PostgreSQL server: one strata opened
/// ([`PostgresDriver::connect`]), or the application's own client
/// ([`PostgresDriver::on_client`]).
pub struct PostgresDriver<C: ClientHandle = OwnedClient> {
    client: C,
    version: ServerVersion,
    /// `None` on the application's client, whose TLS settings strata does not know.
    canceller: Option<Arc<cancel::PostgresCanceller>>,
    /// The advisory keys of the migration lock: per schema the history lives in
    /// (see the `lock` module). Read when the session is set up.
    lock_scope: lock::Scope,
    /// Whether an interrupted index build can be in the way (see `leftovers`).
    leftovers: leftovers::Leftovers,
    /// Whether a run's commits do not wait for the disk now (see `durability`).
    /// Never on the application's client: a run cancelled half-way would leave the
    /// setting on a connection the application goes on using.
    deferred: bool,
    /// Whether strata opened the session (and so may change its settings).
    own_session: bool,
}

/// How a [`PostgresDriver`] holds its `tokio_postgres::Client`: owned with the task
/// driving its socket ([`OwnedClient`]), or borrowed from the application (`&Client`,
/// e.g. a pooled connection, which the application keeps driving).
pub trait ClientHandle: Send + Sync {
    /// The client statements go through.
    fn client(&self) -> &Client;
    /// Gives the connection up: for an owned client, the task to wait for once the
    /// client is dropped.
    fn release(self) -> Option<JoinHandle<()>>;
}

/// A client strata connected itself, with the task driving its socket (it ends when
/// the client is dropped).
pub struct OwnedClient {
    client: Client,
    connection: JoinHandle<()>,
}

impl ClientHandle for OwnedClient {
    fn client(&self) -> &Client {
        &self.client
    }

    fn release(self) -> Option<JoinHandle<()>> {
        drop(self.client);
        Some(self.connection)
    }
}

impl ClientHandle for &Client {
    fn client(&self) -> &Client {
        self
    }

    fn release(self) -> Option<JoinHandle<()>> {
        None
    }
}

impl PostgresDriver {
    /// Connects to a `postgres://` or `postgresql://` URL (TLS as its `sslmode` asks,
    /// libpq's `prefer` by default) and reads the server version. With `?schema=NAME`
    /// the session lives in that schema, created if missing. Must run inside a tokio
    /// runtime: the connection is spawned on it.
    pub async fn connect(url: &str) -> Result<Self, DriverError> {
        Self::connect_in_schema(url, schema::Missing::Create)
            .await
            .map(|(driver, _)| driver)
    }

    /// As [`PostgresDriver::connect`], for reading: the URL's `?schema=` must exist
    /// (a missing one is an error naming it), and is not created.
    pub async fn connect_existing(url: &str) -> Result<Self, DriverError> {
        Self::connect_in_schema(url, schema::Missing::Refuse)
            .await
            .map(|(driver, _)| driver)
    }

    /// The driver of `url`, in the URL's schema if it names one; whether that schema
    /// was created.
    async fn connect_in_schema(
        url: &str,
        missing: schema::Missing,
    ) -> Result<(Self, bool), DriverError> {
        let url::Settings {
            config,
            tls,
            schema: name,
        } = url::parse(url)?;
        let mut driver = Self::start(connect::open_config(url, config, tls).await?).await?;
        let Some(name) = name else {
            return Ok((driver, false));
        };
        let entered = schema::enter(driver.client.client(), url, &name, missing).await?;
        // The schema a URL without `?schema=` would use shares that URL's lock too.
        driver.lock_scope = lock::Scope {
            shared: entered.is_default,
            schema: Some(name),
        };
        Ok((driver, entered.created))
    }

    /// The driver of a connection just opened: its version read, its session set up.
    async fn start(opened: connect::Opened) -> Result<Self, DriverError> {
        let connect::Opened {
            client,
            task,
            connector,
        } = opened;
        let canceller = Arc::new(cancel::PostgresCanceller::new(&client, connector));
        let mut driver = Self {
            client: OwnedClient {
                client,
                connection: task,
            },
            version: ServerVersion::new(0, 0, 0),
            canceller: Some(canceller),
            lock_scope: lock::Scope::default(),
            leftovers: leftovers::Leftovers::default(),
            deferred: false,
            own_session: true,
        };
        driver.version = driver.read_version().await?;
        driver.lock_scope = driver.default_lock_scope().await?;
        tracing::debug!(version = %driver.version, "connected to PostgreSQL");
        if driver.version.at_least(14, 0, 0) {
            // A killed strata must not leave its session running a long statement
            // while holding the migration lock: have the server notice a dead client
            // within a second and abort (and so roll back and unlock). Before 14 the
            // lock is released only when the running statement ends.
            driver
                .execute("SET client_connection_check_interval = '1s'")
                .await?;
        }
        Ok(driver)
    }
}

impl<'a> PostgresDriver<&'a Client> {
    /// A driver on the application's own connection (e.g. one taken from its pool),
    /// which the application keeps driving: strata runs its statements, its lock and
    /// its transactions on it and changes no session setting, so the connection
    /// should not be used for anything else until strata is done. Closing the driver
    /// leaves the connection open.
    pub async fn on_client(client: &'a Client) -> Result<Self, DriverError> {
        let mut driver = Self {
            client,
            version: ServerVersion::new(0, 0, 0),
            canceller: None,
            lock_scope: lock::Scope::default(),
            leftovers: leftovers::Leftovers::default(),
            deferred: false,
            own_session: false,
        };
        driver.version = driver.read_version().await?;
        driver.lock_scope = driver.default_lock_scope().await?;
        Ok(driver)
    }
}

impl<C: ClientHandle> PostgresDriver<C> {
    /// The lock scope of a session without `?schema=`: the key strata has always
    /// taken, and that of the schema its `search_path` puts the history in.
    async fn default_lock_scope(&self) -> Result<lock::Scope, DriverError> {
        Ok(lock::Scope {
            shared: true,
            schema: schema::current_schema(self.client.client()).await?,
        })
    }

    async fn read_version(&mut self) -> Result<ServerVersion, DriverError> {
        const SQL: &str = "SHOW server_version_num";
        let rows = self.query(SQL).await?;
        let text = rows
            .first()
            .and_then(|row| row.first().cloned().flatten())
            .unwrap_or_default();
        version::from_version_num(&text).map_err(|message| DriverError::statement(SQL, message))
    }
}

#[async_trait]
impl<C: ClientHandle> Driver for PostgresDriver<C> {
    fn dialect(&self) -> Arc<dyn Dialect> {
        Arc::new(PostgresDialect)
    }

    fn version(&self) -> ServerVersion {
        self.version
    }

    async fn execute(&mut self, sql: &str) -> Result<(), DriverError> {
        tracing::trace!(sql, "execute");
        let clean = self.leftovers.running();
        self.client
            .client()
            .execute_typed(sql, &[])
            .await
            .map_err(|e| statement_error(sql, e))?;
        self.leftovers.ran(clean);
        Ok(())
    }

    /// Pipelined: every statement is sent before the first answer is read, and the
    /// server runs them in order (each still one statement of the extended protocol,
    /// so none can chain another).
    async fn execute_pipelined(&mut self, statements: &[&str]) -> Result<(), (usize, DriverError)> {
        // A statement the client cannot encode (a NUL character) fails before it is
        // sent, and so aborts nothing on the server: pipelined, what follows it (the
        // `COMMIT` too) would still run. One by one, nothing after it is sent.
        if statements.iter().any(|sql| sql.contains('\0')) {
            return run_in_order(self, statements).await;
        }
        tracing::trace!(sql = ?statements, "execute pipelined");
        let clean = self.leftovers.running();
        let client = self.client.client();
        let answers = futures_util::future::join_all(
            statements.iter().map(|sql| client.execute_typed(sql, &[])),
        )
        .await;
        for (i, (sql, answer)) in statements.iter().zip(answers).enumerate() {
            answer.map_err(|e| (i, statement_error(sql, e)))?;
        }
        self.leftovers.ran(clean);
        Ok(())
    }

    async fn query(&mut self, sql: &str) -> Result<Vec<Row>, DriverError> {
        tracing::trace!(sql, "query");
        let clean = self.leftovers.running();
        // One statement, or the server refuses it here; the statement is closed when
        // dropped.
        self.client
            .client()
            .prepare(sql)
            .await
            .map_err(|e| statement_error(sql, e))?;
        let messages = self
            .client
            .client()
            .simple_query(sql)
            .await
            .map_err(|e| statement_error(sql, e))?;
        self.leftovers.ran(clean);
        Ok(messages
            .iter()
            .filter_map(|message| match message {
                SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_owned))
                        .collect(),
                ),
                _ => None,
            })
            .collect())
    }

    /// The tables [`Driver::introspect`] reports: those of `current_schema()`
    /// (`search_path`'s first existing entry), without partitions and extension tables.
    async fn table_names(&mut self) -> Result<Vec<String>, DriverError> {
        let rows = self.query(introspect::TABLE_NAMES_SQL).await?;
        let mut names: Vec<String> = rows
            .into_iter()
            .filter_map(|row| row.into_iter().next().flatten())
            .collect();
        // Sorted here, not by ORDER BY, so the order does not depend on the collation.
        names.sort();
        Ok(names)
    }

    /// `pg_try_advisory_lock` on a key derived from `name` (and the URL's schema);
    /// see the `lock` module.
    async fn try_lock(&mut self, name: &str) -> Result<LockAttempt, DriverError> {
        lock::try_lock(self.client.client(), &self.lock_scope, name).await
    }

    async fn unlock(&mut self, name: &str) -> Result<(), DriverError> {
        lock::unlock(self.client.client(), &self.lock_scope, name).await
    }

    /// `synchronous_commit = off` for the session; see the `durability` module. Only
    /// on a session strata opened.
    async fn defer_durability(&mut self) -> Result<(), DriverError> {
        if self.own_session && !self.deferred && durability::can_defer(self.client.client()).await {
            self.execute(durability::DEFER_SQL).await?;
            self.deferred = true;
        }
        Ok(())
    }

    /// The session's `synchronous_commit` back, and one commit that flushes the run's.
    async fn make_durable(&mut self) -> Result<(), DriverError> {
        if self.deferred {
            self.execute(durability::RESTORE_SQL).await?;
            self.execute(durability::FLUSH_SQL).await?;
            self.deferred = false;
        }
        Ok(())
    }

    /// Drops the invalid index an interrupted `CREATE INDEX CONCURRENTLY` left under
    /// the name `sql` builds; see the `leftovers` module.
    async fn clear_leftovers(&mut self, sql: &str) -> Result<(), DriverError> {
        self.leftovers.clear(self.client.client(), sql).await
    }

    /// The tables of `current_schema()`; see the `introspect` module for what the
    /// neutral model cannot say and how it is approximated.
    async fn introspect(&mut self) -> Result<SchemaState, DriverError> {
        introspect::schema(self.client.client()).await
    }

    /// A cancel request for the running statement, as `pg_cancel_backend` would send.
    fn canceller(&self) -> Option<Arc<dyn Canceller>> {
        self.canceller.clone().map(|c| -> Arc<dyn Canceller> { c })
    }

    /// `SET statement_timeout` for the session: the server cancels a longer statement
    /// (SQLSTATE 57014), and the transaction around it rolls back.
    async fn set_statement_timeout(&mut self, timeout: Duration) -> Result<(), DriverError> {
        let millis = timeout.as_millis().max(1);
        self.execute(&format!("SET statement_timeout = {millis}"))
            .await
    }

    /// `SET lock_timeout` for the session: a statement that waits longer for a lock
    /// fails with SQLSTATE 55P03 ([`Driver::is_lock_timeout`]) instead of queueing
    /// the application's queries behind it. Zero: no limit, as PostgreSQL reads it.
    async fn set_ddl_lock_timeout(&mut self, timeout: Duration) -> Result<(), DriverError> {
        let millis = timeout.as_millis();
        self.execute(&format!("SET lock_timeout = '{millis}ms'"))
            .await
    }

    /// SQLSTATE 55P03 `lock_not_available`: `lock_timeout` ran out (or a `NOWAIT`).
    fn is_lock_timeout(&self, error: &DriverError) -> bool {
        error
            .code()
            .and_then(|code| code.sqlstate())
            .is_some_and(|state| state == LOCK_NOT_AVAILABLE)
    }

    /// Other sessions with a lock on (or queued for) one of `tables`, whoever a
    /// session queued for them waits on, then the sessions holding a snapshot older
    /// than the lock wait (a concurrent index build waits for those); see `blockers`.
    async fn lock_holders(&mut self, tables: &[String]) -> Result<Vec<Blocker>, DriverError> {
        blockers::lock_holders(self.client.client(), tables).await
    }

    /// `pg_class.relfilenode`; see the `rehearsal` module.
    async fn storage_id(&mut self, table: &str) -> Result<Option<String>, DriverError> {
        let rows = self.query(&rehearsal::storage_id_sql(table)).await?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next().flatten()))
    }

    /// `pg_class.reltuples`, or a capped count for a table never analyzed; see the
    /// `rows` module.
    async fn table_rows(
        &mut self,
        tables: &[String],
    ) -> Result<BTreeMap<String, u64>, DriverError> {
        rows::table_rows(self.client.client(), tables).await
    }

    async fn close(self: Box<Self>) -> Result<(), DriverError> {
        if let Some(connection) = self.client.release() {
            // The connection task only ends by itself; a join error means it
            // panicked, which closing cannot repair, so there is nothing to report.
            let _ = connection.await;
        }
        Ok(())
    }
}

/// The SQLSTATE of a lock wait given up on (`lock_timeout`, `NOWAIT`).
const LOCK_NOT_AVAILABLE: &str = "55P03";

fn statement_error(sql: &str, error: tokio_postgres::Error) -> DriverError {
    caused_by(DriverError::statement(sql, describe(&error)), error)
}

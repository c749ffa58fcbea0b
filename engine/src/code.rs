//! Code migrations: the application's functions that `run_code` operations name.
//!
//! strata cannot run application code by itself: an application registers its
//! functions ([`Functions::register`]) with the executor's [`Options`](crate::executor::Options)
//! (the `strata` crate's `Migrator` does this), and a `run_code` operation calls one
//! by name, inside the migration's transaction where the database has one, with a
//! [`Session`] on strata's own connection. The CLI has no functions, so a migration
//! that needs one is refused before anything runs (unless it is faked).
//!
//! ```
//! use strata_engine::code::{Functions, Session};
//!
//! let mut functions = Functions::new();
//! functions.register("fill_slugs", |mut db: Session<'_>| {
//!     Box::pin(async move {
//!         db.execute("UPDATE ticket SET slug = lower(title) WHERE slug IS NULL").await?;
//!         Ok(())
//!     })
//! });
//! assert!(functions.get("fill_slugs").is_some());
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::dialect::driver::{Driver, DriverError, Row};
use crate::dialect::{Dialect, ServerVersion};

/// What a registered function returns: any error, reported with the migration and
/// operation that called it.
pub type CodeResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// A boxed future, as a registered function returns it (`Box::pin(async move { … })`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The first keywords of the statements a [`Session`] refuses: they end strata's
/// transaction or open another (`START TRANSACTION`, PostgreSQL's `END` and `ABORT`,
/// MySQL's `XA`); `ROLLBACK TO` a savepoint excepted.
pub const TRANSACTION_CONTROL: [&str; 7] =
    ["BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "XA"];

/// The connection a function works on: strata's, inside the migration's transaction
/// when it has one. Statements go one at a time, as for every strata statement.
pub struct Session<'a> {
    driver: &'a mut dyn Driver,
}

impl<'a> Session<'a> {
    /// A session on `driver` (the executor makes one per call).
    pub fn new(driver: &'a mut dyn Driver) -> Self {
        Self { driver }
    }

    /// Runs one statement. Transaction control is refused ([`TRANSACTION_CONTROL`]).
    pub async fn execute(&mut self, sql: &str) -> Result<(), DriverError> {
        self.refuse_transaction_control(sql)?;
        self.driver.execute(sql).await
    }

    /// Runs one query and returns its rows as text (`None` for NULL). Transaction
    /// control is refused ([`TRANSACTION_CONTROL`]).
    pub async fn query(&mut self, sql: &str) -> Result<Vec<Row>, DriverError> {
        self.refuse_transaction_control(sql)?;
        self.driver.query(sql).await
    }

    /// A function that committed, rolled back or opened a transaction on strata's
    /// connection would commit the migration's earlier operations without their
    /// history row (or end them half-way), so the history's exact progress would be
    /// false. Savepoints (`SAVEPOINT`, `ROLLBACK TO`, `RELEASE`) stay inside it and
    /// are allowed. SQL the tokenizer cannot read is refused too: what it holds
    /// cannot be known.
    fn refuse_transaction_control(&self, sql: &str) -> Result<(), DriverError> {
        let lexer = self.driver.dialect().sql_lexer();
        let refuse = |what: &str| {
            DriverError::statement(
                sql,
                format!(
                    "{what}: a run_code function runs inside strata's transaction, which strata \
                     commits with the migration's history row (use SAVEPOINT and ROLLBACK TO \
                     to undo part of the function's work)"
                ),
            )
        };
        let statements = crate::script::split_statements(&*lexer, sql)
            .map_err(|e| refuse(&format!("the statement cannot be checked ({e})")))?;
        for statement in statements {
            let words = crate::script::leading_keywords(&*lexer, statement, 2);
            let Some(first) = words.first() else {
                continue;
            };
            let to_savepoint = first == "ROLLBACK" && words.get(1).is_some_and(|w| w == "TO");
            let autocommit =
                first == "SET" && statement.to_ascii_lowercase().contains("autocommit");
            if (TRANSACTION_CONTROL.contains(&first.as_str()) && !to_savepoint) || autocommit {
                return Err(refuse(&format!(
                    "transaction control (`{first}`) is refused"
                )));
            }
        }
        Ok(())
    }

    /// The dialect of the server: its name (`sqlite`, `postgres`, `mysql`) and its
    /// quoting ([`Dialect::quote_ident`], [`Dialect::quote_string`]).
    pub fn dialect(&self) -> Arc<dyn Dialect> {
        self.driver.dialect()
    }

    pub fn server_version(&self) -> ServerVersion {
        self.driver.version()
    }

    /// The driver itself, for anything else. Its statements are not checked for
    /// transaction control: one that commits or rolls back breaks the history's
    /// exact progress ([`Session::execute`]).
    pub fn driver(&mut self) -> &mut dyn Driver {
        self.driver
    }
}

/// A function a `run_code` operation can name. Implemented for every
/// `Fn(Session) -> BoxFuture<CodeResult>`, so a closure registers as it is.
pub trait Function: Send + Sync {
    fn call<'a>(&'a self, session: Session<'a>) -> BoxFuture<'a, CodeResult>;
}

impl<F> Function for F
where
    F: for<'a> Fn(Session<'a>) -> BoxFuture<'a, CodeResult> + Send + Sync,
{
    fn call<'a>(&'a self, session: Session<'a>) -> BoxFuture<'a, CodeResult> {
        self(session)
    }
}

/// The application's functions, by the name migrations give them.
#[derive(Clone, Default)]
pub struct Functions(BTreeMap<String, Arc<dyn Function>>);

impl Functions {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `function` under `name`, replacing an earlier one of that name. The
    /// bound is spelled out (not `impl Function`) so that a closure's signature is
    /// inferred from it and `Box::pin(async move { … })` needs no annotation.
    pub fn register<F>(&mut self, name: impl Into<String>, function: F)
    where
        F: for<'a> Fn(Session<'a>) -> BoxFuture<'a, CodeResult> + Send + Sync + 'static,
    {
        self.0.insert(name.into(), Arc::new(function));
    }

    /// Registers a [`Function`] implemented by hand.
    pub fn register_function(
        &mut self,
        name: impl Into<String>,
        function: impl Function + 'static,
    ) {
        self.0.insert(name.into(), Arc::new(function));
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Function>> {
        self.0.get(name)
    }

    /// The registered names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Functions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.names()).finish()
    }
}

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

    /// Runs one statement.
    pub async fn execute(&mut self, sql: &str) -> Result<(), DriverError> {
        self.driver.execute(sql).await
    }

    /// Runs one query and returns its rows as text (`None` for NULL).
    pub async fn query(&mut self, sql: &str) -> Result<Vec<Row>, DriverError> {
        self.driver.query(sql).await
    }

    /// The dialect of the server: its name (`sqlite`, `postgres`, `mysql`) and its
    /// quoting ([`Dialect::quote_ident`], [`Dialect::quote_string`]).
    pub fn dialect(&self) -> Arc<dyn Dialect> {
        self.driver.dialect()
    }

    pub fn server_version(&self) -> ServerVersion {
        self.driver.version()
    }

    /// The driver itself, for anything else.
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

//! Dialect plugins by name: URL schemes and `--dialect` values share one key space.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use super::driver::{Driver, DriverError};
use super::rehearsal::{RehearsalCopy, Sample};
use super::Dialect;

/// One database family: its dialects (offline) and how to connect (online).
#[async_trait]
pub trait Backend: Send + Sync {
    /// The URL schemes / dialect names this backend answers to, e.g. `["mysql", "mariadb"]`.
    fn names(&self) -> &'static [&'static str];

    /// The offline dialect for one of `names()`.
    fn dialect(&self, name: &str) -> Arc<dyn Dialect>;

    /// Connects to `url` and detects the server's flavour and version.
    async fn connect(&self, url: &str) -> Result<Box<dyn Driver>, DriverError>;

    /// Connects to `url` for a command that only reads: a backend whose `connect`
    /// would create a missing database (SQLite creates the file) refuses instead.
    async fn connect_existing(&self, url: &str) -> Result<Box<dyn Driver>, DriverError> {
        self.connect(url).await
    }

    /// Creates the database `url` names when it does not exist yet (`strata database
    /// create`), and says which it was. A server backend connects to the server
    /// without that database (it cannot connect to it before it exists); the name is
    /// quoted as an identifier. The default refuses: a backend without a notion of
    /// creating a database.
    async fn create_database(&self, url: &str) -> Result<DatabaseCreation, DriverError> {
        let _ = url;
        Err(DriverError::Unsupported {
            driver: self.names().first().copied().unwrap_or("this").to_string(),
            what: "creating a database".to_string(),
        })
    }

    /// Makes a throwaway copy of the database `url` names, for `migrate --rehearse`,
    /// without changing the original (not even a history table): schema and rows,
    /// or a sample of the rows ([`Sample`]) where the backend copies rows. The
    /// default refuses.
    async fn rehearsal_copy(
        &self,
        url: &str,
        sample: Option<Sample<'_>>,
    ) -> Result<RehearsalCopy, DriverError> {
        let _ = (url, sample);
        Err(DriverError::Unsupported {
            driver: self.names().first().copied().unwrap_or("this").to_string(),
            what: "rehearsals (a copy of the database)".to_string(),
        })
    }

    /// Drops a copy [`Backend::rehearsal_copy`] made from `url`.
    async fn drop_rehearsal_copy(
        &self,
        url: &str,
        copy: &RehearsalCopy,
    ) -> Result<(), DriverError> {
        let _ = (url, copy);
        Ok(())
    }
}

/// What [`Backend::create_database`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseCreation {
    /// The database as its server names it (a SQLite file: its path as the URL
    /// writes it).
    pub database: String,
    /// `false`: it existed already, and nothing was changed.
    pub created: bool,
    /// The schema the URL names in the database (PostgreSQL's `?schema=`), made
    /// with it: the database may have existed while the schema was created now.
    pub schema: Option<SchemaCreation>,
}

/// What [`Backend::create_database`] did to the schema the URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaCreation {
    pub name: String,
    /// `false`: it existed already.
    pub created: bool,
}

impl DatabaseCreation {
    /// Creates `database` on a server: runs `create` on `driver` (a session outside
    /// that database) unless the query `exists` returns a row. A `create` that fails
    /// as `exists_already` says (another process created it in between) counts as
    /// found, not as a failure.
    pub async fn unless_exists(
        driver: &mut dyn Driver,
        database: String,
        exists: &str,
        create: &str,
        exists_already: impl Fn(&DriverError) -> bool + Send,
    ) -> Result<Self, DriverError> {
        let created = if driver.query(exists).await?.is_empty() {
            match driver.execute(create).await {
                Ok(()) => true,
                Err(e) if exists_already(&e) => false,
                Err(e) => return Err(e),
            }
        } else {
            false
        };
        Ok(Self {
            database,
            created,
            schema: None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    #[error("unknown database `{name}` (known: {known})")]
    Unknown { name: String, known: String },
    #[error("database URL `{url}` has no scheme; expected e.g. `sqlite://db.sqlite3` or `postgres://user@host/db`")]
    NoScheme { url: String },
}

/// Backends keyed by name. The CLI registers the built-in three; an embedding
/// application may register its own.
#[derive(Default, Clone)]
pub struct Registry {
    backends: BTreeMap<&'static str, Arc<dyn Backend>>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register(&mut self, backend: Arc<dyn Backend>) -> &mut Self {
        let names = backend.names();
        // One handle per name, the last being `backend` itself.
        let handles = std::iter::repeat_n(backend, names.len());
        self.backends.extend(names.iter().copied().zip(handles));
        self
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.backends.keys().copied().collect()
    }

    pub fn backend(&self, name: &str) -> Result<&Arc<dyn Backend>, RegistryError> {
        self.backends
            .get(name.to_ascii_lowercase().as_str())
            .ok_or_else(|| RegistryError::Unknown {
                name: name.to_string(),
                known: self.names().join(", "),
            })
    }

    /// The offline dialect for a `--dialect` name.
    pub fn dialect(&self, name: &str) -> Result<Arc<dyn Dialect>, RegistryError> {
        Ok(self.backend(name)?.dialect(&name.to_ascii_lowercase()))
    }

    /// The backend for a database URL, by its scheme.
    pub fn for_url(&self, url: &str) -> Result<(&Arc<dyn Backend>, String), RegistryError> {
        let scheme = scheme_of(url).ok_or_else(|| RegistryError::NoScheme {
            url: unreadable(url),
        })?;
        Ok((self.backend(&scheme)?, scheme))
    }
}

/// A string that is not a URL at all, as an error may show it: up to its first `:`
/// or `@`, after which a password could start wherever the user meant it to (fails
/// closed: `postgres//u:PW@h`, `u@h:PW`).
fn unreadable(url: &str) -> String {
    match url.find([':', '@']) {
        Some(at) => format!("{}***", &url[..=at]),
        None => url.to_string(),
    }
}

/// The scheme of `url` (`postgres` of `postgres://…`), lowercased.
pub fn scheme_of(url: &str) -> Option<String> {
    let (scheme, _) = url.split_once(':')?;
    let valid = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then(|| scheme.to_ascii_lowercase())
}

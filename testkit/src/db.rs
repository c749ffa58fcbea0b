//! A fresh database per test on each backend, dropped afterwards (feature `db`: it
//! connects through the `strata` library's backends).

use strata_engine::dialect::driver::Driver;

use crate::servers::{server_url, unique_db_name};

/// The backends every behaviour is tested on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
    Mariadb,
}

/// Runs `f` on a current-thread runtime of its own.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A database of its own: a SQLite file in a temp folder, or a database created on
/// the test server and dropped when this is dropped.
pub struct TestDb {
    pub kind: Kind,
    /// Where it is: what strata connects to.
    pub url: String,
    server: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl TestDb {
    /// `None` (with a visible message) when the server's URL is not configured.
    pub fn create(kind: Kind) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let (url, server) = match kind {
            Kind::Sqlite => (
                format!("sqlite://{}", dir.path().join("db.sqlite3").display()),
                None,
            ),
            Kind::Postgres | Kind::Mariadb => {
                let var = if kind == Kind::Postgres {
                    "STRATA_TEST_POSTGRES_URL"
                } else {
                    "STRATA_TEST_MYSQL_URL"
                };
                let admin = server_url(var)?;
                let name = unique_db_name("strata_cli");
                admin_execute(&admin, &format!("CREATE DATABASE {}", quote(kind, &name)));
                (with_database(&admin, &name), Some((admin, name)))
            }
        };
        Some(Self {
            kind,
            url,
            server,
            _dir: dir,
        })
    }

    /// A connection to it.
    pub async fn connect(&self) -> Box<dyn Driver> {
        let (backend, _) = strata::backends()
            .for_url(&self.url)
            .map(|(b, s)| (b.clone(), s))
            .unwrap();
        backend.connect(&self.url).await.unwrap()
    }

    /// Runs SQL on the test database (setup or inspection outside strata).
    pub fn execute(&self, sql: &str) {
        block_on(async {
            let mut d = self.connect().await;
            d.execute(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            d.close().await.unwrap();
        });
    }

    pub fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        block_on(async {
            let mut d = self.connect().await;
            let rows = d.query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            d.close().await.unwrap();
            rows
        })
    }

    pub fn table_names(&self) -> Vec<String> {
        block_on(async {
            let mut d = self.connect().await;
            let names = d.table_names().await.unwrap();
            d.close().await.unwrap();
            names
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.server {
            let drop = match self.kind {
                Kind::Postgres => format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    quote(self.kind, name)
                ),
                _ => format!("DROP DATABASE IF EXISTS {}", quote(self.kind, name)),
            };
            admin_execute(admin, &drop);
        }
    }
}

fn quote(kind: Kind, name: &str) -> String {
    match kind {
        Kind::Mariadb => format!("`{name}`"),
        _ => format!("\"{name}\""),
    }
}

fn admin_execute(admin: &str, sql: &str) {
    let (backend, _) = strata::backends()
        .for_url(admin)
        .map(|(b, s)| (b.clone(), s))
        .unwrap();
    block_on(async {
        let mut d = backend
            .connect(admin)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        d.execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        d.close().await.unwrap();
    });
}

/// `url` with its database (path) replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let authority = before_query.split('/').next().unwrap();
    let mut out = format!("{scheme}://{authority}/{name}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Declares one test per backend running `$body(kind)`.
#[macro_export]
macro_rules! for_each_backend {
    ($name:ident, $body:path) => {
        mod $name {
            use super::*;
            #[test]
            fn sqlite() {
                $body($crate::db::Kind::Sqlite)
            }
            #[test]
            fn postgres() {
                $body($crate::db::Kind::Postgres)
            }
            #[test]
            fn mariadb() {
                $body($crate::db::Kind::Mariadb)
            }
        }
    };
}

//! strata-mysql's integration tests, one binary: the corpus's golden SQL for MySQL and
//! MariaDB, and on the live server (`STRATA_TEST_MYSQL_URL`; skipped without one
//! unless `CI=true`) execution, introspection, the keys left on the server, the
//! migration lock and TLS.

mod common;
mod execute;
mod golden;
mod introspect;
mod keys_on_server;
mod lock;
mod online;
mod rehearsal;
mod tls;

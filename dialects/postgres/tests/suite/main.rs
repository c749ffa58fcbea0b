//! strata-postgres's integration tests, one binary: the corpus's golden SQL, and on
//! the live server (`STRATA_TEST_POSTGRES_URL`; skipped without one unless
//! `CI=true`) execution, introspection, the migration lock, TLS and `?schema=`.

mod common;
mod execute;
mod golden;
mod introspect;
mod lock;
mod rehearsal;
mod safe;
mod schema;
mod tls;
mod type_change;

//! The library on real databases: embedded migrations, the application's own
//! connections, status and plans, the blocking twin.

mod connections;
mod embedded;
mod status;

/// The tests' project: two migrations of app `shop` (a table with rows, then a column
/// filled from them).
static MIGRATIONS: strata::Embedded = strata::embed_migrations!("tests/project");

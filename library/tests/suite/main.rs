//! The library on real databases: embedded migrations, the application's own
//! connections, status and plans, the blocking twin.

mod connections;
mod embedded;
mod status;

/// The example application's project: two migrations of app `shop`.
static MIGRATIONS: strata::Embedded = strata::embed_migrations!("../examples/embedded/project");

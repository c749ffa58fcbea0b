//! `strata sqlmigrate APP NAME`: the SQL a migration runs, exactly as `migrate` runs it.
//! With `--dialect` it renders offline; without, for the configured database's
//! dialect and server version.

use std::io::Write;
use std::sync::Arc;

use strata_engine::script::{self, Direction};
use strata_engine::{Dialect, ServerVersion};

use crate::args::SqlmigrateArgs;
use crate::context::Context;
use crate::database;
use crate::error::CliError;

pub(crate) async fn run(
    ctx: &Context,
    args: &SqlmigrateArgs,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let key = ctx.graph.resolve(&args.app, &args.name)?;
    let migration = ctx.graph.get(&key).expect("resolved keys exist");
    let requested = args
        .server_version
        .as_deref()
        .map(|v| {
            v.parse::<ServerVersion>()
                .map_err(|e| CliError::Usage(format!("--server-version: {e}")))
        })
        .transpose()?;
    let (dialect, version): (Arc<dyn Dialect>, ServerVersion) = if let Some(name) = &args.dialect {
        let dialect = ctx.registry.dialect(name)?;
        let version = requested.unwrap_or_else(|| dialect.minimum_version());
        (dialect, version)
    } else {
        let driver = database::connect_existing(ctx).await?;
        let found = (
            driver.dialect(),
            requested.unwrap_or_else(|| driver.version()),
        );
        driver.close().await?;
        found
    };
    let before = ctx.graph.state_before(&key)?;
    let direction = if args.backwards {
        Direction::Backward
    } else {
        Direction::Forward
    };
    let (script, _) = script::render(
        dialect.as_ref(),
        version,
        &before,
        &migration.operations,
        migration.atomic,
        direction,
    )
    .map_err(|source| CliError::Script {
        migration: key.clone(),
        path: migration.path.clone(),
        source,
    })?;
    writeln!(out, "-- {} for {} {version}", key, dialect.name())?;
    write!(out, "{script}")?;
    Ok(())
}

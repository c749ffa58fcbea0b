//! `strata sqlmigrate APP NAME`: the SQL a migration runs, exactly as `migrate` runs it.
//! With `--dialect` it renders offline; without, for the configured database's
//! dialect and server version.

use std::io::Write;

use strata_engine::script::{self, Direction};

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
    let (dialect, version) =
        database::render_target(ctx, args.dialect.as_deref(), args.server_version.as_deref())
            .await?;
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
        database::mode(ctx, migration),
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

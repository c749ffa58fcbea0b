//! `strata sqlmigrate APP NAME`: the SQL a migration runs, exactly as `migrate` runs it.

use std::io::Write;

use strata_engine::dialect::registry::scheme_of;
use strata_engine::script::{self, Direction};
use strata_engine::ServerVersion;

use crate::args::SqlmigrateArgs;
use crate::context::Context;
use crate::error::CliError;

pub fn run(ctx: &Context, args: &SqlmigrateArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let key = ctx.graph.resolve(&args.app, &args.name)?;
    let migration = ctx.graph.get(&key).expect("resolved keys exist");
    let dialect_name = match &args.dialect {
        Some(name) => name.clone(),
        None => scheme_of(&ctx.project.settings.database.url).unwrap_or_default(),
    };
    let dialect = ctx.registry.dialect(&dialect_name)?;
    let version = match &args.server_version {
        Some(v) => v
            .parse::<ServerVersion>()
            .map_err(|e| CliError::Usage(format!("--server-version: {e}")))?,
        None => dialect.minimum_version(),
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
    write!(out, "{script}")?;
    Ok(())
}

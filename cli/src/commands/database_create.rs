//! `strata database create`: the configured database, created when it does not exist
//! (as sqlx's `database create`), so that a new environment needs no client of the
//! database's own before `strata migrate`.

use std::io::Write;

use serde::Serialize;

use crate::args::Format;
use crate::context::Context;
use crate::database;
use crate::error::{exit, CliError};

/// The JSON output (`schemas/output/database-create.schema.json`).
#[derive(Serialize)]
struct Created<'a> {
    database: &'a str,
    created: bool,
}

pub(crate) async fn run(
    ctx: &Context,
    format: Format,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<u8, CliError> {
    let creation = database::create(ctx).await?;
    let name = &creation.database;
    match format {
        Format::Json => {
            let created = Created {
                database: name,
                created: creation.created,
            };
            super::write_json(out, &created)?;
        }
        Format::Text if quiet => {}
        Format::Text if creation.created => writeln!(out, "Created database `{name}`")?,
        Format::Text => writeln!(out, "Database `{name}` exists already; nothing to do")?,
    }
    Ok(exit::OK)
}

//! `strata database create`: the configured database, created when it does not exist
//! (as sqlx's `database create`), so that a new environment needs no client of the
//! database's own before `strata migrate`.

use std::io::Write;

use serde::Serialize;
use strata_engine::dialect::registry::SchemaCreation;

use crate::args::Format;
use crate::context::Context;
use crate::database;
use crate::error::{exit, CliError};

/// The JSON output (`schemas/output/database-create.schema.json`).
#[derive(Serialize)]
struct Output<'a> {
    database: &'a str,
    /// Whether anything was created: the database or the schema.
    created: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    schema: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    schema_created: Option<bool>,
}

pub(crate) async fn run(
    ctx: &Context,
    format: Format,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<u8, CliError> {
    let creation = database::create(ctx).await?;
    let name = &creation.database;
    let schema = creation.schema.as_ref();
    match format {
        Format::Json => {
            let created = Output {
                database: name,
                created: creation.created || schema.is_some_and(|s| s.created),
                schema: schema.map(|s| s.name.as_str()),
                schema_created: schema.map(|s| s.created),
            };
            super::write_json(out, &created)?;
        }
        Format::Text if quiet => {}
        Format::Text => writeln!(out, "{}", message(name, creation.created, schema))?,
    }
    Ok(exit::OK)
}

/// The line for people: a schema the URL names (PostgreSQL's `?schema=`) may be
/// created in a database that existed, which is not "created database".
fn message(database: &str, created: bool, schema: Option<&SchemaCreation>) -> String {
    match (created, schema) {
        (true, None) => format!("Created database `{database}`"),
        (true, Some(schema)) => {
            format!(
                "Created database `{database}` and its schema `{}`",
                schema.name
            )
        }
        (false, Some(schema)) if schema.created => {
            format!("Created schema `{}` in database `{database}`", schema.name)
        }
        (false, Some(schema)) => format!(
            "Database `{database}` and its schema `{}` exist already; nothing to do",
            schema.name
        ),
        (false, None) => format!("Database `{database}` exists already; nothing to do"),
    }
}

//! One module per command: argument handling plus calls into the engine.

pub(crate) mod completions;
pub(crate) mod database_create;
pub(crate) mod init;
pub(crate) mod inspectdb;
pub(crate) mod lint;
pub(crate) mod makemigrations;
pub(crate) mod man;
pub(crate) mod migrate;
pub(crate) mod showmigrations;
pub(crate) mod sqlmigrate;
pub(crate) mod startapp;

use std::io::Write;

use crate::args::Format;
use crate::error::CliError;

/// The one document of `--format json` on stdout: pretty-printed, ending with a newline
/// (docs/json.md).
pub(crate) fn write_json(
    out: &mut dyn Write,
    document: &impl serde::Serialize,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, document).map_err(std::io::Error::from)?;
    writeln!(out)
}

/// `--format json` for a command whose output is not data (`output` says what it
/// is): refused, not ignored.
pub(crate) fn refuse_json(format: Format, command: &str, output: &str) -> Result<(), CliError> {
    match format {
        Format::Text => Ok(()),
        Format::Json => Err(CliError::Usage(format!(
            "--format json is not available for `strata {command}`: it writes {output}"
        ))),
    }
}

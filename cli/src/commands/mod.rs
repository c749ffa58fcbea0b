//! One module per command: argument handling plus calls into the engine.

pub(crate) mod completions;
pub(crate) mod database_create;
pub(crate) mod drift;
pub(crate) mod drift_revert;
pub(crate) mod drift_write;
pub(crate) mod fleet;
pub(crate) mod init;
pub(crate) mod inspectdb;
pub(crate) mod lint;
pub(crate) mod makemigrations;
pub(crate) mod man;
pub(crate) mod migrate;
pub(crate) mod showmigrations;
pub(crate) mod sqlmigrate;
pub(crate) mod squashmigrations;
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

/// Writes a new migration file whole or not at all: a hidden temporary file in the
/// same folder, synced, then renamed into place only if no file of that name exists
/// (a reader never sees half a file; an existing one is never replaced).
pub(crate) fn write_new_file(path: &std::path::Path, text: &str) -> Result<(), CliError> {
    let failed = |e: std::io::Error| {
        CliError::Usage(format!(
            "{}: cannot write the migration: {e}",
            path.display()
        ))
    };
    let dir = path.parent().unwrap_or_else(|| std::path::Path::new("."));
    std::fs::create_dir_all(dir).map_err(failed)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".strata-").suffix(".tmp");
    // As `fs::write` would create it (0666 less the umask), not a temp file's 0600.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut temp = builder.tempfile_in(dir).map_err(failed)?;
    temp.write_all(text.as_bytes()).map_err(failed)?;
    temp.as_file().sync_all().map_err(failed)?;
    temp.persist_noclobber(path).map_err(|e| {
        if e.error.kind() == std::io::ErrorKind::AlreadyExists {
            CliError::Usage(format!(
                "{} already exists; not overwriting it",
                path.display()
            ))
        } else {
            failed(e.error)
        }
    })?;
    // The rename reaches the disk with its folder.
    if let Ok(folder) = std::fs::File::open(dir) {
        let _ = folder.sync_all();
    }
    Ok(())
}

/// A path relative to the project folder (the current directory), for messages.
pub(crate) fn display_path(path: &std::path::Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd)
        .unwrap_or(path)
        .display()
        .to_string()
}

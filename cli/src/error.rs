//! Every error the CLI reports, its exit code (one table, here), and its rendering.

use std::path::Path;

use miette::{LabeledSpan, NamedSource};
use strata_engine::dialect::driver::DriverError;
use strata_engine::dialect::RegistryError;
use strata_engine::executor::ExecError;
use strata_engine::graph::{GraphError, StateAtError};
use strata_engine::history::HistoryError;
use strata_engine::migration::{FileError, MigrationKey};
use strata_engine::project::ProjectError;
use strata_engine::script::ScriptError;

/// Exit codes, documented in the README.
pub mod exit {
    pub const OK: u8 = 0;
    /// A `--check` found work to do.
    pub const CHECK_FAILED: u8 = 1;
    /// Bad input: usage, files, configuration, unknown names.
    pub const BAD_INPUT: u8 = 2;
    /// `makemigrations` needs an answer it cannot ask for (no terminal, or --noinput).
    pub const NEEDS_INPUT: u8 = 3;
    /// The database could not be reached or refused a statement; nothing half-done.
    pub const DATABASE: u8 = 4;
    /// Another process held the migration lock for longer than `lock_timeout`.
    pub const LOCK_TIMEOUT: u8 = 5;
    /// A non-atomic migration stopped part-way; its checkpoint says where. Fix the
    /// cause and run `strata migrate` again to resume.
    pub const PARTIAL: u8 = 6;
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Project(#[from] ProjectError),
    /// A models.toml (or other file) that could not be read or understood.
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    StateAt(#[from] StateAtError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("{migration} ({path}): {source}", path = .path.display())]
    Script {
        migration: MigrationKey,
        path: std::path::PathBuf,
        source: ScriptError,
    },
    #[error(transparent)]
    Driver(#[from] DriverError),
    #[error(transparent)]
    Exec(#[from] ExecError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    NeedsInput(String),
    #[error(transparent)]
    Make(#[from] strata_engine::makemigrations::MakeError),
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Driver(DriverError::Url { .. }) => exit::BAD_INPUT,
            CliError::Driver(_) => exit::DATABASE,
            CliError::NeedsInput(_) => exit::NEEDS_INPUT,
            CliError::Make(strata_engine::makemigrations::MakeError::Autodetect(
                strata_engine::autodetect::AutodetectError::UnresolvedRenames(_)
                | strata_engine::autodetect::AutodetectError::NeedsDefault(_),
            )) => exit::NEEDS_INPUT,
            CliError::Exec(e) => match e {
                ExecError::LockTimeout { .. } => exit::LOCK_TIMEOUT,
                ExecError::Failed { partial: true, .. }
                | ExecError::PartialPending { .. }
                | ExecError::Drift { .. } => exit::PARTIAL,
                ExecError::Failed { .. } | ExecError::Driver(_) => exit::DATABASE,
                ExecError::History(HistoryError::Driver(_)) => exit::DATABASE,
                _ => exit::BAD_INPUT,
            },
            _ => exit::BAD_INPUT,
        }
    }

    /// A rich report; syntax errors show the offending line of the file.
    pub fn report(self) -> miette::Report {
        let file = match &self {
            CliError::Project(ProjectError::File(f)) | CliError::File(f) => Some(f),
            _ => None,
        };
        if let Some(FileError::Syntax {
            path,
            line,
            column,
            message,
            ..
        }) = file
        {
            if let Some(report) = snippet_report(path, *line, *column, message) {
                return report;
            }
        }
        miette::Report::msg(self.to_string())
    }
}

/// A report pointing at `line:column` of the file, if it can be read again.
fn snippet_report(
    path: &Path,
    line: usize,
    column: usize,
    message: &str,
) -> Option<miette::Report> {
    let text = std::fs::read_to_string(path).ok()?;
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line - 1)
        .map(str::len)
        .sum();
    let offset = text[line_start..]
        .char_indices()
        .nth(column - 1)
        .map_or(text.len(), |(i, _)| line_start + i);
    let label = LabeledSpan::at(offset..offset, message.to_string());
    Some(
        miette::miette!(
            labels = vec![label],
            "{}:{line}:{column}: {message}",
            path.display()
        )
        .with_source_code(NamedSource::new(path.display().to_string(), text)),
    )
}

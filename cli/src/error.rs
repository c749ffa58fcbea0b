//! Every error the CLI reports, its exit code (one table, here), and its rendering.

use std::path::{Path, PathBuf};

use miette::{NamedSource, SourceSpan};
use strata_engine::dialect::driver::DriverError;
use strata_engine::dialect::RegistryError;
use strata_engine::error::Category;
use strata_engine::executor::{AfterFailure, ExecError};
use strata_engine::graph::{GraphError, StateAtError};
use strata_engine::migration::{FileError, MigrationKey};
use strata_engine::project::ProjectError;
use strata_engine::script::{Direction, ScriptError};

/// Exit codes, documented in the README.
pub(crate) mod exit {
    pub(crate) const OK: u8 = 0;
    /// A `--check` found work to do.
    pub(crate) const CHECK_FAILED: u8 = 1;
    /// Bad input: usage, files, configuration, unknown names.
    pub(crate) const BAD_INPUT: u8 = 2;
    /// `makemigrations` needs an answer it cannot ask for (no terminal, or --noinput).
    pub(crate) const NEEDS_INPUT: u8 = 3;
    /// The database could not be reached or refused a statement; nothing half-done.
    pub(crate) const DATABASE: u8 = 4;
    /// Another process held the migration lock for longer than `lock_timeout`.
    pub(crate) const LOCK_TIMEOUT: u8 = 5;
    /// A non-atomic migration stopped part-way; its checkpoint says where. Fix the
    /// cause and run `strata migrate` again to resume.
    pub(crate) const PARTIAL: u8 = 6;
    /// `migrate` stopped on Ctrl-C (SIGINT), as a shell reports a process it
    /// interrupted: 128 + 2. The message says what the database holds.
    pub(crate) const INTERRUPTED: u8 = 130;
    /// `migrate` stopped on SIGTERM: 128 + 15.
    pub(crate) const TERMINATED: u8 = 143;
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
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
    #[error(transparent)]
    Question(#[from] strata_engine::makemigrations::questioner::QuestionError),
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
    /// `migrate` stopped on a signal; `cause` is how the run ended (`None`: it had
    /// finished everything when it noticed).
    #[error("interrupted by {}", .signal.name())]
    Interrupted {
        signal: crate::signals::Signal,
        cause: Option<Box<CliError>>,
    },
}

impl CliError {
    /// The exit code, by the error's category: every variant and every category is
    /// named, so a new one cannot fall into a default silently.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Project(_)
            | CliError::File(_)
            | CliError::Graph(_)
            | CliError::StateAt(_)
            | CliError::Registry(_)
            | CliError::Script { .. }
            | CliError::Usage(_)
            | CliError::Output(_) => exit::BAD_INPUT,
            CliError::NeedsInput(_) => exit::NEEDS_INPUT,
            CliError::Driver(e) => category_exit(e.category()),
            CliError::Exec(e) => category_exit(e.category()),
            CliError::Make(e) => category_exit(e.category()),
            CliError::Question(e) => category_exit(e.category()),
            CliError::Interrupted { signal, .. } => signal.exit_code(),
        }
    }

    /// A rich report: a located file error shows the offending line of the file; a
    /// failed migration says what the database holds now.
    pub(crate) fn report(self) -> miette::Report {
        if let CliError::Interrupted { signal, cause } = self {
            return interrupted_report(signal, cause.map(|c| *c));
        }
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
            if let Some(located) = Located::read(path, *line, *column, message) {
                return miette::Report::new(located);
            }
        }
        miette::Report::msg(self.plain())
    }

    /// The message, and for a failed migration what the database holds now.
    fn plain(&self) -> String {
        if let CliError::Exec(ExecError::Failed {
            direction, after, ..
        }) = self
        {
            let outcome = describe_outcome(*direction, after);
            return format!("{self}\n{outcome}");
        }
        self.to_string()
    }
}

/// What an interrupted `migrate` left: the failure the interruption caused, with what
/// the database holds now.
fn interrupted_report(signal: crate::signals::Signal, cause: Option<CliError>) -> miette::Report {
    let name = signal.name();
    let outcome = match cause {
        None => "it had applied every planned migration when it stopped".to_string(),
        Some(CliError::Exec(ExecError::Driver(e)))
            if strata_engine::executor::is_interrupted(&e) =>
        {
            "it stopped while waiting for the migration lock: nothing was applied".to_string()
        }
        Some(cause) => cause.plain(),
    };
    miette::Report::msg(format!(
        "interrupted by {name}; the migration lock is released.\n{outcome}"
    ))
}

fn category_exit(category: Category) -> u8 {
    match category {
        Category::BadInput => exit::BAD_INPUT,
        Category::NeedsInput => exit::NEEDS_INPUT,
        Category::Database => exit::DATABASE,
        Category::LockTimeout => exit::LOCK_TIMEOUT,
        Category::Partial => exit::PARTIAL,
    }
}

/// What a failed migration left in the database, in words.
fn describe_outcome(direction: Direction, after: &AfterFailure) -> String {
    match (direction, after) {
        (Direction::Forward, AfterFailure::RolledBack) => {
            "nothing of it was applied (rolled back)".into()
        }
        (Direction::Backward, AfterFailure::RolledBack) => {
            "it is still fully applied (rolled back)".into()
        }
        (Direction::Forward, AfterFailure::Unchanged) => "nothing of it was applied".into(),
        (Direction::Backward, AfterFailure::Unchanged) => {
            "nothing was undone: it is still fully applied".into()
        }
        (Direction::Forward, AfterFailure::Partial { in_effect, total })
            if in_effect.is_empty() =>
        {
            format!("none of its {total} operations were applied; the checkpoint records 0")
        }
        (Direction::Forward, AfterFailure::Partial { in_effect, total }) => {
            let done = in_effect.len();
            let list: Vec<String> = in_effect
                .iter()
                .enumerate()
                .map(|(i, description)| format!("  {}. {description}", i + 1))
                .collect();
            format!(
                "applied and checkpointed: {done} of {total} operations:\n{}\nfix the cause and run `strata migrate` again to resume at operation {}",
                list.join("\n"),
                done + 1
            )
        }
        (Direction::Backward, AfterFailure::Partial { in_effect, total }) => format!(
            "{} of its {total} operations are still applied (the checkpoint records this)",
            in_effect.len()
        ),
    }
}

/// A file error at a line and column, shown with the file's text around it.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{path}:{line}:{column}: {message}", path = .path.display())]
struct Located {
    path: PathBuf,
    line: usize,
    column: usize,
    message: String,
    #[source_code]
    source_code: NamedSource<String>,
    #[label("{message}")]
    at: SourceSpan,
}

impl Located {
    /// `None` if the file cannot be read again (the plain message still says where).
    fn read(path: &Path, line: usize, column: usize, message: &str) -> Option<Self> {
        let text = std::fs::read_to_string(path).ok()?;
        let line_start: usize = text
            .split_inclusive('\n')
            .take(line.saturating_sub(1))
            .map(str::len)
            .sum();
        let offset = text
            .get(line_start..)?
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(text.len(), |(i, _)| line_start + i);
        Some(Self {
            path: path.to_path_buf(),
            line,
            column,
            message: message.to_string(),
            source_code: NamedSource::new(path.display().to_string(), text),
            at: SourceSpan::from(offset..offset),
        })
    }
}

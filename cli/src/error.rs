//! Every error the CLI reports, its exit code (one table, here), and its rendering.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use miette::{NamedSource, SourceSpan};
use strata_engine::dialect::driver::DriverError;
use strata_engine::dialect::url::redact_text;
use strata_engine::dialect::RegistryError;
use strata_engine::error::Category;
use strata_engine::executor::{how_to_resume, AfterFailure, ExecError, Rollback};
use strata_engine::graph::{GraphError, StateAtError};
use strata_engine::migration::{FileError, MigrationKey};
use strata_engine::project::ProjectError;
use strata_engine::script::{Direction, ScriptError};

/// Exit codes, documented in the README.
pub(crate) mod exit {
    pub(crate) const OK: u8 = 0;
    /// A `--check` found work to do; `lint` found an error-level finding, or
    /// `migrate` refused to run because of one.
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
    Exec(ExecError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    NeedsInput(String),
    #[error(transparent)]
    Make(#[from] strata_engine::makemigrations::MakeError),
    #[error(transparent)]
    Question(#[from] strata_engine::makemigrations::questioner::QuestionError),
    #[error(transparent)]
    Squash(#[from] strata_engine::squash::SquashError),
    /// `migrate` found error-level lint findings in its plan; `findings` lists them.
    #[error("{count} error-level lint finding(s) in the planned migrations; nothing was run:\n{findings}\nfix the migrations, accept a finding with [[lint.allow]] in the migration file (with a reason), or run `strata migrate --ignore-lint-errors`")]
    LintFailed { count: usize, findings: String },
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
    /// A fleet run (`--tenants`) where some tenants failed or never started; each is
    /// named in the lines and the summary before this.
    #[error("{failed} of {tenants} tenants failed and {not_started} did not start; fix the cause and run the same command again to finish the others")]
    Fleet {
        failed: usize,
        not_started: usize,
        tenants: usize,
    },
    /// `migrate` stopped on a signal; `cause` is how the run ended (`None`: it had
    /// finished everything when it noticed).
    #[error("interrupted by {}", .signal.name())]
    Interrupted {
        signal: crate::signals::Signal,
        cause: Option<Box<CliError>>,
    },
    /// `migrate --rehearse` stopped on a signal: the run on the copy was cancelled,
    /// the copy dropped (or not: `dropped`; `copy: None`: none was made yet); the
    /// database itself was never changed, so nothing of what `Interrupted` says of a
    /// real run applies.
    #[error("{}", rehearsal_interrupted(*.signal, .copy.as_deref(), *.dropped))]
    RehearsalInterrupted {
        signal: crate::signals::Signal,
        copy: Option<String>,
        dropped: bool,
    },
}

/// A plan the CLI itself refused under the lock ([`ExecError::Refused`]) comes back
/// as the CLI's own error, with its exit code.
impl From<ExecError> for CliError {
    fn from(e: ExecError) -> Self {
        match e {
            ExecError::Refused(source) => match source.downcast::<CliError>() {
                Ok(own) => *own,
                Err(other) => CliError::Exec(ExecError::Refused(other)),
            },
            e => CliError::Exec(e),
        }
    }
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
            | CliError::Squash(_)
            | CliError::Output(_) => exit::BAD_INPUT,
            CliError::NeedsInput(_) => exit::NEEDS_INPUT,
            CliError::LintFailed { .. } => exit::CHECK_FAILED,
            CliError::Fleet { .. } => exit::PARTIAL,
            CliError::Driver(e) => category_exit(e.category()),
            CliError::Exec(e) => category_exit(e.category()),
            CliError::Make(e) => category_exit(e.category()),
            CliError::Question(e) => category_exit(e.category()),
            CliError::Interrupted { signal, .. }
            | CliError::RehearsalInterrupted { signal, .. } => signal.exit_code(),
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
            key,
            path,
            direction,
            after,
            rollback,
            ..
        }) = self
        {
            let outcome = describe_outcome(*direction, after);
            let next = next_step(key, path, *direction, after, rollback);
            return shown(&format!("{self}\n{outcome}{next}"));
        }
        if let CliError::Exec(ExecError::MissingFunction { .. }) = self {
            // The engine says what is missing; only the CLI knows it never has any.
            return shown(&format!(
                "{self}\nnothing was run: the strata command cannot run application code (docs/data-migrations.md)"
            ));
        }
        shown(&self.to_string())
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

fn rehearsal_interrupted(
    signal: crate::signals::Signal,
    copy: Option<&str>,
    dropped: bool,
) -> String {
    let copy = match (copy, dropped) {
        (None, _) => "no copy had been made yet".to_string(),
        (Some(copy), true) => format!("the copy {copy} was dropped"),
        (Some(copy), false) => format!("the copy {copy} could not be dropped: drop it by hand"),
    };
    format!(
        "interrupted by {}; the rehearsal stopped and {copy}.\nThe database was not changed: a rehearsal runs only on a copy.",
        signal.name()
    )
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
        (_, AfterFailure::PlanRolledBack) => {
            "nothing of the plan was applied: its one transaction (--single-transaction) rolled back".into()
        }
        (Direction::Forward, AfterFailure::Unchanged) => "nothing of it was applied".into(),
        (Direction::Backward, AfterFailure::Unchanged) => {
            "nothing was undone: it is still fully applied".into()
        }
        (
            Direction::Forward,
            AfterFailure::Partial {
                in_effect,
                statements_done: 0,
                total,
            },
        ) if in_effect.is_empty() => {
            format!("none of its {total} operations were applied; the checkpoint records 0")
        }
        (
            Direction::Forward,
            AfterFailure::Partial {
                in_effect,
                statements_done,
                total,
            },
        ) => {
            let done = in_effect.len();
            let list: Vec<String> = in_effect
                .iter()
                .enumerate()
                .map(|(i, description)| format!("  {}. {description}", i + 1))
                .collect();
            let mut applied = Vec::new();
            if done > 0 {
                applied.push(format!(
                    "{done} of {total} operations:\n{}",
                    list.join("\n")
                ));
            }
            if *statements_done > 0 {
                let statements = match *statements_done {
                    1 => "statement 1".to_string(),
                    n => format!("statements 1-{n}"),
                };
                applied.push(format!("{statements} of operation {}", done + 1));
            }
            format!("applied and checkpointed: {}", applied.join("\nand "))
        }
        (
            Direction::Backward,
            AfterFailure::Partial {
                in_effect, total, ..
            },
        ) => format!(
            "{} of its {total} operations are still applied (the checkpoint records this)",
            in_effect.len()
        ),
    }
}

/// After a migration stopped part-way: exactly how to go on (which operations may be
/// edited, the command that resumes, the one that rolls back). Empty otherwise.
fn next_step(
    key: &MigrationKey,
    path: &Path,
    direction: Direction,
    after: &AfterFailure,
    rollback: &Rollback,
) -> String {
    let AfterFailure::Partial {
        in_effect,
        statements_done,
        total,
    } = after
    else {
        return String::new();
    };
    match direction {
        Direction::Forward => format!(
            "\n{}",
            how_to_resume(key, path, in_effect.len(), *statements_done, *total, rollback)
        ),
        Direction::Backward => format!(
            "\nfix the cause, then run the rollback again ({rollback} finishes rolling back {key} alone), or `strata migrate` to apply it again"
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
    ///
    /// The snippet shows the lines around the error, redacted (a `strata.toml` with a
    /// syntax error may show its `url = …` line) and cut to [`SNIPPET_WIDTH`] around
    /// the column; the other lines are left empty, so that line numbers stay right.
    fn read(path: &Path, line: usize, column: usize, message: &str) -> Option<Self> {
        let text = std::fs::read_to_string(path).ok()?;
        let mut snippet = String::new();
        let mut offset = None;
        for (number, original) in text.lines().enumerate().map(|(i, l)| (i + 1, l)) {
            if number + SNIPPET_CONTEXT < line || number > line + SNIPPET_CONTEXT {
                snippet.push('\n');
                continue;
            }
            let redacted = redact_text(original);
            let at = (number == line).then(|| shifted_column(original, &redacted, column));
            let (shown, at) = window(&redacted, at.unwrap_or(1), SNIPPET_WIDTH);
            if number == line {
                offset = Some(
                    snippet.len()
                        + shown
                            .char_indices()
                            .nth(at - 1)
                            .map_or(shown.len(), |(i, _)| i),
                );
            }
            snippet.push_str(&shown);
            snippet.push('\n');
        }
        let offset = offset.unwrap_or(snippet.len());
        Some(Self {
            path: path.to_path_buf(),
            line,
            column,
            message: shown(message),
            source_code: NamedSource::new(path.display().to_string(), snippet),
            at: SourceSpan::from(offset..offset),
        })
    }
}

/// Lines shown on each side of a file error's line.
const SNIPPET_CONTEXT: usize = 2;
/// Characters of a file's line shown in a snippet: enough for any hand-written line.
const SNIPPET_WIDTH: usize = 160;
/// Characters of one line of a message: a value echoed from a 400 KB line, or a
/// statement that long, is cut.
const MESSAGE_WIDTH: usize = 1000;

/// A message as the user sees it: connection strings redacted (a safety net behind
/// the redaction at the source), every line cut to [`MESSAGE_WIDTH`].
fn shown(message: &str) -> String {
    redact_text(message)
        .split('\n')
        .map(|line| shorten(line, MESSAGE_WIDTH))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `line` cut in the middle to about `width` characters: an echoed value's end (and
/// what the message says after it, "expected one of …") stays in view.
fn shorten(line: &str, width: usize) -> String {
    let length = line.chars().count();
    if length <= width {
        return line.to_string();
    }
    let head: String = line.chars().take(width * 2 / 3).collect();
    let tail: String = line.chars().skip(length - width / 3).collect();
    let cut = length - head.chars().count() - tail.chars().count();
    format!("{head}… ({cut} more characters) …{tail}")
}

/// `column` (1-based, in characters) of `original`, moved to where it falls in
/// `redacted`: the same before the first change, shifted by the length difference
/// after it, and at the start of a secret inside one.
fn shifted_column(original: &str, redacted: &str, column: usize) -> usize {
    let same = original
        .chars()
        .zip(redacted.chars())
        .take_while(|(a, b)| a == b)
        .count();
    if column <= same + 1 {
        return column;
    }
    let (before, after) = (original.chars().count(), redacted.chars().count());
    (column + after)
        .saturating_sub(before)
        .max(same + 1)
        .min(after + 1)
}

/// At most `width` characters of `line` around `column` (1-based), with `…` where it
/// was cut, and the column's place in what is shown.
fn window(line: &str, column: usize, width: usize) -> (String, usize) {
    let length = line.chars().count();
    if length <= width {
        return (line.to_string(), column);
    }
    let start = column.saturating_sub(1 + width / 2).min(length - width);
    let mut shown: String = line.chars().skip(start).take(width).collect();
    let mut column = column - start;
    if start > 0 {
        shown.insert(0, '…');
        column += 1;
    }
    if start + width < length {
        let _ = write!(shown, "… ({} more characters)", length - start - width);
    }
    (shown, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_around_the_column() {
        let line = "x".repeat(400_000);
        let (shown, column) = window(&line, 200_000, 100);
        assert!(shown.chars().count() < 140, "{}", shown.len());
        assert!(
            shown.starts_with('…') && shown.contains("more characters"),
            "{shown}"
        );
        assert_eq!(shown.chars().nth(column - 1), Some('x'));
        assert_eq!(window("short", 3, 100), ("short".to_string(), 3));
        let (shown, column) = window(&format!("ab{}", "c".repeat(300)), 2, 10);
        assert!(shown.starts_with("abcccccccc…"), "{shown}");
        assert_eq!(column, 2);
    }

    #[test]
    fn columns_follow_the_redaction() {
        let original = "url = \"postgres://u:LongSecret@h/db\" x";
        let redacted = redact_text(original);
        assert!(!redacted.contains("LongSecret"), "{redacted}");
        // Before the secret: unchanged; after it: moved left with the text.
        assert_eq!(shifted_column(original, &redacted, 3), 3);
        let x = original.find(" x").unwrap() + 2;
        let moved = shifted_column(original, &redacted, x);
        assert_eq!(redacted.chars().nth(moved - 1), Some('x'));
    }

    #[test]
    fn messages_are_redacted_and_cut() {
        let message = format!(
            "bad value `{}`\nurl = postgres://u:Zq8@h/db",
            "v".repeat(5000)
        );
        let text = shown(&message);
        assert!(!text.contains("Zq8"), "{text}");
        assert!(text.len() < 1200, "{}", text.len());
        // Cut in the middle: the end of the echoed value (and what follows) stays.
        assert!(text.contains("more characters) …vvv"), "{text}");
        assert!(text.contains("vvv`\nurl = "), "{text}");
        assert!(text.ends_with("postgres://u:***@h/db"), "{text}");
    }

    #[test]
    fn snippets_hide_the_url_line_and_keep_line_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("strata.toml");
        let long = "y".repeat(300_000);
        std::fs::write(
            &path,
            format!("# {long}\n\n\n\n[database]\nurl = \"postgres://u:Zq8@h/db\nbad = {long}\n"),
        )
        .unwrap();
        let located = Located::read(&path, 6, 7, "unterminated string").unwrap();
        let text = located.source_code.inner();
        assert!(!text.contains("Zq8"), "{text}");
        assert!(text.len() < 1000, "{}", text.len());
        assert_eq!(text.lines().nth(5), Some("url = \"postgres://u:***@h/db"));
        let at = located.at.offset();
        assert!(text[..at].ends_with("url = "), "{:?}", &text[..at]);
    }
}

//! What a loaded configuration must satisfy beyond its types: apps are named like
//! identifiers (they become folder names and table-name prefixes), the history table
//! too, every folder strata reads or writes stays inside the project, a DDL lock
//! timeout is one every server accepts, and lint's small tables are not larger than
//! its large ones.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use super::load::located;
use super::origin::{Origin, Origins};
use super::settings::Settings;
use super::ProjectError;

/// `Ok` if `name` is an identifier as Django's app labels are: ASCII letters, digits
/// and underscores, not starting with a digit. The error says what is wrong with it.
pub fn check_identifier(name: &str) -> Result<(), String> {
    let problem = if name.is_empty() {
        "is empty".to_string()
    } else if name.starts_with(|c: char| c.is_ascii_digit()) {
        "starts with a digit".to_string()
    } else if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        if c.is_ascii() {
            format!("contains `{}`", c.escape_default())
        } else {
            format!(
                "contains `{c}` (U+{:04X}, not an ASCII letter)",
                u32::from(c)
            )
        }
    } else {
        return Ok(());
    };
    Err(format!(
        "`{}` is not an identifier: it {problem}; use ASCII letters, digits and underscores, not starting with a digit",
        name.escape_default()
    ))
}

/// The rules on the merged settings, each error placed where its value came from.
pub(super) fn check_settings(
    settings: &Settings,
    origins: &Origins,
    path: &Path,
    text: &str,
    apps_required: bool,
) -> Result<(), ProjectError> {
    let at = |key: &str, message: String| at_origin(origins.of(key), key, message, path, text);
    let apps = &settings.project.apps;
    if apps.is_empty() && apps_required {
        return Err(match origins.of("project.apps") {
            // `apps = []`: point at it.
            Origin::File { .. } => at(
                "project.apps",
                "no apps are listed; add at least one, e.g. `apps = [\"myapp\"]` (a folder under apps_dir holding models.toml)".into(),
            ),
            _ => ProjectError::NoApps {
                path: path.to_path_buf(),
                apps_dir: settings.project.apps_dir.clone(),
            },
        });
    }
    for (i, app) in apps.iter().enumerate() {
        let key = format!("project.apps.{i}");
        check_identifier(app)
            .map_err(|e| at(&key, format!("app name {e} (like a Django app label)")))?;
        if apps[..i].contains(app) {
            return Err(at(&key, format!("app `{app}` is listed twice in apps")));
        }
    }
    check_identifier(&settings.database.history_table)
        .map_err(|e| at("database.history_table", format!("history_table {e}")))?;
    check_relative(&settings.project.apps_dir).map_err(|e| {
        at(
            "project.apps_dir",
            format!("apps_dir `{}` {e}", settings.project.apps_dir),
        )
    })?;
    let ddl_lock_timeout = settings.database.ddl_lock_timeout;
    if ddl_lock_timeout > MAX_DDL_LOCK_TIMEOUT {
        return Err(at(
            "database.ddl_lock_timeout",
            format!(
                "ddl_lock_timeout {} is longer than the maximum, 24 days (PostgreSQL's lock_timeout stops at 2147483647 ms, about 24.8 days); use at most \"24days\", or 0 to wait as long as the server does",
                spoken(ddl_lock_timeout)
            ),
        ));
    }
    let lint = &settings.lint;
    if lint.small_table_rows > lint.large_table_rows {
        return Err(at(
            "lint.small_table_rows",
            format!(
                "small_table_rows ({}) is larger than large_table_rows ({}); a table cannot be both small and large, so small_table_rows must be at most large_table_rows",
                lint.small_table_rows, lint.large_table_rows
            ),
        ));
    }
    Ok(())
}

/// `d` as the user likely wrote it: whole days as days (`100days`, which humantime
/// would say as `3months 8days 16h 19m 12s`), anything else as humantime says it.
fn spoken(d: Duration) -> String {
    const DAY: u64 = 24 * 60 * 60;
    if d.subsec_nanos() == 0 && d.as_secs().is_multiple_of(DAY) {
        format!("{}days", d.as_secs() / DAY)
    } else {
        humantime::format_duration(d).to_string()
    }
}

/// The longest `ddl_lock_timeout` every server takes: PostgreSQL's `lock_timeout`
/// stops at 2147483647 ms (24.8 days), MySQL's `lock_wait_timeout` at 31536000 s (a
/// year). A longer one would pass here and be refused when connecting, with no word
/// of the setting.
const MAX_DDL_LOCK_TIMEOUT: Duration = Duration::from_secs(24 * 24 * 60 * 60);

/// `Err` if `dir`, read as a path relative to the project, is absolute or climbs out.
fn check_relative(dir: &str) -> Result<(), String> {
    let mut depth = 0usize;
    for component in Path::new(dir).components() {
        match component {
            Component::Prefix(_) | Component::RootDir => {
                return Err("is an absolute path; it must be a folder inside the project".into())
            }
            Component::ParentDir if depth == 0 => {
                return Err(
                    "leads outside the project folder (`..`); it must stay inside it".into(),
                )
            }
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
        }
    }
    Ok(())
}

/// A located error in the file for a file value; otherwise one naming the variable or
/// flag.
pub(super) fn at_origin(
    origin: &Origin,
    key: &str,
    message: String,
    path: &Path,
    text: &str,
) -> ProjectError {
    match origin {
        Origin::File { line, column, .. } => {
            let offset = offset_of(text, *line, *column);
            located(path, text, offset, message).into()
        }
        _ => ProjectError::Value {
            key: key.to_string(),
            origin: origin.clone(),
            message,
        },
    }
}

fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    text[line_start..]
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(text.len(), |(i, _)| line_start + i)
}

/// `path` with symlinks resolved as far as it exists, if inside `root`; otherwise
/// `Err` with where it leads.
pub(crate) fn inside_root(root: &Path, path: &Path) -> Result<PathBuf, PathBuf> {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    // The longest existing ancestor decides where the path really is.
    let mut existing = path;
    let mut rest = Vec::new();
    let resolved = loop {
        if let Ok(real) = existing.canonicalize() {
            break real;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => break existing.to_path_buf(),
        }
    };
    let mut full = resolved;
    for name in rest.iter().rev() {
        full.push(name);
    }
    if full.starts_with(&root) && !full.components().any(|c| c == Component::ParentDir) {
        Ok(full)
    } else {
        Err(full)
    }
}

/// Checks folders of the project against the project folder, blaming the setting
/// that named them.
pub(super) struct Inside<'a> {
    root: &'a Path,
    path: &'a Path,
    text: &'a str,
    origins: &'a Origins,
}

impl<'a> Inside<'a> {
    pub(super) fn new(root: &'a Path, path: &'a Path, text: &'a str, origins: &'a Origins) -> Self {
        Self {
            root,
            path,
            text,
            origins,
        }
    }

    /// `dir` as given if it resolves inside the project.
    pub(super) fn check(&self, dir: &Path, key: &str) -> Result<PathBuf, ProjectError> {
        match inside_root(self.root, dir) {
            Ok(_) => Ok(dir.to_path_buf()),
            Err(resolved) => Err(at_origin(
                self.origins.of(key),
                key,
                format!(
                    "{} resolves to {} (a symlink?), outside the project folder {}",
                    dir.display(),
                    resolved.display(),
                    self.root.display()
                ),
                self.path,
                self.text,
            )),
        }
    }
}

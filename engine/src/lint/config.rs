//! Rule ids named by `[lint]` in strata.toml and `[[lint.allow]]` in migration files
//! must be rules: a misspelt id would silently allow nothing.

use crate::migration::{FileError, Migration};
use crate::models::source::Source;
use crate::models::suggest::did_you_mean;
use crate::project::{Origin, Project, ProjectError};

use super::{rule, RULES};

fn unknown(id: &str) -> String {
    format!(
        "unknown lint rule `{id}`{} (docs/lint.md lists every rule)",
        did_you_mean(id, RULES.iter().map(|r| r.id))
    )
}

/// Every id of `[lint] allow / warn / error` is a rule; an unknown one is an error at
/// the line that set it (strata.toml, or the variable or flag).
pub fn check_settings_rules(project: &Project) -> Result<(), ProjectError> {
    let lint = &project.settings.lint;
    for (list, ids) in [
        ("allow", &lint.allow),
        ("warn", &lint.warn),
        ("error", &lint.error),
    ] {
        if let Some((i, id)) = ids.iter().enumerate().find(|(_, id)| rule(id).is_none()) {
            let element = format!("lint.{list}.{i}");
            let origin = match project.origins.of(&element) {
                Origin::Default => project.origins.of(&format!("lint.{list}")),
                found => found,
            };
            let message = format!("`lint.{list}`: {}", unknown(id));
            if let Origin::File {
                path, line, column, ..
            } = origin
            {
                let text = std::fs::read_to_string(path).unwrap_or_default();
                return Err(FileError::Syntax {
                    path: path.clone(),
                    line: *line,
                    column: *column,
                    message,
                    source_line: text.lines().nth(line - 1).unwrap_or("").to_string(),
                }
                .into());
            }
            return Err(project.setting_error(&element, unknown(id)));
        }
    }
    Ok(())
}

/// Every id of the migration's `[[lint.allow]]` is a rule; an unknown one is an error
/// at its place in the file.
pub fn check_migration_rules(m: &Migration) -> Result<(), FileError> {
    for allow in &m.lint.allow {
        if let Some(id) = allow.rules.iter().find(|id| rule(id).is_none()) {
            let text = std::fs::read_to_string(&m.path).unwrap_or_default();
            let section = text.find("[[lint.allow]]").unwrap_or(0);
            let offset = [format!("\"{id}\""), format!("'{id}'")]
                .iter()
                .filter_map(|quoted| text[section..].find(quoted.as_str()))
                .min()
                .map_or(section, |at| section + at + 1);
            return Err(Source::new(&m.path, &text).error_at(
                offset,
                format!(
                    "[[lint.allow]] for operation {}: {}",
                    allow.operation,
                    unknown(id)
                ),
            ));
        }
    }
    Ok(())
}

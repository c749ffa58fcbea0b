//! Where each setting came from, so an error or `-v` can say which file line,
//! environment variable or flag to change.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Nothing set it: strata's built-in default.
    Default,
    /// A line of `strata.toml`; `section` is the table it is in (`[env.prod.database]`).
    File {
        path: PathBuf,
        section: String,
        line: usize,
        column: usize,
    },
    /// An environment variable, by name.
    EnvVar(String),
    /// A command-line flag (`--database`).
    Flag(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("the built-in default"),
            Origin::File {
                path,
                section,
                line,
                column,
            } => write!(f, "{section} in {}:{line}:{column}", path.display()),
            Origin::EnvVar(name) => write!(f, "environment variable {name}"),
            Origin::Flag(flag) => write!(f, "flag {flag}"),
        }
    }
}

/// How the `[env.NAME]` section in effect was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedEnv {
    pub name: String,
    /// `--env` or `STRATA_ENV`.
    pub chosen_by: String,
}

/// The origin of every setting, by dotted key (`database.url`, `project.apps.0`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins {
    by_key: BTreeMap<String, Origin>,
    pub env: Option<SelectedEnv>,
}

impl Origins {
    pub fn of(&self, key: &str) -> &Origin {
        self.by_key.get(key).unwrap_or(&Origin::Default)
    }

    pub(super) fn set(&mut self, key: String, origin: Origin) {
        // A list set again replaces its elements too.
        let prefix = format!("{key}.");
        self.by_key.retain(|k, _| !k.starts_with(&prefix));
        self.by_key.insert(key, origin);
    }

    pub(super) fn set_element(&mut self, key: String, origin: Origin) {
        self.by_key.insert(key, origin);
    }

    /// Which source chose the database URL, for `-v`: "database from --env prod
    /// ([env.prod.database] url, strata.toml:12)".
    pub fn database_source(&self) -> String {
        match self.of("database.url") {
            Origin::Default => {
                "database from the built-in default (no url in strata.toml, the environment or --database)".into()
            }
            Origin::EnvVar(name) => format!("database from environment variable {name}"),
            Origin::Flag(flag) => format!("database from {flag}"),
            Origin::File {
                path,
                section,
                line,
                ..
            } => {
                let file = path
                    .file_name()
                    .map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into());
                let at = format!("{section} url, {file}:{line}");
                match &self.env {
                    Some(env) if section.starts_with("[env.") => {
                        let by = if env.chosen_by == "--env" {
                            format!("--env {}", env.name)
                        } else {
                            format!("{}={}", env.chosen_by, env.name)
                        };
                        format!("database from {by} ({at})")
                    }
                    _ => format!("database from {at}"),
                }
            }
        }
    }
}

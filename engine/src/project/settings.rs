//! The settings structs: the one description of what `strata.toml` may hold. The known
//! keys, their types and defaults all come from here (`deny_unknown_fields`), so a
//! field added to a struct is known to the file, the environment and the did-you-mean.

use std::time::Duration;

use serde::Deserialize;

/// The effective configuration, after every layer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub project: ProjectSettings,
    #[serde(default)]
    pub database: DatabaseSettings,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProjectSettings {
    pub apps: Vec<String>,
    pub apps_dir: String,
}

impl Default for ProjectSettings {
    fn default() -> Self {
        Self {
            apps: Vec::new(),
            apps_dir: "apps".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    pub url: String,
    pub history_table: String,
    #[serde(with = "humantime_serde")]
    pub lock_timeout: Duration,
    /// How long to wait for the server to accept a connection; zero: no limit.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// The longest any one statement may run; `None` (the default) or zero: no limit,
    /// since a long index build or data copy is legitimate.
    #[serde(with = "humantime_serde")]
    pub statement_timeout: Option<Duration>,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "sqlite://db.sqlite3".into(),
            history_table: "strata_migrations".into(),
            lock_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            statement_timeout: None,
        }
    }
}

/// The whole file: the settings plus the `[env.NAME]` sections.
// Deserialized only to check every key and type with its span; layering reads the table.
#[allow(dead_code)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileShape {
    #[serde(default)]
    project: ProjectSettings,
    #[serde(default)]
    database: DatabaseSettings,
    #[serde(default)]
    env: std::collections::BTreeMap<String, EnvShape>,
}

/// One `[env.NAME]` section: any settings, overriding the file's.
#[allow(dead_code)]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EnvShape {
    #[serde(default)]
    project: ProjectSettings,
    #[serde(default)]
    database: DatabaseSettings,
}

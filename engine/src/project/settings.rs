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
    #[serde(default)]
    pub lint: LintSettings,
    #[serde(default)]
    pub rehearsal: RehearsalSettings,
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
    /// How long one of strata's DDL statements may wait for a table lock before it
    /// gives up, rolls back its step and retries (PostgreSQL `lock_timeout`, MySQL
    /// `lock_wait_timeout`): a migration never queues in front of the application's
    /// queries for longer. Zero: wait as long as the server does.
    #[serde(with = "humantime_serde")]
    pub ddl_lock_timeout: Duration,
    /// How many times a step whose lock wait timed out is tried again (with
    /// exponential backoff and jitter) before `migrate` gives up with exit 5.
    pub ddl_retries: u32,
    /// Run safe plans on tables that existed before the migration (concurrent index
    /// builds, `NOT VALID` then `VALIDATE`, online `ALTER` algorithms). `false` runs
    /// the plain statements for every migration.
    pub safe: bool,
}

/// `[lint]`: which findings `strata lint` (and `migrate`) report, and how severe.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LintSettings {
    /// Rule ids never reported in this project.
    pub allow: Vec<String>,
    /// Rule ids reported as warnings at most (never failing `lint` or `migrate`).
    pub warn: Vec<String>,
    /// Rule ids reported as errors whatever their usual severity.
    pub error: Vec<String>,
    /// With a live database: a table with fewer rows makes its lock and rewrite
    /// findings informational (a rewrite of 500 rows is harmless).
    pub small_table_rows: u64,
    /// With a live database: a table with at least this many rows makes its lock and
    /// rewrite findings errors.
    pub large_table_rows: u64,
}

impl Default for LintSettings {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            warn: Vec::new(),
            error: Vec::new(),
            small_table_rows: 10_000,
            large_table_rows: 1_000_000,
        }
    }
}

/// `[rehearsal]`: how `migrate --rehearse` judges the run on its copy.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RehearsalSettings {
    /// An operation that takes longer fails the rehearsal (`--max-duration` overrides
    /// it); `None` (the default) or zero: no limit.
    #[serde(with = "humantime_serde")]
    pub max_duration: Option<Duration>,
}

impl DatabaseSettings {
    /// What a run sets on each connection it opens.
    pub fn session_limits(&self) -> crate::dialect::driver::SessionLimits {
        crate::dialect::driver::SessionLimits {
            statement_timeout: self.statement_timeout,
            ddl_lock_timeout: self.ddl_lock_timeout,
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "sqlite://db.sqlite3".into(),
            history_table: "strata_migrations".into(),
            lock_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            statement_timeout: None,
            ddl_lock_timeout: Duration::from_secs(5),
            ddl_retries: 3,
            safe: true,
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
    lint: LintSettings,
    #[serde(default)]
    rehearsal: RehearsalSettings,
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
    #[serde(default)]
    lint: LintSettings,
    #[serde(default)]
    rehearsal: RehearsalSettings,
}

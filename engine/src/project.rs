//! A strata project on disk: `strata.toml` (layered with the `config` crate), its
//! apps and their migration files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::migration::{is_migration_file, FileError, Migration};

pub const CONFIG_FILE: &str = "strata.toml";

/// The effective configuration, after every layer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Settings {
    pub project: ProjectSettings,
    pub database: DatabaseSettings,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ProjectSettings {
    #[serde(default)]
    pub apps: Vec<String>,
    pub apps_dir: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DatabaseSettings {
    pub url: String,
    pub history_table: String,
    #[serde(with = "humantime_serde")]
    pub lock_timeout: Duration,
    /// How long to wait for the server to accept a connection.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// The longest any one statement may run; `None` (the default): no limit, since a
    /// long index build or data copy is legitimate.
    #[serde(default, with = "humantime_serde")]
    pub statement_timeout: Option<Duration>,
}

/// Values that beat every file and environment layer (command-line flags).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub database_url: Option<String>,
    /// `--env NAME`; `STRATA_ENV` is read when this is `None`.
    pub env: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProjectError {
    #[error("no {CONFIG_FILE} in {start} or any folder above it (use --project DIR)")]
    NotFound { start: PathBuf },
    #[error(transparent)]
    File(#[from] FileError),
    #[error("{path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("{path}: environment `{env}` is not defined (defined: {defined})")]
    UnknownEnv {
        path: PathBuf,
        env: String,
        defined: String,
    },
    #[error("{path}: app `{app}` is listed in [project] apps but {dir} does not exist")]
    MissingApp {
        path: PathBuf,
        app: String,
        dir: PathBuf,
    },
    #[error("{path}: app `{app}` is listed twice in [project] apps")]
    DuplicateApp { path: PathBuf, app: String },
}

/// An app: a folder under `apps_dir` with its migrations (sorted by name).
#[derive(Debug, Clone, PartialEq)]
pub struct App {
    pub name: String,
    pub dir: PathBuf,
    pub migrations: Vec<Migration>,
}

impl App {
    pub fn migrations_dir(&self) -> PathBuf {
        self.dir.join("migrations")
    }

    pub fn models_path(&self) -> PathBuf {
        self.dir.join("models.toml")
    }
}

/// Everything loaded from disk.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub root: PathBuf,
    pub settings: Settings,
    pub apps: Vec<App>,
}

/// The folder holding `strata.toml`: `start` or the nearest folder above it.
pub fn find_root(start: &Path) -> Result<PathBuf, ProjectError> {
    let start = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
    start
        .ancestors()
        .find(|dir| dir.join(CONFIG_FILE).is_file())
        .map(Path::to_path_buf)
        .ok_or(ProjectError::NotFound { start })
}

impl Project {
    /// Loads the project whose `strata.toml` is in `root`.
    pub fn load(root: &Path, overrides: &Overrides) -> Result<Self, ProjectError> {
        let settings = load_settings(root, overrides, |k| std::env::var(k).ok())?;
        let config_path = root.join(CONFIG_FILE);
        let apps_dir = root.join(&settings.project.apps_dir);
        let mut apps: Vec<App> = Vec::new();
        for name in &settings.project.apps {
            if apps.iter().any(|a| &a.name == name) {
                return Err(ProjectError::DuplicateApp {
                    path: config_path,
                    app: name.clone(),
                });
            }
            let dir = apps_dir.join(name);
            if !dir.is_dir() {
                return Err(ProjectError::MissingApp {
                    path: config_path,
                    app: name.clone(),
                    dir,
                });
            }
            let migrations = load_migrations(name, &dir.join("migrations"))?;
            apps.push(App {
                name: name.clone(),
                dir,
                migrations,
            });
        }
        Ok(Self {
            root: root.to_path_buf(),
            settings,
            apps,
        })
    }

    pub fn app(&self, name: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.name == name)
    }

    pub fn migrations(&self) -> impl Iterator<Item = &Migration> {
        self.apps.iter().flat_map(|a| a.migrations.iter())
    }
}

fn load_migrations(app: &str, dir: &Path) -> Result<Vec<Migration>, ProjectError> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let io = |e: std::io::Error| FileError::Io {
        path: dir.to_path_buf(),
        message: e.to_string(),
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_file() && is_migration_file(&path) {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths
        .iter()
        .map(|p| Migration::load(app, p))
        .collect::<Result<_, _>>()?)
}

/// Layers, lowest first: built-in defaults, `strata.toml`, its `[env.NAME]` section,
/// the environment (`DATABASE_URL`, then `STRATA_*`), then `overrides`.
pub fn load_settings(
    root: &Path,
    overrides: &Overrides,
    env_var: impl Fn(&str) -> Option<String>,
) -> Result<Settings, ProjectError> {
    let path = root.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| FileError::Io {
        path: path.clone(),
        message: e.to_string(),
    })?;
    // Parsed here first for an error with line and column; `config` then layers it.
    let file: toml::Table =
        toml::from_str(&text).map_err(|e| FileError::from_toml(&path, &text, &e))?;
    let config_error = |e: config::ConfigError| ProjectError::Config {
        path: path.clone(),
        message: e.to_string(),
    };
    // A table just parsed serializes back; should it not, that is the file's error.
    let to_text = |table: &toml::Table| {
        toml::to_string(table).map_err(|e| ProjectError::Config {
            path: path.clone(),
            message: e.to_string(),
        })
    };

    let mut builder = config::Config::builder()
        .set_default("project.apps_dir", "apps")
        .and_then(|b| b.set_default("database.url", "sqlite://db.sqlite3"))
        .and_then(|b| b.set_default("database.history_table", "strata_migrations"))
        .and_then(|b| b.set_default("database.lock_timeout", "60s"))
        .and_then(|b| b.set_default("database.connect_timeout", "10s"))
        .map_err(config_error)?;
    let mut base = file.clone();
    let environments = base.remove("env");
    builder = builder.add_source(config::File::from_str(
        &to_text(&base)?,
        config::FileFormat::Toml,
    ));

    if let Some(env) = overrides.env.clone().or_else(|| env_var("STRATA_ENV")) {
        let section = environments
            .as_ref()
            .and_then(|e| e.get(&env))
            .and_then(|s| s.as_table())
            .ok_or_else(|| ProjectError::UnknownEnv {
                path: path.clone(),
                env: env.clone(),
                defined: environments
                    .as_ref()
                    .and_then(|e| e.as_table())
                    .map(|t| t.keys().cloned().collect::<Vec<_>>().join(", "))
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "none".into()),
            })?;
        builder = builder.add_source(config::File::from_str(
            &to_text(section)?,
            config::FileFormat::Toml,
        ));
    }

    let from_env = [
        ("database.url", env_var("DATABASE_URL")),
        ("database.url", env_var("STRATA_DATABASE_URL")),
        ("database.history_table", env_var("STRATA_HISTORY_TABLE")),
        ("database.lock_timeout", env_var("STRATA_LOCK_TIMEOUT")),
        (
            "database.connect_timeout",
            env_var("STRATA_CONNECT_TIMEOUT"),
        ),
        (
            "database.statement_timeout",
            env_var("STRATA_STATEMENT_TIMEOUT"),
        ),
        ("project.apps_dir", env_var("STRATA_APPS_DIR")),
        ("database.url", overrides.database_url.clone()),
    ];
    for (key, value) in from_env {
        builder = builder
            .set_override_option(key, value)
            .map_err(config_error)?;
    }
    builder
        .build()
        .and_then(config::Config::try_deserialize::<Settings>)
        .map_err(config_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), text).unwrap();
        dir
    }

    const FILE: &str = r#"
[project]
apps = ["auth"]

[database]
url = "sqlite://base.sqlite3"

[env.production.database]
url = "postgres://app@db/app"
lock_timeout = "5s"
"#;

    #[test]
    fn defaults_apply_when_nothing_is_configured() {
        let dir = project("[project]\napps = []\n");
        let s = load_settings(dir.path(), &Overrides::default(), |_| None).unwrap();
        assert_eq!(s.database.url, "sqlite://db.sqlite3");
        assert_eq!(s.database.history_table, "strata_migrations");
        assert_eq!(s.database.lock_timeout, Duration::from_secs(60));
        assert_eq!(s.project.apps_dir, "apps");
        assert_eq!(s.database.connect_timeout, Duration::from_secs(10));
        assert_eq!(s.database.statement_timeout, None, "no limit by default");
    }

    #[test]
    fn timeouts_come_from_the_file_and_the_environment() {
        let dir = project(
            "[project]\napps = []\n[database]\nconnect_timeout = \"3s\"\nstatement_timeout = \"2min\"\n",
        );
        let s = load_settings(dir.path(), &Overrides::default(), |_| None).unwrap();
        assert_eq!(s.database.connect_timeout, Duration::from_secs(3));
        assert_eq!(s.database.statement_timeout, Some(Duration::from_secs(120)));
        let env = |k: &str| match k {
            "STRATA_CONNECT_TIMEOUT" => Some("500ms".to_string()),
            "STRATA_STATEMENT_TIMEOUT" => Some("1h".to_string()),
            _ => None,
        };
        let s = load_settings(dir.path(), &Overrides::default(), env).unwrap();
        assert_eq!(s.database.connect_timeout, Duration::from_millis(500));
        assert_eq!(
            s.database.statement_timeout,
            Some(Duration::from_secs(3600))
        );
        let bad = |k: &str| (k == "STRATA_STATEMENT_TIMEOUT").then(|| "soon".to_string());
        let e = load_settings(dir.path(), &Overrides::default(), bad).unwrap_err();
        // Naming the key too is the configuration validation's job (issue 8 point 5).
        assert!(e.to_string().contains("\"soon\""), "{e}");
    }

    #[test]
    fn layers_apply_in_documented_order() {
        let dir = project(FILE);
        let none = |_: &str| None;
        let base = load_settings(dir.path(), &Overrides::default(), none).unwrap();
        assert_eq!(base.database.url, "sqlite://base.sqlite3");

        let prod = Overrides {
            env: Some("production".into()),
            ..Default::default()
        };
        let s = load_settings(dir.path(), &prod, none).unwrap();
        assert_eq!(s.database.url, "postgres://app@db/app");
        assert_eq!(s.database.lock_timeout, Duration::from_secs(5));

        let env = |k: &str| match k {
            "DATABASE_URL" => Some("mysql://generic".to_string()),
            "STRATA_DATABASE_URL" => Some("mysql://specific".to_string()),
            "STRATA_ENV" => Some("production".to_string()),
            _ => None,
        };
        let s = load_settings(dir.path(), &Overrides::default(), env).unwrap();
        assert_eq!(
            s.database.url, "mysql://specific",
            "STRATA_ beats DATABASE_URL"
        );
        assert_eq!(
            s.database.lock_timeout,
            Duration::from_secs(5),
            "STRATA_ENV selects"
        );

        let flag = Overrides {
            database_url: Some("sqlite://flag.sqlite3".into()),
            ..Default::default()
        };
        let s = load_settings(dir.path(), &flag, env).unwrap();
        assert_eq!(
            s.database.url, "sqlite://flag.sqlite3",
            "flags beat everything"
        );
    }

    #[test]
    fn unknown_env_names_the_defined_ones() {
        let dir = project(FILE);
        let o = Overrides {
            env: Some("staging".into()),
            ..Default::default()
        };
        let err = load_settings(dir.path(), &o, |_| None).unwrap_err();
        assert!(err.to_string().contains("`staging`"), "{err}");
        assert!(err.to_string().contains("production"), "{err}");
    }

    #[test]
    fn broken_config_is_located() {
        let dir = project("[project]\napps = [\"a\" \"b\"]\n");
        let err = load_settings(dir.path(), &Overrides::default(), |_| None).unwrap_err();
        assert!(
            matches!(err, ProjectError::File(FileError::Syntax { line: 2, .. })),
            "{err:?}"
        );
    }

    #[test]
    fn root_is_found_upward() {
        let dir = project("[project]\n");
        let nested = dir.path().join("a/b");
        std::fs::create_dir_all(&nested).unwrap();
        assert_eq!(
            find_root(&nested).unwrap(),
            dir.path().canonicalize().unwrap()
        );
    }
}

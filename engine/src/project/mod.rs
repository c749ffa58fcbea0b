//! A strata project on disk: `strata.toml` (defaults, the file, its `[env.NAME]`
//! section, the environment and flags, layered in `load`), its apps and their
//! migration files.

mod editor_schemas;
mod env_value;
mod keys;
mod load;
mod origin;
mod rules;
mod settings;
#[cfg(test)]
mod tests;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest as _, Sha256};

use crate::cache::{self, Cache};
use crate::migration::{hex, is_migration_file, sha256_hex, FileError, Migration};

pub use editor_schemas::{
    schema_directive, MIGRATION_SCHEMA, MODELS_SCHEMA, PROJECT_SCHEMAS_DIR, SETTINGS_SCHEMA,
};
pub use load::{load_settings, Configured};
pub use origin::{Origin, Origins, SelectedEnv};
pub use rules::check_identifier;
pub(crate) use rules::inside_root;
pub use settings::{DatabaseSettings, LintSettings, ProjectSettings, RehearsalSettings, Settings};

pub const CONFIG_FILE: &str = "strata.toml";

/// The keys each section of `strata.toml` accepts (`[project]`, `[database]`,
/// `[lint]`, `[rehearsal]`, the same inside `[env.NAME]`), read from the settings structs: what
/// `strata init`'s commented template and the editors' schema are checked against.
pub fn section_keys() -> Vec<(&'static str, &'static [&'static str])> {
    load::SECTIONS
        .iter()
        .map(|(name, table)| (*name, table.fields().unwrap_or_default()))
        .collect()
}

/// Values that beat every file and environment layer (command-line flags).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub database_url: Option<String>,
    /// `--env NAME`; `STRATA_ENV` is read when this is `None`.
    pub env: Option<String>,
    /// `--no-cache`: neither read nor write the project's cache (`crate::cache`).
    pub no_cache: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProjectError {
    #[error("no {CONFIG_FILE} in {start} or any folder above it (use --project DIR)")]
    NotFound { start: PathBuf },
    /// A mistake at a line and column of `strata.toml` (or a file it names).
    #[error(transparent)]
    File(#[from] FileError),
    #[error("{path}: {message}")]
    Config { path: PathBuf, message: String },
    /// A wrong value that did not come from the file: an environment variable or a flag.
    #[error("{origin}: `{key}`: {message}")]
    Value {
        key: String,
        origin: Origin,
        message: String,
    },
    #[error("{path}: environment `{env}` (from {chosen_by}) is not defined in [env]{suggestion} (defined: {defined})")]
    UnknownEnv {
        path: PathBuf,
        env: String,
        chosen_by: String,
        suggestion: String,
        defined: String,
    },
    #[error("{path}: no apps are listed; add them, e.g.\n\n[project]\napps = [\"myapp\"]   # a folder {apps_dir}/myapp holding models.toml")]
    NoApps { path: PathBuf, apps_dir: String },
    #[error("{path}: app `{app}` is listed in [project] apps but {dir} does not exist")]
    MissingApp {
        path: PathBuf,
        app: String,
        dir: PathBuf,
    },
}

/// An app: a folder under `apps_dir` with its migrations (sorted by name).
#[derive(Debug, Clone, PartialEq)]
pub struct App {
    pub name: String,
    pub dir: PathBuf,
    /// Shared with the [`Graph`](crate::graph::Graph) built from the project, which
    /// then holds pointers rather than a second copy of every operation.
    pub migrations: Vec<Arc<Migration>>,
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
    /// Where each setting came from.
    pub origins: Origins,
    pub apps: Vec<App>,
    /// The project's cache of parsed migrations and replayed states; `None` when
    /// turned off.
    pub cache: Option<Cache>,
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
        Self::load_with(root, overrides, true)
    }

    /// [`Project::load`] for a command about the database alone (`database create`):
    /// a project that lists no apps yet is accepted.
    pub fn load_without_apps(root: &Path, overrides: &Overrides) -> Result<Self, ProjectError> {
        Self::load_with(root, overrides, false)
    }

    fn load_with(
        root: &Path,
        overrides: &Overrides,
        apps_required: bool,
    ) -> Result<Self, ProjectError> {
        let Configured {
            settings,
            origins,
            text,
        } = load::load_settings_with(root, overrides, |k| std::env::var(k).ok(), apps_required)?;
        // A misspelt variable is ignored like any unknown one; say so.
        let names: Vec<String> = std::env::vars_os()
            .filter_map(|(name, _)| name.into_string().ok())
            .collect();
        for (name, known) in load::misspelt_variables(names.iter().map(String::as_str)) {
            tracing::warn!(
                "environment variable {name} is not one strata reads; did you mean {known}?"
            );
        }
        let config_path = root.join(CONFIG_FILE);
        let cache = if overrides.no_cache {
            None
        } else {
            Cache::in_project(root)
        };
        let inside = rules::Inside::new(root, &config_path, &text, &origins);
        let apps_dir = inside.check(&root.join(&settings.project.apps_dir), "project.apps_dir")?;
        let mut apps: Vec<App> = Vec::new();
        for (i, name) in settings.project.apps.iter().enumerate() {
            let dir = apps_dir.join(name);
            if !dir.is_dir() {
                return Err(ProjectError::MissingApp {
                    path: config_path,
                    app: name.clone(),
                    dir,
                });
            }
            // A symlinked app folder or migrations folder must not lead outside.
            let element = format!("project.apps.{i}");
            inside.check(&dir, &element)?;
            inside.check(&dir.join("migrations"), &element)?;
            inside.check(&dir.join("models.toml"), &element)?;
            let migrations = load_migrations(cache.as_ref(), name, &dir.join("migrations"))?;
            apps.push(App {
                name: name.clone(),
                dir,
                migrations,
            });
        }
        Ok(Self {
            root: root.to_path_buf(),
            settings,
            origins,
            apps,
            cache,
        })
    }

    pub fn app(&self, name: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.name == name)
    }

    pub fn migrations(&self) -> impl Iterator<Item = &Migration> {
        self.apps
            .iter()
            .flat_map(|a| a.migrations.iter().map(AsRef::as_ref))
    }

    /// Reads every app's migrations again: another process may have written some
    /// since `load` (`makemigrations` re-reads them once it holds its lock).
    pub fn reload_migrations(&mut self) -> Result<(), ProjectError> {
        for app in &mut self.apps {
            app.migrations =
                load_migrations(self.cache.as_ref(), &app.name, &app.migrations_dir())?;
        }
        Ok(())
    }

    /// An error about a setting's value, found after loading (a URL no backend
    /// takes, a name too long for the server), naming where the value came from.
    pub fn setting_error(&self, key: &str, message: String) -> ProjectError {
        ProjectError::Value {
            key: key.to_string(),
            origin: self.origins.of(key).clone(),
            message,
        }
    }

    /// `path` if it is inside the project folder once symlinks are resolved: every
    /// file strata writes goes through this.
    pub fn writable(&self, path: &Path) -> Result<PathBuf, ProjectError> {
        rules::inside_root(&self.root, path).map_err(|resolved| ProjectError::Config {
            path: path.to_path_buf(),
            message: format!(
                "resolves to {}, outside the project folder {}; strata writes only inside it",
                resolved.display(),
                self.root.display()
            ),
        })
    }
}

/// A visible `*.toml` entry of a migrations folder (hidden ones are editors' and
/// strata's own temporary files).
fn looks_like_a_migration(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'));
    !hidden && path.extension().is_some_and(|e| e == "toml")
}

fn load_migrations(
    cache: Option<&Cache>,
    app: &str,
    dir: &Path,
) -> Result<Vec<Arc<Migration>>, ProjectError> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let io = |e: std::io::Error| FileError::io(dir, &e);
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        // The entry's type comes with the listing; only a symlink needs a look.
        let is_file = match entry.file_type() {
            Ok(t) if !t.is_symlink() => t.is_file(),
            _ => path.is_file(),
        };
        if is_file && is_migration_file(&path) {
            paths.push(path);
        } else if looks_like_a_migration(&path) {
            // A misnamed file would silently never run: refuse it instead.
            return Err(FileError::Io {
                path,
                message: "not a migration file: a migration is a file named NNNN_name.toml \
                          (rename it, or move it out of the migrations folder)"
                    .into(),
            }
            .into());
        }
    }
    // One folder: by file name (comparing whole paths costs more than the sort).
    paths.sort_by_cached_key(|p| p.file_name().map(ToOwned::to_owned));
    parse_all(cache, app, &paths)
}

/// Reads `paths`, in their order, and parses each unless the cache has it as parsed
/// from the same bytes; writes the cache again when it lacked any. The first error
/// is the one a sequential load would report.
fn parse_all(
    cache: Option<&Cache>,
    app: &str,
    paths: &[PathBuf],
) -> Result<Vec<Arc<Migration>>, ProjectError> {
    // The cache's records are parsed on one thread while the files are hashed on
    // the others: at every start, and for thousands of files.
    let mut file = None;
    let slot = &mut file;
    let (mut records, digests) = alongside(
        paths.len() >= PER_THREAD,
        move || {
            slot.insert(cache::migrations::File::read(cache, app))
                .parsed()
        },
        || on_every_core_with(paths, Vec::new, digest),
    );
    let hits: Vec<Option<Arc<Migration>>> = paths
        .iter()
        .zip(&digests)
        .map(|(path, digest)| {
            let digest = digest.as_ref().ok()?;
            records.take(app, path, digest).map(Arc::new)
        })
        .collect();
    // The file as read (twice the size of the operations the hits share) is not
    // needed any more.
    drop(records);
    drop(file);
    let misses: Vec<usize> = (0..hits.len()).filter(|i| hits[*i].is_none()).collect();
    let mut parsed = on_every_core(&misses, |i| parse_file(app, &paths[*i])).into_iter();
    let mut migrations = Vec::with_capacity(paths.len());
    // The SHA-256 of each file's bytes, kept when the cache is to be written.
    let mut hashes = Vec::new();
    for (hit, digest) in hits.into_iter().zip(&digests) {
        let (migration, hash) = if let (Some(m), Ok(digest)) = (hit, digest) {
            // Its hex only when the cache is to be written.
            (m, (!misses.is_empty()).then(|| hex(digest)))
        } else {
            let (m, hash) = parsed.next().expect("a result per miss")?;
            (m, Some(hash))
        };
        hashes.extend(hash);
        migrations.push(migration);
    }
    if let Some(cache) = cache.filter(|_| !misses.is_empty()) {
        let stored: Vec<(&str, &str, &Migration)> = paths
            .iter()
            .zip(&hashes)
            .zip(&migrations)
            .filter_map(|((path, hash), m)| {
                let name = path.file_name()?.to_str()?;
                Some((name, hash.as_str(), m.as_ref()))
            })
            .collect();
        cache::migrations::store(cache, app, &stored);
    }
    Ok(migrations)
}

/// The SHA-256 of file `path`'s bytes, read into `buffer` (one per thread, reused:
/// no allocation per file). Read in a plain loop: `read_to_end` on a file first
/// asks its size and position (two system calls more per file, thousands of files).
fn digest(buffer: &mut Vec<u8>, path: &PathBuf) -> Result<[u8; 32], FileError> {
    // Larger than migration files are: one read, and one more that finds the end.
    const TYPICAL: usize = 16 * 1024;
    let io = |e: std::io::Error| FileError::io(path, &e);
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut len = 0;
    loop {
        if len == buffer.len() {
            buffer.resize((buffer.len() * 2).max(TYPICAL), 0);
        }
        match file.read(&mut buffer[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    Ok(Sha256::digest(&buffer[..len]).into())
}

/// Migration file `path` of `app` read and parsed, and the SHA-256 of the bytes it
/// was parsed from (read again here: a file written since it was hashed is cached
/// under its new bytes' hash, never under the old one's).
fn parse_file(app: &str, path: &Path) -> Result<(Arc<Migration>, String), FileError> {
    let text = std::fs::read_to_string(path).map_err(|e| FileError::io(path, &e))?;
    let hash = sha256_hex(&text);
    Migration::from_text(app, path, &text).map(|m| (Arc::new(m), hash))
}

/// Below this many items a thread costs more than it saves.
const PER_THREAD: usize = 64;

/// `a` and `b`, `a` on a thread of its own when `parallel`.
fn alongside<A: Send, B>(
    parallel: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B,
) -> (A, B) {
    if !parallel {
        return (a(), b());
    }
    std::thread::scope(|scope| {
        let a = scope.spawn(a);
        let b = b();
        let a = a
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (a, b)
    })
}

/// `f` over `items`, on every core when there are enough of them to pay for the
/// threads; the results keep the order of `items`.
fn on_every_core<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    on_every_core_with(items, || (), |(), item| f(item))
}

/// [`on_every_core`] where each thread has a `state` of its own, made by `init`
/// (a buffer to reuse).
fn on_every_core_with<T: Sync, R: Send, S>(
    items: &[T],
    init: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, &T) -> R + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(items.len() / PER_THREAD);
    let run = |part: &[T]| {
        let mut state = init();
        part.iter()
            .map(|item| f(&mut state, item))
            .collect::<Vec<_>>()
    };
    if threads <= 1 {
        return run(items);
    }
    let chunk = items.len().div_ceil(threads);
    let run = &run;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || run(part)))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

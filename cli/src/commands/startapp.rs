//! `strata startapp NAME`: a new app — `apps/NAME/models.toml` with a commented
//! example, `apps/NAME/migrations/`, and NAME added to `[project] apps` in
//! `strata.toml` with the rest of the file (comments, layout) kept as written.
//!
//! It runs before a project is loaded: a project fresh from `strata init` lists no
//! app yet, which every other command refuses.

use std::io::Write;
use std::path::{Path, PathBuf};

use strata_engine::migration::{line_column, FileError};
use strata_engine::project::{
    find_root, load_settings, schema_directive, Overrides, Project, CONFIG_FILE, MODELS_SCHEMA,
};
use toml_edit::{Array, ImDocument, Item, Value};

use crate::args::{GlobalArgs, StartappArgs};
use crate::error::{exit, CliError};

/// The new app's models.toml: an example to uncomment (the scaffold test holds it to
/// the parser), `{app}` replaced by the app's name.
const MODELS: &str = include_str!("startapp/models.toml");

pub(crate) fn run(
    global: &GlobalArgs,
    args: &StartappArgs,
    out: &mut dyn Write,
) -> Result<u8, CliError> {
    let start = match &global.project {
        Some(dir) => dir.clone(),
        None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    };
    let root = find_root(&start)?;
    let config = root.join(CONFIG_FILE);
    let before = std::fs::read_to_string(&config).map_err(|e| FileError::Io {
        path: config.clone(),
        message: e.to_string(),
    })?;
    let after = with_app(&config, &before, &args.name)?;
    let overrides = Overrides {
        database_url: global.database.clone(),
        env: global.env.clone(),
        no_cache: global.no_cache,
    };
    // The edited file is what decides where the app goes and whether the project
    // holds together; if anything below fails, the file is put back as it was and
    // what was created is removed.
    replace_file(&config, &after)?;
    let mut created = None;
    let result = make_app(&root, &overrides, &args.name, &mut created);
    let dir = match result {
        Ok(dir) => dir,
        Err(e) => {
            if let Some(made) = created {
                let _ = std::fs::remove_dir_all(made);
            }
            replace_file(&config, &before)?;
            return Err(e);
        }
    };
    let shown = dir
        .strip_prefix(&root)
        .unwrap_or(&dir)
        .display()
        .to_string();
    writeln!(
        out,
        "Created app `{}`: {shown}/models.toml, {shown}/migrations/; added it to [project] apps in {CONFIG_FILE}",
        args.name
    )?;
    writeln!(
        out,
        "Next: describe its models in {shown}/models.toml, then strata makemigrations and strata migrate"
    )?;
    Ok(exit::OK)
}

/// The app's folder with `models.toml` and `migrations/`, once strata.toml lists it.
/// `created` is set to the topmost folder made, for the caller to remove on failure.
fn make_app(
    root: &Path,
    overrides: &Overrides,
    name: &str,
    created: &mut Option<PathBuf>,
) -> Result<PathBuf, CliError> {
    let configured = load_settings(root, overrides, |k| std::env::var(k).ok())?;
    let apps_dir = root.join(&configured.settings.project.apps_dir);
    // Not yet a loadable project (the new app's folder is missing): enough of one to
    // check where strata may write.
    let project = Project {
        root: root.to_path_buf(),
        settings: configured.settings,
        origins: configured.origins,
        apps: Vec::new(),
        cache: None,
    };
    let dir = apps_dir.join(name);
    project.writable(&dir)?;
    if dir.exists() {
        return Err(CliError::Usage(format!(
            "{} already exists; to use it as app `{name}`, add \"{name}\" to [project] apps in {CONFIG_FILE} yourself",
            dir.display()
        )));
    }
    *created = Some(if apps_dir.exists() {
        dir.clone()
    } else {
        apps_dir.clone()
    });
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |e: std::io::Error| {
            CliError::Usage(format!("{}: cannot write it: {e}", path.display()))
        }
    };
    let migrations = dir.join("migrations");
    std::fs::create_dir_all(&migrations).map_err(failed(&migrations))?;
    let models = dir.join("models.toml");
    // Editors find the project's schema from the file itself.
    let header = schema_directive(root, &dir, MODELS_SCHEMA).unwrap_or_default();
    let text = format!("{header}{}", MODELS.replace("{app}", name));
    std::fs::write(&models, text).map_err(failed(&models))?;
    // Every rule a loaded project must satisfy, with the new app in it.
    Project::load(root, overrides)?;
    Ok(dir)
}

/// `text` (strata.toml) with `name` added to `[project] apps`, comments and layout
/// kept. Refuses an app that is listed already.
fn with_app(path: &Path, text: &str, name: &str) -> Result<String, CliError> {
    let located = |offset: usize, message: String| -> CliError {
        let (line, column) = line_column(text, offset);
        FileError::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            message,
            source_line: text.lines().nth(line - 1).unwrap_or("").to_string(),
        }
        .into()
    };
    let parsed = ImDocument::parse(text).map_err(|e| {
        located(
            e.span().map_or(0, |s| s.start),
            e.message().trim().to_string(),
        )
    })?;
    // Checked on the parsed document, which still knows where each value is.
    let apps = parsed
        .get("project")
        .and_then(Item::as_table_like)
        .and_then(|p| p.get("apps"));
    if let Some(apps) = apps {
        let at = apps.span().map_or(0, |s| s.start);
        let Some(list) = apps.as_array() else {
            return Err(located(
                at,
                "`apps` in [project] is not a list; startapp adds to a list like `apps = [\"shop\"]`"
                    .into(),
            ));
        };
        // Apps differing only in case would share a folder on case-insensitive file
        // systems, and history rows and tables on case-insensitive databases.
        if let Some(listed) = list
            .iter()
            .filter_map(|v| v.as_str())
            .find(|listed| listed.eq_ignore_ascii_case(name))
        {
            let what = if listed == name {
                format!("app `{name}` is already in [project] apps")
            } else {
                format!("app `{listed}` is already in [project] apps, and `{name}` differs from it only in case (their folders and tables would collide)")
            };
            return Err(located(at, what));
        }
    }
    let mut doc = parsed.into_mut();
    let project = doc
        .entry("project")
        .or_insert_with(toml_edit::table)
        .as_table_like_mut()
        .ok_or_else(|| located(0, "`project` is not a table".into()))?;
    if let Some(list) = project.get_mut("apps").and_then(Item::as_array_mut) {
        push_keeping_layout(list, name);
    } else {
        let mut list = Array::new();
        list.push(name);
        project.insert("apps", Item::Value(Value::Array(list)));
    }
    Ok(doc.to_string())
}

/// Appends `name` to `list` spaced like the list's other elements: on a line of its
/// own in a list written one per line, after `, ` in a list on one line.
fn push_keeping_layout(list: &mut Array, name: &str) {
    let previous = list
        .iter()
        .last()
        .and_then(|v| v.decor().prefix())
        .and_then(|p| p.as_str())
        .filter(|p| p.contains('\n'))
        .map(str::to_string);
    list.push(name);
    if let (Some(prefix), Some(last)) = (previous, list.iter_mut().last()) {
        last.decor_mut().set_prefix(prefix);
    }
}

/// Writes `path` whole (a temporary file beside it, renamed over it), with the
/// permissions it had: a crash leaves the old file or the new one, never half of it.
fn replace_file(path: &Path, text: &str) -> Result<(), CliError> {
    let failed =
        |e: std::io::Error| CliError::Usage(format!("{}: cannot write it: {e}", path.display()));
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let permissions = std::fs::metadata(path).map_err(failed)?.permissions();
    let mut builder = tempfile::Builder::new();
    builder
        .prefix(".strata-")
        .suffix(".tmp")
        .permissions(permissions);
    let mut temp = builder.tempfile_in(dir).map_err(failed)?;
    temp.write_all(text.as_bytes()).map_err(failed)?;
    temp.as_file().sync_all().map_err(failed)?;
    temp.persist(path).map_err(|e| failed(e.error))?;
    Ok(())
}

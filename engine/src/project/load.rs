//! Layering `strata.toml` with the environment and flags, each value validated in its
//! own layer so that a mistake names the file line, variable or flag that made it;
//! the `config` crate merges the checked layers.
//!
//! Layers, lowest first: built-in defaults; the file; `DATABASE_URL`; the selected
//! `[env.NAME]` section; `STRATA_*` variables; flags. `DATABASE_URL` sits below
//! `[env.NAME]` because it is often inherited (a shell, a PaaS, another tool's
//! `.env`), while `--env`/`STRATA_ENV` is a deliberate choice of strata's user;
//! `STRATA_*` variables are strata's own and as deliberate as the section.

// `write!` into a String, which cannot fail.
use std::fmt::Write as _;
use std::path::Path;

use toml_edit::ImDocument;

use super::env_value;
use super::keys::{self, Leaf, Table, Unknown};
use super::origin::{Origin, Origins, SelectedEnv};
use super::settings::{FileShape, Settings};
use super::{rules, Overrides, ProjectError, CONFIG_FILE};
use crate::migration::{line_column, FileError};
use crate::models::source::Source;
use crate::models::suggest::{closest, did_you_mean};

/// The effective settings, where each came from, and the file's text (for errors
/// found later that point into it).
#[derive(Debug, Clone)]
pub struct Configured {
    pub settings: Settings,
    pub origins: Origins,
    pub text: String,
}

/// The sections a layer may set, with the struct that describes each.
pub(super) const SECTIONS: [(&str, Table); 4] = [
    ("project", Table::Project),
    ("database", Table::Database),
    ("lint", Table::Lint),
    ("rehearsal", Table::Rehearsal),
];

/// The environment variable of a setting: `STRATA_<KEY>`, and `STRATA_DATABASE_URL`
/// for the URL (`STRATA_URL` would say nothing), `STRATA_REHEARSAL_<KEY>` for
/// `[rehearsal]` (`STRATA_MAX_DURATION` would not say of what). `None`: not settable
/// that way.
pub(super) fn env_var_name(section: &str, key: &str) -> Option<String> {
    match (section, key) {
        ("database", "url") => Some("STRATA_DATABASE_URL".into()),
        // A list has no unambiguous spelling in one variable, and lint policy belongs
        // to the project's file, reviewed with the code.
        ("project", "apps") | ("lint", _) => None,
        ("rehearsal", _) => Some(format!("STRATA_REHEARSAL_{}", key.to_ascii_uppercase())),
        _ => Some(format!("STRATA_{}", key.to_ascii_uppercase())),
    }
}

/// Every variable strata reads for its settings.
fn known_variables() -> Vec<String> {
    let mut names = vec!["DATABASE_URL".to_string(), "STRATA_ENV".to_string()];
    for (section, kind) in SECTIONS {
        for key in kind.fields().unwrap_or_default() {
            names.extend(env_var_name(section, key));
        }
    }
    names
}

/// `STRATA_*` variables among `names` that strata does not read but that look like
/// one it does (`STRATA_DATABSE_URL`), with that one. Others are left alone: tools
/// and tests have their own `STRATA_*` variables.
pub(super) fn misspelt_variables<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Vec<(String, String)> {
    let known = known_variables();
    names
        .into_iter()
        .filter(|name| name.starts_with("STRATA_") && !known.iter().any(|k| k == name))
        .filter_map(|name| {
            // Compared without the shared prefix, which would make everything close.
            let rest = |n: &'a str| n.strip_prefix("STRATA_").unwrap_or(n);
            let suffixes = known.iter().filter_map(|k| k.strip_prefix("STRATA_"));
            closest(rest(name), suffixes).map(|k| (name.to_string(), format!("STRATA_{k}")))
        })
        .collect()
}

pub fn load_settings(
    root: &Path,
    overrides: &Overrides,
    env_var: impl Fn(&str) -> Option<String>,
) -> Result<Configured, ProjectError> {
    load_settings_with(root, overrides, env_var, true)
}

/// [`load_settings`], where `apps_required` false accepts a project with no apps yet
/// (`strata database create` right after `strata init`).
pub(super) fn load_settings_with(
    root: &Path,
    overrides: &Overrides,
    env_var: impl Fn(&str) -> Option<String>,
    apps_required: bool,
) -> Result<Configured, ProjectError> {
    let path = root.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| FileError::io(&path, &e))?;
    let file = File::read(&path, &text)?;
    let mut layers = Layers::default();

    layers.apply_file(&file, &file.table, &[]);
    layers.apply_value("database", "url", env_var("DATABASE_URL"), || {
        Origin::EnvVar("DATABASE_URL".into())
    })?;

    let selected = match &overrides.env {
        Some(name) => Some((name.clone(), "--env")),
        None => env_var("STRATA_ENV")
            .filter(|name| !name.is_empty())
            .map(|name| (name, "STRATA_ENV")),
    };
    if let Some((name, chosen_by)) = selected {
        let section = file.env_section(&name, chosen_by)?;
        layers.apply_file(&file, section, &["env".into(), name.clone()]);
        layers.origins.env = Some(SelectedEnv {
            name,
            chosen_by: chosen_by.into(),
        });
    }

    for (section, kind) in SECTIONS {
        for key in kind.fields().unwrap_or_default() {
            let Some(var) = env_var_name(section, key) else {
                continue;
            };
            let value = env_var(&var);
            layers.apply_value(section, key, value, || Origin::EnvVar(var.clone()))?;
        }
    }
    layers.apply_value("database", "url", overrides.database_url.clone(), || {
        Origin::Flag("--database".into())
    })?;

    let origins = std::mem::take(&mut layers.origins);
    let settings = layers.merge().map_err(|e| ProjectError::Config {
        path: path.clone(),
        message: e.to_string(),
    })?;
    rules::check_settings(&settings, &origins, &path, &text, apps_required)?;
    Ok(Configured {
        settings,
        origins,
        text,
    })
}

/// `strata.toml`, checked key by key against the settings structs.
struct File<'a> {
    path: &'a Path,
    text: &'a str,
    table: toml::Table,
    leaves: Vec<Leaf>,
}

impl<'a> File<'a> {
    fn read(path: &'a Path, text: &'a str) -> Result<Self, ProjectError> {
        let table: toml::Table =
            toml::from_str(text).map_err(|e| FileError::from_toml(path, text, &e))?;
        // Parses: `toml` just did. Read again for the span of every key.
        let doc = ImDocument::parse(text).map_err(|e| FileError::Syntax {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message: e.message().to_string(),
            source_line: String::new(),
        })?;
        let leaves = keys::walk(&doc).map_err(|u| unknown_key(path, text, &u))?;
        let file = Self {
            path,
            text,
            table,
            leaves,
        };
        // Every value against its type, at its span.
        if let Err(e) = toml::from_str::<FileShape>(text) {
            return Err(file.wrong_value(&e).into());
        }
        Ok(file)
    }

    fn env_section(&self, name: &str, chosen_by: &str) -> Result<&toml::Table, ProjectError> {
        let envs = self.table.get("env").and_then(toml::Value::as_table);
        envs.and_then(|e| e.get(name))
            .and_then(toml::Value::as_table)
            .ok_or_else(|| {
                let defined: Vec<&str> = envs
                    .map(|e| e.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                ProjectError::UnknownEnv {
                    path: self.path.to_path_buf(),
                    env: name.to_string(),
                    chosen_by: chosen_by.to_string(),
                    suggestion: did_you_mean(name, defined.iter().copied()),
                    defined: if defined.is_empty() {
                        "none".into()
                    } else {
                        defined.join(", ")
                    },
                }
            })
    }

    fn leaf(&self, path: &[String]) -> Option<&Leaf> {
        self.leaves.iter().find(|l| l.path == path)
    }

    /// A type error of `toml`, said with the key it is about.
    fn wrong_value(&self, e: &toml::de::Error) -> FileError {
        let span = e.span().unwrap_or(0..0);
        // The innermost key whose value holds the error.
        let leaf = self
            .leaves
            .iter()
            .filter(|l| l.value_span.start <= span.start && span.end <= l.value_span.end)
            .min_by_key(|l| l.value_span.len());
        let message = explain(e.message());
        let message = match leaf {
            Some(leaf) => {
                let (table, key) = name_of(&leaf.path);
                format!("`{key}` in {table}: {message}")
            }
            None => message,
        };
        located(self.path, self.text, span.start, message)
    }
}

/// The layers so far, lowest first, and where each value came from. Each value was
/// checked on its own when its layer was added; the `config` crate merges them.
#[derive(Default)]
struct Layers {
    layers: Vec<toml::Table>,
    origins: Origins,
}

impl Layers {
    /// The effective settings: every layer over the previous ones, then the structs'
    /// own defaults for what no layer sets.
    fn merge(self) -> Result<Settings, config::ConfigError> {
        let mut builder = config::Config::builder();
        for layer in self.layers {
            let text =
                toml::to_string(&layer).map_err(|e| config::ConfigError::Message(e.to_string()))?;
            builder = builder.add_source(config::File::from_str(&text, config::FileFormat::Toml));
        }
        builder.build()?.try_deserialize()
    }

    /// The `[project]` and `[database]` of `layer` (the file, or an `[env.NAME]`
    /// section at `prefix`).
    fn apply_file(&mut self, file: &File<'_>, layer: &toml::Table, prefix: &[String]) {
        self.layers.push(toml::Table::new());
        for (section, _) in SECTIONS {
            let Some(values) = layer.get(section).and_then(toml::Value::as_table) else {
                continue;
            };
            for (key, value) in values {
                let mut at: Vec<String> = prefix.to_vec();
                at.extend([section.to_string(), key.clone()]);
                let origin = |path: &[String]| {
                    file.leaf(path).map_or(Origin::Default, |leaf| {
                        let (line, column) = line_column(file.text, leaf.value_span.start);
                        Origin::File {
                            path: file.path.to_path_buf(),
                            section: name_of(path).0,
                            line,
                            column,
                        }
                    })
                };
                let dotted = format!("{section}.{key}");
                self.origins.set(dotted.clone(), origin(&at));
                if let Some(list) = value.as_array() {
                    for i in 0..list.len() {
                        let mut element = at.clone();
                        element.push(i.to_string());
                        self.origins
                            .set_element(format!("{dotted}.{i}"), origin(&element));
                    }
                }
                self.set(section, key, value.clone());
            }
        }
    }

    /// One value from outside the file (always text), read as the type of its field
    /// and checked on its own.
    fn apply_value(
        &mut self,
        section: &str,
        key: &str,
        value: Option<String>,
        origin: impl FnOnce() -> Origin,
    ) -> Result<(), ProjectError> {
        let Some(value) = value else {
            return Ok(());
        };
        let origin = origin();
        let value = env_value::typed(section, key, &value).map_err(|e| ProjectError::Value {
            key: format!("{section}.{key}"),
            origin: origin.clone(),
            message: explain(&e),
        })?;
        self.origins.set(format!("{section}.{key}"), origin);
        self.layers.push(toml::Table::new());
        self.set(section, key, value);
        Ok(())
    }

    /// Sets `section.key` in the newest layer.
    fn set(&mut self, section: &str, key: &str, value: toml::Value) {
        let Some(layer) = self.layers.last_mut() else {
            return;
        };
        let table = layer
            .entry(section)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if let Some(table) = table.as_table_mut() {
            table.insert(key.into(), value);
        }
    }
}

/// serde's message, with an example of the one type it does not make obvious.
fn explain(message: &str) -> String {
    let mut message = message.trim().to_string();
    // serde names the Rust struct a table deserializes into; the user wrote TOML.
    if let Some(at) = message.find("expected struct ") {
        message.truncate(at);
        message.push_str("expected a table");
    }
    if message.ends_with("expected a duration") {
        message.push_str(" such as \"60s\", \"2m\" or \"1h 30m\"");
    }
    message
}

/// `("[env.prod.database]", "url")` for `env.prod.database.url`; an array element
/// is named by its key and index (`apps[2]`).
fn name_of(path: &[String]) -> (String, String) {
    let (table, key) = match path {
        [table @ .., key, index] if index.parse::<usize>().is_ok() && !table.is_empty() => {
            (table, format!("{key}[{index}]"))
        }
        [table @ .., key] => (table, key.clone()),
        [] => (path, String::new()),
    };
    (section_label(table), key)
}

fn section_label(table: &[String]) -> String {
    if table.is_empty() {
        "the top level".into()
    } else {
        format!("[{}]", table.join("."))
    }
}

/// A located error in `text` at byte `offset`.
pub(super) fn located(path: &Path, text: &str, offset: usize, message: String) -> FileError {
    Source::new(path, text).error_at(offset, message)
}

/// "unknown key `uri` in [database]; did you mean `url`? (known: …)", or where a
/// known key in the wrong table belongs.
fn unknown_key(path: &Path, text: &str, u: &Unknown) -> FileError {
    let known = u.kind.fields().unwrap_or_default();
    let what = if u.kind == Table::Top {
        "section"
    } else {
        "key"
    };
    let mut message = if u.kind == Table::Top {
        format!("unknown {what} `{}`", u.key)
    } else {
        format!("unknown {what} `{}` in {}", u.key, section_label(&u.table))
    };
    let home = SECTIONS
        .iter()
        .find(|(_, kind)| kind.fields().unwrap_or_default().contains(&u.key.as_str()));
    let is_section = Table::Top
        .fields()
        .unwrap_or_default()
        .contains(&u.key.as_str());
    if is_section && u.kind != Table::Top {
        let _ = write!(
            message,
            "; `{}` is a section of its own, but a key after a [header] belongs to the [{}] header above it",
            u.key,
            u.table.join(".")
        );
    } else if let Some((section, _)) = home {
        let mut table = u.table.clone();
        if matches!(
            u.kind,
            Table::Project | Table::Database | Table::Lint | Table::Rehearsal
        ) {
            table.pop();
        }
        table.push((*section).to_string());
        let _ = write!(
            message,
            "; `{}` belongs in {}",
            u.key,
            section_label(&table)
        );
    } else {
        message.push_str(&did_you_mean(&u.key, known.iter().copied()));
    }
    let list: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
    let _ = write!(message, " (known: {})", list.join(", "));
    located(path, text, u.span.start, message)
}

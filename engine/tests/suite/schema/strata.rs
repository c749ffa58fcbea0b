//! `schemas/strata.schema.json`: written by hand, held to the settings structs (the
//! keys of each section) and to the loader (what it accepts and refuses).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;
use strata_engine::project::{load_settings, section_keys, Overrides, CONFIG_FILE};

use super::{read_schema, refusals, schemas_dir, toml_as_json, toml_files, validator};

fn property_names(def: &Value) -> BTreeSet<&str> {
    def["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("no properties in {def}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn workspace() -> PathBuf {
    schemas_dir().parent().unwrap().to_path_buf()
}

#[test]
fn strata_schema_keys_are_the_settings_keys() {
    let schema = read_schema("strata.schema.json");
    let sections: BTreeSet<&str> = section_keys().iter().map(|(s, _)| *s).collect();
    for (section, keys) in section_keys() {
        assert_eq!(
            property_names(&schema["$defs"][section]),
            keys.iter().copied().collect(),
            "strata.schema.json `$defs/{section}` must name exactly the keys of [{section}]"
        );
    }
    let mut top = sections.clone();
    top.insert("env");
    assert_eq!(property_names(&schema), top, "the top-level sections");
    assert_eq!(
        property_names(&schema["$defs"]["env"]),
        sections,
        "an [env.NAME] section holds the same sections"
    );
}

/// `strata.toml` as `strata init` writes it, and with every commented option line
/// (`# key = value`, `# [section]`) switched on.
fn init_template() -> (String, String) {
    let text = std::fs::read_to_string(workspace().join("cli/src/commands/init/strata.toml"))
        .expect("strata init's template");
    let option = |line: &str| {
        let rest = line.strip_prefix("# ").unwrap_or("");
        let key = rest.split(" = ").next().unwrap_or("");
        (rest.starts_with('[') && rest.ends_with(']'))
            || (rest.contains(" = ") && key.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
    };
    let uncommented = text
        .lines()
        .map(|l| if option(l) { &l[2..] } else { l })
        .collect::<Vec<_>>()
        .join("\n");
    (text, uncommented.replace("apps = []", "apps = [\"shop\"]"))
}

/// The `strata.toml` example of README.md's "strata.toml" section.
fn readme_example() -> String {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let start = readme
        .find("```toml\n[project]\n")
        .expect("README.md shows a strata.toml starting with [project]");
    let body = &readme[start + "```toml\n".len()..];
    body[..body.find("```").unwrap()].to_string()
}

#[test]
fn strata_schema_accepts_every_strata_toml_in_testdata_the_readme_and_init() {
    let validator = validator(&read_schema("strata.schema.json"));
    let testdata = strata_testkit::testdata_dir();
    let mut files: Vec<(String, String)> = toml_files(&testdata)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == CONFIG_FILE))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    assert!(files.len() >= 3, "{files:?}");
    let (template, uncommented) = init_template();
    files.push(("strata init's strata.toml".into(), template));
    files.push(("strata init's, every option on".into(), uncommented));
    files.push(("README.md's example".into(), readme_example()));
    for (what, text) in files {
        let why = refusals(&validator, &toml_as_json(Path::new(&what), &text));
        assert!(why.is_empty(), "{what}: {why:#?}");
    }
}

/// Configurations, each with whether strata loads it.
const CASES: &[(&str, bool, &str)] = &[
    ("apps only", true, "[project]\napps = [\"a\"]"),
    (
        "durations as people write them",
        true,
        "[project]\napps = [\"a\"]\n[database]\nlock_timeout = \"1h 30m\"\nconnect_timeout = \"500ms\"\nstatement_timeout = \"15min\"\nddl_lock_timeout = \"24days\"",
    ),
    (
        "an environment",
        true,
        "[project]\napps = [\"a\"]\n[env.prod.database]\nurl = \"postgres://app@db/app\"\nsafe = false\n[env.prod.lint]\nallow = [\"rename-column\"]",
    ),
    (
        "lint thresholds",
        true,
        "[project]\napps = [\"a\"]\n[lint]\nsmall_table_rows = 0\nlarge_table_rows = 5\nerror = [\"drop-column\"]",
    ),
    (
        "a rehearsal limit, also per environment",
        true,
        "[project]\napps = [\"a\"]\n[rehearsal]\nmax_duration = \"30s\"\n[env.ci.rehearsal]\nmax_duration = \"2m\"",
    ),
    (
        "a rehearsal limit without unit",
        false,
        "[project]\napps = [\"a\"]\n[rehearsal]\nmax_duration = \"30\"",
    ),
    ("an unknown section", false, "[databse]\n[project]\napps = [\"a\"]"),
    (
        "an unknown key",
        false,
        "[project]\napps = [\"a\"]\n[database]\nuri = \"sqlite://x\"",
    ),
    (
        "an unknown key in an environment",
        false,
        "[project]\napps = [\"a\"]\n[env.prod.database]\nlock_timout = \"5s\"",
    ),
    ("apps not a list", false, "[project]\napps = \"jobs\""),
    ("an app that is no identifier", false, "[project]\napps = [\"job-board\"]"),
    ("an app listed twice", false, "[project]\napps = [\"a\", \"a\"]"),
    (
        "a duration without unit",
        false,
        "[project]\napps = [\"a\"]\n[database]\nlock_timeout = \"60\"",
    ),
    (
        "a duration in words",
        false,
        "[project]\napps = [\"a\"]\n[database]\nlock_timeout = \"fast\"",
    ),
    (
        "a URL that is a number",
        false,
        "[project]\napps = [\"a\"]\n[database]\nurl = 5",
    ),
    (
        "negative retries",
        false,
        "[project]\napps = [\"a\"]\n[database]\nddl_retries = -1",
    ),
    (
        "a history table that is no identifier",
        false,
        "[project]\napps = [\"a\"]\n[database]\nhistory_table = \"my table\"",
    ),
    (
        "safe as text",
        false,
        "[project]\napps = [\"a\"]\n[database]\nsafe = \"yes\"",
    ),
];

/// The loader and the schema say the same of each configuration.
#[test]
fn the_strata_schema_accepts_what_the_loader_accepts() {
    let validator = validator(&read_schema("strata.schema.json"));
    for (what, accepted, text) in CASES {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), text).unwrap();
        let loaded = load_settings(dir.path(), &Overrides::default(), |_| None);
        assert_eq!(
            loaded.is_ok(),
            *accepted,
            "{what}: the loader says {:?}",
            loaded.err()
        );
        let why = refusals(&validator, &toml_as_json(Path::new(what), text));
        assert_eq!(why.is_empty(), *accepted, "{what}: the schema says {why:?}");
    }
}

//! `strata init` and `strata startapp`: a project from nothing, its commented
//! configuration held to the settings structs, apps added with strata.toml kept as
//! written, refusals that change nothing, and the hint for an app not yet made.

use std::path::Path;
use std::time::Duration;

use strata_engine::project::{
    load_settings, section_keys, DatabaseSettings, LintSettings, Overrides, ProjectSettings,
    RehearsalSettings, Settings,
};

use crate::common::{project, strata};

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path.as_ref())
        .unwrap_or_else(|e| panic!("{}: {e}", path.as_ref().display()))
}

fn workspace() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// A project made by `strata init` in a new folder of a temp folder.
fn initialised() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = strata(tmp.path(), &["init", "site"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    (tmp, Path::new("site").to_path_buf())
}

/// Which lines of strata.toml are options: `# key = value` (commented) or `key =
/// value`, each with the section it is in (`# [section]` headers count).
fn options(text: &str) -> Vec<(String, String)> {
    let mut section = String::new();
    let mut found = Vec::new();
    for line in text.lines() {
        let bare = line.strip_prefix("# ").unwrap_or(line);
        if let Some(header) = bare.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            section = header.rsplit('.').next().unwrap().to_string();
            continue;
        }
        let Some((key, _)) = bare.split_once(" = ") else {
            continue;
        };
        if key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            found.push((section.clone(), key.to_string()));
        }
    }
    found
}

/// Every line that is a commented option, switched on.
fn uncommented(text: &str) -> String {
    let on: Vec<&str> = text
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest)
                if rest.starts_with('[')
                    || rest.split_once(" = ").is_some_and(|(k, _)| {
                        k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    }) =>
            {
                rest
            }
            _ => line,
        })
        .collect();
    on.join("\n")
}

#[test]
fn init_makes_a_project_folder_with_schemas_for_editors() {
    let (tmp, site) = initialised();
    let root = tmp.path().join(&site);
    assert!(root.join("strata.toml").is_file());
    assert!(root.join("apps").is_dir());
    for name in [
        "migration.schema.json",
        "models.schema.json",
        "strata.schema.json",
    ] {
        assert_eq!(
            read(root.join(".strata/schemas").join(name)),
            read(workspace().join("schemas").join(name)),
            "{name}: the project's copy is strata's schema"
        );
    }
    let taplo = read(root.join(".taplo.toml"));
    for (files, schema) in [
        ("\"strata.toml\"", "./.strata/schemas/strata.schema.json"),
        (
            "\"apps/*/models.toml\"",
            "./.strata/schemas/models.schema.json",
        ),
        (
            "\"apps/*/migrations/*.toml\"",
            "./.strata/schemas/migration.schema.json",
        ),
    ] {
        let rule = taplo.split("[[rule]]").find(|r| r.contains(files));
        assert!(
            rule.is_some_and(|r| r.contains(schema)),
            "{files} → {schema}:\n{taplo}"
        );
    }
    let ignored = read(root.join(".gitignore"));
    for file in [
        "/db.sqlite3",
        "/db.sqlite3.strata-lock",
        "/db.sqlite3-wal",
        "/db.sqlite3-shm",
    ] {
        assert!(ignored.lines().any(|l| l == file), "{file}:\n{ignored}");
    }
    // A project with no app yet says what to do next.
    let out = strata(&root, &["showmigrations"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("no apps are listed"), "{}", out.stderr);
}

#[test]
fn init_in_the_current_folder_keeps_an_existing_gitignore() {
    let dir = project(&[(".gitignore", "target/\n/db.sqlite3\n")]);
    let out = strata(dir.path(), &["init"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("current folder"), "{}", out.stdout);
    let ignored = read(dir.path().join(".gitignore"));
    assert!(ignored.starts_with("target/\n/db.sqlite3\n"), "{ignored}");
    assert_eq!(
        ignored.lines().filter(|l| *l == "/db.sqlite3").count(),
        1,
        "{ignored}"
    );
    assert!(ignored.contains("/db.sqlite3.strata-lock"), "{ignored}");
}

#[test]
fn init_refuses_an_existing_strata_toml_and_writes_nothing() {
    let dir = project(&[("strata.toml", "# mine\n")]);
    let out = strata(dir.path(), &["init"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("strata.toml already exists"),
        "{}",
        out.stderr
    );
    assert_eq!(read(dir.path().join("strata.toml")), "# mine\n");
    for made in ["apps", ".strata", ".taplo.toml", ".gitignore"] {
        assert!(!dir.path().join(made).exists(), "{made} was written");
    }
}

#[test]
fn init_and_startapp_have_no_json_output() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        &["init", "--format", "json"][..],
        &["startapp", "a", "--format", "json"],
    ] {
        let out = strata(tmp.path(), args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("--format json is not available"),
            "{}",
            out.stderr
        );
    }
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

/// Every option of every section is in the template, commented or not; each one
/// is a real key of its section; switched on, they are the defaults.
#[test]
fn init_lists_every_option_with_its_default() {
    let (tmp, site) = initialised();
    let root = tmp.path().join(&site);
    let text = read(root.join("strata.toml"));
    let listed = options(&text);
    for (section, key) in &listed {
        let keys = section_keys()
            .into_iter()
            .find(|(s, _)| s == section)
            .map(|(_, k)| k);
        assert!(
            keys.is_some_and(|k| k.contains(&key.as_str())),
            "`{key}` in [{section}] is not an option strata reads"
        );
    }
    for (section, keys) in section_keys() {
        for key in keys {
            assert!(
                listed.iter().any(|(s, k)| s == section && k == key),
                "strata init's strata.toml does not mention `{key}` of [{section}]"
            );
        }
    }
    let on = uncommented(&text).replace("apps = []", "apps = [\"shop\"]");
    std::fs::write(root.join("strata.toml"), &on).unwrap();
    let loaded = load_settings(&root, &Overrides::default(), |_| None)
        .unwrap_or_else(|e| panic!("{e}\n{on}"));
    let expected = Settings {
        project: ProjectSettings {
            apps: vec!["shop".into()],
            ..ProjectSettings::default()
        },
        database: DatabaseSettings {
            // The options without a default value: the example is a value to use.
            statement_timeout: Some(Duration::from_secs(15 * 60)),
            ..DatabaseSettings::default()
        },
        lint: LintSettings::default(),
        rehearsal: RehearsalSettings {
            max_duration: Some(Duration::from_secs(30)),
        },
    };
    assert_eq!(loaded.settings, expected);
    // The example environment is a real one.
    let prod = Overrides {
        env: Some("production".into()),
        ..Overrides::default()
    };
    let loaded = load_settings(&root, &prod, |_| None).unwrap();
    assert!(loaded.settings.database.url.starts_with("postgres://"));
}

#[test]
fn startapp_lists_the_app_and_keeps_strata_toml_as_written() {
    let (tmp, site) = initialised();
    let root = tmp.path().join(&site);
    let template = read(root.join("strata.toml"));
    let out = strata(&root, &["startapp", "shop"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("apps/shop/models.toml"),
        "{}",
        out.stdout
    );
    assert_eq!(
        read(root.join("strata.toml")),
        template.replace("apps = []", "apps = [\"shop\"]"),
        "only the list changed: every comment and line is kept"
    );
    let out = strata(&root, &["startapp", "blog"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(read(root.join("strata.toml")).contains("apps = [\"shop\", \"blog\"]\n"));
    assert!(root.join("apps/blog/migrations").is_dir());

    let models = read(root.join("apps/shop/models.toml"));
    assert!(
        models.starts_with("#:schema ../../.strata/schemas/models.schema.json\n"),
        "{models}"
    );
    assert!(models.contains("app `shop`"), "{models}");
    // The project loads; with no models there is nothing to migrate.
    let out = strata(&root, &["makemigrations", "--check"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

#[test]
fn the_example_models_of_startapp_are_valid_models() {
    let (tmp, site) = initialised();
    let root = tmp.path().join(&site);
    assert_eq!(strata(&root, &["startapp", "blog"]).code, 0);
    let path = root.join("apps/blog/models.toml");
    let example = read(&path)
        .lines()
        .map(|l| match l.strip_prefix("# ") {
            Some(rest) if rest.starts_with('[') || rest.contains(" = ") => rest,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&path, example).unwrap();
    let out = strata(&root, &["makemigrations", "--dry-run"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("0001_initial"), "{}", out.stdout);
    assert!(out.stdout.contains("blog_article"), "{}", out.stdout);
    assert!(out.stdout.contains("blog_author"), "{}", out.stdout);
}

#[test]
fn startapp_keeps_a_list_written_one_per_line() {
    let config = "# Our shop.\n[project]\napps = [\n    \"auth\",\n]\n\n[database]\nurl = \"sqlite://shop.db\" # local\n";
    let dir = project(&[("strata.toml", config), ("apps/auth/models.toml", "")]);
    let out = strata(dir.path(), &["startapp", "orders"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        read(dir.path().join("strata.toml")),
        config.replace("    \"auth\",\n", "    \"auth\",\n    \"orders\",\n")
    );
    // No `.strata/schemas` in this project: no header pointing at a missing file.
    assert!(read(dir.path().join("apps/orders/models.toml")).starts_with("# The models"));
}

#[test]
fn startapp_refusals_change_nothing() {
    let config = "[project]\napps = [\"shop\"]\n";
    let dir = project(&[("strata.toml", config), ("apps/shop/models.toml", "")]);
    let cases: [(&[&str], &str); 4] = [
        (
            &["startapp", "shop"],
            "app `shop` is already in [project] apps",
        ),
        (&["startapp", "Shop"], "differs from it only in case"),
        (&["startapp", "9lives"], "not an identifier"),
        (&["startapp", "job-board"], "not an identifier"),
    ];
    for (args, message) in cases {
        let out = strata(dir.path(), args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
        assert_eq!(read(dir.path().join("strata.toml")), config);
    }
    // A folder of that name exists: it is not made over, nor listed.
    std::fs::create_dir_all(dir.path().join("apps/legacy")).unwrap();
    let out = strata(dir.path(), &["startapp", "legacy"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
    assert_eq!(read(dir.path().join("strata.toml")), config);
    assert_eq!(
        std::fs::read_dir(dir.path().join("apps/legacy"))
            .unwrap()
            .count(),
        0
    );
    // Outside any project.
    let empty = tempfile::tempdir().unwrap();
    let out = strata(empty.path(), &["startapp", "shop"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("no strata.toml"), "{}", out.stderr);
}

/// A mistake elsewhere in strata.toml is reported as by any command, and startapp
/// leaves the file and the apps folder as they were.
#[test]
fn startapp_in_a_broken_configuration_puts_everything_back() {
    let config = "[project]\napps = []\n\n[database]\nlock_timeout = \"fast\"\n";
    let dir = project(&[("strata.toml", config)]);
    let out = strata(dir.path(), &["startapp", "shop"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("lock_timeout"), "{}", out.stderr);
    assert_eq!(read(dir.path().join("strata.toml")), config);
    assert!(!dir.path().join("apps").exists());
    let hidden: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(hidden.len(), 1, "left behind: {hidden:?}");
}

#[test]
fn a_reference_into_an_app_not_yet_made_says_how_to_make_it() {
    let dir = project(&[
        ("strata.toml", "[project]\napps = [\"tracker\"]\n"),
        (
            "apps/tracker/models.toml",
            "[Transaction]\nfields.user = { references = \"auth.User\", on_delete = \"cascade\" }\n",
        ),
    ]);
    let out = strata(dir.path(), &["makemigrations", "--check"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    for part in [
        "unknown app `auth` in `auth.User`",
        "strata startapp auth",
        "models.toml:2",
    ] {
        assert!(out.stderr.contains(part), "{part}: {}", out.stderr);
    }
    // Done as told, the reference resolves once the model exists.
    assert_eq!(strata(dir.path(), &["startapp", "auth"]).code, 0);
    std::fs::write(
        dir.path().join("apps/auth/models.toml"),
        "[User]\nfields.name = \"varchar(150)\"\n",
    )
    .unwrap();
    let out = strata(dir.path(), &["makemigrations", "--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn inspectdb_writes_models_headed_with_the_projects_schema() {
    let (tmp, site) = initialised();
    let root = tmp.path().join(&site);
    assert_eq!(strata(&root, &["startapp", "shop"]).code, 0);
    std::fs::write(
        root.join("apps/shop/models.toml"),
        "[Product]\nfields.name = \"varchar(80)\"\n",
    )
    .unwrap();
    for args in [&["makemigrations"][..], &["migrate"]] {
        let out = strata(&root, args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
    }
    assert_eq!(strata(&root, &["startapp", "legacy"]).code, 0);
    let out = strata(&root, &["inspectdb", "legacy", "--write", "--force"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let written = read(root.join("apps/legacy/models.toml"));
    assert!(
        written.starts_with("#:schema ../../.strata/schemas/models.schema.json\n"),
        "{written}"
    );
    assert!(written.contains("shop_product"), "{written}");
}

/// Right after `init`, before any app: the database can be created (as the tutorial
/// does), while commands about migrations still ask for an app; `init` takes its
/// folder as an argument, never `--project`.
#[test]
fn a_new_project_creates_its_database_before_any_app() {
    let (tmp, site) = initialised();
    let root = tmp.path().join(site);
    let out = strata(&root, &["database", "create"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(root.join("db.sqlite3").is_file());
    let out = strata(&root, &["migrate"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("no apps are listed"), "{}", out.stderr);

    let elsewhere = tempfile::tempdir().unwrap();
    let wanted = elsewhere.path().join("pp");
    let out = strata(
        elsewhere.path(),
        &["--project", wanted.to_str().unwrap(), "init"],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("strata init DIR"), "{}", out.stderr);
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
}

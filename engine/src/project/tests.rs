//! The rules of strata.toml, one test each.

use std::time::Duration;

use super::*;

fn project(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(CONFIG_FILE), text).unwrap();
    dir
}

fn none(_: &str) -> Option<String> {
    None
}

fn load(text: &str) -> Result<Configured, ProjectError> {
    let dir = project(text);
    load_settings(dir.path(), &Overrides::default(), none)
}

/// The located error of `text`: (line, column, message).
fn located(text: &str) -> (usize, usize, String) {
    match load(text).unwrap_err() {
        ProjectError::File(FileError::Syntax {
            line,
            column,
            message,
            ..
        }) => (line, column, message),
        other => panic!("not located: {other:?}"),
    }
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
    let s = load("[project]\napps = [\"a\"]\n").unwrap().settings;
    assert_eq!(s.database.url, "sqlite://db.sqlite3");
    assert_eq!(s.database.history_table, "strata_migrations");
    assert_eq!(s.database.lock_timeout, Duration::from_secs(60));
    assert_eq!(s.project.apps_dir, "apps");
}

#[test]
fn layers_apply_in_documented_order() {
    let dir = project(FILE);
    let base = load_settings(dir.path(), &Overrides::default(), none).unwrap();
    assert_eq!(base.settings.database.url, "sqlite://base.sqlite3");

    let prod = Overrides {
        env: Some("production".into()),
        ..Default::default()
    };
    let s = load_settings(dir.path(), &prod, none).unwrap().settings;
    assert_eq!(s.database.url, "postgres://app@db/app");
    assert_eq!(s.database.lock_timeout, Duration::from_secs(5));

    let env = |k: &str| match k {
        "DATABASE_URL" => Some("mysql://generic".to_string()),
        "STRATA_DATABASE_URL" => Some("mysql://specific".to_string()),
        "STRATA_ENV" => Some("production".to_string()),
        _ => None,
    };
    let s = load_settings(dir.path(), &Overrides::default(), env)
        .unwrap()
        .settings;
    assert_eq!(
        s.database.url, "mysql://specific",
        "STRATA_ beats the section"
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
    let s = load_settings(dir.path(), &flag, env).unwrap().settings;
    assert_eq!(
        s.database.url, "sqlite://flag.sqlite3",
        "flags beat everything"
    );
}

#[test]
fn an_explicit_env_beats_an_inherited_database_url() {
    let dir = project(FILE);
    let inherited = |k: &str| (k == "DATABASE_URL").then(|| "postgres://inherited/x".to_string());
    let s = load_settings(dir.path(), &Overrides::default(), inherited).unwrap();
    assert_eq!(
        s.settings.database.url, "postgres://inherited/x",
        "beats the file"
    );
    assert_eq!(
        *s.origins.of("database.url"),
        Origin::EnvVar("DATABASE_URL".into())
    );

    let prod = Overrides {
        env: Some("production".into()),
        ..Default::default()
    };
    let s = load_settings(dir.path(), &prod, inherited).unwrap();
    assert_eq!(s.settings.database.url, "postgres://app@db/app");
    assert_eq!(
        s.origins.database_source(),
        "database from --env production ([env.production.database] url, strata.toml:9)"
    );
    let by_var = |k: &str| match k {
        "DATABASE_URL" => Some("postgres://inherited/x".to_string()),
        "STRATA_ENV" => Some("production".to_string()),
        _ => None,
    };
    let s = load_settings(dir.path(), &Overrides::default(), by_var).unwrap();
    assert_eq!(
        s.settings.database.url, "postgres://app@db/app",
        "STRATA_ENV is as explicit"
    );
    assert!(s
        .origins
        .database_source()
        .starts_with("database from STRATA_ENV=production ("));

    // The flag picks the section even when STRATA_ENV names another.
    let other = |k: &str| (k == "STRATA_ENV").then(|| "nowhere".to_string());
    assert!(load_settings(dir.path(), &prod, other).is_ok());
}

#[test]
fn the_source_of_the_database_is_told() {
    let dir = project(FILE);
    let s = load_settings(dir.path(), &Overrides::default(), none).unwrap();
    assert_eq!(
        s.origins.database_source(),
        "database from [database] url, strata.toml:6"
    );
    let s = load("[project]\napps = [\"a\"]\n").unwrap();
    assert!(s.origins.database_source().contains("built-in default"));
    let flag = Overrides {
        database_url: Some("sqlite://x".into()),
        ..Default::default()
    };
    let s = load_settings(dir.path(), &flag, none).unwrap();
    assert_eq!(s.origins.database_source(), "database from --database");
}

#[test]
fn unknown_env_names_the_defined_ones_and_who_asked() {
    let dir = project(FILE);
    let o = Overrides {
        env: Some("prodction".into()),
        ..Default::default()
    };
    let err = load_settings(dir.path(), &o, none).unwrap_err().to_string();
    assert!(err.contains("`prodction` (from --env)"), "{err}");
    assert!(err.contains("did you mean `production`?"), "{err}");
    let var = |k: &str| (k == "STRATA_ENV").then(|| "staging".to_string());
    let err = load_settings(dir.path(), &Overrides::default(), var)
        .unwrap_err()
        .to_string();
    assert!(err.contains("(from STRATA_ENV)"), "{err}");
    assert!(err.contains("defined: production"), "{err}");
}

#[test]
fn broken_config_is_located() {
    let (line, _, _) = located("[project]\napps = [\"a\" \"b\"]\n");
    assert_eq!(line, 2);
}

#[test]
fn unknown_sections_and_keys_are_located_with_a_suggestion() {
    let cases: &[(&str, usize, usize, &[&str])] = &[
        (
            "[project]\napps = [\"a\"]\n[databse]\nurl = \"x\"\n",
            3,
            2,
            &["unknown section `databse`", "did you mean `database`?"],
        ),
        (
            "[project]\napps = [\"a\"]\n[database]\nuri = \"x\"\n",
            4,
            1,
            &[
                "unknown key `uri` in [database]",
                "did you mean `url`?",
                "`history_table`",
            ],
        ),
        (
            "[project]\napps = [\"a\"]\napp_dir = \"x\"\n",
            3,
            1,
            &[
                "unknown key `app_dir` in [project]",
                "did you mean `apps_dir`?",
            ],
        ),
        (
            "url = \"x\"\n[project]\napps = [\"a\"]\n",
            1,
            1,
            &["unknown section `url`", "`url` belongs in [database]"],
        ),
        (
            "[project]\napps = [\"a\"]\nurl = \"x\"\n",
            3,
            1,
            &["unknown key `url` in [project]", "belongs in [database]"],
        ),
        (
            "[project]\napps = [\"a\"]\n[env.prod.databse]\nurl = \"x\"\n",
            3,
            11,
            &[
                "unknown key `databse` in [env.prod]",
                "did you mean `database`?",
            ],
        ),
        (
            "[project]\napps = [\"a\"]\n[env.prod.database]\nlock_timout = \"1s\"\n",
            4,
            1,
            &["in [env.prod.database]", "did you mean `lock_timeout`?"],
        ),
        (
            "database = { uri = \"x\" }\n[project]\napps = [\"a\"]\n",
            1,
            14,
            &["unknown key `uri` in [database]"],
        ),
        (
            "[project]\napps = [\"a\"]\ndatabase = { url = \"x\" }\n",
            3,
            1,
            &[
                "unknown key `database` in [project]",
                "belongs to the [project] header above it",
            ],
        ),
        (
            "[project]\napps = [\"a\"]\n[env.prod]\nurl = \"x\"\n",
            4,
            1,
            &["in [env.prod]", "belongs in [env.prod.database]"],
        ),
    ];
    for (text, line, column, needles) in cases {
        let (l, c, message) = located(text);
        assert_eq!((l, c), (*line, *column), "{text}: {message}");
        for needle in *needles {
            assert!(message.contains(needle), "{text}: {message} lacks {needle}");
        }
    }
}

#[test]
fn a_key_added_to_the_structs_is_known_without_a_list() {
    // The known keys are read from the structs, so they match them exactly.
    assert_eq!(
        keys::field_names::<DatabaseSettings>(),
        [
            "url",
            "history_table",
            "lock_timeout",
            "connect_timeout",
            "statement_timeout",
            "ddl_lock_timeout",
            "ddl_retries",
            "safe"
        ]
    );
    assert_eq!(keys::field_names::<ProjectSettings>(), ["apps", "apps_dir"]);
}

#[test]
fn wrong_values_name_the_key_and_the_line() {
    let cases: &[(&str, usize, &[&str])] = &[
        ("[project]\napps = \"jobs\"\n", 2, &["`apps` in [project]"]),
        (
            "[project]\napps = [\"a\"]\n[database]\nurl = 5\n",
            4,
            &["`url` in [database]"],
        ),
        (
            "[project]\napps = [\"a\"]\n[database]\nlock_timeout = \"fast\"\n",
            4,
            &["`lock_timeout` in [database]"],
        ),
        (
            "[project]\napps = [\"a\"]\n[env.ci.database]\nlock_timeout = 5\n",
            4,
            &["`lock_timeout` in [env.ci.database]"],
        ),
        (
            "[project]\napps = [\"a\"]\n[rehearsal]\nmax_duration = \"soon\"\n",
            4,
            &["`max_duration` in [rehearsal]", "such as \"60s\""],
        ),
        ("[project]\napps = [\"a\", 3]\n", 2, &["[project]"]),
        ("project = 1\n", 1, &["project"]),
    ];
    for (text, line, needles) in cases {
        let (l, _, message) = located(text);
        assert_eq!(l, *line, "{text}: {message}");
        for needle in *needles {
            assert!(message.contains(needle), "{text}: {message} lacks {needle}");
        }
    }
}

#[test]
fn the_rehearsal_limit_comes_from_the_file_its_env_section_or_its_variable() {
    let dir = project(
        "[project]\napps = [\"a\"]\n[rehearsal]\nmax_duration = \"30s\"\n\
         [env.ci.rehearsal]\nmax_duration = \"2m\"\n",
    );
    let load = |env: Option<&str>, var: Option<&str>| {
        let overrides = Overrides {
            env: env.map(Into::into),
            ..Overrides::default()
        };
        let var = |k: &str| {
            var.filter(|_| k == "STRATA_REHEARSAL_MAX_DURATION")
                .map(Into::into)
        };
        load_settings(dir.path(), &overrides, var)
            .unwrap()
            .settings
            .rehearsal
            .max_duration
    };
    assert_eq!(load(None, None), Some(Duration::from_secs(30)));
    assert_eq!(load(Some("ci"), None), Some(Duration::from_secs(120)));
    assert_eq!(
        load(Some("ci"), Some("500ms")),
        Some(Duration::from_millis(500))
    );
    let none = project("[project]\napps = [\"a\"]\n");
    let settings = load_settings(none.path(), &Overrides::default(), |_| None).unwrap();
    assert_eq!(settings.settings.rehearsal.max_duration, None);
    let err = from_env(&[("STRATA_REHEARSAL_MAX_DURATION", "soon")]).unwrap_err();
    assert!(
        matches!(&err, ProjectError::Value { key, .. } if key == "rehearsal.max_duration"),
        "{err:?}"
    );
}

#[test]
fn wrong_values_from_the_environment_name_the_variable() {
    let dir = project("[project]\napps = [\"a\"]\n");
    let var = |k: &str| (k == "STRATA_LOCK_TIMEOUT").then(|| "fast".to_string());
    let err = load_settings(dir.path(), &Overrides::default(), var).unwrap_err();
    let ProjectError::Value { key, origin, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(key, "database.lock_timeout");
    assert_eq!(*origin, Origin::EnvVar("STRATA_LOCK_TIMEOUT".into()));
    assert!(
        err.to_string()
            .contains("environment variable STRATA_LOCK_TIMEOUT"),
        "{err}"
    );

    let var = |k: &str| (k == "STRATA_HISTORY_TABLE").then(|| "bad-name".to_string());
    let err = load_settings(dir.path(), &Overrides::default(), var).unwrap_err();
    assert!(
        matches!(&err, ProjectError::Value { origin: Origin::EnvVar(v), .. } if v == "STRATA_HISTORY_TABLE"),
        "{err:?}"
    );
}

#[test]
fn no_apps_is_refused_with_what_to_add() {
    for text in [
        "",
        "# nothing\n",
        "[database]\nurl = \"sqlite://x\"\n",
        "[project]\n",
    ] {
        let err = load(text).unwrap_err();
        assert!(
            matches!(err, ProjectError::NoApps { .. }),
            "{text:?}: {err:?}"
        );
        assert!(err.to_string().contains("apps = [\"myapp\"]"), "{err}");
    }
    let (line, column, message) = located("[project]\napps = []\n");
    assert_eq!((line, column), (2, 8));
    assert!(message.contains("no apps"), "{message}");
}

#[test]
fn app_names_are_identifiers() {
    for (app, needle) in [
        ("../../../outside", "contains `.`"),
        ("a/b", "contains `/`"),
        ("/abs", "contains `/`"),
        ("jobs-api", "contains `-`"),
        ("1jobs", "starts with a digit"),
        ("", "is empty"),
        ("j\u{043e}bs", "U+043E"),
        ("a b", "contains ` `"),
    ] {
        let text = format!("[project]\napps = [\"ok\", \"{app}\"]\n");
        let (line, column, message) = located(&text);
        assert_eq!((line, column), (2, 15), "{app}: {message}");
        assert!(message.contains(needle), "{app}: {message}");
    }
    assert!(check_identifier("jobs_2").is_ok());
    assert!(check_identifier("_private").is_ok());
}

#[test]
fn duplicate_app_points_at_the_second() {
    let (line, column, message) = located("[project]\napps = [\"a\", \"b\", \"a\"]\n");
    assert_eq!((line, column), (2, 19));
    assert!(message.contains("listed twice"), "{message}");
}

#[test]
fn history_table_is_an_identifier() {
    let (line, _, message) =
        located("[project]\napps = [\"a\"]\n[database]\nhistory_table = \"x; drop table y\"\n");
    assert_eq!(line, 4);
    assert!(message.contains("history_table"), "{message}");
}

#[test]
fn apps_dir_stays_inside_the_project() {
    for dir in ["/tmp", "..", "../elsewhere", "apps/../../x"] {
        let text = format!("[project]\napps = [\"a\"]\napps_dir = \"{dir}\"\n");
        let (line, _, message) = located(&text);
        assert_eq!(line, 3, "{dir}: {message}");
        assert!(message.contains("apps_dir"), "{message}");
    }
    assert!(load("[project]\napps = [\"a\"]\napps_dir = \"src/../apps\"\n").is_ok());
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_project_are_refused() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(outside.path().join("a/migrations")).unwrap();
    let dir = project("[project]\napps = [\"a\"]\n");
    std::fs::create_dir(dir.path().join("apps")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("a"), dir.path().join("apps/a")).unwrap();
    let err = Project::load(dir.path(), &Overrides::default()).unwrap_err();
    assert!(err.to_string().contains("outside the project"), "{err}");
    assert!(err.to_string().contains("strata.toml:2:"), "{err}");

    // apps_dir itself a symlink out.
    let dir = project("[project]\napps = [\"a\"]\napps_dir = \"link\"\n");
    std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
    let err = Project::load(dir.path(), &Overrides::default()).unwrap_err();
    assert!(err.to_string().contains("strata.toml:3:"), "{err}");
}

#[test]
fn a_well_formed_project_loads() {
    let dir = project("[project]\napps = [\"a\"]\n");
    std::fs::create_dir_all(dir.path().join("apps/a")).unwrap();
    let p = Project::load(dir.path(), &Overrides::default()).unwrap();
    assert_eq!(p.apps.len(), 1);
    let inside = p.writable(&p.apps[0].migrations_dir().join("0001_x.toml"));
    assert!(inside.is_ok(), "{inside:?}");
    assert!(p.writable(&dir.path().join("../x")).is_err());
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

#[test]
fn misspelt_strata_variables_are_found_and_others_left_alone() {
    let found = load::misspelt_variables([
        "STRATA_DATABSE_URL",
        "STRATA_LOCK_TIMOUT",
        "STRATA_TEST_POSTGRES_URL",
        "STRATA_CORPUS",
        "STRATA_DATABASE_URL",
        "PATH",
    ]);
    assert_eq!(
        found,
        [
            (
                "STRATA_DATABSE_URL".to_string(),
                "STRATA_DATABASE_URL".to_string()
            ),
            (
                "STRATA_LOCK_TIMOUT".to_string(),
                "STRATA_LOCK_TIMEOUT".to_string()
            ),
        ]
    );
}

#[test]
fn timeouts_come_from_the_file_and_the_environment() {
    let dir = project(
        "[project]\napps = [\"a\"]\n[database]\nconnect_timeout = \"3s\"\nstatement_timeout = \"2min\"\n",
    );
    let s = load_settings(dir.path(), &Overrides::default(), |_| None).unwrap();
    assert_eq!(s.settings.database.connect_timeout, Duration::from_secs(3));
    assert_eq!(
        s.settings.database.statement_timeout,
        Some(Duration::from_secs(120))
    );
    let env = |k: &str| match k {
        "STRATA_CONNECT_TIMEOUT" => Some("500ms".to_string()),
        "STRATA_STATEMENT_TIMEOUT" => Some("1h".to_string()),
        _ => None,
    };
    let s = load_settings(dir.path(), &Overrides::default(), env).unwrap();
    assert_eq!(
        s.settings.database.connect_timeout,
        Duration::from_millis(500)
    );
    assert_eq!(
        s.settings.database.statement_timeout,
        Some(Duration::from_secs(3600))
    );
    let none = project("[project]\napps = [\"a\"]\n");
    let s = load_settings(none.path(), &Overrides::default(), |_| None).unwrap();
    assert_eq!(s.settings.database.connect_timeout, Duration::from_secs(10));
    assert_eq!(
        s.settings.database.statement_timeout, None,
        "no limit by default"
    );
    let bad = |k: &str| (k == "STRATA_STATEMENT_TIMEOUT").then(|| "soon".to_string());
    let e = load_settings(dir.path(), &Overrides::default(), bad).unwrap_err();
    assert!(e.to_string().contains("STRATA_STATEMENT_TIMEOUT"), "{e}");
}

/// The settings `vars` give on top of a file with one app.
fn from_env(vars: &[(&str, &str)]) -> Result<Configured, ProjectError> {
    let dir = project("[project]\napps = [\"a\"]\n");
    let env = |k: &str| {
        vars.iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| (*v).to_string())
    };
    load_settings(dir.path(), &Overrides::default(), env)
}

#[test]
fn integer_and_boolean_settings_are_read_from_the_environment_by_type() {
    let s = from_env(&[("STRATA_DDL_RETRIES", "0"), ("STRATA_SAFE", "false")])
        .unwrap()
        .settings;
    assert_eq!(s.database.ddl_retries, 0);
    assert!(!s.database.safe);
    for (text, safe) in [
        ("FALSE", false),
        ("No", false),
        ("0", false),
        ("True", true),
        ("yes", true),
        ("1", true),
    ] {
        let s = from_env(&[("STRATA_SAFE", text)]).unwrap().settings;
        assert_eq!(s.database.safe, safe, "STRATA_SAFE={text}");
    }
    let s = from_env(&[("STRATA_DDL_RETRIES", " 12 ")]).unwrap();
    assert_eq!(s.settings.database.ddl_retries, 12);
    assert_eq!(
        *s.origins.of("database.ddl_retries"),
        Origin::EnvVar("STRATA_DDL_RETRIES".into())
    );
    // Strings stay strings even when they look like numbers; durations as before.
    let s = from_env(&[
        ("STRATA_HISTORY_TABLE", "t1"),
        ("STRATA_APPS_DIR", "1"),
        ("STRATA_DDL_LOCK_TIMEOUT", "250ms"),
    ])
    .unwrap()
    .settings;
    assert_eq!(s.database.history_table, "t1");
    assert_eq!(s.project.apps_dir, "1");
    assert_eq!(s.database.ddl_lock_timeout, Duration::from_millis(250));
}

#[test]
fn every_environment_variable_takes_a_value_of_its_type() {
    let cases = [
        ("STRATA_APPS_DIR", "apps"),
        ("STRATA_DATABASE_URL", "sqlite://x.sqlite3"),
        ("STRATA_HISTORY_TABLE", "h"),
        ("STRATA_LOCK_TIMEOUT", "1s"),
        ("STRATA_CONNECT_TIMEOUT", "1s"),
        ("STRATA_STATEMENT_TIMEOUT", "1s"),
        ("STRATA_DDL_LOCK_TIMEOUT", "1s"),
        ("STRATA_DDL_RETRIES", "1"),
        ("STRATA_SAFE", "no"),
        ("STRATA_REHEARSAL_MAX_DURATION", "30s"),
    ];
    for (var, text) in cases {
        from_env(&[(var, text)]).unwrap_or_else(|e| panic!("{var}={text}: {e}"));
    }
    // A setting added to the structs gets a variable: it must be added above.
    let mut variables: Vec<String> = [
        ("project", keys::Table::Project),
        ("database", keys::Table::Database),
        ("rehearsal", keys::Table::Rehearsal),
    ]
    .into_iter()
    .flat_map(|(section, table)| {
        let fields = table.fields().unwrap_or_default();
        fields
            .iter()
            .filter_map(move |key| load::env_var_name(section, key))
    })
    .collect();
    variables.sort();
    let mut covered: Vec<String> = cases.iter().map(|(v, _)| (*v).to_string()).collect();
    covered.sort();
    assert_eq!(variables, covered);
}

#[test]
fn a_bad_integer_or_boolean_from_the_environment_names_the_variable() {
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "STRATA_DDL_RETRIES",
            "lots",
            "database.ddl_retries",
            &["`lots` is not a whole number from 0 to 4294967295"],
        ),
        (
            "STRATA_DDL_RETRIES",
            "-1",
            "database.ddl_retries",
            &["`-1` is not a whole number from 0"],
        ),
        (
            "STRATA_DDL_RETRIES",
            "4294967296",
            "database.ddl_retries",
            &["`4294967296` is not a whole number"],
        ),
        (
            "STRATA_SAFE",
            "maybe",
            "database.safe",
            &["`maybe` is not a boolean: use true or false"],
        ),
        (
            "STRATA_DDL_LOCK_TIMEOUT",
            "3",
            "database.ddl_lock_timeout",
            &["such as \"60s\""],
        ),
    ];
    for (var, text, setting, needles) in cases {
        let err = from_env(&[(var, text)]).unwrap_err();
        let ProjectError::Value { key, origin, .. } = &err else {
            panic!("{var}={text}: {err:?}");
        };
        assert_eq!(key, setting);
        assert_eq!(*origin, Origin::EnvVar((*var).into()));
        let message = err.to_string();
        assert!(
            message.contains(&format!("environment variable {var}")),
            "{message}"
        );
        for needle in *needles {
            assert!(message.contains(needle), "{message} lacks {needle}");
        }
    }
}

#[test]
fn a_ddl_lock_timeout_no_server_accepts_is_refused_where_it_was_set() {
    let file = |timeout: &str| {
        format!("[project]\napps = [\"a\"]\n[database]\nddl_lock_timeout = \"{timeout}\"\n")
    };
    assert_eq!(
        load(&file("24days"))
            .unwrap()
            .settings
            .database
            .ddl_lock_timeout,
        Duration::from_secs(24 * 86_400)
    );
    let (line, column, message) = located(&file("24days 1s"));
    assert_eq!((line, column), (4, 20), "{message}");
    assert!(message.contains("ddl_lock_timeout 24days 1s"), "{message}");
    assert!(message.contains("the maximum, 24 days"), "{message}");

    let err = from_env(&[("STRATA_DDL_LOCK_TIMEOUT", "30days")]).unwrap_err();
    assert!(
        matches!(&err, ProjectError::Value { key, origin: Origin::EnvVar(v), .. }
            if v == "STRATA_DDL_LOCK_TIMEOUT" && key == "database.ddl_lock_timeout"),
        "{err:?}"
    );
    assert!(err.to_string().contains("the maximum, 24 days"), "{err}");
    assert!(
        err.to_string().contains("ddl_lock_timeout 30days is"),
        "{err}"
    );
}

#[test]
fn small_tables_may_not_be_larger_than_large_ones() {
    let text =
        "[project]\napps = [\"a\"]\n[lint]\nlarge_table_rows = 5000\nsmall_table_rows = 20000\n";
    let (line, column, message) = located(text);
    assert_eq!((line, column), (5, 20), "{message}");
    assert!(
        message.contains("small_table_rows (20000) is larger than large_table_rows (5000)"),
        "{message}"
    );
    // Only the default of one of them is enough to conflict.
    let (line, _, message) =
        located("[project]\napps = [\"a\"]\n[lint]\nsmall_table_rows = 2000000\n");
    assert_eq!(line, 4, "{message}");
    assert!(message.contains("large_table_rows (1000000)"), "{message}");
    // Equal is a table either small or large, with no band between: accepted.
    assert!(load(
        "[project]\napps = [\"a\"]\n[lint]\nsmall_table_rows = 7\nlarge_table_rows = 7\n"
    )
    .is_ok());
}

//! strata.toml as a careless user writes it, the environment it inherits, and the
//! terminal it prints to: which source wins, what `-v` says, when colour is used.

use std::process::Command;

use crate::common::{project, Output};

/// `strata args` in `dir` with exactly `env` (nothing inherited about databases or
/// colour).
fn run(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_strata"));
    command.args(args).current_dir(dir);
    for var in [
        "DATABASE_URL",
        "STRATA_DATABASE_URL",
        "STRATA_ENV",
        "NO_COLOR",
        "CLICOLOR_FORCE",
        "RUST_LOG",
    ] {
        command.env_remove(var);
    }
    command.envs(env.iter().copied());
    let out = command.output().expect("run strata");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const ENVS: &str = r#"[project]
apps = ["jobs"]

[database]
url = "sqlite://base.sqlite3"

[env.local.database]
url = "sqlite://local.sqlite3"

[env.prod.database]
url = "postgres://deploy:s3cret@127.0.0.1:1/prod?connect_timeout=1"
"#;

fn envs_project() -> tempfile::TempDir {
    project(&[("strata.toml", ENVS), ("apps/jobs/models.toml", "")])
}

#[test]
fn an_explicit_env_wins_over_an_inherited_database_url() {
    let dir = envs_project();
    // An unreachable server: used, it would fail with exit 4.
    let inherited = [(
        "DATABASE_URL",
        "postgres://x@127.0.0.1:1/x?connect_timeout=1",
    )];
    let out = run(
        dir.path(),
        &["showmigrations", "--env", "local"],
        &inherited,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        dir.path().join("local.sqlite3").exists(),
        "the section's database"
    );

    let mut chosen = inherited.to_vec();
    chosen.push(("STRATA_ENV", "local"));
    let out = run(dir.path(), &["showmigrations", "-v"], &chosen);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("database from STRATA_ENV=local ([env.local.database] url, strata.toml:8)"),
        "{}",
        out.stderr
    );

    // Without an explicit environment the inherited variable beats the file.
    let out = run(dir.path(), &["showmigrations", "-v"], &inherited);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("database from environment variable DATABASE_URL"),
        "{}",
        out.stderr
    );
    assert!(!dir.path().join("base.sqlite3").exists());
}

#[test]
fn verbose_names_the_source_of_the_database_without_its_password() {
    let dir = envs_project();
    let out = run(dir.path(), &["showmigrations", "-v", "--env", "prod"], &[]);
    assert_eq!(out.code, 4, "unreachable: {}", out.stderr);
    assert!(
        out.stderr
            .contains("database from --env prod ([env.prod.database] url, strata.toml:11)"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("s3cret"), "{}", out.stderr);

    let out = run(
        dir.path(),
        &[
            "showmigrations",
            "-v",
            "--database",
            "sqlite://flag.sqlite3",
        ],
        &[("STRATA_DATABASE_URL", "sqlite://var.sqlite3")],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("database from --database"),
        "{}",
        out.stderr
    );
    assert!(dir.path().join("flag.sqlite3").exists());
}

#[test]
fn a_typo_is_never_obeyed() {
    let dir = project(&[
        (
            "strata.toml",
            "[project]\napps = [\"jobs\"]\n\n[databse]\nurl = \"sqlite://x.sqlite3\"\n",
        ),
        ("apps/jobs/models.toml", ""),
    ]);
    let out = run(dir.path(), &["migrate"], &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("strata.toml:4:2"), "{}", out.stderr);
    assert!(
        out.stderr.contains("did you mean `database`?"),
        "{}",
        out.stderr
    );
    assert!(
        !dir.path().join("db.sqlite3").exists(),
        "the default database was not used"
    );
    assert!(!dir.path().join("x.sqlite3").exists());

    // A misspelt variable cannot be refused (it is not strata's), but it is pointed out.
    let dir = project(&[
        ("strata.toml", "[project]\napps = [\"jobs\"]\n"),
        ("apps/jobs/models.toml", ""),
    ]);
    let out = run(
        dir.path(),
        &["showmigrations"],
        &[("STRATA_DATABSE_URL", "sqlite://elsewhere.sqlite3")],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "STRATA_DATABSE_URL is not one strata reads; did you mean STRATA_DATABASE_URL?"
        ),
        "{}",
        out.stderr
    );
}

const ESC: char = '\u{1b}';

/// Flags, environment, and whether the output is coloured.
type ColourCase = (
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
    bool,
);

/// A located error (rendered by miette) and a usage error (rendered by clap), under
/// each colour setting; output is never a terminal here.
#[test]
fn colour_only_when_asked_or_forced() {
    let dir = project(&[("strata.toml", "[project]\napps = [\"jobs\"]\nap = 1\n")]);
    let cases: &[ColourCase] = &[
        (&[], &[], false),
        (&["--color", "auto"], &[], false),
        (&["--color", "always"], &[], true),
        (&["--color=always"], &[("NO_COLOR", "1")], true),
        (&["--color", "never"], &[("CLICOLOR_FORCE", "1")], false),
        (&[], &[("CLICOLOR_FORCE", "1")], true),
        (&[], &[("CLICOLOR_FORCE", "0")], false),
        (&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], false),
    ];
    for (flags, env, coloured) in cases {
        let mut args = vec!["migrate"];
        args.extend_from_slice(flags);
        let out = run(dir.path(), &args, env);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("unknown key `ap`"), "{}", out.stderr);
        assert_eq!(
            out.stderr.contains(ESC),
            *coloured,
            "{args:?} {env:?}: {:?}",
            out.stderr
        );

        args.push("--no-such-flag");
        let out = run(dir.path(), &args, env);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert_eq!(
            out.stderr.contains(ESC),
            *coloured,
            "{args:?} {env:?}: {:?}",
            out.stderr
        );
    }
}

#[test]
fn log_lines_obey_the_colour_setting() {
    let dir = envs_project();
    for (flag, coloured) in [("never", false), ("always", true)] {
        let out = run(dir.path(), &["showmigrations", "-v", "--color", flag], &[]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(out.stderr.contains("database from"), "{}", out.stderr);
        assert_eq!(
            out.stderr.contains(ESC),
            coloured,
            "{flag}: {:?}",
            out.stderr
        );
        assert!(!out.stdout.contains(ESC), "{flag}: {:?}", out.stdout);
    }
}

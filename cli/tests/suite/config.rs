//! strata.toml as a careless user writes it, the environment it inherits, and the
//! terminal it prints to: which source wins, what `-v` says, when colour is used.

use std::process::Command;

use std::sync::mpsc;
use std::time::Duration;

use crate::common::db::{block_on, Kind, TestDb};
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
        "STRATA_SAFE",
        "STRATA_DDL_RETRIES",
        "STRATA_DDL_LOCK_TIMEOUT",
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
    // Read-only: the section's database is named (as missing), not created.
    assert!(
        out.stderr.contains("no database file at") && out.stderr.contains("local.sqlite3"),
        "the section's database: {}",
        out.stderr
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
    assert!(out.stderr.contains("flag.sqlite3"), "{}", out.stderr);
    assert!(!out.stderr.contains("var.sqlite3"), "{}", out.stderr);
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

/// `RUST_LOG` picks targets and levels, over `-v`: the engine's debug lines without
/// the CLI's info line; an unusable `RUST_LOG` leaves the choice to `-v`.
#[test]
fn rust_log_picks_targets_and_levels() {
    let dir = index_project(
        "[project]\napps = [\"jobs\"]\n\n[database]\nurl = \"sqlite://db.sqlite3\"\n",
    );
    let out = run(
        dir.path(),
        &["migrate"],
        &[("RUST_LOG", "strata_engine=debug")],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(" DEBUG "),
        "engine debug: {}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("database from"),
        "cli info: {}",
        out.stderr
    );

    let out = run(dir.path(), &["showmigrations"], &[("RUST_LOG", "info")]);
    assert!(
        out.stderr.contains("database from"),
        "RUST_LOG=info: {}",
        out.stderr
    );

    for unusable in ["", "strata=loud"] {
        let out = run(
            dir.path(),
            &["showmigrations", "-v"],
            &[("RUST_LOG", unusable)],
        );
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(
            out.stderr.contains("database from"),
            "{unusable:?}: {}",
            out.stderr
        );
    }
}

const JOB_TABLE: &str = r#"[[operations]]
kind = "create_table"
name = "jobs_job"
primary_key = ["id"]
columns = [{ name = "id", type = "int" }, { name = "code", type = "int" }]
"#;

/// An index on a table that existed before: a safe plan builds it concurrently.
const JOB_INDEX: &str = r#"dependencies = ["jobs.0001_table"]

[[operations]]
kind = "create_index"
table = "jobs_job"
index = { name = "jobs_job_code", columns = ["code"] }
"#;

fn index_project(config: &str) -> tempfile::TempDir {
    project(&[
        ("strata.toml", config),
        ("apps/jobs/models.toml", ""),
        ("apps/jobs/migrations/0001_table.toml", JOB_TABLE),
        ("apps/jobs/migrations/0002_index.toml", JOB_INDEX),
    ])
}

/// An environment variable is always text; `STRATA_SAFE` is read as the boolean its
/// setting is, in either direction and over the file.
#[test]
fn strata_safe_from_the_environment_is_obeyed() {
    let sql = |config: &str, env: &[(&str, &str)]| {
        let dir = index_project(config);
        let args = ["sqlmigrate", "jobs", "0002", "--dialect", "postgres"];
        let out = run(dir.path(), &args, env);
        assert_eq!(out.code, 0, "{env:?}: {}", out.stderr);
        out.stdout
    };
    let plain = "CREATE INDEX \"jobs_job_code\" ON \"jobs_job\" (\"code\");";
    let concurrent = "CREATE INDEX CONCURRENTLY \"jobs_job_code\"";
    let unsafe_file = "[project]\napps = [\"jobs\"]\n[database]\nsafe = false\n";
    let file = "[project]\napps = [\"jobs\"]\n";

    let out = sql(file, &[]);
    assert!(out.contains(concurrent), "{out}");
    for off in ["false", "FALSE", "0", "no"] {
        let out = sql(file, &[("STRATA_SAFE", off)]);
        assert!(out.contains(plain), "STRATA_SAFE={off}: {out}");
        assert!(!out.contains("CONCURRENTLY"), "STRATA_SAFE={off}: {out}");
    }
    assert!(sql(unsafe_file, &[]).contains(plain));
    let out = sql(unsafe_file, &[("STRATA_SAFE", "true")]);
    assert!(
        out.contains(concurrent),
        "the variable beats the file: {out}"
    );

    let dir = index_project(file);
    let out = run(
        dir.path(),
        &["sqlmigrate", "jobs", "0002", "--dialect", "postgres"],
        &[("STRATA_SAFE", "off")],
    );
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(
        out.stderr.contains("environment variable STRATA_SAFE")
            && out.stderr.contains("`off` is not a boolean"),
        "{}",
        out.stderr
    );
}

/// PostgreSQL: with `STRATA_DDL_RETRIES=0` a statement that times out waiting for a
/// lock is tried once, not the default 1 + 3 times.
#[test]
fn strata_ddl_retries_from_the_environment_is_obeyed() {
    let Some(db) = TestDb::create(Kind::Postgres) else {
        return;
    };
    let config = format!(
        "[project]\napps = [\"jobs\"]\n[database]\nurl = {:?}\n",
        db.url
    );
    let dir = index_project(&config);
    let out = run(dir.path(), &["migrate", "jobs", "0001"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);

    // A second session writing to the table (a lock CREATE INDEX waits for), its
    // transaction open until told to end.
    let (ready_tx, ready_rx) = mpsc::channel();
    let (end_tx, end_rx) = mpsc::channel::<()>();
    let url = db.url.clone();
    let holder = std::thread::spawn(move || {
        block_on(async move {
            let registry = strata::backends();
            let (backend, _) = registry.for_url(&url).unwrap();
            let mut session = backend.connect(&url).await.unwrap();
            session.execute("BEGIN").await.unwrap();
            session
                .execute("LOCK TABLE jobs_job IN ROW EXCLUSIVE MODE")
                .await
                .unwrap();
            ready_tx.send(()).unwrap();
            let _ = end_rx.recv();
            session.execute("ROLLBACK").await.unwrap();
            session.close().await.unwrap();
        });
    });
    ready_rx.recv_timeout(Duration::from_secs(30)).unwrap();

    // The plain build, the statement the lock timeout applies to.
    let env = [
        ("STRATA_SAFE", "false"),
        ("STRATA_DDL_LOCK_TIMEOUT", "200ms"),
        ("STRATA_DDL_RETRIES", "0"),
    ];
    let out = run(dir.path(), &["migrate"], &env);
    end_tx.send(()).unwrap();
    holder.join().unwrap();
    assert_eq!(out.code, 5, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("gave up after 1 attempt(s)"),
        "{}",
        out.stderr
    );
}

//! No password is ever printed: malformed and well-formed database URLs, keyword
//! strings and configuration files, each carrying a marker password, run through the
//! real binary for `migrate`, `showmigrations` and `sqlmigrate`, at `-vv` and with
//! `RUST_LOG=trace` (every library's trace included), against a reachable server
//! with a wrong (or, for trust and a real account, the right) password, closed ports,
//! unknown hosts and garbage. The marker must appear nowhere: not in stdout, not in
//! stderr, not in a file name strata created.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;

use crate::common::db::{Kind, TestDb};

pub(crate) const MARKER: &str = "Sup3rS3cretMark";
/// The marker with its `M` percent-encoded: decoded, it is the marker.
const MARKER_ENCODED: &str = "Sup3rS3cret%4Dark";

/// How a form reaches strata.
#[derive(Clone, Copy)]
enum Via {
    /// `url = …` in strata.toml.
    Url(&'static str),
    /// The whole strata.toml.
    Config(&'static str),
    /// `DATABASE_URL`, with no URL in strata.toml.
    Env(&'static str),
    /// `--database`.
    Flag(&'static str),
}

/// `{pw}`: the marker; `{pwenc}`: the marker %-encoded; `{pg}`/`{my}`: the test
/// servers' host:port; `{pgdb}`/`{mydb}`: a fresh database on each; `{myuser}`: a
/// MariaDB account whose real password is the marker.
const FORMS: &[Via] = &[
    // PostgreSQL, reachable: trust accepts any password; a missing database.
    Via::Url("postgres://postgres:{pw}@{pg}/{pgdb}"),
    Via::Url("postgres://postgres:{pw}@{pg}/strata_secrets_no_such_db"),
    Via::Url("postgresql://postgres@{pg}/{pgdb}?password={pw}&application_name=x@y"),
    Via::Url("postgres://postgres:{pwenc}@{pg}/strata_secrets_no_such_db"),
    Via::Url("postgres://postgres:%40{pw}%3A@{pg}/{pgdb}"),
    // Unreachable, unknown host, not PostgreSQL on that port.
    Via::Url("postgres://app:{pw}@127.0.0.1:1/app"),
    Via::Url("postgres://app:{pw}@no-such-host.invalid/app"),
    Via::Url("postgres://app:{pw}@{my}/app"),
    // Malformed: no `//`, one `/`, no `@`, raw separators in the password.
    Via::Url("postgres:app:{pw}@{pg}/app"),
    Via::Url("postgres:/app:{pw}@{pg}/app"),
    Via::Url("postgresql://app:{pw}"),
    Via::Url("postgres://app:{pw}/app"),
    Via::Url("postgres://app:p@ss/{pw}@{pg}/app"),
    Via::Url("postgres://app:{pw}#x@{pg}/app"),
    Via::Url("postgres://app:{pw}?x@{pg}/app"),
    Via::Url("postgres://app:x:{pw}@127.0.0.1:1/app"),
    Via::Url("postgres://app:{pw}@{pg}/app#fragment"),
    Via::Url("postgres://app:{pw}@{pg}:notaport/app"),
    Via::Url("postgres://app:{pw}@[::1/app"),
    Via::Url("postgres://{pg}/app?sslpassword={pw}"),
    Via::Url("postgres://{pg}/app?password={pw}&sslmode=bogus"),
    Via::Url("//app:{pw}@{pg}/app"),
    // No scheme at all: a missing `:`, a space before it, the password after the host.
    Via::Url("postgres//app:{pw}@{pg}/app"),
    Via::Url("postgres ://app:{pw}@{pg}/app"),
    Via::Url("mysql//root:{pw}@{my}/app"),
    Via::Url("sqlite//app:{pw}@x"),
    Via::Url("app@127.0.0.1:{pw}"),
    Via::Flag("postgres//app:{pw}@{pg}/app"),
    Via::Env("mysql//root:{pw}@{my}/app"),
    Via::Url("app:{pw}@{pg}/app"),
    // libpq keyword strings and an ODBC string.
    Via::Url("host=127.0.0.1 password={pw} dbname=app"),
    Via::Url("host=127.0.0.1 password='a {pw} b' dbname=app"),
    Via::Url("host=127.0.0.1 password = \"{pw}\" dbname=app"),
    Via::Url("Server=127.0.0.1;Uid=app;Pwd={pw};"),
    // MariaDB: wrong password, the right one, no database, malformed.
    Via::Url("mysql://root:{pw}@{my}/{mydb}"),
    Via::Url("mysql://{myuser}:{pw}@{my}/{mydb}"),
    Via::Url("mariadb://{myuser}:{pwenc}@{my}/{mydb}"),
    Via::Url("mysql://root:{pw}@{my}"),
    Via::Url("mariadb://root:{pw}@127.0.0.1:1/app"),
    Via::Url("mysql://root:{pw}@no-such-host.invalid/app"),
    Via::Url("mysql://root:{pw}@{pg}/app"),
    Via::Url("mysql:root:{pw}@{my}/app"),
    Via::Url("mysql://root:{pw}#x@{my}/app"),
    Via::Url("mysql://{my}/app?password={pw}"),
    Via::Url("mysql://root:{pw}@{my}/app?ssl-mode=VERIFY_FULL"),
    // SQLite URLs with user info or a password parameter.
    Via::Url("sqlite://user:{pw}@/tmp/strata-secrets.db"),
    Via::Url("sqlite:user:{pw}@db.sqlite3"),
    Via::Url("sqlite://db.sqlite3?password={pw}"),
    // Configuration files that fail around the URL.
    Via::Config("[project]\napps = [\"jobs\"]\n[database]\nurl = \"postgres://app:{pw}@{pg}/app\n"),
    Via::Config("[project]\napps = [\"jobs\"]\n[database]\nurl = \"postgres://app:{pw}@{pg}/app\" extra\n"),
    Via::Config("[project]\napps = [\"jobs\"]\n[database]\nurl = 'mysql://root:{pw}@{my}/app'\nlock_timeout = \"soon\"\n"),
    Via::Config("[project]\napps = [\"jobs\"]\n[databse]\nurl = \"postgres://app:{pw}@{pg}/app\"\n"),
    Via::Config("[project]\napps = [\"jobs\"]\n[database]\nurl = \"sqlite://db.sqlite3\"\npassword = \"{pw}\"\n"),
    Via::Config("[project]\napps = [\"jobs\"]\n[database]\nurl = [\"postgres://app:{pw}@{pg}/app\"]\n"),
    // The environment and the command line.
    Via::Env("postgres://app:{pw}@127.0.0.1:1/app"),
    Via::Env("postgres:app:{pw}@{pg}/app"),
    Via::Flag("mysql://root:{pw}@{my}/app#x"),
    Via::Flag("host=db password={pw}"),
];

const MIGRATION: &str = r#"
[[operations]]
kind = "create_table"
name = "secret_probe"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }]
"#;

const COMMANDS: &[&[&str]] = &[
    &["migrate"],
    &["showmigrations"],
    &["sqlmigrate", "jobs", "0001"],
];

#[test]
fn no_form_of_a_database_url_prints_its_password() {
    assert!(FORMS.len() >= 30, "issue 8 asks for at least 30 forms");
    let (Some(pg), Some(my)) = (
        TestDb::create(Kind::Postgres),
        TestDb::create(Kind::Mariadb),
    ) else {
        return;
    };
    let account = MariadbAccount::create(&my);
    let fill = |form: &str| {
        form.replace("{pwenc}", MARKER_ENCODED)
            .replace("{pw}", MARKER)
            .replace("{pgdb}", database_of(&pg.url))
            .replace("{mydb}", database_of(&my.url))
            .replace("{pg}", host_port(&pg.url))
            .replace("{my}", host_port(&my.url))
            .replace("{myuser}", &account.name)
    };
    // The account works: its runs below go through a whole session, handshake and all.
    let url = fill("mysql://{myuser}:{pw}@{my}/{mydb}");
    let project = crate::common::project(&[
        (
            "strata.toml",
            &format!("[project]\napps = [\"jobs\"]\n[database]\nurl = {url:?}\n"),
        ),
        ("apps/jobs/migrations/0001_initial.toml", MIGRATION),
    ]);
    let out = crate::common::strata(project.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(my.table_names().contains(&"secret_probe".to_string()));

    let runs: Vec<(Via, &[&str], bool)> = FORMS
        .iter()
        .flat_map(|via| COMMANDS.iter().map(move |args| (*via, *args)))
        .flat_map(|(via, args)| [(via, args, false), (via, args, true)])
        .collect();
    let next = Mutex::new(runs.iter());
    let leaks = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let Some((via, args, trace)) = next.lock().unwrap().next() else {
                    break;
                };
                if let Some(leak) = run(*via, args, *trace, &fill) {
                    leaks.lock().unwrap().push(leak);
                }
            });
        }
    });
    let leaks = leaks.into_inner().unwrap();
    assert!(
        leaks.is_empty(),
        "{} of {} runs printed the password:\n\n{}",
        leaks.len(),
        runs.len(),
        leaks.join("\n\n")
    );
}

/// Runs one form and command; a description of the leak, if any.
fn run(via: Via, args: &[&str], trace: bool, fill: &dyn Fn(&str) -> String) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("apps/jobs/migrations")).unwrap();
    std::fs::write(
        root.join("apps/jobs/migrations/0001_initial.toml"),
        MIGRATION,
    )
    .unwrap();
    let base = "[project]\napps = [\"jobs\"]\n";
    let mut command = Command::new(env!("CARGO_BIN_EXE_strata"));
    let (config, shown_form) = match via {
        Via::Url(form) => {
            let url = fill(form);
            let quoted = toml::Value::String(url.clone()).to_string();
            (format!("{base}[database]\nurl = {quoted}\n"), url)
        }
        Via::Config(form) => (fill(form), fill(form)),
        Via::Env(form) => {
            command.env("DATABASE_URL", fill(form));
            (base.to_string(), fill(form))
        }
        Via::Flag(form) => {
            command.arg("--database").arg(fill(form));
            (base.to_string(), fill(form))
        }
    };
    std::fs::write(root.join("strata.toml"), config).unwrap();
    if trace {
        command.env("RUST_LOG", "trace");
    } else {
        command.arg("-vv").env_remove("RUST_LOG");
    }
    let out = command
        .args(args)
        .current_dir(root)
        .env_remove("STRATA_DATABASE_URL")
        .env_remove("STRATA_ENV")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run strata");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mode = if trace { "RUST_LOG=trace" } else { "-vv" };
    let what = format!("`{shown_form}` · strata {mode} {}", args.join(" "));
    if out.status.code() == Some(101) || stderr.contains("panicked") {
        return Some(format!("{what}: panicked\n{stderr}"));
    }
    if stdout.contains(MARKER) || stderr.contains(MARKER) {
        let lines: Vec<&str> = stdout
            .lines()
            .chain(stderr.lines())
            .filter(|l| l.contains(MARKER))
            .take(3)
            .collect();
        return Some(format!("{what}:\n  {}", lines.join("\n  ")));
    }
    if let Some(name) = names_under(root).into_iter().find(|n| n.contains(MARKER)) {
        return Some(format!("{what}: created `{name}`"));
    }
    None
}

fn names_under(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        names.push(entry.file_name().to_string_lossy().into_owned());
        if entry.path().is_dir() {
            names.extend(names_under(&entry.path()));
        }
    }
    names
}

/// `127.0.0.1:5432` of `postgres://user@127.0.0.1:5432/db`.
fn host_port(url: &str) -> &str {
    let authority = url.split("://").nth(1).unwrap().split('/').next().unwrap();
    authority.rsplit('@').next().unwrap()
}

fn database_of(url: &str) -> &str {
    let path = url.split("://").nth(1).unwrap().split_once('/').unwrap().1;
    path.split('?').next().unwrap()
}

/// A MariaDB account whose password is the marker, on the test database only, so
/// that a connection that succeeds (and so every trace of the handshake) is tried
/// too. Dropped at the end.
pub(crate) struct MariadbAccount<'a> {
    db: &'a TestDb,
    pub(crate) name: String,
}

impl<'a> MariadbAccount<'a> {
    pub(crate) fn create(db: &'a TestDb) -> Self {
        // Unique per call: tests of one process may each make one at once.
        let name = strata_testkit::servers::unique_db_name("strata_secret");
        db.execute(&format!("DROP USER IF EXISTS '{name}'@'%'"));
        db.execute(&format!(
            "CREATE USER '{name}'@'%' IDENTIFIED BY '{MARKER}'"
        ));
        db.execute(&format!(
            "GRANT ALL ON `{}`.* TO '{name}'@'%'",
            database_of(&db.url)
        ));
        Self { db, name }
    }
}

impl Drop for MariadbAccount<'_> {
    fn drop(&mut self) {
        self.db
            .execute(&format!("DROP USER IF EXISTS '{}'@'%'", self.name));
    }
}

/// A 400 KB line in a migration file is not echoed whole, in the message or in the
/// snippet: both are cut, with what the message says after the value kept.
#[test]
fn a_400_kb_line_is_cut_in_messages_and_snippets() {
    let value = "x".repeat(400_000);
    let migration = format!("[[operations]]\nkind = \"{value}\"\n");
    let dir = crate::common::project(&[
        ("strata.toml", "[project]\napps = [\"jobs\"]\n"),
        ("apps/jobs/migrations/0001_initial.toml", &migration),
    ]);
    let out = crate::common::strata(dir.path(), &["showmigrations"]);
    assert_eq!(out.code, 2, "{}", &out.stderr[..out.stderr.len().min(2000)]);
    assert!(
        out.stderr.contains("0001_initial.toml:2"),
        "{}",
        &out.stderr[..2000.min(out.stderr.len())]
    );
    assert!(out.stderr.contains("more characters"));
    assert!(
        out.stderr.contains("create_table"),
        "the expected kinds are still named"
    );
    assert!(
        out.stderr.len() + out.stdout.len() < 8000,
        "{} bytes of output",
        out.stderr.len() + out.stdout.len()
    );
}

//! What people expect of a command-line tool: shell completions, man pages, `--help`
//! with examples and the exit codes, and `database create`.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::db::{block_on, with_database, Kind};
use crate::common::json_shape::assert_shape;
use crate::common::{strata, tracker_copy};
use strata_testkit::for_each_backend;

/// Every command `strata --help` lists, nested ones as `database create`, without
/// clap's `help`.
fn commands() -> Vec<String> {
    fn listed(help: &str) -> Vec<String> {
        help.lines()
            .skip_while(|line| line.trim() != "Commands:")
            .skip(1)
            .take_while(|line| line.starts_with("  "))
            .filter_map(|line| line.split_whitespace().next())
            .filter(|name| *name != "help")
            .map(str::to_string)
            .collect()
    }
    let dir = tempfile::tempdir().unwrap();
    let mut all = Vec::new();
    for name in listed(&strata(dir.path(), &["--help"]).stdout) {
        let nested = listed(&strata(dir.path(), &[&name, "--help"]).stdout);
        if nested.is_empty() {
            all.push(name);
        } else {
            all.extend(nested.iter().map(|sub| format!("{name} {sub}")));
        }
    }
    all
}

#[test]
fn every_command_is_listed() {
    let commands = commands();
    for expected in [
        "makemigrations",
        "migrate",
        "showmigrations",
        "database create",
        "completions",
        "man",
    ] {
        assert!(commands.iter().any(|c| c == expected), "{commands:?}");
    }
}

#[test]
fn completions_name_every_command_in_each_shell_without_a_project() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = strata(dir.path(), &["completions", shell]);
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        for command in [
            "makemigrations",
            "migrate",
            "showmigrations",
            "database",
            "man",
        ] {
            assert!(out.stdout.contains(command), "{shell} lacks {command}");
        }
        // fish writes `-l project`, the others `--project`.
        assert!(
            out.stdout.contains("project"),
            "{shell} lacks the global flags"
        );
    }
    let bash = strata(dir.path(), &["completions", "bash"]).stdout;
    let script = dir.path().join("strata.bash");
    std::fs::write(&script, bash).unwrap();
    let checked = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .expect("run bash");
    assert!(
        checked.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&checked.stderr)
    );
}

#[test]
fn completions_and_man_refuse_json() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--format", "json", "completions", "bash"][..],
        &["man", "--format", "json"],
    ] {
        let out = strata(dir.path(), args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("--format json is not available"),
            "{}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "{}", out.stdout);
    }
}

/// The codes of the README's "Exit codes" table.
fn readme_exit_codes() -> BTreeSet<u16> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let codes: BTreeSet<u16> = readme
        .lines()
        .skip_while(|line| line.trim() != "### Exit codes")
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .filter_map(|line| line.split('|').nth(1)?.trim().parse().ok())
        .collect();
    assert!(codes.len() > 5, "no exit-code table found in README.md");
    codes
}

#[test]
fn help_ends_with_the_readme_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let help = strata(dir.path(), &["--help"]).stdout;
    let table = help
        .split("Exit codes:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no exit codes in --help:\n{help}"));
    let codes: BTreeSet<u16> = table
        .lines()
        .map(|line| {
            line.split_whitespace()
                .next()
                .and_then(|code| code.parse().ok())
                .unwrap_or_else(|| panic!("not an exit-code line: {line:?}"))
        })
        .collect();
    assert_eq!(codes, readme_exit_codes());
    // Short help too: the codes are what a script author looks for.
    assert!(strata(dir.path(), &["-h"]).stdout.contains("Exit codes:"));
}

#[test]
fn each_commands_long_help_has_examples_and_global_options_apart() {
    let dir = tempfile::tempdir().unwrap();
    for command in commands() {
        let mut args: Vec<&str> = command.split(' ').collect();
        args.push("--help");
        let help = strata(dir.path(), &args).stdout;
        let examples = help
            .split("Examples:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("`strata {command} --help` has no examples:\n{help}"));
        assert!(
            examples.contains(&format!("  strata {command}"))
                || examples.contains(&format!("  strata --env test {command}")),
            "`strata {command} --help`'s examples do not run it:\n{help}"
        );
        let global = help
            .split("Global options:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("`strata {command} --help` lists no global options"));
        for flag in ["--project", "--database", "--format", "--color"] {
            assert!(
                global.contains(flag),
                "{command}: {flag} not global:\n{help}"
            );
        }
        assert!(!help.contains('\u{1b}'), "escape codes in a pipe:\n{help}");
        // Short help stays short.
        args.pop();
        args.push("-h");
        let short = strata(dir.path(), &args).stdout;
        assert!(!short.contains("Examples:"), "{command} -h:\n{short}");
    }
}

#[test]
fn migrate_help_reads_well() {
    let dir = tempfile::tempdir().unwrap();
    let help = strata(dir.path(), &["migrate", "--help"]).stdout;
    let own = help.find("Options:").expect("own options");
    let global = help.find("Global options:").expect("global options");
    let examples = help.find("Examples:").expect("examples");
    assert!(own < global && global < examples, "{help}");
    // Own flags under Options, global ones only under Global options.
    assert!(help[own..global].contains("--plan"), "{help}");
    assert!(!help[own..global].contains("--database"), "{help}");
    assert!(
        help[examples..].contains("strata migrate tracker 0001"),
        "{help}"
    );
    assert!(help.starts_with("Apply pending migrations"), "{help}");
}

#[test]
fn man_pages_name_every_command_and_the_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("target/man");
    let out = strata(dir.path(), &["man", "--out", out_dir.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let main = std::fs::read_to_string(out_dir.join("strata.1")).unwrap();
    assert!(main.contains("\n.TH strata 1 "), "{main}");
    for command in commands() {
        let first = command.split(' ').next().unwrap();
        assert!(main.contains(first), "strata.1 does not name {first}");
        let page = out_dir.join(format!("strata-{}.1", command.replace(' ', "-")));
        let text =
            std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
        assert!(text.contains(".SH EXAMPLES"), "{}", page.display());
    }
    let status = main
        .split(".SH \"EXIT STATUS\"")
        .nth(1)
        .expect("an EXIT STATUS section");
    for code in readme_exit_codes() {
        assert!(
            status.contains(&format!(".TP\n{code}\n")),
            "exit code {code} missing:\n{status}"
        );
    }
    assert!(!out_dir.join("strata-help.1").exists());
    // Without --out: strata.1 on stdout.
    let printed = strata(dir.path(), &["man"]);
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    assert_eq!(printed.stdout, main);
}

/// A database on a test server, dropped when this is dropped (created by strata, so
/// not through `common::db::TestDb`).
struct ServerDatabase {
    kind: Kind,
    admin: String,
    name: String,
}

impl ServerDatabase {
    /// A name no other test uses, with a space and a quote of the server's identifiers,
    /// which must survive quoting.
    fn new(kind: Kind) -> Option<Self> {
        let var = match kind {
            Kind::Postgres => "STRATA_TEST_POSTGRES_URL",
            Kind::Mariadb => "STRATA_TEST_MYSQL_URL",
            Kind::Sqlite => unreachable!("SQLite has no server"),
        };
        let admin = strata_testkit::server_url(var)?;
        let quote = if kind == Kind::Postgres { '"' } else { '`' };
        let name = format!(
            "{} a{quote}b",
            strata_testkit::unique_db_name("strata_create")
        );
        Some(Self { kind, admin, name })
    }

    fn url(&self) -> String {
        let encoded = self
            .name
            .replace(' ', "%20")
            .replace('"', "%22")
            .replace('`', "%60");
        with_database(&self.admin, &encoded)
    }

    fn admin_query(&self, sql: &str) -> usize {
        let registry = strata::backends();
        let (backend, _) = registry.for_url(&self.admin).unwrap();
        block_on(async {
            let mut driver = backend.connect(&self.admin).await.unwrap();
            let rows = driver
                .query(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            driver.close().await.unwrap();
            rows.len()
        })
    }

    fn exists(&self) -> bool {
        let quoted = self.name.replace('\'', "''");
        let sql = match self.kind {
            Kind::Postgres => format!("SELECT 1 FROM pg_database WHERE datname = '{quoted}'"),
            _ => {
                format!("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{quoted}'")
            }
        };
        self.admin_query(&sql) == 1
    }
}

impl Drop for ServerDatabase {
    fn drop(&mut self) {
        let registry = strata::backends();
        let dialect = if self.kind == Kind::Postgres {
            "postgres"
        } else {
            "mysql"
        };
        let quoted = registry.dialect(dialect).unwrap().quote_ident(&self.name);
        let (backend, _) = registry.for_url(&self.admin).unwrap();
        block_on(async {
            let mut driver = backend.connect(&self.admin).await.unwrap();
            let _ = driver
                .execute(&format!("DROP DATABASE IF EXISTS {quoted}"))
                .await;
            let _ = driver.close().await;
        });
    }
}

fn database_create_makes_a_database_migrate_can_use(kind: Kind) {
    let files = tempfile::tempdir().unwrap();
    let server = match kind {
        Kind::Sqlite => None,
        _ => match ServerDatabase::new(kind) {
            Some(server) => Some(server),
            None => return,
        },
    };
    // A SQLite file whose name needs quoting in a URL, as a server database's does.
    let url = server.as_ref().map_or_else(
        || format!("sqlite://{}/my%20db.sqlite3", files.path().display()),
        ServerDatabase::url,
    );
    let project = tracker_copy(&url);
    let dir = project.path();

    let first = strata(dir, &["database", "create", "--format", "json"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let value = assert_shape("database-create", &first.stdout);
    assert_eq!(value["created"], true, "{}", first.stdout);
    if let Some(server) = &server {
        assert_eq!(value["database"], server.name.as_str());
        assert!(server.exists(), "{} was not created", server.name);
    } else {
        let file = files.path().join("my db.sqlite3");
        assert!(file.is_file(), "{} was not created", file.display());
        assert_eq!(value["database"], file.display().to_string());
    }

    let again = strata(dir, &["database", "create"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stdout.contains("exists already"), "{}", again.stdout);
    let again = strata(dir, &["--format", "json", "database", "create"]);
    assert_eq!(
        assert_shape("database-create", &again.stdout)["created"],
        false
    );

    let migrated = strata(dir, &["migrate"]);
    assert_eq!(migrated.code, 0, "{}", migrated.stderr);
}
for_each_backend!(
    database_create,
    database_create_makes_a_database_migrate_can_use
);

#[test]
fn database_create_refuses_a_missing_sqlite_folder_and_names_it() {
    let project = tracker_copy("sqlite://no_such_folder/db.sqlite3");
    let out = strata(project.path(), &["database", "create"]);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("no_such_folder"), "{}", out.stderr);
    assert!(out.stderr.contains("does not exist"), "{}", out.stderr);
    assert!(!project.path().join("no_such_folder").exists());
}

/// A local port nothing listens on: bound by the system, then released.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn database_create_on_a_server_that_is_down_exits_4_without_the_password() {
    for scheme in ["postgres", "mysql"] {
        let port = closed_port();
        let url = format!("{scheme}://app:Zq8secret@127.0.0.1:{port}/shop");
        let project = tracker_copy(&url);
        let out = strata(project.path(), &["database", "create"]);
        assert_eq!(out.code, 4, "{scheme}: {}", out.stderr);
        assert!(out.stderr.contains(&port.to_string()), "{}", out.stderr);
        assert!(!out.stderr.contains("Zq8secret"), "{}", out.stderr);
    }
}

//! What `--help` and the man pages say beyond the flags: each command's examples and
//! the exit codes, kept here once so that both say the same.

use std::fmt::Write as _;

use clap::builder::styling::Styles;
use clap::builder::StyledStr;

use crate::error::exit;

/// One example of a command line, and what it does.
pub(crate) struct Example {
    pub line: &'static str,
    pub what: &'static str,
}

const fn example(line: &'static str, what: &'static str) -> Example {
    Example { line, what }
}

/// The exit codes, as the README's "Exit codes" table lists them (a test compares
/// the two), with the meaning in a few words.
pub(crate) const EXIT_CODES: &[(u8, &str)] = &[
    (exit::OK, "success"),
    (
        exit::CHECK_FAILED,
        "a --check found work to do; lint found an error-level finding, or migrate refused to run because of one; drift found differences",
    ),
    (
        exit::BAD_INPUT,
        "bad input: usage, a broken file, an unknown app or migration, an edited or missing applied migration, a run_code migration the CLI cannot run",
    ),
    (
        exit::NEEDS_INPUT,
        "makemigrations needs an answer and cannot ask (no terminal, or --noinput)",
    ),
    (
        exit::DATABASE,
        "the database could not be reached or refused a statement (nothing half-done)",
    ),
    (
        exit::LOCK_TIMEOUT,
        "the migration lock (lock_timeout) or a table lock (ddl_lock_timeout) was held too long",
    ),
    (
        exit::PARTIAL,
        "a non-atomic migration stopped part-way, or tenants of a fleet (--tenants) failed or did not start: fix the cause and run migrate again to resume",
    ),
    (exit::INTERRUPTED, "migrate stopped on Ctrl-C (SIGINT)"),
    (exit::TERMINATED, "migrate stopped on SIGTERM"),
];

/// The examples of each command, by its name (`database create` for a nested one).
const EXAMPLES: &[(&str, &[Example])] = &[
    (
        "makemigrations",
        &[
            example(
                "strata makemigrations",
                "write the migrations every app's models.toml needs",
            ),
            example(
                "strata makemigrations tracker --name add_note",
                "only tracker, into NNNN_add_note.toml",
            ),
            example(
                "strata makemigrations --check",
                "in CI: exit 1 when a models.toml change has no migration",
            ),
            example(
                "strata makemigrations --dry-run -v",
                "print the files it would write, write nothing",
            ),
            example(
                "strata makemigrations --noinput --rename tracker.Transaction.desc=description",
                "answer a rename question without a terminal",
            ),
            example(
                "strata makemigrations tracker --empty --name backfill",
                "a migration to fill in by hand",
            ),
            example(
                "strata makemigrations --merge",
                "join an app's two leaves after merging branches",
            ),
        ],
    ),
    (
        "migrate",
        &[
            example("strata migrate", "apply every pending migration"),
            example(
                "strata migrate --plan",
                "print what would run, marking steps that drop data",
            ),
            example(
                "strata migrate tracker 0001",
                "move tracker back (or forward) to exactly 0001",
            ),
            example(
                "strata migrate tracker zero",
                "unapply every migration of tracker",
            ),
            example(
                "strata migrate --check",
                "in CI or a deploy: exit 1 if anything is unapplied",
            ),
            example(
                "strata migrate --rehearse --max-duration 30s",
                "run the plan on a throwaway copy: each operation's time, rows, rewrite, locks",
            ),
            example(
                "strata migrate --fake-initial",
                "adopt a database whose tables exist: record 0001 applied",
            ),
            example(
                "strata --env production migrate",
                "migrate the database of [env.production] in strata.toml",
            ),
            example(
                "strata migrate --tenants tenants.txt --jobs 8 --report fleet.jsonl",
                "migrate every database listed in tenants.txt, 8 at a time (docs/fleets.md)",
            ),
        ],
    ),
    (
        "squashmigrations",
        &[
            example(
                "strata squashmigrations tracker 0030",
                "tracker's 0001..0030 as one migration that replaces them",
            ),
            example(
                "strata squashmigrations tracker 0010 0030 --name archive",
                "0010..0030 as tracker/migrations/0010_archive.toml",
            ),
            example(
                "strata squashmigrations tracker 0030 --dry-run",
                "show what it would write and how much shorter",
            ),
        ],
    ),
    (
        "sqlmigrate",
        &[
            example(
                "strata sqlmigrate tracker 0001",
                "the SQL of 0001 for the configured database",
            ),
            example(
                "strata sqlmigrate tracker 0001 --dialect postgres",
                "the same for PostgreSQL, offline",
            ),
            example(
                "strata sqlmigrate tracker 0002 --backwards",
                "the SQL that unapplies 0002",
            ),
            example(
                "strata sqlmigrate tracker 0002 --dialect mysql --server-version 8.0 --explain",
                "with the lock each statement takes and what it blocks",
            ),
        ],
    ),
    (
        "inspectdb",
        &[
            example(
                "strata inspectdb legacy",
                "print models for the tables of the configured database",
            ),
            example(
                "strata inspectdb legacy --write",
                "write them to apps/legacy/models.toml",
            ),
            example(
                "strata --database postgres://app@db.internal/app inspectdb legacy",
                "read another database than the configured one",
            ),
        ],
    ),
    (
        "drift",
        &[
            example(
                "strata drift",
                "what differs between the database and the applied migrations; exit 1 if anything",
            ),
            example("strata drift --format json", "the same as data, for tools"),
            example(
                "strata drift --write-migration --app tracker",
                "adopt the database's schema: a migration recorded as applied, models.toml updated",
            ),
            example(
                "strata drift --revert --sql",
                "print the SQL that puts the database back, run nothing",
            ),
            example(
                "strata drift --revert --noinput --allow-data-loss",
                "put it back, dropping hand-added tables and columns",
            ),
        ],
    ),
    (
        "showmigrations",
        &[
            example("strata showmigrations", "[X] applied, [ ] pending, per app"),
            example("strata showmigrations tracker", "only tracker"),
            example(
                "strata showmigrations --plan",
                "the whole plan, in the order migrate runs it",
            ),
            example(
                "strata showmigrations --format json",
                "the same as data, for tools",
            ),
        ],
    ),
    (
        "lint",
        &[
            example(
                "strata lint",
                "judge the pending migrations against the live tables",
            ),
            example(
                "strata lint tracker 0003",
                "only tracker's 0003, applied or not",
            ),
            example(
                "strata lint --dialect postgres",
                "offline, for PostgreSQL, every migration",
            ),
        ],
    ),
    (
        "completions",
        &[
            example(
                "strata completions bash > ~/.local/share/bash-completion/completions/strata",
                "bash (the folder bash-completion loads from)",
            ),
            example(
                "strata completions zsh > ~/.zfunc/_strata",
                "zsh, with fpath+=~/.zfunc before compinit",
            ),
            example(
                "strata completions fish > ~/.config/fish/completions/strata.fish",
                "fish",
            ),
            example("strata completions powershell >> $PROFILE", "PowerShell"),
        ],
    ),
    (
        "init",
        &[
            example("strata init mysite", "a new project in ./mysite"),
            example("strata init", "a project in the current folder"),
        ],
    ),
    (
        "startapp",
        &[
            example(
                "strata startapp tracker",
                "apps/tracker/, listed in strata.toml",
            ),
            example(
                "strata startapp auth && strata makemigrations",
                "an app that others reference (auth.User)",
            ),
        ],
    ),
    (
        "man",
        &[
            example(
                "strata man --out target/man",
                "strata.1 and one page per command, to package",
            ),
            example("strata man | man -l -", "read the manual now"),
        ],
    ),
    (
        "database create",
        &[
            example(
                "strata database create",
                "create the configured database if it does not exist",
            ),
            example(
                "strata --env test database create && strata --env test migrate",
                "a fresh database for [env.test], migrated",
            ),
            example(
                "strata database create --format json",
                "{\"database\": …, \"created\": true|false}",
            ),
        ],
    ),
];

/// The examples of `command` (`database create` for a nested one); none for a
/// command without.
pub(crate) fn examples_of(command: &str) -> &'static [Example] {
    EXAMPLES
        .iter()
        .find(|(name, _)| *name == command)
        .map(|(_, examples)| *examples)
        .unwrap_or_default()
}

/// The "Examples:" block of `command`'s long help.
pub(crate) fn examples(command: &str) -> StyledStr {
    let examples = examples_of(command);
    let width = examples.iter().map(|e| e.line.len()).max().unwrap_or(0);
    let mut text = heading("Examples:");
    for Example { line, what } in examples {
        // Long lines get their explanation on the next line: a terminal keeps both whole.
        if line.len() > EXAMPLE_WIDTH {
            let _ = write!(text, "\n  {line}\n      # {what}");
        } else {
            let pad = width.min(EXAMPLE_WIDTH);
            let _ = write!(text, "\n  {line:<pad$}  # {what}");
        }
    }
    StyledStr::from(text)
}

/// Example lines longer than this put their explanation below them.
const EXAMPLE_WIDTH: usize = 48;

/// The top-level help's ending: where to find examples, and the exit codes.
pub(crate) fn exit_codes() -> StyledStr {
    let mut text = String::from("Each command's --help shows examples.\n\n");
    text.push_str(&heading("Exit codes:"));
    for (code, meaning) in EXIT_CODES {
        let _ = write!(text, "\n  {code:<3}  {meaning}");
    }
    StyledStr::from(text)
}

/// A heading styled as clap styles its own ("Usage:", "Options:"); clap drops the
/// style where colour is off.
fn heading(text: &str) -> String {
    let style = *Styles::styled().get_header();
    format!("{style}{text}{style:#}")
}

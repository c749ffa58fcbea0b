//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

use crate::help;

#[derive(Debug, Parser)]
#[command(
    name = "strata",
    version,
    about = "Schema migrations for SQLite, PostgreSQL and MySQL/MariaDB",
    long_about = None,
    after_help = help::exit_codes()
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The heading of the options every command takes, listed apart from its own.
const GLOBAL: &str = "Global options";

#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// Project folder (default: the nearest folder upward holding strata.toml)
    #[arg(long, global = true, value_name = "DIR", help_heading = GLOBAL)]
    pub project: Option<PathBuf>,
    /// Database URL, overriding strata.toml and the environment
    #[arg(long, global = true, value_name = "URL", help_heading = GLOBAL)]
    pub database: Option<String>,
    /// Configuration environment: the [env.NAME] section of strata.toml
    #[arg(long, global = true, value_name = "NAME", help_heading = GLOBAL)]
    pub env: Option<String>,
    /// More output (-v, -vv); RUST_LOG works too
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = GLOBAL)]
    pub verbose: u8,
    /// Only errors
    #[arg(short, long, global = true, conflicts_with = "verbose", help_heading = GLOBAL)]
    pub quiet: bool,
    /// Neither read nor write the project's cache of parsed migrations (.strata/cache)
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub no_cache: bool,
    /// Output format: text for people, json for tools (on stdout)
    #[arg(long, global = true, value_enum, default_value_t = Format::Text, help_heading = GLOBAL)]
    pub format: Format,
    /// Colour in messages: auto (a terminal, unless NO_COLOR is set; CLICOLOR_FORCE
    /// forces it), always, never
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t = Color::Auto,
        value_name = "WHEN",
        help_heading = GLOBAL
    )]
    pub color: Color,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Color {
    Auto,
    Always,
    Never,
}

impl Color {
    /// Whether to colour a stream that `is_terminal` or not, with the environment's
    /// `NO_COLOR` (no-color.org) and `CLICOLOR_FORCE` (bixense.com/clicolors) read by
    /// `var`. The flag beats both; `NO_COLOR` beats `CLICOLOR_FORCE`.
    pub(crate) fn enabled(self, is_terminal: bool, var: impl Fn(&str) -> Option<String>) -> bool {
        let set = |name: &str| var(name).is_some_and(|v| !v.is_empty());
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto if set("NO_COLOR") => false,
            Color::Auto
                if set("CLICOLOR_FORCE") && var("CLICOLOR_FORCE").as_deref() != Some("0") =>
            {
                true
            }
            Color::Auto => is_terminal,
        }
    }

    /// The choice written on a command line that clap could not parse (for colouring
    /// its own error): the last `--color`, else `auto`.
    pub(crate) fn from_raw_args(args: &[String]) -> Color {
        let mut choice = Color::Auto;
        for (i, arg) in args.iter().enumerate() {
            let value = match arg.strip_prefix("--color") {
                Some("") => args.get(i + 1).map(String::as_str),
                Some(rest) => rest.strip_prefix('='),
                None => None,
            };
            match value {
                Some("always") => choice = Color::Always,
                Some("never") => choice = Color::Never,
                Some("auto") => choice = Color::Auto,
                _ => {}
            }
        }
        choice
    }
}

/// clap's check of a name that becomes part of a file or table name.
fn identifier(value: &str) -> Result<String, String> {
    strata_engine::project::check_identifier(value).map(|()| value.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Start a project: strata.toml with every option commented, apps/, .gitignore, editor schemas
    #[command(after_long_help = help::examples("init"))]
    Init(InitArgs),
    /// Add an app: apps/NAME/models.toml (a commented example) and migrations/, listed in strata.toml
    #[command(after_long_help = help::examples("startapp"))]
    Startapp(StartappArgs),
    /// Write new migrations for the changes in each app's models.toml
    #[command(after_long_help = help::examples("makemigrations"))]
    Makemigrations(MakemigrationsArgs),
    /// Apply pending migrations, or move one app to a migration (`zero`: unapply all)
    #[command(after_long_help = help::examples("migrate"))]
    Migrate(MigrateArgs),
    /// Squash migrations FROM..TO of one app into one migration that replaces them
    #[command(after_long_help = help::examples("squashmigrations"))]
    Squashmigrations(SquashmigrationsArgs),
    /// Print the SQL of one migration (offline with --dialect)
    #[command(after_long_help = help::examples("sqlmigrate"))]
    Sqlmigrate(SqlmigrateArgs),
    /// Write models.toml for the tables of an existing database
    #[command(after_long_help = help::examples("inspectdb"))]
    Inspectdb(InspectdbArgs),
    /// List migrations: applied [X] and pending [ ], or the full plan with --plan
    #[command(after_long_help = help::examples("showmigrations"))]
    Showmigrations(ShowmigrationsArgs),
    /// Report what migrations would do to a live database: locks, rewrites, lost data
    #[command(after_long_help = help::examples("lint"))]
    Lint(LintArgs),
    /// Compare the live schema with what the applied migrations build; adopt or revert the difference
    #[command(after_long_help = help::examples("drift"))]
    Drift(DriftArgs),
    /// Create the configured database when it does not exist
    #[command(subcommand)]
    Database(DatabaseCommand),
    /// Print the shell completion script for bash, zsh, fish, powershell or elvish
    #[command(after_long_help = help::examples("completions"))]
    Completions(CompletionsArgs),
    /// Write the manual pages (roff): strata.1 and one per command
    #[command(after_long_help = help::examples("man"))]
    Man(ManArgs),
}

#[derive(Debug, Subcommand)]
pub(crate) enum DatabaseCommand {
    /// Create the configured database if it does not exist
    ///
    /// PostgreSQL: from the server's `postgres` (else `template1`) database;
    /// MySQL/MariaDB: from a session without a database; SQLite: an empty file, in a
    /// folder that must exist. A database that exists is left alone (exit 0).
    #[command(after_long_help = help::examples("database create"))]
    Create,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete strata's commands and flags in
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub(crate) struct ManArgs {
    /// Write strata.1 and strata-COMMAND.1 into DIR (created if missing) instead of
    /// printing strata.1
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The project folder, created if missing
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct StartappArgs {
    /// The app's name: an identifier, like a Django app label (it names a folder and prefixes tables)
    #[arg(value_parser = identifier)]
    pub name: String,
}

// Command-line flags: each bool is one independent `--flag`.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Args)]
pub(crate) struct MakemigrationsArgs {
    /// Only these apps
    pub apps: Vec<String>,
    /// Name part of the new files (default: from the operations); an identifier
    #[arg(long, value_parser = identifier)]
    pub name: Option<String>,
    /// Write a migration with no operations, to edit by hand
    #[arg(long)]
    pub empty: bool,
    /// Write nothing; exit 1 if migrations are needed (for CI)
    #[arg(long, conflicts_with = "dry_run")]
    pub check: bool,
    /// Say what would be written, write nothing (-v: print the files)
    #[arg(long)]
    pub dry_run: bool,
    /// Write a merge migration for apps with two leaves
    #[arg(long)]
    pub merge: bool,
    /// Never ask: unanswered questions stop with exit code 3
    #[arg(long)]
    pub noinput: bool,
    /// Answer a rename question: app.Model.old=new, app.Old=New, table.old=new or old_table=new_table
    #[arg(long, value_name = "SPEC")]
    pub rename: Vec<String>,
    /// Treat every likely rename as drop + add (the old data is lost)
    #[arg(long)]
    pub no_rename: bool,
    /// Write migrations that drop tables or columns or narrow types without asking
    #[arg(long)]
    pub allow_destructive: bool,
    /// One-off value for existing rows of a new NOT NULL column, or for the NULL
    /// rows of a column that becomes NOT NULL: app.Model.field=VALUE (or
    /// table.column=VALUE); VALUE as it is for a text column (currency=USD), else a
    /// TOML literal (0, true, "2024-01-01")
    #[arg(long, value_name = "SPEC")]
    pub default: Vec<String>,
    /// A column that becomes NOT NULL has no NULL rows (or you fill them yourself):
    /// app.Model.field (or table.column); the migration only alters it
    #[arg(long, value_name = "FIELD")]
    pub no_nulls: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct InspectdbArgs {
    /// The app the tables become models of
    pub app: String,
    /// Write apps/APP/models.toml instead of printing it
    #[arg(long)]
    pub write: bool,
    /// Overwrite an existing models.toml
    #[arg(long, requires = "write")]
    pub force: bool,
}

// Command-line flags: each bool is one independent `--flag`.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Args)]
pub(crate) struct MigrateArgs {
    /// Only this app (and what it depends on)
    pub app: Option<String>,
    /// Move the app to exactly this migration (full name or unique prefix), or `zero`
    pub name: Option<String>,
    /// Record the migrations as applied (or unapplied) without running their SQL
    #[arg(long)]
    pub fake: bool,
    /// Mark an initial migration applied if all its tables and columns already exist
    #[arg(long)]
    pub fake_initial: bool,
    /// Print what would run and change nothing
    #[arg(long)]
    pub plan: bool,
    /// Exit 1 if any migration is unapplied; change nothing
    #[arg(long, conflicts_with = "plan")]
    pub check: bool,
    /// Accept applied migration files whose contents changed, recording their new checksum
    #[arg(long)]
    pub accept_edited: bool,
    /// Run even when lint reports error-level findings for the planned migrations
    #[arg(long)]
    pub ignore_lint_errors: bool,
    /// Run the plan on a throwaway copy of the database and report each operation's
    /// duration, rows, rewrite and locks; the database itself is not changed
    #[arg(long, conflicts_with_all = ["plan", "check", "fake", "fake_initial"])]
    pub rehearse: bool,
    /// With --rehearse: copy at most N rows of each table (PostgreSQL, MySQL/MariaDB)
    #[arg(long, value_name = "N", requires = "rehearse")]
    pub rehearse_sample: Option<u64>,
    /// With --rehearse: fail (exit 1) when an operation takes longer than this (30s,
    /// 500ms); overrides `[rehearsal] max_duration` of strata.toml
    #[arg(long, value_name = "DURATION", requires = "rehearse", value_parser = humantime::parse_duration)]
    pub max_duration: Option<std::time::Duration>,
    /// Migrate every database listed in FILE (one URL a line, `#` comments) instead
    /// of the configured one (docs/fleets.md)
    #[arg(long, value_name = "FILE", value_parser = absolute_path, conflicts_with_all = ["plan", "check", "rehearse", "database"])]
    pub tenants: Option<PathBuf>,
    /// With --tenants: how many tenants migrate at once
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..), requires = "tenants")]
    pub jobs: u16,
    /// With --tenants: write one JSON line per tenant to FILE as each finishes
    #[arg(long, value_name = "FILE", value_parser = absolute_path, requires = "tenants")]
    pub report: Option<PathBuf>,
    /// With --tenants: after a tenant fails, keep starting the others (default: start
    /// no new one, let the running ones finish)
    #[arg(long, requires = "tenants")]
    pub continue_on_error: bool,
    /// Run the whole plan, history rows included, in one transaction: all or
    /// nothing (PostgreSQL, SQLite). Refused before anything runs when a step cannot
    /// run in a transaction (atomic = false, a backfill, CREATE INDEX CONCURRENTLY,
    /// MySQL/MariaDB DDL)
    #[arg(long)]
    pub single_transaction: bool,
}

/// A path given on the command line, made absolute against the folder strata was
/// started in: commands run from the project folder (see `main`).
fn absolute_path(value: &str) -> Result<PathBuf, String> {
    std::path::absolute(value).map_err(|e| format!("{value}: {e}"))
}

#[derive(Debug, Args)]
pub(crate) struct SquashmigrationsArgs {
    /// The app
    pub app: String,
    /// The first migration squashed (default: the app's first), then the last: full
    /// names or unique prefixes (0004)
    #[arg(value_name = "[FROM] TO", num_args = 1..=2, required = true)]
    pub names: Vec<String>,
    /// The name part of the new file, after its number (default: squashed_TO)
    #[arg(long, value_parser = identifier)]
    pub name: Option<String>,
    /// Print what would be written, write nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SqlmigrateArgs {
    /// The app
    pub app: String,
    /// The migration: full name or unique prefix (0001)
    pub name: String,
    /// The SQL that unapplies the migration
    #[arg(long)]
    pub backwards: bool,
    /// Render for this dialect without connecting
    #[arg(long, value_name = "sqlite|postgres|mysql|mariadb")]
    pub dialect: Option<String>,
    /// Server version to render for (default: the oldest supported)
    #[arg(long, value_name = "X.Y")]
    pub server_version: Option<String>,
    /// After each statement: the lock it takes, what that blocks, whether it scans or
    /// rewrites the table, and the transaction it runs in
    #[arg(long)]
    pub explain: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ShowmigrationsArgs {
    /// Only these apps
    pub apps: Vec<String>,
    /// The full ordered plan across apps
    #[arg(long)]
    pub plan: bool,
    /// Applied and pending counts for every database listed in FILE (one URL a line,
    /// `#` comments; docs/fleets.md)
    #[arg(long, value_name = "FILE", value_parser = absolute_path, conflicts_with_all = ["plan", "database"])]
    pub tenants: Option<PathBuf>,
    /// With --tenants: how many tenants are read at once
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..), requires = "tenants")]
    pub jobs: u16,
}

#[derive(Debug, Args)]
pub(crate) struct LintArgs {
    /// Only this app
    pub app: Option<String>,
    /// Only this migration of the app (full name or unique prefix), applied or not
    #[arg(requires = "app")]
    pub name: Option<String>,
    /// Lint offline for this dialect (every migration of the selection)
    #[arg(long, value_name = "sqlite|postgres|mysql|mariadb")]
    pub dialect: Option<String>,
    /// Server version to judge for (default: the oldest supported, or the server's)
    #[arg(long, value_name = "X.Y")]
    pub server_version: Option<String>,
}

// Command-line flags: each bool is one independent `--flag`.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Args)]
pub(crate) struct DriftArgs {
    /// Adopt the live schema: write a migration that takes the applied migrations'
    /// schema to it, record it as applied, and update models.toml
    #[arg(long, conflicts_with = "revert")]
    pub write_migration: bool,
    /// Put the database back: run the operations that take the live schema to what
    /// the applied migrations build (nothing is written to the history)
    #[arg(long)]
    pub revert: bool,
    /// With --write-migration: the app that takes tables no migration created
    // `conflicts_with` as well: clap does not enforce `requires` once a conflicting
    // flag is present, so `--revert --app` would pass silently.
    #[arg(long, requires = "write_migration", conflicts_with = "revert")]
    pub app: Option<String>,
    /// With --write-migration: the name part of the new files; an identifier
    #[arg(
        long,
        value_parser = identifier,
        requires = "write_migration",
        conflicts_with = "revert"
    )]
    pub name: Option<String>,
    /// With --revert: print the SQL instead of running it
    #[arg(long, requires = "revert", conflicts_with = "write_migration")]
    pub sql: bool,
    /// Never ask: a question (consent to drop data) stops with exit code 3
    #[arg(long)]
    pub noinput: bool,
    /// With --revert: drop hand-added tables and columns without asking, data and all
    #[arg(long, requires = "revert", conflicts_with = "write_migration")]
    pub allow_data_loss: bool,
}

//! The `strata` binary: parse the command line, run one command, map errors to exit codes.

// Errors carry their full context by value; they only travel on the failure path.
#![allow(clippy::result_large_err)]

mod args;
mod commands;
mod context;
mod database;
mod error;
mod help;
mod logging;
mod signals;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Color, Command, DatabaseCommand};
use context::Context;
use error::{exit, CliError};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    // Messages and logs go to stderr: its being a terminal decides `auto`.
    let color = cli
        .global
        .color
        .enabled(std::io::stderr().is_terminal(), |k| std::env::var(k).ok());
    init_tracing(&cli.global, color);
    // Unwrapped lines: messages name files and commands that users copy. Colour,
    // and terminal hyperlinks (escape codes too), only when colour is on.
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .wrap_lines(false)
                .color(color)
                .terminal_links(color)
                .build(),
        )
    }));
    // Unlocked (it locks per write): a `StdoutLock` is not `Send`, and the migrate
    // printer writing to it is held across the run's awaits, whose future is `Send`.
    let mut out = std::io::stdout();
    match run(&cli, &mut out).and_then(|code| out.flush().map(|()| code).map_err(CliError::from)) {
        Ok(code) => ExitCode::from(code),
        // `strata … | head` closing the pipe early is not a failure.
        Err(CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::from(exit::OK)
        }
        Err(e) => {
            let code = e.exit_code();
            let _ = writeln!(std::io::stderr(), "{:?}", e.report());
            ExitCode::from(code)
        }
    }
}

fn run(cli: &Cli, out: &mut (dyn Write + Send)) -> Result<u8, CliError> {
    match run_without_project(cli, out) {
        Some(result) => result,
        None => run_in_project(cli, out),
    }
}

/// The commands that need no loaded project: those about strata itself
/// (`completions`, `man`), and those that make a project or add to one that is not
/// loadable yet (`init`, `startapp` while `apps` is still empty). `None` for the others.
fn run_without_project(cli: &Cli, out: &mut dyn Write) -> Option<Result<u8, CliError>> {
    let format = cli.global.format;
    Some(match &cli.command {
        Command::Completions(args) => commands::completions::run(args, format, out),
        Command::Man(args) => commands::man::run(args, format, out),
        Command::Init(_) if cli.global.project.is_some() => Err(CliError::Usage(
            "`strata init` takes its folder as an argument, not --project: `strata init DIR`"
                .into(),
        )),
        Command::Init(args) => commands::refuse_json(format, "init", "files, and names them")
            .and_then(|()| commands::init::run(args, out)),
        Command::Startapp(args) => {
            commands::refuse_json(format, "startapp", "files, and names them")
                .and_then(|()| commands::startapp::run(&cli.global, args, out))
        }
        _ => return None,
    })
}

fn run_in_project(cli: &Cli, out: &mut (dyn Write + Send)) -> Result<u8, CliError> {
    let ctx = match &cli.command {
        Command::Makemigrations(_) => Context::load_allowing_conflicts(&cli.global)?,
        Command::Database(_) => Context::load_for_database(&cli.global)?,
        _ => Context::load(&cli.global)?,
    };
    // Relative paths in the configuration (a SQLite file) are relative to the project.
    std::env::set_current_dir(&ctx.project.root)?;
    // Only a run that changes the database stops gracefully; the other commands keep
    // the default of dying on Ctrl-C, which leaves nothing half-done.
    let migrates = matches!(&cli.command, Command::Migrate(a) if !a.plan && !a.check);
    if migrates {
        signals::install()?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async {
        match &cli.command {
            Command::Makemigrations(args) => {
                let verbose = cli.global.verbose > 0;
                commands::makemigrations::run(&ctx, args, verbose, cli.global.format, out)
            }
            Command::Inspectdb(args) => {
                commands::inspectdb::run(&ctx, args, cli.global.format, out).await
            }
            Command::Migrate(args) => {
                commands::migrate::run(&ctx, args, cli.global.quiet, cli.global.format, out).await
            }
            Command::Squashmigrations(args) => commands::squashmigrations::run(
                &ctx,
                args,
                cli.global.quiet,
                cli.global.format,
                out,
            )
            .map(|()| exit::OK),
            Command::Sqlmigrate(args) => {
                commands::sqlmigrate::run(&ctx, args, cli.global.format, out)
                    .await
                    .map(|()| exit::OK)
            }
            Command::Drift(args) => {
                commands::drift::run(&ctx, &cli.global, args, cli.global.format, out).await
            }
            Command::Lint(args) => commands::lint::run(&ctx, args, cli.global.format, out).await,
            Command::Showmigrations(args) => {
                commands::showmigrations::run(&ctx, args, cli.global.format, out)
                    .await
                    .map(|()| exit::OK)
            }
            Command::Database(DatabaseCommand::Create) => {
                commands::database_create::run(&ctx, cli.global.format, cli.global.quiet, out).await
            }
            Command::Completions(_) | Command::Man(_) | Command::Init(_) | Command::Startapp(_) => {
                unreachable!("run_without_project runs these")
            }
        }
    });
    signals::forget_connection();
    // The process ends right after: the system frees thousands of migrations at once,
    // faster than their destructors would one by one (nothing in the context has a
    // destructor that does more than free memory).
    std::mem::forget(ctx);
    match (signals::received(), result) {
        // A rehearsal changed nothing in the database: it says so itself, rather than
        // what an interrupted run applied.
        (Some(_), Err(e @ CliError::RehearsalInterrupted { .. })) => Err(e),
        (Some(signal), result) => Err(CliError::Interrupted {
            signal,
            cause: result.err().map(Box::new),
        }),
        (None, result) => result,
    }
}

/// clap's error or help, coloured by the same rule as everything else.
fn usage_error(e: &clap::Error) -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let terminal = if e.use_stderr() {
        std::io::stderr().is_terminal()
    } else {
        std::io::stdout().is_terminal()
    };
    let color = Color::from_raw_args(&args).enabled(terminal, |k| std::env::var(k).ok());
    let rendered = e.render();
    let text = if color {
        rendered.ansi().to_string()
    } else {
        rendered.to_string()
    };
    if e.use_stderr() {
        let _ = write!(std::io::stderr(), "{text}");
    } else {
        let _ = write!(std::io::stdout(), "{text}");
    }
    ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(exit::BAD_INPUT))
}

fn init_tracing(global: &args::GlobalArgs, color: bool) {
    use tracing_subscriber::filter::LevelFilter;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    let default = match (global.quiet, global.verbose) {
        (true, _) => LevelFilter::ERROR,
        (false, 0) => LevelFilter::WARN,
        (false, 1) => LevelFilter::INFO,
        (false, 2) => LevelFilter::DEBUG,
        (false, _) => LevelFilter::TRACE,
    };
    let filter = logging::filter(std::env::var("RUST_LOG").ok().as_deref(), default);
    tracing_subscriber::fmt()
        // Everything reaches `filter`, which decides; the builder's own default is INFO.
        .with_max_level(LevelFilter::TRACE)
        // Redacted: a library's trace may print what strata would not.
        .with_writer(logging::RedactedStderr)
        .with_ansi(color)
        .with_target(false)
        .finish()
        .with(filter)
        .init();
}

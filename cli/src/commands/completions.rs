//! `strata completions SHELL`: the shell's completion script on stdout, generated from
//! the same clap definition as `--help`, so it never falls behind the flags.

use std::io::Write;

use clap::CommandFactory;

use crate::args::{Cli, CompletionsArgs, Format};
use crate::commands::refuse_json;
use crate::error::{exit, CliError};

pub(crate) fn run(
    args: &CompletionsArgs,
    format: Format,
    out: &mut dyn Write,
) -> Result<u8, CliError> {
    refuse_json(format, "completions", "a shell script")?;
    clap_complete::generate(args.shell, &mut Cli::command(), "strata", out);
    Ok(exit::OK)
}

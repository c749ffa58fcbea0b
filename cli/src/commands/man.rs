//! `strata man`: the manual pages, from the same clap definition as `--help`, with
//! the examples and exit codes of `help` as their EXAMPLES and EXIT STATUS sections.
//! Printed (strata.1) or, with `--out DIR`, written as packagers install them:
//! `strata.1` and `strata-COMMAND.1` (`strata-database-create.1`) for each command.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;
use clap_mangen::Man;

use crate::args::{Cli, Format, ManArgs};
use crate::commands::refuse_json;
use crate::error::{exit, CliError};
use crate::help::{self, Example, EXIT_CODES};

pub(crate) fn run(args: &ManArgs, format: Format, out: &mut dyn Write) -> Result<u8, CliError> {
    refuse_json(format, "man", "roff manual pages")?;
    // `help` is clap's own subcommand: `man strata` says the same better.
    let mut root = Cli::command().disable_help_subcommand(true);
    // Built, clap names subcommands as they are run (`strata-database-create`).
    root.build();
    match &args.out {
        None => render(&root, "", out)?,
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            write_pages(&root, "", dir)?;
            writeln!(out, "Wrote the manual pages to {}", dir.display())?;
        }
    }
    Ok(exit::OK)
}

/// `command`'s page and its subcommands' pages into `dir`; `path` is the command's
/// name under strata (`database create`), empty for strata itself.
fn write_pages(command: &clap::Command, path: &str, dir: &Path) -> Result<(), CliError> {
    let page = dir.join(Man::new(command.clone()).get_filename());
    let mut file = std::io::BufWriter::new(std::fs::File::create(&page)?);
    render(command, path, &mut file)?;
    file.flush()?;
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, &sub_path(path, sub.get_name()), dir)?;
    }
    Ok(())
}

fn sub_path(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path} {name}")
    }
}

/// One page: clap_mangen's sections, then EXAMPLES, and for strata itself EXIT STATUS
/// (clap_mangen would put the help's closing text under a generic EXTRA heading).
fn render(command: &clap::Command, path: &str, out: &mut dyn Write) -> Result<(), CliError> {
    let man = Man::new(command.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    if command.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(out)?;
    }
    if command.has_subcommands() {
        man.render_subcommands_section(out)?;
    }
    let examples = help::examples_of(path);
    if !examples.is_empty() {
        writeln!(out, ".SH EXAMPLES")?;
        for Example { line, what } in examples {
            writeln!(out, ".TP\n\\fB{}\\fR\n{}", escape(line), escape(what))?;
        }
    }
    if path.is_empty() {
        writeln!(out, ".SH \"EXIT STATUS\"")?;
        for (code, meaning) in EXIT_CODES {
            writeln!(out, ".TP\n{code}\n{}", escape(meaning))?;
        }
    } else {
        writeln!(out, ".SH \"SEE ALSO\"\n\\fBstrata\\fR(1)")?;
    }
    if command.get_version().is_some() {
        man.render_version_section(out)?;
    }
    Ok(())
}

/// `text` as roff prints it literally: backslashes and hyphens escaped (a `-` of a
/// flag must stay a hyphen-minus when copied), and a leading `.` or `'` kept from
/// reading as a request.
fn escape(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

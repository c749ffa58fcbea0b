//! `strata squashmigrations APP [FROM] TO`: one migration with `replaces = [...]` in
//! place of FROM..TO, its operations the optimized sum of theirs, checked to build the
//! same schema before it is written (docs/squashing.md).

use std::io::Write;

use serde::Serialize;
use strata_engine::squash::{self, Request, Squash};

use crate::args::{Format, SquashmigrationsArgs};
use crate::context::Context;
use crate::error::CliError;

pub(crate) fn run(
    ctx: &Context,
    args: &SquashmigrationsArgs,
    quiet: bool,
    format: Format,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let (from, to) = match args.names.as_slice() {
        [to] => (None, to.clone()),
        [from, to] => (Some(from.clone()), to.clone()),
        _ => unreachable!("clap takes one or two names"),
    };
    let request = Request {
        app: args.app.clone(),
        from,
        to,
        name: args.name.clone(),
    };
    let squash = squash::squash(&ctx.project, &ctx.graph, &request)?;
    if squash.path.exists() {
        return Err(CliError::Usage(format!(
            "{} already exists; not overwriting it (choose another --name)",
            super::display_path(&squash.path)
        )));
    }
    if !args.dry_run {
        super::write_new_file(&squash.path, &squash.text()?)?;
    }
    let report = Report::new(&squash, !args.dry_run);
    match format {
        Format::Json => super::write_json(out, &report)?,
        Format::Text if quiet => {}
        Format::Text => report.write_text(out)?,
    }
    Ok(())
}

/// What was (or would be) written: the JSON document, and the text report's data.
#[derive(Serialize)]
struct Report {
    mode: &'static str,
    written: bool,
    migration: String,
    app: String,
    name: String,
    path: String,
    replaces: Vec<String>,
    dependencies: Vec<String>,
    atomic: bool,
    operations_before: usize,
    operations_after: usize,
    /// Operations kept in place, unoptimized (run_sql and other non-schema kinds).
    kept_in_place: usize,
    operations: Vec<String>,
}

impl Report {
    fn new(squash: &Squash, written: bool) -> Self {
        Self {
            mode: if written { "write" } else { "dry_run" },
            written,
            migration: squash.key.to_string(),
            app: squash.key.app.clone(),
            name: squash.key.name.clone(),
            path: super::display_path(&squash.path),
            replaces: squash.file.replaces.clone(),
            dependencies: squash.file.dependencies.clone(),
            atomic: squash.file.atomic,
            operations_before: squash.operations_before,
            operations_after: squash.file.operations.len(),
            kept_in_place: squash.barriers,
            operations: squash
                .file
                .operations
                .iter()
                .map(ToString::to_string)
                .collect(),
        }
    }

    fn write_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let verb = if self.written { "Wrote" } else { "Would write" };
        writeln!(out, "{verb} {} ({})", self.path, self.migration)?;
        let (first, last) = (
            self.replaces.first().map_or("", String::as_str),
            self.replaces.last().map_or("", String::as_str),
        );
        writeln!(
            out,
            "  replaces {} migrations, {first} … {last}: {} operations → {}",
            self.replaces.len(),
            self.operations_before,
            self.operations_after
        )?;
        if self.kept_in_place > 0 {
            writeln!(
                out,
                "  {} operation(s) kept as written (run_sql and other kinds the optimizer does not look inside)",
                self.kept_in_place
            )?;
        }
        for operation in &self.operations {
            writeln!(out, "    - {operation}")?;
        }
        if !self.written {
            return Ok(());
        }
        writeln!(out, "\nNext steps (docs/squashing.md):")?;
        writeln!(
            out,
            "  1. Commit it next to the migrations it replaces. `strata migrate` runs it alone on a new database, runs the remaining originals on one part-way through them, and counts it applied where they all are."
        )?;
        writeln!(
            out,
            "  2. Once every database has run `strata migrate` past {last}, delete the replaced files; later, remove `replaces` and the old history rows."
        )
    }
}

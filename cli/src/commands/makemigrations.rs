//! `strata makemigrations`: compare each app's models.toml with what its migrations
//! build, and write the migrations that close the gap. Likely renames and one-off
//! defaults are asked on a terminal and never guessed without one.

use std::io::{BufRead, IsTerminal, Write};

use strata_engine::ast::DefaultValue;
use strata_engine::autodetect::{self, Decisions, RenameCandidate, RenameKind};
use strata_engine::makemigrations::{self, Planned, Request};
use strata_engine::models;
use strata_engine::state::default_fits;

use crate::args::MakemigrationsArgs;
use crate::context::Context;
use crate::error::{exit, CliError};

pub fn run(
    ctx: &Context,
    args: &MakemigrationsArgs,
    verbose: bool,
    out: &mut dyn Write,
) -> Result<u8, CliError> {
    if args.merge {
        let merges = makemigrations::plan_merges(&ctx.project, &ctx.graph);
        if merges.is_empty() {
            writeln!(out, "No conflicts detected to merge.")?;
            return Ok(exit::OK);
        }
        return finish(args, verbose, &merges, out);
    }
    if let Some((app, leaves)) = ctx.graph.conflicts().into_iter().next() {
        let names: Vec<String> = leaves.iter().map(|k| k.name.clone()).collect();
        return Err(CliError::Usage(format!(
            "conflicting migrations in app `{app}`: {} are both leaves; run `strata makemigrations --merge`",
            names.join(" and ")
        )));
    }
    let models = models::load(&ctx.project)?;
    let (old, new) = makemigrations::compare(&ctx.project, &ctx.graph, &models, &args.apps)?;
    let mut decisions = Decisions::default();
    let interactive = !args.noinput && std::io::stdin().is_terminal();
    let mut stdin = std::io::stdin().lock();

    // Renames: given on the command line, asked on a terminal, or refused.
    for spec in &args.rename {
        decisions = parse_rename(spec, &models)?.apply(decisions);
    }
    let open: Vec<RenameCandidate> = autodetect::open_renames(&old, &new, &decisions);
    if args.check && !open.is_empty() && !args.no_rename {
        // --check only needs to know that migrations are due, not their exact shape.
        writeln!(
            out,
            "Migrations are needed; likely renames still need an answer:"
        )?;
        for c in &open {
            writeln!(out, "  {} -> {}", label_from(c, &models), c.to)?;
        }
        return Ok(exit::CHECK_FAILED);
    }
    if args.no_rename {
        decisions.no_rename = true;
    } else if !open.is_empty() {
        if !interactive {
            return Err(CliError::NeedsInput(rename_help(&open, &models)));
        }
        // Asked one at a time: a column question only follows an accepted table rename.
        let mut declined: Vec<RenameCandidate> = Vec::new();
        while let Some(candidate) = autodetect::open_renames(&old, &new, &decisions)
            .into_iter()
            .find(|c| !declined.contains(c))
        {
            let question = format!(
                "Was {} renamed to {}? [y/N] ",
                label_from(&candidate, &models),
                candidate.to
            );
            if ask(&mut stdin, out, &question)?.eq_ignore_ascii_case("y") {
                decisions = decisions.accept(&candidate);
            } else {
                declined.push(candidate);
            }
        }
        decisions.no_rename = true;
    }

    // One-off defaults for NOT NULL columns added to tables that have rows.
    for spec in &args.default {
        let (table, column, value) = parse_default(spec, &models, &new)?;
        decisions.one_off_defaults.insert((table, column), value);
    }
    let missing = autodetect::needs_one_off_default(&old, &new, &decisions);
    if args.check && !missing.is_empty() {
        writeln!(
            out,
            "Migrations are needed; new NOT NULL columns need a one-off default:"
        )?;
        for (table, column) in &missing {
            writeln!(out, "  {}", models.column_label(table, column))?;
        }
        return Ok(exit::CHECK_FAILED);
    }
    if !missing.is_empty() {
        if !interactive {
            return Err(CliError::NeedsInput(default_help(&missing, &models)));
        }
        for (table, column) in missing {
            let ty = new.tables[&table]
                .column(&column)
                .map(|c| c.ty)
                .expect("a new column");
            let question = format!(
                "{} is added NOT NULL without a default; existing rows need a value.\nOne-off default ({ty}; a TOML literal such as 0, \"text\", true): ",
                models.column_label(&table, &column)
            );
            loop {
                let answer = ask(&mut stdin, out, &question)?;
                match parse_literal(&answer).filter(|v| default_fits(v, ty)) {
                    Some(value) => {
                        decisions
                            .one_off_defaults
                            .insert((table.clone(), column.clone()), value);
                        break;
                    }
                    None if answer.is_empty() => {
                        return Err(CliError::NeedsInput(format!(
                            "no default given for {}",
                            models.column_label(&table, &column)
                        )))
                    }
                    None => writeln!(out, "That is not a {ty} literal; try again.")?,
                }
            }
        }
    }

    let request = Request {
        apps: args.apps.clone(),
        name: args.name.clone(),
        empty: args.empty,
        decisions,
    };
    let planned = makemigrations::plan(&ctx.project, &ctx.graph, &models, &request)?;
    if planned.is_empty() {
        writeln!(out, "No changes detected")?;
        return Ok(exit::OK);
    }
    finish(args, verbose, &planned, out)
}

/// Reports the planned files and writes them (unless --check or --dry-run).
fn finish(
    args: &MakemigrationsArgs,
    verbose: bool,
    planned: &[Planned],
    out: &mut dyn Write,
) -> Result<u8, CliError> {
    for p in planned {
        writeln!(out, "Migrations for '{}':", p.key.app)?;
        writeln!(out, "  {}", display_path(&p.path))?;
        for op in &p.file.operations {
            writeln!(out, "    - {op}")?;
        }
        if args.dry_run && verbose {
            writeln!(out, "{}", p.text())?;
        }
    }
    if args.check {
        return Ok(exit::CHECK_FAILED);
    }
    if args.dry_run {
        return Ok(exit::OK);
    }
    for p in planned {
        if p.path.exists() {
            return Err(CliError::Usage(format!(
                "{} already exists; not overwriting it",
                p.path.display()
            )));
        }
    }
    for p in planned {
        if let Some(dir) = p.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&p.path, p.text())?;
    }
    Ok(exit::OK)
}

/// A path relative to the project folder (the current directory), for messages.
fn display_path(path: &std::path::Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn ask(input: &mut dyn BufRead, out: &mut dyn Write, question: &str) -> Result<String, CliError> {
    write!(out, "{question}")?;
    out.flush()?;
    let mut line = String::new();
    input.read_line(&mut line)?;
    Ok(line.trim().to_string())
}

/// A rename the user decided on, from `--rename`.
enum RenameSpec {
    Table(String, String),
    Column(String, String, String),
}

impl RenameSpec {
    fn apply(self, decisions: Decisions) -> Decisions {
        match self {
            RenameSpec::Table(from, to) => decisions.rename_table(&from, &to),
            RenameSpec::Column(table, from, to) => decisions.rename_column(&table, &from, &to),
        }
    }
}

/// `--rename app.Model.old=new`, `--rename app.Old=New`, or by table names:
/// `--rename table.old_column=new_column`, `--rename old_table=new_table`.
fn parse_rename(spec: &str, models: &models::Models) -> Result<RenameSpec, CliError> {
    let bad = || {
        CliError::Usage(format!(
            "--rename `{spec}`: expected app.Model.old_field=new_field, app.OldModel=NewModel, table.old_column=new_column or old_table=new_table"
        ))
    };
    let (left, to) = spec.split_once('=').ok_or_else(bad)?;
    let parts: Vec<&str> = left.split('.').collect();
    match parts.as_slice() {
        [app, model, field] => {
            let table = models.table_of(app, model).ok_or_else(|| {
                CliError::Usage(format!(
                    "--rename `{spec}`: no model {app}.{model} in models.toml"
                ))
            })?;
            let from = models
                .column_of(&table, field)
                .unwrap_or_else(|| field.to_string());
            let to = models
                .column_of(&table, to)
                .unwrap_or_else(|| to.to_string());
            Ok(RenameSpec::Column(table, from, to))
        }
        [app, model]
            if models.table_of(app, model).is_none() && models.table_of(app, to).is_some() =>
        {
            // app.OldModel=NewModel: the old model is gone from models.toml, so its
            // table has the default name.
            let old = format!("{app}_{}", model.to_lowercase());
            Ok(RenameSpec::Table(
                old,
                models.table_of(app, to).expect("checked"),
            ))
        }
        [table, column] => Ok(RenameSpec::Column(
            table.to_string(),
            column.to_string(),
            to.to_string(),
        )),
        [table] if !to.is_empty() => Ok(RenameSpec::Table(table.to_string(), to.to_string())),
        _ => Err(bad()),
    }
}

fn label_from(c: &RenameCandidate, models: &models::Models) -> String {
    match c.kind {
        RenameKind::Table => models.table_label(&c.from),
        RenameKind::Column => models.column_label(&c.table, &c.from),
    }
}

fn rename_help(open: &[RenameCandidate], models: &models::Models) -> String {
    let mut text = String::from(
        "these look like renames, and makemigrations never turns a likely rename into drop + add (which loses the data) without being told:\n",
    );
    for c in open {
        text.push_str(&format!(
            "  {} -> {}   ({c}, similarity {:.2})\n",
            label_from(c, models),
            c.to,
            c.score
        ));
    }
    text.push_str("answer on a terminal, or non-interactively:\n");
    for c in open {
        let spec = match c.kind {
            RenameKind::Table => format!("{}={}", c.from, c.to),
            RenameKind::Column => {
                let label = models.column_label(&c.table, &c.from);
                let field = models.column_label(&c.table, &c.to);
                let new_field = field.rsplit('.').next().unwrap_or(&c.to).to_string();
                if label.matches('.').count() == 2 {
                    format!("{label}={new_field}")
                } else {
                    format!("{}.{}={}", c.table, c.from, c.to)
                }
            }
        };
        text.push_str(&format!("  strata makemigrations --rename {spec}\n"));
    }
    text.push_str("  strata makemigrations --no-rename     (drop and add: the old data is lost)");
    text
}

fn default_help(missing: &[(String, String)], models: &models::Models) -> String {
    let mut text = String::from(
        "columns added NOT NULL without a default to tables that exist need a value for the rows already there:\n",
    );
    for (table, column) in missing {
        text.push_str(&format!("  {}\n", models.column_label(table, column)));
    }
    text.push_str("give them a default (or `null = true`) in models.toml, answer on a terminal, or non-interactively:\n");
    for (table, column) in missing {
        text.push_str(&format!("  strata makemigrations --default {table}.{column}=VALUE   (a TOML literal: 0, \"text\", true)\n"));
    }
    text.trim_end().to_string()
}

/// `--default table.column=VALUE` (or app.Model.field=VALUE).
fn parse_default(
    spec: &str,
    models: &models::Models,
    new: &strata_engine::SchemaState,
) -> Result<(String, String, DefaultValue), CliError> {
    let bad = |why: &str| CliError::Usage(format!("--default `{spec}`: {why}"));
    let (left, value) = spec
        .split_once('=')
        .ok_or_else(|| bad("expected table.column=VALUE"))?;
    let parts: Vec<&str> = left.split('.').collect();
    let (table, column) = match parts.as_slice() {
        [app, model, field] => {
            let table = models
                .table_of(app, model)
                .ok_or_else(|| bad("no such model"))?;
            let column = models
                .column_of(&table, field)
                .unwrap_or_else(|| field.to_string());
            (table, column)
        }
        [table, column] => (table.to_string(), column.to_string()),
        _ => return Err(bad("expected table.column=VALUE")),
    };
    let ty = new
        .tables
        .get(&table)
        .and_then(|t| t.column(&column))
        .map(|c| c.ty)
        .ok_or_else(|| bad("no such column in the models"))?;
    let value = parse_literal(value)
        .filter(|v| default_fits(v, ty))
        .ok_or_else(|| bad(&format!("`{value}` is not a {ty} literal")))?;
    Ok((table, column, value))
}

/// A TOML literal (`0`, `1.5`, `"x"`, `true`) as a default value.
fn parse_literal(text: &str) -> Option<DefaultValue> {
    #[derive(serde::Deserialize)]
    struct Holder {
        v: DefaultValue,
    }
    toml::from_str::<Holder>(&format!("v = {text}"))
        .ok()
        .map(|h| h.v)
}

//! `strata makemigrations`: compare each app's models.toml with what its migrations
//! build, and write the migrations that close the gap. Likely renames and one-off
//! defaults are asked on a terminal and never guessed without one.

// `write!` into a `String` (which cannot fail) and into the output.
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};

use serde::Serialize;
use strata_engine::ast::DefaultValue;
use strata_engine::autodetect::{
    self, AcceptedRename, AutodetectError, Decisions, RenameCandidate, RenameKind,
};
use strata_engine::data_loss::DataLoss;
use strata_engine::graph::Graph;
use strata_engine::lint::Finding;
use strata_engine::makemigrations::questioner::{
    self, rename_label, Interactive, NonInteractive, QuestionError, Questioner,
};
use strata_engine::makemigrations::{self, MakeError, Planned, Request};
use strata_engine::migration::{Migration, MigrationKey};
use strata_engine::models;
use strata_engine::project::{Project, CONFIG_FILE};
use strata_engine::state::default_fits;
use strata_engine::{Operation, SchemaState};

use crate::args::{Format, MakemigrationsArgs};
use crate::commands::lint;
use crate::context::Context;
use crate::error::{exit, CliError};

pub(crate) fn run(
    ctx: &Context,
    args: &MakemigrationsArgs,
    verbose: bool,
    format: Format,
    out: &mut dyn Write,
) -> Result<u8, CliError> {
    let mut out = Output::new(out, format);
    // A run that writes holds the project's lock and plans from the migrations on
    // disk once it has it: a second makemigrations waits, then sees the first one's
    // files — so two at once never both create a migration for the same change.
    let writes = !args.check && !args.dry_run;
    let _lock = writes.then(|| lock_project(&ctx.project)).transpose()?;
    let reloaded;
    let (project, graph) = if writes {
        let mut project = ctx.project.clone();
        project.reload_migrations()?;
        let graph = Graph::from_project_with_conflicts(&project)?;
        reloaded = (project, graph);
        (&reloaded.0, &reloaded.1)
    } else {
        (&ctx.project, &ctx.graph)
    };

    if args.merge {
        let merges = makemigrations::plan_merges(project, graph);
        if merges.is_empty() {
            writeln!(out.human(), "No conflicts detected to merge.")?;
            out.report(&Report::new(args))?;
            return Ok(exit::OK);
        }
        return finish(ctx, project, args, verbose, &merges, None, &mut out);
    }
    if let Some((app, leaves)) = graph.conflicts().into_iter().next() {
        let names: Vec<String> = leaves.iter().map(|k| k.name.clone()).collect();
        return Err(CliError::Usage(format!(
            "conflicting migrations in app `{app}`: {} are both leaves; run `strata makemigrations --merge`",
            names.join(" and ")
        )));
    }
    let models = models::load(project)?;
    let (old, new) = makemigrations::compare(project, graph, &models, &args.apps)?;
    let decisions = given_decisions(args, &models, &new)?;
    // --check only needs to know that migrations are due, so it never asks; nor does
    // a run whose output is JSON for a tool.
    let interactive = !args.noinput && !args.check && !out.json && std::io::stdin().is_terminal();
    let given = decisions.clone();
    let decided = if interactive {
        let mut questioner = Interactive {
            input: std::io::stdin().lock(),
            output: out.human(),
            models: &models,
        };
        questioner::decide(&old, &new, decisions, &mut questioner)
    } else {
        questioner::decide(&old, &new, decisions, &mut NonInteractive)
    };
    let decisions = match decided {
        Ok(decisions) => decisions,
        Err(QuestionError::Unanswered(e)) => {
            // Refused for new columns, the NOT NULL questions are listed with them:
            // one run shows every answer still to give.
            let not_null = if matches!(e, AutodetectError::NeedsDefault(_)) {
                autodetect::needs_not_null_answer(&old, &new, &given)
            } else {
                Vec::new()
            };
            return unanswered(args, e, &not_null, &models, &mut out);
        }
        Err(e) => return Err(e.into()),
    };

    let request = Request {
        apps: args.apps.clone(),
        name: args.name.clone(),
        empty: args.empty,
        decisions,
    };
    let planned = makemigrations::plan_between(project, graph, &models, &request, &old, &new)?;
    if planned.is_empty() {
        writeln!(out.human(), "No changes detected")?;
        out.report(&Report::new(args))?;
        return Ok(exit::OK);
    }
    // Dropping a table or column, or narrowing a type, is written only when
    // confirmed: on a terminal, or with --allow-destructive. --check and --dry-run
    // write nothing, so they never ask (their listing marks the losses).
    if writes && !args.allow_destructive {
        let losses = makemigrations::data_losses(&old, &planned);
        if !losses.is_empty() {
            let confirmed = interactive && {
                let mut questioner = Interactive {
                    input: std::io::stdin().lock(),
                    output: out.human(),
                    models: &models,
                };
                questioner.confirm_data_loss(&losses)?
            };
            if !confirmed {
                return Err(CliError::NeedsInput(destructive_help(&losses, interactive)));
            }
        }
    }
    finish(ctx, project, args, verbose, &planned, Some(&old), &mut out)
}

/// The answers the flags give: `--rename`, `--no-rename`, `--default`, `--no-nulls`.
fn given_decisions(
    args: &MakemigrationsArgs,
    models: &models::Models,
    new: &SchemaState,
) -> Result<Decisions, CliError> {
    let mut decisions = Decisions::default();
    for spec in &args.rename {
        decisions.renames.push(parse_rename(spec, models)?);
    }
    decisions.no_rename = args.no_rename;
    for spec in &args.default {
        let (table, column, value) = parse_default(spec, models, new)?;
        decisions.one_off_defaults.insert((table, column), value);
    }
    for spec in &args.no_nulls {
        decisions
            .no_nulls
            .insert(parse_no_nulls(spec, models, new)?);
    }
    Ok(decisions)
}

/// Reports the planned files — marking the operations that destroy data, from
/// `old` on — and writes them (unless --check or --dry-run).
fn finish(
    ctx: &Context,
    project: &Project,
    args: &MakemigrationsArgs,
    verbose: bool,
    planned: &[Planned],
    old: Option<&SchemaState>,
    out: &mut Output,
) -> Result<u8, CliError> {
    let mut report = Report::new(args);
    let mut state = old.cloned();
    for p in planned {
        let mut losses = Vec::new();
        writeln!(out.human(), "Migrations for '{}':", p.key.app)?;
        writeln!(out.human(), "  {}", super::display_path(&p.path))?;
        for (i, op) in p.file.operations.iter().enumerate() {
            writeln!(out.human(), "    - {op}")?;
            if let Some(state) = &mut state {
                if let Some(loss) = op.destroys_data(state) {
                    writeln!(out.human(), "      ! {loss}")?;
                    losses.push(Loss::new(i + 1, &loss));
                }
                let _ = state.apply(op);
            }
        }
        if args.dry_run && verbose {
            writeln!(out.human(), "{}", p.text()?)?;
        }
        report.migrations.push(PlannedFile::new(p, losses));
    }
    // Lint advice is printed for files written, and is part of the JSON report.
    let writes = !args.check && !args.dry_run;
    let lint = (writes || out.json)
        .then(|| lint_planned(ctx, project, planned))
        .flatten();
    if let Some((_, _, findings)) = &lint {
        for file in &mut report.migrations {
            file.lint = findings
                .iter()
                .filter(|f| f.migration == file.migration)
                .cloned()
                .collect();
        }
    }
    if args.check {
        out.report(&report)?;
        return Ok(exit::CHECK_FAILED);
    }
    if args.dry_run {
        out.report(&report)?;
        return Ok(exit::OK);
    }
    for p in planned {
        // Names are identifiers and folders checked at load; this holds whatever
        // changed since.
        ctx.project.writable(&p.path)?;
        if p.path.exists() {
            return Err(CliError::Usage(format!(
                "{} already exists; not overwriting it",
                p.path.display()
            )));
        }
    }
    for p in planned {
        super::write_new_file(&p.path, &p.text()?)?;
    }
    report.written = true;
    if let Some((title, graph, findings)) = lint.filter(|(_, _, f)| !f.is_empty()) {
        // Advice for the person who runs it; in JSON it is in the report too.
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{title}");
        let _ = lint::write_findings(&graph, &findings, &mut err);
        let _ = writeln!(err, "{}", lint::summary(&findings));
    }
    out.report(&report)?;
    Ok(exit::OK)
}

/// The lint findings of the planned files, as they will be once written: offline,
/// for the configured database's dialect at its oldest supported version, with a
/// title and the graph that names their operations. Advice only: a finding (or a
/// project lint cannot read) never fails makemigrations, so `None` then.
fn lint_planned(
    ctx: &Context,
    project: &Project,
    planned: &[Planned],
) -> Option<(String, Graph, Vec<Finding>)> {
    let (backend, scheme) = ctx
        .registry
        .for_url(&ctx.project.settings.database.url)
        .ok()?;
    let dialect = backend.dialect(&scheme);
    let mut migrations: Vec<Migration> = project.migrations().cloned().collect();
    for p in planned {
        let text = p.text().ok()?;
        migrations.push(Migration::parse(&p.key.app, &p.path, &text).ok()?);
    }
    let graph = Graph::new_with_conflicts(
        project.apps.iter().map(|a| a.name.clone()).collect(),
        migrations,
    )
    .ok()?;
    let keys: Vec<MigrationKey> = planned.iter().map(|p| p.key.clone()).collect();
    let version = dialect.minimum_version();
    match lint::lint_keys(ctx, &graph, &keys, dialect.as_ref(), version, None) {
        Ok(findings) => {
            let title = format!("Lint ({} {version}, offline):", dialect.name());
            Some((title, graph, findings))
        }
        Err(e) => {
            tracing::debug!("lint of the new migrations skipped: {e}");
            None
        }
    }
}

/// stdout, and where the lines for people go: stdout too, or stderr when stdout
/// carries one JSON document for a tool.
struct Output<'a> {
    out: &'a mut dyn Write,
    json: bool,
    stderr: std::io::Stderr,
}

impl<'a> Output<'a> {
    fn new(out: &'a mut dyn Write, format: Format) -> Self {
        Self {
            out,
            json: format == Format::Json,
            stderr: std::io::stderr(),
        }
    }

    fn human(&mut self) -> &mut dyn Write {
        if self.json {
            &mut self.stderr
        } else {
            &mut *self.out
        }
    }

    /// The JSON document, in JSON mode (nothing in text mode).
    fn report(&mut self, report: &Report) -> Result<(), CliError> {
        if self.json {
            super::write_json(&mut *self.out, report)?;
        }
        Ok(())
    }
}

/// `makemigrations --format json` (schemas/output/makemigrations.schema.json).
#[derive(Serialize)]
struct Report {
    /// `write`, `check` or `dry_run`.
    mode: &'static str,
    /// Whether the files listed were written.
    written: bool,
    migrations: Vec<PlannedFile>,
    /// Questions that keep `--check` from knowing the operations (it exits 1).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unanswered: Vec<Unanswered>,
}

impl Report {
    fn new(args: &MakemigrationsArgs) -> Self {
        Self {
            mode: if args.check {
                "check"
            } else if args.dry_run {
                "dry_run"
            } else {
                "write"
            },
            written: false,
            migrations: Vec::new(),
            unanswered: Vec::new(),
        }
    }
}

/// One new migration file, with its operations as the file holds them.
#[derive(Serialize)]
struct PlannedFile {
    /// `app.NNNN_name`, as findings and dependencies name it.
    migration: String,
    app: String,
    name: String,
    /// Relative to the project folder.
    path: String,
    dependencies: Vec<String>,
    atomic: bool,
    safe: bool,
    operations: Vec<Operation>,
    data_loss: Vec<Loss>,
    lint: Vec<Finding>,
}

impl PlannedFile {
    fn new(p: &Planned, data_loss: Vec<Loss>) -> Self {
        Self {
            migration: p.key.to_string(),
            app: p.key.app.clone(),
            name: p.key.name.clone(),
            path: super::display_path(&p.path),
            dependencies: p.file.dependencies.clone(),
            atomic: p.file.atomic,
            safe: p.file.safe,
            operations: p.file.operations.clone(),
            data_loss,
            lint: Vec::new(),
        }
    }
}

/// Data one operation destroys (`! drops data: …` in the listing).
#[derive(Serialize)]
struct Loss {
    /// 1-based, as the file counts operations.
    operation: usize,
    /// `table`, `column` or `narrowing`.
    kind: &'static str,
    table: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<String>,
    message: String,
}

impl Loss {
    fn new(operation: usize, loss: &DataLoss) -> Self {
        let (kind, table, column) = match loss {
            DataLoss::Table { table } => ("table", table, None),
            DataLoss::Column { table, column } => ("column", table, Some(column.clone())),
            DataLoss::Narrowing { table, column, .. } => ("narrowing", table, Some(column.clone())),
        };
        Self {
            operation,
            kind,
            table: table.clone(),
            column,
            message: loss.to_string(),
        }
    }
}

/// A question `--check` could not answer, and the flag that answers it.
#[derive(Serialize)]
struct Unanswered {
    /// `rename`, `default` (a new NOT NULL column) or `not_null` (a column that
    /// becomes NOT NULL: `--default` or `--no-nulls` answers it).
    question: &'static str,
    /// `app.Model.field` (or `table.column`), `app.Model` for a table.
    subject: String,
    /// A rename's new name.
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<String>,
    /// The flag that answers it, e.g. `--rename tracker.Transaction.desc=description`.
    answer: String,
}

/// Holds the project's makemigrations lock (on its `strata.toml`, so no lock file
/// is left behind) until the returned file is dropped; says so when it must wait.
fn lock_project(project: &Project) -> Result<std::fs::File, CliError> {
    let path = project.root.join(CONFIG_FILE);
    let cannot = |e: std::io::Error| {
        CliError::Usage(format!(
            "{}: cannot lock it for makemigrations: {e}",
            path.display()
        ))
    };
    let file = std::fs::File::open(&path).map_err(cannot)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let _ = writeln!(
                std::io::stderr(),
                "Waiting for another makemigrations of this project to finish..."
            );
            file.lock().map_err(cannot)?;
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(cannot(e)),
    }
    Ok(file)
}

/// Why nothing was written: the planned migrations destroy data that no one
/// confirmed losing, and how to confirm it.
fn destructive_help(losses: &[(MigrationKey, DataLoss)], asked: bool) -> String {
    let mut text = String::from(if asked {
        "nothing written: the loss of data was not confirmed:\n"
    } else {
        "these migrations would destroy data, and makemigrations never writes that without being told:\n"
    });
    for (key, loss) in losses {
        let _ = writeln!(text, "  {key} {loss}");
    }
    text.push_str("confirm on a terminal, or non-interactively:\n");
    text.push_str("  strata makemigrations --allow-destructive\n");
    text.push_str(
        "(a field or model that was renamed keeps its data: answer with --rename instead)",
    );
    text
}

/// Questions no one could answer: with --check, proof that migrations are due;
/// otherwise, how to answer them.
fn unanswered(
    args: &MakemigrationsArgs,
    e: AutodetectError,
    not_null: &[(String, String)],
    models: &models::Models,
    out: &mut Output,
) -> Result<u8, CliError> {
    let (heading, questions) = match (e, args.check) {
        (AutodetectError::UnresolvedRenames(open), true) => (
            "Migrations are needed; likely renames still need an answer:",
            open.iter()
                .map(|c| Unanswered {
                    question: "rename",
                    subject: rename_label(c, models),
                    to: Some(c.to.clone()),
                    answer: format!("--rename {}", rename_spec(c, models)),
                })
                .collect::<Vec<_>>(),
        ),
        (AutodetectError::NeedsDefault(missing), true) => (
            if not_null.is_empty() {
                "Migrations are needed; new NOT NULL columns need a one-off default:"
            } else {
                "Migrations are needed; new NOT NULL columns need a one-off default, and columns that become NOT NULL a value for their NULL rows (or --no-nulls):"
            },
            missing
                .iter()
                .map(|(table, column)| Unanswered {
                    question: "default",
                    subject: models.column_label(table, column),
                    to: None,
                    answer: format!("--default {}=VALUE", models.column_label(table, column)),
                })
                .chain(not_null_questions(not_null, models))
                .collect(),
        ),
        (AutodetectError::NeedsNotNullAnswer(missing), true) => (
            "Migrations are needed; columns that become NOT NULL need a value for their NULL rows (or --no-nulls):",
            not_null_questions(&missing, models).collect(),
        ),
        (AutodetectError::NeedsNotNullAnswer(missing), false) => {
            return Err(CliError::NeedsInput(not_null_help(&missing, models)))
        }
        (AutodetectError::UnresolvedRenames(open), false) => {
            return Err(CliError::NeedsInput(rename_help(&open, models)))
        }
        (AutodetectError::NeedsDefault(missing), false) => {
            let mut help = default_help(&missing, models);
            if !not_null.is_empty() {
                help.push_str("\nand ");
                help.push_str(&not_null_help(not_null, models));
            }
            return Err(CliError::NeedsInput(help));
        }
        (e, _) => return Err(MakeError::from(e).into()),
    };
    writeln!(out.human(), "{heading}")?;
    for q in &questions {
        match &q.to {
            Some(to) => writeln!(out.human(), "  {} -> {to}", q.subject)?,
            None => writeln!(out.human(), "  {}", q.subject)?,
        }
    }
    let mut report = Report::new(args);
    report.unanswered = questions;
    out.report(&report)?;
    Ok(exit::CHECK_FAILED)
}

/// `--rename app.Model.old=new`, `--rename app.Old=New`, or by table names:
/// `--rename table.old_column=new_column`, `--rename old_table=new_table`.
fn parse_rename(spec: &str, models: &models::Models) -> Result<AcceptedRename, CliError> {
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
            Ok(AcceptedRename::column(table, from, to))
        }
        [app, model]
            if models.table_of(app, model).is_none() && models.table_of(app, to).is_some() =>
        {
            // app.OldModel=NewModel: the old model is gone from models.toml, so its
            // table has the default name.
            let old = format!("{app}_{}", model.to_lowercase());
            let new = models.table_of(app, to).unwrap_or_else(|| to.to_string());
            Ok(AcceptedRename::table(old, new))
        }
        [table, column] => Ok(AcceptedRename::column(
            table.to_string(),
            column.to_string(),
            to.to_string(),
        )),
        [table] if !to.is_empty() => Ok(AcceptedRename::table(table.to_string(), to.to_string())),
        _ => Err(bad()),
    }
}

fn rename_help(open: &[RenameCandidate], models: &models::Models) -> String {
    let mut text = String::from(
        "these look like renames, and makemigrations never turns a likely rename into drop + add (which loses the data) without being told:\n",
    );
    for c in open {
        let _ = writeln!(
            text,
            "  {} -> {}   ({c}, similarity {:.2})",
            rename_label(c, models),
            c.to,
            c.score
        );
    }
    text.push_str("answer on a terminal, or non-interactively:\n");
    for c in open {
        let _ = writeln!(
            text,
            "  strata makemigrations --rename {}",
            rename_spec(c, models)
        );
    }
    text.push_str("  strata makemigrations --no-rename     (drop and add: the old data is lost)");
    text
}

/// The `--rename` value that accepts `c`: `app.Model.old=new` where the models name
/// the column, else by table names.
fn rename_spec(c: &RenameCandidate, models: &models::Models) -> String {
    match c.kind {
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
    }
}

fn default_help(missing: &[(String, String)], models: &models::Models) -> String {
    let mut text = String::from(
        "columns added NOT NULL without a default to tables that exist need a value for the rows already there:\n",
    );
    for (table, column) in missing {
        let _ = writeln!(text, "  {}", models.column_label(table, column));
    }
    text.push_str("give them a default (or `null = true`) in models.toml, answer on a terminal, or non-interactively:\n");
    for (table, column) in missing {
        let _ = writeln!(
            text,
            "  strata makemigrations --default {}=VALUE",
            models.column_label(table, column)
        );
    }
    text.push_str(
        "VALUE: for a text column the text as it is (currency=USD), else a TOML literal (0, 1.5, true, \"2024-01-01\")",
    );
    text
}

/// The `not_null` questions of `missing`, each with both flags that answer it.
fn not_null_questions<'a>(
    missing: &'a [(String, String)],
    models: &'a models::Models,
) -> impl Iterator<Item = Unanswered> + 'a {
    missing.iter().map(|(table, column)| {
        let label = models.column_label(table, column);
        Unanswered {
            question: "not_null",
            subject: label.clone(),
            to: None,
            answer: format!("--default {label}=VALUE or --no-nulls {label}"),
        }
    })
}

/// Why a nullable field cannot become NOT NULL without an answer, and the two ways
/// to give one.
fn not_null_help(missing: &[(String, String)], models: &models::Models) -> String {
    let mut text = String::from(
        "it is impossible to change a nullable field to NOT NULL without a value for the rows where it is NULL (the migration would fail on them):\n",
    );
    for (table, column) in missing {
        let _ = writeln!(text, "  {}", models.column_label(table, column));
    }
    text.push_str(
        "give it a literal default in models.toml (it fills them), answer on a terminal, or non-interactively:\n",
    );
    for (table, column) in missing {
        let label = models.column_label(table, column);
        let _ = writeln!(
            text,
            "  strata makemigrations --default {label}=VALUE   (the NULL rows get VALUE, by a backfill before the change)"
        );
        let _ = writeln!(
            text,
            "  strata makemigrations --no-nulls {label}   (there are none, or you fill them yourself first)"
        );
    }
    text.push_str(
        "VALUE: for a text column the text as it is (status=new), else a TOML literal (0, 1.5, true, \"2024-01-01\")",
    );
    text
}

/// `--no-nulls app.Model.field` (or `table.column`): a column of the models.
fn parse_no_nulls(
    spec: &str,
    models: &models::Models,
    new: &strata_engine::SchemaState,
) -> Result<(String, String), CliError> {
    let bad = |why: &str| CliError::Usage(format!("--no-nulls `{spec}`: {why}"));
    let parts: Vec<&str> = spec.split('.').collect();
    let (table, column) = match parts.as_slice() {
        [app, model, field] => {
            let table = models
                .table_of(app, model)
                .ok_or_else(|| bad(&format!("no model {app}.{model} in models.toml")))?;
            let column = models
                .column_of(&table, field)
                .unwrap_or_else(|| field.to_string());
            (table, column)
        }
        [table, column] => (table.to_string(), column.to_string()),
        _ => return Err(bad("expected app.Model.field (or table.column)")),
    };
    let exists = new
        .tables
        .get(&table)
        .is_some_and(|t| t.column(&column).is_some());
    if !exists {
        return Err(bad("no such column in the models"));
    }
    Ok((table, column))
}

/// `--default app.Model.field=VALUE` (or `table.column=VALUE`, as `--rename` takes
/// them). VALUE is a TOML literal (`0`, `true`, `"USD"`); for a text column, a value
/// that is no literal of the column's type is the text itself (`USD`), so a shell
/// needs no nested quotes.
fn parse_default(
    spec: &str,
    models: &models::Models,
    new: &strata_engine::SchemaState,
) -> Result<(String, String, DefaultValue), CliError> {
    let bad = |why: &str| CliError::Usage(format!("--default `{spec}`: {why}"));
    let expected = "expected app.Model.field=VALUE (or table.column=VALUE)";
    let (left, value) = spec.split_once('=').ok_or_else(|| bad(expected))?;
    let parts: Vec<&str> = left.split('.').collect();
    let (table, column) = match parts.as_slice() {
        [app, model, field] => {
            let table = models
                .table_of(app, model)
                .ok_or_else(|| bad(&format!("no model {app}.{model} in models.toml")))?;
            let column = models
                .column_of(&table, field)
                .unwrap_or_else(|| field.to_string());
            (table, column)
        }
        [table, column] => (table.to_string(), column.to_string()),
        _ => return Err(bad(expected)),
    };
    let ty = new
        .tables
        .get(&table)
        .and_then(|t| t.column(&column))
        .map(|c| c.ty)
        .ok_or_else(|| bad("no such column in the models"))?;
    let text = value;
    let literal = DefaultValue::parse_literal(text).filter(|v| default_fits(v, ty));
    let value = match literal {
        Some(v) => v,
        None if ty.is_textual() => DefaultValue::Text(text.to_string()),
        None => {
            let article = if ty.to_string().starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            return Err(bad(&format!("`{text}` is not {article} {ty} literal")));
        }
    };
    if let DefaultValue::Float(x) = value {
        if !same_number(text, x) {
            return Err(bad(&format!(
                "{x} is the nearest value a default can hold (a 64-bit float: 15 to 17 significant digits); give that, or fewer digits, so that existing rows get exactly what you typed"
            )));
        }
    }
    Ok((table, column, value))
}

/// Whether the number typed as `text` is exactly `x` (a default is kept as a 64-bit
/// float: more digits than it holds would be silently rounded).
fn same_number(text: &str, x: f64) -> bool {
    fn normal(text: &str) -> String {
        let text = text.trim().trim_start_matches('+').replace('_', "");
        let (sign, digits) = match text.strip_prefix('-') {
            Some(rest) => ("-", rest.to_string()),
            None => ("", text),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((&digits, ""));
        let int = int.trim_start_matches('0');
        let frac = frac.trim_end_matches('0');
        format!("{sign}{}.{frac}", if int.is_empty() { "0" } else { int })
    }
    // Exponents are TOML's too; compare them as the float they denote, printed out.
    if text.contains(['e', 'E']) {
        return text
            .trim()
            .parse::<f64>()
            .is_ok_and(|t| t.to_bits() == x.to_bits());
    }
    normal(text) == normal(&format!("{x}"))
}

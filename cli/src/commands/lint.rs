//! `strata lint [APP [NAME]]`: what migrations would do to a live database — locks,
//! rewrites, code they break, data they lose — rule by rule. Offline with
//! `--dialect` (every migration of the selection); otherwise against the configured
//! database, its version and its tables' row counts (the migrations not applied yet).
//! `migrate` and `makemigrations` lint with the same functions.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use strata_engine::dialect::driver::Driver;
use strata_engine::executor;
use strata_engine::graph::Graph;
use strata_engine::lint::{self, Finding, Severity, Target};
use strata_engine::migration::{Migration, MigrationKey};
use strata_engine::{Dialect, Operation, ServerVersion};

use crate::args::{Format, LintArgs};
use crate::context::Context;
use crate::database;
use crate::error::{exit, CliError};

pub(crate) async fn run(
    ctx: &Context,
    args: &LintArgs,
    format: Format,
    out: &mut dyn Write,
) -> Result<u8, CliError> {
    lint::check_settings_rules(&ctx.project)?;
    let (findings, graph) = if args.dialect.is_some() {
        let (dialect, version) =
            database::render_target(ctx, args.dialect.as_deref(), args.server_version.as_deref())
                .await?;
        let keys = selection(ctx, args, &BTreeSet::new())?;
        let findings = lint_keys(ctx, &ctx.graph, &keys, dialect.as_ref(), version, None)?;
        (findings, &ctx.graph)
    } else {
        let mut driver = database::connect_existing(ctx).await?;
        let dialect = driver.dialect();
        let version = match &args.server_version {
            Some(v) => v
                .parse::<ServerVersion>()
                .map_err(|e| CliError::Usage(format!("--server-version: {e}")))?,
            None => driver.version(),
        };
        let status = executor::status(driver.as_mut(), &database::options(ctx)).await?;
        let keys = selection(ctx, args, &status.applied())?;
        let rows = row_counts(ctx, &ctx.graph, driver.as_mut(), &keys).await?;
        driver.close().await?;
        let findings = lint_keys(
            ctx,
            &ctx.graph,
            &keys,
            dialect.as_ref(),
            version,
            Some(&rows),
        )?;
        (findings, &ctx.graph)
    };
    match format {
        Format::Json => {
            super::write_json(out, &findings)?;
        }
        Format::Text => {
            write_findings(graph, &findings, out)?;
            writeln!(out, "{}", summary(&findings))?;
        }
    }
    Ok(if has_errors(&findings) {
        exit::CHECK_FAILED
    } else {
        exit::OK
    })
}

/// The migrations `args` selects, in run order: that one (APP NAME), or those of the
/// app (APP), or all, leaving out the `applied` ones unless one is named.
fn selection(
    ctx: &Context,
    args: &LintArgs,
    applied: &BTreeSet<MigrationKey>,
) -> Result<Vec<MigrationKey>, CliError> {
    if let (Some(app), Some(name)) = (&args.app, &args.name) {
        return Ok(vec![ctx.graph.resolve(app, name)?]);
    }
    if let Some(app) = &args.app {
        // An unknown app is refused as migrate refuses it.
        ctx.graph.target(app, None)?;
    }
    Ok(ctx
        .graph
        .ordered()
        .filter(|m| args.app.as_ref().is_none_or(|app| &m.key.app == app))
        .filter(|m| !applied.contains(&m.key))
        .map(|m| m.key.clone())
        .collect())
}

/// The findings of `keys` (in order), each rendered from the schema its
/// dependencies build, after checking their `[[lint.allow]]` names rules.
pub(crate) fn lint_keys(
    ctx: &Context,
    graph: &Graph,
    keys: &[MigrationKey],
    dialect: &dyn Dialect,
    version: ServerVersion,
    rows: Option<&BTreeMap<String, u64>>,
) -> Result<Vec<Finding>, CliError> {
    let target = Target {
        dialect,
        version,
        rows,
    };
    for key in keys {
        lint::check_migration_rules(graph.get(key).expect("selected keys exist"))?;
    }
    // Each against the schema before it, all in one pass over the history.
    let mut found: BTreeMap<MigrationKey, Result<Vec<Finding>, CliError>> = BTreeMap::new();
    let wanted: BTreeSet<MigrationKey> = keys.iter().cloned().collect();
    graph.each_state_before(&wanted, |m, before| {
        let result = lint::lint_migration(
            m,
            before,
            database::mode(ctx, m),
            &target,
            &ctx.project.settings.lint,
        )
        .map_err(|source| CliError::Script {
            migration: m.key.clone(),
            path: m.path.clone(),
            source,
        });
        found.insert(m.key.clone(), result);
    })?;
    let mut findings = Vec::new();
    for key in keys {
        findings.extend(found.remove(key).transpose()?.into_iter().flatten());
    }
    Ok(findings)
}

/// The live row counts of the tables `keys` work on, as the driver estimates them;
/// none when they cannot be read.
pub(crate) async fn row_counts(
    ctx: &Context,
    graph: &Graph,
    driver: &mut dyn Driver,
    keys: &[MigrationKey],
) -> Result<BTreeMap<String, u64>, CliError> {
    let existing: BTreeSet<String> = driver.table_names().await?.into_iter().collect();
    let history = &ctx.project.settings.database.history_table;
    let tables: Vec<String> = keys
        .iter()
        .filter_map(|k| graph.get(k))
        .flat_map(|m: &Migration| m.operations.iter().flat_map(Operation::locked_tables))
        .filter(|t| existing.contains(t) && t != history)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if tables.is_empty() {
        return Ok(BTreeMap::new());
    }
    // Sizes only scale findings: when they cannot be read (another process's
    // migration renamed a table in between, a user without the rights), lint goes on
    // without them, at each rule's base severity.
    Ok(driver.table_rows(&tables).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "could not read the tables' row counts; lint goes on without them");
        BTreeMap::new()
    }))
}

pub(crate) fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

/// One block per finding: `error[rule] app.0002_x op 3 (Create index …): message`,
/// then its why and fix.
pub(crate) fn write_findings(
    graph: &Graph,
    findings: &[Finding],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for f in findings {
        writeln!(out, "{}", headline(graph, f))?;
        if let Some(rule) = lint::rule(f.rule) {
            writeln!(out, "  why: {}", rule.why)?;
        }
        writeln!(out, "  fix: {}", f.fix)?;
    }
    Ok(())
}

/// `error[rule] app.0002_x op 3 (Create index …): message`.
pub(crate) fn headline(graph: &Graph, f: &Finding) -> String {
    let at = match MigrationKey::parse(&f.migration)
        .and_then(|k| graph.get(&k))
        .and_then(|m| m.operations.get(f.operation.wrapping_sub(1)))
    {
        Some(op) => format!(" op {} ({op})", f.operation),
        None => String::new(),
    };
    format!(
        "{}[{}] {}{at}: {}",
        f.severity, f.rule, f.migration, f.message
    )
}

/// `3 findings: 1 error, 1 warning, 1 info`, or that there are none.
pub(crate) fn summary(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "No lint findings.".into();
    }
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    format!(
        "{} finding(s): {} error(s), {} warning(s), {} info",
        findings.len(),
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    )
}

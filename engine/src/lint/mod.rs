//! `strata lint`: findings about what a migration does to a live database — locks,
//! rewrites, broken running code, lost data — each from a rule with a stable id
//! ([`RULES`]), a severity, a reason and a safer way.
//!
//! Lock and rewrite rules read what the dialect says each rendered statement does
//! ([`Dialect::explain`]), so what a server really does stays in its dialect crate;
//! semantic rules read the operations and the schema state. Operations on tables the
//! migration itself creates never produce lock or rewrite findings: nobody uses them
//! yet.

mod checks;
mod config;
mod rules;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::dialect::{Dialect, ServerVersion};
use crate::migration::Migration;
use crate::project::LintSettings;
use crate::script::{self, Direction, Mode, Script, ScriptError};
use crate::state::SchemaState;

pub use config::{check_migration_rules, check_settings_rules};
pub use rules::RULES;

/// How bad a finding is; `Error` fails `strata lint` and stops `migrate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// One rule: what it finds, why that hurts, what to do instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Stable, kebab-case: what `[lint]` and `[[lint.allow]]` name.
    pub id: &'static str,
    /// The severity before scaling and settings.
    pub severity: Severity,
    pub summary: &'static str,
    pub why: &'static str,
    pub fix: &'static str,
    /// With live row counts, the severity follows the table's size: below
    /// `small_table_rows` Info, from `large_table_rows` on Error.
    pub size_scaled: bool,
}

/// The rule called `id`.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// The database a migration is judged for.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    pub dialect: &'a dyn Dialect,
    pub version: ServerVersion,
    /// live row counts of tables (None offline)
    pub rows: Option<&'a BTreeMap<String, u64>>,
}

/// One finding, as `strata lint --format json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `app.name`.
    pub migration: String,
    /// The operation's number in the file, from 1; 0 for the migration as a whole.
    pub operation: usize,
    pub rule: &'static str,
    pub severity: Severity,
    pub dialect: String,
    pub server_version: String,
    pub table: Option<String>,
    /// The table's live row count, when known.
    pub rows: Option<u64>,
    pub message: String,
    pub fix: String,
}

/// What a check found, before severity and suppression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Raw {
    pub rule: &'static str,
    /// 1-based; 0 for the whole migration.
    pub operation: usize,
    pub table: Option<String>,
    pub message: String,
}

/// The findings of `m`, rendered forward from `before` (the schema its dependencies
/// build) for `target`, after `settings` and the migration's own `[[lint.allow]]`.
/// Ordered by operation, then rule order.
pub fn lint_migration(
    m: &Migration,
    before: &SchemaState,
    mode: Mode,
    target: &Target,
    settings: &LintSettings,
) -> Result<Vec<Finding>, ScriptError> {
    let (script, _) = script::render_explained(
        target.dialect,
        target.version,
        before,
        &m.operations,
        mode,
        Direction::Forward,
    )?;
    Ok(lint_rendered(m, before, &script, mode, target, settings))
}

/// `lint_migration` of a script already rendered forward with its lock notes
/// ([`script::render_explained`]), as `sqlmigrate --explain` has it.
pub fn lint_rendered(
    m: &Migration,
    before: &SchemaState,
    script: &Script,
    mode: Mode,
    target: &Target,
    settings: &LintSettings,
) -> Vec<Finding> {
    let mut raw = checks::run(&m.operations, before, script, mode, target);
    raw.sort_by_key(|r| (r.operation, RULES.iter().position(|x| x.id == r.rule)));
    raw.into_iter()
        .filter_map(|r| judge(m, r, target, settings))
        .collect()
}

/// The finding `raw` becomes: its severity scaled and set by the project, or `None`
/// when the project or the migration accepts it.
fn judge(m: &Migration, raw: Raw, target: &Target, settings: &LintSettings) -> Option<Finding> {
    let rule = rule(raw.rule).expect("checks only report known rules");
    let named = |list: &[String]| list.iter().any(|id| id == rule.id);
    if named(&settings.allow) {
        return None;
    }
    // A migration-wide finding (operation 0) is accepted by an entry for any operation.
    let accepted = m
        .lint
        .allow
        .iter()
        .filter(|a| raw.operation == 0 || a.operation == raw.operation)
        .any(|a| named(&a.rules));
    if accepted {
        return None;
    }
    let rows = raw
        .table
        .as_ref()
        .and_then(|t| target.rows.and_then(|rows| rows.get(t).copied()));
    let mut severity = scaled(rule, rows, settings);
    if named(&settings.warn) {
        severity = severity.min(Severity::Warning);
    }
    if named(&settings.error) {
        severity = Severity::Error;
    }
    Some(Finding {
        migration: m.key.to_string(),
        operation: raw.operation,
        rule: rule.id,
        severity,
        dialect: target.dialect.name().to_string(),
        server_version: target.version.to_string(),
        table: raw.table,
        rows,
        message: raw.message,
        fix: rule.fix.to_string(),
    })
}

/// The rule's severity for a table of `rows` rows (unknown offline).
fn scaled(rule: &Rule, rows: Option<u64>, settings: &LintSettings) -> Severity {
    match rows {
        Some(rows) if rule.size_scaled && rows < settings.small_table_rows => Severity::Info,
        Some(rows) if rule.size_scaled && rows >= settings.large_table_rows => Severity::Error,
        _ => rule.severity,
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn rule_ids_are_unique_and_kebab_case() {
        let mut seen = std::collections::BTreeSet::new();
        for r in RULES {
            assert!(seen.insert(r.id), "{} twice", r.id);
            assert!(
                r.id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                r.id
            );
        }
        assert!(RULES.len() >= 20, "{}", RULES.len());
    }

    #[test]
    fn size_scales_only_scaled_rules() {
        let settings = LintSettings {
            small_table_rows: 10,
            large_table_rows: 100,
            ..LintSettings::default()
        };
        let scaled_rule = rule("create-index-blocking").unwrap();
        assert_eq!(scaled(scaled_rule, Some(9), &settings), Severity::Info);
        assert_eq!(scaled(scaled_rule, Some(10), &settings), Severity::Warning);
        assert_eq!(scaled(scaled_rule, Some(100), &settings), Severity::Error);
        assert_eq!(scaled(scaled_rule, None, &settings), Severity::Warning);
        let fixed = rule("rename-column").unwrap();
        assert_eq!(scaled(fixed, Some(1000), &settings), Severity::Warning);
    }
}

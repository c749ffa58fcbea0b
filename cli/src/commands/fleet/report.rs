//! What a fleet run says: a line per tenant as it finishes, the `--report` file (a
//! JSON line per tenant, written and flushed as each finishes, so that a crash
//! leaves the finished ones), and the summary (text, or the `--format json`
//! document). Tenants are named by their redacted URL only, and error messages are
//! redacted too: a driver may quote the URL it was given.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use strata_engine::dialect::url::redact_text;

use super::tenants::Tenant;
use crate::commands::migrate::json::millis;
use crate::error::CliError;

/// How a tenant's turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// Migrations ran (`migrate`), or its history was read (`showmigrations`).
    Ok,
    /// Nothing to do, found without taking the lock.
    UpToDate,
    Failed,
    /// Stopped by SIGINT or SIGTERM while it ran: rolled back or checkpointed.
    Interrupted,
    NotStarted,
}

impl Outcome {
    fn word(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::UpToDate => "up to date",
            Outcome::Failed => "FAILED",
            Outcome::Interrupted => "INTERRUPTED",
            Outcome::NotStarted => "not started",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Failure {
    pub exit_code: u8,
    pub message: String,
}

/// One tenant, as the report and the JSON summary record it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Record {
    /// The redacted URL.
    pub tenant: String,
    /// Its line in the tenants file.
    pub line: usize,
    pub outcome: Outcome,
    /// `migrate`: migrations applied and unapplied by this run; `showmigrations`:
    /// applied and pending in the database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unapplied: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<usize>,
    pub elapsed_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Failure>,
}

impl Record {
    pub(crate) fn new(tenant: &Tenant, outcome: Outcome, elapsed: Duration) -> Self {
        Self {
            tenant: tenant.shown.clone(),
            line: tenant.line,
            outcome,
            applied: None,
            unapplied: None,
            pending: None,
            elapsed_ms: millis(elapsed),
            error: None,
        }
    }

    pub(crate) fn failed(tenant: &Tenant, e: &CliError, elapsed: Duration) -> Self {
        Self::ended(tenant, Outcome::Failed, e, elapsed)
    }

    pub(crate) fn interrupted(tenant: &Tenant, e: &CliError, elapsed: Duration) -> Self {
        Self::ended(tenant, Outcome::Interrupted, e, elapsed)
    }

    fn ended(tenant: &Tenant, outcome: Outcome, e: &CliError, elapsed: Duration) -> Self {
        Self {
            error: Some(Failure {
                exit_code: e.exit_code(),
                message: redact_text(&e.to_string()),
            }),
            ..Self::new(tenant, outcome, elapsed)
        }
    }

    /// The tenant's progress line: `[ 17/1000] ok  <url>  2 applied, 0.21s`.
    fn line(&self, finished: usize, total: usize) -> String {
        let width = total.to_string().len();
        let mut counts = Vec::new();
        if let Some(n) = self.applied {
            counts.push(format!("{n} applied"));
        }
        if let Some(n) = self.unapplied.filter(|n| *n > 0) {
            counts.push(format!("{n} unapplied"));
        }
        if let Some(n) = self.pending {
            counts.push(format!("{n} pending"));
        }
        #[allow(clippy::cast_precision_loss)] // seconds to show
        counts.push(format!("{:.2}s", self.elapsed_ms as f64 / 1000.0));
        let mut line = format!(
            "[{finished:>width$}/{total}] {:<11} {}  {}",
            self.outcome.word(),
            self.tenant,
            counts.join(", ")
        );
        if let Some(e) = &self.error {
            // One line per tenant: a multi-line message is joined.
            let message: Vec<&str> = e.message.lines().map(str::trim).collect();
            let _ = write!(line, ": {}", message.join(" "));
        }
        line
    }
}

/// The counts of a run.
#[derive(Debug, Default, Clone, Serialize)]
pub(crate) struct Totals {
    pub tenants: usize,
    pub ok: usize,
    pub up_to_date: usize,
    pub failed: usize,
    pub interrupted: usize,
    pub not_started: usize,
}

/// Collects the records as tenants finish: prints their lines, appends them to the
/// report file, and keeps them for the summary.
pub(crate) struct Ledger<'a> {
    total: usize,
    records: Vec<Record>,
    report: Option<(PathBuf, File)>,
    /// Where the progress lines go; `None` with `--quiet`.
    lines: Option<&'a mut dyn Write>,
}

impl<'a> Ledger<'a> {
    /// Creates (or empties) the report file first: a path that cannot be written is
    /// found before any tenant is touched. The tenants file is never emptied: a
    /// report path naming it (a slip of the shell) is refused.
    pub(crate) fn new(
        total: usize,
        report: Option<&Path>,
        tenants: &Path,
        lines: Option<&'a mut dyn Write>,
    ) -> Result<Self, CliError> {
        let report = report
            .map(|path| {
                if same_file(path, tenants) {
                    return Err(CliError::Usage(format!(
                        "{}: --report names the tenants file; writing the report would empty it",
                        path.display()
                    )));
                }
                File::create(path)
                    .map(|f| (path.to_path_buf(), f))
                    .map_err(|e| report_error(path, &e))
            })
            .transpose()?;
        Ok(Self {
            total,
            records: Vec::with_capacity(total),
            report,
            lines,
        })
    }

    pub(crate) fn record(&mut self, record: Record) -> Result<(), CliError> {
        if let Some((path, file)) = &mut self.report {
            let mut line = serde_json::to_string(&record).map_err(std::io::Error::from)?;
            line.push('\n');
            // One write per line, flushed: what a crash leaves is whole lines.
            file.write_all(line.as_bytes())
                .and_then(|()| file.flush())
                .map_err(|e| report_error(path, &e))?;
        }
        if let Some(out) = &mut self.lines {
            writeln!(out, "{}", record.line(self.records.len() + 1, self.total))?;
        }
        self.records.push(record);
        Ok(())
    }

    /// The counts, and the records in the tenants file's order.
    pub(crate) fn close(mut self) -> (Totals, Vec<Record>) {
        let totals = self.totals();
        self.records.sort_by_key(|r| r.line);
        (totals, self.records)
    }

    fn totals(&self) -> Totals {
        let count = |o: Outcome| self.records.iter().filter(|r| r.outcome == o).count();
        Totals {
            tenants: self.total,
            ok: count(Outcome::Ok),
            up_to_date: count(Outcome::UpToDate),
            failed: count(Outcome::Failed),
            interrupted: count(Outcome::Interrupted),
            not_started: count(Outcome::NotStarted),
        }
    }
}

/// Whether `a` and `b` are one file (through links and `..` too); a path that does
/// not exist yet is no file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn report_error(path: &Path, e: &std::io::Error) -> CliError {
    CliError::Usage(format!("{}: cannot write the report: {e}", path.display()))
}

/// The `--format json` document.
#[derive(Serialize)]
pub(crate) struct Summary {
    #[serde(flatten)]
    pub totals: Totals,
    pub elapsed_ms: u64,
    pub results: Vec<Record>,
}

/// The text summary after the lines: the counts, then each failure and interruption
/// in full.
pub(crate) fn write_summary(
    out: &mut dyn Write,
    totals: &Totals,
    ok_word: &str,
    records: &[Record],
    elapsed: Duration,
) -> std::io::Result<()> {
    let interrupted = match totals.interrupted {
        0 => String::new(),
        n => format!(", {n} interrupted"),
    };
    writeln!(
        out,
        "{} tenants: {} {ok_word}, {} up to date, {} failed{interrupted}, {} not started ({:.1}s)",
        totals.tenants,
        totals.ok,
        totals.up_to_date,
        totals.failed,
        totals.not_started,
        elapsed.as_secs_f64()
    )?;
    for r in records {
        let word = match r.outcome {
            Outcome::Failed => "failed",
            Outcome::Interrupted => "interrupted",
            _ => continue,
        };
        if let Some(e) = &r.error {
            let message = e.message.replace('\n', "\n    ");
            writeln!(out, "  {word}: {} (line {}): {message}", r.tenant, r.line)?;
        }
    }
    Ok(())
}

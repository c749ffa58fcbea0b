//! What a rehearsal saw, operation by operation, and how it is shown: a line per
//! operation, or one JSON document (`--format json`, docs/rehearsal.md).

use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::Serialize;
use strata_engine::dialect::rehearsal::{CopyMethod, RehearsalCopy};

use super::json::Direction;

/// Every step the rehearsal started, and the operation running now.
#[derive(Debug, Default)]
pub(super) struct Log {
    pub(super) steps: Vec<StepLog>,
    /// The running operation of the last step (0-based, run order).
    pub(super) current: Option<usize>,
}

/// The log, shared by the observer (which hears operations start) and the probe
/// (which sees their statements).
pub(super) type SharedLog = std::sync::Arc<Mutex<Log>>;

pub(super) fn lock(log: &Mutex<Log>) -> MutexGuard<'_, Log> {
    log.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Log {
    /// Operation `index` of the last step, made if it is not known yet.
    pub(super) fn op_mut(&mut self, index: usize) -> Option<&mut OpLog> {
        let step = self.steps.last_mut()?;
        while step.operations.len() <= index {
            let number = step.operations.len() + 1;
            step.operations.push(OpLog::new(number, String::new()));
        }
        step.operations.get_mut(index)
    }

    /// The running operation, if any.
    pub(super) fn current_mut(&mut self) -> Option<&mut OpLog> {
        let index = self.current?;
        self.op_mut(index)
    }
}

#[derive(Debug, Serialize)]
pub(super) struct StepLog {
    pub(super) migration: String,
    pub(super) direction: Direction,
    pub(super) operations: Vec<OpLog>,
}

/// One operation as it ran on the copy.
#[derive(Debug, Serialize)]
pub(super) struct OpLog {
    /// 1-based, in run order.
    pub(super) index: usize,
    pub(super) description: String,
    /// The table measured: the first the operation locks that existed before it.
    pub(super) table: Option<String>,
    /// Time in the operation's statements, fractions of a millisecond included.
    pub(super) duration_ms: f64,
    /// The table's rows before the operation, or the rows a backfill updated.
    pub(super) rows: Option<u64>,
    /// Whether the table's storage changed (`None`: the server cannot tell, or no
    /// table was measured).
    pub(super) rewrote: Option<bool>,
    /// The locks its statements take (as `sqlmigrate --explain` names them).
    pub(super) locks: Vec<String>,
    pub(super) error: Option<String>,
    /// It took longer than `--max-duration`.
    pub(super) exceeded: bool,
    /// Its change is made by the statements of operation `n` (coalesced).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) carried_by: Option<usize>,
    #[serde(skip)]
    pub(super) tables: Vec<String>,
    #[serde(skip)]
    pub(super) elapsed: Duration,
    #[serde(skip)]
    pub(super) storage_before: Option<String>,
    #[serde(skip)]
    pub(super) storage_after: Option<String>,
    #[serde(skip)]
    pub(super) backfill_rows: Option<u64>,
}

impl OpLog {
    pub(super) fn new(index: usize, description: String) -> Self {
        Self {
            index,
            description,
            table: None,
            duration_ms: 0.0,
            rows: None,
            rewrote: None,
            locks: Vec::new(),
            error: None,
            exceeded: false,
            carried_by: None,
            tables: Vec::new(),
            elapsed: Duration::ZERO,
            storage_before: None,
            storage_after: None,
            backfill_rows: None,
        }
    }

    /// The measurements turned into the report's fields.
    fn settle(&mut self, limit: Option<Duration>) {
        self.duration_ms = self.elapsed.as_secs_f64() * 1000.0;
        if self.backfill_rows.is_some() {
            self.rows = self.backfill_rows;
        }
        self.rewrote = match (&self.storage_before, &self.storage_after) {
            (Some(before), Some(after)) => Some(before != after),
            _ => None,
        };
        self.exceeded = limit.is_some_and(|limit| self.elapsed > limit);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Outcome {
    Ok,
    Failed,
}

#[derive(Debug, Serialize)]
pub(super) struct CopyReport {
    /// The copy as its server names it (a SQLite file: its path).
    pub(super) name: String,
    pub(super) method: CopyMethod,
    pub(super) sample: Option<u64>,
    pub(super) dropped: bool,
}

/// The document of `migrate --rehearse --format json`.
#[derive(Debug, Serialize)]
pub(super) struct Report {
    pub(super) outcome: Outcome,
    pub(super) copy: CopyReport,
    pub(super) max_duration_ms: Option<f64>,
    pub(super) migrations: Vec<StepLog>,
    pub(super) elapsed_ms: u64,
    /// Why it failed: the run's error, the operations over the limit, a copy left.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) errors: Vec<String>,
}

impl Report {
    /// The report of a rehearsal that ran on `copy`; `error` stopped it.
    pub(super) fn new(
        mut log: Log,
        copy: &RehearsalCopy,
        dropped: &Result<(), String>,
        error: Option<String>,
        limit: Option<Duration>,
        elapsed: Duration,
    ) -> Self {
        // The error belongs to the operation that was running (a guard's failure is
        // not a failed statement, so the probe did not see it).
        if let (Some(error), Some(op)) = (&error, log.current_mut()) {
            op.error.get_or_insert_with(|| error.clone());
        }
        let mut errors: Vec<String> = error.into_iter().collect();
        for step in &mut log.steps {
            for op in &mut step.operations {
                op.settle(limit);
                if let (true, Some(limit)) = (op.exceeded, limit) {
                    errors.push(format!(
                        "{} operation {} ({}) took {}, over --max-duration {}",
                        step.migration,
                        op.index,
                        op.description,
                        shown(op.elapsed),
                        humantime::format_duration(limit)
                    ));
                }
            }
        }
        if let Err(e) = dropped {
            errors.push(format!(
                "the copy {} could not be dropped: {e}; drop it by hand",
                copy.name
            ));
        }
        Self {
            outcome: if errors.is_empty() {
                Outcome::Ok
            } else {
                Outcome::Failed
            },
            copy: CopyReport {
                name: strata_engine::dialect::driver::redact_url(&copy.name),
                method: copy.method,
                sample: copy.sample,
                dropped: dropped.is_ok(),
            },
            max_duration_ms: limit.map(|l| l.as_secs_f64() * 1000.0),
            migrations: log.steps,
            elapsed_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            errors,
        }
    }

    /// The operations, one line each, then the verdict.
    pub(super) fn write_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for step in &self.migrations {
            writeln!(out, "  {}:", step.migration)?;
            for op in &step.operations {
                writeln!(out, "    {}", op_line(op))?;
            }
        }
        if self.migrations.is_empty() {
            writeln!(out, "  No migrations to rehearse.")?;
        }
        if self.copy.dropped {
            writeln!(out, "  Dropped the copy {}.", self.copy.name)?;
        }
        match self.outcome {
            Outcome::Ok => writeln!(out, "Rehearsal OK."),
            Outcome::Failed => {
                writeln!(out, "Rehearsal FAILED:")?;
                for error in &self.errors {
                    writeln!(out, "  {error}")?;
                }
                Ok(())
            }
        }
    }
}

/// `3. Alter column n of items: 1.2 s, 1000000 rows, rewrote items; locks: ACCESS
/// EXCLUSIVE on items`.
fn op_line(op: &OpLog) -> String {
    let mut line = format!("{}. {}: {}", op.index, op.description, shown(op.elapsed));
    if let Some(n) = op.carried_by {
        let _ = write!(line, " (made by operation {n})");
    }
    if let Some(rows) = op.rows {
        let _ = write!(line, ", {rows} rows");
    }
    match (op.rewrote, &op.table) {
        (Some(true), Some(table)) => {
            let _ = write!(line, ", rewrote {table}");
        }
        (Some(false), Some(table)) => {
            let _ = write!(line, ", no rewrite of {table}");
        }
        _ => {}
    }
    if !op.locks.is_empty() {
        let _ = write!(line, "; locks: {}", op.locks.join(", "));
    }
    if op.exceeded {
        line.push_str(" [over --max-duration]");
    }
    if let Some(error) = &op.error {
        let _ = write!(line, "\n      FAILED: {}", error.replace('\n', "\n      "));
    }
    line
}

/// `0.42 ms`, `12 ms`, `3.2 s`.
fn shown(elapsed: Duration) -> String {
    let ms = elapsed.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy() -> RehearsalCopy {
        RehearsalCopy {
            url: "postgres://u:secret@h/app_strata_rehearsal_1".into(),
            name: "app_strata_rehearsal_1".into(),
            method: CopyMethod::Template,
            sample: None,
        }
    }

    fn log() -> Log {
        let op = |index: usize, ms: u64, before: &str, after: &str| {
            let mut op = OpLog::new(index, format!("op {index}"));
            op.elapsed = Duration::from_millis(ms);
            op.storage_before = Some(before.into());
            op.storage_after = Some(after.into());
            op
        };
        Log {
            steps: vec![StepLog {
                migration: "jobs.0002_x".into(),
                direction: Direction::Apply,
                operations: vec![op(1, 2, "10", "10"), op(2, 40, "10", "11")],
            }],
            current: None,
        }
    }

    #[test]
    fn rewrites_and_slow_operations_are_found() {
        let limit = Some(Duration::from_millis(30));
        let report = Report::new(log(), &copy(), &Ok(()), None, limit, Duration::ZERO);
        let ops = &report.migrations[0].operations;
        assert_eq!(ops[0].rewrote, Some(false));
        assert_eq!(ops[1].rewrote, Some(true));
        assert!(!ops[0].exceeded && ops[1].exceeded);
        assert_eq!(report.outcome, Outcome::Failed);
        assert_eq!(
            report.errors,
            ["jobs.0002_x operation 2 (op 2) took 40 ms, over --max-duration 30ms"]
        );
        assert!((ops[1].duration_ms - 40.0).abs() < 1e-9);
    }

    #[test]
    fn the_run_error_goes_to_the_running_operation_and_a_left_copy_fails() {
        let mut log = log();
        log.current = Some(0);
        let report = Report::new(
            log,
            &copy(),
            &Err("gone away".into()),
            Some("guard failed".into()),
            None,
            Duration::ZERO,
        );
        let ops = &report.migrations[0].operations;
        assert_eq!(ops[0].error.as_deref(), Some("guard failed"));
        assert_eq!(ops[1].error, None);
        assert!(!report.copy.dropped);
        assert_eq!(report.errors.len(), 2, "{:?}", report.errors);
        assert!(report.errors[1].contains("drop it by hand"));
        let mut text = Vec::new();
        report.write_text(&mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains("FAILED: guard failed"), "{text}");
        assert!(!text.contains("secret"), "{text}");
    }
}

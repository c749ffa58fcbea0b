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
    /// It took longer than the limit (`--max-duration`, `[rehearsal] max_duration`).
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
    fn settle(&mut self, limit: Option<&Limit>) {
        self.duration_ms = self.elapsed.as_secs_f64() * 1000.0;
        if self.backfill_rows.is_some() {
            self.rows = self.backfill_rows;
        }
        self.rewrote = match (&self.storage_before, &self.storage_after) {
            (Some(before), Some(after)) => Some(before != after),
            _ => None,
        };
        self.exceeded = limit.is_some_and(|limit| self.elapsed > limit.duration);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Outcome {
    Ok,
    Failed,
    /// Stopped by Ctrl-C or SIGTERM: the report holds what ran until then.
    Interrupted,
}

/// The longest an operation may take, and where the user set it, for the message.
#[derive(Debug, Clone)]
pub(super) struct Limit {
    pub(super) duration: Duration,
    /// `[rehearsal] max_duration`'s origin (`[rehearsal] in strata.toml:4:16`);
    /// `None`: the `--max-duration` flag.
    pub(super) setting: Option<String>,
}

impl std::fmt::Display for Limit {
    /// `--max-duration 30s`, `max_duration 30s ([rehearsal] in strata.toml:4:16)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let duration = humantime::format_duration(self.duration);
        match &self.setting {
            None => write!(f, "--max-duration {duration}"),
            Some(origin) => write!(f, "max_duration {duration} ({origin})"),
        }
    }
}

/// The error of the operation a signal stopped.
const INTERRUPTED: &str = "interrupted";

/// How the run on the copy ended.
#[derive(Debug, Default)]
pub(super) struct Run {
    /// The error that stopped it.
    pub(super) error: Option<String>,
    /// A signal stopped it (its error is then only the cancelled statement's).
    pub(super) interrupted: bool,
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
    /// `None`: nothing was pending, so no copy was made.
    pub(super) copy: Option<CopyReport>,
    pub(super) max_duration_ms: Option<f64>,
    pub(super) migrations: Vec<StepLog>,
    pub(super) elapsed_ms: u64,
    /// Why it failed: the run's error, the operations over the limit, a copy left.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) errors: Vec<String>,
}

impl Report {
    /// The report of a rehearsal that ran on `copy`, ended as `run` says.
    pub(super) fn new(
        mut log: Log,
        copy: &RehearsalCopy,
        dropped: &Result<(), String>,
        run: Run,
        limit: Option<Limit>,
        elapsed: Duration,
    ) -> Self {
        // The error belongs to the operation that was running (a guard's failure is
        // not a failed statement, so the probe did not see it). Interrupted, that
        // operation did not fail: it was stopped (whatever its cancelled statement said).
        if let Some(op) = log.current_mut() {
            if run.interrupted {
                op.error = Some(INTERRUPTED.to_string());
            } else if let Some(error) = &run.error {
                op.error.get_or_insert_with(|| error.clone());
            }
        }
        let mut errors: Vec<String> = run.error.filter(|_| !run.interrupted).into_iter().collect();
        for step in &mut log.steps {
            for op in &mut step.operations {
                op.settle(limit.as_ref());
                if let (true, Some(limit)) = (op.exceeded, &limit) {
                    errors.push(format!(
                        "{} operation {} ({}) took {}, over {limit}",
                        step.migration,
                        op.index,
                        op.description,
                        shown(op.elapsed),
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
            outcome: if run.interrupted {
                Outcome::Interrupted
            } else if errors.is_empty() {
                Outcome::Ok
            } else {
                Outcome::Failed
            },
            copy: Some(CopyReport {
                name: strata_engine::dialect::driver::redact_url(&copy.name),
                method: copy.method,
                sample: copy.sample,
                dropped: dropped.is_ok(),
            }),
            max_duration_ms: limit.map(|l| l.duration.as_secs_f64() * 1000.0),
            migrations: log.steps,
            elapsed_ms: millis(elapsed),
            errors,
        }
    }

    /// The report when nothing was pending: no copy, no operations, OK.
    pub(super) fn nothing(limit: Option<Limit>, elapsed: Duration) -> Self {
        Self {
            outcome: Outcome::Ok,
            copy: None,
            max_duration_ms: limit.map(|l| l.duration.as_secs_f64() * 1000.0),
            migrations: Vec::new(),
            elapsed_ms: millis(elapsed),
            errors: Vec::new(),
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
        if let Some(copy) = self.copy.as_ref().filter(|c| c.dropped) {
            writeln!(out, "  Dropped the copy {}.", copy.name)?;
        }
        match self.outcome {
            Outcome::Ok => writeln!(out, "Rehearsal OK."),
            Outcome::Interrupted if self.errors.is_empty() => {
                writeln!(out, "Rehearsal interrupted.")
            }
            Outcome::Failed | Outcome::Interrupted => {
                let verdict = if self.outcome == Outcome::Failed {
                    "FAILED"
                } else {
                    "interrupted"
                };
                writeln!(out, "Rehearsal {verdict}:")?;
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
        line.push_str(" [over the time limit]");
    }
    match op.error.as_deref() {
        Some(INTERRUPTED) => line.push_str("\n      STOPPED: interrupted"),
        Some(error) => {
            let _ = write!(line, "\n      FAILED: {}", error.replace('\n', "\n      "));
        }
        None => {}
    }
    line
}

fn millis(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
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
        let limit = Some(Limit {
            duration: Duration::from_millis(30),
            setting: None,
        });
        let report = Report::new(
            log(),
            &copy(),
            &Ok(()),
            Run::default(),
            limit,
            Duration::ZERO,
        );
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
            Run {
                error: Some("guard failed".into()),
                interrupted: false,
            },
            None,
            Duration::ZERO,
        );
        let ops = &report.migrations[0].operations;
        assert_eq!(ops[0].error.as_deref(), Some("guard failed"));
        assert_eq!(ops[1].error, None);
        assert!(!report.copy.as_ref().unwrap().dropped);
        assert_eq!(report.errors.len(), 2, "{:?}", report.errors);
        assert!(report.errors[1].contains("drop it by hand"));
        let mut text = Vec::new();
        report.write_text(&mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains("FAILED: guard failed"), "{text}");
        assert!(!text.contains("secret"), "{text}");
    }

    /// Ctrl-C: the outcome says so, the cancelled operation is not a failure, and a
    /// limit set in strata.toml is named as set there.
    #[test]
    fn an_interrupted_run_is_interrupted_not_failed() {
        let mut log = log();
        log.current = Some(1);
        let limit = Some(Limit {
            duration: Duration::from_millis(30),
            setting: Some("[rehearsal] in strata.toml:4:16".into()),
        });
        let run = Run {
            error: Some("canceling statement due to user request".into()),
            interrupted: true,
        };
        let report = Report::new(log, &copy(), &Ok(()), run, limit, Duration::ZERO);
        assert_eq!(report.outcome, Outcome::Interrupted);
        assert_eq!(
            report.migrations[0].operations[1].error.as_deref(),
            Some("interrupted")
        );
        assert_eq!(
            report.errors,
            ["jobs.0002_x operation 2 (op 2) took 40 ms, over max_duration 30ms ([rehearsal] in strata.toml:4:16)"]
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["outcome"], "interrupted");
        let mut text = Vec::new();
        report.write_text(&mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains("Rehearsal interrupted:"), "{text}");
        assert!(!text.contains("FAILED"), "{text}");
    }

    #[test]
    fn nothing_pending_is_ok_without_a_copy() {
        let report = Report::nothing(None, Duration::ZERO);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["outcome"], "ok");
        assert!(json["copy"].is_null(), "{json}");
        assert_eq!(json["migrations"], serde_json::json!([]));
    }
}

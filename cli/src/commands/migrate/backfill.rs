//! A running `backfill` as `migrate` reports it: the text after the spinner on a
//! terminal, a notice on stderr every few seconds without one, a JSON line on stderr
//! with `--format json`, and the totals each step's JSON record carries. The engine
//! reports after every committed batch; what a person or a tool gets is throttled
//! here, so a backfill of small batches never floods a log.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use strata_engine::executor::BackfillProgress;

use super::json::millis;

/// Without a terminal, at most one progress line per this interval and backfill.
const TEXT_EVERY: Duration = Duration::from_secs(5);

/// With `--format json`, at most one progress object per this interval and backfill.
const JSON_EVERY: Duration = Duration::from_secs(1);

/// Where progress notices go besides a spinner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Notices {
    /// `-q`, or a spinner shows the progress.
    Off,
    /// A line a person reads, on stderr.
    Text,
    /// One JSON object per line, on stderr (stdout holds the run's document).
    Json,
}

/// What a backfill did in one run, for the step's JSON record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(super) struct BackfillTotals {
    /// The operation's 1-based number in the migration file (a backfill runs forward
    /// only: its inverse does nothing).
    pub(super) operation: usize,
    pub(super) table: String,
    /// Rows walked by this run (with a `where`, also those it skipped).
    pub(super) rows: u64,
    /// Rows walked in all, counting earlier runs of a resumed backfill.
    pub(super) rows_done: u64,
    /// Batches committed by this run.
    pub(super) batches: u64,
    /// Time this run spent on it, pauses included.
    pub(super) seconds: f64,
    /// Rows per second in this run; `null` before any time passed.
    pub(super) rate: Option<f64>,
}

impl BackfillTotals {
    /// `index`: 0-based in run order, as the runner reports it.
    fn new(index: usize, p: &BackfillProgress) -> Self {
        Self {
            operation: index + 1,
            table: p.table.clone(),
            rows: p.rows_this_run,
            rows_done: p.rows_done,
            batches: p.batches,
            seconds: p.elapsed.as_secs_f64(),
            rate: p.rate(),
        }
    }
}

/// One `--format json` progress line.
#[derive(Serialize)]
struct ProgressLine<'a> {
    event: &'static str,
    migration: &'a str,
    operation: usize,
    table: &'a str,
    rows_done: u64,
    rows_total: Option<u64>,
    batches: u64,
    elapsed_ms: u64,
    rate: Option<f64>,
    eta_ms: Option<u64>,
}

/// The reports of the running step's backfills. Shared with the script runner behind
/// `&`, hence the mutexes.
pub(super) struct Reports {
    notices: Notices,
    /// The running step's migration ("jobs.0002_fill").
    migration: Mutex<String>,
    /// The latest report per backfill of the running step, in run order.
    latest: Mutex<Vec<BackfillTotals>>,
    /// When the last notice was written, per backfill (operation index).
    noticed: Mutex<Option<(usize, Instant)>>,
}

impl Reports {
    pub(super) fn new(notices: Notices) -> Self {
        Self {
            notices,
            migration: Mutex::new(String::new()),
            latest: Mutex::new(Vec::new()),
            noticed: Mutex::new(None),
        }
    }

    /// Notices are only needed where no spinner shows the progress.
    pub(super) fn silence(&mut self) {
        if self.notices == Notices::Text {
            self.notices = Notices::Off;
        }
    }

    /// A new step starts: its backfills are reported under `migration`.
    pub(super) fn step(&self, migration: String) {
        *lock(&self.migration) = migration;
        lock(&self.latest).clear();
        *lock(&self.noticed) = None;
    }

    /// The totals of the step that just ended (or stopped).
    pub(super) fn take(&self) -> Vec<BackfillTotals> {
        std::mem::take(&mut *lock(&self.latest))
    }

    /// A committed batch: kept for the totals, and told (throttled) where notices go.
    pub(super) fn report(&self, index: usize, progress: &BackfillProgress) {
        {
            let mut latest = lock(&self.latest);
            let totals = BackfillTotals::new(index, progress);
            match latest.iter_mut().find(|t| t.operation == totals.operation) {
                Some(t) => *t = totals,
                None => latest.push(totals),
            }
        }
        let every = match self.notices {
            Notices::Off => return,
            Notices::Text => TEXT_EVERY,
            Notices::Json => JSON_EVERY,
        };
        {
            let mut noticed = lock(&self.noticed);
            let now = Instant::now();
            match *noticed {
                Some((at_index, at)) if at_index == index && now - at < every => return,
                _ => *noticed = Some((index, now)),
            }
        }
        let migration = lock(&self.migration).clone();
        let line = match self.notices {
            Notices::Json => json_line(&migration, index, progress),
            _ => format!("  {migration}: {}", describe(progress)),
        };
        // A notice that cannot be written (a closed stderr) must not stop the backfill.
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}

fn json_line(migration: &str, index: usize, p: &BackfillProgress) -> String {
    let line = ProgressLine {
        event: "backfill_progress",
        migration,
        operation: index + 1,
        table: &p.table,
        rows_done: p.rows_done,
        rows_total: p.rows_total,
        batches: p.batches,
        elapsed_ms: millis(p.elapsed),
        rate: p.rate(),
        eta_ms: p.eta().map(millis),
    };
    serde_json::to_string(&line).unwrap_or_default()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// "backfill items: 40,000/1,000,000 rows (4%), 12,345 rows/s, ETA 1 min 18 s".
fn describe(p: &BackfillProgress) -> String {
    format!("backfill {}: {}", p.table, counts(p))
}

/// "40,000/1,000,000 rows (4%), 12,345 rows/s, ETA 1 min 18 s": after the spinner's
/// operation, which names the table already.
pub(super) fn counts(p: &BackfillProgress) -> String {
    let mut text = thousands(p.rows_done);
    match p.rows_total {
        // An estimate: the rows done may pass it.
        Some(total) => {
            let total = total.max(p.rows_done);
            let _ = write!(text, "/{} rows", thousands(total));
            if let Some(percent) = (p.rows_done * 100).checked_div(total) {
                let _ = write!(text, " ({percent}%)");
            }
        }
        None => text.push_str(" rows"),
    }
    if let Some(rate) = p.rate() {
        // Whole rows per second: a fraction means nothing here.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let rate = rate.round() as u64;
        let _ = write!(text, ", {} rows/s", thousands(rate));
    }
    if let Some(eta) = p.eta() {
        let _ = write!(text, ", ETA {}", short_duration(eta));
    }
    text
}

/// 1234567 → "1,234,567".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "< 1 s", "45 s", "3 min 12 s", "2 h 5 min": as precise as an estimate deserves.
fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => "< 1 s".to_string(),
        1..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(rows_done: u64, rows_total: Option<u64>, seconds: u64) -> BackfillProgress {
        BackfillProgress {
            table: "items".into(),
            rows_done,
            rows_total,
            batches: rows_done / 1000,
            elapsed: Duration::from_secs(seconds),
            rows_this_run: rows_done,
        }
    }

    #[test]
    fn counts_rate_and_eta_are_spelled_for_a_person() {
        assert_eq!(
            describe(&progress(40_000, Some(1_000_000), 4)),
            "backfill items: 40,000/1,000,000 rows (4%), 10,000 rows/s, ETA 1 min 36 s"
        );
        assert_eq!(
            describe(&progress(500, None, 0)),
            "backfill items: 500 rows"
        );
        // The estimate was low: the total is never shown below what is done.
        assert_eq!(
            describe(&progress(1200, Some(1000), 1)),
            "backfill items: 1,200/1,200 rows (100%), 1,200 rows/s, ETA < 1 s"
        );
    }

    #[test]
    fn thousands_and_durations() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(short_duration(Duration::from_secs(7322)), "2 h 2 min");
    }

    #[test]
    fn totals_keep_the_latest_report_of_each_backfill() {
        let reports = Reports::new(Notices::Off);
        reports.step("jobs.0002_fill".into());
        reports.report(1, &progress(1000, Some(3000), 1));
        reports.report(1, &progress(2000, Some(3000), 2));
        reports.report(3, &progress(500, None, 1));
        let totals = reports.take();
        assert_eq!(
            totals
                .iter()
                .map(|t| (t.operation, t.rows))
                .collect::<Vec<_>>(),
            [(2, 2000), (4, 500)]
        );
        assert!(reports.take().is_empty(), "taken once");
    }
}

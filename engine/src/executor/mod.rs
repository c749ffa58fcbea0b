//! The shared executor: lock, history, checksums, plan, apply/unapply, checkpoints.
//! The same loop for every database; what differs comes from the dialect's
//! capabilities and the driver's mechanisms.
//!
//! - `plan`: the history read, checksums verified, the ordered steps, and
//!   the steps prepared to run (every rollback rendered before anything runs);
//! - `preview`: the operations a plan would run, for `migrate --plan`;
//! - `lock`: waiting for the migration lock;
//! - `run`: the steps, one path for apply and unapply;
//! - `ledger`: the history rows a step writes, in either direction;
//! - `resume`: where a migration that stopped part-way really is;
//! - `fake`: `--fake-initial`;
//! - `single`: `--single-transaction`, the whole plan in one transaction;
//! - `interrupt`: stopping on request (Ctrl-C) through the normal failure path.

mod error;
mod fake;
mod interrupt;
mod ledger;
mod lock;
mod plan;
mod preview;
mod resume;
mod run;
mod single;
pub mod squashed;

use std::time::Duration;

use tracing::{info_span, warn, Instrument};

pub use error::{how_to_resume, AfterFailure, ExecError, Rollback};
pub use interrupt::{interrupted, is_interrupted, Interrupt, Interruptible};
pub use plan::{plan, PlannedStep, Status};
pub use preview::{preview, OperationPreview, StepPreview};

use crate::dialect::driver::Driver;
use crate::graph::{Graph, Step, Target};
use crate::history::History;
use crate::script::Direction;

/// How a run behaves; the CLI fills this from flags and `strata.toml`.
// Independent yes/no switches, each a flag or setting of its own.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone)]
pub struct Options {
    pub history_table: String,
    pub lock_timeout: Duration,
    /// Record the plan's migrations as applied/unapplied without running their SQL.
    pub fake: bool,
    /// Fake an initial migration whose tables already exist (checked by introspection).
    pub fake_initial: bool,
    /// Accept applied files whose checksum changed, storing the new checksum.
    pub accept_edited: bool,
    /// Run safe plans for migrations that do not opt out (`[database] safe`).
    pub safe: bool,
    /// Retries of a step whose DDL lock wait timed out.
    pub ddl_retries: u32,
    /// The application's functions that `run_code` operations call; none in the CLI.
    pub functions: crate::code::Functions,
    /// The whole plan, history rows included, in one transaction (`--single-transaction`);
    /// refused before anything runs when a step cannot run in one.
    pub single_transaction: bool,
}

impl Options {
    pub fn new(history_table: impl Into<String>, lock_timeout: Duration) -> Self {
        Self {
            history_table: history_table.into(),
            lock_timeout,
            fake: false,
            fake_initial: false,
            accept_edited: false,
            safe: true,
            ddl_retries: 0,
            functions: crate::code::Functions::new(),
            single_transaction: false,
        }
    }

    /// How `m` is rendered in this run ([`crate::script::Mode::of`]).
    pub fn mode(&self, m: &crate::migration::Migration) -> crate::script::Mode {
        crate::script::Mode::of(m, self.safe)
    }

    fn lock_name(&self) -> String {
        format!("strata:{}", self.history_table)
    }
}

/// Follows a run, e.g. to draw a progress bar. Every method has a no-op default.
/// `Send`, so that a run's future is, and an application can spawn it.
#[async_trait::async_trait]
pub trait Observer: Send {
    /// The migration lock is held by another process (`holder`, as its driver
    /// describes it); called once per wait. Returns whether the user was told: when
    /// not (the default; a quiet CLI, an embedding application), the wait is logged
    /// instead, and again every few seconds, so that it is never silent.
    fn waiting_for_lock(&mut self, holder: Option<&str>) -> bool {
        let _ = holder;
        false
    }
    /// Under the lock, before anything runs: may refuse the plan with
    /// [`ExecError::Refused`] (the CLI lints it against the live tables), looking at
    /// the history it was made from (`history`, as read: squashes not yet chosen)
    /// instead of reading it again. The default accepts.
    async fn vet(
        &mut self,
        driver: &mut dyn Driver,
        history: &Status,
        plan: &[PlannedStep],
    ) -> Result<(), ExecError> {
        let _ = (driver, history, plan);
        Ok(())
    }
    fn planned(&mut self, plan: &[PlannedStep]) {
        let _ = plan;
    }
    fn started(&mut self, step: &PlannedStep, operations: usize, fake: bool) {
        let _ = (step, operations, fake);
    }
    /// What hears each operation of the step that just `started`, as it begins (a
    /// spinner naming it). `None`, the default, costs nothing per operation.
    fn operations(&self) -> Option<&dyn OperationObserver> {
        None
    }
    fn finished(&mut self, step: &PlannedStep, elapsed: Duration) {
        let _ = (step, elapsed);
    }
    /// `--single-transaction`: the plan's one transaction committed, and with it
    /// every step `finished` so far. Until then a finished step is not kept; a
    /// failed run never calls this (the plan rolled back). Where the driver defers
    /// durability (`Driver::defer_durability`), a commit is durable once `migrate`
    /// returns.
    fn committed(&mut self) {}
}

/// Hears the operations of a running step. The script runner holds it across its
/// statements from behind a shared reference, hence `Sync`.
pub trait OperationObserver: Sync {
    /// Operation `index` (0-based, in run order) of `total` is about to run; for a
    /// rollback, `description` is the inverse that runs ("Drop table …").
    fn operation(&self, index: usize, total: usize, description: &str);

    /// Whether each [`operation`](Self::operation) must come as its operation really
    /// starts on the server: the observer times operations, or shows the running one
    /// live. Then statements go one by one. Otherwise (the default) the statements of
    /// a transaction may be sent together where the driver pipelines them (one round
    /// trip), and the notices come as they are sent.
    fn follows_operations(&self) -> bool {
        false
    }

    /// A `backfill` operation (`index`, 0-based in run order) committed a batch: how
    /// far it is. Called after every batch; the default ignores it.
    fn backfill_progress(&self, index: usize, progress: &BackfillProgress) {
        let _ = (index, progress);
    }
}

/// How far a running `backfill` is, after a committed batch.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BackfillProgress {
    /// The table it walks.
    pub table: String,
    /// Rows updated so far, counting earlier runs of a resumed backfill.
    pub rows_done: u64,
    /// The rows it will have updated in all, as estimated before it started (the
    /// server's estimate of the rows left plus `rows_done`); `None` when unknown.
    pub rows_total: Option<u64>,
    /// Batches committed by this run.
    pub batches: u64,
    /// Time spent by this run, pauses included.
    #[serde(with = "humantime_serde")]
    pub elapsed: Duration,
    /// Rows updated by this run (not earlier ones): what the rate is measured on.
    pub rows_this_run: u64,
}

impl BackfillProgress {
    /// Rows per second in this run.
    pub fn rate(&self) -> Option<f64> {
        let seconds = self.elapsed.as_secs_f64();
        #[allow(clippy::cast_precision_loss)] // a rate, not a count
        (seconds > 0.0).then(|| self.rows_this_run as f64 / seconds)
    }

    /// The time left at this run's rate, when the total is known.
    pub fn eta(&self) -> Option<Duration> {
        let left = self.rows_total?.saturating_sub(self.rows_done);
        let rate = self.rate().filter(|r| *r > 0.0)?;
        #[allow(clippy::cast_precision_loss)]
        Some(Duration::from_secs_f64(left as f64 / rate))
    }
}

/// An observer that does nothing.
pub struct Quiet;
impl Observer for Quiet {}

/// Reads the history without locking or creating anything (for listings and plans).
pub async fn status(driver: &mut dyn Driver, options: &Options) -> Result<Status, ExecError> {
    let history = History::new(&options.history_table);
    if !driver.table_names().await?.contains(&options.history_table) {
        return Ok(Status::default());
    }
    let (rows, damage) = history.read(driver).await?;
    Ok(Status { rows, damage })
}

/// `strata migrate`: takes the lock, reads the history under it, verifies, plans
/// and runs. Returns the steps it ran.
pub async fn migrate(
    graph: &Graph,
    driver: &mut dyn Driver,
    targets: &[Target],
    options: &Options,
    observer: &mut dyn Observer,
) -> Result<Vec<PlannedStep>, ExecError> {
    let lock = options.lock_name();
    lock::acquire(driver, &lock, options.lock_timeout, observer).await?;
    let result = migrate_locked(graph, driver, targets, options, observer).await;
    // Durable once, before the lock goes (see `Driver::defer_durability`): whoever
    // reads the result finds every commit of the run as durable as if each had waited.
    let durable = driver.make_durable().await;
    let unlocked = driver.unlock(&lock).await;
    if let (Err(_), Err(e)) = (&result, &durable) {
        tracing::warn!(error = %e, "the run's commits were not confirmed durable");
    }
    let steps = result?;
    durable.map_err(|source| ExecError::NotConfirmedDurable { source })?;
    unlocked?;
    Ok(steps)
}

async fn migrate_locked(
    graph: &Graph,
    driver: &mut dyn Driver,
    targets: &[Target],
    options: &Options,
    observer: &mut dyn Observer,
) -> Result<Vec<PlannedStep>, ExecError> {
    let history = History::new(&options.history_table);
    // Read (under the lock) without creating anything: a plan that fails to render
    // leaves the database exactly as it was, history table included.
    let read = status(driver, options).await?;
    let (graph, status) = squashed::in_use(graph, &read)?;
    let graph = &graph;
    let steps = plan(graph, &status, targets, options)?;
    observer.vet(driver, &read, &steps).await?;
    observer.planned(&steps);
    let dialect = driver.dialect();
    let version = driver.version();
    let in_effect = plan::InEffect::new(&status);
    let prepared = plan::prepare(
        graph,
        steps.clone(),
        &in_effect,
        options,
        dialect.as_ref(),
        version,
    )?;
    // Checked before anything runs, the history table included.
    if options.single_transaction {
        single::check(&prepared, dialect.as_ref(), version)?;
    }
    checkpoints_match(graph, driver, &prepared, &in_effect, options).await?;
    if !prepared.is_empty() {
        driver.defer_durability().await?;
    }
    let transaction = if options.single_transaction {
        Some(single::PlanTransaction::open(driver).await?)
    } else {
        None
    };
    let run = run::Run {
        graph,
        history: &history,
        options,
        dialect: dialect.as_ref(),
        version,
        in_effect,
        forward: None,
        plan_began: transaction.as_ref().map(|t| t.began),
    };
    let result = run_prepared(graph, driver, &history, &status, prepared, run, observer).await;
    match (transaction, result) {
        (None, result) => result?,
        (Some(t), Ok(())) => {
            t.commit(driver).await?;
            observer.committed();
        }
        (Some(t), Err(e)) => {
            t.roll_back(driver).await;
            return Err(plan_rolled_back(e));
        }
    }
    Ok(steps)
}

/// The history table made ready, the squashes and edits recorded, and every step
/// run: what `--single-transaction` puts in its one transaction.
async fn run_prepared(
    graph: &Graph,
    driver: &mut dyn Driver,
    history: &History,
    status: &Status,
    prepared: Vec<plan::Prepared<'_>>,
    mut run: run::Run<'_>,
    observer: &mut dyn Observer,
) -> Result<(), ExecError> {
    let options = run.options;
    // Only a plan that runs a backfill needs the cursor column an older table lacks.
    let backfills = !options.fake
        && prepared.iter().any(|p| {
            p.step.step == Step::Apply
                && p.migration
                    .operations
                    .iter()
                    .any(|op| matches!(op, crate::ast::Operation::Backfill(_)))
        });
    history.ensure_for(driver, backfills).await?;
    // Before any step, so that a squash counted applied has the row a rollback edits.
    record_squashes(graph, driver, history, options).await?;
    if options.accept_edited {
        accept_edited(graph, status, history, driver).await?;
    }
    for step in prepared {
        let span = info_span!("migration", migration = %step.step.key, step = ?step.step.step);
        run.step(driver, step, observer).instrument(span).await?;
    }
    record_squashes(graph, driver, history, options).await
}

/// A step that failed inside the plan's one transaction took the whole plan with it.
fn plan_rolled_back(mut e: ExecError) -> ExecError {
    if let ExecError::Failed { after, .. } = &mut e {
        if *after == AfterFailure::RolledBack {
            *after = AfterFailure::PlanRolledBack;
        }
    }
    e
}

/// Runs `script` — operations that belong to no migration (`strata drift --revert`
/// puts the live schema back to what the history says) — under the migration lock,
/// so that no `migrate` runs meanwhile. The history is not touched. The outer error
/// is the lock's; the inner one the script's, saying how far it got.
pub async fn run_unrecorded(
    driver: &mut dyn Driver,
    script: &crate::script::Script,
    options: &Options,
    observer: &mut dyn Observer,
) -> Result<Result<(), crate::script::ExecuteError>, ExecError> {
    let lock = options.lock_name();
    lock::acquire(driver, &lock, options.lock_timeout, observer).await?;
    let result = script.execute(driver).await;
    driver.unlock(&lock).await?;
    Ok(result)
}

/// Records every squash in use whose replaced migrations are all applied and that has
/// no row yet (see [`squashed`]): the migrations it replaces can then be deleted.
async fn record_squashes(
    graph: &Graph,
    driver: &mut dyn Driver,
    history: &History,
    options: &Options,
) -> Result<(), ExecError> {
    if !graph.has_squashes() {
        return Ok(()); // nothing to record, and the history need not be read again
    }
    let after = status(driver, options).await?;
    let (graph, _) = squashed::in_use(graph, &after)?;
    let dialect = driver.dialect();
    for squash in squashed::pending_records(&graph, &after) {
        let insert = history.insert(
            dialect.as_ref(),
            &squash.key,
            &squash.checksum,
            crate::history::RowState::Applied,
            squash.operations.len(),
            &crate::history::Elapsed::Millis(0),
        );
        driver.execute(&insert.sql).await?;
    }
    Ok(())
}

/// Every partial migration the plan resumes is checked against the live schema before
/// the first step runs, so a checkpoint that cannot be right stops the run before
/// anything of the plan is applied (`run` checks it again, and uses it, at its turn).
async fn checkpoints_match(
    graph: &Graph,
    driver: &mut dyn Driver,
    prepared: &[plan::Prepared<'_>],
    in_effect: &plan::InEffect,
    options: &Options,
) -> Result<(), ExecError> {
    if options.fake {
        return Ok(());
    }
    let dialect = driver.dialect();
    for p in prepared {
        let key = &p.step.key;
        if p.step.step == Step::Apply && in_effect.partial(key).is_some() {
            let before = in_effect.schema(graph, key)?;
            resume::locate_checkpoint(
                driver,
                dialect.as_ref(),
                options,
                p.migration,
                &before,
                p.step.done,
                Direction::Forward,
            )
            .await?;
        }
    }
    Ok(())
}

/// `--accept-edited`: stores the checksum of every file that no longer says what its
/// history row recorded: the new file's, or for a migration that stopped part-way
/// that of its operations that ran, as they are now.
async fn accept_edited(
    graph: &Graph,
    status: &Status,
    history: &History,
    driver: &mut dyn Driver,
) -> Result<(), ExecError> {
    let dialect = driver.dialect();
    for (key, m, _) in crate::history::edits::edited(graph, status.rows.values()) {
        let Some(row) = status.rows.get(key) else {
            continue;
        };
        warn!(migration = %key, "accepting an edited migration");
        let checksum = crate::history::edits::expected_checksum(row, m);
        let update = history.update_checksum(dialect.as_ref(), key, row.state, &checksum);
        driver.execute(&update.sql).await?;
    }
    Ok(())
}

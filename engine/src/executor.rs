//! The shared executor: lock, history, checksums, plan, apply/unapply, checkpoints.
//! The same loop for every database; what differs comes from the dialect's
//! capabilities and the driver's mechanisms.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use tracing::{info, info_span, warn, Instrument};

use crate::ast::Operation;
use crate::dialect::driver::{Driver, DriverError, LockAttempt};
use crate::dialect::{Dialect, ServerVersion};
use crate::drift;
use crate::graph::{Graph, StateAtError, Step, Target};
use crate::history::{History, HistoryError, HistoryRow, RowState};
use crate::migration::{Migration, MigrationKey};
use crate::script::{self, Bookkeeping, Direction, ScriptError};
use crate::state::SchemaState;

/// How a run behaves; the CLI fills this from flags and `strata.toml`.
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
}

impl Options {
    pub fn new(history_table: impl Into<String>, lock_timeout: Duration) -> Self {
        Self {
            history_table: history_table.into(),
            lock_timeout,
            fake: false,
            fake_initial: false,
            accept_edited: false,
        }
    }

    fn lock_name(&self) -> String {
        format!("strata:{}", self.history_table)
    }
}

/// One step of a plan. `done` operations of it were completed by an earlier,
/// interrupted run (non-atomic migrations only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStep {
    pub step: Step,
    pub key: MigrationKey,
    pub done: usize,
}

/// What the database holds, as far as the project knows it.
#[derive(Debug, Clone, Default)]
pub struct Status {
    pub rows: BTreeMap<MigrationKey, HistoryRow>,
}

impl Status {
    pub fn applied(&self) -> BTreeSet<MigrationKey> {
        self.rows
            .values()
            .filter(|r| r.state == RowState::Applied)
            .map(|r| r.key.clone())
            .collect()
    }

    pub fn partial(&self) -> impl Iterator<Item = &HistoryRow> {
        self.rows.values().filter(|r| r.state == RowState::Partial)
    }
}

/// Follows a run, e.g. to draw a progress bar. Every method has a no-op default.
pub trait Observer {
    fn waiting_for_lock(&mut self, holder: Option<&str>) {
        let _ = holder;
    }
    fn planned(&mut self, plan: &[PlannedStep]) {
        let _ = plan;
    }
    fn started(&mut self, step: &PlannedStep, operations: usize, fake: bool) {
        let _ = (step, operations, fake);
    }
    fn finished(&mut self, step: &PlannedStep, elapsed: Duration) {
        let _ = (step, elapsed);
    }
}

/// An observer that does nothing.
pub struct Quiet;
impl Observer for Quiet {}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error(
        "gave up after {waited:?} waiting for the migration lock `{name}`{}",
        .holder.as_ref().map(|h| format!(", held by {h}")).unwrap_or_default()
    )]
    LockTimeout {
        name: String,
        waited: Duration,
        holder: Option<String>,
    },
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error(transparent)]
    Driver(#[from] DriverError),
    #[error(
        "{path}: applied migration {key} was edited after it was applied (checksum {recorded} recorded, {current} on disk); restore the file, or run with --accept-edited if the change is deliberate",
        path = .path.display()
    )]
    Edited {
        key: MigrationKey,
        path: std::path::PathBuf,
        recorded: String,
        current: String,
    },
    #[error("applied migration {key} has no file any more (look in apps/{}/migrations/); restore it from version control", .key.app)]
    MissingFile { key: MigrationKey },
    #[error("{key} ({path}): {source}", path = .path.display())]
    Script {
        key: MigrationKey,
        path: std::path::PathBuf,
        source: ScriptError,
    },
    #[error(transparent)]
    StateAt(#[from] StateAtError),
    #[error("{key} ({path}): operation {operation} of {total} ({description}) failed:\n  {source}\n{applied}", path = .path.display())]
    Failed {
        key: MigrationKey,
        path: std::path::PathBuf,
        operation: usize,
        total: usize,
        description: String,
        source: DriverError,
        /// What is applied now, in words.
        applied: String,
        /// The migration is left partially applied (a checkpoint records how far).
        partial: bool,
    },
    #[error(
        "{key} is partially applied ({done} of {total} operations); run `strata migrate` to resume it, or roll its app back to before it"
    )]
    PartialPending {
        key: MigrationKey,
        done: usize,
        total: usize,
    },
    #[error("{key}: the live schema does not match its checkpoint ({done} operations done), so it cannot be resumed safely:\n  {}", .differences.join("\n  "))]
    Drift {
        key: MigrationKey,
        done: usize,
        differences: Vec<String>,
    },
    #[error("--fake-initial: {key} creates tables of which only some exist ({existing}); fix the schema by hand or apply without --fake-initial")]
    FakeInitialPartly { key: MigrationKey, existing: String },
}

impl ExecError {
    /// Whether the database was left with a migration partially applied.
    pub fn left_partial(&self) -> bool {
        matches!(self, ExecError::Failed { partial: true, .. })
    }
}

/// Reads the history without locking or creating anything (for listings and plans).
pub async fn status(driver: &mut dyn Driver, options: &Options) -> Result<Status, ExecError> {
    let history = History::new(&options.history_table);
    if !driver.table_names().await?.contains(&options.history_table) {
        return Ok(Status::default());
    }
    Ok(Status {
        rows: history.read(driver).await?,
    })
}

/// The plan that `migrate` would run for `targets`, from a history already read.
pub fn plan(
    graph: &Graph,
    status: &Status,
    targets: &[Target],
    options: &Options,
) -> Result<Vec<PlannedStep>, ExecError> {
    verify_checksums(graph, status, options.accept_edited)?;
    let applied = status.applied();
    let mut steps: Vec<PlannedStep> = graph
        .plan(targets, &applied)
        .into_iter()
        .map(|(step, key)| PlannedStep { step, key, done: 0 })
        .collect();
    for row in status.partial() {
        let Some(m) = graph.get(&row.key) else {
            continue;
        };
        if let Some(s) = steps
            .iter_mut()
            .find(|s| s.key == row.key && s.step == Step::Apply)
        {
            s.done = row.operations_done;
            continue;
        }
        // Not resumed: is it being rolled back?
        let mut with_partial = applied.clone();
        with_partial.insert(row.key.clone());
        let back = graph.plan(targets, &with_partial);
        if back
            .iter()
            .any(|(step, key)| *step == Step::Unapply && *key == row.key)
        {
            return Ok(back
                .into_iter()
                .map(|(step, key)| {
                    let done = if key == row.key {
                        row.operations_done
                    } else {
                        0
                    };
                    PlannedStep { step, key, done }
                })
                .collect());
        }
        return Err(ExecError::PartialPending {
            key: row.key.clone(),
            done: row.operations_done,
            total: m.operations.len(),
        });
    }
    Ok(steps)
}

fn verify_checksums(graph: &Graph, status: &Status, accept_edited: bool) -> Result<(), ExecError> {
    for row in status.rows.values() {
        if !graph.apps().contains(&row.key.app) {
            continue; // an app removed from the project: its history is not ours to judge
        }
        let Some(m) = graph.get(&row.key) else {
            return Err(ExecError::MissingFile {
                key: row.key.clone(),
            });
        };
        if m.checksum != row.checksum && !accept_edited {
            return Err(ExecError::Edited {
                key: row.key.clone(),
                path: m.path.clone(),
                recorded: short(&row.checksum),
                current: short(&m.checksum),
            });
        }
    }
    Ok(())
}

fn short(checksum: &str) -> String {
    checksum.chars().take(12).collect()
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
    acquire_lock(driver, &lock, options.lock_timeout, observer).await?;
    let result = migrate_locked(graph, driver, targets, options, observer).await;
    let unlocked = driver.unlock(&lock).await;
    let steps = result?;
    unlocked?;
    Ok(steps)
}

/// The policy around a driver's one-shot lock attempt: retry with backoff until the
/// timeout, telling the observer who holds it.
async fn acquire_lock(
    driver: &mut dyn Driver,
    name: &str,
    timeout: Duration,
    observer: &mut dyn Observer,
) -> Result<(), ExecError> {
    let started = Instant::now();
    let mut delay = Duration::from_millis(20);
    let mut reported = false;
    loop {
        match driver.try_lock(name).await? {
            LockAttempt::Acquired => return Ok(()),
            LockAttempt::Busy { holder } => {
                if started.elapsed() >= timeout {
                    return Err(ExecError::LockTimeout {
                        name: name.to_string(),
                        waited: started.elapsed(),
                        holder,
                    });
                }
                if !reported {
                    warn!(
                        lock = name,
                        holder = holder.as_deref().unwrap_or("unknown"),
                        "waiting for the migration lock"
                    );
                    observer.waiting_for_lock(holder.as_deref());
                    reported = true;
                }
                let remaining = timeout.saturating_sub(started.elapsed());
                tokio::time::sleep(delay.min(remaining)).await;
                delay = (delay * 2).min(Duration::from_millis(500));
            }
        }
    }
}

async fn migrate_locked(
    graph: &Graph,
    driver: &mut dyn Driver,
    targets: &[Target],
    options: &Options,
    observer: &mut dyn Observer,
) -> Result<Vec<PlannedStep>, ExecError> {
    let history = History::new(&options.history_table);
    history.ensure(driver).await?;
    let status = Status {
        rows: history.read(driver).await?,
    };
    let steps = plan(graph, &status, targets, options)?;
    observer.planned(&steps);
    let dialect = driver.dialect();
    if options.accept_edited {
        for row in status.rows.values() {
            if let Some(m) = graph.get(&row.key).filter(|m| m.checksum != row.checksum) {
                warn!(migration = %row.key, "accepting an edited applied migration");
                driver
                    .execute(
                        &history
                            .update_checksum(dialect.as_ref(), &row.key, &m.checksum)
                            .sql,
                    )
                    .await?;
            }
        }
    }
    let mut run = Run {
        graph,
        history: &history,
        options,
        dialect: dialect.as_ref(),
        applied: status.applied(),
        partial: status
            .partial()
            .map(|r| (r.key.clone(), r.operations_done))
            .collect(),
        running: None,
        backward: BTreeMap::new(),
        partial_before: BTreeMap::new(),
    };
    run.prepare_backward(&steps, driver.version())?;
    for step in &steps {
        let m = graph.get(&step.key).expect("planned keys exist");
        let span = info_span!("migration", migration = %step.key, step = ?step.step);
        run.step(driver, step, m, observer).instrument(span).await?;
    }
    Ok(steps)
}

/// The state of one `migrate` run as it goes.
struct Run<'a> {
    graph: &'a Graph,
    history: &'a History,
    options: &'a Options,
    dialect: &'a dyn Dialect,
    applied: BTreeSet<MigrationKey>,
    /// Migrations an earlier run left half-done, with how many operations completed.
    partial: BTreeMap<MigrationKey, usize>,
    /// The schema after everything applied so far, once forward steps begin.
    running: Option<SchemaState>,
    /// The rendered rollback of each migration the plan unapplies.
    backward: BTreeMap<MigrationKey, script::Script>,
    /// The schema before each partial migration the plan rolls back.
    partial_before: BTreeMap<MigrationKey, SchemaState>,
}

impl Run<'_> {
    async fn step(
        &mut self,
        driver: &mut dyn Driver,
        step: &PlannedStep,
        m: &Migration,
        observer: &mut dyn Observer,
    ) -> Result<(), ExecError> {
        let started = Instant::now();
        match step.step {
            Step::Apply => self.apply(driver, step, m, observer).await?,
            Step::Unapply => self.unapply(driver, step, m, observer).await?,
        }
        observer.finished(step, started.elapsed());
        info!(elapsed_ms = started.elapsed().as_millis() as u64, "done");
        Ok(())
    }

    /// Renders the rollback of every migration the plan unapplies, in one pass over
    /// the history: each from the schema just before it (a partial migration: only
    /// its completed operations). Irreversible ones fail here, before anything runs.
    fn prepare_backward(
        &mut self,
        steps: &[PlannedStep],
        version: ServerVersion,
    ) -> Result<(), ExecError> {
        let wanted: BTreeSet<&MigrationKey> = steps
            .iter()
            .filter(|s| s.step == Step::Unapply)
            .map(|s| &s.key)
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let mut state = SchemaState::new();
        for m in self.graph.ordered() {
            let count = match self.partial.get(&m.key) {
                Some(done) => *done,
                None if self.applied.contains(&m.key) => m.operations.len(),
                None => continue,
            };
            let operations = &m.operations[..count];
            if wanted.contains(&m.key) && self.options.fake {
                // Faking needs no SQL, and must work for what would not render.
                let nothing = script::Script {
                    transaction: None,
                    recovery: Vec::new(),
                    operations: Vec::new(),
                };
                self.backward.insert(m.key.clone(), nothing);
            } else if wanted.contains(&m.key) {
                if self.partial.contains_key(&m.key) {
                    self.partial_before.insert(m.key.clone(), state.clone());
                }
                let (script, _) = script::render(
                    self.dialect,
                    version,
                    &state,
                    operations,
                    m.atomic,
                    Direction::Backward,
                )
                .map_err(|source| self.script_error(m, source))?;
                self.backward.insert(m.key.clone(), script);
            }
            for (i, op) in operations.iter().enumerate() {
                state.apply(op).map_err(|source| StateAtError {
                    migration: m.key.clone(),
                    path: m.path.clone(),
                    index: i + 1,
                    source,
                })?;
            }
        }
        Ok(())
    }

    /// The schema of `keys` (plus the completed part of partial migrations), applied
    /// in graph order, stopping before `stop_at` and leaving out `skip`.
    fn state_with(
        &self,
        keys: &BTreeSet<MigrationKey>,
        stop_at: Option<&MigrationKey>,
        skip: Option<&MigrationKey>,
    ) -> Result<SchemaState, ExecError> {
        let mut state = SchemaState::new();
        for m in self.graph.ordered() {
            if Some(&m.key) == stop_at {
                break;
            }
            if Some(&m.key) == skip {
                continue;
            }
            let count = match self.partial.get(&m.key) {
                Some(done) => *done,
                None if keys.contains(&m.key) => m.operations.len(),
                None => continue,
            };
            for (i, op) in m.operations.iter().take(count).enumerate() {
                state.apply(op).map_err(|source| StateAtError {
                    migration: m.key.clone(),
                    path: m.path.clone(),
                    index: i + 1,
                    source,
                })?;
            }
        }
        Ok(state)
    }

    async fn apply(
        &mut self,
        driver: &mut dyn Driver,
        step: &PlannedStep,
        m: &Migration,
        observer: &mut dyn Observer,
    ) -> Result<(), ExecError> {
        let resuming = self.partial.contains_key(&m.key);
        // The running state holds the completed part of a partial migration, so a
        // resumed one starts from the state without it.
        let before = match self.running.take() {
            Some(state) if !resuming => state,
            _ => self.state_with(&self.applied.clone(), None, Some(&m.key))?,
        };
        let total = m.operations.len();
        let mut done = step.done;
        if resuming && !self.options.fake {
            done = self
                .locate_checkpoint(driver, m, &before, &m.operations, done, Direction::Forward)
                .await?;
        }
        // Faking records without running, so it needs no SQL (and works for a
        // migration that would not render).
        let (script, after) = if self.options.fake {
            (None, apply_all(before, m, &m.operations)?)
        } else {
            let (script, after) = script::render_from(
                self.dialect,
                driver.version(),
                before,
                &m.operations,
                m.atomic,
                Direction::Forward,
            )
            .map_err(|source| self.script_error(m, source))?;
            (Some(script), after)
        };
        let fake = self.options.fake
            || (self.options.fake_initial && self.initial_exists(driver, m, &after).await?);
        observer.started(step, total, fake);
        let started = Instant::now();
        if fake {
            info!("faked");
            let record = if resuming {
                self.history
                    .update(self.dialect, &m.key, RowState::Applied, total, Some(0))
            } else {
                self.history.insert(
                    self.dialect,
                    &m.key,
                    &m.checksum,
                    RowState::Applied,
                    total,
                    0,
                )
            };
            driver.execute(&record.sql).await?;
        } else if let Some(script) = script.as_ref().filter(|s| s.transaction.is_some()) {
            let (history, dialect) = (self.history, self.dialect);
            let record = || {
                let elapsed = started.elapsed().as_millis();
                vec![if resuming {
                    history.update(dialect, &m.key, RowState::Applied, total, Some(elapsed))
                } else {
                    history.insert(
                        dialect,
                        &m.key,
                        &m.checksum,
                        RowState::Applied,
                        total,
                        elapsed,
                    )
                }]
            };
            let bookkeeping = Bookkeeping {
                skip: done,
                commit: Some(&record),
                ..Default::default()
            };
            script
                .execute_with(driver, &bookkeeping)
                .await
                .map_err(|e| {
                    self.failure(
                        m,
                        script,
                        e,
                        "nothing of it was applied (rolled back)".into(),
                        false,
                    )
                })?;
        } else {
            let script = script.expect("rendered unless faking");
            let history = self.history;
            let dialect = self.dialect;
            let key = m.key.clone();
            // The last operation's checkpoint is the final "applied" row itself; a run
            // killed between the two is one operation ahead of its checkpoint, which a
            // resume recognises.
            let checkpoint = move |n: usize| {
                (n < total)
                    .then(|| history.update(dialect, &key, RowState::Partial, n, None))
                    .into_iter()
                    .collect()
            };
            let start = if resuming || done > 0 {
                vec![self
                    .history
                    .update(self.dialect, &m.key, RowState::Partial, done, None)]
            } else {
                vec![self.history.insert(
                    self.dialect,
                    &m.key,
                    &m.checksum,
                    RowState::Partial,
                    0,
                    0,
                )]
            };
            let bookkeeping = Bookkeeping {
                skip: done,
                start,
                checkpoint: Some(&checkpoint),
                batch_checkpoints: self.dialect.capabilities(driver.version()).batch_statements,
                finish: Vec::new(),
                commit: None,
            };
            if let Err(e) = script.execute_with(driver, &bookkeeping).await {
                // Failing on the first statement of a fresh run changed nothing: forget
                // the checkpoint row, so the database is exactly as before.
                let untouched = !resuming && done == 0 && e.completed == 0 && e.statement <= 1;
                if untouched
                    && driver
                        .execute(&self.history.delete(self.dialect, &m.key).sql)
                        .await
                        .is_ok()
                {
                    let applied = "nothing of it was applied".to_string();
                    return Err(self.failure(m, &script, e, applied, false));
                }
                let applied = describe_applied(&script, e.completed, total);
                return Err(self.failure(m, &script, e, applied, true));
            }
            let elapsed = started.elapsed().as_millis();
            driver
                .execute(
                    &self
                        .history
                        .update(
                            self.dialect,
                            &m.key,
                            RowState::Applied,
                            total,
                            Some(elapsed),
                        )
                        .sql,
                )
                .await?;
        }
        self.partial.remove(&m.key);
        self.applied.insert(m.key.clone());
        self.running = Some(after);
        Ok(())
    }

    async fn unapply(
        &mut self,
        driver: &mut dyn Driver,
        step: &PlannedStep,
        m: &Migration,
        observer: &mut dyn Observer,
    ) -> Result<(), ExecError> {
        let mut script = self
            .backward
            .remove(&m.key)
            .expect("every unapply step is prepared");
        let recorded = self.partial.get(&m.key).copied();
        if let (Some(recorded), false) = (recorded, self.options.fake) {
            // A rollback of a migration that stopped part-way (or of a rollback that
            // did): undo what the live schema really has.
            let before = self.partial_before.remove(&m.key).expect("prepared");
            let actual = self
                .locate_checkpoint(
                    driver,
                    m,
                    &before,
                    &m.operations,
                    recorded,
                    Direction::Backward,
                )
                .await?;
            if actual != recorded {
                script = script::render(
                    self.dialect,
                    driver.version(),
                    &before,
                    &m.operations[..actual],
                    m.atomic,
                    Direction::Backward,
                )
                .map_err(|source| self.script_error(m, source))?
                .0;
            }
        }
        let total = script.operations.len();
        observer.started(step, total, self.options.fake);
        let forget = self.history.delete(self.dialect, &m.key);
        if self.options.fake {
            driver.execute(&forget.sql).await?;
        } else if script.transaction.is_some() {
            let record = || vec![forget.clone()];
            let bookkeeping = Bookkeeping {
                commit: Some(&record),
                ..Default::default()
            };
            script
                .execute_with(driver, &bookkeeping)
                .await
                .map_err(|e| {
                    self.failure(
                        m,
                        &script,
                        e,
                        "it is still fully applied (rolled back)".into(),
                        false,
                    )
                })?;
        } else {
            // Undoing operation i (counting from the last) leaves total - i applied.
            let history = self.history;
            let dialect = self.dialect;
            let key = m.key.clone();
            // The last undo's checkpoint is the row's deletion itself.
            let checkpoint = move |undone: usize| {
                (undone < total)
                    .then(|| history.update(dialect, &key, RowState::Partial, total - undone, None))
                    .into_iter()
                    .collect()
            };
            let bookkeeping = Bookkeeping {
                start: vec![self.history.update(
                    self.dialect,
                    &m.key,
                    RowState::Partial,
                    total,
                    None,
                )],
                checkpoint: Some(&checkpoint),
                batch_checkpoints: self.dialect.capabilities(driver.version()).batch_statements,
                finish: vec![forget],
                ..Default::default()
            };
            if let Err(e) = script.execute_with(driver, &bookkeeping).await {
                // Failing before anything was undone leaves the row as it was.
                if e.completed == 0 && e.statement <= 1 && recorded.is_none() {
                    let restore =
                        self.history
                            .update(self.dialect, &m.key, RowState::Applied, total, None);
                    if driver.execute(&restore.sql).await.is_ok() {
                        let applied = "nothing was undone: it is still fully applied".to_string();
                        return Err(self.failure(m, &script, e, applied, false));
                    }
                }
                let applied = format!(
                    "{} of its {total} operations are still applied (the checkpoint records this)",
                    total - e.completed
                );
                return Err(self.failure(m, &script, e, applied, true));
            }
        }
        self.applied.remove(&m.key);
        self.partial.remove(&m.key);
        self.running = None;
        Ok(())
    }

    fn script_error(&self, m: &Migration, source: ScriptError) -> ExecError {
        ExecError::Script {
            key: m.key.clone(),
            path: m.path.clone(),
            source,
        }
    }

    fn failure(
        &self,
        m: &Migration,
        script: &script::Script,
        e: script::ExecuteError,
        applied: String,
        partial: bool,
    ) -> ExecError {
        let operation = e.operation.min(script.operations.len().saturating_sub(1));
        // Past the last operation: the checks and commit that close the transaction.
        let after_last = e.operation >= script.operations.len();
        let description = match script.operations.get(operation) {
            Some(o) if after_last => format!(
                "{}; failed in the checks and commit after it",
                o.description
            ),
            Some(o) => o.description.clone(),
            None => "bookkeeping".into(),
        };
        ExecError::Failed {
            key: m.key.clone(),
            path: m.path.clone(),
            operation: operation + 1,
            total: script.operations.len(),
            description,
            source: e.source,
            applied,
            partial,
        }
    }

    /// Before resuming (or rolling back) a migration that stopped part-way, finds
    /// where the live schema really is: at its checkpoint, or one operation past it
    /// in the direction it was going (a run killed between an operation and its
    /// checkpoint). Only the tables the migration touches are compared, so objects
    /// strata does not manage elsewhere in the database do not get in the way.
    async fn locate_checkpoint(
        &self,
        driver: &mut dyn Driver,
        m: &Migration,
        before: &SchemaState,
        operations: &[Operation],
        recorded: usize,
        direction: Direction,
    ) -> Result<usize, ExecError> {
        let live = driver.introspect().await?;
        let touched = touched_tables(operations);
        let live = restrict(&live, &touched);
        let version = driver.version();
        let ignore = [self.options.history_table.as_str()];
        let neighbour = match direction {
            Direction::Forward => recorded + 1,
            Direction::Backward => recorded.wrapping_sub(1),
        };
        let mut first_differences = None;
        for candidate in [recorded, neighbour] {
            if candidate > operations.len() {
                continue;
            }
            let Ok(expected) = apply_all(before.clone(), m, &operations[..candidate]) else {
                continue;
            };
            let differences = drift::differences(
                self.dialect,
                version,
                &restrict(&expected, &touched),
                &live,
                &ignore,
            );
            if differences.is_empty() {
                if candidate != recorded {
                    warn!(
                        recorded,
                        actual = candidate,
                        "the schema is one operation past the checkpoint; using it"
                    );
                } else {
                    info!(done = candidate, "checkpoint matches the live schema");
                }
                return Ok(candidate);
            }
            first_differences.get_or_insert(differences);
        }
        Err(ExecError::Drift {
            key: m.key.clone(),
            done: recorded,
            differences: first_differences.unwrap_or_default(),
        })
    }

    /// `--fake-initial`: whether every table `m` creates already exists with its
    /// columns. Only some of them existing is an error.
    async fn initial_exists(
        &self,
        driver: &mut dyn Driver,
        m: &Migration,
        after: &SchemaState,
    ) -> Result<bool, ExecError> {
        let is_initial = !m.dependencies.iter().any(|d| d.app == m.key.app);
        let created: Vec<&str> = m
            .operations
            .iter()
            .filter_map(|op| match op {
                Operation::CreateTable(t) => Some(t.name.as_str()),
                _ => None,
            })
            .collect();
        if !is_initial || created.is_empty() {
            return Ok(false);
        }
        let live = driver.introspect().await?;
        let present: Vec<&str> = created
            .iter()
            .copied()
            .filter(|t| {
                live.tables.get(*t).is_some_and(|lt| {
                    after.tables[*t]
                        .columns
                        .iter()
                        .all(|c| lt.column(&c.name).is_some())
                })
            })
            .collect();
        if present.is_empty() {
            Ok(false)
        } else if present.len() == created.len() {
            Ok(true)
        } else {
            Err(ExecError::FakeInitialPartly {
                key: m.key.clone(),
                existing: present.join(", "),
            })
        }
    }
}

fn describe_applied(script: &script::Script, completed: usize, total: usize) -> String {
    if completed == 0 {
        return format!("none of its {total} operations were applied; the checkpoint records 0");
    }
    let names: Vec<_> = script.operations[..completed]
        .iter()
        .enumerate()
        .map(|(i, o)| format!("  {}. {}", i + 1, o.description))
        .collect();
    format!(
        "applied and checkpointed: {completed} of {total} operations:\n{}\nfix the cause and run `strata migrate` again to resume at operation {}",
        names.join("\n"),
        completed + 1
    )
}

/// `state` with `operations` of `m` applied.
fn apply_all(
    mut state: SchemaState,
    m: &Migration,
    operations: &[Operation],
) -> Result<SchemaState, ExecError> {
    for (i, op) in operations.iter().enumerate() {
        state.apply(op).map_err(|source| StateAtError {
            migration: m.key.clone(),
            path: m.path.clone(),
            index: i + 1,
            source,
        })?;
    }
    Ok(state)
}

/// The tables that operations create, change, rename or drop (by every name).
fn touched_tables(operations: &[Operation]) -> BTreeSet<String> {
    let mut tables = BTreeSet::new();
    for op in operations {
        if let Operation::RenameTable(r) = op {
            tables.insert(r.to.clone());
        }
        if let Some(t) = op.table() {
            tables.insert(t.to_string());
        }
    }
    tables
}

/// Only the tables named in `keep`.
fn restrict(state: &SchemaState, keep: &BTreeSet<String>) -> SchemaState {
    SchemaState {
        tables: state
            .tables
            .iter()
            .filter(|(name, _)| keep.contains(*name))
            .map(|(name, t)| (name.clone(), t.clone()))
            .collect(),
    }
}

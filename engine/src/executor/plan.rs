//! Planning, without a database: what the history says (`Status`), the checksums of
//! applied files, the ordered steps (`plan`), and the steps prepared to run
//! (`prepare`), every rollback rendered before anything runs.

use std::collections::{BTreeMap, BTreeSet};

use super::{ExecError, Options};
use crate::ast::Operation;
use crate::dialect::{Dialect, ServerVersion};
use crate::graph::{Graph, Step, Target};
use crate::history::{consistency, edits, BackfillCursor, Damage, HistoryRow, RowState};
use crate::migration::{Migration, MigrationKey, StateAtError};
use crate::script::{self, Direction, Script};
use crate::state::SchemaState;

/// One step of a plan. `done` operations of it, and `done_statements` statements of
/// the next (a `run_sql` stopped part-way), were completed by an earlier, interrupted
/// run (step-by-step migrations only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStep {
    pub step: Step,
    pub key: MigrationKey,
    pub done: usize,
    pub done_statements: usize,
}

impl PlannedStep {
    /// For a migration an earlier run stopped part-way and this step resumes: the
    /// operations already done.
    pub fn resumes_after(&self) -> Option<usize> {
        (self.step == Step::Apply && self.done > 0).then_some(self.done)
    }
}

/// What the database holds, as far as the project knows it.
#[derive(Debug, Clone, Default)]
pub struct Status {
    pub rows: BTreeMap<MigrationKey, HistoryRow>,
    /// Rows that could not be read, and migrations with several rows.
    pub damage: Damage,
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

/// The plan that `migrate` would run for `targets`, from a history already read.
/// Refused when it would call a function the application did not register.
pub fn plan(
    graph: &Graph,
    status: &Status,
    targets: &[Target],
    options: &Options,
) -> Result<Vec<PlannedStep>, ExecError> {
    let (graph, status) = super::squashed::in_use(graph, status)?;
    graph.require_in_use(targets)?;
    let steps = plan_steps(&graph, &status, targets, options)?;
    check_functions(&graph, &steps, &InEffect::new(&status), options)?;
    Ok(steps)
}

fn plan_steps(
    graph: &Graph,
    status: &Status,
    targets: &[Target],
    options: &Options,
) -> Result<Vec<PlannedStep>, ExecError> {
    consistency::verify(&options.history_table, graph, &status.rows, &status.damage)?;
    verify_checksums(graph, status, options.accept_edited)?;
    let applied = status.applied();
    let mut steps: Vec<PlannedStep> = graph
        .plan(targets, &applied)
        .into_iter()
        .map(|(step, key)| PlannedStep {
            step,
            key,
            done: 0,
            done_statements: 0,
        })
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
            s.done_statements = row.statements_done;
            continue;
        }
        // Not resumed: is it being rolled back? Not from inside a `run_sql`: its
        // reverse undoes the whole operation, not the statements that ran.
        let mut with_partial = applied.clone();
        with_partial.insert(row.key.clone());
        let back = graph.plan(targets, &with_partial);
        if back
            .iter()
            .any(|(step, key)| *step == Step::Unapply && *key == row.key)
        {
            if row.statements_done > 0 {
                return Err(ExecError::InsideRunSql {
                    key: row.key.clone(),
                    operation: row.operations_done + 1,
                    statements: row.statements_done,
                });
            }
            return Ok(back
                .into_iter()
                .map(|(step, key)| {
                    let done = if key == row.key {
                        row.operations_done
                    } else {
                        0
                    };
                    PlannedStep {
                        step,
                        key,
                        done,
                        done_statements: 0,
                    }
                })
                .collect());
        }
        return Err(ExecError::PartialPending {
            key: row.key.clone(),
            path: m.path.clone(),
            done: row.operations_done,
            statements_done: row.statements_done,
            total: m.operations.len(),
            rollback: super::Rollback::of(m),
        });
    }
    Ok(steps)
}

/// Every history row of the project's apps has its file, saying what the row
/// recorded: for an applied migration the same file, for a partial one the same
/// operations that ran (those not yet run may be edited). `--accept-edited` takes
/// any edit but operations that ran and are gone.
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
        if let Some(edit) = edits::edit(row, m) {
            if !accept_edited || !edit.acceptable() {
                return Err(ExecError::Edited {
                    key: row.key.clone(),
                    path: m.path.clone(),
                    edit,
                });
            }
        }
    }
    Ok(())
}

/// The migrations in effect in the database: applied ones, and how far partial ones
/// got. Kept up to date as a run goes.
#[derive(Debug, Clone, Default)]
pub(super) struct InEffect {
    applied: BTreeSet<MigrationKey>,
    partial: BTreeMap<MigrationKey, usize>,
    /// Partial migrations stopped inside a backfill: how far it got.
    cursors: BTreeMap<MigrationKey, BackfillCursor>,
}

impl InEffect {
    pub(super) fn new(status: &Status) -> Self {
        Self {
            applied: status.applied(),
            partial: status
                .partial()
                .map(|r| (r.key.clone(), r.operations_done))
                .collect(),
            cursors: status
                .partial()
                .filter_map(|r| Some((r.key.clone(), r.cursor.clone()?)))
                .collect(),
        }
    }

    /// Where the backfill after the checkpoint of partial `key` got, if it stopped
    /// inside one.
    pub(super) fn cursor(&self, key: &MigrationKey) -> Option<&BackfillCursor> {
        self.cursors.get(key)
    }

    /// How many operations of `m` are in effect, if any part of it is recorded.
    fn count(&self, m: &Migration) -> Option<usize> {
        match self.partial.get(&m.key) {
            Some(done) => Some(*done),
            None if self.applied.contains(&m.key) => Some(m.operations.len()),
            None => None,
        }
    }

    /// The checkpoint of `key`, if an earlier run left it partially applied.
    pub(super) fn partial(&self, key: &MigrationKey) -> Option<usize> {
        self.partial.get(key).copied()
    }

    pub(super) fn mark_applied(&mut self, key: &MigrationKey) {
        self.partial.remove(key);
        self.cursors.remove(key);
        self.applied.insert(key.clone());
    }

    pub(super) fn mark_unapplied(&mut self, key: &MigrationKey) {
        self.partial.remove(key);
        self.cursors.remove(key);
        self.applied.remove(key);
    }

    /// The schema of everything in effect, in graph order, leaving out `skip`.
    pub(super) fn schema(
        &self,
        graph: &Graph,
        skip: &MigrationKey,
    ) -> Result<SchemaState, StateAtError> {
        let mut state = SchemaState::new();
        for m in graph.ordered().filter(|m| m.key != *skip) {
            if let Some(count) = self.count(m) {
                m.replay(&mut state, count)?;
            }
        }
        Ok(state)
    }
}

/// A planned step with everything it needs to run.
pub(super) struct Prepared<'g> {
    pub(super) step: PlannedStep,
    pub(super) migration: &'g Migration,
    pub(super) work: Work,
}

pub(super) enum Work {
    /// Rendered before anything runs, from the schema the steps before it leave.
    /// `None` when faking.
    Apply { script: Option<Script> },
    /// Rendered before anything runs, so an irreversible migration stops the plan
    /// first. `None` when faking: nothing runs, so nothing needs to render.
    Unapply {
        script: Option<Script>,
        /// The migration stopped part-way: the schema before it, to find where the
        /// live schema really is.
        partial: Option<PartialRollback>,
    },
}

pub(super) struct PartialRollback {
    pub(super) before: SchemaState,
    pub(super) recorded: usize,
}

/// Prepares `steps`: renders the rollback of every migration the plan unapplies, in
/// one pass over the history, each from the schema just before it (a partial
/// migration: only its completed operations), and every forward step from the schema
/// the steps before it leave (the scripts the run runs: nothing renders twice).
/// Irreversible operations, unknown tables, duplicate
/// columns, names too long for the server… in any step fail here, before the first
/// statement of the first step runs.
pub(super) fn prepare<'g>(
    graph: &'g Graph,
    steps: Vec<PlannedStep>,
    in_effect: &InEffect,
    options: &Options,
    dialect: &dyn Dialect,
    version: ServerVersion,
) -> Result<Vec<Prepared<'g>>, ExecError> {
    let mut rollbacks: BTreeMap<MigrationKey, Work> = BTreeMap::new();
    let wanted: BTreeSet<&MigrationKey> = steps
        .iter()
        .filter(|s| s.step == Step::Unapply)
        .map(|s| &s.key)
        .collect();
    if !wanted.is_empty() {
        let mut state = SchemaState::new();
        for m in graph.ordered() {
            let Some(count) = in_effect.count(m) else {
                continue;
            };
            if wanted.contains(&m.key) {
                let work = unapply_work(m, count, &state, in_effect, options, dialect, version)?;
                rollbacks.insert(m.key.clone(), work);
            }
            m.replay(&mut state, count)?;
        }
    }
    let mut forward = Forward {
        simulated: in_effect.clone(),
        state: None,
        options,
        dialect,
        version,
    };
    steps
        .into_iter()
        .map(|step| {
            let migration = graph.get(&step.key).ok_or_else(|| ExecError::MissingFile {
                key: step.key.clone(),
            })?;
            if step.step == Step::Unapply {
                forward.unapplied(&step.key);
            }
            let work = match (step.step, rollbacks.remove(&step.key)) {
                (Step::Apply, _) => Work::Apply {
                    script: forward.render(graph, &step, migration)?,
                },
                (Step::Unapply, Some(work)) => work,
                // Nothing of it is in effect: undoing it runs nothing but the history.
                (Step::Unapply, None) => unapply_work(
                    migration,
                    0,
                    &SchemaState::new(),
                    in_effect,
                    options,
                    dialect,
                    version,
                )?,
            };
            Ok(Prepared {
                step,
                migration,
                work,
            })
        })
        .collect()
}

/// Renders the forward steps as the run will run them (`Run::apply`), each from the
/// schema the steps before it leave, in plan order. A partial migration's script is
/// rendered from the schema without it, as its run starts from: the script does not
/// depend on how far it got, so the run takes it as it is. Faking runs no SQL, so
/// nothing is rendered.
struct Forward<'a> {
    simulated: InEffect,
    /// The schema after the forward steps so far, while they follow one another.
    state: Option<SchemaState>,
    options: &'a Options,
    dialect: &'a dyn Dialect,
    version: ServerVersion,
}

impl Forward<'_> {
    fn render(
        &mut self,
        graph: &Graph,
        step: &PlannedStep,
        m: &Migration,
    ) -> Result<Option<Script>, ExecError> {
        if self.options.fake {
            return Ok(None);
        }
        let before = match (self.state.take(), self.simulated.partial(&m.key)) {
            (Some(state), None) => state,
            _ => self.simulated.schema(graph, &m.key)?,
        };
        let (script, after) = script::render_from(
            self.dialect,
            self.version,
            before,
            &m.operations,
            self.options.mode(m),
            Direction::Forward,
        )
        .map_err(|source| ExecError::Script {
            key: m.key.clone(),
            path: m.path.clone(),
            source,
        })?;
        statement_checkpoint_fits(m, &script, step.done, step.done_statements)?;
        self.simulated.mark_applied(&m.key);
        self.state = Some(after);
        Ok(Some(script))
    }

    fn unapplied(&mut self, key: &MigrationKey) {
        self.simulated.mark_unapplied(key);
        self.state = None;
    }
}

/// Every function the plan's `run_code` operations will call is registered: going
/// forward, those of the operations not yet done; going backward, the `reverse` of
/// those in effect. Faking calls nothing.
fn check_functions(
    graph: &Graph,
    steps: &[PlannedStep],
    in_effect: &InEffect,
    options: &Options,
) -> Result<(), ExecError> {
    if options.fake {
        return Ok(());
    }
    for step in steps {
        let Some(m) = graph.get(&step.key) else {
            continue; // `prepare` reports it
        };
        let (range, direction) = match step.step {
            Step::Apply => (step.done..m.operations.len(), Direction::Forward),
            Step::Unapply => (0..in_effect.count(m).unwrap_or(0), Direction::Backward),
        };
        for (i, op) in m
            .operations
            .iter()
            .enumerate()
            .take(range.end)
            .skip(range.start)
        {
            let Operation::RunCode(code) = op else {
                continue;
            };
            let called = match direction {
                Direction::Forward => Some(&code.name),
                // Without a reverse, rendering the rollback refuses it.
                Direction::Backward => code.reverse.as_ref(),
            };
            if let Some(function) = called.filter(|f| options.functions.get(f).is_none()) {
                return Err(ExecError::MissingFunction {
                    key: m.key.clone(),
                    operation: i + 1,
                    function: function.clone(),
                    direction,
                });
            }
        }
    }
    Ok(())
}

/// A statement checkpoint falls inside the operation it names: one at or past its last
/// statement (a row written by hand) would record the migration applied without
/// running the rest of it.
pub(super) fn statement_checkpoint_fits(
    m: &Migration,
    script: &Script,
    operations: usize,
    statements: usize,
) -> Result<(), ExecError> {
    let total = script
        .operations
        .get(operations)
        .map_or(0, |op| op.statements.len());
    if statements > 0 && statements >= total {
        return Err(ExecError::CheckpointPastOperation {
            key: m.key.clone(),
            operation: operations + 1,
            statements,
            total,
        });
    }
    Ok(())
}

/// The rollback of the first `count` operations of `m`, from `before`.
fn unapply_work(
    m: &Migration,
    count: usize,
    before: &SchemaState,
    in_effect: &InEffect,
    options: &Options,
    dialect: &dyn Dialect,
    version: ServerVersion,
) -> Result<Work, ExecError> {
    if options.fake {
        return Ok(Work::Unapply {
            script: None,
            partial: None,
        });
    }
    let (script, _) = script::render(
        dialect,
        version,
        before,
        &m.operations[..count],
        options.mode(m),
        Direction::Backward,
    )
    .map_err(|source| ExecError::Script {
        key: m.key.clone(),
        path: m.path.clone(),
        source,
    })?;
    let partial = in_effect.partial(&m.key).map(|recorded| PartialRollback {
        before: before.clone(),
        recorded,
    });
    Ok(Work::Unapply {
        script: Some(script),
        partial,
    })
}

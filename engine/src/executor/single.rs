//! `migrate --single-transaction`: the whole plan — every step and its history rows —
//! in one transaction, all or nothing. Checked before anything runs: each step's
//! script must be one the runner would run in a transaction of its own (the
//! dialect's transactional DDL, an atomic migration, no statement that must run
//! alone, no backfill); the plan then runs inside one transaction that the scripts
//! join instead of opening their own.

use std::time::Instant;

use super::plan::{Prepared, Work};
use super::ExecError;
use crate::dialect::driver::{run_statement, Driver};
use crate::dialect::{Dialect, Runs, ServerVersion, TransactionSql};
use crate::migration::Migration;
use crate::script::Script;

/// Refuses the plan, naming the first step (and operation) that cannot run inside
/// the plan's transaction, from the scripts `plan::prepare` rendered for the run.
pub(super) fn check(
    prepared: &[Prepared<'_>],
    dialect: &dyn Dialect,
    version: ServerVersion,
) -> Result<(), ExecError> {
    if !dialect.capabilities(version).transactional_ddl {
        return Err(ExecError::SingleTransaction {
            key: None,
            reason: "this database commits every DDL statement on its own (no transactional DDL)"
                .into(),
        });
    }
    for p in prepared {
        let (Work::Apply { script } | Work::Unapply { script, .. }) = &p.work;
        if let Some(script) = script {
            joinable(p.migration, script)?;
        }
    }
    Ok(())
}

/// Whether `script` (of `m`) runs in one transaction, which the plan's can replace;
/// if not, why, naming the operation.
fn joinable(m: &Migration, script: &Script) -> Result<(), ExecError> {
    if script.transaction.is_some() {
        return Ok(());
    }
    let refuse = |reason: String| {
        Err(ExecError::SingleTransaction {
            key: Some(m.key.clone()),
            reason: format!("{} ({}): {reason}", m.key, m.path.display()),
        })
    };
    if !m.atomic {
        return refuse("it sets `atomic = false`, so it runs outside a transaction".into());
    }
    for (i, op) in script.operations.iter().enumerate() {
        for s in &op.statements {
            let why = if s.backfill.is_some() {
                "a backfill commits each batch"
            } else if s.runs != Runs::InGroup {
                "it has a statement that must run outside a transaction"
            } else {
                continue;
            };
            return refuse(format!(
                "operation {} ({}): {why}: {}",
                i + 1,
                op.description,
                s.sql.lines().next().unwrap_or_default()
            ));
        }
    }
    refuse("it cannot run in a transaction".into())
}

/// The plan's transaction: the dialect's wrapper, opened once for the whole run.
pub(super) struct PlanTransaction {
    wrapper: TransactionSql,
    /// When its `BEGIN` was sent: the history rows' durations are measured from it.
    pub(super) began: Instant,
}

impl PlanTransaction {
    /// Runs what goes before the transaction and opens it.
    pub(super) async fn open(driver: &mut dyn Driver) -> Result<Self, ExecError> {
        let wrapper = driver.dialect().transaction_sql();
        let mut began = Instant::now();
        for (i, statement) in wrapper.before.iter().chain(&wrapper.begin).enumerate() {
            if i == wrapper.before.len() {
                began = Instant::now(); // the `BEGIN`, not the settings before it
            }
            if let Err(e) = run_statement(driver, statement).await {
                // `before` settings are session-wide: put them back.
                Self { wrapper, began }.close(driver).await;
                return Err(e.into());
            }
        }
        Ok(Self { wrapper, began })
    }

    /// A step's script joining the plan's transaction: the runner still runs it "in
    /// a transaction" (rolled back on failure, its history row before the end), but
    /// opens and commits nothing itself.
    pub(super) fn join(script: &mut Script) {
        script.transaction = Some(TransactionSql {
            before: Vec::new(),
            begin: Vec::new(),
            commit: Vec::new(),
            after: Vec::new(),
        });
    }

    /// Runs the guards, commits, and restores the session settings.
    pub(super) async fn commit(self, driver: &mut dyn Driver) -> Result<(), ExecError> {
        let mut result = Ok(());
        for statement in &self.wrapper.commit {
            if let Err(e) = run_statement(driver, statement).await {
                let _ = driver.execute("ROLLBACK").await;
                result = Err(ExecError::SingleTransactionCommit { source: e });
                break;
            }
        }
        self.close(driver).await;
        result
    }

    /// After a failure: rolls back (a no-op when the failed step already did) and
    /// restores the session settings.
    pub(super) async fn roll_back(self, driver: &mut dyn Driver) {
        // The failure already says what went wrong; a failed rollback adds nothing.
        let _ = driver.execute("ROLLBACK").await;
        self.close(driver).await;
    }

    async fn close(self, driver: &mut dyn Driver) {
        for statement in &self.wrapper.after {
            let _ = run_statement(driver, statement).await;
        }
    }
}

//! `migrate --tenants FILE`: each tenant migrated as `strata migrate` would (its own
//! connection, the executor's lock, lint first), exactly once. A tenant with nothing
//! to do is found from its history read without the lock, so a rerun after a crash
//! passes the finished tenants quickly and locks nothing on them.

use std::io::Write;
use std::time::Instant;

use strata_engine::dialect::driver::Driver;
use strata_engine::executor::{self, Quiet};
use strata_engine::graph::{Step, Target};

use super::report::{self, Ledger, Outcome, Record, Summary, Totals};
use super::runner::{run_all, Turn};
use super::tenants::{self, Tenant};
use crate::args::{Format, MigrateArgs};
use crate::commands::migrate::{options, refuse_plan_lint_errors, targets};
use crate::context::Context;
use crate::database;
use crate::error::{exit, CliError};
use crate::signals;

/// What one tenant's turn did.
enum Done {
    /// Nothing to do, found without the lock.
    UpToDate,
    Ran {
        applied: usize,
        unapplied: usize,
    },
    /// A signal came while it was connecting: nothing was done.
    Stopped,
}

pub(crate) async fn run(
    ctx: &Context,
    args: &MigrateArgs,
    quiet: bool,
    format: Format,
    out: &mut dyn Write,
) -> Result<u8, CliError> {
    let started = Instant::now();
    let path = args.tenants.as_deref().expect("dispatched on --tenants");
    let fleet = tenants::read(path, ctx)?;
    // The same for every tenant: checked once, before any connects.
    let targets = targets(ctx, args)?;
    let options = options(ctx, args);
    let json = format == Format::Json;
    let mut stderr = std::io::stderr();
    let lines: Option<&mut dyn Write> = match (quiet, json) {
        (true, _) => None,
        (false, true) => Some(&mut stderr),
        (false, false) => Some(&mut *out),
    };
    let mut ledger = Ledger::new(fleet.len(), args.report.as_deref(), path, lines)?;
    run_all(
        &fleet,
        usize::from(args.jobs),
        !args.continue_on_error,
        |tenant| migrate_tenant(ctx, args, &targets, &options, tenant),
        |tenant, turn, elapsed| {
            ledger.record(match turn {
                // The second: its plan was empty once it held the lock, as another
                // run (or the same database under another URL) had just migrated it.
                Turn::Ran(Ok(
                    Done::UpToDate
                    | Done::Ran {
                        applied: 0,
                        unapplied: 0,
                    },
                )) => Record::new(tenant, Outcome::UpToDate, elapsed),
                Turn::Ran(Ok(Done::Ran { applied, unapplied })) => Record {
                    applied: Some(applied),
                    unapplied: Some(unapplied),
                    ..Record::new(tenant, Outcome::Ok, elapsed)
                },
                Turn::Ran(Err(e)) => Record::failed(tenant, &e, elapsed),
                Turn::Interrupted(e) => Record::interrupted(tenant, &e, elapsed),
                // Stopped while connecting: nothing was done.
                Turn::Ran(Ok(Done::Stopped)) | Turn::NotStarted => {
                    Record::new(tenant, Outcome::NotStarted, elapsed)
                }
            })
        },
    )
    .await?;
    finish(ledger.close(), "migrated", quiet, format, out, started)
}

/// The summary, and the exit code: 0 when every tenant is done, else
/// [`CliError::Fleet`] (exit 6, as a partial run: fix the cause, run again to finish).
pub(super) fn finish(
    (totals, records): (Totals, Vec<Record>),
    ok_word: &str,
    quiet: bool,
    format: Format,
    out: &mut dyn Write,
    started: Instant,
) -> Result<u8, CliError> {
    match format {
        Format::Json => crate::commands::write_json(
            out,
            &Summary {
                totals: totals.clone(),
                elapsed_ms: crate::commands::migrate::json::millis(started.elapsed()),
                results: records,
            },
        )?,
        Format::Text if !quiet => {
            report::write_summary(out, &totals, ok_word, &records, started.elapsed())?;
        }
        Format::Text => {}
    }
    if totals.failed + totals.interrupted + totals.not_started == 0 {
        return Ok(exit::OK);
    }
    // After a signal, `main` reports the interruption with this as its cause.
    Err(CliError::Fleet {
        failed: totals.failed + totals.interrupted,
        not_started: totals.not_started,
        tenants: totals.tenants,
    })
}

/// One tenant.
async fn migrate_tenant(
    ctx: &Context,
    args: &MigrateArgs,
    targets: &[Target],
    options: &executor::Options,
    tenant: &Tenant,
) -> Result<Done, CliError> {
    // A connect has done nothing yet: on a signal it is abandoned rather than waited
    // for (up to connect_timeout when the server does not answer).
    let mut driver = tokio::select! {
        connected = database::connect_to(ctx, &tenant.url) => connected?,
        () = signals::stopping() => return Ok(Done::Stopped),
    };
    let result = migrate_on(ctx, args, targets, options, driver.as_mut()).await;
    let closed = driver.close().await;
    let ran = result?;
    closed?;
    Ok(ran)
}

async fn migrate_on(
    ctx: &Context,
    args: &MigrateArgs,
    targets: &[Target],
    options: &executor::Options,
    driver: &mut dyn Driver,
) -> Result<Done, CliError> {
    // Read without the lock: an empty plan needs none (`--accept-edited` may have
    // checksums to record even then). The plan is linted as a lone `migrate` does.
    let status = executor::status(driver, options).await?;
    let plan = executor::plan(&ctx.graph, &status, targets, options)?;
    if plan.is_empty() && !args.accept_edited {
        return Ok(Done::UpToDate);
    }
    if !args.fake {
        refuse_plan_lint_errors(ctx, driver, &status, &plan, args).await?;
    }
    let steps = executor::migrate(&ctx.graph, driver, targets, options, &mut Quiet).await?;
    let applied = steps.iter().filter(|s| s.step == Step::Apply).count();
    Ok(Done::Ran {
        applied,
        unapplied: steps.len() - applied,
    })
}

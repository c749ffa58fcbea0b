//! `showmigrations --tenants FILE`: for each tenant, how many of the project's
//! migrations its history records as applied, and how many are pending. Read only:
//! no lock, nothing created (a missing database is a failed tenant).

use std::io::Write;
use std::time::Instant;

use strata_engine::executor;

use super::migrate::finish;
use super::report::{Ledger, Outcome, Record};
use super::runner::{run_all, Turn};
use super::tenants::{self, Tenant};
use crate::args::{Format, ShowmigrationsArgs};
use crate::context::Context;
use crate::database;
use crate::error::CliError;

pub(crate) async fn run(
    ctx: &Context,
    args: &ShowmigrationsArgs,
    quiet: bool,
    format: Format,
    out: &mut dyn Write,
) -> Result<u8, CliError> {
    let started = Instant::now();
    for app in &args.apps {
        ctx.graph.target(app, None)?;
    }
    let path = args.tenants.as_deref().expect("dispatched on --tenants");
    let fleet = tenants::read(path, ctx)?;
    let mut stderr = std::io::stderr();
    let lines: Option<&mut dyn Write> = match (quiet, format) {
        (true, _) => None,
        (false, Format::Json) => Some(&mut stderr),
        (false, Format::Text) => Some(&mut *out),
    };
    let mut ledger = Ledger::new(fleet.len(), None, path, lines)?;
    run_all(
        &fleet,
        usize::from(args.jobs),
        false,
        |tenant| counts(ctx, args, tenant),
        |tenant, turn, elapsed| {
            ledger.record(match turn {
                Turn::Ran(Ok((applied, pending))) => Record {
                    applied: Some(applied),
                    pending: Some(pending),
                    ..Record::new(
                        tenant,
                        if pending == 0 {
                            Outcome::UpToDate
                        } else {
                            Outcome::Ok
                        },
                        elapsed,
                    )
                },
                Turn::Ran(Err(e)) => Record::failed(tenant, &e, elapsed),
                Turn::Interrupted(e) => Record::interrupted(tenant, &e, elapsed),
                Turn::NotStarted => Record::new(tenant, Outcome::NotStarted, elapsed),
            })
        },
    )
    .await?;
    finish(
        ledger.close(),
        "with pending migrations",
        quiet,
        format,
        out,
        started,
    )
}

/// The applied and pending migrations of `args.apps` (all apps when empty), as the
/// database uses them (a squash in use counts once).
async fn counts(
    ctx: &Context,
    args: &ShowmigrationsArgs,
    tenant: &Tenant,
) -> Result<(usize, usize), CliError> {
    let mut driver = database::connect_existing_to(ctx, &tenant.url).await?;
    let status = executor::status(driver.as_mut(), &database::options(ctx)).await;
    let closed = driver.close().await;
    let status = status?;
    closed?;
    let (graph, status) = executor::squashed::in_use(&ctx.graph, &status)?;
    let applied = status.applied();
    let wanted = |app: &str| args.apps.is_empty() || args.apps.iter().any(|a| a == app);
    let (mut done, mut pending) = (0, 0);
    for m in graph
        .apps()
        .iter()
        .filter(|a| wanted(a))
        .flat_map(|a| graph.app_migrations(a))
    {
        if applied.contains(&m.key) {
            done += 1;
        } else {
            pending += 1;
        }
    }
    Ok((done, pending))
}

//! `strata drift --revert`: puts the live schema back to what the applied migrations
//! build, running the operations between the two now, under the migration lock, in
//! one transaction where the dialect can.
//!
//! Why not a migration: a migration in the chain changes the migrations' schema, and
//! the drift is precisely a difference from that schema; a revert must leave it as it
//! is. So nothing is written, to the project or to the history (which is right
//! already): only the database changes.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};

use strata_engine::autodetect::{self, Decisions};
use strata_engine::data_loss::DataLoss;
use strata_engine::drift::{self, Drift, Kind};
use strata_engine::executor::{self, Quiet};
use strata_engine::makemigrations::questioner::{Interactive, Questioner};
use strata_engine::migration::MigrationKey;
use strata_engine::models::Models;
use strata_engine::script::{self, Direction, Mode};
use strata_engine::state::SchemaState;

use super::drift::{examine, write_text, Report};
use crate::args::{DriftArgs, Format};
use crate::context::Context;
use crate::database;
use crate::error::{exit, CliError};

pub(crate) async fn run(
    ctx: &Context,
    args: &DriftArgs,
    format: Format,
    out: &mut dyn Write,
) -> Result<u8, CliError> {
    let found = examine(ctx).await?;
    let mut driver = found.driver;
    let drift = &found.drift;
    if drift.is_empty() {
        driver.close().await?;
        match format {
            Format::Json => super::write_json(out, &Report::new(drift))?,
            Format::Text => write_text(drift, out)?,
        }
        return Ok(exit::OK);
    }
    let dialect = driver.dialect();
    let version = driver.version();
    let live = &found.live;
    let target = drift::patched(dialect.as_ref(), version, live, &found.applied, drift);
    let operations = autodetect::diff(live, &target, &decisions(drift))
        .map_err(|e| CliError::Usage(format!("cannot revert the drift: {e}")))?;
    // One transaction where the dialect can; the plain plan, as the tables are small
    // hand-made changes and the run holds the migration lock.
    let mode = Mode {
        atomic: true,
        safe: false,
    };
    let (script, _) = script::render(
        dialect.as_ref(),
        version,
        live,
        &operations,
        mode,
        Direction::Forward,
    )
    .map_err(|e| CliError::Usage(format!("cannot revert the drift: {e}")))?;

    let mut report = Report::new(drift);
    report.revert = Some(operations.clone());
    if args.sql {
        driver.close().await?;
        match format {
            Format::Json => {
                report.sql = Some(script.to_string());
                super::write_json(out, &report)?;
            }
            Format::Text => {
                writeln!(out, "-- strata drift --revert: not run")?;
                write!(out, "{script}")?;
            }
        }
        return Ok(exit::OK);
    }
    if let Err(e) = confirm_losses(args, format, &losses(live, &operations)) {
        driver.close().await?;
        return Err(e);
    }
    let options = database::options(ctx);
    let ran = executor::run_unrecorded(driver.as_mut(), &script, &options, &mut Quiet).await;
    driver.close().await?;
    if let Err(e) = ran? {
        return Err(failed(&script, &e));
    }
    match format {
        Format::Json => super::write_json(out, &report)?,
        Format::Text => {
            writeln!(out, "Reverted the drift:")?;
            write!(out, "{}", drift.text())?;
            for op in &operations {
                writeln!(out, "  - {op}")?;
            }
        }
    }
    Ok(exit::OK)
}

/// Dropping data is asked about, as `makemigrations` asks: on a terminal, or
/// confirmed with `--allow-data-loss`; otherwise refused (exit 3).
fn confirm_losses(args: &DriftArgs, format: Format, losses: &[DataLoss]) -> Result<(), CliError> {
    if losses.is_empty() || args.allow_data_loss {
        return Ok(());
    }
    let interactive = !args.noinput && format == Format::Text && std::io::stdin().is_terminal();
    let confirmed = interactive && {
        let models = Models::default();
        let mut questioner = Interactive {
            input: std::io::stdin().lock(),
            output: std::io::stderr(),
            models: &models,
        };
        let key = revert_key();
        let asked: Vec<(MigrationKey, DataLoss)> =
            losses.iter().map(|l| (key.clone(), l.clone())).collect();
        questioner.confirm_data_loss(&asked)?
    };
    if confirmed {
        Ok(())
    } else {
        Err(CliError::NeedsInput(refusal(losses, interactive)))
    }
}

/// A failed revert: the database's error (exit 4), after a line on stderr saying
/// which operation failed and what it left: nothing where it ran in a transaction.
fn failed(script: &script::Script, e: &script::ExecuteError) -> CliError {
    let operation = script
        .operations
        .get(e.operation)
        .map_or_else(String::new, |op| op.description.clone());
    let left = if script.transaction.is_some() {
        "nothing was changed (rolled back)".to_string()
    } else {
        format!("the {} operation(s) before it stay applied", e.completed)
    };
    let _ = writeln!(
        std::io::stderr(),
        "drift --revert: operation {} ({operation}) failed; {left}",
        e.operation + 1
    );
    e.source.clone().into()
}

/// No renames are guessed (a hand-made change is a drop and an add), and a column
/// made NOT NULL again is only altered: its NULL rows, if any, make the ALTER fail
/// and nothing change.
fn decisions(drift: &Drift) -> Decisions {
    let mut decisions = Decisions {
        no_rename: true,
        ..Decisions::default()
    };
    for t in &drift.tables {
        for d in &t.differences {
            if let (Kind::ColumnChanged, Some(column)) = (d.kind, &d.name) {
                decisions.no_nulls.insert((t.table.clone(), column.clone()));
            }
        }
    }
    decisions
}

/// The data the operations destroy, from `live` on.
pub(crate) fn losses(
    live: &SchemaState,
    operations: &[strata_engine::ast::Operation],
) -> Vec<DataLoss> {
    let mut state = live.clone();
    let mut out = Vec::new();
    for op in operations {
        if let Some(loss) = op.destroys_data(&state) {
            out.push(loss);
        }
        let _ = state.apply(op);
    }
    out
}

/// How the data-loss question names what it is about.
fn revert_key() -> MigrationKey {
    MigrationKey::new("drift", "revert")
}

/// Why nothing was run, and how to confirm.
fn refusal(losses: &[DataLoss], asked: bool) -> String {
    let mut text = String::from(if asked {
        "nothing reverted: the loss of data was not confirmed:\n"
    } else {
        "reverting the drift would destroy data, and strata never does that without being told:\n"
    });
    for loss in losses {
        let _ = writeln!(text, "  {loss}");
    }
    text.push_str(
        "confirm on a terminal, or non-interactively: strata drift --revert --allow-data-loss\n",
    );
    text.push_str("(or keep it: strata drift --write-migration)");
    text
}

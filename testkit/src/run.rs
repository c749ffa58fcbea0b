//! A corpus case on one dialect: its golden rendering (offline) and its execution on
//! a live server, both gated by the capabilities the case requires.

// `write!` into a `String`, which cannot fail.
use std::fmt::Write as _;

use std::sync::Arc;

use strata_engine::code::{BoxFuture, CodeResult, Function, Session};
use strata_engine::dialect::driver::Driver;
use strata_engine::drift;
use strata_engine::script::{self, Bookkeeping, Direction, Mode, Script, ScriptError};
use strata_engine::{Dialect, Operation, RenderError, SchemaState, ServerVersion};

use crate::corpus::{setup_state, CorpusCase};

/// Whether `dialect` at `version` lacks a capability the case requires, and so must
/// refuse it.
pub fn expects_unsupported(
    dialect: &dyn Dialect,
    version: ServerVersion,
    case: &CorpusCase,
) -> bool {
    !case
        .missing_capabilities(&dialect.capabilities(version))
        .is_empty()
}

/// The golden text of a case on one dialect: forward and backward scripts, or the error.
///
/// Also holds the dialect to the case's `requires`: lacking a required capability, it
/// must refuse the operations (forward) with `RenderError::Unsupported`; having them
/// all, it must render both directions.
pub fn golden(dialect: &dyn Dialect, version: ServerVersion, case: &CorpusCase) -> String {
    let state = setup_state(case);
    let missing = case.missing_capabilities(&dialect.capabilities(version));
    let mut out = format!("-- {}\n-- {} {version}\n", case.description, dialect.name());
    for direction in [Direction::Forward, Direction::Backward] {
        let _ = writeln!(out, "\n-- ==== {direction:?} ====");
        let mode = Mode {
            atomic: true,
            safe: case.safe,
        };
        let rendered = script::render(dialect, version, &state, &case.operations, mode, direction);
        if !missing.is_empty() && direction == Direction::Forward {
            assert!(
                matches!(
                    &rendered,
                    Err(ScriptError::Render {
                        source: RenderError::Unsupported { .. },
                        ..
                    })
                ),
                "{}: {} {version} lacks {missing:?}, so it must refuse the operations \
                 with RenderError::Unsupported; got {rendered:?}",
                case.name,
                dialect.name()
            );
        }
        if missing.is_empty() {
            if let Err(e) = &rendered {
                panic!(
                    "{}: {} {version} has every capability the case requires, yet \
                     {direction:?} does not render: {e}",
                    case.name,
                    dialect.name()
                );
            }
        }
        match rendered {
            Ok((script, _)) => out.push_str(&script.to_string()),
            Err(e) => {
                let _ = writeln!(out, "-- error: {e}");
            }
        }
    }
    // A case this dialect must refuse shows the refusal, not SQL.
    if !missing.is_empty() {
        assert!(
            out.contains("-- error:") && out.contains("is not supported by"),
            "{}: expected {} to refuse it:\n{out}",
            case.name,
            dialect.name()
        );
    }
    out
}

/// Runs a case on a live server: setup, operations, their inverses, setup's inverses,
/// and checks that the schema ends empty. Panics with the case name on any failure.
/// A case the server lacks a required capability for is skipped.
pub async fn execute_case(driver: &mut dyn Driver, case: &CorpusCase) {
    let dialect = driver.dialect();
    let version = driver.version();
    if expects_unsupported(dialect.as_ref(), version, case) {
        return;
    }
    let empty = SchemaState::new();
    let setup = setup_state(case);
    let steps: [(&SchemaState, &[Operation], Direction, &str); 4] = [
        (&empty, &case.setup, Direction::Forward, "setup"),
        (&setup, &case.operations, Direction::Forward, "operations"),
        (
            &setup,
            &case.operations,
            Direction::Backward,
            "inverse of operations",
        ),
        (&empty, &case.setup, Direction::Backward, "inverse of setup"),
    ];
    for (state, ops, direction, what) in steps {
        let mode = Mode {
            atomic: true,
            safe: case.safe,
        };
        let (script, after) =
            script::render(dialect.as_ref(), version, state, ops, mode, direction)
                .unwrap_or_else(|e| panic!("{}: {what}: {e}", case.name));
        if let Err(e) = run_case_script(&script, driver).await {
            panic!(
                "{}: {what} failed on {}:\n{e}\n\nscript:\n{script}",
                case.name,
                dialect.name()
            );
        }
        // What the server holds now is what strata's state says it should (raw SQL
        // changes what the state does not know).
        if ops.iter().any(|op| matches!(op, Operation::RunSql(_))) {
            continue;
        }
        let live = driver.introspect().await.expect("introspect");
        let differences = drift::differences(dialect.as_ref(), version, &after, &live, &[]);
        assert!(
            differences.is_empty(),
            "{}: after {what} on {}, the live schema differs from the state:\n  {}\n\nscript:\n{script}",
            case.name,
            dialect.name(),
            differences.join("\n  ")
        );
    }
    let left = driver.table_names().await.expect("list tables");
    assert!(
        left.is_empty(),
        "{}: tables left behind: {left:?}",
        case.name
    );
}

/// What a corpus case's scripts run with: no history, and for every `run_code` a
/// function that does nothing (a case tests where the call runs, not what it does).
pub struct CorpusBookkeeping;

impl Bookkeeping for CorpusBookkeeping {
    fn function(&self, name: &str) -> Option<Arc<dyn Function>> {
        fn nothing(_: Session<'_>) -> BoxFuture<'_, CodeResult> {
            Box::pin(async { Ok(()) })
        }
        let _ = name;
        Some(Arc::new(nothing))
    }
}

/// Runs a corpus case's script on `driver` with [`CorpusBookkeeping`].
pub async fn run_case_script(
    script: &Script,
    driver: &mut dyn Driver,
) -> Result<(), script::ExecuteError> {
    script.execute_with(driver, &CorpusBookkeeping).await
}

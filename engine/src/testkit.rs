//! Test support shared by the dialect crates (feature `testkit`): the operation
//! corpus in `testdata/corpus`, its golden rendering, and its execution on a server.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::ast::Operation;
use crate::dialect::driver::Driver;
use crate::dialect::{Dialect, ServerVersion};
use crate::script::{self, Direction};
use crate::state::SchemaState;

/// One corpus case: `setup` builds the schema, `operations` are under test.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusCase {
    #[serde(skip)]
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub setup: Vec<Operation>,
    pub operations: Vec<Operation>,
    /// Dialects that must refuse the operations with `Unsupported` (golden shows the error).
    #[serde(default)]
    pub unsupported_on: Vec<String>,
}

/// The workspace's corpus folder, from a crate's `CARGO_MANIFEST_DIR`.
pub fn corpus_dir(manifest_dir: &str) -> PathBuf {
    let mut dir = PathBuf::from(manifest_dir);
    while !dir.join("testdata/corpus").is_dir() {
        assert!(dir.pop(), "testdata/corpus not found above {manifest_dir}");
    }
    dir.join("testdata/corpus")
}

/// Every case, sorted by file name.
pub fn load_corpus(dir: &Path) -> Vec<CorpusCase> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            let mut case: CorpusCase =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            case.name = p.file_stem().unwrap().to_string_lossy().into_owned();
            case
        })
        .collect()
}

/// The state after a case's setup.
pub fn setup_state(case: &CorpusCase) -> SchemaState {
    let mut state = SchemaState::new();
    for op in &case.setup {
        state
            .apply(op)
            .unwrap_or_else(|e| panic!("{}: setup: {e}", case.name));
    }
    state
}

/// The golden text of a case on one dialect: forward and backward scripts, or the error.
pub fn golden(dialect: &dyn Dialect, version: ServerVersion, case: &CorpusCase) -> String {
    let state = setup_state(case);
    let mut out = format!("-- {}\n-- {} {version}\n", case.description, dialect.name());
    for direction in [Direction::Forward, Direction::Backward] {
        out.push_str(&format!("\n-- ==== {direction:?} ====\n"));
        match script::render(dialect, version, &state, &case.operations, true, direction) {
            Ok((script, _)) => out.push_str(&script.to_string()),
            Err(e) => out.push_str(&format!("-- error: {e}\n")),
        }
    }
    out
}

/// Whether this dialect is expected to refuse the case.
pub fn expects_unsupported(dialect: &dyn Dialect, case: &CorpusCase) -> bool {
    case.unsupported_on.iter().any(|d| d == dialect.name())
}

/// Runs a case on a live server: setup, operations, their inverses, setup's inverses,
/// and checks that the schema ends empty. Panics with the case name on any failure.
pub async fn execute_case(driver: &mut dyn Driver, case: &CorpusCase) {
    let dialect = driver.dialect();
    let version = driver.version();
    if expects_unsupported(dialect.as_ref(), case) {
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
        let (script, _) = script::render(dialect.as_ref(), version, state, ops, true, direction)
            .unwrap_or_else(|e| panic!("{}: {what}: {e}", case.name));
        if let Err(e) = script.execute(driver).await {
            panic!(
                "{}: {what} failed on {}:\n{e}\n\nscript:\n{script}",
                case.name,
                dialect.name()
            );
        }
    }
    let left = driver.table_names().await.expect("list tables");
    assert!(
        left.is_empty(),
        "{}: tables left behind: {left:?}",
        case.name
    );
}

/// A test server URL from `var`. Without it a test is skipped with a visible
/// message — except under `CI=true`, where a missing server is a failure.
pub fn server_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{var} is not set, and CI=true: server tests must run in CI")
        }
        _ => {
            eprintln!("SKIPPED: {var} is not set; set it to run this test against a real server");
            None
        }
    }
}

/// A database name unique to this test process and call, for tests that make their own.
pub fn unique_db_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Fails unless `error` has a source, and `secret` shows in none of the errors of its
/// chain, in their messages or their `Debug` form.
pub fn assert_no_secret_in_chain(error: &(dyn std::error::Error + 'static), secret: &str) {
    assert!(error.source().is_some(), "no source behind {error:?}");
    let mut current = Some(error);
    while let Some(error) = current {
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains(secret), "the secret leaked: {shown}");
        current = error.source();
    }
}

/// The error behind `error`, which must be an `E`: the library's own error, which a
/// driver keeps as the source of its `DriverError`.
pub fn source_as<'a, E: std::error::Error + 'static>(
    error: &'a (dyn std::error::Error + 'static),
) -> &'a E {
    let source = error
        .source()
        .unwrap_or_else(|| panic!("no source behind {error:?}"));
    source.downcast_ref::<E>().unwrap_or_else(|| {
        panic!(
            "the source is not a {}: {source:?}",
            std::any::type_name::<E>()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every case loads, fits the state, and its operations undone last-first give
    /// back the setup's schema — checked on the state alone, without any dialect.
    #[test]
    fn every_corpus_case_round_trips_through_its_inverses() {
        let cases = load_corpus(&corpus_dir(env!("CARGO_MANIFEST_DIR")));
        assert!(!cases.is_empty(), "the corpus is empty");
        for case in &cases {
            let setup = setup_state(case);
            let mut state = setup.clone();
            let mut inverses = Vec::with_capacity(case.operations.len());
            for (i, op) in case.operations.iter().enumerate() {
                let inverse = op
                    .inverse(&state)
                    .unwrap_or_else(|e| panic!("{}: operation {}: inverse: {e}", case.name, i + 1));
                state
                    .apply(op)
                    .unwrap_or_else(|e| panic!("{}: operation {}: {e}", case.name, i + 1));
                inverses.push((i + 1, inverse));
            }
            for (i, inverse) in inverses.iter().rev() {
                state.apply(inverse).unwrap_or_else(|e| {
                    panic!("{}: inverse of operation {i} ({inverse}): {e}", case.name)
                });
            }
            assert_eq!(
                state.canonical(),
                setup.canonical(),
                "{}: undoing the operations did not restore the setup schema",
                case.name
            );
        }
    }

    /// Files are `NNN_snake_case.toml` with distinct numbers, so the order is stable
    /// and a snapshot name says which case it is.
    #[test]
    fn corpus_files_are_numbered_snake_case() {
        let mut numbers = std::collections::HashSet::new();
        for case in load_corpus(&corpus_dir(env!("CARGO_MANIFEST_DIR"))) {
            let (number, rest) = case.name.split_at(case.name.len().min(4));
            let well_formed = number.len() == 4
                && number[..3].bytes().all(|b| b.is_ascii_digit())
                && number.ends_with('_')
                && !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            assert!(well_formed, "{}: not NNN_snake_case", case.name);
            assert!(
                numbers.insert(number.to_string()),
                "{}: number used twice",
                case.name
            );
        }
    }

    /// The corpus is the contract every dialect is held to: it must exercise every
    /// operation kind, under test and not just in setup.
    #[test]
    fn corpus_covers_every_operation_kind() {
        let covered: std::collections::HashSet<&str> =
            load_corpus(&corpus_dir(env!("CARGO_MANIFEST_DIR")))
                .iter()
                .flat_map(|case| case.operations.iter().map(Operation::kind))
                .collect();
        let all = [
            "create_table",
            "drop_table",
            "rename_table",
            "add_column",
            "drop_column",
            "rename_column",
            "alter_column",
            "create_index",
            "drop_index",
            "rename_index",
            "add_foreign_key",
            "drop_foreign_key",
            "add_constraint",
            "drop_constraint",
            "run_sql",
        ];
        let missing: Vec<_> = all.iter().filter(|k| !covered.contains(*k)).collect();
        assert!(missing.is_empty(), "no corpus case tests {missing:?}");
    }

    /// The operations are the migration file format: writing one back to TOML and
    /// reading it again must give the same operation.
    #[test]
    fn corpus_operations_survive_a_toml_round_trip() {
        for case in load_corpus(&corpus_dir(env!("CARGO_MANIFEST_DIR"))) {
            for op in case.setup.iter().chain(&case.operations) {
                let text = toml::to_string(op)
                    .unwrap_or_else(|e| panic!("{}: {op}: serialize: {e}", case.name));
                let back: Operation = toml::from_str(&text)
                    .unwrap_or_else(|e| panic!("{}: {op}: parse back: {e}\n{text}", case.name));
                assert_eq!(
                    &back, op,
                    "{}: changed in a TOML round trip:\n{text}",
                    case.name
                );
            }
        }
    }

    #[test]
    fn corpus_cases_name_only_known_dialects_as_unsupported() {
        let known = ["sqlite", "postgres", "mysql", "mariadb"];
        for case in load_corpus(&corpus_dir(env!("CARGO_MANIFEST_DIR"))) {
            for dialect in &case.unsupported_on {
                assert!(
                    known.contains(&dialect.as_str()),
                    "{}: unknown dialect `{dialect}` in unsupported_on",
                    case.name
                );
            }
        }
    }
}

//! The operation corpus in `testdata/corpus`: one TOML file per case, the contract
//! every dialect is held to (golden SQL, live execution, introspection).
//!
//! A case that needs something not every server has says so by capability, never by
//! dialect name: `requires = ["partial_indexes"]` names yes/no fields of
//! [`Capabilities`] (see [`Capabilities::flags`]). A dialect whose capabilities, for
//! the version under test, lack one of them must refuse the case.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use strata_engine::{Capabilities, Operation, SchemaState};

/// One corpus case: `setup` builds the schema, `operations` are under test.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusCase {
    #[serde(skip)]
    pub name: String,
    pub description: String,
    /// Yes/no capabilities (field names of [`Capabilities`]) the operations need. A
    /// dialect lacking one must refuse them with `RenderError::Unsupported` (its golden
    /// snapshot shows the refusal) and the live runs skip the case there.
    #[serde(default)]
    pub requires: Vec<String>,
    /// Render the operations with the safe plan (tables from `setup` count as
    /// existing ones, which a live application may be using).
    #[serde(default)]
    pub safe: bool,
    #[serde(default)]
    pub setup: Vec<Operation>,
    pub operations: Vec<Operation>,
}

impl CorpusCase {
    /// The capabilities this case requires that `capabilities` lacks.
    ///
    /// # Panics
    ///
    /// On a name that is not a yes/no field of [`Capabilities`]: a misspelt
    /// requirement would otherwise hold on no dialect, silently.
    pub fn missing_capabilities(&self, capabilities: &Capabilities) -> Vec<&str> {
        self.requires
            .iter()
            .filter(|name| {
                let has = capabilities.flag(name).unwrap_or_else(|| {
                    panic!(
                        "{}: `requires` names an unknown capability `{name}`; known: {}",
                        self.name,
                        flag_names(capabilities)
                    )
                });
                !has
            })
            .map(String::as_str)
            .collect()
    }

    /// The names in `requires` that are not yes/no fields of [`Capabilities`].
    pub fn unknown_capabilities(&self) -> Vec<&str> {
        self.requires
            .iter()
            .filter(|name| Capabilities::BASELINE.flag(name).is_none())
            .map(String::as_str)
            .collect()
    }
}

fn flag_names(capabilities: &Capabilities) -> String {
    capabilities
        .flags()
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The workspace's corpus folder.
pub fn corpus_dir() -> PathBuf {
    crate::testdata_dir().join("corpus")
}

/// Every case of the workspace's corpus, sorted by file name.
pub fn corpus() -> Vec<CorpusCase> {
    let cases = load_corpus(&corpus_dir());
    assert!(!cases.is_empty(), "the corpus is empty");
    cases
}

/// Every case in `dir`, sorted by file name.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every case loads, fits the state, and its operations undone last-first give
    /// back the setup's schema — checked on the state alone, without any dialect.
    #[test]
    fn every_corpus_case_round_trips_through_its_inverses() {
        let cases = corpus();
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
        for case in corpus() {
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
        let covered: std::collections::HashSet<&str> = corpus()
            .iter()
            .flat_map(|case| case.operations.iter().map(Operation::kind))
            .collect();
        let missing: Vec<_> = Operation::KINDS
            .iter()
            .filter(|k| !covered.contains(*k))
            .collect();
        assert!(missing.is_empty(), "no corpus case tests {missing:?}");
    }

    /// The operations are the migration file format: writing one back to TOML and
    /// reading it again must give the same operation.
    #[test]
    fn corpus_operations_survive_a_toml_round_trip() {
        for case in corpus() {
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

    /// `requires` names only capabilities the engine knows: a misspelt one would
    /// otherwise gate the case on no dialect at all.
    #[test]
    fn corpus_cases_require_only_known_capabilities() {
        for case in corpus() {
            let unknown = case.unknown_capabilities();
            assert!(
                unknown.is_empty(),
                "{}: unknown capability {unknown:?} in requires; known: {}",
                case.name,
                flag_names(&Capabilities::BASELINE)
            );
        }
    }

    fn case_requiring(names: &[&str]) -> CorpusCase {
        CorpusCase {
            name: "999_example".into(),
            description: String::new(),
            requires: names.iter().map(ToString::to_string).collect(),
            safe: false,
            setup: vec![],
            operations: vec![],
        }
    }

    #[test]
    fn an_unknown_capability_is_reported_and_refused() {
        let case = case_requiring(&["partial_indexes", "partial_index"]);
        assert_eq!(case.unknown_capabilities(), ["partial_index"]);
        let refused = std::panic::catch_unwind(|| {
            case.missing_capabilities(&Capabilities::BASELINE);
        });
        assert!(refused.is_err(), "an unknown capability must not pass");
    }

    #[test]
    fn missing_capabilities_are_the_required_flags_that_are_off() {
        let case = case_requiring(&["partial_indexes", "transactional_ddl"]);
        assert_eq!(
            case.missing_capabilities(&Capabilities::BASELINE),
            ["partial_indexes", "transactional_ddl"]
        );
        let partial = Capabilities {
            partial_indexes: true,
            ..Capabilities::BASELINE
        };
        assert_eq!(case.missing_capabilities(&partial), ["transactional_ddl"]);
        assert!(case_requiring(&[])
            .missing_capabilities(&Capabilities::BASELINE)
            .is_empty());
    }

    /// The old dialect-name gate is gone for good: a case still using it fails to load.
    #[test]
    fn the_dialect_name_gate_is_refused() {
        let old = "description = \"x\"\nunsupported_on = [\"mysql\"]\noperations = []\n";
        assert!(toml::from_str::<CorpusCase>(old).is_err());
    }
}

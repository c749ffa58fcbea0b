//! Golden cases as data: each `testdata/autodetect/<case>.toml` holds a schema before,
//! the change a user made to the models, and the user's answers; the exact operations
//! `makemigrations` must write (or its refusal) are the case's insta snapshot in
//! `snapshots/`. Every case is checked against the core property as well.
//!
//! A case file (see `testdata/autodetect/README.md`):
//!
//! ```toml
//! description = "a renamed column, declined, with a one-off default"
//! schemas = ["library"]        # testdata/autodetect/schemas/<name>.toml, in order
//! error = "NeedsDefault"       # only when `diff` must refuse: the error's variant
//!
//! [decisions]                  # the user's answers; all optional
//! no_rename = true
//! rename_tables = [{ from = "book", to = "volume" }]
//! rename_columns = [{ table = "author", from = "name", to = "full_name" }]
//! one_off_defaults = [{ table = "author", column = "full_name", value = "?" }]
//! no_nulls = [{ table = "book", column = "isbn" }]   # becomes NOT NULL, no NULL rows
//!
//! [[before]]                   # more operations for the schema before (optional)
//! [[change]]                   # the models' change: operations applied to `before`
//!
//! [apps]                       # optional: table → app; the snapshot then shows the
//! a = "a"                      # files makemigrations splits the operations into
//! ```
//!
//! A new case is one file; `INSTA_UPDATE=always cargo test -p strata-engine
//! autodetect::golden` writes its snapshot, to be read before committing.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;
use strata_engine::ast::{DefaultValue, Operation};
use strata_engine::autodetect::{AutodetectError, Decisions};
use strata_engine::makemigrations::split_by_app;
use strata_engine::SchemaState;

use super::support::{applied, diff_checked, ops_text, with_one_off_defaults};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    description: String,
    /// Shared schemas from `schemas/`, applied in order to the empty schema.
    #[serde(default)]
    schemas: Vec<String>,
    /// Set when `diff` must refuse: the `AutodetectError` variant, e.g. `NeedsDefault`.
    error: Option<String>,
    #[serde(default)]
    decisions: Answers,
    /// Operations applied after the shared schemas: the rest of the schema before.
    #[serde(default)]
    before: Vec<Operation>,
    /// How the models changed: operations applied to the schema before.
    change: Vec<Operation>,
    /// Table → app, for a case about apps: the snapshot then also shows the files
    /// `makemigrations` splits the operations into (a table not listed is `app`'s).
    #[serde(default)]
    apps: BTreeMap<String, String>,
}

/// The user's answers, as a case file writes them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Answers {
    #[serde(default)]
    no_rename: bool,
    #[serde(default)]
    rename_tables: Vec<TableRename>,
    #[serde(default)]
    rename_columns: Vec<ColumnRename>,
    #[serde(default)]
    one_off_defaults: Vec<OneOffDefault>,
    /// Columns that become NOT NULL answered "there are no NULL rows".
    #[serde(default)]
    no_nulls: Vec<NoNulls>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoNulls {
    table: String,
    column: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableRename {
    from: String,
    to: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnRename {
    table: String,
    from: String,
    to: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OneOffDefault {
    table: String,
    column: String,
    value: DefaultValue,
}

impl Answers {
    /// Table renames first, then column renames (whose table is named by its new name).
    fn decisions(&self) -> Decisions {
        let mut decisions = Decisions {
            no_rename: self.no_rename,
            ..Decisions::default()
        };
        for r in &self.rename_tables {
            decisions = decisions.rename_table(&r.from, &r.to);
        }
        for r in &self.rename_columns {
            decisions = decisions.rename_column(&r.table, &r.from, &r.to);
        }
        for d in &self.one_off_defaults {
            decisions
                .one_off_defaults
                .insert((d.table.clone(), d.column.clone()), d.value.clone());
        }
        for n in &self.no_nulls {
            decisions
                .no_nulls
                .insert((n.table.clone(), n.column.clone()));
        }
        decisions
    }
}

/// The operations of a shared schema file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Schema {
    operations: Vec<Operation>,
}

fn load(path: &Path) -> Case {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The schemas before and after a case's change.
fn states(path: &Path, case: &Case) -> (SchemaState, SchemaState) {
    let dir = path.parent().expect("a case file is in a folder");
    let mut before = Vec::new();
    for name in &case.schemas {
        let file = dir.join("schemas").join(format!("{name}.toml"));
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{}: schema `{name}`: {e}", path.display()));
        let schema: Schema =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        before.extend(schema.operations);
    }
    before.extend(case.before.iter().cloned());
    let old = applied(&SchemaState::new(), &before);
    let new = applied(&old, &case.change);
    (old, new)
}

/// The variant of an autodetector error, as a case's `error` names it.
fn variant(error: &AutodetectError) -> String {
    format!("{error:?}")
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Every case file, sorted: for tests that need no snapshot.
fn case_files() -> Vec<std::path::PathBuf> {
    let dir = strata_testkit::testdata_dir().join("autodetect");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no case in {}", dir.display());
    paths
}

/// The operations of every case (or its refusal) are its snapshot, and they hold the
/// core property.
#[test]
fn golden_operations() {
    insta::glob!("../../../../testdata", "autodetect/*.toml", |path| {
        let case = load(path);
        let (old, new) = states(path, &case);
        let name = path.file_stem().unwrap().to_string_lossy();
        let outcome = match (
            diff_checked(&old, &new, &case.decisions.decisions()),
            &case.error,
        ) {
            (Ok(ops), None) if case.apps.is_empty() => ops_text(&ops),
            (Ok(ops), None) => {
                let owner = |t: &str| case.apps.get(t).cloned().unwrap_or_else(|| "app".into());
                let mut text = ops_text(&ops);
                text.push_str("\n# the files, by app, in the order written\n");
                for (i, (app, ops, needs)) in split_by_app(&ops, &old, &owner).iter().enumerate() {
                    let needs: Vec<&str> = needs.iter().map(String::as_str).collect();
                    let after = if needs.is_empty() {
                        "-".to_string()
                    } else {
                        needs.join(", ")
                    };
                    let _ = writeln!(text, "# {}. {app} (after: {after})", i + 1);
                    for op in ops {
                        let _ = writeln!(text, "#    {op}");
                    }
                }
                text
            }
            (Err(e), Some(expected)) => {
                assert_eq!(&variant(&e), expected, "{name}: another error: {e}");
                format!("error: {e}\n")
            }
            (Ok(ops), Some(expected)) => panic!(
                "{name}: expected {expected}, got operations:\n{}",
                ops_text(&ops)
            ),
            (Err(e), None) => panic!("{name}: unexpected error: {e}"),
        };
        insta::with_settings!({ description => case.description.as_str(), omit_expression => true }, {
            insta::assert_snapshot!(outcome);
        });
    });
}

/// Every golden pair with its renames declined: still the right schema, whatever
/// the operations.
#[test]
fn golden_pairs_hold_the_property_without_renames() {
    let no_rename = Decisions {
        no_rename: true,
        ..Decisions::default()
    };
    for path in case_files() {
        let case = load(&path);
        let (old, new) = states(&path, &case);
        let decisions = with_one_off_defaults(&old, &new, no_rename.clone())
            .expect("golden columns have literal types");
        diff_checked(&old, &new, &decisions).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

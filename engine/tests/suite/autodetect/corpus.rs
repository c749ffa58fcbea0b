//! Every corpus case as a models change: old = the schema after its setup, new =
//! the schema after its operations. The autodetector must reach the new schema with
//! the case's own renames accepted, and with every rename declined.

use strata_engine::autodetect::{AutodetectError, Decisions};
use strata_engine::Operation;
use strata_testkit::{self as testkit, CorpusCase};

use super::support::{applied, diff_checked, with_one_off_defaults, Origins};

fn cases() -> Vec<CorpusCase> {
    testkit::corpus()
        .into_iter()
        .filter(|case| {
            !case
                .operations
                .iter()
                .all(|op| matches!(op, Operation::RunSql(_)))
        })
        .collect()
}

#[test]
fn corpus_changes_with_their_renames_accepted() {
    let cases = cases();
    assert!(!cases.is_empty(), "no corpus case changes the schema");
    for case in &cases {
        let old = testkit::setup_state(case);
        let mut origins = Origins::of(&old);
        for op in &case.operations {
            origins.track(op);
        }
        let new = applied(&old, &case.operations);
        let decisions = Decisions {
            no_rename: true,
            ..origins.decisions()
        };
        let decisions = with_one_off_defaults(&old, &new, decisions)
            .unwrap_or_else(|| panic!("{}: a column needs a default no literal fits", case.name));
        let ops =
            diff_checked(&old, &new, &decisions).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        // The case's renames are made again, not replaced by drops and adds.
        for strata_engine::autodetect::AcceptedRename {
            table, from, to, ..
        } in &origins.decisions().renames
        {
            let made = ops.iter().any(|op| match op {
                Operation::RenameTable(o) => table.is_empty() && o.from == *from && o.to == *to,
                Operation::RenameColumn(o) => o.table == *table && o.from == *from && o.to == *to,
                _ => false,
            });
            assert!(
                made,
                "{}: rename {table} {from} → {to} not made: {ops:?}",
                case.name
            );
        }
    }
}

#[test]
fn corpus_changes_with_every_rename_declined() {
    for case in &cases() {
        let old = testkit::setup_state(case);
        let mut origins = Origins::of(&old);
        for op in &case.operations {
            origins.track(op);
        }
        let new = applied(&old, &case.operations);
        let no_rename = Decisions {
            no_rename: true,
            ..Decisions::default()
        };
        let decisions = with_one_off_defaults(&old, &new, no_rename)
            .unwrap_or_else(|| panic!("{}: a column needs a default no literal fits", case.name));
        match diff_checked(&old, &new, &decisions) {
            Ok(_) => {}
            // Without the rename, a renamed key column is a new primary key.
            Err(AutodetectError::Unsupported { .. }) if origins.renamed_a_key_column(&old) => {}
            Err(e) => panic!("{}: {e}", case.name),
        }
    }
}

/// The renames a case makes are offered as candidates, when they could be: a column
/// keeping its type and nullability, a table keeping most of its columns.
#[test]
fn corpus_renames_are_offered_as_candidates() {
    for case in &cases() {
        let old = testkit::setup_state(case);
        let new = applied(&old, &case.operations);
        let mut origins = Origins::of(&old);
        for op in &case.operations {
            origins.track(op);
        }
        let offered = strata_engine::autodetect::rename_candidates(&old, &new);
        for strata_engine::autodetect::AcceptedRename {
            kind,
            table,
            from,
            to,
        } in origins.decisions().renames
        {
            let kept_definition = match kind {
                strata_engine::autodetect::RenameKind::Table => true,
                strata_engine::autodetect::RenameKind::Column => {
                    let was = origins
                        .origin_table(&table)
                        .and_then(|t| old.tables[t].column(&from));
                    let now = new.tables[&table].column(&to);
                    matches!((was, now), (Some(a), Some(b)) if a.ty == b.ty && a.null == b.null)
                }
            };
            if kept_definition {
                assert!(
                    offered.iter().any(|c| c.kind == kind
                        && c.table == table
                        && c.from == from
                        && c.to == to),
                    "{}: {kind:?} {table} {from} → {to} not offered; offered {offered:?}",
                    case.name
                );
            }
        }
    }
}

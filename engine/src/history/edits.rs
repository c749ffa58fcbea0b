//! Whether a migration file still says what its history row recorded. An applied
//! row holds the checksum of the whole file: any edit counts. A partial row (format
//! 3) holds the checksum of the operations that ran, so the ones not yet run may be
//! edited to fix what stopped the run, and an edit of one that ran is named.
//!
//! `migrate` refuses an edit (unless `--accept-edited`), `showmigrations` marks it.

use std::fmt;

use super::{HistoryRow, RowState};
use crate::graph::Graph;
use crate::migration::{
    applied_part_change, applied_part_checksum, AppliedPartChange, Migration, MigrationKey,
};

/// The first row format whose partial rows hold their applied part's checksum.
const APPLIED_PART_FORMAT: u32 = 3;

/// How a migration file differs from what its history row recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// An applied migration's file changed.
    Applied,
    /// A migration that stopped part-way, after `done` of the `total` operations its
    /// file has now: what of its `covered` operations that ran changed (`covered` is
    /// one more than `done` when a `run_sql` stopped inside).
    AppliedPart {
        done: usize,
        covered: usize,
        total: usize,
        change: AppliedPartChange,
    },
    /// A migration that stopped part-way, recorded (by a strata before row format 3)
    /// with the whole file's checksum: any edit counts.
    WholeFile { done: usize, total: usize },
}

impl Edit {
    /// Whether `--accept-edited` can take it: not operations that ran but are gone
    /// from the file, which no checksum can stand for.
    pub fn acceptable(&self) -> bool {
        !matches!(
            self,
            Edit::AppliedPart {
                change: AppliedPartChange::Removed { .. },
                ..
            }
        )
    }

    /// The sentence about migration `key`: what changed, and what to do.
    pub fn about(&self, key: &MigrationKey) -> String {
        match self {
            Edit::Applied => format!("applied migration {key} {self}"),
            _ => format!("{key} {self}"),
        }
    }
}

/// How `m` differs from what `row` recorded of it; `None` when it does not (the
/// migration's name is not compared: a renamed file matches its row).
pub fn edit(row: &HistoryRow, m: &Migration) -> Option<Edit> {
    if row.checksum == m.checksum {
        return None;
    }
    match row.state {
        RowState::Applied => Some(Edit::Applied),
        RowState::Partial if row.format < APPLIED_PART_FORMAT => Some(Edit::WholeFile {
            done: row.operations_done,
            total: m.operations.len(),
        }),
        RowState::Partial => {
            let covered = row.operations_covered();
            applied_part_change(&row.checksum, m, covered).map(|change| Edit::AppliedPart {
                done: row.operations_done,
                covered,
                total: m.operations.len(),
                change,
            })
        }
    }
}

/// The checksum `row` must hold for `m` as it is now (what `--accept-edited` stores):
/// the file's, or for a partial row its applied part's.
pub fn expected_checksum(row: &HistoryRow, m: &Migration) -> String {
    match row.state {
        RowState::Applied => m.checksum.clone(),
        RowState::Partial => {
            applied_part_checksum(m, row.operations_covered()).unwrap_or_else(|| m.checksum.clone())
        }
    }
}

/// Every migration of the project whose file differs from its history row, in key
/// order.
pub fn edited<'a>(
    graph: &'a Graph,
    rows: impl IntoIterator<Item = &'a HistoryRow>,
) -> Vec<(&'a MigrationKey, &'a Migration, Edit)> {
    rows.into_iter()
        .filter_map(|row| {
            let m = graph.get(&row.key)?;
            edit(row, m).map(|e| (&m.key, m, e))
        })
        .collect()
}

/// "operation 2", "operations 2–3"; "no operation" for none.
pub fn operations(first: usize, last: usize) -> String {
    match last.checked_sub(first) {
        None => "no operation".to_string(),
        Some(0) => format!("operation {first}"),
        Some(_) => format!("operations {first}–{last}"),
    }
}

/// After the subject ("tracker.0002_x"): what changed, and what to do.
impl fmt::Display for Edit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const ACCEPT: &str = "or run `strata migrate --accept-edited` if the change is deliberate and the database already matches it";
        match self {
            Edit::Applied => write!(
                f,
                "was edited after it was applied; restore the file, {ACCEPT}"
            ),
            Edit::WholeFile { done, total } => write!(
                f,
                "was edited after it stopped part-way ({done} of {total} operations ran); its history row, written by an older strata, holds the whole file's checksum, so any edit counts: restore the file, {ACCEPT}"
            ),
            Edit::AppliedPart {
                covered,
                total,
                change: AppliedPartChange::Removed { .. },
                ..
            } => write!(
                f,
                "stopped part-way after {covered} operations ran, but its file has {total} now: operations that ran were deleted; restore them, or, if the database no longer holds them either, set `operations_done` in its history row (docs/history.md)"
            ),
            Edit::AppliedPart {
                done,
                covered,
                total,
                change,
            } => {
                write!(f, "stopped after {done} of {total} operations")?;
                if covered > done {
                    write!(f, " (inside operation {covered}, a run_sql)")?;
                }
                let (changed, restore) = match change {
                    AppliedPartChange::Operations { first, last } => {
                        let which = operations(*first, *last);
                        (format!("{which} changed since it ran"), which)
                    }
                    _ => (
                        format!(
                            "{} or the lines above them (dependencies, atomic, safe) changed since they ran",
                            operations(1, *covered)
                        ),
                        "them".to_string(),
                    ),
                };
                write!(
                    f,
                    ", and {changed}; only {} (not yet run) may be edited before resuming: restore {restore} as before, {ACCEPT}",
                    operations(covered + 1, *total)
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn migration(third: &str) -> Migration {
        let text = format!(
            "atomic = false\n[[operations]]\nkind = \"run_sql\"\nsql = \"SELECT 1\"\n[[operations]]\nkind = \"run_sql\"\nsql = \"SELECT 2\"\n[[operations]]\nkind = \"run_sql\"\nsql = {third:?}\n"
        );
        Migration::parse("jobs", Path::new("apps/jobs/migrations/0002_x.toml"), &text).unwrap()
    }

    fn row(m: &Migration, state: RowState, done: usize, format: u32) -> HistoryRow {
        let checksum = match (state, format) {
            (RowState::Partial, 3..) => applied_part_checksum(m, done).unwrap(),
            _ => m.checksum.clone(),
        };
        HistoryRow {
            key: m.key.clone(),
            checksum,
            state,
            operations_done: done,
            statements_done: 0,
            applied_at: None,
            format,
            cursor: None,
        }
    }

    #[test]
    fn only_what_ran_must_stay_as_it_was() {
        let original = migration("SELECT 3");
        let fixed = migration("SELECT 'fixed'");
        // Applied: any edit.
        let applied = row(&original, RowState::Applied, 3, 1);
        assert_eq!(edit(&applied, &original), None);
        assert_eq!(edit(&applied, &fixed), Some(Edit::Applied));
        assert_eq!(expected_checksum(&applied, &fixed), fixed.checksum);
        // Partial, format 3: the operation that did not run may change.
        let partial = row(&original, RowState::Partial, 2, 3);
        assert_eq!(edit(&partial, &fixed), None);
        assert_eq!(edit(&partial, &original), None);
        // …but not one that ran, and inside a run_sql, not that one either.
        let mut inside = row(&original, RowState::Partial, 1, 3);
        inside.statements_done = 1;
        inside.checksum = applied_part_checksum(&original, 2).unwrap();
        assert_eq!(edit(&inside, &fixed), None);
        let two = Migration::parse(
            "jobs",
            &original.path,
            "atomic = false\n[[operations]]\nkind = \"run_sql\"\nsql = \"SELECT 1\"\n[[operations]]\nkind = \"run_sql\"\nsql = \"SELECT 'two'\"\n[[operations]]\nkind = \"run_sql\"\nsql = \"SELECT 3\"\n",
        )
        .unwrap();
        let refused = edit(&inside, &two).expect("operation 2 ran in part");
        let message = refused.about(&two.key);
        assert!(message.contains("operation 2 changed"), "{message}");
        assert!(
            message.contains("only operation 3 (not yet run)"),
            "{message}"
        );
        assert!(message.contains("--accept-edited"), "{message}");
        assert!(refused.acceptable());
        assert_eq!(
            expected_checksum(&inside, &two),
            applied_part_checksum(&two, 2).unwrap()
        );
        // Partial, from an older strata: the whole file's checksum, any edit counts.
        let old = row(&original, RowState::Partial, 2, 2);
        assert_eq!(edit(&old, &original), None);
        assert_eq!(
            edit(&old, &fixed),
            Some(Edit::WholeFile { done: 2, total: 3 })
        );
    }
}

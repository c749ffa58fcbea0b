//! Renames: the likely ones (scored candidates), and the accepted ones as a mapping
//! from old names to new names.
//!
//! A rename pairs a name that exists only in the old schema with one that exists
//! only in the new schema; a name present on both sides is the same table or column.

use std::collections::{BTreeMap, BTreeSet};

use super::{AcceptedRename, AutodetectError, Decisions, RenameCandidate, RenameKind};
use crate::ast::{ColumnDef, DefaultValue, TableDef};
use crate::state::SchemaState;
use crate::types::ColumnType;

/// A dropped and an added table are a candidate when this share of their column
/// names is common to both, each with a compatible type on both sides (so a table
/// renamed *and* changed is still offered).
const TABLE_OVERLAP: f64 = 0.5;
/// A dropped and an added column of compatible types that differ in type,
/// nullability or default are a candidate from this name similarity on.
const COLUMN_NAME_SIMILARITY: f64 = 0.7;
/// Columns identical but for the name score at least this, so `amt` → `amount` and
/// `desc` → `description` are offered whatever their names.
const IDENTICAL_COLUMN_FLOOR: f64 = 0.6;
/// The only dropped and the only added column of a table, of compatible types but
/// changed, are offered whatever their names, scored at most this: an edit that
/// renames one field and changes it is the likeliest reading, and a drop + add
/// loses the column's data.
const SOLE_PAIR_CEILING: f64 = 0.5;

/// Likely renames between `old` and `new`, best first: table renames, then column
/// renames — including those inside the candidate table renames, by the new table
/// name (they only count if that table rename is accepted).
pub fn rename_candidates(old: &SchemaState, new: &SchemaState) -> Vec<RenameCandidate> {
    let tables = table_candidates(old, new);
    let mut pairs = same_name_tables(old, new);
    pairs.extend(tables.iter().map(|c| (c.from.clone(), c.to.clone())));
    let mut out = tables;
    out.extend(column_candidates(old, new, &pairs));
    out
}

/// The candidates `decisions` leaves open: neither accepted nor ruled out by an
/// accepted rename of the same name; columns only in tables that exist on both
/// sides (by name, or through an accepted table rename).
pub(super) fn unresolved(
    old: &SchemaState,
    new: &SchemaState,
    renames: &Renames,
) -> Vec<RenameCandidate> {
    let mut pairs = same_name_tables(old, new);
    pairs.extend(renames.tables.iter().map(|(f, t)| (f.clone(), t.clone())));
    let renamed_to: BTreeSet<&String> = renames.tables.values().collect();
    let columns_to: BTreeSet<(&String, &String)> = renames
        .columns
        .iter()
        .map(|((table, _), to)| (table, to))
        .collect();
    let tables = table_candidates(old, new)
        .into_iter()
        .filter(|c| !renames.tables.contains_key(&c.from) && !renamed_to.contains(&c.to));
    let columns = column_candidates(old, new, &pairs).into_iter().filter(|c| {
        !renames
            .columns
            .contains_key(&(c.table.clone(), c.from.clone()))
            && !columns_to.contains(&(&c.table, &c.to))
    });
    tables.chain(columns).collect()
}

/// (old name, new name) of every table present on both sides under one name.
fn same_name_tables(old: &SchemaState, new: &SchemaState) -> Vec<(String, String)> {
    old.tables
        .keys()
        .filter(|n| new.tables.contains_key(*n))
        .map(|n| (n.clone(), n.clone()))
        .collect()
}

fn table_candidates(old: &SchemaState, new: &SchemaState) -> Vec<RenameCandidate> {
    let dropped = old
        .tables
        .values()
        .filter(|t| !new.tables.contains_key(&t.name));
    let mut out = Vec::new();
    for from in dropped {
        for to in new
            .tables
            .values()
            .filter(|t| !old.tables.contains_key(&t.name))
        {
            let overlap = column_overlap(from, to);
            if overlap >= TABLE_OVERLAP {
                out.push(RenameCandidate {
                    kind: RenameKind::Table,
                    table: String::new(),
                    from: from.name.clone(),
                    to: to.name.clone(),
                    // The name breaks ties between equally overlapping tables.
                    score: 0.8 * overlap + 0.2 * name_similarity(&from.name, &to.name),
                    change: None,
                });
            }
        }
    }
    sort_best_first(&mut out);
    out
}

/// Jaccard index of the two tables' column names, where a name both have counts as
/// shared only if its two types are compatible.
// Both counts are column counts, far below 2^52: they convert to `f64` exactly.
#[allow(clippy::cast_precision_loss)]
fn column_overlap(a: &TableDef, b: &TableDef) -> f64 {
    let names =
        |t: &TableDef| -> BTreeSet<String> { t.columns.iter().map(|c| c.name.clone()).collect() };
    let union = names(a).union(&names(b)).count();
    if union == 0 {
        return 0.0;
    }
    let shared = a
        .columns
        .iter()
        .filter(|c| b.column(&c.name).is_some_and(|d| compatible(c.ty, d.ty)))
        .count();
    shared as f64 / union as f64
}

/// Types one column may plausibly move between while keeping its meaning: the
/// numbers, the strings, the dates and timestamps. Data may still not fit (the
/// alter checks that); a pair across families is no rename.
fn compatible(a: ColumnType, b: ColumnType) -> bool {
    fn family(ty: ColumnType) -> u8 {
        match ty {
            ColumnType::SmallInt
            | ColumnType::Int
            | ColumnType::BigInt
            | ColumnType::USmallInt
            | ColumnType::UInt
            | ColumnType::UBigInt
            | ColumnType::Real
            | ColumnType::Double
            | ColumnType::Decimal { .. } => 0,
            ColumnType::Char(_) | ColumnType::Varchar(_) | ColumnType::Text | ColumnType::Enum => 1,
            ColumnType::Date | ColumnType::DateTime | ColumnType::TimestampTz => 2,
            ColumnType::Bool => 3,
            ColumnType::Time => 4,
            ColumnType::Bytes => 5,
            ColumnType::Uuid => 6,
            ColumnType::Json => 7,
            ColumnType::Duration => 8,
        }
    }
    family(a) == family(b)
}

/// Column candidates within each (old table, new table) pair.
fn column_candidates(
    old: &SchemaState,
    new: &SchemaState,
    pairs: &[(String, String)],
) -> Vec<RenameCandidate> {
    let mut out = Vec::new();
    for (from_table, to_table) in pairs {
        let (Some(before), Some(after)) = (old.tables.get(from_table), new.tables.get(to_table))
        else {
            continue;
        };
        let dropped: Vec<&ColumnDef> = before
            .columns
            .iter()
            .filter(|c| after.column(&c.name).is_none())
            .collect();
        let added: Vec<&ColumnDef> = after
            .columns
            .iter()
            .filter(|c| before.column(&c.name).is_none())
            .collect();
        let sole_pair = dropped.len() == 1 && added.len() == 1;
        for from in &dropped {
            for to in &added {
                if let Some(score) = column_score(from, to, sole_pair) {
                    out.push(RenameCandidate {
                        kind: RenameKind::Column,
                        table: to_table.clone(),
                        from: from.name.clone(),
                        to: to.name.clone(),
                        score,
                        change: column_change(from, to),
                    });
                }
            }
        }
    }
    sort_best_first(&mut out);
    out
}

/// How much `to` looks like `from` renamed, or `None` when it does not. A column
/// identical but for its name always qualifies; a changed one needs a compatible
/// type and either a similar name or to be its table's `sole_pair` (the only
/// dropped and the only added column).
fn column_score(from: &ColumnDef, to: &ColumnDef, sole_pair: bool) -> Option<f64> {
    let similarity = name_similarity(&from.name, &to.name);
    if column_change(from, to).is_none() {
        return Some(IDENTICAL_COLUMN_FLOOR + (1.0 - IDENTICAL_COLUMN_FLOOR) * similarity);
    }
    if !compatible(from.ty, to.ty) {
        None
    } else if similarity >= COLUMN_NAME_SIMILARITY {
        Some(similarity)
    } else if sole_pair {
        Some(SOLE_PAIR_CEILING * similarity)
    } else {
        None
    }
}

/// What differs between `from` and `to` but the name, for the question: `None`
/// when they are identical.
fn column_change(from: &ColumnDef, to: &ColumnDef) -> Option<String> {
    let mut parts = Vec::new();
    if from.ty != to.ty {
        parts.push(format!("type {} -> {}", from.ty, to.ty));
    }
    if from.null != to.null {
        parts.push(
            if to.null {
                "now nullable"
            } else {
                "now NOT NULL"
            }
            .to_string(),
        );
    }
    if from.default != to.default {
        let shown = |d: &Option<DefaultValue>| match d {
            None => "none".to_string(),
            Some(DefaultValue::Bool(b)) => b.to_string(),
            Some(DefaultValue::Int(i)) => i.to_string(),
            Some(DefaultValue::Float(f)) => f.to_string(),
            Some(DefaultValue::Text(t)) => format!("{t:?}"),
            Some(DefaultValue::Expr { expr }) => format!("{expr:?}").to_lowercase(),
        };
        parts.push(format!(
            "default {} -> {}",
            shown(&from.default),
            shown(&to.default)
        ));
    }
    if from.auto != to.auto {
        parts.push(
            if to.auto {
                "now auto-increment"
            } else {
                "no longer auto-increment"
            }
            .to_string(),
        );
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Name similarity in `0.0..=1.0`: the better of Jaro-Winkler (kind to shared
/// prefixes: `desc`/`description`) and normalized Damerau-Levenshtein (kind to
/// typos and swapped letters), case-insensitive.
pub(super) fn name_similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (a.to_lowercase(), b.to_lowercase());
    strsim::jaro_winkler(&a, &b).max(strsim::normalized_damerau_levenshtein(&a, &b))
}

/// Highest score first; equal scores by table, from, to — so the order never
/// depends on anything but the names.
fn sort_best_first(candidates: &mut [RenameCandidate]) {
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| (&a.table, &a.from, &a.to).cmp(&(&b.table, &b.from, &b.to)))
    });
}

/// The accepted renames, as mappings from old names to new ones.
#[derive(Debug, Clone, Default)]
pub(super) struct Renames {
    /// Old table name → new table name.
    pub tables: BTreeMap<String, String>,
    /// (new table name, old column name) → new column name.
    pub columns: BTreeMap<(String, String), String>,
}

impl Renames {
    /// The renames of `decisions`, each checked: it pairs a name only the old schema
    /// has with one only the new schema has, and uses each name once.
    pub(super) fn validated(
        old: &SchemaState,
        new: &SchemaState,
        decisions: &Decisions,
    ) -> Result<Self, AutodetectError> {
        Self::build(old, new, decisions, true)
    }

    /// The renames of `decisions` that fit, ignoring the others (which `diff` reports).
    pub(super) fn lenient(old: &SchemaState, new: &SchemaState, decisions: &Decisions) -> Self {
        Self::build(old, new, decisions, false).unwrap_or_default()
    }

    fn build(
        old: &SchemaState,
        new: &SchemaState,
        decisions: &Decisions,
        strict: bool,
    ) -> Result<Self, AutodetectError> {
        let mut renames = Renames::default();
        let accepted = |kind| {
            let mut list: Vec<_> = decisions
                .renames
                .iter()
                .filter(|r| r.kind == kind)
                .collect();
            // Sorted, so that which of two clashing renames wins never depends on order.
            list.sort();
            list
        };
        for AcceptedRename { from, to, .. } in accepted(RenameKind::Table) {
            let refusal = if !old.tables.contains_key(from) {
                Some("the old schema has no such table")
            } else if new.tables.contains_key(from) {
                Some("the new schema still has a table of the old name")
            } else if !new.tables.contains_key(to) {
                Some("the new schema has no such table")
            } else if old.tables.contains_key(to) {
                Some("the old schema already has a table of the new name")
            } else if renames.tables.contains_key(from) || renames.tables.values().any(|t| t == to)
            {
                Some("one of the names is in another accepted rename")
            } else {
                None
            };
            match refusal {
                None => {
                    renames.tables.insert(from.clone(), to.clone());
                }
                Some(reason) if strict => return Err(invalid("table", from, to, reason)),
                Some(_) => {}
            }
        }
        for AcceptedRename {
            table, from, to, ..
        } in accepted(RenameKind::Column)
        {
            let old_table = renames.old_table(table);
            let refusal = match (old.tables.get(old_table), new.tables.get(table)) {
                (Some(before), Some(after)) => {
                    let taken = renames
                        .columns
                        .iter()
                        .any(|((t, f), n)| t == table && (f == from || n == to));
                    if before.column(from).is_none() {
                        Some("the old table has no such column")
                    } else if after.column(from).is_some() {
                        Some("the new table still has a column of the old name")
                    } else if after.column(to).is_none() {
                        Some("the new table has no such column")
                    } else if before.column(to).is_some() {
                        Some("the old table already has a column of the new name")
                    } else if taken {
                        Some("one of the names is in another accepted rename")
                    } else {
                        None
                    }
                }
                _ => Some("the table is not on both sides (rename the table first)"),
            };
            match refusal {
                None => {
                    renames
                        .columns
                        .insert((table.clone(), from.clone()), to.clone());
                }
                Some(reason) if strict => {
                    return Err(invalid("column", &format!("{table}.{from}"), to, reason))
                }
                Some(_) => {}
            }
        }
        Ok(renames)
    }

    /// The new name of old table `old`.
    pub(super) fn table<'a>(&'a self, old: &'a str) -> &'a str {
        self.tables.get(old).map_or(old, String::as_str)
    }

    /// The old name of the table now called `new`.
    pub(super) fn old_table<'a>(&'a self, new: &'a str) -> &'a str {
        self.tables
            .iter()
            .find(|(_, to)| *to == new)
            .map_or(new, |(from, _)| from.as_str())
    }

    /// The new name of column `old` of the table now called `new_table`.
    pub(super) fn column<'a>(&'a self, new_table: &str, old: &'a str) -> &'a str {
        self.columns
            .get(&(new_table.to_string(), old.to_string()))
            .map_or(old, String::as_str)
    }

    /// `old` as it reads once every accepted rename is done: tables, columns, and the
    /// columns and tables that keys, indexes and foreign keys name. Check expressions
    /// and index predicates are SQL text and stay as written.
    pub(super) fn apply_to(&self, old: &SchemaState) -> SchemaState {
        let mut out = SchemaState::new();
        for t in old.tables.values() {
            let name = self.table(&t.name).to_string();
            let cols = |cols: &[String]| -> Vec<String> {
                cols.iter()
                    .map(|c| self.column(&name, c).to_string())
                    .collect()
            };
            let mut renamed = TableDef::clone(t);
            for c in &mut renamed.columns {
                c.name = self.column(&name, &c.name).to_string();
            }
            renamed.primary_key = cols(&t.primary_key);
            for i in &mut renamed.indexes {
                i.columns = cols(&i.columns);
            }
            for u in &mut renamed.uniques {
                u.columns = cols(&u.columns);
            }
            for fk in &mut renamed.foreign_keys {
                fk.columns = cols(&fk.columns);
                let target = self.table(&fk.references).to_string();
                fk.referenced_columns = fk
                    .referenced_columns
                    .iter()
                    .map(|c| self.column(&target, c).to_string())
                    .collect();
                fk.references = target;
            }
            renamed.name.clone_from(&name);
            out.tables.insert(name, renamed.into());
        }
        out
    }
}

fn invalid(what: &str, from: &str, to: &str, reason: &str) -> AutodetectError {
    AutodetectError::InvalidRename {
        what: what.into(),
        from: from.into(),
        to: to.into(),
        reason: reason.into(),
    }
}

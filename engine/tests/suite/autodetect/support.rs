//! Shared by the autodetector tests: schemas from TOML, the core property, and the
//! renames a sequence of operations really made.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use strata_engine::ast::*;
use strata_engine::autodetect::{self, AutodetectError, Decisions};
use strata_engine::{ColumnType, SchemaState};

#[derive(Serialize, Deserialize)]
struct OpList {
    #[serde(default)]
    op: Vec<Operation>,
}

/// Operations written as `[[op]]` tables.
pub(crate) fn ops(toml_text: &str) -> Vec<Operation> {
    toml::from_str::<OpList>(toml_text)
        .unwrap_or_else(|e| panic!("bad operations TOML: {e}\n{toml_text}"))
        .op
}

/// Operations as `[[op]]` tables, as a golden expects them.
pub(crate) fn ops_text(ops: &[Operation]) -> String {
    toml::to_string(&OpList { op: ops.to_vec() }).expect("operations serialize")
}

/// `state` with `ops` applied; panics naming the refused operation.
pub(crate) fn applied(state: &SchemaState, ops: &[Operation]) -> SchemaState {
    let mut state = state.clone();
    for op in ops {
        state
            .apply(op)
            .unwrap_or_else(|e| panic!("{op} does not fit: {e}"));
    }
    state
}

/// The core property: the operations `diff` returns apply to `old` in sequence and
/// reach `new`; diffing a schema with itself finds nothing; and the output is the
/// same on a second run.
pub(crate) fn diff_checked(
    old: &SchemaState,
    new: &SchemaState,
    decisions: &Decisions,
) -> Result<Vec<Operation>, AutodetectError> {
    let ops = autodetect::diff(old, new, decisions)?;
    let mut state = old.clone();
    for (i, op) in ops.iter().enumerate() {
        state.apply(op).unwrap_or_else(|e| {
            panic!(
                "operation {} ({op}) does not fit: {e}\n{}",
                i + 1,
                ops_text(&ops)
            )
        });
    }
    assert_eq!(
        state.canonical(),
        new.canonical(),
        "the operations do not reach the new schema:\n{}",
        ops_text(&ops)
    );
    assert_eq!(
        autodetect::diff(old, new, decisions).as_ref(),
        Ok(&ops),
        "a second run differs"
    );
    for same in [old, new] {
        assert_eq!(
            autodetect::diff(same, same, &Decisions::default()),
            Ok(Vec::new()),
            "a schema differs from itself"
        );
    }
    Ok(ops)
}

/// A one-off default for every column that needs one and whose type has a literal
/// (`bytes` has none); `None` when some column cannot get one.
pub(crate) fn with_one_off_defaults(
    old: &SchemaState,
    new: &SchemaState,
    mut decisions: Decisions,
) -> Option<Decisions> {
    for (table, column) in autodetect::needs_one_off_default(old, new, &decisions) {
        let ty = new.tables[&table].column(&column).expect("added column").ty;
        let value = literal_for(ty)?;
        decisions.one_off_defaults.insert((table, column), value);
    }
    // A column that becomes NOT NULL: a value for its NULL rows where a backfill can
    // write one (a one-column key to walk), else the answer that there are none.
    for (table, column) in autodetect::needs_not_null_answer(old, new, &decisions) {
        let t = &new.tables[&table];
        let value = literal_for(t.column(&column).expect("altered column").ty);
        match value {
            Some(value) if t.primary_key.len() == 1 => {
                decisions.one_off_defaults.insert((table, column), value);
            }
            _ => {
                decisions.no_nulls.insert((table, column));
            }
        }
    }
    Some(decisions)
}

/// A literal default that fits `ty`.
pub(crate) fn literal_for(ty: ColumnType) -> Option<DefaultValue> {
    if ty == ColumnType::Bool {
        Some(DefaultValue::Bool(false))
    } else if ty.is_numeric() || ty == ColumnType::Duration {
        Some(DefaultValue::Int(0))
    } else if ty.is_temporal() {
        Some(DefaultValue::Text("2000-01-01".into()))
    } else if ty.is_textual() {
        Some(DefaultValue::Text(String::new()))
    } else {
        None
    }
}

/// Where each table and column of a starting schema went through a sequence of
/// operations: the renames it really made, as an autodetector user would answer.
#[derive(Debug, Clone, Default)]
pub(crate) struct Origins {
    /// Current table name → its name at the start.
    tables: BTreeMap<String, String>,
    /// (current table, current column) → the column's name at the start.
    columns: BTreeMap<(String, String), String>,
}

impl Origins {
    pub(crate) fn of(start: &SchemaState) -> Self {
        let mut origins = Origins::default();
        for t in start.tables.values() {
            origins.tables.insert(t.name.clone(), t.name.clone());
            for c in &t.columns {
                origins
                    .columns
                    .insert((t.name.clone(), c.name.clone()), c.name.clone());
            }
        }
        origins
    }

    pub(crate) fn track(&mut self, op: &Operation) {
        match op {
            Operation::RenameTable(o) => {
                if let Some(origin) = self.tables.remove(&o.from) {
                    self.tables.insert(o.to.clone(), origin);
                }
                let moved: Vec<_> = self
                    .columns
                    .keys()
                    .filter(|(t, _)| *t == o.from)
                    .cloned()
                    .collect();
                for key in moved {
                    let origin = self.columns.remove(&key).expect("listed");
                    self.columns.insert((o.to.clone(), key.1), origin);
                }
            }
            Operation::DropTable(o) => {
                self.tables.remove(&o.name);
                self.columns.retain(|(t, _), _| *t != o.name);
            }
            Operation::RenameColumn(o) => {
                if let Some(origin) = self.columns.remove(&(o.table.clone(), o.from.clone())) {
                    self.columns.insert((o.table.clone(), o.to.clone()), origin);
                }
            }
            Operation::DropColumn(o) => {
                self.columns.remove(&(o.table.clone(), o.column.clone()));
            }
            _ => {}
        }
    }

    /// The name at the start of the table now called `now`.
    pub(crate) fn origin_table(&self, now: &str) -> Option<&str> {
        self.tables.get(now).map(String::as_str)
    }

    /// The renames made, as accepted decisions.
    pub(crate) fn decisions(&self) -> Decisions {
        let mut decisions = Decisions::default();
        for (now, origin) in &self.tables {
            if now != origin {
                decisions = decisions.rename_table(origin, now);
            }
        }
        for ((table, now), origin) in &self.columns {
            if now != origin {
                decisions = decisions.rename_column(table, origin, now);
            }
        }
        decisions
    }

    /// Whether a column of a primary key was renamed: without accepting that rename,
    /// the key changes, which no operation can do.
    pub(crate) fn renamed_a_key_column(&self, start: &SchemaState) -> bool {
        self.columns.iter().any(|((table, now), origin)| {
            now != origin
                && self
                    .origin_table(table)
                    .and_then(|t| start.tables.get(t))
                    .is_some_and(|t| t.primary_key.contains(origin))
        })
    }
}

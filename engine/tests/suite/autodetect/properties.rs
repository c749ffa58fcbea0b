//! The core property over random schema pairs: an old schema grown by random
//! operations from nothing, a new one grown from it by more. Whatever the renames
//! decided — all declined, the ones really made, or every candidate accepted — the
//! operations `diff` returns apply in sequence and reach the new schema.
//!
//! Operations are proposed loosely and kept only when the state accepts them, so
//! the schemas are valid by the state's own rules. The second phase uses fresh
//! names (`n…`), so a name on both sides is always the same table or column.

use proptest::prelude::*;
use strata_engine::ast::*;
use strata_engine::autodetect::{self, AutodetectError, Decisions};
use strata_engine::{ColumnType, SchemaState};

use crate::rng::Rng;

use super::support::{diff_checked, with_one_off_defaults, Origins};

/// Names of one phase: `t…`/`c…`/`o…` for the old schema, `n…` for the new one.
struct Names {
    prefix: &'static str,
}

impl Names {
    fn table(&self, rng: &mut Rng, state: &SchemaState) -> Option<String> {
        let start = rng.below(8);
        (0..8)
            .map(|i| format!("{}t{}", self.prefix, (start + i) % 8))
            .find(|n| !state.tables.contains_key(n))
    }

    fn column(&self, rng: &mut Rng, t: &TableDef) -> Option<String> {
        let start = rng.below(10);
        (0..10)
            .map(|i| format!("{}c{}", self.prefix, (start + i) % 10))
            .find(|n| t.column(n).is_none())
    }

    fn object(&self, rng: &mut Rng, state: &SchemaState, taken: &[String]) -> Option<String> {
        let start = rng.below(40);
        (0..40)
            .map(|i| format!("{}o{}", self.prefix, (start + i) % 40))
            .find(|n| state.owner_of(n).is_none() && !taken.contains(n))
    }
}

fn any_type(rng: &mut Rng) -> ColumnType {
    let types = [
        ColumnType::Bool,
        ColumnType::SmallInt,
        ColumnType::Int,
        ColumnType::BigInt,
        ColumnType::Double,
        ColumnType::Decimal {
            precision: 12,
            scale: 2,
        },
        ColumnType::Varchar(20),
        ColumnType::Varchar(50),
        ColumnType::Text,
        ColumnType::Bytes,
        ColumnType::Date,
        ColumnType::TimestampTz,
        ColumnType::Uuid,
        ColumnType::Duration,
        ColumnType::UInt,
        ColumnType::UBigInt,
    ];
    *rng.pick(&types).expect("not empty")
}

fn default_for(rng: &mut Rng, ty: ColumnType) -> Option<DefaultValue> {
    let mut options = Vec::new();
    if ty == ColumnType::Bool {
        options.push(DefaultValue::Bool(rng.chance(50)));
    }
    if ty.is_numeric() {
        options.push(DefaultValue::Int(
            i64::try_from(rng.below(5)).expect("below 5"),
        ));
    }
    if ty.is_textual() || ty.is_temporal() {
        options.push(DefaultValue::Text("x".into()));
    }
    if ty.is_temporal() {
        options.push(DefaultValue::Expr {
            expr: DefaultExpr::Now,
        });
    }
    rng.pick(&options).cloned()
}

/// A column; `bytes` columns are nullable, since no one-off default fits them.
fn random_column(rng: &mut Rng, name: String, key_type: Option<ColumnType>) -> ColumnDef {
    let ty = key_type.unwrap_or_else(|| any_type(rng));
    ColumnDef {
        name,
        ty,
        null: ty == ColumnType::Bytes || rng.chance(30),
        default: if rng.chance(40) {
            default_for(rng, ty)
        } else {
            None
        },
        auto: false,
        ..Default::default()
    }
}

fn column_names(t: &TableDef) -> Vec<String> {
    t.columns.iter().map(|c| c.name.clone()).collect()
}

fn unique_keys(t: &TableDef) -> Vec<Vec<String>> {
    let mut keys = vec![t.primary_key.clone()];
    keys.extend(t.uniques.iter().map(|u| u.columns.clone()));
    keys.extend(
        t.indexes
            .iter()
            .filter(|i| i.unique && i.predicate.is_none())
            .map(|i| i.columns.clone()),
    );
    keys.retain(|k| !k.is_empty());
    keys
}

fn random_table<'a>(rng: &mut Rng, state: &'a SchemaState) -> Option<&'a TableDef> {
    let tables: Vec<&TableDef> = state.tables.values().map(|t| &**t).collect();
    rng.pick(&tables).copied()
}

/// A foreign key from `source` onto a key of `target`, over source columns of the
/// referenced types.
fn foreign_key(
    rng: &mut Rng,
    name: String,
    source: &TableDef,
    target: &TableDef,
) -> Option<ForeignKeyDef> {
    let key = rng.pick(&unique_keys(target))?.clone();
    let mut pool: Vec<&ColumnDef> = source.columns.iter().collect();
    let mut columns = Vec::new();
    for referenced in &key {
        let ty = target.column(referenced)?.ty;
        let fitting: Vec<usize> = (0..pool.len()).filter(|&i| pool[i].ty == ty).collect();
        columns.push(pool.swap_remove(*rng.pick(&fitting)?).name.clone());
    }
    let nullable = columns
        .iter()
        .all(|c| source.column(c).is_some_and(|c| c.null));
    let mut actions = vec![None, Some(FkAction::Cascade), Some(FkAction::Restrict)];
    if nullable {
        actions.push(Some(FkAction::SetNull));
    }
    Some(ForeignKeyDef {
        name,
        columns,
        references: target.name.clone(),
        referenced_columns: key,
        on_delete: *rng.pick(&actions).expect("not empty"),
        on_update: *rng.pick(&actions).expect("not empty"),
        ..Default::default()
    })
}

fn predicate_or_check(rng: &mut Rng, t: &TableDef) -> String {
    let column = rng.pick(&t.columns).map_or("1", |c| c.name.as_str());
    format!("{column} IS NOT NULL")
}

fn create_table(rng: &mut Rng, state: &SchemaState, names: &Names) -> Option<Operation> {
    let mut t = TableDef {
        name: names.table(rng, state)?,
        columns: Vec::new(),
        primary_key: Vec::new(),
        uniques: Vec::new(),
        checks: Vec::new(),
        foreign_keys: Vec::new(),
        indexes: Vec::new(),
        ..Default::default()
    };
    if rng.chance(60) {
        t.columns.push(ColumnDef {
            name: "id".into(),
            ty: ColumnType::BigInt,
            null: false,
            default: None,
            auto: true,
            ..Default::default()
        });
        t.primary_key = vec!["id".into()];
    }
    // A target first, so the table gets columns of the types its key has.
    let target = random_table(rng, state).filter(|_| rng.chance(60)).cloned();
    let key_types: Vec<ColumnType> = target
        .as_ref()
        .and_then(|target| {
            let key = rng.pick(&unique_keys(target))?.clone();
            Some(
                key.iter()
                    .filter_map(|c| target.column(c).map(|c| c.ty))
                    .collect(),
            )
        })
        .unwrap_or_default();
    for ty in key_types {
        let name = names.column(rng, &t)?;
        t.columns.push(random_column(rng, name, Some(ty)));
    }
    for _ in 0..=rng.below(4) {
        let name = names.column(rng, &t)?;
        t.columns.push(random_column(rng, name, None));
    }
    if t.primary_key.is_empty() && rng.chance(60) {
        let not_null: Vec<_> = t
            .columns
            .iter()
            .filter(|c| !c.null)
            .map(|c| c.name.clone())
            .collect();
        if !not_null.is_empty() {
            t.primary_key = rng.subset(&not_null, 2);
        }
    }
    let mut taken = Vec::new();
    for _ in 0..rng.below(3) {
        let name = names.object(rng, state, &taken)?;
        taken.push(name.clone());
        let columns = rng.subset(&column_names(&t), 2);
        match rng.below(3) {
            0 => t.uniques.push(UniqueDef { name, columns }),
            1 => t.checks.push(CheckDef {
                expr: predicate_or_check(rng, &t),
                name,
            }),
            _ => t.indexes.push(IndexDef {
                name,
                predicate: rng
                    .chance(20)
                    .then(|| format!("{} IS NOT NULL", columns[0])),
                columns,
                unique: rng.chance(40),
                ..Default::default()
            }),
        }
    }
    let name = names.object(rng, state, &taken)?;
    let target = match target {
        Some(target) => Some(target),
        None => rng.chance(30).then(|| t.clone()), // a self-reference
    };
    if let Some(fk) = target.and_then(|target| foreign_key(rng, name, &t, &target)) {
        t.foreign_keys.push(fk);
    }
    Some(Operation::CreateTable(t))
}

fn alter_column(rng: &mut Rng, state: &SchemaState) -> Option<Operation> {
    let t = random_table(rng, state)?;
    let old = rng.pick(&t.columns)?;
    let mut op = AlterColumn {
        table: t.name.clone(),
        column: old.name.clone(),
        ty: None,
        null: None,
        default: None,
        drop_default: false,
        ..Default::default()
    };
    let ty = if old.auto { old.ty } else { any_type(rng) };
    if rng.chance(50) && ty != old.ty {
        op.ty = Some(ty);
    }
    if rng.chance(40) {
        op.null = Some(!old.null);
    }
    if !old.auto {
        match rng.below(3) {
            0 => op.default = default_for(rng, op.ty.unwrap_or(old.ty)),
            1 => op.drop_default = old.default.is_some(),
            _ => {}
        }
    }
    if op.ty.is_some() && op.default.is_none() && old.default.is_some() {
        op.drop_default = true; // the old default may not fit the new type
    }
    if op.ty.unwrap_or(old.ty) == ColumnType::Bytes {
        // No one-off default fits bytes: keep such columns nullable.
        op.null = (!old.null).then_some(true);
    }
    Some(Operation::AlterColumn(op))
}

/// An index on one or two columns of some table, sometimes unique or partial.
fn create_index(rng: &mut Rng, state: &SchemaState, names: &Names) -> Option<Operation> {
    let t = random_table(rng, state)?;
    let columns = rng.subset(&column_names(t), 2);
    Some(Operation::CreateIndex(CreateIndex {
        table: t.name.clone(),
        index: IndexDef {
            name: names.object(rng, state, &[])?,
            predicate: rng
                .chance(20)
                .then(|| format!("{} IS NOT NULL", columns[0])),
            columns,
            unique: rng.chance(40),
            ..Default::default()
        },
    }))
}

/// A unique or check constraint on some table.
fn add_constraint(rng: &mut Rng, state: &SchemaState, names: &Names) -> Option<Operation> {
    let t = random_table(rng, state)?;
    let name = names.object(rng, state, &[])?;
    let constraint = if rng.chance(50) {
        Constraint::Unique {
            name,
            columns: rng.subset(&column_names(t), 2),
        }
    } else {
        Constraint::Check {
            name,
            expr: predicate_or_check(rng, t),
        }
    };
    Some(Operation::AddConstraint(AddConstraint {
        table: t.name.clone(),
        constraint,
    }))
}

/// Some table's object named by `names`.
fn pick_object(
    rng: &mut Rng,
    state: &SchemaState,
    names: impl Fn(&TableDef) -> Vec<String>,
) -> Option<(String, String)> {
    let all: Vec<(String, String)> = state
        .tables
        .values()
        .flat_map(|t| names(t).into_iter().map(|n| (t.name.clone(), n)))
        .collect();
    rng.pick(&all).cloned()
}

const KINDS: usize = 15;

/// An operation of kind `kind`; the caller keeps it only if the state accepts it.
fn propose(kind: usize, rng: &mut Rng, state: &SchemaState, names: &Names) -> Option<Operation> {
    Some(match kind % KINDS {
        0 | 1 => create_table(rng, state, names)?,
        2 => Operation::DropTable(DropTable {
            name: random_table(rng, state)?.name.clone(),
        }),
        3 => Operation::RenameTable(RenameTable {
            from: random_table(rng, state)?.name.clone(),
            to: names.table(rng, state)?,
        }),
        4 => {
            let t = random_table(rng, state)?;
            let name = names.column(rng, t)?;
            Operation::AddColumn(AddColumn {
                table: t.name.clone(),
                column: random_column(rng, name, None),
            })
        }
        5 => {
            let t = random_table(rng, state)?;
            Operation::DropColumn(DropColumn {
                table: t.name.clone(),
                column: rng.pick(&column_names(t))?.clone(),
            })
        }
        6 => {
            let t = random_table(rng, state)?;
            Operation::RenameColumn(RenameColumn {
                table: t.name.clone(),
                from: rng.pick(&column_names(t))?.clone(),
                to: names.column(rng, t)?,
            })
        }
        7 => alter_column(rng, state)?,
        8 => create_index(rng, state, names)?,
        9 => {
            let (table, name) = pick_object(rng, state, |t| {
                t.indexes.iter().map(|i| i.name.clone()).collect()
            })?;
            if rng.chance(50) {
                Operation::DropIndex(DropIndex { table, name })
            } else {
                Operation::RenameIndex(RenameIndex {
                    table,
                    from: name,
                    to: names.object(rng, state, &[])?,
                })
            }
        }
        10 => {
            let source = random_table(rng, state)?;
            let target = random_table(rng, state)?;
            let name = names.object(rng, state, &[])?;
            Operation::AddForeignKey(AddForeignKey {
                table: source.name.clone(),
                foreign_key: foreign_key(rng, name, source, target)?,
            })
        }
        11 => {
            let (table, name) = pick_object(rng, state, |t| {
                t.foreign_keys.iter().map(|f| f.name.clone()).collect()
            })?;
            Operation::DropForeignKey(DropForeignKey { table, name })
        }
        12 => add_constraint(rng, state, names)?,
        13 => {
            let t = random_table(rng, state)?;
            let comment = rng.chance(60).then(|| format!("{}'s table", t.name));
            Operation::AlterTable(AlterTable {
                table: t.name.clone(),
                drop_comment: comment.is_none(),
                comment,
            })
        }
        _ => {
            let (table, name) = pick_object(rng, state, |t| {
                t.uniques
                    .iter()
                    .map(|u| u.name.clone())
                    .chain(t.checks.iter().map(|c| c.name.clone()))
                    .collect()
            })?;
            Operation::DropConstraint(DropConstraint { table, name })
        }
    })
}

/// `start` grown by the plan's operations that fit, with where its tables and
/// columns went.
fn grow(start: &SchemaState, plan: &[(usize, u64)], names: &Names) -> (SchemaState, Origins) {
    let mut state = start.clone();
    let mut origins = Origins::of(start);
    for (kind, seed) in plan {
        let Some(op) = propose(*kind, &mut Rng(*seed), &state, names) else {
            continue;
        };
        if state.apply(&op).is_ok() {
            origins.track(&op);
        }
    }
    (state, origins)
}

fn plan(max: usize) -> impl Strategy<Value = Vec<(usize, u64)>> {
    prop::collection::vec((0..KINDS, any::<u64>()), 0..max)
}

fn pair(
    old_plan: &[(usize, u64)],
    new_plan: &[(usize, u64)],
) -> (SchemaState, SchemaState, Origins) {
    let (old, _) = grow(&SchemaState::new(), old_plan, &Names { prefix: "" });
    let (new, origins) = grow(&old, new_plan, &Names { prefix: "n" });
    (old, new, origins)
}

proptest! {
    // PROPTEST_CASES=… runs more (or fewer) cases.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(400),
        ..ProptestConfig::default()
    })]

    /// Every rename declined: drops and adds. Only a renamed key column cannot be
    /// expressed that way (the primary key would change).
    #[test]
    fn declined_renames_reach_the_new_schema(old_plan in plan(60), new_plan in plan(30)) {
        let (old, new, origins) = pair(&old_plan, &new_plan);
        let no_rename = Decisions { no_rename: true, ..Decisions::default() };
        let decisions = with_one_off_defaults(&old, &new, no_rename).expect("no bytes column needs one");
        match diff_checked(&old, &new, &decisions) {
            Ok(_) => {}
            Err(AutodetectError::Unsupported { .. }) if origins.renamed_a_key_column(&old) => {}
            Err(e) => return Err(TestCaseError::fail(format!("{e}"))),
        }
    }

    /// The renames really made, accepted: always expressible.
    #[test]
    fn the_real_renames_reach_the_new_schema(old_plan in plan(60), new_plan in plan(30)) {
        let (old, new, origins) = pair(&old_plan, &new_plan);
        let real = Decisions { no_rename: true, ..origins.decisions() };
        let decisions = with_one_off_defaults(&old, &new, real).expect("no bytes column needs one");
        diff_checked(&old, &new, &decisions).map_err(|e| TestCaseError::fail(format!("{e}")))?;
    }

    /// Every candidate accepted, best first, as a user answering "yes" to each
    /// question would: a wrong guess may pair tables with different primary keys,
    /// which is refused, but nothing else may go wrong.
    #[test]
    fn accepting_every_candidate_reaches_the_new_schema(old_plan in plan(60), new_plan in plan(30)) {
        let (old, new, _) = pair(&old_plan, &new_plan);
        let mut decisions = Decisions::default();
        loop {
            let filled = with_one_off_defaults(&old, &new, decisions.clone()).expect("no bytes column needs one");
            match diff_checked(&old, &new, &filled) {
                Ok(_) | Err(AutodetectError::Unsupported { .. }) => break,
                Err(AutodetectError::UnresolvedRenames(open)) => decisions = decisions.accept(&open[0]),
                Err(e) => return Err(TestCaseError::fail(format!("{e}"))),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(400),
        ..ProptestConfig::default()
    })]

    /// Old names used again in the new schema: a column dropped and added back, an
    /// index moved to another table, a table renamed and another created under its
    /// old name. Declined renames; a table name reused with another primary key is
    /// refused, nothing else may go wrong.
    #[test]
    fn reused_names_reach_the_new_schema(old_plan in plan(60), new_plan in plan(30)) {
        let (old, _) = grow(&SchemaState::new(), &old_plan, &Names { prefix: "" });
        let (new, _) = grow(&old, &new_plan, &Names { prefix: "" });
        let no_rename = Decisions { no_rename: true, ..Decisions::default() };
        let decisions = with_one_off_defaults(&old, &new, no_rename).expect("no bytes column needs one");
        match diff_checked(&old, &new, &decisions) {
            Ok(_) | Err(AutodetectError::Unsupported { .. }) => {}
            Err(e) => return Err(TestCaseError::fail(format!("{e}"))),
        }
    }
}

/// The generator makes schemas worth diffing: every kind of change shows up in the
/// operations `diff` writes for them.
#[test]
fn random_pairs_exercise_every_operation_kind() {
    let mut seeds = Rng(11);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..300 {
        let old_plan: Vec<_> = (0..30)
            .map(|_| (seeds.below(KINDS), seeds.next()))
            .collect();
        let new_plan: Vec<_> = (0..20)
            .map(|_| (seeds.below(KINDS), seeds.next()))
            .collect();
        let (old, new, origins) = pair(&old_plan, &new_plan);
        let real = Decisions {
            no_rename: true,
            ..origins.decisions()
        };
        let decisions = with_one_off_defaults(&old, &new, real).expect("no bytes column needs one");
        let ops = autodetect::diff(&old, &new, &decisions).expect("real renames always work");
        seen.extend(ops.iter().map(Operation::kind));
    }
    // `run_sql`, `run_code` and `backfill` change no schema, so no difference between
    // schemas calls for them.
    let missing: Vec<_> = Operation::KINDS
        .iter()
        .filter(|k| !["run_sql", "run_code", "backfill"].contains(*k) && !seen.contains(*k))
        .collect();
    assert!(missing.is_empty(), "never produced {missing:?}");
}

//! The squash optimizer on random histories: the optimized operations build exactly
//! the schema the originals build, never more operations, and the operations it does
//! not understand (`run_sql`) stay, in their order.

use proptest::prelude::*;
use strata_engine::ast::Operation;
use strata_engine::squash::optimize;
use strata_engine::SchemaState;

use crate::rng::Rng;
use crate::state_roundtrip::{build, plan};

/// The operations `plan` builds from the empty schema, each fitting the one before.
fn history(plan: Vec<(u8, u64)>) -> Vec<Operation> {
    let mut state = SchemaState::new();
    let mut ops = Vec::new();
    for (kind, seed) in plan {
        let Some(op) = build(kind, &mut Rng(seed), &state) else {
            continue;
        };
        if state.apply(&op).is_ok() {
            ops.push(op);
        }
    }
    ops
}

fn replay(ops: &[Operation]) -> Result<SchemaState, String> {
    let mut state = SchemaState::new();
    for (i, op) in ops.iter().enumerate() {
        state
            .apply(op)
            .map_err(|e| format!("operation {} ({op:?}): {e}", i + 1))?;
    }
    Ok(state)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn the_optimized_history_builds_the_same_schema(plan in plan()) {
        let ops = history(plan);
        let optimized = optimize(&SchemaState::new(), &ops);
        let expected = replay(&ops).map_err(TestCaseError::fail)?;
        let actual = replay(&optimized)
            .map_err(|e| TestCaseError::fail(format!("the optimized list does not replay: {e}\n{optimized:#?}")))?;
        prop_assert_eq!(actual, expected);
        prop_assert!(optimized.len() <= ops.len());
        let barriers = |list: &[Operation]| -> Vec<Operation> {
            list.iter().filter(|op| matches!(op, Operation::RunSql(_))).cloned().collect()
        };
        prop_assert_eq!(barriers(&optimized), barriers(&ops));
    }
}

//! `models.toml` written back (what `inspectdb` does) for every schema the operation
//! corpus builds.

use std::collections::BTreeMap;
use std::path::Path;

use strata_engine::ast::TableDef;
use strata_engine::models::{parse_app, resolve, write_app};

/// `write_app` is the inverse of reading for every schema the corpus builds, except
/// where it says otherwise in a `# NOTE:` — and what it writes always reads.
#[test]
fn written_models_read_back_the_same_for_the_corpus() {
    let mut exact = 0;
    let mut noted = Vec::new();
    for case in strata_testkit::corpus() {
        let mut state = strata_testkit::setup_state(&case);
        let mut states = vec![state.clone()];
        for op in &case.operations {
            state
                .apply(op)
                .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            states.push(state.clone());
        }
        for s in states.iter().filter(|s| !s.tables.is_empty()) {
            let tables: Vec<TableDef> = s.tables.values().map(|t| TableDef::clone(t)).collect();
            let text = write_app("app", &tables, s, &BTreeMap::new());
            let read = parse_app("app", Path::new("models.toml"), &text)
                .and_then(|a| resolve(&[a]))
                .unwrap_or_else(|e| {
                    panic!("{}: written models do not read: {e}\n{text}", case.name)
                });
            if text.contains("# NOTE:") {
                noted.push(case.name.clone());
                continue;
            }
            assert_eq!(
                read.state.canonical(),
                s.canonical(),
                "{}:\n{text}",
                case.name
            );
            exact += 1;
        }
    }
    assert!(
        exact >= 100,
        "only {exact} schemas round-tripped; noted: {noted:?}"
    );
}

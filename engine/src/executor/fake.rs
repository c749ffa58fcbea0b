//! `--fake-initial`: an initial migration whose tables already exist (a database
//! adopted with `inspectdb`) is recorded as applied instead of run.

use std::collections::{BTreeMap, BTreeSet};

use super::ExecError;
use crate::ast::Operation;
use crate::dialect::driver::Driver;
use crate::migration::Migration;
use crate::state::SchemaState;

/// Whether every table `m` creates already exists with its columns. Only some of
/// them existing is an error. `after` is the schema once `m` is applied.
pub(super) async fn initial_exists(
    driver: &mut dyn Driver,
    m: &Migration,
    after: &SchemaState,
) -> Result<bool, ExecError> {
    let is_initial = !m.dependencies.iter().any(|d| d.app == m.key.app);
    let created = created_tables(&m.operations);
    if !is_initial || created.is_empty() {
        return Ok(false);
    }
    let live = driver.introspect().await?;
    let present: Vec<&str> = created
        .iter()
        .map(String::as_str)
        .filter(|name| {
            let (Some(expected), Some(found)) = (after.tables.get(*name), live.tables.get(*name))
            else {
                return false;
            };
            expected
                .columns
                .iter()
                .all(|c| found.column(&c.name).is_some())
        })
        .collect();
    if present.is_empty() {
        Ok(false)
    } else if present.len() == created.len() {
        Ok(true)
    } else {
        Err(ExecError::FakeInitialPartly {
            key: m.key.clone(),
            existing: present.join(", "),
        })
    }
}

/// The tables `operations` create and leave behind, under their final names: a table
/// created and then renamed is looked for by its new name, one created and dropped
/// not at all.
// `Operation::follow_tables` follows a map; only its keys matter here.
#[allow(clippy::zero_sized_map_values)]
fn created_tables(operations: &[Operation]) -> BTreeSet<String> {
    let mut created = BTreeMap::new();
    for op in operations {
        op.follow_tables(&mut created, || ());
    }
    created.into_keys().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops(text: &str) -> Vec<Operation> {
        #[derive(serde::Deserialize)]
        struct File {
            op: Vec<Operation>,
        }
        toml::from_str::<File>(text).expect("operations").op
    }

    #[test]
    fn created_tables_follow_renames_and_drops() {
        let operations = ops(r#"
            [[op]]
            kind = "create_table"
            name = "a"
            columns = [{ name = "id", type = "int" }]
            [[op]]
            kind = "create_table"
            name = "b"
            columns = [{ name = "id", type = "int" }]
            [[op]]
            kind = "create_table"
            name = "c"
            columns = [{ name = "id", type = "int" }]
            [[op]]
            kind = "rename_table"
            from = "a"
            to = "a2"
            [[op]]
            kind = "drop_table"
            name = "b"
            [[op]]
            kind = "rename_table"
            from = "elsewhere"
            to = "other"
        "#);
        let created: Vec<String> = created_tables(&operations).into_iter().collect();
        assert_eq!(created, ["a2", "c"]);
    }
}

//! The optimizer's reductions, one by one, on operations written as in a file.

use super::optimize;
use crate::ast::Operation;
use crate::migration::MigrationFile;
use crate::state::SchemaState;

fn ops(text: &str) -> Vec<Operation> {
    let file: MigrationFile = toml::from_str(text).expect("test operations parse");
    file.operations
}

fn optimized(text: &str) -> Vec<Operation> {
    optimize(&SchemaState::new(), &ops(text))
}

fn kinds(list: &[Operation]) -> Vec<String> {
    list.iter().map(ToString::to_string).collect()
}

const ITEM: &str = r#"
[[operations]]
kind = "create_table"
name = "item"
columns = [{ name = "id", type = "int", auto = true }]
primary_key = ["id"]
"#;

#[test]
fn a_created_table_takes_the_columns_indexes_and_renames_that_follow() {
    let list = optimized(&format!(
        r#"{ITEM}
[[operations]]
kind = "add_column"
table = "item"
column = {{ name = "title", type = "text" }}

[[operations]]
kind = "rename_column"
table = "item"
from = "title"
to = "name"

[[operations]]
kind = "create_index"
table = "item"
index = {{ name = "item_name", columns = ["name"] }}

[[operations]]
kind = "rename_table"
from = "item"
to = "product"
"#
    ));
    assert_eq!(kinds(&list), ["Create table product"]);
    let Operation::CreateTable(t) = &list[0] else {
        panic!("{list:?}")
    };
    assert!(t.column("name").is_some() && t.column("title").is_none());
    assert_eq!(t.indexes[0].name, "item_name");
}

#[test]
fn a_table_created_and_dropped_vanishes_with_everything_done_to_it() {
    let list = optimized(&format!(
        r#"{ITEM}
[[operations]]
kind = "add_column"
table = "item"
column = {{ name = "title", type = "text" }}

[[operations]]
kind = "drop_table"
name = "item"
"#
    ));
    assert!(list.is_empty(), "{list:?}");
}

/// On a table that existed before the range, pairs reduce on their own.
#[test]
fn pairs_on_an_existing_table_cancel_or_collapse() {
    let mut before = SchemaState::new();
    for op in ops(ITEM) {
        before.apply(&op).unwrap();
    }
    let list = optimize(
        &before,
        &ops(r#"
[[operations]]
kind = "add_column"
table = "item"
column = { name = "a", type = "int", null = true }

[[operations]]
kind = "alter_column"
table = "item"
column = "a"
null = false
default = 0

[[operations]]
kind = "rename_column"
table = "item"
from = "a"
to = "b"

[[operations]]
kind = "create_index"
table = "item"
index = { name = "gone", columns = ["id"] }

[[operations]]
kind = "drop_index"
table = "item"
name = "gone"

[[operations]]
kind = "rename_table"
from = "item"
to = "x"

[[operations]]
kind = "rename_table"
from = "x"
to = "item"
"#),
    );
    assert_eq!(kinds(&list), ["Add column b to item"]);
    let Operation::AddColumn(add) = &list[0] else {
        panic!("{list:?}")
    };
    assert!(!add.column.null);
    assert!(add.column.default.is_some());
}

#[test]
fn nothing_merges_across_a_run_sql() {
    let list = optimized(&format!(
        r#"{ITEM}
[[operations]]
kind = "run_sql"
sql = "INSERT INTO item DEFAULT VALUES"

[[operations]]
kind = "drop_table"
name = "item"
"#
    ));
    assert_eq!(
        kinds(&list),
        ["Create table item", "Raw SQL operation", "Drop table item"]
    );
}

#[test]
fn an_operation_on_a_table_in_between_stops_a_merge() {
    let list = optimized(&format!(
        r#"{ITEM}
[[operations]]
kind = "create_table"
name = "tag"
columns = [{{ name = "id", type = "int" }}, {{ name = "item_id", type = "int" }}]
foreign_keys = [{{ name = "tag_item", columns = ["item_id"], references = "item", referenced_columns = ["id"] }}]

[[operations]]
kind = "drop_table"
name = "item"
"#
    ));
    // `tag` refers to `item`: the drop cannot move before it, nor cancel the create.
    assert_eq!(list.len(), 3, "{list:?}");
}

//! Issue 12: a foreign key that changes its deferral or gains or loses its database
//! constraint is dropped and added again, and nothing else changes.

use strata_engine::ast::*;
use strata_engine::autodetect::Decisions;
use strata_engine::SchemaState;

use super::support::{applied, diff_checked, ops};

fn schema(fk_options: &str) -> SchemaState {
    applied(
        &SchemaState::new(),
        &ops(&format!(
            r#"
[[op]]
kind = "create_table"
name = "author"
primary_key = ["id"]
columns = [{{ name = "id", type = "bigint", auto = true }}]

[[op]]
kind = "create_table"
name = "book"
primary_key = ["id"]
columns = [
  {{ name = "id", type = "bigint", auto = true }},
  {{ name = "author_id", type = "bigint" }},
]
foreign_keys = [
  {{ name = "book_author_fk", columns = ["author_id"], references = "author", referenced_columns = ["id"]{fk_options} }},
]
indexes = [{{ name = "book_author_idx", columns = ["author_id"] }}]
"#
        )),
    )
}

fn changes(from: &str, to: &str) -> Vec<Operation> {
    diff_checked(&schema(from), &schema(to), &Decisions::default()).expect("diff")
}

/// The operations are exactly: drop `book_author_fk`, add it back as `to` says.
fn assert_drop_and_add(from: &str, to: &str) {
    let ops = changes(from, to);
    let new = schema(to);
    let wanted = new.tables["book"].foreign_key("book_author_fk").unwrap();
    assert!(
        matches!(
            ops.as_slice(),
            [Operation::DropForeignKey(d), Operation::AddForeignKey(a)]
                if d.name == "book_author_fk" && a.foreign_key == *wanted
        ),
        "{from} -> {to}: {ops:?}"
    );
}

#[test]
fn deferral_changes_are_a_drop_and_an_add_of_the_key() {
    assert_drop_and_add("", r#", deferrable = "deferred""#);
    assert_drop_and_add(
        r#", deferrable = "deferred""#,
        r#", deferrable = "immediate""#,
    );
    assert_drop_and_add(r#", deferrable = "immediate""#, "");
}

#[test]
fn switching_db_constraint_is_a_drop_and_an_add_of_the_key() {
    assert_drop_and_add("", ", db_constraint = false");
    assert_drop_and_add(", db_constraint = false", "");
}

#[test]
fn unchanged_options_are_no_change() {
    for options in [r#", deferrable = "deferred""#, ", db_constraint = false"] {
        assert!(changes(options, options).is_empty(), "{options}");
    }
}

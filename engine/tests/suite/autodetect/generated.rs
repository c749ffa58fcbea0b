//! Issue 12: a generated column whose expression or storage changes is dropped and
//! added again (no server alters one; its data is derived), with its indexes.

use strata_engine::ast::*;
use strata_engine::autodetect::Decisions;
use strata_engine::SchemaState;

use super::support::{applied, diff_checked, ops};

fn schema(generated: &str) -> SchemaState {
    applied(
        &SchemaState::new(),
        &ops(&format!(
            r#"
[[op]]
kind = "create_table"
name = "line"
primary_key = ["id"]
columns = [
  {{ name = "id", type = "bigint", auto = true }},
  {{ name = "price", type = "int" }},
  {{ name = "quantity", type = "int" }},
  {{ name = "total", type = "int", null = true, generated = {generated} }},
]
indexes = [{{ name = "line_total_idx", columns = ["total"] }}]
"#
        )),
    )
}

fn changes(from: &str, to: &str) -> Vec<Operation> {
    diff_checked(&schema(from), &schema(to), &Decisions::default()).expect("diff")
}

#[test]
fn a_changed_generation_is_a_drop_and_an_add_of_the_column_and_its_index() {
    for (from, to) in [
        (
            r#"{ expr = "price * quantity" }"#,
            r#"{ expr = "price * quantity + 1" }"#,
        ),
        (
            r#"{ expr = "price * quantity" }"#,
            r#"{ expr = "price * quantity", stored = true }"#,
        ),
    ] {
        let ops = changes(from, to);
        let wanted = schema(to).tables["line"].column("total").unwrap().clone();
        assert!(
            matches!(
                ops.as_slice(),
                [Operation::DropIndex(i), Operation::DropColumn(d), Operation::AddColumn(a), Operation::CreateIndex(c)]
                    if i.name == "line_total_idx" && d.column == "total" && a.column == wanted
                        && c.index.name == "line_total_idx"
            ),
            "{from} -> {to}: {ops:?}"
        );
    }
}

#[test]
fn an_unchanged_generation_is_no_change() {
    let same = r#"{ expr = "price * quantity", stored = true }"#;
    assert!(changes(same, same).is_empty());
}

fn table(columns: &str) -> SchemaState {
    applied(
        &SchemaState::new(),
        &ops(&format!(
            r#"
[[op]]
kind = "create_table"
name = "line"
primary_key = ["id"]
columns = [{{ name = "id", type = "bigint", auto = true }}, {columns}]
"#
        )),
    )
}

/// The generated column goes before the column its expression names changes, and
/// comes back after: the state (as every server) refuses the change while it exists.
#[test]
fn columns_a_generated_column_names_change_around_it() {
    let before = table(
        r#"{ name = "price", type = "int" }, { name = "quantity", type = "int" },
           { name = "total", type = "int", null = true, generated = { expr = "price * quantity" } }"#,
    );
    for after in [
        // `price` retyped, the expression unchanged.
        r#"{ name = "price", type = "bigint" }, { name = "quantity", type = "int" },
           { name = "total", type = "int", null = true, generated = { expr = "price * quantity" } }"#,
        // `price` dropped, the expression rewritten without it.
        r#"{ name = "quantity", type = "int" },
           { name = "total", type = "int", null = true, generated = { expr = "quantity * 2" } }"#,
        // the generated column dropped with the column it names.
        r#"{ name = "quantity", type = "int" }"#,
    ] {
        let ops = diff_checked(&before, &table(after), &Decisions::default())
            .unwrap_or_else(|e| panic!("{after}: {e}"));
        assert!(
            matches!(ops.first(), Some(Operation::DropColumn(d)) if d.column == "total"),
            "{after}: {ops:?}"
        );
    }
}

#[test]
fn a_unique_over_a_regenerated_column_goes_and_comes_back() {
    let with = |expr: &str| {
        applied(
            &SchemaState::new(),
            &ops(&format!(
                r#"
[[op]]
kind = "create_table"
name = "person"
primary_key = ["id"]
columns = [
  {{ name = "id", type = "bigint", auto = true }},
  {{ name = "email", type = "varchar(80)" }},
  {{ name = "email_key", type = "varchar(80)", null = true, generated = {{ expr = "{expr}", stored = true }} }},
]
uniques = [{{ name = "person_email_key_uniq", columns = ["email_key"] }}]
"#
            )),
        )
    };
    let ops = diff_checked(
        &with("lower(email)"),
        &with("upper(email)"),
        &Decisions::default(),
    )
    .expect("diff");
    assert!(
        matches!(
            ops.as_slice(),
            [Operation::DropConstraint(u), Operation::DropColumn(d), Operation::AddColumn(a), Operation::AddConstraint(c)]
                if u.name == "person_email_key_uniq" && d.column == "email_key"
                    && a.column.name == "email_key" && c.constraint.name() == "person_email_key_uniq"
        ),
        "{ops:?}"
    );
}

use std::path::Path;

use super::{models, workspace};
use crate::ast::Deferrable;
use crate::ast::TableDef;
use crate::models::*;
use crate::project::{Overrides, Project};

#[test]
fn written_tracker_models_read_back_the_same() {
    let root = workspace().join("testdata/tracker");
    let project = Project::load(&root, &Overrides::default()).unwrap();
    let models = load(&project).unwrap();
    let mut written = Vec::new();
    for app in ["auth", "tracker"] {
        let tables: Vec<TableDef> = models
            .state
            .tables
            .values()
            .filter(|t| models.owners[&t.name] == app)
            .map(|t| TableDef::clone(t))
            .collect();
        let text = write_app(app, &tables, &models.state, &models.owners);
        written.push(parse_app(app, Path::new("models.toml"), &text).unwrap());
        if app == "tracker" {
            assert_eq!(
                text,
                r#"[Category.fields]
name = "varchar(50)"
description = "text"

[Transaction.fields]
amount = "decimal(12,2)"
transaction_type = "varchar(10)"
description = "text"
created_at = "datetime"
category = { references = "Category", null = true, on_delete = "set null" }
user = { references = "auth.User", on_delete = "cascade" }
"#
            );
        }
    }
    assert_eq!(resolve(&written).unwrap(), models);
}

#[test]
fn written_models_say_what_the_defaults_do_not() {
    let text = r#"
[Person]
table = "people"
unique = [{ columns = ["email"], name = "email_once" }]
indexes = [["name", "email"], { columns = ["name"], where = "active" }]
checks = { "has name" = "name <> ''", ratio = { expr = "ratio >= 0", name = "ratio_not_negative" } }

[Person.fields]
code = { type = "varchar(8)", primary_key = true }
name = { type = "varchar(50)", comment = "as the person writes it" }
email = { type = "varchar(254)", unique = true }
active = { type = "bool", default = true }
ratio = { type = "double", default = 0.5 }
boss = { references = "Person", column = "boss", null = true, index = false, on_update = "cascade", comment = "it's \"who\" \\ decides" }
"#;
    let m = models(&[("hr", text)]).unwrap();
    let written = write_all("hr", &m);
    let again = models(&[("hr", &written)]).unwrap();
    assert_eq!(again.state.canonical(), m.state.canonical(), "{written}");
    assert!(!written.contains("NOTE"), "{written}");
    assert!(written.contains("table = \"people\""), "{written}");
    assert!(written.contains("index = false"), "{written}");
    let people = &m.state.tables["people"];
    assert_eq!(
        people.column("boss").unwrap().comment.as_deref(),
        Some("it's \"who\" \\ decides")
    );
    assert_eq!(
        people.column("name").unwrap().comment.as_deref(),
        Some("as the person writes it")
    );
    assert!(
        written.contains(r#"{ expr = "ratio >= 0", name = "ratio_not_negative" }"#),
        "{written}"
    );
}

/// Any check name reads back exactly (introspected names such as MySQL's
/// `<table>_chk_1` too), even when the key a name suggests is taken.
#[test]
fn check_names_are_written_exactly() {
    let text = r#"
[Item]
checks = { a = "n > 0", b = { expr = "n < 10", name = "a" }, c = { expr = "n <> 5", name = "shop_item_chk_1" }, d = { expr = "n <> 6", name = "x y" } }

[Item.fields]
n = "int"
"#;
    let m = models(&[("shop", text)]).unwrap();
    let names: Vec<&str> = m.state.tables["shop_item"]
        .checks
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["shop_item_a", "a", "shop_item_chk_1", "x y"]);
    let written = write_all("shop", &m);
    assert!(!written.contains("NOTE"), "{written}");
    let again = models(&[("shop", &written)]).unwrap();
    assert_eq!(again.state.canonical(), m.state.canonical(), "{written}");
}

#[test]
fn model_names_are_camel_case_without_the_app_prefix() {
    assert_eq!(
        model_name("tracker", "tracker_transaction_type"),
        "TransactionType"
    );
    assert_eq!(model_name("tracker", "auth_user"), "AuthUser");
    assert_eq!(model_name("tracker", "tracker_"), "Tracker");
    assert_eq!(model_name("x", "2fa_codes"), "Model2faCodes");
    assert_eq!(model_name("x", "a\"b"), "AB");
}

// The same round trip over every schema of the operation corpus is an integration test
// (`tests/suite/models.rs`): it reads the corpus through `strata-testkit`.

#[test]
fn foreign_key_options_are_read_and_written_back() {
    let text = r#"
[Customer.fields]
email = { type = "varchar(254)", unique = true }
code = "varchar(8)"

[Customer]
unique = [["code"]]

[Order.fields]
customer = { references = "Customer", to_field = "email", deferrable = "deferred", on_delete = "cascade" }
by_code = { references = "Customer", to_field = "code", null = true, deferrable = "immediate" }
legacy = { references = "Customer", db_constraint = false, index = false }
"#;
    let m = models(&[("shop", text)]).unwrap();
    let order = super::table(&m, "shop_order");
    let fks: Vec<_> = order
        .foreign_keys
        .iter()
        .map(|f| {
            (
                f.columns[0].as_str(),
                f.referenced_columns[0].as_str(),
                f.deferrable,
                f.db_constraint,
            )
        })
        .collect();
    assert_eq!(
        fks,
        [
            ("customer_id", "email", Some(Deferrable::Deferred), true),
            ("by_code_id", "code", Some(Deferrable::Immediate), true),
            ("legacy_id", "id", None, false),
        ]
    );
    // A to_field column takes the type of the column it references.
    let ty = |c: &str| order.column(c).unwrap().ty.to_string();
    assert_eq!(ty("customer_id"), "varchar(254)");
    assert_eq!(ty("by_code_id"), "varchar(8)");
    assert_eq!(ty("legacy_id"), "bigint");
    // The constraint-less key keeps its column, no index (as asked), and its place in
    // the state.
    assert!(order.indexes.iter().all(|i| i.columns != ["legacy_id"]));

    let written = write_all("shop", &m);
    for part in [
        r#"to_field = "email""#,
        r#"deferrable = "deferred""#,
        r#"deferrable = "immediate""#,
        "db_constraint = false",
    ] {
        assert!(written.contains(part), "{part} missing from:\n{written}");
    }
    assert!(!written.contains("NOTE"), "{written}");
    let again = models(&[("shop", &written)]).unwrap();
    assert_eq!(again.state.canonical(), m.state.canonical(), "{written}");
}

#[test]
fn a_constraint_less_foreign_key_still_makes_the_app_depend_on_its_target() {
    let shop = r#"
[Order.fields]
buyer = { references = "auth.User", db_constraint = false }
"#;
    let m = models(&[("auth", super::AUTH), ("shop", shop)]).unwrap();
    assert!(m.app_dependencies["shop"].contains("auth"));
}

#[test]
fn index_options_read_and_write_back() {
    let text = r#"
[Doc]
indexes = [
  { expressions = ["lower(slug)"], unique = true },
  { columns = ["owner"], expressions = ["upper(title)"], name = "doc_owner_title" },
  { columns = [{ column = "title", opclass = "varchar_pattern_ops" }, "slug"] },
  { columns = [{ column = "body", length = 100 }] },
  { columns = ["body"], method = "gin", name = "doc_body_gin" },
  { columns = ["owner"], include = ["slug"], name = "doc_owner_cover" },
  { columns = ["owner", "deleted"], unique = true, nulls_distinct = false },
  { columns = ["slug"], where = "deleted IS NULL", on_unsupported_where = "plain", name = "doc_live" },
]

[Doc.fields]
slug = "varchar(100)"
title = "varchar(200)"
body = "text"
owner = { type = "int", column = "owner_id" }
deleted = { type = "datetime", null = true }
"#;
    let m = models(&[("wiki", text)]).unwrap();
    let t = super::table(&m, "wiki_doc");
    let by = |name: &str| {
        t.index(name)
            .unwrap_or_else(|| panic!("no index {name} in {:?}", t.indexes))
    };
    let lower = by("wiki_doc_slug_expr_uniq");
    assert!(lower.columns.is_empty() && lower.unique);
    assert_eq!(lower.expressions, ["lower(slug)"]);
    assert_eq!(by("doc_owner_title").columns, ["owner_id"]);
    let like = by("wiki_doc_title_slug_idx");
    assert_eq!(
        like.opclasses.get("title").map(String::as_str),
        Some("varchar_pattern_ops")
    );
    assert_eq!(by("wiki_doc_body_idx").lengths.get("body"), Some(&100));
    assert_eq!(
        by("doc_body_gin").method,
        Some(crate::ast::IndexMethod::Gin)
    );
    assert_eq!(by("doc_owner_cover").include, ["slug"]);
    assert!(by("wiki_doc_owner_id_deleted_uniq").nulls_not_distinct);
    assert_eq!(
        by("doc_live").on_unsupported_where,
        crate::ast::UnsupportedWhere::Plain
    );

    let written = write_all("wiki", &m);
    let again = models(&[("wiki", &written)]).unwrap();
    assert_eq!(again.state.canonical(), m.state.canonical(), "{written}");
    for key in [
        "expressions = [\"lower(slug)\"]",
        "opclass = \"varchar_pattern_ops\"",
        "length = 100",
        "method = \"gin\"",
        "include = [\"slug\"]",
        "nulls_distinct = false",
        "on_unsupported_where = \"plain\"",
    ] {
        assert!(written.contains(key), "{key} missing in\n{written}");
    }
}

/// Generated fields are written back with their expression and storage, nullable
/// without a `?`, and read back the same.
#[test]
fn generated_fields_are_written_back() {
    let text = r#"
[Line]
comment = "one line of an order; it's \"priced\""

[Line.fields]
price = "decimal(12,2)"
quantity = "int"
name = "varchar(50)"
total = { type = "decimal(12,2)", generated = "price * quantity", stored = true }
label = { type = "varchar(50)", generated = "lower(name)", comment = "for search" }
"#;
    let m = models(&[("shop", text)]).unwrap();
    let line = &m.state.tables["shop_line"];
    assert_eq!(
        line.comment.as_deref(),
        Some("one line of an order; it's \"priced\"")
    );
    let total = line.column("total").unwrap();
    assert!(total.null, "a generated column is nullable");
    assert_eq!(
        total.generated,
        Some(crate::ast::Generated {
            expr: "price * quantity".into(),
            stored: true
        })
    );
    assert!(
        !line
            .column("label")
            .unwrap()
            .generated
            .as_ref()
            .unwrap()
            .stored
    );
    let written = write_all("shop", &m);
    assert!(
        written.contains(
            r#"total = { type = "decimal(12,2)", generated = "price * quantity", stored = true }"#
        ),
        "{written}"
    );
    assert!(
        written.contains(
            r#"label = { type = "varchar(50)", generated = "lower(name)", comment = "for search" }"#
        ),
        "{written}"
    );
    let again = models(&[("shop", &written)]).unwrap();
    assert_eq!(again.state.canonical(), m.state.canonical(), "{written}");
}

/// `write_app` of every table of `m`.
fn write_all(app: &str, m: &Models) -> String {
    let tables: Vec<TableDef> = m
        .state
        .tables
        .values()
        .map(|t| TableDef::clone(t))
        .collect();
    write_app(app, &tables, &m.state, &m.owners)
}
